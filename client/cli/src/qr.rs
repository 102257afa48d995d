//! QR codes in the terminal, so that two people at a table can compare a safety number or a
//! group code by scanning each other's screen with a phone.
//!
//! Each text line carries two rows of modules using the half blocks `▀` `▄` `█` and space.
//! Light modules are drawn (as blocks) and dark ones left blank, which gives a correct code
//! on the usual light-on-dark terminal; a 2-module light border is drawn around it so that
//! scanners find the edges. (On a dark-on-light terminal the code appears inverted; most
//! phone scanners read that too, and the digits printed beside it are what counts.)
//!
//! Payloads, chosen so that both sides of a comparison produce the very same code:
//! - safety number: `parley-safety-number:1:<handle>:<handle>:<60 digits>`, handles sorted;
//! - group code: `parley-group-code:1:<epoch>:<60 digits>` (local conversation names may
//!   differ between members, so the name is not part of it).

use qrcode::types::{Color, QrError};
use qrcode::{EcLevel, QrCode};

/// Light modules drawn around the code.
const QUIET_ZONE: usize = 2;

/// The payload of a safety number's QR code: the same on both sides.
pub(crate) fn safety_number_payload(ours: &str, theirs: &str, digits: &str) -> String {
    let (first, second) = if ours <= theirs {
        (ours, theirs)
    } else {
        (theirs, ours)
    };
    format!("parley-safety-number:1:{first}:{second}:{digits}")
}

/// The payload of a group code's QR code: the same for every member in step.
pub(crate) fn group_code_payload(epoch: u64, digits: &str) -> String {
    format!("parley-group-code:1:{epoch}:{digits}")
}

/// `payload` as a QR code drawn with half blocks, one string of lines joined by '\n'.
pub(crate) fn render(payload: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    // Whether the module at (x, y) of the bordered square is light.
    let light = |x: usize, y: usize| -> bool {
        if x < QUIET_ZONE || y < QUIET_ZONE || x >= width + QUIET_ZONE || y >= width + QUIET_ZONE {
            return true;
        }
        colors
            .get((y - QUIET_ZONE) * width + (x - QUIET_ZONE))
            .is_none_or(|c| *c == Color::Light)
    };
    let mut lines = Vec::with_capacity(size.div_ceil(2));
    for top in (0..size).step_by(2) {
        let line: String = (0..size)
            .map(|x| {
                let upper = light(x, top);
                // Past the last row counts as dark (blank), i.e. the terminal's background.
                let lower = top + 1 < size && light(x, top + 1);
                match (upper, lower) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                }
            })
            .collect();
        lines.push(line);
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a rendering back into rows of "is light" modules.
    fn modules(rendered: &str) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in rendered.lines() {
            let (upper, lower): (Vec<bool>, Vec<bool>) = line
                .chars()
                .map(|c| match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected character {other:?}"),
                })
                .unzip();
            rows.push(upper);
            rows.push(lower);
        }
        rows
    }

    #[test]
    fn the_rendering_is_exactly_the_code_inside_a_light_border() {
        let payload = safety_number_payload("bob", "alice", &"0123456789".repeat(6));
        let rendered = render(&payload).unwrap();
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).unwrap();
        let width = code.width();
        let size = width + 2 * QUIET_ZONE;
        let rows = modules(&rendered);
        assert_eq!(rendered.lines().count(), size.div_ceil(2));
        assert!(rows.iter().all(|r| r.len() == size));
        let colors = code.to_colors();
        for y in 0..size {
            for x in 0..size {
                let inside = (QUIET_ZONE..QUIET_ZONE + width).contains(&x)
                    && (QUIET_ZONE..QUIET_ZONE + width).contains(&y);
                let expected = if inside {
                    colors[(y - QUIET_ZONE) * width + (x - QUIET_ZONE)] == Color::Light
                } else {
                    true
                };
                assert_eq!(rows[y][x], expected, "module ({x}, {y})");
            }
        }
        // The finder pattern's dark corner is blank on screen (dark on a dark terminal).
        assert!(!rows[QUIET_ZONE][QUIET_ZONE]);
    }

    #[test]
    fn both_sides_of_a_comparison_get_the_same_payload() {
        let digits = "1".repeat(60);
        assert_eq!(
            safety_number_payload("alice", "bob", &digits),
            safety_number_payload("bob", "alice", &digits)
        );
        assert_eq!(
            safety_number_payload("alice", "bob", &digits),
            format!("parley-safety-number:1:alice:bob:{digits}")
        );
        assert_eq!(
            group_code_payload(7, &digits),
            format!("parley-group-code:1:7:{digits}")
        );
    }
}

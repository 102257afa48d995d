//! How far an upload or a download is, as a progress bar on stderr: bytes done of the whole,
//! the rate and the time left ("Sending budget.pdf [=====>    ] 42% 1.05 MB/2.40 MB
//! 3.10 MB/s ETA 0s"). Only a person at a terminal sees it: when stderr is a pipe or a file,
//! or with `--quiet`, nothing at all is written, so that what scripts read stays exactly
//! what the help promises.
//!
//! The bar is drawn by indicatif, which rewrites its one line in place at most 20 times a
//! second however often the library reports (once per 64 KiB chunk); it is cleared when the
//! meter is dropped, so whatever is written next (the result, or an error) starts on a clean
//! line.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parley_client::Transfer;
use unicode_width::UnicodeWidthChar;

use crate::output::{is_quiet, talking_to_a_person};

/// The bar's layout. Decimal units, as `human_size` shows sizes everywhere else.
const TEMPLATE: &str = "{msg} [{bar:24}] {percent:>3}% {decimal_bytes}/{decimal_total_bytes} \
                        {decimal_bytes_per_sec} ETA {eta}";
/// The widest label, in columns: a long document name must not push the numbers off a
/// narrow terminal (a line that wraps cannot be rewritten in place).
const MAX_LABEL: usize = 32;

/// The progress bar of one transfer; nothing at all unless a person watches stderr.
pub(crate) struct Meter {
    bar: Option<ProgressBar>,
}

impl Meter {
    /// A meter led by `label` (already safe for a terminal) for a transfer of `total`
    /// bytes, drawn at 0% right away: the connection to the relay comes first, and the
    /// person sees that the transfer has begun.
    pub(crate) fn new(label: &str, total: u64) -> Meter {
        let shown = talking_to_a_person() && !is_quiet();
        Meter::drawn_to(label, total, shown.then(ProgressDrawTarget::stderr))
    }

    /// A meter drawn to `target`, or to nowhere.
    fn drawn_to(label: &str, total: u64, target: Option<ProgressDrawTarget>) -> Meter {
        let bar = target.map(|target| {
            let bar = ProgressBar::with_draw_target(Some(total), target);
            // The template is a constant; should indicatif ever refuse it, its plain bar
            // still tells how far the transfer is.
            let style = ProgressStyle::with_template(TEMPLATE)
                .map(|style| style.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(shortened(label, MAX_LABEL));
            bar.tick();
            bar
        });
        Meter { bar }
    }

    /// Shows how far the transfer is (the library's total is the one that counts).
    pub(crate) fn update(&mut self, transfer: Transfer) {
        if let Some(bar) = &self.bar {
            bar.set_length(transfer.total);
            bar.set_position(transfer.done.min(transfer.total));
        }
    }

    /// The bytes done as the bar last heard, if it is shown (for tests).
    #[cfg(test)]
    fn position(&self) -> Option<u64> {
        self.bar.as_ref().map(ProgressBar::position)
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `label` in at most `max` columns, its end replaced by "…" when it is longer.
fn shortened(label: &str, max: usize) -> String {
    let width = |c: char| c.width().unwrap_or(0);
    if label.chars().map(width).sum::<usize>() <= max {
        return label.to_owned();
    }
    let mut kept = String::new();
    let mut used = 0;
    for c in label.chars() {
        // One column stays for the ellipsis.
        if used + width(c) > max.saturating_sub(1) {
            break;
        }
        used += width(c);
        kept.push(c);
    }
    kept.push('…');
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_drawn_without_a_person_to_see_it() {
        let mut meter = Meter::drawn_to("Sending a.pdf", 10, None);
        meter.update(Transfer { done: 5, total: 10 });
        assert_eq!(meter.position(), None);
    }

    #[test]
    fn the_bar_follows_the_transfer_and_never_passes_its_end() {
        let mut meter = Meter::drawn_to("Sending a.pdf", 10, Some(ProgressDrawTarget::hidden()));
        assert_eq!(meter.position(), Some(0));
        meter.update(Transfer { done: 5, total: 10 });
        assert_eq!(meter.position(), Some(5));
        meter.update(Transfer {
            done: 12,
            total: 10,
        });
        assert_eq!(meter.position(), Some(10));
    }

    #[test]
    fn long_labels_are_shortened_by_columns() {
        assert_eq!(shortened("Sending a.pdf", 32), "Sending a.pdf");
        let long = shortened(&format!("Sending {}", "x".repeat(40)), 32);
        assert_eq!(long.chars().count(), 32);
        assert!(long.ends_with("x…"), "{long}");
        // Wide characters take two columns each.
        let wide = shortened("日本語の書類です.pdf", 10);
        assert_eq!(wide, "日本語の…");
    }
}

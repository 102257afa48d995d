//! OpenMLS's state as the store keeps it: its JSON with the byte strings packed.
//!
//! OpenMLS's in-memory storage hands every value over as JSON, where a byte string is an
//! array of decimal numbers, about 3.6 bytes of text per byte. The record of a group's
//! message secrets is rewritten for every message sent or received (its ratchets move), and
//! those bytes are what a client writes most: sealed, journaled, written twice by sled and
//! flushed (docs/PERFORMANCE.md, fixes 20 and 21). Here every such array of two or more
//! bytes is replaced by a marker, its length and the bytes themselves; everything else is
//! the JSON text as it was, so that reading a record back gives exactly the text OpenMLS
//! wrote. The text is scanned, not parsed: parsing it (as a first version did) cost more
//! CPU than writing fewer bytes saved.
//!
//! A packed record begins with [`FORMAT`], a byte JSON text cannot begin with, so that
//! values written before it existed (plain JSON) are read as they are. The marker is a NUL
//! byte, which JSON text never holds (serde_json escapes control characters in strings).

use zeroize::Zeroizing;

/// The first byte of a packed record (JSON text starts with whitespace or a value).
pub(crate) const FORMAT: u8 = 0x01;

/// Stands for `[b1,b2,...,bn]`: followed by n (LEB128, at least 2) and the n bytes.
const BYTES: u8 = 0x00;

/// The shortest array worth a marker: `[1]` is no longer than its packed form.
const MIN_RUN: usize = 2;

/// Why a stored MLS record could not be read back, or a value could not be packed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum MlsRecordError {
    /// The value to pack holds a NUL byte, which JSON from OpenMLS never does.
    #[error("an MLS value that is not JSON text")]
    NotJson,
    /// The record ends inside a packed array.
    #[error("the MLS record is cut short")]
    Truncated,
    /// A packed array's length is not LEB128 of at least two.
    #[error("a packed array of the MLS record has a bad length")]
    Length,
}

/// The packed form of `json`, OpenMLS's JSON text of one value.
pub(crate) fn pack(json: &[u8]) -> Result<Zeroizing<Vec<u8>>, MlsRecordError> {
    if json.contains(&BYTES) {
        return Err(MlsRecordError::NotJson);
    }
    // The reserve keeps the buffer from growing (and leaving copies of secrets behind in
    // freed memory): a record never outgrows its text by more than the format byte.
    let mut out = Zeroizing::new(Vec::with_capacity(json.len() + 1));
    out.push(FORMAT);
    let mut run = Zeroizing::new(Vec::new());
    let mut at = 0;
    let mut in_string = false;
    while let Some(&byte) = json.get(at) {
        if in_string {
            match byte {
                b'\\' => {
                    // The escaped byte is copied with it, whatever it is.
                    out.extend_from_slice(
                        json.get(at..at + 2)
                            .or_else(|| json.get(at..))
                            .unwrap_or_default(),
                    );
                    at += 2;
                    continue;
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else if byte == b'"' {
            in_string = true;
        } else if byte == b'[' {
            if let Some(end) = byte_array(json, at, &mut run) {
                out.push(BYTES);
                put_leb128(&mut out, run.len() as u64);
                out.extend_from_slice(&run);
                at = end;
                continue;
            }
        }
        out.push(byte);
        at += 1;
    }
    Ok(out)
}

/// When `json[open..]` is an array of at least [`MIN_RUN`] integers 0 to 255 spelled as
/// serde_json spells them (no sign, no leading zero, no space), puts them in `run` and
/// gives the index after its `]`.
fn byte_array(json: &[u8], open: usize, run: &mut Vec<u8>) -> Option<usize> {
    run.clear();
    let mut at = open + 1;
    loop {
        let first = *json.get(at)?;
        if !first.is_ascii_digit() {
            return None;
        }
        let mut value = u16::from(first - b'0');
        at += 1;
        while let Some(&digit) = json.get(at).filter(|d| d.is_ascii_digit()) {
            // A leading zero, or a fourth digit, is not a byte as serde_json writes one.
            if first == b'0' || value >= 100 {
                return None;
            }
            value = value * 10 + u16::from(digit - b'0');
            at += 1;
        }
        run.push(u8::try_from(value).ok()?);
        match json.get(at)? {
            b',' => at += 1,
            b']' if run.len() >= MIN_RUN => return Some(at + 1),
            _ => return None,
        }
    }
}

/// The JSON text of a stored record: a packed record unpacked, or the record itself when it
/// is not packed (written before packing existed).
pub(crate) fn to_json(record: &[u8]) -> Result<Zeroizing<Vec<u8>>, MlsRecordError> {
    let Some((&FORMAT, mut rest)) = record.split_first() else {
        return Ok(Zeroizing::new(record.to_vec()));
    };
    let mut out = Zeroizing::new(Vec::with_capacity(rest.len().saturating_mul(3)));
    while let Some(marker) = rest.iter().position(|byte| *byte == BYTES) {
        let (text, packed) = rest.split_at(marker);
        out.extend_from_slice(text);
        let (len, after) = leb128(packed.get(1..).unwrap_or_default())?;
        let len = usize::try_from(len)
            .ok()
            .filter(|len| *len >= MIN_RUN)
            .ok_or(MlsRecordError::Length)?;
        let bytes = after.get(..len).ok_or(MlsRecordError::Truncated)?;
        out.push(b'[');
        for (i, byte) in bytes.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            put_byte(&mut out, *byte);
        }
        out.push(b']');
        rest = after.get(len..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    Ok(out)
}

fn put_leb128(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A LEB128 number at the start of `bytes`, and what follows it.
fn leb128(bytes: &[u8]) -> Result<(u64, &[u8]), MlsRecordError> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        let shift = 7 * i as u32;
        // The tenth byte may carry only the top bit of a u64.
        if shift == 63 && bits > 1 {
            return Err(MlsRecordError::Length);
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok((value, bytes.get(i + 1..).unwrap_or_default()));
        }
    }
    if bytes.len() < 10 {
        Err(MlsRecordError::Truncated)
    } else {
        Err(MlsRecordError::Length)
    }
}

/// The decimal digits of a byte, as serde_json writes them.
fn put_byte(out: &mut Vec<u8>, byte: u8) {
    if byte >= 100 {
        out.push(b'0' + byte / 100);
    }
    if byte >= 10 {
        out.push(b'0' + byte / 10 % 10);
    }
    out.push(b'0' + byte % 10);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpacked(json: &[u8]) -> Vec<u8> {
        let record = pack(json).unwrap();
        assert_eq!(record[0], FORMAT);
        to_json(&record).unwrap().to_vec()
    }

    #[test]
    fn every_record_reads_back_as_exactly_its_text() {
        let json = br#"{"a":null,"b":[true,false],"c":[0,7,255],"d":[256,1],"e":[1,2,300],
            "f":[00,1],"g":[1,-2],"h":"in a string [1,2,3] \"[4,5]\" \\","i":[],"j":[9],
            "k":[[1,2],[3,4]],"l":[1, 2],"m":[1,2,"x"],"n":"\\[6,7]","o":[12,34,56]}"#;
        assert_eq!(unpacked(json), json);
        for text in [
            &b"[1,2]"[..],
            b"[1,2",
            b"[",
            b"\"",
            b"\"\\",
            b"[255,0,10,100,99,9]",
        ] {
            assert_eq!(unpacked(text), text);
        }
    }

    #[test]
    fn byte_arrays_are_packed_and_nothing_else() {
        let bytes: Vec<u8> = (0..=255).cycle().take(4096).collect();
        let json = serde_json::to_vec(&serde_json::json!({ "secret": { "vec": bytes } })).unwrap();
        let record = pack(&json).unwrap();
        // Format, the text around the array, the marker and a two-byte length.
        let around = br#"{"secret":{"vec":}}"#.len();
        assert_eq!(record.len(), 1 + around + 3 + 4096);
        assert!(record.len() * 3 < json.len());
        let strings = br#"["[1,2,3]","[4,5]"]"#;
        assert_eq!(pack(strings).unwrap()[1..], strings[..]);
    }

    #[test]
    fn json_written_before_packing_reads_as_it_is() {
        for old in [&b"{\"x\":[1,2]}"[..], b"[3]", b" null", b""] {
            assert_eq!(&*to_json(old).unwrap(), old);
        }
    }

    #[test]
    fn a_value_with_a_nul_byte_is_refused() {
        assert_eq!(pack(b"\"a\x00b\"").unwrap_err(), MlsRecordError::NotJson);
    }

    #[test]
    fn damaged_records_are_refused_with_their_reason() {
        let good = pack(br#"{"k":[1,2,3]}"#).unwrap();
        let marker = good.iter().position(|b| *b == BYTES).unwrap();
        for cut in marker + 1..good.len() - 1 {
            assert_eq!(
                to_json(&good[..cut]).unwrap_err(),
                MlsRecordError::Truncated,
                "cut at {cut}"
            );
        }
        for len in [0, 1] {
            assert_eq!(
                to_json(&[FORMAT, BYTES, len, 7]).unwrap_err(),
                MlsRecordError::Length
            );
        }
        let too_long = [
            FORMAT, BYTES, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
        ];
        assert_eq!(to_json(&too_long).unwrap_err(), MlsRecordError::Length);
        // A length far beyond the record is refused, not allocated.
        assert_eq!(
            to_json(&[FORMAT, BYTES, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]).unwrap_err(),
            MlsRecordError::Truncated
        );
    }

    #[test]
    fn any_text_without_nul_reads_back_exactly_and_any_record_reads_or_is_refused() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        let alphabet = b"[]0123456789,\"\\ x\x00\x01";
        for _ in 0..20_000 {
            let len = rng.gen_range(0..40);
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            if !bytes.contains(&BYTES) {
                assert_eq!(
                    unpacked(&bytes),
                    bytes,
                    "{:?}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            let mut record = vec![FORMAT];
            record.extend_from_slice(&bytes);
            if let Ok(text) = to_json(&record) {
                assert!(!text.contains(&BYTES));
                assert_eq!(to_json(&pack(&text).unwrap()).unwrap(), text);
            }
        }
    }
}

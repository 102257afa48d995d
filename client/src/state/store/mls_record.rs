//! OpenMLS's state as the store keeps it: the same values in a compact form.
//!
//! OpenMLS's in-memory storage hands every value over as JSON, where a byte string is an
//! array of decimal numbers (about 3.6 bytes of text per byte) inside objects whose keys
//! repeat all over a record (`{"secret":{"value":{"vec":[...]}}}` for every secret). The
//! record of a group's message secrets is rewritten for every message sent or received (its
//! ratchets move), and those bytes are what a client writes most: sealed, journaled, written
//! twice by sled and flushed (docs/PERFORMANCE.md, fixes 20 and 21). Here a value is kept
//! as a tagged binary form of the same JSON, byte strings as bytes and each key written
//! once per record, and turned back into JSON text when the store is loaded; the JSON's
//! meaning is kept, not its spelling (whitespace, number forms), which is all OpenMLS reads.
//!
//! A compact record begins with [`FORMAT`], a byte JSON text cannot begin with, so that
//! values written before it existed (plain JSON) are read as they are.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use zeroize::Zeroizing;

/// The first byte of a compact record (JSON text starts with whitespace or a value).
pub(crate) const FORMAT: u8 = 0x01;

/// How deep arrays and objects may nest, as serde_json allows when parsing.
const MAX_DEPTH: usize = 128;

/// How many distinct keys a record's key table holds; later new keys are written in full
/// each time (OpenMLS's records have a few dozen).
const MAX_KEYS: usize = 1024;

// One byte before every value; every length, count and integer is LEB128.
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
/// A non-negative integer.
const UINT: u8 = 3;
/// A negative integer `n`, as `-(n + 1)`.
const NEGATIVE: u8 = 4;
/// A float, 8 bytes little endian.
const FLOAT: u8 = 5;
/// A string: its length, then UTF-8.
const STRING: u8 = 6;
/// An array of integers 0 to 255 (also the empty array): its length, then the bytes.
const BYTES: u8 = 7;
/// Any other array: its count, then the values.
const ARRAY: u8 = 8;
/// An object: its count, then for each member its key and value. A key is the number of
/// an earlier key of the record (from 1, in order of first use), or 0, its length and
/// UTF-8 for a key not seen before.
const OBJECT: u8 = 9;

/// Why a stored MLS record could not be read back (or a value could not be made compact).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum MlsRecordError {
    /// The value given to be made compact is not JSON.
    #[error("an MLS value that is not JSON")]
    NotJson,
    /// The record ends inside a value.
    #[error("the MLS record is cut short")]
    Truncated,
    /// A value begins with a byte no value begins with, or a key's number names no key.
    #[error("an MLS record item of an unknown kind")]
    Kind,
    /// Bytes follow the record's value.
    #[error("the MLS record goes on after its value")]
    Trailing,
    /// Arrays and objects nest deeper than [`MAX_DEPTH`].
    #[error("the MLS record nests too deep")]
    Depth,
    /// A string or key is not UTF-8.
    #[error("a text in the MLS record is not UTF-8")]
    Utf8,
    /// A number is not finite, or an integer does not fit in 64 bits.
    #[error("a number in the MLS record is out of range")]
    Number,
}

/// The compact form of `json`, one value of JSON text.
pub(crate) fn compact(json: &[u8]) -> Result<Zeroizing<Vec<u8>>, MlsRecordError> {
    // A third of the JSON is about what the records come to; the reserve keeps most values
    // from growing the buffer (and leaving copies of secrets behind in freed memory).
    let mut out = Zeroizing::new(Vec::with_capacity(json.len() / 2 + 64));
    out.push(FORMAT);
    let mut writer = Writer {
        out: &mut out,
        keys: HashMap::new(),
    };
    let mut parser = serde_json::Deserializer::from_slice(json);
    Transcode {
        writer: &mut writer,
        depth: 0,
    }
    .deserialize(&mut parser)
    .map_err(|_| MlsRecordError::NotJson)?;
    parser.end().map_err(|_| MlsRecordError::NotJson)?;
    Ok(out)
}

/// The JSON text of a stored record: a compact record's value, or the record itself when it
/// is not compact (written before the compact form existed).
pub(crate) fn to_json(record: &[u8]) -> Result<Zeroizing<Vec<u8>>, MlsRecordError> {
    let Some((&FORMAT, body)) = record.split_first() else {
        return Ok(Zeroizing::new(record.to_vec()));
    };
    let mut out = Zeroizing::new(Vec::with_capacity(body.len().saturating_mul(4)));
    let mut reader = Reader {
        rest: body,
        keys: Vec::new(),
    };
    reader.value(&mut out, 0)?;
    if !reader.rest.is_empty() {
        return Err(MlsRecordError::Trailing);
    }
    Ok(out)
}

/// The record being written, and the number of each key written so far.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    keys: HashMap<String, u64>,
}

impl Writer<'_> {
    fn key(&mut self, key: String) {
        if let Some(number) = self.keys.get(&key) {
            put_leb128(self.out, *number);
            return;
        }
        self.out.push(0);
        put_text(self.out, &key);
        if self.keys.len() < MAX_KEYS {
            let number = self.keys.len() as u64 + 1;
            self.keys.insert(key, number);
        }
    }

    /// Puts the count of the container begun at `start` (its kind byte) after that byte.
    fn count_container(&mut self, start: usize, count: u64) {
        let mut count_bytes = Vec::with_capacity(10);
        put_leb128(&mut count_bytes, count);
        let at = start + 1;
        self.out.splice(at..at, count_bytes);
    }
}

/// Writes the compact form of the value it is given, as serde_json parses it.
struct Transcode<'w, 'a> {
    writer: &'w mut Writer<'a>,
    depth: usize,
}

/// What a transcoded value was, for its array: an integer 0 to 255, or anything else.
type Small = Option<u8>;

impl<'de> DeserializeSeed<'de> for Transcode<'_, '_> {
    type Value = Small;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Small, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Transcode<'_, '_> {
    type Value = Small;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Small, E> {
        self.writer.out.push(NULL);
        Ok(None)
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Small, E> {
        self.writer.out.push(if value { TRUE } else { FALSE });
        Ok(None)
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Small, E> {
        self.writer.out.push(UINT);
        put_leb128(self.writer.out, value);
        Ok(u8::try_from(value).ok())
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Small, E> {
        match u64::try_from(value) {
            Ok(unsigned) => self.visit_u64(unsigned),
            Err(_) => {
                self.writer.out.push(NEGATIVE);
                // -(n + 1) of a negative i64 is !n, which cannot overflow.
                put_leb128(self.writer.out, !value as u64);
                Ok(None)
            }
        }
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Small, E> {
        self.writer.out.push(FLOAT);
        self.writer.out.extend_from_slice(&value.to_le_bytes());
        Ok(None)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Small, E> {
        self.writer.out.push(STRING);
        put_text(self.writer.out, value);
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Small, A::Error> {
        let depth = nested(self.depth)?;
        let start = self.writer.out.len();
        self.writer.out.push(ARRAY);
        // The bytes, for as long as every item is one.
        let mut bytes = Some(Zeroizing::new(Vec::new()));
        let mut count: u64 = 0;
        while let Some(item) = items.next_element_seed(Transcode {
            writer: &mut *self.writer,
            depth,
        })? {
            count += 1;
            match (item, bytes.as_mut()) {
                (Some(byte), Some(kept)) => kept.push(byte),
                _ => bytes = None,
            }
        }
        match bytes {
            Some(kept) => {
                self.writer.out.truncate(start);
                self.writer.out.push(BYTES);
                put_leb128(self.writer.out, count);
                self.writer.out.extend_from_slice(&kept);
            }
            None => self.writer.count_container(start, count),
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Small, A::Error> {
        let depth = nested(self.depth)?;
        let start = self.writer.out.len();
        self.writer.out.push(OBJECT);
        let mut count: u64 = 0;
        while let Some(key) = members.next_key::<String>()? {
            self.writer.key(key);
            members.next_value_seed(Transcode {
                writer: &mut *self.writer,
                depth,
            })?;
            count += 1;
        }
        self.writer.count_container(start, count);
        Ok(None)
    }
}

/// The depth of the values inside an array or object at `depth`.
fn nested<E: serde::de::Error>(depth: usize) -> Result<usize, E> {
    if depth >= MAX_DEPTH {
        return Err(E::custom("nested too deep"));
    }
    Ok(depth + 1)
}

fn put_leb128(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_leb128(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Reads a compact record's values, writing them as JSON text.
struct Reader<'a> {
    rest: &'a [u8],
    /// The record's keys so far, in order of first use.
    keys: Vec<&'a str>,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], MlsRecordError> {
        if len > self.rest.len() {
            return Err(MlsRecordError::Truncated);
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, MlsRecordError> {
        self.take(1)?
            .first()
            .copied()
            .ok_or(MlsRecordError::Truncated)
    }

    fn leb128(&mut self) -> Result<u64, MlsRecordError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may carry only the top bit of a u64.
            if shift == 63 && bits > 1 {
                return Err(MlsRecordError::Number);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(MlsRecordError::Number)
    }

    /// A length or count: no more than the bytes left, each item taking at least one.
    fn length(&mut self) -> Result<usize, MlsRecordError> {
        usize::try_from(self.leb128()?)
            .ok()
            .filter(|len| *len <= self.rest.len())
            .ok_or(MlsRecordError::Truncated)
    }

    fn text(&mut self) -> Result<&'a str, MlsRecordError> {
        let len = self.length()?;
        std::str::from_utf8(self.take(len)?).map_err(|_| MlsRecordError::Utf8)
    }

    fn key(&mut self) -> Result<&'a str, MlsRecordError> {
        match self.leb128()? {
            0 => {
                let key = self.text()?;
                if self.keys.len() < MAX_KEYS {
                    self.keys.push(key);
                }
                Ok(key)
            }
            number => usize::try_from(number - 1)
                .ok()
                .and_then(|index| self.keys.get(index).copied())
                .ok_or(MlsRecordError::Kind),
        }
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Result<(), MlsRecordError> {
        match self.byte()? {
            NULL => out.extend_from_slice(b"null"),
            FALSE => out.extend_from_slice(b"false"),
            TRUE => out.extend_from_slice(b"true"),
            UINT => put_decimal(out, self.leb128()?),
            NEGATIVE => {
                let magnitude = self.leb128()?;
                // Only -(2^63) .. -1 are i64s, as serde_json gave them.
                if magnitude > i64::MAX as u64 {
                    return Err(MlsRecordError::Number);
                }
                out.push(b'-');
                put_decimal(out, magnitude + 1);
            }
            FLOAT => {
                let bits: [u8; 8] = self
                    .take(8)?
                    .try_into()
                    .map_err(|_| MlsRecordError::Truncated)?;
                let value = f64::from_le_bytes(bits);
                if !value.is_finite() {
                    return Err(MlsRecordError::Number);
                }
                json_into(out, &value)?;
            }
            STRING => json_into(out, self.text()?)?,
            BYTES => {
                let len = self.length()?;
                out.push(b'[');
                for (i, byte) in self.take(len)?.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    put_byte(out, *byte);
                }
                out.push(b']');
            }
            ARRAY => {
                let depth = deeper(depth)?;
                let count = self.length()?;
                out.push(b'[');
                for i in 0..count {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.value(out, depth)?;
                }
                out.push(b']');
            }
            OBJECT => {
                let depth = deeper(depth)?;
                let count = self.length()?;
                out.push(b'{');
                for i in 0..count {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_into(out, self.key()?)?;
                    out.push(b':');
                    self.value(out, depth)?;
                }
                out.push(b'}');
            }
            _ => return Err(MlsRecordError::Kind),
        }
        Ok(())
    }
}

fn deeper(depth: usize) -> Result<usize, MlsRecordError> {
    if depth >= MAX_DEPTH {
        return Err(MlsRecordError::Depth);
    }
    Ok(depth + 1)
}

fn put_decimal(out: &mut Vec<u8>, value: u64) {
    match u8::try_from(value) {
        Ok(byte) => put_byte(out, byte),
        // Writing into a Vec cannot fail.
        Err(_) => drop(write!(out, "{value}")),
    }
}

/// The decimal digits of a byte, the bulk of every record.
fn put_byte(out: &mut Vec<u8>, byte: u8) {
    if byte >= 100 {
        out.push(b'0' + byte / 100);
    }
    if byte >= 10 {
        out.push(b'0' + byte / 10 % 10);
    }
    out.push(b'0' + byte % 10);
}

/// Writes `value` as serde_json spells it (escaping strings, the shortest float).
fn json_into(
    out: &mut Vec<u8>,
    value: &(impl serde::Serialize + ?Sized),
) -> Result<(), MlsRecordError> {
    serde_json::to_writer(out, value).map_err(|_| MlsRecordError::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str) -> serde_json::Value {
        let record = compact(json.as_bytes()).unwrap();
        assert_eq!(record[0], FORMAT);
        serde_json::from_slice(&to_json(&record).unwrap()).unwrap()
    }

    #[test]
    fn every_kind_of_value_reads_back_as_the_same_json() {
        let json = r#"{"a":null,"b":[true,false],"c":[0,7,255],"d":[256,1],"e":-9223372036854775808,
            "f":18446744073709551615,"g":1.5,"h":"tab\t quote\" é","i":[],"j":{},"k":[[1,2],[]],
            "l":[-1,2],"m":[1,"x"]}"#;
        let expected: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(round_trip(json), expected);
        for scalar in ["null", "true", "0", "-1", "3.25", "\"\"", "[]", "{}"] {
            assert_eq!(
                round_trip(scalar),
                serde_json::from_str::<serde_json::Value>(scalar).unwrap()
            );
        }
    }

    #[test]
    fn byte_strings_are_kept_as_bytes() {
        let bytes: Vec<u8> = (0..=255).cycle().take(4096).collect();
        let json = serde_json::to_vec(&serde_json::json!({ "secret": bytes })).unwrap();
        let record = compact(&json).unwrap();
        // Format, object, its count, the new key's mark, length and text, the array's kind and
        // length: 14 bytes.
        assert_eq!(record.len(), 4096 + 14);
        assert!(record.len() * 3 < json.len());
        assert_eq!(&*to_json(&record).unwrap(), json.as_slice());
    }

    #[test]
    fn each_key_is_written_once_per_record() {
        let json = br#"[{"secret":{"value":[1]}},{"secret":{"value":[2]}},{"value":3,"secret":4}]"#;
        let record = compact(json).unwrap();
        let times = |word: &[u8]| record.windows(word.len()).filter(|w| *w == word).count();
        assert_eq!((times(b"secret"), times(b"value")), (1, 1));
        let expected: serde_json::Value = serde_json::from_slice(json).unwrap();
        assert_eq!(round_trip(std::str::from_utf8(json).unwrap()), expected);
    }

    #[test]
    fn json_written_before_the_compact_form_reads_as_it_is() {
        for old in [&b"{\"x\":[1,2]}"[..], b"[3]", b" null", b""] {
            assert_eq!(&*to_json(old).unwrap(), old);
        }
    }

    #[test]
    fn a_value_that_is_not_json_is_refused() {
        for bad in [&b""[..], b"{", b"[1,]", b"1 2", b"\x01"] {
            assert_eq!(compact(bad).unwrap_err(), MlsRecordError::NotJson);
        }
    }

    #[test]
    fn damaged_records_are_refused_with_their_reason() {
        let good = compact(br#"{"k":[1,2,3],"s":"t"}"#).unwrap();
        for cut in 1..good.len() {
            assert_eq!(
                to_json(&good[..cut]).unwrap_err(),
                MlsRecordError::Truncated,
                "cut at {cut}"
            );
        }
        let mut longer = good.to_vec();
        longer.push(NULL);
        assert_eq!(to_json(&longer).unwrap_err(), MlsRecordError::Trailing);
        assert_eq!(to_json(&[FORMAT, 42]).unwrap_err(), MlsRecordError::Kind);
        // A key numbered before any key was written.
        assert_eq!(
            to_json(&[FORMAT, OBJECT, 1, 1, NULL]).unwrap_err(),
            MlsRecordError::Kind
        );
        assert_eq!(
            to_json(&[FORMAT, STRING, 1, 0xff]).unwrap_err(),
            MlsRecordError::Utf8
        );
        assert_eq!(
            to_json(&[FORMAT, OBJECT, 1, 0, 1, 0xc3, NULL]).unwrap_err(),
            MlsRecordError::Utf8
        );
        let nan = f64::NAN.to_le_bytes();
        assert_eq!(
            to_json(&[&[FORMAT, FLOAT][..], &nan].concat()).unwrap_err(),
            MlsRecordError::Number
        );
        let too_big = [
            FORMAT, UINT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
        ];
        assert_eq!(to_json(&too_big).unwrap_err(), MlsRecordError::Number);
        let below_i64 = [
            FORMAT, NEGATIVE, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        ];
        assert_eq!(to_json(&below_i64).unwrap_err(), MlsRecordError::Number);
        let mut deep = vec![FORMAT];
        for _ in 0..=MAX_DEPTH {
            deep.extend_from_slice(&[ARRAY, 1]);
        }
        deep.push(NULL);
        assert_eq!(to_json(&deep).unwrap_err(), MlsRecordError::Depth);
        // A count far beyond the record is refused when its items run out, not allocated.
        assert_eq!(
            to_json(&[FORMAT, ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f, NULL]).unwrap_err(),
            MlsRecordError::Truncated
        );
    }

    #[test]
    fn the_largest_integers_read_back() {
        let max = compact(b"18446744073709551615").unwrap();
        assert_eq!(&*to_json(&max).unwrap(), b"18446744073709551615");
        let min = compact(b"-9223372036854775808").unwrap();
        assert_eq!(&*to_json(&min).unwrap(), b"-9223372036854775808");
    }
}

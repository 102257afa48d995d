//! A conversation's retention, as a group context extension body (from other members) and as
//! text (from a person): decoding must not panic, and whatever decodes encodes back to the
//! same bytes (text: to a value that reads back the same).
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::retention::Retention;

fuzz_target!(|data: &[u8]| {
    if let Ok(retention) = Retention::decode(data) {
        assert_eq!(retention.encode(), data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(retention) = Retention::parse(text) {
            let shown = retention.to_string();
            assert_eq!(Retention::parse(&shown), Ok(retention), "{shown}");
        }
    }
});

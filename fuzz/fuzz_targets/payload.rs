//! Payloads: decoding must not panic, and the format is canonical, so whatever decodes
//! encodes back to the very same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::payload::Payload;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = Payload::decode(data) {
        let bytes = payload.encode().expect("a decoded payload encodes");
        assert_eq!(bytes, data);
    }
});

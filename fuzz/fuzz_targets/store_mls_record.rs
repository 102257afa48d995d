//! A record of OpenMLS's state in the client's local store (OpenMLS's JSON with its byte
//! arrays packed, unpacked when the store opens), as a damaged or tampered disk would hold
//! it. A record that reads must give text that reads as exactly itself once packed again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_client::fuzzing;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzzing::store_mls_record(data) {
        panic!("{broken}");
    }
});

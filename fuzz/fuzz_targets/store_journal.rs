//! The journal record of the client's local store (a batch's writes, kept while they are
//! applied and read back when the store opens after a crash), as a damaged or tampered disk
//! would hold it. A record that reads must be exactly what writing its writes gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_client::fuzzing;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzzing::store_journal(data) {
        panic!("{broken}");
    }
});

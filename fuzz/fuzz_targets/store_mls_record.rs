//! A record of OpenMLS's state in the client's local store (its compact form of OpenMLS's
//! JSON, read back into JSON when the store opens), as a damaged or tampered disk would
//! hold it. A record that reads must give JSON that reads the same once made compact again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_client::fuzzing;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzzing::store_mls_record(data) {
        panic!("{broken}");
    }
});

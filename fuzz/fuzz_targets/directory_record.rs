//! Directory records: decode_and_verify must not panic on any bytes; a verified record keeps
//! its exact bytes; and a record built and signed from fuzz bytes decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::directory::{DirectoryRecord, SignedRecord};
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxPublicKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = SignedRecord::decode_and_verify(data) {
        assert_eq!(record.as_bytes(), data);
        assert_eq!(
            SignedRecord::decode_and_verify(&record.to_bytes()),
            Ok(record)
        );
    }

    // Re-encode: `identity seed[32] | inbox[32] | version[8] | created[8] | handle`.
    let Some((seed, rest)) = data.split_first_chunk::<32>() else {
        return;
    };
    let Some((inbox, rest)) = rest.split_first_chunk::<32>() else {
        return;
    };
    let Some((version, rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let Some((created, handle)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let Ok(handle) = Handle::from_bytes(handle) else {
        return;
    };
    let identity = IdentitySecretKey::from_bytes(seed);
    let record = DirectoryRecord {
        handle,
        identity_key: identity.public_key(),
        inbox_key: InboxPublicKey::from_bytes(*inbox),
        record_version: u64::from_be_bytes(*version),
        created_at_ms: u64::from_be_bytes(*created),
    };
    let signed = record.clone().sign(&identity).expect("own record signs");
    let decoded = SignedRecord::decode_and_verify(signed.as_bytes()).expect("own record verifies");
    assert_eq!(decoded.record(), &record);
    assert_eq!(decoded, signed);
});

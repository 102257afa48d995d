//! Property tests for the derivations (safety numbers, relay access keys) over arbitrary
//! inputs; the byte formats' round trips are in `roundtrip.rs`.

// Test-only strategies: a regex-generated handle that fails to parse is a bug worth a panic.
#![allow(clippy::unwrap_used)]

use parley_crypto::access::AccessKey;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::safety_number::SafetyNumber;
use proptest::prelude::*;

fn handle() -> impl Strategy<Value = Handle> {
    "[a-z0-9][a-z0-9._-]{2,31}".prop_map(|s| Handle::parse(&s).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Both sides compute the same 60 digits, shown as 12 groups of 5; another key or another
    /// handle gives another number.
    #[test]
    fn safety_number_is_symmetric_and_well_formed(
        a in handle(), b in handle(), seed_a in any::<[u8; 32]>(), seed_b in any::<[u8; 32]>(),
        seed_c in any::<[u8; 32]>(),
    ) {
        let key_a = IdentitySecretKey::from_bytes(&seed_a).public_key();
        let key_b = IdentitySecretKey::from_bytes(&seed_b).public_key();
        let ab = SafetyNumber::compute((&a, &key_a), (&b, &key_b));
        let ba = SafetyNumber::compute((&b, &key_b), (&a, &key_a));
        prop_assert_eq!(ab.digits(), ba.digits());
        prop_assert_eq!(ab.digits().len(), 60);
        prop_assert!(ab.digits().bytes().all(|d| d.is_ascii_digit()));
        prop_assert_eq!(ab.grouped().split(' ').count(), 12);
        prop_assert!(ab.grouped().split(' ').all(|g| g.len() == 5));
        prop_assert_eq!(ab.grouped().replace(' ', ""), ab.digits());

        prop_assume!(seed_c != seed_b);
        let key_c = IdentitySecretKey::from_bytes(&seed_c).public_key();
        let ac = SafetyNumber::compute((&a, &key_a), (&b, &key_c));
        prop_assert_ne!(ab.digits(), ac.digits(), "another key must change the number");
    }

    /// The same exporter secret gives the same access key on every member; another secret
    /// gives another key; a signature verifies only under the matching public key and only
    /// for the signed transcript.
    #[test]
    fn access_key_derivation_is_deterministic_and_binding(
        secret in any::<[u8; 32]>(), other in any::<[u8; 32]>(),
        transcript in proptest::collection::vec(any::<u8>(), 0..300), flip in any::<usize>(),
    ) {
        prop_assume!(secret != other);
        let key = AccessKey::from_exporter_secret(&secret);
        let again = AccessKey::from_exporter_secret(&secret);
        let stranger = AccessKey::from_exporter_secret(&other);
        prop_assert_eq!(key.public_key(), again.public_key());
        prop_assert_ne!(key.public_key(), stranger.public_key());

        let signature = key.sign(&transcript);
        prop_assert!(key.public_key().verify(&transcript, &signature).is_ok());
        prop_assert!(stranger.public_key().verify(&transcript, &signature).is_err());
        if !transcript.is_empty() {
            let mut altered = transcript.clone();
            let i = flip % altered.len();
            altered[i] ^= 0x01;
            prop_assert!(key.public_key().verify(&altered, &signature).is_err());
        }
    }
}

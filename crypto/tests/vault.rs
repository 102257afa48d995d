//! The vault: known answers from an independent implementation (`vectors/vault.json`, made by
//! `vectors/vault.py` with Python's `cryptography`), property round trips and tamper checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use parley_crypto::vault::{
    KdfParams, OpenError, Passphrase, StoreKey, UnwrapError, Vault, WrappedKey, KEY_HASH_LEN,
    SEALED_OVERHEAD,
};
use proptest::prelude::*;
use rand::rngs::OsRng;
use rand_core::{CryptoRng, RngCore};
use serde_json::Value;

/// An "RNG" that hands out given bytes in order, to reproduce a vector's key, salt and nonce.
struct Replay(Vec<u8>);

impl RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        only_whole_byte_strings()
    }
    fn next_u64(&mut self) -> u64 {
        only_whole_byte_strings()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "vector ran out of random bytes");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Replay {}

fn only_whole_byte_strings() -> ! {
    panic!("the vault only draws whole byte strings")
}

fn vectors() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/vault.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex_of(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap()).unwrap()
}

fn u32_of(v: &Value, key: &str) -> u32 {
    u32::try_from(v[key].as_u64().unwrap()).unwrap()
}

fn store_key(bytes: Vec<u8>) -> StoreKey {
    let mut rng = Replay(bytes);
    let key = StoreKey::generate(&mut rng);
    assert!(rng.0.is_empty());
    key
}

fn cases<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    let cases = v[key].as_array().unwrap();
    assert!(!cases.is_empty());
    cases
}

#[test]
fn wrap_matches_the_independent_vectors() {
    let v = vectors();
    for case in cases(&v, "wrap") {
        let key = store_key(hex_of(case, "store_key"));
        let params = KdfParams {
            memory_kib: u32_of(case, "memory_kib"),
            passes: u32_of(case, "passes"),
            lanes: u32_of(case, "lanes"),
        };
        let passphrase = Passphrase::new(case["passphrase"].as_str().unwrap().to_owned());
        let mut rng = Replay([hex_of(case, "salt"), hex_of(case, "nonce")].concat());
        let wrapped = WrappedKey::wrap(&mut rng, &passphrase, params, &key).unwrap();
        assert!(rng.0.is_empty());
        let expected = hex_of(case, "wrapped");
        assert_eq!(hex::encode(wrapped.encode()), hex::encode(&expected));

        let decoded = WrappedKey::decode(&expected).unwrap();
        assert_eq!(decoded.params(), params);
        let unwrapped = decoded.unwrap(&passphrase).unwrap();
        assert_eq!(
            Vault::new(&unwrapped).key_hash(b"d", b"i"),
            Vault::new(&key).key_hash(b"d", b"i")
        );
        let wrong = Passphrase::new("not it".to_owned());
        assert!(matches!(
            decoded.unwrap(&wrong),
            Err(UnwrapError::WrongPassphrase)
        ));
    }
}

#[test]
fn key_hash_matches_the_independent_vectors() {
    let v = vectors();
    for case in cases(&v, "key_hash") {
        let vault = Vault::new(&store_key(hex_of(case, "store_key")));
        let hash = vault.key_hash(&hex_of(case, "domain"), &hex_of(case, "id"));
        assert_eq!(hex::encode(hash), case["key_hash"].as_str().unwrap());
    }
}

#[test]
fn seal_matches_the_independent_vectors() {
    let v = vectors();
    for case in cases(&v, "seal") {
        let vault = Vault::new(&store_key(hex_of(case, "store_key")));
        let aad = hex_of(case, "aad");
        let value = hex_of(case, "value");
        let sealed = vault
            .seal(&mut Replay(hex_of(case, "nonce")), &aad, &value)
            .unwrap();
        assert_eq!(hex::encode(&sealed), case["sealed"].as_str().unwrap());
        assert_eq!(&vault.open(&aad, &sealed).unwrap()[..], &value[..]);
    }
}

#[test]
fn default_params_are_at_least_64_mib_and_3_passes() {
    let p = KdfParams::default();
    assert_eq!((p.memory_kib, p.passes, p.lanes), (65536, 3, 1));
    assert!(p.validate().is_ok());
    assert!(KdfParams::insecure_for_tests().validate().is_ok());
}

proptest! {
    #[test]
    fn sealed_values_round_trip_and_stay_bound_to_their_aad(
        aad in proptest::collection::vec(any::<u8>(), 0..64),
        other in proptest::collection::vec(any::<u8>(), 0..64),
        value in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let vault = Vault::new(&StoreKey::generate(&mut OsRng));
        let sealed = vault.seal(&mut OsRng, &aad, &value).unwrap();
        prop_assert_eq!(sealed.len(), value.len() + SEALED_OVERHEAD);
        prop_assert_eq!(&vault.open(&aad, &sealed).unwrap()[..], &value[..]);
        if other != aad {
            prop_assert_eq!(vault.open(&other, &sealed), Err(OpenError::Forged));
        }
    }

    #[test]
    fn key_hashes_are_deterministic_and_separate_ids(
        domain in proptest::collection::vec(any::<u8>(), 0..16),
        a in proptest::collection::vec(any::<u8>(), 0..40),
        b in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let vault = Vault::new(&StoreKey::generate(&mut OsRng));
        let ha = vault.key_hash(&domain, &a);
        prop_assert_eq!(ha.len(), KEY_HASH_LEN);
        prop_assert_eq!(ha, vault.key_hash(&domain, &a));
        if a != b {
            prop_assert_ne!(ha, vault.key_hash(&domain, &b));
        }
    }
}

proptest! {
    // Each case runs Argon2 (1 MiB, 1 pass); a few cases are enough for the encoding.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn wrapped_keys_round_trip_for_any_passphrase(passphrase in ".{0,40}", other in ".{0,40}") {
        let key = StoreKey::generate(&mut OsRng);
        let params = KdfParams::insecure_for_tests();
        let wrapped =
            WrappedKey::wrap(&mut OsRng, &Passphrase::new(passphrase.clone()), params, &key).unwrap();
        let decoded = WrappedKey::decode(&wrapped.encode()).unwrap();
        let back = decoded.unwrap(&Passphrase::new(passphrase.clone())).unwrap();
        prop_assert_eq!(Vault::new(&back).key_hash(b"x", b"y"), Vault::new(&key).key_hash(b"x", b"y"));
        if other != passphrase {
            prop_assert!(matches!(
                decoded.unwrap(&Passphrase::new(other)),
                Err(UnwrapError::WrongPassphrase)
            ));
        }
    }
}

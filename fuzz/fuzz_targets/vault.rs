//! The client's vault: opening arbitrary sealed values must not panic; seal/open round-trips
//! any value under any record key; the WrappedKey header decodes canonically, and a header
//! with the cheapest KDF parameters is also unwrapped (wrong passphrase, never a panic).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use parley_crypto::vault::{
    KdfParams, Passphrase, StoreKey, Vault, WrappedKey, SEALED_OVERHEAD, WRAPPED_KEY_LEN,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn vault() -> &'static Vault {
    static VAULT: OnceLock<Vault> = OnceLock::new();
    VAULT.get_or_init(|| Vault::new(&StoreKey::generate(&mut StdRng::seed_from_u64(7))))
}

fuzz_target!(|data: &[u8]| {
    let vault = vault();
    let (aad_len, rest) = match data.split_first() {
        Some((&n, rest)) => (usize::from(n).min(rest.len()), rest),
        None => (0, data),
    };
    let (aad, value) = rest.split_at(aad_len);

    // Outside bytes as a sealed value: an error, never a panic.
    let _ = vault.open(aad, value);

    let mut rng = StdRng::seed_from_u64(aad_len as u64);
    let sealed = vault.seal(&mut rng, aad, value).expect("seal");
    assert_eq!(sealed.len(), value.len() + SEALED_OVERHEAD);
    assert_eq!(
        vault
            .open(aad, &sealed)
            .expect("own value opens")
            .as_slice(),
        value
    );
    // Any flipped bit past the version byte (nonce, ciphertext or tag) must be refused.
    let mut tampered = sealed.clone();
    let at = 1 + aad_len % (tampered.len() - 1);
    tampered[at] ^= 1;
    assert!(vault.open(aad, &tampered).is_err());

    if let Ok(wrapped) = WrappedKey::decode(data) {
        assert_eq!(wrapped.encode(), data);
        assert_eq!(data.len(), WRAPPED_KEY_LEN);
        // Argon2 with fuzzed costs could take minutes; only the test parameters run.
        if wrapped.params() == KdfParams::insecure_for_tests() {
            assert!(wrapped.unwrap(&Passphrase::new("fuzz".into())).is_err());
        }
    }
});

//! Known-answer test of group codes: `tests/vectors/group_code.json` pins the format, and a
//! from-the-documentation reimplementation cross-checks the library.
//!
//! The file was produced once by `regenerate_group_code_vectors` (ignored; run it with
//! `cargo test -p parley-crypto --test group_code -- --ignored` only for a deliberate format
//! change).

// A test binary: helpers outside #[test] fns should fail loudly on bad fixtures too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use parley_crypto::group_code::GroupCode;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentityPublicKey, IdentitySecretKey};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};
use sha2::{Digest, Sha512};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/group_code.json")
}

/// Computes a case (members as (handle, identity seed), authenticator) with the library.
fn case(members: &[(String, [u8; 32])], epoch_authenticator: &[u8]) -> Value {
    let parsed: Vec<(Handle, IdentityPublicKey)> = members
        .iter()
        .map(|(h, seed)| {
            (
                Handle::parse(h).unwrap(),
                IdentitySecretKey::from_bytes(seed).public_key(),
            )
        })
        .collect();
    let refs: Vec<(&Handle, &IdentityPublicKey)> = parsed.iter().map(|(h, k)| (h, k)).collect();
    let code = GroupCode::compute(&refs, epoch_authenticator);
    json!({
        "members": parsed.iter().zip(members).map(|((h, k), (_, seed))| json!({
            "handle": h.as_str(),
            "identity_seed": hex::encode(seed),
            "identity_key": hex::encode(k.to_bytes()),
        })).collect::<Vec<_>>(),
        "epoch_authenticator": hex::encode(epoch_authenticator),
        "digits": code.digits(),
        "grouped": code.grouped(),
    })
}

/// The group code exactly as the module documentation describes it, without the library.
fn reference(members: &[(String, [u8; 32])], epoch_authenticator: &[u8]) -> String {
    let mut sorted = members.to_vec();
    sorted.sort();
    let mut input = b"parley/v1/group-code".to_vec();
    input.extend_from_slice(&(sorted.len() as u32).to_be_bytes());
    for (handle, key) in &sorted {
        input.push(handle.len() as u8);
        input.extend_from_slice(handle.as_bytes());
        input.extend_from_slice(key);
    }
    input.extend_from_slice(&(epoch_authenticator.len() as u32).to_be_bytes());
    input.extend_from_slice(epoch_authenticator);
    let mut h = Sha512::digest(&input).to_vec();
    for _ in 0..5200 {
        let mut next = h.clone();
        next.extend_from_slice(&input);
        h = Sha512::digest(&next).to_vec();
    }
    (0..12)
        .map(|i| {
            let mut v = [0u8; 8];
            v[3..].copy_from_slice(&h[i * 5..i * 5 + 5]);
            format!("{:05}", u64::from_be_bytes(v) % 100_000)
        })
        .collect()
}

fn inputs(c: &Value) -> (Vec<(String, [u8; 32])>, Vec<u8>) {
    let members = c["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let seed: [u8; 32] = hex::decode(m["identity_seed"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            (m["handle"].as_str().unwrap().to_owned(), seed)
        })
        .collect();
    let auth = hex::decode(c["epoch_authenticator"].as_str().unwrap()).unwrap();
    (members, auth)
}

#[test]
fn group_code_vectors() {
    let text = std::fs::read_to_string(path()).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 3, "vector file without enough cases");
    for c in cases {
        let (members, auth) = inputs(c);
        assert_eq!(&case(&members, &auth), c);
        let digits = c["digits"].as_str().unwrap();
        assert_eq!(digits.len(), 60);
        // The reference hashes identity keys, so feed it the keys, not the seeds.
        let keyed: Vec<(String, [u8; 32])> = c["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["handle"].as_str().unwrap().to_owned(),
                    hex::decode(m["identity_key"].as_str().unwrap())
                        .unwrap()
                        .try_into()
                        .unwrap(),
                )
            })
            .collect();
        assert_eq!(reference(&keyed, &auth), digits);
    }
}

#[test]
#[ignore = "rewrites the checked-in vectors; run only for a deliberate format change"]
fn regenerate_group_code_vectors() {
    let mut rng = StdRng::seed_from_u64(0x6772_6f75_7063);
    let mut seed = || {
        let mut s = [0u8; 32];
        rng.fill_bytes(&mut s);
        s
    };
    let rosters: [&[&str]; 4] = [
        &["alice", "bob"],
        // Deliberately unsorted: the file shows that input order does not matter.
        &["carol", "alice", "bob"],
        &["zed", "a.b", "m_1", "k-2", "000"],
        &["solo"],
    ];
    let mut cases = Vec::new();
    for (i, roster) in rosters.iter().enumerate() {
        let members: Vec<(String, [u8; 32])> =
            roster.iter().map(|h| ((*h).to_owned(), seed())).collect();
        let auth = if i == 3 { Vec::new() } else { seed().to_vec() };
        cases.push(case(&members, &auth));
    }
    let body = json!({
        "description": "Group codes v1: input = \"parley/v1/group-code\" | u32 BE member count | per member sorted by handle: u8 len | handle | identity_key(32) | u32 BE len | epoch authenticator; h = SHA-512(input), 5200 x h = SHA-512(h | input); twelve 40-bit BE chunks of h mod 100000, 5 digits each.",
        "cases": cases,
    });
    std::fs::write(path(), serde_json::to_string_pretty(&body).unwrap() + "\n").unwrap();
}

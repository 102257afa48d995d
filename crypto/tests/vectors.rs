//! Known-answer tests: every derivation and byte format Parley defines is pinned by a JSON
//! vector file under `tests/vectors/`. The checks read the inputs from the files and recompute
//! the outputs, so any change to a derivation or encoding fails here.
//!
//! The files were produced once by `regenerate_vectors` (ignored; run it with
//! `cargo test -p parley-crypto --test vectors -- --ignored` only for a deliberate format change).

// A test binary: helpers outside #[test] fns should fail loudly on bad fixtures too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, group_transcript, owner_transcript, GroupMethod, OwnerMethod};
use parley_crypto::directory::{DirectoryRecord, SignedRecord};
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::padding::{bucket_for, pad, unpad};
use parley_crypto::safety_number::SafetyNumber;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name)
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(path(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn cases(v: &Value) -> &Vec<Value> {
    let cases = v["cases"].as_array().unwrap();
    assert!(!cases.is_empty(), "vector file without cases");
    cases
}

fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing {key}"))
        .to_owned()
}

fn u(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("missing {key}"))
}

fn bytes(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(s(v, key)).unwrap()
}

fn b32(v: &Value, key: &str) -> [u8; 32] {
    bytes(v, key).try_into().unwrap()
}

fn b16(v: &Value, key: &str) -> [u8; 16] {
    bytes(v, key).try_into().unwrap()
}

// ---- safety numbers ----

fn safety_case(ha: &str, sa: [u8; 32], hb: &str, sb: [u8; 32]) -> Value {
    let ka = IdentitySecretKey::from_bytes(&sa).public_key();
    let kb = IdentitySecretKey::from_bytes(&sb).public_key();
    let n = SafetyNumber::compute(
        (&Handle::parse(ha).unwrap(), &ka),
        (&Handle::parse(hb).unwrap(), &kb),
    );
    json!({
        "handle_a": ha, "identity_seed_a": hex::encode(sa), "identity_key_a": hex::encode(ka.to_bytes()),
        "handle_b": hb, "identity_seed_b": hex::encode(sb), "identity_key_b": hex::encode(kb.to_bytes()),
        "digits": n.digits(), "grouped": n.grouped(),
    })
}

#[test]
fn safety_number_vectors() {
    let v = load("safety_number.json");
    for c in cases(&v) {
        let expected = safety_case(
            &s(c, "handle_a"),
            b32(c, "identity_seed_a"),
            &s(c, "handle_b"),
            b32(c, "identity_seed_b"),
        );
        assert_eq!(&expected, c);
        assert_eq!(s(c, "digits").len(), 60);
        // Cross-check against a from-the-spec reimplementation, independent of the library.
        let a = reference_party_digits(&s(c, "handle_a"), &b32(c, "identity_key_a"));
        let b = reference_party_digits(&s(c, "handle_b"), &b32(c, "identity_key_b"));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        assert_eq!(s(c, "digits"), lo + &hi);
    }
}

fn reference_party_digits(handle: &str, key: &[u8; 32]) -> String {
    let mut input = vec![0u8, 0u8];
    input.extend_from_slice(key);
    input.extend_from_slice(handle.as_bytes());
    let mut h = sha2::Sha512::digest(&input).to_vec();
    for _ in 0..5200 {
        let mut next = h.clone();
        next.extend_from_slice(key);
        h = sha2::Sha512::digest(&next).to_vec();
    }
    (0..6)
        .map(|i| {
            let mut v = [0u8; 8];
            v[3..].copy_from_slice(&h[i * 5..i * 5 + 5]);
            format!("{:05}", u64::from_be_bytes(v) % 100_000)
        })
        .collect()
}

// ---- access keys and group-auth transcripts ----

fn group_body(method: &str, c: &Value) -> (GroupMethod, [u8; 32]) {
    match method {
        "Create" => (GroupMethod::Create, body::create(&b32(c, "access_key"))),
        "Post" => (GroupMethod::Post, body::post(&bytes(c, "message"))),
        "Commit" => (
            GroupMethod::Commit,
            body::commit(&bytes(c, "message"), &b32(c, "next_access_key")),
        ),
        "Read" => (
            GroupMethod::Read,
            body::read(u(c, "from_seq"), u32::try_from(u(c, "limit")).unwrap()),
        ),
        "Subscribe" => (GroupMethod::Subscribe, body::empty()),
        other => panic!("unknown method {other}"),
    }
}

/// Recomputes the outputs of an access-key case from its inputs.
fn access_case(inputs: &Value) -> Value {
    let key = AccessKey::from_exporter_secret(&b32(inputs, "exporter_secret"));
    let method = s(inputs, "method");
    let (gm, digest) = group_body(&method, inputs);
    let transcript = group_transcript(
        gm,
        &b32(inputs, "group_id"),
        u(inputs, "epoch"),
        u(inputs, "timestamp_ms"),
        &b16(inputs, "nonce"),
        &digest,
    );
    let signature = key.sign(&transcript);
    key.public_key().verify(&transcript, &signature).unwrap();
    let mut out = inputs.clone();
    let obj = out.as_object_mut().unwrap();
    obj.insert(
        "public_key".into(),
        hex::encode(key.public_key().to_bytes()).into(),
    );
    obj.insert("body_digest".into(), hex::encode(digest).into());
    obj.insert("transcript".into(), hex::encode(&transcript).into());
    obj.insert("signature".into(), hex::encode(signature).into());
    out
}

const OUTPUT_KEYS: &[&str] = &["public_key", "body_digest", "transcript", "signature"];

fn strip_outputs(c: &Value) -> Value {
    let mut inputs = c.clone();
    for k in OUTPUT_KEYS {
        inputs.as_object_mut().unwrap().remove(*k);
    }
    inputs
}

#[test]
fn access_key_vectors() {
    let v = load("access_key.json");
    for c in cases(&v) {
        assert_eq!(&access_case(&strip_outputs(c)), c);
    }
}

// ---- owner-auth transcripts ----

fn owner_case(inputs: &Value) -> Value {
    let sk = IdentitySecretKey::from_bytes(&b32(inputs, "identity_seed"));
    let handle = Handle::parse(&s(inputs, "handle")).unwrap();
    let (method, digest) = match s(inputs, "method").as_str() {
        "PublishKeyPackages" => {
            let kps: Vec<Vec<u8>> = inputs["key_packages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| hex::decode(k.as_str().unwrap()).unwrap())
                .collect();
            (
                OwnerMethod::PublishKeyPackages,
                body::publish_key_packages(&kps, &bytes(inputs, "last_resort")),
            )
        }
        "Fetch" => (
            OwnerMethod::Fetch,
            body::fetch(u32::try_from(u(inputs, "limit")).unwrap()),
        ),
        "Ack" => {
            let ids: Vec<u64> = inputs["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap())
                .collect();
            (OwnerMethod::Ack, body::ack(&ids))
        }
        "SubscribeInbox" => (OwnerMethod::SubscribeInbox, body::empty()),
        other => panic!("unknown method {other}"),
    };
    let transcript = owner_transcript(method, &handle, &b32(inputs, "challenge"), &digest);
    let signature = sk.sign(&transcript);
    sk.public_key().verify(&transcript, &signature).unwrap();
    let mut out = inputs.clone();
    let obj = out.as_object_mut().unwrap();
    obj.insert(
        "public_key".into(),
        hex::encode(sk.public_key().to_bytes()).into(),
    );
    obj.insert("body_digest".into(), hex::encode(digest).into());
    obj.insert("transcript".into(), hex::encode(&transcript).into());
    obj.insert("signature".into(), hex::encode(signature).into());
    out
}

#[test]
fn owner_auth_vectors() {
    let v = load("owner_auth.json");
    for c in cases(&v) {
        assert_eq!(&owner_case(&strip_outputs(c)), c);
    }
}

// ---- padding ----

fn padding_case(content: &[u8], overhead: usize) -> Value {
    let frame = pad(content, overhead).unwrap();
    assert_eq!(unpad(&frame).unwrap(), content);
    json!({
        "content": hex::encode(content),
        "overhead": overhead,
        "frame_len": frame.len(),
        "frame_sha256": hex::encode(Sha256::digest(&frame)),
    })
}

#[test]
fn padding_vectors() {
    let v = load("padding.json");
    for b in v["buckets"].as_array().unwrap() {
        let len = usize::try_from(u(b, "len")).unwrap();
        match b["bucket"].as_u64() {
            Some(bucket) => assert_eq!(bucket_for(len), Ok(usize::try_from(bucket).unwrap())),
            None => assert!(bucket_for(len).is_err(), "len {len} must be refused"),
        }
    }
    for c in cases(&v) {
        let overhead = usize::try_from(u(c, "overhead")).unwrap();
        assert_eq!(&padding_case(&bytes(c, "content"), overhead), c);
    }
}

// ---- directory records ----

fn record_case(
    identity_seed: [u8; 32],
    inbox_secret: [u8; 32],
    handle: &str,
    record_version: u64,
    created_at_ms: u64,
) -> Value {
    let sk = IdentitySecretKey::from_bytes(&identity_seed);
    let inbox = InboxSecretKey::from_bytes(inbox_secret).public_key();
    let record = DirectoryRecord {
        handle: Handle::parse(handle).unwrap(),
        identity_key: sk.public_key(),
        inbox_key: inbox,
        record_version,
        created_at_ms,
    };
    let signed = record.sign(&sk).unwrap();
    json!({
        "identity_seed": hex::encode(identity_seed),
        "inbox_secret": hex::encode(inbox_secret),
        "handle": handle,
        "record_version": record_version,
        "created_at_ms": created_at_ms,
        "identity_key": hex::encode(sk.public_key().to_bytes()),
        "inbox_key": hex::encode(inbox.to_bytes()),
        "record": hex::encode(signed.to_bytes()),
    })
}

#[test]
fn directory_record_vectors() {
    let v = load("directory_record.json");
    for c in cases(&v) {
        let expected = record_case(
            b32(c, "identity_seed"),
            b32(c, "inbox_secret"),
            &s(c, "handle"),
            u(c, "record_version"),
            u(c, "created_at_ms"),
        );
        assert_eq!(&expected, c);
        // And the stored bytes decode to exactly the stated fields.
        let decoded = SignedRecord::decode_and_verify(&bytes(c, "record")).unwrap();
        let r = decoded.record();
        assert_eq!(r.handle.as_str(), s(c, "handle"));
        assert_eq!(r.identity_key.to_bytes().to_vec(), bytes(c, "identity_key"));
        assert_eq!(r.inbox_key.to_bytes().to_vec(), bytes(c, "inbox_key"));
        assert_eq!(r.record_version, u(c, "record_version"));
        assert_eq!(r.created_at_ms, u(c, "created_at_ms"));
    }
}

// ---- generation (run once, deliberately) ----

fn seed(rng: &mut StdRng) -> [u8; 32] {
    let mut s = [0u8; 32];
    rng.fill_bytes(&mut s);
    s
}

fn write(name: &str, description: &str, mut body: Value) {
    body.as_object_mut()
        .unwrap()
        .insert("description".into(), description.into());
    let text = serde_json::to_string_pretty(&body).unwrap() + "\n";
    std::fs::write(path(name), text).unwrap();
}

#[test]
#[ignore = "rewrites the checked-in vectors; run only for a deliberate format change"]
fn regenerate_vectors() {
    let mut rng = StdRng::seed_from_u64(0x7061_726c_6579);

    let pairs = [
        ("alice", "bob"),
        ("bob", "alice"),
        ("carol.x", "dave_99"),
        ("000", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
    ];
    let safety: Vec<Value> = pairs
        .iter()
        .map(|(a, b)| safety_case(a, seed(&mut rng), b, seed(&mut rng)))
        .collect();
    write(
        "safety_number.json",
        "Safety numbers: per party h = SHA-512(00 00 | identity_key | handle), 5200 x h = SHA-512(h | identity_key), six 40-bit BE chunks mod 100000; the two 30-digit halves sorted and joined.",
        json!({ "cases": safety }),
    );

    let mut access = Vec::new();
    for (i, method) in ["Create", "Post", "Commit", "Read", "Subscribe"]
        .iter()
        .enumerate()
    {
        let secret = seed(&mut rng);
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        let mut inputs = json!({
            "exporter_secret": hex::encode(secret),
            "method": method,
            "group_id": hex::encode(seed(&mut rng)),
            "epoch": if *method == "Create" { 0 } else { 3 + i as u64 },
            "timestamp_ms": 1_700_000_000_000u64 + i as u64,
            "nonce": hex::encode(nonce),
        });
        let obj = inputs.as_object_mut().unwrap();
        match *method {
            "Create" => {
                let pk = AccessKey::from_exporter_secret(&secret).public_key();
                obj.insert("access_key".into(), hex::encode(pk.to_bytes()).into());
            }
            "Post" => {
                obj.insert(
                    "message".into(),
                    hex::encode(pad(b"post body", 0).unwrap()).into(),
                );
            }
            "Commit" => {
                let next = AccessKey::from_exporter_secret(&seed(&mut rng)).public_key();
                obj.insert("message".into(), hex::encode(b"commit body").into());
                obj.insert(
                    "next_access_key".into(),
                    hex::encode(next.to_bytes()).into(),
                );
            }
            "Read" => {
                obj.insert("from_seq".into(), 17.into());
                obj.insert("limit".into(), 100.into());
            }
            _ => {}
        }
        access.push(access_case(&inputs));
    }
    write(
        "access_key.json",
        "Relay access keys (Ed25519 seed = MLS exporter secret) and group-auth transcripts they sign.",
        json!({ "cases": access }),
    );

    let challenge = |rng: &mut StdRng| hex::encode(seed(rng));
    let owner_inputs = [
        json!({ "method": "PublishKeyPackages", "handle": "alice", "identity_seed": hex::encode(seed(&mut rng)),
                "challenge": challenge(&mut rng), "key_packages": ["0102", "030405"], "last_resort": "06" }),
        json!({ "method": "PublishKeyPackages", "handle": "alice", "identity_seed": hex::encode(seed(&mut rng)),
                "challenge": challenge(&mut rng), "key_packages": [], "last_resort": "" }),
        json!({ "method": "Fetch", "handle": "bob", "identity_seed": hex::encode(seed(&mut rng)),
                "challenge": challenge(&mut rng), "limit": 0 }),
        json!({ "method": "Ack", "handle": "bob", "identity_seed": hex::encode(seed(&mut rng)),
                "challenge": challenge(&mut rng), "ids": [1, 2, 18446744073709551615u64] }),
        json!({ "method": "SubscribeInbox", "handle": "carol", "identity_seed": hex::encode(seed(&mut rng)),
                "challenge": challenge(&mut rng) }),
    ];
    let owner: Vec<Value> = owner_inputs.iter().map(owner_case).collect();
    write(
        "owner_auth.json",
        "Owner-auth transcripts signed by the handle's identity key.",
        json!({ "cases": owner }),
    );

    let bucket_lens = [
        0usize, 1, 256, 257, 511, 512, 513, 4096, 65535, 65536, 65537, 131072, 131073, 1048575,
        1048576, 1048577,
    ];
    let buckets: Vec<Value> = bucket_lens
        .iter()
        .map(|&len| json!({ "len": len, "bucket": bucket_for(len).ok() }))
        .collect();
    let mut padding_cases = Vec::new();
    for (len, overhead) in [
        (0usize, 0usize),
        (5, 0),
        (252, 0),
        (253, 0),
        (5, 49),
        (203, 49),
        (204, 49),
        (1000, 49),
    ] {
        let mut content = vec![0u8; len];
        rng.fill_bytes(&mut content);
        padding_cases.push(padding_case(&content, overhead));
    }
    write(
        "padding.json",
        "Padding buckets (null = refused) and padded frames (u32 BE len | content | zeros; frame_len + overhead is a bucket).",
        json!({ "buckets": buckets, "cases": padding_cases }),
    );

    let records: Vec<Value> = [
        ("alice", 1u64, 1_700_000_000_000u64),
        ("bob.b-2_c", 2, 0),
        ("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", u64::MAX, u64::MAX),
    ]
    .iter()
    .map(|(h, v, t)| record_case(seed(&mut rng), seed(&mut rng), h, *v, *t))
    .collect();
    write(
        "directory_record.json",
        "Directory records v1: 01 | u8 len | handle | identity_key | inbox_key | u64 BE version | u64 BE created_at_ms | Ed25519(\"parley/v1/directory-record\" || preceding bytes).",
        json!({ "cases": records }),
    );
}

//! Writes the seed corpus (fuzz/corpus/<target>/) and the MLS group fixture
//! (fuzz/fixtures/mls_bob_state.bin): `cargo run --example gen_corpus` in fuzz/.
//! Keys are the fixed ones the targets use; MLS secrets come from OpenMLS's own RNG, so the
//! fixture and the MLS seeds are written together and must be regenerated together.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use parley_crypto::directory::{DirectoryRecord, SignedRecord};
use parley_crypto::document::{BlobId, DocumentKey, DocumentReference, DocumentSealer};
use parley_crypto::envelope::{seal, seal_with_record};
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::inbox_message::InboxMessage;
use parley_crypto::mls::Mls;
use parley_crypto::padding;
use parley_crypto::payload::Payload;
use parley_crypto::retention::Retention;
use parley_crypto::rotation::Rotation;
use parley_crypto::vault::{KdfParams, Passphrase, StoreKey, Vault, WrappedKey};
use parley_proto::v1;
use prost::Message;
use rand::rngs::StdRng;
use rand::SeedableRng;

const ALICE_INBOX: [u8; 32] = [0xa1; 32];
const BOB_INBOX: [u8; 32] = [0xb0; 32];
const ALICE_IDENTITY: [u8; 32] = [0xa2; 32];
const BOB_IDENTITY: [u8; 32] = [0xb1; 32];

type Changes = BTreeMap<Vec<u8>, Vec<u8>>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = root().join("corpus").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn absorb(state: &mut Changes, mls: &mut Mls) {
    for (key, value) in mls.take_changes() {
        match value {
            Some(value) => state.insert(key, value),
            None => state.remove(&key),
        };
    }
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn record(identity: &IdentitySecretKey, handle: &str, inbox: &InboxSecretKey) -> Vec<u8> {
    DirectoryRecord {
        handle: Handle::parse(handle).unwrap(),
        identity_key: identity.public_key(),
        inbox_key: inbox.public_key(),
        record_version: 1,
        created_at_ms: 1_700_000_000_000,
    }
    .sign(identity)
    .unwrap()
    .to_bytes()
}

fn main() {
    let mut rng = StdRng::seed_from_u64(1);
    let alice = Handle::parse("alice").unwrap();
    let bob = Handle::parse("bob").unwrap();
    let alice_inbox = InboxSecretKey::from_bytes(ALICE_INBOX);
    let bob_inbox = InboxSecretKey::from_bytes(BOB_INBOX);
    let alice_id = IdentitySecretKey::from_bytes(&ALICE_IDENTITY);
    let bob_id = IdentitySecretKey::from_bytes(&BOB_IDENTITY);

    // Envelopes and what they carry.
    let text = Payload::Text {
        sent_at_ms: 1_700_000_000_000,
        text: "hello bob".into(),
    }
    .encode()
    .unwrap();
    let unknown = Payload::Unknown {
        kind: 9,
        sent_at_ms: 5,
        body: vec![1, 2, 3],
    }
    .encode()
    .unwrap();
    write("payload", "text", &text);
    write("payload", "unknown", &unknown);
    let welcome_msg = InboxMessage::Welcome {
        conversation_name: "team".into(),
        welcome: vec![0; 40],
    }
    .encode()
    .unwrap();
    write("inbox_message", "welcome", &welcome_msg);
    write(
        "inbox_message",
        "welcome-with-records",
        &InboxMessage::WelcomeWithRecords {
            conversation_name: "team".into(),
            welcome: vec![1, 2, 3],
            member_records: vec![b"carol".to_vec(), Vec::new()],
        }
        .encode()
        .unwrap(),
    );
    write(
        "inbox_message",
        "unknown",
        &InboxMessage::Unknown {
            kind: 7,
            body: vec![9; 5],
        }
        .encode()
        .unwrap(),
    );
    for (name, msg) in [("text", &text), ("welcome", &welcome_msg)] {
        let env = seal(
            &mut rng,
            msg,
            &alice,
            &alice_inbox,
            &bob,
            &bob_inbox.public_key(),
        )
        .unwrap();
        write("envelope", name, &env);
    }
    let big = vec![b'x'; 300];
    let env = seal(
        &mut rng,
        &big,
        &alice,
        &alice_inbox,
        &bob,
        &bob_inbox.public_key(),
    )
    .unwrap();
    write("envelope", "512-bucket", &env);
    // A v2 envelope: the sender's signed record rides inside.
    let env = seal_with_record(
        &mut rng,
        &text,
        &alice,
        &alice_inbox,
        &record(&alice_id, "alice", &alice_inbox),
        &bob,
        &bob_inbox.public_key(),
    )
    .unwrap();
    write("envelope", "v2-with-record", &env);

    // Directory records: signed ones, and the re-encode path's structured input.
    let alice_record = record(&alice_id, "alice", &alice_inbox);
    let bob_record = record(&bob_id, "bob", &bob_inbox);
    write("directory_record", "alice", &alice_record);
    write("directory_record", "bob", &bob_record);

    // Rotations: alice's record replaced by one with bob's keys (any newer key will do), and
    // that one replaced again, so the two halves of "chain" form a chain.
    let rotated = |old: &[u8], old_id: &IdentitySecretKey, new_id: &IdentitySecretKey, v: u64| {
        let old = SignedRecord::decode_and_verify(old).unwrap();
        let new = DirectoryRecord {
            handle: Handle::parse("alice").unwrap(),
            identity_key: new_id.public_key(),
            inbox_key: bob_inbox.public_key(),
            record_version: v,
            created_at_ms: 1_700_000_000_000 + v,
        }
        .sign(new_id)
        .unwrap();
        (Rotation::sign(&old, &new, old_id).unwrap(), new)
    };
    let (first, second_record) = rotated(&alice_record, &alice_id, &bob_id, 2);
    let (second, _) = rotated(second_record.as_bytes(), &bob_id, &alice_id, 3);
    // Documents: a sealed two-chunk document in the target's framing (under its fixed key),
    // and plain content for the round trip.
    let size = 70_000u32;
    let mut sealer = DocumentSealer::new(
        &DocumentKey::from_bytes([7; 32]),
        BlobId::from_bytes([9; 32]),
        u64::from(size),
    )
    .unwrap();
    let mut chunks = sealer.push(&vec![5u8; size as usize]).unwrap();
    chunks.extend(sealer.finish().unwrap());
    let mut framed = size.to_be_bytes().to_vec();
    for chunk in &chunks {
        framed.extend_from_slice(&u32::try_from(chunk.len()).unwrap().to_be_bytes());
        framed.extend_from_slice(chunk);
    }
    write("document", "sealed", &framed);
    write("document", "content", b"a short non-paper, sealed and opened again");
    let reference = DocumentReference {
        blob_id: BlobId::from_bytes([1; 32]),
        key: DocumentKey::from_bytes([2; 32]),
        sha256: [3; 32],
        size: 2_400_000,
        name: "budget.pdf".to_owned(),
        media_type: "application/pdf".to_owned(),
    };
    write("document", "reference", &reference.encode().unwrap());
    write("retention", "week", &Retention::parse("7d").unwrap().encode());
    write("retention", "text", b"24h");
    write("rotation", "one", first.as_bytes());
    write("rotation", "chain", &cat(&[first.as_bytes(), second.as_bytes()]));
    write(
        "directory_record",
        "structured",
        &cat(&[
            &[3; 32],
            &[4; 32],
            &7u64.to_be_bytes(),
            &9u64.to_be_bytes(),
            b"carol.x",
        ]),
    );

    // Padding: overhead byte, then content or frame.
    write("padding", "envelope-overhead", &cat(&[&[49], b"hello"]));
    let frame = padding::pad(b"hello", 49).unwrap();
    write("padding", "frame", &cat(&[&[49], &frame]));
    write(
        "padding",
        "zero-overhead",
        &padding::pad(b"abc", 0).unwrap(),
    );

    // Vault: aad length byte, aad, value; a sealed value; a wrapped key.
    let key = StoreKey::generate(&mut StdRng::seed_from_u64(7));
    let vault = Vault::new(&key);
    let sealed = vault.seal(&mut rng, b"contact", b"value").unwrap();
    write("vault", "sealed", &cat(&[&[7], b"contact", &sealed]));
    write("vault", "plain", &cat(&[&[3], b"aad", b"secret value"]));
    let wrapped = WrappedKey::wrap(
        &mut rng,
        &Passphrase::new("seed".into()),
        KdfParams::insecure_for_tests(),
        &key,
    )
    .unwrap();
    write("vault", "wrapped-test-params", &wrapped.encode());
    let wrapped = WrappedKey::wrap(
        &mut rng,
        &Passphrase::new("seed".into()),
        KdfParams::default(),
        &key,
    )
    .unwrap();
    write("vault", "wrapped-default", &wrapped.encode());

    // MLS: Alice and Bob in group 1 (Bob's state is the fixture); group 2 only invites Bob.
    let mut a = Mls::new(alice.clone(), &alice_id, Vec::new()).unwrap();
    let mut b = Mls::new(bob.clone(), &bob_id, Vec::new()).unwrap();
    let mut bob_state = Changes::new();
    // The KeyPackages must be valid now: OpenMLS checks lifetimes against the system clock.
    let now_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let kps = b.generate_key_packages(2, false, now_ms).unwrap();
    let last_resort = b.generate_key_packages(1, true, now_ms).unwrap();
    absorb(&mut bob_state, &mut b);
    let g1 = [1u8; 32];
    let g2 = [2u8; 32];
    a.create_group(g1, Retention::Off).unwrap();
    let add = a.add_members(&g1, &kps[..1]).unwrap();
    a.merge_own_commit(&g1).unwrap();
    let staged = b.stage_welcome(add.welcome.as_ref().unwrap()).unwrap();
    b.join(staged).unwrap();
    absorb(&mut bob_state, &mut b);
    a.create_group(g2, Retention::parse("7d").unwrap()).unwrap();
    let add2 = a.add_members(&g2, &kps[1..2]).unwrap();

    let app = a.encrypt(&g1, &text).unwrap();
    // A commit of Alice at Bob's epoch: updates nothing Bob must vet but Alice's leaf.
    let carol_kps = {
        let carol_id = IdentitySecretKey::from_bytes(&[0xc1; 32]);
        let mut c = Mls::new(Handle::parse("carol").unwrap(), &carol_id, Vec::new()).unwrap();
        c.generate_key_packages(1, false, now_ms).unwrap()
    };
    let commit = a.add_members(&g1, &carol_kps).unwrap();
    let unpadded = |frame: &[u8]| padding::unpad(frame).unwrap().to_vec();
    write("mls", "process-application", &cat(&[&[0], &unpadded(&app)]));
    write(
        "mls",
        "process-commit",
        &cat(&[&[0], &unpadded(&commit.commit)]),
    );
    write("mls", "process-frame", &cat(&[&[1], &app]));
    write("mls", "inspect-key-package", &cat(&[&[2], &carol_kps[0]]));
    write("mls", "inspect-last-resort", &cat(&[&[2], &last_resort[0]]));
    write(
        "mls",
        "stage-welcome",
        &cat(&[&[3], add2.welcome.as_ref().unwrap()]),
    );

    let mut fixture = g1.to_vec();
    fixture.extend_from_slice(&(bob_state.len() as u32).to_be_bytes());
    for (key, value) in &bob_state {
        fixture.extend_from_slice(&(key.len() as u32).to_be_bytes());
        fixture.extend_from_slice(key);
        fixture.extend_from_slice(&(value.len() as u32).to_be_bytes());
        fixture.extend_from_slice(value);
    }
    fs::create_dir_all(root().join("fixtures")).unwrap();
    fs::write(root().join("fixtures/mls_bob_state.bin"), &fixture).unwrap();

    // Stored records: `u8 tree | u8 who | u64 n | u16 len | value`, layouts as the store writes.
    let rec = |tree: u8, who: u8, n: u64, value: &[u8]| {
        cat(&[
            &[tree, who],
            &n.to_be_bytes(),
            &(value.len() as u16).to_be_bytes(),
            value,
        ])
    };
    let u64s = |v: &[u64]| v.iter().flat_map(|n| n.to_be_bytes()).collect::<Vec<u8>>();
    let mut entry = u64s(&[0]);
    entry.push(2);
    entry.extend_from_slice(&u64s(&[1_700_000_000_000]));
    entry.extend_from_slice(&app[..64]);
    write(
        "store_records",
        "inbox",
        &cat(&[
            &rec(0, 0, 0, &alice_record),
            &rec(4, 0, 0, &u64s(&[2, 1, 64])),
            &rec(3, 0, 1, &cat(&[&u64s(&[1_700_000_000_000]), &[1; 64]])),
            &rec(1, 1, 0, &kps[0]),
            &rec(2, 1, 0, &last_resort[0]),
        ]),
    );
    write(
        "store_records",
        "group",
        &cat(&[
            &rec(5, 0, 0, &u64s(&[0, 2, 64])),
            &rec(6, 0, 0, &cat(&[&[5; 32], &u64s(&[0])])),
            &rec(7, 0, 0, &entry),
            &rec(7, 0, 1, &cat(&[&u64s(&[0]), &[1], &[7; 30]])),
        ]),
    );

    // Relay requests: method byte (Handlers::call numbering), then the prost encoding.
    let req = |method: u8, message: &dyn Fn() -> Vec<u8>| cat(&[&[method], &message()]);
    let owner = Some(v1::OwnerAuth {
        challenge: vec![0; 32],
        signature: vec![0; 64],
    });
    let group_auth = Some(v1::GroupAuth {
        timestamp_ms: 1_700_000_000_000,
        nonce: vec![0; 16],
        signature: vec![0; 64],
    });
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "register",
            req(0, &|| {
                v1::RegisterRequest {
                    record: alice_record.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "lookup",
            req(1, &|| {
                v1::LookupRequest {
                    handle: "alice".into(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "challenge",
            req(2, &|| {
                v1::ChallengeRequest {
                    handle: "alice".into(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "publish",
            req(3, &|| {
                v1::PublishKeyPackagesRequest {
                    replace: false,
                    handle: "alice".into(),
                    key_packages: vec![kps[0].clone()],
                    last_resort: last_resort[0].clone(),
                    auth: owner.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "claim",
            req(4, &|| {
                v1::ClaimKeyPackageRequest {
                    handle: "alice".into(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "deposit",
            req(5, &|| {
                v1::DepositRequest {
                    handle: "alice".into(),
                    envelope: env.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "fetch",
            req(6, &|| {
                v1::FetchRequest {
                    handle: "alice".into(),
                    limit: 10,
                    auth: owner.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "ack",
            req(7, &|| {
                v1::AckRequest {
                    handle: "alice".into(),
                    ids: vec![1, 2],
                    auth: owner.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "create",
            req(8, &|| {
                v1::CreateGroupRequest {
                    group_id: vec![1; 32],
                    access_key: vec![5; 32],
                    auth: group_auth.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "post",
            req(9, &|| {
                v1::PostRequest {
                    group_id: vec![1; 32],
                    epoch: 0,
                    message: app.clone(),
                    auth: group_auth.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "commit",
            req(10, &|| {
                v1::CommitRequest {
                    group_id: vec![1; 32],
                    epoch: 0,
                    message: commit.commit.clone(),
                    next_access_key: vec![6; 32],
                    auth: group_auth.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "read",
            req(11, &|| {
                v1::ReadRequest {
                    group_id: vec![1; 32],
                    epoch: 0,
                    from_seq: 0,
                    limit: 10,
                    auth: group_auth.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "rotate",
            req(12, &|| {
                v1::RotateRequest {
                    rotation: first.as_bytes().to_vec(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "download",
            req(14, &|| {
                v1::DownloadRequest {
                    blob_id: vec![1; 32],
                    read_capability: vec![2; 32],
                    from_chunk: 0,
                }
                .encode_to_vec()
            }),
        ),
        (
            "shorten",
            req(15, &|| {
                v1::ShortenRequest {
                    blob_id: vec![1; 32],
                    read_capability: vec![2; 32],
                    ttl_seconds: 3600,
                }
                .encode_to_vec()
            }),
        ),
    ];
    for (name, bytes) in seeds {
        write("relay_handlers", name, &bytes);
    }
    println!("corpus and fixture written under {}", root().display());
}

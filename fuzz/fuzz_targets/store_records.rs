//! The relay's stored records, as a corrupt or tampered disk would hold them: the fuzz input
//! is a list of raw records written straight into a fresh sled database, which the relay's
//! store then opens and reads back (parley_relay::fuzzing::read_store). Malformed records must
//! be errors, never panics.
//!
//! Input: repeated `u8 tree | u8 who | u64 BE n | u16 BE len | value[len]`; `who` picks one
//! of a few handles or group ids, and `n` is the id/sequence/epoch suffix of keyed trees, so
//! keys have the layout the store expects and the fuzzer works on the values.
#![no_main]

use libfuzzer_sys::fuzz_target;

const TREES: [&str; 12] = [
    "directory",
    "rotations",
    "blob_meta",
    "blob_chunks",
    "key_packages",
    "last_resort",
    "inbox",
    "deliveries",
    "inbox_meta",
    "group_meta",
    "group_keys",
    "group_entries",
];
const HANDLES: [&str; 3] = ["alice", "bob", "carol"];
const GROUPS: [[u8; 32]; 2] = [[1; 32], [2; 32]];

fn prefix(handle: &str) -> Vec<u8> {
    let mut key = vec![handle.len() as u8];
    key.extend_from_slice(handle.as_bytes());
    key
}

fn key(tree: usize, who: u8, n: u64) -> Vec<u8> {
    let handle = HANDLES[usize::from(who) % HANDLES.len()];
    let group = GROUPS[usize::from(who) % GROUPS.len()];
    let with_n = |mut key: Vec<u8>| {
        key.extend_from_slice(&n.to_be_bytes());
        key
    };
    match TREES[tree] {
        "directory" => handle.as_bytes().to_vec(),
        "last_resort" | "inbox_meta" => prefix(handle),
        "key_packages" | "inbox" | "deliveries" | "rotations" => with_n(prefix(handle)),
        "group_meta" | "blob_meta" => group.to_vec(),
        "blob_chunks" => {
            let mut key = group.to_vec();
            key.extend_from_slice(&(n as u32).to_be_bytes());
            key
        }
        _ => with_n(group.to_vec()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut records = Vec::new();
    let mut rest = data;
    while let Some((header, tail)) = rest.split_first_chunk::<12>() {
        let tree = usize::from(header[0]) % TREES.len();
        let n = u64::from_be_bytes(header[2..10].try_into().unwrap());
        let len = usize::from(u16::from_be_bytes([header[10], header[11]])).min(tail.len());
        let (value, tail) = tail.split_at(len);
        records.push((tree, key(tree, header[1], n), value.to_vec()));
        rest = tail;
    }

    let base = std::path::Path::new("/dev/shm");
    let dir = if base.is_dir() {
        tempfile::tempdir_in(base)
    } else {
        tempfile::tempdir()
    }
    .unwrap();
    {
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        for (tree, key, value) in &records {
            db.open_tree(TREES[*tree])
                .unwrap()
                .insert(key, value.as_slice())
                .unwrap();
        }
        db.flush().unwrap();
    }
    let handles: Vec<Vec<u8>> = HANDLES.iter().map(|h| h.as_bytes().to_vec()).collect();
    // Errors are the expected outcome for corrupt records; only panics are findings.
    let _ = parley_relay::fuzzing::read_store(dir.path(), &handles, &GROUPS);
});

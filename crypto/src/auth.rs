//! Request-authentication transcripts, shared by the relay (verifies) and the client (signs).
//!
//! Owner-auth proves control of a handle's identity key over a single-use relay challenge;
//! group-auth proves knowledge of a group epoch's relay access key without naming the member.
//! Each transcript binds the method, the target and a SHA-256 digest of the request body, so
//! a signature cannot be replayed against another method, target or body.

use sha2::{Digest, Sha256};

use crate::handle::Handle;

/// Length of an owner-auth challenge issued by the relay.
pub const CHALLENGE_LEN: usize = 32;
/// Length of a group-auth nonce chosen by the client.
pub const NONCE_LEN: usize = 16;
/// Domain separation prefix of owner-auth transcripts.
pub const OWNER_AUTH_CONTEXT: &[u8] = b"parley/v1/owner-auth";
/// Domain separation prefix of group-auth transcripts.
pub const GROUP_AUTH_CONTEXT: &[u8] = b"parley/v1/group-auth";

/// Relay methods authenticated by the handle owner's identity key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnerMethod {
    /// Upload MLS key packages.
    PublishKeyPackages,
    /// Fetch inbox deliveries.
    Fetch,
    /// Acknowledge (delete) inbox deliveries.
    Ack,
    /// Subscribe to inbox notifications.
    SubscribeInbox,
}

impl OwnerMethod {
    /// The method name as it appears in the transcript.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerMethod::PublishKeyPackages => "PublishKeyPackages",
            OwnerMethod::Fetch => "Fetch",
            OwnerMethod::Ack => "Ack",
            OwnerMethod::SubscribeInbox => "SubscribeInbox",
        }
    }
}

/// Relay methods authenticated by a group epoch's access key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupMethod {
    /// Create a group log (epoch 0).
    Create,
    /// Append an application message.
    Post,
    /// Append a commit and move to the next epoch.
    Commit,
    /// Read log entries.
    Read,
    /// Subscribe to new-entry notifications.
    Subscribe,
    /// Set how long the group's entries are kept.
    SetRetention,
}

impl GroupMethod {
    /// The method name as it appears in the transcript.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupMethod::Create => "Create",
            GroupMethod::Post => "Post",
            GroupMethod::Commit => "Commit",
            GroupMethod::Read => "Read",
            GroupMethod::Subscribe => "Subscribe",
            GroupMethod::SetRetention => "SetRetention",
        }
    }
}

fn push_short(out: &mut Vec<u8>, bytes: &[u8]) {
    // Method names are compile-time constants and handles are at most 32 bytes.
    out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(bytes);
}

/// `"parley/v1/owner-auth" | u8 len | method | u8 len | handle | challenge[32] | body_digest[32]`.
pub fn owner_transcript(
    method: OwnerMethod,
    handle: &Handle,
    challenge: &[u8; CHALLENGE_LEN],
    body_digest: &[u8; 32],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(OWNER_AUTH_CONTEXT.len() + 2 + 18 + 32 + 32 + 32);
    out.extend_from_slice(OWNER_AUTH_CONTEXT);
    push_short(&mut out, method.as_str().as_bytes());
    push_short(&mut out, handle.as_bytes());
    out.extend_from_slice(challenge);
    out.extend_from_slice(body_digest);
    out
}

/// `"parley/v1/group-auth" | u8 len | method | group_id[32] | u64 BE epoch | u64 BE timestamp_ms
/// | nonce[16] | body_digest[32]`.
pub fn group_transcript(
    method: GroupMethod,
    group_id: &[u8; 32],
    epoch: u64,
    timestamp_ms: u64,
    nonce: &[u8; NONCE_LEN],
    body_digest: &[u8; 32],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(GROUP_AUTH_CONTEXT.len() + 10 + 32 + 16 + 16 + 32);
    out.extend_from_slice(GROUP_AUTH_CONTEXT);
    push_short(&mut out, method.as_str().as_bytes());
    out.extend_from_slice(group_id);
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    out.extend_from_slice(nonce);
    out.extend_from_slice(body_digest);
    out
}

/// SHA-256 digests of request bodies, in the encodings the transcripts commit to.
pub mod body {
    use super::{Digest, Sha256};

    // Lengths beyond u32 cannot occur in a relay request (messages are bounded far lower);
    // saturating keeps the digest well defined, and it would simply not match.
    fn len_u32(len: usize) -> [u8; 4] {
        u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes()
    }

    /// `PublishKeyPackages`: `u32 BE count | (u32 BE len | kp)* | u32 BE len | last_resort`
    /// (an absent last-resort package is an empty one).
    pub fn publish_key_packages(kps: &[Vec<u8>], last_resort: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(len_u32(kps.len()));
        for kp in kps {
            h.update(len_u32(kp.len()));
            h.update(kp);
        }
        h.update(len_u32(last_resort.len()));
        h.update(last_resort);
        h.finalize().into()
    }

    /// `PublishKeyPackages` with `replace` set (a rotation): the domain
    /// `parley/v1/publish-replacing`, then the body of [`publish_key_packages`], so that a
    /// signed upload cannot be turned into a rotation, nor the other way round.
    pub fn publish_key_packages_replacing(kps: &[Vec<u8>], last_resort: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"parley/v1/publish-replacing");
        h.update(publish_key_packages(kps, last_resort));
        h.finalize().into()
    }

    /// `Fetch`: `u32 BE limit` as sent (0 allowed).
    pub fn fetch(limit: u32) -> [u8; 32] {
        Sha256::digest(limit.to_be_bytes()).into()
    }

    /// `Ack`: `u32 BE count | (u64 BE id)*`.
    pub fn ack(ids: &[u64]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(len_u32(ids.len()));
        for id in ids {
            h.update(id.to_be_bytes());
        }
        h.finalize().into()
    }

    /// Methods without a body (`SubscribeInbox`, `Subscribe`): SHA-256 of nothing.
    pub fn empty() -> [u8; 32] {
        Sha256::digest([]).into()
    }

    /// `Create`: the epoch-0 access public key.
    pub fn create(access_key: &[u8; 32]) -> [u8; 32] {
        Sha256::digest(access_key).into()
    }

    /// `Post`: the message bytes.
    pub fn post(message: &[u8]) -> [u8; 32] {
        Sha256::digest(message).into()
    }

    /// `Commit`: `u32 BE len | message | next_access_key[32]`.
    pub fn commit(message: &[u8], next_access_key: &[u8; 32]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(len_u32(message.len()));
        h.update(message);
        h.update(next_access_key);
        h.finalize().into()
    }

    /// `SetRetention`: `u64 BE ttl_seconds`.
    pub fn set_retention(ttl_seconds: u64) -> [u8; 32] {
        Sha256::digest(ttl_seconds.to_be_bytes()).into()
    }

    /// `Read`: `u64 BE from_seq | u32 BE limit`.
    pub fn read(from_seq: u64, limit: u32) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(from_seq.to_be_bytes());
        h.update(limit.to_be_bytes());
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_transcript_layout() {
        let handle = Handle::parse("alice").unwrap();
        let t = owner_transcript(OwnerMethod::Fetch, &handle, &[7u8; 32], &body::fetch(10));
        let mut expected = b"parley/v1/owner-auth".to_vec();
        expected.push(5);
        expected.extend_from_slice(b"Fetch");
        expected.push(5);
        expected.extend_from_slice(b"alice");
        expected.extend_from_slice(&[7u8; 32]);
        expected.extend_from_slice(&Sha256::digest(10u32.to_be_bytes()));
        assert_eq!(t, expected);
    }

    #[test]
    fn group_transcript_layout() {
        let t = group_transcript(
            GroupMethod::Read,
            &[1u8; 32],
            4,
            5,
            &[9u8; 16],
            &body::read(6, 7),
        );
        let mut expected = b"parley/v1/group-auth".to_vec();
        expected.push(4);
        expected.extend_from_slice(b"Read");
        expected.extend_from_slice(&[1u8; 32]);
        expected.extend_from_slice(&4u64.to_be_bytes());
        expected.extend_from_slice(&5u64.to_be_bytes());
        expected.extend_from_slice(&[9u8; 16]);
        let mut read_body = 6u64.to_be_bytes().to_vec();
        read_body.extend_from_slice(&7u32.to_be_bytes());
        expected.extend_from_slice(&Sha256::digest(&read_body));
        assert_eq!(t, expected);
    }

    #[test]
    fn body_digests_match_encodings() {
        let kps = vec![b"kp1".to_vec(), b"kp22".to_vec()];
        let mut enc = 2u32.to_be_bytes().to_vec();
        enc.extend_from_slice(&3u32.to_be_bytes());
        enc.extend_from_slice(b"kp1");
        enc.extend_from_slice(&4u32.to_be_bytes());
        enc.extend_from_slice(b"kp22");
        enc.extend_from_slice(&2u32.to_be_bytes());
        enc.extend_from_slice(b"lr");
        assert_eq!(
            body::publish_key_packages(&kps, b"lr"),
            <[u8; 32]>::from(Sha256::digest(&enc))
        );

        let mut enc = 2u32.to_be_bytes().to_vec();
        enc.extend_from_slice(&1u64.to_be_bytes());
        enc.extend_from_slice(&2u64.to_be_bytes());
        assert_eq!(body::ack(&[1, 2]), <[u8; 32]>::from(Sha256::digest(&enc)));

        let mut enc = 3u32.to_be_bytes().to_vec();
        enc.extend_from_slice(b"msg");
        enc.extend_from_slice(&[5u8; 32]);
        assert_eq!(
            body::commit(b"msg", &[5u8; 32]),
            <[u8; 32]>::from(Sha256::digest(&enc))
        );
        assert_eq!(
            body::create(&[5u8; 32]),
            <[u8; 32]>::from(Sha256::digest([5u8; 32]))
        );
        assert_eq!(body::post(b"m"), <[u8; 32]>::from(Sha256::digest(b"m")));
        assert_eq!(body::empty(), <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[test]
    fn transcripts_separate_methods() {
        let handle = Handle::parse("alice").unwrap();
        let d = body::empty();
        let a = owner_transcript(OwnerMethod::Fetch, &handle, &[0; 32], &d);
        let b = owner_transcript(OwnerMethod::Ack, &handle, &[0; 32], &d);
        assert_ne!(a, b);
        let a = group_transcript(GroupMethod::Post, &[0; 32], 0, 0, &[0; 16], &d);
        let b = group_transcript(GroupMethod::Read, &[0; 32], 0, 0, &[0; 16], &d);
        assert_ne!(a, b);
    }
}

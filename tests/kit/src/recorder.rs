//! What the relay could link by connection: for every TCP connection a test relay accepted,
//! which handles (owner calls), which groups, and which anonymous calls its requests touched.
//!
//! Turned on with [`TestRelayBuilder::record_connections`](crate::TestRelayBuilder::record_connections);
//! the relay hands each request to the recorder (`parley_relay::observe`, keyed by the
//! client's address and port, which is one per open connection), and the recorder decodes
//! just enough of it to say whom or what it names.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use parley_proto::v1 as proto;
use parley_relay::observe::{ObservedRequest, RequestObserver};
use prost::Message;

/// What one request names, as far as linking goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Touch {
    /// A call only the owner of this handle may make, or its registration.
    Owner(String),
    /// A call on this group's log.
    Group([u8; 32]),
    /// An anonymous call about a handle: `Deposit`, `ClaimKeyPackage` or `Lookup`.
    Anonymous {
        /// The method's name.
        method: String,
        /// The handle it names.
        handle: String,
    },
    /// A call that names nobody (`Challenge`), or one the recorder does not know.
    Unnamed(String),
}

/// Every request of one connection, in arrival order.
#[derive(Clone, Debug)]
pub struct ConnectionLog {
    /// The client's address and port as the relay saw them.
    pub peer: SocketAddr,
    /// What each request named.
    pub touches: Vec<Touch>,
    /// Each request's method (`Read`, `Post`, `Deposit`...), in arrival order.
    pub methods: Vec<String>,
}

impl ConnectionLog {
    /// The handles whose owner calls came on this connection.
    pub fn owners(&self) -> BTreeSet<String> {
        self.touches
            .iter()
            .filter_map(|t| match t {
                Touch::Owner(handle) => Some(handle.clone()),
                _ => None,
            })
            .collect()
    }

    /// The groups this connection touched.
    pub fn groups(&self) -> BTreeSet<[u8; 32]> {
        self.touches
            .iter()
            .filter_map(|t| match t {
                Touch::Group(id) => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// The anonymous calls (deposits, claims, lookups) this connection carried.
    pub fn anonymous(&self) -> Vec<&Touch> {
        self.touches
            .iter()
            .filter(|t| matches!(t, Touch::Anonymous { .. }))
            .collect()
    }
}

/// Collects [`ConnectionLog`]s; shared by every run of a restarted relay.
#[derive(Debug, Default)]
pub struct ConnectionRecorder {
    connections: Mutex<BTreeMap<SocketAddr, ConnectionLog>>,
}

impl ConnectionRecorder {
    /// Every connection that carried a Parley request so far, by the client's address.
    pub fn connections(&self) -> Vec<ConnectionLog> {
        self.lock().values().cloned().collect()
    }

    /// Forgets what was recorded (to look at one phase of a test alone).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<SocketAddr, ConnectionLog>> {
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RequestObserver for ConnectionRecorder {
    fn observe(&self, request: ObservedRequest) {
        let Some(peer) = request.peer else {
            return;
        };
        let touches = touches(&request.path, message(&request.body));
        let method = request
            .path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut connections = self.lock();
        let log = connections.entry(peer).or_insert_with(|| ConnectionLog {
            peer,
            touches: Vec::new(),
            methods: Vec::new(),
        });
        log.touches.extend(touches);
        log.methods.push(method);
    }
}

/// The recorder a relay observes with.
pub(crate) fn observer(recorder: &Arc<ConnectionRecorder>) -> Arc<dyn RequestObserver> {
    recorder.clone()
}

/// The protobuf message of a one-message gRPC body (flag byte, u32 length, message).
fn message(body: &[u8]) -> &[u8] {
    body.get(5..).unwrap_or_default()
}

/// What the request to `path` with message `msg` names.
fn touches(path: &str, msg: &[u8]) -> Vec<Touch> {
    let method = path.rsplit('/').next().unwrap_or_default().to_owned();
    let owner = |handle: String| vec![Touch::Owner(handle)];
    let anonymous = |handle: String| {
        vec![Touch::Anonymous {
            method: method.clone(),
            handle,
        }]
    };
    let group = |id: &[u8]| match <[u8; 32]>::try_from(id) {
        Ok(id) => Touch::Group(id),
        Err(_) => Touch::Unnamed(format!("{method} with a malformed group id")),
    };
    let decoded = match path {
        "/parley.v1.Directory/Register" => proto::RegisterRequest::decode(msg)
            .ok()
            .and_then(|r| record_handle(&r.record))
            .map(owner),
        "/parley.v1.Directory/PublishKeyPackages" => proto::PublishKeyPackagesRequest::decode(msg)
            .ok()
            .map(|r| owner(r.handle)),
        "/parley.v1.Inbox/Fetch" => proto::FetchRequest::decode(msg)
            .ok()
            .map(|r| owner(r.handle)),
        "/parley.v1.Inbox/Ack" => proto::AckRequest::decode(msg).ok().map(|r| owner(r.handle)),
        "/parley.v1.Inbox/Subscribe" => proto::SubscribeInboxRequest::decode(msg)
            .ok()
            .map(|r| owner(r.handle)),
        "/parley.v1.Directory/Lookup" => proto::LookupRequest::decode(msg)
            .ok()
            .map(|r| anonymous(r.handle)),
        "/parley.v1.Directory/ClaimKeyPackage" => proto::ClaimKeyPackageRequest::decode(msg)
            .ok()
            .map(|r| anonymous(r.handle)),
        "/parley.v1.Inbox/Deposit" => proto::DepositRequest::decode(msg)
            .ok()
            .map(|r| anonymous(r.handle)),
        "/parley.v1.Groups/Create" => proto::CreateGroupRequest::decode(msg)
            .ok()
            .map(|r| vec![group(&r.group_id)]),
        "/parley.v1.Groups/Post" => proto::PostRequest::decode(msg)
            .ok()
            .map(|r| vec![group(&r.group_id)]),
        "/parley.v1.Groups/Commit" => proto::CommitRequest::decode(msg)
            .ok()
            .map(|r| vec![group(&r.group_id)]),
        "/parley.v1.Groups/Read" => proto::ReadRequest::decode(msg)
            .ok()
            .map(|r| vec![group(&r.group_id)]),
        "/parley.v1.Groups/Subscribe" => proto::SubscribeGroupsRequest::decode(msg)
            .ok()
            .map(|r| r.groups.iter().map(|g| group(&g.group_id)).collect()),
        _ => None,
    };
    decoded.unwrap_or_else(|| vec![Touch::Unnamed(method)])
}

/// The handle inside a directory record (`0x01 | u8 len | handle | ...`).
fn record_handle(record: &[u8]) -> Option<String> {
    let len = usize::from(*record.get(1)?);
    let handle = record.get(2..2 + len)?;
    String::from_utf8(handle.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(message: &impl Message) -> Vec<u8> {
        let bytes = message.encode_to_vec();
        let mut body = vec![0];
        body.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_be_bytes());
        body.extend_from_slice(&bytes);
        body
    }

    #[test]
    fn requests_are_classified_by_what_they_name() {
        let deposit = framed(&proto::DepositRequest {
            handle: "bob".into(),
            envelope: vec![1],
        });
        assert_eq!(
            touches("/parley.v1.Inbox/Deposit", message(&deposit)),
            vec![Touch::Anonymous {
                method: "Deposit".into(),
                handle: "bob".into()
            }]
        );
        let subscribe = framed(&proto::SubscribeGroupsRequest {
            groups: vec![
                proto::GroupSubscription {
                    group_id: vec![1; 32],
                    epoch: 0,
                    auth: None,
                },
                proto::GroupSubscription {
                    group_id: vec![2; 32],
                    epoch: 0,
                    auth: None,
                },
            ],
        });
        assert_eq!(
            touches("/parley.v1.Groups/Subscribe", message(&subscribe)),
            vec![Touch::Group([1; 32]), Touch::Group([2; 32])]
        );
        let register = framed(&proto::RegisterRequest {
            record: b"\x01\x05alice and the rest".to_vec(),
        });
        assert_eq!(
            touches("/parley.v1.Directory/Register", message(&register)),
            vec![Touch::Owner("alice".into())]
        );
        assert_eq!(
            touches("/parley.v1.Directory/Challenge", &[]),
            vec![Touch::Unnamed("Challenge".into())]
        );
    }
}

//! What the relay can link, read from its per-connection recorder: the rules of separate
//! channels for one connection, and what a run showed, counted.

use std::collections::BTreeSet;

use parley_testkit::{ConnectionLog, Touch};

/// The rules of separate channels for one connection.
pub(crate) fn check(conn: &ConnectionLog) {
    let owners = conn.owners();
    let groups = conn.groups();
    assert!(
        owners.len() <= 1,
        "one connection carried owner calls of {owners:?}: {conn:?}"
    );
    assert!(
        owners.is_empty() || groups.is_empty(),
        "one connection carried owner calls and a group: {conn:?}"
    );
    assert!(
        groups.len() <= 1,
        "one connection carried {} groups: {conn:?}",
        groups.len()
    );
    if !conn.anonymous().is_empty() {
        assert_eq!(
            conn.touches.len(),
            1,
            "an anonymous call shared its connection: {conn:?}"
        );
    }
}

/// What the relay saw, counted.
#[derive(Debug, Default)]
#[allow(dead_code)] // Read through Debug, in the test's output.
pub(crate) struct Summary {
    pub(crate) connections: usize,
    pub(crate) owner_connections: usize,
    pub(crate) group_connections: usize,
    pub(crate) anonymous_connections: usize,
    pub(crate) groups: usize,
    pub(crate) deposits: usize,
    pub(crate) claims: usize,
    pub(crate) lookups: usize,
}

impl Summary {
    pub(crate) fn of(connections: &[ConnectionLog]) -> Summary {
        let mut summary = Summary {
            connections: connections.len(),
            ..Summary::default()
        };
        let mut groups = BTreeSet::new();
        for conn in connections {
            if !conn.owners().is_empty() {
                summary.owner_connections += 1;
            }
            if !conn.groups().is_empty() {
                summary.group_connections += 1;
            }
            if !conn.anonymous().is_empty() {
                summary.anonymous_connections += 1;
            }
            groups.extend(conn.groups());
            for touch in &conn.touches {
                if let Touch::Anonymous { method, .. } = touch {
                    match method.as_str() {
                        "Deposit" => summary.deposits += 1,
                        "ClaimKeyPackage" => summary.claims += 1,
                        "Lookup" => summary.lookups += 1,
                        _ => {}
                    }
                }
            }
        }
        summary.groups = groups.len();
        summary
    }
}

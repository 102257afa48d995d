//! Brings a store written by an earlier version to the current layout when it is opened.
//!
//! Schema 1 kept conversations by local name (`conv`) with a group-id index (`gid`); a group
//! someone else created was named after its title alone, which let a group named like a
//! handle stand in for a 1:1. Schema 2 keeps them by group id, with who named it (the peer of
//! a 1:1): a group is renamed `inviter/title` unless we created it. Schema 1 did not keep the
//! inviter; the member in the group's first leaf, where Parley places the creator, stands in
//! for it; when that leaf is empty now, it is shown as `unknown/title`.

use parley_crypto::mls::Mls;
use serde::Deserialize;

use crate::api::error::{ClientError, StoreError};
use crate::state::naming::{sanitize_title, Names};
use crate::state::store::records::{Conversation, StoredKind};
use crate::state::store::{Key, Prefix, Store, StoreBatch};
use crate::state::Session;

/// The layout this version writes.
const SCHEMA: u64 = 2;

/// A conversation as schema 1 stored it.
#[derive(Deserialize)]
struct LegacyConversation {
    name: String,
    title: String,
    group_id: [u8; 32],
    kind: StoredKind,
    active: bool,
}

/// Migrates the store to the current schema if needed, in one batch.
pub(crate) async fn run(store: &Store, session: &Session) -> Result<(), ClientError> {
    if store.get_u64(Key::Schema)? >= SCHEMA {
        return Ok(());
    }
    let legacy: Vec<LegacyConversation> = store.scan(Prefix::LegacyConversations)?;
    let mut names = Names::new(&session.handle, store.scan(Prefix::Conversations)?);
    let mut batch = StoreBatch::default();
    for old in legacy {
        let record = convert(&old, &session.mls, &session.handle, &names);
        batch.remove(Key::LegacyConversation(&old.name));
        batch.remove(Key::LegacyGroupName(&old.group_id));
        batch.put(Key::Conversation(&record.group_id), &record)?;
        names.add(record);
    }
    // A commit left unfinished by a crash may carry the conversation it creates (ours: a new
    // group or 1:1) in the old shape.
    let pending: Vec<serde_json::Value> = store.scan(Prefix::PendingCommits)?;
    for mut commit in pending {
        let Some(slot) = commit.get_mut("conversation") else {
            continue;
        };
        let Ok(Some(old)) = serde_json::from_value::<Option<LegacyConversation>>(slot.clone())
        else {
            continue;
        };
        let record = own_new_conversation(&old, &session.handle);
        *slot = serde_json::to_value(&record).map_err(|_| StoreError::Corrupt("pending commit"))?;
        batch.put(Key::PendingCommit(&old.group_id), &commit)?;
    }
    batch.put_u64(Key::Schema, SCHEMA);
    store.apply(batch).await?;
    Ok(())
}

fn convert(
    old: &LegacyConversation,
    mls: &Mls,
    me: &parley_crypto::handle::Handle,
    names: &Names<'_>,
) -> Conversation {
    let members = mls.members(&old.group_id).unwrap_or_default();
    match old.kind {
        StoredKind::Direct => {
            let retired = old.name.ends_with("(old key)");
            let peer = members
                .iter()
                .find(|m| m.handle != *me)
                .map(|m| m.handle.to_string())
                .unwrap_or_else(|| old.name.split(" (").next().unwrap_or(&old.name).to_owned());
            Conversation {
                group_id: old.group_id,
                kind: StoredKind::Direct,
                named_by: peer.clone(),
                peer: Some(peer.clone()),
                title: old.title.clone(),
                name: if retired { old.name.clone() } else { peer },
                active: old.active && !retired,
                retired,
                close_pending: false,
            }
        }
        StoredKind::Group => {
            let named_by = mls
                .founder(&old.group_id)
                .ok()
                .flatten()
                .map_or_else(|| "unknown".to_owned(), |m| m.handle.to_string());
            let title = sanitize_title(&old.title);
            let name = if named_by == me.as_str() {
                title.clone()
            } else {
                names.unique(&format!("{named_by}/{title}"))
            };
            Conversation {
                group_id: old.group_id,
                kind: StoredKind::Group,
                named_by,
                peer: None,
                title,
                name,
                active: old.active,
                retired: false,
                close_pending: false,
            }
        }
    }
}

/// A conversation we were creating when an older version stopped.
fn own_new_conversation(
    old: &LegacyConversation,
    me: &parley_crypto::handle::Handle,
) -> Conversation {
    let direct = old.kind == StoredKind::Direct;
    Conversation {
        group_id: old.group_id,
        kind: old.kind,
        named_by: me.to_string(),
        peer: direct.then(|| old.name.clone()),
        title: old.title.clone(),
        name: old.name.clone(),
        active: true,
        retired: false,
        close_pending: false,
    }
}

#[cfg(test)]
mod tests {
    use parley_crypto::handle::Handle;
    use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
    use parley_crypto::vault::{KdfParams, Passphrase};
    use rand::rngs::OsRng;
    use serde::Serialize;

    use super::*;
    use parley_crypto::retention::Retention;

    /// A schema 1 conversation record, as that version wrote it.
    #[derive(Serialize)]
    struct Written {
        name: String,
        title: String,
        group_id: [u8; 32],
        kind: StoredKind,
        active: bool,
    }

    fn session(handle: &str) -> Session {
        let identity = IdentitySecretKey::generate(&mut OsRng);
        let handle = Handle::parse(handle).unwrap();
        let mls = Mls::new(handle.clone(), &identity, Vec::new()).unwrap();
        Session {
            handle,
            identity,
            inbox: InboxSecretKey::generate(&mut OsRng),
            previous: None,
            mls,
        }
    }

    fn legacy(name: &str, title: &str, id: u8, kind: StoredKind) -> Written {
        Written {
            name: name.to_owned(),
            title: title.to_owned(),
            group_id: [id; 32],
            kind,
            active: true,
        }
    }

    #[tokio::test]
    async fn schema_1_conversations_get_ids_inviters_and_safe_names() {
        let dir = tempfile::tempdir().unwrap();
        let passphrase = Passphrase::new("migration test".to_owned());
        let store = Store::open(dir.path(), &passphrase, KdfParams::insecure_for_tests())
            .unwrap_or_else(|_| panic!("store"));
        let mut me = session("alice");
        // Our own group has its MLS state (we are its first leaf); the others have none.
        me.mls.create_group([1; 32], Retention::Off).unwrap();
        let written = [
            legacy("buyers", "buyers", 1, StoredKind::Group),
            legacy("dave", "dave", 2, StoredKind::Group),
            legacy("bob", "alice", 3, StoredKind::Direct),
            legacy("bob (old key)", "alice", 4, StoredKind::Direct),
        ];
        let mut batch = StoreBatch::default();
        for (key, value) in me.mls.take_changes() {
            if let Some(value) = value {
                batch.put_raw(Key::Mls(&key), &value);
            }
        }
        for record in &written {
            batch
                .put(Key::LegacyConversation(&record.name), record)
                .unwrap();
            batch
                .put(Key::LegacyGroupName(&record.group_id), &record.name)
                .unwrap();
        }
        store.apply(batch).await.unwrap();

        run(&store, &me).await.unwrap();
        let mut records: Vec<Conversation> = store.scan(Prefix::Conversations).unwrap();
        records.sort_by_key(|r| r.group_id);
        let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
        // A group named after a handle by someone else can no longer pass for a 1:1.
        assert_eq!(names, ["buyers", "unknown/dave", "bob", "bob (old key)"]);
        assert_eq!(records[0].named_by, "alice");
        assert_eq!(records[2].peer.as_deref(), Some("bob"));
        assert!(records[3].retired && !records[3].active);
        let old: Vec<serde_json::Value> = store.scan(Prefix::LegacyConversations).unwrap();
        assert!(old.is_empty(), "the old records are gone");
        assert!(!store.contains(Key::LegacyGroupName(&[2; 32])).unwrap());

        // Running again changes nothing.
        run(&store, &me).await.unwrap();
        let again: Vec<Conversation> = store.scan(Prefix::Conversations).unwrap();
        assert_eq!(again.len(), 4);
    }
}

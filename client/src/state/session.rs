//! Our identity as the store keeps it: the settings written at registration, and loading the
//! secret keys and MLS state saved by earlier runs.

use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::mls::Mls;
use zeroize::Zeroizing;

use crate::api::error::{ClientError, StoreError};
use crate::api::fingerprint::Fingerprint;
use crate::api::relay_url::RelayUrl;
use crate::api::trust::WhoAmI;
use crate::state::store::records::Settings;
use crate::state::store::{mls_record, Key, Prefix, Store};
use crate::state::{PreviousKeys, Session};

/// What `register` saved, if anything.
pub(crate) fn settings(store: &Store) -> Result<Option<Settings>, ClientError> {
    Ok(store.get(Key::Settings)?)
}

/// Our handle, identity key and relay.
pub(crate) fn whoami(store: &Store) -> Result<WhoAmI, ClientError> {
    let settings = settings(store)?.ok_or(ClientError::NotInitialized)?;
    let corrupt = |what| StoreError::Corrupt(what);
    Ok(WhoAmI {
        handle: Handle::parse(&settings.handle).map_err(|_| corrupt("handle"))?,
        identity_key: settings.identity_key,
        relay_url: RelayUrl::parse(&settings.relay_url).map_err(|_| corrupt("relay url"))?,
        relay_fingerprint: settings
            .relay_fingerprint
            .as_deref()
            .map(Fingerprint::parse)
            .transpose()
            .map_err(|_| corrupt("relay fingerprint"))?,
    })
}

/// Loads the identity and the MLS state saved by earlier runs.
pub(crate) fn load_session(store: &Store, settings: &Settings) -> Result<Session, ClientError> {
    let handle = Handle::parse(&settings.handle).map_err(|_| StoreError::Corrupt("handle"))?;
    let secrets = store
        .get_raw(Key::Identity)?
        .ok_or(StoreError::Corrupt("identity missing"))?;
    if secrets.len() != 64 {
        return Err(StoreError::Corrupt("identity").into());
    }
    let mut identity_bytes = Zeroizing::new([0u8; 32]);
    identity_bytes.copy_from_slice(&secrets[..32]);
    let mut inbox_bytes = Zeroizing::new([0u8; 32]);
    inbox_bytes.copy_from_slice(&secrets[32..]);
    let identity = IdentitySecretKey::from_bytes(&identity_bytes);
    let inbox = InboxSecretKey::from_bytes(*inbox_bytes);
    if hex::encode(identity.public_key().to_bytes()) != settings.identity_key {
        return Err(StoreError::Corrupt("identity does not match settings").into());
    }
    let state = store
        .scan_raw(Prefix::Mls)?
        .into_iter()
        .map(|(key, record)| {
            let mut json = mls_record::to_json(&record)
                .map_err(|_| StoreError::Corrupt("an MLS record does not read"))?;
            // OpenMLS's storage takes plain vectors: the text is moved there, not copied again.
            Ok((key, std::mem::take(&mut *json)))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut mls = Mls::new(handle.clone(), &identity, state)?;
    let previous = previous_keys(store)?;
    if let Some(previous) = &previous {
        mls = mls.with_previous_identity(&previous.identity);
    }
    Ok(Session {
        handle,
        identity,
        inbox,
        previous,
        mls,
    })
}

/// The keys our last rotation replaced, if still kept:
/// `identity secret[32] | inbox secret[32] | u64 BE until_ms`.
fn previous_keys(store: &Store) -> Result<Option<PreviousKeys>, ClientError> {
    let Some(bytes) = store.get_raw(Key::PreviousIdentity)? else {
        return Ok(None);
    };
    let corrupt = || StoreError::Corrupt("previous identity");
    let (identity, rest) = bytes.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let (inbox, rest) = rest.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let until: [u8; 8] = rest.try_into().map_err(|_| corrupt())?;
    Ok(Some(PreviousKeys {
        identity: IdentitySecretKey::from_bytes(identity),
        inbox: InboxSecretKey::from_bytes(*inbox),
        until_ms: u64::from_be_bytes(until),
    }))
}

/// `previous` as [`previous_keys`] reads it back.
pub(crate) fn encode_previous_keys(previous: &PreviousKeys) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(72));
    bytes.extend_from_slice(&previous.identity.to_bytes()[..]);
    bytes.extend_from_slice(&previous.inbox.to_bytes()[..]);
    bytes.extend_from_slice(&previous.until_ms.to_be_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use parley_crypto::retention::Retention;
    use parley_crypto::vault::{KdfParams, Passphrase};

    use super::*;
    use crate::state::store::StoreBatch;

    const GROUP: [u8; 32] = [7; 32];

    /// A store holding a group of ours that has sent messages, its MLS records written as
    /// this version writes them (`packed`) or as OpenMLS's JSON, as versions before
    /// packing did; with the JSON of each record as OpenMLS gave it.
    async fn store_with_group(
        dir: &std::path::Path,
        packed: bool,
    ) -> (Store, Settings, HashMap<Vec<u8>, Vec<u8>>) {
        let store = Store::open(
            dir,
            &Passphrase::new("session test".to_owned()),
            KdfParams::insecure_for_tests(),
        )
        .unwrap_or_else(|_| panic!("store"));
        let identity = IdentitySecretKey::from_bytes(&[9; 32]);
        let inbox = InboxSecretKey::from_bytes([8; 32]);
        let handle = Handle::parse("alice").unwrap();
        let mut mls = Mls::new(handle.clone(), &identity, Vec::new()).unwrap();
        mls.create_group(GROUP, Retention::Off).unwrap();
        for _ in 0..3 {
            mls.encrypt(&GROUP, b"a message moves the ratchet").unwrap();
        }
        let settings = Settings {
            handle: handle.to_string(),
            identity_key: hex::encode(identity.public_key().to_bytes()),
            relay_url: "https://127.0.0.1:7443".to_owned(),
            relay_fingerprint: None,
            last_resort_published: false,
            proxy: None,
            key_packages_rotated_at_ms: None,
        };
        let mut batch = StoreBatch::default();
        let mut secrets = identity.to_bytes().to_vec();
        secrets.extend_from_slice(&inbox.to_bytes()[..]);
        batch.put_raw(Key::Identity, &secrets);
        batch.put(Key::Settings, &settings).unwrap();
        let mut given = HashMap::new();
        for (key, value) in mls.take_changes() {
            let value = value.unwrap();
            if packed {
                batch.put_mls(Key::Mls(&key), &value);
            } else {
                batch.put_raw(Key::Mls(&key), &value);
            }
            given.insert(key, value);
        }
        store.apply(batch).await.unwrap();
        (store, settings, given)
    }

    #[tokio::test]
    async fn mls_state_reads_back_from_packed_records_and_from_older_json_ones() {
        let mut sizes = Vec::new();
        for packed in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let (store, settings, given) = store_with_group(dir.path(), packed).await;
            let records = store.scan_raw(Prefix::Mls).unwrap();
            assert_eq!(records.len(), given.len());
            for (key, record) in &records {
                assert_eq!(record.first() == Some(&mls_record::FORMAT), packed);
                let text = mls_record::to_json(record).unwrap();
                assert_eq!(*text, given[key], "record read back differently");
            }
            sizes.push(records.iter().map(|(_, r)| r.len()).sum::<usize>());

            let mut loaded = load_session(&store, &settings).unwrap_or_else(|_| panic!("load"));
            assert_eq!(loaded.mls.epoch(&GROUP).unwrap(), 0);
            assert_eq!(loaded.mls.members(&GROUP).unwrap().len(), 1);
            loaded.mls.encrypt(&GROUP, b"after a restart").unwrap();
        }
        // Byte arrays as bytes: 0.62 of the JSON for this group of one (the ratchets of
        // larger groups, mostly bytes, shrink more).
        assert!(
            sizes[0] * 10 < sizes[1] * 7,
            "packed {} against JSON {} bytes",
            sizes[0],
            sizes[1]
        );
    }

    #[tokio::test]
    async fn a_damaged_packed_record_is_a_corrupt_store_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let (store, settings, given) = store_with_group(dir.path(), true).await;
        let key = given.keys().next().unwrap();
        let mut batch = StoreBatch::default();
        // A packed array of one byte, which packing never writes.
        batch.put_raw(Key::Mls(key), &[mls_record::FORMAT, 0, 1, 7]);
        store.apply(batch).await.unwrap();
        match load_session(&store, &settings) {
            Err(ClientError::Store(StoreError::Corrupt(what))) => {
                assert_eq!(what, "an MLS record does not read")
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("a damaged record loaded"),
        }
    }
}

//! Our own signed directory record, which every sealed delivery carries so that its
//! recipient can check us without a directory lookup that would name us to the relay.

use parley_crypto::directory::DirectoryRecord;

use crate::api::error::{ClientError, CryptoError};
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;

/// Our record as registered; stores made before it was kept get one signed now (the same
/// handle and keys, so recipients see the identity the directory shows).
pub(crate) async fn own_record(ctx: &mut Ctx<'_>) -> Result<Vec<u8>, ClientError> {
    if let Some(kept) = ctx.store.get_raw(Key::OwnRecord)? {
        return Ok(kept.to_vec());
    }
    let session = &ctx.session;
    let signed = DirectoryRecord {
        handle: session.handle.clone(),
        identity_key: session.identity.public_key(),
        inbox_key: session.inbox.public_key(),
        record_version: 1,
        created_at_ms: ctx.now_ms(),
    }
    .sign(&session.identity)
    .map_err(CryptoError::from)?;
    let bytes = signed.to_bytes();
    let mut batch = StoreBatch::default();
    batch.put_raw(Key::OwnRecord, &bytes);
    ctx.store.apply(batch).await?;
    Ok(bytes)
}

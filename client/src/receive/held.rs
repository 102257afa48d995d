//! Deliveries held while their sender's key is CHANGED.
//!
//! A contact who lost their laptop and registered again writes with a new key, which the
//! pinned one cannot authenticate. Refusing the delivery would leave their new 1:1 alive on
//! their side and unknown on ours, so they would write into a conversation nobody reads.
//! Instead it is held, still sealed, until the user accepts or verifies the new key, and then
//! processed as if it had just arrived (see `receive::inbox::release_held`). A few per sender
//! are kept; more are refused.

use parley_crypto::handle::Handle;

use crate::api::error::{ClientError, StoreError};
use crate::state::store::records::HeldDelivery;
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

/// Deliveries held per sender; a flood beyond them is refused like any bad delivery.
const MAX_HELD_PER_SENDER: usize = 8;

/// Holds a sealed delivery from `sender` (whose key is CHANGED) and marks it processed.
/// Refused with KeyChanged when the sender already has as many held as allowed.
pub(crate) async fn hold_delivery(
    ctx: &mut Ctx<'_>,
    sender: &Handle,
    sealed: &[u8],
    hash: &[u8; 32],
) -> Result<(), ClientError> {
    let held = held(ctx)?;
    if held
        .iter()
        .filter(|(_, h)| h.sender == sender.as_str())
        .count()
        >= MAX_HELD_PER_SENDER
    {
        return Err(ClientError::KeyChanged(sender.clone()));
    }
    let mut batch = StoreBatch::default();
    batch.put(
        Key::Held(ctx.store.next_index(Prefix::Held)?),
        &HeldDelivery {
            sender: sender.to_string(),
            at_ms: ctx.now_ms(),
            envelope: hex::encode(sealed),
        },
    )?;
    batch.mark_seen(hash);
    ctx.store.apply(batch).await?;
    Ok(())
}

/// Every held delivery, by position, in arrival order.
pub(crate) fn held(ctx: &Ctx<'_>) -> Result<Vec<(u64, HeldDelivery)>, StoreError> {
    ctx.store.scan_positioned(Prefix::Held)
}

/// The sealed envelope of a held delivery.
pub(crate) fn envelope(held: &HeldDelivery) -> Result<Vec<u8>, StoreError> {
    hex::decode(&held.envelope).map_err(|_| StoreError::Corrupt("held delivery"))
}

/// Forgets a held delivery once it was processed.
pub(crate) async fn remove(ctx: &Ctx<'_>, position: u64) -> Result<(), ClientError> {
    let mut batch = StoreBatch::default();
    batch.remove(Key::Held(position));
    ctx.store.apply(batch).await?;
    Ok(())
}

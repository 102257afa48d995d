//! Deliveries held while their sender's key is CHANGED.
//!
//! A contact who lost their laptop and registered again writes with a new key, which the
//! pinned one cannot authenticate. Refusing the delivery would leave their new 1:1 alive on
//! their side and unknown on ours, so they would write into a conversation nobody reads.
//! Instead it is held, still sealed, until the user accepts or verifies the new key, and then
//! processed as if it had just arrived. A few per sender are kept; more are refused.

use parley_crypto::handle::Handle;

use crate::client::Ctx;
use crate::error::ClientError;
use crate::store::records::HeldDelivery;
use crate::store::{Key, Prefix, StoreBatch, StoreError};

/// Deliveries held per sender; a flood beyond them is refused like any bad delivery.
const MAX_HELD_PER_SENDER: usize = 8;

impl Ctx<'_> {
    /// Holds a sealed delivery from `sender` (whose key is CHANGED) and marks it processed.
    /// Refused with KeyChanged when the sender already has as many held as allowed.
    pub(crate) async fn hold_delivery(
        &mut self,
        sender: &Handle,
        sealed: &[u8],
        hash: &[u8; 32],
    ) -> Result<(), ClientError> {
        let held = self.held()?;
        if held
            .iter()
            .filter(|(_, h)| h.sender == sender.as_str())
            .count()
            >= MAX_HELD_PER_SENDER
        {
            return Err(ClientError::KeyChanged(sender.to_string()));
        }
        let mut batch = StoreBatch::default();
        batch.put(
            Key::Held(self.store.next_index(Prefix::Held)?),
            &HeldDelivery {
                sender: sender.to_string(),
                at_ms: crate::clock::now_ms(),
                envelope: hex::encode(sealed),
            },
        )?;
        batch.mark_seen(hash);
        self.store.apply(batch).await?;
        Ok(())
    }

    /// Processes what `sender` sent while their key was CHANGED, now that the user decided.
    /// A delivery that still fails is refused (alert and quarantine) as on arrival; one that
    /// fails for a transient reason stays held.
    pub(crate) async fn release_held(&mut self, sender: &Handle) -> Result<(), ClientError> {
        for (position, held) in self.held()? {
            if held.sender != sender.as_str() {
                continue;
            }
            let sealed =
                hex::decode(&held.envelope).map_err(|_| StoreError::Corrupt("held delivery"))?;
            self.process_delivery(&sealed).await?;
            let mut batch = StoreBatch::default();
            batch.remove(Key::Held(position));
            self.store.apply(batch).await?;
        }
        Ok(())
    }

    /// Releases what is held from every sender the user decided about since (retried by each
    /// sync, for a release the relay's absence interrupted).
    pub(crate) async fn release_decided(&mut self) -> Result<(), ClientError> {
        let mut senders: Vec<String> = self.held()?.into_iter().map(|(_, h)| h.sender).collect();
        senders.dedup();
        for sender in senders {
            let Ok(handle) = Handle::parse(&sender) else {
                continue;
            };
            if self.pinned(&handle)?.is_some_and(|c| c.changed.is_none()) {
                self.release_held(&handle).await?;
            }
        }
        Ok(())
    }

    fn held(&self) -> Result<Vec<(u64, HeldDelivery)>, StoreError> {
        self.store.scan_positioned(Prefix::Held)
    }
}

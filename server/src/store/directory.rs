//! Directory records: handle -> signed record bytes, first come first served.

use parley_crypto::handle::Handle;

use super::{Store, StoreError};

/// Outcome of registering a handle.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Registration {
    /// The record is stored durably.
    Created,
    /// Another record already holds the handle; nothing was written.
    Taken,
}

impl Store {
    /// Stores `record` for `handle` unless the handle is taken.
    pub(crate) async fn register(
        &self,
        handle: &Handle,
        record: &[u8],
    ) -> Result<Registration, StoreError> {
        self.admit_new_data()?;
        let swapped = self.directory.compare_and_swap(
            handle.as_str().as_bytes(),
            None::<&[u8]>,
            Some(record),
        )?;
        match swapped {
            Ok(()) => {
                self.persist().await?;
                Ok(Registration::Created)
            }
            Err(_) => Ok(Registration::Taken),
        }
    }

    /// The record registered for `handle`, as registered.
    pub(crate) fn lookup(&self, handle: &Handle) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .directory
            .get(handle.as_str().as_bytes())?
            .map(|v| v.to_vec()))
    }
}

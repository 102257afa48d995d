//! Members who asked to leave a group and whom no commit has removed yet, by group: kept
//! so that an admin's client removes them even if it reads the request long before it can
//! commit, or is made an admin later; forgotten once a commit removes them (were they added
//! back, an old request must not take them out again).

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;

use super::store::{Key, StoreBatch};
use super::Ctx;
use crate::api::error::ClientError;

impl Ctx<'_> {
    /// The handles that asked to leave `gid`, oldest first.
    pub(crate) fn leave_requests(&self, gid: &GroupId) -> Result<Vec<String>, ClientError> {
        Ok(self.store.get(Key::LeaveRequests(gid))?.unwrap_or_default())
    }

    /// Records that `member` asked to leave `gid`.
    pub(crate) fn stage_leave_request(
        &self,
        batch: &mut StoreBatch,
        gid: &GroupId,
        member: &Handle,
    ) -> Result<(), ClientError> {
        let mut requests = self.leave_requests(gid)?;
        if !requests.iter().any(|h| h == member.as_str()) {
            requests.push(member.to_string());
        }
        batch.put(Key::LeaveRequests(gid), &requests)?;
        Ok(())
    }

    /// Forgets the requests of `removed` (a commit just removed them from `gid`), or all of
    /// them if `removed` is `None`.
    pub(crate) fn stage_forget_leave_requests(
        &self,
        batch: &mut StoreBatch,
        gid: &GroupId,
        removed: Option<&[String]>,
    ) -> Result<(), ClientError> {
        let requests = self.leave_requests(gid)?;
        if requests.is_empty() {
            return Ok(());
        }
        let left: Vec<String> = match removed {
            Some(removed) => requests
                .into_iter()
                .filter(|h| !removed.contains(h))
                .collect(),
            None => Vec::new(),
        };
        if left.is_empty() {
            batch.remove(Key::LeaveRequests(gid));
        } else {
            batch.put(Key::LeaveRequests(gid), &left)?;
        }
        Ok(())
    }
}

//! Per-inbox storage quota.

/// How much one inbox may hold before deposits are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InboxQuota {
    /// Pending deliveries.
    pub(crate) max_messages: u64,
    /// Pending envelope bytes.
    pub(crate) max_bytes: u64,
}

/// Which part of an [`InboxQuota`] a deposit would exceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QuotaExceeded {
    /// The inbox holds `max_messages` pending deliveries.
    Messages,
    /// The envelope would take the inbox past `max_bytes`.
    Bytes,
}

impl InboxQuota {
    /// Whether an inbox holding `pending` deliveries of `pending_bytes` may take `incoming`
    /// more bytes.
    pub(crate) fn admits(
        &self,
        pending: u64,
        pending_bytes: u64,
        incoming: u64,
    ) -> Result<(), QuotaExceeded> {
        if pending >= self.max_messages {
            return Err(QuotaExceeded::Messages);
        }
        if pending_bytes.saturating_add(incoming) > self.max_bytes {
            return Err(QuotaExceeded::Bytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bounds_apply() {
        let quota = InboxQuota {
            max_messages: 2,
            max_bytes: 100,
        };
        assert_eq!(quota.admits(0, 0, 100), Ok(()));
        assert_eq!(quota.admits(0, 1, 100), Err(QuotaExceeded::Bytes));
        assert_eq!(quota.admits(2, 0, 1), Err(QuotaExceeded::Messages));
    }
}

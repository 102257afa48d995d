//! What the relay accepts: request field bounds, operator-set limits and the rate limiters
//! that enforce them.

mod bucket_clock;
mod config;
mod fields;
mod invalid;
mod quota;
mod rate;
mod shares;

pub use config::LimitsConfig;
pub(crate) use fields::*;
pub use invalid::InvalidLimit;
pub(crate) use quota::{InboxQuota, QuotaExceeded};
pub(crate) use rate::{source_of, KeyedLimiter, SourceLimiter};
pub(crate) use shares::{forget_one, ShareSlot, SourceShares};

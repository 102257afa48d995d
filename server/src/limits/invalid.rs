//! Why a [`LimitsConfig`](super::LimitsConfig) was refused.

/// A `[limits]` value that is unusable: the field at fault and a message for the operator.
///
/// The field is carried apart from the message so that callers attribute the error (for
/// example to the configuration layer that set the field) without parsing the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidLimit {
    /// The field of `[limits]` at fault, as written in the configuration file.
    pub field: &'static str,
    /// What is wrong, naming the field (`limits.<field> must be ...`).
    message: String,
}

impl InvalidLimit {
    /// The error of `field`, with its message.
    pub(super) fn new(field: &'static str, message: String) -> Self {
        InvalidLimit { field, message }
    }
}

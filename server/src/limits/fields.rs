//! Maximum sizes of every request field, as documented in `proto/parley/v1/*.proto`.
//!
//! Services check these before anything else, so malformed input never reaches storage or
//! signature verification, and the error names the offending field.

use parley_crypto::handle::Handle;
use parley_crypto::padding;

/// Signed directory record.
pub(crate) const MAX_RECORD_LEN: usize = parley_crypto::directory::MAX_RECORD_LEN;
/// Sealed envelope and group log message.
pub(crate) const MAX_MESSAGE_LEN: usize = 1 << 20;
/// One-time KeyPackages per publish.
pub(crate) const MAX_KEY_PACKAGES_PER_PUBLISH: usize = 100;
/// One KeyPackage.
pub(crate) const MAX_KEY_PACKAGE_LEN: usize = 16 * 1024;
/// One-time KeyPackages held per handle.
pub(crate) const MAX_KEY_PACKAGES_HELD: usize = 1000;
/// Ids per Ack and deliveries/entries per Fetch/Read.
pub(crate) const MAX_BATCH: usize = 500;
/// Deliveries/entries per Fetch/Read when the request says 0.
pub(crate) const DEFAULT_BATCH: usize = 100;
/// Payload bytes per Fetch/Read response, so a page stays under tonic's default 4 MiB
/// decoding limit on the client; a page holds at least one item whatever its size.
pub(crate) const MAX_RESPONSE_PAYLOAD: usize = 3 << 20;
/// Groups per Subscribe.
pub(crate) const MAX_SUBSCRIPTIONS: usize = 256;
/// Ed25519/X25519 keys and group ids.
pub(crate) const ID_LEN: usize = 32;
/// Ed25519 signatures.
pub(crate) const SIGNATURE_LEN: usize = 64;

/// A request field outside its documented bounds.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {problem}")]
pub(crate) struct InvalidField {
    field: String,
    problem: String,
}

impl InvalidField {
    pub(crate) fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        InvalidField {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl From<InvalidField> for tonic::Status {
    fn from(error: InvalidField) -> Self {
        tonic::Status::invalid_argument(error.to_string())
    }
}

/// A handle with valid syntax.
pub(crate) fn handle(field: &str, value: &str) -> Result<Handle, InvalidField> {
    Handle::parse(value)
        .map_err(|_| InvalidField::new(field, "must match [a-z0-9][a-z0-9._-]{2,31}"))
}

/// Exactly `N` bytes.
pub(crate) fn exact<const N: usize>(field: &str, value: &[u8]) -> Result<[u8; N], InvalidField> {
    <[u8; N]>::try_from(value).map_err(|_| {
        InvalidField::new(
            field,
            format!("must be exactly {N} bytes, got {}", value.len()),
        )
    })
}

/// Between `min` and `max` bytes inclusive.
pub(crate) fn sized(field: &str, value: &[u8], min: usize, max: usize) -> Result<(), InvalidField> {
    if (min..=max).contains(&value.len()) {
        Ok(())
    } else {
        Err(InvalidField::new(
            field,
            format!("must be {min} to {max} bytes, got {}", value.len()),
        ))
    }
}

/// Exactly one padding bucket long, and at most `max` bytes: a ciphertext the relay stores
/// may tell its size bucket and nothing finer, so a client that forgot to pad is refused
/// rather than stored.
pub(crate) fn padded(field: &str, value: &[u8], max: usize) -> Result<(), InvalidField> {
    if value.len() <= max && padding::is_bucket(value.len()) {
        Ok(())
    } else {
        Err(InvalidField::new(
            field,
            format!(
                "must be exactly a padding bucket (256, 512, ... 65536 bytes, then multiples \
                 of 65536) of at most {max} bytes, got {}",
                value.len()
            ),
        ))
    }
}

/// A conversation's agreed retention in seconds: 0 (none) or within the bounds clients
/// use (`parley_crypto::retention`).
pub(crate) fn retention_secs(field: &str, value: u64) -> Result<u64, InvalidField> {
    match parley_crypto::retention::Retention::from_secs(value) {
        Ok(_) => Ok(value),
        Err(_) => Err(InvalidField::new(
            field,
            "must be 0 or between 60 and 316224000 (ten years)",
        )),
    }
}

/// A present sub-message.
pub(crate) fn present<'a, T>(field: &str, value: Option<&'a T>) -> Result<&'a T, InvalidField> {
    value.ok_or_else(|| InvalidField::new(field, "is required"))
}

/// A page size: 0 means [`DEFAULT_BATCH`], otherwise 1 to [`MAX_BATCH`].
pub(crate) fn batch_limit(field: &str, value: u32) -> Result<usize, InvalidField> {
    match usize::try_from(value) {
        Ok(0) => Ok(DEFAULT_BATCH),
        Ok(n) if n <= MAX_BATCH => Ok(n),
        _ => Err(InvalidField::new(
            field,
            format!("must be 0 (default {DEFAULT_BATCH}) to {MAX_BATCH}, got {value}"),
        )),
    }
}

/// Between `min` and `max` items inclusive.
pub(crate) fn count(field: &str, len: usize, min: usize, max: usize) -> Result<(), InvalidField> {
    if (min..=max).contains(&len) {
        Ok(())
    } else {
        Err(InvalidField::new(
            field,
            format!("must hold {min} to {max} items, got {len}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field() {
        let err = exact::<32>("group_id", &[0; 31]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "group_id: must be exactly 32 bytes, got 31"
        );
        let err = sized("envelope", &[], 1, MAX_MESSAGE_LEN).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("envelope: must be 1 to 1048576 bytes"));
        assert!(handle("handle", "A")
            .unwrap_err()
            .to_string()
            .starts_with("handle:"));
    }

    #[test]
    fn only_buckets_are_padded_sizes() {
        for len in [256, 512, 16_384, 65_536, 131_072, MAX_MESSAGE_LEN] {
            assert!(
                padded("message", &vec![0; len], MAX_MESSAGE_LEN).is_ok(),
                "{len}"
            );
        }
        for len in [0, 1, 255, 300, 513, 65_537, MAX_MESSAGE_LEN + 65_536] {
            let err = padded("message", &vec![0; len], MAX_MESSAGE_LEN).unwrap_err();
            assert!(err
                .to_string()
                .starts_with("message: must be exactly a padding bucket"));
        }
        assert!(padded("key_packages[0]", &[0; 32_768], MAX_KEY_PACKAGE_LEN).is_err());
    }

    #[test]
    fn batch_limits() {
        assert_eq!(batch_limit("limit", 0).unwrap(), DEFAULT_BATCH);
        assert_eq!(batch_limit("limit", 500).unwrap(), 500);
        assert!(batch_limit("limit", 501).is_err());
        assert!(count("ids", 0, 1, MAX_BATCH).is_err());
    }
}

//! Length padding, so that the relay (and anyone watching it) learns only a coarse size
//! bucket instead of message lengths.
//!
//! Buckets are 256, 512, ..., 65536 (powers of two), then multiples of 65536, up to 1 MiB.
//! A padded frame is `u32 BE content_len | content | zero bytes`.

/// Largest padded size (and largest bucket): 1 MiB.
pub const MAX_PADDED_LEN: usize = 1 << 20;
/// Smallest bucket.
pub const MIN_BUCKET: usize = 256;
/// Above this size, buckets grow linearly in steps of this size instead of doubling.
pub const LINEAR_STEP: usize = 1 << 16;
/// Length of the content length prefix.
const LEN_PREFIX: usize = 4;

/// Why padding or unpadding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaddingError {
    /// The padded result would exceed `MAX_PADDED_LEN`.
    #[error("content too large to pad (limit {MAX_PADDED_LEN} bytes)")]
    TooLarge,
    /// The frame is shorter than the 4-byte length prefix.
    #[error("padded frame too short")]
    Truncated,
    /// The frame's total length is not a bucket size.
    #[error("padded frame length {0} is not a bucket size")]
    NotABucket(usize),
    /// The length prefix claims more content than the frame holds.
    #[error("padded frame content length exceeds the frame")]
    LengthOutOfRange,
    /// A padding byte is not zero.
    #[error("padded frame has non-zero padding")]
    NonZeroPadding,
}

/// The smallest bucket that can hold `len` bytes.
pub fn bucket_for(len: usize) -> Result<usize, PaddingError> {
    if len > MAX_PADDED_LEN {
        return Err(PaddingError::TooLarge);
    }
    if len <= MIN_BUCKET {
        return Ok(MIN_BUCKET);
    }
    if len <= LINEAR_STEP {
        return Ok(len.next_power_of_two());
    }
    // Cannot overflow: len <= MAX_PADDED_LEN, which is itself a multiple of LINEAR_STEP.
    Ok(len.div_ceil(LINEAR_STEP) * LINEAR_STEP)
}

/// Whether `len` is exactly a bucket size.
pub fn is_bucket(len: usize) -> bool {
    len != 0 && bucket_for(len) == Ok(len)
}

/// Pads `content` into a frame whose length plus `overhead` (bytes the caller adds around
/// the frame, e.g. the envelope header and AEAD tag) is a bucket.
pub fn pad(content: &[u8], overhead: usize) -> Result<Vec<u8>, PaddingError> {
    let content_len = u32::try_from(content.len()).map_err(|_| PaddingError::TooLarge)?;
    let needed = content
        .len()
        .checked_add(LEN_PREFIX)
        .and_then(|n| n.checked_add(overhead))
        .ok_or(PaddingError::TooLarge)?;
    let bucket = bucket_for(needed)?;
    // bucket >= needed >= overhead, so this cannot underflow; checked anyway.
    let frame_len = bucket.checked_sub(overhead).ok_or(PaddingError::TooLarge)?;
    let mut frame = Vec::with_capacity(frame_len);
    frame.extend_from_slice(&content_len.to_be_bytes());
    frame.extend_from_slice(content);
    frame.resize(frame_len, 0);
    Ok(frame)
}

/// Like [`pad`], but the frame plus `overhead` is at least `at_least` bytes: the smallest
/// bucket that holds both the content and `at_least`. Used where the content's own bucket
/// would tell too much (an invitation's length grows with the group it invites into).
pub fn pad_at_least(
    content: &[u8],
    overhead: usize,
    at_least: usize,
) -> Result<Vec<u8>, PaddingError> {
    let mut frame = pad(content, overhead)?;
    let total = frame
        .len()
        .checked_add(overhead)
        .ok_or(PaddingError::TooLarge)?;
    if total < at_least {
        let bucket = bucket_for(at_least)?;
        // The frame is the length prefix, the content and zeros: more zeros keep it valid.
        frame.resize(bucket.saturating_sub(overhead), 0);
    }
    Ok(frame)
}

/// Removes the padding of a frame. The frame length itself is not checked against the
/// buckets (the caller may have added overhead around it); see [`unpad_exact`].
pub fn unpad(frame: &[u8]) -> Result<&[u8], PaddingError> {
    let (prefix, rest) = frame
        .split_first_chunk::<LEN_PREFIX>()
        .ok_or(PaddingError::Truncated)?;
    let content_len =
        usize::try_from(u32::from_be_bytes(*prefix)).map_err(|_| PaddingError::LengthOutOfRange)?;
    if content_len > rest.len() {
        return Err(PaddingError::LengthOutOfRange);
    }
    let (content, padding) = rest.split_at(content_len);
    // Non-zero padding could carry a covert channel or signal a malformed sender.
    if padding.iter().fold(0u8, |acc, b| acc | b) != 0 {
        return Err(PaddingError::NonZeroPadding);
    }
    Ok(content)
}

/// Like [`unpad`], but first checks that the frame length plus `overhead` is a bucket.
pub fn unpad_exact(frame: &[u8], overhead: usize) -> Result<&[u8], PaddingError> {
    let total = frame
        .len()
        .checked_add(overhead)
        .ok_or(PaddingError::TooLarge)?;
    if !is_bucket(total) {
        return Err(PaddingError::NotABucket(total));
    }
    unpad(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        assert_eq!(bucket_for(0), Ok(256));
        assert_eq!(bucket_for(256), Ok(256));
        assert_eq!(bucket_for(257), Ok(512));
        assert_eq!(bucket_for(65536), Ok(65536));
        assert_eq!(bucket_for(65537), Ok(131072));
        assert_eq!(bucket_for(131073), Ok(196608));
        assert_eq!(bucket_for(MAX_PADDED_LEN), Ok(MAX_PADDED_LEN));
        assert_eq!(bucket_for(MAX_PADDED_LEN + 1), Err(PaddingError::TooLarge));
        assert!(is_bucket(196608));
        assert!(!is_bucket(0));
        assert!(!is_bucket(300));
    }

    #[test]
    fn pad_at_least_reaches_the_floor_and_no_further() {
        let small = pad_at_least(b"invite", 49, 65536).unwrap();
        assert_eq!(small.len() + 49, 65536);
        assert_eq!(unpad(&small).unwrap(), b"invite");
        let large = pad_at_least(&[1u8; 70000], 49, 65536).unwrap();
        assert_eq!(large.len() + 49, 131072);
        assert_eq!(unpad(&large).unwrap().len(), 70000);
        assert_eq!(pad_at_least(b"x", 0, 0).unwrap(), pad(b"x", 0).unwrap());
    }

    #[test]
    fn pad_and_unpad() {
        let frame = pad(b"hello", 0).unwrap();
        assert_eq!(frame.len(), 256);
        assert_eq!(unpad(&frame).unwrap(), b"hello");
        assert_eq!(unpad_exact(&frame, 0).unwrap(), b"hello");

        let frame = pad(b"hello", 49).unwrap();
        assert_eq!(frame.len() + 49, 256);
        assert_eq!(unpad_exact(&frame, 49).unwrap(), b"hello");
        assert_eq!(unpad_exact(&frame, 0), Err(PaddingError::NotABucket(207)));
    }

    #[test]
    fn exact_fit_and_too_large() {
        let content = vec![1u8; 252];
        assert_eq!(pad(&content, 0).unwrap().len(), 256);
        assert_eq!(pad(&vec![1u8; 253], 0).unwrap().len(), 512);
        assert_eq!(
            pad(&vec![0u8; MAX_PADDED_LEN - 4], 0).unwrap().len(),
            MAX_PADDED_LEN
        );
        assert_eq!(
            pad(&vec![0u8; MAX_PADDED_LEN - 3], 0),
            Err(PaddingError::TooLarge)
        );
        assert_eq!(pad(b"", usize::MAX), Err(PaddingError::TooLarge));
    }

    #[test]
    fn unpad_rejects_malformed() {
        assert_eq!(unpad(&[0, 0, 0]), Err(PaddingError::Truncated));
        let mut frame = pad(b"abc", 0).unwrap();
        frame[3] = 253;
        assert_eq!(unpad(&frame), Err(PaddingError::LengthOutOfRange));
        frame[3] = 3;
        frame[200] = 1;
        assert_eq!(unpad(&frame), Err(PaddingError::NonZeroPadding));
        assert_eq!(
            unpad(&[0xff, 0xff, 0xff, 0xff]),
            Err(PaddingError::LengthOutOfRange)
        );
    }
}

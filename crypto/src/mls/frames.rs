//! What the engine hands out and takes in is framed and padded: every group message,
//! KeyPackage and Welcome leaves it as a padded frame (`u32 content_len | content | zero
//! bytes`, [`crate::padding`]), so the relay, which stores them all, learns a size bucket
//! and nothing finer, and refuses anything else.
//!
//! - Group messages and KeyPackages: the smallest bucket that holds them, and only a frame
//!   of exactly a bucket is taken in.
//! - Welcomes: at least [`WELCOME_FRAME_LEN`] bytes. A Welcome carries the ratchet tree and
//!   one encrypted secret per member it adds, so its length grows with the group (measured
//!   with Parley's ciphersuite by `crypto/tests/welcome_size.rs`: about 0.8 KiB for a group
//!   of two, 35 KiB for a hundred members added at once with 32-byte handles); padded to the
//!   bucket alone it would tell the relay how large a group someone is invited into. With the
//!   floor, the sealed deposit of every Welcome of a group of up to a hundred (and some way
//!   beyond) is one 64 KiB bucket. A larger Welcome is padded to the bucket that holds it.

use crate::padding;

use super::errors::MlsError;

/// The least length of a Welcome's frame: 60 KiB. Sealed in an envelope, whose layers add a
/// few hundred bytes today (205 with the longest names) and have 4 KiB to grow into, a
/// Welcome of up to 61,436 bytes (a group of about 170 members added at once with the
/// longest handles) makes a deposit of exactly 64 KiB.
pub const WELCOME_FRAME_LEN: usize = 60 * 1024;

/// Bytes of a frame before its content: the content length.
const LEN_PREFIX: usize = 4;

/// A group message or KeyPackage padded to the smallest bucket that holds it.
pub(crate) fn bucket_frame(bytes: &[u8]) -> Result<Vec<u8>, MlsError> {
    padding::pad(bytes, 0).map_err(|_| MlsError::Internal("message too large to pad"))
}

/// The content of a frame that must be exactly a bucket (a group message, a KeyPackage).
pub(crate) fn open_bucket_frame(frame: &[u8]) -> Result<&[u8], MlsError> {
    padding::unpad_exact(frame, 0).map_err(|_| MlsError::Malformed)
}

/// A Welcome padded to [`WELCOME_FRAME_LEN`], or to the bucket that holds a larger one.
pub(crate) fn welcome_frame(bytes: &[u8]) -> Result<Vec<u8>, MlsError> {
    let mut frame = bucket_frame(bytes)?;
    // The bucket frame is the length prefix, the content and zeros; cutting or adding zeros
    // gives the floor's length whenever the content fits it.
    if bytes.len().saturating_add(LEN_PREFIX) <= WELCOME_FRAME_LEN {
        frame.resize(WELCOME_FRAME_LEN, 0);
    }
    Ok(frame)
}

/// The content of a Welcome's frame, which must be [`WELCOME_FRAME_LEN`] long or a larger
/// bucket: a Welcome padded any other way came from a client that lets the relay see more.
pub(crate) fn open_welcome_frame(frame: &[u8]) -> Result<&[u8], MlsError> {
    let len = frame.len();
    if len != WELCOME_FRAME_LEN && !(len > WELCOME_FRAME_LEN && padding::is_bucket(len)) {
        return Err(MlsError::Malformed);
    }
    padding::unpad(frame).map_err(|_| MlsError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welcomes_have_a_floor_and_buckets_above_it() {
        let small = welcome_frame(b"welcome").unwrap();
        assert_eq!(small.len(), WELCOME_FRAME_LEN);
        assert_eq!(open_welcome_frame(&small).unwrap(), b"welcome");
        let just_fits = vec![1u8; WELCOME_FRAME_LEN - 4];
        assert_eq!(welcome_frame(&just_fits).unwrap().len(), WELCOME_FRAME_LEN);
        let large = welcome_frame(&vec![1u8; WELCOME_FRAME_LEN]).unwrap();
        assert_eq!(large.len(), 64 * 1024);
        assert_eq!(open_welcome_frame(&large).unwrap().len(), WELCOME_FRAME_LEN);
    }

    #[test]
    fn frames_of_other_lengths_are_malformed() {
        let bucket = bucket_frame(b"key package").unwrap();
        assert_eq!(bucket.len(), 256);
        assert_eq!(open_bucket_frame(&bucket).unwrap(), b"key package");
        assert!(matches!(
            open_bucket_frame(&bucket[..255]),
            Err(MlsError::Malformed)
        ));
        assert!(matches!(
            open_welcome_frame(&bucket),
            Err(MlsError::Malformed)
        ));
        let mut long = welcome_frame(b"w").unwrap();
        long.push(0);
        assert!(matches!(
            open_welcome_frame(&long),
            Err(MlsError::Malformed)
        ));
        let mut dirty = welcome_frame(b"w").unwrap();
        dirty[WELCOME_FRAME_LEN - 1] = 1;
        assert!(matches!(
            open_welcome_frame(&dirty),
            Err(MlsError::Malformed)
        ));
    }
}

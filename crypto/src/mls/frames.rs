//! What the engine hands out and takes in is framed and padded: every group message and
//! KeyPackage leaves it as a padded frame (`u32 content_len | content | zero bytes`,
//! [`crate::padding`]) of the smallest bucket that holds it, and only a frame of exactly a
//! bucket is taken in, so the relay, which stores them all, learns a size bucket and nothing
//! finer, and refuses anything else. (A Welcome is padded with the invitation that carries
//! it, see [`crate::envelope::seal_invitation`].)

use crate::padding;

use super::errors::MlsError;

/// A group message or KeyPackage padded to the smallest bucket that holds it.
pub(crate) fn bucket_frame(bytes: &[u8]) -> Result<Vec<u8>, MlsError> {
    padding::pad(bytes, 0).map_err(|_| MlsError::Internal("message too large to pad"))
}

/// The content of a frame that must be exactly a bucket (a group message, a KeyPackage).
pub(crate) fn open_bucket_frame(frame: &[u8]) -> Result<&[u8], MlsError> {
    padding::unpad_exact(frame, 0).map_err(|_| MlsError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_other_lengths_are_malformed() {
        let bucket = bucket_frame(b"key package").unwrap();
        assert_eq!(bucket.len(), 256);
        assert_eq!(open_bucket_frame(&bucket).unwrap(), b"key package");
        assert!(matches!(
            open_bucket_frame(&bucket[..255]),
            Err(MlsError::Malformed)
        ));
        let mut long = bucket.clone();
        long.push(0);
        assert!(matches!(open_bucket_frame(&long), Err(MlsError::Malformed)));
        let mut dirty = bucket_frame(b"k").unwrap();
        dirty[255] = 1;
        assert!(matches!(
            open_bucket_frame(&dirty),
            Err(MlsError::Malformed)
        ));
    }
}

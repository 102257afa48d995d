//! Padding: unpadding arbitrary frames must not panic; padding any content gives a frame that
//! with its overhead is a bucket and unpads to that content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::padding::{bucket_for, is_bucket, pad, unpad, unpad_exact, MAX_PADDED_LEN};

fuzz_target!(|data: &[u8]| {
    let (overhead, content) = match data.split_first() {
        Some((&o, rest)) => (usize::from(o), rest),
        None => (0, data),
    };

    if let Ok(inner) = unpad(data) {
        assert!(inner.len() + 4 <= data.len());
    }
    if let Ok(inner) = unpad_exact(content, overhead) {
        assert!(is_bucket(content.len() + overhead));
        // The canonical frame of that content is never longer than the one we got.
        let again = pad(inner, overhead).expect("unpadded content pads");
        assert!(again.len() <= content.len());
        assert_eq!(unpad_exact(&again, overhead), Ok(inner));
    }

    match pad(content, overhead) {
        Ok(frame) => {
            assert!(is_bucket(frame.len() + overhead));
            assert_eq!(
                bucket_for(content.len() + 4 + overhead),
                Ok(frame.len() + overhead)
            );
            assert_eq!(unpad_exact(&frame, overhead), Ok(content));
            assert_eq!(unpad(&frame), Ok(content));
        }
        Err(_) => assert!(content.len() + 4 + overhead > MAX_PADDED_LEN),
    }
});

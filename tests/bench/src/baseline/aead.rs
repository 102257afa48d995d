//! XChaCha20-Poly1305 on its own: the cost of sealing and opening an envelope's bytes, which
//! Parley's sealed envelopes pay on top of the AEAD.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// Associated data as long as an envelope header's, so the MAC covers as much of it.
const ASSOCIATED_DATA: [u8; 16] = [0xad; 16];

/// Untimed iterations first, so cold caches and the first allocation are not counted.
const WARM_UP: usize = 8;

/// Mean time of one XChaCha20-Poly1305 seal and open of `payload` bytes, in place, over
/// `iterations`.
pub(crate) fn xchacha_seal_open(payload: usize, iterations: usize) -> anyhow::Result<Duration> {
    if iterations == 0 {
        bail!("an AEAD mean needs at least one iteration");
    }
    let cipher = XChaCha20Poly1305::new(&[0x42u8; 32].into());
    // Sealing then opening in place gives the plaintext back in the same buffer, so no copy
    // is timed; room for the tag keeps the seal from reallocating.
    let mut buffer = Vec::with_capacity(payload + 16);
    buffer.resize(payload, 0x5a);
    let mut counter = 0u64;
    let mut once = |buffer: &mut Vec<u8>| -> anyhow::Result<()> {
        // A counter nonce, as a sender that never repeats one under a key would use.
        let mut nonce = XNonce::default();
        nonce[..8].copy_from_slice(&counter.to_be_bytes());
        counter += 1;
        cipher
            .encrypt_in_place(&nonce, &ASSOCIATED_DATA, buffer)
            .map_err(|_| anyhow!("XChaCha20-Poly1305 seal failed"))?;
        std::hint::black_box(&buffer);
        cipher
            .decrypt_in_place(&nonce, &ASSOCIATED_DATA, buffer)
            .map_err(|_| anyhow!("XChaCha20-Poly1305 open failed"))?;
        std::hint::black_box(&buffer);
        Ok(())
    };
    for _ in 0..WARM_UP {
        once(&mut buffer)?;
    }
    let start = Instant::now();
    for _ in 0..iterations {
        once(&mut buffer)?;
    }
    let elapsed = start.elapsed();
    Ok(elapsed / u32::try_from(iterations).context("too many iterations")?)
}

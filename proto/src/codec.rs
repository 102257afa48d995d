//! The protobuf codec of every Parley service, client and server: prost's, with a small
//! first buffer per call.
//!
//! tonic allocates a call's encode buffer (and its decode buffer) up front, 8 KiB by
//! default, and keeps it for as long as the call lives. A subscription lives for hours while
//! carrying nothing most of the time: with 10,000 idle inbox subscribers the relay's resident
//! memory was 39.7 KiB per subscriber with 8 KiB buffers and 33.5 KiB with these (measured
//! with the idle-subscribers bench). Starting at 1 KiB still holds a padded 256- or 512-byte
//! envelope with its framing in one allocation; a larger message grows the buffer to its
//! size (tonic reserves a whole message once its length is known).

use prost::Message;
use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// First size of a call's encode and decode buffers, in bytes.
const BUFFER_BYTES: usize = 1024;
/// Encoded messages of a stream gathered into one write at most (tonic's default).
const YIELD_THRESHOLD_BYTES: usize = 32 * 1024;

/// prost encoding with 1 KiB first buffers (`BUFFER_BYTES`).
#[derive(Debug, Clone)]
pub struct WireCodec<T, U>(ProstCodec<T, U>);

impl<T, U> Default for WireCodec<T, U> {
    fn default() -> Self {
        WireCodec(ProstCodec::default())
    }
}

fn buffer_settings() -> BufferSettings {
    BufferSettings::new(BUFFER_BYTES, YIELD_THRESHOLD_BYTES)
}

impl<T, U> Codec for WireCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(buffer_settings())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(buffer_settings())
    }
}

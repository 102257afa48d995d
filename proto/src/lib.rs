//! Parley's wire protocol: the `parley.v1` protobuf package and its tonic services.
//!
//! The messages carry opaque bytes (signed records, sealed envelopes, padded MLS messages)
//! whose formats belong to `parley-crypto`; every field's maximum is documented in the
//! `.proto` files and enforced by the relay. See `docs/PROTOCOL.md`.

#![forbid(unsafe_code)]

pub mod codec;

/// Generated code for the `parley.v1` package.
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
// Generated code is not ours to document or lint; the .proto files carry the documentation.
pub mod v1 {
    tonic::include_proto!("parley.v1");
}

/// The encoded `FileDescriptorSet` of the `parley.v1` package (with its imports), for gRPC
/// server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("parley_descriptor");

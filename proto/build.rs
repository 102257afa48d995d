//! Compiles `parley/v1/*.proto` with protox (pure Rust), so no system `protoc` is needed.
//!
//! Also writes the encoded file descriptor set to `OUT_DIR/parley_descriptor.bin`, which the
//! relay serves through gRPC server reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "parley/v1/common.proto",
        "parley/v1/directory.proto",
        "parley/v1/inbox.proto",
        "parley/v1/groups.proto",
        "parley/v1/blobs.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let mut compiler = protox::Compiler::new(["."])?;
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(files)?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("parley_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure()
        // prost's codec with small per-call buffers (src/codec.rs).
        .codec_path("crate::codec::WireCodec")
        .build_client(true)
        .build_server(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}

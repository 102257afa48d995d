//! Documents for the Blobs tests: sealed by the crypto crate, uploaded and downloaded over
//! real gRPC.

use parley_crypto::document::{
    padded_len, BlobId, DocumentKey, DocumentOpener, DocumentSealer, WriteCapability,
};
use parley_proto::v1::blobs_client::BlobsClient;
use parley_proto::v1::{BlobBegin, DownloadRequest, ShortenRequest, UploadProgress, UploadRequest};
use rand::rngs::OsRng;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::Code;

/// A document ready to upload: its secrets, content and sealed chunks.
pub struct Doc {
    pub key: DocumentKey,
    pub blob: BlobId,
    pub write: WriteCapability,
    pub content: Vec<u8>,
    pub chunks: Vec<Vec<u8>>,
}

impl Doc {
    pub fn new(size: usize) -> Doc {
        let key = DocumentKey::generate(&mut OsRng);
        let blob = BlobId::generate(&mut OsRng);
        let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut sealer = DocumentSealer::new(&key, blob, size as u64).unwrap();
        let mut chunks = sealer.push(&content).unwrap();
        chunks.extend(sealer.finish().unwrap());
        Doc {
            key,
            blob,
            write: WriteCapability::generate(&mut OsRng),
            content,
            chunks,
        }
    }

    pub fn begin(&self) -> BlobBegin {
        BlobBegin {
            blob_id: self.blob.as_bytes().to_vec(),
            write_capability: self.write.as_bytes().to_vec(),
            read_capability_hash: self.key.read_capability(&self.blob).hash().to_vec(),
            padded_size: padded_len(self.content.len() as u64),
            ttl_seconds: 0,
        }
    }

    /// Upload messages: `begin` alone, then chunks `from..to` by index.
    pub fn messages(&self, from: usize, to: usize) -> Vec<UploadRequest> {
        let mut messages = vec![UploadRequest {
            begin: Some(self.begin()),
            index: 0,
            chunk: Vec::new(),
        }];
        messages.extend((from..to).map(|i| UploadRequest {
            begin: None,
            index: i as u32,
            chunk: self.chunks[i].clone(),
        }));
        messages
    }

    pub fn download(&self, from_chunk: u32) -> DownloadRequest {
        DownloadRequest {
            blob_id: self.blob.as_bytes().to_vec(),
            read_capability: self.key.read_capability(&self.blob).as_bytes().to_vec(),
            from_chunk,
        }
    }

    pub fn shorten(&self, ttl_seconds: u64) -> ShortenRequest {
        ShortenRequest {
            blob_id: self.blob.as_bytes().to_vec(),
            read_capability: self.key.read_capability(&self.blob).as_bytes().to_vec(),
            ttl_seconds,
        }
    }

    /// Opens downloaded chunks (all of them, in order) back to the content.
    pub fn open(&self, chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut opener =
            DocumentOpener::new(&self.key, self.blob, self.content.len() as u64).unwrap();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(opener.open(chunk).unwrap());
        }
        opener.finish().unwrap();
        out
    }
}

/// Sends `messages` as one upload; every progress message, or the error that ended it.
pub async fn upload(
    blobs: &mut BlobsClient<Channel>,
    messages: Vec<UploadRequest>,
) -> Result<Vec<UploadProgress>, tonic::Status> {
    let mut answers = blobs
        .upload(tokio_stream::iter(messages))
        .await?
        .into_inner();
    let mut progress = Vec::new();
    while let Some(answer) = answers.next().await {
        progress.push(answer?);
    }
    Ok(progress)
}

/// Downloads from `from_chunk`: the chunks, or the error.
pub async fn download(
    blobs: &mut BlobsClient<Channel>,
    request: DownloadRequest,
) -> Result<Vec<Vec<u8>>, tonic::Status> {
    let from = request.from_chunk as usize;
    let mut stream = blobs.download(request).await?.into_inner();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        assert_eq!(
            chunk.index as usize,
            from + chunks.len(),
            "chunks come in order"
        );
        chunks.push(chunk.chunk);
    }
    Ok(chunks)
}

pub fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> Code {
    result.expect_err("the relay must refuse").code()
}

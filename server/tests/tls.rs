//! TLS: the self-signed certificate, its fingerprint, reuse across restarts, operator files,
//! and plaintext confined to loopback.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::User;
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::LookupRequest;
use parley_relay::{Relay, RelayConfig, RelayError, TlsSetting};
use parley_testkit::TestRelay;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::Code;

async fn tls_channel(relay: &TestRelay, ca_pem: &[u8]) -> Result<Channel, tonic::transport::Error> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    Channel::from_shared(format!("https://{}", relay.addr()))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

#[tokio::test]
async fn self_signed_tls_serves_and_fingerprint_matches_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = TestRelay::builder().data_dir(dir.path()).start();
    let cert_pem = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();
    let leaf = CertificateDer::from_pem_slice(&cert_pem).unwrap();
    let expected = hex::encode(Sha256::digest(leaf.as_ref()));
    let fingerprint = relay.fingerprint().unwrap();
    assert_eq!(fingerprint, expected);
    assert_eq!(fingerprint.len(), 64);

    let mut directory = DirectoryClient::new(tls_channel(&relay, &cert_pem).await.unwrap());
    User::new("alice").register(&mut directory).await;
    let err = directory
        .lookup(LookupRequest {
            handle: "bob".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // A plaintext client cannot talk to the TLS relay.
    let plain = Channel::from_shared(format!("http://{}", relay.addr()))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plain {
        let result = DirectoryClient::new(channel)
            .lookup(LookupRequest {
                handle: "alice".into(),
            })
            .await;
        assert!(result.is_err());
    }

    // A client trusting some other certificate refuses the relay.
    let other_dir = tempfile::tempdir().unwrap();
    Relay::open(RelayConfig {
        data_dir: other_dir.path().to_owned(),
        tls: TlsSetting::SelfSigned,
        ..Default::default()
    })
    .unwrap();
    let other_pem = std::fs::read(other_dir.path().join("tls/cert.pem")).unwrap();
    let wrong = tls_channel(&relay, &other_pem).await;
    if let Ok(channel) = wrong {
        let result = DirectoryClient::new(channel)
            .lookup(LookupRequest {
                handle: "alice".into(),
            })
            .await;
        assert!(
            result.is_err(),
            "handshake with an untrusted cert must fail"
        );
    }
    relay.stop().await;

    // Restarting reuses the certificate.
    let mut relay = TestRelay::builder().data_dir(dir.path()).start();
    assert_eq!(relay.fingerprint().as_deref(), Some(expected.as_str()));
    let mut directory = DirectoryClient::new(tls_channel(&relay, &cert_pem).await.unwrap());
    directory
        .lookup(LookupRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap();
    relay.stop().await;
}

#[tokio::test]
async fn operator_files_are_served() {
    let cert_dir = tempfile::tempdir().unwrap();
    let generated = Relay::open(RelayConfig {
        data_dir: cert_dir.path().to_owned(),
        tls: TlsSetting::SelfSigned,
        ..Default::default()
    })
    .unwrap();
    let expected = generated.tls_fingerprint();
    drop(generated);

    let dir = tempfile::tempdir().unwrap();
    let mut relay = TestRelay::builder()
        .tls(TlsSetting::Files {
            cert: cert_dir.path().join("tls/cert.pem"),
            key: cert_dir.path().join("tls/key.pem"),
        })
        .data_dir(dir.path())
        .start();
    assert_eq!(relay.fingerprint(), expected);
    let cert_pem = std::fs::read(cert_dir.path().join("tls/cert.pem")).unwrap();
    let mut directory = DirectoryClient::new(tls_channel(&relay, &cert_pem).await.unwrap());
    User::new("alice").register(&mut directory).await;
    relay.stop().await;

    // Missing files are a typed error at open.
    let err = Relay::open(RelayConfig {
        data_dir: dir.path().to_owned(),
        tls: TlsSetting::Files {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("nope.key"),
        },
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, RelayError::Tls(_)), "{err}");
}

#[tokio::test]
async fn plaintext_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::open(RelayConfig {
        data_dir: dir.path().to_owned(),
        tls: TlsSetting::Plaintext,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(relay.tls_fingerprint(), None);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let err = relay
        .serve(listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(matches!(err, RelayError::PlaintextNotLoopback(_)), "{err}");
}

//! The relay's TLS identity: operator files or a self-signed certificate kept in the data
//! directory, and the fingerprint clients pin.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::config::TlsSetting;

/// Names the self-signed certificate is valid for.
const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Loading or creating the TLS identity failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A generated certificate or key could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate.
    #[error("{} holds no PEM certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no PEM private key.
    #[error("{} holds no PEM private key", path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The self-signed certificate exists but its key does not.
    #[error("{} exists but its key {} is missing; restore it or delete both to generate new ones", cert.display(), key.display())]
    MissingKey {
        /// The certificate file.
        cert: PathBuf,
        /// The missing key file.
        key: PathBuf,
    },
    /// The certificate and key do not make a usable server identity (unsupported key type,
    /// key not matching the certificate, ...).
    #[error("the certificate and key are not usable together")]
    Unusable(#[from] rustls::Error),
    /// A reload was asked of a relay configured for plaintext.
    #[error("the relay serves plaintext; there is no certificate to reload")]
    NotConfigured,
    /// Generating the self-signed certificate failed.
    #[error("cannot generate a self-signed certificate")]
    Generate(#[from] rcgen::Error),
}

/// PEM text of a private key; wiped from memory when dropped.
struct KeyPem(Zeroizing<Vec<u8>>);

/// A certificate chain and its key, checked to work together.
pub(crate) struct TlsIdentity {
    certified: Arc<CertifiedKey>,
    fingerprint: String,
}

impl TlsIdentity {
    /// Lowercase hex SHA-256 of the leaf certificate's DER, 64 characters.
    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The chain and signing key in rustls' form.
    pub(crate) fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.certified)
    }
}

/// The cryptography every TLS object of the relay uses.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Loads (or, for [`TlsSetting::SelfSigned`], creates) the identity; `None` for plaintext.
pub(crate) fn load(setting: &TlsSetting, data_dir: &Path) -> Result<Option<TlsIdentity>, TlsError> {
    match setting {
        TlsSetting::Plaintext => Ok(None),
        TlsSetting::Files { cert, key } => load_files(cert, key).map(Some),
        TlsSetting::SelfSigned => self_signed(&data_dir.join("tls")).map(Some),
    }
}

/// Checks that the configured certificate and key load and work together, without creating
/// anything: the fingerprint clients will pin, or `None` for plaintext and for a self-signed
/// certificate not generated yet.
pub fn check_tls(config: &crate::RelayConfig) -> Result<Option<String>, TlsError> {
    let identity = match &config.tls {
        TlsSetting::Plaintext => None,
        TlsSetting::Files { cert, key } => Some(load_files(cert, key)?),
        TlsSetting::SelfSigned => {
            let dir = config.data_dir.join("tls");
            if dir.join("cert.pem").exists() {
                Some(self_signed(&dir)?)
            } else {
                None
            }
        }
    };
    Ok(identity.map(|identity| identity.fingerprint.clone()))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn load_files(cert_path: &Path, key_path: &Path) -> Result<TlsIdentity, TlsError> {
    let cert_pem = read(cert_path)?;
    let key_pem = KeyPem(Zeroizing::new(read(key_path)?));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .filter_map(Result::ok)
        .collect();
    let Some(leaf) = chain.first() else {
        return Err(TlsError::NoCertificate {
            path: cert_path.to_owned(),
        });
    };
    let fingerprint = hex::encode(Sha256::digest(leaf.as_ref()));
    let key = PrivateKeyDer::from_pem_slice(&key_pem.0).map_err(|_| TlsError::NoKey {
        path: key_path.to_owned(),
    })?;
    // Checks that the key is supported and matches the leaf, so a mismatch is reported at
    // start-up (or reload) rather than as failed handshakes.
    let certified = CertifiedKey::from_der(chain, key, &provider())?;
    Ok(TlsIdentity {
        certified: Arc::new(certified),
        fingerprint,
    })
}

/// Reuses `dir/cert.pem` + `dir/key.pem`, or creates them.
///
/// The key is written first and the certificate renamed into place last, so an existing
/// certificate always has a complete key next to it.
fn self_signed(dir: &Path) -> Result<TlsIdentity, TlsError> {
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if cert_path.exists() {
        if !key_path.exists() {
            return Err(TlsError::MissingKey {
                cert: cert_path,
                key: key_path,
            });
        }
        return load_files(&cert_path, &key_path);
    }
    let write_err = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Write { path, source }
    };
    fs::create_dir_all(dir).map_err(write_err(dir))?;

    let mut params = rcgen::CertificateParams::new(SELF_SIGNED_NAMES.map(String::from).to_vec())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "parley-relay");
    let signing_key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&signing_key)?;
    let key_pem = Zeroizing::new(signing_key.serialize_pem());

    let key_tmp = dir.join("key.pem.tmp");
    write_private(&key_tmp, key_pem.as_bytes()).map_err(write_err(&key_tmp))?;
    fs::rename(&key_tmp, &key_path).map_err(write_err(&key_path))?;
    let cert_tmp = dir.join("cert.pem.tmp");
    fs::write(&cert_tmp, cert.pem()).map_err(write_err(&cert_tmp))?;
    fs::rename(&cert_tmp, &cert_path).map_err(write_err(&cert_path))?;
    tracing::info!("created a self-signed TLS certificate");
    load_files(&cert_path, &key_path)
}

/// Writes a file readable by its owner only, synced to disk.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        // `mode` applies only when the file is created; a leftover temp file keeps its old
        // mode unless we set it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load(&TlsSetting::SelfSigned, dir.path()).unwrap().unwrap();
        let second = load(&TlsSetting::SelfSigned, dir.path()).unwrap().unwrap();
        assert_eq!(first.fingerprint(), second.fingerprint());
        assert_eq!(first.fingerprint().len(), 64);
        assert!(first
            .fingerprint()
            .chars()
            .all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("tls/key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn mismatched_key_is_refused() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        load(&TlsSetting::SelfSigned, a.path()).unwrap();
        load(&TlsSetting::SelfSigned, b.path()).unwrap();
        let setting = TlsSetting::Files {
            cert: a.path().join("tls/cert.pem"),
            key: b.path().join("tls/key.pem"),
        };
        assert!(matches!(
            load(&setting, a.path()),
            Err(TlsError::Unusable(_))
        ));
    }

    #[test]
    fn missing_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        load(&TlsSetting::SelfSigned, dir.path()).unwrap();
        fs::remove_file(dir.path().join("tls/key.pem")).unwrap();
        assert!(matches!(
            load(&TlsSetting::SelfSigned, dir.path()),
            Err(TlsError::MissingKey { .. })
        ));
    }
}

//! How an operator configures a relay.

use std::path::PathBuf;

/// Where a relay keeps its data and how it secures connections.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Directory holding the database and, with [`TlsSetting::SelfSigned`], the certificate.
    /// Created if missing.
    pub data_dir: PathBuf,
    /// Transport security.
    pub tls: TlsSetting,
}

/// Transport security of a relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsSetting {
    /// No TLS. Refused at [`Relay::serve`](crate::Relay::serve) unless the listener is bound to
    /// a loopback address: for development and tests only.
    Plaintext,
    /// A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, created in
    /// `<data_dir>/tls/` on first start and reused afterwards. Clients pin its fingerprint.
    SelfSigned,
    /// An operator-provided certificate chain and private key, both PEM files.
    Files {
        /// PEM certificate chain, leaf first.
        cert: PathBuf,
        /// PEM private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}

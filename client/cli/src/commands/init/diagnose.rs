//! Why registering failed, in words that say what to change: the two mistakes a newcomer
//! makes most are `http://` for a relay that speaks TLS, and no fingerprint for a relay
//! whose certificate is self-signed.

use parley_client::{Client, ClientError, RelayError, RelayUrl};

use super::Setup;
use crate::failure::{Failure, EXIT_UNREACHABLE, EXIT_USAGE};
use crate::home::shell_quote;

/// Describes `error`, met while registering `setup`.
pub(super) async fn explain(error: ClientError, setup: &Setup) -> anyhow::Error {
    let Ok(url) = RelayUrl::parse(&setup.relay) else {
        return error.into();
    };
    let why = match &error {
        ClientError::RelayUnreachable(why) | ClientError::Relay(RelayError::Unreachable(why)) => {
            why.clone()
        }
        ClientError::Relay(RelayError::Tls(why)) if setup.fingerprint.is_none() => {
            return untrusted_certificate(why, setup).into();
        }
        _ => return error.into(),
    };
    if let Some(https) = speaks_tls(&url).await {
        return plain_to_tls(&setup.relay, &https, setup).into();
    }
    let hint = if setup.interactive {
        "check the address with the relay's operator and your network connection, then run \
         parley init again"
            .to_owned()
    } else {
        format!(
            "check the address given with --relay {} and your network connection",
            shell_quote(&setup.relay)
        )
    };
    Failure::new(format!("cannot reach the relay at {}: {why}", setup.relay))
        .hint(hint)
        .code(EXIT_UNREACHABLE)
        .into()
}

/// The https:// form of a plain address whose relay answers with TLS.
pub(super) async fn speaks_tls(url: &RelayUrl) -> Option<String> {
    if url.is_tls() {
        return None;
    }
    let https = format!("https://{}:{}", url.host(), url.port());
    let secure = RelayUrl::parse(&https).ok()?;
    Client::probe_relay_fingerprint(&secure).await.ok()?;
    Some(https)
}

/// The relay speaks TLS but was given as http://.
pub(super) fn plain_to_tls(given: &str, https: &str, setup: &Setup) -> Failure {
    let message = format!(
        "the relay at {given} uses TLS (an encrypted connection): its address starts with \
         https://, not http://"
    );
    let hint = if setup.interactive {
        format!("run parley init again and give the address as {https}")
    } else {
        format!(
            "parley init --relay {https} --handle {} --relay-fingerprint SHA256 (the \
             fingerprint its operator gave you)",
            setup.handle
        )
    };
    Failure::new(message).hint(hint).code(EXIT_USAGE)
}

/// A TLS relay whose certificate nobody vouches for, and no fingerprint to pin it by.
fn untrusted_certificate(why: &str, setup: &Setup) -> Failure {
    Failure::new(format!(
        "the relay's certificate is not signed by an authority this computer trusts (a relay \
         with its own certificate), and no fingerprint was given to check it by ({why})"
    ))
    .hint(format!(
        "ask the relay's operator for its SHA-256 fingerprint, then: parley init --relay {} \
         --handle {} --relay-fingerprint SHA256; or run parley init in a terminal without \
         --relay to compare it step by step",
        shell_quote(&setup.relay),
        setup.handle
    ))
    .code(EXIT_USAGE)
}

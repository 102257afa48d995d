//! The client side of SOCKS5 (RFC 1928) with username/password authentication (RFC 1929):
//! just enough to ask a proxy (Tor, typically) for one TCP stream to the relay.
//!
//! ```text
//! greeting  -> 0x05 | 0x01 | 0x02                       (one method: username/password)
//!           <- 0x05 | 0x02
//! auth      -> 0x01 | u8 len | username | u8 len | password
//!           <- 0x01 | 0x00                              (anything else: refused)
//! connect   -> 0x05 | 0x01 | 0x00 | atyp | addr | u16 port
//!              atyp 0x03: u8 len | host name (socks5h: the proxy resolves it)
//!              atyp 0x01: 4 bytes, atyp 0x04: 16 bytes
//!           <- 0x05 | reply | 0x00 | atyp | bound addr | u16 port   (reply 0x00: connected)
//! ```
//!
//! Only username/password is offered, never "no authentication": the credentials are what
//! makes Tor put each connection on a circuit of its own (its `IsolateSOCKSAuth`, on by
//! default), and a proxy that ignores them gains nothing by being asked without them.

use std::io;
use std::net::IpAddr;

use rand::rngs::OsRng;
use rand::RngCore;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const VERSION: u8 = 0x05;
const METHOD_USERNAME_PASSWORD: u8 = 0x02;
const AUTH_VERSION: u8 = 0x01;
const COMMAND_CONNECT: u8 = 0x01;
const ATYP_IPV4: u8 = 0x01;
const ATYP_DOMAIN: u8 = 0x03;
const ATYP_IPV6: u8 = 0x04;

/// A username and password made up for one connection. They authenticate nothing: a proxy
/// that isolates streams by credentials (Tor) gives every distinct pair its own circuit.
#[derive(Clone)]
pub(crate) struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Fresh random credentials (16 random bytes each, in hex).
    pub(crate) fn random() -> Credentials {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Credentials {
            username: hex::encode(&bytes[..16]),
            password: hex::encode(&bytes[16..]),
        }
    }
}

/// Where the proxy is asked to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A host name, resolved by the proxy.
    Domain(String),
    /// An address.
    Ip(IpAddr),
}

/// Why the proxy did not give us a stream to the relay.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SocksError {
    /// Reading from or writing to the proxy failed.
    #[error("the connection to the proxy failed: {0}")]
    Io(#[from] io::Error),
    /// The answer is not SOCKS5.
    #[error("the proxy does not speak SOCKS5")]
    NotSocks5,
    /// The proxy takes no username/password authentication.
    #[error("the proxy does not accept username/password authentication (needed to keep connections apart)")]
    NoAcceptableMethod,
    /// The proxy refused the credentials.
    #[error("the proxy refused the username and password")]
    AuthRefused,
    /// The proxy could not or would not connect to the relay.
    #[error("the proxy could not reach the relay: {}", reply_text(*.0))]
    Refused(u8),
    /// The relay's host name does not fit the protocol (at most 255 bytes).
    #[error("the relay's host name is too long for SOCKS5")]
    NameTooLong,
}

/// Asks the proxy at the other end of `stream` to connect it to `target:port`, authenticating
/// with `credentials`. On success `stream` carries bytes to and from the target.
pub(crate) async fn connect<S>(
    stream: &mut S,
    target: &Target,
    port: u16,
    credentials: &Credentials,
) -> Result<(), SocksError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .write_all(&[VERSION, 1, METHOD_USERNAME_PASSWORD])
        .await?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await?;
    if choice[0] != VERSION {
        return Err(SocksError::NotSocks5);
    }
    if choice[1] != METHOD_USERNAME_PASSWORD {
        return Err(SocksError::NoAcceptableMethod);
    }
    stream.write_all(&auth_request(credentials)).await?;
    let mut verdict = [0u8; 2];
    stream.read_exact(&mut verdict).await?;
    if verdict != [AUTH_VERSION, 0] {
        return Err(SocksError::AuthRefused);
    }
    stream.write_all(&connect_request(target, port)?).await?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await?;
    if head[0] != VERSION {
        return Err(SocksError::NotSocks5);
    }
    if head[1] != 0 {
        return Err(SocksError::Refused(head[1]));
    }
    // The bound address is of no use to us, but it must be read off the stream.
    let bound_len = match head[3] {
        ATYP_IPV4 => 4,
        ATYP_IPV6 => 16,
        ATYP_DOMAIN => usize::from(stream.read_u8().await?),
        _ => return Err(SocksError::NotSocks5),
    };
    let mut bound = vec![0u8; bound_len + 2];
    stream.read_exact(&mut bound).await?;
    Ok(())
}

/// RFC 1929 request. Our credentials are 32 hex characters each, well under 255 bytes.
fn auth_request(credentials: &Credentials) -> Vec<u8> {
    let mut out = vec![AUTH_VERSION];
    for field in [&credentials.username, &credentials.password] {
        out.push(u8::try_from(field.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&field.as_bytes()[..field.len().min(255)]);
    }
    out
}

/// RFC 1928 CONNECT request.
fn connect_request(target: &Target, port: u16) -> Result<Vec<u8>, SocksError> {
    let mut out = vec![VERSION, COMMAND_CONNECT, 0];
    match target {
        Target::Domain(name) => {
            let len = u8::try_from(name.len()).map_err(|_| SocksError::NameTooLong)?;
            out.push(ATYP_DOMAIN);
            out.push(len);
            out.extend_from_slice(name.as_bytes());
        }
        Target::Ip(IpAddr::V4(ip)) => {
            out.push(ATYP_IPV4);
            out.extend_from_slice(&ip.octets());
        }
        Target::Ip(IpAddr::V6(ip)) => {
            out.push(ATYP_IPV6);
            out.extend_from_slice(&ip.octets());
        }
    }
    out.extend_from_slice(&port.to_be_bytes());
    Ok(out)
}

/// The meaning of a CONNECT reply code (RFC 1928 section 6).
fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "connection not allowed by its rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use tokio::io::duplex;

    use super::*;

    #[test]
    fn requests_are_laid_out_as_the_rfc_says() {
        let creds = Credentials {
            username: "ab".into(),
            password: "xyz".into(),
        };
        assert_eq!(auth_request(&creds), b"\x01\x02ab\x03xyz");
        assert_eq!(
            connect_request(&Target::Domain("relay.example".into()), 7443).unwrap(),
            b"\x05\x01\x00\x03\x0drelay.example\x1d\x13"
        );
        assert_eq!(
            connect_request(&Target::Ip(Ipv4Addr::new(10, 0, 0, 1).into()), 443).unwrap(),
            [5, 1, 0, 1, 10, 0, 0, 1, 1, 187]
        );
        let v6 = connect_request(&Target::Ip(Ipv6Addr::LOCALHOST.into()), 1).unwrap();
        assert_eq!((v6[3], v6.len()), (ATYP_IPV6, 4 + 16 + 2));
        assert!(matches!(
            connect_request(&Target::Domain("a".repeat(256)), 1),
            Err(SocksError::NameTooLong)
        ));
    }

    #[test]
    fn random_credentials_differ() {
        let (a, b) = (Credentials::random(), Credentials::random());
        assert_ne!(a.username, b.username);
        assert_ne!(a.password, b.password);
        assert_eq!(a.username.len(), 32);
    }

    /// Plays the proxy's side of one exchange with canned answers; returns what it read.
    async fn exchange(answers: &'static [u8]) -> (Result<(), SocksError>, Vec<u8>) {
        let (mut ours, mut theirs) = duplex(1024);
        let proxy = tokio::spawn(async move {
            theirs.write_all(answers).await.unwrap();
            // Nothing more will come: a client waiting for more must see the end.
            theirs.shutdown().await.unwrap();
            let mut seen = Vec::new();
            let _ = theirs.read_to_end(&mut seen).await;
            seen
        });
        let creds = Credentials {
            username: "u".into(),
            password: "p".into(),
        };
        let result = connect(&mut ours, &Target::Domain("r.example".into()), 7443, &creds).await;
        drop(ours);
        (result, proxy.await.unwrap())
    }

    #[tokio::test]
    async fn a_granted_connect_reads_the_whole_reply() {
        let (result, seen) = exchange(b"\x05\x02\x01\x00\x05\x00\x00\x03\x04abcd\x00\x50").await;
        result.unwrap();
        assert_eq!(
            seen,
            b"\x05\x01\x02\x01\x01u\x01p\x05\x01\x00\x03\x09r.example\x1d\x13"
        );
    }

    #[tokio::test]
    async fn refusals_are_told_apart() {
        assert!(matches!(
            exchange(b"\x05\xff").await.0,
            Err(SocksError::NoAcceptableMethod)
        ));
        assert!(matches!(
            exchange(b"\x04\x02").await.0,
            Err(SocksError::NotSocks5)
        ));
        assert!(matches!(
            exchange(b"\x05\x02\x01\x01").await.0,
            Err(SocksError::AuthRefused)
        ));
        let refused = exchange(b"\x05\x02\x01\x00\x05\x05\x00\x01").await.0;
        match refused {
            Err(e @ SocksError::Refused(5)) => {
                assert!(e.to_string().contains("connection refused"))
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            exchange(b"\x05\x02\x01\x00\x05\x00").await.0,
            Err(SocksError::Io(_))
        ));
    }
}

//! Relay addresses: `https://host[:port]`, or plaintext `http://` to a loopback address only.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::as_text::serde_as_text;
use super::error::RelayError;
use super::host_port::{parse_port, split_host_port};

/// The port a relay listens on when the URL names none.
pub const DEFAULT_PORT: u16 = 7443;

/// A parsed and validated relay URL.
///
/// Plaintext (`http://`) is accepted only for a loopback host (`127.0.0.0/8`, `localhost`,
/// `[::1]`), because anything else would expose metadata and the relay's answers to the
/// network; a relay elsewhere must be reached over TLS.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelayUrl {
    tls: bool,
    /// Lowercase host as written in a URL (IPv6 literals keep their brackets).
    host: String,
    port: u16,
}

impl RelayUrl {
    /// Parses a relay URL (same as `str::parse`).
    pub fn parse(s: &str) -> Result<RelayUrl, RelayError> {
        s.parse()
    }

    /// True for `https://` URLs.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host as written in a URL (IPv6 literals in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host without IPv6 brackets, as used for name resolution and TLS server names.
    pub fn bare_host(&self) -> &str {
        super::host_port::unbracketed(&self.host)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The same address with the `http` scheme: the URI tonic dials when our own connector
    /// does the TLS (tonic would otherwise insist on doing TLS itself for `https`).
    pub(crate) fn dial_uri(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

impl fmt::Display for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

impl FromStr for RelayUrl {
    type Err = RelayError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let invalid = |why: &str| RelayError::InvalidUrl(format!("`{s}`: {why}"));

        let (tls, rest) = split_scheme(s).ok_or_else(|| {
            invalid("expected https://host:port (or http://127.0.0.1:port for a local relay)")
        })?;
        // A single trailing slash is what people paste from a browser; any real path is not
        // something a relay address can have.
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return Err(invalid("the host is missing"));
        }
        if authority.contains(['/', '?', '#', '@']) {
            return Err(invalid(
                "a relay address has only a host and a port, no path, query or user",
            ));
        }

        let (host, port) = split_host_port(authority).map_err(|why| invalid(&why))?;
        let host = host.to_ascii_lowercase();
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => parse_port(p).map_err(|why| invalid(&why))?,
        };

        if !tls && !is_loopback(&host) {
            return Err(invalid(
                "plaintext http:// is only allowed for a local development relay on a \
                 loopback address (127.0.0.1, localhost or [::1]); use https:// for any other relay",
            ));
        }
        Ok(RelayUrl { tls, host, port })
    }
}

serde_as_text!(RelayUrl);

fn split_scheme(s: &str) -> Option<(bool, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    if scheme.eq_ignore_ascii_case("https") {
        Some((true, rest))
    } else if scheme.eq_ignore_ascii_case("http") {
        Some((false, rest))
    } else {
        None
    }
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> RelayUrl {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn refused(s: &str) -> String {
        match s.parse::<RelayUrl>() {
            Err(RelayError::InvalidUrl(m)) => m,
            other => panic!("{s}: expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn https_with_and_without_port() {
        let u = ok("https://relay.example.org:8443");
        assert!(u.is_tls());
        assert_eq!(u.host(), "relay.example.org");
        assert_eq!(u.port(), 8443);
        assert_eq!(u.to_string(), "https://relay.example.org:8443");

        let u = ok("  HTTPS://Relay.Example.org/ ");
        assert_eq!(u.port(), DEFAULT_PORT);
        assert_eq!(u.to_string(), "https://relay.example.org:7443");
    }

    #[test]
    fn https_ip_literals() {
        let u = ok("https://[2001:db8::1]:9000");
        assert_eq!(u.host(), "[2001:db8::1]");
        assert_eq!(u.bare_host(), "2001:db8::1");
        assert_eq!(u.port(), 9000);
        assert_eq!(ok("https://10.0.0.1").to_string(), "https://10.0.0.1:7443");
    }

    #[test]
    fn plaintext_only_on_loopback() {
        assert!(!ok("http://127.0.0.1:5000").is_tls());
        assert_eq!(ok("http://localhost:5000").port(), 5000);
        assert_eq!(ok("http://[::1]:5000").bare_host(), "::1");
        assert_eq!(ok("http://127.0.0.2:1").to_string(), "http://127.0.0.2:1");

        for s in [
            "http://example.com:1",
            "http://10.0.0.1:80",
            "http://[2001:db8::1]:80",
            "http://localhost.example.com:80",
        ] {
            let m = refused(s);
            assert!(m.contains("local development relay"), "{s}: {m}");
        }
    }

    #[test]
    fn malformed_urls_are_refused() {
        for s in [
            "",
            "relay.example.org:7443",
            "ftp://relay.example.org",
            "https://",
            "https://:7443",
            "https://host:0",
            "https://host:65536",
            "https://host:+80",
            "https://host:port",
            "https://host:80/path",
            "https://user@host:80",
            "https://host:80?x=1",
            "https://ho_st:80",
            "https://-host:80",
            "https://[::1",
            "https://[not-v6]:80",
            "https://[::1]x",
        ] {
            refused(s);
        }
    }

    #[test]
    fn dial_uri_uses_http_scheme() {
        assert_eq!(ok("https://[::1]:1234").dial_uri(), "http://[::1]:1234");
    }
}

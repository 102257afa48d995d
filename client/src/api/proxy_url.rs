//! SOCKS5 proxy addresses: `socks5h://host:port` (the proxy resolves the relay's name, as Tor
//! needs) or `socks5://host:port` (this computer resolves it and hands the proxy an address).

use std::fmt;
use std::str::FromStr;

use super::as_text::serde_as_text;
use super::host_port::{parse_port, split_host_port};

/// Why a proxy address was refused. Each message is one sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyUrlError {
    /// The scheme is not one of the SOCKS5 schemes.
    #[error(
        "`{0}` is not a SOCKS5 proxy address: use socks5h://host:port (the proxy looks up the \
         relay's name; this is the one for Tor, e.g. socks5h://127.0.0.1:9050) or \
         socks5://host:port"
    )]
    UnsupportedScheme(String),
    /// The address has the right scheme but is not `host:port`.
    #[error("`{url}` is not a usable proxy address: {reason}")]
    Malformed {
        /// The address as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A parsed SOCKS5 proxy address.
///
/// The library makes up a fresh username and password for every connection it opens through
/// the proxy (RFC 1929), which Tor takes as a request for a circuit of its own; an address
/// carrying its own credentials is therefore refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProxyUrl {
    /// `socks5h`: send the relay's host name to the proxy rather than an address.
    remote_dns: bool,
    /// Lowercase host as written in a URL (IPv6 literals keep their brackets).
    host: String,
    port: u16,
}

impl ProxyUrl {
    /// Parses a proxy address (same as `str::parse`).
    pub fn parse(s: &str) -> Result<ProxyUrl, ProxyUrlError> {
        s.parse()
    }

    /// True for `socks5h://`: the relay's host name is resolved by the proxy, so this
    /// computer never looks it up (no DNS query shows which relay it talks to).
    pub fn resolves_remotely(&self) -> bool {
        self.remote_dns
    }

    /// The proxy's host as written in a URL (IPv6 literals in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host without IPv6 brackets, as used to connect.
    pub(crate) fn bare_host(&self) -> &str {
        super::host_port::unbracketed(&self.host)
    }

    /// The proxy's TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.remote_dns { "socks5h" } else { "socks5" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

impl FromStr for ProxyUrl {
    type Err = ProxyUrlError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let malformed = |reason: &str| ProxyUrlError::Malformed {
            url: s.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| ProxyUrlError::UnsupportedScheme(s.to_owned()))?;
        let remote_dns = if scheme.eq_ignore_ascii_case("socks5h") {
            true
        } else if scheme.eq_ignore_ascii_case("socks5") {
            false
        } else {
            return Err(ProxyUrlError::UnsupportedScheme(s.to_owned()));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err(malformed(
                "leave out the user name and password: Parley makes up new ones for each \
                 connection, so that Tor gives each its own circuit",
            ));
        }
        if authority.contains(['/', '?', '#']) {
            return Err(malformed(
                "a proxy address has only a host and a port, no path or query",
            ));
        }
        if authority.is_empty() {
            return Err(malformed("the host is missing"));
        }
        let (host, port) = split_host_port(authority).map_err(|why| malformed(&why))?;
        let port = port.ok_or_else(|| {
            malformed("the port is missing (Tor listens on 9050: socks5h://127.0.0.1:9050)")
        })?;
        let port = parse_port(port).map_err(|why| malformed(&why))?;
        Ok(ProxyUrl {
            remote_dns,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

serde_as_text!(ProxyUrl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socks_addresses_parse() {
        let tor = ProxyUrl::parse("socks5h://127.0.0.1:9050").unwrap();
        assert!(tor.resolves_remotely());
        assert_eq!((tor.host(), tor.port()), ("127.0.0.1", 9050));
        assert_eq!(tor.to_string(), "socks5h://127.0.0.1:9050");
        let local = ProxyUrl::parse(" SOCKS5://Proxy.Example:1080/ ").unwrap();
        assert!(!local.resolves_remotely());
        assert_eq!(local.to_string(), "socks5://proxy.example:1080");
        let v6 = ProxyUrl::parse("socks5h://[::1]:9150").unwrap();
        assert_eq!((v6.host(), v6.bare_host()), ("[::1]", "::1"));
    }

    #[test]
    fn other_schemes_are_refused_by_name() {
        for url in [
            "http://127.0.0.1:8080",
            "https://proxy:443",
            "socks4://127.0.0.1:9050",
            "127.0.0.1:9050",
        ] {
            let err = ProxyUrl::parse(url).unwrap_err();
            assert!(matches!(err, ProxyUrlError::UnsupportedScheme(_)), "{url}");
            assert!(err.to_string().contains("socks5h://"), "{err}");
        }
    }

    #[test]
    fn malformed_addresses_say_why() {
        for (url, why) in [
            ("socks5h://127.0.0.1", "port is missing"),
            ("socks5h://u:p@127.0.0.1:9050", "user name and password"),
            ("socks5h://127.0.0.1:9050/x", "no path"),
            ("socks5h://:9050", "host is missing"),
            ("socks5h://127.0.0.1:0", "not a port"),
        ] {
            let err = ProxyUrl::parse(url).unwrap_err();
            assert!(err.to_string().contains(why), "{url}: {err}");
        }
    }
}

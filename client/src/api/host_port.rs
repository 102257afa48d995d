//! The `host[:port]` part of the addresses the library takes (relay, proxy): split and
//! checked alike, so that both refuse the same malformed hosts with the same words.

use std::net::Ipv6Addr;

/// Splits `host[:port]` / `[v6][:port]` and validates the host's characters.
pub(crate) fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(after_bracket) = authority.strip_prefix('[') {
        let (inner, tail) = after_bracket
            .split_once(']')
            .ok_or_else(|| "an IPv6 address needs a closing `]`".to_owned())?;
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(format!("`{inner}` is not an IPv6 address"));
        }
        let host = &authority[..inner.len() + 2];
        return match tail {
            "" => Ok((host, None)),
            _ => match tail.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err("unexpected text after the IPv6 address".to_owned()),
            },
        };
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err("the host is missing".to_owned());
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if host.len() > 253 || !host.split('.').all(valid_label) {
        return Err(format!("`{host}` is not a valid host name"));
    }
    Ok((host, port))
}

pub(crate) fn parse_port(port: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(p) if p != 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!("`{port}` is not a port number (1 to 65535)")),
    }
}

/// A host without the brackets of an IPv6 literal, as used for name resolution, connecting
/// and TLS server names.
pub(crate) fn unbracketed(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

//! Turning one raw value (a TOML value from the file, or text from the environment or a flag)
//! into its type. Every parser returns a reason; the caller adds the key and the layer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::logging::LogFormat;

/// A value as one layer gave it.
#[derive(Clone, Debug)]
pub(crate) enum Raw {
    /// From the TOML file, already typed by TOML.
    Toml(toml::Value),
    /// From the environment or a flag.
    Text(String),
}

impl Raw {
    /// The value as text: TOML strings and text layers only.
    fn text(&self, expected: &str) -> Result<&str, String> {
        match self {
            Raw::Text(text) => Ok(text),
            Raw::Toml(toml::Value::String(text)) => Ok(text),
            Raw::Toml(other) => Err(format!("expected {expected}, found a {}", other.type_str())),
        }
    }
}

/// An address and port such as `127.0.0.1:7443` or `[::]:7443`.
pub(crate) fn socket_addr(raw: &Raw) -> Result<SocketAddr, String> {
    let text = raw.text("a string such as \"127.0.0.1:7443\"")?;
    text.trim()
        .parse()
        .map_err(|_| format!("`{text}` is not an address and port such as 127.0.0.1:7443"))
}

/// An optional address: the empty string turns it off.
pub(crate) fn optional_socket_addr(raw: &Raw) -> Result<Option<SocketAddr>, String> {
    match raw.text("a string such as \"127.0.0.1:9464\"")? {
        "" => Ok(None),
        _ => socket_addr(raw).map(Some),
    }
}

/// A non-empty path.
pub(crate) fn path(raw: &Raw) -> Result<PathBuf, String> {
    match raw.text("a path string")? {
        "" => Err("the path is empty".to_owned()),
        text => Ok(PathBuf::from(text)),
    }
}

/// Where the relay keeps its data: `sled` or a PostgreSQL URL.
pub(crate) fn store(raw: &Raw) -> Result<crate::config::StoreSetting, String> {
    crate::config::StoreSetting::parse(raw.text("`sled` or a postgres:// URL")?)
}

/// An optional path: the empty string unsets it.
pub(crate) fn optional_path(raw: &Raw) -> Result<Option<PathBuf>, String> {
    match raw.text("a path string")? {
        "" => Ok(None),
        text => Ok(Some(PathBuf::from(text))),
    }
}

/// `true`/`false` in TOML; `true`, `false`, `1`, `0`, `yes`, `no` as text.
pub(crate) fn boolean(raw: &Raw) -> Result<bool, String> {
    match raw {
        Raw::Toml(toml::Value::Boolean(value)) => Ok(*value),
        Raw::Toml(other) => Err(format!(
            "expected true or false, found a {}",
            other.type_str()
        )),
        Raw::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(format!("`{text}` is not true or false")),
        },
    }
}

/// `human` or `json`.
pub(crate) fn log_format(raw: &Raw) -> Result<LogFormat, String> {
    match raw.text("\"human\" or \"json\"")?.trim() {
        "human" => Ok(LogFormat::Human),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}` is neither human nor json")),
    }
}

/// A `tracing` filter such as `info` or `parley_relay=debug,info`.
pub(crate) fn log_level(raw: &Raw) -> Result<String, String> {
    let text = raw
        .text("a filter string such as \"info\"")?
        .trim()
        .to_owned();
    tracing_subscriber::EnvFilter::try_new(&text)
        .map_err(|error| format!("`{text}` is not a log filter: {error}"))?;
    Ok(text)
}

/// A duration: TOML integer seconds, or text such as `10`, `10s`, `500ms`, `2m`, `1h`.
pub(crate) fn duration(raw: &Raw) -> Result<Duration, String> {
    match raw {
        Raw::Toml(toml::Value::Integer(secs)) => u64::try_from(*secs)
            .map(Duration::from_secs)
            .map_err(|_| format!("{secs} is negative")),
        other => {
            let text = other.text("seconds or a string such as \"10s\" or \"500ms\"")?;
            parse_duration(text.trim())
                .ok_or_else(|| format!("`{text}` is not a duration such as 10s, 500ms or 2m"))
        }
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis_per_unit: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Raw {
        Raw::Text(value.to_owned())
    }

    #[test]
    fn durations() {
        assert_eq!(duration(&text("10")), Ok(Duration::from_secs(10)));
        assert_eq!(duration(&text("10s")), Ok(Duration::from_secs(10)));
        assert_eq!(duration(&text("500ms")), Ok(Duration::from_millis(500)));
        assert_eq!(duration(&text("2m")), Ok(Duration::from_secs(120)));
        assert_eq!(
            duration(&Raw::Toml(toml::Value::Integer(3))),
            Ok(Duration::from_secs(3))
        );
        assert!(duration(&Raw::Toml(toml::Value::Integer(-3))).is_err());
        assert!(duration(&text("ten")).is_err());
        assert!(duration(&text("10 parsecs")).is_err());
    }

    #[test]
    fn booleans_and_types() {
        assert_eq!(boolean(&text("yes")), Ok(true));
        assert_eq!(boolean(&text("0")), Ok(false));
        assert!(boolean(&text("maybe")).is_err());
        assert!(boolean(&Raw::Toml(toml::Value::String("true".into()))).is_err());
        assert!(socket_addr(&Raw::Toml(toml::Value::Integer(7443))).is_err());
        assert_eq!(optional_socket_addr(&text("")), Ok(None));
    }
}

//! The "Limits" section of README.md states the limits the code sets: a default or a
//! constant changed without the README fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use parley_crypto::{directory, handle, padding, payload};
use parley_relay::LimitsConfig;

/// README.md's "## Limits" section.
fn limits_section() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md at the workspace root");
    let start = readme
        .find("\n## Limits\n")
        .expect("a Limits section in README.md");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_owned()
}

/// The value cell of the table row whose constant cell names `constant`.
fn row_value(section: &str, constant: &str) -> String {
    let quoted = format!("`{constant}`");
    let row = section
        .lines()
        .find(|line| {
            line.starts_with('|')
                && line
                    .split('|')
                    .nth(3)
                    .is_some_and(|cell| cell.contains(&quoted))
        })
        .unwrap_or_else(|| panic!("no row for {constant} in the Limits section"));
    row.split('|').nth(2).unwrap().trim().to_owned()
}

/// `bytes` as the README writes them: whole MiB.
fn mib(bytes: u64) -> String {
    assert_eq!(bytes % (1 << 20), 0, "{bytes} is not whole MiB");
    format!("{} MiB", bytes >> 20)
}

#[test]
fn the_readme_states_the_relay_defaults() {
    let section = limits_section();
    let defaults = LimitsConfig::default();
    let configurable = |value: String| format!("{value}, *configurable*");
    let expected = [
        (
            "inbox_max_messages",
            configurable(defaults.inbox_max_messages.to_string()),
        ),
        (
            "inbox_max_bytes",
            configurable(mib(defaults.inbox_max_bytes)),
        ),
        (
            "retention_secs",
            configurable(format!("{} days", defaults.retention_secs / 86_400)),
        ),
        (
            "max_message_bytes",
            configurable(mib(defaults.max_message_bytes as u64)),
        ),
        (
            "max_subscriptions",
            configurable(defaults.max_subscriptions.to_string()),
        ),
        (
            "max_concurrent_streams",
            configurable(defaults.max_concurrent_streams.to_string()),
        ),
        (
            "request_timeout_secs",
            configurable(format!("{} s", defaults.request_timeout_secs)),
        ),
        (
            "key_package_claims_per_minute",
            configurable(defaults.key_package_claims_per_minute.to_string()),
        ),
        (
            "key_package_claims_per_source_per_minute",
            configurable(
                defaults
                    .key_package_claims_per_source_per_minute
                    .to_string(),
            ),
        ),
        (
            "source_requests_per_second",
            configurable(defaults.source_requests_per_second.to_string()),
        ),
        (
            "MAX_RECORD_LEN",
            format!("{} bytes", directory::MAX_RECORD_LEN),
        ),
    ];
    assert_eq!(defaults.retention_secs % 86_400, 0);
    for (constant, value) in expected {
        assert_eq!(row_value(&section, constant), value, "{constant}");
    }
    // The bursts are stated with their rates.
    assert!(section.contains(&format!("(burst {})", defaults.key_package_claim_burst)));
    assert!(section.contains(&format!("(burst {})", defaults.source_burst)));
    assert!(section.contains(&format!(
        "(burst {})",
        defaults.key_package_claim_source_burst
    )));
}

#[test]
fn the_readme_states_the_name_and_message_limits() {
    let section = limits_section();
    for stated in [
        format!("`MIN_HANDLE_LEN = {}`", handle::MIN_HANDLE_LEN),
        format!("`MAX_HANDLE_LEN = {}`", handle::MAX_HANDLE_LEN),
        format!(
            "A handle is {} to {} characters",
            handle::MIN_HANDLE_LEN,
            handle::MAX_HANDLE_LEN
        ),
        format!("64 KiB: {} bytes", payload::MAX_TEXT_LEN),
    ] {
        assert!(section.contains(&stated), "README misses {stated:?}");
    }
    assert_eq!(payload::MAX_TEXT_LEN, 64 << 10);
    assert_eq!(padding::MAX_PADDED_LEN, 1 << 20);
    // Envelopes are padded up to the relay's 1 MiB message limit.
    assert!(section.contains("is at most 1 MiB (`MAX_MESSAGE_LEN`"));
    assert!(section.contains("`MAX_PADDED_LEN`"));
}

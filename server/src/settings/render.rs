//! The effective configuration as commented TOML, for `parley-relay check-config`.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use super::limits;
use super::source::{Setting, Source};
use super::Settings;

pub(super) fn render(settings: &Settings) -> String {
    let mut out = String::new();
    out.push_str("# Effective configuration of parley-relay; each value's origin follows it.\n");
    match &settings.config_file {
        Some(path) => {
            let _ = writeln!(out, "# Configuration file: {}", path.display());
        }
        None => out.push_str("# Configuration file: none\n"),
    }
    out.push_str("# Secrets are never printed: the TLS key appears by path only.\n\n");

    line(
        &mut out,
        "listen",
        &text(settings.listen.value),
        &settings.listen.source,
    );
    line(
        &mut out,
        "data",
        &path(&settings.data.value),
        &settings.data.source,
    );
    line(
        &mut out,
        "store",
        &text(settings.store.value.redacted()),
        &settings.store.source,
    );
    optional(
        &mut out,
        "tls_cert",
        &settings.tls_cert,
        "a self-signed certificate in <data>/tls",
    );
    optional(
        &mut out,
        "tls_key",
        &settings.tls_key,
        "a self-signed certificate in <data>/tls",
    );
    line(
        &mut out,
        "plaintext",
        &settings.plaintext.value.to_string(),
        &settings.plaintext.source,
    );
    match &settings.metrics_listen.value {
        Some(addr) => line(
            &mut out,
            "metrics_listen",
            &text(addr),
            &settings.metrics_listen.source,
        ),
        None => {
            let _ = writeln!(
                out,
                "# metrics_listen is not set ({}): no metrics listener",
                settings.metrics_listen.source.short()
            );
        }
    }
    line(
        &mut out,
        "log_format",
        &text(settings.log_format.value),
        &settings.log_format.source,
    );
    line(
        &mut out,
        "log_level",
        &text(&settings.log_level.value),
        &settings.log_level.source,
    );
    line(
        &mut out,
        "shutdown_grace",
        &text(duration(settings.shutdown_grace.value)),
        &settings.shutdown_grace.source,
    );

    out.push_str("\n[limits]\n");
    for (name, value) in limits::fields(&settings.limits) {
        let source = settings
            .limits_sources
            .get(&name)
            .cloned()
            .unwrap_or(Source::Default);
        line(&mut out, &name, &value, &source);
    }
    out
}

fn line(out: &mut String, key: &str, value: &str, source: &Source) {
    let _ = writeln!(out, "{key} = {value}  # {}", source.short());
}

fn optional(
    out: &mut String,
    key: &str,
    setting: &Setting<Option<std::path::PathBuf>>,
    absent: &str,
) {
    match &setting.value {
        Some(value) => line(out, key, &path(value), &setting.source),
        None => {
            let _ = writeln!(
                out,
                "# {key} is not set ({}): {absent}",
                setting.source.short()
            );
        }
    }
}

/// A TOML string literal.
fn text(value: impl ToString) -> String {
    toml::Value::String(value.to_string()).to_string()
}

fn path(value: &Path) -> String {
    text(value.display())
}

/// Whole seconds as `10s`, anything finer in milliseconds.
fn duration(value: Duration) -> String {
    if value.subsec_millis() == 0 {
        format!("{}s", value.as_secs())
    } else {
        format!("{}ms", value.as_millis())
    }
}

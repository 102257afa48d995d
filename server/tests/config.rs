//! Layered configuration: defaults < file < environment < flags, errors that name the key and
//! its source, and `parley-relay check-config`.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use parley_relay::logging::LogFormat;
use parley_relay::settings::{Settings, SettingsError, Source};
use parley_relay::{Relay, RelayConfig, TlsSetting};

fn env(vars: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    vars.iter()
        .map(|(name, value)| (OsString::from(name), OsString::from(value)))
        .collect()
}

fn write_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("relay.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn load(
    file: Option<&Path>,
    vars: &[(&str, &str)],
    flags: &[(&str, &str)],
) -> Result<Settings, SettingsError> {
    let flags: Vec<(&str, String)> = flags.iter().map(|(k, v)| (*k, v.to_string())).collect();
    Settings::load(file.map(Path::to_owned), env(vars), &flags)
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn defaults_are_documented_values() {
    let settings = load(None, &[("HOME", "/root"), ("PATH", "/bin")], &[]).unwrap();
    assert_eq!(settings.listen.value, addr("127.0.0.1:7443"));
    assert_eq!(settings.listen.source, Source::Default);
    assert_eq!(settings.data.value, PathBuf::from("./parley-relay-data"));
    assert_eq!(settings.tls(), TlsSetting::SelfSigned);
    assert_eq!(settings.metrics_listen.value, None);
    assert_eq!(settings.log_format.value, LogFormat::Human);
    assert_eq!(settings.log_level.value, "info");
    assert_eq!(settings.shutdown_grace.value, Duration::ZERO);
    let config = settings.relay_config();
    let defaults = RelayConfig::default();
    assert_eq!(config.data_dir, defaults.data_dir);
    assert_eq!(config.tls, defaults.tls);
    assert_eq!(config.limits, defaults.limits);
}

#[test]
fn later_layers_win_and_each_value_knows_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        r#"
listen = "127.0.0.1:1001"
data = "/srv/from-file"
log_format = "json"
shutdown_grace = 7
metrics_listen = "127.0.0.1:9464"

[limits]
inbox_max_messages = 5
retention_secs = 60
"#,
    );
    let vars = [
        ("PARLEY_RELAY_LISTEN", "127.0.0.1:1002"),
        ("PARLEY_RELAY_DATA", "/srv/from-env"),
        ("PARLEY_RELAY_LIMITS_INBOX_MAX_MESSAGES", "7"),
        ("PARLEY_RELAY_SHUTDOWN_GRACE", "1500ms"),
    ];
    let flags = [("listen", "127.0.0.1:1003")];

    let all = load(Some(&file), &vars, &flags).unwrap();
    assert_eq!(all.listen.value, addr("127.0.0.1:1003"));
    assert_eq!(all.listen.source, Source::Flag("--listen".into()));
    assert_eq!(all.data.value, PathBuf::from("/srv/from-env"));
    assert_eq!(all.data.source, Source::Env("PARLEY_RELAY_DATA".into()));
    assert_eq!(all.log_format.value, LogFormat::Json);
    assert_eq!(all.log_format.source, Source::File(file.clone()));
    assert_eq!(all.shutdown_grace.value, Duration::from_millis(1500));
    assert_eq!(all.metrics_listen.value, Some(addr("127.0.0.1:9464")));
    assert_eq!(all.limits.inbox_max_messages, 7);
    assert_eq!(all.limits.retention_secs, 60);
    let config = all.relay_config();
    assert_eq!(config.limits.inbox_max_messages, 7);
    assert_eq!(config.data_dir, PathBuf::from("/srv/from-env"));
    assert_eq!(config.shutdown_grace, Duration::from_millis(1500));

    let without_flags = load(Some(&file), &vars, &[]).unwrap();
    assert_eq!(without_flags.listen.value, addr("127.0.0.1:1002"));
    let file_only = load(Some(&file), &[], &[]).unwrap();
    assert_eq!(file_only.listen.value, addr("127.0.0.1:1001"));
    assert_eq!(file_only.limits.inbox_max_messages, 5);
    assert_eq!(file_only.shutdown_grace.value, Duration::from_secs(7));

    // The file can also come from the environment; --config wins over it.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "listen = \"127.0.0.1:1004\"\n").unwrap();
    let by_env = load(
        None,
        &[("PARLEY_RELAY_CONFIG", other.to_str().unwrap())],
        &[],
    )
    .unwrap();
    assert_eq!(by_env.listen.value, addr("127.0.0.1:1004"));
    let by_flag = load(
        Some(&file),
        &[("PARLEY_RELAY_CONFIG", other.to_str().unwrap())],
        &[],
    )
    .unwrap();
    assert_eq!(by_flag.listen.value, addr("127.0.0.1:1001"));
}

#[test]
fn tls_and_plaintext_settings() {
    let files = load(
        None,
        &[("PARLEY_RELAY_TLS_CERT", "/etc/relay/cert.pem")],
        &[("tls_key", "/etc/relay/key.pem")],
    )
    .unwrap();
    assert_eq!(
        files.tls(),
        TlsSetting::Files {
            cert: "/etc/relay/cert.pem".into(),
            key: "/etc/relay/key.pem".into(),
        }
    );
    let plain = load(None, &[("PARLEY_RELAY_PLAINTEXT", "true")], &[]).unwrap();
    assert_eq!(plain.tls(), TlsSetting::Plaintext);
}

fn message(result: Result<Settings, SettingsError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn unknown_keys_are_errors_that_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "listne = \"127.0.0.1:1\"\n");
    let err = message(load(Some(&file), &[], &[]));
    assert!(err.contains("`listne`"), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");

    let file = write_file(dir.path(), "[limits]\ninbox_max_mesages = 3\n");
    let err = message(load(Some(&file), &[], &[]));
    assert!(err.contains("limits.inbox_max_mesages"), "{err}");

    let err = message(load(None, &[("PARLEY_RELAY_LISTN", "127.0.0.1:1")], &[]));
    assert!(err.contains("PARLEY_RELAY_LISTN"), "{err}");
    let err = message(load(None, &[("PARLEY_RELAY_LIMITS_NOPE", "1")], &[]));
    assert!(err.contains("limits.nope"), "{err}");
    assert!(err.contains("PARLEY_RELAY_LIMITS_NOPE"), "{err}");
}

/// A file, environment and flags, and what the error must name: the key and the source.
type Case<'a> = (
    Option<PathBuf>,
    Vec<(&'a str, &'a str)>,
    Vec<(&'a str, &'a str)>,
    &'a str,
    String,
);

#[test]
fn bad_values_name_the_key_and_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = vec![
        (
            Some(write_file(dir.path(), "listen = 7443\n")),
            vec![],
            vec![],
            "`listen`",
            "relay.toml".into(),
        ),
        (
            None,
            vec![("PARLEY_RELAY_PLAINTEXT", "maybe")],
            vec![],
            "`plaintext`",
            "PARLEY_RELAY_PLAINTEXT".into(),
        ),
        (
            None,
            vec![],
            vec![("log_format", "xml")],
            "`log_format`",
            "--log-format".into(),
        ),
        (
            None,
            vec![("PARLEY_RELAY_LIMITS_INBOX_MAX_BYTES", "lots")],
            vec![],
            "limits.inbox_max_bytes",
            "PARLEY_RELAY_LIMITS_INBOX_MAX_BYTES".into(),
        ),
        (
            None,
            vec![("PARLEY_RELAY_LIMITS_MAX_MESSAGE_BYTES", "10")],
            vec![],
            "max_message_bytes",
            "PARLEY_RELAY_LIMITS_MAX_MESSAGE_BYTES".into(),
        ),
        (
            None,
            vec![("PARLEY_RELAY_SHUTDOWN_GRACE", "soon")],
            vec![],
            "`shutdown_grace`",
            "PARLEY_RELAY_SHUTDOWN_GRACE".into(),
        ),
    ];
    for (file, vars, flags, key, source) in cases {
        let err = message(load(file.as_deref(), &vars, &flags));
        assert!(err.contains(key), "{err} should name {key}");
        assert!(err.contains(&source), "{err} should name {source}");
    }

    let file = write_file(dir.path(), "listen = \"127.0.0.1:1\"\n[limits\n");
    let err = message(load(Some(&file), &[], &[]));
    assert!(err.contains("not valid TOML"), "{err}");
}

#[test]
fn overridden_bad_values_and_limit_rules_name_their_own_layer() {
    // A bad value is refused even where a later layer overrides it.
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "data = \"\"\n");
    let err = message(load(Some(&file), &[("PARLEY_RELAY_DATA", "/srv")], &[]));
    assert!(err.contains("`data`"), "{err}");
    assert!(err.contains("relay.toml"), "{err}");

    // A rule between two fields blames the field it constrains, and the layer that set it.
    let err = message(load(
        None,
        &[("PARLEY_RELAY_LIMITS_SOURCE_BURST", "0")],
        &[],
    ));
    assert!(
        err.starts_with(
            "invalid value for `limits.source_burst` from environment variable PARLEY_RELAY_LIMITS_SOURCE_BURST:"
        ),
        "{err}"
    );
    let both_off = [
        ("PARLEY_RELAY_LIMITS_SOURCE_BURST", "0"),
        ("PARLEY_RELAY_LIMITS_SOURCE_REQUESTS_PER_SECOND", "0"),
    ];
    assert_eq!(load(None, &both_off, &[]).unwrap().limits.source_burst, 0);
}

#[test]
fn inconsistent_settings_are_refused() {
    let err = message(load(None, &[], &[("tls_cert", "/c.pem")]));
    assert!(err.contains("tls_key"), "{err}");
    let err = message(load(
        None,
        &[("PARLEY_RELAY_PLAINTEXT", "1")],
        &[("listen", "0.0.0.0:7443")],
    ));
    assert!(err.contains("loopback"), "{err}");
    assert!(err.contains("--listen"), "{err}");
    let err = message(load(
        None,
        &[("PARLEY_RELAY_PLAINTEXT", "1")],
        &[("tls_cert", "/c.pem"), ("tls_key", "/k.pem")],
    ));
    assert!(err.contains("conflicts"), "{err}");
}

fn check_config(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley-relay"));
    command.arg("check-config").args(args);
    // The test runner's own PARLEY_RELAY_* variables, if any, must not leak in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PARLEY_RELAY_") {
            command.env_remove(name);
        }
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn check_config_prints_the_effective_configuration_that_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "listen = \"127.0.0.1:1001\"\nplaintext = true\n[limits]\nretention_secs = 3600\n",
    );
    let output = check_config(
        &["--config", file.to_str().unwrap(), "--log-format", "json"],
        &[("PARLEY_RELAY_LIMITS_INBOX_MAX_MESSAGES", "42")],
    );
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed.contains("listen = \"127.0.0.1:1001\"  # file"),
        "{printed}"
    );
    assert!(
        printed.contains("log_format = \"json\"  # flag --log-format"),
        "{printed}"
    );
    assert!(
        printed.contains("inbox_max_messages = 42  # env PARLEY_RELAY_LIMITS_INBOX_MAX_MESSAGES"),
        "{printed}"
    );
    assert!(
        printed.contains("retention_secs = 3600  # file"),
        "{printed}"
    );

    // The output is itself a configuration file with the same values.
    let again = write_file(dir.path(), &printed);
    let reloaded = load(Some(&again), &[], &[]).unwrap();
    assert_eq!(reloaded.listen.value, addr("127.0.0.1:1001"));
    assert_eq!(reloaded.log_format.value, LogFormat::Json);
    assert!(reloaded.plaintext.value);
    assert_eq!(reloaded.limits.inbox_max_messages, 42);
    assert_eq!(reloaded.limits.retention_secs, 3600);
}

#[test]
fn check_config_shows_key_paths_never_key_contents() {
    let dir = tempfile::tempdir().unwrap();
    let tls = Relay::open(RelayConfig {
        data_dir: dir.path().join("data"),
        tls: TlsSetting::SelfSigned,
        ..Default::default()
    })
    .unwrap();
    let fingerprint = tls.tls_fingerprint().unwrap();
    drop(tls);
    let cert = dir.path().join("data/tls/cert.pem");
    let key = dir.path().join("data/tls/key.pem");
    let key_pem = std::fs::read_to_string(&key).unwrap();
    let output = check_config(
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(printed.contains(key.to_str().unwrap()));
    assert!(printed.contains(&fingerprint), "{printed}");
    assert!(!printed.contains("PRIVATE KEY"));
    let key_body: String = key_pem.lines().nth(1).unwrap().to_owned();
    assert!(!printed.contains(&key_body));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("PRIVATE KEY"));
}

#[test]
fn check_config_fails_with_a_clear_message() {
    let output = check_config(&[], &[("PARLEY_RELAY_LISTEN", "nowhere")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("`listen`"), "{stderr}");
    assert!(stderr.contains("PARLEY_RELAY_LISTEN"), "{stderr}");
    assert!(output.stdout.is_empty());

    // TLS files are loaded, not just named.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let output = check_config(
        &[
            "--tls-cert",
            missing.to_str().unwrap(),
            "--tls-key",
            missing.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("missing.pem"), "{stderr}");
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[test]
fn the_example_configuration_is_valid() {
    let settings = load(Some(&repo_file("contrib/relay.toml")), &[], &[]).unwrap();
    assert_eq!(settings.listen.value, addr("0.0.0.0:7443"));
    assert_eq!(settings.log_format.value, LogFormat::Json);
}

#[test]
fn the_operating_guide_documents_every_key() {
    let guide = std::fs::read_to_string(repo_file("docs/OPERATING.md")).unwrap();
    for key in parley_relay::settings::KEYS {
        for name in [
            format!("`{key}`"),
            parley_relay::settings::env_name(key),
            parley_relay::settings::flag_name(key),
        ] {
            assert!(guide.contains(&name), "docs/OPERATING.md lacks {name}");
        }
    }
    // Every [limits] field, as check-config lists them.
    let output = check_config(&[], &[]);
    let printed = String::from_utf8(output.stdout).unwrap();
    let limits = printed.split("[limits]").nth(1).unwrap();
    let fields: Vec<&str> = limits
        .lines()
        .filter_map(|line| line.split_once(" = ").map(|(field, _)| field))
        .collect();
    assert!(fields.len() > 5);
    for field in fields {
        assert!(
            guide.contains(&format!("`{field}`")),
            "docs/OPERATING.md lacks limits field {field}"
        );
    }
}

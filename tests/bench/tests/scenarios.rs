//! The load generator, run as its users run it: every scenario at a small size, against the
//! relay it starts itself, its JSON report read back and checked for what each scenario
//! promises (one upload per room message, every message decrypted, figures beside
//! baselines). Debug builds: the figures' values mean nothing here, only their presence
//! and their consistency.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use serde_json::Value;

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parley-bench"))
        .args(args)
        .output()
        .expect("running parley-bench")
}

/// Runs a scenario with `--json` and returns its report.
fn report(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = bench(&all);
    assert!(
        out.status.success(),
        "parley-bench {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the report is JSON")
}

/// The figure called `name`.
fn figure<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no figure {name:?} in {report:#}"))
}

fn value(report: &Value, name: &str) -> f64 {
    figure(report, name)["value"].as_f64().unwrap()
}

#[test]
fn pingpong_delivers_every_message_once_and_measures_against_baselines() {
    let report = report(&["pingpong", "--messages", "10"]);
    assert_eq!(report["scenario"], "pingpong");
    let p50 = value(&report, "delivery p50");
    let p99 = value(&report, "delivery p99");
    assert!(p50 > 0.0 && p99 >= p50, "{report:#}");
    // Raw tonic calls ran in the same run: the ratio is there.
    assert!(figure(&report, "delivery p50")["ratio"].as_f64().unwrap() > 0.0);
    let client = figure(&report, "client CPU per message (send + receive)");
    assert!(client["baseline"]["value"].as_f64().unwrap() > 0.0);
    assert!(client["met"].is_boolean());
    // Each message is one group message at the relay, padded beyond its payload.
    assert_eq!(value(&report, "group messages stored per message"), 1.0);
    assert!(value(&report, "bytes stored per message") > 1024.0);
    assert!(value(&report, "relay resident set") > 0.0);
    assert_eq!(value(&report, "messages shown twice"), 0.0);
    assert_eq!(figure(&report, "messages shown twice")["met"], true);
}

#[test]
fn fanout_is_one_upload_per_message_decrypted_by_every_member() {
    let report = report(&["fanout", "--members", "4", "--messages", "5"]);
    assert_eq!(value(&report, "uploads per message"), 1.0);
    assert_eq!(figure(&report, "uploads per message")["met"], true);
    let p99 = value(&report, "all 3 decrypted, p99");
    assert!(
        p99 >= value(&report, "one member decrypted p99"),
        "{report:#}"
    );
    assert!(figure(&report, "all 3 decrypted, p99")["met"].is_boolean());
    assert_eq!(value(&report, "messages shown twice"), 0.0);
    disk_flushes_were_sampled(&report);
}

/// The disk's flush latency, sampled in the same seconds as the deliveries: ordered
/// quantiles and a stall count within the number of samples.
fn disk_flushes_were_sampled(report: &Value) {
    let label = "disk flush (4 KiB + fdatasync in TMPDIR, every 10 ms)";
    let p50 = value(report, &format!("{label} p50"));
    let p99 = value(report, &format!("{label} p99"));
    let max = value(report, &format!("{label} max"));
    assert!(0.0 <= p50 && p50 <= p99 && p99 <= max, "{report:#}");
    let sampled = value(report, "disk flushes sampled");
    assert!(sampled >= 1.0, "{report:#}");
    assert!(
        value(report, "disk flushes over 10 ms") <= sampled,
        "{report:#}"
    );
}

#[test]
fn catchup_brings_every_waiting_message_in_one_sync() {
    // The scenario itself fails unless the sync brought all of them, in order. Enough of
    // them that the sync's CPU time spans several of the kernel's 10 ms accounting ticks
    // (with 12, a CI run read 0).
    let report = report(&["catchup", "--messages", "100"]);
    assert_eq!(report["scenario"], "catchup");
    assert!(value(&report, "messages brought per second") > 0.0);
    let cpu = figure(&report, "client CPU per message brought");
    assert!(cpu["value"].as_f64().unwrap() > 0.0);
    assert!(cpu["baseline"]["value"].as_f64().unwrap() > 0.0);
    assert!(value(&report, "relay CPU per message") >= 0.0);
}

#[test]
fn group_finds_its_maximum_then_loads_at_half_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("latency.svg");
    let report = report(&[
        "group",
        "--members",
        "3",
        "--seconds",
        "1",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    let most = value(&report, "maximum: messages/s, senders back to back");
    let rate: f64 = report["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "rate")
        .unwrap()[1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (rate - most / 2.0).abs() < 0.1,
        "rate {rate}, maximum {most}"
    );
    assert_eq!(value(&report, "uploads per message"), 1.0);
    assert!(figure(&report, "delivery p99")["met"].is_boolean());
    assert_eq!(value(&report, "messages shown twice"), 0.0);
    disk_flushes_were_sampled(&report);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
}

#[test]
fn deposits_are_held_against_raw_tonic_in_the_same_run() {
    let report = report(&["deposits", "--in-flight", "8", "--seconds", "1"]);
    let deposits = figure(&report, "deposits accepted/s");
    assert!(deposits["value"].as_f64().unwrap() > 0.0, "{report:#}");
    assert!(deposits["baseline"]["value"].as_f64().unwrap() > 0.0);
    assert!(deposits["met"].is_boolean());
    assert_eq!(value(&report, "deposits refused"), 0.0);
    // A deposit stores exactly the envelope.
    let stored = figure(&report, "bytes stored per deposit");
    assert_eq!(stored["value"], stored["baseline"]["value"]);
}

#[test]
fn idle_subscribers_are_counted_by_the_relay() {
    let report = report(&["idle", "--subscribers", "20", "--seconds", "1"]);
    assert_eq!(value(&report, "open subscriptions at the relay"), 20.0);
    assert!(value(&report, "relay resident set per subscriber") > 0.0);
}

#[test]
fn the_table_names_figures_baselines_and_targets() {
    let out = bench(&["deposits", "--in-flight", "4", "--seconds", "1"]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("baseline (same run)"), "{table}");
    assert!(table.contains("raw tonic unary calls/s, TLS"), "{table}");
    assert!(table.contains(">= 0.60x"), "{table}");
}

#[test]
fn bad_arguments_are_refused_with_a_reason_not_a_panic() {
    for (args, reason) in [
        (
            &["fanout", "--members", "1"][..],
            "--members must be 2 to 100",
        ),
        (&["group", "--rate", "0"][..], "--rate must be a positive"),
        (
            &["deposits", "--in-flight", "0"][..],
            "--in-flight must be at least 1",
        ),
        (
            &["pingpong", "--relay", "https://127.0.0.1:1"][..],
            "--relay-fingerprint",
        ),
        (
            &[
                "pingpong",
                "--relay",
                "https://127.0.0.1:1",
                "--relay-fingerprint",
                "00",
            ][..],
            "64 hex digits",
        ),
        (
            &[
                "pingpong",
                "--relay",
                "https://127.0.0.1:1",
                "--relay-fingerprint",
                &"0".repeat(64),
                "--storage-cache-bytes",
                "67108864",
            ][..],
            "cannot be used with",
        ),
        (
            &["pingpong", "--storage-cache-bytes", "4096"][..],
            "storage_cache_bytes must be at least 1048576",
        ),
    ] {
        let out = bench(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

//! `--proxy`: only SOCKS5 addresses are taken; `init` and later commands reach the relay
//! through the proxy (a recording one on loopback); and a daemon reaches the relay only the
//! way the command that uses it was asked to, so `--proxy` is never silently bypassed.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use parley_testkit::SocksProxy;
use support::{Person, TestRelay};

#[test]
fn a_proxy_that_is_not_socks5_is_a_usage_error() {
    let alice = Person::new();
    // clap's usage error: the error line, then its pointer to --help.
    let run = alice.run(&["--proxy", "http://127.0.0.1:8080", "whoami"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.error_line().starts_with("error: invalid value")
            && run
                .error_line()
                .contains("is not a SOCKS5 proxy address: use socks5h://"),
        "{}",
        run.stderr
    );
    let from_env = support::Run::from_output(
        alice
            .command(&["whoami"])
            .env("PARLEY_PROXY", "socks4://127.0.0.1:9050")
            .output()
            .unwrap(),
    );
    assert_eq!(from_env.code, 2, "{}", from_env.stderr);
    assert!(from_env.stderr.contains("SOCKS5"), "{}", from_env.stderr);
}

#[test]
fn commands_and_their_daemon_go_through_the_proxy_they_were_given() {
    let relay = TestRelay::start();
    let proxy = SocksProxy::start();
    let url = format!("https://localhost:{}", relay.port());
    let fingerprint = relay.fingerprint().unwrap();
    let alice = Person::new();
    let proxy_url = proxy.url();
    let proxied = |args: &[&'static str]| -> Vec<String> {
        ["--proxy", proxy_url.as_str()]
            .iter()
            .chain(args)
            .map(|s| (*s).to_owned())
            .collect()
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        alice.run(&args)
    };
    let mut init = proxied(&["init", "--handle", "alice", "--relay"]);
    init.extend([url.clone(), "--relay-fingerprint".to_owned(), fingerprint]);
    run(init).ok();
    let after_init = proxy.connections().len();
    assert!(after_init >= 1, "init did not use the proxy");

    run(proxied(&["daemon", "start"])).ok();
    run(proxied(&["read"])).ok();
    assert!(
        proxy.connections().len() > after_init,
        "the daemon did not use the proxy"
    );
    // Without --proxy, the daemon (which uses one) is refused rather than used.
    let refused = alice.run(&["read"]).fails_with(1);
    assert!(
        refused.error_line().contains("through the proxy"),
        "{}",
        refused.stderr
    );
    alice.run(&["daemon", "stop"]).ok();

    for conn in proxy.connections() {
        assert!(conn.by_name, "{conn:?}");
        assert_eq!(conn.target, format!("localhost:{}", relay.port()));
    }
}

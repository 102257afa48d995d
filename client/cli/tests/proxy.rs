//! `--proxy`: only SOCKS5 addresses are taken; `init` and later commands reach the relay
//! through the proxy (a recording one on loopback), later commands also without the flag
//! (the folder remembers it) until `--no-proxy`; and a daemon reaches the relay only the
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
    let bob = Person::new();
    bob.init(&relay, "bob").ok();
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

    // Forgetting the flag does not connect directly: the folder remembers the proxy.
    alice.run(&["send", "bob", "hello"]).ok();
    let after_forgetting = proxy.connections().len();
    assert!(
        after_forgetting > after_init,
        "a command without --proxy did not use the remembered proxy"
    );

    run(proxied(&["daemon", "start"])).ok();
    run(proxied(&["read"])).ok();
    let after_daemon = proxy.connections().len();
    assert!(
        after_daemon > after_forgetting,
        "the daemon did not use the proxy"
    );
    // Without a flag the daemon is used; with --no-proxy, the daemon (which uses a proxy) is
    // refused rather than used.
    alice.run(&["read"]).ok();
    let refused = alice.run(&["--no-proxy", "read"]).fails_with(1);
    assert!(
        refused.error_line().contains("through the proxy"),
        "{}",
        refused.stderr
    );
    alice.run(&["daemon", "stop"]).ok();

    // --no-proxy goes directly, and is remembered in turn.
    let before_direct = proxy.connections().len();
    alice.run(&["--no-proxy", "send", "bob", "direct"]).ok();
    alice.run(&["send", "bob", "still direct"]).ok();
    assert_eq!(
        proxy.connections().len(),
        before_direct,
        "--no-proxy still used the proxy"
    );
    let read = bob.run(&["read"]).ok();
    for text in ["hello", "direct", "still direct"] {
        assert!(read.stdout.contains(text), "{}", read.stdout);
    }
    // PARLEY_PROXY and --no-proxy together contradict each other: a usage error.
    let both = support::Run::from_output(
        alice
            .command(&["--no-proxy", "read"])
            .env("PARLEY_PROXY", proxy.url())
            .output()
            .unwrap(),
    );
    assert_eq!(both.code, 2, "{}", both.stderr);

    for conn in proxy.connections() {
        assert!(conn.by_name, "{conn:?}");
        assert_eq!(conn.target, format!("localhost:{}", relay.port()));
    }
}

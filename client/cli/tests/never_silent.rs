//! Nothing is lost without a word: a message written while the relay is down waits in the
//! outbox and says so, is sent by a later command, and can be listed or cancelled; stored
//! alerts and messages set aside are shown by `parley alerts`; success lines go to stderr
//! unless --quiet.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use parley_proto::v1::DepositRequest;
use support::{Person, TestRelay};

#[test]
fn a_message_written_while_the_relay_is_down_waits_and_is_sent_by_the_next_command() {
    let mut relay = TestRelay::plaintext();
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    alice.run(&["send", "bob", "first"]).ok();

    relay.blocking_stop();
    let queued = alice.run(&["send", "bob", "written offline"]).fails_with(4);
    assert!(
        queued.stderr.starts_with("error: queued, not yet sent"),
        "{}",
        queued.stderr
    );
    alice.run(&["send", "bob", "second offline"]).fails_with(4);
    let listed = alice.run(&["outbox"]).ok().stdout;
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].starts_with("0  "), "{listed}");
    assert!(
        lines[0].ends_with("to bob  [waiting]: written offline"),
        "{listed}"
    );
    assert!(
        lines[1].ends_with("to bob  [waiting]: second offline"),
        "{listed}"
    );
    let json = alice.run(&["--json", "outbox"]).ok().stdout;
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["text"], "written offline");
    assert_eq!(first["failed"], serde_json::Value::Null);

    // Cancelling drops one without sending it; a number that is not there is refused.
    alice.run(&["outbox", "--cancel", "1"]).ok();
    let missing = alice.run(&["outbox", "--cancel", "7"]).fails_with(1);
    assert!(
        missing.stderr.contains("no message 7 in the outbox"),
        "{}",
        missing.stderr
    );

    relay.blocking_restart();
    // Alice's next read sends what waited, before anything else.
    alice.run(&["read"]).ok();
    assert_eq!(alice.run(&["outbox"]).ok().stdout, "");
    assert_eq!(
        bob.run(&["read"]).ok().stdout,
        "* alice started a private conversation with you; alice was not one of your contacts before\n\
         alice: first\nalice: written offline\n"
    );
}

#[test]
fn success_lines_go_to_stderr_and_quiet_leaves_them_out() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    let sent = alice.run(&["send", "bob", "hello"]).ok();
    assert_eq!(
        (sent.stdout.as_str(), sent.stderr.as_str()),
        ("", "Sent to bob.\n")
    );
    let quiet = alice.run(&["--quiet", "send", "bob", "hello again"]).ok();
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));
    let created = alice
        .run(&["-q", "group", "create", "team", "--members", "bob"])
        .ok();
    assert_eq!(created.stderr, "");
    // Errors are never quiet.
    let refused = alice
        .run(&["--quiet", "send", "nobody-here", "hi"])
        .fails_with(1);
    assert!(refused.stderr.starts_with("error: "), "{}", refused.stderr);
}

#[test]
fn alerts_show_what_was_refused_and_set_aside() {
    let relay = TestRelay::plaintext();
    let bob = Person::new();
    bob.init(&relay, "bob");
    assert_eq!(bob.run(&["alerts"]).ok().stdout, "");

    // Someone deposits garbage into Bob's inbox: it is refused, and Bob is told.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        relay
            .inbox()
            .await
            .deposit(DepositRequest {
                handle: "bob".into(),
                envelope: vec![0x42; 512],
            })
            .await
            .unwrap();
    });
    bob.run(&["read"]).ok();
    let shown = bob.run(&["alerts"]).ok().stdout;
    assert!(shown.lines().any(|l| l.starts_with("alert: ")), "{shown}");
    assert!(shown.contains("set aside in your inbox: "), "{shown}");
    let json = bob.run(&["--json", "alerts"]).ok().stdout;
    assert!(json
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(json.contains("\"set_aside\""), "{json}");
}

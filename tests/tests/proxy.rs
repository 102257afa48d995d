//! A network path the relay cannot see: with `ClientBuilder::proxy`, every connection of a
//! client goes through the SOCKS5 proxy (here a recording one on loopback, as Tor would be),
//! names the relay by host name (socks5h), runs TLS with the pinned certificate through it,
//! and uses credentials of its own, so that Tor would give each channel its own circuit.

// Test helpers outside #[test] functions: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(test)]
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{builder, sync_until, Named, PATIENCE};
use parley_client::{Client, ClientError, ProxyUrlError};
use parley_testkit::{SocksProxy, TestRelay};

/// A client of `relay` (by the name `localhost`, which only the proxy resolves) through
/// `proxy`, registered as `handle`.
async fn through_proxy(
    relay: &TestRelay,
    proxy: &SocksProxy,
    handle: &str,
) -> (tempfile::TempDir, Client) {
    let home = tempfile::tempdir().unwrap();
    let client = builder(home.path())
        .relay(format!("https://localhost:{}", relay.port()))
        .relay_fingerprint(relay.fingerprint().unwrap())
        .proxy(proxy.url())
        .build()
        .await
        .unwrap();
    client.register_as(handle).await.unwrap();
    (home, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_goes_through_the_proxy_with_its_own_credentials() {
    let relay = TestRelay::builder().record_connections().start();
    let proxy = SocksProxy::start();
    let (_alice_home, alice) = through_proxy(&relay, &proxy, "alice").await;
    let (_bob_home, bob) = through_proxy(&relay, &proxy, "bob").await;

    alice.say("bob", "over tor").await.unwrap();
    assert_eq!(sync_until(&bob, 1).await.len(), 1);
    bob.say("alice", "likewise").await.unwrap();
    assert_eq!(sync_until(&alice, 1).await.len(), 1);
    alice.create("pair", &["bob".to_owned()]).await.unwrap();
    alice.say("pair", "in a group").await.unwrap();
    assert_eq!(sync_until(&bob, 1).await.len(), 1);

    let proxied = proxy.connections();
    let at_relay = relay.connections();
    // The relay accepted no connection the proxy did not make: every one came through it.
    assert_eq!(
        proxied.len(),
        at_relay.len(),
        "proxy {proxied:#?}\nrelay {at_relay:#?}"
    );
    let relay_sides: BTreeSet<_> = proxied.iter().filter_map(|c| c.relay_side).collect();
    for conn in &at_relay {
        assert!(
            relay_sides.contains(&conn.peer),
            "the relay saw {} directly: {conn:?}",
            conn.peer
        );
    }
    // socks5h: the proxy, not this computer, resolved the relay's name.
    let target = format!("localhost:{}", relay.port());
    for conn in &proxied {
        assert!(conn.by_name, "{conn:?}");
        assert_eq!(conn.target, target);
    }
    // Each channel its own credentials (no channel reconnected in this exchange).
    let usernames: BTreeSet<_> = proxied.iter().map(|c| c.username.clone()).collect();
    let passwords: BTreeSet<_> = proxied.iter().map(|c| c.password.clone()).collect();
    assert_eq!(usernames.len(), proxied.len(), "{proxied:#?}");
    assert_eq!(passwords.len(), proxied.len(), "{proxied:#?}");
    // Owner, 1:1 and group channels of both people, and one-offs for the anonymous calls.
    assert!(proxied.len() >= 6, "{proxied:#?}");

    // One-off connections close right after their call.
    let one_offs: BTreeSet<_> = at_relay
        .iter()
        .filter(|c| !c.anonymous().is_empty())
        .map(|c| c.peer)
        .collect();
    assert!(!one_offs.is_empty());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let open: Vec<_> = proxy
            .connections()
            .into_iter()
            .filter(|c| c.relay_side.is_some_and(|side| one_offs.contains(&side)) && !c.ended)
            .collect();
        if open.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "one-off connections still open: {open:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn only_socks5_proxies_are_accepted() {
    let home = tempfile::tempdir().unwrap();
    for url in ["http://127.0.0.1:8080", "socks4://127.0.0.1:9050", "tor"] {
        match builder(home.path()).proxy(url).build().await {
            Err(ClientError::InvalidProxy(ProxyUrlError::UnsupportedScheme(given))) => {
                assert_eq!(given, url);
            }
            Err(other) => panic!("{url}: unexpected {other:?}"),
            Ok(_) => panic!("{url} was accepted"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_proxy_means_an_unreachable_relay() {
    let relay = TestRelay::start();
    // A port nothing listens on: bind, read the port, let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = tempfile::tempdir().unwrap();
    let client = builder(home.path())
        .relay(relay.url())
        .relay_fingerprint(relay.fingerprint().unwrap())
        .proxy(format!("socks5h://127.0.0.1:{port}"))
        .build()
        .await
        .unwrap();
    match client.register_as("alice").await {
        Err(ClientError::RelayUnreachable(why)) => {
            assert!(why.contains("proxy"), "{why}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_folder_remembers_its_proxy_until_told_to_go_direct() {
    let relay = TestRelay::start();
    let proxy = SocksProxy::start();
    let (home, alice) = through_proxy(&relay, &proxy, "alice").await;
    drop(alice);
    let reopen =
        |builder: parley_client::ClientBuilder| async move { builder.build().await.unwrap() };

    // Reopened without naming a proxy: it goes through the remembered one.
    let before = proxy.connections().len();
    let alice = reopen(builder(home.path())).await;
    assert_eq!(
        alice.proxy().await.map(|p| p.to_string()),
        Some(proxy.url())
    );
    alice.sync().await.unwrap();
    assert!(
        proxy.connections().len() > before,
        "the remembered proxy was not used"
    );
    drop(alice);

    // direct() goes directly (the relay's name resolves here) and forgets the proxy.
    let alice = reopen(builder(home.path()).direct()).await;
    assert_eq!(alice.proxy().await, None);
    drop(alice);
    let before = proxy.connections().len();
    let alice = reopen(builder(home.path())).await;
    assert_eq!(alice.proxy().await, None);
    alice.sync().await.unwrap();
    assert_eq!(
        proxy.connections().len(),
        before,
        "a forgotten proxy was used"
    );
}

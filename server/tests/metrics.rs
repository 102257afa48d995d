//! Prometheus metrics over real HTTP: the numbers move with traffic and the exposition parses.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod limits_support;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use common::{ack, fetch, group_auth, User};
use futures::StreamExt;
use limits_support::{deposit, generous, limited, FromSource, CALM, FLOODER};
use parley_crypto::auth::{body, GroupMethod, OwnerMethod};
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::{ChallengeRequest, CreateGroupRequest, PostRequest, SubscribeInboxRequest};
use parley_relay::LimitsConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one HTTP/1.1 request and returns (status line, headers, body).
async fn http(addr: SocketAddr, request: &str) -> (String, HashMap<String, String>, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect::<HashMap<_, _>>();
    if let Some(length) = headers.get("content-length") {
        assert_eq!(length.parse::<usize>().unwrap(), body.len());
    }
    (status, headers, body.to_owned())
}

/// Parses the text exposition format strictly enough to catch malformed output: every sample
/// belongs to a family declared by `# HELP` and `# TYPE`, names and labels are well formed and
/// values are numbers. Returns `name{labels}` -> value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let valid_name = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()))
    };
    let mut types = HashMap::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(valid_name(name) && !help.is_empty(), "{line}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{line}"
            );
        } else {
            assert!(!line.starts_with('#'), "{line}");
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
            let name = series.split('{').next().unwrap();
            assert!(valid_name(name), "{line}");
            assert!(name.starts_with("parley_"), "{line}");
            if let Some(labels) = series.strip_prefix(name) {
                if !labels.is_empty() {
                    let inner = labels.strip_prefix('{').unwrap().strip_suffix('}').unwrap();
                    for pair in inner.split(',') {
                        let (key, quoted) = pair.split_once('=').unwrap();
                        assert!(valid_name(key), "{line}");
                        assert!(quoted.starts_with('"') && quoted.ends_with('"'), "{line}");
                    }
                }
            }
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    let base = name.strip_suffix(suffix)?;
                    (types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "undeclared family: {line}");
            assert!(samples.insert(series.to_owned(), value).is_none(), "{line}");
        }
    }
    samples
}

async fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let (status, headers, body) = http(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: relay\r\nAccept: text/plain\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers["content-type"].starts_with("text/plain; version=0.0.4"));
    parse(&body)
}

#[tokio::test]
async fn metrics_move_with_traffic_and_parse() {
    // Every source may make 40 calls at once: enough for the traffic below, and the flooder
    // runs out.
    let mut relay = limited(LimitsConfig {
        source_requests_per_second: 1,
        source_burst: 40,
        refusal_delay_ms: 0,
        ..generous()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    let (stop_metrics, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics_task = tokio::spawn(parley_relay::serve_metrics(
        relay.metrics(),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));

    let initial = scrape(metrics_addr).await;
    assert_eq!(
        initial["parley_messages_accepted_total{kind=\"inbox\"}"],
        0.0
    );
    assert_eq!(initial["parley_flush_duration_seconds_count"], 0.0);
    assert!(initial["parley_disk_bytes"] > 0.0);

    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    for _ in 0..3 {
        deposit(&mut inbox, "bob", vec![5; 256]).await.unwrap();
    }
    let mut groups = GroupsClient::new(relay.channel_from(CALM).await);
    let group_id = common::random::<32>();
    let key = common::access_key();
    let public = key.public_key().to_bytes();
    groups
        .create(CreateGroupRequest {
            group_id: group_id.to_vec(),
            access_key: public.to_vec(),
            auth: Some(group_auth(
                &key,
                GroupMethod::Create,
                &group_id,
                0,
                body::create(&public),
            )),
        })
        .await
        .unwrap();
    groups
        .post(PostRequest {
            group_id: group_id.to_vec(),
            epoch: 0,
            message: vec![6; 512],
            auth: Some(group_auth(
                &key,
                GroupMethod::Post,
                &group_id,
                0,
                body::post(&[6; 512]),
            )),
        })
        .await
        .unwrap();
    let pending = fetch(&mut directory, &mut inbox, &bob).await;
    assert_eq!(pending.len(), 3);
    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
        .await;
    let mut subscription = inbox
        .subscribe(SubscribeInboxRequest {
            handle: "bob".into(),
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner();
    for _ in 0..3 {
        subscription.next().await.unwrap().unwrap();
    }
    let mut flooder = relay.directory_from(FLOODER).await;
    let mut refused = 0;
    for _ in 0..60 {
        if flooder
            .challenge(ChallengeRequest {
                handle: "alice".into(),
            })
            .await
            .is_err()
        {
            refused += 1;
        }
    }
    assert!(refused >= 15, "{refused}");

    let m = scrape(metrics_addr).await;
    assert_eq!(m["parley_messages_accepted_total{kind=\"inbox\"}"], 3.0);
    assert_eq!(m["parley_messages_accepted_total{kind=\"group\"}"], 1.0);
    assert_eq!(
        m["parley_message_bytes_accepted_total{kind=\"inbox\"}"],
        768.0
    );
    assert_eq!(
        m["parley_message_bytes_accepted_total{kind=\"group\"}"],
        512.0
    );
    // Three by fetch, the same three again by the subscription.
    assert_eq!(m["parley_messages_delivered_total{kind=\"inbox\"}"], 6.0);
    assert_eq!(m["parley_stored_bytes{kind=\"inbox\"}"], 768.0);
    assert_eq!(m["parley_stored_bytes{kind=\"group\"}"], 512.0);
    assert_eq!(m["parley_active_streams{kind=\"inbox\"}"], 1.0);
    assert_eq!(m["parley_active_streams{kind=\"group\"}"], 0.0);
    assert_eq!(
        m["parley_rejections_total{reason=\"source_rate\"}"],
        f64::from(refused)
    );
    assert_eq!(m["parley_rejections_total{reason=\"inbox_messages\"}"], 0.0);
    // Register, three deposits, create, post: six durable writes.
    let flushes = m["parley_flush_duration_seconds_count"];
    assert!(flushes >= 6.0, "{flushes}");
    assert_eq!(
        m["parley_flush_duration_seconds_bucket{le=\"+Inf\"}"],
        flushes
    );
    assert!(m["parley_flush_duration_seconds_sum"] > 0.0);
    let buckets: Vec<f64> = m
        .iter()
        .filter(|(k, _)| k.starts_with("parley_flush_duration_seconds_bucket"))
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(buckets.len(), 14);
    assert!(buckets.iter().all(|b| *b <= flushes));

    // Acknowledging releases stored bytes; closing the subscription closes its stream.
    ack(
        &mut directory,
        &mut inbox,
        &bob,
        pending.iter().map(|d| d.id).collect(),
    )
    .await;
    drop(subscription);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let m = scrape(metrics_addr).await;
        if m["parley_active_streams{kind=\"inbox\"}"] == 0.0 {
            assert_eq!(m["parley_stored_bytes{kind=\"inbox\"}"], 0.0);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "stream never closed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Only /metrics is served.
    let (status, _, _) = http(metrics_addr, "GET / HTTP/1.1\r\nHost: relay\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, _, _) = http(
        metrics_addr,
        "POST /metrics HTTP/1.1\r\nHost: relay\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");

    relay.stop().await;
    drop(stop_metrics);
    tokio::time::timeout(Duration::from_secs(5), metrics_task)
        .await
        .expect("the metrics listener did not stop")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn stored_bytes_are_counted_again_after_a_restart() {
    let mut relay = limited(generous());
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    User::new("bob").register(&mut directory).await;
    deposit(&mut inbox, "bob", vec![1; 2048]).await.unwrap();
    relay.restart().await;
    let m = parse(&relay.metrics().render());
    assert_eq!(m["parley_stored_bytes{kind=\"inbox\"}"], 2048.0);
    assert_eq!(m["parley_messages_accepted_total{kind=\"inbox\"}"], 0.0);
    relay.stop().await;
}

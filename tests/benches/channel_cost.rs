//! What separate channels cost a send, measured in one run against one relay (TLS on
//! loopback): the anonymous calls of a first message (a directory lookup and a deposit) on
//! one shared, already open connection (the old client) versus each on a connection of its
//! own, opened for it and closed after (what the client does now), and a send to an
//! existing conversation through the real client, whose group connection stays open.
//!
//! Run: `cargo bench -p parley-tests --bench channel_cost`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{DepositRequest, LookupRequest};
use parley_testkit::{TestRelay, TestUser};
use support::client;
use tempfile::TempDir;
use tonic::transport::Channel;

const RUNS: usize = 30;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One first-message's anonymous calls on the given connections.
async fn lookup_and_deposit(lookup_on: Channel, deposit_on: Channel, envelope: Vec<u8>) {
    DirectoryClient::new(lookup_on)
        .lookup(LookupRequest {
            handle: "bob".into(),
        })
        .await
        .unwrap();
    InboxClient::new(deposit_on)
        .deposit(DepositRequest {
            handle: "bob".into(),
            envelope,
        })
        .await
        .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let relay = TestRelay::start();
    let (alice, bob) = (TestUser::new("alice"), TestUser::new("bob"));
    let mut directory = relay.directory().await;
    bob.register(&mut directory).await;
    let envelope = || alice.seal_to(&bob, b"first words");

    // Interleaved so that drift on a busy machine hits both alike.
    let shared = relay.channel().await;
    lookup_and_deposit(shared.clone(), shared.clone(), envelope()).await;
    let (mut one, mut own) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let start = Instant::now();
        lookup_and_deposit(shared.clone(), shared.clone(), envelope()).await;
        one.push(start.elapsed());
        let start = Instant::now();
        let (a, b) = (relay.channel().await, relay.channel().await);
        lookup_and_deposit(a, b, envelope()).await;
        own.push(start.elapsed());
    }
    let (one, own) = (median(one), median(own));

    // The real client: a send to an existing conversation rides its open group connection.
    let homes = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let sender = client(&relay, &homes.0, "carol").await;
    let receiver = client(&relay, &homes.1, "dave").await;
    let to = sender.resolve("dave").await.unwrap();
    sender.send_text(&to, "hello").await.unwrap();
    receiver.sync().await.unwrap();
    let mut sends = Vec::new();
    for i in 0..RUNS {
        let start = Instant::now();
        sender
            .send_text(&to, &format!("message {i}"))
            .await
            .unwrap();
        sends.push(start.elapsed());
    }
    let send = median(sends);

    println!("separate channels, median of {RUNS} (TLS relay on loopback, same run):");
    println!(
        "  lookup + deposit on one shared open connection:   {:8.2} ms",
        ms(one)
    );
    println!(
        "  lookup + deposit, each on a connection of its own: {:8.2} ms",
        ms(own)
    );
    println!(
        "  ratio own / shared:                                {:8.2}x",
        ms(own) / ms(one)
    );
    println!(
        "  client send to an existing 1:1 (open group conn):  {:8.2} ms",
        ms(send)
    );
}

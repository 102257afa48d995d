//! The operator's commands on a PostgreSQL store, run as the real binary while relay nodes
//! serve: `check-config` connects and reads the schema (and refuses a database it cannot
//! use, without printing the password), and `handle release` frees a handle on the shared
//! database so that any node serves the new owner. Skipped (in one line) where no PostgreSQL
//! server runs, unless `PARLEY_REQUIRE_POSTGRES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Output};

use common::process::RelayProcess;
use common::User;
use parley_proto::v1::{DepositRequest, LookupRequest};
use parley_testkit::postgres::scratch_database;
use tonic::Code;

/// Runs the relay binary with `args` and no `PARLEY_RELAY_*` variable of the test runner's.
fn relay_command(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley-relay"));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PARLEY_RELAY_") {
            command.env_remove(name);
        }
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_connects_to_the_database_and_reads_its_schema() {
    let Some((url, _database)) = scratch_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    let fresh = relay_command(&["check-config", "--data", data, "--store", &url]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert!(
        stdout(&fresh).contains("# PostgreSQL store reachable; no Parley schema yet"),
        "{}",
        stdout(&fresh)
    );

    let node = RelayProcess::start_with_env(
        &dir.path().join("node"),
        &dir.path().join("node.log"),
        &[("PARLEY_RELAY_STORE", url.as_str())],
    )
    .await;
    let migrated = relay_command(&["check-config", "--data", data, "--store", &url]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert!(
        stdout(&migrated).contains("# PostgreSQL store reachable; schema version 3, this relay's"),
        "{}",
        stdout(&migrated)
    );
    node.kill();

    // A database a newer relay migrated: this relay would refuse to start on it.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute("INSERT INTO parley_schema (version) VALUES (99)", &[])
        .await
        .unwrap();
    let newer = relay_command(&["check-config", "--data", data, "--store", &url]);
    assert!(!newer.status.success());
    assert!(
        stderr(&newer).contains("is at schema version 99, newer than this relay knows (3)"),
        "{}",
        stderr(&newer)
    );
}

#[test]
fn check_config_refuses_an_unreachable_database_without_showing_its_password() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let url = "postgres://parley:hunter2secret@127.0.0.1:1/parley?sslmode=disable";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = relay_command(&[
        "check-config",
        "--data",
        data.to_str().unwrap(),
        "--store",
        url,
    ]);
    assert!(!output.status.success(), "{}", stdout(&output));
    let said = stderr(&output);
    assert!(said.contains("cannot reach the PostgreSQL store"), "{said}");
    assert!(said.contains("127.0.0.1:1/parley"), "{said}");
    assert!(!said.contains("hunter2secret"), "{said}");
    assert!(!stdout(&output).contains("hunter2secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_released_on_postgres_is_free_on_every_node_while_they_serve() {
    let Some((url, _database)) = scratch_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = [("PARLEY_RELAY_STORE", url.as_str())];
    let mut nodes = Vec::new();
    for name in ["one", "two"] {
        let data = dir.path().join(name);
        let log = dir.path().join(format!("{name}.log"));
        nodes.push(RelayProcess::start_with_env(&data, &log, &env).await);
    }
    let alice = User::new("alice");
    let mut directory = nodes[0].directory().await;
    alice.register(&mut directory).await;
    let key_packages: Vec<Vec<u8>> = (0u8..3).map(|i| vec![i; 512]).collect();
    let last_resort = vec![0xaa; 512];
    common::publish_key_packages(&mut directory, &alice, key_packages, last_resort).await;
    let mut inbox = nodes[1].inbox().await;
    for i in 0..2u8 {
        inbox
            .deposit(DepositRequest {
                handle: "alice".into(),
                envelope: vec![i; 256],
            })
            .await
            .unwrap();
    }

    let data = dir.path().join("operator");
    let data = data.to_str().unwrap();
    let released = relay_command(&[
        "handle", "release", "alice", "--data", data, "--store", &url,
    ]);
    assert!(released.status.success(), "{}", stderr(&released));
    assert!(
        stdout(&released).contains(
            "released alice: its record, 4 KeyPackages and 2 waiting deliveries were deleted"
        ),
        "{}",
        stdout(&released)
    );
    let again = relay_command(&[
        "handle", "release", "alice", "--data", data, "--store", &url,
    ]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("alice is not registered on this relay"));

    // Both nodes, still running, have forgotten alice; a new owner registers through node 2
    // and is served by node 1, with an empty inbox.
    for node in &nodes {
        let err = node
            .directory()
            .await
            .lookup(LookupRequest {
                handle: "alice".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
    let new_alice = User::new("alice");
    new_alice.register(&mut nodes[1].directory().await).await;
    let found = nodes[0]
        .directory()
        .await
        .lookup(LookupRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .record;
    let found = parley_crypto::directory::SignedRecord::decode_and_verify(&found).unwrap();
    assert_eq!(
        found.record().identity_key.to_bytes(),
        new_alice.record().record().identity_key.to_bytes(),
        "the new key holds the handle"
    );
    let pending = common::drain(
        &mut nodes[0].directory().await,
        &mut nodes[0].inbox().await,
        &new_alice,
    )
    .await;
    assert!(pending.is_empty(), "the old owner's deliveries are gone");
}

//! Runs one client step in its own process so that a crash test can kill it at a failpoint.
//!
//! `crash_step HOME sync | send TO TEXT | group NAME MEMBER... | add GROUP HANDLE`
//!
//! The client opens from HOME with the test passphrase and cheap KDF parameters (as the test
//! harness does). With `PARLEY_FAILPOINT` set, the library aborts the process at that point.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use parley_client::{Client, KdfParams, Passphrase};

/// The passphrase of every test client's store (tests/tests/common/mod.rs).
const PASSPHRASE: &str = "correct horse battery staple";

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (home, step) = match args.split_first() {
        Some((home, step)) if !step.is_empty() => (home, step),
        _ => bail!(
            "usage: crash_step HOME sync | send TO TEXT | group NAME MEMBER... | add GROUP HANDLE"
        ),
    };
    let client = open(home).await?;
    match step {
        [cmd] if cmd == "sync" => {
            let got = client.sync().await.context("sync")?;
            println!("synced {} messages", got.len());
        }
        [cmd, to, text] if cmd == "send" => {
            client.send_text(to, text).await.context("send")?;
        }
        [cmd, name, members @ ..] if cmd == "group" => {
            client.create_group(name, members).await.context("group")?;
        }
        [cmd, group, handle] if cmd == "add" => {
            client.add_member(group, handle).await.context("add")?;
        }
        _ => bail!("unknown step {step:?}"),
    }
    Ok(())
}

/// Opens the client in `home`, retrying while the parent's instance still holds the store lock.
async fn open(home: &str) -> anyhow::Result<Client> {
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let built = Client::builder()
            .home(home)
            .passphrase(Passphrase::new(PASSPHRASE.to_owned()))
            .kdf_params(KdfParams::insecure_for_tests())
            .build()
            .await;
        match built {
            Ok(client) => return Ok(client),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e).context("opening the client"),
        }
    }
}

//! The real `parley-relay` binary as a child process, for tests that kill it or make its
//! disk fail under it.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::ChallengeRequest;
use rand::Rng;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Kill-and-restart cycles a crash test runs: 20, or `PARLEY_CRASH_CYCLES`.
pub fn crash_cycles() -> u32 {
    std::env::var("PARLEY_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

/// The relay binary running on a data directory.
pub struct RelayProcess {
    child: Child,
    /// Where it serves plaintext gRPC.
    pub addr: SocketAddr,
}

impl RelayProcess {
    /// Starts the relay on a free loopback port and waits until it answers.
    pub async fn start(data: &Path, log: &Path) -> RelayProcess {
        RelayProcess::start_with_env(data, log, &[]).await
    }

    /// Starts the relay as [`RelayProcess::start`] does, with extra environment variables
    /// (`PARLEY_RELAY_*` settings).
    pub async fn start_with_env(data: &Path, log: &Path, env: &[(&str, &str)]) -> RelayProcess {
        // A fresh port per start: the previous one may linger after the kill.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_parley-relay"))
            .arg("--plaintext")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data")
            .arg(data)
            // The load comes from one address; per-source limiting would only slow it.
            .env("PARLEY_RELAY_LIMITS_SOURCE_REQUESTS_PER_SECOND", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut relay = RelayProcess { child, addr };
        relay.wait_ready().await;
        relay
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("relay exited during start: {status}");
            }
            if let Ok(channel) = self.try_channel().await {
                if DirectoryClient::new(channel)
                    .challenge(ChallengeRequest {
                        handle: "alice".into(),
                    })
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "relay did not start in time");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn try_channel(&self) -> Result<Channel, tonic::transport::Error> {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(2))
            .connect()
            .await
    }

    pub async fn channel(&self) -> Channel {
        self.try_channel().await.unwrap()
    }

    /// A Directory client on a new connection.
    pub async fn directory(&self) -> DirectoryClient<Channel> {
        DirectoryClient::new(self.channel().await)
    }

    /// An Inbox client on a new connection.
    pub async fn inbox(&self) -> InboxClient<Channel> {
        InboxClient::new(self.channel().await)
    }

    /// Whether the process is still running (it has not exited or crashed).
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGKILL, then reap.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Lets `writers` load the relay for a random 20 to 400 ms, kills it with SIGKILL (setting
    /// `killed` first, so that writers take the failures that follow for the kill), waits for
    /// them to stop, and starts the relay again on `data`.
    pub async fn kill_under_load_and_restart(
        self,
        writers: Vec<JoinHandle<()>>,
        killed: &AtomicBool,
        data: &Path,
        log: &Path,
    ) -> RelayProcess {
        let delay = rand::thread_rng().gen_range(20..400);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        killed.store(true, Ordering::SeqCst);
        self.kill();
        for writer in writers {
            writer.await.unwrap();
        }
        RelayProcess::start(data, log).await
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        // A failing test must not leave a relay behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

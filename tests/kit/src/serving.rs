//! One run of a relay: `Relay::open`, then `Relay::serve` on a loopback listener, on a
//! multi-thread runtime owned by the run, until it is stopped or killed.
//!
//! The runtime is the relay's own so that the relay keeps answering whatever the test thread
//! does: a synchronous test blocks on the `parley` binary, an async test on its own
//! single-threaded runtime awaits its clients.

use std::fs::OpenOptions;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use std::sync::Arc;

use parley_relay::observe::RequestObserver;
use parley_relay::{Metrics, Relay, RelayConfig, RelayError, TlsReloader};
use tokio::net::{TcpListener, TcpSocket};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a relay may take to stop gracefully; the relay ends its own subscriptions, so
/// only a bug takes this long.
const STOP_PATIENCE: Duration = Duration::from_secs(30);
/// How long a start waits for the database and the port to be free after the previous run,
/// whose last tasks may still be closing them.
const START_PATIENCE: Duration = Duration::from_secs(10);

/// What a started relay reports about itself.
pub(crate) struct Started {
    pub(crate) addr: SocketAddr,
    pub(crate) fingerprint: Option<String>,
    pub(crate) metrics: Metrics,
    pub(crate) reloader: Option<TlsReloader>,
}

/// A relay serving on its own runtime.
pub(crate) struct Serving {
    /// sled's lock file, which the relay holds while its database is open.
    lock_file: PathBuf,
    runtime: Option<Runtime>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), RelayError>>>,
}

impl Serving {
    /// Opens the relay `config` describes and serves it on `127.0.0.1:port` (0: any port),
    /// handing every request to `observer` if there is one.
    pub(crate) fn start(
        config: RelayConfig,
        port: u16,
        observer: Option<Arc<dyn RequestObserver>>,
    ) -> (Serving, Started) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-relay")
            .enable_all()
            .build()
            .expect("building the test relay's runtime");
        let data_dir = config.data_dir.clone();
        let lock_file = data_dir.join("db").join("db");
        let relay = patiently(&format!("open a relay in {}", data_dir.display()), || {
            match Relay::open(config.clone()) {
                // sled reports the lock of a database still held by the previous run as a
                // database error; anything else will not go away by waiting.
                Err(RelayError::Database(e)) => Err(e),
                Err(other) => panic!("cannot open a relay in {}: {other}", data_dir.display()),
                Ok(relay) => Ok(relay),
            }
        });
        let relay = match observer {
            Some(observer) => relay.observe(observer),
            None => relay,
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = {
            // Tokio's listener registers with the runtime it is made in: the relay's.
            let _inside = runtime.enter();
            patiently(&format!("listen on {addr}"), || {
                listen(addr).map_err(|e| e.to_string())
            })
        };
        let started = Started {
            addr: listener
                .local_addr()
                .expect("reading the listener's address"),
            fingerprint: relay.tls_fingerprint(),
            metrics: relay.metrics(),
            reloader: relay.tls_reloader(),
        };
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = runtime.spawn(relay.serve(listener, async move {
            let _ = stopped.await;
        }));
        let serving = Serving {
            lock_file,
            runtime: Some(runtime),
            shutdown: Some(shutdown),
            task: Some(task),
        };
        (serving, started)
    }

    /// Asks the relay to stop: it reports NOT_SERVING for its shutdown grace, then stops
    /// accepting calls, ends its subscriptions, finishes in-flight calls and flushes.
    pub(crate) fn signal(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Stops the relay gracefully and waits until its database is closed; panics if it
    /// fails to stop, or stops with an error.
    ///
    /// Async because the relay says goodbye to each connection (HTTP/2 GOAWAY, then a ping
    /// the client must answer): a test blocking its own runtime here would keep its clients
    /// from answering, and the relay from stopping.
    pub(crate) async fn stop(mut self) {
        self.signal();
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(STOP_PATIENCE, task).await {
                Err(_) => panic!("the test relay did not stop within {STOP_PATIENCE:?}"),
                Ok(Err(join)) => panic!("the test relay's task failed: {join}"),
                Ok(Ok(Err(e))) => panic!("the test relay stopped with an error: {e}"),
                Ok(Ok(Ok(()))) => {}
            }
        }
        if let Some(runtime) = self.runtime.take() {
            // Waits for the tasks the relay left (streams being torn down) to be dropped, so
            // the database is closed when this returns; waiting is a blocking call.
            tokio::task::spawn_blocking(move || runtime.shutdown_timeout(STOP_PATIENCE))
                .await
                .expect("shutting down the test relay's runtime");
        }
        // sled lets go of its file lock only when its last background write ends, a moment
        // after the database itself is dropped; whatever the test opens next needs it.
        let lock_file = self.lock_file.clone();
        tokio::task::spawn_blocking(move || {
            patiently("see the relay's database closed", || unlocked(&lock_file))
        })
        .await
        .expect("waiting for the test relay's database to close");
    }
}

/// Whether nobody holds sled's lock on `lock_file` (a relay on PostgreSQL has none): takes
/// the lock and lets it go at once.
fn unlocked(lock_file: &Path) -> Result<(), String> {
    let file = match OpenOptions::new().read(true).write(true).open(lock_file) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("opening {}: {e}", lock_file.display())),
    };
    // Closing the file releases the lock.
    file.try_lock()
        .map_err(|e| format!("{} is still locked: {e}", lock_file.display()))
}

impl Drop for Serving {
    /// Kills the relay: its runtime is shut down without waiting, every task dropped where it
    /// stands, as a crash would leave it (except that sled, dropped, still writes what it had
    /// buffered). Never blocks, so it is safe anywhere, in async code too.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A loopback listener on `addr`, with `SO_REUSEADDR` as `TcpListener::bind` sets it: a
/// restarted relay gets its port back although connections of its previous run linger in
/// TIME_WAIT.
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Runs `attempt` until it succeeds, retrying for [`START_PATIENCE`] while it fails (an
/// attempt that cannot succeed by waiting panics itself); panics with the last reason after
/// that.
pub(crate) fn patiently<T>(what: &str, mut attempt: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + START_PATIENCE;
    loop {
        match attempt() {
            Ok(value) => return value,
            Err(_) if Instant::now() < deadline => {
                // A plain sleep: only the previous run's threads, never this one, free what
                // is waited for.
                thread::sleep(Duration::from_millis(50));
            }
            Err(reason) => panic!("could not {what} within {START_PATIENCE:?}: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_held_lock_is_seen_and_a_missing_file_is_no_lock() {
        let dir = tempfile::tempdir().unwrap();
        let lock_file = dir.path().join("db");
        assert!(unlocked(&lock_file).is_ok(), "no database, no lock");
        let holder = std::fs::File::create(&lock_file).unwrap();
        holder.lock().unwrap();
        assert!(unlocked(&lock_file).is_err(), "the holder's lock is seen");
        drop(holder);
        assert!(unlocked(&lock_file).is_ok(), "closing the file frees it");
    }
}

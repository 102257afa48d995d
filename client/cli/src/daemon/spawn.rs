//! Starting a folder's daemon in the background: the same `parley` binary, run as
//! `parley daemon run --spawned` in a process group of its own (so that Ctrl-C in the
//! window that started it does not stop it), handed the passphrase on its standard input and
//! waited for until it says it serves.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::paths::DaemonPaths;
use crate::context::Route;
use crate::failure::Failure;
use crate::home::Home;
use crate::passphrase::Secret;

/// How long opening the folder may take (the key derivation, the store) before the start
/// is given up.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The one line a spawned daemon writes on its standard output.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Started {
    /// It serves; its process id.
    Ready {
        /// The daemon's process id.
        pid: u32,
    },
    /// It could not start.
    Failed {
        /// The `error:` line.
        message: String,
        /// The `hint:` line.
        hint: Option<String>,
        /// The exit code a command would have given.
        code: u8,
    },
}

/// Starts the daemon of `home` with `secret`, an idle timeout written as the user would
/// (`8h`, `never`) and the way to reach the relay; returns its process id once it serves.
pub(crate) async fn start(
    home: &Home,
    secret: Secret,
    idle: &str,
    route: &Route,
) -> Result<u32, Failure> {
    let paths = DaemonPaths::of(home.dir());
    paths.check_socket_length()?;
    let home = home.clone();
    let idle = idle.to_owned();
    let route = route.clone();
    tokio::task::spawn_blocking(move || start_blocking(&home, &paths, &secret, &idle, &route))
        .await
        .map_err(|_| Failure::new("starting the Parley daemon was interrupted"))?
}

fn start_blocking(
    home: &Home,
    paths: &DaemonPaths,
    secret: &Secret,
    idle: &str,
    route: &Route,
) -> Result<u32, Failure> {
    let cannot =
        |why: std::io::Error| Failure::new(format!("cannot start the Parley daemon: {why}"));
    std::fs::create_dir_all(paths.run_dir()).map_err(cannot)?;
    std::fs::set_permissions(
        paths.run_dir(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .map_err(cannot)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(paths.log())
        .map_err(cannot)?;
    let mut command = Command::new(std::env::current_exe().map_err(cannot)?);
    if home.named_by_flag() {
        command.arg("--home").arg(home.dir());
    } else {
        command.env("PARLEY_HOME", home.dir());
    }
    // Named explicitly (PARLEY_PROXY would be inherited anyway): the daemon must go exactly
    // the way the command that started it was asked to, the folder's way when none was.
    command.env_remove("PARLEY_PROXY");
    match route {
        Route::Remembered => {}
        Route::Through(proxy) => {
            command.arg("--proxy").arg(proxy.to_string());
        }
        Route::Direct => {
            command.arg("--no-proxy");
        }
    }
    command
        .args(["daemon", "run", "--spawned", "--idle-timeout", idle])
        // The daemon's notes go to its log; RUST_LOG, if set, says how many.
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .process_group(0);
    let mut child = command.spawn().map_err(cannot)?;
    if let Some(mut stdin) = child.stdin.take() {
        // Dropped right after: the daemon reads one line, then sees the end.
        stdin
            .write_all(secret.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .map_err(cannot)?;
    }
    let Some(stdout) = child.stdout.take() else {
        return Err(Failure::new(
            "cannot start the Parley daemon: no pipe to it",
        ));
    };
    let (line_tx, line_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = line_tx.send(line);
    });
    let line = line_rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
    match serde_json::from_str::<Started>(&line) {
        Ok(Started::Ready { pid }) => Ok(pid),
        Ok(Started::Failed {
            message,
            hint,
            code,
        }) => {
            let _ = child.wait();
            Err(Failure::from_parts(message, hint, code))
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(Failure::new("the Parley daemon did not start")
                .hint(format!("its log may say why: {}", paths.log().display())))
        }
    }
}

//! `parley daemon start|stop|status|run`: the background process that lets several windows
//! use one Parley folder (see `crate::daemon`).

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use zeroize::Zeroizing;

use crate::args::DaemonCommand;
use crate::context::{Ctx, PROMPT};
use crate::daemon::paths::DaemonPaths;
use crate::daemon::server::{self, Options, StartError};
use crate::daemon::spawn::{self, Started};
use crate::daemon::wire::Request;
use crate::failure::{not_initialized, Failure};
use crate::output::{note, print_lines};
use crate::passphrase::Secret;

/// Runs one `parley daemon` command.
pub(super) async fn run(command: DaemonCommand, ctx: &Ctx) -> Result<()> {
    if !ctx.home().dir().exists() {
        return Err(not_initialized(ctx.home()).into());
    }
    match command {
        DaemonCommand::Start { idle_timeout } => start(ctx, &idle_timeout).await,
        DaemonCommand::Stop => stop(ctx).await,
        DaemonCommand::Status => status(ctx).await,
        DaemonCommand::Run {
            idle_timeout,
            spawned,
        } => {
            let idle = parse_idle(&idle_timeout)?;
            if spawned {
                run_spawned(ctx, idle).await
            } else {
                run_here(ctx, idle).await
            }
        }
    }
}

async fn start(ctx: &Ctx, idle_timeout: &str) -> Result<()> {
    parse_idle(idle_timeout)?;
    if let Some(link) = ctx.daemon().await? {
        note(&format!(
            "The Parley daemon is already running (process {}).",
            link.pid()
        ));
        return Ok(());
    }
    DaemonPaths::of(ctx.home().dir()).check_socket_length()?;
    let secret = ctx.passphrase_source().read(PROMPT)?;
    let pid = spawn::start(ctx.home(), secret, idle_timeout, ctx.route()).await?;
    note(&format!(
        "The Parley daemon is running (process {pid}). Stop it with `{} daemon stop` when you \
         leave this computer.",
        ctx.home().command()
    ));
    Ok(())
}

async fn stop(ctx: &Ctx) -> Result<()> {
    let Some(link) = ctx.daemon().await? else {
        note("The Parley daemon is not running.");
        return Ok(());
    };
    let pid = link.pid();
    let () = link.call(Request::Stop).await?;
    // Stopped means the folder can be opened again: wait until the socket is gone.
    let paths = DaemonPaths::of(ctx.home().dir());
    for _ in 0..100 {
        if !paths.socket().exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    note(&format!("The Parley daemon (process {pid}) stopped."));
    Ok(())
}

async fn status(ctx: &Ctx) -> Result<()> {
    let line = match ctx.daemon().await? {
        Some(link) => format!("running (process {})", link.pid()),
        None => "not running".to_owned(),
    };
    if ctx.json() {
        let running = line != "not running";
        crate::output::emit_json(&serde_json::json!({ "running": running, "status": line }))?;
    } else {
        print_lines([line])?;
    }
    Ok(())
}

/// `parley daemon run`: in this window, until Ctrl-C.
async fn run_here(ctx: &Ctx, idle: Option<Duration>) -> Result<()> {
    let client = ctx.open_here().await?;
    let home = ctx.home().clone();
    let command = home.command();
    server::serve(client, home, Options { idle_timeout: idle }, || {
        note(&format!(
            "The Parley daemon is running; other windows use it. Stop it with Ctrl-C or \
             `{command} daemon stop`."
        ));
    })
    .await
    .map_err(|e| start_failure(&e, ctx))?;
    Ok(())
}

/// `parley daemon run --spawned`: the passphrase on stdin, one line of JSON on stdout.
async fn run_spawned(ctx: &Ctx, idle: Option<Duration>) -> Result<()> {
    let opened = match read_stdin_secret() {
        Ok(secret) => ctx.open_with(secret).await,
        Err(failure) => Err(failure.into()),
    };
    let client = match opened {
        Ok(client) => client,
        Err(error) => {
            report(&failed(&Failure::describe(&error, ctx.home())));
            return Err(error);
        }
    };
    let served = server::serve(
        client,
        ctx.home().clone(),
        Options { idle_timeout: idle },
        || {
            report(&Started::Ready {
                pid: std::process::id(),
            });
        },
    )
    .await;
    if let Err(error) = served {
        let failure = start_failure(&error, ctx);
        report(&failed(&failure));
        return Err(failure.into());
    }
    Ok(())
}

fn start_failure(error: &StartError, ctx: &Ctx) -> Failure {
    match error {
        StartError::AlreadyRunning => Failure::new(error.to_string()).hint(format!(
            "stop it first with `{} daemon stop`",
            ctx.home().command()
        )),
        StartError::Socket { .. } => Failure::new(error.to_string()),
    }
}

fn failed(failure: &Failure) -> Started {
    Started::Failed {
        message: failure.message().to_owned(),
        hint: failure.hint_text().map(str::to_owned),
        code: failure.exit_code(),
    }
}

/// Writes the one line the starting `parley` waits for.
fn report(started: &Started) {
    if let Ok(line) = serde_json::to_string(started) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// The passphrase, as the first line of standard input.
fn read_stdin_secret() -> Result<Secret, Failure> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("cannot read the passphrase: {e}")))?;
    let trimmed = line.trim_end_matches(['\n', '\r']);
    Ok(Zeroizing::new(trimmed.to_owned()))
}

/// "30s", "15m", "8h", "2d", or "never".
fn parse_idle(text: &str) -> Result<Option<Duration>, Failure> {
    let invalid = || {
        Failure::new(format!("'{text}' is not a duration"))
            .hint("write a number and a unit: 30m, 8h, 2d (or never)")
            .code(crate::failure::EXIT_USAGE)
    };
    if text == "never" {
        return Ok(None);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "s" => number,
        "m" => number.saturating_mul(60),
        "h" => number.saturating_mul(3600),
        "d" => number.saturating_mul(86_400),
        _ => return Err(invalid()),
    };
    if seconds == 0 {
        return Err(invalid());
    }
    Ok(Some(Duration::from_secs(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_timeouts_are_read_as_people_write_them() {
        assert_eq!(parse_idle("30s").unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(parse_idle("15m").unwrap(), Some(Duration::from_secs(900)));
        assert_eq!(parse_idle("8h").unwrap(), Some(Duration::from_secs(28_800)));
        assert_eq!(
            parse_idle("2d").unwrap(),
            Some(Duration::from_secs(172_800))
        );
        assert_eq!(parse_idle("never").unwrap(), None);
        for bad in ["", "8", "h", "0m", "8 h", "-1h", "1y"] {
            assert!(parse_idle(bad).is_err(), "{bad}");
        }
    }
}

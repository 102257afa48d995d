//! `parley init`: create an identity, protect it with a passphrase and register the handle
//! on a relay. With --relay and --handle it runs unattended; without them, on a terminal,
//! it asks step by step and has the person confirm the relay's certificate fingerprint.

use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::Result;
use parley_client::{Client, ClientError, Fingerprint, RelayError, RelayUrl, WhoAmI};
use serde_json::json;

use crate::args::InitArgs;
use crate::context::{with_passphrase, Ctx};
use crate::failure::{Failure, EXIT_UNREACHABLE, EXIT_USAGE};
use crate::home::shell_quote;
use crate::output::{emit_json, note, print_lines, to_stderr};

/// What `init` needs to register, gathered from flags or by asking.
struct Setup {
    relay: String,
    handle: String,
    fingerprint: Option<String>,
}

/// Registers, then says what happened and what to do next.
pub(super) async fn run(args: InitArgs, ctx: &Ctx) -> Result<()> {
    let setup = match (args.relay, args.handle) {
        (Some(relay), Some(handle)) => Setup {
            relay,
            handle,
            fingerprint: args.relay_fingerprint,
        },
        (relay, handle) => ask_setup(relay, handle, args.relay_fingerprint).await?,
    };
    let secret = ctx.passphrase_source().read_new(
        "Choose a passphrase to protect your Parley folder: ",
        "Type the same passphrase again: ",
    )?;
    let mut builder = Client::builder()
        .home(ctx.home().dir())
        .relay(setup.relay.as_str());
    if let Some(fingerprint) = &setup.fingerprint {
        builder = builder.relay_fingerprint(fingerprint.as_str());
    }
    let builder = with_passphrase(builder, secret);
    let handle = crate::names::handle(&setup.handle)?;
    let registered = async { builder.build().await?.register(&handle).await }.await;
    let me = registered.map_err(|error| unreachable_relay(error, &setup.relay))?;
    report(&me, ctx)
}

fn report(me: &WhoAmI, ctx: &Ctx) -> Result<()> {
    let next = format!(
        "Next: tell your contacts your handle ({}), then write to them: {} send <their handle> 'hello'",
        me.handle,
        ctx.home().command()
    );
    if ctx.json() {
        emit_json(&json!({
            "handle": me.handle.as_str(),
            "relay": me.relay_url.to_string(),
            "relay_fingerprint": me.relay_fingerprint.map(|f| f.to_hex()),
            "identity_key": me.identity_key,
            "home": ctx.home().dir().display().to_string(),
        }))?;
        to_stderr(&next);
        return Ok(());
    }
    print_lines([
        format!("Registered {} on {}.", me.handle, me.relay_url),
        format!("Your identity key fingerprint: {}", me.identity_key),
        format!(
            "Your keys and messages are kept, encrypted with your passphrase, in {}.",
            ctx.home().dir().display()
        ),
        next,
    ])?;
    Ok(())
}

/// The first-run dialogue. Only a person at a terminal can answer it; a script that forgot
/// a flag gets a usage error instead of a prompt that would wait forever.
async fn ask_setup(
    relay: Option<String>,
    handle: Option<String>,
    fingerprint: Option<String>,
) -> Result<Setup> {
    if !io::stdin().is_terminal() {
        return Err(Failure::new("parley init needs --relay and --handle when it cannot ask you")
            .hint("parley init --relay https://host:port --handle NAME --relay-fingerprint SHA256")
            .code(EXIT_USAGE)
            .into());
    }
    to_stderr("Welcome to Parley. Three questions, then you are ready.");
    let relay = match relay {
        Some(relay) => relay,
        None => ask_line("Relay address, as given by its operator (https://host:port): ")?,
    };
    let url = RelayUrl::parse(&relay).map_err(ClientError::InvalidRelay)?;
    let fingerprint = match fingerprint {
        Some(given) => Some(given),
        None if url.is_tls() => Some(confirm_fingerprint(&url, &relay).await?),
        None => {
            note("This relay address is unencrypted (a test relay on this computer): there is no fingerprint to check.");
            None
        }
    };
    let handle = match handle {
        Some(handle) => handle,
        None => ask_line(
            "Your handle (3 to 32 characters: a-z, 0-9, '.', '_' or '-'; others use it to write to you): ",
        )?,
    };
    Ok(Setup {
        relay,
        handle,
        fingerprint,
    })
}

/// Shows the fingerprint the relay presents and pins it only if the person says it is the
/// one its operator gave them; anything but yes stops here.
async fn confirm_fingerprint(url: &RelayUrl, relay: &str) -> Result<String> {
    let seen: Fingerprint = Client::probe_relay_fingerprint(url)
        .await
        .map_err(|error| unreachable_relay(error, relay))?;
    let seen = seen.to_hex();
    to_stderr("The relay presents this certificate fingerprint:");
    to_stderr(&format!("  {}", grouped(&seen)));
    let answer = ask_line(
        "Is it the same as the one the relay's operator gave you? Compare every character [y/N]: ",
    )?;
    if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
        return Err(
            Failure::new("stopped: the relay's fingerprint was not confirmed")
                .hint(
                    "if it differs from the operator's, someone may be in the middle: do not use \
                 this network, and tell the operator",
                )
                .into(),
        );
    }
    Ok(seen)
}

/// The 64 hex characters in groups of 4, which is easier to compare by eye.
fn grouped(hex: &str) -> String {
    hex.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Asks one question on stderr and reads the answer line from stdin, trimmed.
fn ask_line(question: &str) -> Result<String, Failure> {
    let mut err = io::stderr().lock();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    let read = io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("cannot read your answer: {e}")))?;
    if read == 0 {
        return Err(Failure::new("stopped: no answer was given"));
    }
    Ok(answer.trim().to_owned())
}

/// At this point there is no stored relay yet, so the general hint ("whoami shows its
/// address") would not help; point at the address just typed instead.
fn unreachable_relay(error: ClientError, url: &str) -> anyhow::Error {
    let why = match &error {
        ClientError::RelayUnreachable(why) => why,
        ClientError::Relay(RelayError::Unreachable(why)) => why,
        _ => return error.into(),
    };
    Failure::new(format!("cannot reach the relay at {url}: {why}"))
        .hint(format!(
            "check the address given with --relay {} and your network connection",
            shell_quote(url)
        ))
        .code(EXIT_UNREACHABLE)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_grouped_by_four() {
        assert_eq!(grouped("0123456789abcdef01"), "0123 4567 89ab cdef 01");
    }
}

//! The first-run dialogue. Each answer is checked when it is given; one that cannot be used
//! is explained and asked again, so that nobody answers everything twice.

use std::io::{self, BufRead, Write};

use anyhow::Result;
use parley_client::{Fingerprint, Handle, RelayUrl};

use super::diagnose::speaks_tls;
use super::Setup;
use crate::context::Ctx;
use crate::failure::Failure;
use crate::output::{note, to_stderr};

const RELAY_QUESTION: &str = "Relay address, as given by its operator (https://host:port): ";
const HANDLE_QUESTION: &str =
    "Your handle (3 to 32 characters: a-z, 0-9, '.', '_' or '-'; others use it to write to you): ";

/// Asks for what the flags did not give: the relay (and its fingerprint), then the handle.
pub(super) async fn setup(
    relay: Option<String>,
    handle: Option<String>,
    fingerprint: Option<String>,
    ctx: &Ctx,
) -> Result<Setup> {
    to_stderr("Welcome to Parley. Three questions, then you are ready.");
    let mut given = relay;
    let (relay, fingerprint) = loop {
        let relay = match given.take() {
            Some(relay) => relay,
            None => ask_line(RELAY_QUESTION)?,
        };
        match check_relay(&relay, fingerprint.clone(), ctx).await? {
            Checked::Use(fingerprint) => break (relay, fingerprint),
            Checked::AskAgain(why) => to_stderr(&why),
        }
    };
    Ok(Setup {
        relay,
        handle: self::handle(handle)?,
        fingerprint,
        interactive: true,
    })
}

/// What became of an address.
enum Checked {
    /// Use it, pinned to this fingerprint if it is a TLS relay.
    Use(Option<String>),
    /// It cannot be used, for this reason: ask again.
    AskAgain(String),
}

async fn check_relay(relay: &str, fingerprint: Option<String>, ctx: &Ctx) -> Result<Checked> {
    let url = match RelayUrl::parse(relay) {
        Ok(url) => url,
        Err(why) => {
            return Ok(Checked::AskAgain(format!(
                "That address cannot be used: {why}. It looks like https://relay.example.org:7443."
            )))
        }
    };
    if !url.is_tls() {
        if let Some(https) = speaks_tls(&url).await {
            return Ok(Checked::AskAgain(format!(
                "The relay at {relay} uses TLS (an encrypted connection): type its address as {https}."
            )));
        }
        note("This relay address is unencrypted (a test relay on this computer): there is no fingerprint to check.");
        return Ok(Checked::Use(None));
    }
    if fingerprint.is_some() {
        return Ok(Checked::Use(fingerprint));
    }
    let seen = match ctx.probe_fingerprint(&url).await {
        Ok(seen) => seen,
        Err(why) => {
            return Ok(Checked::AskAgain(format!(
                "Cannot reach the relay at {relay}: {why}. Check the address with its operator."
            )))
        }
    };
    confirm_fingerprint(&seen).map(|seen| Checked::Use(Some(seen)))
}

/// Shows the fingerprint the relay presents and pins it only if the person confirms it is
/// the one its operator gave them, by pasting that one or by comparing and saying yes.
/// Anything else stops here.
fn confirm_fingerprint(seen: &Fingerprint) -> Result<String> {
    let hex = seen.to_hex();
    to_stderr("The relay presents this certificate fingerprint:");
    to_stderr(&format!("  {}", grouped(&hex)));
    let answer = ask_line(
        "Paste the fingerprint its operator gave you, or type yes if every character is the \
         same [paste/yes/no]: ",
    )?;
    if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
        return Ok(hex);
    }
    match Fingerprint::parse(&answer) {
        Ok(pasted) if pasted == *seen => {
            note("The fingerprints match.");
            Ok(hex)
        }
        Ok(_) => Err(Failure::new(
            "stopped: the fingerprint you pasted is not the one this relay presents",
        )
        .hint(
            "someone may be in the middle: do not use this network, and tell the relay's \
             operator; if the operator gave you a new fingerprint, compare again",
        )
        .into()),
        Err(_) => Err(
            Failure::new("stopped: the relay's fingerprint was not confirmed")
                .hint(
                    "if it differs from the operator's, someone may be in the middle: do not \
                     use this network, and tell the operator",
                )
                .into(),
        ),
    }
}

/// Asks for a handle (unless one was given) until one can be used.
pub(super) fn handle(given: Option<String>) -> Result<Handle> {
    let mut given = given;
    loop {
        let typed = match given.take() {
            Some(handle) => handle,
            None => ask_line(HANDLE_QUESTION)?,
        };
        match typed.strip_prefix('@').unwrap_or(&typed).parse::<Handle>() {
            Ok(handle) => return Ok(handle),
            Err(why) => to_stderr(&format!("That handle cannot be used: {why}.")),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_grouped_by_four() {
        assert_eq!(grouped("0123456789abcdef01"), "0123 4567 89ab cdef 01");
    }
}

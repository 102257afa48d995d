//! `parley init`: create an identity, protect it with a passphrase and register the handle
//! on a relay. With --relay and --handle it runs unattended; without them, on a terminal,
//! it asks step by step, checks each answer when it is given (asking again when it cannot
//! be used) and has the person confirm the relay's certificate fingerprint. A failed init
//! leaves nothing behind.

mod ask;
mod diagnose;
mod leftovers;

use std::io::{self, IsTerminal};

use anyhow::Result;
use parley_client::{Client, ClientError, Fingerprint, Handle, WhoAmI};
use serde_json::json;

use crate::args::InitArgs;
use crate::context::{with_passphrase, Ctx};
use crate::failure::{Failure, EXIT_USAGE};
use crate::output::{emit_json, print_lines, to_stderr};
use leftovers::Leftovers;

/// What `init` needs to register, gathered from flags or by asking.
pub(super) struct Setup {
    relay: String,
    handle: Handle,
    fingerprint: Option<String>,
    /// Asked at a terminal: a problem with an answer is asked again, and hints speak of
    /// answers rather than flags.
    interactive: bool,
}

/// Registers, then says what happened and what to do next.
pub(super) async fn run(args: InitArgs, ctx: &Ctx) -> Result<()> {
    if let Some(given) = &args.relay_fingerprint {
        Fingerprint::parse(given).map_err(ClientError::from)?;
    }
    let leftovers = Leftovers::note(ctx.home().dir());
    let mut setup = match (args.relay, args.handle) {
        (Some(relay), Some(handle)) => Setup {
            relay,
            handle: crate::names::handle(&handle)?,
            fingerprint: args.relay_fingerprint,
            interactive: false,
        },
        (relay, handle) => {
            if !io::stdin().is_terminal() {
                return Err(Failure::new(
                    "parley init needs --relay and --handle when it cannot ask you",
                )
                .hint(
                    "parley init --relay https://host:port --handle NAME --relay-fingerprint SHA256",
                )
                .code(EXIT_USAGE)
                .into());
            }
            ask::setup(relay, handle, args.relay_fingerprint, ctx).await?
        }
    };
    let secret = ctx.passphrase_source().read_new(
        "Choose a passphrase to protect your Parley folder: ",
        "Type the same passphrase again: ",
        &[setup.handle.as_str()],
    )?;
    let mut builder = ctx.route_builder(
        Client::builder()
            .home(ctx.home().dir())
            .relay(setup.relay.as_str()),
    );
    if let Some(fingerprint) = &setup.fingerprint {
        builder = builder.relay_fingerprint(fingerprint.as_str());
    }
    let client = match with_passphrase(builder, secret).build().await {
        Ok(client) => client,
        Err(error) => return Err(diagnose::explain(error, &setup).await),
    };
    let me = loop {
        match client.register(&setup.handle).await {
            // Nothing was saved: the same identity may ask for another handle.
            Err(ClientError::HandleTaken(taken)) if setup.interactive => {
                to_stderr(&format!(
                    "The handle {taken} is already taken on this relay; choose another."
                ));
                setup.handle = ask::handle(None)?;
            }
            Ok(me) => break me,
            Err(error) => return Err(diagnose::explain(error, &setup).await),
        }
    };
    drop(client);
    leftovers.keep();
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

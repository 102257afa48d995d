//! `parley init`: create an identity and register the handle on a relay.

use anyhow::Result;
use parley_client::relay::RelayError;
use parley_client::{Client, ClientError};

use crate::cli::args::InitArgs;
use crate::cli::failure::{Failure, EXIT_UNREACHABLE};
use crate::cli::home::{shell_quote, Home};
use crate::cli::output::print_lines;

/// Registers, then says what happened and what to do next.
pub(super) async fn run(args: InitArgs, home: &Home) -> Result<()> {
    let mut builder = Client::builder()
        .home(home.dir())
        .relay(args.relay.as_str());
    if let Some(fingerprint) = args.relay_fingerprint {
        builder = builder.relay_fingerprint(fingerprint);
    }
    let registered = async { builder.build().await?.register(&args.handle).await }.await;
    let me = registered.map_err(|error| unreachable_relay(error, &args.relay))?;
    print_lines([
        format!("Registered {} on {}.", me.handle, me.relay_url),
        format!("Your identity key fingerprint: {}", me.identity_key),
        format!("Your keys and messages are kept in {}.", home.dir().display()),
        format!(
            "Next: tell your contacts your handle ({}), then write to them: {} send <their handle> 'hello'",
            me.handle,
            home.command()
        ),
    ])?;
    Ok(())
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

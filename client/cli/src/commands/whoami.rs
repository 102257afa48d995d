//! `parley whoami`: show the stored identity.

use anyhow::Result;
use serde_json::json;

use crate::context::Ctx;
use crate::output::{emit_json, print_lines};
use crate::sanitize::for_terminal;

/// Prints handle, relay, relay pin and identity key, one labelled line each.
pub(super) async fn run(ctx: &Ctx) -> Result<()> {
    let me = ctx.open().await?.whoami().await?;
    if ctx.json() {
        emit_json(&json!({
            "handle": me.handle.as_str(),
            "relay": me.relay_url.to_string(),
            "relay_fingerprint": me.relay_fingerprint.map(|f| f.to_hex()),
            "identity_key": me.identity_key,
        }))?;
        return Ok(());
    }
    let pin = match &me.relay_fingerprint {
        Some(fingerprint) => fingerprint.to_hex(),
        None if !me.relay_url.is_tls() => {
            "none (unencrypted test relay on this computer)".to_owned()
        }
        None => {
            "none (the relay is checked against this computer's certificate authorities)".to_owned()
        }
    };
    print_lines([
        labelled("Handle:", me.handle.as_str()),
        labelled("Relay:", &me.relay_url.to_string()),
        labelled("Relay fingerprint:", &pin),
        labelled("Identity key:", &me.identity_key),
    ])?;
    Ok(())
}

fn labelled(label: &str, value: &str) -> String {
    format!("{label:<19}{}", for_terminal(value))
}

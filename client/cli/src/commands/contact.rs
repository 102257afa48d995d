//! `parley contact ...`: decisions about one contact, today accepting a changed key.

use anyhow::Result;
use parley_client::{Handle, SafetyNumberView, Verification};

use crate::daemon::folder::Folder;
use serde_json::json;

use crate::args::ContactCommand;
use crate::context::Ctx;
use crate::home::shell_quote;
use crate::names::{or_near_miss, Typed};
use crate::output::{emit_json, print_lines};
use crate::sanitize::for_terminal;

/// Runs one `parley contact` command.
pub(super) async fn run(cmd: ContactCommand, ctx: &Ctx) -> Result<()> {
    match cmd {
        ContactCommand::AcceptNewKey { handle } => accept_new_key(&handle, ctx).await,
    }
}

async fn accept_new_key(typed: &str, ctx: &Ctx) -> Result<()> {
    // Opened before the handle is checked, so that a mistyped one can be matched against
    // the contacts.
    let client = ctx.open().await?;
    // Looks the handle up first, so a change the relay shows right now is seen too.
    let before: Result<(Handle, SafetyNumberView)> = async {
        let handle = crate::names::handle(typed)?;
        let view = client.verification(&handle).await?;
        Ok((handle, view))
    }
    .await;
    let (handle, before) =
        or_near_miss(before, &client, ctx.home(), &[Typed::person(typed)]).await?;
    let changed = before.status == Verification::Changed;
    if changed {
        client.accept_new_key(&handle).await?;
    }
    let after = client.verification(&handle).await?;
    if ctx.json() {
        return emit_json(&json!({
            "handle": after.handle.as_str(),
            "accepted": changed,
            "status": after.status.to_string(),
            "verified": after.status == Verification::Verified,
            "safety_number": after.grouped,
            "digits": after.digits,
        }));
    }
    let who = after.handle.to_string();
    let verify = format!(
        "{} verify {}",
        ctx.home().command(),
        shell_quote(after.handle.as_str())
    );
    let lines = if changed {
        let mut lines = vec![
            format!("Accepted {who}'s new key; {who} is now {}.", after.status),
            format!("You can write to {who} again."),
            format!("Compare safety numbers with {who} when you can: {verify}"),
        ];
        lines.extend(retired_note(&client, after.handle.as_str()).await);
        lines
    } else {
        vec![format!(
            "{who}'s key has not changed ({}); there is nothing to accept.",
            after.status
        )]
    };
    print_lines(lines)?;
    Ok(())
}

/// Where the 1:1 that still holds a contact's old key went, if there was one.
pub(super) async fn retired_note(client: &Folder, handle: &str) -> Option<String> {
    let prefix = format!("{handle} (old key)");
    let conversations = client.conversations().await.ok()?;
    let retired = conversations
        .iter()
        .rev()
        .find(|c| c.name.starts_with(&prefix))?;
    Some(format!(
        "Your earlier private conversation with the old key is kept, read-only, as \"{}\".",
        for_terminal(&retired.name)
    ))
}

//! `parley contacts`: everyone you have a key for, with its verification status.

use anyhow::Result;
use parley_client::{ContactInfo, Verification};
use serde_json::json;

use crate::context::Ctx;
use crate::output::{emit_json, note, print_lines};

/// Lists the contacts, one per line: handle, status, identity key fingerprint.
pub(super) async fn run(ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    let contacts = client.contacts().await?;
    if ctx.json() {
        for contact in &contacts {
            emit_json(&json!({
                "handle": contact.handle.as_str(),
                "status": contact.status.to_string(),
                "verified": contact.status == Verification::Verified,
                "identity_key": contact.identity_key,
            }))?;
        }
        return Ok(());
    }
    if contacts.is_empty() {
        note(&format!(
            "No contacts yet. Someone becomes a contact when you write to them: {} send <handle> 'hello'",
            ctx.home().command()
        ));
    }
    let width = contacts
        .iter()
        .map(|c| c.handle.as_str().chars().count())
        .max()
        .unwrap_or(0);
    print_lines(contacts.iter().map(|c| line(c, width)))?;
    if contacts.iter().any(|c| c.status == Verification::Changed) {
        note(&format!(
            "A CHANGED key may mean someone is impersonating that person. Compare safety \
             numbers with them: {} verify HANDLE",
            ctx.home().command()
        ));
    }
    Ok(())
}

/// "handle  status      key" with the columns aligned.
fn line(contact: &ContactInfo, width: usize) -> String {
    format!(
        "{:<width$}  {:<10}  {}",
        contact.handle.as_str(),
        contact.status.to_string(),
        contact.identity_key
    )
}

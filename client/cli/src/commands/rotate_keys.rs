//! `parley rotate-keys`: new keys, endorsed by the current ones.

use anyhow::Result;
use serde_json::json;

use crate::context::Ctx;
use crate::output::{emit_json, print_lines};

/// Rotates the keys and says what changed.
pub(super) async fn run(ctx: &Ctx) -> Result<()> {
    let report = ctx.open().await?.rotate_keys().await?;
    if ctx.json() {
        emit_json(&json!({
            "old_identity_key": report.old_identity_key,
            "new_identity_key": report.new_identity_key,
            "conversations_moved": report.conversations_moved,
            "conversations_waiting": report.conversations_waiting,
        }))?;
        return Ok(());
    }
    let mut lines = vec![
        "Your keys were replaced.".to_owned(),
        format!("Old identity key:  {}", report.old_identity_key),
        format!("New identity key:  {}", report.new_identity_key),
        format!(
            "Conversations moved to the new key: {}",
            report.conversations_moved
        ),
    ];
    if report.conversations_waiting > 0 {
        lines.push(format!(
            "Conversations still to move: {} (they move at your next `parley sync`)",
            report.conversations_waiting
        ));
    }
    lines.push(
        "Your contacts' Parley sees that your old key signed the new one and tells them you \
         rotated your keys."
            .to_owned(),
    );
    print_lines(lines)?;
    Ok(())
}

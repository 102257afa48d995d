//! `parley alerts`: the security alerts the folder keeps, and the messages set aside because
//! they could not be read, so that nothing that happened to the user's conversations stays
//! unseen.

use anyhow::Result;
use serde_json::json;

use crate::context::Ctx;
use crate::output::{emit_json, note, print_lines};
use crate::sanitize::one_line;
use crate::time::utc_minute;

/// Lists alerts (oldest first), then set-aside messages.
pub(super) async fn run(ctx: &Ctx) -> Result<()> {
    let session = ctx.open().await?;
    let alerts = session.alerts().await?;
    let set_aside = session.quarantined().await?;
    if ctx.json() {
        for alert in &alerts {
            emit_json(&json!({ "alert": one_line(&alert.to_string()), "detail": alert }))?;
        }
        for item in &set_aside {
            emit_json(&json!({
                "set_aside": one_line(&item.reason),
                "conversation": item.conversation,
                "at": item.at_ms,
                "count": item.count,
            }))?;
        }
        return Ok(());
    }
    if alerts.is_empty() && set_aside.is_empty() {
        note("No alerts, and no message was set aside.");
        return Ok(());
    }
    print_lines(
        alerts
            .iter()
            .map(|alert| format!("alert: {}", one_line(&alert.to_string()))),
    )?;
    print_lines(set_aside.iter().map(|item| {
        let times = if item.count > 1 {
            format!(" ({} times)", item.count)
        } else {
            String::new()
        };
        format!(
            "{}  set aside in {}: {}{times}",
            utc_minute(item.at_ms),
            item.conversation.as_deref().unwrap_or("your inbox"),
            one_line(&item.reason)
        )
    }))?;
    Ok(())
}

//! `parley retention HANDLE DURATION`: how long the 1:1 with a person keeps messages.

use anyhow::Result;
use parley_client::{ConversationId, Retention};

use crate::args::RetentionArgs;
use crate::context::Ctx;
use crate::names::{or_near_miss, Typed};
use crate::output::success;

/// Runs `parley retention`.
pub(super) async fn run(args: RetentionArgs, ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    let changed: Result<()> = async {
        let peer = crate::names::handle(&args.handle)?;
        let direct = ConversationId::Direct(peer);
        Ok(client.set_retention(&direct, args.retention).await?)
    }
    .await;
    let typed = [Typed::person(&args.handle)];
    or_near_miss(changed, &client, ctx.home(), &typed).await?;
    success(&changed_words(&args.handle, args.retention));
    Ok(())
}

/// What a change of retention did, for the person who made it.
pub(crate) fn changed_words(conversation: &str, retention: Retention) -> String {
    match retention.duration() {
        Some(_) => format!(
            "Messages in '{conversation}' now disappear after {}, on every member's device and \
             at the relay; everyone in it is told.",
            crate::message_view::retention_words(retention)
        ),
        None => format!(
            "Messages in '{conversation}' are kept again until deleted; everyone in it is told."
        ),
    }
}

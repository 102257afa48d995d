//! The workshop's record for the official track: the final text, its version chain, the
//! comments and the plenary under the attribution policy, as Markdown; exporting it is
//! announced to the room.

use crate::api::conversation::ConversationId;
use crate::api::error::ClientError;
use crate::api::message::MessageBody;
use crate::api::workshop::attribution_promise;
use crate::receive::group_log;
use crate::send::message::send_body;
use crate::state::store::records::StoredBody;
use crate::state::Ctx;
use crate::workshop::export::{render, Record, RecordEntry};
use crate::workshop::locate::{plenary_of, require_facilitator};

/// The record of the workshop `id` is a room of, as Markdown (facilitators only); the room
/// is told that a facilitator exported it.
pub(crate) async fn export(ctx: &mut Ctx<'_>, id: &ConversationId) -> Result<String, ClientError> {
    let (plenary, _) = plenary_of(ctx, id)?;
    group_log::sync_group(ctx, &plenary.group_id).await?;
    let (plenary, spec) = plenary_of(ctx, id)?;
    require_facilitator(ctx, &plenary, &spec)?;
    crate::send::message::check_can_send(ctx, &plenary)?;
    let name = ctx.display_name(&plenary)?;
    let chain = ctx.text_chain(&plenary.group_id)?;
    let comments = ctx.text_comments(&plenary.group_id)?;
    let plenary_record: Vec<RecordEntry> = ctx
        .history(&plenary.id(), None)?
        .into_iter()
        .filter_map(|m| match m.body {
            MessageBody::Text(text) => Some(RecordEntry {
                at_ms: m.sent_at_ms,
                author: m.sender.to_string(),
                text,
            }),
            _ => None,
        })
        .collect();
    let roster: Vec<(String, String)> = spec
        .members()
        .iter()
        .map(|(handle, role)| (handle.to_string(), role.to_string()))
        .collect();
    let exported_by =
        crate::workshop::attribution::stored_sender(ctx, &plenary.group_id, &ctx.session.handle)?;
    let exported_by = crate::state::workshop_text::shown_author(&exported_by);
    let markdown = render(&Record {
        workshop: &name,
        attribution: spec.attribution().as_str(),
        attribution_note: attribution_promise(spec.attribution()),
        roster: &roster,
        chain: &chain,
        comments: &comments,
        plenary: &plenary_record,
        exported_by: &exported_by,
        exported_at_ms: ctx.now_ms(),
    });
    send_body(ctx, plenary, StoredBody::RecordExported).await?;
    Ok(markdown)
}

//! The single negotiating text: facilitators publish numbered versions in the plenary, each
//! carrying the hash of the one before; members read, compare and comment on a paragraph.

use parley_crypto::mls::GroupId;
use parley_crypto::retention::Retention;

use crate::api::conversation::ConversationId;
use crate::api::error::ClientError;
use crate::api::workshop::{TextCommentInfo, TextVersionInfo};
use crate::api::workshop_error::WorkshopError;
use crate::receive::group_log;
use crate::send::message::send_body;
use crate::state::store::records::{Conversation, StoredBody, StoredDocument};
use crate::state::Ctx;
use crate::workshop::diff::{diff, ParagraphChange};
use crate::workshop::locate::{plenary_of, require_facilitator};
use crate::workshop::text::{paragraphs, TextChain, TextVersion};

/// Longest text that goes inline, in bytes (the payload format's limit); a longer one is
/// shared as a document.
pub(crate) const MAX_INLINE_TEXT: usize = 64 * 1024;
/// Longest text at all, in bytes: what members' software holds in memory to show and compare.
pub(crate) const MAX_TEXT: usize = 8 * 1024 * 1024;
/// Longest comment, in bytes (the payload format's limit).
const MAX_COMMENT: usize = 4096;

/// Publishes `text` as the next version (facilitators only); returns its number.
pub(crate) async fn propose(
    ctx: &mut Ctx<'_>,
    id: &ConversationId,
    text: &str,
) -> Result<u32, ClientError> {
    let plenary = synced_plenary(ctx, id).await?;
    let (plenary, spec) = plenary_of(ctx, &plenary.id())?;
    require_facilitator(ctx, &plenary, &spec)?;
    if text.trim().is_empty() {
        return Err(ClientError::EmptyMessage);
    }
    if text.len() > MAX_INLINE_TEXT {
        return Err(WorkshopError::TextTooLong(MAX_INLINE_TEXT).into());
    }
    crate::send::message::check_can_send(ctx, &plenary)?;
    let (number, previous) = ctx.text_chain(&plenary.group_id)?.next();
    let body = StoredBody::TextVersion {
        number,
        previous,
        text: text.to_owned(),
    };
    send_body(ctx, plenary, body).await?;
    Ok(number)
}

/// Before a text too long to go inline is uploaded: the plenary of `id`, read up to now,
/// where we are a facilitator and may send, and its retention (the document's too).
pub(crate) async fn prepare_document(
    ctx: &mut Ctx<'_>,
    id: &ConversationId,
) -> Result<(GroupId, Retention), ClientError> {
    let plenary = synced_plenary(ctx, id).await?;
    let (plenary, spec) = plenary_of(ctx, &plenary.id())?;
    require_facilitator(ctx, &plenary, &spec)?;
    crate::send::message::check_can_send(ctx, &plenary)?;
    Ok((
        plenary.group_id,
        ctx.session.mls.retention(&plenary.group_id)?,
    ))
}

/// Publishes the uploaded `document` as the next version of the text of the plenary `gid`;
/// returns its number. The number is taken now, after the upload: another facilitator may
/// have published meanwhile.
pub(crate) async fn publish_document(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    document: StoredDocument,
) -> Result<u32, ClientError> {
    let plenary = ctx
        .conversation_of(gid)?
        .ok_or_else(|| ctx.not_a_member())?;
    crate::send::message::check_can_send(ctx, &plenary)?;
    let (number, previous) = ctx.text_chain(gid)?.next();
    let body = StoredBody::TextVersionDocument {
        number,
        previous,
        document,
    };
    send_body(ctx, plenary, body).await?;
    Ok(number)
}

/// The versions of the text of `id`'s workshop still to be fetched, with their documents.
pub(crate) fn pending_texts(
    ctx: &Ctx<'_>,
    id: &ConversationId,
) -> Result<Vec<(GroupId, u32, StoredDocument)>, ClientError> {
    let (plenary, _) = plenary_of(ctx, id)?;
    let chain = ctx.text_chain(&plenary.group_id)?;
    let mut pending = Vec::new();
    for version in chain.pending() {
        if let Some(text) = &version.pending {
            let document = crate::receive::document::find(ctx, &text.document)?;
            pending.push((plenary.group_id, version.number, document));
        }
    }
    Ok(pending)
}

/// Comments on paragraph `para` of the latest version.
pub(crate) async fn comment(
    ctx: &mut Ctx<'_>,
    id: &ConversationId,
    para: u32,
    text: &str,
) -> Result<u32, ClientError> {
    let plenary = synced_plenary(ctx, id).await?;
    crate::send::message::check_text(text)?;
    if text.len() > MAX_COMMENT {
        return Err(ClientError::MessageTooLong);
    }
    let chain = ctx.text_chain(&plenary.group_id)?;
    let latest = latest(ctx, &plenary, &chain)?;
    check_paragraph(latest, para)?;
    crate::send::message::check_can_send(ctx, &plenary)?;
    let body = StoredBody::TextComment {
        version: latest.number,
        para,
        text: text.to_owned(),
    };
    let version = latest.number;
    send_body(ctx, plenary, body).await?;
    Ok(version)
}

/// A version of the text (the latest without `version`).
pub(crate) fn version(
    ctx: &Ctx<'_>,
    id: &ConversationId,
    version: Option<u32>,
) -> Result<TextVersionInfo, ClientError> {
    let (plenary, _) = plenary_of(ctx, id)?;
    let chain = ctx.text_chain(&plenary.group_id)?;
    Ok(info(pick(ctx, &plenary, &chain, version)?))
}

/// Every version of the text, oldest first.
pub(crate) fn versions(
    ctx: &Ctx<'_>,
    id: &ConversationId,
) -> Result<Vec<TextVersionInfo>, ClientError> {
    let (plenary, _) = plenary_of(ctx, id)?;
    let chain = ctx.text_chain(&plenary.group_id)?;
    Ok(chain.versions().iter().map(info).collect())
}

/// How version `to` differs from version `from`, paragraph by paragraph.
pub(crate) fn compare(
    ctx: &Ctx<'_>,
    id: &ConversationId,
    from: u32,
    to: u32,
) -> Result<Vec<ParagraphChange>, ClientError> {
    let (plenary, _) = plenary_of(ctx, id)?;
    let chain = ctx.text_chain(&plenary.group_id)?;
    let old = pick(ctx, &plenary, &chain, Some(from))?;
    let new = pick(ctx, &plenary, &chain, Some(to))?;
    Ok(diff(&old.text, &new.text))
}

/// The comments on a version (every version without `version`), in the order they came.
pub(crate) fn comments(
    ctx: &Ctx<'_>,
    id: &ConversationId,
    version: Option<u32>,
) -> Result<Vec<TextCommentInfo>, ClientError> {
    let (plenary, _) = plenary_of(ctx, id)?;
    if let Some(number) = version {
        let chain = ctx.text_chain(&plenary.group_id)?;
        pick(ctx, &plenary, &chain, Some(number))?;
    }
    Ok(ctx
        .text_comments(&plenary.group_id)?
        .into_iter()
        .filter(|c| version.is_none_or(|v| c.version == v))
        .map(|c| TextCommentInfo {
            version: c.version,
            para: c.para,
            author: c.author,
            text: c.text,
            at_ms: c.at_ms,
        })
        .collect())
}

/// The plenary of `id`, read up to now first (a version or comment may have just arrived).
async fn synced_plenary(
    ctx: &mut Ctx<'_>,
    id: &ConversationId,
) -> Result<Conversation, ClientError> {
    let (plenary, _) = plenary_of(ctx, id)?;
    group_log::sync_group(ctx, &plenary.group_id).await?;
    Ok(plenary)
}

fn latest<'c>(
    ctx: &Ctx<'_>,
    plenary: &Conversation,
    chain: &'c TextChain,
) -> Result<&'c TextVersion, ClientError> {
    chain
        .latest()
        .ok_or_else(|| WorkshopError::NoText(ctx.display_name(plenary).unwrap_or_default()).into())
}

fn pick<'c>(
    ctx: &Ctx<'_>,
    plenary: &Conversation,
    chain: &'c TextChain,
    number: Option<u32>,
) -> Result<&'c TextVersion, ClientError> {
    let newest = latest(ctx, plenary, chain)?;
    match number {
        None => Ok(newest),
        Some(number) => chain.get(number).ok_or_else(|| {
            WorkshopError::UnknownVersion {
                version: number,
                latest: newest.number,
            }
            .into()
        }),
    }
}

fn check_paragraph(version: &TextVersion, para: u32) -> Result<(), ClientError> {
    let count = paragraphs(&version.text).len();
    if para == 0 || usize::try_from(para).map_or(true, |p| p > count) {
        return Err(WorkshopError::UnknownParagraph {
            version: version.number,
            para,
            paragraphs: count,
        }
        .into());
    }
    Ok(())
}

fn info(version: &TextVersion) -> TextVersionInfo {
    TextVersionInfo {
        number: version.number,
        hash: hex::encode(version.hash()),
        previous: hex::encode(version.previous),
        text: version.text.clone(),
        published_by: version.published_by.clone(),
        published_at_ms: version.published_at_ms,
    }
}

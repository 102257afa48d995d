//! Finding a workshop by what someone typed: the name of any of its rooms, by the one rule
//! of names (`Client::resolve`); else the name its facilitator gave it (`talks` for the
//! `alice/talks` of a participant), when exactly one workshop carries it. Two workshops
//! of that name are refused, never chosen between.

use anyhow::Result;
use parley_client::{ClientError, ConversationId};

use crate::daemon::folder::Folder;
use crate::home::Home;
use crate::names::{or_near_miss, Typed};

/// The conversation (a room) of the workshop `typed` names.
pub(crate) async fn workshop_room(
    folder: &Folder,
    home: &Home,
    typed: &str,
) -> Result<ConversationId> {
    let resolved = folder.resolve(typed).await;
    let error = match resolved {
        Ok(id) => return Ok(id),
        Err(problem) => problem,
    };
    if !matches!(
        error.client_error(),
        Some(ClientError::UnknownConversation(_))
    ) {
        let failed: Result<ConversationId> = Err(error.into());
        return or_near_miss(failed, folder, home, &[Typed::conversation(typed)]).await;
    }
    let workshops = folder.workshops().await?;
    let named: Vec<_> = workshops
        .iter()
        .filter(|w| {
            w.name
                .rsplit_once('/')
                .is_some_and(|(_, title)| title == typed)
        })
        .collect();
    match named.as_slice() {
        [one] => Ok(one.plenary.clone()),
        [] => {
            let failed: Result<ConversationId> = Err(error.into());
            or_near_miss(failed, folder, home, &[Typed::conversation(typed)]).await
        }
        several => Err(ClientError::AmbiguousName {
            name: typed.to_owned(),
            options: several
                .iter()
                .map(|w| format!("{} (the workshop)", w.name))
                .collect(),
        }
        .into()),
    }
}

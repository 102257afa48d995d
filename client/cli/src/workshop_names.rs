//! Finding a workshop by what someone typed: the name of the workshop as its creator gave it
//! (`talks`, which a participant holds as `ann/talks`) or as shown here, when exactly one
//! workshop carries it; else the name of any of its rooms, by the one rule of names
//! (`Client::resolve`). A name two workshops carry is refused, never chosen between; and a
//! workshop command never starts a conversation with a person of that handle.

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
    let workshops = folder.workshops().await?;
    let named: Vec<_> = workshops
        .iter()
        .filter(|w| {
            w.name == typed
                || w.name
                    .rsplit_once('/')
                    .is_some_and(|(_, title)| title == typed)
        })
        .collect();
    match named.as_slice() {
        [one] => return Ok(one.plenary.clone()),
        [] => {}
        several => {
            return Err(ClientError::AmbiguousName {
                name: typed.to_owned(),
                options: several
                    .iter()
                    .map(|w| format!("{} (the workshop)", w.name))
                    .collect(),
            }
            .into())
        }
    }
    let resolved: Result<ConversationId> = folder.resolve(typed).await.map_err(Into::into);
    let id = or_near_miss(resolved, folder, home, &[Typed::conversation(typed)]).await?;
    if let ConversationId::Direct(_) = id {
        return Err(ClientError::UnknownConversation(typed.to_owned()).into());
    }
    Ok(id)
}

//! What people type for handles and conversations, turned into the library's types.

use parley_client::{ClientError, ConversationId, Handle};

use crate::daemon::folder::{Folder, Problem};

/// A handle as typed (`bob` or `@bob`).
pub(crate) fn handle(text: &str) -> Result<Handle, ClientError> {
    let bare = text.strip_prefix('@').unwrap_or(text);
    bare.parse()
        .map_err(|_| ClientError::InvalidHandle(text.to_owned()))
}

/// The handles of a comma-separated list as typed, each checked.
pub(crate) fn handles(list: &[String]) -> Result<Vec<Handle>, ClientError> {
    list.iter().map(|h| handle(h)).collect()
}

/// The conversation a name means, by the library's one rule (`Client::resolve`).
pub(crate) async fn conversation(client: &Folder, text: &str) -> Result<ConversationId, Problem> {
    client.resolve(text).await
}

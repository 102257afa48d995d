//! Talks to the client library for the chat, one request at a time and off the drawing loop:
//! a send may wait for the relay, and the screen must keep answering keys meanwhile. One at a
//! time keeps messages in the order they were typed.

use parley_client::{
    ConversationId, ConversationInfo, MemberInfo, Message, MessageId, TextVersionInfo, Workshop,
};
use tokio::sync::mpsc;

use super::app::Saved;
use crate::daemon::folder::{Folder, Problem};

/// What the chat asks for.
#[derive(Debug)]
pub(super) enum Request {
    /// Send a text.
    Send {
        /// Where to.
        conversation: ConversationId,
        /// The text.
        text: String,
    },
    /// Mark these entries read: they were on screen.
    MarkRead(Vec<MessageId>),
    /// Reload one conversation's members, the list of conversations and the workshops.
    Refresh {
        /// The conversation to reload.
        conversation: ConversationId,
    },
    /// Load the latest version of a workshop's negotiating text.
    Text {
        /// The workshop's plenary.
        plenary: ConversationId,
    },
}

/// What came of a request.
#[derive(Debug)]
pub(super) enum Outcome {
    /// A send finished.
    Sent {
        /// Where it went.
        conversation: ConversationId,
        /// What was sent (given back on failure so it is not lost).
        text: String,
        /// The message as stored, or why it was not sent.
        result: Result<Message, Problem>,
    },
    /// Members were loaded.
    Members {
        /// Whose.
        conversation: ConversationId,
        /// The members, or why they could not be loaded.
        result: Result<Vec<MemberInfo>, Problem>,
    },
    /// The list of conversations was loaded.
    Conversations(Result<Vec<ConversationInfo>, Problem>),
    /// The workshops were loaded.
    Workshops(Result<Vec<Workshop>, Problem>),
    /// A workshop's negotiating text was loaded: its latest version, or None if none was
    /// published.
    Text {
        /// The workshop's plenary.
        plenary: ConversationId,
        /// The version, none, or why it could not be loaded.
        result: Result<Option<TextVersionInfo>, Problem>,
    },
    /// Entries on screen could not be marked read (they will be shown again by `read`).
    NotMarked(Problem),
    /// How far the document being saved is, in percent (see `save`).
    SaveProgress(u64),
    /// The document was saved (where it is), or not (why).
    Saved(Result<Saved, String>),
}

/// Serves requests until the chat drops its sender or stops listening.
pub(super) async fn run(
    client: Folder,
    mut requests: mpsc::UnboundedReceiver<Request>,
    outcomes: mpsc::UnboundedSender<Outcome>,
) {
    while let Some(request) = requests.recv().await {
        let mut results = Vec::with_capacity(2);
        match request {
            Request::MarkRead(ids) => {
                if let Err(error) = client.mark_read(&ids).await {
                    results.push(Outcome::NotMarked(error));
                }
            }
            Request::Send { conversation, text } => {
                let result = client.send_text(&conversation, &text).await;
                results.push(Outcome::Sent {
                    conversation,
                    text,
                    result,
                });
            }
            Request::Refresh { conversation } => {
                let members = client.members(&conversation).await;
                results.push(Outcome::Members {
                    conversation,
                    result: members,
                });
                results.push(Outcome::Conversations(client.conversations().await));
                results.push(Outcome::Workshops(client.workshops().await));
            }
            Request::Text { plenary } => {
                let result = latest_text(&client, &plenary).await;
                results.push(Outcome::Text { plenary, result });
            }
        }
        for outcome in results {
            if outcomes.send(outcome).is_err() {
                return;
            }
        }
    }
}

/// The latest version of the text of the workshop whose plenary is `plenary`, or None when
/// none was published yet. The workshop is asked first: through the daemon, "no text yet" is
/// only words, and the workshop says it plainly.
async fn latest_text(
    client: &Folder,
    plenary: &ConversationId,
) -> Result<Option<TextVersionInfo>, Problem> {
    if client.workshop(plenary).await?.text_version.is_none() {
        return Ok(None);
    }
    client.negotiating_text(plenary, None).await.map(Some)
}

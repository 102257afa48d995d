//! The latest version of a workshop's negotiating text, shown over the chat (Ctrl-T) until
//! Esc: what is shown while it loads, once it is there, or why there is nothing to show.

use parley_client::workshop::text::paragraphs;
use parley_client::{ClientError, ConversationId, TextVersionInfo, WorkshopError};

use crate::daemon::folder::Problem;

/// What the overlay shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    /// Asked for, not here yet.
    Loading,
    /// No version has been published.
    NoneYet,
    /// It could not be loaded: why.
    Failed(String),
    /// The version, its paragraphs in order (numbered from 1 on screen).
    Shown {
        /// Its number.
        number: u32,
        /// Who published it, as the attribution policy shows them.
        published_by: String,
        /// When (ms since 1970, the publisher's clock).
        published_at_ms: u64,
        /// The paragraphs.
        paragraphs: Vec<String>,
    },
}

/// The overlay of one workshop's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextView {
    /// The workshop's name.
    pub(crate) workshop: String,
    /// Its plenary: the answer for another workshop (asked for earlier) is not shown here.
    pub(crate) plenary: ConversationId,
    /// What to show.
    pub(crate) content: Content,
    /// Rows scrolled down from the top.
    pub(crate) scroll: u16,
}

impl TextView {
    /// The overlay of `workshop`'s text, while it loads.
    pub(crate) fn loading(workshop: &str, plenary: ConversationId) -> TextView {
        TextView {
            workshop: workshop.to_owned(),
            plenary,
            content: Content::Loading,
            scroll: 0,
        }
    }

    /// Puts the library's answer in place: the version, none yet, or why it failed.
    pub(crate) fn answer(&mut self, result: Result<Option<TextVersionInfo>, Problem>) {
        self.content = match result {
            Ok(Some(version)) => Content::Shown {
                number: version.number,
                published_by: version.published_by,
                published_at_ms: version.published_at_ms,
                paragraphs: paragraphs(&version.text),
            },
            Ok(None) | Err(Problem::Client(ClientError::Workshop(WorkshopError::NoText(_)))) => {
                Content::NoneYet
            }
            Err(error) => Content::Failed(error.to_string()),
        };
        self.scroll = 0;
    }
}

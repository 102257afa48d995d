//! The workshop calls of a [`Folder`]: answered by the library here or by the daemon, with
//! the same results and errors.

use parley_client::workshop::diff::ParagraphChange;
use parley_client::{
    ConversationId, RosterEdit, TextCommentInfo, TextVersionInfo, Workshop, WorkshopPlan,
};

use super::folder::{both, Folder, Problem};
use super::wire::Request;

impl Folder {
    /// See `Client::create_workshop`.
    pub(crate) async fn create_workshop(
        &self,
        name: &str,
        plan: &WorkshopPlan,
    ) -> Result<ConversationId, Problem> {
        both!(
            self,
            |c| c.create_workshop(name, plan).await?,
            Request::CreateWorkshop {
                name: name.to_owned(),
                plan: plan.clone()
            }
        )
    }

    /// See `Client::workshop`.
    pub(crate) async fn workshop(&self, room: &ConversationId) -> Result<Workshop, Problem> {
        both!(
            self,
            |c| c.workshop(room).await?,
            Request::Workshop { room: room.clone() }
        )
    }

    /// See `Client::workshops`.
    pub(crate) async fn workshops(&self) -> Result<Vec<Workshop>, Problem> {
        both!(self, |c| c.workshops().await?, Request::Workshops)
    }

    /// See `Client::change_workshop`.
    pub(crate) async fn change_workshop(
        &self,
        room: &ConversationId,
        edit: &RosterEdit,
    ) -> Result<(), Problem> {
        both!(
            self,
            |c| c.change_workshop(room, edit).await?,
            Request::ChangeWorkshop {
                room: room.clone(),
                edit: edit.clone()
            }
        )
    }

    /// See `Client::propose_text`.
    pub(crate) async fn propose_text(
        &self,
        room: &ConversationId,
        text: &str,
    ) -> Result<u32, Problem> {
        both!(
            self,
            |c| c.propose_text(room, text).await?,
            Request::ProposeText {
                room: room.clone(),
                text: text.to_owned()
            }
        )
    }

    /// See `Client::negotiating_text`.
    pub(crate) async fn negotiating_text(
        &self,
        room: &ConversationId,
        version: Option<u32>,
    ) -> Result<TextVersionInfo, Problem> {
        both!(
            self,
            |c| c.negotiating_text(room, version).await?,
            Request::NegotiatingText {
                room: room.clone(),
                version
            }
        )
    }

    /// See `Client::text_diff`.
    pub(crate) async fn text_diff(
        &self,
        room: &ConversationId,
        from: u32,
        to: u32,
    ) -> Result<Vec<ParagraphChange>, Problem> {
        both!(
            self,
            |c| c.text_diff(room, from, to).await?,
            Request::TextDiff {
                room: room.clone(),
                from,
                to
            }
        )
    }

    /// See `Client::comment_text`.
    pub(crate) async fn comment_text(
        &self,
        room: &ConversationId,
        para: u32,
        text: &str,
    ) -> Result<u32, Problem> {
        both!(
            self,
            |c| c.comment_text(room, para, text).await?,
            Request::CommentText {
                room: room.clone(),
                para,
                text: text.to_owned()
            }
        )
    }

    /// See `Client::text_comments`.
    pub(crate) async fn text_comments(
        &self,
        room: &ConversationId,
        version: Option<u32>,
    ) -> Result<Vec<TextCommentInfo>, Problem> {
        both!(
            self,
            |c| c.text_comments(room, version).await?,
            Request::TextComments {
                room: room.clone(),
                version
            }
        )
    }

    /// See `Client::export_workshop`.
    pub(crate) async fn export_workshop(&self, room: &ConversationId) -> Result<String, Problem> {
        both!(
            self,
            |c| c.export_workshop(room).await?,
            Request::ExportWorkshop { room: room.clone() }
        )
    }
}

//! What commands use to reach their Parley folder: the client library opened in this
//! process, or the folder's daemon. Both answer the same calls with the same results and the
//! same errors, so a command does not know which one it has.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use futures::{Stream, StreamExt};
use parley_client::Passphrase;
use parley_client::{
    Alert, Client, ClientError, ContactInfo, ConversationId, ConversationInfo, DocumentInfo, Event,
    GroupCode, Handle, MemberInfo, Message, MessageId, OutboxReport, QuarantinedMessage, Retention,
    RotationReport, SafetyNumberView, SendOutcome, SyncReport, Transfer, WhoAmI,
};
use zeroize::Zeroizing;

use super::link::{DaemonError, Link};
use super::wire::Request;
use crate::failure::Failure;

/// A Parley folder, open here or served by its daemon.
#[derive(Clone)]
pub(crate) enum Folder {
    /// The library, with the store open in this process.
    Local(Client),
    /// The folder's daemon.
    Daemon(Link),
}

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum Problem {
    /// The library's own error (also when it came through the daemon).
    Client(ClientError),
    /// A library error the daemon could only describe.
    Described(Failure),
    /// The daemon could not be asked.
    Daemon(DaemonError),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Client(error) => error.fmt(f),
            Problem::Described(failure) => failure.fmt(f),
            Problem::Daemon(error) => error.fmt(f),
        }
    }
}

impl Problem {
    /// The library error, when that is what it is.
    pub(crate) fn client_error(&self) -> Option<&ClientError> {
        match self {
            Problem::Client(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ClientError> for Problem {
    fn from(error: ClientError) -> Problem {
        Problem::Client(error)
    }
}

impl From<DaemonError> for Problem {
    fn from(error: DaemonError) -> Problem {
        Problem::Daemon(error)
    }
}

/// Commands propagate with `?`: the library error stays itself inside the `anyhow::Error`,
/// so the one place that words failures finds it.
impl From<Problem> for anyhow::Error {
    fn from(problem: Problem) -> anyhow::Error {
        match problem {
            Problem::Client(error) => error.into(),
            Problem::Described(failure) => failure.into(),
            Problem::Daemon(error) => error.into(),
        }
    }
}

/// A call answered by the library here or by the daemon.
macro_rules! both {
    ($session:expr, |$client:ident| $local:expr, $request:expr) => {
        match $session {
            Folder::Local($client) => Ok($local),
            Folder::Daemon(link) => Ok(link.call($request).await?),
        }
    };
}
pub(super) use both;

impl Folder {
    /// See `Client::rotate_keys`.
    pub(crate) async fn rotate_keys(&self) -> Result<RotationReport, Problem> {
        both!(self, |c| c.rotate_keys().await?, Request::RotateKeys)
    }

    /// See `Client::whoami`.
    pub(crate) async fn whoami(&self) -> Result<WhoAmI, Problem> {
        both!(self, |c| c.whoami()?, Request::Whoami)
    }

    /// See `Client::resolve`.
    pub(crate) async fn resolve(&self, name: &str) -> Result<ConversationId, Problem> {
        both!(
            self,
            |c| c.resolve(name).await?,
            Request::Resolve {
                name: name.to_owned()
            }
        )
    }

    /// See `Client::send_text`.
    pub(crate) async fn send_text(
        &self,
        to: &ConversationId,
        text: &str,
    ) -> Result<Message, Problem> {
        both!(
            self,
            |c| c.send_text(to, text).await?,
            Request::SendText {
                to: to.clone(),
                text: text.to_owned()
            }
        )
    }

    /// See `Client::send_or_queue`.
    pub(crate) async fn send_or_queue(
        &self,
        to: &ConversationId,
        text: &str,
    ) -> Result<SendOutcome, Problem> {
        both!(
            self,
            |c| c.send_or_queue(to, text).await?,
            Request::SendOrQueue {
                to: to.clone(),
                text: text.to_owned()
            }
        )
    }

    /// See `Client::flush_outbox`.
    pub(crate) async fn flush_outbox(&self) -> Result<OutboxReport, Problem> {
        both!(self, |c| c.flush_outbox().await?, Request::FlushOutbox)
    }

    /// See `Client::outbox`.
    pub(crate) async fn outbox(&self) -> Result<Vec<parley_client::QueuedMessage>, Problem> {
        both!(self, |c| c.outbox().await?, Request::Outbox)
    }

    /// See `Client::cancel_queued`.
    pub(crate) async fn cancel_queued(&self, id: u64) -> Result<bool, Problem> {
        both!(
            self,
            |c| c.cancel_queued(id).await?,
            Request::CancelQueued { id }
        )
    }

    /// See `Client::create_group_with_retention`.
    pub(crate) async fn create_group(
        &self,
        name: &str,
        members: &[Handle],
        retention: Retention,
    ) -> Result<ConversationId, Problem> {
        both!(
            self,
            |c| c
                .create_group_with_retention(name, members, retention)
                .await?,
            Request::CreateGroup {
                name: name.to_owned(),
                members: members.to_vec(),
                retention
            }
        )
    }

    /// See `Client::set_retention`.
    pub(crate) async fn set_retention(
        &self,
        conversation: &ConversationId,
        retention: Retention,
    ) -> Result<(), Problem> {
        both!(
            self,
            |c| c.set_retention(conversation, retention).await?,
            Request::SetRetention {
                conversation: conversation.clone(),
                retention
            }
        )
    }

    /// See `Client::recreate_group`.
    pub(crate) async fn recreate_group(
        &self,
        group: &ConversationId,
        without: &[Handle],
    ) -> Result<ConversationId, Problem> {
        both!(
            self,
            |c| c.recreate_group(group, without).await?,
            Request::RecreateGroup {
                group: group.clone(),
                without: without.to_vec()
            }
        )
    }

    /// See `Client::add_member`.
    pub(crate) async fn add_member(
        &self,
        group: &ConversationId,
        member: &Handle,
    ) -> Result<(), Problem> {
        both!(
            self,
            |c| c.add_member(group, member).await?,
            Request::AddMember {
                group: group.clone(),
                member: member.clone()
            }
        )
    }

    /// See `Client::remove_member`.
    pub(crate) async fn remove_member(
        &self,
        group: &ConversationId,
        member: &Handle,
    ) -> Result<(), Problem> {
        both!(
            self,
            |c| c.remove_member(group, member).await?,
            Request::RemoveMember {
                group: group.clone(),
                member: member.clone()
            }
        )
    }

    /// See `Client::promote`.
    pub(crate) async fn promote(
        &self,
        group: &ConversationId,
        member: &Handle,
    ) -> Result<(), Problem> {
        both!(
            self,
            |c| c.promote(group, member).await?,
            Request::Promote {
                group: group.clone(),
                member: member.clone()
            }
        )
    }

    /// See `Client::leave_group`.
    pub(crate) async fn leave_group(&self, group: &ConversationId) -> Result<(), Problem> {
        both!(
            self,
            |c| c.leave_group(group).await?,
            Request::LeaveGroup {
                group: group.clone()
            }
        )
    }

    /// See `Client::admins`.
    pub(crate) async fn admins(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<Handle>, Problem> {
        both!(
            self,
            |c| c.admins(conversation).await?,
            Request::Admins {
                conversation: conversation.clone()
            }
        )
    }

    /// See `Client::send_file`: sends the file at `path` (absolute, for a daemon), checked
    /// by the caller, as a document called `name`. A daemon reads the file itself (see
    /// [`super::wire`]) and reports its progress.
    pub(crate) async fn send_file(
        &self,
        to: &ConversationId,
        path: &Path,
        name: &str,
        media_type: &str,
        progress: &mut (dyn FnMut(Transfer) + Send),
    ) -> Result<Message, Problem> {
        match self {
            Folder::Local(client) => Ok(crate::documents::send_from_path(
                client, to, path, name, media_type, progress,
            )
            .await?),
            Folder::Daemon(link) => {
                let request = Request::SendFile {
                    to: to.clone(),
                    path: path.as_os_str().as_bytes().to_vec(),
                    name: name.to_owned(),
                    media_type: media_type.to_owned(),
                };
                link.call_with_progress(request, progress).await
            }
        }
    }

    /// See `Client::fetch_file`: writes the document `id` into the existing file at `path`
    /// (absolute, for a daemon), which the caller made and removes if this fails. A daemon
    /// writes the file itself (see [`super::wire`]) and reports its progress.
    pub(crate) async fn fetch_file(
        &self,
        id: &str,
        path: &Path,
        progress: &mut (dyn FnMut(Transfer) + Send),
    ) -> Result<DocumentInfo, Problem> {
        match self {
            Folder::Local(client) => {
                Ok(crate::documents::fetch_to_path(client, id, path, progress).await?)
            }
            Folder::Daemon(link) => {
                let request = Request::FetchFile {
                    id: id.to_owned(),
                    path: path.as_os_str().as_bytes().to_vec(),
                };
                link.call_with_progress(request, progress).await
            }
        }
    }

    /// See `Client::documents`.
    pub(crate) async fn documents(
        &self,
        conversation: Option<&ConversationId>,
    ) -> Result<Vec<Message>, Problem> {
        both!(
            self,
            |c| c.documents(conversation).await?,
            Request::Documents {
                conversation: conversation.cloned()
            }
        )
    }

    /// See `Client::sync`.
    pub(crate) async fn sync(&self) -> Result<SyncReport, Problem> {
        both!(self, |c| c.sync().await?, Request::Sync)
    }

    /// See `Client::unread`.
    pub(crate) async fn unread(
        &self,
        conversation: Option<&ConversationId>,
    ) -> Result<Vec<Message>, Problem> {
        both!(
            self,
            |c| c.unread(conversation).await?,
            Request::Unread {
                conversation: conversation.cloned()
            }
        )
    }

    /// See `Client::mark_read`.
    pub(crate) async fn mark_read(&self, ids: &[MessageId]) -> Result<(), Problem> {
        both!(
            self,
            |c| c.mark_read(ids).await?,
            Request::MarkRead { ids: ids.to_vec() }
        )
    }

    /// See `Client::history`.
    pub(crate) async fn history(
        &self,
        conversation: &ConversationId,
        limit: Option<usize>,
    ) -> Result<Vec<Message>, Problem> {
        both!(
            self,
            |c| c.history(conversation, limit).await?,
            Request::History {
                conversation: conversation.clone(),
                limit
            }
        )
    }

    /// See `Client::conversations`.
    pub(crate) async fn conversations(&self) -> Result<Vec<ConversationInfo>, Problem> {
        both!(self, |c| c.conversations().await?, Request::Conversations)
    }

    /// See `Client::members`.
    pub(crate) async fn members(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<MemberInfo>, Problem> {
        both!(
            self,
            |c| c.members(conversation).await?,
            Request::Members {
                conversation: conversation.clone()
            }
        )
    }

    /// See `Client::contacts`.
    pub(crate) async fn contacts(&self) -> Result<Vec<ContactInfo>, Problem> {
        both!(self, |c| c.contacts().await?, Request::Contacts)
    }

    /// See `Client::safety_number`.
    pub(crate) async fn safety_number(&self, peer: &Handle) -> Result<String, Problem> {
        both!(
            self,
            |c| c.safety_number(peer).await?,
            Request::SafetyNumber { peer: peer.clone() }
        )
    }

    /// See `Client::verification`.
    pub(crate) async fn verification(&self, peer: &Handle) -> Result<SafetyNumberView, Problem> {
        both!(
            self,
            |c| c.verification(peer).await?,
            Request::Verification { peer: peer.clone() }
        )
    }

    /// See `Client::confirm_verified`.
    pub(crate) async fn confirm_verified(&self, peer: &Handle) -> Result<(), Problem> {
        both!(
            self,
            |c| c.confirm_verified(peer).await?,
            Request::ConfirmVerified { peer: peer.clone() }
        )
    }

    /// See `Client::accept_new_key`.
    pub(crate) async fn accept_new_key(&self, peer: &Handle) -> Result<(), Problem> {
        both!(
            self,
            |c| c.accept_new_key(peer).await?,
            Request::AcceptNewKey { peer: peer.clone() }
        )
    }

    /// See `Client::group_code`.
    pub(crate) async fn group_code(
        &self,
        conversation: &ConversationId,
    ) -> Result<GroupCode, Problem> {
        both!(
            self,
            |c| c.group_code(conversation).await?,
            Request::GroupCode {
                conversation: conversation.clone()
            }
        )
    }

    /// See `Client::alerts`.
    pub(crate) async fn alerts(&self) -> Result<Vec<Alert>, Problem> {
        both!(self, |c| c.alerts().await?, Request::Alerts)
    }

    /// See `Client::quarantined`.
    pub(crate) async fn quarantined(&self) -> Result<Vec<QuarantinedMessage>, Problem> {
        both!(self, |c| c.quarantined().await?, Request::Quarantined)
    }

    /// Changes the passphrase. Here the store was just unlocked with `current`; a daemon
    /// unlocked it long ago, so it checks `current` first: whoever reaches an unattended
    /// window must not be able to lock the owner out.
    pub(crate) async fn change_passphrase(
        &self,
        current: Zeroizing<String>,
        new: Zeroizing<String>,
    ) -> Result<(), Problem> {
        match self {
            Folder::Local(client) => {
                drop(current);
                Ok(client.change_passphrase(passphrase(new)).await?)
            }
            Folder::Daemon(link) => Ok(link
                .call(Request::ChangePassphrase { current, new })
                .await?),
        }
    }

    /// See `Client::events`; from a daemon, the events it receives, relayed.
    pub(crate) async fn events(
        &self,
    ) -> Result<impl Stream<Item = Result<Event, Problem>> + Send + 'static, Problem> {
        Ok(match self {
            Folder::Local(client) => client
                .events()
                .map(|e| e.map_err(Problem::from))
                .left_stream(),
            Folder::Daemon(link) => link.events().await?.right_stream(),
        })
    }

    /// Whether a daemon serves this session.
    pub(crate) fn is_daemon(&self) -> bool {
        matches!(self, Folder::Daemon(_))
    }
}

/// The library's passphrase type from a secret read by the CLI.
pub(crate) fn passphrase(mut secret: Zeroizing<String>) -> Passphrase {
    Passphrase::new(std::mem::take(&mut *secret))
}

//! The daemon protocol: frames of a big-endian u32 length and that many bytes of JSON.
//!
//! A connection starts with [`Hello`] and its answer; then the command sends one [`Request`]
//! at a time and reads one [`Reply`] for it, except after [`Request::Events`], when the
//! daemon sends replies (one event or error each) until the command hangs up, and for the
//! transfers of documents ([`Request::SendFile`], [`Request::FetchFile`]), answered by any
//! number of [`Reply::Progress`] before their one result. Both sides are the same `parley`
//! binary, but a daemon left running across an upgrade may be older: the version in the
//! hello makes that an explicit refusal rather than a misread frame.
//!
//! Documents do not travel through the socket. The daemon runs as the same user as the
//! command, so the command names the file by its absolute path and the daemon reads or
//! writes it itself. The command still decides everything else about the file (it checks
//! the file to send; it makes the temporary file to fetch into, renames it on success and
//! removes it on failure), so that it behaves the same with the library opened here.

use parley_client::{ConversationId, Handle, MessageId, Retention, RosterEdit, WorkshopPlan};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zeroize::Zeroizing;

use super::remote_error::RemoteError;

/// The protocol version; both sides must speak the same.
pub(crate) const VERSION: u32 = 4;
/// The largest frame either side accepts (a long history is the biggest answer).
const MAX_FRAME: u32 = 64 * 1024 * 1024;

/// What a command says first.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Hello {
    /// [`VERSION`] of the command.
    pub(crate) version: u32,
}

/// The daemon's answer to [`Hello`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Welcome {
    /// [`VERSION`] of the daemon; the command hangs up if it differs.
    pub(crate) version: u32,
    /// The daemon's process id, for `parley daemon status`.
    pub(crate) pid: u32,
    /// The proxy the daemon reaches the relay through (`--proxy`), if any; a command asked
    /// to go another way must not use this daemon.
    #[serde(default)]
    pub(crate) proxy: Option<String>,
}

/// One operation of the client library, or of the daemon itself.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Request {
    /// `Client::whoami`.
    Whoami,
    /// `Client::rotate_keys`.
    RotateKeys,
    /// `Client::resolve`.
    Resolve { name: String },
    /// `Client::send_text`.
    SendText { to: ConversationId, text: String },
    /// `Client::send_or_queue`.
    SendOrQueue { to: ConversationId, text: String },
    /// `Client::flush_outbox`.
    FlushOutbox,
    /// `Client::outbox`.
    Outbox,
    /// `Client::cancel_queued`.
    CancelQueued { id: u64 },
    /// `Client::create_group_with_retention`.
    CreateGroup {
        name: String,
        members: Vec<Handle>,
        retention: Retention,
    },
    /// `Client::set_retention`.
    SetRetention {
        conversation: ConversationId,
        retention: Retention,
    },
    /// `Client::recreate_group`.
    RecreateGroup {
        group: ConversationId,
        without: Vec<Handle>,
    },
    /// `Client::add_member`.
    AddMember {
        group: ConversationId,
        member: Handle,
    },
    /// `Client::remove_member`.
    RemoveMember {
        group: ConversationId,
        member: Handle,
    },
    /// `Client::promote`.
    Promote {
        group: ConversationId,
        member: Handle,
    },
    /// `Client::leave_group`.
    LeaveGroup { group: ConversationId },
    /// `Client::admins`.
    Admins { conversation: ConversationId },
    /// `Client::create_workshop`.
    CreateWorkshop { name: String, plan: WorkshopPlan },
    /// `Client::workshop`.
    Workshop { room: ConversationId },
    /// `Client::workshops`.
    Workshops,
    /// `Client::change_workshop`.
    ChangeWorkshop {
        room: ConversationId,
        edit: RosterEdit,
    },
    /// `Client::propose_text`.
    ProposeText { room: ConversationId, text: String },
    /// `Client::negotiating_text`.
    NegotiatingText {
        room: ConversationId,
        version: Option<u32>,
    },
    /// `Client::text_diff`.
    TextDiff {
        room: ConversationId,
        from: u32,
        to: u32,
    },
    /// `Client::comment_text`.
    CommentText {
        room: ConversationId,
        para: u32,
        text: String,
    },
    /// `Client::text_comments`.
    TextComments {
        room: ConversationId,
        version: Option<u32>,
    },
    /// `Client::export_workshop`.
    ExportWorkshop { room: ConversationId },
    /// `Client::send_file` with the content of the file at `path`.
    SendFile {
        to: ConversationId,
        /// The file's absolute path, as bytes (a Unix path need not be UTF-8).
        path: Vec<u8>,
        name: String,
        media_type: String,
    },
    /// `Client::fetch_file` into the existing file at `path`, emptied first.
    FetchFile {
        id: String,
        /// The file's absolute path, as bytes.
        path: Vec<u8>,
    },
    /// `Client::documents`.
    Documents {
        conversation: Option<ConversationId>,
    },
    /// `Client::sync`.
    Sync,
    /// `Client::unread`.
    Unread {
        conversation: Option<ConversationId>,
    },
    /// `Client::mark_read`.
    MarkRead { ids: Vec<MessageId> },
    /// `Client::history`.
    History {
        conversation: ConversationId,
        limit: Option<usize>,
    },
    /// `Client::conversations`.
    Conversations,
    /// `Client::members`.
    Members { conversation: ConversationId },
    /// `Client::contacts`.
    Contacts,
    /// `Client::safety_number`.
    SafetyNumber { peer: Handle },
    /// `Client::verification`.
    Verification { peer: Handle },
    /// `Client::confirm_verified`.
    ConfirmVerified { peer: Handle },
    /// `Client::accept_new_key`.
    AcceptNewKey { peer: Handle },
    /// `Client::group_code`.
    GroupCode { conversation: ConversationId },
    /// `Client::alerts`.
    Alerts,
    /// `Client::quarantined`.
    Quarantined,
    /// `Client::check_passphrase` with `current`, then `Client::change_passphrase`.
    ChangePassphrase {
        current: Zeroizing<String>,
        new: Zeroizing<String>,
    },
    /// `Client::events`, relayed until the command hangs up.
    Events,
    /// Stop the daemon (after answering).
    Stop,
}

/// The answer to one request: its result as JSON, or why it failed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reply {
    /// The operation's result.
    Ok(serde_json::Value),
    /// The operation failed.
    Err(RemoteError),
    /// How far a transfer of a document is, in content bytes; its result follows.
    Progress {
        /// Bytes done.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
}

/// Why a frame could not be exchanged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// The socket failed or was closed.
    #[error("the connection to the Parley daemon failed: {0}")]
    Io(#[from] std::io::Error),
    /// A frame was too large or not the JSON expected.
    #[error("the Parley daemon sent something this parley does not understand: {0}")]
    Malformed(String),
}

/// Writes one frame holding `value`.
pub(crate) async fn write_frame<W, T>(writer: &mut W, value: &T) -> Result<(), WireError>
where
    W: AsyncWrite + Unpin,
    T: Serialize,
{
    let bytes =
        Zeroizing::new(serde_json::to_vec(value).map_err(|e| WireError::Malformed(e.to_string()))?);
    let length = u32::try_from(bytes.len())
        .ok()
        .filter(|length| *length <= MAX_FRAME)
        .ok_or_else(|| WireError::Malformed("frame too large".to_owned()))?;
    writer.write_all(&length.to_be_bytes()).await?;
    writer.write_all(&bytes).await?;
    writer.flush().await?;
    Ok(())
}

/// Reads one frame and decodes it; `None` when the other side hung up between frames.
pub(crate) async fn read_frame<R, T>(reader: &mut R) -> Result<Option<T>, WireError>
where
    R: AsyncRead + Unpin,
    T: DeserializeOwned,
{
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let length = u32::from_be_bytes(length);
    if length > MAX_FRAME {
        return Err(WireError::Malformed(format!("a frame of {length} bytes")));
    }
    let mut bytes = Zeroizing::new(vec![0u8; length as usize]);
    reader.read_exact(&mut bytes).await?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| WireError::Malformed(e.to_string()))
}

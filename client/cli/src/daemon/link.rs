//! A command's side of the daemon: one connection for calls (one at a time, in order), and
//! one more for each event stream and for each transfer of a document.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::Stream;
use parley_client::{Event, Transfer};
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;
use tokio::sync::Mutex;

use super::folder::Problem;
use super::paths::DaemonPaths;
use super::remote_error::RemoteError;
use super::wire::{read_frame, write_frame, Hello, Reply, Request, Welcome, WireError, VERSION};
use crate::failure::Failure;

/// A connection to a folder's daemon.
#[derive(Clone)]
pub(crate) struct Link {
    socket: PathBuf,
    calls: Arc<Mutex<UnixStream>>,
    pid: u32,
    proxy: Option<String>,
}

/// Why the daemon could not be asked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DaemonError {
    /// The connection failed or the daemon stopped while answering.
    #[error(
        "the Parley daemon stopped answering ({0}); whether the last command took effect is \
         unknown: check with `parley history` before repeating it"
    )]
    Lost(#[source] WireError),
    /// The daemon is another version of parley.
    #[error(
        "the Parley daemon running for this folder is another version of parley (protocol \
         {theirs}, this one speaks {ours}); stop it with `parley daemon stop` and start it again"
    )]
    Version {
        /// The daemon's version.
        theirs: u32,
        /// Ours.
        ours: u32,
    },
}

impl Link {
    /// Connects to the daemon of the folder, if one is running. `None` when there is no
    /// socket or nobody listens on it (a daemon that was killed leaves its socket behind).
    pub(crate) async fn connect(paths: &DaemonPaths) -> Result<Option<Link>, DaemonError> {
        let socket = paths.socket();
        let Some((stream, welcome)) = open(&socket).await? else {
            return Ok(None);
        };
        Ok(Some(Link {
            socket,
            calls: Arc::new(Mutex::new(stream)),
            pid: welcome.pid,
            proxy: welcome.proxy,
        }))
    }

    /// The proxy the daemon reaches the relay through, if any.
    pub(crate) fn proxy(&self) -> Option<&str> {
        self.proxy.as_deref()
    }

    /// The daemon's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Asks for one operation and decodes its result.
    pub(crate) async fn call<T: DeserializeOwned>(&self, request: Request) -> Result<T, Problem> {
        let mut stream = self.calls.lock().await;
        write_frame(&mut *stream, &request)
            .await
            .map_err(DaemonError::Lost)?;
        let reply: Reply = read_frame(&mut *stream)
            .await
            .map_err(DaemonError::Lost)?
            .ok_or_else(|| DaemonError::Lost(closed()))?;
        decode(reply)
    }

    /// Asks for a transfer of a document, calling `progress` for each report of how far it
    /// is, and decodes its result. A transfer may take minutes, so it has a connection of
    /// its own: the other calls of this command (the chat's sends while it saves a
    /// document) are not held up behind it.
    pub(crate) async fn call_with_progress<T: DeserializeOwned>(
        &self,
        request: Request,
        progress: &mut (dyn FnMut(Transfer) + Send),
    ) -> Result<T, Problem> {
        let (mut stream, _) = open(&self.socket)
            .await?
            .ok_or_else(|| DaemonError::Lost(closed()))?;
        write_frame(&mut stream, &request)
            .await
            .map_err(DaemonError::Lost)?;
        loop {
            let reply: Reply = read_frame(&mut stream)
                .await
                .map_err(DaemonError::Lost)?
                .ok_or_else(|| DaemonError::Lost(closed()))?;
            match reply {
                Reply::Progress { done, total } => progress(Transfer { done, total }),
                reply => return decode(reply),
            }
        }
    }

    /// The daemon's events, on a connection of their own, until it is dropped.
    pub(crate) async fn events(
        &self,
    ) -> Result<impl Stream<Item = Result<Event, Problem>> + Send + 'static, Problem> {
        let (mut stream, _) = open(&self.socket)
            .await?
            .ok_or_else(|| DaemonError::Lost(closed()))?;
        write_frame(&mut stream, &Request::Events)
            .await
            .map_err(DaemonError::Lost)?;
        // The daemon says when it listens, so that nothing sent after this returns is missed.
        read_frame::<_, Reply>(&mut stream)
            .await
            .map_err(DaemonError::Lost)?
            .ok_or_else(|| DaemonError::Lost(closed()))?;
        Ok(futures::stream::unfold(Some(stream), |state| async move {
            let mut stream = state?;
            match read_frame::<_, Reply>(&mut stream).await {
                Ok(Some(reply)) => Some((decode(reply), Some(stream))),
                Ok(None) => None,
                Err(error) => Some((Err(DaemonError::Lost(error).into()), None)),
            }
        }))
    }
}

/// Connects and exchanges the hello; `None` when no daemon listens.
async fn open(socket: &Path) -> Result<Option<(UnixStream, Welcome)>, DaemonError> {
    let mut stream = match UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            return Ok(None)
        }
        Err(e) => return Err(DaemonError::Lost(e.into())),
    };
    write_frame(&mut stream, &Hello { version: VERSION })
        .await
        .map_err(DaemonError::Lost)?;
    let welcome: Welcome = read_frame(&mut stream)
        .await
        .map_err(DaemonError::Lost)?
        .ok_or_else(|| DaemonError::Lost(closed()))?;
    if welcome.version != VERSION {
        return Err(DaemonError::Version {
            theirs: welcome.version,
            ours: VERSION,
        });
    }
    Ok(Some((stream, welcome)))
}

fn closed() -> WireError {
    WireError::Io(std::io::Error::new(
        ErrorKind::UnexpectedEof,
        "the daemon closed the connection",
    ))
}

fn decode<T: DeserializeOwned>(reply: Reply) -> Result<T, Problem> {
    match reply {
        Reply::Ok(value) => serde_json::from_value(value)
            .map_err(|e| DaemonError::Lost(WireError::Malformed(e.to_string())).into()),
        Reply::Err(RemoteError::Client(plain)) => Err(Problem::Client(plain.into_client_error())),
        Reply::Err(RemoteError::Described {
            message,
            hint,
            code,
        }) => Err(Problem::Described(Failure::from_parts(message, hint, code))),
        Reply::Progress { .. } => Err(DaemonError::Lost(WireError::Malformed(
            "a report of progress where none was expected".to_owned(),
        ))
        .into()),
    }
}

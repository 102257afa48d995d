//! The daemon: one long-running `parley` process per Parley folder that holds the store
//! (which admits one process at a time) and the relay connection, and serves every other
//! `parley` of the same folder over a Unix socket in it. With it, `chat` in one window and
//! `send` in another work at once, and commands skip the passphrase's key derivation.
//!
//! - [`paths`]: where the socket and the log live.
//! - [`wire`]: the protocol: length-prefixed JSON frames, one request and its answer at a
//!   time, or a stream of events.
//! - [`remote_error`]: library errors as they cross the socket.
//! - [`server`]: the daemon's side.
//! - [`link`]: a command's side of one connection.
//! - [`spawn`]: starting a daemon in the background and waiting until it serves.
//! - [`folder`]: what commands use: the library directly, or a daemon, alike.
//!
//! Only the user who owns the folder gets in: the socket sits in the folder, is made 0600
//! inside a 0700 directory, and the daemon checks each peer's user id.

pub(crate) mod folder;
mod folder_workshop;
pub(crate) mod link;
pub(crate) mod paths;
pub(crate) mod remote_error;
pub(crate) mod server;
pub(crate) mod spawn;
pub(crate) mod wire;

//! The command line as clap parses it. The words in these doc comments are what people see
//! in `--help`, so they are written for negotiators, not for engineers.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::help;

/// Parley: end-to-end encrypted messaging for negotiators.
///
/// Your messages are encrypted on this computer, and only the people in the conversation can
/// read them. The relay (the server you register with) only passes sealed envelopes along.
#[derive(Debug, Parser)]
#[command(name = "parley", version, after_help = help::TOP_LEVEL, max_term_width = 100)]
pub(crate) struct Cli {
    /// The folder holding your identity, keys and messages.
    /// [default: $HOME/.parley]
    #[arg(long, global = true, env = "PARLEY_HOME", value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands a person can run.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create your identity and register your handle on a relay (do this once).
    ///
    /// Creates your secret keys in your Parley folder and registers your handle (the name
    /// others use to write to you) on the relay. Ask the relay's operator for its address and
    /// its fingerprint; the fingerprint makes sure you talk to the real relay.
    #[command(after_help = help::INIT)]
    Init(InitArgs),

    /// Show who you are: your handle, your relay and your identity key.
    #[command(after_help = help::WHOAMI)]
    Whoami,

    /// Send a message to a person (by handle) or to a group (by name).
    ///
    /// The first message to a person starts a private conversation with them. Put the text
    /// in quotes, or use '-' to type or paste it (end with Ctrl-D).
    #[command(after_help = help::SEND)]
    Send(SendArgs),

    /// Fetch and show new messages, one per line as "sender: text".
    ///
    /// Fetches everything new from the relay. With a conversation name, shows only the new
    /// messages of that conversation (the others are still fetched and kept). Shows nothing
    /// when there is nothing new.
    #[command(after_help = help::READ)]
    Read(ReadArgs),

    /// Create a group and manage who is in it.
    #[command(subcommand, after_help = help::GROUP)]
    Group(GroupCommand),

    /// Show the safety number you share with a person, to compare with them.
    ///
    /// Both of you see the same 60 digits only if nobody is impersonating either of you.
    /// Compare them in person or on a call (not by Parley message).
    #[command(after_help = help::SAFETY_NUMBER)]
    SafetyNumber(SafetyNumberArgs),
}

/// Arguments of `parley init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The relay's address: https://host:port, or http://127.0.0.1:port for a relay on this
    /// computer.
    #[arg(long, value_name = "URL")]
    pub(crate) relay: String,

    /// The handle you want: 3 to 32 characters, lowercase letters, digits, '.', '_' or '-'.
    #[arg(long, value_name = "NAME")]
    pub(crate) handle: String,

    /// The relay's certificate fingerprint (64 hexadecimal characters), as given by its
    /// operator.
    #[arg(long, value_name = "SHA256")]
    pub(crate) relay_fingerprint: Option<String>,
}

/// Arguments of `parley send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// Who gets the message: a person's handle or a group's name.
    #[arg(value_name = "TO")]
    pub(crate) to: String,

    /// The message. Use quotes around it, or '-' to read it from the keyboard or a pipe.
    #[arg(value_name = "TEXT", required = true, num_args = 1..)]
    pub(crate) text: Vec<String>,
}

/// Arguments of `parley read`.
#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// Show only this conversation: a person's handle or a group's name.
    #[arg(value_name = "CONVERSATION")]
    pub(crate) conversation: Option<String>,
}

/// Arguments of `parley safety-number`.
#[derive(Debug, Args)]
pub(crate) struct SafetyNumberArgs {
    /// The handle of the person to compare with.
    #[arg(value_name = "HANDLE")]
    pub(crate) handle: String,
}

/// The `parley group ...` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum GroupCommand {
    /// Create a group with the given members (you are added automatically).
    #[command(after_help = help::GROUP_CREATE)]
    Create {
        /// The group's name, as everyone in it will see it.
        #[arg(value_name = "NAME")]
        name: String,
        /// The handles to invite, separated by commas.
        #[arg(long, value_name = "HANDLES", value_delimiter = ',', required = true)]
        members: Vec<String>,
    },

    /// Add a person to a group you are in.
    #[command(after_help = help::GROUP_ADD)]
    Add {
        /// The group's name.
        #[arg(value_name = "NAME")]
        name: String,
        /// The handle of the person to add.
        #[arg(value_name = "HANDLE")]
        handle: String,
    },

    /// Remove a person from a group; they cannot read anything sent afterwards.
    #[command(after_help = help::GROUP_REMOVE)]
    Remove {
        /// The group's name.
        #[arg(value_name = "NAME")]
        name: String,
        /// The handle of the person to remove.
        #[arg(value_name = "HANDLE")]
        handle: String,
    },

    /// List who is in a group, one handle per line.
    #[command(after_help = help::GROUP_MEMBERS)]
    Members {
        /// The group's name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

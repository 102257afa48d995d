//! The command line as clap parses it. The words in these doc comments are what people see
//! in `--help`, so they are written for negotiators, not for engineers.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::ArgValueCandidates;
use parley_client::{ProxyUrl, Retention};

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

    /// Print data as JSON, one object per line, for scripts; remarks go to stderr.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Run this shell command to get your passphrase (it prints the passphrase), e.g. a
    /// password manager. Otherwise the file named by PARLEY_PASSPHRASE_FILE is read, else
    /// you are asked.
    #[arg(long, global = true, value_name = "CMD")]
    pub(crate) passphrase_command: Option<String>,

    /// Reach the relay only through this SOCKS5 proxy, e.g. Tor: socks5h://127.0.0.1:9050.
    /// The relay then never sees this computer's address, and each connection gets a Tor
    /// circuit of its own. The folder remembers it: later commands use it without the flag.
    #[arg(long, global = true, env = "PARLEY_PROXY", value_name = "URL")]
    pub(crate) proxy: Option<ProxyUrl>,

    /// Reach the relay directly, without the proxy this folder remembers (and forget it).
    #[arg(long, global = true, conflicts_with = "proxy")]
    pub(crate) no_proxy: bool,

    /// Print no remarks ("Sent to bob.", "Passphrase changed."); errors and data still show.
    #[arg(long, short = 'q', global = true)]
    pub(crate) quiet: bool,

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

    /// Replace your keys with new ones (for example if you fear a copy of them was taken).
    ///
    /// Creates a new identity key and publishes it on the relay, signed by your current
    /// key, so that your contacts' Parley accepts it as yours and tells them you rotated your
    /// keys (instead of warning that your key changed). Your conversations move to the new
    /// key. Contacts who verified you in person stay verified. If your keys are lost (no copy
    /// of your Parley folder), this cannot help: ask your relay's operator to release your
    /// handle, register again, and verify again with everyone.
    #[command(name = "rotate-keys", after_help = help::ROTATE_KEYS)]
    RotateKeys,

    /// Send a message to a person (by handle) or to a group (by name).
    ///
    /// The first message to a person starts a private conversation with them. Put the text
    /// in quotes, or use '-' to type or paste it (end with Ctrl-D).
    #[command(after_help = help::SEND)]
    Send(SendArgs),

    /// Fetch and show new messages, one per line, in the order they were sent.
    ///
    /// Fetches everything new from the relay. Each line is "sender: text" led by the
    /// conversation's name in square brackets (left out when you have only one conversation). With a conversation name,
    /// shows only the new messages of that conversation, as "sender: text" (the others are
    /// still fetched and kept). Shows nothing when there is nothing new. The sender's
    /// verification status is in `parley history`, `parley chat` and in the "verified" field
    /// of --json.
    #[command(after_help = help::READ)]
    Read(ReadArgs),

    /// Show the messages of one conversation kept on this computer, oldest first.
    ///
    /// Each line shows the time (UTC), the sender, the sender's status in square brackets
    /// and the text. The status is verified, unverified or CHANGED (the sender's identity
    /// key changed: compare safety numbers before trusting it). Nothing is fetched from the
    /// relay; run `parley read` for new messages.
    #[command(after_help = help::HISTORY)]
    History(HistoryArgs),

    /// Send a document (any file) to a person or a group.
    ///
    /// The file is encrypted on this computer and uploaded to the relay in pieces; only the
    /// people in the conversation can open it. They see it in `parley read` as one line with
    /// its name, size and id, and save it with `parley get-file ID`.
    #[command(name = "send-file", after_help = help::SEND_FILE)]
    SendFile(SendFileArgs),

    /// List the documents shared in your conversations, or in one, oldest first.
    ///
    /// Each line shows the document's id (its first 8 characters), name, size, who sent it,
    /// the conversation and when (UTC). Only what is kept on this computer is listed; run
    /// `parley read` for new messages first.
    #[command(after_help = help::FILES)]
    Files(FilesArgs),

    /// Save a document shared with you into a file.
    ///
    /// The document is fetched from the relay, decrypted and checked: if anything in it is
    /// not what its sender shared, nothing is saved. By default it is saved in the current
    /// folder under the name its sender gave (cleaned so that it cannot point anywhere
    /// else); an existing file is never replaced without --force.
    #[command(name = "get-file", after_help = help::GET_FILE)]
    GetFile(GetFileArgs),

    /// List your contacts with their verification status and key fingerprint.
    #[command(after_help = help::CONTACTS)]
    Contacts,

    /// List your conversations: name, kind (direct or group) and number of members.
    #[command(after_help = help::CONVERSATIONS)]
    Conversations,

    /// Chat in the terminal: conversations, live messages, members and their status.
    ///
    /// Shows your conversations on the left (with the number of new messages), the chosen
    /// conversation's messages in the middle as they arrive, and its members on the right,
    /// each with their verification status (verified, unverified or CHANGED). Type below and
    /// press Enter to send. Press ? for the keys, Esc or Ctrl-C to quit.
    #[command(after_help = help::CHAT)]
    Chat(ChatArgs),

    /// Create a group and manage who is in it.
    #[command(subcommand, after_help = help::GROUP)]
    Group(GroupCommand),

    /// Run a Track II workshop: a plenary, a caucus per side and a facilitators' room, with
    /// roles every member's software enforces and the Chatham House rule in the plenary.
    #[command(subcommand, after_help = help::WORKSHOP)]
    Workshop(WorkshopCommand),

    /// List the workshops you are in, with your role in each.
    #[command(after_help = help::WORKSHOPS)]
    Workshops,

    /// The single negotiating text of a workshop: publish versions (facilitators), read,
    /// compare and comment on a paragraph.
    #[command(subcommand, after_help = help::TEXT)]
    Text(TextCommand),

    /// Change how long your private conversation with a person keeps messages (they are
    /// told).
    ///
    /// Messages and documents older than DURATION disappear from both devices at their next
    /// sync, and from the relay at its next sweep. Files saved elsewhere with get-file are
    /// not touched.
    #[command(after_help = help::RETENTION)]
    Retention(RetentionArgs),

    /// Show the safety number you share with a person, to compare with them.
    ///
    /// Both of you see the same 60 digits only if nobody is impersonating either of you.
    /// Compare them in person or on a call (not by Parley message).
    #[command(after_help = help::SAFETY_NUMBER)]
    SafetyNumber(SafetyNumberArgs),

    /// Compare safety numbers with a person, or one code with a whole group, and record a
    /// match.
    ///
    /// Shows the 60-digit safety number you share with HANDLE (12 groups of 5) and the same
    /// as a QR code, with their status: verified, unverified or CHANGED. Both of you see the
    /// same number only if nobody is impersonating either of you. After comparing in person
    /// or on a call, `--confirm` marks them verified. With --group NAME, shows one code over
    /// all members' keys and the group's current state, for a room to compare in one step.
    #[command(
        after_help = help::VERIFY,
        override_usage = "parley verify HANDLE [--confirm]\n       parley verify --group NAME"
    )]
    Verify(VerifyArgs),

    /// Decide about a contact whose identity key changed.
    #[command(subcommand, after_help = help::CONTACT)]
    Contact(ContactCommand),

    /// Change the passphrase that protects your Parley folder.
    #[command(subcommand, after_help = help::PASSPHRASE)]
    Passphrase(PassphraseCommand),

    /// Show what needs your attention: security alerts and messages set aside.
    ///
    /// Alerts are kept when something security-relevant happens: a contact's key changed,
    /// a message or member was refused, you were removed from a group. Messages set aside
    /// could not be read (damaged, forged, or from a key you have not accepted) and are kept
    /// for inspection rather than dropped silently.
    #[command(after_help = help::ALERTS)]
    Alerts,

    /// List, or cancel, messages waiting to be sent because the relay could not be reached.
    #[command(after_help = help::OUTBOX)]
    Outbox(OutboxArgs),

    /// Run Parley in the background so several windows can use your folder at once.
    ///
    /// The daemon keeps your Parley folder open (the passphrase is asked once, when it
    /// starts), receives messages as they arrive, sends what waits in the outbox, and answers
    /// every other `parley` command of the same folder, so `parley chat` in one window and
    /// `parley send` in another work together, and commands start instantly. `chat` and
    /// `read --follow` start it themselves when it is not running. Anyone who can use your
    /// account while it runs can read your messages without the passphrase: stop it when
    /// you leave the computer.
    #[command(subcommand, after_help = help::DAEMON)]
    Daemon(DaemonCommand),

    /// Print a shell completion script (bash, zsh or fish).
    #[command(after_help = help::COMPLETIONS)]
    Completions(CompletionsArgs),

    /// Print parley's manual page (roff), e.g. `parley man | man -l -`.
    Man,
}

/// Arguments of `parley init`. Without --relay and --handle, on a terminal, init asks.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The relay's address: https://host:port, or http://127.0.0.1:port for a relay on this
    /// computer. Asked for when missing.
    #[arg(long, value_name = "URL")]
    pub(crate) relay: Option<String>,

    /// The handle you want: 3 to 32 characters, lowercase letters, digits, '.', '_' or '-'.
    /// Asked for when missing.
    #[arg(long, value_name = "NAME")]
    pub(crate) handle: Option<String>,

    /// The relay's certificate fingerprint (64 hexadecimal characters), as given by its
    /// operator.
    #[arg(long, value_name = "SHA256")]
    pub(crate) relay_fingerprint: Option<String>,
}

/// Arguments of `parley chat`.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// The conversation to open: a person's handle or a group's name. A handle you have no
    /// conversation with yet opens an empty one; your first message starts it.
    #[arg(value_name = "CONVERSATION", add = ArgValueCandidates::new(crate::completion::conversations))]
    pub(crate) conversation: Option<String>,
}

/// Arguments of `parley send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// Who gets the message: a person's handle (@handle always means the person), the name
    /// of a group you created, or inviter/name for a group someone added you to.
    #[arg(value_name = "TO", add = ArgValueCandidates::new(crate::completion::conversations))]
    pub(crate) to: String,

    /// The message. Use quotes around it, or '-' to read it from the keyboard or a pipe.
    #[arg(value_name = "TEXT", required = true, num_args = 1..)]
    pub(crate) text: Vec<String>,
}

/// Arguments of `parley send-file`.
#[derive(Debug, Args)]
pub(crate) struct SendFileArgs {
    /// Who gets the document: a person's handle (@handle always means the person), the name
    /// of a group you created, or inviter/name for a group someone added you to.
    #[arg(value_name = "TO", add = ArgValueCandidates::new(crate::completion::conversations))]
    pub(crate) to: String,

    /// The file to send.
    #[arg(value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub(crate) path: PathBuf,

    /// The name the others see (and save it under); by default the file's own name.
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
}

/// Arguments of `parley files`.
#[derive(Debug, Args)]
pub(crate) struct FilesArgs {
    /// Only the documents of this conversation: a person's handle or a group's name.
    #[arg(value_name = "CONVERSATION", add = ArgValueCandidates::new(crate::completion::conversations))]
    pub(crate) conversation: Option<String>,
}

/// Arguments of `parley get-file`.
#[derive(Debug, Args)]
pub(crate) struct GetFileArgs {
    /// The document's id, as `parley read` or `parley files` shows it: its first 8
    /// characters are enough.
    #[arg(value_name = "ID")]
    pub(crate) id: String,

    /// Where to save it: a file name, or a folder to save it in under the sender's name.
    /// By default the current folder.
    #[arg(long, short = 'o', value_name = "PATH", value_hint = clap::ValueHint::AnyPath)]
    pub(crate) out: Option<PathBuf>,

    /// Replace the file if it exists already.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Arguments of `parley read`.
#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// Show only this conversation: a person's handle or a group's name.
    #[arg(value_name = "CONVERSATION", add = ArgValueCandidates::new(crate::completion::conversations))]
    pub(crate) conversation: Option<String>,

    /// Keep running and show messages as they arrive, until Ctrl-C.
    #[arg(long, short = 'f')]
    pub(crate) follow: bool,
}

/// Arguments of `parley history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The conversation: a person's handle or a group's name.
    #[arg(value_name = "CONVERSATION", add = ArgValueCandidates::new(crate::completion::conversations))]
    pub(crate) conversation: String,

    /// Show only the latest N messages.
    #[arg(long, short = 'n', value_name = "N")]
    pub(crate) limit: Option<usize>,
}

/// The `parley passphrase ...` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum PassphraseCommand {
    /// Choose a new passphrase; your keys and messages stay as they are.
    ///
    /// The current passphrase comes from the usual places (PARLEY_PASSPHRASE_FILE,
    /// --passphrase-command, or you are asked). The new one from the file named by
    /// PARLEY_NEW_PASSPHRASE_FILE, or --new-passphrase-command, or you are asked twice.
    Change {
        /// Run this shell command to get the new passphrase (it prints it).
        #[arg(long, value_name = "CMD")]
        new_passphrase_command: Option<String>,
    },
}

/// Arguments of `parley outbox`.
#[derive(Debug, Args)]
pub(crate) struct OutboxArgs {
    /// Remove this waiting message (by the number `parley outbox` shows) without sending it.
    #[arg(long, value_name = "N")]
    pub(crate) cancel: Option<u64>,
}

/// The `parley daemon ...` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum DaemonCommand {
    /// Start the daemon in the background (asks the passphrase once).
    Start {
        /// Stop by itself after this long with no command connected: e.g. 30m, 8h, 2d, or
        /// "never".
        #[arg(long, value_name = "DURATION", default_value = "8h")]
        idle_timeout: String,
    },
    /// Stop the daemon; the folder is locked again.
    Stop,
    /// Say whether the daemon is running.
    Status,
    /// Run the daemon in this window until Ctrl-C (for a service manager).
    Run {
        /// As for `start`.
        #[arg(long, value_name = "DURATION", default_value = "never")]
        idle_timeout: String,
        /// Started by `parley daemon start`: the passphrase comes on standard input, and
        /// readiness is reported on standard output.
        #[arg(long, hide = true)]
        spawned: bool,
    },
}

/// Arguments of `parley completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub(crate) shell: CompletionShell,
}

/// The shells `parley completions` writes scripts for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum CompletionShell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// Arguments of `parley safety-number`.
#[derive(Debug, Args)]
pub(crate) struct SafetyNumberArgs {
    /// The handle of the person to compare with.
    #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
    pub(crate) handle: String,
}

/// Arguments of `parley verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The handle of the person to compare with.
    #[arg(
        value_name = "HANDLE",
        add = ArgValueCandidates::new(crate::completion::handles),
        required_unless_present = "group",
        conflicts_with = "group"
    )]
    pub(crate) handle: Option<String>,

    /// Show the code of this group instead: compare it with everyone in the room at once.
    #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
    pub(crate) group: Option<String>,

    /// Mark HANDLE as verified: use it only after every digit matched. If their key
    /// CHANGED, this also accepts the new key.
    #[arg(long, conflicts_with = "group")]
    pub(crate) confirm: bool,
}

/// The `parley contact ...` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ContactCommand {
    /// Accept a contact's changed identity key without comparing safety numbers.
    ///
    /// Sending to someone whose key CHANGED is blocked (exit code 3). This unblocks it: the
    /// new key is used from now on and the contact becomes unverified. A private
    /// conversation that still holds the old key is kept, read-only, as "HANDLE (old key)";
    /// your next message starts a new one. Prefer `parley verify HANDLE` and `--confirm`.
    AcceptNewKey {
        /// The handle whose new key to accept.
        #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
        handle: String,
    },
}

/// `parley retention HANDLE DURATION`.
#[derive(Debug, Args)]
pub(crate) struct RetentionArgs {
    /// The person's handle.
    #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
    pub(crate) handle: String,
    /// How long messages live: e.g. 7d, 24h, 90m, or off to keep them.
    #[arg(value_name = "DURATION")]
    pub(crate) retention: Retention,
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
        /// Make messages and documents disappear this long after they are sent, on every
        /// member's device and at the relay: e.g. 7d, 24h, 90m, or off (the default).
        #[arg(long, value_name = "DURATION", default_value = "off")]
        retention: Retention,
    },

    /// Change how long a group keeps messages and documents (every member is told).
    ///
    /// Older messages disappear from every member's device at their next sync, and from the
    /// relay at its next sweep. Files you saved elsewhere with get-file are yours to delete.
    #[command(after_help = help::GROUP_RETENTION)]
    Retention {
        /// The group's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// How long messages live: e.g. 7d, 24h, 90m, or off to keep them.
        #[arg(value_name = "DURATION")]
        retention: Retention,
    },

    /// Add a person to a group you are in.
    #[command(after_help = help::GROUP_ADD)]
    Add {
        /// The group's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The handle of the person to add.
        #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
        handle: String,
    },

    /// Remove a person from a group; they cannot read anything sent afterwards.
    #[command(after_help = help::GROUP_REMOVE)]
    Remove {
        /// The group's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The handle of the person to remove.
        #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
        handle: String,
    },

    /// Make a member an admin too. Only admins may add and remove people and make other
    /// admins; everyone else's software refuses such a change from anyone else.
    #[command(after_help = help::GROUP_PROMOTE)]
    Promote {
        /// The group's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The handle of the member to make an admin.
        #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
        handle: String,
    },

    /// Leave a group: everyone in it is told, an admin's software removes you, and you stop
    /// receiving its messages. If you are its only admin, make someone else one first.
    #[command(after_help = help::GROUP_LEAVE)]
    Leave {
        /// The group's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
    },

    /// Start a group again when it cannot go on (parley alerts says it is stuck): a new
    /// group with the same members, less those given with --without, checked against your
    /// contacts' keys; the old one is kept, renamed 'NAME (old)'.
    #[command(after_help = help::GROUP_RECREATE)]
    Recreate {
        /// The group's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// Handles to leave out (whoever broke the room), separated by commas.
        #[arg(long, value_name = "HANDLES", value_delimiter = ',')]
        without: Vec<String>,
    },

    /// List who is in a group, one handle per line (admins marked in --json).
    #[command(after_help = help::GROUP_MEMBERS)]
    Members {
        /// The group's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
    },
}

/// The `parley workshop ...` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum WorkshopCommand {
    /// Create a workshop you facilitate: the plenary (everyone), a caucus per side (that
    /// side and the facilitators) and the facilitators' room.
    #[command(after_help = help::WORKSHOP_CREATE)]
    Create {
        /// The workshop's name; its rooms are NAME, NAME:facilitators and NAME:SIDE for each side.
        #[arg(value_name = "NAME")]
        name: String,
        /// The facilitators' handles, separated by commas; you must be one of them.
        #[arg(long, value_name = "HANDLES", value_delimiter = ',', required = true)]
        facilitators: Vec<String>,
        /// A side and its participants: --side north:carol,dave (give at least two sides).
        #[arg(long = "side", value_name = "SIDE:HANDLES", required = true)]
        sides: Vec<String>,
        /// Observers, separated by commas: they read the plenary and nothing else.
        #[arg(long, value_name = "HANDLES", value_delimiter = ',')]
        observers: Vec<String>,
        /// How the plenary shows who said what: person (the default), side (the Chatham
        /// House rule by side) or none (everyone is "participant").
        #[arg(long, value_name = "POLICY", default_value = "person")]
        attribution: String,
        /// Make messages disappear this long after they are sent, in every room: e.g. 30d.
        #[arg(long, value_name = "DURATION", default_value = "off")]
        retention: Retention,
    },

    /// Show a workshop: its rooms, everyone by side and role with their verification
    /// status, and its policies.
    #[command(after_help = help::WORKSHOP_SHOW)]
    Show {
        /// The workshop's name (or the name of any of its rooms).
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
    },

    /// Add a person to a workshop (facilitators): ROLE is a side's name, observer or
    /// facilitator. Every room they belong in adds them, and is told.
    #[command(after_help = help::WORKSHOP_ADD)]
    Add {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The person's handle.
        #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
        handle: String,
        /// Their role: a side's name, observer or facilitator.
        #[arg(value_name = "ROLE")]
        role: String,
    },

    /// Take a person out of every room of a workshop (facilitators); every room is told.
    #[command(after_help = help::WORKSHOP_REMOVE)]
    Remove {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The person's handle.
        #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
        handle: String,
    },

    /// Move a participant to another side (facilitators): they leave their caucus and join
    /// the other side's; every room is told.
    #[command(after_help = help::WORKSHOP_MOVE)]
    Move {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The person's handle.
        #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
        handle: String,
        /// The side they move to.
        #[arg(value_name = "SIDE")]
        side: String,
    },

    /// Give a person another role (facilitators): a side's name, observer or facilitator.
    #[command(after_help = help::WORKSHOP_ROLE)]
    Role {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The person's handle.
        #[arg(value_name = "HANDLE", add = ArgValueCandidates::new(crate::completion::handles))]
        handle: String,
        /// The new role.
        #[arg(value_name = "ROLE")]
        role: String,
    },

    /// Change how the plenary shows who said what (facilitators): person, side or none.
    /// Every room is told; what was kept before stays as it was kept.
    #[command(after_help = help::WORKSHOP_ATTRIBUTION)]
    Attribution {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// person, side or none.
        #[arg(value_name = "POLICY")]
        policy: String,
    },

    /// Write the workshop's record to a Markdown file (facilitators): the final text, its
    /// version chain, the comments and the plenary under the attribution policy. The room is
    /// told that a facilitator exported it.
    #[command(after_help = help::WORKSHOP_EXPORT)]
    Export {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The file to write (refused if it exists).
        #[arg(long, value_name = "FILE.md")]
        out: PathBuf,
    },
}

/// The `parley text ...` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum TextCommand {
    /// Publish the next version of the workshop's text from a file (facilitators; '-' reads
    /// it from the keyboard or a pipe). Paragraphs are separated by blank lines.
    #[command(after_help = help::TEXT_PROPOSE)]
    Propose {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The file holding the text.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },

    /// Show a version of the text (the latest by default), paragraphs numbered.
    #[command(after_help = help::TEXT_SHOW)]
    Show {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// Which version.
        #[arg(long, value_name = "N")]
        version: Option<u32>,
    },

    /// Show what changed between two versions, paragraph by paragraph.
    #[command(after_help = help::TEXT_DIFF)]
    Diff {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The older version.
        #[arg(value_name = "N")]
        from: u32,
        /// The newer version.
        #[arg(value_name = "M")]
        to: u32,
    },

    /// Comment on a paragraph of the latest version (shown as the plenary's attribution
    /// policy says).
    #[command(after_help = help::TEXT_COMMENT)]
    Comment {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// The paragraph's number, as `parley text show` gives it.
        #[arg(long, value_name = "K")]
        para: u32,
        /// The comment.
        #[arg(value_name = "TEXT")]
        text: String,
    },

    /// List the comments on the text (on one version with --version).
    #[command(after_help = help::TEXT_COMMENTS)]
    Comments {
        /// The workshop's name.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(crate::completion::conversations))]
        name: String,
        /// Only the comments on this version.
        #[arg(long, value_name = "N")]
        version: Option<u32>,
    },
}

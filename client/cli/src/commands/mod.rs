//! One module per command. Each takes its parsed arguments and the run's context, does its
//! work through the client library, and prints its result.

mod alerts;
mod completions;
mod contact;
mod contacts;
mod conversations;
mod daemon;
mod files;
mod get_file;
mod group;
mod history;
mod init;
mod man;
mod outbox;
mod passphrase;
mod read;
mod retention;
mod rotate_keys;
mod safety_number;
mod send;
mod send_file;
mod text;
mod verify;
mod whoami;
mod workshop;

use anyhow::Result;

use super::args::Command;
use super::context::Ctx;

/// Runs one command to completion.
pub(crate) async fn dispatch(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Init(args) => init::run(args, ctx).await,
        Command::Whoami => whoami::run(ctx).await,
        Command::RotateKeys => rotate_keys::run(ctx).await,
        Command::Send(args) => send::run(args, ctx).await,
        Command::Read(args) => read::run(args, ctx).await,
        Command::History(args) => history::run(args, ctx).await,
        Command::SendFile(args) => send_file::run(args, ctx).await,
        Command::Files(args) => files::run(args, ctx).await,
        Command::GetFile(args) => get_file::run(args, ctx).await,
        Command::Contacts => contacts::run(ctx).await,
        Command::Conversations => conversations::run(ctx).await,
        Command::Chat(args) => crate::chat::run(args, ctx).await,
        Command::Group(group_command) => group::run(group_command, ctx).await,
        Command::Workshop(command) => workshop::run(command, ctx).await,
        Command::Workshops => workshop::list(ctx).await,
        Command::Text(command) => text::run(command, ctx).await,
        Command::Retention(args) => retention::run(args, ctx).await,
        Command::SafetyNumber(args) => safety_number::run(args, ctx).await,
        Command::Verify(args) => verify::run(args, ctx).await,
        Command::Contact(contact_command) => contact::run(contact_command, ctx).await,
        Command::Passphrase(passphrase_command) => passphrase::run(passphrase_command, ctx).await,
        Command::Alerts => alerts::run(ctx).await,
        Command::Outbox(args) => outbox::run(args, ctx).await,
        Command::Daemon(daemon_command) => daemon::run(daemon_command, ctx).await,
        Command::Completions(args) => completions::run(&args),
        Command::Man => man::run(),
    }
}

//! One module per command. Each takes its parsed arguments and the data folder, does its
//! work through the client library, and prints its result.

mod group;
mod init;
mod read;
mod safety_number;
mod send;
mod whoami;

use anyhow::Result;
use parley_client::Client;

use super::args::Command;
use super::failure::not_initialized;
use super::home::Home;

/// Runs one command to completion.
pub(crate) async fn dispatch(command: Command, home: &Home) -> Result<()> {
    match command {
        Command::Init(args) => init::run(args, home).await,
        Command::Whoami => whoami::run(home).await,
        Command::Send(args) => send::run(args, home).await,
        Command::Read(args) => read::run(args, home).await,
        Command::Group(group_command) => group::run(group_command, home).await,
        Command::SafetyNumber(args) => safety_number::run(args, home).await,
    }
}

/// Opens the client on an existing data folder. A missing folder is reported as "not set up
/// yet" rather than silently created: a typo in --home should not produce an empty folder.
async fn open(home: &Home) -> Result<Client> {
    if !home.dir().exists() {
        return Err(not_initialized(home).into());
    }
    Ok(Client::builder().home(home.dir()).build().await?)
}

//! `parley passphrase change`: re-wrap the store key under a new passphrase. The keys and
//! messages themselves are not touched, so this is quick and cannot lose data.

use anyhow::Result;
use parley_client::Passphrase;

use crate::args::PassphraseCommand;
use crate::context::Ctx;
use crate::output::note;
use crate::passphrase::Source;

/// Opens with the current passphrase (a wrong one stops here, changing nothing), then reads
/// the new one and re-wraps.
pub(super) async fn run(command: PassphraseCommand, ctx: &Ctx) -> Result<()> {
    let PassphraseCommand::Change {
        new_passphrase_command,
    } = command;
    let client = ctx.open().await?;
    let mut secret = Source::new_one(new_passphrase_command)
        .read_new("New passphrase: ", "Type the new passphrase again: ")?;
    let new = Passphrase::new(std::mem::take(&mut *secret));
    client.change_passphrase(new).await?;
    note("Your passphrase is changed. Use the new one from now on.");
    Ok(())
}

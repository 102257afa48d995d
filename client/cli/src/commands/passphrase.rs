//! `parley passphrase change`: re-wrap the store key under a new passphrase. The keys and
//! messages themselves are not touched, so this is quick and cannot lose data.

use anyhow::Result;
use zeroize::Zeroizing;

use crate::args::PassphraseCommand;
use crate::context::{Ctx, PROMPT};
use crate::output::success;
use crate::passphrase::Source;

/// Opens with the current passphrase (a wrong one stops here, changing nothing), then reads
/// the new one and re-wraps. Through a daemon, which was unlocked long ago, the current
/// passphrase is asked all the same and checked before anything changes.
pub(super) async fn run(command: PassphraseCommand, ctx: &Ctx) -> Result<()> {
    let PassphraseCommand::Change {
        new_passphrase_command,
    } = command;
    let folder = ctx.open().await?;
    let current = if folder.is_daemon() {
        ctx.passphrase_source().read(PROMPT)?
    } else {
        Zeroizing::new(String::new())
    };
    let handle = folder.whoami().await?.handle;
    let new = Source::new_one(new_passphrase_command).read_new(
        "New passphrase: ",
        "Type the new passphrase again: ",
        &[handle.as_str()],
    )?;
    folder.change_passphrase(current, new).await?;
    success("Passphrase changed. Use the new one from now on.");
    Ok(())
}

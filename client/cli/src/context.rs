//! What every command needs besides its own arguments: the data folder, whether the output
//! is for a program (`--json`), and where the passphrase comes from.

use anyhow::Result;
use parley_client::{Client, ClientBuilder};

use super::failure::not_initialized;
use super::home::Home;
use super::passphrase::{Secret, Source};

/// The prompt for the passphrase of an existing Parley folder.
const PROMPT: &str = "Passphrase for your Parley folder: ";

/// The settings shared by all commands of one run.
#[derive(Debug)]
pub(crate) struct Ctx {
    home: Home,
    json: bool,
    passphrase: Source,
}

impl Ctx {
    /// Gathers the global choices; the passphrase itself is read only when a command needs it.
    pub(crate) fn new(home: Home, json: bool, passphrase_command: Option<String>) -> Ctx {
        Ctx {
            home,
            json,
            passphrase: Source::current(passphrase_command),
        }
    }

    /// Opens the client on an existing data folder, unlocked with the passphrase from the
    /// usual sources. A missing folder is reported as "not set up yet" rather than silently
    /// created (a typo in --home should not produce an empty folder), and before any
    /// passphrase is asked for.
    pub(crate) async fn open(&self) -> Result<Client> {
        if !self.home.dir().exists() {
            return Err(not_initialized(&self.home).into());
        }
        let secret = self.passphrase.read(PROMPT)?;
        let builder = with_passphrase(Client::builder().home(self.home.dir()), secret);
        Ok(builder.build().await?)
    }

    /// Whether `--json` was given: data as one JSON object per line on stdout, remarks on
    /// stderr.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// The data folder.
    pub(crate) fn home(&self) -> &Home {
        &self.home
    }

    /// Where the passphrase comes from, for the commands that create or change it.
    pub(crate) fn passphrase_source(&self) -> &Source {
        &self.passphrase
    }
}

/// Hands the passphrase to the builder; the string moves into the library's zeroizing type.
pub(crate) fn with_passphrase(builder: ClientBuilder, mut secret: Secret) -> ClientBuilder {
    let passphrase = parley_client::Passphrase::new(std::mem::take(&mut *secret));
    builder.passphrase(passphrase)
}

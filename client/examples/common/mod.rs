//! What the examples share: opening a client from the environment.
//!
//! `PARLEY_HOME` (the data folder), `PARLEY_RELAY` (the relay address),
//! `PARLEY_RELAY_FINGERPRINT` (its certificate fingerprint, for https),
//! `PARLEY_PASSPHRASE_FILE` (a file holding the passphrase), and `PARLEY_HANDLE` (registered
//! on first use).

use std::error::Error;

use parley_client::{Client, Handle, Passphrase};

/// Opens (and on first use registers) the client the environment describes.
pub(crate) async fn open_from_env() -> Result<Client, Box<dyn Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let passphrase = std::fs::read_to_string(var("PARLEY_PASSPHRASE_FILE")?)?;
    let mut builder = Client::builder()
        .home(var("PARLEY_HOME")?)
        .relay(var("PARLEY_RELAY")?)
        .passphrase(Passphrase::new(
            passphrase.trim_end_matches('\n').to_owned(),
        ));
    if let Ok(fingerprint) = var("PARLEY_RELAY_FINGERPRINT") {
        builder = builder.relay_fingerprint(fingerprint);
    }
    let client = builder.build().await?;
    if client.whoami().is_err() {
        let handle: Handle = var("PARLEY_HANDLE")?.parse()?;
        client.register(&handle).await?;
    }
    Ok(client)
}

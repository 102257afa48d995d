//! Sends one message and exits: `send_once TO TEXT`, where TO is a handle (`@bob` or `bob`),
//! a group's name, or `inviter/name`. See `common.rs` for the environment it reads.

mod common;

use std::error::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(to), Some(text)) = (args.next(), args.next()) else {
        return Err("usage: send_once TO TEXT".into());
    };
    let client = common::open_from_env().await?;
    // Names typed by people go through the library's one resolver: a name that could mean a
    // person and a group is refused rather than guessed.
    let conversation = client.resolve(&to).await?;
    let sent = client.send_text(&conversation, &text).await?;
    println!("sent to {}", sent.conversation_name);
    Ok(())
}

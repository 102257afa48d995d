//! A bot that follows its events and answers every text with "echo: TEXT" in the same
//! conversation. It stops after `ECHO_LIMIT` answers (default: never). See `common.rs` for
//! the environment it reads.

mod common;

use std::error::Error;

use futures::StreamExt;
use parley_client::{Alert, Event, MessageBody, Verification};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let limit: usize = std::env::var("ECHO_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let client = common::open_from_env().await?;
    let me = client.whoami()?.handle;
    println!("{me} is listening");
    let mut events = Box::pin(client.events());
    let mut answered = 0;
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Message(message)) if message.sender != me => {
                // Mark what the bot handled, so an application showing unread messages on the
                // same identity does not show them again.
                client.mark_read(&[message.id]).await?;
                let MessageBody::Text(text) = &message.body else {
                    continue;
                };
                if message.sender_status == Verification::Changed {
                    eprintln!("not answering {}: their key CHANGED", message.sender);
                    continue;
                }
                client
                    .send_text(&message.conversation, &format!("echo: {text}"))
                    .await?;
                answered += 1;
                println!(
                    "answered {} in {}",
                    message.sender, message.conversation_name
                );
                if answered >= limit {
                    return Ok(());
                }
            }
            Ok(Event::Alert(alert @ Alert::KeyChanged { .. })) => eprintln!("alert: {alert}"),
            Ok(_) => {}
            // The stream retries by itself; a person would want to know.
            Err(error) => eprintln!("not receiving right now: {error}"),
        }
    }
    Ok(())
}

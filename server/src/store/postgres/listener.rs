//! Wake-ups across relay nodes: every node LISTENs on the database, and each deposit or group
//! entry is announced with `pg_notify` in the transaction that stores it, so a subscriber on
//! one node is pushed what was written through another. A lost connection is taken up again,
//! and subscribers are told to look again for whatever was written meanwhile.

use std::time::Duration;

use futures::StreamExt;
use parley_crypto::handle::Handle;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::super::contract::{Change, ChangeSink};

/// The channel deposits are announced on; payload `handle:id`.
pub(super) const INBOX_CHANNEL: &str = "parley_inbox";
/// The channel group entries are announced on; payload `hex(group id):seq`.
pub(super) const GROUP_CHANNEL: &str = "parley_group";
/// Wait before listening again after the connection was lost.
const RETRY: Duration = Duration::from_secs(1);

/// Listens until nobody takes the changes any more, reconnecting as needed.
pub(super) async fn run(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    changes: ChangeSink,
) {
    loop {
        match listen(&config, tls.clone(), &changes).await {
            Ok(Ended::NobodyListens) => return,
            Ok(Ended::ConnectionClosed) => {
                tracing::warn!("the database closed the notification connection; listening again");
            }
            Err(error) => {
                tracing::warn!(%error, "listening for other nodes' writes failed; retrying");
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

enum Ended {
    NobodyListens,
    ConnectionClosed,
}

async fn listen(
    config: &tokio_postgres::Config,
    tls: MakeRustlsConnect,
    changes: &ChangeSink,
) -> Result<Ended, tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tls).await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    // The connection delivers notifications only while it is polled, apart from queries.
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(notice) = message {
                if tx.send(notice).is_err() {
                    return;
                }
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {INBOX_CHANNEL}; LISTEN {GROUP_CHANNEL}"))
        .await?;
    // Whatever was written while nobody listened (before the first connection, or while it
    // was lost) is looked for again.
    if !changes(Change::Missed) {
        return Ok(Ended::NobodyListens);
    }
    while let Some(notice) = rx.recv().await {
        let Some(change) = parse(notice.channel(), notice.payload()) else {
            continue;
        };
        if !changes(change) {
            return Ok(Ended::NobodyListens);
        }
    }
    Ok(Ended::ConnectionClosed)
}

/// A notification as a change; `None` for one this relay did not send.
fn parse(channel: &str, payload: &str) -> Option<Change> {
    let (key, number) = payload.rsplit_once(':')?;
    let number: u64 = number.parse().ok()?;
    match channel {
        INBOX_CHANNEL => Some(Change::Inbox(Handle::parse(key).ok()?, number)),
        GROUP_CHANNEL => {
            let id: [u8; 32] = hex::decode(key).ok()?.try_into().ok()?;
            Some(Change::Group(id, number))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_notifications_are_changes() {
        let alice = Handle::parse("alice").unwrap();
        assert_eq!(
            parse(INBOX_CHANNEL, "alice:7"),
            Some(Change::Inbox(alice, 7))
        );
        let id = hex::encode([3u8; 32]);
        assert_eq!(
            parse(GROUP_CHANNEL, &format!("{id}:9")),
            Some(Change::Group([3; 32], 9))
        );
        for (channel, payload) in [
            (INBOX_CHANNEL, "alice"),
            (INBOX_CHANNEL, "Not A Handle:1"),
            (GROUP_CHANNEL, "abcd:1"),
            (GROUP_CHANNEL, &format!("{id}:x")),
            ("elsewhere", "alice:1"),
        ] {
            assert_eq!(parse(channel, payload), None, "{channel} {payload}");
        }
    }
}

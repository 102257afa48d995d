//! Simulated people: real `parley_client::Client`s, each with its own encrypted store in a
//! temporary directory, registered on the relay under the load; and what they receive.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use futures::{stream, StreamExt, TryStreamExt};
use parley_client::{Client, ConversationId, Event, Handle, KdfParams, Passphrase, Sender};
use rand::Rng;
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::relay::RelayTarget;

/// Registrations made at once.
const PARALLEL_SETUP: usize = 8;
/// Every benchmark message starts with this word, then its number.
const MARK: &str = "bench";

/// One simulated person.
pub(crate) struct SimClient {
    /// The client library's handle on this person.
    pub(crate) client: Client,
    /// Their handle.
    pub(crate) handle: Handle,
    // The store goes when the client does.
    _home: TempDir,
}

/// `count` people registered on `relay`, with handles unique to this run (a running relay
/// may be loaded again and again).
pub(crate) async fn people(relay: &RelayTarget, count: usize) -> anyhow::Result<Vec<SimClient>> {
    let run: u32 = rand::thread_rng().gen();
    stream::iter(0..count)
        .map(|i| person(relay, format!("b{run:08x}n{i}")))
        .buffered(PARALLEL_SETUP)
        .try_collect()
        .await
}

/// Two people on `relay` in a 1:1 the first opened (with "hello") and the second joined.
pub(crate) async fn one_to_one(relay: &RelayTarget) -> anyhow::Result<[SimClient; 2]> {
    let [alice, bob]: [SimClient; 2] = people(relay, 2)
        .await?
        .try_into()
        .map_err(|_| anyhow::anyhow!("two people were asked for"))?;
    alice
        .client
        .send_text(&bob.handle.clone().into(), "hello")
        .await
        .context("opening the 1:1")?;
    bob.client.sync().await?;
    Ok([alice, bob])
}

async fn person(relay: &RelayTarget, handle: String) -> anyhow::Result<SimClient> {
    let home = TempDir::new().context("creating a client's home")?;
    let client = Client::builder()
        .home(home.path())
        .passphrase(Passphrase::new("bench passphrase".to_owned()))
        // The passphrase KDF runs once per person at set-up, never under load; the real
        // parameters would only make set-up slow.
        .kdf_params(KdfParams::insecure_for_tests())
        .relay(relay.url.as_str())
        .relay_fingerprint(relay.fingerprint.as_str())
        .build()
        .await
        .with_context(|| format!("opening {handle}'s client"))?;
    let handle: Handle = handle.parse()?;
    client
        .register(&handle)
        .await
        .with_context(|| format!("registering {}", handle.as_str()))?;
    Ok(SimClient {
        client,
        handle,
        _home: home,
    })
}

/// The text of benchmark message `seq`, `payload` bytes long (at least its number).
pub(crate) fn message_text(seq: u64, payload: usize) -> String {
    let mut text = format!("{MARK} {seq} ");
    while text.len() < payload {
        text.push('x');
    }
    text
}

/// The number of a benchmark message, if `text` is one.
fn message_seq(text: &str) -> Option<u64> {
    let rest = text.strip_prefix(MARK)?.strip_prefix(' ')?;
    rest.split(' ').next()?.parse().ok()
}

/// A benchmark message decrypted by someone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Receipt {
    /// Who received it (index in the people list).
    pub(crate) person: usize,
    /// Its number.
    pub(crate) seq: u64,
    /// When the event stream handed it over, decrypted.
    pub(crate) at: Instant,
}

/// Runs the event streams of `people` (as a client application would) and reports every
/// benchmark message from someone else as it is decrypted. Dropping the returned tasks'
/// handles does not stop them: call [`Listeners::stop`].
pub(crate) struct Listeners {
    tasks: Vec<JoinHandle<()>>,
}

impl Listeners {
    /// Starts one event stream per person; receipts go to the returned channel.
    pub(crate) fn start(people: &[SimClient]) -> (Listeners, mpsc::UnboundedReceiver<Receipt>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let tasks = people
            .iter()
            .enumerate()
            .map(|(person, sim)| {
                let tx = tx.clone();
                let own = sim.handle.clone();
                let mut events = Box::pin(sim.client.events());
                tokio::spawn(async move {
                    while let Some(event) = events.next().await {
                        let Ok(Event::Message(message)) = event else {
                            continue;
                        };
                        let at = Instant::now();
                        if matches!(&message.sender, Sender::Member(from) if *from == own) {
                            continue;
                        }
                        if let Some(seq) = message.text().and_then(message_seq) {
                            if tx.send(Receipt { person, seq, at }).is_err() {
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        (Listeners { tasks }, rx)
    }

    /// Stops every event stream.
    pub(crate) fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// A room of all `people`, created by the first, with every other member joined (each has
/// synced until the room shows among their conversations).
pub(crate) async fn room(people: &[SimClient], name: &str) -> anyhow::Result<ConversationId> {
    let Some((creator, others)) = people.split_first() else {
        anyhow::bail!("a room needs people");
    };
    let handles: Vec<Handle> = others.iter().map(|p| p.handle.clone()).collect();
    let room = creator
        .client
        .create_group(name, &handles)
        .await
        .context("creating the room")?;
    stream::iter(others)
        .map(|member| joined(member, &room))
        .buffer_unordered(PARALLEL_SETUP)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(room)
}

/// Syncs `member` until they are in `room`.
async fn joined(member: &SimClient, room: &ConversationId) -> anyhow::Result<()> {
    for _ in 0..100 {
        member.client.sync().await?;
        let conversations = member.client.conversations().await?;
        if conversations.iter().any(|c| &c.id == room) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("{} never joined the room", member.handle.as_str())
}

/// When each person first received each message, and how often one came out of someone's
/// event stream again (a message shown twice: a defect, whatever its speed).
#[derive(Default)]
pub(crate) struct Arrivals {
    /// (person, seq) -> when it first arrived.
    pub(crate) first: HashMap<(usize, u64), Instant>,
    /// Receipts of a (person, seq) that had arrived already.
    pub(crate) repeated: usize,
}

impl Arrivals {
    /// Notes `receipt`; whether it is the first of its (person, seq).
    fn note(&mut self, receipt: Receipt) -> bool {
        match self.first.entry((receipt.person, receipt.seq)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(receipt.at);
                true
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.repeated += 1;
                false
            }
        }
    }

    /// When `person` first received message `seq`.
    pub(crate) fn at(&self, person: usize, seq: u64) -> anyhow::Result<Instant> {
        self.first
            .get(&(person, seq))
            .copied()
            .with_context(|| format!("person {person} never received message {seq}"))
    }

    /// Notes the receipts already waiting, without waiting for more (at the end of a run, so
    /// that a late repeat is counted too).
    pub(crate) fn drain(&mut self, receipts: &mut mpsc::UnboundedReceiver<Receipt>) {
        while let Ok(receipt) = receipts.try_recv() {
            self.note(receipt);
        }
    }
}

/// Waits for receipts until `expected` new (person, seq) pairs have arrived, noting each in
/// `arrivals`.
pub(crate) async fn await_receipts(
    receipts: &mut mpsc::UnboundedReceiver<Receipt>,
    mut expected: usize,
    within: std::time::Duration,
    arrivals: &mut Arrivals,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    while expected > 0 {
        let receipt = tokio::time::timeout_at(deadline, receipts.recv())
            .await
            .context("messages were not all delivered in time")?
            .context("the event streams ended")?;
        if arrivals.note(receipt) {
            expected -= 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_numbers_round_trip_at_any_payload() {
        for payload in [0, 10, 1024] {
            let text = message_text(42, payload);
            assert!(text.len() >= payload);
            assert_eq!(message_seq(&text), Some(42));
        }
        assert_eq!(message_seq("hello"), None);
        assert_eq!(message_seq("benchmark 4"), None);
    }

    #[test]
    fn a_message_arriving_again_is_counted_and_keeps_its_first_time() {
        let first = Instant::now();
        let later = first + std::time::Duration::from_millis(5);
        let mut arrivals = Arrivals::default();
        assert!(arrivals.note(Receipt {
            person: 1,
            seq: 7,
            at: first
        }));
        assert!(arrivals.note(Receipt {
            person: 2,
            seq: 7,
            at: later
        }));
        assert!(!arrivals.note(Receipt {
            person: 1,
            seq: 7,
            at: later
        }));
        assert_eq!(arrivals.repeated, 1);
        assert_eq!(arrivals.at(1, 7).unwrap(), first);
        assert!(arrivals.at(3, 7).is_err());

        // A repeat still waiting when the run ends counts too.
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(Receipt {
            person: 2,
            seq: 7,
            at: later,
        })
        .unwrap();
        arrivals.drain(&mut rx);
        assert_eq!(arrivals.repeated, 2);
    }
}

//! What the library logs above debug names nobody: a whole scenario (a group, messages, a
//! member breaking the room, garbage in an inbox, a refused key) is played with every event
//! of `parley_client` at info level and above captured, and the capture must hold no handle,
//! conversation name or message text. Logs end up in daemon log files and integrators'
//! collectors, where the people in a back channel must not appear.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{commit_garbage, deposit, h, registered, to};
use parley_testkit::TestRelay;
use tempfile::TempDir;
use tracing_subscriber::fmt::MakeWriter;

/// Everything logged, shared with the subscriber.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// Distinctive words the scenario uses for people, rooms and texts.
const SECRETS: [&str; 6] = [
    "zofia-k",
    "tomasz-r",
    "ingrid-v",
    "lakeside-caucus",
    "forty-percent",
    "ceasefire-draft",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_logged_above_debug_names_people_rooms_or_texts() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..3).map(|_| TempDir::new().unwrap()).collect();
    let zofia = registered(&relay, homes[0].path(), "zofia-k").await;
    let tomasz = registered(&relay, homes[1].path(), "tomasz-r").await;
    let ingrid = registered(&relay, homes[2].path(), "ingrid-v").await;
    zofia
        .create_group("lakeside-caucus", &[h("tomasz-r"), h("ingrid-v")])
        .await
        .unwrap();
    let room = to(&zofia, "lakeside-caucus").await;
    zofia.send_text(&room, "forty-percent").await.unwrap();
    zofia
        .send_text(&to(&zofia, "tomasz-r").await, "ceasefire-draft")
        .await
        .unwrap();
    tomasz.sync().await.unwrap();
    ingrid.sync().await.unwrap();

    // Garbage in tomasz's inbox, and a commit nobody can process from ingrid.
    deposit(&relay, "tomasz-r", vec![7; 256]).await;
    commit_garbage(&relay, &ingrid, "zofia-k/lakeside-caucus").await;
    tomasz.sync().await.unwrap();
    zofia.sync().await.unwrap();
    // Errors that carry names: a send to the stuck room, a name nobody has.
    assert!(zofia.send_text(&room, "forty-percent").await.is_err());
    assert!(zofia.resolve("zofia-k/lakeside-caucus-x").await.is_err());
    zofia.sync().await.unwrap();

    let logged = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let ours: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains("parley_client"))
        .collect();
    assert!(
        ours.iter().any(|line| line.contains("WARN")),
        "the scenario logged no warning, so it checked nothing: {logged}"
    );
    for line in &ours {
        for secret in SECRETS {
            assert!(!line.contains(secret), "{secret} logged: {line}");
        }
    }
}

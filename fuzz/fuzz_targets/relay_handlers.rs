//! The relay's gRPC handlers, called in-process: the first byte picks one of the unary
//! methods, the rest is decoded with prost as its request and handed to the handler over one
//! relay state and database (kept for the whole run, so earlier inputs leave records later
//! ones meet). Every request must get a response or a status, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use parley_relay::fuzzing::Handlers;

struct Harness {
    runtime: tokio::runtime::Runtime,
    handlers: Handlers,
    _dir: tempfile::TempDir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let handlers = runtime
            .block_on(async { Handlers::open(dir.path()) })
            .unwrap();
        Harness {
            runtime,
            handlers,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&method, body)) = data.split_first() else {
        return;
    };
    let harness = harness();
    let _ = harness
        .runtime
        .block_on(harness.handlers.call(method, body));
});

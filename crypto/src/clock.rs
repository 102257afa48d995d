//! Time as Parley's parts receive it: the relay and the client read the wall clock through
//! one [`Clock`] they are given (their own system clock by default), so tests can move time
//! instead of sleeping: KeyPackage lifetimes, challenge and replay windows, retention.
//!
//! This crate only names the interface; reading the operating system's clock is the job of
//! the crates that do I/O.

/// A source of wall-clock time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since 1970-01-01 UTC.
    fn now_ms(&self) -> u64;
}

//! Failpoints: named places in receiving and sending where a crash test kills the client.
//!
//! With the `test-support` feature, [`hit`] aborts the process (no unwinding, no destructors,
//! nothing flushed: as close to a power cut as a test can get) when the environment variable
//! `PARLEY_FAILPOINT` names the point. Without the feature it compiles to nothing.

/// The environment variable naming the failpoint at which the process aborts.
#[cfg(feature = "test-support")]
const ENV: &str = "PARLEY_FAILPOINT";

/// Aborts the process if `PARLEY_FAILPOINT` names `point`.
#[cfg(feature = "test-support")]
pub(crate) fn hit(point: &str) {
    if armed(point) {
        std::process::abort();
    }
}

/// Whether `PARLEY_FAILPOINT` names `point`, for failpoints that prepare the crash (put
/// what was written on disk first).
#[cfg(feature = "test-support")]
pub(crate) fn armed(point: &str) -> bool {
    std::env::var_os(ENV).is_some_and(|armed| armed == point)
}

/// Does nothing: failpoints exist only in test builds.
#[cfg(not(feature = "test-support"))]
#[inline(always)]
pub(crate) fn hit(_point: &str) {}

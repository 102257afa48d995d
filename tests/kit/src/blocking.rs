//! Waiting for the relay from a synchronous test.

use std::future::Future;

/// Runs `future` to completion on a runtime of its own: how the `blocking_` methods of
/// [`TestRelay`](crate::TestRelay) wait. Panics inside an async context (tokio refuses to
/// start a runtime there), where the async methods are the ones to call.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building a runtime to wait on")
        .block_on(future)
}

//! Separate connections for separate identities.
//!
//! The relay must not learn which groups one person is in, nor who sent a Welcome. Were every
//! call of a client on one connection, the connection would tie them together: the signed
//! inbox subscription names the handle, and every group read or subscribed on the same
//! connection would be that handle's. So a client keeps:
//!
//! - one **owner** connection for the calls signed by its identity key (inbox fetch, ack
//!   and subscription, KeyPackage publishing, directory registration);
//! - one connection **per group** for that group's reads, posts, commits and subscription,
//!   shared with no other group and not with the owner's calls;
//! - a new **one-off** connection for each anonymous call (deposit, KeyPackage claim,
//!   directory lookup), closed right after it.
//!
//! Pooled connections are opened when first needed and closed after [`IDLE_TIMEOUT`] without
//! use (a subscription stream counts as use). No TLS session is resumed across them (see
//! `tls`), and through a SOCKS5 proxy each has its own credentials, so Tor gives each its
//! own circuit. What still links them is the network address (unless a proxy hides it) and
//! timing; docs/PROTOCOL.md ("Channels") and docs/THREAT_MODEL.md say what that leaves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use parley_crypto::mls::GroupId;
use tokio::sync::OnceCell;

use super::dial::Dial;
use super::lease::Activity;
use super::RelayConnection;
use crate::api::error::RelayError;
use crate::api::proxy_url::ProxyUrl;
use crate::api::relay_url::RelayUrl;

/// How long a pooled connection may go unused before it is closed. Long enough that a burst
/// of activity (a sync, a conversation) stays on one connection, short enough that a client
/// holds few connections to groups it is not using.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a pooled connection serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Purpose {
    /// Calls authenticated by the owner's identity key.
    Owner,
    /// One group's traffic.
    Group(GroupId),
}

/// The connections of one client to its relay.
#[derive(Debug)]
pub(crate) struct Channels {
    url: RelayUrl,
    fingerprint: Option<String>,
    proxy: Option<ProxyUrl>,
    /// Prepared on first use (loading the system's root certificates takes file I/O).
    dial: OnceCell<Arc<Dial>>,
    open: Arc<Mutex<Pool>>,
    idle_timeout: Duration,
}

type Pool = HashMap<Purpose, Arc<Slot>>;

/// One pooled connection, opened at most once (concurrent first uses wait for one open).
#[derive(Debug)]
struct Slot {
    conn: OnceCell<RelayConnection>,
    activity: Arc<Activity>,
}

impl Channels {
    /// Connections to `url`, trusting `fingerprint` (see [`Dial::prepare`]), through `proxy`.
    pub(crate) fn new(
        url: RelayUrl,
        fingerprint: Option<String>,
        proxy: Option<ProxyUrl>,
    ) -> Channels {
        Channels {
            url,
            fingerprint,
            proxy,
            dial: OnceCell::new(),
            open: Arc::new(Mutex::new(HashMap::new())),
            idle_timeout: IDLE_TIMEOUT,
        }
    }

    /// The same, closing idle connections after `timeout` instead of [`IDLE_TIMEOUT`].
    #[cfg(test)]
    pub(crate) fn with_idle_timeout(mut self, timeout: Duration) -> Channels {
        self.idle_timeout = timeout;
        self
    }

    /// The connection for calls signed by the owner's identity key.
    pub(crate) async fn owner(&self) -> Result<RelayConnection, RelayError> {
        self.pooled(Purpose::Owner).await
    }

    /// The connection for one group's traffic.
    pub(crate) async fn group(&self, group_id: &GroupId) -> Result<RelayConnection, RelayError> {
        self.pooled(Purpose::Group(*group_id)).await
    }

    /// A new connection for one anonymous call; it closes when dropped.
    pub(crate) async fn one_off(&self) -> Result<RelayConnection, RelayError> {
        RelayConnection::open(self.dial().await?).await
    }

    /// How many pooled connections are open now.
    #[cfg(test)]
    pub(crate) fn pooled_count(&self) -> usize {
        lock(&self.open)
            .values()
            .filter(|slot| slot.conn.initialized())
            .count()
    }

    async fn dial(&self) -> Result<Arc<Dial>, RelayError> {
        self.dial
            .get_or_try_init(|| async {
                let dial =
                    Dial::prepare(&self.url, self.fingerprint.as_deref(), self.proxy.clone())
                        .await?;
                Ok::<_, RelayError>(Arc::new(dial))
            })
            .await
            .cloned()
    }

    async fn pooled(&self, purpose: Purpose) -> Result<RelayConnection, RelayError> {
        let dial = self.dial().await?;
        // Leased under the pool's lock, so the idle watcher cannot close it in between.
        let (slot, lease) = {
            let mut pool = lock(&self.open);
            let slot = pool
                .entry(purpose)
                .or_insert_with(|| {
                    Arc::new(Slot {
                        conn: OnceCell::new(),
                        activity: Activity::new(),
                    })
                })
                .clone();
            let lease = slot.activity.lease();
            (slot, lease)
        };
        let conn = slot
            .conn
            .get_or_try_init(|| async {
                let conn = RelayConnection::open(dial).await?;
                self.watch_idle(purpose, &slot);
                Ok::<_, RelayError>(conn)
            })
            .await?;
        Ok(conn.leased(lease))
    }

    /// Closes the connection of `slot` once it has been idle for the timeout: it leaves the
    /// pool, and with its last handle gone tonic closes it.
    fn watch_idle(&self, purpose: Purpose, slot: &Arc<Slot>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Not on tokio: tonic could not run either; nothing to watch with.
            return;
        };
        let pool = Arc::downgrade(&self.open);
        let watched = Arc::downgrade(slot);
        let activity = slot.activity.clone();
        let timeout = self.idle_timeout;
        runtime.spawn(async move {
            loop {
                let wake = match activity.idle_since() {
                    Some(since) => since + timeout,
                    None => Instant::now() + timeout,
                };
                tokio::time::sleep_until(wake.into()).await;
                if close_if_idle(&pool, purpose, &watched, &activity, timeout) {
                    return;
                }
            }
        });
    }
}

/// Removes the slot from the pool if it is still there and idle for `timeout`; true when the
/// watch is over (closed, or the slot or pool is gone).
fn close_if_idle(
    pool: &Weak<Mutex<Pool>>,
    purpose: Purpose,
    watched: &Weak<Slot>,
    activity: &Activity,
    timeout: Duration,
) -> bool {
    let (Some(pool), Some(slot)) = (pool.upgrade(), watched.upgrade()) else {
        return true;
    };
    let mut pool = lock(&pool);
    let idle = activity
        .idle_since()
        .is_some_and(|since| since.elapsed() >= timeout);
    if !idle {
        return false;
    }
    if pool
        .get(&purpose)
        .is_some_and(|current| Arc::ptr_eq(current, &slot))
    {
        pool.remove(&purpose);
    }
    tracing::debug!("closing an idle relay connection");
    true
}

fn lock(pool: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    // The map holds no invariant a panic elsewhere could break halfway.
    pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

//! What every command needs besides its own arguments: the data folder, whether the output
//! is for a program (`--json`), where the passphrase comes from, the proxy (`--proxy`), and
//! the way to the folder: its daemon when one runs, else the library opened here.

use anyhow::Result;
use parley_client::{Client, ClientBuilder, Fingerprint, ProxyUrl, RelayUrl};

use super::daemon::folder::{passphrase, Folder};
use super::daemon::link::Link;
use super::daemon::paths::DaemonPaths;
use super::daemon::spawn;
use super::failure::{not_initialized, Failure};
use super::home::Home;
use super::output::note;
use super::passphrase::{Secret, Source};

/// The prompt for the passphrase of an existing Parley folder.
pub(crate) const PROMPT: &str = "Passphrase for your Parley folder: ";
/// Set to 1 to keep every command on its own: no daemon is used or started.
pub(crate) const NO_DAEMON_VAR: &str = "PARLEY_NO_DAEMON";
/// How long a daemon started by `chat` or `read --follow` waits unused before it stops.
const AUTO_IDLE_TIMEOUT: &str = "10m";

/// How this run was asked to reach the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// As the folder remembers (`--proxy` given once is kept by the folder).
    Remembered,
    /// Through this SOCKS5 proxy (`--proxy`, `PARLEY_PROXY`), remembered from now on.
    Through(ProxyUrl),
    /// Directly (`--no-proxy`), forgetting a remembered proxy.
    Direct,
}

impl Route {
    /// The proxy named for this run, if one was.
    pub(crate) fn proxy(&self) -> Option<&ProxyUrl> {
        match self {
            Route::Through(proxy) => Some(proxy),
            Route::Remembered | Route::Direct => None,
        }
    }
}

/// The settings shared by all commands of one run.
#[derive(Debug)]
pub(crate) struct Ctx {
    home: Home,
    json: bool,
    passphrase: Source,
    route: Route,
}

impl Ctx {
    /// Gathers the global choices; the passphrase itself is read only when a command needs it.
    pub(crate) fn new(
        home: Home,
        json: bool,
        passphrase_command: Option<String>,
        route: Route,
    ) -> Ctx {
        Ctx {
            home,
            json,
            passphrase: Source::current(passphrase_command),
            route,
        }
    }

    /// The folder, through its daemon if one runs (no passphrase needed), else opened here
    /// with the passphrase from the usual sources. A missing folder is reported as "not set
    /// up yet" rather than silently created (a typo in --home should not produce an empty
    /// folder), and before any passphrase is asked for.
    pub(crate) async fn open(&self) -> Result<Folder> {
        if !self.home.dir().exists() {
            return Err(not_initialized(&self.home).into());
        }
        if let Some(link) = self.daemon().await? {
            return Ok(Folder::Daemon(self.same_proxy(link)?));
        }
        Ok(Folder::Local(self.open_here().await?))
    }

    /// For commands that run for long (`chat`, `read --follow`): the daemon, started now if
    /// it is not running, so that other windows can use the folder meanwhile.
    pub(crate) async fn open_shared(&self) -> Result<Folder> {
        if !self.home.dir().exists() {
            return Err(not_initialized(&self.home).into());
        }
        if let Some(link) = self.daemon().await? {
            return Ok(Folder::Daemon(self.same_proxy(link)?));
        }
        if daemon_disabled()
            || DaemonPaths::of(self.home.dir())
                .check_socket_length()
                .is_err()
        {
            return Ok(Folder::Local(self.open_here().await?));
        }
        let secret = self.passphrase.read(PROMPT)?;
        let pid = spawn::start(&self.home, secret, AUTO_IDLE_TIMEOUT, &self.route).await?;
        note(&format!(
            "Started the Parley daemon (process {pid}) so that other windows can use Parley \
             meanwhile; it stops 10 minutes after the last one closes, or with `{} daemon stop`.",
            self.home.command()
        ));
        match self.daemon().await? {
            Some(link) => Ok(Folder::Daemon(self.same_proxy(link)?)),
            None => Ok(Folder::Local(self.open_here().await?)),
        }
    }

    /// The folder's daemon, if one is running and may be used.
    pub(crate) async fn daemon(&self) -> Result<Option<Link>> {
        let paths = DaemonPaths::of(self.home.dir());
        if daemon_disabled() || paths.check_socket_length().is_err() {
            return Ok(None);
        }
        Ok(Link::connect(&paths).await?)
    }

    /// The daemon's link, if the daemon reaches the relay the way this command was asked to
    /// (through the same proxy, or none): a command given --proxy must never send its work
    /// through a daemon that connects directly, nor a command given --no-proxy through one
    /// that uses a proxy. A command given neither goes the way the folder remembers, as the
    /// daemon does.
    fn same_proxy(&self, link: Link) -> Result<Link> {
        let ours = match &self.route {
            Route::Remembered => return Ok(link),
            Route::Through(proxy) => Some(proxy.to_string()),
            Route::Direct => None,
        };
        if link.proxy() == ours.as_deref() {
            return Ok(link);
        }
        let theirs = match link.proxy() {
            Some(proxy) => format!("through the proxy {proxy}"),
            None => "without a proxy".to_owned(),
        };
        let asked = match &ours {
            Some(proxy) => format!("through the proxy {proxy}"),
            None => "without a proxy".to_owned(),
        };
        Err(Failure::new(format!(
            "the Parley daemon running for this folder reaches the relay {theirs}, but this \
             command was asked to go {asked}"
        ))
        .hint(format!(
            "stop the daemon with `{} daemon stop`, then run the command again",
            self.home.command()
        ))
        .into())
    }

    /// Opens the library here, unlocked with the passphrase from the usual sources.
    pub(crate) async fn open_here(&self) -> Result<Client> {
        let secret = self.passphrase.read(PROMPT)?;
        self.open_with(secret).await
    }

    /// Opens the library here with this passphrase.
    pub(crate) async fn open_with(&self, secret: Secret) -> Result<Client> {
        let builder = self.route_builder(Client::builder().home(self.home.dir()));
        Ok(with_passphrase(builder, secret).build().await?)
    }

    /// The builder told how this run reaches the relay.
    pub(crate) fn route_builder(&self, builder: ClientBuilder) -> ClientBuilder {
        match &self.route {
            Route::Remembered => builder,
            Route::Through(proxy) => builder.proxy(proxy.to_string()),
            Route::Direct => builder.direct(),
        }
    }

    /// Whether `--json` was given: data as one JSON object per line on stdout, remarks on
    /// stderr.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// The data folder.
    pub(crate) fn home(&self) -> &Home {
        &self.home
    }

    /// How this run was asked to reach the relay (`--proxy`, `--no-proxy` or neither).
    pub(crate) fn route(&self) -> &Route {
        &self.route
    }

    /// The relay's certificate fingerprint, fetched through the proxy if there is one.
    pub(crate) async fn probe_fingerprint(
        &self,
        url: &RelayUrl,
    ) -> Result<Fingerprint, parley_client::ClientError> {
        match self.route.proxy() {
            Some(proxy) => Client::probe_relay_fingerprint_via(url, proxy).await,
            None => Client::probe_relay_fingerprint(url).await,
        }
    }

    /// Where the passphrase comes from, for the commands that create or change it.
    pub(crate) fn passphrase_source(&self) -> &Source {
        &self.passphrase
    }
}

/// Whether PARLEY_NO_DAEMON asks for commands on their own.
fn daemon_disabled() -> bool {
    std::env::var(NO_DAEMON_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Hands the passphrase to the builder; the string moves into the library's zeroizing type.
pub(crate) fn with_passphrase(builder: ClientBuilder, secret: Secret) -> ClientBuilder {
    builder.passphrase(passphrase(secret))
}

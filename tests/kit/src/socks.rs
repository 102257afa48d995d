//! A SOCKS5 proxy on loopback (RFC 1928 with RFC 1929 username/password), as Tor would be
//! for a client: it records the credentials and the target of every connection, then relays
//! bytes to the target. Targets must be loopback addresses (a name is resolved here, as Tor
//! would at its exit), so a test can never reach out of this machine through it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// One connection a client asked the proxy for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedConnection {
    /// The RFC 1929 username.
    pub username: String,
    /// The RFC 1929 password.
    pub password: String,
    /// The target as the client named it: `host:port` for a name (socks5h), `ip:port` or
    /// `[ip]:port` for an address.
    pub target: String,
    /// True when the client named the target by host name (the proxy resolved it).
    pub by_name: bool,
    /// The proxy's end of its connection to the target: the client address the relay sees
    /// for this connection (`None` if the target was not reached).
    pub relay_side: Option<SocketAddr>,
    /// True once both sides have closed.
    pub ended: bool,
}

/// A SOCKS5 proxy serving on `127.0.0.1` from a runtime of its own until dropped.
pub struct SocksProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<ProxiedConnection>>>,
    /// Shut down with the proxy: its accept loop and every relayed connection end.
    runtime: Option<Runtime>,
}

impl Drop for SocksProxy {
    /// Never blocks, so a proxy may be dropped inside an async test.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for SocksProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocksProxy")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SocksProxy {
    /// Starts a proxy on any free loopback port.
    pub fn start() -> SocksProxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-socks")
            .enable_all()
            .build()
            .expect("building the test proxy's runtime");
        // Bound without the runtime's help, so that an async test can start a proxy too.
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .expect("binding the test proxy");
        let listener = {
            // Tokio's listener registers with the runtime it is made in: the proxy's.
            let _inside = runtime.enter();
            TcpListener::from_std(listener).expect("handing the listener to the runtime")
        };
        let addr = listener.local_addr().expect("reading the proxy's address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        runtime.spawn(accept(listener, seen.clone()));
        SocksProxy {
            addr,
            seen,
            runtime: Some(runtime),
        }
    }

    /// `socks5h://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("socks5h://{}", self.addr)
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every connection asked for so far (granted or not), in order.
    pub fn connections(&self) -> Vec<ProxiedConnection> {
        lock(&self.seen).clone()
    }
}

fn lock(seen: &Mutex<Vec<ProxiedConnection>>) -> MutexGuard<'_, Vec<ProxiedConnection>> {
    seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn accept(listener: TcpListener, seen: Arc<Mutex<Vec<ProxiedConnection>>>) {
    while let Ok((client, _)) = listener.accept().await {
        let seen = seen.clone();
        tokio::spawn(async move {
            // A client that breaks the protocol only loses its own connection.
            let _ = serve(client, seen).await;
        });
    }
}

async fn serve(mut client: TcpStream, seen: Arc<Mutex<Vec<ProxiedConnection>>>) -> io::Result<()> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    if head[0] != 5 || !methods.contains(&2) {
        // As Tor configured for isolation would: only username/password is offered here.
        client.write_all(&[5, 0xff]).await?;
        return Ok(());
    }
    client.write_all(&[5, 2]).await?;
    let version = client.read_u8().await?;
    let username = read_field(&mut client).await?;
    let password = read_field(&mut client).await?;
    if version != 1 {
        client.write_all(&[1, 1]).await?;
        return Ok(());
    }
    client.write_all(&[1, 0]).await?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let (host, by_name) = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            (Ipv4Addr::from(ip).to_string(), false)
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await?;
            (format!("[{}]", Ipv6Addr::from(ip)), false)
        }
        3 => (read_field(&mut client).await?, true),
        _ => return Ok(()),
    };
    let port = client.read_u16().await?;
    let index = {
        let mut seen = lock(&seen);
        seen.push(ProxiedConnection {
            username,
            password,
            target: format!("{host}:{port}"),
            by_name,
            relay_side: None,
            ended: false,
        });
        seen.len() - 1
    };
    let result = relay(&mut client, &host, port, request[1], |addr| {
        lock(&seen)[index].relay_side = Some(addr);
    })
    .await;
    lock(&seen)[index].ended = true;
    result
}

/// Connects to the target (loopback only) and relays bytes until both sides close.
async fn relay(
    client: &mut TcpStream,
    host: &str,
    port: u16,
    command: u8,
    connected: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let candidates: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map(Iterator::collect)
            .unwrap_or_default(),
    };
    let mut target = None;
    if command == 1 {
        for addr in candidates.iter().filter(|a| a.ip().is_loopback()) {
            if let Ok(stream) = TcpStream::connect(addr).await {
                target = Some(stream);
                break;
            }
        }
    }
    let Some(mut target) = target else {
        // 0x05: connection refused (also for anything off this machine, or not CONNECT).
        client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Ok(());
    };
    if let Ok(local) = target.local_addr() {
        connected(local);
    }
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
    tokio::io::copy_bidirectional(client, &mut target).await?;
    Ok(())
}

async fn read_field(client: &mut TcpStream) -> io::Result<String> {
    let len = client.read_u8().await?;
    let mut bytes = vec![0u8; usize::from(len)];
    client.read_exact(&mut bytes).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

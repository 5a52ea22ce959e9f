//! Accepting connections. HTTP/1.1 (with upgrades, for the WebSockets),
//! served straight with hyper rather than `axum::serve` so that two limits
//! can be set:
//!
//! - a header-read timeout: a connection that has not sent a whole request
//!   head this long after it opened, or after its previous response (an
//!   idle keep-alive connection), is closed. An upgraded connection (a
//!   WebSocket) is no longer HTTP and is not affected;
//! - at most `per_address` open connections from one peer address; more
//!   are closed as soon as they are accepted. Trusted proxies carry many
//!   clients and are exempt.
//!
//! Each request gets the peer's `ConnectInfo<SocketAddr>`, as with
//! `into_make_service_with_connect_info`.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// The limits on connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// How long a connection may take to send a request head (also how
    /// long a keep-alive connection may stay idle).
    pub header_read_timeout: Duration,
    /// Open connections allowed per peer address.
    pub per_address: usize,
    /// Peers without the per-address limit (the trusted proxies).
    pub exempt: Arc<[IpAddr]>,
    /// At shutdown, when open connections must have finished: set by the
    /// shutdown (one deadline for the whole drain), else 10 s from then.
    pub drain_deadline: Arc<std::sync::OnceLock<tokio::time::Instant>>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            per_address: 64,
            exempt: Arc::from([]),
            drain_deadline: Arc::default(),
        }
    }
}

/// Open connections per peer address. Only addresses with an open
/// connection have an entry, so the map is bounded by the open sockets.
struct PerAddress {
    max: usize,
    exempt: Arc<[IpAddr]>,
    open: Mutex<HashMap<IpAddr, Open>>,
}

#[derive(Default)]
struct Open {
    count: usize,
    /// Whether a refusal was logged since the address was last under its
    /// limit (one log line per burst, not per connection).
    refusing: bool,
}

/// One open connection, counted until dropped.
struct Slot {
    ip: IpAddr,
    of: Arc<PerAddress>,
}

impl PerAddress {
    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Open>> {
        // Plain counters stay usable after a panic elsewhere.
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for a new connection from `ip`, or `None` over the limit.
    /// An IPv6 client is counted by its /64, which is all theirs.
    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<Option<Slot>> {
        if self.exempt.contains(&ip) {
            return Some(None);
        }
        let ip = network_of(ip);
        let mut open = self.open();
        let entry = open.entry(ip).or_default();
        if entry.count >= self.max {
            if !entry.refusing {
                entry.refusing = true;
                tracing::debug!(%ip, max = self.max, "refusing connections over the per-address limit");
            }
            return None;
        }
        entry.count += 1;
        Some(Some(Slot {
            ip,
            of: Arc::clone(self),
        }))
    }
}

/// The address a connection is counted under (see [`PerAddress::enter`]).
fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.of.open();
        if let Some(entry) = open.get_mut(&self.ip) {
            entry.count = entry.count.saturating_sub(1);
            entry.refusing = false;
            if entry.count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting and waits for open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let per_address = Arc::new(PerAddress {
        max: limits.per_address.max(1),
        exempt: limits.exempt.clone(),
        open: Mutex::new(HashMap::new()),
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    // Told to every connection when the server shuts down.
    let (stop_tx, stop_rx) = watch::channel(());
    // Held by every connection; closed when the last one ends.
    let (done_tx, done_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = per_address.enter(peer.ip()) else {
            drop(stream);
            continue;
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        // The slot travels with the socket: hyper hands the socket on to
        // a WebSocket at upgrade, and it counts until that closes too.
        let counted = Counted {
            io: stream,
            _slot: slot,
        };
        let http = http.clone();
        let stop = stop_rx.clone();
        let done = done_rx.clone();
        let tls = tls.clone();
        let handshake_within = limits.header_read_timeout;
        tokio::spawn(async move {
            match tls {
                None => serve_one(&http, TokioIo::new(counted), service, stop, peer).await,
                // The handshake counts against the header-read time: a peer
                // that opens a socket and says nothing is closed as well.
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_within, acceptor.accept(counted)).await {
                        Ok(Ok(tls)) => {
                            serve_one(&http, TokioIo::new(tls), service, stop, peer).await;
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(%error, %peer, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(done);
        });
    }
    drop(listener);
    drop(stop_rx);
    drop(done_rx);
    let _ = stop_tx.send(());
    let deadline = limits
        .drain_deadline
        .get()
        .copied()
        .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(10));
    if tokio::time::timeout_at(deadline, done_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain time; exiting anyway");
    }
    Ok(())
}

/// Serves one connection (plain or TLS) until it ends, or gracefully
/// once `stop` says the server is shutting down.
async fn serve_one<IO, S>(
    http: &hyper::server::conn::http1::Builder,
    io: IO,
    service: S,
    mut stop: watch::Receiver<()>,
    peer: std::net::SocketAddr,
) where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming> + Send,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = http.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, %peer, "connection closed with an error");
    }
}

/// A socket with its place in the per-address count: the place is given
/// back when the socket is dropped, whoever holds it last (the HTTP
/// connection, or the WebSocket it was upgraded to).
struct Counted<IO> {
    io: IO,
    _slot: Option<Slot>,
}

impl<IO: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Counted<IO> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Counted<IO> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Like `axum::serve`: a peer that went away is nothing; anything else
/// (out of file descriptors) is logged and waited out briefly.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_per_address_are_bounded_freed_and_exempt_for_proxies() {
        let proxy: IpAddr = [10, 0, 0, 9].into();
        let per = Arc::new(PerAddress {
            max: 2,
            exempt: Arc::from([proxy]),
            open: Mutex::new(HashMap::new()),
        });
        let client: IpAddr = [192, 0, 2, 1].into();
        let other: IpAddr = [192, 0, 2, 2].into();
        let a = per.enter(client).unwrap();
        let b = per.enter(client).unwrap();
        assert!(per.enter(client).is_none(), "third is over the limit");
        assert!(per.enter(other).is_some(), "another address has its own");
        let proxied: Vec<_> = (0..10).map(|_| per.enter(proxy)).collect();
        assert!(proxied.iter().all(Option::is_some));
        drop(a);
        assert!(per.enter(client).is_some(), "a closed one frees its slot");
        drop(b);
        assert!(per.open().is_empty(), "no entry outlives its connections");

        // One IPv6 /64 is one client, however many addresses it uses.
        let v6 = |last: u16| IpAddr::from([0x2001, 0xdb8, 1, 2, 0xaaaa, 0, 0, last]);
        let held: Vec<_> = (1..=2).map(|i| per.enter(v6(i))).collect();
        assert!(held.iter().all(Option::is_some));
        assert!(per.enter(v6(3)).is_none(), "a third address in the /64");
        assert!(
            per.enter(IpAddr::from([0x2001, 0xdb8, 1, 3, 0, 0, 0, 1]))
                .is_some()
        );
    }
}

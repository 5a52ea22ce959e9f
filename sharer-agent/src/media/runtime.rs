//! The async runtime the WebRTC stack runs on: tokio, as the stack's own
//! default, except for how UDP sockets are wrapped.
//!
//! The stock wrapper hands each socket to `quinn-udp`, which switches on
//! GSO/GRO, ECN, packet-info and don't-fragment. A network stack that
//! refuses any of those options (Wine's `ws2_32` answers WSAEOPNOTSUPP, and
//! locked-down hosts can too) makes it fail, and with it every peer
//! connection. Here the options are probed first; a socket that refuses them
//! is wrapped as a plain tokio socket that sends and receives one datagram
//! per call. The connection is slower per packet but works.
//!
//! A socket also carries its datagrams to TURN servers named with
//! `transport=tcp` over TCP (`turn_tcp.rs`), for networks without UDP.

use super::turn_tcp::{TcpTurnBytes, TunnelledUdpSocket};
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::ReadBuf;
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, RecvMeta, Runtime,
    Transmit, UdpSockRef, UdpSocketState,
};

/// Whether the plain-socket warning was logged: once per process, not
/// once per connection (each connection has its own runtime).
static PLAIN_SOCKETS_WARNED: AtomicBool = AtomicBool::new(false);

/// The stack's default runtime with a UDP fallback, and TURN over TCP
/// (`turn_tcp.rs`) for the servers named in `tcp_turn`.
#[derive(Debug)]
pub struct AgentRuntime {
    inner: Arc<dyn Runtime>,
    tcp_turn: Arc<[SocketAddr]>,
    tcp_turn_bytes: Arc<TcpTurnBytes>,
}

impl AgentRuntime {
    pub fn new(inner: Arc<dyn Runtime>) -> Self {
        Self::with_tcp_turn(inner, Arc::from([]), Arc::default())
    }

    /// Datagrams to the TURN servers at `tcp_turn` go over TCP, counted in
    /// `bytes`.
    pub fn with_tcp_turn(
        inner: Arc<dyn Runtime>,
        tcp_turn: Arc<[SocketAddr]>,
        bytes: Arc<TcpTurnBytes>,
    ) -> Self {
        Self {
            inner,
            tcp_turn,
            tcp_turn_bytes: bytes,
        }
    }

    fn wrap_udp(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        // The probe configures the socket exactly as the stock wrapper would,
        // which does it again: the options are idempotent.
        match UdpSocketState::new(UdpSockRef::from(&socket)) {
            Ok(_) => self.inner.wrap_udp_socket(socket),
            Err(error) => {
                if !PLAIN_SOCKETS_WARNED.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        %error,
                        "the network stack refuses UDP offload options; using plain sockets"
                    );
                }
                Ok(Arc::new(PlainUdpSocket::new(socket)?))
            }
        }
    }
}

impl Runtime for AgentRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.inner.spawn(future)
    }

    fn spawn_reactor(
        &self,
        reactor_pool_size: usize,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Box<dyn JoinHandle> {
        self.inner.spawn_reactor(reactor_pool_size, future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let udp = self.wrap_udp(socket)?;
        if self.tcp_turn.is_empty() {
            return Ok(udp);
        }
        Ok(Arc::new(TunnelledUdpSocket::new(
            udp,
            self.tcp_turn.clone(),
            self.tcp_turn_bytes.clone(),
        )?))
    }

    fn wrap_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Arc<dyn AsyncTcpListener>> {
        self.inner.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        remote_addr: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        self.inner.connect_tcp(remote_addr)
    }

    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.inner.resolve_host(host)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.sleep(duration)
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        self.inner.interval(period)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        self.inner.block_on(future)
    }

    fn yield_now(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.yield_now()
    }

    fn name(&self) -> &'static str {
        "tandem-agent"
    }
}

/// A UDP socket with no offloads: one datagram per send and per receive,
/// no ECN marks. It reports one GSO and one GRO segment, so the stack never
/// hands it a batch.
#[derive(Debug)]
pub struct PlainUdpSocket {
    io: tokio::net::UdpSocket,
}

impl PlainUdpSocket {
    /// Wraps a bound socket; must be called inside a tokio runtime.
    pub fn new(socket: std::net::UdpSocket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(Self {
            io: tokio::net::UdpSocket::from_std(socket)?,
        })
    }
}

impl AsyncUdpSocket for PlainUdpSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        self.io
            .poll_send_to(cx, transmit.contents, transmit.destination)
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let (Some(buf), Some(slot)) = (bufs.first_mut(), meta.first_mut()) else {
            return Poll::Ready(Ok(0));
        };
        let mut read = ReadBuf::new(buf);
        match self.io.poll_recv_from(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Ready(Ok(from)) => {
                *slot = one_datagram(from, read.filled().len());
                Poll::Ready(Ok(1))
            }
        }
    }
}

/// What the stack reads for one datagram of `len` bytes from `from`.
pub fn one_datagram(from: SocketAddr, len: usize) -> RecvMeta {
    // `RecvMeta` is non-exhaustive: fill it field by field.
    let mut meta = RecvMeta::default();
    meta.addr = from;
    meta.len = len;
    // At least 1, or the stack's de-segmenting divides by zero.
    meta.stride = len.max(1);
    meta
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    fn bound() -> UdpSocket {
        UdpSocket::bind("127.0.0.1:0").expect("bind")
    }

    #[tokio::test]
    async fn plain_sockets_carry_datagrams_both_ways() {
        let a = PlainUdpSocket::new(bound()).expect("a");
        let b = PlainUdpSocket::new(bound()).expect("b");
        let to_b = b.local_addr().expect("addr");
        let to_a = a.local_addr().expect("addr");

        assert_eq!(a.send_to(b"first", to_b).await.expect("send"), 5);
        assert_eq!(a.send_to(b"", to_b).await.expect("send"), 0);
        let mut buf = [0u8; 64];
        let (n, from) = b.recv_from(&mut buf).await.expect("recv");
        assert_eq!((&buf[..n], from), (&b"first"[..], to_a));
        // An empty datagram still reports a stride of 1.
        let mut meta = [RecvMeta::default(); 2];
        let mut bufs = [IoSliceMut::new(&mut buf)];
        let got = std::future::poll_fn(|cx| b.poll_recv(cx, &mut bufs, &mut meta))
            .await
            .expect("recv");
        assert_eq!((got, meta[0].len, meta[0].stride), (1, 0, 1));

        b.send_to(b"reply", to_a).await.expect("send");
        let (n, from) = a.recv_from(&mut buf).await.expect("recv");
        assert_eq!((&buf[..n], from), (&b"reply"[..], to_b));
        assert_eq!((a.max_gso_segments(), a.max_gro_segments()), (1, 1));
    }

    #[tokio::test]
    async fn a_socket_that_takes_the_offload_options_gets_the_stock_wrapper() {
        let runtime = AgentRuntime::new(Arc::new(webrtc::runtime::TokioRuntime));
        let socket = runtime.wrap_udp_socket(bound()).expect("wrap");
        // The stock wrapper names its type in its Debug output.
        assert!(format!("{socket:?}").starts_with("UdpSocket"), "{socket:?}");
    }
}

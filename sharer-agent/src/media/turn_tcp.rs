//! TURN over TCP for the agent, for networks that drop all UDP.
//!
//! webrtc-rs 0.21 gathers relay candidates over UDP only: it skips
//! `?transport=tcp` and `turns:` URLs. So each UDP socket of the stack
//! gets a companion TCP connection to every TURN server the agent was
//! given with `transport=tcp`: what the stack sends to that server's
//! address goes over the connection instead, and what arrives on it comes
//! back as datagrams from that address. STUN messages and ChannelData
//! frame themselves on a stream (RFC 8656 §12.5; ChannelData is padded to
//! four bytes there), so the stack's TURN client never knows. The relayed
//! leg, from the TURN server to the helper, stays UDP.

use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use webrtc::runtime::{AsyncUdpSocket, RecvMeta, Transmit};

/// Frames waiting to go out on one connection, or to be read by the
/// stack; past this they are dropped, as a full UDP buffer would.
const QUEUE: usize = 1024;
/// How long a connection to the TURN server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest frame: a STUN message with a 64 KiB body (ChannelData,
/// padded, is smaller).
const MAX_FRAME: usize = 20 + 65_535;
/// The least time between two connections to one server: a server that
/// refuses at once must not be dialled again for every datagram.
const REOPEN_AFTER: Duration = Duration::from_secs(1);

/// Bytes carried over TCP to and from TURN servers, for the stats.
#[derive(Debug, Default)]
pub struct TcpTurnBytes(AtomicU64);

impl TcpTurnBytes {
    pub fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }

    fn add(&self, n: usize) {
        self.0.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Splits `url` (`turn:HOST:PORT?transport=tcp`) into the URL the stack
/// gathers with (`?transport=udp`) and the `HOST:PORT` to carry over TCP;
/// `None` for every other URL (UDP TURN, STUN, and `turns:`, which needs
/// TLS).
pub fn tcp_turn_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("turn:")?;
    let (server, query) = rest.split_once('?')?;
    let transport_tcp = query
        .split('&')
        .any(|p| p.eq_ignore_ascii_case("transport=tcp"));
    if !transport_tcp || server.is_empty() {
        return None;
    }
    let server = if server.contains(':') {
        server.to_owned()
    } else {
        format!("{server}:3478")
    };
    Some((format!("turn:{server}?transport=udp"), server))
}

/// The `HOST:PORT` (port 3478 if none) the stack reaches over UDP for a
/// `turn:` URL without `transport=tcp`, or a `stun:` URL.
pub fn udp_server(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("turn:")
        .or_else(|| url.strip_prefix("stun:"))?;
    let server = rest.split('?').next().unwrap_or(rest);
    if server.is_empty() {
        return None;
    }
    Some(if server.contains(':') {
        server.to_owned()
    } else {
        format!("{server}:3478")
    })
}

/// What the frame at the front of `buf` is: its length and the bytes it
/// takes on the stream; `None` while incomplete. An error: not TURN.
fn next_frame(buf: &[u8]) -> io::Result<Option<(usize, usize)>> {
    let Some(header) = buf.get(..4) else {
        return Ok(None);
    };
    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let (frame, taken) = match header[0] >> 6 {
        // STUN: a 20-byte header, a body in multiples of four.
        0 => (20 + length, 20 + length),
        // ChannelData: a 4-byte header, padded to four on a stream.
        1 => (4 + length, (4 + length).div_ceil(4) * 4),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the TURN server sent something that is neither STUN nor ChannelData",
            ));
        }
    };
    Ok((buf.len() >= taken).then_some((frame, taken)))
}

/// A datagram as it goes on the stream: ChannelData padded to four bytes.
fn framed(datagram: &[u8]) -> Vec<u8> {
    let mut frame = datagram.to_vec();
    if datagram.first().is_some_and(|b| b >> 6 == 1) {
        frame.resize(datagram.len().div_ceil(4) * 4, 0);
    }
    frame
}

/// One connection to a TURN server: frames to send, and the tasks that
/// carry them (aborted when the socket goes).
struct Tunnel {
    to_server: mpsc::Sender<Vec<u8>>,
    /// Cleared when either direction ends: the connection is gone (an
    /// allocation made over it went with it).
    alive: Arc<AtomicBool>,
    opened: Instant,
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl Tunnel {
    fn close(&self) {
        self.tasks.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

/// Clears `alive` when dropped: a task's end, however it ends.
struct Ends(Arc<AtomicBool>);

impl Drop for Ends {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A UDP socket of the stack whose datagrams to some TURN servers go over
/// TCP.
pub struct TunnelledUdpSocket {
    udp: Arc<dyn AsyncUdpSocket>,
    servers: Arc<[SocketAddr]>,
    runtime: tokio::runtime::Handle,
    tunnels: Mutex<HashMap<SocketAddr, Tunnel>>,
    from_servers: mpsc::Sender<(SocketAddr, Vec<u8>)>,
    arrived: Mutex<mpsc::Receiver<(SocketAddr, Vec<u8>)>>,
    bytes: Arc<TcpTurnBytes>,
}

impl std::fmt::Debug for TunnelledUdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelledUdpSocket")
            .field("udp", &self.udp)
            .field("servers", &self.servers)
            .finish_non_exhaustive()
    }
}

impl Drop for TunnelledUdpSocket {
    fn drop(&mut self) {
        if let Ok(tunnels) = self.tunnels.get_mut() {
            tunnels.values().for_each(Tunnel::close);
        }
    }
}

impl TunnelledUdpSocket {
    /// Wraps `udp`; must be called inside a tokio runtime.
    pub fn new(
        udp: Arc<dyn AsyncUdpSocket>,
        servers: Arc<[SocketAddr]>,
        bytes: Arc<TcpTurnBytes>,
    ) -> io::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let (from_servers, arrived) = mpsc::channel(QUEUE);
        Ok(Self {
            udp,
            servers,
            runtime,
            tunnels: Mutex::default(),
            from_servers,
            arrived: Mutex::new(arrived),
            bytes,
        })
    }

    fn open(&self, server: SocketAddr) -> Tunnel {
        let (to_server, mut outgoing) = mpsc::channel::<Vec<u8>>(QUEUE);
        let (reader_half_tx, reader_half_rx) = tokio::sync::oneshot::channel();
        let bytes = self.bytes.clone();
        let alive = Arc::new(AtomicBool::new(true));
        let (writer_ends, reader_ends) = (Ends(alive.clone()), Ends(alive.clone()));
        let writer = self.runtime.spawn(async move {
            let _ends = writer_ends;
            let stream =
                match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(server))
                    .await
                {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(error)) => {
                        tracing::warn!(%error, %server, "cannot reach the TURN server over TCP");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!(%server, "the TURN server did not answer over TCP");
                        return;
                    }
                };
            let _ = stream.set_nodelay(true);
            let (read, mut write) = stream.into_split();
            let _ = reader_half_tx.send(read);
            while let Some(frame) = outgoing.recv().await {
                if write.write_all(&frame).await.is_err() {
                    break;
                }
                bytes.add(frame.len());
            }
        });
        let (arrived, bytes) = (self.from_servers.clone(), self.bytes.clone());
        let reader = self.runtime.spawn(async move {
            let _ends = reader_ends;
            let Ok(mut read) = reader_half_rx.await else {
                return;
            };
            let mut buf = Vec::with_capacity(MAX_FRAME);
            let mut chunk = vec![0u8; 16 * 1024];
            loop {
                let n = match read.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                bytes.add(n);
                buf.extend_from_slice(&chunk[..n]);
                loop {
                    match next_frame(&buf) {
                        Ok(Some((frame, taken))) => {
                            // A full queue drops it, as a UDP buffer would.
                            let _ = arrived.try_send((server, buf[..frame].to_vec()));
                            buf.drain(..taken);
                        }
                        Ok(None) if buf.len() <= MAX_FRAME => break,
                        Ok(None) | Err(_) => {
                            tracing::warn!(%server, "the TURN server's TCP stream is garbled; closing it");
                            return;
                        }
                    }
                }
            }
        });
        Tunnel {
            to_server,
            alive,
            opened: Instant::now(),
            tasks: [writer, reader],
        }
    }

    /// Queues `datagram` for `server`'s connection (opened if need be).
    fn send_over_tcp(&self, server: SocketAddr, datagram: &[u8]) {
        let Ok(mut tunnels) = self.tunnels.lock() else {
            return;
        };
        match tunnels.get(&server) {
            Some(t) if t.alive.load(Ordering::Acquire) => {}
            // Gone: dialled again, but not more than once a second.
            Some(t) if t.opened.elapsed() < REOPEN_AFTER => return,
            _ => {
                if let Some(old) = tunnels.remove(&server) {
                    old.close();
                }
                tunnels.insert(server, self.open(server));
            }
        }
        if let Some(tunnel) = tunnels.get(&server) {
            // Full: dropped, as UDP would; the stack's TURN client retries.
            let _ = tunnel.to_server.try_send(framed(datagram));
        }
    }
}

impl AsyncUdpSocket for TunnelledUdpSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        if !self.servers.contains(&transmit.destination) {
            return self.udp.poll_send(cx, transmit);
        }
        // A batch (GSO) is several datagrams of `segment_size` each.
        let size = transmit
            .segment_size
            .unwrap_or(transmit.contents.len())
            .max(1);
        for datagram in transmit.contents.chunks(size) {
            self.send_over_tcp(transmit.destination, datagram);
        }
        Poll::Ready(Ok(transmit.contents.len()))
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let arrived = match self.arrived.lock() {
            Ok(mut arrived) => arrived.poll_recv(cx),
            Err(_) => Poll::Pending,
        };
        if let Poll::Ready(Some((from, frame))) = arrived
            && let (Some(buf), Some(slot)) = (bufs.first_mut(), meta.first_mut())
        {
            let len = frame.len().min(buf.len());
            buf[..len].copy_from_slice(&frame[..len]);
            *slot = super::runtime::one_datagram(from, len);
            return Poll::Ready(Ok(1));
        }
        self.udp.poll_recv(cx, bufs, meta)
    }

    fn max_gso_segments(&self) -> usize {
        self.udp.max_gso_segments()
    }

    fn max_gro_segments(&self) -> usize {
        self.udp.max_gro_segments()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tcp_turn_urls_are_carried_over_tcp() {
        assert_eq!(
            tcp_turn_url("turn:turn.contoso.com:443?transport=tcp"),
            Some((
                "turn:turn.contoso.com:443?transport=udp".to_owned(),
                "turn.contoso.com:443".to_owned()
            ))
        );
        assert_eq!(
            tcp_turn_url("turn:198.51.100.2?transport=tcp").map(|u| u.1),
            Some("198.51.100.2:3478".to_owned())
        );
        assert_eq!(
            tcp_turn_url("turn:turn.contoso.com:3478?transport=udp"),
            None
        );
        assert_eq!(
            tcp_turn_url("turns:turn.contoso.com:443?transport=tcp"),
            None
        );
        assert_eq!(tcp_turn_url("stun:stun.contoso.com:3478"), None);
        assert_eq!(tcp_turn_url("turn:?transport=tcp"), None);
        assert_eq!(
            tcp_turn_url("turn:turn.contoso.com:443?TRANSPORT=TCP").map(|u| u.1),
            Some("turn.contoso.com:443".to_owned())
        );
        // What stays on UDP, port filled in the same way.
        assert_eq!(
            udp_server("turn:turn.contoso.com?transport=udp").as_deref(),
            Some("turn.contoso.com:3478")
        );
        assert_eq!(
            udp_server("stun:198.51.100.2:443").as_deref(),
            Some("198.51.100.2:443")
        );
        assert_eq!(udp_server("turns:turn.contoso.com:443"), None);
    }

    #[test]
    fn stun_and_padded_channel_data_are_cut_out_of_the_stream() {
        // A 4-byte STUN body: 24 bytes.
        let mut stream = vec![0x01, 0x01, 0x00, 0x04];
        stream.extend_from_slice(&[0; 20]);
        assert_eq!(next_frame(&stream).unwrap(), Some((24, 24)));
        assert_eq!(next_frame(&stream[..23]).unwrap(), None, "incomplete");
        // ChannelData of 5 bytes: 9, padded to 12 on the stream.
        let data = [0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5];
        let on_stream = framed(&data);
        assert_eq!(on_stream.len(), 12);
        assert_eq!(next_frame(&on_stream).unwrap(), Some((9, 12)));
        assert_eq!(next_frame(&on_stream[..11]).unwrap(), None);
        // STUN needs no padding and gets none.
        assert_eq!(framed(&stream), stream);
        assert!(next_frame(&[0xff, 0, 0, 0]).is_err(), "not TURN");
    }

    /// A TURN server stand-in that answers each frame with itself.
    async fn echo_server() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn datagrams_to_a_tcp_turn_server_go_over_tcp_and_come_back_as_datagrams() {
        let server = echo_server().await;
        let udp = crate::media::runtime::PlainUdpSocket::new(
            std::net::UdpSocket::bind("127.0.0.1:0").unwrap(),
        )
        .unwrap();
        let bytes = Arc::new(TcpTurnBytes::default());
        let socket =
            TunnelledUdpSocket::new(Arc::new(udp), Arc::from([server]), bytes.clone()).unwrap();
        let data = [0x40, 0x01, 0x00, 0x03, 7, 8, 9];
        assert_eq!(socket.send_to(&data, server).await.unwrap(), data.len());
        let mut buf = [0u8; 64];
        let (n, from) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        // Back without its padding, from the server's address.
        assert_eq!((&buf[..n], from), (&data[..], server));
        assert!(bytes.take() >= 16, "8 bytes each way");
        // Other destinations stay UDP.
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .send_to(b"udp", peer.local_addr().unwrap())
            .await
            .unwrap();
        let mut got = [0u8; 8];
        let (n, _) = peer.recv_from(&mut got).unwrap();
        assert_eq!(&got[..n], b"udp");
    }
}

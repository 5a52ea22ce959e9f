//! Getting into a site: processes started inside its namespace, TCP
//! connections made from it, and a loopback port forwarded into it.

use super::Forward;
use crate::HarnessError;
use nix::sched::{CloneFlags, setns};
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

/// Runs processes, connections and probes inside one namespace.
#[derive(Debug, Clone)]
pub struct Inside {
    pub(super) path: String,
}

impl Inside {
    /// Makes `command` start inside the namespace.
    #[allow(unsafe_code)] // pre_exec is unsafe; see SAFETY below.
    pub fn wrap(&self, command: &mut Command) -> Result<(), HarnessError> {
        let namespace = File::open(&self.path)?;
        // SAFETY: between fork and exec the closure only calls setns(2),
        // which is async-signal-safe, on a descriptor opened before.
        unsafe {
            command.pre_exec(move || {
                setns(&namespace, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
            });
        }
        Ok(())
    }

    /// Runs `job` on a thread of its own inside the namespace (sockets it
    /// makes stay there) and returns its result.
    pub fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let namespace = File::open(&self.path)?;
        std::thread::spawn(move || {
            setns(&namespace, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)?;
            job()
        })
        .join()
        .map_err(|_| std::io::Error::other("the thread inside the namespace panicked"))?
    }

    /// A TCP connection to `to`, made from inside the namespace.
    pub async fn connect(&self, to: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
        let inside = self.clone();
        let stream = tokio::task::spawn_blocking(move || {
            inside.run(move || {
                let stream = TcpStream::connect_timeout(&to, Duration::from_secs(5))?;
                stream.set_nonblocking(true)?;
                Ok(stream)
            })
        })
        .await
        .map_err(std::io::Error::other)??;
        tokio::net::TcpStream::from_std(stream)
    }

    /// Forwards a new loopback port of the test process to `to` inside the
    /// namespace (e.g. chromedriver there), until the [`Forward`] is dropped.
    pub async fn forward(&self, to: SocketAddr) -> std::io::Result<Forward> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = listener.local_addr()?.port();
        let inside = self.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut outside, _)) = listener.accept().await {
                let inside = inside.clone();
                connections.spawn(async move {
                    if let Ok(mut there) = inside.connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut outside, &mut there).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Forward { port, task })
    }

    /// Whether a STUN binding request to `server` (UDP) is answered from
    /// inside the namespace within `within`.
    pub fn stun_answers(&self, server: SocketAddr, within: Duration) -> bool {
        self.run(move || {
            let socket = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
            socket.set_read_timeout(Some(Duration::from_millis(200)))?;
            // Binding request: type 0x0001, length 0, magic cookie, id.
            let mut request = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
            request.extend_from_slice(b"tandem-probe");
            let deadline = std::time::Instant::now() + within;
            let mut answer = [0u8; 512];
            while std::time::Instant::now() < deadline {
                socket.send_to(&request, server)?;
                if let Ok((n, _)) = socket.recv_from(&mut answer)
                    && n >= 20
                    && answer[..2] == [0x01, 0x01]
                    && answer[8..20] == request[8..20]
                {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .unwrap_or(false)
    }
}

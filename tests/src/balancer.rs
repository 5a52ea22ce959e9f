//! A TCP load balancer for tests of several replicas. Each connection goes
//! to the first backend, in this balancer's order, that accepts it, so a
//! stopped replica's new connections land on the next one, as behind a
//! load balancer whose health check took it out. There is no session
//! affinity: every connection chooses again, so a console's requests and
//! sockets move with the backends' availability, never with a cookie. It
//! counts the connections each backend got.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::{TcpListener, TcpStream};

pub struct Balancer {
    addr: SocketAddr,
    backends: Vec<SocketAddr>,
    counts: Arc<Vec<AtomicU64>>,
    task: tokio::task::JoinHandle<()>,
}

/// `http://127.0.0.1:PORT` → its socket address.
fn address_of(base_url: &str) -> Result<SocketAddr, crate::HarnessError> {
    base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .map_err(|_| crate::HarnessError::NotReady {
            what: "balancer",
            seconds: 0,
            details: format!(": {base_url} is not http://ADDRESS:PORT"),
        })
}

impl Balancer {
    /// Listens on a free loopback port, in front of `backends` (base
    /// URLs), preferring them in this order.
    pub async fn start(backends: &[&str]) -> Result<Self, crate::HarnessError> {
        let backends = backends
            .iter()
            .map(|url| address_of(url))
            .collect::<Result<Vec<_>, _>>()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counts: Arc<Vec<AtomicU64>> =
            Arc::new(backends.iter().map(|_| AtomicU64::new(0)).collect());
        let task = tokio::spawn(accept(listener, backends.clone(), counts.clone()));
        Ok(Self {
            addr,
            backends,
            counts,
            task,
        })
    }

    /// `http://127.0.0.1:PORT` of the balancer.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections the backend at `base_url` got so far.
    pub fn connections_to(&self, base_url: &str) -> u64 {
        let Ok(addr) = address_of(base_url) else {
            return 0;
        };
        self.backends
            .iter()
            .position(|b| *b == addr)
            .map_or(0, |i| self.counts[i].load(Ordering::SeqCst))
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, backends: Vec<SocketAddr>, counts: Arc<Vec<AtomicU64>>) {
    while let Ok((client, _)) = listener.accept().await {
        let backends = backends.clone();
        let counts = counts.clone();
        tokio::spawn(async move {
            for (i, backend) in backends.iter().enumerate() {
                if let Ok(mut server) = TcpStream::connect(backend).await {
                    counts[i].fetch_add(1, Ordering::SeqCst);
                    let mut client = client;
                    // Ends when either side closes or resets (a killed
                    // replica): the client then sees its connection drop.
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    return;
                }
            }
        });
    }
}

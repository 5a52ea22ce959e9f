//! A small internet in network namespaces, for sessions across real
//! networks: a helper site and a sharer site, each behind NAT, and a
//! server site (server, IdP, coturn) on a public segment.
//!
//! ```text
//!   helper site 192.168.1.2 ─ lan1 ┐
//!                                  ├ router (nftables NAT) ─ wan0 ─ 198.51.100.2 server site
//!   sharer site 192.168.2.2 ─ lan2 ┘         198.51.100.1
//! ```
//!
//! The router masquerades both sites behind 198.51.100.1 and forwards
//! nothing between them, and nothing from outside that the sites did not
//! start: the two sites cannot reach each other, so a session between them
//! has to go through TURN. The public segment is TEST-NET-2, not a private
//! range, so coturn can run with the production's `denied-peer-ip` list.
//!
//! Delay and loss come from a delay line of the test's own
//! (`tandem-netem`, fed by iptables NFQUEUE in the router): the kernel of
//! these machines has no `sch_netem`.
//!
//! Every namespace is the test's own (named after this process and a
//! counter) and is deleted on drop, however the test ends; namespaces
//! left behind by a test process that no longer exists are deleted when
//! the next network is built.

mod inside;

pub use inside::Inside;

use crate::HarnessError;
use crate::process::GroupChild;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The prefix of every namespace the harness makes: `tdn<pid>x<n><site>`.
const PREFIX: &str = "tdn";

/// The server site's address, where the server, IdP and coturn listen.
pub const SERVER_ADDRESS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
/// The router's public address, behind which both sites appear.
pub const ROUTER_PUBLIC_ADDRESS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

/// One of the network's places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The helper's browser, behind NAT.
    Helper,
    /// The sharer's agent and browser, behind NAT.
    Sharer,
    /// The server, the IdP and coturn, on the public segment.
    Server,
    /// The NAT router between them.
    Router,
}

impl Site {
    fn letter(self) -> char {
        match self {
            Site::Helper => 'h',
            Site::Sharer => 's',
            Site::Server => 'v',
            Site::Router => 'r',
        }
    }

    /// The router's interface towards this site (none for the router).
    fn router_side(self) -> Option<&'static str> {
        match self {
            Site::Helper => Some("lan1"),
            Site::Sharer => Some("lan2"),
            Site::Server => Some("wan0"),
            Site::Router => None,
        }
    }

    /// The NFQUEUE queue of the site's delay line.
    fn queue(self) -> Option<u16> {
        match self {
            Site::Helper => Some(1),
            Site::Sharer => Some(2),
            Site::Server => Some(3),
            Site::Router => None,
        }
    }

    /// The site's own address.
    pub fn address(self) -> Ipv4Addr {
        match self {
            Site::Helper => Ipv4Addr::new(192, 168, 1, 2),
            Site::Sharer => Ipv4Addr::new(192, 168, 2, 2),
            Site::Server => SERVER_ADDRESS,
            Site::Router => ROUTER_PUBLIC_ADDRESS,
        }
    }
}

const SITES: [Site; 3] = [Site::Helper, Site::Sharer, Site::Server];

/// The router's rules: masquerade towards the public segment; forward
/// only what a site started, and never from one site to the other.
const ROUTER_RULES: &str = r#"
table ip tandem_router {
  chain postrouting {
    type nat hook postrouting priority 100;
    oifname "wan0" masquerade
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    iifname { "lan1", "lan2" } oifname "wan0" accept
    iifname "wan0" ct state established,related accept
  }
}
"#;

/// Drops all UDP leaving a site (a TCP-only network); TCP still passes.
const NO_UDP_RULES: &str = r#"
table inet tandem_site {
  chain output {
    type filter hook output priority 0; policy accept;
    oifname "eth0" meta l4proto udp drop
  }
}
"#;

/// How a site's link behaves, both ways.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Impairment {
    /// One-way delay added on each side of the link (so the round trip
    /// through it grows by twice this).
    pub delay: Duration,
    /// Packets lost, in percent, each way.
    pub loss_percent: f32,
}

/// A site's delay line, and what it counted (passed, dropped).
struct DelayLine {
    site: Site,
    _process: GroupChild,
    counts: std::sync::Arc<Mutex<(u64, u64)>>,
}

/// The test's network; everything in it is removed on drop.
pub struct TestNetwork {
    /// Stopped before the namespaces go (field order).
    delay_lines: Mutex<Vec<DelayLine>>,
    names: Vec<(Site, String)>,
}

fn ip(args: &[&str]) -> Result<(), HarnessError> {
    run("ip", args, None)
}

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Result<(), HarnessError> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| HarnessError::Spawn {
        what: "a network command",
        source,
    })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(HarnessError::Network(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Deletes namespaces made by test processes that are gone.
fn remove_orphans() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('x'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", &name]);
        }
    }
}

impl TestNetwork {
    /// Builds the sites, the router and its NAT. Needs root.
    pub fn build() -> Result<Self, HarnessError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        remove_orphans();
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let mut network = Self {
            delay_lines: Mutex::default(),
            names: Vec::new(),
        };
        for site in [Site::Router, Site::Helper, Site::Sharer, Site::Server] {
            let name = format!("{PREFIX}{}x{n}{}", std::process::id(), site.letter());
            ip(&["netns", "add", &name])?;
            // Pushed at once, so a failure below still deletes it.
            network.names.push((site, name.clone()));
            ip(&["-n", &name, "link", "set", "lo", "up"])?;
        }
        let router = network.name(Site::Router).to_owned();
        for site in SITES {
            let side = site.router_side().unwrap_or("wan0");
            let inside = network.name(site).to_owned();
            ip(&[
                "-n", &router, "link", "add", side, "type", "veth", "peer", "name", "eth0",
                "netns", &inside,
            ])?;
            let (own, gateway) = match site {
                Site::Server => (SERVER_ADDRESS, ROUTER_PUBLIC_ADDRESS),
                _ => {
                    let [a, b, c, _] = site.address().octets();
                    (site.address(), Ipv4Addr::new(a, b, c, 1))
                }
            };
            ip(&[
                "-n",
                &router,
                "addr",
                "add",
                &format!("{gateway}/24"),
                "dev",
                side,
            ])?;
            ip(&["-n", &router, "link", "set", side, "up"])?;
            ip(&[
                "-n",
                &inside,
                "addr",
                "add",
                &format!("{own}/24"),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", &inside, "link", "set", "eth0", "up"])?;
            ip(&[
                "-n",
                &inside,
                "route",
                "add",
                "default",
                "via",
                &gateway.to_string(),
            ])?;
        }
        run(
            "ip",
            &[
                "netns",
                "exec",
                &router,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ],
            None,
        )?;
        run(
            "ip",
            &["netns", "exec", &router, "nft", "-f", "-"],
            Some(ROUTER_RULES),
        )?;
        Ok(network)
    }

    /// The namespace's name of `site`.
    pub fn name(&self, site: Site) -> &str {
        self.names
            .iter()
            .find(|(s, _)| *s == site)
            .map(|(_, name)| name.as_str())
            .unwrap_or_default()
    }

    /// A handle that runs things inside `site`.
    pub fn site(&self, site: Site) -> Inside {
        Inside {
            path: format!("/run/netns/{}", self.name(site)),
        }
    }

    /// Sets delay and loss on `site`'s link, each way; the default
    /// [`Impairment`] takes them away. The router queues the link's
    /// packets (iptables NFQUEUE, both directions) to a `tandem-netem`
    /// delay line of the site's own.
    pub fn impair(&self, site: Site, impairment: Impairment) -> Result<(), HarnessError> {
        let (Some(side), Some(queue)) = (site.router_side(), site.queue()) else {
            return Ok(());
        };
        let router = self.name(Site::Router);
        let queue = queue.to_string();
        let rule = |action: &str, direction: &str| {
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    router,
                    "iptables",
                    "-t",
                    "mangle",
                    action,
                    "FORWARD",
                    direction,
                    side,
                    "-j",
                    "NFQUEUE",
                    "--queue-num",
                    &queue,
                    "--queue-bypass",
                ],
                None,
            )
        };
        let mut lines = self
            .delay_lines
            .lock()
            .map_err(|_| HarnessError::Network("the delay lines' lock is poisoned".into()))?;
        if lines.iter().any(|l| l.site == site) {
            rule("-D", "-i")?;
            rule("-D", "-o")?;
            lines.retain(|l| l.site != site);
        }
        if impairment == Impairment::default() {
            return Ok(());
        }
        let mut command = Command::new(crate::paths::netem_binary()?);
        command
            .args(["--queue", &queue])
            .args(["--delay-ms", &impairment.delay.as_millis().to_string()])
            .args(["--loss-percent", &impairment.loss_percent.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        self.site(Site::Router).wrap(&mut command)?;
        let mut line = GroupChild::spawn("tandem-netem", command)?;
        // Rules before the queue is bound would let packets pass unseen.
        let counts = std::sync::Arc::new(Mutex::new((0, 0)));
        let counted = counts.clone();
        let bound = line.child_mut().stdout.take().and_then(|stdout| {
            use std::io::BufRead;
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                // Kept reading to the end, so the pipe never fills.
                for text in std::io::BufReader::new(stdout)
                    .lines()
                    .map_while(Result::ok)
                {
                    // "tandem-netem: passed P dropped D", once a second.
                    let numbers: Vec<u64> = text
                        .split_whitespace()
                        .filter_map(|w| w.parse().ok())
                        .collect();
                    if let ([passed, dropped], Ok(mut counts)) = (&numbers[..], counted.lock())
                        && text.contains("dropped")
                    {
                        *counts = (*passed, *dropped);
                    }
                    let _ = tx.send(text);
                }
            });
            rx.recv_timeout(Duration::from_secs(10)).ok()
        });
        if bound.is_none() {
            return Err(HarnessError::NotReady {
                what: "tandem-netem",
                seconds: 10,
                details: format!(" (exit: {:?})", line.exited()),
            });
        }
        lines.push(DelayLine {
            site,
            _process: line,
            counts,
        });
        rule("-A", "-i")?;
        rule("-A", "-o")?;
        Ok(())
    }

    /// What `site`'s delay line passed and dropped so far (both ways),
    /// while it is impaired.
    pub fn packets(&self, site: Site) -> Option<(u64, u64)> {
        let lines = self.delay_lines.lock().ok()?;
        let line = lines.iter().find(|l| l.site == site)?;
        line.counts.lock().ok().map(|c| *c)
    }

    /// Cuts `site` off (its link goes down), as a pulled cable would.
    pub fn cut(&self, site: Site) -> Result<(), HarnessError> {
        match site.router_side() {
            Some(side) => ip(&["-n", self.name(Site::Router), "link", "set", side, "down"]),
            None => Ok(()),
        }
    }

    /// Mends a [`TestNetwork::cut`].
    pub fn mend(&self, site: Site) -> Result<(), HarnessError> {
        match site.router_side() {
            Some(side) => ip(&["-n", self.name(Site::Router), "link", "set", side, "up"]),
            None => Ok(()),
        }
    }

    /// Gives `site` a new address in its subnet (`host`, the last
    /// octet) and takes the old one away, as a new DHCP lease or another
    /// access point would: connections that used the old one are dead.
    pub fn readdress(&self, site: Site, host: u8) -> Result<Ipv4Addr, HarnessError> {
        let [a, b, c, _] = site.address().octets();
        let (old, new) = (site.address(), Ipv4Addr::new(a, b, c, host));
        let inside = self.name(site);
        // The new address takes over the subnet's route when the old one
        // goes, instead of going with it.
        run(
            "ip",
            &[
                "netns",
                "exec",
                inside,
                "sysctl",
                "-qw",
                "net.ipv4.conf.eth0.promote_secondaries=1",
            ],
            None,
        )?;
        ip(&[
            "-n",
            inside,
            "addr",
            "add",
            &format!("{new}/24"),
            "dev",
            "eth0",
        ])?;
        ip(&[
            "-n",
            inside,
            "addr",
            "del",
            &format!("{old}/24"),
            "dev",
            "eth0",
        ])?;
        let gateway = Ipv4Addr::new(a, b, c, 1).to_string();
        ip(&["-n", inside, "route", "replace", "default", "via", &gateway])?;
        Ok(new)
    }

    /// Lets the two sites reach each other directly (as two offices on
    /// one corporate network would), so a direct path exists.
    pub fn open_between_sites(&self) -> Result<(), HarnessError> {
        run(
            "ip",
            &[
                "netns",
                "exec",
                self.name(Site::Router),
                "nft",
                "add",
                "rule",
                "ip",
                "tandem_router",
                "forward",
                "iifname",
                "{",
                "lan1",
                ",",
                "lan2",
                "}",
                "oifname",
                "{",
                "lan1",
                ",",
                "lan2",
                "}",
                "accept",
            ],
            None,
        )
    }

    /// Makes `site` a TCP-only network: every UDP packet leaving it is
    /// dropped.
    pub fn drop_udp(&self, site: Site) -> Result<(), HarnessError> {
        run(
            "ip",
            &["netns", "exec", self.name(site), "nft", "-f", "-"],
            Some(NO_UDP_RULES),
        )
    }
}

impl Drop for TestNetwork {
    fn drop(&mut self) {
        if let Ok(mut lines) = self.delay_lines.lock() {
            lines.clear();
        }
        for (_, name) in self.names.drain(..) {
            let _ = ip(&["netns", "del", &name]);
        }
    }
}

/// A loopback port of the test process that leads into a namespace.
pub struct Forward {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Forward {
    /// The port on 127.0.0.1 (the test process's own namespace).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        // The connections it carries are in its JoinSet and end with it.
        self.task.abort();
    }
}

//! What the bench reads from the machine: bytes on loopback (an nftables
//! table of its own, removed on drop) and CPU time and memory of process
//! groups (/proc).

use crate::systems::Wire;
use std::process::Command;

const TABLE: &str = "tandem_peer_bench";

/// Counting rules in the output hook: every loopback packet passes it once.
pub struct Nft;

fn nft(script: &str) -> Result<String, String> {
    let out = Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(stdin) = child.stdin.as_mut() {
                stdin.write_all(script.as_bytes())?;
            }
            child.wait_with_output()
        })
        .map_err(|e| format!("nft: {e} (apt-get install nftables)"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "nft: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Nft {
    pub fn start(wire: &Wire) -> Result<Nft, String> {
        let _ = nft(&format!("delete table inet {TABLE}\n"));
        let rule = match wire {
            Wire::Udp => "oifname \"lo\" meta l4proto udp counter".to_owned(),
            Wire::TcpPort(p) => format!(
                "oifname \"lo\" tcp sport {p} counter\n  add rule inet {TABLE} out oifname \"lo\" tcp dport {p} counter"
            ),
        };
        nft(&format!(
            "add table inet {TABLE}\n\
             add chain inet {TABLE} out {{ type filter hook output priority 0; policy accept; }}\n\
             add rule inet {TABLE} out {rule}\n"
        ))?;
        Ok(Nft)
    }

    /// Bytes counted so far (all rules). Counting that fails stops the
    /// bench: a 0 would read as "no traffic".
    pub fn bytes(&self) -> u64 {
        let listing = match nft(&format!("list table inet {TABLE}\n")) {
            Ok(listing) => listing,
            Err(e) => panic!("cannot read the byte counters: {e}"),
        };
        listing
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[0] == "bytes")
            .filter_map(|w| w[1].parse::<u64>().ok())
            .sum()
    }
}

impl Drop for Nft {
    fn drop(&mut self) {
        let _ = nft(&format!("delete table inet {TABLE}\n"));
    }
}

/// CPU seconds and resident memory (MiB) of every process in `groups`.
fn usage(groups: &[u32]) -> (f64, f64) {
    let ticks = 100.0; // USER_HZ on Linux
    let (mut cpu, mut rss_kib) = (0.0, 0.0);
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return (0.0, 0.0);
    };
    for entry in dir.flatten() {
        let path = entry.path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // Fields after the command name, which may hold spaces.
        let Some(rest) = stat.rsplit(')').next() else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let group: Option<u32> = fields.get(2).and_then(|f| f.parse().ok());
        if !group.is_some_and(|g| groups.contains(&g)) {
            continue;
        }
        let number = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        cpu += (number(11) + number(12)) / ticks;
        if let Ok(status) = std::fs::read_to_string(path.join("status"))
            && let Some(kib) = status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        {
            rss_kib += kib;
        }
    }
    (cpu, rss_kib / 1024.0)
}

/// A snapshot at a phase boundary.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub bytes: u64,
    pub sender_cpu_s: f64,
    pub browser_cpu_s: f64,
    pub sender_rss_mib: f64,
    pub browser_rss_mib: f64,
}

impl Counters {
    pub fn read(nft: &Nft, sender_groups: &[u32], browser_group: u32) -> Counters {
        let (sender_cpu_s, sender_rss_mib) = usage(sender_groups);
        let (browser_cpu_s, browser_rss_mib) = usage(&[browser_group]);
        Counters {
            bytes: nft.bytes(),
            sender_cpu_s,
            browser_cpu_s,
            sender_rss_mib,
            browser_rss_mib,
        }
    }
}

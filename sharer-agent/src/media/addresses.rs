//! The device's own network addresses, read every second, so that a
//! change (another Wi-Fi, a VPN coming up, a new DHCP lease) restarts ICE
//! on the connection there is at once, instead of waiting for the old
//! path to fail; a lost address also means joining the server again.

use std::collections::BTreeSet;
use std::net::IpAddr;

/// The addresses host candidates can come from now; `None` when the
/// interfaces cannot be read.
pub fn local_addresses() -> Option<BTreeSet<IpAddr>> {
    let interfaces = rtc::shared::ifaces::ifaces().ok()?;
    Some(usable(
        interfaces
            .into_iter()
            .filter_map(|i| i.addr.map(|a| a.ip())),
    ))
}

/// Without loopback, unspecified and link-local addresses, which no peer
/// reaches (ICE leaves them out too).
pub fn usable(addresses: impl Iterator<Item = IpAddr>) -> BTreeSet<IpAddr> {
    addresses
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !v4.is_link_local(),
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect()
}

/// How the addresses changed since the last reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressChange {
    None,
    /// Only new ones: the connections there are still work.
    Gained,
    /// One went away: a connection that used it is dead.
    Lost,
}

/// The last reading, to compare the next one with.
#[derive(Debug, Default)]
pub struct AddressWatch {
    last: Option<BTreeSet<IpAddr>>,
}

impl AddressWatch {
    /// Takes a reading and compares it with the one before. The first
    /// reading, and one that failed, change nothing.
    pub fn changed(&mut self, now: Option<BTreeSet<IpAddr>>) -> AddressChange {
        let Some(now) = now else {
            return AddressChange::None;
        };
        let change = match &self.last {
            Some(last) if last.difference(&now).next().is_some() => AddressChange::Lost,
            Some(last) if now.difference(last).next().is_some() => AddressChange::Gained,
            _ => AddressChange::None,
        };
        self.last = Some(now);
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(addresses: &[&str]) -> BTreeSet<IpAddr> {
        usable(addresses.iter().map(|a| a.parse().unwrap()))
    }

    #[test]
    fn only_reachable_addresses_count() {
        let all = set(&[
            "127.0.0.1",
            "::1",
            "0.0.0.0",
            "169.254.3.4",
            "fe80::1",
            "192.168.2.2",
            "2001:db8::2",
        ]);
        assert_eq!(all, set(&["192.168.2.2", "2001:db8::2"]));
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn a_new_address_is_a_change_and_the_first_reading_is_not() {
        let mut watch = AddressWatch::default();
        let mut reading = |addresses: &[&str]| watch.changed(Some(set(addresses)));
        assert_eq!(reading(&["192.168.2.2"]), AddressChange::None);
        assert_eq!(reading(&["192.168.2.2"]), AddressChange::None);
        assert_eq!(reading(&["192.168.2.3"]), AddressChange::Lost);
        assert_eq!(reading(&["192.168.2.3", "10.8.0.2"]), AddressChange::Gained);
        assert_eq!(reading(&["10.8.0.2", "192.168.2.3"]), AddressChange::None);
        // A failed reading says nothing, either way.
        assert_eq!(watch.changed(None), AddressChange::None);
        assert_eq!(watch.changed(Some(set(&["10.8.0.2"]))), AddressChange::Lost);
        // This machine's own reading works.
        assert!(local_addresses().is_some());
    }
}

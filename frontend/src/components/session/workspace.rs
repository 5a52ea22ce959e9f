//! The helper's workspace around the picture: the code screen, the steps
//! of connecting, the session timer and the connection quality. The
//! functions are pure, so the wording and the thresholds are unit-tested.

use crate::rtc::stats::{MediaPath, MediaStats};
use tandem_protocol::session::{Phase, SessionView};

/// "RPY4GW47" → "RPY4 GW47": two groups of four, to read aloud.
pub fn grouped_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().filter(|c| !c.is_whitespace()).collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A duration as "0:42", "12:05" or "1:02:03".
pub fn elapsed(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// How the connection feels, from the helper's own statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    Good,
    Fair,
    Poor,
}

impl Quality {
    pub fn label(self) -> &'static str {
        match self {
            Quality::Good => "Good",
            Quality::Fair => "Fair",
            Quality::Poor => "Poor",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Quality::Good => "quality good",
            Quality::Fair => "quality fair",
            Quality::Poor => "quality poor",
        }
    }
}

/// Good below 150 ms round trip with no new loss; poor above 400 ms, or
/// with frames lost since the last reading; fair between. The frame rate
/// says nothing on a still screen (frames are sent on change), so it is
/// not used.
pub fn quality(now: &MediaStats, lost_before: Option<i64>) -> Quality {
    let new_loss = lost_before.map_or(0, |before| (now.packets_lost - before).max(0));
    let rtt = now.round_trip_ms.unwrap_or(0.0);
    if rtt > 400.0 || new_loss > 20 {
        Quality::Poor
    } else if rtt > 150.0 || new_loss > 0 {
        Quality::Fair
    } else {
        Quality::Good
    }
}

/// The details behind the quality, in words people understand.
/// The connection's details for the helper; `device_over_tcp`: the agent
/// says its side reaches the TURN server over TCP.
pub fn quality_details(stats: &MediaStats, device_over_tcp: bool) -> Vec<(&'static str, String)> {
    let delay = stats.round_trip_ms.map_or_else(
        || "not measured yet".to_owned(),
        |ms| format!("{ms:.0} ms there and back"),
    );
    vec![
        (
            "Picture",
            format!("{} × {} pixels", stats.width, stats.height),
        ),
        ("Updates", format!("{:.0} per second", stats.fps)),
        ("Network delay", delay),
        ("Data", format!("{:.0} kbit/s", stats.kbps)),
        ("Lost packets", stats.packets_lost.to_string()),
        ("Path", path_label(stats.path, device_over_tcp).to_owned()),
    ]
}

/// How the media travels, from this browser's selected pair and what the
/// device says of its own side.
fn path_label(path: Option<MediaPath>, device_over_tcp: bool) -> &'static str {
    match path {
        None => "not chosen yet",
        Some(MediaPath::Relayed) if device_over_tcp => "relayed over TCP (the device's side)",
        Some(p) => p.label(),
    }
}

/// The steps of getting connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    CodeIssued,
    SharerJoined,
    WaitingForConsent,
    Connecting,
    Live,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::CodeIssued,
        Step::SharerJoined,
        Step::WaitingForConsent,
        Step::Connecting,
        Step::Live,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Step::CodeIssued => "Code issued",
            Step::SharerJoined => "Sharer joined",
            Step::WaitingForConsent => "Waiting for consent",
            Step::Connecting => "Connecting",
            Step::Live => "Live",
        }
    }

    /// What is being waited for, and what to do if it takes long.
    pub fn waiting_for(self) -> (&'static str, &'static str) {
        match self {
            Step::CodeIssued => (
                "Waiting for the sharer to enter the code.",
                "Check that they opened the address below and typed the code exactly; \
                 a code works once and only for a few minutes.",
            ),
            Step::SharerJoined => (
                "The sharer joined. Choose how to help.",
                "Pick Screen sharing, or Request full control where it is offered.",
            ),
            Step::WaitingForConsent => (
                "Waiting for the sharer to allow your request.",
                "Ask them to look for the request on their screen and choose Allow.",
            ),
            Step::Connecting => (
                "Connecting to the sharer's screen.",
                "This usually takes a second or two. If it does not, a firewall may block \
                 the connection; ask the sharer to stay on the page, or leave and try again.",
            ),
            Step::Live => ("Connected.", ""),
        }
    }
}

/// Where the session is on the way to a live picture; `None` once it is
/// live, paused or ended (the picture area shows those itself).
pub fn current_step(view: &SessionView, has_picture: bool) -> Option<Step> {
    if view.ended.is_some() {
        return None;
    }
    match view.phase {
        Phase::WaitingForSharer => Some(Step::CodeIssued),
        Phase::SharerJoined => Some(Step::SharerJoined),
        Phase::WaitingForConsent if view.mode.is_none() => Some(Step::WaitingForConsent),
        Phase::WaitingForConsent | Phase::Active if !has_picture => Some(Step::Connecting),
        _ => None,
    }
}

/// Seconds after which a step counts as stalled and its hint shows.
pub fn stalled_after(step: Step) -> u32 {
    match step {
        Step::CodeIssued => 90,
        Step::SharerJoined => 0,
        Step::WaitingForConsent => 30,
        Step::Connecting | Step::Live => 8,
    }
}

/// The code of a session, kept in this tab while it is valid, so a reload
/// shows it again. Never sent anywhere; gone with the tab.
pub mod code_memory {
    use tandem_protocol::{SessionId, UnixMillis};

    fn key(session: &SessionId) -> String {
        format!("tandem.code.{session}")
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.session_storage().ok()?
    }

    pub fn remember(session: &SessionId, code: &str, expires_at: Option<UnixMillis>) {
        if let Some(storage) = storage() {
            let value = format!("{}|{code}", expires_at.map_or(0, |t| t.0));
            let _ = storage.set_item(&key(session), &value);
        }
    }

    /// The code, unless it expired.
    pub fn recall(session: &SessionId, now_ms: i64) -> Option<String> {
        let value = storage()?.get_item(&key(session)).ok()??;
        let (expires, code) = value.split_once('|')?;
        let expires: i64 = expires.parse().ok()?;
        (now_ms < expires).then(|| code.to_owned())
    }

    pub fn forget(session: &SessionId) {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(&key(session));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn codes_read_in_two_groups_of_four() {
        assert_eq!(grouped_code("RPY4GW47"), "RPY4 GW47");
        assert_eq!(grouped_code("RPY4 GW47"), "RPY4 GW47");
        assert_eq!(grouped_code(""), "");
    }

    #[wasm_bindgen_test]
    fn timers_read_as_clock_time() {
        assert_eq!(elapsed(42_000), "0:42");
        assert_eq!(elapsed(12 * 60_000 + 5_000), "12:05");
        assert_eq!(elapsed(3_723_000), "1:02:03");
        assert_eq!(elapsed(-5), "0:00");
    }

    #[wasm_bindgen_test]
    fn the_path_is_named_from_the_selected_candidates() {
        assert_eq!(MediaPath::of("host", None, "prflx"), MediaPath::Direct);
        assert_eq!(MediaPath::of("srflx", None, "srflx"), MediaPath::Direct);
        assert_eq!(
            MediaPath::of("relay", Some("udp"), "relay"),
            MediaPath::Relayed
        );
        // The device's end relayed, this browser's direct: still relayed.
        assert_eq!(MediaPath::of("host", None, "relay"), MediaPath::Relayed);
        assert_eq!(
            MediaPath::of("relay", Some("tcp"), "relay"),
            MediaPath::RelayedOverTcp
        );
        assert_eq!(
            MediaPath::of("relay", Some("tls"), "srflx"),
            MediaPath::RelayedOverTcp
        );
        let mut stats = MediaStats::default();
        let path = |s: &MediaStats, device_over_tcp: bool| {
            quality_details(s, device_over_tcp)
                .into_iter()
                .find(|(label, _)| *label == "Path")
                .map(|(_, value)| value)
        };
        assert_eq!(path(&stats, false).as_deref(), Some("not chosen yet"));
        stats.path = Some(MediaPath::RelayedOverTcp);
        assert_eq!(path(&stats, false).as_deref(), Some("relayed over TCP"));
        stats.path = Some(MediaPath::Relayed);
        assert_eq!(path(&stats, false).as_deref(), Some("relayed"));
        assert_eq!(
            path(&stats, true).as_deref(),
            Some("relayed over TCP (the device's side)")
        );
    }

    #[wasm_bindgen_test]
    fn quality_follows_delay_and_new_loss() {
        let mut stats = MediaStats {
            round_trip_ms: Some(20.0),
            packets_lost: 3,
            ..MediaStats::default()
        };
        assert_eq!(quality(&stats, Some(3)), Quality::Good);
        assert_eq!(quality(&stats, Some(1)), Quality::Fair, "new loss");
        stats.round_trip_ms = Some(250.0);
        assert_eq!(quality(&stats, Some(3)), Quality::Fair);
        stats.round_trip_ms = Some(900.0);
        assert_eq!(quality(&stats, Some(3)), Quality::Poor);
        stats.round_trip_ms = Some(20.0);
        stats.packets_lost = 100;
        assert_eq!(quality(&stats, Some(3)), Quality::Poor);
        let details = quality_details(&stats, false);
        assert!(details.iter().all(|(label, _)| !label.contains("RTT")));
    }
}

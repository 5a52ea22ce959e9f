//! The helper's own view of the video, from `RTCPeerConnection.getStats()`:
//! frame rate, bit rate, round trip, resolution, packet loss, and the
//! path the connection took (direct, or relayed through TURN).

use js_sys::{Map, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

/// Which way the media goes, from the selected candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaPath {
    /// Straight between the two ends (host, server- or peer-reflexive).
    Direct,
    /// Through a TURN server: this browser's or the device's end is a
    /// relay candidate, and this browser reaches its relay over UDP.
    Relayed,
    /// Through a TURN server this browser reaches over TCP or TLS.
    RelayedOverTcp,
}

impl MediaPath {
    pub fn label(self) -> &'static str {
        match self {
            MediaPath::Direct => "direct",
            MediaPath::Relayed => "relayed",
            MediaPath::RelayedOverTcp => "relayed over TCP",
        }
    }

    /// From the pair's two candidates: their `candidateType`, and the
    /// local one's `relayProtocol`.
    pub fn of(local: &str, local_relay_protocol: Option<&str>, remote: &str) -> Self {
        match (local, local_relay_protocol, remote) {
            ("relay", Some("tcp" | "tls"), _) => MediaPath::RelayedOverTcp,
            ("relay", _, _) | (_, _, "relay") => MediaPath::Relayed,
            _ => MediaPath::Direct,
        }
    }
}

/// One reading, for the stats overlay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaStats {
    pub fps: f64,
    pub kbps: f64,
    pub round_trip_ms: Option<f64>,
    pub width: u32,
    pub height: u32,
    pub packets_lost: i64,
    /// Unknown until a candidate pair is selected.
    pub path: Option<MediaPath>,
    /// Bytes received so far, to compute the next bit rate.
    pub bytes: f64,
    /// When this reading was taken (ms, the page's clock).
    pub at: f64,
}

fn number(stat: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(stat, &JsValue::from_str(key)).ok()?.as_f64()
}

fn flag(stat: &JsValue, key: &str) -> bool {
    Reflect::get(stat, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_bool())
        == Some(true)
}

fn text(stat: &JsValue, key: &str) -> Option<String> {
    Reflect::get(stat, &JsValue::from_str(key))
        .ok()?
        .as_string()
}

/// Reads the statistics; `previous` gives the bit rate its time base.
pub async fn read(pc: &RtcPeerConnection, previous: Option<&MediaStats>) -> Option<MediaStats> {
    let report = JsFuture::from(pc.get_stats()).await.ok()?;
    let now = js_sys::Date::now();
    let mut stats = MediaStats {
        at: now,
        ..MediaStats::default()
    };
    // RTCStatsReport is map-like; `forEach` is all that is needed.
    let map: &Map = report.unchecked_ref();
    stats.path = selected_path(map);
    map.for_each(&mut |stat, _key| match text(&stat, "type").as_deref() {
        Some("inbound-rtp") if text(&stat, "kind").as_deref() == Some("video") => {
            stats.fps = number(&stat, "framesPerSecond").unwrap_or(0.0);
            stats.bytes = number(&stat, "bytesReceived").unwrap_or(0.0);
            stats.width = number(&stat, "frameWidth").unwrap_or(0.0) as u32;
            stats.height = number(&stat, "frameHeight").unwrap_or(0.0) as u32;
            stats.packets_lost = number(&stat, "packetsLost").unwrap_or(0.0) as i64;
        }
        Some("candidate-pair")
            if text(&stat, "state").as_deref() == Some("succeeded")
                && Reflect::get(&stat, &JsValue::from_str("nominated"))
                    .ok()
                    .and_then(|v| v.as_bool())
                    == Some(true) =>
        {
            stats.round_trip_ms = number(&stat, "currentRoundTripTime").map(|s| s * 1000.0);
        }
        _ => {}
    });
    if let Some(before) = previous
        && now > before.at
        && stats.bytes >= before.bytes
    {
        stats.kbps = (stats.bytes - before.bytes) * 8.0 / (now - before.at);
    }
    Some(stats)
}

/// The path of the transport's selected pair (`transport` →
/// `selectedCandidatePairId` → its two candidates).
fn selected_path(map: &Map) -> Option<MediaPath> {
    let mut pair_id = None;
    let mut nominated = None;
    map.for_each(&mut |stat, _key| match text(&stat, "type").as_deref() {
        Some("transport") if pair_id.is_none() => {
            pair_id = text(&stat, "selectedCandidatePairId");
        }
        // Browsers without `selectedCandidatePairId` (Firefox) mark the
        // pair itself.
        Some("candidate-pair")
            if flag(&stat, "selected")
                || (flag(&stat, "nominated")
                    && text(&stat, "state").as_deref() == Some("succeeded")) =>
        {
            nominated = text(&stat, "id");
        }
        _ => {}
    });
    let pair = map.get(&JsValue::from_str(&pair_id.or(nominated)?));
    let candidate = |key: &str| {
        text(&pair, key)
            .map(|id| map.get(&JsValue::from_str(&id)))
            .filter(|c| !c.is_undefined())
    };
    let (local, remote) = (
        candidate("localCandidateId")?,
        candidate("remoteCandidateId")?,
    );
    Some(MediaPath::of(
        &text(&local, "candidateType")?,
        text(&local, "relayProtocol").as_deref(),
        &text(&remote, "candidateType")?,
    ))
}

/// The overlay's line.
pub fn describe(stats: &MediaStats) -> String {
    let rtt = stats
        .round_trip_ms
        .map_or_else(|| "–".to_owned(), |ms| format!("{ms:.0} ms"));
    format!(
        "{}×{} · {:.0} fps · {:.0} kbit/s · RTT {rtt} · lost {}",
        stats.width, stats.height, stats.fps, stats.kbps, stats.packets_lost
    )
}

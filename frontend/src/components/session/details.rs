//! Pieces of the helper's workspace bar: who is being helped
//! (`SessionWho`), and the connection details one click away from the
//! quality chip (`ConnectionDetails`: the browser's own figures and what
//! the device's agent reports of its side).

use super::workspace::quality_details;
use crate::rtc::remote::AgentView;
use crate::rtc::stats::MediaStats;
use leptos::prelude::*;

/// Shown while `open`.
#[component]
pub fn ConnectionDetails(
    open: RwSignal<bool>,
    media_stats: RwSignal<Option<MediaStats>>,
    agent: RwSignal<AgentView>,
) -> impl IntoView {
    move || {
        open.get().then(|| {
            let own = media_stats.get().map(|m| {
                // Media, not the refreshes of an unused TCP allocation.
                let over_tcp = agent.with(|a| a.stats.as_ref().is_some_and(|s| s.turn_tcp_kbps >= 8.0));
                quality_details(&m, over_tcp)
                    .into_iter()
                    .map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> })
                    .collect_view()
            });
            let technical = media_stats
                .get()
                .map(|m| format!("{}×{} · {:.0} fps · {:.0} kbit/s", m.width, m.height, m.fps, m.kbps));
            let device = agent.get().stats.map(|s| {
                format!(
                    "Device: sends {:.0} updates a second ({:.0} as lossless tiles), {:.1} ms to encode each, {:.0} kbit/s; \
                     per update {:.1} ms waiting for capture, {:.1} ms capturing, {:.1} ms handing over to WebRTC",
                    s.captured_fps, s.tile_updates, s.encode_ms, s.sent_kbps, s.wait_ms, s.capture_ms, s.send_ms
                )
            });
            view! {
                <section class="connection-details" id="connection-details" aria-label="Connection details">
                    <dl>{own}</dl>
                    <p class="muted" id="media-stats">{technical}</p>
                    <p class="muted" id="agent-stats">{device}</p>
                </section>
            }
        })
    }
}

/// Who is being helped, in the workspace's bar: the sharer's name, the
/// device with its enrollment and, unless compliant, its compliance.
#[component]
pub fn SessionWho(
    session: RwSignal<Option<tandem_protocol::session::SessionView>>,
) -> impl IntoView {
    use tandem_protocol::devices::Compliance;
    move || {
        let view = session.get()?;
        let sharer = view.sharer.map(|s| s.display_name);
        let device = view.device.map(|d| {
            let compliance = d.compliance;
            let shown = d.shown_name();
            view! {
                <span class="ws-device">
                    <span class="host" title=shown.clone()>{shown.clone()}</span>
                    <span class=if d.enrolled { "chip" } else { "chip warning" } id="device-enrollment">
                        {if d.enrolled { "Enrolled" } else { "Not enrolled" }}
                    </span>
                    {(compliance != Compliance::Compliant).then(|| view! {
                        <span class="chip warning" role="note">"Compliance: " {compliance.label().to_lowercase()}</span>
                    })}
                </span>
            }
        });
        Some(view! {
            <span class="ws-who">
                {sharer.map(|name| view! { <strong class="ws-sharer">{name}</strong> })}
                {device}
            </span>
        })
    }
}

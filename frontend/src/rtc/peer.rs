//! The WebRTC side of a session in the browser. The sharer always offers
//! (it owns the media); the helper answers and shows the remote track.
//! A new offer replaces the previous connection, which is how a reconnect
//! or a re-shared screen starts over without a new approval.

use super::signal::Signal;
use js_sys::{Array, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use tandem_protocol::signal::{ClientMessage, IceCandidate, IceServer, IceTransportPolicy};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcIceServer,
    RtcIceTransportPolicy, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcRtpSender, RtcSdpType,
    RtcSessionDescriptionInit, RtcTrackEvent,
};

/// What the server said to gather candidates with (`Joined`).
#[derive(Debug, Clone, Default)]
pub struct IceSetup {
    pub servers: Vec<IceServer>,
    pub policy: IceTransportPolicy,
}

fn configuration(ice: &IceSetup) -> RtcConfiguration {
    let list = Array::new();
    for server in &ice.servers {
        let entry = RtcIceServer::new();
        let urls: Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
        entry.set_urls(&urls);
        if let Some(username) = &server.username {
            entry.set_username(username);
        }
        if let Some(credential) = &server.credential {
            entry.set_credential(credential);
        }
        list.push(&entry);
    }
    let config = RtcConfiguration::new();
    config.set_ice_servers(&list);
    config.set_ice_transport_policy(match ice.policy {
        IceTransportPolicy::All => RtcIceTransportPolicy::All,
        IceTransportPolicy::Relay => RtcIceTransportPolicy::Relay,
    });
    config
}

fn error_text(error: JsValue) -> String {
    Reflect::get(&error, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

type TrackCallback = Closure<dyn FnMut(RtcTrackEvent)>;
type ChannelCallback = Closure<dyn FnMut(web_sys::RtcDataChannelEvent)>;

/// One `RTCPeerConnection` and what keeps its callbacks alive. A page puts
/// it in its [`PeerSlot`] before negotiating, so candidates that trickle in
/// while the descriptions are being set reach it (the browser queues them
/// behind `setRemoteDescription`).
pub struct Peer {
    pc: RtcPeerConnection,
    sender: RefCell<Option<RtcRtpSender>>,
    _on_ice: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    on_track: RefCell<Option<TrackCallback>>,
    on_channel: RefCell<Option<ChannelCallback>>,
    _on_state: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.pc.close();
    }
}

/// How the connection is doing, for the status line.
pub type StateHandler = Rc<dyn Fn(String)>;

async fn description(promise: js_sys::Promise, what: &str) -> Result<String, String> {
    let made = JsFuture::from(promise).await.map_err(error_text)?;
    Reflect::get(&made, &JsValue::from_str("sdp"))
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| format!("the browser made no {what}"))
}

impl Peer {
    /// A connection that sends its candidates over `signal`.
    pub fn new(
        ice: &IceSetup,
        signal: &Signal,
        on_state: StateHandler,
    ) -> Result<Rc<Self>, String> {
        let pc =
            RtcPeerConnection::new_with_configuration(&configuration(ice)).map_err(error_text)?;
        let signal = signal.clone();
        let on_ice = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
            move |event: RtcPeerConnectionIceEvent| {
                let Some(candidate) = event.candidate() else {
                    return;
                };
                signal.send(&ClientMessage::Ice {
                    candidate: IceCandidate {
                        candidate: candidate.candidate(),
                        sdp_mid: candidate.sdp_mid(),
                        sdp_m_line_index: candidate.sdp_m_line_index(),
                    },
                });
            },
        );
        pc.set_onicecandidate(Some(on_ice.as_ref().unchecked_ref()));
        let watched = pc.clone();
        let on_state_change = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let state = Reflect::get(&watched, &JsValue::from_str("connectionState"))
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            on_state(state);
        });
        pc.set_onconnectionstatechange(Some(on_state_change.as_ref().unchecked_ref()));
        Ok(Rc::new(Self {
            pc,
            sender: RefCell::new(None),
            _on_ice: on_ice,
            on_track: RefCell::new(None),
            on_channel: RefCell::new(None),
            _on_state: on_state_change,
        }))
    }

    /// The underlying connection (for data channels and statistics).
    pub fn connection(&self) -> &RtcPeerConnection {
        &self.pc
    }

    /// Hands every remote stream to `on_stream`.
    pub fn on_stream(&self, on_stream: Rc<dyn Fn(MediaStream)>) {
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
            // A remote screen is interactive: play frames as soon as they
            // decode instead of buffering for smoothness.
            if let Ok(receiver) = Reflect::get(&event, &JsValue::from_str("receiver")) {
                let _ = Reflect::set(
                    &receiver,
                    &JsValue::from_str("jitterBufferTarget"),
                    &JsValue::from_f64(0.0),
                );
            }
            let stream = event
                .streams()
                .get(0)
                .dyn_into::<MediaStream>()
                .ok()
                .or_else(|| {
                    let stream = MediaStream::new().ok()?;
                    stream.add_track(&event.track());
                    Some(stream)
                });
            if let Some(stream) = stream {
                on_stream(stream);
            }
        });
        self.pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        *self.on_track.borrow_mut() = Some(on_track);
    }

    /// Hands every data channel the other side opens to `on_channel`.
    pub fn on_data_channel(&self, on_channel: Rc<dyn Fn(web_sys::RtcDataChannel)>) {
        let callback = Closure::<dyn FnMut(web_sys::RtcDataChannelEvent)>::new(
            move |event: web_sys::RtcDataChannelEvent| on_channel(event.channel()),
        );
        self.pc
            .set_ondatachannel(Some(callback.as_ref().unchecked_ref()));
        *self.on_channel.borrow_mut() = Some(callback);
    }

    /// Sharer: carries `track` (or nothing yet, if `paused`) and sends the
    /// offer.
    pub async fn offer(
        &self,
        signal: &Signal,
        stream: &MediaStream,
        track: &MediaStreamTrack,
        paused: bool,
    ) -> Result<(), String> {
        let sender = self.pc.add_track_0(track, stream);
        *self.sender.borrow_mut() = Some(sender.clone());
        if paused {
            JsFuture::from(sender.replace_track(None))
                .await
                .map_err(error_text)?;
        }
        let sdp = description(self.pc.create_offer(), "offer").await?;
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        init.set_sdp(&sdp);
        JsFuture::from(self.pc.set_local_description(&init))
            .await
            .map_err(error_text)?;
        signal.send(&ClientMessage::Offer { sdp });
        Ok(())
    }

    /// Helper: answers the remote offer `sdp`.
    pub async fn answer(&self, signal: &Signal, sdp: &str) -> Result<(), String> {
        let remote = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        remote.set_sdp(sdp);
        JsFuture::from(self.pc.set_remote_description(&remote))
            .await
            .map_err(error_text)?;
        let sdp = description(self.pc.create_answer(), "answer").await?;
        let local = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        local.set_sdp(&sdp);
        JsFuture::from(self.pc.set_local_description(&local))
            .await
            .map_err(error_text)?;
        signal.send(&ClientMessage::Answer { sdp });
        Ok(())
    }

    /// Helper: whether `offer` comes from the device this connection
    /// already talks to (the same DTLS certificate): the device restarted
    /// ICE after its network changed, and this connection answers it, with
    /// its media and channels kept. Any other offer is a new connection.
    pub fn restarts_with(&self, offer: &str) -> bool {
        // A failed connection restarts too, as long as it is not closed.
        self.negotiated_sdp(&["closed"])
            .is_some_and(|sdp| same_certificate(&sdp, offer))
    }

    /// Helper: whether an ICE restart can bring this connection back (it
    /// was negotiated and has not failed or closed).
    pub fn can_restart(&self) -> bool {
        self.negotiated_sdp(&["closed", "failed"]).is_some()
    }

    /// The remote description in effect, unless the connection is in one
    /// of the states `unless`.
    fn negotiated_sdp(&self, unless: &[&str]) -> Option<String> {
        let get = |target: &JsValue, key: &str| {
            js_sys::Reflect::get(target, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_null() && !v.is_undefined())
        };
        let pc: &JsValue = self.pc.as_ref();
        let state = get(pc, "connectionState").and_then(|s| s.as_string());
        if state.is_some_and(|state| unless.contains(&state.as_str())) {
            return None;
        }
        get(pc, "currentRemoteDescription")
            .and_then(|d| get(&d, "sdp"))
            .and_then(|sdp| sdp.as_string())
    }

    /// Sharer: the helper's answer.
    pub async fn accept_answer(&self, sdp: &str) -> Result<(), String> {
        let remote = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        remote.set_sdp(sdp);
        JsFuture::from(self.pc.set_remote_description(&remote))
            .await
            .map(|_| ())
            .map_err(error_text)
    }

    /// A trickled candidate from the other side.
    pub async fn add_candidate(&self, candidate: &IceCandidate) -> Result<(), String> {
        let init = RtcIceCandidateInit::new(&candidate.candidate);
        init.set_sdp_mid(candidate.sdp_mid.as_deref());
        init.set_sdp_m_line_index(candidate.sdp_m_line_index);
        JsFuture::from(
            self.pc
                .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
        )
        .await
        .map(|_| ())
        .map_err(error_text)
    }

    /// Sharer: stops or restarts sending pixels on this connection.
    pub async fn send_track(&self, track: Option<&MediaStreamTrack>) -> Result<(), String> {
        let Some(sender) = self.sender.borrow().clone() else {
            return Ok(());
        };
        JsFuture::from(sender.replace_track(track))
            .await
            .map(|_| ())
            .map_err(error_text)
    }
}

/// The DTLS certificate fingerprint an SDP names (`a=fingerprint:`).
fn fingerprint(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|line| line.trim().strip_prefix("a=fingerprint:"))
        .map(str::trim)
}

/// Whether two descriptions name the same certificate (and name one).
pub fn same_certificate(a: &str, b: &str) -> bool {
    fingerprint(a).is_some_and(|f| Some(f) == fingerprint(b))
}

/// The peer a page holds, replaced on every new offer that is not an ICE
/// restart of it.
pub type PeerSlot = Rc<RefCell<Option<Rc<Peer>>>>;

/// Hands a trickled candidate to the current peer, if there is one.
pub fn add_remote_candidate(slot: &PeerSlot, candidate: IceCandidate) {
    let Some(peer) = slot.borrow().clone() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = peer.add_candidate(&candidate).await {
            leptos::logging::warn!("ICE candidate refused: {e}");
        }
    });
}

/// Sharer: asks the browser for a screen to share.
pub async fn capture_screen() -> Result<MediaStream, String> {
    let devices = web_sys::window()
        .ok_or("no window")?
        .navigator()
        .media_devices()
        .map_err(|_| "this browser cannot share its screen".to_owned())?;
    let constraints = web_sys::DisplayMediaStreamConstraints::new();
    constraints.set_video(&JsValue::TRUE);
    constraints.set_audio(&JsValue::FALSE);
    let promise = devices
        .get_display_media_with_constraints(&constraints)
        .map_err(error_text)?;
    let stream = JsFuture::from(promise).await.map_err(error_text)?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| "the browser returned no stream".to_owned())
}

#[cfg(test)]
mod tests {
    use super::same_certificate;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn an_ice_restart_names_the_same_certificate() {
        let offer = |ufrag: &str, fingerprint: &str| {
            format!(
                "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\na=ice-ufrag:{ufrag}\r\na=fingerprint:sha-256 {fingerprint}\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n"
            )
        };
        let first = offer("abcd", "AA:BB");
        assert!(same_certificate(&first, &offer("efgh", "AA:BB")));
        // A new connection of the agent has a new certificate.
        assert!(!same_certificate(&first, &offer("efgh", "CC:DD")));
        assert!(!same_certificate("v=0\r\n", "v=0\r\n"));
    }
}

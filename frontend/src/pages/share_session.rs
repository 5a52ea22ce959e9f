//! The sharer's session page, `/share/:id`: the helper's card, Allow /
//! Decline, the indicator, revoke, pause, Leave, chat, the clipboard
//! notices, the sharer's say over the helper's drawings and over each file
//! transfer.

use crate::api::{self, SessionAction};
use crate::components::layout::set_title;
use crate::components::session::{
    ChatPanel, ChatState, FileWatch, IdentityCardView, SharePreview, SharerDrawingControls,
    SharerFileNotice, SharerShareChoice, SharerSketch, chat_open, clipboard_notice,
    sharer_indicator,
};
use crate::rtc::peer::{IceSetup, Peer, PeerSlot, add_remote_candidate, capture_screen};
use crate::rtc::signal::{Link, Signal};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use std::cell::RefCell;
use std::rc::Rc;
use tandem_protocol::SessionId;
use tandem_protocol::session::{Mode, Phase, SessionView};
use tandem_protocol::sharing::{Shared, WindowChoice};
use tandem_protocol::signal::{ClientMessage, ServerMessage};
use web_sys::{MediaStream, MediaStreamTrack};

/// What the sharer's page holds between events.
#[derive(Clone)]
struct Sharing {
    signal: Rc<RefCell<Option<Signal>>>,
    servers: Rc<RefCell<IceSetup>>,
    peer: PeerSlot,
    stream: Rc<RefCell<Option<(MediaStream, MediaStreamTrack)>>>,
    session: RwSignal<Option<SessionView>>,
    error: RwSignal<Option<String>>,
    media: RwSignal<String>,
    chat: ChatState,
    /// The helper's strokes over the preview (a screen shared from here).
    sketch: SharerSketch,
    /// The latest file transfer on the device, as its agent tells it.
    file: RwSignal<Option<FileWatch>>,
    /// What the device's agent shares, and the windows it offers.
    shared: RwSignal<Shared>,
    /// The helper's drawing is switched off (as the agent says, or this
    /// page for a screen shared from here).
    drawing_off: RwSignal<bool>,
    windows: RwSignal<Option<Vec<WindowChoice>>>,
}

impl Sharing {
    /// A fresh connection to the helper with the screen (paused or not).
    fn offer(&self) {
        let Some(view) = self.session.get_untracked() else {
            return;
        };
        let Some(signal) = self.signal.borrow().clone() else {
            return;
        };
        let Some((stream, track)) = self.stream.borrow().clone() else {
            return;
        };
        if !view.media_allowed() && view.phase != Phase::Paused {
            return;
        }
        let paused = view.phase == Phase::Paused;
        let (media, error) = (self.media, self.error);
        let on_state = Rc::new(move |s: String| media.set(s));
        let peer = match Peer::new(&self.servers.borrow(), &signal, on_state) {
            Ok(peer) => peer,
            Err(e) => {
                self.error
                    .set(Some(format!("Cannot share the screen: {e}")));
                return;
            }
        };
        // The new connection replaces the old one before the offer goes out,
        // so the answer and candidates that follow reach it.
        *self.peer.borrow_mut() = Some(peer.clone());
        let told = signal.clone();
        self.sketch.open_on(
            peer.connection(),
            Rc::new(move || told.send(&ClientMessage::AnnotationUsed)),
        );
        spawn_local(async move {
            if let Err(e) = peer.offer(&signal, &stream, &track, paused).await {
                error.set(Some(format!("Cannot share the screen: {e}")));
            }
        });
    }

    fn stop(&self) {
        self.peer.borrow_mut().take();
        if let Some((_, track)) = self.stream.borrow_mut().take() {
            track.stop();
        }
    }

    /// Sends pixels or stops them on the live connection.
    fn send_pixels(&self, on: bool) {
        let peer = self.peer.borrow().clone();
        let track = self.stream.borrow().as_ref().map(|(_, t)| t.clone());
        spawn_local(async move {
            if let Some(peer) = peer
                && let Err(e) = peer
                    .send_track(if on { track.as_ref() } else { None })
                    .await
            {
                leptos::logging::warn!("cannot switch the track: {e}");
            }
        });
    }

    fn on_message(&self, message: ServerMessage) {
        match message {
            ServerMessage::Joined {
                ice_servers,
                ice_transport_policy,
                ..
            } => {
                *self.servers.borrow_mut() = IceSetup {
                    servers: ice_servers,
                    policy: ice_transport_policy,
                };
            }
            ServerMessage::State { session: view } => {
                let ended = view.ended.is_some();
                self.sketch
                    .set_allowed(view.annotation_enabled && !view.via_agent && !ended);
                self.session.set(Some(*view));
                if ended {
                    self.stop();
                    if let Some(signal) = self.signal.borrow().clone() {
                        signal.close();
                    }
                }
            }
            // A browser's screen is offered afresh either way.
            ServerMessage::Renegotiate | ServerMessage::RestartIce => self.offer(),
            ServerMessage::Answer { sdp } => {
                let peer = self.peer.borrow().clone();
                let error = self.error;
                spawn_local(async move {
                    if let Some(peer) = peer
                        && let Err(e) = peer.accept_answer(&sdp).await
                    {
                        error.set(Some(format!("The helper's answer was refused: {e}")));
                    }
                });
            }
            ServerMessage::Ice { candidate } => add_remote_candidate(&self.peer, candidate),
            ServerMessage::Chat { text, at, .. } => {
                let who = self
                    .session
                    .get_untracked()
                    .map(|v| v.helper.display_name)
                    .unwrap_or_else(|| "Helper".into());
                self.chat.receive(who, text, at.0);
            }
            ServerMessage::Shared { shared } => self.shared.set(shared),
            ServerMessage::DrawingState { off } => self.drawing_off.set(off),
            ServerMessage::Windows { windows } => self.windows.set(Some(windows)),
            ServerMessage::FileNotice { notice } => {
                let now = window().performance().map(|p| p.now()).unwrap_or_default();
                self.file
                    .update(|watch| *watch = Some(FileWatch::next(watch.as_ref(), notice, now)));
            }
            ServerMessage::Error { problem } if !self.chat.refused(&problem) => {
                leptos::logging::warn!("signaling: {}", problem.message());
            }
            _ => {}
        }
    }
}

/// `/share/:id`: the sharer's session view.
#[component]
pub fn ShareSessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = SessionId(params.with_untracked(|p| p.get("id").unwrap_or_default()));
    let sharing = Sharing {
        signal: Rc::default(),
        servers: Rc::default(),
        peer: Rc::default(),
        stream: Rc::default(),
        session: RwSignal::new(None),
        error: RwSignal::new(None),
        media: RwSignal::new(String::new()),
        chat: ChatState::default(),
        sketch: SharerSketch::default(),
        file: RwSignal::new(None),
        shared: RwSignal::new(Shared::Screen),
        drawing_off: RwSignal::new(false),
        windows: RwSignal::new(None),
    };
    let link = RwSignal::new(Link::Connecting);
    let has_stream = RwSignal::new(false);
    let (session, error) = (sharing.session, sharing.error);
    let left = crate::components::session::away::time_left(session);
    {
        let handler = sharing.clone();
        let signal = Signal::connect(
            id.clone(),
            move |message| handler.on_message(message),
            move |state| link.set(state),
        );
        *sharing.signal.borrow_mut() = Some(signal);
    }
    {
        let sharing = sharing.clone();
        let cleanup = send_wrapper::SendWrapper::new(move || {
            sharing.stop();
            if let Some(signal) = sharing.signal.borrow().clone() {
                signal.close();
            }
        });
        on_cleanup(move || (*cleanup)());
    }
    {
        let id = id.clone();
        spawn_local(async move {
            match api::session(&id).await {
                Ok(view) if session.get_untracked().is_none() => session.set(Some(view)),
                Ok(_) => {}
                Err(e) => error.set(Some(e.message())),
            }
        });
    }

    let stored = StoredValue::new_local(sharing.clone());
    let act = {
        let id = id.clone();
        move |action: SessionAction| {
            let (id, sharing) = (id.clone(), stored.get_value());
            spawn_local(async move {
                match api::session_action(&id, action).await {
                    Ok(view) => {
                        sharing.error.set(None);
                        sharing.session.set(Some(view));
                        match action {
                            SessionAction::Consent(true) => sharing.offer(),
                            SessionAction::Pause => sharing.send_pixels(false),
                            SessionAction::Resume => sharing.send_pixels(true),
                            SessionAction::Leave => sharing.stop(),
                            _ => {}
                        }
                    }
                    Err(e) => sharing.error.set(Some(e.message())),
                }
            });
        }
    };

    // Allow: pick the screen first (a user gesture), then consent.
    let allow = {
        let act = act.clone();
        move |_| {
            let (act, sharing) = (act.clone(), stored.get_value());
            let via_agent = sharing.session.get_untracked().is_some_and(|v| v.via_agent);
            spawn_local(async move {
                // The agent captures the screen itself.
                if !via_agent && sharing.stream.borrow().is_none() {
                    match capture_screen().await {
                        Ok(stream) => {
                            let track = stream.get_video_tracks().get(0);
                            let Ok(track) =
                                wasm_bindgen::JsCast::dyn_into::<MediaStreamTrack>(track)
                            else {
                                sharing.error.set(Some("No screen was shared.".into()));
                                return;
                            };
                            *sharing.stream.borrow_mut() = Some((stream, track));
                            has_stream.set(true);
                        }
                        Err(e) => {
                            sharing
                                .error
                                .set(Some(format!("Your screen was not shared: {e}")));
                            return;
                        }
                    }
                }
                act(SessionAction::Consent(true));
            });
        }
    };

    let reshare = {
        move |_| {
            let sharing = stored.get_value();
            spawn_local(async move {
                match capture_screen().await {
                    Ok(stream) => {
                        if let Ok(track) = wasm_bindgen::JsCast::dyn_into::<MediaStreamTrack>(
                            stream.get_video_tracks().get(0),
                        ) {
                            *sharing.stream.borrow_mut() = Some((stream, track));
                            has_stream.set(true);
                            sharing.offer();
                        }
                    }
                    Err(e) => sharing
                        .error
                        .set(Some(format!("Your screen was not shared: {e}"))),
                }
            });
        }
    };

    let buttons = move || {
        let view = session.get()?;
        if view.ended.is_some() {
            return None;
        }
        let (a1, a2, a3, a4, a5) = (
            act.clone(),
            act.clone(),
            act.clone(),
            act.clone(),
            act.clone(),
        );
        let allow = allow.clone();
        let asking = (view.phase == Phase::WaitingForConsent).then(|| {
            let what = match view.requested {
                Some(Mode::Control) => "use your keyboard and mouse",
                _ => "see your screen",
            };
            view! {
                <div class="consent" role="alertdialog" aria-labelledby="consent-question">
                    <p id="consent-question" tabindex="-1">{format!("{} wants to {what}.", view.helper.display_name)}</p>
                    <div class="consent-answers">
                        <button type="button" class="primary" id="consent-allow" on:click=allow>"Allow"</button>
                        <button type="button" id="consent-decline" on:click=move |_| a1(SessionAction::Consent(false))>"Decline"</button>
                    </div>
                </div>
            }
        });
        let live = matches!(
            view.phase,
            Phase::Active | Phase::Paused | Phase::WaitingForConsent
        ) && view.mode.is_some();
        Some(view! {
            {asking}
            <div class="session-actions">
                {(live && view.mode == Some(Mode::Control)).then(|| view! {
                    <button type="button" on:click=move |_| a2(SessionAction::Revoke)>"Revoke control"</button>
                })}
                {(view.phase == Phase::Active).then(|| view! {
                    <button type="button" on:click=move |_| a3(SessionAction::Pause)>"Pause"</button>
                })}
                {(view.phase == Phase::Paused).then(|| view! {
                    <button type="button" on:click=move |_| a4(SessionAction::Resume)>"Resume"</button>
                })}
                {(live && !view.via_agent && !has_stream.get()).then(|| view! {
                    <button type="button" on:click=reshare>"Share my screen again"</button>
                })}
                <button type="button" class="danger" on:click=move |_| a5(SessionAction::Leave)>"Leave"</button>
            </div>
        })
    };

    // When a request comes in, the question takes the focus, not Allow:
    // Enter alone must never consent, and Allow is one Tab away. Only when
    // the request is new, so later updates never pull the focus back.
    Effect::new(move |before: Option<Option<Mode>>| {
        let asked = session
            .get()
            .filter(|v| v.phase == Phase::WaitingForConsent)
            .and_then(|v| v.requested);
        if asked.is_some() && before.flatten() != asked {
            request_animation_frame(|| {
                if let Some(q) = document().get_element_by_id("consent-question")
                    && let Ok(q) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(q)
                {
                    let _ = q.focus();
                }
            });
        }
        asked
    });
    Effect::new(move |_| {
        set_title(match session.get() {
            Some(v) if v.ended.is_some() => "Session ended",
            Some(v) if v.mode.is_some() => "Sharing your screen",
            _ => "Get help",
        });
    });
    let chat = sharing.chat;
    let send_chat = Callback::new(move |text: String| {
        if let Some(signal) = stored.get_value().signal.borrow().clone() {
            signal.send(&ClientMessage::Chat { text });
        }
    });
    let chat_visible = Memo::new(move |_| session.get().is_some_and(|v| chat_open(&v)));
    // Announced again only when a count changes, not at every view.
    let clipboard_text = Memo::new(move |_| session.get().and_then(|v| clipboard_notice(&v)));
    // The agent draws on the device; a screen shared from here is drawn
    // on this page's preview.
    let sketch = sharing.sketch;
    let send_drawing = Callback::new(move |action| {
        if session.get_untracked().is_some_and(|v| v.via_agent) {
            if let Some(signal) = stored.get_value().signal.borrow().clone() {
                signal.send(&ClientMessage::SharerDrawing { action });
            }
        } else {
            sketch.act(action);
        }
    });
    let file = sharing.file;
    let drawing_off = sharing.drawing_off;
    let (shared, windows) = (sharing.shared, sharing.windows);
    let send_share_choice = Callback::new(move |choice| {
        if let Some(signal) = stored.get_value().signal.borrow().clone() {
            signal.send(&ClientMessage::ShareChoice { choice });
        }
    });
    // The device's agent shares: one window or all of it, her choice,
    // before she allows a mode too.
    let choosing = Memo::new(move |_| {
        session
            .get()
            .is_some_and(|v| v.via_agent && v.ended.is_none() && v.agent_connected)
    });
    // A page opened (or reloaded) mid-session asks what is shared, once
    // its socket is open (and so joined: the join goes first). The view
    // may come from the API before the socket opens, and a message sent
    // then is dropped; each new socket asks again.
    let ask = Memo::new(move |_| choosing.get() && link.get() == Link::Open);
    Effect::new(move |asked: Option<bool>| {
        let now = ask.get();
        if now && asked != Some(true) {
            send_share_choice.run(tandem_protocol::sharing::ShareChoice::Tell);
        }
        now
    });
    let send_file_answer = Callback::new(move |(id, answer)| {
        if let Some(signal) = stored.get_value().signal.borrow().clone() {
            signal.send(&ClientMessage::FileAnswer { id, answer });
        }
    });
    let helper_name = leptos::prelude::Signal::derive(move || {
        session
            .get()
            .map(|v| v.helper.display_name)
            .unwrap_or_else(|| "Your helper".into())
    });
    // While shared, and the helper may draw.
    let drawing = Memo::new(move |_| {
        session.get().is_some_and(|v| {
            v.annotation_enabled
                && v.ended.is_none()
                && v.mode.is_some()
                && (v.via_agent || has_stream.get())
        })
    });
    // What this page shares, with the helper's strokes over it.
    let preview = move || {
        has_stream.get();
        let live = session
            .get()
            .is_some_and(|v| !v.via_agent && v.ended.is_none());
        let stream = stored
            .get_value()
            .stream
            .borrow()
            .as_ref()
            .map(|(s, _)| s.clone());
        stream
            .filter(|_| live)
            .map(|stream| view! { <SharePreview stream sketch /> })
    };

    view! {
        <section class="page share-page" aria-labelledby="share-session-title">
            <h1 id="share-session-title">"Get help"</h1>
            {move || session.get().and_then(|v| sharer_indicator(&v)).map(|text| view! {
                <p class="share-indicator" role="status" id="share-indicator">{text}</p>
            })}
            {move || clipboard_text.get().map(|text| view! {
                <p class="notice" role="alert" id="clipboard-notice">{text}</p>
            })}
            <SharerFileNotice watch=file helper=helper_name answer=send_file_answer />
            <p class="status-line" role="status" id="session-status">
                {move || session.get().map(|v| sharer_status(&v, left())).unwrap_or_else(|| "Loading…".into())}
                {move || (link.get() == Link::Retrying).then_some(" (reconnecting to the server…)")}
            </p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || session.get().map(|v| view! { <IdentityCardView card=v.helper label="Your helper" /> })}
            {move || session.get().map(|v| if v.via_agent {
                let agent = if v.agent_connected { "is connected" } else { "is not connected yet" };
                view! { <p class="muted" id="agent-note">"The Tandem agent on this device shares your screen, and your keyboard and mouse only if you allow full control. The agent " {agent} "."</p> }.into_any()
            } else {
                view! { <p class="muted">"This browser shares your screen only. Keyboard and mouse control needs the Tandem agent on this device."</p> }.into_any()
            })}
            {buttons}
            {move || choosing.get().then(|| view! {
                <SharerShareChoice shared windows send=send_share_choice />
            })}
            {preview}
            {move || drawing.get().then(|| view! { <SharerDrawingControls send=send_drawing off=drawing_off /> })}
            {move || chat_visible.get().then(|| view! { <ChatPanel state=chat send=send_chat /> })}
        </section>
    }
}

/// `left`: how long the helper, if away, has to come back (milliseconds).
fn sharer_status(view: &SessionView, left: Option<u64>) -> String {
    if let Some(reason) = &view.ended {
        return format!("Session ended. {}", reason.message());
    }
    if !view.helper_connected {
        return format!(
            "The helper's connection dropped. Waiting for them to come back…{}",
            crate::components::session::away::left_text(left)
        );
    }
    match view.phase {
        Phase::SharerJoined => "Connected to your helper. Waiting for their request…".into(),
        Phase::WaitingForConsent => "Your helper is asking for permission.".into(),
        Phase::Active => "Sharing.".into(),
        Phase::Paused => "Paused: your helper sees nothing and cannot act.".into(),
        _ => String::new(),
    }
}

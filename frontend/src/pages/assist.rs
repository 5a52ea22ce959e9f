//! The helper's side: "Assist someone" and `/sessions/:id`, the session
//! view with the code, the status line, the sharer's card, the mode choice,
//! the sharer's screen and Leave.

use crate::api::{self, SessionAction};
use crate::components::layout::{set_title, use_full_bleed};
use crate::components::session::media_watch::{MediaWatch, media_down};
use crate::components::session::steps::{CodePanel, ConnectionSteps};
use crate::components::session::workspace::{elapsed, quality};
use crate::components::session::{
    ChatPanel, ChatState, IdentityCardView, TicketField, VideoView, chat_open, helper_status,
};
use crate::components::session::{ConnectionDetails, SessionWho};
use crate::routes::AppRoute;
use crate::rtc::peer::{IceSetup, Peer, PeerSlot, add_remote_candidate};
use crate::rtc::remote::{AgentView, Remote, apply};
use crate::rtc::signal::{Link, Signal};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::cell::RefCell;
use std::rc::Rc;
use tandem_protocol::SessionId;
use tandem_protocol::devices::Compliance;
use tandem_protocol::input::{Control, SpecialKeys};
use tandem_protocol::session::{ControlUnavailable, IssuedCode, Mode, Phase, SessionView};
use tandem_protocol::signal::ServerMessage;
use web_sys::MediaStream;

/// The last code this tab was given; codes are shown in the tab that got
/// them (kept in its session storage while valid) and never sent again.
#[derive(Debug, Clone, Copy)]
pub struct IssuedCodes(pub RwSignal<Option<IssuedCode>>);

pub fn provide_issued_codes() {
    provide_context(IssuedCodes(RwSignal::new(None)));
}

/// Gets a new session with its code and opens it (in place of the current
/// page when `replace`: "New code" after an expired one).
async fn start_session(
    codes: IssuedCodes,
    navigate: &impl Fn(&str, NavigateOptions),
    replace: bool,
    error: RwSignal<Option<String>>,
) {
    match api::assist().await {
        Ok(issued) => {
            let href = AppRoute::Session {
                id: issued.session.id.clone(),
            }
            .href();
            codes.0.set(Some(issued));
            navigate(
                &href,
                NavigateOptions {
                    replace,
                    ..NavigateOptions::default()
                },
            );
        }
        Err(e) => error.set(Some(e.message())),
    }
}

/// "Assist someone": gets a code and opens the session view.
#[component]
pub fn AssistButton() -> impl IntoView {
    let codes = expect_context::<IssuedCodes>();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let start = move |_| {
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            start_session(codes, &navigate, false, error).await;
            busy.set(false);
        });
    };
    view! {
        <div class="assist">
            <button type="button" class="primary" on:click=start disabled=move || busy.get()>
                "Assist someone"
            </button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}

/// `/sessions/:id`: the helper's session view. A new id (after "New
/// code") is a new session: everything below starts afresh.
#[component]
pub fn AssistPage() -> impl IntoView {
    use_full_bleed();
    let params = use_params_map();
    let id = Memo::new(move |_| SessionId(params.with(|p| p.get("id").unwrap_or_default())));
    move || {
        let id = id.get();
        view! { <AssistSession id=id /> }
    }
}

#[component]
fn AssistSession(id: SessionId) -> impl IntoView {
    let codes = expect_context::<IssuedCodes>();
    let code = codes
        .0
        .get_untracked()
        .filter(|c| c.session.id == id)
        .map(|c| c.code);
    let session = RwSignal::new(None::<SessionView>);
    let left = crate::components::session::away::time_left(session);
    let error = RwSignal::new(None::<String>);
    let link = RwSignal::new(Link::Connecting);
    let media = RwSignal::new(String::new());
    let stream = RwSignal::new_local(None::<MediaStream>);
    let servers: Rc<RefCell<IceSetup>> = Rc::default();
    let peer: PeerSlot = Rc::default();
    let remote = StoredValue::new_local(Remote::default());
    let agent = RwSignal::new(AgentView::default());
    let watch = MediaWatch::start(peer.clone());
    let (now, media_stats) = (watch.now, watch.stats);
    let just_joined = Rc::new(std::cell::Cell::new(false));
    let chat = ChatState::default();

    let signal = {
        let (servers, peer, just_joined) = (servers.clone(), peer.clone(), just_joined.clone());
        let signal_slot: Rc<RefCell<Option<Signal>>> = Rc::default();
        let slot = signal_slot.clone();
        let signal = Signal::connect(
            id.clone(),
            move |message| {
                let Some(signal) = slot.borrow().clone() else {
                    return;
                };
                match message {
                    ServerMessage::Joined {
                        ice_servers,
                        ice_transport_policy,
                        ..
                    } => {
                        *servers.borrow_mut() = IceSetup {
                            servers: ice_servers,
                            policy: ice_transport_policy,
                        };

                        // The server's state follows; it decides whether this
                        // (re)join needs a fresh offer.
                        just_joined.set(true);
                    }
                    ServerMessage::State { session: view } => {
                        let ended = view.ended.is_some();
                        // Back after a drop: with the picture still coming,
                        // nothing to do; stopped (the network may have
                        // changed), ICE again on the connection this page
                        // has; after a reload, or first here while media
                        // already flows, a fresh offer. Once.
                        if just_joined.replace(false) && view.media_allowed() {
                            let (restartable, down) = (
                                peer.borrow().as_ref().is_some_and(|p| p.can_restart()),
                                media_down(watch.silent_untracked(), &media.get_untracked()),
                            );
                            if !restartable {
                                signal.send(&tandem_protocol::signal::ClientMessage::Renegotiate);
                            } else if down {
                                signal.send(&tandem_protocol::signal::ClientMessage::RestartIce);
                            }
                        }
                        session.set(Some(*view));
                        if ended {
                            peer.borrow_mut().take();
                            stream.set(None);
                            signal.close();
                        }
                    }
                    ServerMessage::Offer { sdp }
                        if peer
                            .borrow()
                            .as_ref()
                            .is_some_and(|p| p.restarts_with(&sdp)) =>
                    {
                        // The device's network changed and it restarted
                        // ICE: this connection answers, nothing is torn down.
                        let current = peer.borrow().clone();
                        let signal = signal.clone();
                        spawn_local(async move {
                            if let Some(p) = current
                                && let Err(e) = p.answer(&signal, &sdp).await
                            {
                                error.set(Some(format!("Cannot show the screen: {e}")));
                            }
                        });
                    }
                    ServerMessage::Offer { sdp } => {
                        // A failed connection (a long cut, a network change
                        // on this side) asks the device for a fresh offer:
                        // the same session and consent, a new path.
                        let again = signal.clone();
                        let on_state = Rc::new(move |s: String| {
                            if s == "failed" {
                                again.send(&tandem_protocol::signal::ClientMessage::Renegotiate);
                            }
                            media.set(s);
                        });
                        let created = Peer::new(&servers.borrow(), &signal, on_state);
                        match created {
                            Ok(p) => {
                                p.on_stream(Rc::new(move |s: MediaStream| stream.set(Some(s))));
                                // An agent's connection carries the input
                                // and control channels too.
                                remote.with_value(Remote::reset);
                                agent.set(AgentView::default());
                                let on_control: Rc<dyn Fn(Control)> =
                                    Rc::new(move |c| agent.update(|a| apply(a, c)));
                                p.on_data_channel(Rc::new(move |channel| {
                                    let on_control = on_control.clone();
                                    remote.with_value(|r| r.adopt(channel, on_control));
                                }));
                                // In the slot before negotiating: candidates
                                // arriving meanwhile must reach this peer.
                                *peer.borrow_mut() = Some(p.clone());
                                let signal = signal.clone();
                                spawn_local(async move {
                                    if let Err(e) = p.answer(&signal, &sdp).await {
                                        error.set(Some(format!("Cannot show the screen: {e}")));
                                    }
                                });
                            }
                            Err(e) => error.set(Some(format!("Cannot show the screen: {e}"))),
                        }
                    }
                    ServerMessage::Ice { candidate } => add_remote_candidate(&peer, candidate),
                    ServerMessage::Chat { text, at, .. } => {
                        let who = session
                            .get_untracked()
                            .and_then(|v| v.sharer.map(|s| s.display_name))
                            .unwrap_or_else(|| "Sharer".into());
                        chat.receive(who, text, at.0);
                    }
                    ServerMessage::Error { problem } if !chat.refused(&problem) => {
                        leptos::logging::warn!("signaling: {}", problem.message());
                    }
                    _ => {}
                }
            },
            move |state| link.set(state),
        );
        *signal_slot.borrow_mut() = Some(signal.clone());
        signal
    };
    {
        let (signal, peer) = (signal.clone(), peer.clone());
        let cleanup = send_wrapper::SendWrapper::new(move || {
            signal.close();
            peer.borrow_mut().take();
        });
        on_cleanup(move || (*cleanup)());
    }
    {
        let id = id.clone();
        spawn_local(async move {
            match api::session(&id).await {
                Ok(view) => {
                    if session.get_untracked().is_none() {
                        session.set(Some(view));
                    }
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    }

    let act = {
        let id = id.clone();
        move |action: SessionAction| {
            let id = id.clone();
            spawn_local(async move {
                match api::session_action(&id, action).await {
                    Ok(view) => {
                        error.set(None);
                        session.set(Some(view));
                    }
                    Err(e) => error.set(Some(e.message())),
                }
            });
        }
    };

    let start_new = {
        let navigate = use_navigate();
        move || {
            let navigate = navigate.clone();
            spawn_local(async move { start_session(codes, &navigate, true, error).await });
        }
    };
    let again = {
        let start_new = start_new.clone();
        move |_| start_new()
    };
    let new_code = Callback::new(move |()| start_new());
    let code_panel = view! { <CodePanel id=id.clone() session code now new_code /> };

    let choices = {
        let act = act.clone();
        move || {
            let view = session.get()?;
            let can_choose = view.phase == Phase::SharerJoined
                || (view.phase == Phase::Active && view.mode == Some(Mode::View));
            can_choose.then(|| {
                let (view_act, control_act) = (act.clone(), act.clone());
                let unavailable = view.control_unavailable;
                view! {
                    <span class="mode-choice" role="group" aria-label="How to help">
                        {(view.phase == Phase::SharerJoined).then(|| view! {
                            <button type="button" id="request-view" on:click=move |_| view_act(SessionAction::Request(Mode::View))>
                                "Screen sharing"
                            </button>
                        })}
                        {view.may_request_control.then(|| view! {
                            <button type="button" id="request-control" on:click=move |_| control_act(SessionAction::Request(Mode::Control))>
                                "Request full control"
                            </button>
                        })}
                        {unavailable.map(|why| view! {
                            <span class="control-unavailable" id="control-unavailable" role="note">
                                <button type="button" disabled=true aria-describedby="control-why">"Request full control"</button>
                                <span id="control-why">{why.message()}</span>
                            </span>
                        })}
                    </span>
                }
            })
        }
    };

    // Keyboard and mouse go out only while both the server and the agent
    // say full control.
    let control = leptos::prelude::Signal::derive(move || {
        session.get().is_some_and(|v| {
            v.via_agent && v.phase == Phase::Active && v.mode == Some(Mode::Control)
        }) && agent.get().mode == Some(Mode::Control)
    });
    // The picture shows only while it is live: never a stale frame while
    // paused or after the end, never an empty box before.
    let live = leptos::prelude::Signal::derive(move || {
        stream.with(Option::is_some)
            && session
                .get()
                .is_some_and(|v| v.media_allowed() && v.ended.is_none())
    });
    let special_keys = leptos::prelude::Signal::derive(move || {
        session
            .get()
            .and_then(|v| v.device)
            .map(|d| SpecialKeys::for_os(&d.os).to_vec())
            .unwrap_or_default()
    });
    let clipboard_limit =
        leptos::prelude::Signal::derive(move || session.get().and_then(|v| v.clipboard_max_bytes));
    let file_limit =
        leptos::prelude::Signal::derive(move || session.get().and_then(|v| v.file_max_bytes));
    let navigate = use_navigate();
    let signal = StoredValue::new_local(signal);
    // No media arriving (Chromium may still call the connection
    // connected): the signaling socket is suspect too.
    Effect::new(move |_| {
        let down = media_down(watch.silent(), &media.get());
        signal.with_value(|s| s.set_media_down(down));
    });
    let send_chat = Callback::new(move |text: String| {
        signal.with_value(|s| s.send(&tandem_protocol::signal::ClientMessage::Chat { text }));
    });
    let chat_visible = Memo::new(move |_| session.get().is_some_and(|v| chat_open(&v)));
    // The side panel (who, device, chat, ticket) folds away; unread chat
    // lines then show on its button.
    let panel_open = RwSignal::new(true);
    Effect::new(move |_| {
        if panel_open.get() {
            chat.seen();
        } else {
            chat.visible.set(false);
        }
    });
    let details_open = RwSignal::new(false);
    let lost_before = RwSignal::new(None::<i64>);
    let quality_now = Memo::new(move |_| {
        let stats = media_stats.get()?;
        let q = quality(&stats, lost_before.get_untracked());
        lost_before.set(Some(stats.packets_lost));
        Some(q)
    });
    // The ticket field appears once, with the ticket the server knows.
    let ticket_for = Memo::new(move |_| session.get().map(|v| v.id));
    let leave = {
        let act = act.clone();
        move |_| {
            act(SessionAction::Leave);
            signal.with_value(Signal::close);
        }
    };
    // Where the eyes and the keyboard go next after each change: the next
    // thing to do, never the page's body.
    Effect::new(move |before: Option<Option<(Phase, Option<Mode>, bool)>>| {
        let key = session.get().map(|v| (v.phase, v.mode, v.ended.is_some()));
        if before.is_some() && before != Some(key) {
            let target = match key {
                Some((_, _, true)) => "after-end",
                Some((Phase::SharerJoined, _, _)) => "request-view",
                Some((Phase::Active, Some(Mode::Control), _)) => "remote-surface",
                Some((Phase::Active, _, _)) if live.get_untracked() => "remote-surface",
                _ => "session-status",
            };
            request_animation_frame(move || focus_by_id(target));
        }
        key
    });
    Effect::new(move |_| {
        let title = match session.get() {
            Some(v) if v.ended.is_some() => "Session ended".to_owned(),
            Some(v) => match v.sharer {
                Some(s) => format!("Helping {}", s.display_name),
                None => "Assist someone".to_owned(),
            },
            None => "Session".to_owned(),
        };
        set_title(&title);
    });

    let timer = move || {
        now.track();
        let view = session.get()?;
        (view.ended.is_none() && view.phase != Phase::WaitingForSharer).then(|| {
            let since = view.created_at.0;
            view! {
                <span class="ws-timer" id="session-timer" role="timer" aria-label="Session time">
                    {elapsed(crate::format::now_ms() - since)}
                </span>
            }
        })
    };
    let quality_button = move || {
        let q = quality_now.get()?;
        Some(view! {
            <button type="button" id="quality-button" class=q.class()
                aria-expanded=move || details_open.get().to_string()
                aria-controls="connection-details"
                on:click=move |_| details_open.update(|o| *o = !*o)>
                "Connection: " {q.label()}
            </button>
        })
    };
    let details = view! { <ConnectionDetails open=details_open media_stats agent /> };
    let has_picture = leptos::prelude::Signal::derive(move || stream.with(Option::is_some));
    let progress = view! { <ConnectionSteps session has_picture now /> };
    let held = move || {
        let view = session.get()?;
        let text = match (view.phase, view.ended.as_ref()) {
            (_, Some(reason)) => format!("Session ended. {}", reason.message()),
            (Phase::Paused, _) => {
                "The sharer paused the session. Nothing is shown or sent until they resume."
                    .to_owned()
            }
            _ => return None,
        };
        let ended = view.ended.is_some();
        let navigate = navigate.clone();
        let again = again.clone();
        Some(view! {
            <section class=if ended { "held ended" } else { "held paused" } id="held-state" aria-live="polite">
                <p>{text}</p>
                {ended.then(|| view! {
                    <div class="held-actions">
                        <button type="button" id="after-end" class="primary" on:click=again>"Assist someone again"</button>
                        <button type="button" on:click=move |_| navigate(&AppRoute::Devices.href(), NavigateOptions::default())>
                            "Back to devices"
                        </button>
                    </div>
                })}
            </section>
        })
    };
    let mode_badge = move || {
        let view = session.get()?;
        let text = match (view.phase, view.mode) {
            (_, _) if view.ended.is_some() => return None,
            (Phase::Paused, _) => "Paused",
            (_, Some(Mode::Control)) => "Full control",
            (_, Some(Mode::View)) => "View only",
            _ => return None,
        };
        Some(view! { <span class="mode-badge" id="mode-badge">{text}</span> })
    };
    let lead: ChildrenFn =
        std::sync::Arc::new(move || view! { {mode_badge}{choices.clone()} }.into_any());

    view! {
        <section class="workspace" id="workspace" aria-labelledby="session-title">
            <header class="ws-bar">
                <h1 id="session-title" class="ws-title">"Assist"</h1>
                <SessionWho session />
                <p class="ws-status" role="status" id="session-status" tabindex="-1">
                    {move || session.get().map(|v| {
                        let media = media.get();
                        // Only the agent promises a frame a second; a browser
                        // sharing a still screen may send none for longer.
                        let silent = v.via_agent && watch.silent();
                        let media = if media == "connected" && silent {
                            "disconnected".to_owned()
                        } else {
                            media
                        };
                        helper_status(&v, &media, left())
                    }).unwrap_or_else(|| "Loading…".into())}
                    {move || (link.get() == Link::Retrying).then_some(" (reconnecting to the server…)")}
                </p>
                {timer}
                {quality_button}
                <button type="button" id="panel-toggle" aria-controls="side-panel"
                    aria-expanded=move || panel_open.get().to_string()
                    on:click=move |_| panel_open.update(|o| *o = !*o)>
                    {move || if panel_open.get() { "Hide panel".to_owned() } else {
                        match chat.unread.get() {
                            0 => "Show panel".to_owned(),
                            n => format!("Chat · {n} unread"),
                        }
                    }}
                </button>
                {move || {
                    let ended = session.get().is_some_and(|v| v.ended.is_some());
                    let leave = leave.clone();
                    (!ended).then(|| view! { <button type="button" class="danger" id="leave-button" on:click=leave>"Leave"</button> })
                }}
            </header>
            {details}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="ws-body">
                <div class="ws-main">
                    <VideoView stream=stream control=control remote=remote agent=agent
                        special_keys=special_keys clipboard_limit=clipboard_limit file_limit=file_limit
                        live=live lead=lead />
                    {code_panel}
                    {progress}
                    {held}
                </div>
                <aside class="ws-side" id="side-panel" hidden=move || !panel_open.get() aria-label="Session details and chat">
                    {move || session.get().and_then(|v| v.sharer).map(|card| view! {
                        <IdentityCardView card=card label="Sharer" />
                    })}
                    {move || session.get().and_then(|v| v.device).map(|device| view! {
                        <section class="device-card" aria-label="Device">
                            <p><span class="host">{device.shown_name()}</span> " · " {device.os.clone()} " " {device.os_version.clone()}</p>
                            <p id="device-trust" class=if device.enrolled { "" } else { "warning" }>
                                {if device.enrolled {
                                    "Enrolled by your organization.".to_owned()
                                } else {
                                    "Not enrolled: its name, system and version are what the device says about itself.".to_owned()
                                }}
                                {device.primary_user.clone().map(|u| format!(" Paired to {u}."))}
                            </p>
                            <p class=if device.compliance == Compliance::Compliant { "" } else { "warning" }>
                                "Compliance: " {device.compliance.label().to_lowercase()}
                                {(device.compliance != Compliance::Compliant).then_some(". You can still help.")}
                            </p>
                        </section>
                    })}
                    {move || (session.get().and_then(|v| v.control_unavailable) == Some(ControlUnavailable::NeedsAgent)).then(|| view! {
                        <section class="agent-help" aria-labelledby="agent-help-title">
                            <h2 id="agent-help-title">"Getting full control"</h2>
                            <p>"The sharer installs the Tandem agent on this device and starts it. The agent opens a page that pairs their browser with the device; a new code entered there gives a session in which you may ask for full control."</p>
                        </section>
                    })}
                    {move || chat_visible.get().then(|| view! { <ChatPanel state=chat send=send_chat /> })}
                    {move || ticket_for.get().map(|id| view! {
                        <TicketField id=id initial=session.get_untracked().and_then(|v| v.ticket) />
                    })}
                </aside>
            </div>
        </section>
    }
}

/// Moves the keyboard focus to the element with this id, if it is there.
fn focus_by_id(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(element) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

//! The helper's side: "Assist someone" and `/sessions/:id`, the session
//! view with the code, the status line, the sharer's card, the mode choice,
//! the sharer's screen and Leave.

use crate::api::{self, SessionAction};
use crate::components::session::{
    ChatPanel, ChatState, IdentityCardView, TicketField, VideoView, chat_open, helper_status,
};
use crate::routes::AppRoute;
use crate::rtc::peer::{Peer, PeerSlot, add_remote_candidate};
use crate::rtc::remote::{AgentView, Remote, apply};
use crate::rtc::signal::{Link, Signal};
use crate::rtc::stats::{self, MediaStats};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::cell::RefCell;
use std::rc::Rc;
use tandem_protocol::SessionId;
use tandem_protocol::devices::Compliance;
use tandem_protocol::input::Control;
use tandem_protocol::session::{IssuedCode, Mode, Phase, SessionView};
use tandem_protocol::signal::{IceServer, ServerMessage};
use web_sys::MediaStream;

/// The last code this tab was given; codes are shown once and never stored.
#[derive(Debug, Clone, Copy)]
pub struct IssuedCodes(pub RwSignal<Option<IssuedCode>>);

pub fn provide_issued_codes() {
    provide_context(IssuedCodes(RwSignal::new(None)));
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
            match api::assist().await {
                Ok(issued) => {
                    let href = AppRoute::Session {
                        id: issued.session.id.0.clone(),
                    }
                    .href();
                    codes.0.set(Some(issued));
                    navigate(&href, NavigateOptions::default());
                }
                Err(e) => error.set(Some(e.message())),
            }
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

fn seconds_left(view: &SessionView) -> Option<i64> {
    let at = view.code_expires_at?;
    Some(
        ((at.0 as f64 - js_sys::Date::now()) / 1000.0)
            .ceil()
            .max(0.0) as i64,
    )
}

/// `/sessions/:id`: the helper's session view.
#[component]
pub fn AssistPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    let codes = expect_context::<IssuedCodes>();
    let code = codes
        .0
        .get_untracked()
        .filter(|c| c.session.id.0 == id)
        .map(|c| c.code);
    let session = RwSignal::new(None::<SessionView>);
    let error = RwSignal::new(None::<String>);
    let link = RwSignal::new(Link::Connecting);
    let media = RwSignal::new(String::new());
    let stream = RwSignal::new_local(None::<MediaStream>);
    let now = RwSignal::new(0u32);
    let servers: Rc<RefCell<Vec<IceServer>>> = Rc::default();
    let peer: PeerSlot = Rc::default();
    let remote = StoredValue::new_local(Remote::default());
    let agent = RwSignal::new(AgentView::default());
    let media_stats = RwSignal::new(None::<MediaStats>);
    let just_joined = Rc::new(std::cell::Cell::new(false));
    let chat = ChatState::default();

    let stats_peer = peer.clone();
    if let Ok(handle) = set_interval_with_handle(
        move || {
            now.update(|n| *n += 1);
            // The overlay's figures, once a second while connected.
            if let Some(p) = stats_peer.borrow().clone() {
                spawn_local(async move {
                    let before = media_stats.get_untracked();
                    if let Some(reading) = stats::read(p.connection(), before.as_ref()).await {
                        media_stats.set(Some(reading));
                    }
                });
            }
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }

    let signal = {
        let (servers, peer, just_joined) = (servers.clone(), peer.clone(), just_joined.clone());
        let signal_slot: Rc<RefCell<Option<Signal>>> = Rc::default();
        let slot = signal_slot.clone();
        let signal = Signal::connect(
            SessionId(id.clone()),
            move |message| {
                let Some(signal) = slot.borrow().clone() else {
                    return;
                };
                match message {
                    ServerMessage::Joined { ice_servers, .. } => {
                        *servers.borrow_mut() = ice_servers;
                        // The server's state follows; it decides whether this
                        // (re)join needs a fresh offer.
                        just_joined.set(true);
                    }
                    ServerMessage::State { session: view } => {
                        let ended = view.ended.is_some();
                        // Back after a drop or a reload (or first here while
                        // media already flows): ask for a fresh offer, once.
                        if just_joined.replace(false) && view.media_allowed() {
                            signal.send(&tandem_protocol::signal::ClientMessage::Renegotiate);
                        }
                        session.set(Some(*view));
                        if ended {
                            peer.borrow_mut().take();
                            stream.set(None);
                            signal.close();
                        }
                    }
                    ServerMessage::Offer { sdp } => {
                        let on_state = Rc::new(move |s: String| media.set(s));
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

    let code_panel = move || {
        let view = session.get()?;
        (view.phase == Phase::WaitingForSharer && view.ended.is_none()).then(|| {
            now.track();
            let left = seconds_left(&view).unwrap_or(0);
            let code = code.clone();
            view! {
                <section class="code-panel" aria-label="Security code">
                    {match code {
                        Some(code) => {
                            let copy_text = code.clone();
                            view! {
                                <p>"Read this code to the person you help:"</p>
                                <p class="code" id="security-code">{code}</p>
                                <button type="button" on:click=move |_| {
                                    if let Some(w) = web_sys::window() {
                                        let _ = w.navigator().clipboard().write_text(&copy_text);
                                    }
                                }>"Copy code"</button>
                            }.into_any()
                        }
                        None => view! {
                            <p>"The code is shown only once. Leave and assist again for a new one."</p>
                        }.into_any(),
                    }}
                    <p class="countdown" role="timer">
                        {format!("Expires in {}:{:02}", left / 60, left % 60)}
                    </p>
                </section>
            }
        })
    };

    let choices = {
        let act = act.clone();
        move || {
            let view = session.get()?;
            let can_choose = view.phase == Phase::SharerJoined
                || (view.phase == Phase::Active && view.mode == Some(Mode::View));
            can_choose.then(|| {
                let (view_act, control_act) = (act.clone(), act.clone());
                view! {
                    <div class="mode-choice" role="group" aria-label="How to help">
                        {(view.phase == Phase::SharerJoined).then(|| view! {
                            <button type="button" on:click=move |_| view_act(SessionAction::Request(Mode::View))>
                                "Screen sharing"
                            </button>
                        })}
                        {view.may_request_control.then(|| view! {
                            <button type="button" on:click=move |_| control_act(SessionAction::Request(Mode::Control))>
                                "Request full control"
                            </button>
                        })}
                    </div>
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
    let navigate = use_navigate();
    let signal = StoredValue::new_local(signal);
    let send_chat = Callback::new(move |text: String| {
        signal.with_value(|s| s.send(&tandem_protocol::signal::ClientMessage::Chat { text }));
    });
    let chat_visible = Memo::new(move |_| session.get().is_some_and(|v| chat_open(&v)));
    // The ticket field appears once, with the ticket the server knows.
    let ticket_for = Memo::new(move |_| session.get().map(|v| v.id.0));
    let leave = {
        let act = act.clone();
        move |_| {
            act(SessionAction::Leave);
            signal.with_value(Signal::close);
        }
    };

    view! {
        <section class="page session-page" aria-labelledby="session-title">
            <h1 id="session-title">"Assist"</h1>
            <p class="status-line" role="status" id="session-status">
                {move || session.get().map(|v| helper_status(&v, &media.get())).unwrap_or_else(|| "Loading…".into())}
                {move || (link.get() == Link::Retrying).then_some(" (reconnecting to the server…)")}
            </p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {code_panel}
            {move || session.get().and_then(|v| v.sharer).map(|card| view! {
                <IdentityCardView card=card label="Sharer" />
            })}
            {move || session.get().and_then(|v| v.device).map(|device| view! {
                <section class="device-card" aria-label="Device">
                    <p>{device.name.clone()} " · " {device.os.clone()} " " {device.os_version.clone()}</p>
                    {(device.compliance != Compliance::Compliant).then(|| view! {
                        <p class="warning" role="note">
                            "This device is " {device.compliance.label().to_lowercase()} ". You can still help."
                        </p>
                    })}
                </section>
            })}
            {choices}
            <VideoView stream=stream control=control remote=remote agent=agent media_stats=media_stats />
            {move || chat_visible.get().then(|| view! { <ChatPanel state=chat send=send_chat /> })}
            {move || ticket_for.get().map(|id| view! {
                <TicketField id=id initial=session.get_untracked().and_then(|v| v.ticket) />
            })}
            <div class="session-actions">
                {move || {
                    let ended = session.get().is_some_and(|v| v.ended.is_some());
                    let leave = leave.clone();
                    let navigate = navigate.clone();
                    if ended {
                        view! {
                            <button type="button" on:click=move |_| navigate(&AppRoute::Devices.href(), NavigateOptions::default())>
                                "Back to devices"
                            </button>
                        }.into_any()
                    } else {
                        view! { <button type="button" class="danger" on:click=leave>"Leave"</button> }.into_any()
                    }
                }}
            </div>
        </section>
    }
}

//! The sharer's side: `/share` (enter the code; its session page is
//! `share_session.rs`). This browser shares view only, with
//! getDisplayMedia; a browser paired with the device's agent
//! (`/share?pair=…`) leaves sharing to the agent.

use crate::api::{self};
use crate::components::layout::set_title;
use crate::components::session::workspace;
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use tandem_protocol::DeviceId;
use tandem_protocol::agent::PairingPreview;

/// `/share`: the sharer types the code the helper read out. Opened by the
/// agent as `/share?pair=…`, it first pairs this browser with the device
/// and keeps the device in the URL (`/share?device=…&name=…`), so the
/// session is shared by the agent, with full control possible.
#[component]
pub fn SharePage() -> impl IntoView {
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let query = use_query_map();
    let device = move || query.read().get("device").map(DeviceId);
    let device_name = move || query.read().get("name");
    // A pairing link pairs nothing by itself: the sharer sees the device
    // and confirms it first.
    let pairing = RwSignal::new(None::<(String, PairingPreview)>);
    if let Some(nonce) = query.read_untracked().get("pair") {
        spawn_local(async move {
            match api::pairing_preview(&nonce).await {
                Ok(preview) => pairing.set(Some((nonce, preview))),
                Err(e) => error.set(Some(format!(
                    "This browser cannot be paired with your device: {}",
                    e.message()
                ))),
            }
        });
    }
    let confirm_pairing = {
        let navigate = navigate.clone();
        move |_| {
            let Some((nonce, _)) = pairing.get_untracked() else {
                return;
            };
            let navigate = navigate.clone();
            spawn_local(async move {
                match api::pair(&nonce).await {
                    Ok(paired) => {
                        pairing.set(None);
                        let href = format!(
                            "{}?device={}&name={}",
                            AppRoute::Share.href(),
                            js_sys::encode_uri_component(&paired.device.0),
                            js_sys::encode_uri_component(&paired.device_name),
                        );
                        navigate(
                            &href,
                            NavigateOptions {
                                replace: true,
                                ..NavigateOptions::default()
                            },
                        );
                    }
                    Err(e) => error.set(Some(format!(
                        "This browser could not be paired with your device: {}",
                        e.message()
                    ))),
                }
            });
        }
    };
    let cancel_pairing = {
        let navigate = navigate.clone();
        move |_| {
            pairing.set(None);
            navigate(
                &AppRoute::Share.href(),
                NavigateOptions {
                    replace: true,
                    ..NavigateOptions::default()
                },
            );
        }
    };
    let pairing_card = move || {
        let (_, preview) = pairing.get()?;
        let confirm = confirm_pairing.clone();
        let cancel = cancel_pairing.clone();
        request_animation_frame(|| {
            if let Some(q) = document().get_element_by_id("pairing-question")
                && let Ok(q) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(q)
            {
                let _ = q.focus();
            }
        });
        Some(view! {
            <section class="consent pairing" role="alertdialog" aria-labelledby="pairing-question" id="pairing-card">
                <p id="pairing-question" tabindex="-1">
                    "Use this browser to get help on this device?"
                </p>
                <dl class="facts">
                    <dt>"Device"</dt>
                    <dd id="pairing-device">{preview.device_name.clone()}
                        {(!preview.enrolled).then_some(" (name given by the device itself)")}
                    </dd>
                    <dt>"System"</dt>
                    <dd>{format!("{} {}", preview.os, preview.os_version)}</dd>
                    <dt>"Enrollment"</dt>
                    <dd id="pairing-enrollment">{if preview.enrolled {
                        "Enrolled by your organization"
                    } else {
                        "Not enrolled"
                    }}</dd>
                </dl>
                {(!preview.enrolled).then(|| view! {
                    <p class="warning" role="note" id="pairing-warning">
                        "Your organization has not enrolled this device, so nothing vouches for its name. \
                         Pair only if the Tandem agent that opened this page runs on the computer in front of you \
                         and you started it yourself. If a link was sent to you, cancel."
                    </p>
                })}
                <div class="consent-answers">
                    <button type="button" class="primary" id="pairing-confirm" on:click=confirm>"Pair with this device"</button>
                    <button type="button" id="pairing-cancel" on:click=cancel>"Cancel"</button>
                </div>
            </section>
        })
    };
    set_title("Get help");
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let navigate = navigate.clone();
        busy.set(true);
        let device = device();
        spawn_local(async move {
            match api::redeem(&code.get_untracked(), device).await {
                Ok(view) => {
                    let href = AppRoute::ShareSession { id: view.id }.href();
                    navigate(&href, NavigateOptions::default());
                }
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="page share-page" aria-labelledby="share-title">
            <h1 id="share-title">"Get help"</h1>
            {pairing_card}
            {move || device_name().map(|name| view! {
                <p class="paired" role="status" id="paired-device">
                    "Paired with " <strong>{name}</strong> ". The Tandem agent on this device will share your screen."
                </p>
            })}
            <form on:submit=submit>
                <label for="share-code">"Security code from your helper"</label>
                <input
                    id="share-code"
                    name="code"
                    autocomplete="off"
                    autocapitalize="characters"
                    spellcheck="false"
                    maxlength="20"
                    prop:value=move || code.get()
                    on:input=move |e| code.set(event_target_value(&e))
                />
                <button type="submit" class="primary" disabled=move || busy.get()>"Submit"</button>
            </form>
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="share-error">{e}</p> })}
            <PastSessions />
        </section>
    }
}

/// The sharer's own last sessions: who helped, on what, and how it ended.
#[component]
fn PastSessions() -> impl IntoView {
    let sessions = LocalResource::new(api::sessions_as_sharer);
    view! {
        <section class="past-sessions" aria-labelledby="past-title">
            <h2 id="past-title">"Your recent help sessions"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || sessions.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted" id="past-empty">"No help sessions yet."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table id="past-sessions">
                            <thead><tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"Helper"</th>
                                <th scope="col">"Device"</th>
                                <th scope="col">"Length"</th>
                                <th scope="col">"Keyboard and mouse"</th>
                                <th scope="col">"Outcome"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! {
                                    <tr data-session=s.id.0.clone()>
                                        <td><time datetime=crate::format::iso_time(s.started_at.0)>
                                            {crate::format::relative_time(crate::format::now_ms(), s.started_at.0)}
                                        </time></td>
                                        <td>{s.helper_name}</td>
                                        <td>{s.device_name.unwrap_or_else(|| "This browser".into())}</td>
                                        <td>{workspace::elapsed(s.duration_ms)}</td>
                                        <td>{if s.full_control { "Helper had control" } else { "View only" }}</td>
                                        <td>{s.outcome.label()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

use crate::api;
use crate::format::{iso_time, relative_time};
use crate::pages::IssuedCodes;
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use std::collections::HashMap;
use tandem_protocol::DeviceId;
use tandem_protocol::devices::{Compliance, DeviceSummary};

/// The devices list: one row per device, with its compliance state in words
/// (never by colour alone).
#[component]
pub fn DeviceTable(devices: Vec<DeviceSummary>, now_ms: i64) -> impl IntoView {
    if devices.is_empty() {
        return view! { <p class="muted">"There are no devices you can help."</p> }.into_any();
    }
    let count = devices.len();
    // Agent presence (and whether the caller may offer help, which follows
    // who is signed in on the device), kept current while the list is
    // shown: one request for the whole list every 10 s, and only the cells
    // that change update.
    let presence = RwSignal::new(
        devices
            .iter()
            .map(|d| (d.id.clone(), Presence::of(d)))
            .collect::<HashMap<_, _>>(),
    );
    if let Ok(handle) = set_interval_with_handle(
        move || {
            spawn_local(async move {
                let Ok(now) = api::devices().await else {
                    return;
                };
                let changed = presence.with_untracked(|known| {
                    now.iter()
                        .any(|d| known.get(&d.id).is_some_and(|p| *p != Presence::of(d)))
                });
                if changed {
                    presence.update(|known| {
                        for d in now {
                            if let Some(p) = known.get_mut(&d.id) {
                                *p = Presence::of(&d);
                            }
                        }
                    });
                }
            });
        },
        std::time::Duration::from_secs(10),
    ) {
        on_cleanup(move || handle.clear());
    }
    let rows = devices
        .into_iter()
        .map(|device| view! { <DeviceRow device now_ms presence /> })
        .collect_view();
    view! {
        <table class="data devices">
            <caption>{format!("{count} device{}", if count == 1 { "" } else { "s" })}</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Operating system"</th>
                    <th scope="col">"Primary user"</th>
                    <th scope="col">"Enrolled"</th>
                    <th scope="col">"Compliance"</th>
                    <th scope="col">"Last seen"</th>
                    <th scope="col">"Agent"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// What the table keeps current of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Presence {
    online: bool,
    can_offer: bool,
}

impl Presence {
    fn of(device: &DeviceSummary) -> Self {
        Self {
            online: device.online,
            can_offer: device.can_offer,
        }
    }
}

#[component]
fn DeviceRow(
    device: DeviceSummary,
    now_ms: i64,
    presence: RwSignal<HashMap<DeviceId, Presence>>,
) -> impl IntoView {
    let compliance_class = match device.compliance {
        Compliance::Compliant => "badge ok",
        Compliance::NonCompliant => "badge warn",
        Compliance::Unknown => "badge neutral",
    };
    let last_seen = match device.last_seen {
        Some(at) => view! {
            <time datetime=iso_time(at.0) title=iso_time(at.0)>{relative_time(now_ms, at.0)}</time>
        }
        .into_any(),
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    let name = device.shown_name();
    let title = if device.enrolled {
        name.clone()
    } else {
        format!("{name}: not enrolled, so the device gave itself this name")
    };
    view! {
        <tr data-device-id=device.id.0.clone()>
            <th scope="row"><span class="host-name" title=title>{name.clone()}</span></th>
            <td>{format!("{} {}", device.os, device.os_version)}</td>
            <td>{device.primary_user.unwrap_or_else(|| "—".to_owned())}</td>
            <td>{if device.enrolled { "Yes" } else { "No" }}</td>
            <td><span class=compliance_class title=device.compliance.sentence()>{device.compliance.label()}</span></td>
            <td>{last_seen}</td>
            <td><AgentPresence device=device.id.clone() presence enrolled=device.enrolled /></td>
        </tr>
    }
}

/// Whether the device's agent is connected, and the offer when it is and
/// the signed-in user holds "Offer remote assistance" on the device.
#[component]
fn AgentPresence(
    device: DeviceId,
    presence: RwSignal<HashMap<DeviceId, Presence>>,
    enrolled: bool,
) -> impl IntoView {
    let id = device.clone();
    let now = Memo::new(move |_| presence.with(|p| p.get(&id).copied().unwrap_or_default()));
    let online = move || now.with(|p| p.online);
    let offer = move || now.with(|p| p.online && p.can_offer) && enrolled;
    view! {
        <span class="presence">{move || if online() { "Online" } else { "Offline" }}</span>
        {move || offer().then(|| view! { <OfferButton device=device.clone() /> })}
    }
}

/// "Offer remote assistance": starts a session on the device (its agent
/// asks the signed-in user) and opens it with the code to read out.
#[component]
fn OfferButton(device: DeviceId) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let codes = use_context::<IssuedCodes>();
    let navigate = use_navigate();
    let offer = move |_| {
        let (device, navigate) = (device.clone(), navigate.clone());
        busy.set(true);
        spawn_local(async move {
            match api::offer_assistance(&device).await {
                Ok(issued) => {
                    let href = AppRoute::Session {
                        id: issued.session.id.clone(),
                    }
                    .href();
                    if let Some(codes) = codes {
                        codes.0.set(Some(issued));
                    }
                    navigate(&href, NavigateOptions::default());
                }
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        " "
        <button type="button" class="offer" on:click=offer disabled=move || busy.get()>
            "Offer remote assistance"
        </button>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}

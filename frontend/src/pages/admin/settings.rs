use crate::api;
use crate::components::admin::{FormStatus, Outcome};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::settings::{HelperNameDisplay, TenantSettings};

/// A labelled checkbox bound to one boolean setting.
#[component]
fn Toggle(
    id: &'static str,
    label: &'static str,
    form: RwSignal<TenantSettings>,
    get: fn(&TenantSettings) -> bool,
    set: fn(&mut TenantSettings, bool),
) -> impl IntoView {
    view! {
        <div class="check">
            <input
                type="checkbox"
                id=id
                prop:checked=move || form.with(get)
                on:change=move |ev| form.update(|s| set(s, event_target_checked(&ev)))
            />
            <label for=id>{label}</label>
        </div>
    }
}

/// A labelled number input bound to one numeric setting.
#[component]
fn NumberField(
    id: &'static str,
    label: &'static str,
    min: u16,
    max: u16,
    form: RwSignal<TenantSettings>,
    get: fn(&TenantSettings) -> u16,
    set: fn(&mut TenantSettings, u16),
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            type="number"
            id=id
            min=min
            max=max
            prop:value=move || form.with(get).to_string()
            on:input=move |ev| {
                if let Ok(value) = event_target_value(&ev).parse::<u16>() {
                    form.update(|s| set(s, value));
                }
            }
        />
    }
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// "08:30" from minutes after midnight (1440 is "24:00").
fn hh_mm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Minutes after midnight from "08:30"; "00:00" as an end means midnight.
fn minutes_of(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    let (h, m) = (h.parse::<u16>().ok()?, m.get(..2)?.parse::<u16>().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// A labelled time-of-day input bound to minutes after midnight.
#[component]
fn TimeField(
    id: &'static str,
    label: &'static str,
    form: RwSignal<TenantSettings>,
    get: fn(&TenantSettings) -> u16,
    set: fn(&mut TenantSettings, u16),
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            type="time"
            id=id
            prop:value=move || hh_mm(form.with(get).min(23 * 60 + 59))
            on:input=move |ev| {
                if let Some(value) = minutes_of(&event_target_value(&ev)) {
                    form.update(|s| set(s, value));
                }
            }
        />
    }
}

/// `/admin/settings`.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let loaded = LocalResource::new(api::settings);
    let form = RwSignal::new(TenantSettings::default());
    let outcome = RwSignal::new(Outcome::Idle);
    Effect::new(move |_| {
        if let Some(Ok(settings)) = loaded.get() {
            form.set(settings);
        }
    });

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let settings = form.get_untracked();
        if let Err(message) = settings.validate() {
            outcome.set(Outcome::Failed(message));
            return;
        }
        spawn_local(async move {
            outcome.set(match api::save_settings(&settings).await {
                Ok(saved) => {
                    form.set(saved);
                    Outcome::Done("Settings saved. They apply immediately.".into())
                }
                Err(error) => Outcome::Failed(error.message()),
            });
        });
    };

    view! {
        <section class="page" aria-labelledby="settings-title">
            <h1 id="settings-title">"Settings"</h1>
            {move || match loaded.get() {
                Some(Err(error)) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
                None => view! { <p role="status" class="muted">"Loading settings…"</p> }.into_any(),
                Some(Ok(_)) => view! {
                    <form class="stack settings" on:submit=save>
                        <fieldset class="checks">
                            <legend>"Remote help"</legend>
                            <Toggle id="set-enabled" label="Remote help enabled" form
                                get=|s| s.remote_help_enabled set=|s, v| s.remote_help_enabled = v />
                            <Toggle id="set-unenrolled" label="Allow help to unenrolled devices" form
                                get=|s| s.allow_unenrolled set=|s, v| s.allow_unenrolled = v />
                            <Toggle id="set-unattended" label="Allow unattended access" form
                                get=|s| s.allow_unattended set=|s, v| s.allow_unattended = v />
                        </fieldset>
                        <NumberField id="set-code-lifetime" label="Security code lifetime (minutes, at most 10)"
                            min=1 max=10 form
                            get=|s| u16::from(s.code_lifetime_minutes)
                            set=|s, v| s.code_lifetime_minutes = u8::try_from(v).unwrap_or(u8::MAX) />
                        <NumberField id="set-retention" label="Keep session records for (days)"
                            min=1 max=3650 form
                            get=|s| s.retention_days set=|s, v| s.retention_days = v />
                        <label for="set-name-display">"What the sharer sees of the helper"</label>
                        <select
                            id="set-name-display"
                            on:change=move |ev| {
                                let display = HelperNameDisplay::parse(&event_target_value(&ev)).unwrap_or_default();
                                form.update(|s| s.helper_name_display = display);
                            }
                        >
                            <option value="full" selected=move || form.with(|s| s.helper_name_display == HelperNameDisplay::Full)>
                                "Full identity card"
                            </option>
                            <option value="abbreviated" selected=move || form.with(|s| s.helper_name_display == HelperNameDisplay::Abbreviated)>
                                "First name and last initial"
                            </option>
                        </select>
                        <fieldset class="checks">
                            <legend>"In-session features"</legend>
                            <Toggle id="set-chat" label="Chat" form get=|s| s.chat_enabled set=|s, v| s.chat_enabled = v />
                            <Toggle id="set-annotation" label="Annotation: the helper draws over the sharer's screen (pen, highlighter, arrow, laser)" form
                                get=|s| s.annotation_enabled set=|s, v| s.annotation_enabled = v />
                            <Toggle id="set-clipboard" label="Clipboard text between the helper and the device, in full control (the sharer is shown each use)" form
                                get=|s| s.clipboard_enabled set=|s, v| s.clipboard_enabled = v />
                        </fieldset>
                        <NumberField id="set-clipboard-limit" label="Clipboard limit (KiB, 1 to 1024)"
                            min=1 max=1024 form
                            get=|s| u16::try_from(s.clipboard_max_bytes / 1024).unwrap_or(u16::MAX)
                            set=|s, v| s.clipboard_max_bytes = u32::from(v) * 1024 />
                        <fieldset class="checks">
                            <legend>"File transfer"</legend>
                            <Toggle id="set-files" label="Files between the helper and the device, in full control (the sharer accepts each file, seeing its name and size)" form
                                get=|s| s.file_transfer_enabled set=|s, v| s.file_transfer_enabled = v />
                        </fieldset>
                        <NumberField id="set-file-limit" label="File limit (MiB, 1 to 2048)"
                            min=1 max=2048 form
                            get=|s| u16::try_from(s.file_max_mib).unwrap_or(u16::MAX)
                            set=|s, v| s.file_max_mib = u32::from(v) />
                        <fieldset class="checks">
                            <legend>"Network"</legend>
                            <Toggle id="set-relay-only" label="Relay only: media and input go only through the TURN server, never peer to peer" form
                                get=|s| s.relay_only set=|s, v| s.relay_only = v />
                        </fieldset>
                        <fieldset class="checks">
                            <legend>"Elevation"</legend>
                            <Toggle id="set-sign-out" label="Sign the sharer out after a session in which the helper used elevation with full control" form
                                get=|s| s.sign_out_after_elevation set=|s, v| s.sign_out_after_elevation = v />
                        </fieldset>
                        <fieldset class="stack">
                            <legend>"Working hours and review aids"</legend>
                            <label for="set-timezone">"Time zone (IANA name, e.g. Europe/Berlin)"</label>
                            <input id="set-timezone" type="text"
                                prop:value=move || form.with(|s| s.timezone.clone())
                                on:input=move |ev| form.update(|s| s.timezone = event_target_value(&ev)) />
                            <TimeField id="set-hours-start" label="Working hours start" form
                                get=|s| s.working_hours_start set=|s, v| s.working_hours_start = v />
                            <TimeField id="set-hours-end" label="Working hours end" form
                                get=|s| s.working_hours_end set=|s, v| s.working_hours_end = v />
                            <fieldset class="checks days">
                                <legend>"Working days"</legend>
                                {WEEKDAYS.into_iter().enumerate().map(|(i, day)| {
                                    let bit = 1u8 << i;
                                    view! {
                                        <label>
                                            <input type="checkbox" id=format!("set-day-{i}")
                                                prop:checked=move || form.with(|s| s.working_days & bit != 0)
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    form.update(|s| if on { s.working_days |= bit } else { s.working_days &= !bit });
                                                } />
                                            {day}
                                        </label>
                                    }
                                }).collect_view()}
                            </fieldset>
                            <NumberField id="set-devices-per-day" label="Unusual: a helper reaches more devices a day than"
                                min=1 max=1000 form
                                get=|s| s.unusual_devices_per_day set=|s, v| s.unusual_devices_per_day = v />
                            <NumberField id="set-failures-per-day" label="Unusual: refusals or wrong codes a day, at least"
                                min=1 max=1000 form
                                get=|s| s.unusual_failures_per_day set=|s, v| s.unusual_failures_per_day = v />
                        </fieldset>
                        <FormStatus outcome />
                        <button type="submit" class="primary">"Save settings"</button>
                    </form>
                }.into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn times_of_day_round_trip() {
        assert_eq!(hh_mm(8 * 60 + 5), "08:05");
        assert_eq!(minutes_of("18:30"), Some(18 * 60 + 30));
        assert_eq!(minutes_of("24:00"), None);
        assert_eq!(minutes_of("nine"), None);
    }
}

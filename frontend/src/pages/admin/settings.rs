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
                            <Toggle id="set-annotation" label="Annotation and laser pointer" form
                                get=|s| s.annotation_enabled set=|s, v| s.annotation_enabled = v />
                            <Toggle id="set-clipboard" label="Clipboard text" form
                                get=|s| s.clipboard_enabled set=|s, v| s.clipboard_enabled = v />
                        </fieldset>
                        <FormStatus outcome />
                        <button type="submit" class="primary">"Save settings"</button>
                    </form>
                }.into_any(),
            }}
        </section>
    }
}

//! Adding a user with a Tandem account, or editing one.

use super::{FormStatus, Outcome};
use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::admin::{MIN_PASSWORD_CHARS, UserDraft};
use tandem_protocol::directory::UserRow;

/// The add/edit form. `editing` holds the user being edited (`None`: a
/// new user); the page sets it from a row's Edit button. `on_saved` runs
/// after the server accepted the change.
#[component]
pub fn UserForm(editing: RwSignal<Option<UserRow>>, on_saved: Callback<UserRow>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let job = RwSignal::new(String::new());
    let company = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let outcome = RwSignal::new(Outcome::Idle);
    let busy = RwSignal::new(false);
    let email_ref = NodeRef::<leptos::html::Input>::new();

    // Editing someone fills the form and puts the cursor in it.
    Effect::new(move |_| {
        let user = editing.get();
        email.set(user.as_ref().map(|u| u.email.clone()).unwrap_or_default());
        name.set(
            user.as_ref()
                .map(|u| u.display_name.clone())
                .unwrap_or_default(),
        );
        job.set(
            user.as_ref()
                .and_then(|u| u.job_title.clone())
                .unwrap_or_default(),
        );
        company.set(
            user.as_ref()
                .and_then(|u| u.company.clone())
                .unwrap_or_default(),
        );
        password.set(String::new());
        if user.is_some()
            && let Some(input) = email_ref.get_untracked()
        {
            let _ = input.focus();
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = password.get_untracked();
        let draft = UserDraft {
            email: email.get_untracked(),
            display_name: name.get_untracked(),
            job_title: Some(job.get_untracked()),
            company: Some(company.get_untracked()),
            password: (!typed.is_empty()).then_some(typed),
        };
        if let Err(message) = draft.validate() {
            outcome.set(Outcome::Failed(message));
            return;
        }
        let target = editing.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let result = match &target {
                Some(user) => api::update_user(&user.id, &draft).await,
                None => api::create_user(&draft).await,
            };
            match result {
                Ok(user) => {
                    let verb = if target.is_some() { "Saved" } else { "Added" };
                    outcome.set(Outcome::Done(format!(
                        "{verb} \u{201c}{}\u{201d}.",
                        user.display_name
                    )));
                    editing.set(None);
                    on_saved.run(user);
                }
                Err(error) => outcome.set(Outcome::Failed(error.message())),
            }
            busy.set(false);
        });
    };

    let password_hint = move || {
        if editing.with(Option::is_some) {
            format!(
                "Leave blank to keep the current password. A new one needs at least {MIN_PASSWORD_CHARS} characters."
            )
        } else {
            format!(
                "At least {MIN_PASSWORD_CHARS} characters. Without one, the user cannot sign in with a Tandem account until you set one."
            )
        }
    };
    view! {
        <section class="user-form" aria-labelledby="user-form-title">
            <h2 id="user-form-title">
                {move || match editing.get() {
                    Some(user) => format!("Edit \u{201c}{}\u{201d}", user.display_name),
                    None => "Add a user".to_owned(),
                }}
            </h2>
            <form class="stack" on:submit=submit>
                <label for="user-email">"E-mail address"</label>
                <input id="user-email" type="email" autocomplete="off" node_ref=email_ref
                    prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                <label for="user-name">"Name"</label>
                <input id="user-name" maxlength="200" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) />
                <label for="user-job">"Job title (optional)"</label>
                <input id="user-job" maxlength="200" prop:value=move || job.get()
                    on:input=move |ev| job.set(event_target_value(&ev)) />
                <label for="user-company">"Company (optional)"</label>
                <input id="user-company" maxlength="200" prop:value=move || company.get()
                    on:input=move |ev| company.set(event_target_value(&ev)) />
                <label for="user-password">
                    {move || if editing.with(Option::is_some) { "New password (optional)" } else { "Password (optional)" }}
                </label>
                <input id="user-password" type="password" autocomplete="new-password"
                    aria-describedby="user-password-hint" prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev)) />
                <p id="user-password-hint" class="muted small">{password_hint}</p>
                <FormStatus outcome id="user-form-status" />
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if editing.with(Option::is_some) { "Save user" } else { "Add user" }}
                    </button>
                    {move || editing.with(Option::is_some).then(|| view! {
                        <button type="button" on:click=move |_| {
                            editing.set(None);
                            outcome.set(Outcome::Idle);
                        }>"Cancel editing"</button>
                    })}
                </div>
            </form>
        </section>
    }
}

//! `/admin/enrollment`: enrollment tokens, with which agents enroll devices
//! into the organization. A new token is shown once, with a Copy button;
//! the list says which were used, and revoking asks first.

use crate::api;
use crate::components::admin::{ConfirmDelete, FormStatus, Outcome, Time, focus_soon};
use crate::format::now_ms;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::agent::{EnrollmentToken, EnrollmentTokenRow};

/// How long a new token works, in days, as offered.
const LIFETIMES: [(u32, &str); 5] = [
    (1, "1 day"),
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
    (365, "1 year"),
];

const DEFAULT_DAYS: u32 = 7;

/// The server's origin, for the agent's command line.
fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// The token just created, until the admin is done with it.
#[component]
fn NewToken(token: EnrollmentToken, on_done: Callback<()>) -> impl IntoView {
    let copied = RwSignal::new(None::<Result<(), ()>>);
    let value = token.token.clone();
    let copy = move |_| {
        let value = value.clone();
        spawn_local(async move {
            let clipboard = window().navigator().clipboard();
            let written = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&value)).await;
            copied.set(Some(written.map(|_| ()).map_err(|_| ())));
        });
    };
    let command = format!(
        "tandem-agent --server {} --enroll {}",
        origin(),
        token.token
    );
    view! {
        <section class="new-token" aria-labelledby="new-token-title">
            <h2 id="new-token-title" tabindex="-1">
                {format!("New token \u{201c}{}\u{201d}", token.label)}
            </h2>
            <p class="warning">
                <strong>"Copy it now: it will not be shown again."</strong>
                " It enrolls any number of devices until "
                <Time ms=token.expires_at.0 />
                ", unless you revoke it."
            </p>
            <div class="token-line">
                <code id="new-token-value">{token.token.clone()}</code>
                <button type="button" on:click=copy>"Copy"</button>
                <span role="status" class="small">
                    {move || match copied.get() {
                        None => String::new(),
                        Some(Ok(())) => "Copied.".to_owned(),
                        Some(Err(())) => "This browser did not allow copying: select the token and copy it yourself.".to_owned(),
                    }}
                </span>
            </div>
            <p class="muted small">"On the device:"</p>
            <pre class="command"><code>{command}</code></pre>
            <button type="button" on:click=move |_| on_done.run(())>"Done"</button>
        </section>
    }
}

/// Active, expired or revoked, in words and as a badge.
fn state(token: &EnrollmentTokenRow, now: i64) -> (&'static str, &'static str) {
    if token.revoked {
        ("Revoked", "badge warn")
    } else if token.expires_at.0 <= now {
        ("Expired", "badge neutral")
    } else {
        ("Active", "badge ok")
    }
}

#[component]
fn TokenRow(
    token: EnrollmentTokenRow,
    now: i64,
    on_revoke: Callback<EnrollmentTokenRow>,
) -> impl IntoView {
    let (state, badge) = state(&token, now);
    let used = match (token.uses, token.last_used_at) {
        (0, _) => view! { <span class="muted">"Not used"</span> }.into_any(),
        (n, last) => view! {
            {format!("{n} registration{}", if n == 1 { "" } else { "s" })}
            {last.map(|at| view! { <br /><span class="muted small">"last " <Time ms=at.0 /></span> })}
        }
        .into_any(),
    };
    let revocable = state == "Active";
    let for_revoke = token.clone();
    view! {
        <tr data-token-id=token.id.0.clone()>
            <th scope="row">{token.label.clone()}</th>
            <td>
                <Time ms=token.created_at.0 date_only=true />
                {token.created_by.clone().map(|who| view! { <br /><span class="muted small">{format!("by {who}")}</span> })}
            </td>
            <td><Time ms=token.expires_at.0 date_only=true /></td>
            <td>{used}</td>
            <td><span class=badge>{state}</span></td>
            <td>
                {revocable.then(|| view! {
                    <ConfirmDelete verb="Revoke" what=format!("token \u{201c}{}\u{201d}", token.label)
                        on_confirm=Callback::new(move |()| on_revoke.run(for_revoke.clone())) />
                })}
            </td>
        </tr>
    }
}

/// `/admin/enrollment`.
#[component]
pub fn EnrollmentPage() -> impl IntoView {
    let tokens = LocalResource::new(api::enrollment_tokens);
    let label = RwSignal::new(String::new());
    let days = RwSignal::new(DEFAULT_DAYS);
    let created = RwSignal::new(None::<EnrollmentToken>);
    let outcome = RwSignal::new(Outcome::Idle);
    let listed = RwSignal::new(Outcome::Idle);
    let busy = RwSignal::new(false);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = label.get_untracked().trim().to_owned();
        if text.is_empty() {
            outcome.set(Outcome::Failed(
                "Give the token a label, e.g. the devices it is for.".into(),
            ));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match api::create_enrollment_token(&text, days.get_untracked()).await {
                Ok(token) => {
                    outcome.set(Outcome::Idle);
                    label.set(String::new());
                    created.set(Some(token));
                    tokens.refetch();
                    focus_soon("new-token-title");
                }
                Err(error) => outcome.set(Outcome::Failed(error.message())),
            }
            busy.set(false);
        });
    };
    let revoke = Callback::new(move |token: EnrollmentTokenRow| {
        spawn_local(async move {
            match api::revoke_enrollment_token(&token.id).await {
                Ok(_) => {
                    listed.set(Outcome::Done(format!(
                        "Revoked \u{201c}{}\u{201d}: no device can enroll with it any more.",
                        token.label
                    )));
                    if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.id == token.id)) {
                        created.set(None);
                    }
                    tokens.refetch();
                }
                Err(error) => listed.set(Outcome::Failed(error.message())),
            }
            focus_soon("tokens-status");
        });
    });

    let table = move || match tokens.get() {
        None => view! { <p role="status" class="muted">"Loading tokens…"</p> }.into_any(),
        Some(Err(error)) => {
            view! { <p class="error" role="alert">{error.message()}</p> }.into_any()
        }
        Some(Ok(list)) if list.is_empty() => {
            view! { <p class="muted">"No enrollment tokens yet."</p> }.into_any()
        }
        Some(Ok(list)) => {
            let now = now_ms();
            view! {
                <table class="data tokens">
                    <caption>"Enrollment tokens, newest first"</caption>
                    <thead><tr>
                        <th scope="col">"Label"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Used"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|token| view! { <TokenRow token now on_revoke=revoke /> }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }
    };

    view! {
        <section class="page" aria-labelledby="enrollment-title">
            <h1 id="enrollment-title">"Enrollment"</h1>
            <p class="muted">
                "An agent started with an enrollment token enrolls its device into this organization. \
                 Revoking a token stops new enrollments; devices already enrolled stay."
            </p>
            {move || created.get().map(|token| view! {
                <NewToken token on_done=Callback::new(move |()| created.set(None)) />
            })}
            <h2>"New token"</h2>
            <form class="filters" on:submit=create>
                <div>
                    <label for="token-label">"Label"</label>
                    <input id="token-label" maxlength="128" placeholder="e.g. Lobby kiosks"
                        prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="token-days">"Works for"</label>
                    <select id="token-days"
                        on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(DEFAULT_DAYS))>
                        {LIFETIMES.into_iter().map(|(n, text)| view! {
                            <option value=n.to_string() selected=n == DEFAULT_DAYS>{text}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=move || busy.get()>"Create token"</button>
            </form>
            <FormStatus outcome />
            <h2>"Tokens"</h2>
            <FormStatus outcome=listed id="tokens-status" />
            {table}
        </section>
    }
}

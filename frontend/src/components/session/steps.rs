//! The helper's way to a live picture: the code screen (the code in two
//! groups with the address the sharer opens, kept in this tab while valid,
//! and "New code" once it expired) and the numbered connection steps with
//! a hint when one stalls.

use super::workspace::{Step, code_memory, current_step, grouped_code, stalled_after};
use crate::routes::AppRoute;
use leptos::prelude::*;
use tandem_protocol::session::{EndReason, Phase, SessionView};

fn seconds_left(view: &SessionView) -> Option<i64> {
    let at = view.code_expires_at?;
    Some(
        ((at.0 as f64 - js_sys::Date::now()) / 1000.0)
            .ceil()
            .max(0.0) as i64,
    )
}

/// "RPY4GW47" read out character by character.
fn spelled(code: &str) -> String {
    code.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

/// The code screen of session `id`. `code` is this tab's code, if it has
/// one; it is remembered while it is valid and forgotten once the sharer
/// is in.
#[component]
pub fn CodePanel(
    id: tandem_protocol::SessionId,
    session: RwSignal<Option<SessionView>>,
    code: Option<String>,
    now: RwSignal<u32>,
    new_code: Callback<()>,
) -> impl IntoView {
    let code = code.or_else(|| code_memory::recall(&id, crate::format::now_ms()));
    Effect::new({
        let (id, code) = (id.clone(), code.clone());
        move |_| {
            let Some(view) = session.get() else { return };
            if view.phase == Phase::WaitingForSharer && view.ended.is_none() {
                if let Some(c) = &code {
                    code_memory::remember(&id, c, view.code_expires_at);
                }
            } else {
                code_memory::forget(&id);
            }
        }
    });
    let share_address = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .map(|origin| format!("{origin}{}", AppRoute::Share.href()))
        .unwrap_or_default();
    move || {
        let view = session.get()?;
        if matches!(view.ended, Some(EndReason::Expired)) {
            return Some(view! {
                <section class="code-panel" aria-label="Security code">
                    <p id="code-expired">"The code expired before it was used."</p>
                    <button type="button" class="primary" id="new-code" on:click=move |_| new_code.run(())>"New code"</button>
                </section>
            }.into_any());
        }
        (view.phase == Phase::WaitingForSharer && view.ended.is_none()).then(|| {
            now.track();
            let left = seconds_left(&view).unwrap_or(0);
            let address = share_address.clone();
            view! {
                <section class="code-panel" aria-label="Security code">
                    {match code.clone() {
                        Some(code) => {
                            let copy_text = code.clone();
                            view! {
                                <p>"Read this code to the person you help:"</p>
                                <p class="code" id="security-code" aria-label={spelled(&code)}>
                                    {grouped_code(&code)}
                                </p>
                                <p class="share-address">"They open "<strong id="share-address">{address}</strong>" and enter it."</p>
                                <button type="button" on:click=move |_| {
                                    if let Some(w) = web_sys::window() {
                                        let _ = w.navigator().clipboard().write_text(&copy_text);
                                    }
                                }>"Copy code"</button>
                            }.into_any()
                        }
                        None => view! {
                            <p>"This code was shown in another tab and is not kept anywhere else. Leave and assist again for a new one."</p>
                        }.into_any(),
                    }}
                    <p class="countdown" role="timer">
                        {format!("Expires in {}:{:02}", left / 60, left % 60)}
                    </p>
                </section>
            }.into_any()
        })
    }
}

/// The steps to a live picture, what each waits for, and a hint once the
/// current one took longer than it should.
#[component]
pub fn ConnectionSteps(
    session: RwSignal<Option<SessionView>>,
    has_picture: Signal<bool>,
    now: RwSignal<u32>,
) -> impl IntoView {
    let since_step = RwSignal::new((None::<Step>, 0i64));
    move || {
        now.track();
        let view = session.get()?;
        let step = current_step(&view, has_picture.get())?;
        since_step.update(|s| {
            if s.0 != Some(step) {
                *s = (Some(step), crate::format::now_ms());
            }
        });
        let waited = (crate::format::now_ms() - since_step.get_untracked().1) / 1000;
        let (what, hint) = step.waiting_for();
        let stalled = waited >= i64::from(stalled_after(step)) && !hint.is_empty();
        Some(view! {
            <section class="progress" aria-label="Connecting">
                <ol class="steps" id="progress-steps">
                    {Step::ALL.iter().map(|s| {
                        let state = if *s < step { "done" } else if *s == step { "current" } else { "todo" };
                        view! {
                            <li class=state aria-current=(*s == step).then_some("step")>{s.label()}</li>
                        }
                    }).collect_view()}
                </ol>
                <p class="step-now">{what}</p>
                {stalled.then(|| view! { <p class="step-hint" id="step-hint">{hint}</p> })}
            </section>
        })
    }
}

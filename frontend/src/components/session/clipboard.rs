//! The helper's clipboard tool, in full control when the organization
//! allows it: text the helper pastes here goes onto the device's
//! clipboard, and the device's clipboard text comes here when the helper
//! asks. Each is one explicit act, shown to the sharer. The text lives
//! only in this box while it is open.

use crate::rtc::remote::Remote;
use leptos::prelude::*;
use std::rc::Rc;
use tandem_protocol::clipboard::{Assembly, ClipboardMessage, ClipboardOutcome, pieces};

/// What the tool shows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Idle,
    Busy(&'static str),
    Done(String),
    Failed(String),
}

/// "Clipboard…" and its panel. `limit`: the organization's limit in bytes.
#[component]
pub fn ClipboardTool(remote: StoredValue<Remote, LocalStorage>, limit: u32) -> impl IntoView {
    let open = RwSignal::new(false);
    let outgoing = RwSignal::new(String::new());
    let incoming = RwSignal::new(None::<String>);
    let status = RwSignal::new(Status::Idle);
    // Random, so a request of an earlier mount is never taken for this one.
    let next_id = StoredValue::new((js_sys::Math::random() * f64::from(u32::MAX / 2)) as u32 + 1);
    let assembly = StoredValue::new_local(None::<Assembly>);
    let take_id = move || {
        let id = next_id.get_value();
        next_id.set_value(id.wrapping_add(1).max(1));
        id
    };
    // The device's answers: pieces of its clipboard, and how each request
    // ended.
    let listener = Rc::new(move |message: ClipboardMessage| match message {
        ClipboardMessage::Content {
            id,
            total,
            text,
            last,
        } => {
            let mut result = None;
            assembly.update_value(|slot| {
                if slot.as_ref().is_none_or(|a| a.id() != id) {
                    *slot = Assembly::start(id, total, limit).ok();
                }
                result = Some(match slot.as_mut() {
                    Some(whole) => whole.push(id, total, &text, last).map_err(|_| ()),
                    None => Err(()),
                });
                if !matches!(result, Some(Ok(None))) {
                    *slot = None;
                }
            });
            match result {
                Some(Ok(Some(text))) => incoming.set(Some(text)),
                Some(Ok(None)) => {}
                _ => status.set(Status::Failed(
                    "The device's clipboard text did not arrive whole.".into(),
                )),
            }
        }
        ClipboardMessage::Done { outcome, .. } => status.set(match outcome {
            // Sent means nothing unless the text came whole.
            ClipboardOutcome::Sent if incoming.get_untracked().is_none() => {
                Status::Failed("The device's clipboard text did not arrive whole.".into())
            }
            ClipboardOutcome::Set | ClipboardOutcome::Sent | ClipboardOutcome::Empty => {
                Status::Done(outcome.message())
            }
            _ => Status::Failed(outcome.message()),
        }),
        ClipboardMessage::Put { .. } | ClipboardMessage::Get { .. } => {}
    });
    remote.with_value(|r| r.on_clipboard(listener));
    let send = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let text = outgoing.get_untracked();
        let Ok(total) = u32::try_from(text.len()) else {
            return;
        };
        if total > limit {
            status.set(Status::Failed(
                ClipboardOutcome::TooLarge { limit }.message(),
            ));
            return;
        }
        let id = take_id();
        let sent = pieces(&text).into_iter().all(|(text, last)| {
            remote.with_value(|r| {
                r.send_clipboard(&ClipboardMessage::Put {
                    id,
                    total,
                    text,
                    last,
                })
            })
        });
        status.set(if sent {
            outgoing.set(String::new());
            Status::Busy("Putting the text on the device's clipboard…")
        } else {
            Status::Failed("The connection to the device is not open.".into())
        });
    };
    let get = move |_| {
        incoming.set(None);
        assembly.set_value(None);
        let id = take_id();
        let sent = remote.with_value(|r| r.send_clipboard(&ClipboardMessage::Get { id }));
        status.set(if sent {
            Status::Busy("Reading the device's clipboard…")
        } else {
            Status::Failed("The connection to the device is not open.".into())
        });
    };
    let copy = move |_| {
        if let Some(text) = incoming.get_untracked() {
            let promise = window().navigator().clipboard().write_text(&text);
            leptos::task::spawn_local(async move {
                let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                status.set(if copied {
                    Status::Done("Copied to your clipboard.".into())
                } else {
                    Status::Failed(
                        "Your browser did not allow copying; select the text and copy it.".into(),
                    )
                });
            });
        }
    };
    let status_line = move || match status.get() {
        Status::Idle => None,
        Status::Busy(text) => {
            Some(view! { <span role="status" id="clipboard-status">{text}</span> }.into_any())
        }
        Status::Done(text) => Some(
            view! { <span class="ok" role="status" id="clipboard-status">{text}</span> }.into_any(),
        ),
        Status::Failed(text) => Some(
            view! { <span class="error" role="alert" id="clipboard-status">{text}</span> }
                .into_any(),
        ),
    };
    let panel = move || {
        open.get().then(|| {
            view! {
                <div class="clipboard-panel" id="clipboard-panel">
                    <form on:submit=send>
                        <label for="clipboard-out">"Text for the device's clipboard (paste it here)"</label>
                        <textarea id="clipboard-out" rows="3" spellcheck="false"
                            prop:value=move || outgoing.get()
                            on:input=move |e| outgoing.set(event_target_value(&e))></textarea>
                        <button type="submit" id="clipboard-send">"Put on the device's clipboard"</button>
                    </form>
                    <button type="button" id="clipboard-get" on:click=get>"Get the device's clipboard"</button>
                    {move || incoming.get().map(|text| view! {
                        <label for="clipboard-in">"The device's clipboard"</label>
                        <textarea id="clipboard-in" rows="3" readonly prop:value=text></textarea>
                        <button type="button" id="clipboard-copy" on:click=copy>"Copy to my clipboard"</button>
                    })}
                    <p class="hint">{format!(
                        "The sharer is shown each time. At most {} KiB; nothing is kept once you close this.",
                        limit / 1024
                    )}</p>
                </div>
            }
        })
    };
    view! {
        <span class="clipboard-tool">
            <button type="button" id="clipboard-button" aria-expanded=move || open.get().to_string()
                on:click=move |_| {
                    open.update(|o| *o = !*o);
                    if !open.get_untracked() {
                        incoming.set(None);
                        outgoing.set(String::new());
                        status.set(Status::Idle);
                    }
                }>
                "Clipboard…"
            </button>
            {status_line}
            {panel}
        </span>
    }
}

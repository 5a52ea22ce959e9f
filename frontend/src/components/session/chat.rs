//! Chat between the helper and the sharer. Lines travel over the signaling
//! socket; the server passes them on and keeps only the fact that chat was
//! used, so the text lives in these two tabs alone.

use crate::format::now_ms;
use leptos::prelude::*;
use tandem_protocol::Problem;
use tandem_protocol::problem::ProblemKind;
use tandem_protocol::signal::MAX_CHAT_CHARS;

/// One line of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatLine {
    pub mine: bool,
    pub who: String,
    pub text: String,
    pub at: i64,
}

/// The conversation and the last refusal, shared by the page and the panel.
#[derive(Debug, Clone, Copy)]
pub struct ChatState {
    pub lines: RwSignal<Vec<ChatLine>>,
    pub error: RwSignal<Option<String>>,
    /// Lines that arrived while the chat was not on screen.
    pub unread: RwSignal<u32>,
    /// Whether the chat is on screen now (the page says).
    pub visible: RwSignal<bool>,
}

impl Default for ChatState {
    fn default() -> Self {
        Self {
            lines: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            unread: RwSignal::new(0),
            visible: RwSignal::new(true),
        }
    }
}

/// "14:05" in the browser's time zone.
pub fn clock_time(at_ms: i64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

impl ChatState {
    /// The chat came on screen: everything is read.
    pub fn seen(&self) {
        self.visible.set(true);
        self.unread.set(0);
    }

    pub fn receive(&self, who: String, text: String, at: i64) {
        self.error.set(None);
        if !self.visible.get_untracked() {
            self.unread.update(|n| *n += 1);
        }
        self.lines.update(|l| {
            l.push(ChatLine {
                mine: false,
                who,
                text,
                at,
            });
        });
    }

    pub fn sent(&self, text: String) {
        self.lines.update(|l| {
            l.push(ChatLine {
                mine: true,
                who: "You".into(),
                text,
                at: now_ms(),
            });
        });
    }

    /// Shows a signaling refusal that is about chat; true if it was.
    pub fn refused(&self, problem: &Problem) -> bool {
        let about_chat = matches!(
            problem.known_kind(),
            Some(ProblemKind::ChatDisabled | ProblemKind::ChatUndelivered | ProblemKind::NotNow)
        );
        if about_chat {
            self.error.set(Some(problem.message().to_owned()));
        }
        about_chat
    }
}

/// The chat box: the conversation, read out as it grows, and a one-line
/// message field.
#[component]
pub fn ChatPanel(state: ChatState, send: Callback<String>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        send.run(text.clone());
        state.sent(text);
        draft.set(String::new());
    };
    view! {
        <section class="chat" aria-labelledby="chat-title">
            <h2 id="chat-title">"Chat"</h2>
            <ol class="chat-log" id="chat-log" aria-live="polite">
                {move || state.lines.get().into_iter().map(|line| view! {
                    <li class=if line.mine { "mine" } else { "theirs" }>
                        <time class="at" datetime=crate::format::iso_time(line.at)>{clock_time(line.at)}</time>
                        " "
                        <span class="who">{line.who}": "</span>
                        <span class="text">{line.text}</span>
                    </li>
                }).collect_view()}
            </ol>
            <form class="chat-form" on:submit=submit>
                <label for="chat-input" class="visually-hidden">"Message"</label>
                <input id="chat-input" type="text" autocomplete="off"
                    maxlength=MAX_CHAT_CHARS.to_string()
                    placeholder="Type a message"
                    prop:value=move || draft.get()
                    on:input=move |e| draft.set(event_target_value(&e)) />
                <button type="submit">"Send"</button>
            </form>
            {move || state.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

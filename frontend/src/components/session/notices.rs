//! What the device says the helper cannot see or do right now: a UAC
//! prompt, a refusal, and one window shared instead of the screen.

use crate::rtc::remote::AgentView;
use leptos::prelude::*;
use tandem_protocol::sharing::Shared;

/// The notices under the screen's toolbar.
pub fn device_notices(agent: &AgentView) -> impl IntoView + use<> {
    let secure = agent.secure_desktop.map(|visible| {
        let text = if visible {
            "A UAC prompt is up on the device; you see it because you hold Elevation."
        } else {
            "The sharer must answer a UAC prompt on their device. The picture \
             resumes once it is answered."
        };
        view! { <p class="notice" id="secure-desktop" role="status">{text}</p> }
    });
    let refused = agent.refused.clone().map(|reason| {
        view! { <p class="notice" id="agent-refused" role="alert">"The device refused: "{reason}</p> }
    });
    // One window shared: the helper knows why the rest is black and their
    // clicks there do nothing.
    let window = matches!(agent.shared, Shared::Window { .. }).then(|| {
        let text = format!(
            "The sharer shares {}. The rest of the screen is black, and your input outside the window does not reach the device.",
            agent.shared.text()
        );
        view! { <p class="notice" id="shared-what" role="status">{text}</p> }
    });
    view! { {secure}{refused}{window} }
}

//! Pieces of the session pages: identity cards, the status line, the
//! sharing indicator and the video view.

mod annotate;
pub mod away;
mod card;
mod chat;
mod clipboard;
mod details;
mod drawing;
mod file_notice;
mod files;
pub mod media_watch;
mod notices;
mod preview;
mod share_choice;
pub mod steps;
mod ticket;
mod tools;
mod type_text;
mod video;
pub mod workspace;

pub use card::IdentityCardView;
pub use chat::{ChatPanel, ChatState};
pub use details::{ConnectionDetails, SessionWho};
pub use drawing::SharerDrawingControls;
pub use file_notice::{FileWatch, SharerFileNotice};
pub use preview::{SharePreview, SharerSketch};
pub use share_choice::SharerShareChoice;
pub use ticket::TicketField;
pub use video::VideoView;

use tandem_protocol::session::{Party, Phase, SessionView};

/// The helper's status line: waiting for sharer → sharer joined → waiting
/// for consent → connected, and what went wrong; `left`: how long the
/// device or sharer who is away has to come back (milliseconds).
pub fn helper_status(view: &SessionView, media: &str, left: Option<u64>) -> String {
    if let Some(reason) = &view.ended {
        return format!("Session ended. {}", reason.message());
    }
    if view.via_agent
        && !view.agent_connected
        && matches!(view.phase, Phase::Active | Phase::Paused)
    {
        return format!(
            "The device is offline. Waiting for it to come back…{}",
            away::left_text(left)
        );
    }
    if view.sharer.is_some() && !view.sharer_connected && view.phase != Phase::WaitingForSharer {
        return format!(
            "The sharer's connection dropped. Waiting for them to come back…{}",
            away::left_text(left)
        );
    }
    match view.phase {
        Phase::WaitingForSharer => "Waiting for the sharer to enter the code…".into(),
        Phase::SharerJoined if view.sharer.is_none() => {
            "Unattended device: nobody is signed in. Choose how to help.".into()
        }
        Phase::SharerJoined => "Sharer joined. Choose how to help.".into(),
        Phase::WaitingForConsent => "Waiting for the sharer's consent…".into(),
        Phase::Paused => "Paused by the sharer: no pixels, no input.".into(),
        Phase::Active if media == "connected" => format!(
            "Connected ({})",
            view.mode.map(|m| m.label()).unwrap_or("view only")
        ),
        Phase::Active if matches!(media, "disconnected" | "failed") => {
            "The connection to the sharer's screen dropped. Reconnecting…".into()
        }
        Phase::Active => "Connecting to the sharer's screen…".into(),
        Phase::Ended => "Session ended.".into(),
    }
}

/// Whether the chat box shows: the tenant allows chat and both people take
/// part.
pub fn chat_open(view: &SessionView) -> bool {
    view.chat_enabled
        && view.ended.is_none()
        && matches!(
            view.phase,
            Phase::SharerJoined | Phase::WaitingForConsent | Phase::Active | Phase::Paused
        )
}

/// What the sharer is told of their clipboard: each time the helper put
/// text on it or read it, the count goes up and the notice says so again.
pub fn clipboard_notice(view: &SessionView) -> Option<String> {
    if view.you != Party::Sharer {
        return None;
    }
    let times = |n: u32| {
        if n == 1 {
            "once".to_owned()
        } else {
            format!("{n} times")
        }
    };
    let name = &view.helper.display_name;
    let parts: Vec<String> = [
        (view.clipboard_to_device, "put text on your clipboard"),
        (view.clipboard_from_device, "read your clipboard"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{what} {}", times(n)))
    .collect();
    (!parts.is_empty()).then(|| format!("{name} {}.", parts.join(" and ")))
}

/// The sharer's always-visible indicator.
pub fn sharer_indicator(view: &SessionView) -> Option<String> {
    if view.ended.is_some() || view.you != Party::Sharer {
        return None;
    }
    let mode = view.mode?;
    let name = &view.helper.display_name;
    Some(match view.phase {
        Phase::Paused => format!("Paused: shared with {name} ({})", mode.label()),
        _ => format!("Shared with {name} ({})", mode.label()),
    })
}

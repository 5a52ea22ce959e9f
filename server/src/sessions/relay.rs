//! What a signaling connection passes from one participant to another:
//! SDP and ICE between the helper and the media side (the device's agent,
//! or the sharer's browser), with relay-only kept by the server too; the
//! sharer's word on the drawings and on what is shared; the agent's window
//! list and what it shares. Only the right party, and media messages only
//! once the sharer allowed a mode.

use super::service::Sessions;
use super::signaling::{Joined, problem};
use tandem_protocol::problem::ProblemKind;
use tandem_protocol::session::Party;
use tandem_protocol::signal::{ClientMessage, IceTransportPolicy, ServerMessage};

/// The message's type, without its content.
pub(super) fn kind_of(message: &ClientMessage) -> &'static str {
    match message {
        ClientMessage::Join { .. } => "join",
        ClientMessage::Offer { .. } => "offer",
        ClientMessage::Answer { .. } => "answer",
        ClientMessage::Ice { .. } => "ice",
        ClientMessage::Renegotiate => "renegotiate",
        ClientMessage::RestartIce => "restart_ice",
        ClientMessage::Pong { .. } => "pong",
        ClientMessage::Chat { .. } => "chat",
        ClientMessage::ElevationUsed => "elevation-used",
        ClientMessage::ClipboardUsed { .. } => "clipboard-used",
        ClientMessage::AnnotationUsed => "annotation-used",
        ClientMessage::SharerDrawing { .. } => "sharer-drawing",
        ClientMessage::FileNotice { .. } => "file-notice",
        ClientMessage::FileAnswer { .. } => "file-answer",
        ClientMessage::FileMoved { .. } => "file-moved",
        ClientMessage::ShareChoice { .. } => "share-choice",
        ClientMessage::Windows { .. } => "windows",
        ClientMessage::Shared { .. } => "shared",
        ClientMessage::DrawingState { .. } => "drawing-state",
    }
}

/// Whether a trickled candidate is a TURN relay (`typ relay`), or the
/// empty end-of-candidates marker.
fn is_relay_or_end(candidate: &str) -> bool {
    let mut fields = candidate.split_ascii_whitespace();
    candidate.trim().is_empty() || fields.any(|f| f == "typ") && fields.next() == Some("relay")
}

/// `sdp` without the candidates it carries that are not relays (a
/// description sent after gathering lists them inline).
fn relay_candidates_only(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|line| {
            line.trim()
                .strip_prefix("a=")
                .filter(|attribute| attribute.starts_with("candidate:"))
                .is_none_or(is_relay_or_end)
        })
        .collect()
}

/// Relays SDP/ICE to the other participant when the session allows media.
pub(super) fn relay(
    sessions: &Sessions,
    joined: &Joined,
    message: ClientMessage,
) -> Option<ServerMessage> {
    let hub = sessions.hub();
    // The helper's media peer: the device's agent, or the sharer's browser.
    let media = super::media_party(hub.via_agent(&joined.session));
    // Relay only is kept here too, not only by the two ends: a candidate
    // that is not a relay (an older agent, a modified page) goes nowhere.
    if let ClientMessage::Ice { candidate } = &message
        && joined.policy == IceTransportPolicy::Relay
        && !is_relay_or_end(&candidate.candidate)
    {
        return Some(problem(
            ProblemKind::BadMessage,
            "Your organization allows only relayed connections: only relay candidates are passed on.",
        ));
    }
    // The same for candidates inside a description.
    let message = match message {
        ClientMessage::Offer { sdp } if joined.policy == IceTransportPolicy::Relay => {
            ClientMessage::Offer {
                sdp: relay_candidates_only(&sdp),
            }
        }
        ClientMessage::Answer { sdp } if joined.policy == IceTransportPolicy::Relay => {
            ClientMessage::Answer {
                sdp: relay_candidates_only(&sdp),
            }
        }
        message => message,
    };
    let (to, forward) = match (joined.party, message) {
        (from, ClientMessage::Offer { sdp }) if from == media => {
            (Party::Helper, ServerMessage::Offer { sdp })
        }
        (Party::Helper, ClientMessage::Answer { sdp }) => (media, ServerMessage::Answer { sdp }),
        (Party::Helper, ClientMessage::Renegotiate) => (media, ServerMessage::Renegotiate),
        (Party::Helper, ClientMessage::RestartIce) => (media, ServerMessage::RestartIce),
        // The sharer's word on the drawings goes to the device's agent,
        // which draws them.
        (Party::Sharer, ClientMessage::SharerDrawing { action }) if media == Party::Agent => {
            (Party::Agent, ServerMessage::SharerDrawing { action })
        }
        // What the device shares is the sharer's to choose, the agent's
        // to tell her (its window list, within bounds).
        (Party::Sharer, ClientMessage::ShareChoice { choice }) if media == Party::Agent => {
            (Party::Agent, ServerMessage::ShareChoice { choice })
        }
        (Party::Agent, ClientMessage::Windows { windows }) => {
            if !tandem_protocol::sharing::windows_are_valid(&windows) {
                return Some(problem(
                    ProblemKind::BadMessage,
                    "That window list is out of bounds.",
                ));
            }
            (Party::Sharer, ServerMessage::Windows { windows })
        }
        (Party::Agent, ClientMessage::DrawingState { off }) => {
            (Party::Sharer, ServerMessage::DrawingState { off })
        }
        (Party::Agent, ClientMessage::Shared { shared }) => {
            if !shared.is_valid() {
                return Some(problem(
                    ProblemKind::BadMessage,
                    "That window title is out of bounds.",
                ));
            }
            (Party::Sharer, ServerMessage::Shared { shared })
        }
        (Party::Helper, ClientMessage::Ice { candidate }) => {
            (media, ServerMessage::Ice { candidate })
        }
        (from, ClientMessage::Ice { candidate }) if from == media => {
            (Party::Helper, ServerMessage::Ice { candidate })
        }
        (party, message) => {
            return Some(problem(
                ProblemKind::WrongParty,
                format!("The {party:?} cannot send a {} message.", kind_of(&message)),
            ));
        }
    };
    // What is shared is chosen and told before any pixel flows too: a
    // sharer may pick one window before she allows a mode.
    let choosing = matches!(
        forward,
        ServerMessage::ShareChoice { .. }
            | ServerMessage::Windows { .. }
            | ServerMessage::Shared { .. }
            | ServerMessage::DrawingState { .. }
    );
    let media = hub
        .state(&joined.session)
        .is_some_and(|s| !s.is_ended() && (choosing || s.summary().1.is_some()));
    if !media {
        return Some(problem(
            ProblemKind::NoConsent,
            "Media can flow only after the sharer allowed a mode.",
        ));
    }
    if hub.send(&joined.session, to, &forward) == 0 {
        return Some(problem(
            ProblemKind::PeerAbsent,
            "The other participant is not connected right now.",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::relay_candidates_only;

    #[test]
    fn relay_only_keeps_only_relay_candidates_inside_a_description() {
        let sdp = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
            a=candidate:1 1 udp 2122260223 192.168.1.2 50000 typ host\r\n\
            a=candidate:2 1 udp 1686052607 198.51.100.1 40000 typ srflx raddr 192.168.1.2 rport 50000\r\n\
            a=candidate:3 1 udp 41885439 198.51.100.2 49152 typ relay raddr 198.51.100.1 rport 40000\r\n\
            a=end-of-candidates\r\na=ice-ufrag:abcd\r\n";
        assert_eq!(
            relay_candidates_only(sdp),
            "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
            a=candidate:3 1 udp 41885439 198.51.100.2 49152 typ relay raddr 198.51.100.1 rport 40000\r\n\
            a=end-of-candidates\r\na=ice-ufrag:abcd\r\n"
        );
        // A description without candidates is left as it is.
        let bare = "v=0\r\na=ice-ufrag:abcd\r\n";
        assert_eq!(relay_candidates_only(bare), bare);
    }
}

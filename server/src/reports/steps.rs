//! A session's log in words, for the report's detail view.

use crate::domain::machine::Event;
use tandem_protocol::reports::SessionStep;
use tandem_protocol::session::{Mode, Party, StopCause};

fn who(step: &SessionStep) -> String {
    match (&step.actor_name, step.actor) {
        (Some(name), _) => name.clone(),
        (None, Party::Helper) => "The helper".into(),
        (None, Party::Sharer) => "The sharer".into(),
        (None, Party::Agent) => "The device's agent".into(),
        (None, Party::System) => "Tandem".into(),
    }
}

/// One sentence for `event` done by the step's actor.
pub fn describe(step: &SessionStep, event: &Event) -> String {
    let who = who(step);
    let mode = |m: &Mode| m.label();
    match event {
        Event::IssueCode => format!("{who} got a security code."),
        Event::Redeem => format!("{who} entered the code."),
        Event::Request { mode: m } => format!("{who} asked for {}.", mode(m)),
        Event::Allow => format!("{who} allowed the request."),
        Event::Decline => format!("{who} declined the request."),
        Event::RevokeControl => format!("{who} took control back (view only)."),
        Event::Pause => format!("{who} paused the session."),
        Event::Resume => format!("{who} resumed the session."),
        Event::Leave => format!("{who} left; the session ended."),
        Event::Refuse { reason } => format!("Refused by policy: {reason}"),
        Event::Expire => "The security code expired unused.".into(),
        Event::Disconnect => "A participant dropped and did not come back in time.".into(),
        Event::Fail { error } => format!("The session failed: {error}"),
        Event::Reconnect => format!("{who} reconnected."),
        Event::StartUnattended => "Started unattended (nobody signed in on the device).".into(),
        Event::GrantUnattended => "The organization's unattended-access setting consented.".into(),
        Event::ElevationUsed => {
            "The helper acted on an elevation (UAC or secure-desktop) prompt.".into()
        }
        Event::Stop {
            cause: StopCause::EndedByAdmin,
        } => format!("{who} ended the session from the monitor."),
        Event::Stop {
            cause: StopCause::RemoteHelpTurnedOff,
        } => format!("{who} turned remote help off, which ended the session."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::UnixMillis;

    #[test]
    fn steps_name_the_person_or_their_part() {
        let mut step = SessionStep {
            at: UnixMillis(1),
            actor: Party::Sharer,
            actor_name: Some("Lynne Robbins".into()),
            what: String::new(),
        };
        assert_eq!(
            describe(&step, &Event::Allow),
            "Lynne Robbins allowed the request."
        );
        step.actor_name = None;
        step.actor = Party::Helper;
        assert_eq!(
            describe(
                &step,
                &Event::Request {
                    mode: Mode::Control
                }
            ),
            "The helper asked for full control."
        );
    }
}

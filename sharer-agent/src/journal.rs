//! What the agent writes to the device's own log (the Windows Event Log,
//! syslog on Linux): when a session starts and ends, with the helper and
//! the mode. [`Journal`] is pure: it turns the session's status changes
//! into [`Entry`]s, and remembers whether the session used elevation with
//! full control (the sharer is then signed out at the end). The platform
//! backend writes the entries.

use crate::gate::{Status, mode_text};
use tandem_protocol::SessionId;
use tandem_protocol::session::Mode;

/// One line in the device's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Started {
        session: SessionId,
        helper: String,
        mode: Mode,
    },
    ModeChanged {
        session: SessionId,
        helper: String,
        mode: Mode,
    },
    Ended {
        session: SessionId,
        helper: String,
        why: String,
        /// The helper had Elevation and full control at some point.
        elevated: bool,
    },
}

impl Entry {
    /// A stable number per kind (the Windows event id).
    pub fn event_id(&self) -> u32 {
        match self {
            Entry::Started { .. } => 1,
            Entry::ModeChanged { .. } => 2,
            Entry::Ended { .. } => 3,
        }
    }

    pub fn text(&self) -> String {
        match self {
            Entry::Started {
                session,
                helper,
                mode,
            } => format!(
                "Tandem remote help session {session} started: helper {helper}, {}.",
                mode_text(*mode)
            ),
            Entry::ModeChanged {
                session,
                helper,
                mode,
            } => format!(
                "Tandem remote help session {session}: helper {helper} now has {}.",
                mode_text(*mode)
            ),
            Entry::Ended {
                session,
                helper,
                why,
                elevated,
            } => format!(
                "Tandem remote help session {session} with helper {helper} ended: {why}.{}",
                if *elevated {
                    " Elevation was used with full control."
                } else {
                    ""
                }
            ),
        }
    }
}

/// Where entries go: one backend per OS, picked in `platform`.
pub trait DeviceLog: Send + Sync {
    fn write(&self, entry: &Entry) -> Result<(), String>;
}

/// Follows one session's status and says what to log.
#[derive(Debug)]
pub struct Journal {
    session: SessionId,
    helper: Option<String>,
    mode: Option<Mode>,
    elevated: bool,
    ended: bool,
}

impl Journal {
    pub fn new(session: SessionId) -> Self {
        Self {
            session,
            helper: None,
            mode: None,
            elevated: false,
            ended: false,
        }
    }

    /// Takes the latest status; `elevated_control`: the helper has
    /// Elevation and full control right now.
    pub fn observe(&mut self, status: &Status, elevated_control: bool) -> Option<Entry> {
        if self.ended {
            return None;
        }
        self.elevated |= elevated_control;
        match status {
            Status::Shared { helper, mode } => {
                let entry = match (&self.helper, self.mode) {
                    (None, _) => Entry::Started {
                        session: self.session.clone(),
                        helper: helper.clone(),
                        mode: *mode,
                    },
                    (Some(_), Some(before)) if before == *mode => return None,
                    (Some(_), _) => Entry::ModeChanged {
                        session: self.session.clone(),
                        helper: helper.clone(),
                        mode: *mode,
                    },
                };
                self.helper = Some(helper.clone());
                self.mode = Some(*mode);
                Some(entry)
            }
            Status::Ended { why } => {
                let helper = self.helper.clone()?;
                self.ended = true;
                Some(Entry::Ended {
                    session: self.session.clone(),
                    helper,
                    why: why.clone(),
                    elevated: self.elevated,
                })
            }
            Status::Idle | Status::Waiting | Status::Paused { .. } => None,
        }
    }

    /// Whether the sharer must be signed out now that the session is
    /// over: it used elevation with full control.
    pub fn sign_out_due(&self) -> bool {
        self.ended && self.elevated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(mode: Mode) -> Status {
        Status::Shared {
            helper: "Megan".into(),
            mode,
        }
    }

    #[test]
    fn start_mode_change_and_end_are_logged_once_each() {
        let mut journal = Journal::new(SessionId("s1".into()));
        assert_eq!(journal.observe(&Status::Waiting, false), None);
        let started = journal.observe(&shared(Mode::View), false);
        assert_eq!(started.as_ref().map(Entry::event_id), Some(1));
        assert_eq!(journal.observe(&shared(Mode::View), false), None);
        let changed = journal.observe(&shared(Mode::Control), false);
        assert!(changed.is_some_and(|e| e.text().contains("Megan now has full control")));
        let ended = journal.observe(
            &Status::Ended {
                why: "the helper left".into(),
            },
            false,
        );
        assert_eq!(ended.as_ref().map(Entry::event_id), Some(3));
        assert!(ended.is_some_and(|e| e.text().contains("ended: the helper left.")));
        assert!(!journal.sign_out_due());
        assert_eq!(
            journal.observe(&Status::Ended { why: "x".into() }, true),
            None
        );
    }

    #[test]
    fn a_session_that_never_started_logs_nothing() {
        let mut journal = Journal::new(SessionId("s1".into()));
        assert_eq!(
            journal.observe(&Status::Ended { why: "x".into() }, false),
            None
        );
        assert!(!journal.sign_out_due());
    }

    #[test]
    fn elevation_with_full_control_signs_the_sharer_out_at_the_end() {
        let mut journal = Journal::new(SessionId("s1".into()));
        journal.observe(&shared(Mode::Control), true);
        journal.observe(&shared(Mode::View), false);
        assert!(!journal.sign_out_due(), "not before the end");
        let ended = journal.observe(&Status::Ended { why: "done".into() }, false);
        assert!(ended.is_some_and(|e| e.text().contains("Elevation was used")));
        assert!(journal.sign_out_due());
    }
}

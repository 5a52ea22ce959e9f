//! What the agent writes to the device's own log (the Windows Event Log,
//! syslog on Linux): when a session starts and ends, with the helper and
//! the mode. [`Journal`] is pure: it turns the session's status changes
//! into [`Entry`]s, and remembers whether the helper actually used
//! elevation (their input reached a UAC or secure-desktop prompt in full
//! control; holding the permission is not using it). When it was used and
//! the tenant asks for it, the sharer is signed out at the end. The
//! platform backend writes the entries.

use crate::gate::{Status, mode_text};
use tandem_protocol::SessionId;
use tandem_protocol::session::Mode;
use tandem_protocol::text::printable;

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
        /// The helper's input reached an elevation prompt at some point.
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

    /// The entry as one line of the device log. The helper's name and
    /// the reason are escaped (`\u{1b}`): a name cannot forge or hide log
    /// lines.
    pub fn text(&self) -> String {
        match self {
            Entry::Started {
                session,
                helper,
                mode,
            } => format!(
                "Tandem remote help session {session} started: helper {}, {}.",
                printable(helper),
                mode_text(*mode)
            ),
            Entry::ModeChanged {
                session,
                helper,
                mode,
            } => format!(
                "Tandem remote help session {session}: helper {} now has {}.",
                printable(helper),
                mode_text(*mode)
            ),
            Entry::Ended {
                session,
                helper,
                why,
                elevated,
            } => format!(
                "Tandem remote help session {session} with helper {} ended: {}.{}",
                printable(helper),
                printable(why),
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
    fn write(&self, entry: &Entry) -> Result<(), LogError>;
}

/// Why the device's log refused an entry.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("the device log is not open")]
    NotOpen,
    #[error("{call}: {detail}")]
    Call { call: &'static str, detail: String },
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

    /// The helper's input just reached an elevation prompt (the injector
    /// says so, behind the gate's Elevation check).
    pub fn elevation_used(&mut self) {
        if !self.ended {
            self.elevated = true;
        }
    }

    /// Takes the latest status.
    pub fn observe(&mut self, status: &Status) -> Option<Entry> {
        if self.ended {
            return None;
        }
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
    /// over: elevation was used with full control, and the tenant's
    /// setting (`sign_out_after_elevation`) asks for it.
    pub fn sign_out_due(&self, sign_out_after_elevation: bool) -> bool {
        self.ended && self.elevated && sign_out_after_elevation
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
        assert_eq!(journal.observe(&Status::Waiting), None);
        let started = journal.observe(&shared(Mode::View));
        assert_eq!(started.as_ref().map(Entry::event_id), Some(1));
        assert_eq!(journal.observe(&shared(Mode::View)), None);
        let changed = journal.observe(&shared(Mode::Control));
        assert!(changed.is_some_and(|e| e.text().contains("Megan now has full control")));
        let ended = journal.observe(&Status::Ended {
            why: "the helper left".into(),
        });
        assert_eq!(ended.as_ref().map(Entry::event_id), Some(3));
        assert!(ended.is_some_and(|e| e.text().contains("ended: the helper left.")));
        assert!(!journal.sign_out_due(true));
        journal.elevation_used();
        assert_eq!(journal.observe(&Status::Ended { why: "x".into() }), None);
        assert!(!journal.sign_out_due(true), "nothing counts after the end");
    }

    #[test]
    fn a_hostile_helper_name_is_one_log_line_without_escapes() {
        let helper = "Eve\u{1b}[2K\r\u{1b}[8m\nTandem remote help session s9 ended".to_owned();
        let mut journal = Journal::new(SessionId("s1".into()));
        let entries = [
            journal.observe(&Status::Shared {
                helper: helper.clone(),
                mode: Mode::View,
            }),
            journal.observe(&Status::Shared {
                helper: helper.clone(),
                mode: Mode::Control,
            }),
            journal.observe(&Status::Ended {
                why: "left\r\u{1b}[8m".into(),
            }),
        ];
        for entry in entries {
            let text = entry.map(|e| e.text()).unwrap_or_default();
            assert!(
                text.starts_with("Tandem remote help session s1"),
                "{text:?}"
            );
            assert!(!text.contains(['\u{1b}', '\r', '\n']), "{text:?}");
            assert!(!text.chars().any(char::is_control), "{text:?}");
            assert!(text.contains("helper Eve\\u{1b}[2K\\u{d}"), "{text:?}");
        }
    }

    #[test]
    fn a_session_that_never_started_logs_nothing() {
        let mut journal = Journal::new(SessionId("s1".into()));
        assert_eq!(journal.observe(&Status::Ended { why: "x".into() }), None);
        assert!(!journal.sign_out_due(true));
    }

    #[test]
    fn elevation_used_in_full_control_signs_the_sharer_out_when_the_tenant_says_so() {
        let mut journal = Journal::new(SessionId("s1".into()));
        journal.observe(&shared(Mode::Control));
        journal.elevation_used();
        journal.observe(&shared(Mode::View));
        assert!(!journal.sign_out_due(true), "not before the end");
        let ended = journal.observe(&Status::Ended { why: "done".into() });
        assert!(ended.is_some_and(|e| e.text().contains("Elevation was used")));
        assert!(journal.sign_out_due(true));
        assert!(!journal.sign_out_due(false), "the tenant turned it off");
    }

    #[test]
    fn full_control_without_an_elevation_prompt_never_signs_the_sharer_out() {
        // What the agent did before: holding Elevation in full control
        // counted as using it, and signed the sharer out for nothing.
        let mut journal = Journal::new(SessionId("s1".into()));
        journal.observe(&shared(Mode::Control));
        let ended = journal.observe(&Status::Ended { why: "done".into() });
        assert!(ended.is_some_and(|e| !e.text().contains("Elevation")));
        assert!(!journal.sign_out_due(true));
    }
}

//! The agent's consent gate: the one place that decides whether a pixel
//! may leave or an input event may be injected. Pure: no I/O, no clock;
//! callers pass the time, so tests are deterministic.
//!
//! - Media flows only while a verified grant for this session is
//!   unexpired, and the session is neither paused nor ended.
//! - Input is injected only when, in addition, the grant *and* the latest
//!   session state both say full control.

use ed25519_dalek::VerifyingKey;
use tandem_protocol::grant::{Grant, GrantError, SignedGrant};
use tandem_protocol::session::{Mode, Phase};
use tandem_protocol::text::printable;
use tandem_protocol::{SessionId, UnixMillis};

/// What the terminal shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Connected, no session.
    Idle,
    /// A session exists but nothing is shared yet.
    Waiting,
    Shared {
        helper: String,
        mode: Mode,
    },
    Paused {
        helper: String,
    },
    Ended {
        why: String,
    },
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Idle => f.write_str("idle"),
            Status::Waiting => f.write_str("waiting"),
            // Names and reasons come from elsewhere: escaped, so they can
            // neither move the terminal's cursor nor start a new line.
            Status::Shared { helper, mode } => {
                write!(
                    f,
                    "shared with {} ({})",
                    printable(helper),
                    mode_text(*mode)
                )
            }
            Status::Paused { helper } => write!(f, "paused (shared with {})", printable(helper)),
            Status::Ended { why } => write!(f, "ended: {}", printable(why)),
        }
    }
}

pub fn mode_text(mode: Mode) -> &'static str {
    match mode {
        Mode::View => "view only",
        Mode::Control => "full control",
    }
}

/// What the gate takes from the server's state of the session, and
/// nothing more: the session layer turns each state message into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentState {
    pub phase: Phase,
    /// The mode in force, if any.
    pub mode: Option<Mode>,
    /// The helper's name, as the sharer is shown it.
    pub helper: String,
    /// Why the session ended, in words, once it has.
    pub ended: Option<String>,
    /// The tenant signs the sharer out after elevation was used.
    pub sign_out_after_elevation: bool,
}

/// The gate of one session.
#[derive(Debug, Clone)]
pub struct Gate {
    key: VerifyingKey,
    session: SessionId,
    grant: Option<Grant>,
    phase: Phase,
    mode: Option<Mode>,
    helper: String,
    ended: Option<String>,
    /// The tenant signs the sharer out after elevation was used.
    sign_out_after_elevation: bool,
}

impl Gate {
    pub fn new(key: VerifyingKey, session: SessionId) -> Self {
        Self {
            key,
            session,
            grant: None,
            phase: Phase::WaitingForSharer,
            mode: None,
            helper: String::new(),
            ended: None,
            sign_out_after_elevation: true,
        }
    }

    pub fn session(&self) -> &SessionId {
        &self.session
    }

    /// Checks and keeps a grant. A bad one is refused and changes nothing.
    pub fn accept_grant(
        &mut self,
        signed: &SignedGrant,
        now: UnixMillis,
    ) -> Result<(), GrantError> {
        let grant = signed.verify(&self.key, &self.session, now)?;
        self.grant = Some(grant);
        Ok(())
    }

    /// Takes in the server's state of the session.
    pub fn on_state(&mut self, state: ConsentState) {
        self.phase = state.phase;
        self.mode = state.mode;
        self.helper = state.helper;
        self.sign_out_after_elevation = state.sign_out_after_elevation;
        if let Some(why) = state.ended {
            self.ended = Some(why);
            self.grant = None;
        }
    }

    /// Whether the tenant signs the sharer out after a session in which
    /// elevation was used (from the latest state; on until told).
    pub fn sign_out_after_elevation(&self) -> bool {
        self.sign_out_after_elevation
    }

    /// Stops everything at once (Ctrl+C, the sharer left).
    pub fn end(&mut self, why: &str) {
        self.ended = Some(why.to_owned());
        self.grant = None;
    }

    fn live_grant(&self, now: UnixMillis) -> Option<&Grant> {
        self.grant.as_ref().filter(|g| now < g.expires_at)
    }

    /// Whether a pixel may be sent now.
    pub fn media_allowed(&self, now: UnixMillis) -> bool {
        self.ended.is_none()
            && self.phase == Phase::Active
            && self.mode.is_some()
            && self.live_grant(now).is_some()
    }

    /// Whether an input event may be injected now. A revoke or a pause
    /// takes effect with the state, before the old grant runs out.
    pub fn input_allowed(&self, now: UnixMillis) -> bool {
        self.media_allowed(now)
            && self.mode == Some(Mode::Control)
            && self
                .live_grant(now)
                .is_some_and(|g| g.mode == Mode::Control)
    }

    /// Whether the helper may act on a secure desktop (a UAC prompt) now:
    /// full control with a grant that carries Elevation.
    pub fn elevated_control(&self, now: UnixMillis) -> bool {
        self.input_allowed(now) && self.live_grant(now).is_some_and(|g| g.elevation)
    }

    /// The mode the agent enforces now, for the helper's console.
    pub fn enforced_mode(&self, now: UnixMillis) -> Option<Mode> {
        if self.input_allowed(now) {
            Some(Mode::Control)
        } else if self.media_allowed(now) {
            Some(Mode::View)
        } else {
            None
        }
    }

    pub fn paused(&self) -> bool {
        self.phase == Phase::Paused
    }

    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }

    pub fn status(&self, now: UnixMillis) -> Status {
        if let Some(why) = &self.ended {
            return Status::Ended { why: why.clone() };
        }
        if self.phase == Phase::Paused {
            return Status::Paused {
                helper: self.helper.clone(),
            };
        }
        match self.enforced_mode(now) {
            Some(mode) => Status::Shared {
                helper: self.helper.clone(),
                mode,
            },
            None => Status::Waiting,
        }
    }
}

/// Gates in known states, for other modules' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use ed25519_dalek::SigningKey;

    /// Full control with a live grant until 100 ms, with or without
    /// Elevation.
    pub(crate) fn controlled(elevation: bool) -> Gate {
        controlled_until(elevation, UnixMillis(100))
    }

    /// [`controlled`] with a grant that lasts until `expires_at`.
    pub(crate) fn controlled_until(elevation: bool, expires_at: UnixMillis) -> Gate {
        let key = SigningKey::from_bytes(&[5; 32]);
        let session = SessionId("s-test".into());
        let grant = Grant {
            session: session.clone(),
            mode: Mode::Control,
            elevation,
            issued_at: UnixMillis(0),
            expires_at,
            key_id: tandem_protocol::grant::key_id(&key.verifying_key()),
        };
        let mut gate = Gate::new(key.verifying_key(), session);
        gate.phase = Phase::Active;
        gate.mode = Some(Mode::Control);
        if let Ok(signed) = SignedGrant::sign(&grant, &key) {
            let _ = gate.accept_grant(&signed, UnixMillis(1));
        }
        gate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    const SESSION: &str = "s-1";

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[3; 32])
    }

    fn grant(mode: Mode, expires: i64, session: &str) -> SignedGrant {
        let grant = Grant {
            session: SessionId(session.into()),
            mode,
            elevation: false,
            issued_at: UnixMillis(0),
            expires_at: UnixMillis(expires),
            key_id: tandem_protocol::grant::key_id(&key().verifying_key()),
        };
        SignedGrant::sign(&grant, &key()).unwrap_or_else(|_| unreachable!())
    }

    fn view(phase: Phase, mode: Option<Mode>) -> ConsentState {
        ConsentState {
            phase,
            mode,
            helper: "Megan Bowen".into(),
            ended: None,
            sign_out_after_elevation: true,
        }
    }

    fn gate() -> Gate {
        Gate::new(key().verifying_key(), SessionId(SESSION.into()))
    }

    #[test]
    fn nothing_flows_without_a_grant() {
        let mut g = gate();
        g.on_state(view(Phase::Active, Some(Mode::Control)));
        assert!(!g.media_allowed(UnixMillis(1)));
        assert!(!g.input_allowed(UnixMillis(1)));
        assert_eq!(g.status(UnixMillis(1)), Status::Waiting);
    }

    #[test]
    fn a_view_grant_allows_pixels_but_no_input() {
        let mut g = gate();
        g.on_state(view(Phase::Active, Some(Mode::View)));
        assert!(
            g.accept_grant(&grant(Mode::View, 100, SESSION), UnixMillis(1))
                .is_ok()
        );
        assert!(g.media_allowed(UnixMillis(50)));
        assert!(!g.input_allowed(UnixMillis(50)));
        assert_eq!(
            g.status(UnixMillis(50)).to_string(),
            "shared with Megan Bowen (view only)"
        );
        assert!(!g.media_allowed(UnixMillis(100)), "expired");
    }

    #[test]
    fn control_needs_both_the_grant_and_the_state() {
        let mut g = gate();
        g.on_state(view(Phase::Active, Some(Mode::Control)));
        g.accept_grant(&grant(Mode::Control, 100, SESSION), UnixMillis(1))
            .unwrap_or_else(|_| unreachable!());
        assert!(g.input_allowed(UnixMillis(2)));
        // Paused: nothing at all, even with a live grant.
        g.on_state(view(Phase::Paused, Some(Mode::Control)));
        assert!(!g.media_allowed(UnixMillis(3)));
        assert!(!g.input_allowed(UnixMillis(3)));
        assert!(matches!(g.status(UnixMillis(3)), Status::Paused { .. }));
        // Revoked to view: input stops at once, before the grant expires.
        g.on_state(view(Phase::Active, Some(Mode::View)));
        assert!(!g.input_allowed(UnixMillis(4)));
    }

    #[test]
    fn foreign_forged_or_expired_grants_are_refused() {
        let mut g = gate();
        assert_eq!(
            g.accept_grant(&grant(Mode::Control, 100, "other"), UnixMillis(1)),
            Err(GrantError::WrongSession)
        );
        assert_eq!(
            g.accept_grant(&grant(Mode::Control, 100, SESSION), UnixMillis(100)),
            Err(GrantError::Expired)
        );
        let mut forged = grant(Mode::View, 100, SESSION);
        forged.payload = grant(Mode::Control, 100, SESSION).payload;
        assert!(g.accept_grant(&forged, UnixMillis(1)).is_err());
        let other_key = SigningKey::from_bytes(&[4; 32]);
        let mut g2 = Gate::new(other_key.verifying_key(), SessionId(SESSION.into()));
        assert!(
            g2.accept_grant(&grant(Mode::View, 100, SESSION), UnixMillis(1))
                .is_err()
        );
    }

    #[test]
    fn an_ended_session_stops_everything() {
        let mut g = gate();
        g.on_state(view(Phase::Active, Some(Mode::Control)));
        g.accept_grant(&grant(Mode::Control, 100, SESSION), UnixMillis(1))
            .unwrap_or_else(|_| unreachable!());
        let mut ended = view(Phase::Ended, None);
        ended.ended = Some("The helper left the session.".into());
        g.on_state(ended);
        assert!(!g.media_allowed(UnixMillis(2)));
        assert!(g.is_ended());
        let mut g = gate();
        g.on_state(view(Phase::Active, Some(Mode::View)));
        g.accept_grant(&grant(Mode::View, 100, SESSION), UnixMillis(1))
            .unwrap_or_else(|_| unreachable!());
        g.end("stopped on the device");
        assert!(!g.media_allowed(UnixMillis(2)));
    }

    #[test]
    fn a_hostile_helper_name_prints_as_one_inert_line() {
        let helper = "Eve\u{1b}[2K\r\u{1b}[8m\u{202e}\n".to_owned();
        for status in [
            Status::Shared {
                helper: helper.clone(),
                mode: Mode::Control,
            },
            Status::Paused {
                helper: helper.clone(),
            },
            Status::Ended {
                why: helper.clone(),
            },
        ] {
            let shown = status.to_string();
            assert!(
                !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{shown:?}"
            );
            assert!(shown.contains("Eve\\u{1b}[2K\\u{d}"), "{shown:?}");
        }
    }
}

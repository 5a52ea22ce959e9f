//! Input injection: the [`Injector`] trait and the gate in front of it.
//! Whatever a peer sends, an event reaches the OS only through
//! [`GatedInjector::offer`], which asks the consent gate first.

use crate::gate::Gate;
use crate::window::{Admission, WindowInput, admit};
use tandem_protocol::UnixMillis;
use tandem_protocol::input::{Display, Input};

mod held;
use held::HeldInput;

#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    #[error("input injection is not available: {0}")]
    Unsupported(&'static str),
    #[error("unknown key")]
    UnknownKey,
    #[error("injection failed: {0}")]
    Failed(String),
}

/// Sends input events to the OS.
pub trait Injector: Send + Sync {
    /// Pointer coordinates are pixels of the display set by
    /// [`Injector::set_display`].
    fn inject(&mut self, input: &Input) -> Result<(), InjectError>;
    /// Releases every key and button this injector holds down.
    fn release_all(&mut self) -> Result<(), InjectError>;
    /// The display being shared: pointer coordinates are relative to it.
    fn set_display(&mut self, _display: &Display) {}
    /// May input reach a secure desktop? Only while the helper holds
    /// Elevation and full control.
    fn allow_secure_desktop(&mut self, _allowed: bool) {}
    /// Whether an event reached a secure desktop (a UAC or sign-in prompt)
    /// since the last call: elevation was used. Platforms without secure
    /// desktops never say so.
    fn take_secure_delivery(&mut self) -> bool {
        false
    }
}

/// Counts of what happened to offered input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputCounts {
    pub injected: u64,
    /// Refused by the gate (no full control, paused, ended, no grant).
    pub refused: u64,
    /// The OS backend failed.
    pub failed: u64,
    /// Reached a secure desktop (a UAC prompt) for the helper.
    pub elevated: u64,
    /// Times held keys and buttons were let go because the helper went
    /// silent mid-press (see [`held`]).
    pub released_unheard: u64,
    /// Dropped because one window is shared and they fell outside it.
    pub outside_window: u64,
}

/// An injector behind the consent gate.
pub struct GatedInjector {
    inner: Box<dyn Injector>,
    counts: InputCounts,
    was_allowed: bool,
    /// Control ended and releasing what is held has not succeeded yet.
    release_pending: bool,
    /// Elevation was used and not yet reported.
    elevation_unreported: bool,
    held: HeldInput,
    /// While one window is shared: what input it admits.
    window: Option<WindowInput>,
    /// The sharer is answering a question on her screen (a file to
    /// accept): the helper's presses wait, so they cannot answer for her.
    consent_pending: bool,
}

impl std::fmt::Debug for GatedInjector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatedInjector")
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl GatedInjector {
    pub fn new(inner: Box<dyn Injector>) -> Self {
        Self {
            inner,
            counts: InputCounts::default(),
            was_allowed: false,
            release_pending: false,
            elevation_unreported: false,
            held: HeldInput::default(),
            window: None,
            consent_pending: false,
        }
    }

    /// Injects `input` if the gate allows input now (`Ok(true)`);
    /// otherwise drops it (`Ok(false)`). When control ends, everything held
    /// is released once. `Err`: the OS backend could not do it.
    pub fn offer(
        &mut self,
        gate: &Gate,
        now: UnixMillis,
        input: &Input,
    ) -> Result<bool, InjectError> {
        self.check(gate, now);
        let allowed = gate.input_allowed(now);
        self.was_allowed = allowed;
        if !allowed {
            self.counts.refused += 1;
            return Ok(false);
        }
        if matches!(input, Input::Held) {
            // Only a word that the helper is still there.
            self.held.heard(input, now);
            return Ok(true);
        }
        let release = matches!(
            input,
            Input::Key { down: false, .. } | Input::Button { down: false, .. } | Input::ReleaseAll
        );
        if self.consent_pending && !release {
            self.counts.refused += 1;
            return Ok(false);
        }
        // A key-up for a key the helper does not hold would reach another
        // window's key (held by the sharer) while one window is shared.
        if let (Some(_), Input::Key { code, down: false }) = (&self.window, input)
            && !self.held.holds_key(code)
        {
            self.counts.outside_window += 1;
            return Ok(false);
        }
        let moved;
        let input = match admit(input, self.window.as_ref()) {
            Admission::Inject => input,
            // A release outside lets go of a button pressed inside;
            // one that is not held has nothing to let go.
            Admission::InjectAt(inside) if matches!(&inside, Input::Button { button, .. } if self.held.holds_button(*button)) =>
            {
                moved = inside;
                &moved
            }
            Admission::InjectAt(_) | Admission::Drop => {
                self.counts.outside_window += 1;
                return Ok(false);
            }
        };
        match self.inner.inject(input) {
            Ok(()) => {
                self.held.heard(input, now);
                self.counts.injected += 1;
                // Only the backend knows where the event landed; the gate
                // already allowed a secure desktop only with Elevation.
                if self.inner.take_secure_delivery() && gate.elevated_control(now) {
                    self.counts.elevated += 1;
                    self.elevation_unreported = true;
                }
                Ok(true)
            }
            Err(error) => {
                tracing::debug!(%error, "input not injected");
                self.counts.failed += 1;
                Err(error)
            }
        }
    }

    /// Releases held input if control is gone, and tells the backend
    /// whether a secure desktop may be reached (called on every state
    /// change, every event and every second). A release that fails is
    /// tried again at the next call: a key left down on the sharer's
    /// machine must not stay down.
    pub fn check(&mut self, gate: &Gate, now: UnixMillis) {
        if self.was_allowed && !gate.input_allowed(now) {
            self.release_pending = true;
            self.was_allowed = false;
        }
        if self.held.overdue(now) && !self.release_pending {
            tracing::info!("the helper went silent with keys or buttons down: releasing them");
            self.counts.released_unheard += 1;
            self.release_pending = true;
        }
        if self.release_pending {
            match self.inner.release_all() {
                Ok(()) => {
                    self.release_pending = false;
                    self.held.clear();
                }
                Err(error) => {
                    self.counts.failed += 1;
                    tracing::warn!(%error, "releasing held keys and buttons failed; trying again");
                }
            }
        }
        self.inner.allow_secure_desktop(gate.elevated_control(now));
    }

    /// Whether the sharer is answering a question now (see
    /// `consent_pending`). What the helper holds is let go when it starts:
    /// a held modifier must not change what she types.
    pub fn hold_for_consent(&mut self, pending: bool) {
        if pending && !self.consent_pending && !self.held.is_empty() {
            self.release_pending = true;
        }
        self.consent_pending = pending;
    }

    /// One window shared (`Some`: what it admits), or the whole screen.
    /// When the window loses the keyboard or goes, what the helper holds
    /// is let go, so it never acts on another window.
    pub fn set_window(&mut self, window: Option<WindowInput>) {
        let lost =
            |rule: &WindowInput| !rule.focused || rule.mask == crate::window::Mask::Window(None);
        let was_fine = self.window.as_ref().is_none_or(|rule| !lost(rule));
        if was_fine && window.as_ref().is_some_and(lost) && !self.held.is_empty() {
            self.release_pending = true;
        }
        self.window = window;
    }

    pub fn set_display(&mut self, display: &Display) {
        self.inner.set_display(display);
    }

    pub fn counts(&self) -> InputCounts {
        self.counts
    }

    /// Whether elevation was used since the last call (once per use, for
    /// the server's record and the device log).
    pub fn take_elevation_used(&mut self) -> bool {
        std::mem::take(&mut self.elevation_unreported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Default, Clone)]
    struct Recorder(Arc<Mutex<Vec<Input>>>);

    impl Injector for Recorder {
        fn inject(&mut self, input: &Input) -> Result<(), InjectError> {
            self.0
                .lock()
                .map_err(|_| InjectError::UnknownKey)?
                .push(input.clone());
            Ok(())
        }
        fn release_all(&mut self) -> Result<(), InjectError> {
            self.0
                .lock()
                .map_err(|_| InjectError::UnknownKey)?
                .push(Input::ReleaseAll);
            Ok(())
        }
    }

    /// A backend whose every event lands on a secure desktop.
    struct SecureDesktop;

    impl Injector for SecureDesktop {
        fn inject(&mut self, _input: &Input) -> Result<(), InjectError> {
            Ok(())
        }
        fn release_all(&mut self) -> Result<(), InjectError> {
            Ok(())
        }
        fn take_secure_delivery(&mut self) -> bool {
            true
        }
    }

    #[test]
    fn a_key_held_by_a_silent_helper_is_released_within_the_timeout() {
        let gate = crate::gate::testing::controlled_until(false, UnixMillis(60_000));
        let recorder = Recorder::default();
        let mut injector = GatedInjector::new(Box::new(recorder.clone()));
        let shift = Input::Key {
            code: "ShiftLeft".into(),
            down: true,
        };
        assert!(matches!(
            injector.offer(&gate, UnixMillis(2), &shift),
            Ok(true)
        ));
        // Keep-alives hold it; they reach no backend.
        for t in [250, 500, 750, 1000] {
            assert!(matches!(
                injector.offer(&gate, UnixMillis(t), &Input::Held),
                Ok(true)
            ));
            injector.check(&gate, UnixMillis(t + 100));
        }
        assert_eq!(*recorder.0.lock().unwrap(), vec![shift.clone()]);
        // Then silence (the key-up was lost with the connection).
        let timeout = tandem_protocol::input::HELD_INPUT_TIMEOUT_MILLIS;
        injector.check(&gate, UnixMillis(1000 + timeout));
        assert_eq!(recorder.0.lock().unwrap().len(), 1, "not yet");
        injector.check(&gate, UnixMillis(1001 + timeout));
        assert_eq!(
            *recorder.0.lock().unwrap(),
            vec![shift, Input::ReleaseAll],
            "released once"
        );
        injector.check(&gate, UnixMillis(9000));
        assert_eq!(recorder.0.lock().unwrap().len(), 2, "and only once");
        assert_eq!(injector.counts().released_unheard, 1);
    }

    #[test]
    fn input_waits_while_the_sharer_answers_and_stays_inside_a_shared_window() {
        use crate::capture::Rect;
        use crate::window::{Mask, Shape, WindowInput};
        use tandem_protocol::input::Button;
        let gate = crate::gate::testing::controlled_until(false, UnixMillis(60_000));
        let recorder = Recorder::default();
        let mut injector = GatedInjector::new(Box::new(recorder.clone()));
        let click = |x, y, down| Input::Button {
            button: Button::Left,
            down,
            x,
            y,
        };
        // The sharer is asked about a file: presses wait, releases pass.
        injector.hold_for_consent(true);
        assert!(matches!(
            injector.offer(&gate, UnixMillis(1), &click(5, 5, true)),
            Ok(false)
        ));
        assert!(matches!(
            injector.offer(&gate, UnixMillis(2), &click(5, 5, false)),
            Ok(true)
        ));
        assert_eq!(injector.counts().refused, 1);
        injector.hold_for_consent(false);
        // One window shared: outside it nothing passes; a release of a
        // button pressed inside lands inside.
        injector.set_window(Some(WindowInput {
            mask: Mask::Window(Some(Shape {
                area: Rect {
                    x: 100,
                    y: 100,
                    width: 50,
                    height: 50,
                },
                holes: Vec::new(),
            })),
            focused: false,
        }));
        assert!(matches!(
            injector.offer(&gate, UnixMillis(3), &click(5, 5, true)),
            Ok(false)
        ));
        assert!(matches!(
            injector.offer(&gate, UnixMillis(4), &click(5, 5, false)),
            Ok(false)
        ));
        assert!(matches!(
            injector.offer(&gate, UnixMillis(5), &click(120, 120, true)),
            Ok(true)
        ));
        assert!(matches!(
            injector.offer(&gate, UnixMillis(6), &click(5, 5, false)),
            Ok(true)
        ));
        assert_eq!(injector.counts().outside_window, 2);
        assert_eq!(
            recorder.0.lock().unwrap().last(),
            Some(&click(125, 125, false)),
            "released inside the window"
        );
    }

    #[test]
    fn elevation_counts_as_used_only_when_input_reaches_a_prompt_with_elevation() {
        let click = Input::Move { x: 1, y: 1 };
        // Full control with Elevation, on a secure desktop: used, once.
        let mut injector = GatedInjector::new(Box::new(SecureDesktop));
        let gate = crate::gate::testing::controlled(true);
        assert!(matches!(
            injector.offer(&gate, UnixMillis(2), &click),
            Ok(true)
        ));
        assert!(injector.take_elevation_used());
        assert!(!injector.take_elevation_used(), "reported once");
        assert_eq!(injector.counts().elevated, 1);
        // Full control without Elevation: not used.
        let gate = crate::gate::testing::controlled(false);
        let mut injector = GatedInjector::new(Box::new(SecureDesktop));
        assert!(matches!(
            injector.offer(&gate, UnixMillis(2), &click),
            Ok(true)
        ));
        assert!(!injector.take_elevation_used());
        // Elevation held, but the event stayed on the normal desktop.
        let gate = crate::gate::testing::controlled(true);
        let mut injector = GatedInjector::new(Box::new(Recorder::default()));
        assert!(matches!(
            injector.offer(&gate, UnixMillis(2), &click),
            Ok(true)
        ));
        assert!(!injector.take_elevation_used());
        assert_eq!(injector.counts().elevated, 0);
    }

    /// A backend whose release fails the first `failures` times.
    #[derive(Default, Clone)]
    struct StickyRelease {
        failures: Arc<Mutex<u32>>,
        releases: Arc<Mutex<u32>>,
    }

    impl Injector for StickyRelease {
        fn inject(&mut self, _input: &Input) -> Result<(), InjectError> {
            Ok(())
        }
        fn release_all(&mut self) -> Result<(), InjectError> {
            let mut failures = self.failures.lock().map_err(|_| InjectError::UnknownKey)?;
            if *failures > 0 {
                *failures -= 1;
                return Err(InjectError::UnknownKey);
            }
            *self.releases.lock().map_err(|_| InjectError::UnknownKey)? += 1;
            Ok(())
        }
    }

    /// Before, a failed release was ignored and never tried again.
    #[test]
    fn a_failed_release_is_tried_again_until_it_succeeds() {
        let backend = StickyRelease::default();
        *backend.failures.lock().unwrap() = 2;
        let mut injector = GatedInjector::new(Box::new(backend.clone()));
        let controlled = crate::gate::testing::controlled(false);
        let click = Input::Move { x: 1, y: 1 };
        assert!(matches!(
            injector.offer(&controlled, UnixMillis(2), &click),
            Ok(true)
        ));
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
        let ended = Gate::new(key, tandem_protocol::SessionId("s".into()));
        injector.check(&ended, UnixMillis(3));
        // An event after control ended is refused, and the release retried.
        assert!(matches!(
            injector.offer(&ended, UnixMillis(4), &click),
            Ok(false)
        ));
        injector.check(&ended, UnixMillis(5));
        injector.check(&ended, UnixMillis(6));
        assert_eq!(
            *backend.releases.lock().unwrap(),
            1,
            "released once it could"
        );
        assert_eq!(injector.counts().failed, 2);
        assert_eq!(injector.counts().refused, 1);
    }

    #[test]
    fn without_control_nothing_reaches_the_backend() {
        let recorder = Recorder::default();
        let mut injector = GatedInjector::new(Box::new(recorder.clone()));
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
        let gate = Gate::new(key, tandem_protocol::SessionId("s".into()));
        for _ in 0..100 {
            let offered = injector.offer(&gate, UnixMillis(1), &Input::Move { x: 1, y: 1 });
            assert!(matches!(offered, Ok(false)));
        }
        assert_eq!(injector.counts().refused, 100);
        assert!(recorder.0.lock().map(|v| v.is_empty()).unwrap_or(false));
    }
}

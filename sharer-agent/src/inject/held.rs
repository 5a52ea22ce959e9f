//! What the helper holds down on the device, and when to let it go: a
//! pure core (time is passed in). A key-up lost with a dropped connection,
//! or a helper gone mid-press, must not leave a key down on the sharer's
//! machine. The console says "still held" every
//! [`tandem_protocol::input::HELD_KEEP_ALIVE_MILLIS`] while anything is;
//! silence past [`HELD_INPUT_TIMEOUT_MILLIS`] releases everything.

use tandem_protocol::UnixMillis;
use tandem_protocol::input::{HELD_INPUT_TIMEOUT_MILLIS, HeldDown, Input};

/// Keys and buttons down on the device because of the helper, and when
/// the helper was last heard.
#[derive(Debug, Default)]
pub struct HeldInput {
    down: HeldDown,
    last_heard: Option<UnixMillis>,
}

impl HeldInput {
    /// Notes an input the device just carried out (or a keep-alive).
    pub fn heard(&mut self, input: &Input, now: UnixMillis) {
        self.last_heard = Some(now);
        self.down.note(input);
    }

    pub fn is_empty(&self) -> bool {
        self.down.is_empty()
    }

    /// Whether the helper holds the key `code` down on the device.
    pub fn holds_key(&self, code: &str) -> bool {
        self.down.holds_key(code)
    }

    /// Whether the helper holds `button` down on the device.
    pub fn holds_button(&self, button: tandem_protocol::input::Button) -> bool {
        self.down.holds_button(button)
    }

    /// Whether what is held must be released now: something is held and
    /// the helper has been silent past the timeout.
    pub fn overdue(&self, now: UnixMillis) -> bool {
        !self.is_empty()
            && self
                .last_heard
                .is_none_or(|t| now.0 - t.0 > HELD_INPUT_TIMEOUT_MILLIS)
    }

    /// Everything was released.
    pub fn clear(&mut self) {
        self.down.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tandem_protocol::input::Button;

    fn key(code: &str, down: bool) -> Input {
        Input::Key {
            code: code.into(),
            down,
        }
    }

    #[test]
    fn a_held_key_is_released_after_the_timeout_of_silence_not_before() {
        let mut held = HeldInput::default();
        held.heard(&key("ShiftLeft", true), UnixMillis(0));
        assert!(!held.overdue(UnixMillis(HELD_INPUT_TIMEOUT_MILLIS)));
        // Keep-alives keep it down as long as they come.
        for t in (250..5000).step_by(250) {
            held.heard(&Input::Held, UnixMillis(t));
            assert!(
                !held.overdue(UnixMillis(t + HELD_INPUT_TIMEOUT_MILLIS)),
                "{t}"
            );
        }
        assert!(held.overdue(UnixMillis(4750 + HELD_INPUT_TIMEOUT_MILLIS + 1)));
        held.clear();
        assert!(
            !held.overdue(UnixMillis(10_000)),
            "nothing held, nothing to do"
        );
    }

    #[test]
    fn released_keys_and_buttons_leave_nothing_held() {
        let mut held = HeldInput::default();
        held.heard(&key("KeyA", true), UnixMillis(0));
        let button = |down| Input::Button {
            button: Button::Left,
            down,
            x: 1,
            y: 1,
        };
        held.heard(&button(true), UnixMillis(1));
        held.heard(&key("KeyA", false), UnixMillis(2));
        assert!(!held.is_empty());
        held.heard(&button(false), UnixMillis(3));
        assert!(held.is_empty());
        assert!(!held.overdue(UnixMillis(60_000)));
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            (0..4u8, any::<bool>()).prop_map(|(k, down)| key(&format!("Key{k}"), down)),
            any::<bool>().prop_map(|down| Input::Button {
                button: Button::Left,
                down,
                x: 0,
                y: 0
            }),
            Just(Input::Held),
            Just(Input::ReleaseAll),
        ]
    }

    proptest! {
        /// Against a model (a set of held codes and the time of the last
        /// word): whatever arrives, in whatever order and with whatever
        /// gaps, what is held is due for release exactly when something is
        /// held and the helper has been silent past the timeout.
        #[test]
        fn release_is_due_exactly_when_something_is_held_past_the_timeout(
            events in proptest::collection::vec((input(), 0..3000i64), 1..60),
        ) {
            let mut held = HeldInput::default();
            let mut model: std::collections::BTreeSet<String> = Default::default();
            let mut last: Option<i64> = None;
            let mut now = 0;
            for (event, gap) in events {
                now += gap;
                let due = !model.is_empty()
                    && last.is_none_or(|t| now - t > HELD_INPUT_TIMEOUT_MILLIS);
                prop_assert_eq!(held.overdue(UnixMillis(now)), due);
                if due {
                    held.clear();
                    model.clear();
                }
                held.heard(&event, UnixMillis(now));
                last = Some(now);
                match &event {
                    Input::Key { code, down: true } => { model.insert(code.clone()); }
                    Input::Key { code, down: false } => { model.remove(code); }
                    Input::Button { down: true, .. } => { model.insert("button".into()); }
                    Input::Button { down: false, .. } => { model.remove("button"); }
                    Input::ReleaseAll => model.clear(),
                    _ => {}
                }
                prop_assert_eq!(held.is_empty(), model.is_empty());
            }
        }
    }
}

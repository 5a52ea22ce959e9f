//! Characters → X keysyms. Physical keys use the shared
//! [`crate::platform::keymap::evdev`]: X keycodes on evdev systems (Xorg,
//! Xvfb with the evdev rules) are the evdev number + 8.

/// The X keysym of a character (Latin-1 directly, the rest as Unicode
/// keysyms).
pub fn keysym(c: char) -> u32 {
    let code = u32::from(c);
    match code {
        0x20..=0x7e | 0xa0..=0xff => code,
        0x0a | 0x0d => 0xff0d,
        0x09 => 0xff09,
        _ => 0x0100_0000 | code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_become_keysyms() {
        assert_eq!(keysym('a'), 0x61);
        assert_eq!(keysym('é'), 0xe9);
        assert_eq!(keysym('€'), 0x0100_20ac);
        assert_eq!(keysym('\n'), 0xff0d);
    }
}

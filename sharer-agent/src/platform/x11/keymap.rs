//! `KeyboardEvent.code` → Linux evdev key number. X keycodes on evdev
//! systems (Xorg, Xvfb with the evdev rules) are the evdev number + 8.

/// The evdev number of a physical key, by its DOM code.
pub fn evdev(code: &str) -> Option<u8> {
    let letters = "QWERTYUIOP";
    let home = "ASDFGHJKL";
    let bottom = "ZXCVBNM";
    if let Some(letter) = code.strip_prefix("Key").filter(|l| l.len() == 1) {
        for (row, start) in [(letters, 16u8), (home, 30), (bottom, 44)] {
            if let Some(i) = row.find(letter) {
                return Some(start + i as u8);
            }
        }
        return None;
    }
    if let Some(digit) = code
        .strip_prefix("Digit")
        .and_then(|d| d.parse::<u8>().ok())
    {
        return Some(if digit == 0 { 11 } else { 1 + digit });
    }
    if let Some(n) = code.strip_prefix('F').and_then(|d| d.parse::<u8>().ok()) {
        return match n {
            1..=10 => Some(58 + n),
            11 => Some(87),
            12 => Some(88),
            _ => None,
        };
    }
    Some(match code {
        "Escape" => 1,
        "Minus" => 12,
        "Equal" => 13,
        "Backspace" => 14,
        "Tab" => 15,
        "BracketLeft" => 26,
        "BracketRight" => 27,
        "Enter" => 28,
        "ControlLeft" => 29,
        "Semicolon" => 39,
        "Quote" => 40,
        "Backquote" => 41,
        "ShiftLeft" => 42,
        "Backslash" => 43,
        "Comma" => 51,
        "Period" => 52,
        "Slash" => 53,
        "ShiftRight" => 54,
        "NumpadMultiply" => 55,
        "AltLeft" => 56,
        "Space" => 57,
        "CapsLock" => 58,
        "NumLock" => 69,
        "ScrollLock" => 70,
        "Numpad7" => 71,
        "Numpad8" => 72,
        "Numpad9" => 73,
        "NumpadSubtract" => 74,
        "Numpad4" => 75,
        "Numpad5" => 76,
        "Numpad6" => 77,
        "NumpadAdd" => 78,
        "Numpad1" => 79,
        "Numpad2" => 80,
        "Numpad3" => 81,
        "Numpad0" => 82,
        "NumpadDecimal" => 83,
        "IntlBackslash" => 86,
        "NumpadEnter" => 96,
        "ControlRight" => 97,
        "NumpadDivide" => 98,
        "PrintScreen" => 99,
        "AltRight" => 100,
        "Home" => 102,
        "ArrowUp" => 103,
        "PageUp" => 104,
        "ArrowLeft" => 105,
        "ArrowRight" => 106,
        "End" => 107,
        "ArrowDown" => 108,
        "PageDown" => 109,
        "Insert" => 110,
        "Delete" => 111,
        "Pause" => 119,
        "MetaLeft" => 125,
        "MetaRight" => 126,
        "ContextMenu" => 127,
        _ => return None,
    })
}

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
    fn common_keys_map_to_evdev() {
        assert_eq!(evdev("KeyA"), Some(30));
        assert_eq!(evdev("KeyQ"), Some(16));
        assert_eq!(evdev("KeyM"), Some(50));
        assert_eq!(evdev("Digit1"), Some(2));
        assert_eq!(evdev("Digit0"), Some(11));
        assert_eq!(evdev("F1"), Some(59));
        assert_eq!(evdev("F12"), Some(88));
        assert_eq!(evdev("Enter"), Some(28));
        assert_eq!(evdev("MetaLeft"), Some(125));
        assert_eq!(evdev("KeyAB"), None);
        assert_eq!(evdev("Nope"), None);
    }

    #[test]
    fn characters_become_keysyms() {
        assert_eq!(keysym('a'), 0x61);
        assert_eq!(keysym('é'), 0xe9);
        assert_eq!(keysym('€'), 0x0100_20ac);
        assert_eq!(keysym('\n'), 0xff0d);
    }
}

//! `KeyboardEvent.code` → the OS's number for a physical key: the Linux
//! evdev number, and the PC set-1 scan code Windows' `SendInput` takes.
//! Pure, so both backends share one table.

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

/// The set-1 scan code of a physical key and whether it is an extended
/// (E0-prefixed) key. For the main block the evdev number is the scan
/// code; the navigation block, right-hand modifiers and a few keypad keys
/// are extended.
pub fn scan_code(code: &str) -> Option<(u16, bool)> {
    let extended = match code {
        "NumpadEnter" => 0x1c,
        "ControlRight" => 0x1d,
        "NumpadDivide" => 0x35,
        "PrintScreen" => 0x37,
        "AltRight" => 0x38,
        "Pause" => 0x45,
        "Home" => 0x47,
        "ArrowUp" => 0x48,
        "PageUp" => 0x49,
        "ArrowLeft" => 0x4b,
        "ArrowRight" => 0x4d,
        "End" => 0x4f,
        "ArrowDown" => 0x50,
        "PageDown" => 0x51,
        "Insert" => 0x52,
        "Delete" => 0x53,
        "MetaLeft" => 0x5b,
        "MetaRight" => 0x5c,
        "ContextMenu" => 0x5d,
        _ => {
            return evdev(code)
                .filter(|&n| n <= 88)
                .map(|n| (u16::from(n), false));
        }
    };
    Some((extended, true))
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
    fn keys_map_to_set_one_scan_codes() {
        assert_eq!(scan_code("KeyA"), Some((0x1e, false)));
        assert_eq!(scan_code("Enter"), Some((0x1c, false)));
        assert_eq!(scan_code("NumpadEnter"), Some((0x1c, true)));
        assert_eq!(scan_code("ControlLeft"), Some((0x1d, false)));
        assert_eq!(scan_code("ControlRight"), Some((0x1d, true)));
        assert_eq!(scan_code("Delete"), Some((0x53, true)));
        assert_eq!(scan_code("MetaLeft"), Some((0x5b, true)));
        assert_eq!(scan_code("F12"), Some((0x58, false)));
        assert_eq!(scan_code("Nope"), None);
    }
}

//! Characters ↔ X keysyms, and where the sharer's layout has a character.
//! Physical keys use the shared [`crate::platform::keymap::evdev`]: X
//! keycodes on evdev systems (Xorg, Xvfb with the evdev rules) are the
//! evdev number + 8. Pure: the injector passes the keyboard mapping in.

/// `Shift_L`.
pub const SHIFT: u32 = 0xffe1;
/// `ISO_Level3_Shift`: AltGr on European layouts.
pub const LEVEL3: u32 = 0xfe03;

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

/// The character a keysym types, if it types one by itself (a dead key
/// does not). Layouts name some characters by their legacy keysyms (the
/// euro sign is `EuroSign`, not `U20AC`), so those are read too.
pub fn keysym_char(sym: u32) -> Option<char> {
    match sym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(sym),
        0x0100_00a0..=0x0110_ffff => char::from_u32(sym - 0x0100_0000),
        0xff0d => Some('\n'),
        0xff09 => Some('\t'),
        0x20ac => Some('€'),
        0x13bc => Some('Œ'),
        0x13bd => Some('œ'),
        0x13be => Some('Ÿ'),
        _ => None,
    }
}

/// The modifiers a key needs to give the symbol in a column of the core
/// keyboard mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Base,
    Shift,
    /// AltGr (`ISO_Level3_Shift`).
    AltGr,
    ShiftAltGr,
}

impl Level {
    /// Lowest first: a character on two levels is typed with fewer
    /// modifiers. In the core mapping XKB makes, columns 0 and 1 are
    /// group 1's first two levels and columns 4 and 5 its third and
    /// fourth; columns 2 and 3 are group 2, which would need a group
    /// switch, so they are not used.
    const COLUMNS: [(usize, Level); 4] = [
        (0, Level::Base),
        (1, Level::Shift),
        (4, Level::AltGr),
        (5, Level::ShiftAltGr),
    ];

    pub fn shifted(self) -> bool {
        matches!(self, Level::Shift | Level::ShiftAltGr)
    }

    pub fn alt_gr(self) -> bool {
        matches!(self, Level::AltGr | Level::ShiftAltGr)
    }
}

/// One `GetKeyboardMapping` reply: `per` keysyms for each keycode from
/// `min_keycode` on.
#[derive(Debug, Clone)]
pub struct Layout {
    pub min_keycode: u8,
    pub per: usize,
    pub keysyms: Vec<u32>,
}

impl Layout {
    fn keys(&self) -> impl DoubleEndedIterator<Item = (u8, &[u32])> {
        let min = self.min_keycode;
        self.keysyms
            .chunks(self.per.max(1))
            .enumerate()
            .filter_map(move |(i, syms)| Some((min.checked_add(u8::try_from(i).ok()?)?, syms)))
    }

    /// The keycode and level that give `wanted`, lowest level first.
    fn find(&self, wanted: impl Fn(u32) -> bool) -> Option<(u8, Level)> {
        Level::COLUMNS.iter().find_map(|&(column, level)| {
            self.keys()
                .find(|(_, syms)| syms.get(column).is_some_and(|s| wanted(*s)))
                .map(|(code, _)| (code, level))
        })
    }

    /// The keycode that gives `sym` (a modifier, say) at any level.
    pub fn keycode_of(&self, sym: u32) -> Option<u8> {
        self.find(|s| s == sym).map(|(code, _)| code)
    }

    /// Where this layout types `c`.
    pub fn key_for(&self, c: char) -> Option<(u8, Level)> {
        let sym = keysym(c);
        self.find(|s| s == sym || (keysym_char(s) == Some(c) && !c.is_control()))
    }

    /// Keycodes with no symbol at all, highest first: free to borrow.
    pub fn empty_keycodes(&self) -> impl Iterator<Item = u8> + '_ {
        self.keys()
            .rev()
            .filter(|(_, syms)| syms.iter().all(|s| *s == 0))
            .map(|(code, _)| code)
    }

    /// Notes that `code` now gives `sym` at its first two levels (as
    /// `ChangeKeyboardMapping` with two keysyms leaves it).
    pub fn set(&mut self, code: u8, sym: u32) {
        let per = self.per.max(1);
        let Some(start) = usize::from(code)
            .checked_sub(usize::from(self.min_keycode))
            .map(|i| i * per)
        else {
            return;
        };
        if let Some(syms) = self.keysyms.get_mut(start..start + per) {
            for (i, s) in syms.iter_mut().enumerate() {
                *s = if i < 2 { sym } else { 0 };
            }
        }
    }

    /// What `code` gives at its first level.
    pub fn base(&self, code: u8) -> Option<u32> {
        self.keys()
            .find(|(c, _)| *c == code)
            .and_then(|(_, syms)| syms.first().copied())
    }
}

/// The keycodes borrowed for characters the layout lacks, least recently
/// used first. A borrowed keycode keeps its character until it is needed
/// for another: giving it back right after the key-up would race the
/// program reading it (X programs look the keycode up when they handle
/// the event, which may be after the mapping changed back).
#[derive(Debug, Default)]
pub struct Borrowed {
    keys: Vec<(u8, u32)>,
}

/// At most this many keycodes are borrowed at once.
pub const MAX_BORROWED: usize = 8;

impl Borrowed {
    /// The keycode to map to `sym`: an empty one while fewer than
    /// [`MAX_BORROWED`] are borrowed, else the least recently used of ours.
    pub fn borrow(&mut self, layout: &Layout, sym: u32) -> Option<u8> {
        let ours = |code: u8| self.keys.iter().any(|(c, _)| *c == code);
        let fresh = layout.empty_keycodes().find(|code| !ours(*code));
        let code = match fresh {
            Some(code) if self.keys.len() < MAX_BORROWED => code,
            _ if !self.keys.is_empty() => self.keys.remove(0).0,
            other => other?,
        };
        self.keys.push((code, sym));
        Some(code)
    }

    /// Notes that `code` was just used, so it is given up last.
    pub fn used(&mut self, code: u8) {
        if let Some(i) = self.keys.iter().position(|(c, _)| *c == code) {
            let key = self.keys.remove(i);
            self.keys.push(key);
        }
    }

    /// The borrowed keycodes that still give what we mapped (a layout
    /// switch may have replaced them), to be emptied again; forgets all.
    pub fn give_back(&mut self, layout: &Layout) -> Vec<u8> {
        std::mem::take(&mut self.keys)
            .into_iter()
            .filter(|(code, sym)| layout.base(*code) == Some(*sym))
            .map(|(code, _)| code)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn characters_become_keysyms() {
        assert_eq!(keysym('a'), 0x61);
        assert_eq!(keysym('é'), 0xe9);
        assert_eq!(keysym('€'), 0x0100_20ac);
        assert_eq!(keysym('\n'), 0xff0d);
        for c in ['a', 'é', '€', 'ß', 'Œ', '\n', '\t', '✓'] {
            assert_eq!(keysym_char(keysym(c)), Some(c), "{c:?}");
        }
        assert_eq!(keysym_char(0x20ac), Some('€'), "EuroSign");
        assert_eq!(
            keysym_char(0xfe52),
            None,
            "dead_circumflex types nothing alone"
        );
    }

    /// Three keys of a French layout, as the core mapping shows them
    /// (8 columns), from keycode 10: `1 &`-key, `2 é`-key with `~` dead on
    /// AltGr, `0 à`-key with `@` on AltGr; then two empty keycodes.
    fn french() -> Layout {
        let d = 0xfe53; // dead_tilde
        Layout {
            min_keycode: 10,
            per: 8,
            keysyms: [
                [0x26, 0x31, 0x26, 0x31, 0, 0, 0, 0],
                [0xe9, 0x32, 0xe9, 0x32, d, 0, d, 0],
                [0xe0, 0x30, 0xe0, 0x30, 0x40, 0xb0, 0x40, 0xb0],
                [0; 8],
                [0; 8],
            ]
            .concat(),
        }
    }

    #[test]
    fn the_layout_says_which_key_and_modifiers_type_a_character() {
        let fr = french();
        assert_eq!(fr.key_for('&'), Some((10, Level::Base)));
        assert_eq!(fr.key_for('1'), Some((10, Level::Shift)));
        assert_eq!(fr.key_for('é'), Some((11, Level::Base)));
        assert_eq!(fr.key_for('@'), Some((12, Level::AltGr)));
        assert_eq!(fr.key_for('°'), Some((12, Level::ShiftAltGr)));
        // `~` is only a dead key here, which types nothing by itself.
        assert_eq!(fr.key_for('~'), None);
        assert_eq!(fr.keycode_of(0xfe53), Some(11));
        assert!(Level::ShiftAltGr.shifted() && Level::ShiftAltGr.alt_gr());
        assert!(!Level::Base.shifted() && !Level::Shift.alt_gr());
    }

    #[test]
    fn legacy_and_unicode_keysyms_both_count() {
        let mut layout = french();
        layout.set(13, 0x20ac);
        assert_eq!(layout.key_for('€'), Some((13, Level::Base)));
        layout.set(13, 0x0100_20ac);
        assert_eq!(layout.key_for('€'), Some((13, Level::Base)));
    }

    #[test]
    fn borrowed_keycodes_are_kept_then_reused_least_recent_first_and_given_back() {
        let mut layout = french();
        let mut borrowed = Borrowed::default();
        let first = borrowed.borrow(&layout, 0x7e).unwrap();
        assert_eq!(first, 14, "the highest empty keycode");
        layout.set(first, 0x7e);
        assert_eq!(layout.key_for('~'), Some((14, Level::Base)), "kept mapped");
        let second = borrowed.borrow(&layout, 0xea).unwrap();
        assert_eq!(second, 13);
        layout.set(second, 0xea);
        // No empty keycode left: the least recently used is taken again,
        // unless it was just used.
        borrowed.used(first);
        let third = borrowed.borrow(&layout, 0xfc).unwrap();
        assert_eq!(third, second);
        layout.set(third, 0xfc);
        // A layout switch replaced one of them: only the other is emptied.
        layout.set(first, 0x61);
        assert_eq!(borrowed.give_back(&layout), vec![third]);
        assert_eq!(borrowed.give_back(&layout), Vec::<u8>::new());
    }

    #[test]
    fn at_most_a_few_keycodes_are_borrowed() {
        let mut layout = Layout {
            min_keycode: 8,
            per: 2,
            keysyms: vec![0; 2 * 248],
        };
        let mut borrowed = Borrowed::default();
        let mut seen = std::collections::BTreeSet::new();
        for sym in 0..40u32 {
            let code = borrowed.borrow(&layout, 0x100 + sym).unwrap();
            layout.set(code, 0x100 + sym);
            seen.insert(code);
        }
        assert_eq!(seen.len(), MAX_BORROWED);
        assert_eq!(borrowed.give_back(&layout).len(), MAX_BORROWED);
    }
}

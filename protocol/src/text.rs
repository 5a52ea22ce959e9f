//! Names people and devices give themselves end up on terminals, in
//! syslog and in the console. This module is the one rule for them:
//! [`check_name`] refuses control characters and invisible formatting
//! characters (direction overrides, zero-width characters) where a name is
//! typed in, [`sanitize`] neutralises them in data we must accept (an
//! identity provider's claims), and [`printable`] escapes them wherever a
//! name is printed or logged.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` must never appear in a name: a control character (C0, DEL,
/// C1), or an invisible character that reorders or hides text: the Arabic
/// letter mark, zero-width spaces and joiners and the left-to-right and
/// right-to-left marks (U+200B–U+200F), line and paragraph separators,
/// direction embeddings and overrides (U+202A–U+202E), the word joiner,
/// invisible operators and direction isolates (U+2060–U+2069), and the
/// byte-order mark (U+FEFF).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Why a name was refused. Its `Display` is a predicate, so callers say
/// whose it is: `format!("The display name {error}.")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Nothing but white space.
    Empty,
    /// More than `max` characters (after trimming).
    TooLong { max: usize },
    /// A character for which [`is_hidden`] holds.
    Hidden,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("is empty"),
            NameError::TooLong { max } => write!(f, "is longer than {max} characters"),
            NameError::Hidden => f.write_str(
                "contains control characters or invisible characters (line breaks, escape \
                 codes, zero-width or text-direction characters)",
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Checks a name: not blank, at most `max_chars` characters once trimmed,
/// and no character for which [`is_hidden`] holds (anywhere, trimmed
/// white space included).
pub fn check_name(text: &str, max_chars: usize) -> Result<(), NameError> {
    if text.trim().is_empty() {
        return Err(NameError::Empty);
    }
    check_text(text, max_chars)
}

/// [`check_name`] for an optional field: blank is fine.
pub fn check_text(text: &str, max_chars: usize) -> Result<(), NameError> {
    if text.chars().any(is_hidden) {
        return Err(NameError::Hidden);
    }
    // Counting stops one past the bound, so a huge text costs no more
    // than a long one.
    if text
        .trim()
        .chars()
        .take(max_chars.saturating_add(1))
        .count()
        > max_chars
    {
        return Err(NameError::TooLong { max: max_chars });
    }
    Ok(())
}

/// Neutralises a name we must accept as it comes (an identity provider's
/// claim): control characters become spaces, invisible formatting
/// characters are dropped, runs of white space become one space, and the
/// result is trimmed and cut to `max_chars` characters.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut count = 0usize;
    let mut space = false;
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else if is_hidden(c) {
            continue;
        } else {
            c
        };
        if c == ' ' {
            space = true;
            continue;
        }
        if space && count > 0 {
            if count + 1 >= max_chars {
                break;
            }
            out.push(' ');
            count += 1;
        }
        space = false;
        if count >= max_chars {
            break;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// The text as it may be printed on a terminal or written to a log: every
/// character for which [`is_hidden`] holds becomes its `\u{…}` escape, so
/// a name can neither move the cursor, erase or hide lines, start a new
/// log line, nor reorder what follows it. Borrowed when nothing changes.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "Eve\u{1b}[2K\r\u{1b}[8m";

    #[test]
    fn names_with_control_or_invisible_characters_are_refused() {
        assert_eq!(check_name("Ann Lee", 200), Ok(()));
        assert_eq!(check_name("Zoë Ångström-李", 200), Ok(()));
        assert_eq!(check_name("مريم", 200), Ok(()));
        assert_eq!(check_name("   ", 200), Err(NameError::Empty));
        assert_eq!(check_name(HOSTILE, 200), Err(NameError::Hidden));
        for bad in [
            "a\nb",
            "a\rb",
            "a\tb",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9b}2K",
            "a\u{200b}b",
            "a\u{200f}",
            "\u{202e}gnp.exe",
            "a\u{2066}b\u{2069}",
            "\u{feff}a",
            "a\u{2028}b",
            "a\u{061c}b",
            "a\u{2060}b",
            "Ann\n",
        ] {
            assert_eq!(check_name(bad, 200), Err(NameError::Hidden), "{bad:?}");
        }
        assert_eq!(check_name(&"é".repeat(200), 200), Ok(()));
        assert_eq!(
            check_name(&"é".repeat(201), 200),
            Err(NameError::TooLong { max: 200 })
        );
        assert_eq!(check_text("", 200), Ok(()));
        assert_eq!(check_text("a\u{202e}", 200), Err(NameError::Hidden));
    }

    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(
            format!("The name {}.", NameError::TooLong { max: 200 }),
            "The name is longer than 200 characters."
        );
        assert!(NameError::Hidden.to_string().contains("control"));
    }

    #[test]
    fn printable_escapes_every_hidden_character_and_keeps_the_rest() {
        assert!(matches!(printable("Ann Lee"), Cow::Borrowed("Ann Lee")));
        assert!(matches!(printable("Zoë 李"), Cow::Borrowed(_)));
        let shown = printable(HOSTILE);
        assert_eq!(shown, "Eve\\u{1b}[2K\\u{d}\\u{1b}[8m");
        assert!(!shown.chars().any(is_hidden));
        assert_eq!(printable("a\u{202e}b\nc"), "a\\u{202e}b\\u{a}c");
    }

    #[test]
    fn sanitize_neutralises_what_an_identity_provider_sends() {
        assert_eq!(sanitize("Ann Lee", 200), "Ann Lee");
        assert_eq!(sanitize(HOSTILE, 200), "Eve [2K [8m");
        assert_eq!(sanitize("  Ann\r\n\tLee\u{200b} ", 200), "Ann Lee");
        assert_eq!(sanitize("\u{202e}evil", 200), "evil");
        assert_eq!(sanitize(&"x".repeat(500), 200).chars().count(), 200);
        assert_eq!(sanitize("ab cd", 3), "ab");
        assert_eq!(sanitize("\u{1b}\u{202e}", 200), "");
        for c in ['\u{0}', '\u{85}', '\u{2029}', '\u{2066}', '\u{feff}'] {
            assert!(!sanitize(&format!("a{c}b"), 200).chars().any(is_hidden));
        }
    }
}

//! Security codes: 8 characters from an alphabet without look-alikes
//! (no 0/O, 1/I/L), drawn uniformly from the OS's random source, stored
//! only as a keyed hash (HMAC-SHA-256), compared in constant time.
//!
//! What the sharer types is normalised first: case, spaces and dashes do
//! not matter, and look-alikes of excluded characters are refused rather
//! than guessed.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The code alphabet: 31 characters, no look-alikes.
pub const ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters per code (31^8 ≈ 8.5 × 10^11 codes).
pub const CODE_LEN: usize = 8;

/// A new code, e.g. `K7MQ2XRT`.
pub fn generate() -> String {
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % ALPHABET.len());
    let mut code = String::with_capacity(CODE_LEN);
    while code.len() < CODE_LEN {
        let mut byte = [0u8; 1];
        OsRng.fill_bytes(&mut byte);
        let value = usize::from(byte[0]);
        if value < limit {
            code.push(char::from(ALPHABET[value % ALPHABET.len()]));
        }
    }
    code
}

/// What the sharer typed, as a code, or `None` if it cannot be one.
pub fn normalize(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(code)
}

/// The stored form of `code` under the server's `key` (`None` only if the
/// key were refused, which HMAC never does).
pub fn hash(key: &[u8], code: &str) -> Option<Vec<u8>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(code.as_bytes());
    Some(mac.finalize().into_bytes().to_vec())
}

/// Whether `input` is the code stored as `stored`, in constant time.
pub fn matches(key: &[u8], input: &str, stored: &[u8]) -> bool {
    let Some(code) = normalize(input) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return false;
    };
    mac.update(code.as_bytes());
    mac.verify_slice(stored).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_use_only_the_alphabet_and_differ() {
        let codes: HashSet<String> = (0..1000).map(|_| generate()).collect();
        assert_eq!(codes.len(), 1000);
        for code in &codes {
            assert_eq!(code.len(), CODE_LEN);
            assert!(code.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
        }
        for confusing in ['0', 'O', '1', 'I', 'L'] {
            assert!(!ALPHABET.contains(&(confusing as u8)), "{confusing}");
        }
    }

    #[test]
    fn typing_is_forgiving_but_never_guesses() {
        assert_eq!(normalize(" k7mq-2xrt "), Some("K7MQ2XRT".into()));
        assert_eq!(normalize("K7MQ 2XR"), None, "too short");
        assert_eq!(normalize("K7MQ2XR0"), None, "0 is not in the alphabet");
        assert_eq!(normalize("K7MQ2XRTT"), None, "too long");
    }

    #[test]
    fn only_the_right_code_under_the_right_key_matches() {
        let key = b"server-secret";
        let stored = hash(key, "K7MQ2XRT").unwrap();
        assert_ne!(stored, b"K7MQ2XRT".to_vec(), "never stored in clear");
        assert!(matches(key, "k7mq-2xrt", &stored));
        assert!(!matches(key, "K7MQ2XRU", &stored));
        assert!(!matches(b"other-key", "K7MQ2XRT", &stored));
        assert!(!matches(key, "", &stored));
    }
}

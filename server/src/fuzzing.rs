//! Fuzz entry points. Each takes bytes an outsider controls, runs them
//! through the decoder production uses, and checks what must hold for
//! every input. A broken property panics, which libFuzzer reports as a
//! crash (so do a real panic, an overflow under debug assertions, a
//! timeout and running out of memory).
//!
//! The targets in `fuzz/` (cargo-fuzz) are one line each and call these;
//! `tests/fuzz_seeds.rs` feeds every committed seed (and every crash ever
//! found, kept as a seed) through them on the stable toolchain, so a
//! regression fails `cargo test` too.
//!
//! These are test oracles: a panic here is the point, not a defect.

use crate::auth::device::check_device_signature;
use crate::auth::oidc::{CallbackQuery, check_callback_code, check_callback_state, extra_claims};
use crate::config::Config;
use crate::sessions::code;
use crate::store::{ImportLine, MAX_IMPORT_LINES, check_import};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::fmt::Debug;
use tandem_protocol::agent::{
    AgentClientMessage, AgentServerMessage, DeviceCredentials, MAX_AGENT_FRAME_BYTES,
};
use tandem_protocol::annotation::{
    AnnotationMessage, MAX_ANNOTATION_BYTES, MAX_POINTS, MAX_STROKES, Sketch,
};
use tandem_protocol::clipboard::{Assembly, ClipboardMessage, MAX_CLIPBOARD_MESSAGE_BYTES};
use tandem_protocol::directory::{ImportKind, ImportOptions};
use tandem_protocol::files::{
    CHUNK_BYTES, Chunk, FileMessage, MAX_FILE_MESSAGE_BYTES, MAX_NAME_BYTES, numbered_name,
    safe_file_name,
};
use tandem_protocol::grant::{DOMAIN, Grant, GrantError, GrantKey, SignedGrant, key_id};
use tandem_protocol::input::{Control, Input, MAX_CONTROL_BYTES, MAX_INPUT_BYTES};
use tandem_protocol::signal::{ClientMessage, MAX_MESSAGE_BYTES, ServerMessage};
use tandem_protocol::text::check_text;
use tandem_protocol::tiles::{MAX_TILE_MESSAGE_BYTES, MAX_VIDEO_RECTS, TileMessage};
use tandem_protocol::{SessionId, UnixMillis};

/// A fuzz entry point: outside bytes in, a panic if a property breaks.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs`.
pub const TARGETS: &[(&str, Target)] = &[
    ("signal_frames", signal_frames),
    ("data_channel", data_channel),
    ("grant", grant),
    ("device_signature", device_signature),
    ("config_file", config_file),
    ("csv_import", csv_import),
    ("oidc_callback", oidc_callback),
    ("code", security_code),
    ("file_name", file_name),
];

/// A name a sender claims for a file (any bytes, read as UTF-8 with
/// replacements, as the browser and the agent read names). The name it
/// is saved under stays in its folder (no separator, not `.` or `..`),
/// is visible, not a Windows device name, bounded, never empty, and
/// sanitizing it again changes nothing; its numbered forms keep all that.
pub fn file_name(data: &[u8]) {
    let claimed = String::from_utf8_lossy(data);
    let safe = safe_file_name(&claimed);
    let holds = |name: &str| {
        assert!(!name.is_empty() && name.len() <= MAX_NAME_BYTES, "{name:?}");
        assert!(!name.contains(['/', '\\', '\0', ':']), "{name:?}");
        assert!(
            name != "." && name != ".." && !name.starts_with('.'),
            "{name:?}"
        );
        assert!(
            !name.chars().any(tandem_protocol::text::is_hidden),
            "{name:?}"
        );
        assert!(!name.ends_with([' ', '.']), "{name:?}");
        let stem = name.split('.').next().unwrap_or_default().trim_end();
        assert!(
            !matches!(
                stem.to_ascii_uppercase().as_str(),
                "CON" | "PRN" | "AUX" | "NUL"
            ),
            "{name:?}"
        );
    };
    holds(&safe);
    assert_eq!(safe_file_name(&safe), safe, "sanitizing is idempotent");
    for n in [1, 42, 999] {
        holds(&numbered_name(&safe, n));
    }
}

/// `value` encodes to JSON that decodes to the same value: what one side
/// accepted, the other side reads alike.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T, what: &str) {
    let Ok(json) = serde_json::to_string(value) else {
        panic!("{what} decoded but does not encode: {value:?}");
    };
    match serde_json::from_str::<T>(&json) {
        Ok(again) if &again == value => {}
        other => panic!("{what} does not round-trip: {value:?} → {json} → {other:?}"),
    }
}

/// Signaling frames, both directions. The server decodes the browsers'
/// and agents' frames with their `parse`; the console and the agent decode
/// the server's frames with serde.
pub fn signal_frames(data: &[u8]) {
    // WebSocket text frames are UTF-8 (the socket refuses others).
    let Ok(frame) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(message) = ClientMessage::parse(frame) {
        assert!(
            frame.len() <= MAX_MESSAGE_BYTES,
            "an oversized frame passed"
        );
        // What the server passes on must pass its own check again.
        let Ok(json) = serde_json::to_string(&message) else {
            panic!("a client frame does not encode: {message:?}");
        };
        assert_eq!(ClientMessage::parse(&json).ok(), Some(message));
    }
    if let Ok(message) = AgentClientMessage::parse(frame) {
        assert!(
            frame.len() <= MAX_AGENT_FRAME_BYTES,
            "an oversized frame passed"
        );
        round_trips(&message, "an agent frame");
    }
    if let Ok(message) = serde_json::from_str::<ServerMessage>(frame) {
        round_trips(&message, "a server frame");
    }
    if let Ok(message) = serde_json::from_str::<AgentServerMessage>(frame) {
        round_trips(&message, "a server frame to an agent");
    }
}

/// The data channels: input (helper → agent), control (both ways) and
/// tiles (agent → console).
pub fn data_channel(data: &[u8]) {
    if let Ok(input) = Input::parse(data) {
        assert!(data.len() <= MAX_INPUT_BYTES, "oversized input passed");
        match &input {
            Input::Key { code, .. } => assert!((1..=32).contains(&code.len())),
            Input::Wheel { dx, dy, .. } => assert!(dx.abs() <= 100 && dy.abs() <= 100),
            _ => {}
        }
        let Ok(json) = serde_json::to_vec(&input) else {
            panic!("input does not encode: {input:?}");
        };
        assert_eq!(Input::parse(&json), Ok(input));
    }
    if let Ok(control) = Control::parse(data) {
        assert!(data.len() <= MAX_CONTROL_BYTES, "oversized control passed");
        let Ok(json) = serde_json::to_vec(&control) else {
            panic!("control does not encode: {control:?}");
        };
        assert_eq!(Control::parse(&json), Ok(control));
    }
    // The tiles channel's binary messages (agent → console).
    if let Ok(tile) = TileMessage::parse(data) {
        assert!(
            data.len() <= MAX_TILE_MESSAGE_BYTES,
            "oversized tile passed"
        );
        match &tile {
            TileMessage::Video { rects, .. } => assert!(rects.len() <= MAX_VIDEO_RECTS),
            // Decoding is bounded by the tile's size, and fills it exactly.
            TileMessage::Tile { rect, .. } => {
                if let Some(rgba) = tile.rgba() {
                    assert_eq!(rgba.len() as u64, rect.area() * 4);
                }
            }
        }
        assert_eq!(TileMessage::parse(&tile.encode()), Ok(tile));
    }
    // The annotation channel: bounded strokes, and a sketch that stays
    // within its bounds and on the screen whatever comes.
    if let Ok(message) = AnnotationMessage::parse(data) {
        assert!(
            data.len() <= MAX_ANNOTATION_BYTES,
            "oversized annotation passed"
        );
        let Ok(json) = serde_json::to_vec(&message) else {
            panic!("annotation does not encode: {message:?}");
        };
        assert_eq!(AnnotationMessage::parse(&json), Ok(message.clone()));
        if let AnnotationMessage::Stroke { id, tool, points } = message {
            let mut sketch = Sketch::default();
            for round in 0..3u32 {
                sketch.add(id.wrapping_add(round % 2), tool, &points, (640, 480), 0);
            }
            let total: usize = sketch.strokes().iter().map(|s| s.points.len()).sum();
            assert!(total <= MAX_POINTS && sketch.strokes().len() <= MAX_STROKES);
            for stroke in sketch.strokes() {
                assert!(stroke.points.iter().all(|(x, y)| *x < 640 && *y < 480));
                let _ = Sketch::segments(stroke);
            }
        }
    }
    // The files channel (both ways): bounded messages that round-trip,
    // and chunks whose data is within its bound and encodes back alike.
    if let Ok(message) = FileMessage::parse(data) {
        assert!(
            data.len() <= MAX_FILE_MESSAGE_BYTES,
            "oversized file message passed"
        );
        let Ok(json) = serde_json::to_vec(&message) else {
            panic!("file message does not encode: {message:?}");
        };
        assert_eq!(FileMessage::parse(&json), Ok(message));
    }
    if let Ok(chunk) = Chunk::parse(data) {
        assert!(!chunk.data.is_empty() && chunk.data.len() <= CHUNK_BYTES);
        assert_eq!(chunk.encode(), data);
    }
    // The clipboard channel (both ways): bounded pieces, and an assembly
    // that never holds more than its limit, whatever the pieces claim.
    if let Ok(message) = ClipboardMessage::parse(data) {
        assert!(
            data.len() <= MAX_CLIPBOARD_MESSAGE_BYTES,
            "oversized clipboard message passed"
        );
        let Ok(json) = serde_json::to_vec(&message) else {
            panic!("clipboard message does not encode: {message:?}");
        };
        assert_eq!(ClipboardMessage::parse(&json), Ok(message.clone()));
        if let ClipboardMessage::Put {
            id,
            total,
            text,
            last,
        }
        | ClipboardMessage::Content {
            id,
            total,
            text,
            last,
        } = message
        {
            let limit = 4096;
            if let Ok(mut assembly) = Assembly::start(id, total, limit) {
                for _ in 0..3 {
                    match assembly.push(id, total, &text, last) {
                        Ok(Some(whole)) => assert_eq!(whole.len() as u64, u64::from(total)),
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            } else {
                assert!(total > limit);
            }
        }
    }
}

/// The server's grant key in the fuzz targets (fixed, so crashes replay).
fn grant_signer() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// Grants. The first byte picks how the rest is used:
/// - even: a signed grant as the agent receives it (JSON), verified. No
///   made-up input may verify unless it carries exactly the signature the
///   key itself makes;
/// - odd: a payload the key really signs, so the checks behind the
///   signature (decoding, key id, session, expiry) are reached; it must
///   verify exactly when those hold, and no longer once a byte changes.
pub fn grant(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let signer = grant_signer();
    let public = signer.verifying_key();
    let session = SessionId::from("s1");
    let now = UnixMillis(1_000_000);
    if selector % 2 == 0 {
        if let Ok(text) = std::str::from_utf8(rest)
            && let Ok(key) = serde_json::from_str::<GrantKey>(text)
        {
            let _ = key.verifying_key();
        }
        let Ok(signed) = serde_json::from_slice::<SignedGrant>(rest) else {
            return;
        };
        if signed.verify(&public, &session, now).is_ok() {
            let json = URL_SAFE_NO_PAD.decode(&signed.payload).unwrap_or_default();
            let genuine = signer.sign(&[DOMAIN, &json].concat());
            assert_eq!(
                URL_SAFE_NO_PAD.decode(&signed.signature).ok(),
                Some(genuine.to_bytes().to_vec()),
                "a grant the key did not sign verified"
            );
        }
        return;
    }
    let signature = signer.sign(&[DOMAIN, rest].concat());
    let signed = SignedGrant {
        payload: URL_SAFE_NO_PAD.encode(rest),
        signature: URL_SAFE_NO_PAD.encode(signature.to_bytes()),
    };
    let expected = match serde_json::from_slice::<Grant>(rest) {
        Err(_) => Err(GrantError::Encoding),
        Ok(g) if g.key_id != key_id(&public) => Err(GrantError::WrongKey),
        Ok(g) if g.session != session => Err(GrantError::WrongSession),
        Ok(g) if now >= g.expires_at => Err(GrantError::Expired),
        Ok(g) => Ok(g),
    };
    assert_eq!(signed.verify(&public, &session, now), expected);
    if let Some(&first) = rest.first() {
        let mut tampered = rest.to_vec();
        tampered[0] = first ^ 1;
        let forged = SignedGrant {
            payload: URL_SAFE_NO_PAD.encode(&tampered),
            signature: signed.signature.clone(),
        };
        assert_eq!(
            forged.verify(&public, &session, now),
            Err(GrantError::BadSignature)
        );
    }
}

/// The device key in the fuzz targets.
fn device_signer() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

/// The device-signature `Authorization` header. The header is parsed as
/// the server parses it; a parsed one must print back to itself and must
/// not verify unless the device key made its signature. Then the same
/// credentials with a real signature verify exactly when their time is
/// within the allowed skew, whatever number that time is.
pub fn device_signature(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    let Some(credentials) = DeviceCredentials::parse(&header) else {
        return;
    };
    assert!(header.len() <= 512 + 16, "an oversized header parsed");
    assert_eq!(
        DeviceCredentials::parse(&credentials.header_value()).as_ref(),
        Some(&credentials)
    );
    let signer = device_signer();
    let public = URL_SAFE_NO_PAD.encode(signer.verifying_key().as_bytes());
    let now = UnixMillis(1_700_000_000_000);
    let (method, path) = ("GET", "/api/agent/connect");
    let message = credentials.message(method, path);
    let genuine = URL_SAFE_NO_PAD.encode(signer.sign(message.as_bytes()).to_bytes());
    if check_device_signature(&credentials, &public, now, method, path).is_ok() {
        assert_eq!(
            credentials.signature, genuine,
            "a signature the device did not make verified"
        );
    }
    let signed = DeviceCredentials {
        signature: genuine,
        ..credentials
    };
    let current = (i128::from(signed.at.0) - i128::from(now.0)).abs()
        <= i128::from(tandem_protocol::agent::DEVICE_AUTH_SKEW_MILLIS);
    assert_eq!(
        check_device_signature(&signed, &public, now, method, path).is_ok(),
        current,
        "at {} against now {}",
        signed.at.0,
        now.0
    );
}

/// The server's configuration file. Whatever a file says, a loaded
/// configuration passed the same checks as at start.
pub fn config_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::from_toml(text) else {
        return;
    };
    assert!(config.session_idle_minutes > 0 && config.session_absolute_minutes > 0);
    let ids: BTreeSet<&str> = config.oidc.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), config.oidc.len(), "two providers share an id");
    assert!(config.oidc.iter().all(|p| !p.tenants.is_empty()));
}

/// CSV imports of each kind, with and without the password option. A file
/// is refused whole with at least one numbered problem, or every line it
/// yields is within the bounds and free of hidden characters.
pub fn csv_import(data: &[u8]) {
    // The route refuses bodies that are not UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let known: BTreeSet<String> = ["megan@contoso.com".to_owned()].into();
    // The password option only matters to users files.
    for (kind, set_passwords) in [
        (ImportKind::Users, false),
        (ImportKind::Users, true),
        (ImportKind::Groups, false),
        (ImportKind::Devices, false),
    ] {
        match check_import(kind, text, &known, ImportOptions { set_passwords }) {
            Err(problems) => {
                assert!(!problems.is_empty(), "a refusal without a problem");
                assert!(problems.iter().all(|p| p.line >= 1));
            }
            Ok(lines) => {
                assert!(lines.len() <= MAX_IMPORT_LINES);
                for (number, line) in &lines {
                    assert!(*number >= 2, "data starts on line 2");
                    import_line_is_clean(line, &known, set_passwords);
                }
            }
        }
    }
}

fn import_line_is_clean(line: &ImportLine, known: &BTreeSet<String>, set_passwords: bool) {
    let clean = |text: &str, max: usize| {
        assert!(check_text(text, max).is_ok(), "{text:?} was accepted");
    };
    match line {
        ImportLine::User {
            email,
            name,
            job,
            company,
            password,
        } => {
            assert_eq!(email, &email.to_lowercase());
            assert!(!name.trim().is_empty());
            // An e-mail address may be longer than a name: up to 254 bytes.
            clean(email, tandem_protocol::auth::MAX_EMAIL_LEN);
            for text in [Some(name), job.as_ref(), company.as_ref()]
                .into_iter()
                .flatten()
            {
                clean(text, tandem_protocol::admin::MAX_USER_FIELD_CHARS);
            }
            // An existing account's password changes only when asked.
            assert!(set_passwords || password.is_none() || !known.contains(email));
        }
        ImportLine::Member { group, email } => {
            clean(group, tandem_protocol::admin::MAX_USER_FIELD_CHARS);
            assert!(email.as_ref().is_none_or(|e| known.contains(e)));
        }
        ImportLine::Device {
            name, os, version, ..
        } => {
            for text in [name, os, version] {
                clean(text, tandem_protocol::agent::MAX_DEVICE_FIELD_CHARS);
            }
        }
    }
}

/// The OIDC callback's query string, decoded as axum's `Query` decodes
/// it, and the ID token's extra claims.
pub fn oidc_callback(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = extra_claims(text);
    let Ok(query) = serde_urlencoded::from_str::<CallbackQuery>(text) else {
        return;
    };
    const STATE: &str = "kX3-state_value";
    const ISSUER: &str = "http://127.0.0.1:4011";
    if check_callback_state(&query, STATE).is_ok() {
        assert_eq!(query.state.as_deref(), Some(STATE));
        assert!(query.error.is_none(), "an IdP error passed");
    }
    for iss_supported in [false, true] {
        if let Ok(code) = check_callback_code(&query, ISSUER, iss_supported) {
            assert!(!code.is_empty());
            match query.iss.as_deref() {
                Some(iss) => assert_eq!(iss, ISSUER, "a foreign issuer passed"),
                None => assert!(!iss_supported, "a missing issuer passed"),
            }
        }
    }
}

/// What a sharer types as a security code.
pub fn security_code(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let key = [3u8; 32];
    let Some(normal) = code::normalize(text) else {
        return;
    };
    assert_eq!(normal.len(), code::CODE_LEN);
    assert!(normal.bytes().all(|b| code::ALPHABET.contains(&b)));
    assert_eq!(code::normalize(&normal).as_deref(), Some(normal.as_str()));
    assert_eq!(
        code::normalize(&format!(" {}-{} ", &normal[..4], &normal[4..])).as_deref(),
        Some(normal.as_str())
    );
    let stored = code::hash(&key, &normal).unwrap_or_default();
    assert!(
        code::matches(&key, text, &stored),
        "{text:?} normalises but does not match"
    );
}

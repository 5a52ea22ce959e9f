//! The console reads and writes Tandem's tagged messages through
//! `tandem_protocol::tagged`'s one-pass adaptors (on wasm32 only). These
//! run the protocol's samples through them, as the protocol's own tests
//! run them through serde's derive natively: both must give back every
//! sample byte for byte.
#![cfg(target_arch = "wasm32")]

use tandem_protocol::files::FileMessage;
use tandem_protocol::input::Control;
use tandem_protocol::sharing::ShareChoice;
use tandem_protocol::signal::{ClientMessage, ServerMessage};
use tandem_protocol::tagged;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn every_protocol_sample_comes_back_byte_for_byte() {
    assert_eq!(tagged::samples::check(), Ok(tagged::samples::COUNT));
}

#[wasm_bindgen_test]
fn writes_the_tag_first_as_the_server_reads_it() {
    let message = ClientMessage::ShareChoice {
        choice: ShareChoice::Window { id: 4 },
    };
    assert_eq!(
        tagged::to_json(&message).unwrap(),
        r#"{"type":"share_choice","choice":{"kind":"window","id":4}}"#
    );
    assert_eq!(
        tagged::to_json(&ClientMessage::Renegotiate).unwrap(),
        r#"{"type":"renegotiate"}"#
    );
}

/// Proof that the console takes the one-pass path: serde's derive (the
/// server's) takes the fields in any order, the console wants the tag
/// first and says so.
#[wasm_bindgen_test]
fn a_message_whose_tag_is_not_first_is_refused_with_the_reason() {
    let error = tagged::from_json::<ServerMessage>(br#"{"nonce":1,"type":"ping"}"#).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the field `type` must come first"),
        "{error}"
    );
    let error = Control::parse(br#"{"id":1,"type":"select_display"}"#).unwrap_err();
    assert!(
        format!("{error:?}").contains("must come first"),
        "{error:?}"
    );
    let error =
        FileMessage::parse(br#"{"type":"done","id":1,"outcome":{"name":"x","kind":"saved"}}"#)
            .unwrap_err();
    assert!(
        format!("{error:?}").contains("the field `kind` must come first"),
        "{error:?}"
    );
}

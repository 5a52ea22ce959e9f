//! The adaptors against serde's own internally tagged derive: two copies
//! of one message enum, one derived internally tagged (what the server
//! and the agent use), one externally tagged and read and written through
//! the adaptors (what the console does), must give and take the same JSON.

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Tagged, from_json_tag_first, to_json_tag_first};

mod internal {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum Message {
        Ping,
        Offer {
            sdp: String,
        },
        Stats {
            fps: u32,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            note: Option<String>,
            list: Vec<i64>,
        },
        Wrapped(Inner),
        Nested {
            choice: Choice,
        },
        Maybe {
            #[serde(default)]
            ended: Option<Choice>,
        },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Inner {
        pub id: u32,
        pub name: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum Choice {
        Screen,
        Window { id: u64, title: String },
    }
}

mod external {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Message {
        Ping,
        Offer {
            sdp: String,
        },
        Stats {
            fps: u32,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            note: Option<String>,
            list: Vec<i64>,
        },
        Wrapped(super::internal::Inner),
        Nested {
            #[serde(with = "crate::tagged::field")]
            choice: Choice,
        },
        Maybe {
            #[serde(default, with = "crate::tagged::optional_field")]
            ended: Option<Choice>,
        },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Choice {
        Screen,
        Window { id: u64, title: String },
    }

    impl super::Tagged for Message {
        const TAG: &'static str = "type";
    }

    impl super::Tagged for Choice {
        const TAG: &'static str = "kind";
    }
}

use external::Message as Ext;
use internal::Message as Int;

fn choices() -> impl Strategy<Value = (internal::Choice, external::Choice)> {
    prop_oneof![
        Just((internal::Choice::Screen, external::Choice::Screen)),
        (any::<u64>(), ".{0,12}").prop_map(|(id, title)| (
            internal::Choice::Window {
                id,
                title: title.clone()
            },
            external::Choice::Window { id, title }
        )),
    ]
}

/// One value of each shape, as both copies.
fn messages() -> impl Strategy<Value = (Int, Ext)> {
    prop_oneof![
        Just((Int::Ping, Ext::Ping)),
        "\\PC{0,40}".prop_map(|sdp| (Int::Offer { sdp: sdp.clone() }, Ext::Offer { sdp })),
        (
            any::<u32>(),
            proptest::option::of("[a-z\"\\\\ ]{0,8}"),
            proptest::collection::vec(any::<i64>(), 0..4)
        )
            .prop_map(|(fps, note, list)| (
                Int::Stats {
                    fps,
                    note: note.clone(),
                    list: list.clone()
                },
                Ext::Stats { fps, note, list }
            )),
        (any::<u32>(), ".{0,12}").prop_map(|(id, name)| {
            let inner = internal::Inner { id, name };
            (Int::Wrapped(inner.clone()), Ext::Wrapped(inner))
        }),
        choices().prop_map(|(int, ext)| (Int::Nested { choice: int }, Ext::Nested { choice: ext })),
        proptest::option::of(choices()).prop_map(|pair| match pair {
            Some((int, ext)) => (
                Int::Maybe { ended: Some(int) },
                Ext::Maybe { ended: Some(ext) }
            ),
            None => (Int::Maybe { ended: None }, Ext::Maybe { ended: None }),
        }),
    ]
}

proptest! {
    #[test]
    fn writes_what_serdes_internal_tagging_writes((int, ext) in messages()) {
        let expected = serde_json::to_string(&int).unwrap();
        prop_assert_eq!(to_json_tag_first(&ext, Ext::TAG).unwrap(), expected);
    }

    #[test]
    fn reads_what_serdes_internal_tagging_writes((int, ext) in messages()) {
        let json = serde_json::to_string(&int).unwrap();
        prop_assert_eq!(from_json_tag_first::<Ext>(json.as_bytes(), Ext::TAG).unwrap(), ext);
    }
}

fn read(json: &str) -> Result<Ext, String> {
    from_json_tag_first::<Ext>(json.as_bytes(), Ext::TAG).map_err(|e| e.to_string())
}

#[test]
fn the_tag_must_come_first() {
    let late = r#"{"sdp":"v=0","type":"offer"}"#;
    // serde's derive takes any order; the one-pass reader says what is wrong.
    assert!(serde_json::from_str::<Int>(late).is_ok());
    let error = read(late).unwrap_err();
    assert!(
        error.contains("the field `type` must come first"),
        "{error}"
    );

    let nested_late = r#"{"type":"nested","choice":{"id":1,"title":"x","kind":"window"}}"#;
    assert!(serde_json::from_str::<Int>(nested_late).is_ok());
    let error = read(nested_late).unwrap_err();
    assert!(
        error.contains("the field `kind` must come first"),
        "{error}"
    );
}

#[test]
fn refuses_what_is_not_a_tagged_message() {
    for (json, says) in [
        ("{}", "missing field `type`"),
        (r#"{"type":"nope"}"#, "unknown variant `nope`"),
        (r#"{"type":7}"#, "invalid type"),
        // The externally tagged forms are not the wire's.
        (r#""ping""#, "invalid type"),
        (r#"{"offer":{"sdp":"x"}}"#, "must come first"),
        (r#"{"type":"offer"}"#, "missing field `sdp`"),
        (r#"{"type":"offer","sdp":1}"#, "invalid type"),
        (r#"{"type":"ping"} {"type":"ping"}"#, "trailing characters"),
        (r#"{"type":"ping""#, "EOF"),
        ("[]", "invalid type"),
    ] {
        let error = read(json).unwrap_err();
        assert!(error.contains(says), "{json}: {error}");
        assert!(serde_json::from_str::<Int>(json).is_err(), "{json}");
    }
}

#[test]
fn passes_over_fields_it_does_not_know_as_serde_does() {
    for (json, expected) in [
        (r#"{"type":"ping","extra":[1,{"a":2}]}"#, Ext::Ping),
        (
            r#"{"type":"offer","later":null,"sdp":"v=0"}"#,
            Ext::Offer { sdp: "v=0".into() },
        ),
        (
            r#"{"type":"wrapped","id":3,"name":"n","more":true}"#,
            Ext::Wrapped(internal::Inner {
                id: 3,
                name: "n".into(),
            }),
        ),
        (r#"{"type":"maybe"}"#, Ext::Maybe { ended: None }),
    ] {
        let ours = read(json).unwrap();
        assert_eq!(ours, expected, "{json}");
        // serde's derive reads the same message.
        let serdes = serde_json::from_str::<Int>(json).unwrap();
        assert_eq!(
            to_json_tag_first(&ours, Ext::TAG).unwrap(),
            serde_json::to_string(&serdes).unwrap()
        );
    }
}

#[test]
fn refuses_to_write_what_has_no_tagged_form() {
    // A plain value has no variant to name.
    let error = to_json_tag_first(&7u32, "type").unwrap_err();
    assert!(
        error.to_string().contains("a tagged message must be"),
        "{error}"
    );

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Pair {
        Two(u32, u32),
        Number(u32),
    }
    assert!(to_json_tag_first(&Pair::Two(1, 2), "type").is_err());
    assert!(to_json_tag_first(&Pair::Number(1), "type").is_err());
    // Nor does a newtype variant holding a unit: the reader has no such
    // form either.
    #[derive(Debug, Serialize)]
    struct Nothing;
    #[derive(Debug, Serialize)]
    enum Holds {
        Nothing(Nothing),
    }
    assert!(to_json_tag_first(&Holds::Nothing(Nothing), "type").is_err());
    let error = from_json_tag_first::<Pair>(br#"{"type":"two","a":1}"#, "type").unwrap_err();
    assert!(error.to_string().contains("no tuple variants"), "{error}");
}

#[test]
fn every_sample_comes_back_byte_for_byte() {
    assert_eq!(super::samples::check(), Ok(super::samples::COUNT));
}

//! Tandem's tagged messages, and how the console reads and writes them in
//! one pass.
//!
//! Every message enum is *internally tagged* JSON, its tag the first
//! field: `{"type":"offer","sdp":"…"}`. The server and the agent read and
//! write it with serde's derive (`#[serde(tag = "type")]`). That derive
//! buffers each message whole into serde's `Content` before it looks at
//! the tag, and compiles every variant's fields a second time for that
//! buffer: in the console it was a tenth of the WASM (BENCHMARKS.md,
//! Console). So on wasm32 only, the enums are derived *externally* tagged
//! (the tag attribute is `cfg_attr(not(target_arch = "wasm32"), …)`) and
//! go through the adaptors here ([`ser`], [`de`]), which turn that form
//! into the same internally tagged JSON and back, streaming, without a
//! buffer. The wire is the same on every side; the samples in
//! `samples.txt` are checked on both (this crate's tests natively, the
//! console's `rtc::wire_tests` on wasm32).
//!
//! What that asks of the wire: **the tag comes first**. serde writes it
//! first, and the console refuses a message whose first field is anything
//! else, with an error that says so. The server and the agent still accept
//! any order. Two other forms no Tandem side writes are read differently:
//! serde's derive refuses a second tag field and the console passes over
//! it, and serde also takes a message as an array, the console does not.
//!
//! Read and write these enums with [`from_json`] and [`to_json`], never
//! with `serde_json` directly (the console's `clippy.toml` forbids its
//! `to_string`, `to_vec`, `from_str` and `from_slice` there). A struct
//! field of such an enum carries
//! `#[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::field"))]`
//! (or `optional_field`), so that REST bodies, which the console reads
//! through gloo's `json()`, hold the same JSON; the samples include
//! those structs.

pub mod de;
#[doc(hidden)]
pub mod samples;
pub mod ser;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An enum that is internally tagged on the wire, by the field `TAG`.
pub trait Tagged {
    /// The name of the field that names the variant.
    const TAG: &'static str;
}

/// Writes `value` as Tandem's wire JSON.
pub fn to_json<T: Serialize + Tagged>(value: &T) -> Result<String, serde_json::Error> {
    #[cfg(target_arch = "wasm32")]
    return to_json_tag_first(value, T::TAG);
    #[cfg(not(target_arch = "wasm32"))]
    return serde_json::to_string(value);
}

/// Reads one message of Tandem's wire JSON.
pub fn from_json<'a, T: Deserialize<'a> + Tagged>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    #[cfg(target_arch = "wasm32")]
    return from_json_tag_first(bytes, T::TAG);
    #[cfg(not(target_arch = "wasm32"))]
    return serde_json::from_slice(bytes);
}

/// Writes an externally tagged `value` as internally tagged JSON, `tag`
/// first (what [`to_json`] does on wasm32).
pub fn to_json_tag_first<T: Serialize + ?Sized>(
    value: &T,
    tag: &'static str,
) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    value.serialize(ser::EnumAsMap::new(
        &mut serde_json::Serializer::new(&mut out),
        tag,
    ))?;
    String::from_utf8(out).map_err(serde::ser::Error::custom)
}

/// Reads internally tagged JSON, `tag` first, into an externally tagged
/// enum (what [`from_json`] does on wasm32).
pub fn from_json_tag_first<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    tag: &'static str,
) -> Result<T, serde_json::Error> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(de::EnumFromMap::new(&mut json, tag))?;
    json.end()?;
    Ok(value)
}

/// `serde(with)` for a struct field whose type is a [`Tagged`] enum, on
/// wasm32 (where the enum's own derive is externally tagged).
pub mod field {
    use super::*;

    pub fn serialize<S: Serializer, T: Serialize + Tagged>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(ser::EnumAsMap::new(serializer, T::TAG))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de> + Tagged>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        T::deserialize(de::EnumFromMap::new(deserializer, T::TAG))
    }
}

/// `serde(with)` for an `Option` of a [`Tagged`] enum, on wasm32; `null`
/// is `None`. Pair it with `#[serde(default)]` where the field may be
/// missing.
pub mod optional_field {
    use super::*;

    pub fn serialize<S: Serializer, T: Serialize + Tagged>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_some(&ser::AsMap(value)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de> + Tagged>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_option(de::OptionalEnum::<T>::new())
    }
}

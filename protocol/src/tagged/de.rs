//! Reads an internally tagged map, the tag first, into an externally
//! tagged enum: `{"type":"offer","sdp":"…"}` → `Offer { sdp }`, in one
//! pass.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Error as _, IgnoredAny, MapAccess,
    VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use super::Tagged;

/// The deserializer an enum is read from: its `deserialize_enum` reads a
/// map through `inner` whose first key is `tag`.
pub struct EnumFromMap<D> {
    inner: D,
    tag: &'static str,
}

impl<D> EnumFromMap<D> {
    pub fn new(inner: D, tag: &'static str) -> Self {
        EnumFromMap { inner, tag }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for EnumFromMap<D> {
    type Error = D::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(TagFirst {
            tag: self.tag,
            visitor,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// Sees the map, checks that its first key is the tag, and hands the
/// rest to the enum's visitor as its variant.
struct TagFirst<V> {
    tag: &'static str,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TagFirst<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object whose first field is `{}`", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        match map.next_key_seed(KeyIs(self.tag))? {
            Some(true) => self.visitor.visit_enum(Variant { map }),
            Some(false) => Err(A::Error::custom(format_args!(
                "the field `{}` must come first",
                self.tag
            ))),
            None => Err(A::Error::missing_field(self.tag)),
        }
    }
}

/// Reads a key and says whether it is the tag.
struct KeyIs(&'static str);

impl<'de> DeserializeSeed<'de> for KeyIs {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeyIs {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The rest of the map: the tag's value names the variant, the other
/// entries are its fields.
struct Variant<A> {
    map: A,
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Variant<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(
        mut self,
        seed: S,
    ) -> Result<(S::Value, Self), A::Error> {
        let variant = self.map.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    /// Fields a unit variant does not have are passed over, as serde's
    /// internally tagged derive does.
    fn unit_variant(mut self) -> Result<(), A::Error> {
        while self.map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        seed.deserialize(MapAccessDeserializer::new(self.map))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, A::Error> {
        Err(A::Error::custom("a tagged message has no tuple variants"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.map)
    }
}

/// Reads `null` as `None`, and a tagged map as `Some`.
pub struct OptionalEnum<T>(PhantomData<T>);

impl<T> OptionalEnum<T> {
    pub fn new() -> Self {
        OptionalEnum(PhantomData)
    }
}

impl<T> Default for OptionalEnum<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'de, T: de::Deserialize<'de> + Tagged> Visitor<'de> for OptionalEnum<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "null or an object whose first field is `{}`", T::TAG)
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        T::deserialize(EnumFromMap::new(deserializer, T::TAG)).map(Some)
    }
}

//! Writes an externally tagged enum value as an internally tagged map,
//! the tag first: `Offer { sdp }` → `{"type":"offer","sdp":"…"}`.

use serde::ser::{
    self, Impossible, Serialize, SerializeMap, SerializeStruct, SerializeStructVariant, Serializer,
};

use super::Tagged;

/// The serializer an enum value is handed: it accepts a unit, newtype or
/// struct variant and writes it through `inner` as a map.
pub struct EnumAsMap<S> {
    inner: S,
    tag: &'static str,
}

impl<S> EnumAsMap<S> {
    pub fn new(inner: S, tag: &'static str) -> Self {
        EnumAsMap { inner, tag }
    }
}

/// A [`Tagged`] value that serializes itself tag first (for `Option`s).
pub struct AsMap<'a, T>(pub &'a T);

impl<T: Serialize + Tagged> Serialize for AsMap<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(EnumAsMap::new(serializer, T::TAG))
    }
}

/// The fields after the tag, written as the map's entries.
pub struct Fields<M>(M);

fn refuse<E: ser::Error>() -> E {
    E::custom("a tagged message must be a unit, struct or newtype variant of a struct")
}

/// The methods of a serializer that only takes one shape: every other
/// shape is an error.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> { Err(refuse()) })*
    };
}

/// What both serializers below do alike: a newtype struct is its content,
/// and the shapes that have no tagged form are errors.
macro_rules! alike {
    () => {
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<S::Ok, S::Error> {
            value.serialize(self)
        }

        type SerializeSeq = Impossible<S::Ok, S::Error>;
        type SerializeTuple = Impossible<S::Ok, S::Error>;
        type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
        type SerializeTupleVariant = Impossible<S::Ok, S::Error>;

        refuse! {
            serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
            serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
            serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
            serialize_str(&str); serialize_bytes(&[u8]); serialize_none();
        }

        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<S::Ok, S::Error> {
            Err(refuse())
        }

        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
            Err(refuse())
        }

        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, S::Error> {
            Err(refuse())
        }

        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, S::Error> {
            Err(refuse())
        }

        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, S::Error> {
            Err(refuse())
        }
    };
}

impl<S: Serializer> Serializer for EnumAsMap<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = Fields<S::SerializeMap>;

    alike!();
    refuse! { serialize_unit(); serialize_unit_struct(&'static str); }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        let mut map = self.inner.serialize_map(Some(1))?;
        map.serialize_entry(self.tag, variant)?;
        map.end()
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(Flattened {
            inner: self.inner,
            tag: self.tag,
            variant,
        })
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Err(refuse())
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Err(refuse())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let mut map = self.inner.serialize_map(Some(len + 1))?;
        map.serialize_entry(self.tag, variant)?;
        Ok(Fields(map))
    }
}

/// The content of a newtype variant: a struct or map whose entries follow
/// the tag.
struct Flattened<S> {
    inner: S,
    tag: &'static str,
    variant: &'static str,
}

impl<S: Serializer> Flattened<S> {
    fn open(self, len: Option<usize>) -> Result<Fields<S::SerializeMap>, S::Error> {
        let mut map = self.inner.serialize_map(len.map(|len| len + 1))?;
        map.serialize_entry(self.tag, self.variant)?;
        Ok(Fields(map))
    }
}

impl<S: Serializer> Serializer for Flattened<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeMap = Fields<S::SerializeMap>;
    type SerializeStruct = Fields<S::SerializeMap>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    alike!();

    refuse! { serialize_unit(); serialize_unit_struct(&'static str); }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<S::Ok, S::Error> {
        Err(refuse())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(refuse())
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.open(len)
    }

    fn serialize_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.open(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(refuse())
    }
}

/// A struct's or a struct variant's fields, as entries of the map.
macro_rules! fields_as_entries {
    ($($serialize:ident),*) => {
        $(impl<M: SerializeMap> $serialize for Fields<M> {
            type Ok = M::Ok;
            type Error = M::Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), M::Error> {
                self.0.serialize_entry(key, value)
            }

            fn end(self) -> Result<M::Ok, M::Error> {
                self.0.end()
            }
        })*
    };
}

fields_as_entries!(SerializeStruct, SerializeStructVariant);

impl<M: SerializeMap> SerializeMap for Fields<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), M::Error> {
        self.0.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), M::Error> {
        self.0.serialize_value(value)
    }

    fn end(self) -> Result<M::Ok, M::Error> {
        self.0.end()
    }
}

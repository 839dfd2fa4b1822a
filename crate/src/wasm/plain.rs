//! A `serde` deserializer over plain JavaScript values, for the messages the worker's module
//! reads (push requests, the notices of their end, Web Push subscriptions).
//!
//! `serde-wasm-bindgen` would do, but its errors are messages: building them formats every
//! kind of unexpected value, floats included, and that formatting machinery was about 20 KB of
//! the worker's module. Here an error is only "this value does not fit", which is all the
//! binding reports anyway (`invalid_message`, `invalid_parameter`). The rules are those of the
//! wire JSON: numbers must be whole and exact for integer fields, arrays must have exactly the
//! expected length, `undefined` and `null` are both "absent".

use core::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use wasm_bindgen::{JsCast, JsValue};

/// A value that does not fit the type asked for. Deliberately without detail (see above).
#[derive(Debug)]
pub(super) struct Unfit;

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value does not fit")
    }
}

impl std::error::Error for Unfit {}

impl de::Error for Unfit {
    // The message is dropped unformatted: that is the point of this deserializer.
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Self
    }
}

type Result<T> = core::result::Result<T, Unfit>;

/// One JavaScript value to deserialize.
pub(super) struct Value(pub(super) JsValue);

impl Value {
    fn absent(&self) -> bool {
        self.0.is_undefined() || self.0.is_null()
    }

    /// A whole number within `-(2^53 - 1) ..= 2^53 - 1`, the integers a JavaScript number
    /// holds exactly.
    fn integer(&self) -> Result<f64> {
        match self.0.as_f64() {
            Some(n) if n.fract() == 0.0 && n.abs() <= super::MAX_SAFE_INTEGER => Ok(n),
            _ => Err(Unfit),
        }
    }

    fn array(self) -> Result<Seq> {
        if js_sys::Array::is_array(&self.0) {
            let array = js_sys::Array::from(&self.0);
            Ok(Seq { len: array.length(), array, next: 0 })
        } else {
            Err(Unfit)
        }
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = Unfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.absent() {
            visitor.visit_unit()
        } else if let Some(b) = self.0.as_bool() {
            visitor.visit_bool(b)
        } else if let Some(n) = self.0.as_f64() {
            visitor.visit_f64(n)
        } else if let Some(s) = self.0.as_string() {
            visitor.visit_string(s)
        } else if js_sys::Array::is_array(&self.0) {
            self.deserialize_seq(visitor)
        } else {
            self.deserialize_map(visitor)
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.absent() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let n = self.integer()?;
        if n < 0.0 {
            return Err(Unfit);
        }
        // Whole and below 2^53, checked above.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        visitor.visit_u64(n as u64)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Whole and within ±2^53, checked.
        #[allow(clippy::cast_possible_truncation)]
        visitor.visit_i64(self.integer()? as i64)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_string(self.0.as_string().ok_or(Unfit)?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let mut seq = self.array()?;
        let value = visitor.visit_seq(&mut seq)?;
        // Like JSON parsers: elements left over are an error, not ignored.
        if seq.next == seq.len { Ok(value) } else { Err(Unfit) }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if !self.0.is_object() || js_sys::Array::is_array(&self.0) {
            return Err(Unfit);
        }
        let keys = js_sys::Object::keys(self.0.unchecked_ref::<js_sys::Object>());
        visitor.visit_map(Map { len: keys.length(), keys, object: self.0, next: 0, value: None })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    /// Unit variants only, spelled as in the wire JSON: a string (an end notice's `reason`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let name = self.0.as_string().ok_or(Unfit)?;
        visitor.visit_enum(IntoDeserializer::<'de, Unfit>::into_deserializer(name))
    }

    serde::forward_to_deserialize_any! {
        bool i128 u128 f32 f64 char bytes byte_buf unit unit_struct newtype_struct
        tuple_struct identifier ignored_any
    }
}

struct Seq {
    array: js_sys::Array,
    len: u32,
    next: u32,
}

impl<'de> SeqAccess<'de> for Seq {
    type Error = Unfit;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.next == self.len {
            return Ok(None);
        }
        let item = self.array.get(self.next);
        self.next += 1;
        seed.deserialize(Value(item)).map(Some)
    }
}

/// The own enumerable properties of an object, as `Object.keys` lists them.
struct Map {
    keys: js_sys::Array,
    object: JsValue,
    len: u32,
    next: u32,
    value: Option<JsValue>,
}

impl<'de> MapAccess<'de> for Map {
    type Error = Unfit;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.next == self.len {
            return Ok(None);
        }
        let key = self.keys.get(self.next);
        self.next += 1;
        self.value = Some(js_sys::Reflect::get(&self.object, &key).map_err(|_| Unfit)?);
        let key = key.as_string().ok_or(Unfit)?;
        seed.deserialize(IntoDeserializer::<Unfit>::into_deserializer(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(Value(self.value.take().ok_or(Unfit)?))
    }
}

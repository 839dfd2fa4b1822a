//! Values as the browser extension hands them to the core's rules ([`crate::tokens`],
//! [`crate::privacyidea::check_challenge`]): JSON's, plus JavaScript's `undefined`.
//!
//! Those rules were first written in JavaScript, and stored tokens and messages were checked
//! by them; to give the same answers for every input they keep JavaScript's distinctions
//! (`undefined` and `null` are different, a number is an integer or not, only a string is
//! text). The WebAssembly binding converts a JavaScript value into a [`Value`] and nothing
//! else, so every rule is here and runs natively under test.

use std::string::String;
use std::vec::Vec;

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`, 2^53 - 1).
pub(crate) const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JavaScript value: what `JSON.parse` gives, and `undefined`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `undefined`, also what a missing property reads as.
    Undefined,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number: any IEEE 754 double, `NaN` and infinities included.
    Number(f64),
    /// A string.
    String(String),
    /// An array, element by element.
    Array(Vec<Value>),
    /// An object: its own enumerable properties in their order.
    Object(Vec<(String, Value)>),
    /// A function, symbol or BigInt: nothing a rule accepts. `truthy` is what
    /// `Boolean(value)` gives, the one thing a rule may ask of it.
    Other {
        /// JavaScript's truthiness of the value.
        truthy: bool,
    },
}

/// What a missing property reads as.
static UNDEFINED: Value = Value::Undefined;

impl Value {
    /// The property `name` of an object (`value[name]`); [`Value::Undefined`] when it has none
    /// or when the value is no object, as JavaScript's optional chaining (`value?.[name]`) reads
    /// it.
    #[must_use]
    pub fn get(&self, name: &str) -> &Value {
        match self {
            Self::Object(properties) => {
                properties.iter().find(|(key, _)| key == name).map_or(&UNDEFINED, |(_, v)| v)
            }
            _ => &UNDEFINED,
        }
    }

    /// The text of a string (`typeof value === 'string'`).
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(text) => Some(text),
            _ => None,
        }
    }

    /// `undefined` or `null` (`value == null`, what `??` replaces).
    #[must_use]
    pub fn is_nullish(&self) -> bool {
        matches!(self, Self::Undefined | Self::Null)
    }

    /// `typeof value === 'object'`: an object, an array or `null`.
    #[must_use]
    pub fn is_object(&self) -> bool {
        matches!(self, Self::Null | Self::Array(_) | Self::Object(_))
    }

    /// `Boolean(value)`: false for `undefined`, `null`, `false`, `0`, `-0`, `NaN` and `""`.
    #[must_use]
    pub fn is_truthy(&self) -> bool {
        match self {
            Self::Undefined | Self::Null => false,
            Self::Bool(b) => *b,
            Self::Number(n) => *n != 0.0 && !n.is_nan(),
            Self::String(text) => !text.is_empty(),
            Self::Array(_) | Self::Object(_) => true,
            Self::Other { truthy } => *truthy,
        }
    }

    /// The number if it is an integer (`Number.isInteger(value)`).
    #[must_use]
    pub fn as_integer(&self) -> Option<f64> {
        match self {
            Self::Number(n) if n.is_finite() && n.fract() == 0.0 => Some(*n),
            _ => None,
        }
    }
}

/// JavaScript's white space, what `\s` matches and `String.prototype.trim` removes
/// (ECMA-262 WhiteSpace and LineTerminator): Unicode's space separators, the ASCII controls
/// tab to carriage return, the no-break and zero-width no-break space, and the line and
/// paragraph separators. It is not Rust's [`char::is_whitespace`], which takes U+0085 and
/// leaves U+FEFF.
#[must_use]
pub fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `text.trim()`: without JavaScript's white space at either end.
#[must_use]
pub fn js_trim(text: &str) -> &str {
    text.trim_matches(is_js_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_read_as_javascript_reads_them() {
        let object =
            Value::Object(vec![("a".into(), Value::Number(1.0)), ("b".into(), Value::Undefined)]);
        assert_eq!(object.get("a"), &Value::Number(1.0));
        assert_eq!(object.get("b"), &Value::Undefined);
        assert_eq!(object.get("c"), &Value::Undefined);
        // Optional chaining: no property of null, a string or an array by name.
        assert_eq!(Value::Null.get("a"), &Value::Undefined);
        assert_eq!(Value::String("a".into()).get("length"), &Value::Undefined);
        assert_eq!(Value::Array(vec![]).get("a"), &Value::Undefined);
    }

    #[test]
    fn types_and_truthiness_are_javascript_s() {
        assert!(Value::Null.is_object() && Value::Array(vec![]).is_object());
        assert!(!Value::String("{}".into()).is_object() && !Value::Undefined.is_object());
        assert!(Value::Null.is_nullish() && Value::Undefined.is_nullish());
        assert!(!Value::Bool(false).is_nullish() && !Value::Number(0.0).is_nullish());
        for falsy in [
            Value::Undefined,
            Value::Null,
            Value::Bool(false),
            Value::Number(0.0),
            Value::Number(-0.0),
            Value::Number(f64::NAN),
            Value::String(String::new()),
            Value::Other { truthy: false },
        ] {
            assert!(!falsy.is_truthy(), "{falsy:?}");
        }
        for truthy in [
            Value::Bool(true),
            Value::Number(-1.0),
            Value::Number(f64::INFINITY),
            Value::String("0".into()),
            Value::Array(vec![]),
            Value::Object(vec![]),
            Value::Other { truthy: true },
        ] {
            assert!(truthy.is_truthy(), "{truthy:?}");
        }
        assert_eq!(Value::Number(6.0).as_integer(), Some(6.0));
        assert_eq!(Value::Number(-0.0).as_integer(), Some(0.0));
        for not in [
            Value::Number(6.5),
            Value::Number(f64::NAN),
            Value::Number(f64::INFINITY),
            Value::String("6".into()),
            Value::Bool(true),
        ] {
            assert_eq!(not.as_integer(), None, "{not:?}");
        }
    }

    #[test]
    fn white_space_is_javascript_s() {
        // The set `/\s/` matches in ECMAScript, listed from Node over every code point.
        let listed: Vec<u32> = [
            0x9, 0xa, 0xb, 0xc, 0xd, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
            0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
            0xfeff,
        ]
        .into();
        let found: Vec<u32> = (0..=0x10_ffff_u32)
            .filter_map(char::from_u32)
            .filter(|&c| is_js_space(c))
            .map(u32::from)
            .collect();
        assert_eq!(found, listed);
        assert_eq!(js_trim("\u{feff}\u{3000} a b\u{a0}\n"), "a b");
        // Rust's own idea of white space differs: U+0085 is no JavaScript space.
        assert_eq!(js_trim("\u{85}a"), "\u{85}a");
    }
}

//! [`Nullable`]: a field that can be absent, `null`, or hold a value.
//!
//! OONI data distinguishes a key that is missing from a key that is present
//! with the value `null` (old probes omit keys that newer probes write as
//! `null`). `Option<T>` folds both into `None`, so re-serializing would change
//! the document. `Nullable<T>` keeps the three states apart; every optional
//! field of this crate uses it together with
//! `#[serde(default, skip_serializing_if = "Nullable::is_absent")]`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON object field in one of three states: absent, `null`, or a value.
///
/// ```
/// use canary_model::Nullable;
///
/// let present: Nullable<u16> = Nullable::Present(443);
/// assert_eq!(present.get(), Some(&443));
/// assert!(Nullable::<u16>::Null.get().is_none());
/// assert!(Nullable::<u16>::default().is_absent());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Nullable<T> {
    /// The key does not appear in the object.
    #[default]
    Absent,
    /// The key appears with the JSON value `null`.
    Null,
    /// The key appears with a (non-null) value.
    Present(T),
}

impl<T> Nullable<T> {
    /// `Some(v)` → `Present(v)`, `None` → `Absent` (the key is not written).
    ///
    /// ```
    /// use canary_model::Nullable;
    /// assert_eq!(Nullable::present_or_absent(Some(1)), Nullable::Present(1));
    /// assert_eq!(Nullable::<u8>::present_or_absent(None), Nullable::Absent);
    /// ```
    pub fn present_or_absent(v: Option<T>) -> Nullable<T> {
        v.map_or(Nullable::Absent, Nullable::Present)
    }

    /// `Some(v)` → `Present(v)`, `None` → `Null` (the key is written as
    /// `null`); the same as `Nullable::from(option)`.
    ///
    /// ```
    /// use canary_model::Nullable;
    /// assert_eq!(Nullable::<u8>::present_or_null(None), Nullable::Null);
    /// ```
    pub fn present_or_null(v: Option<T>) -> Nullable<T> {
        v.map_or(Nullable::Null, Nullable::Present)
    }

    /// True when the key does not appear in the object (used by
    /// `skip_serializing_if`).
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }

    /// True when the key appears with the value `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }

    /// True when the key holds a value.
    pub fn is_present(&self) -> bool {
        matches!(self, Nullable::Present(_))
    }

    /// The value, if there is one (absent and `null` both give `None`).
    pub fn get(&self) -> Option<&T> {
        match self {
            Nullable::Present(v) => Some(v),
            Nullable::Absent | Nullable::Null => None,
        }
    }

    /// Mutable access to the value, if there is one.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Nullable::Present(v) => Some(v),
            Nullable::Absent | Nullable::Null => None,
        }
    }

    /// Converts into an `Option`, forgetting the absent/`null` distinction.
    pub fn into_option(self) -> Option<T> {
        match self {
            Nullable::Present(v) => Some(v),
            Nullable::Absent | Nullable::Null => None,
        }
    }

    /// Borrows the value inside, keeping the state.
    pub fn as_ref(&self) -> Nullable<&T> {
        match self {
            Nullable::Absent => Nullable::Absent,
            Nullable::Null => Nullable::Null,
            Nullable::Present(v) => Nullable::Present(v),
        }
    }

    /// Maps the value inside, keeping the state.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Nullable<U> {
        match self {
            Nullable::Absent => Nullable::Absent,
            Nullable::Null => Nullable::Null,
            Nullable::Present(v) => Nullable::Present(f(v)),
        }
    }
}

impl<T: Copy> Nullable<T> {
    /// The value by copy, if there is one.
    pub fn value(&self) -> Option<T> {
        self.get().copied()
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(v: T) -> Self {
        Nullable::Present(v)
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    /// `None` becomes an explicit `null` (a key that is written).
    fn from(v: Option<T>) -> Self {
        match v {
            Some(v) => Nullable::Present(v),
            None => Nullable::Null,
        }
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Fields skip `Absent` with `skip_serializing_if`; anywhere else
            // (inside a list) the closest JSON is `null`.
            Nullable::Absent | Nullable::Null => serializer.serialize_none(),
            Nullable::Present(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only called when the key is present: `null` → Null, else the value.
        Ok(Option::<T>::deserialize(deserializer)?.into())
    }
}

//! `ooni_object!`: declares a lossless OONI JSON object type.
//!
//! Every named field becomes a `pub Nullable<T>` that keeps absent and `null`
//! apart, and an `extra` map keeps every key the model does not name, so
//! `parse → serialize` reproduces the original object.
//!
//! `Deserialize` is written out here rather than derived: the derive needs
//! `#[serde(flatten)]` for `extra`, and flatten buffers the whole object into
//! an intermediate tree before typing it, which made the typed parse of a
//! measurement several times slower. The hand-written visitor types each
//! value straight from the input and only builds `serde_json::Value`s for the
//! keys that go into `extra`. Behaviour matches the derive: objects only, a
//! named key given twice is an error, an unnamed key given twice keeps the
//! last value.

macro_rules! ooni_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "crate::Nullable::is_absent")]
                pub $field: crate::Nullable<$ty>,
            )*
            /// Keys this model does not name, kept verbatim so nothing is lost.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($name)))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$name, A::Error> {
                        let mut out = $name::default();
                        while let Some(crate::measurement::Key(key)) =
                            map.next_key::<crate::measurement::Key<'de>>()?
                        {
                            match key.as_ref() {
                                $(
                                    stringify!($field) => {
                                        if !out.$field.is_absent() {
                                            return Err(serde::de::Error::duplicate_field(
                                                stringify!($field),
                                            ));
                                        }
                                        out.$field = map.next_value()?;
                                    }
                                )*
                                _ => {
                                    let value: serde_json::Value = map.next_value()?;
                                    out.extra.insert(key.into_owned(), value);
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_map(V)
            }
        }
    };
}

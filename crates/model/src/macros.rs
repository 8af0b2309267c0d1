//! `ooni_object!`: declares a lossless OONI JSON object type.
//!
//! Every named field becomes a `pub Nullable<T>` that keeps absent and `null`
//! apart, and a flattened `extra` map keeps every key the model does not
//! name, so `parse → serialize` reproduces the original object.

macro_rules! ooni_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
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
    };
}

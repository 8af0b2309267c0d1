//! Field-level encryption of sensitive values at rest.
//!
//! * [`FieldKey`]: 32 random bytes and a one-byte key id, loaded from a key
//!   file or an environment variable (never from the database), wiped from
//!   memory on drop, never printed.
//! * [`KeyRing`]: the current key (used to seal) and older keys (used to
//!   open values sealed before a rotation).
//! * [`SensitiveField`]: a value that is clear text in memory, sealed
//!   ciphertext at rest, or redacted in a view for someone without the right.
//! * [`SealedText`]: XChaCha20-Poly1305 with a random 24-byte nonce; the
//!   additional data binds the ciphertext to (entity type, record id, field
//!   name, key id), so a value copied into another row or field fails to
//!   open. Written `v1:<key-id>:<base64(nonce ‖ ciphertext ‖ tag)>`.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, Zeroizing};

use crate::error::Error;
use crate::vocab::EntityType;
use crate::Record;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Longest sealed text accepted when parsing (characters).
pub const MAX_SEALED_LEN: usize = 1 << 20;

/// A 32-byte field-encryption key with its id. Wiped on drop; `Debug`
/// shows only the id.
pub struct FieldKey {
    id: u8,
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for FieldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl FieldKey {
    /// A new random key with the given id (for `canary admin gen-key`).
    pub fn generate(id: u8) -> Result<Self, Error> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(key.as_mut()).map_err(|e| Error::Random(e.to_string()))?;
        Ok(FieldKey { id, key })
    }

    /// A key from raw bytes.
    pub fn from_bytes(id: u8, bytes: [u8; 32]) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&bytes);
        let mut bytes = bytes;
        bytes.zeroize();
        FieldKey { id, key }
    }

    /// Parses the key-file form: optional `<id>:` (decimal 0–255, default
    /// 1), then 64 hex digits or the base64 of 32 bytes. Surrounding
    /// whitespace is ignored. Errors never echo the input.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let (id, material) = match text.split_once(':') {
            Some((id, rest)) => (
                id.parse::<u8>()
                    .map_err(|_| Error::invalid("key", "key id before ':' must be 0-255"))?,
                rest,
            ),
            None => (1, text),
        };
        let mut key = Zeroizing::new([0u8; 32]);
        if material.len() == 64 && material.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode_to_slice(material, key.as_mut())
                .map_err(|_| Error::invalid("key", "bad hex"))?;
        } else {
            let decoded = Zeroizing::new(
                STANDARD
                    .decode(material)
                    .or_else(|_| STANDARD_NO_PAD.decode(material))
                    .map_err(|_| {
                        Error::invalid("key", "expected 64 hex digits or base64 of 32 bytes")
                    })?,
            );
            if decoded.len() != 32 {
                return Err(Error::invalid(
                    "key",
                    format!("expected 32 bytes, got {}", decoded.len()),
                ));
            }
            key.copy_from_slice(&decoded);
        }
        Ok(FieldKey { id, key })
    }

    /// Reads a key file (see [`FieldKey::parse`]); at most 1 KiB is read.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let text = crate::files::read_key_file(path.as_ref())?;
        Self::parse(&text)
    }

    /// Reads a key from an environment variable (see [`FieldKey::parse`]).
    pub fn from_env(var: &str) -> Result<Self, Error> {
        let text = Zeroizing::new(std::env::var(var).map_err(|_| {
            Error::invalid(
                "key",
                format!("environment variable {var} is not set or not UTF-8"),
            )
        })?);
        Self::parse(&text)
    }

    /// The key-file form `<id>:<64 hex digits>`. Handle with care.
    pub fn to_key_file_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}:{}\n", self.id, hex::encode(self.key.as_ref())))
    }

    /// The key id written into every value sealed with this key.
    pub fn id(&self) -> u8 {
        self.id
    }
}

/// The current sealing key and older keys still able to open.
#[derive(Debug)]
pub struct KeyRing {
    current: FieldKey,
    older: Vec<FieldKey>,
}

impl From<FieldKey> for KeyRing {
    fn from(current: FieldKey) -> Self {
        KeyRing {
            current,
            older: Vec::new(),
        }
    }
}

impl KeyRing {
    /// A ring that seals with `current`.
    pub fn new(current: FieldKey) -> Self {
        current.into()
    }

    /// Adds an older key (for opening only). A key whose id equals the
    /// current key's id is rejected.
    pub fn with_older(mut self, key: FieldKey) -> Result<Self, Error> {
        if key.id == self.current.id || self.older.iter().any(|k| k.id == key.id) {
            return Err(Error::invalid(
                "key",
                format!("duplicate key id {}", key.id),
            ));
        }
        self.older.push(key);
        Ok(self)
    }

    /// The sealing key's id.
    pub fn current_id(&self) -> u8 {
        self.current.id
    }

    fn get(&self, id: u8) -> Option<&FieldKey> {
        std::iter::once(&self.current)
            .chain(self.older.iter())
            .find(|k| k.id == id)
    }
}

/// Where a sealed value lives; bound into the ciphertext.
#[derive(Debug, Clone, Copy)]
pub struct FieldContext<'a> {
    /// Entity type of the record.
    pub entity: EntityType,
    /// Record id.
    pub record: &'a str,
    /// Field name (dotted for nested fields, e.g. `place.exact`).
    pub field: &'a str,
}

impl FieldContext<'_> {
    fn aad(&self, key_id: u8) -> Vec<u8> {
        let mut aad = Vec::with_capacity(64);
        aad.extend_from_slice(b"canary-registry-field-v1\0");
        aad.extend_from_slice(self.entity.as_str().as_bytes());
        aad.push(0);
        aad.extend_from_slice(self.record.as_bytes());
        aad.push(0);
        aad.extend_from_slice(self.field.as_bytes());
        aad.push(0);
        aad.push(key_id);
        aad
    }
}

/// A sealed value: key id, nonce and ciphertext (with tag).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedText {
    key_id: u8,
    /// nonce ‖ ciphertext ‖ tag
    blob: Vec<u8>,
}

impl fmt::Debug for SealedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedText({self})")
    }
}

impl SealedText {
    /// Encrypts `plain` for `ctx` under the ring's current key.
    pub fn seal(plain: &str, ring: &KeyRing, ctx: FieldContext<'_>) -> Result<Self, Error> {
        let key = &ring.current;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
        let cipher = XChaCha20Poly1305::new(key.key.as_ref().into());
        let aad = ctx.aad(key.id);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Encrypt {
                record: ctx.record.to_owned(),
                field: ctx.field.to_owned(),
            })?;
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        Ok(SealedText {
            key_id: key.id,
            blob,
        })
    }

    /// Decrypts; a wrong key, an altered value or a value moved to another
    /// record or field gives [`Error::Decrypt`] and no plaintext.
    pub fn open(&self, ring: &KeyRing, ctx: FieldContext<'_>) -> Result<Zeroizing<String>, Error> {
        let key = ring.get(self.key_id).ok_or_else(|| Error::UnknownKey {
            key_id: self.key_id,
            record: ctx.record.to_owned(),
            field: ctx.field.to_owned(),
        })?;
        let decrypt_err = || Error::Decrypt {
            entity: ctx.entity.as_str(),
            record: ctx.record.to_owned(),
            field: ctx.field.to_owned(),
            key_id: self.key_id,
        };
        let (nonce, ct) = self.blob.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(key.key.as_ref().into());
        let aad = ctx.aad(self.key_id);
        let plain = Zeroizing::new(
            cipher
                .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
                .map_err(|_| decrypt_err())?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| decrypt_err())?;
        Ok(Zeroizing::new(text.to_owned()))
    }

    /// The id of the key that sealed it.
    pub fn key_id(&self) -> u8 {
        self.key_id
    }
}

impl fmt::Display for SealedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v1:{}:{}",
            self.key_id,
            STANDARD_NO_PAD.encode(&self.blob)
        )
    }
}

impl FromStr for SealedText {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_SEALED_LEN {
            return Err(Error::TooLarge {
                what: "sealed field".into(),
                limit: MAX_SEALED_LEN as u64,
            });
        }
        let mut parts = s.splitn(3, ':');
        let (Some("v1"), Some(kid), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::invalid(
                "sealed field",
                "expected v1:<key-id>:<base64>",
            ));
        };
        let key_id = kid
            .parse::<u8>()
            .map_err(|_| Error::invalid("sealed field", "key id must be 0-255"))?;
        let blob = STANDARD_NO_PAD.decode(b64).map_err(|_| {
            Error::invalid("sealed field", "bad base64 (standard alphabet, no padding)")
        })?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::invalid(
                "sealed field",
                "too short for nonce and tag",
            ));
        }
        Ok(SealedText { key_id, blob })
    }
}

impl Serialize for SealedText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SealedText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A sensitive value: clear in memory for those allowed, sealed at rest,
/// redacted in views for everyone else.
///
/// Serde forms: `{"clear":"…"}`, `{"sealed":"v1:1:…"}`, `"redacted"`.
/// `Debug` never prints clear text.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveField {
    /// Clear text (only in memory, never at rest).
    Clear(String),
    /// Ciphertext.
    Sealed(SealedText),
    /// Withheld from this reader.
    Redacted,
}

impl fmt::Debug for SensitiveField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SensitiveField::Clear(s) => write!(f, "Clear(<{} bytes>)", s.len()),
            SensitiveField::Sealed(s) => write!(f, "Sealed({s})"),
            SensitiveField::Redacted => f.write_str("Redacted"),
        }
    }
}

impl Drop for SensitiveField {
    fn drop(&mut self) {
        if let SensitiveField::Clear(s) = self {
            s.zeroize();
        }
    }
}

impl SensitiveField {
    /// A clear value.
    pub fn clear(text: impl Into<String>) -> Self {
        SensitiveField::Clear(text.into())
    }

    /// The clear text, if clear.
    pub fn as_clear(&self) -> Option<&str> {
        match self {
            SensitiveField::Clear(s) => Some(s),
            _ => None,
        }
    }

    /// "clear", "sealed" or "redacted".
    pub fn state(&self) -> &'static str {
        match self {
            SensitiveField::Clear(_) => "clear",
            SensitiveField::Sealed(_) => "sealed",
            SensitiveField::Redacted => "redacted",
        }
    }

    /// Seals a clear value in place (sealed and redacted values are left as they are).
    pub fn seal(&mut self, ring: &KeyRing, ctx: FieldContext<'_>) -> Result<(), Error> {
        if let SensitiveField::Clear(plain) = self {
            let sealed = SealedText::seal(plain, ring, ctx)?;
            *self = SensitiveField::Sealed(sealed);
        }
        Ok(())
    }

    /// Opens a sealed value in place (clear and redacted values are left as
    /// they are). On error the value stays sealed.
    pub fn open(&mut self, ring: &KeyRing, ctx: FieldContext<'_>) -> Result<(), Error> {
        if let SensitiveField::Sealed(sealed) = self {
            let plain = sealed.open(ring, ctx)?;
            *self = SensitiveField::Clear(plain.as_str().to_owned());
        }
        Ok(())
    }

    /// Replaces the value with the placeholder.
    pub fn redact(&mut self) {
        *self = SensitiveField::Redacted;
    }
}

/// Seals every sensitive field of a record under the ring's current key.
pub fn seal_record<R: Record>(record: &mut R, ring: &KeyRing) -> Result<(), Error> {
    let id = record.meta().id.clone();
    for (field, value) in record.sensitive_fields_mut() {
        value.seal(
            ring,
            FieldContext {
                entity: R::ENTITY,
                record: &id,
                field,
            },
        )?;
    }
    Ok(())
}

/// Opens every sealed field of a record. Stops at the first field that
/// does not open (that field and later ones stay sealed).
pub fn open_record<R: Record>(record: &mut R, ring: &KeyRing) -> Result<(), Error> {
    let id = record.meta().id.clone();
    for (field, value) in record.sensitive_fields_mut() {
        value.open(
            ring,
            FieldContext {
                entity: R::ENTITY,
                record: &id,
                field,
            },
        )?;
    }
    Ok(())
}

/// What `p` gets when opening a record: forbidden if `p` may not read it;
/// a redacted copy (and no audit entry) if `p` may read it but not its
/// sensitive fields; otherwise a copy with every sensitive field opened,
/// and one `read_sensitive` audit entry per field revealed
/// (`<record id>.<field>`). A field that does not open fails the whole
/// call and reveals nothing.
pub fn reveal<R: Record + Clone>(
    record: &R,
    p: &crate::policy::Principal,
    ring: &KeyRing,
    audit: &mut crate::chain::AuditLog,
    at: time::OffsetDateTime,
) -> Result<R, Error> {
    use crate::policy::{can_read, can_read_sensitive, redact};
    if !can_read(p, record.meta()) {
        return Err(Error::Forbidden(format!(
            "{} may not read {}",
            p.describe(),
            record.meta().id
        )));
    }
    let mut out = redact(record, p);
    if !can_read_sensitive(p, record.meta()) {
        return Ok(out);
    }
    open_record(&mut out, ring)?;
    let id = out.meta().id.clone();
    let actor = p.user_id().unwrap_or("anonymous").to_owned();
    let fields: Vec<&'static str> = out
        .sensitive_fields_mut()
        .into_iter()
        .filter(|(_, f)| f.as_clear().is_some())
        .map(|(name, _)| name)
        .collect();
    for field in fields {
        audit.append(
            actor.clone(),
            crate::vocab::AuditAction::ReadSensitive,
            format!("{id}.{field}"),
            at,
            format!("entity={}", R::ENTITY),
        );
    }
    Ok(out)
}

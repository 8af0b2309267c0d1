//! All file access of the crate: the content-addressed evidence object
//! store and key-file reading.
//!
//! Layout: `<root>/objects/ab/cdef…` where `abcdef…` is the SHA-256 (hex)
//! of the file's bytes. Objects are written once (via a temporary file and
//! a hard link, so an existing original is never overwritten, even by a
//! racing writer), made read-only, and re-hashed on every read.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Largest key file read.
const MAX_KEY_FILE: u64 = 1024;

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

pub(crate) fn read_key_file(path: &Path) -> Result<zeroize::Zeroizing<String>, Error> {
    let file = fs::File::open(path).map_err(io("open key file", path))?;
    let mut text = zeroize::Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_string(&mut text)
        .map_err(io("read key file", path))?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(Error::TooLarge {
            what: format!("key file {}", path.display()),
            limit: MAX_KEY_FILE,
        });
    }
    Ok(text)
}

/// SHA-256 of `bytes`, lowercase hex: an evidence item's content address.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks that `s` is 64 lowercase hex digits.
pub fn check_sha256(s: &str) -> Result<(), Error> {
    if s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(Error::invalid(
            "sha256",
            format!("{s:?} is not 64 lowercase hex digits"),
        ))
    }
}

/// What [`ObjectStore::put`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Content address.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// False when an identical object was already stored (it was left untouched).
    pub created: bool,
}

/// A content-addressed store of evidence originals and working copies.
#[derive(Debug, Clone)]
pub struct ObjectStore {
    root: PathBuf,
}

impl ObjectStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ObjectStore { root: root.into() }
    }

    /// Where the object with this hash lives.
    pub fn path_for(&self, sha256: &str) -> Result<PathBuf, Error> {
        check_sha256(sha256)?;
        Ok(self
            .root
            .join("objects")
            .join(&sha256[..2])
            .join(&sha256[2..]))
    }

    /// Stores `bytes`.
    pub fn put(&self, bytes: &[u8]) -> Result<Stored, Error> {
        self.put_reader(bytes, bytes.len() as u64)
    }

    /// Stores at most `max_bytes` read from `reader` (more is an error and
    /// nothing is stored). An object already present is never rewritten:
    /// it is re-hashed, and a mismatch is reported as corruption.
    pub fn put_reader(&self, reader: impl Read, max_bytes: u64) -> Result<Stored, Error> {
        let tmp_dir = self.root.join("tmp");
        fs::create_dir_all(&tmp_dir).map_err(io("create directory", &tmp_dir))?;
        let mut suffix = [0u8; 12];
        getrandom::getrandom(&mut suffix).map_err(|e| Error::Random(e.to_string()))?;
        let tmp = tmp_dir.join(format!("incoming-{}", hex::encode(suffix)));
        let result = self.write_then_link(reader, max_bytes, &tmp);
        // The temporary name is gone in every case (linked or abandoned).
        let _ = fs::remove_file(&tmp);
        result
    }

    fn write_then_link(
        &self,
        reader: impl Read,
        max_bytes: u64,
        tmp: &Path,
    ) -> Result<Stored, Error> {
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
            .map_err(io("create", tmp))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut limited = reader.take(max_bytes.saturating_add(1));
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = limited.read(&mut buf).map_err(io("read input for", tmp))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > max_bytes {
                return Err(Error::TooLarge {
                    what: "evidence object".into(),
                    limit: max_bytes,
                });
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io("write", tmp))?;
        }
        out.sync_all().map_err(io("sync", tmp))?;
        drop(out);
        let sha256 = hex::encode(hasher.finalize());
        let dest = self.path_for(&sha256)?;
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(io("create directory", dir))?;
        }
        let mut perms = fs::metadata(tmp).map_err(io("stat", tmp))?.permissions();
        perms.set_readonly(true);
        fs::set_permissions(tmp, perms).map_err(io("make read-only", tmp))?;
        match fs::hard_link(tmp, &dest) {
            Ok(()) => {
                tracing::debug!(%sha256, size, "stored evidence object");
                Ok(Stored {
                    sha256,
                    size,
                    created: true,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                self.verify(&sha256, size)?;
                Ok(Stored {
                    sha256,
                    size,
                    created: false,
                })
            }
            Err(e) => Err(io("link", &dest)(e)),
        }
    }

    /// Reads an object (at most `max_bytes`) and checks that it still hashes to its name.
    pub fn get(&self, sha256: &str, max_bytes: u64) -> Result<Vec<u8>, Error> {
        let path = self.path_for(sha256)?;
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::ObjectNotFound(sha256.to_owned()))
            }
            Err(e) => return Err(io("open", &path)(e)),
        };
        let mut bytes = Vec::new();
        file.take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io("read", &path))?;
        if bytes.len() as u64 > max_bytes {
            return Err(Error::TooLarge {
                what: format!("evidence object {sha256}"),
                limit: max_bytes,
            });
        }
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            return Err(Error::Corrupt {
                expected: sha256.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Re-hashes a stored object (reading at most `max_bytes`).
    pub fn verify(&self, sha256: &str, max_bytes: u64) -> Result<(), Error> {
        self.get(sha256, max_bytes).map(|_| ())
    }
}

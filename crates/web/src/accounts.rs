//! Accounts: roles, argon2id password hashes, sessions, CSRF tokens and
//! login throttling.
//!
//! Passwords are hashed with argon2id ([`PasswordParams::owasp`] by
//! default: 19 MiB, 2 passes, 1 lane) on a blocking thread. A session is a
//! random 256-bit token in an HttpOnly, SameSite=Lax cookie (`Secure` and
//! `__Host-` prefixed when the server sits behind TLS); the store keeps
//! only its SHA-256, with a per-session CSRF token that every form must
//! echo.
//!
//! ```no_run
//! # async fn f(store: canary_store::Store) -> Result<(), canary_web::WebError> {
//! use canary_web::accounts::{create_user, PasswordParams, Role};
//! create_user(&store, "admin", "a long passphrase", Role::Admin, Some("Coalition"),
//!             &PasswordParams::owasp()).await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use canary_store::accounts::User;
use canary_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::WebError;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in bytes (bounds hashing work).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What a user may do. Ordered: a higher role can do what a lower one can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the explorer when it is not public.
    Viewer,
    /// Also reads what the access policy reserves to analysts (e.g. raw JSON).
    Analyst,
    /// Also manages users.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];

    /// `viewer`, `analyst` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = WebError;
    fn from_str(s: &str) -> Result<Role, WebError> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            other => Err(WebError::invalid(
                "role",
                format!("{other:?} is not one of viewer, analyst, admin"),
            )),
        }
    }
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl PasswordParams {
    /// OWASP's recommended argon2id minimum: m=19 MiB, t=2, p=1.
    pub fn owasp() -> Self {
        PasswordParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }

    /// Cheap parameters for tests only (m=64 KiB, t=1).
    pub fn insecure_for_tests() -> Self {
        PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn argon2(&self) -> Result<Argon2<'static>, WebError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| WebError::Password(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams::owasp()
    }
}

fn check_password(password: &str) -> Result<(), WebError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(WebError::invalid(
            "password",
            format!("longer than {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(WebError::invalid(
            "password",
            format!("shorter than {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id (PHC string) on a blocking thread.
pub async fn hash_password(password: &str, params: &PasswordParams) -> Result<String, WebError> {
    check_password(password)?;
    let argon = params.argon2()?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| WebError::Password(e.to_string()))
    })
    .await
    .map_err(|e| WebError::Password(e.to_string()))?
}

/// Checks a password against a PHC hash on a blocking thread (parameters
/// come from the hash). A malformed hash verifies as `false`.
pub async fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let password = password.to_owned();
    let hash = hash.to_owned();
    tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

/// A dummy hash to verify against when the user does not exist, so that a
/// wrong name costs the same time as a wrong password.
pub(crate) async fn dummy_hash(params: &PasswordParams) -> Option<String> {
    hash_password("not-a-real-password-at-all", params)
        .await
        .ok()
}

fn check_name(name: &str) -> Result<(), WebError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(WebError::invalid(
            "user name",
            "1 to 64 characters among a-z, A-Z, 0-9, '.', '_', '-', '@'",
        ))
    }
}

/// Creates a user (for `canary admin create-user` and the admin page).
/// The name must be 1–64 of `[A-Za-z0-9._@-]`, the password at least
/// [`MIN_PASSWORD_CHARS`] characters.
pub async fn create_user(
    store: &Store,
    name: &str,
    password: &str,
    role: Role,
    org: Option<&str>,
    params: &PasswordParams,
) -> Result<User, WebError> {
    check_name(name)?;
    if let Some(o) = org {
        if o.len() > 200 || o.chars().any(char::is_control) {
            return Err(WebError::invalid(
                "organisation",
                "at most 200 printable bytes",
            ));
        }
    }
    let hash = hash_password(password, params).await?;
    Ok(store.create_user(name, &hash, role.as_str(), org).await?)
}

/// 256 random bits as hex.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a token, as the store keeps it.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison of two tokens.
pub(crate) fn tokens_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts failed logins per account and per source (keyed hash) in a
/// sliding window; refuses further attempts once either reaches the limit.
#[derive(Debug)]
pub(crate) struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    state: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Entries kept at most (older ones are dropped first when full).
const THROTTLE_CAPACITY: usize = 100_000;

impl LoginThrottle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        LoginThrottle {
            max_failures,
            window,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Whether any of `keys` is currently locked out.
    pub(crate) fn blocked(&self, keys: &[String]) -> bool {
        let now = Instant::now();
        let Ok(state) = self.state.lock() else {
            return true;
        };
        keys.iter().any(|k| {
            state.get(k).is_some_and(|(n, since)| {
                *n >= self.max_failures && now.duration_since(*since) < self.window
            })
        })
    }

    pub(crate) fn failure(&self, keys: &[String]) {
        let now = Instant::now();
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.len() >= THROTTLE_CAPACITY {
            let window = self.window;
            state.retain(|_, (_, since)| now.duration_since(*since) < window);
            if state.len() >= THROTTLE_CAPACITY {
                state.clear();
            }
        }
        for k in keys {
            let e = state.entry(k.clone()).or_insert((0, now));
            if now.duration_since(e.1) >= self.window {
                *e = (0, now);
            }
            e.0 += 1;
        }
    }

    pub(crate) fn success(&self, account_key: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.remove(account_key);
        }
    }
}

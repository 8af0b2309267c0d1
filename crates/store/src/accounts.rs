//! Accounts and sessions for the web UI (`canary serve`).
//!
//! The store only keeps what the web crate decides: a user's name, an
//! already-hashed password (argon2id PHC string, never the password), a
//! role (`viewer`, `analyst`, `admin`) and an organisation; sessions are
//! kept by the SHA-256 of their cookie token with their CSRF token and
//! expiry. Hashing, roles and throttling live in `canary-web`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::store::{check_len, with_backend, Backend};
use crate::{StoreError, MAX_FIELD_BYTES};

/// The roles a user may have, as stored.
pub const ROLES: [&str; 3] = ["viewer", "analyst", "admin"];

/// A user account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Internal id.
    pub id: i64,
    /// Login name (unique).
    pub name: String,
    /// `viewer`, `analyst` or `admin`.
    pub role: String,
    /// Organisation, free text.
    pub org: Option<String>,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A live session: who, and the CSRF token bound to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session's user.
    pub user: User,
    /// The CSRF token every form of this session must carry.
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: OffsetDateTime,
}

type UserRow = (i64, String, String, Option<String>, bool, i64);
/// A user row followed by one more text column.
type UserRowWith = (i64, String, String, Option<String>, bool, i64, String);

fn user_from_row(row: UserRow) -> Result<User, StoreError> {
    let (id, name, role, org, disabled, created) = row;
    let created_at = OffsetDateTime::from_unix_timestamp(created)
        .map_err(|e| StoreError::corrupt(format!("user {id}"), e.to_string()))?;
    Ok(User {
        id,
        name,
        role,
        org,
        disabled,
        created_at,
    })
}

fn check_role(role: &str) -> Result<(), StoreError> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "role",
            format!("{role:?} is not one of viewer, analyst, admin"),
        ))
    }
}

const USER_COLUMNS: &str = "id, name, role, org, disabled, created_at";

impl crate::Store {
    /// Creates a user with an already-hashed password. Fails with
    /// [`StoreError::Invalid`] when the name is taken, empty or too long, or
    /// the role unknown.
    pub async fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        role: &str,
        org: Option<&str>,
    ) -> Result<User, StoreError> {
        check_len("user name", name, MAX_FIELD_BYTES)?;
        if name.trim().is_empty() {
            return Err(StoreError::invalid("user name", "empty"));
        }
        check_len("password hash", password_hash, MAX_FIELD_BYTES)?;
        check_role(role)?;
        if let Some(o) = org {
            check_len("organisation", o, MAX_FIELD_BYTES)?;
        }
        if self.user_by_name(name).await?.is_some() {
            return Err(StoreError::invalid(
                "user name",
                format!("{name:?} is already taken"),
            ));
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let row: UserRow = with_backend!(self, pool, Db => {
            sqlx::query_as(
                "INSERT INTO users (name, password_hash, role, org, disabled, created_at) \
                 VALUES ($1, $2, $3, $4, FALSE, $5) \
                 RETURNING id, name, role, org, disabled, created_at",
            )
            .bind(name.to_owned())
            .bind(password_hash.to_owned())
            .bind(role.to_owned())
            .bind(org.map(str::to_owned))
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        user_from_row(row)
    }

    /// A user and their password hash, by login name.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
        check_len("user name", name, MAX_FIELD_BYTES)?;
        let row: Option<UserRowWith> = with_backend!(self, pool, Db => {
            sqlx::query_as(
                "SELECT id, name, role, org, disabled, created_at, password_hash \
                 FROM users WHERE name = $1",
            )
            .bind(name.to_owned())
            .fetch_optional(pool)
            .await?
        });
        let Some((id, name, role, org, disabled, created, hash)) = row else {
            return Ok(None);
        };
        Ok(Some((
            user_from_row((id, name, role, org, disabled, created))?,
            hash,
        )))
    }

    /// Every user, by name (at most 10,000).
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = with_backend!(self, pool, Db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY name LIMIT 10000"
            )))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(user_from_row).collect()
    }

    /// Changes a user's role and whether they are disabled; a disabled user's
    /// sessions are ended. Returns `false` when there is no such user.
    pub async fn update_user(
        &self,
        id: i64,
        role: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        check_role(role)?;
        let changed = with_backend!(self, pool, Db => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE users SET role = $1, disabled = $2 WHERE id = $3")
                .bind(role.to_owned())
                .bind(disabled)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if disabled {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            done
        });
        Ok(changed == 1)
    }

    /// Records a session (by the hash of its token).
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        check_len("session", token_hash, MAX_FIELD_BYTES)?;
        check_len("csrf token", csrf_token, MAX_FIELD_BYTES)?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        with_backend!(self, pool, Db => {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash.to_owned())
            .bind(user_id)
            .bind(csrf_token.to_owned())
            .bind(now)
            .bind(expires_at.unix_timestamp())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The live session with this token hash at `now` (expired sessions and
    /// disabled users give `None`).
    pub async fn session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, StoreError> {
        check_len("session", token_hash, MAX_FIELD_BYTES)?;
        type Row = (i64, String, String, Option<String>, bool, i64, String, i64);
        let row: Option<Row> = with_backend!(self, pool, Db => {
            sqlx::query_as(
                "SELECT u.id, u.name, u.role, u.org, u.disabled, u.created_at, s.csrf_token, \
                 s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE",
            )
            .bind(token_hash.to_owned())
            .bind(now.unix_timestamp())
            .fetch_optional(pool)
            .await?
        });
        let Some((id, name, role, org, disabled, created, csrf_token, expires)) = row else {
            return Ok(None);
        };
        let expires_at = OffsetDateTime::from_unix_timestamp(expires)
            .map_err(|e| StoreError::corrupt("session", e.to_string()))?;
        Ok(Some(Session {
            user: user_from_row((id, name, role, org, disabled, created))?,
            csrf_token,
            expires_at,
        }))
    }

    /// Ends a session (logout). Returns whether it existed.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        check_len("session", token_hash, MAX_FIELD_BYTES)?;
        let n = with_backend!(self, pool, Db => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash.to_owned())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Deletes the sessions expired at `now`; returns how many.
    pub async fn purge_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let n = with_backend!(self, pool, Db => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now.unix_timestamp())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}

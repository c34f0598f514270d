//! Accounts and sessions on SQLite.

use iip_store::{AccountStore, NewUser, SessionLimits, SessionRecord, StoreResult, UserRecord};
use sqlx::Row;

use crate::{SqliteStore, backend};

/// The account columns, in the order [`user`] reads them (a macro so queries stay literals).
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.display_name, u.org_id, u.role, u.password_hash, u.disabled"
    };
}

fn user(row: &sqlx::sqlite::SqliteRow) -> UserRecord {
    UserRecord {
        id: row.get(0),
        email: row.get(1),
        display_name: row.get(2),
        org_id: row.get(3),
        role: row.get(4),
        password_hash: row.get(5),
        disabled: row.get::<i64, _>(6) != 0,
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl AccountStore for SqliteStore {
    async fn create_user(&self, new: &NewUser<'_>) -> StoreResult<Option<i64>> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO app_user (email, display_name, org_id, role, password_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(new.email.trim())
        .bind(new.display_name)
        .bind(new.org_id)
        .bind(new.role)
        .bind(new.password_hash)
        .bind(unix_now())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(id)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM app_user u WHERE u.email = ?"
        ))
        .bind(email.trim())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.as_ref().map(user))
    }

    async fn users(&self, org_id: Option<&str>) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM app_user u WHERE ?1 IS NULL OR u.org_id = ?1 ORDER BY u.email"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows.iter().map(user).collect())
    }

    async fn set_user_disabled(&self, user_id: i64, disabled: bool) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE app_user SET disabled = ? WHERE id = ?")
            .bind(i64::from(disabled))
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if disabled {
            sqlx::query("DELETE FROM user_session WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn create_session(&self, token_hash: &[u8], user_id: i64, csrf: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_session (token_hash, user_id, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(now)
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn session(&self, token_hash: &[u8], now: i64, limits: SessionLimits) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", s.csrf, s.created_at, s.last_seen_at FROM user_session s \
             JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let (created, seen): (i64, i64) = (row.get(8), row.get(9));
        let account = user(&row);
        if account.disabled || now - seen > limits.idle || now - created > limits.absolute {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        // Touch at most once a minute: reads stay reads under load.
        if now - seen >= 60 {
            sqlx::query("UPDATE user_session SET last_seen_at = ? WHERE token_hash = ?")
                .bind(now)
                .bind(token_hash)
                .execute(&self.writer)
                .await
                .map_err(backend)?;
        }
        Ok(Some(SessionRecord {
            user: account,
            csrf: row.get(7),
        }))
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM user_session WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM user_session WHERE user_id = ?")
            .bind(user_id)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn create_api_token(
        &self,
        token_hash: &[u8],
        user_id: i64,
        name: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO api_token (token_hash, user_id, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user_id)
            .bind(name)
            .bind(now)
            .bind(expires_at)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn api_token_user(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", t.last_used_at FROM api_token t JOIN app_user u ON u.id = t.user_id \
             WHERE t.token_hash = ? AND t.revoked = 0 AND u.disabled = 0 AND t.expires_at > ?"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let last: Option<i64> = row.get(7);
        if last.is_none_or(|l| now - l >= 60) {
            sqlx::query("UPDATE api_token SET last_used_at = ? WHERE token_hash = ?")
                .bind(now)
                .bind(token_hash)
                .execute(&self.writer)
                .await
                .map_err(backend)?;
        }
        Ok(Some(user(&row)))
    }

    async fn revoke_api_tokens(&self, user_id: i64, name: &str) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE api_token SET revoked = 1 WHERE user_id = ? AND name = ? AND revoked = 0")
            .bind(user_id)
            .bind(name)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn user_by_id(&self, user_id: i64) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM app_user u WHERE u.id = ?"))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.as_ref().map(user))
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE app_user SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("DELETE FROM user_session WHERE user_id = ?")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn create_invite(&self, token_hash: &[u8], user_id: i64, now: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO account_invite (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn invite_user(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM account_invite i JOIN app_user u ON u.id = i.user_id \
             WHERE i.token_hash = ? AND i.used_at IS NULL AND i.expires_at > ? AND u.disabled = 0"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.as_ref().map(user))
    }

    async fn use_invite(&self, token_hash: &[u8], now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE account_invite SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }
}

//! Server-wide settings shared by every instance on the database.

use crate::{SqlStore, backend_err};
use sqlx::Row;
use stringer_app::StoreError;

impl SqlStore {
    /// The setting `key`, storing `proposed` first if it has none (every instance then agrees
    /// on the first value written).
    pub async fn setting_or_init(&self, key: &str, proposed: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(proposed)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&self.write)
            .await
            .map_err(backend_err)?;
        row.try_get("value").map_err(backend_err)
    }
}

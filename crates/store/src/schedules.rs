//! On-call schedules as stored: the written form (layers and overrides) as JSON, guarded by
//! a version so concurrent override edits cannot lose each other.

use crate::{SqlStore, backend_err};
use sqlx::Row;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_core::oncall::ScheduleSpec;

/// A schedule as stored.
#[derive(Clone, Debug)]
pub struct ScheduleRecord {
    /// Identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The org whose named engineers it rotates; `None` for the platform-wide schedule.
    pub org: Option<String>,
    /// Layers and overrides.
    pub spec: ScheduleSpec,
    /// SHA-256 of the calendar-feed secret.
    pub ics_secret_hash: String,
    /// Incremented by every change.
    pub version: i64,
    /// Unix seconds.
    pub created_at: i64,
}

fn schedule_from(r: &AnyRow) -> Result<ScheduleRecord, StoreError> {
    let spec: String = r.try_get("spec").map_err(backend_err)?;
    Ok(ScheduleRecord {
        id: r.try_get("id").map_err(backend_err)?,
        name: r.try_get("name").map_err(backend_err)?,
        org: r.try_get("org").map_err(backend_err)?,
        spec: serde_json::from_str(&spec).map_err(|e| StoreError::Backend(format!("bad schedule in database: {e}")))?,
        ics_secret_hash: r.try_get("ics_secret_hash").map_err(backend_err)?,
        version: r.try_get("version").map_err(backend_err)?,
        created_at: r.try_get("created_at").map_err(backend_err)?,
    })
}

const COLUMNS: &str = "id, name, org, spec, ics_secret_hash, version, created_at";

impl SqlStore {
    /// Stores a new schedule, recording who created it.
    pub async fn insert_schedule(&self, s: &ScheduleRecord, actor: &str) -> Result<(), StoreError> {
        sqlx::query(&format!("INSERT INTO schedules ({COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)"))
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.org)
            .bind(serde_json::to_string(&s.spec).expect("specs serialize"))
            .bind(&s.ics_secret_hash)
            .bind(s.created_at)
            .bind(actor)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    /// A schedule by id.
    pub async fn get_schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM schedules WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(schedule_from).transpose()
    }

    /// Every schedule, by id.
    pub async fn list_schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM schedules ORDER BY id"))
            .fetch_all(&self.read)
            .await
            .map_err(backend_err)?;
        rows.iter().map(schedule_from).collect()
    }

    /// Replaces a schedule's written form if it is still at `version`; false otherwise.
    pub async fn update_schedule(&self, id: &str, spec: &ScheduleSpec, version: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE schedules SET spec = $1, version = version + 1 WHERE id = $2 AND version = $3")
            .bind(serde_json::to_string(spec).expect("specs serialize"))
            .bind(id)
            .bind(version)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets a user's calendar-feed secret hash.
    pub async fn set_user_ics_secret(&self, user_id: &str, hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET ics_secret_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    /// A user's calendar-feed secret hash.
    pub async fn user_ics_secret(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT ics_secret_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        Ok(row.and_then(|r| r.try_get::<Option<String>, _>("ics_secret_hash").ok().flatten()))
    }
}

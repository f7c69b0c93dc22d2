//! Who is paged how: on-call schedules (the written form as JSON, guarded by a version so
//! concurrent override edits cannot lose each other), contact methods and notification
//! rules — the [`OnCall`] port.

use crate::accounts::insert_err;
use crate::rows::{RowExt, json};
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::delivery::Urgency;
use stringer_app::keyed::Written;
use stringer_app::ports::OnCall;
use stringer_app::records::{ContactMethodRecord, MethodOutcome, NotificationRuleRecord, ScheduleRecord, TestPage};
use stringer_core::ids::{OrgSlug, UserId};
use stringer_core::oncall::ScheduleSpec;

pub(crate) fn method_from(r: &AnyRow) -> Result<ContactMethodRecord, StoreError> {
    Ok(ContactMethodRecord {
        id: r.col("id")?,
        user_id: UserId(r.col("user_id")?),
        kind: r.named("kind")?,
        address: r.col("address")?,
        secret: r.col("secret")?,
        created_at: r.col("created_at")?,
    })
}

pub(crate) fn schedule_from(r: &AnyRow) -> Result<ScheduleRecord, StoreError> {
    Ok(ScheduleRecord {
        id: r.col("id")?,
        name: r.col("name")?,
        org: r.col::<Option<String>>("org")?.map(OrgSlug),
        spec: r.json("spec")?,
        ics_secret_hash: r.col("ics_secret_hash")?,
        version: r.col("version")?,
        created_at: r.col("created_at")?,
    })
}

pub(crate) const SCHEDULE_COLUMNS: &str = "id, name, org, spec, ics_secret_hash, version, created_at";
pub(crate) const METHOD_COLUMNS: &str = "id, user_id, kind, address, secret, created_at";

#[async_trait]
impl OnCall for SqlStore {
    async fn insert_contact_method(&self, m: &ContactMethodRecord) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::secret("contact_method", &m.id)).await?;
        sqlx::query(&format!("INSERT INTO contact_methods ({METHOD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&m.id)
            .bind(m.user_id.as_str())
            .bind(m.kind.as_str())
            .bind(&m.address)
            .bind(&m.secret)
            .bind(m.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| insert_err(e, &format!("a {} contact method at {}", m.kind.as_str(), m.address)))?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn contact_methods(&self, user: &UserId) -> Result<Vec<ContactMethodRecord>, StoreError> {
        self.rows(
            sqlx::query(&format!(
                "SELECT {METHOD_COLUMNS} FROM contact_methods WHERE user_id = $1 ORDER BY created_at, id"
            ))
            .bind(user.as_str()),
            method_from,
        )
        .await
    }

    async fn set_notification_rules(&self, user: &UserId, rules: &[(String, String, i64)]) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        sqlx::query("DELETE FROM notification_rules WHERE user_id = $1")
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        for (id, method, after) in rules {
            sqlx::query(
                "INSERT INTO notification_rules (id, user_id, method_id, after_seconds) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(user.as_str())
            .bind(method)
            .bind(*after)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn remove_contact_method(&self, user: &UserId, method: &str) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        sqlx::query("DELETE FROM notification_rules WHERE user_id = $1 AND method_id = $2")
            .bind(user.as_str())
            .bind(method)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        // A pending delivery would find no method to send through: it is cancelled instead.
        sqlx::query("UPDATE deliveries SET status = 'cancelled', last_error = 'the contact method was removed' WHERE method_id = $1 AND user_id = $2 AND status = 'pending'")
            .bind(method)
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        let done = sqlx::query("DELETE FROM contact_methods WHERE id = $1 AND user_id = $2")
            .bind(method)
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn notification_rules(&self, user: &UserId) -> Result<Vec<NotificationRuleRecord>, StoreError> {
        let sql =
            "SELECT id, method_id, after_seconds FROM notification_rules WHERE user_id = $1 ORDER BY after_seconds, id";
        self.rows(sqlx::query(sql).bind(user.as_str()), |r| {
            Ok(NotificationRuleRecord {
                id: r.col("id")?,
                method_id: r.col("method_id")?,
                after_seconds: r.col("after_seconds")?,
            })
        })
        .await
    }

    async fn method_outcomes(&self, users: &[UserId]) -> Result<Vec<MethodOutcome>, StoreError> {
        let mut out = Vec::new();
        for chunk in users.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            // The newest delivery tried: a finished one's next_attempt_at is when it finished,
            // a retried one's when it is tried again.
            let sql = format!(
                "SELECT method_id, status, next_attempt_at, last_error FROM (SELECT method_id, status, next_attempt_at, last_error, ROW_NUMBER() OVER (PARTITION BY method_id ORDER BY created_at DESC, id DESC) AS n FROM deliveries WHERE user_id IN ({}) AND channel_address IS NULL AND (status IN ('sent', 'failed') OR (status = 'pending' AND attempts > 0))) last WHERE n = 1",
                marks.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for user in chunk {
                query = query.bind(user.as_str());
            }
            out.extend(
                self.rows(query, |r| {
                    let status: String = r.col("status")?;
                    Ok(MethodOutcome {
                        method_id: r.col("method_id")?,
                        sent: status == "sent",
                        retrying: status == "pending",
                        at: r.col("next_attempt_at")?,
                        error: r.col("last_error")?,
                    })
                })
                .await?,
            );
        }
        Ok(out)
    }

    async fn queue_test_page(&self, test: &TestPage) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO deliveries (id, outbox_id, ticket_id, user_id, method_id, kind, payload, status, attempts, next_attempt_at, created_at, urgency) SELECT $1, 0, '', $2, m.id, m.kind, $3, 'pending', 0, $4, $4, $5 FROM contact_methods m WHERE m.id = $6 AND m.user_id = $2 ON CONFLICT (id) DO NOTHING",
        )
        .bind(&test.id)
        .bind(test.user_id.as_str())
        .bind(&test.payload)
        .bind(test.at)
        .bind(Urgency::Alert.rank())
        .bind(&test.method_id)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn staff_by_slack_member(&self, member: &str) -> Result<Option<UserId>, StoreError> {
        let sql = "SELECT u.id AS id FROM contact_methods m JOIN users u ON u.id = m.user_id WHERE m.kind = 'slack' AND m.address = $1 AND u.org IS NULL";
        self.row(sqlx::query(sql).bind(member), |r| r.col("id").map(UserId)).await
    }

    async fn insert_schedule(&self, s: &ScheduleRecord, actor: &UserId) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::secret("schedule", &s.id)).await?;
        sqlx::query(&format!(
            "INSERT INTO schedules ({SCHEDULE_COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)"
        ))
        .bind(&s.id)
        .bind(&s.name)
        .bind(s.org.as_ref().map(OrgSlug::as_str))
        .bind(json(&s.spec))
        .bind(&s.ics_secret_hash)
        .bind(s.created_at)
        .bind(actor.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        self.rosters.clear();
        Ok(())
    }

    async fn schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError> {
        self.row(
            sqlx::query(&format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = $1")).bind(id),
            schedule_from,
        )
        .await
    }

    async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        self.rows(sqlx::query(&format!("SELECT {SCHEDULE_COLUMNS} FROM schedules ORDER BY id")), schedule_from).await
    }

    async fn delete_schedule(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM schedules WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        self.rosters.clear();
        Ok(done.rows_affected() == 1)
    }

    async fn update_schedule(&self, id: &str, spec: &ScheduleSpec, version: i64) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::resource("schedule", id, 201)).await?;
        let done = sqlx::query("UPDATE schedules SET spec = $1, version = version + 1 WHERE id = $2 AND version = $3")
            .bind(json(spec))
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        if done.rows_affected() != 1 {
            // Not written (the schedule moved on): the key's mark is rolled back with it.
            return Ok(false);
        }
        tx.commit().await.map_err(backend_err)?;
        self.rosters.clear();
        Ok(true)
    }

    async fn set_user_ics_secret(&self, user: &UserId, hash: &str) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::secret("calendar_feed", user.as_str())).await?;
        sqlx::query("UPDATE users SET ics_secret_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn user_ics_secret(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        let read = sqlx::query("SELECT ics_secret_hash FROM users WHERE id = $1").bind(user.as_str());
        Ok(self.row(read, |r| r.col::<Option<String>>("ics_secret_hash")).await?.flatten())
    }
}

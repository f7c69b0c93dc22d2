//! The orgs' shared channels as a way in: stored channel messages (once per channel event
//! id, claimed with a lease), the channels' orgs and the threads' tickets — the [`ChatRoom`]
//! port — and the thread posts owed (written by the group committer, claimed here).

use crate::drop_box::Pending;
use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::chat::{Accepted, ChatMessage, ChatRecord, ChatRoom, OwedKickoff, ThreadPost};
use stringer_core::ids::{OrgSlug, TicketId, UserId};

const COLUMNS: &str = "id, event_id, channel, member, message_id, thread, body, received_at_ms, attempts";

impl Pending for ChatRecord {
    const TABLE: &'static str = "chat_messages";
    const COLUMNS: &'static str = COLUMNS;

    const SAME_KEY: &'static str = "e.channel = t.channel";

    fn from_row(row: &AnyRow) -> Result<ChatRecord, StoreError> {
        record_from(row)
    }
}

fn record_from(r: &AnyRow) -> Result<ChatRecord, StoreError> {
    Ok(ChatRecord {
        id: r.col("id")?,
        attempts: r.col("attempts")?,
        message: ChatMessage {
            event_id: r.col("event_id")?,
            channel: r.col("channel")?,
            user: r.col("member")?,
            message_id: r.col("message_id")?,
            thread: r.col("thread")?,
            text: r.col("body")?,
            received_at_ms: r.col("received_at_ms")?,
        },
    })
}

#[async_trait]
impl ChatRoom for SqlStore {
    async fn accept_message(&self, m: &ChatMessage, signature: &str) -> Result<Accepted, StoreError> {
        let done = sqlx::query(
            "INSERT INTO chat_messages (event_id, signature, channel, member, message_id, thread, body, received_at_ms, \
             state, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&m.event_id)
        .bind(signature)
        .bind(&m.channel)
        .bind(&m.user)
        .bind(&m.message_id)
        .bind(&m.thread)
        .bind(&m.text)
        .bind(m.received_at_ms)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        if done.rows_affected() == 1 {
            self.bells.chat.notify_one();
            return Ok(Accepted::New);
        }
        let sql = "SELECT signature FROM chat_messages WHERE event_id = $1";
        let first = self.row(sqlx::query(sql).bind(&m.event_id), |r| r.col::<String>("signature")).await?;
        Ok(if first.as_deref() == Some(signature) { Accepted::Replay } else { Accepted::Retry })
    }

    async fn owe_kickoff(&self, id: &str, org: &OrgSlug, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO channel_kickoffs (id, org, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, 0, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(org.as_str())
        .bind(at)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn settle_messages(&self, settled: &[(i64, &str, Option<&TicketId>)], at: i64) -> Result<(), StoreError> {
        let done: Vec<(i64, &str, Option<&str>)> =
            settled.iter().map(|(id, what, ticket)| (*id, *what, ticket.map(TicketId::as_str))).collect();
        self.settle_done(&self.write, "chat_messages", &done, at).await
    }

    async fn channel_org(&self, channel: &str) -> Result<Option<OrgSlug>, StoreError> {
        let sql = "SELECT org FROM chat_channels WHERE channel = $1";
        self.row(sqlx::query(sql).bind(channel), |r| Ok(OrgSlug(r.col("org")?))).await
    }

    async fn set_channel_org(&self, channel: &str, org: &OrgSlug) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO chat_channels (channel, org) VALUES ($1, $2) ON CONFLICT (channel) DO UPDATE SET org = excluded.org",
        )
        .bind(channel)
        .bind(org.as_str())
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn channel_org_id(&self, org: &OrgSlug) -> Result<Option<String>, StoreError> {
        let sql = "SELECT channel FROM chat_channels WHERE org = $1 ORDER BY channel LIMIT 1";
        self.row(sqlx::query(sql).bind(org.as_str()), |r| r.col::<String>("channel")).await
    }

    async fn thread_ticket(&self, channel: &str, thread: &str) -> Result<Option<TicketId>, StoreError> {
        let sql = "SELECT ticket_id FROM chat_threads WHERE channel = $1 AND thread = $2";
        self.row(sqlx::query(sql).bind(channel).bind(thread), |r| Ok(TicketId(r.col("ticket_id")?))).await
    }

    async fn set_thread_ticket(
        &self,
        channel: &str,
        thread: &str,
        ticket: &TicketId,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO chat_threads (channel, thread, ticket_id, bound_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (channel, thread) DO NOTHING",
        )
        .bind(channel)
        .bind(thread)
        .bind(ticket.as_str())
        .bind(at)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn posted(&self, mark: &str) -> Result<bool, StoreError> {
        let sql = "SELECT 1 AS found FROM chat_posts WHERE comment_id = $1";
        Ok(self.row(sqlx::query(sql).bind(mark), |r| r.col::<i64>("found")).await?.is_some())
    }

    async fn mark_posted(&self, comment: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO chat_posts (comment_id, at) VALUES ($1, $2) ON CONFLICT (comment_id) DO NOTHING")
            .bind(comment)
            .bind(at)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }
}

impl SqlStore {
    /// Claims the owed kickoffs due at `now` until `lease_until` (see [`stringer_app::outbox::Sendings`]).
    pub(crate) async fn claim_kickoffs(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OwedKickoff>, StoreError> {
        let rows = self.claim_due("channel_kickoffs", "id, org, attempts", now, lease_until, limit).await?;
        rows.iter()
            .map(|r| Ok(OwedKickoff { id: r.col("id")?, org: OrgSlug(r.col("org")?), attempts: r.col("attempts")? }))
            .collect()
    }

    /// Claims the thread posts due at `now` until `lease_until` (see
    /// [`stringer_app::outbox::Sendings`]), in the order owed, so a thread is told of its
    /// ticket's changes in the order they were made.
    pub(crate) async fn claim_thread_posts(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<ThreadPost>, StoreError> {
        let columns = "id, ticket_id, channel, thread, actor, note, created_at, attempts";
        let rows = self.claim_due("thread_posts", columns, now, lease_until, limit).await?;
        let mut owed = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.col("id")?;
            let note: String = r.col("note")?;
            let note =
                serde_json::from_str(&note).map_err(|e| StoreError::Backend(format!("thread post {id}: {e}")))?;
            let post = ThreadPost {
                id,
                ticket: TicketId(r.col("ticket_id")?),
                actor: r.col::<Option<String>>("actor")?.map(UserId),
                note,
                channel: r.col("channel")?,
                thread: r.col("thread")?,
                attempts: r.col("attempts")?,
            };
            owed.push((r.col::<i64>("created_at")?, post));
        }
        owed.sort_by(|(a, p), (b, q)| a.cmp(b).then_with(|| p.id.cmp(&q.id)));
        Ok(owed.into_iter().map(|(_, p)| p).collect())
    }
}

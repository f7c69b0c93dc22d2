//! Account mail in the outbox (see [`stringer_app::accounts::mailing`]): written in the
//! transaction of its link or invitation, claimed with a lease (see `sending`). A row holds
//! the link's id and expiry, never the link.

use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::accounts::letter::Purpose;
use stringer_app::accounts::letter::{AccountLetter, Carries};
use stringer_core::ids::OrgSlug;

/// The kind column and the expiry column of what a letter carries.
fn columns(carries: &Carries) -> (&'static str, Option<i64>) {
    match carries {
        Carries::PasswordLink { expires, purpose: Purpose::Invitation, .. } => ("password_invitation", Some(*expires)),
        Carries::PasswordLink { expires, purpose: Purpose::Reset, .. } => ("password_reset", Some(*expires)),
        Carries::Invitation { expires, .. } => ("invitation", Some(*expires)),
        Carries::Held { .. } => ("invitation_held", None),
    }
}

fn letter_from(r: &AnyRow) -> Result<AccountLetter, StoreError> {
    let kind: String = r.col("kind")?;
    let link: String = r.col("link")?;
    let expires: Option<i64> = r.col("expires_at")?;
    let password = |expires, purpose| Carries::PasswordLink { link: link.clone(), expires, purpose };
    let carries = match (kind.as_str(), expires) {
        ("password_invitation", Some(expires)) => password(expires, Purpose::Invitation),
        ("password_reset", Some(expires)) => password(expires, Purpose::Reset),
        ("invitation", Some(expires)) => Carries::Invitation { invitation: link.clone(), expires },
        ("invitation_held", _) => Carries::Held { invitation: link.clone() },
        (other, _) => return Err(StoreError::Backend(format!("bad account mail kind {other:?}"))),
    };
    let org: Option<String> = r.col("org")?;
    Ok(AccountLetter {
        id: r.col("id")?,
        to: r.col("recipient")?,
        org: org.map(OrgSlug),
        carries,
        attempts: r.col("attempts")?,
    })
}

/// Writes `letter` to send from `at` in the transaction `tx` (one whose id is written already
/// is left as it is).
pub(crate) async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    letter: &AccountLetter,
    at: i64,
) -> Result<(), StoreError> {
    let (kind, expires) = columns(&letter.carries);
    sqlx::query(
        "INSERT INTO account_mail (id, kind, link, expires_at, org, recipient, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&letter.id)
    .bind(kind)
    .bind(letter.carries.subject())
    .bind(expires)
    .bind(letter.org.as_ref().map(OrgSlug::as_str))
    .bind(&letter.to)
    .bind(at)
    .execute(&mut **tx)
    .await
    .map_err(backend_err)?;
    Ok(())
}

impl SqlStore {
    /// Claims the account mail due at `now` until `lease_until` (see
    /// [`stringer_app::outbox::Sendings`]).
    pub(crate) async fn claim_account_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<AccountLetter>, StoreError> {
        let returning = "id, kind, link, expires_at, org, recipient, attempts";
        let rows = self.claim_due("account_mail", returning, now, lease_until, limit).await?;
        rows.iter().map(letter_from).collect()
    }
}

//! The notary: signs the log's tree head with its Ed25519 key (docs/ledger.md §6.2). The key
//! comes from a file the binary reads and is never stored or logged; the log's public keys and
//! their rotations are (`LedgerBook::log_keys`), so a server started with any other key than
//! the log's current one is refused ([`admit`]). The engine's notary cycle calls
//! [`Notary::sign_due`]; an admin's request and `stringer ledger sign` call
//! [`Notary::sign_now`].

use super::{LedgerBook, LedgerError, LogKey, LogState};
use crate::Clock;
use std::sync::Arc;
use stringer_ledger::head::{PublicKey, Rotation, SignedHead, SigningKey, TreeHead};

/// The least time between two heads the notary signs on its own, in seconds: with the cycle's
/// round every quarter minute, an entry is under a signed head within a minute.
pub const HEAD_SPACING_SECONDS: u64 = 45;

/// Whether the notary signs a head now: when none was ever signed (the empty log's head too),
/// or when the log grew since the last head and that head is [`HEAD_SPACING_SECONDS`] old. A
/// log that did not grow gets no new head, so an idle server stays idle.
pub fn due(size: u64, last: Option<&SignedHead>, now: u64) -> bool {
    match last {
        None => true,
        Some(head) => size > head.head.tree_size && now >= head.head.timestamp.saturating_add(HEAD_SPACING_SECONDS),
    }
}

/// What the log's recorded keys say of a key a server starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The log has no key yet: this one becomes its first.
    First,
    /// It is the log's current key.
    Current,
    /// It signed once and was rotated out; `current` signs now.
    Retired {
        /// The log's current key.
        current: PublicKey,
    },
    /// The log never had it; `current` signs.
    Unknown {
        /// The log's current key.
        current: PublicKey,
    },
}

/// Decides whether `key` may sign for a log whose keys are `keys` (oldest first).
pub fn admit(keys: &[LogKey], key: &PublicKey) -> Admission {
    let Some(current) = keys.last() else { return Admission::First };
    if current.public_key == *key {
        Admission::Current
    } else if keys.iter().any(|k| k.public_key == *key) {
        Admission::Retired { current: current.public_key }
    } else {
        Admission::Unknown { current: current.public_key }
    }
}

/// Why `admission` refuses a key, in words an operator acts on; `None` when it may sign.
fn refusal(admission: &Admission, key: &PublicKey) -> Option<String> {
    match admission {
        Admission::First | Admission::Current => None,
        Admission::Retired { current } => Some(format!(
            "the ledger key (fingerprint {}) was rotated out; the log's key is now {} (fingerprint {}): start with \
             that key's file",
            key.fingerprint(),
            current,
            current.fingerprint()
        )),
        Admission::Unknown { current } => Some(format!(
            "the ledger key (fingerprint {}) is not this log's key {} (fingerprint {}); start with the log's key \
             file, or endorse a new key with `stringer ledger rotate-key`",
            key.fingerprint(),
            current,
            current.fingerprint()
        )),
    }
}

/// Signs the log's heads with its key.
pub struct Notary {
    book: Arc<dyn LedgerBook>,
    key: SigningKey,
    clock: Arc<dyn Clock>,
}

impl Notary {
    /// A notary for the log in `book`, signing with `key` once the log's keys admit it: a log
    /// with no key yet records it as its first; a log whose current key is another is refused
    /// ([`LedgerError::KeyRefused`]).
    pub async fn open(
        book: Arc<dyn LedgerBook>,
        key: SigningKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Notary, LedgerError> {
        let public = PublicKey::of(&key);
        let keys = book.log_keys().await?;
        let admission = admit(&keys, &public);
        if let Some(why) = refusal(&admission, &public) {
            return Err(LedgerError::KeyRefused(why));
        }
        if admission == Admission::First {
            let first = LogKey { public_key: public, added_at: clock.now().as_second(), rotation: None };
            // Another instance may record its key first: then this one must be that key.
            if !book.add_log_key(0, &first).await? {
                let keys = book.log_keys().await?;
                if let Some(why) = refusal(&admit(&keys, &public), &public) {
                    return Err(LedgerError::KeyRefused(why));
                }
            }
        }
        Ok(Notary { book, key, clock })
    }

    /// The public half of the key it signs with.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::of(&self.key)
    }

    /// Signs a head if one is [`due`]; answers it, or `None` when none was due.
    pub async fn sign_due(&self) -> Result<Option<SignedHead>, LedgerError> {
        let state = self.book.log_state().await?;
        let last = self.book.latest_head().await?;
        if !due(state.size, last.as_ref(), self.now()) {
            return Ok(None);
        }
        self.sign(state).await.map(Some)
    }

    /// Signs the log's head now — unless the latest head already covers every leaf, which is
    /// answered instead (a log that did not grow gets no new head).
    pub async fn sign_now(&self) -> Result<SignedHead, LedgerError> {
        let state = self.book.log_state().await?;
        match self.book.latest_head().await? {
            Some(last) if last.head.tree_size == state.size => Ok(last),
            _ => self.sign(state).await,
        }
    }

    async fn sign(&self, state: LogState) -> Result<SignedHead, LedgerError> {
        // A rotation made while this server ran retires its key: it signs no more.
        let public = self.public_key();
        if let Some(why) = refusal(&admit(&self.book.log_keys().await?, &public), &public) {
            return Err(LedgerError::KeyRefused(why));
        }
        let head =
            TreeHead { log_id: state.log_id, tree_size: state.size, root_hash: state.root, timestamp: self.now() }
                .sign(&self.key);
        self.book.record_head(&head).await?;
        Ok(head)
    }

    fn now(&self) -> u64 {
        self.clock.now().as_second().max(0) as u64
    }
}

/// Endorses `new` as the log's key with the current key `old` at `at` (Unix seconds) and
/// records the rotation: from then on only `new` signs. Refused unless `old` is the log's
/// current key and `new` another one.
pub async fn rotate(
    book: &dyn LedgerBook,
    old: &SigningKey,
    new: &PublicKey,
    at: i64,
) -> Result<Rotation, LedgerError> {
    let keys = book.log_keys().await?;
    let current = PublicKey::of(old);
    match admit(&keys, &current) {
        Admission::Current => {}
        Admission::First => {
            return Err(LedgerError::KeyRefused(
                "the log has no key yet: start the server once, and it records its key".into(),
            ));
        }
        other => return Err(LedgerError::KeyRefused(refusal(&other, &current).unwrap_or_default())),
    }
    if keys.iter().any(|k| k.public_key == *new) {
        return Err(LedgerError::KeyRefused(format!("the log already had the key {new}: a rotation needs a new key")));
    }
    let rotation = Rotation::endorse(old, new, at.max(0) as u64);
    let key = LogKey { public_key: *new, added_at: at, rotation: Some(rotation) };
    if !book.add_log_key(keys.len() as u64, &key).await? {
        return Err(LedgerError::KeyRefused("another rotation was recorded at the same time; try again".into()));
    }
    Ok(rotation)
}

#[cfg(test)]
mod tests;

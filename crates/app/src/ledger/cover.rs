//! The signed head a document covers (issue 28): a status page, a post-incident report, a
//! quarterly review and the mails that carry them each say which signed head of the ledger
//! they were written under, and give its JSON form (docs/ledger.md §6.2) — what a reader keeps
//! and later passes to `stringer verify --previous-head` to hold the log to it. The head a
//! document covers is the latest one signed when the document was written, never one signed
//! after; a document written before any head says so.

use super::{LedgerBook, broken};
use crate::store::StoreError;
use serde::Serialize;
use stringer_ledger::head::SignedHead;

/// A signed head as a document cites it, with the fingerprint of the key that signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cover {
    /// The head (serialized in its JSON form, §6.2).
    pub head: SignedHead,
    /// The signing key's fingerprint (§6.1), what people compare.
    pub fingerprint: String,
}

/// The head a document written at `at` (Unix seconds) covers: the latest one signed by then,
/// with its key's fingerprint; `None` when no head was signed by then.
pub async fn cover(book: &dyn LedgerBook, at: i64) -> Result<Option<Cover>, StoreError> {
    let Some(head) = book.head_signed_by(at.max(0) as u64).await? else { return Ok(None) };
    let keys = book.log_keys().await?;
    let key = keys
        .iter()
        .find(|k| k.public_key.key_id() == head.key_id)
        .ok_or_else(|| broken("a head signed by no key of the log"))?;
    Ok(Some(Cover { head, fingerprint: key.public_key.fingerprint() }))
}

impl Cover {
    /// The number of log entries the head covers.
    pub fn tree_size(&self) -> u64 {
        self.head.head.tree_size
    }

    /// When it was signed, RFC 3339 in UTC (`2026-01-01T00:01:00Z`).
    pub fn signed_at(&self) -> String {
        i64::try_from(self.head.head.timestamp)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map_or_else(|| format!("{} (Unix seconds)", self.head.head.timestamp), |t| t.to_string())
    }

    /// The root hash's first 8 bytes in hex, as a page shows it beside the link to the whole.
    pub fn root_prefix(&self) -> String {
        hex::encode(&self.head.head.root_hash[..8])
    }

    /// The head's JSON form (§6.2) on one line.
    pub fn json(&self) -> String {
        serde_json::to_string(&self.head).unwrap_or_default()
    }

    /// "log entries up to tree size N, head signed <instant> by key <fingerprint>".
    pub fn covers(&self) -> String {
        format!(
            "log entries up to tree size {}, head signed {} by key {}",
            self.tree_size(),
            self.signed_at(),
            self.fingerprint
        )
    }
}

/// What a `document` ("report", "review") says of the head it covers, as a Markdown section:
/// the sentence and the head's JSON form to keep, or that no head was signed yet when it was
/// written.
pub fn markdown(document: &str, cover: Option<&Cover>) -> String {
    let mut out = String::from("## The ledger\n\n");
    match cover {
        Some(c) => out.push_str(&format!(
            "This {document} covers {}.\n\nThe signed head, to keep and pass as `--previous-head` to \
             `stringer verify` (or `tools/verify-bundle.py`) when you check a later bundle of a \
             ticket's timeline:\n\n```json\n{}\n```\n",
            c.covers(),
            c.json()
        )),
        None => out.push_str(&format!(
            "No head of the ledger was signed yet when this {document} was written: it covers no log entries.\n"
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::MemoryLedger;
    use crate::ledger::LogKey;
    use stringer_ledger::head::{PublicKey, SigningKey, TreeHead};

    const T0: u64 = 1_767_225_600;

    fn ledger() -> (MemoryLedger, PublicKey) {
        let key = SigningKey::from_bytes(&[3; 32]);
        let book = MemoryLedger::default();
        book.keys.lock().unwrap().push(LogKey { public_key: PublicKey::of(&key), added_at: 0, rotation: None });
        for (size, at) in [(4, T0), (9, T0 + 60)] {
            let head = TreeHead { log_id: [7; 32], tree_size: size, root_hash: [size as u8; 32], timestamp: at };
            book.heads.lock().unwrap().insert(size, head.sign(&key));
        }
        (book, PublicKey::of(&key))
    }

    #[tokio::test]
    async fn a_document_covers_the_latest_head_signed_when_it_was_written() {
        let (book, key) = ledger();
        let cases = [
            // (why, written at, tree size covered)
            ("before any head", T0 - 1, None),
            ("as the first head was signed", T0, Some(4)),
            ("between the heads", T0 + 59, Some(4)),
            ("after the second", T0 + 3600, Some(9)),
        ];
        for (why, at, size) in cases {
            let got = cover(&book, at as i64).await.unwrap();
            assert_eq!(got.as_ref().map(Cover::tree_size), size, "{why}");
            if let Some(c) = got {
                assert_eq!(c.fingerprint, key.fingerprint(), "{why}");
                c.head.verify(&key).unwrap();
            }
        }
    }

    #[tokio::test]
    async fn the_section_says_what_it_covers_and_holds_the_head_as_json() {
        let (book, key) = ledger();
        let c = cover(&book, (T0 + 60) as i64).await.unwrap().unwrap();
        let text = markdown("report", Some(&c));
        let sentence = format!(
            "This report covers log entries up to tree size 9, head signed 2026-01-01T00:01:00Z by key {}.",
            key.fingerprint()
        );
        assert!(text.contains(&sentence), "{text}");
        let json = text.split("```json\n").nth(1).and_then(|rest| rest.split("\n```").next()).unwrap();
        let parsed: SignedHead = serde_json::from_str(json).unwrap();
        assert_eq!(parsed, c.head, "the head's JSON form reads back as the head");
        assert_eq!(c.root_prefix(), "0909090909090909");
        assert!(markdown("review", None).contains("No head of the ledger was signed yet when this review was written"));
    }
}

//! What readers ask of the ledger, each asked of the access policy: a ticket's bundle
//! (docs/ledger.md §6.3) — its entries exactly as the timeline shows the reader, with salts
//! for the fields shown and digests for the rest, each with its inclusion proof under the
//! latest signed head —, consistency proofs between sizes, the published key and the signed
//! heads. The API's routes and the portal's download call the same methods.

use super::{LeafRow, LedgerBook, LedgerError, LogKey, Notary, broken};
use crate::act::{Principal, TicketDesk, TicketRef};
use crate::records::TimelineRecord;
use jiff::Timestamp;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use stringer_core::access::{self, Action, Decision, Object, OrgRef};
use stringer_core::ids::UserId;
use stringer_ledger::Hash;
use stringer_ledger::bundle::{
    self, Bundle, Consistency, Entry, IDENTITY_FIELDS, LogInfo, Pending, ReportProof, ReportShown, ReviewBundle,
    ReviewProof, Shown, TicketRef as BundleTicket,
};
use stringer_ledger::encode::TimelineEntry;
use stringer_ledger::head::SignedHead;
use stringer_ledger::tree::{self, Node};

/// The most heads one listing answers.
pub const MAX_HEADS: u64 = 1000;

/// A consistency proof between two tree sizes of the log (RFC 9162 §2.1.4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The earlier size.
    pub from: u64,
    /// The later size.
    pub to: u64,
    /// The proof's hashes.
    pub proof: Vec<Hash>,
}

/// The log's published key: its current key, the rotations that lead to it and its
/// fingerprint.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishedKey {
    /// The log's id, current key, key id and rotations, as a bundle's `log` holds them.
    pub log: LogInfo,
    /// The current key's fingerprint (what people compare).
    pub fingerprint: String,
}

/// The ledger's use cases for readers and admins.
#[derive(Clone)]
pub struct LedgerDesk {
    /// The log's stored state, keys, heads and leaves.
    pub book: Arc<dyn LedgerBook>,
    /// Finds a ticket for a principal, asking the policy.
    pub tickets: TicketDesk,
    /// The notary, on a server that holds the log's key.
    pub notary: Option<Arc<Notary>>,
}

fn decided(decision: Decision) -> Result<(), LedgerError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(LedgerError::NotFound),
        Decision::Forbidden(why) => Err(LedgerError::Forbidden(why.to_string())),
    }
}

/// The log's key chain up to the key with id `signer` (oldest first), as a bundle's `log`.
fn chain_to(log_id: [u8; 32], keys: &[LogKey], signer: &Hash) -> Option<LogInfo> {
    let last = keys.iter().position(|k| k.public_key.key_id() == *signer)?;
    let public_key = keys[last].public_key;
    let rotations = keys[1..=last].iter().filter_map(|k| k.rotation).collect();
    Some(LogInfo { log_id, public_key, key_id: public_key.key_id(), rotations })
}

/// What the timeline shows of an entry, and the leaf fields it shows by name: `at` in
/// seconds, `kind`, `actor`, and `body.<key>` for each key of the body shown.
fn shown(entry: &TimelineRecord) -> (Shown, HashMap<String, Value>) {
    let at = Timestamp::from_second(entry.at).map(|t| t.to_string()).unwrap_or_default();
    let actor = entry.actor.as_ref().map(|a| a.0.clone());
    let mut fields = HashMap::from([
        ("at".to_owned(), Value::from(entry.at)),
        ("kind".to_owned(), Value::from(entry.kind.clone())),
        ("actor".to_owned(), actor.clone().map_or(Value::Null, Value::from)),
    ]);
    if let Some(body) = entry.body.as_object() {
        fields.extend(body.iter().map(|(k, v)| (format!("body.{k}"), v.clone())));
    }
    (Shown { at, kind: entry.kind.clone(), actor, body: entry.body.clone() }, fields)
}

impl LedgerDesk {
    /// The bundle of `ticket` for `who` under the latest signed head, with a consistency
    /// proof from the size `from` when asked: the entries the timeline shows them, in leaf
    /// order, each disclosing the fields shown (and the entry's identity: `entry`, `org`,
    /// `ticket`, `version`) with their salts and withholding the rest as digests; entries
    /// appended after the head under `pending`; hidden entries absent. A ticket they may not
    /// see answers [`LedgerError::NotFound`], exactly as a missing one.
    pub async fn bundle(&self, who: &Principal, ticket: &TicketRef, from: Option<u64>) -> Result<Bundle, LedgerError> {
        let found = self.tickets.find(who, ticket, &[Action::ProveTicket]).await?;
        let internal = access::decide(&who.actor(), Action::ReadInternal, Some(found.object())).allowed();
        let head = self.latest_head().await?;
        let size = head.head.tree_size;
        let keys = self.book.log_keys().await?;
        let log = chain_to(head.head.log_id, &keys, &head.key_id)
            .ok_or_else(|| broken("a head signed by no key of the log"))?;
        let consistency = match from {
            Some(from) => Some(self.consistency_from(from, &head).await?),
            None => None,
        };
        let t = &found.ticket;
        let mut entries = Vec::new();
        let mut pending = Vec::new();
        for row in self.book.ticket_leaves(&t.id).await? {
            let LeafRow { seq, version, at, kind, actor, body, leaf } = row;
            let whole = TimelineRecord { seq, at, kind, actor: actor.map(UserId), body };
            let Some(view) = (if internal { Some(whole.clone()) } else { whole.clone().customer_view() }) else {
                continue;
            };
            // A row from before the ledger has no leaf yet: nothing to prove it by.
            let Some((index, secret)) = leaf else { continue };
            let (shown, fields) = shown(&view);
            if index >= size {
                pending.push(Pending { seq, shown });
                continue;
            }
            let entry = TimelineEntry {
                org: t.org.as_str(),
                ticket: t.id.as_str(),
                version,
                at,
                kind: &whole.kind,
                actor: whole.actor.as_ref().map(|a| a.0.as_str()),
                body: &whole.body,
            };
            let leaf = entry.leaf(&secret).map_err(|e| broken(format!("timeline row {seq}: {e}")))?;
            let disclosed: HashSet<&str> = leaf
                .fields()
                .iter()
                .filter(|f| IDENTITY_FIELDS.contains(&f.name.as_str()) || fields.get(&f.name) == Some(&f.value))
                .map(|f| f.name.as_str())
                .collect();
            let (disclosed, withheld) = leaf.disclose(|name| disclosed.contains(name));
            let plan = tree::plan_inclusion(index, size).map_err(broken)?;
            let inclusion = tree::inclusion_proof(&self.book.subtrees(&plan).await?, index, size).map_err(broken)?;
            entries.push(Entry { leaf_index: index, seq, shown, disclosed, withheld, inclusion });
        }
        let org = OrgRef { slug: t.org.as_str(), deployment: found.deployment };
        let reports =
            match access::decide(&who.actor(), Action::ReadReport, Some(Object::Report { org, published: true }))
                .allowed()
            {
                true => self.report_proofs(&t.id, size, internal).await?,
                false => Vec::new(),
            };
        Ok(Bundle {
            format: if reports.is_empty() { bundle::FORMAT } else { bundle::FORMAT_V2 }.to_owned(),
            log,
            head,
            consistency,
            ticket: BundleTicket { id: t.id.to_string(), key: t.key().to_string(), org: t.org.to_string() },
            entries,
            pending,
            reports,
        })
    }

    /// The ticket's report publications under a head of `size` leaves, each with its
    /// inclusion proof: the text the org's people read disclosed, the whole text disclosed to
    /// staff (`internal`) and withheld as its digest from anyone else. A publication appended
    /// after the head waits for the next one.
    async fn report_proofs(
        &self,
        ticket: &stringer_core::ids::TicketId,
        size: u64,
        internal: bool,
    ) -> Result<Vec<ReportProof>, LedgerError> {
        let mut proofs = Vec::new();
        for (row, index, secret) in self.book.report_leaves(ticket).await? {
            if index >= size {
                continue;
            }
            let what = || format!("report publication {}", row.id);
            let (customer_text, staff_text) = row.texts.clone().map_err(|e| broken(format!("{}: {e}", what())))?;
            let leaf = crate::ledger_sources::OtherRow::Report(row.clone())
                .leaf(&secret)
                .map_err(|e| broken(format!("{}: {e}", what())))?;
            let (disclosed, withheld) = leaf.disclose(|name| internal || name != "staff_text");
            let plan = tree::plan_inclusion(index, size).map_err(broken)?;
            let inclusion = tree::inclusion_proof(&self.book.subtrees(&plan).await?, index, size).map_err(broken)?;
            let at = Timestamp::from_second(row.at).map(|t| t.to_string()).unwrap_or_default();
            proofs.push(ReportProof {
                leaf_index: index,
                shown: ReportShown {
                    text_version: row.text_version,
                    at,
                    customer_text,
                    staff_text: internal.then_some(staff_text),
                },
                disclosed,
                withheld,
                inclusion,
            });
        }
        Ok(proofs)
    }

    /// The bundle of `org`'s quarterly-review figures of `quarter` for `who` (docs/ledger.md
    /// §6.5), under the latest signed head, every field disclosed, with a consistency proof
    /// from the size `from` when asked. Asked of the policy as reading the review is: an org
    /// `who` may not read the review of is [`LedgerError::NotFound`]; figures not frozen (or
    /// not yet under a signed head) are [`LedgerError::NoFigures`] (or
    /// [`LedgerError::Unavailable`]).
    pub async fn review_bundle(
        &self,
        who: &Principal,
        org: &crate::records::OrgRecord,
        quarter: &str,
        from: Option<u64>,
    ) -> Result<ReviewBundle, LedgerError> {
        match access::decide(&who.actor(), Action::ReadReview, Some(Object::Org(org.as_ref()))) {
            Decision::Allow => {}
            Decision::NotFound => return Err(LedgerError::NotFound),
            Decision::Forbidden(why) => return Err(LedgerError::Forbidden(why.to_string())),
        }
        let (row, index, secret) =
            self.book.review_leaf(org.slug.as_str(), quarter).await?.ok_or(LedgerError::NoFigures)?;
        let head = self.latest_head().await?;
        let size = head.head.tree_size;
        if index >= size {
            return Err(LedgerError::Unavailable(
                "the review's figures were appended after the latest signed head: ask again after the next".into(),
            ));
        }
        let keys = self.book.log_keys().await?;
        let log = chain_to(head.head.log_id, &keys, &head.key_id)
            .ok_or_else(|| broken("a head signed by no key of the log"))?;
        let consistency = match from {
            Some(from) => Some(self.consistency_from(from, &head).await?),
            None => None,
        };
        let what = format!("review figures {}", row.id);
        let leaf = crate::ledger_sources::OtherRow::Review(row.clone())
            .leaf(&secret)
            .map_err(|e| broken(format!("{what}: {e}")))?;
        let (disclosed, withheld) = leaf.disclose(|_| true);
        let figures = leaf.fields().iter().find(|f| f.name == "figures").map(|f| f.value.clone()).unwrap_or_default();
        let plan = tree::plan_inclusion(index, size).map_err(broken)?;
        let inclusion = tree::inclusion_proof(&self.book.subtrees(&plan).await?, index, size).map_err(broken)?;
        Ok(ReviewBundle {
            format: bundle::REVIEW_FORMAT.to_owned(),
            log,
            head,
            consistency,
            review: ReviewProof {
                org: row.org,
                quarter: row.quarter,
                leaf_index: index,
                at: Timestamp::from_second(row.at).map(|t| t.to_string()).unwrap_or_default(),
                figures,
                disclosed,
                withheld,
                inclusion,
            },
        })
    }

    /// The proof that the log of `to` leaves extends the log of its first `from`; both sizes
    /// must name a proof: `0 < from < to ≤` the log's size.
    pub async fn consistency(&self, who: &Principal, from: u64, to: u64) -> Result<ConsistencyProof, LedgerError> {
        decided(access::decide(&who.actor(), Action::ReadLedger, Some(Object::Ledger)))?;
        let size = self.book.log_state().await?.size;
        if from == 0 || from >= to || to > size {
            return Err(LedgerError::BadRange(format!(
                "a consistency proof needs 0 < from < to <= {size} (the log's size); got from={from}, to={to}"
            )));
        }
        let plan = tree::plan_consistency(from, to).map_err(broken)?;
        let proof = tree::consistency_proof(&self.book.subtrees(&plan).await?, from, to).map_err(broken)?;
        Ok(ConsistencyProof { from, to, proof })
    }

    /// Signed heads of sizes above `after` (from the first when `None`), smallest first, at
    /// most `limit` (1 to [`MAX_HEADS`]); `who` is `None` for an anonymous reader of the
    /// published heads.
    pub async fn heads(
        &self,
        who: Option<&Principal>,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<SignedHead>, LedgerError> {
        self.may_read(who)?;
        if !(1..=MAX_HEADS).contains(&limit) {
            return Err(LedgerError::BadRange(format!("limit: 1 to {MAX_HEADS}")));
        }
        Ok(self.book.heads_after(after, limit).await?)
    }

    /// The latest signed head, for `who` (`None`: anyone, as published).
    pub async fn head(&self, who: Option<&Principal>) -> Result<SignedHead, LedgerError> {
        self.may_read(who)?;
        self.latest_head().await
    }

    /// The log's current key, the rotations that lead to it and its fingerprint, as
    /// published to anyone.
    pub async fn key(&self) -> Result<PublishedKey, LedgerError> {
        decided(access::view_ledger(None))?;
        let keys = self.book.log_keys().await?;
        let current = keys.last().ok_or_else(|| LedgerError::Unavailable("the log has no key yet".into()))?;
        let log_id = self.book.log_state().await?.log_id;
        let log = chain_to(log_id, &keys, &current.public_key.key_id()).ok_or_else(|| broken("the current key"))?;
        Ok(PublishedKey { fingerprint: current.public_key.fingerprint(), log })
    }

    /// The head a page written at `now` shows it covers, as published to anyone (the status
    /// pages' footer): the latest signed by then, `None` before the first.
    pub async fn cover(&self, now: i64) -> Result<Option<super::Cover>, LedgerError> {
        decided(access::view_ledger(None))?;
        Ok(super::cover::cover(self.book.as_ref(), now).await?)
    }

    /// Signs a head now (admins): the log's head, or the latest one when the log did not grow.
    pub async fn sign(&self, who: &Principal) -> Result<SignedHead, LedgerError> {
        decided(access::decide(&who.actor(), Action::SignLedgerHead, Some(Object::Ledger)))?;
        let notary =
            self.notary.as_ref().ok_or_else(|| LedgerError::Unavailable("this server holds no ledger key".into()))?;
        notary.sign_now().await
    }

    fn may_read(&self, who: Option<&Principal>) -> Result<(), LedgerError> {
        match who {
            Some(who) => decided(access::decide(&who.actor(), Action::ReadLedger, Some(Object::Ledger))),
            None => decided(access::view_ledger(None)),
        }
    }

    async fn latest_head(&self) -> Result<SignedHead, LedgerError> {
        self.book.latest_head().await?.ok_or_else(|| LedgerError::Unavailable("no tree head is signed yet".into()))
    }

    /// The consistency of `head` with the log's first `from` leaves, as a bundle carries it.
    async fn consistency_from(&self, from: u64, head: &SignedHead) -> Result<Consistency, LedgerError> {
        let size = head.head.tree_size;
        if from == 0 || from > size {
            return Err(LedgerError::BadRange(format!(
                "from: a tree size from 1 to {size}, the signed head's; got {from}"
            )));
        }
        let roots = tree::plan_root(from);
        let proof_plan = if from < size { tree::plan_consistency(from, size).map_err(broken)? } else { Vec::new() };
        let wanted: Vec<Node> = roots.iter().chain(&proof_plan).copied().collect();
        let nodes = self.book.subtrees(&wanted).await?;
        let from_root = tree::root(&nodes, from).map_err(broken)?;
        let proof = if from < size { tree::consistency_proof(&nodes, from, size).map_err(broken)? } else { Vec::new() };
        Ok(Consistency { from_size: from, from_root, proof })
    }
}

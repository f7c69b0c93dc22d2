//! The bundle a customer downloads (docs/ledger.md §5) and its offline check: each shown entry
//! against the fields its leaf discloses, each leaf's inclusion under the signed head, the head
//! under a pinned key (or a key it endorsed), and, given an earlier head or bundle, the
//! consistency of the log since and the survival of every entry seen before.

use crate::encode::{Disclosed, EncodeError, canonical_json, leaf_hash_of};
use crate::head::{HeadError, PublicKey, Rotation, SignedHead};
use crate::tree::Hash;
use crate::verify::{verify_consistency, verify_inclusion};
use crate::wire;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The format this crate writes and reads: timeline entries only.
pub const FORMAT: &str = "stringer-ledger-bundle/1";
/// Version 2: version 1 and, in `reports`, the ticket's post-incident report publications
/// (docs/ledger.md §6.3). The server writes it only for a bundle that holds one.
pub const FORMAT_V2: &str = "stringer-ledger-bundle/2";

/// Fields a timeline leaf discloses that the timeline does not show: they name the entry's
/// kind, org, ticket and version.
pub const IDENTITY_FIELDS: [&str; 4] = ["entry", "org", "ticket", "version"];

/// A ticket's entries with their proofs under one signed head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`FORMAT`]; a verifier refuses any other.
    pub format: String,
    /// The log and its key.
    pub log: LogInfo,
    /// The head every inclusion proof leads to.
    pub head: SignedHead,
    /// A proof that `head` extends an earlier head, if one was asked for.
    #[serde(default)]
    pub consistency: Option<Consistency>,
    /// The ticket the entries belong to.
    pub ticket: TicketRef,
    /// The entries under the head, in leaf order.
    pub entries: Vec<Entry>,
    /// Entries appended after the head was signed, without proofs yet.
    #[serde(default)]
    pub pending: Vec<Pending>,
    /// The ticket's report publications under the head, in leaf order ([`FORMAT_V2`] only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<ReportProof>,
}

/// What a reader is shown of a report publication: the published text's version, when, the
/// text as the org's people read it and, for staff only, the whole text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportShown {
    /// The text version published.
    pub text_version: i64,
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    /// The text as the org's people read it.
    pub customer_text: Value,
    /// The whole text, shown to staff only (a customer's bundle withholds it as a digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_text: Option<Value>,
}

/// A report publication with its leaf's disclosure and its inclusion proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportProof {
    /// Its leaf's index in the log.
    pub leaf_index: u64,
    /// What the reader is shown.
    pub shown: ReportShown,
    /// The fields disclosed to this reader.
    pub disclosed: Vec<Disclosed>,
    /// The digests of the other fields.
    #[serde(with = "wire::hex32_vec")]
    pub withheld: Vec<Hash>,
    /// The inclusion proof of its leaf under the head.
    #[serde(with = "wire::hex32_vec")]
    pub inclusion: Vec<Hash>,
}

/// The log: its id and its current public key, with the rotations that lead to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogInfo {
    /// The 32 random bytes naming the log.
    #[serde(with = "wire::hex32")]
    pub log_id: [u8; 32],
    /// The key that signs heads now.
    pub public_key: PublicKey,
    /// `SHA-256` of `public_key`.
    #[serde(with = "wire::hex32")]
    pub key_id: Hash,
    /// Earlier keys, oldest first, each endorsing the next; the last endorses `public_key`.
    #[serde(default)]
    pub rotations: Vec<Rotation>,
}

/// A consistency proof from an earlier size to the bundle's head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consistency {
    /// The earlier tree size.
    pub from_size: u64,
    /// The earlier root.
    #[serde(with = "wire::hex32")]
    pub from_root: Hash,
    /// RFC 9162 §2.1.4.1's proof.
    #[serde(with = "wire::hex32_vec")]
    pub proof: Vec<Hash>,
}

/// The ticket a bundle covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRef {
    /// Its id (`tkt_…`), the value of each leaf's `ticket` field.
    pub id: String,
    /// Its key (`ACME-42`), for messages.
    pub key: String,
    /// Its org's slug, the value of each leaf's `org` field.
    pub org: String,
}

/// What the timeline shows of an entry: exactly the timeline API's item, without `seq`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shown {
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    /// Its kind.
    pub kind: String,
    /// Who acted, if shown.
    pub actor: Option<String>,
    /// The body as shown (an object).
    pub body: Value,
}

/// One entry with its leaf's disclosure and its inclusion proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Its leaf's index in the log.
    pub leaf_index: u64,
    /// Its position in the ticket's timeline.
    pub seq: i64,
    /// What the timeline shows.
    pub shown: Shown,
    /// The fields disclosed to this reader.
    pub disclosed: Vec<Disclosed>,
    /// The digests of the other fields.
    #[serde(with = "wire::hex32_vec")]
    pub withheld: Vec<Hash>,
    /// The inclusion proof of its leaf under the head.
    #[serde(with = "wire::hex32_vec")]
    pub inclusion: Vec<Hash>,
}

/// An entry not yet under a signed head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// Its position in the ticket's timeline.
    pub seq: i64,
    /// What the timeline shows.
    pub shown: Shown,
}

/// An earlier head to hold the bundle to: a signed head alone, or a whole earlier bundle.
#[derive(Clone, Debug, PartialEq)]
pub enum Previous {
    /// A head in its JSON form.
    Head(SignedHead),
    /// An earlier bundle; its entries under its head must reappear unchanged.
    Bundle(Box<Bundle>),
}

impl Previous {
    /// Reads either form: a JSON object with a `format` member is a bundle.
    pub fn from_json(text: &str) -> Result<Previous, BundleError> {
        let value: Value = serde_json::from_str(text).map_err(|e| BundleError::Malformed(e.to_string()))?;
        if value.get("format").is_some() {
            let bundle: Bundle = serde_json::from_value(value).map_err(|e| BundleError::Malformed(e.to_string()))?;
            Ok(Previous::Bundle(Box::new(bundle)))
        } else {
            serde_json::from_value(value).map(Previous::Head).map_err(|e| BundleError::Malformed(e.to_string()))
        }
    }

    /// The signed head it holds (a bundle's own head).
    pub fn head(&self) -> &SignedHead {
        match self {
            Previous::Head(head) => head,
            Previous::Bundle(bundle) => &bundle.head,
        }
    }
}

impl Bundle {
    /// Reads a bundle from its JSON.
    pub fn from_json(text: &str) -> Result<Bundle, BundleError> {
        serde_json::from_str(text).map_err(|e| BundleError::Malformed(e.to_string()))
    }
}

/// What is wrong with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryProblem {
    /// Its leaf index or seq does not rise after the previous entry's.
    OutOfOrder,
    /// Its leaf index is not below the head's tree size.
    BeyondHead,
    /// Its `at` is not `YYYY-MM-DDTHH:MM:SSZ`.
    BadInstant(String),
    /// Its shown body is not an object.
    BodyNotObject,
    /// A field is disclosed twice.
    DisclosedTwice(String),
    /// It shows a value its leaf does not disclose.
    Undisclosed(String),
    /// It discloses a field it does not show.
    Unshown(String),
    /// A disclosed field differs from what it shows.
    Changed(String),
    /// Its disclosed `entry`, `org` or `ticket` is not this bundle's.
    OtherTicket(String),
    /// A disclosed value cannot be encoded (a float, say).
    BadValue(EncodeError),
    /// Its leaf, recomputed, is not at its index under the head.
    DoesNotMatchLeaf,
    /// It was under the previous bundle's head and is absent now.
    Missing,
    /// It was under the previous bundle's head with another leaf.
    ChangedSincePrevious,
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryProblem::OutOfOrder => write!(f, "out of order (leaf index and seq must both rise)"),
            EntryProblem::BeyondHead => write!(f, "beyond the head's tree size"),
            EntryProblem::BadInstant(at) => write!(f, "its instant {at:?} is not YYYY-MM-DDTHH:MM:SSZ"),
            EntryProblem::BodyNotObject => write!(f, "its shown body is not an object"),
            EntryProblem::DisclosedTwice(name) => write!(f, "discloses {name} twice"),
            EntryProblem::Undisclosed(name) => write!(f, "shows {name} without disclosing it"),
            EntryProblem::Unshown(name) => write!(f, "discloses {name} without showing it"),
            EntryProblem::Changed(name) => write!(f, "changed: shows {name} unlike its leaf"),
            EntryProblem::OtherTicket(name) => write!(f, "its leaf's {name} is not this bundle's"),
            EntryProblem::BadValue(e) => write!(f, "a disclosed value is refused: {e}"),
            EntryProblem::DoesNotMatchLeaf => write!(f, "does not match its leaf"),
            EntryProblem::Missing => write!(f, "missing"),
            EntryProblem::ChangedSincePrevious => write!(f, "changed since the previous bundle"),
        }
    }
}

/// Why a bundle was refused; an entry's failure names the event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not JSON of the bundle's (or a head's) shape.
    #[error("not a bundle: {0}")]
    Malformed(String),
    /// Another format than [`FORMAT`].
    #[error("unknown bundle format {0:?} (this verifier reads {FORMAT})")]
    Format(String),
    /// An entry failed; `event` reads `KEY seq N KIND at INSTANT (leaf I)`.
    #[error("{event}: {problem}")]
    Entry {
        /// The event, as a reader finds it in the timeline.
        event: String,
        /// What is wrong.
        problem: EntryProblem,
    },
    /// The key, its rotations or the pin do not hold.
    #[error("key: {0}")]
    Key(String),
    /// The head's signature does not verify.
    #[error("head: {0}")]
    Head(HeadError),
    /// The consistency proof fails.
    #[error("consistency: {0}")]
    Consistency(String),
    /// The previous head does not hold.
    #[error("previous head: {0}")]
    Previous(String),
}

/// What a bundle that passed showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The head's tree size.
    pub tree_size: u64,
    /// The head's timestamp.
    pub timestamp: u64,
    /// The fingerprint of the key that signed it.
    pub fingerprint: String,
    /// Entries proved (timeline entries and report publications).
    pub entries: usize,
    /// Entries pending (shown, not proved).
    pub pending: usize,
    /// Whether a pinned key anchored the check (otherwise the bundle's own key was taken).
    pub pinned: bool,
    /// The previous head's size, if one was checked.
    pub previous_size: Option<u64>,
}

/// `KEY seq N KIND at INSTANT (leaf I)`.
fn event_name(ticket: &TicketRef, entry: &Entry) -> String {
    format!("{} seq {} {} at {} (leaf {})", ticket.key, entry.seq, entry.shown.kind, entry.shown.at, entry.leaf_index)
}

/// Unix seconds of a `YYYY-MM-DDTHH:MM:SSZ` instant; any other spelling is refused.
pub fn instant_seconds(at: &str) -> Option<i64> {
    let t: jiff::Timestamp = at.parse().ok()?;
    (t.subsec_nanosecond() == 0 && t.to_string() == at).then(|| t.as_second())
}

/// The named fields an entry shows: `at` in seconds, `kind`, `actor`, then `body.<key>` by key
/// in code-point order (the order a verifier reports a first failure in).
fn shown_fields(shown: &Shown) -> Result<Vec<(String, Value)>, EntryProblem> {
    let at = instant_seconds(&shown.at).ok_or_else(|| EntryProblem::BadInstant(shown.at.clone()))?;
    let Value::Object(body) = &shown.body else { return Err(EntryProblem::BodyNotObject) };
    let mut fields = vec![
        ("at".to_owned(), Value::from(at)),
        ("kind".to_owned(), Value::from(shown.kind.as_str())),
        ("actor".to_owned(), shown.actor.as_deref().map_or(Value::Null, Value::from)),
    ];
    let mut keys: Vec<&String> = body.keys().collect();
    keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    fields.extend(keys.into_iter().map(|k| (format!("body.{k}"), body[k].clone())));
    Ok(fields)
}

fn same(a: &Value, b: &Value) -> Result<bool, EntryProblem> {
    Ok(canonical_json(a).map_err(EntryProblem::BadValue)? == canonical_json(b).map_err(EntryProblem::BadValue)?)
}

/// `KEY report text N at INSTANT (leaf I)`.
fn report_name(ticket: &TicketRef, report: &ReportProof) -> String {
    format!(
        "{} report text {} at {} (leaf {})",
        ticket.key, report.shown.text_version, report.shown.at, report.leaf_index
    )
}

/// Checks one report publication's shown values against its disclosed fields (each shown
/// field disclosed, unchanged; `entry` = `"report"`, `org` and `ticket` the bundle's) and
/// answers its leaf hash.
fn check_report(ticket: &TicketRef, report: &ReportProof) -> Result<Hash, EntryProblem> {
    let shown = &report.shown;
    let at = instant_seconds(&shown.at).ok_or_else(|| EntryProblem::BadInstant(shown.at.clone()))?;
    let mut fields = vec![
        ("text_version".to_owned(), Value::from(shown.text_version)),
        ("at".to_owned(), Value::from(at)),
        ("customer_text".to_owned(), shown.customer_text.clone()),
    ];
    fields.extend(shown.staff_text.clone().map(|t| ("staff_text".to_owned(), t)));
    for (i, d) in report.disclosed.iter().enumerate() {
        if report.disclosed[..i].iter().any(|e| e.name == d.name) {
            return Err(EntryProblem::DisclosedTwice(d.name.clone()));
        }
        let expected = match d.name.as_str() {
            "entry" => Some(Value::from("report")),
            "org" => Some(Value::from(ticket.org.as_str())),
            "ticket" => Some(Value::from(ticket.id.as_str())),
            _ => None,
        };
        match (expected, fields.iter().find(|(name, _)| *name == d.name)) {
            (Some(expected), _) if d.value != expected => return Err(EntryProblem::OtherTicket(d.name.clone())),
            (Some(_), _) => {}
            (None, None) => return Err(EntryProblem::Unshown(d.name.clone())),
            (None, Some((_, value))) if !same(value, &d.value)? => {
                return Err(EntryProblem::Changed(d.name.clone()));
            }
            (None, Some(_)) => {}
        }
    }
    let required = ["entry", "org", "ticket"].into_iter().chain(fields.iter().map(|(name, _)| name.as_str()));
    for name in required {
        if !report.disclosed.iter().any(|d| d.name == name) {
            return Err(EntryProblem::Undisclosed(name.to_owned()));
        }
    }
    leaf_hash_of(&report.disclosed, &report.withheld).map_err(EntryProblem::BadValue)
}

/// Checks one entry's shown values against its disclosed fields and answers its leaf hash.
fn check_entry(ticket: &TicketRef, entry: &Entry) -> Result<Hash, EntryProblem> {
    let shown = shown_fields(&entry.shown)?;
    for (i, d) in entry.disclosed.iter().enumerate() {
        if entry.disclosed[..i].iter().any(|e| e.name == d.name) {
            return Err(EntryProblem::DisclosedTwice(d.name.clone()));
        }
        let expected = match d.name.as_str() {
            "entry" => Some(Value::from("timeline")),
            "org" => Some(Value::from(ticket.org.as_str())),
            "ticket" => Some(Value::from(ticket.id.as_str())),
            _ => None,
        };
        if let Some(expected) = expected {
            if d.value != expected {
                return Err(EntryProblem::OtherTicket(d.name.clone()));
            }
        } else if d.name == "version" {
            canonical_json(&d.value).map_err(EntryProblem::BadValue)?;
        } else {
            match shown.iter().find(|(name, _)| *name == d.name) {
                None => return Err(EntryProblem::Unshown(d.name.clone())),
                Some((_, value)) if !same(value, &d.value)? => return Err(EntryProblem::Changed(d.name.clone())),
                Some(_) => {}
            }
        }
    }
    for name in ["entry", "org", "ticket"] {
        if !entry.disclosed.iter().any(|d| d.name == name) {
            return Err(EntryProblem::Undisclosed(name.to_owned()));
        }
    }
    for (name, value) in &shown {
        if !value.is_null() && !entry.disclosed.iter().any(|d| d.name == *name) {
            return Err(EntryProblem::Undisclosed(name.clone()));
        }
    }
    leaf_hash_of(&entry.disclosed, &entry.withheld).map_err(EntryProblem::BadValue)
}

/// The keys a head may be signed by, oldest first: the rotations' old keys, then the current.
fn key_chain(log: &LogInfo) -> Result<Vec<PublicKey>, BundleError> {
    if log.key_id != log.public_key.key_id() {
        return Err(BundleError::Key("the log's key_id is not SHA-256 of its public key".to_owned()));
    }
    let mut chain: Vec<PublicKey> = Vec::new();
    for (i, rotation) in log.rotations.iter().enumerate() {
        rotation.verify().map_err(|e| BundleError::Key(format!("rotation {i}: {e}")))?;
        let next = log.rotations.get(i + 1).map_or(log.public_key, |r| r.old_key);
        if rotation.new_key != next {
            return Err(BundleError::Key(format!(
                "rotation {i} endorses {}, not the next key {next}",
                rotation.new_key
            )));
        }
        chain.push(rotation.old_key);
    }
    chain.push(log.public_key);
    Ok(chain)
}

/// Checks a bundle, reporting the first failure in the documented order (docs/ledger.md §5.3):
/// the format; each entry in order (order, shown against disclosed, inclusion under the head);
/// each entry of a previous bundle under its head (present, same leaf); the key chain and the
/// pin; the head's signature; the consistency proof; the previous head.
pub fn verify_bundle(
    bundle: &Bundle,
    pinned: Option<&PublicKey>,
    previous: Option<&Previous>,
) -> Result<Verified, BundleError> {
    if bundle.format != FORMAT && bundle.format != FORMAT_V2 {
        return Err(BundleError::Format(bundle.format.clone()));
    }
    if bundle.format == FORMAT && !bundle.reports.is_empty() {
        return Err(BundleError::Malformed(format!("a {FORMAT} bundle holds timeline entries only, not reports")));
    }
    let head = &bundle.head.head;
    let mut leaves: Vec<(u64, Hash)> = Vec::with_capacity(bundle.entries.len());
    let mut last: Option<(u64, i64)> = None;
    for entry in &bundle.entries {
        let fail = |problem| BundleError::Entry { event: event_name(&bundle.ticket, entry), problem };
        if last.is_some_and(|(index, seq)| entry.leaf_index <= index || entry.seq <= seq) {
            return Err(fail(EntryProblem::OutOfOrder));
        }
        last = Some((entry.leaf_index, entry.seq));
        if entry.leaf_index >= head.tree_size {
            return Err(fail(EntryProblem::BeyondHead));
        }
        let leaf = check_entry(&bundle.ticket, entry).map_err(fail)?;
        verify_inclusion(&leaf, entry.leaf_index, head.tree_size, &entry.inclusion, &head.root_hash)
            .map_err(|_| fail(EntryProblem::DoesNotMatchLeaf))?;
        leaves.push((entry.leaf_index, leaf));
    }
    let mut last_report: Option<u64> = None;
    for report in &bundle.reports {
        let fail = |problem| BundleError::Entry { event: report_name(&bundle.ticket, report), problem };
        if last_report.is_some_and(|index| report.leaf_index <= index) {
            return Err(fail(EntryProblem::OutOfOrder));
        }
        last_report = Some(report.leaf_index);
        if report.leaf_index >= head.tree_size {
            return Err(fail(EntryProblem::BeyondHead));
        }
        let leaf = check_report(&bundle.ticket, report).map_err(fail)?;
        verify_inclusion(&leaf, report.leaf_index, head.tree_size, &report.inclusion, &head.root_hash)
            .map_err(|_| fail(EntryProblem::DoesNotMatchLeaf))?;
        leaves.push((report.leaf_index, leaf));
    }
    if let Some(Previous::Bundle(old)) = previous {
        for entry in old.entries.iter().filter(|e| e.leaf_index < old.head.head.tree_size) {
            let fail = |problem| BundleError::Entry { event: event_name(&old.ticket, entry), problem };
            let Some(&(_, now)) = leaves.iter().find(|(index, _)| *index == entry.leaf_index) else {
                return Err(fail(EntryProblem::Missing));
            };
            if leaf_hash_of(&entry.disclosed, &entry.withheld).ok() != Some(now) {
                return Err(fail(EntryProblem::ChangedSincePrevious));
            }
        }
        for report in old.reports.iter().filter(|r| r.leaf_index < old.head.head.tree_size) {
            let fail = |problem| BundleError::Entry { event: report_name(&old.ticket, report), problem };
            let Some(&(_, now)) = leaves.iter().find(|(index, _)| *index == report.leaf_index) else {
                return Err(fail(EntryProblem::Missing));
            };
            if leaf_hash_of(&report.disclosed, &report.withheld).ok() != Some(now) {
                return Err(fail(EntryProblem::ChangedSincePrevious));
            }
        }
    }
    let anchor = Anchor { log: &bundle.log, head: &bundle.head, consistency: bundle.consistency.as_ref() };
    let previous_size = check_anchor(&anchor, pinned, previous.map(Previous::head))?;
    Ok(Verified {
        tree_size: head.tree_size,
        timestamp: head.timestamp,
        fingerprint: bundle.log.public_key.fingerprint(),
        entries: bundle.entries.len() + bundle.reports.len(),
        pending: bundle.pending.len(),
        pinned: pinned.is_some(),
        previous_size,
    })
}

fn check_consistency(c: &Consistency, head: &SignedHead) -> Result<(), BundleError> {
    let head = &head.head;
    if c.from_size == head.tree_size {
        if c.proof.is_empty() && c.from_root == head.root_hash {
            return Ok(());
        }
        return Err(BundleError::Consistency("the same size with another root or a proof".to_owned()));
    }
    verify_consistency(c.from_size, head.tree_size, &c.from_root, &head.root_hash, &c.proof)
        .map_err(|e| BundleError::Consistency(format!("from size {} to {}: {e}", c.from_size, head.tree_size)))
}

/// What a document's entries are proved under: the log and its key, the signed head and the
/// consistency proof from an earlier size, if any.
struct Anchor<'a> {
    log: &'a LogInfo,
    head: &'a SignedHead,
    consistency: Option<&'a Consistency>,
}

/// Steps 4 to 7 of docs/ledger.md §6.4: the key chain and the pin, the head's signature, the
/// consistency proof and the previous head; answers the previous head's size, if one.
fn check_anchor(
    anchor: &Anchor<'_>,
    pinned: Option<&PublicKey>,
    previous: Option<&SignedHead>,
) -> Result<Option<u64>, BundleError> {
    let chain = key_chain(anchor.log)?;
    let trusted = match pinned {
        None => &chain[..],
        Some(pin) => match chain.iter().position(|k| k == pin) {
            Some(at) => &chain[at..],
            None => {
                return Err(BundleError::Key(format!(
                    "the pinned key {} is neither the log's key nor endorsed into it",
                    pin.fingerprint()
                )));
            }
        },
    };
    if anchor.head.head.log_id != anchor.log.log_id {
        return Err(BundleError::Key("the head is of another log".to_owned()));
    }
    anchor.head.verify(&anchor.log.public_key).map_err(BundleError::Head)?;
    if let Some(c) = anchor.consistency {
        check_consistency(c, anchor.head)?;
    }
    match previous {
        None => Ok(None),
        Some(previous) => {
            check_previous(previous, anchor, trusted)?;
            Ok(Some(previous.head.tree_size))
        }
    }
}

fn check_previous(old: &SignedHead, anchor: &Anchor<'_>, trusted: &[PublicKey]) -> Result<(), BundleError> {
    let fail = |why: String| Err(BundleError::Previous(why));
    if old.head.log_id != anchor.log.log_id {
        return fail("it is of another log".to_owned());
    }
    let Some(key) = trusted.iter().find(|k| k.key_id() == old.key_id) else {
        return fail("it is signed by a key that is neither pinned nor endorsed into the log's key".to_owned());
    };
    old.verify(key).map_err(|e| BundleError::Previous(e.to_string()))?;
    let (then, now) = (&old.head, &anchor.head.head);
    if then.tree_size > now.tree_size {
        return fail(format!("the log shrank from {} to {} leaves", then.tree_size, now.tree_size));
    }
    if then.tree_size == now.tree_size {
        return if then.root_hash == now.root_hash {
            Ok(())
        } else {
            fail(format!("another root at the same size {}: the log was rewritten", now.tree_size))
        };
    }
    if then.tree_size == 0 {
        return Ok(());
    }
    match anchor.consistency {
        Some(c) if c.from_size == then.tree_size && c.from_root == then.root_hash => Ok(()),
        _ => fail(format!("the bundle proves no consistency from its size {} and root", then.tree_size)),
    }
}

/// The format of a quarterly review's figure-set bundle (docs/ledger.md §6.5).
pub const REVIEW_FORMAT: &str = "stringer-ledger-review/1";

/// An org's quarterly-review figure set with its proof under one signed head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBundle {
    /// Always [`REVIEW_FORMAT`].
    pub format: String,
    /// The log and its key.
    pub log: LogInfo,
    /// The head the inclusion proof leads to.
    pub head: SignedHead,
    /// A proof that `head` extends an earlier head, if one was asked for.
    #[serde(default)]
    pub consistency: Option<Consistency>,
    /// The figure set.
    pub review: ReviewProof,
}

/// A review's figure set as shown, its leaf's disclosure and its inclusion proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewProof {
    /// The org's slug.
    pub org: String,
    /// The quarter (`2026-Q3`).
    pub quarter: String,
    /// Its leaf's index.
    pub leaf_index: u64,
    /// When the figures were frozen, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    /// The figures (integers only).
    pub figures: Value,
    /// The fields disclosed: all of them.
    pub disclosed: Vec<Disclosed>,
    /// The digests of fields not disclosed (none today).
    #[serde(with = "wire::hex32_vec")]
    pub withheld: Vec<Hash>,
    /// The inclusion proof of its leaf under the head.
    #[serde(with = "wire::hex32_vec")]
    pub inclusion: Vec<Hash>,
}

impl ReviewBundle {
    /// Reads a review bundle from its JSON.
    pub fn from_json(text: &str) -> Result<ReviewBundle, BundleError> {
        serde_json::from_str(text).map_err(|e| BundleError::Malformed(e.to_string()))
    }
}

/// Checks the figure set's shown values against its disclosed fields and answers its leaf
/// hash: `entry` = `"review"`, and `org`, `quarter`, `at` (in seconds) and `figures` each
/// disclosed once, as shown.
fn check_review(review: &ReviewProof) -> Result<Hash, EntryProblem> {
    let at = instant_seconds(&review.at).ok_or_else(|| EntryProblem::BadInstant(review.at.clone()))?;
    let fields = [
        ("entry", Value::from("review")),
        ("org", Value::from(review.org.as_str())),
        ("quarter", Value::from(review.quarter.as_str())),
        ("at", Value::from(at)),
        ("figures", review.figures.clone()),
    ];
    for (i, d) in review.disclosed.iter().enumerate() {
        if review.disclosed[..i].iter().any(|e| e.name == d.name) {
            return Err(EntryProblem::DisclosedTwice(d.name.clone()));
        }
        match fields.iter().find(|(name, _)| *name == d.name) {
            None => return Err(EntryProblem::Unshown(d.name.clone())),
            Some(("entry", expected)) if d.value != *expected => {
                return Err(EntryProblem::OtherTicket(d.name.clone()));
            }
            Some((_, value)) if !same(value, &d.value)? => return Err(EntryProblem::Changed(d.name.clone())),
            Some(_) => {}
        }
    }
    for (name, _) in &fields {
        if !review.disclosed.iter().any(|d| d.name == *name) {
            return Err(EntryProblem::Undisclosed((*name).to_owned()));
        }
    }
    leaf_hash_of(&review.disclosed, &review.withheld).map_err(EntryProblem::BadValue)
}

/// Checks a review bundle as [`verify_bundle`] checks a ticket's (docs/ledger.md §6.5): the
/// format; the figure set (named `review <org> <quarter> at <at> (leaf N)`) against its leaf
/// and its inclusion under the head; then the key, the head, the consistency proof and the
/// previous head.
pub fn verify_review_bundle(
    bundle: &ReviewBundle,
    pinned: Option<&PublicKey>,
    previous: Option<&SignedHead>,
) -> Result<Verified, BundleError> {
    if bundle.format != REVIEW_FORMAT {
        return Err(BundleError::Format(bundle.format.clone()));
    }
    let head = &bundle.head.head;
    let review = &bundle.review;
    let fail = |problem| BundleError::Entry {
        event: format!("review {} {} at {} (leaf {})", review.org, review.quarter, review.at, review.leaf_index),
        problem,
    };
    if review.leaf_index >= head.tree_size {
        return Err(fail(EntryProblem::BeyondHead));
    }
    let leaf = check_review(review).map_err(fail)?;
    verify_inclusion(&leaf, review.leaf_index, head.tree_size, &review.inclusion, &head.root_hash)
        .map_err(|_| fail(EntryProblem::DoesNotMatchLeaf))?;
    let anchor = Anchor { log: &bundle.log, head: &bundle.head, consistency: bundle.consistency.as_ref() };
    let previous_size = check_anchor(&anchor, pinned, previous)?;
    Ok(Verified {
        tree_size: head.tree_size,
        timestamp: head.timestamp,
        fingerprint: bundle.log.public_key.fingerprint(),
        entries: 1,
        pending: 0,
        pinned: pinned.is_some(),
        previous_size,
    })
}

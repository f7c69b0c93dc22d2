//! The ledger's other sources (issue 28, docs/ledger.md §1; migration 43): status-page
//! updates, post-incident report publications and quarterly-review figure sets are leaves of
//! the one tree beside the timeline rows, each appended in the transaction that writes it.
//!
//! This module is the one mapping from what the store keeps of each to the entry's fields
//! (`stringer_ledger::encode`'s [`StatusEntry`], [`ReportEntry`], [`ReviewEntry`]), for the
//! append, the backfill, the audit and the bundle alike, and the audit's check of such a leaf
//! ([`check_other`]), naming the thing as its reader finds it:
//! `status update upd_… at <instant>`, `report ACME-42 text 2 at <instant>`,
//! `review acme 2026-Q3 at <instant>`.

use crate::ledger_audit::{AuditLeaf, Finding};
use crate::postmortem::{Line, customer_lines};
use serde_json::{Value, json};
use stringer_core::ids::{OrgSlug, TicketKey};
use stringer_core::postmortem::Sections;
use stringer_ledger::Hash;
use stringer_ledger::encode::{EncodeError, Leaf, ReportEntry, ReviewEntry, Secret, StatusEntry};

/// The `source` of a leaf that stands for a status-page update.
pub const STATUS_UPDATE: &str = "status_update";
/// The `source` of a leaf that stands for a report's publication.
pub const REPORT: &str = "report";
/// The `source` of a leaf that stands for a quarterly review's figure set.
pub const REVIEW: &str = "review";

/// A report's text as the ledger holds it: `(customer_text, staff_text)`. The customer's is
/// what the org's people read (the sections without staff's timeline edits, and the timeline
/// lines they are shown, in the words staff's edits gave them: `key`, `at`, `what`); staff's
/// is the whole text (every section, the edits, and every line with both wordings).
pub fn report_texts(sections: &Sections, timeline: &[Line]) -> (Value, Value) {
    let mut shown = sections.clone();
    shown.timeline_edits.clear();
    let lines: Vec<Value> = customer_lines(timeline, &sections.timeline_edits)
        .into_iter()
        .map(|l| json!({"key": l.key, "at": l.at, "what": l.what}))
        .collect();
    let customer = json!({"sections": shown, "timeline": lines});
    let staff = json!({"sections": sections, "timeline": timeline});
    (customer, staff)
}

/// A quarterly review's figure set as the ledger freezes it when the review round is written:
/// integers only — the org's tier, its tickets, met / breached / running / withdrawn counts
/// per severity and target, response, acknowledgement and resolution times in seconds
/// (median and 90th percentile), volumes against the previous quarter, tickets per week and
/// paging counts. Percentages are the reader's to derive (met / (met + breached)). The
/// export's per-ticket rows and the components' uptime are not in it.
pub fn review_figures(review: &crate::review::Review) -> Value {
    let f = &review.figures;
    json!({
        "tier": review.tier,
        "tickets": review.tickets,
        "attainment": f.attainment,
        "first_response": f.first_response,
        "acknowledge": f.acknowledge,
        "resolve": f.resolve,
        "by_severity": f.by_severity,
        "by_channel": f.by_channel,
        "by_week": f.by_week,
        "paging": f.paging,
    })
}

/// A status update as stored, with its incident's page and the page's org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusRow {
    /// The update's id (`upd_…`).
    pub update: String,
    /// Its incident's id.
    pub incident: String,
    /// The incident's page.
    pub page: String,
    /// The page's org (`None`: the public page).
    pub org: Option<String>,
    /// The incident status it announced.
    pub status: String,
    /// Its words.
    pub body: String,
    /// The components it affected (JSON text as stored).
    pub affected: String,
    /// When, in Unix seconds.
    pub at: i64,
}

/// A report publication as stored, with the text it published (`report_versions` at its
/// version) and the ticket's org and number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicationRow {
    /// The publication's id (`report_publications.id`).
    pub id: i64,
    /// The report's ticket (`tkt_…`).
    pub ticket: String,
    /// The ticket's org.
    pub org: String,
    /// The ticket's number in its org.
    pub number: i64,
    /// The text version published.
    pub text_version: i64,
    /// When, in Unix seconds.
    pub at: i64,
    /// The text's sections (JSON text as stored; empty when the version is gone).
    pub sections: String,
    /// The text's timeline (JSON text as stored; empty when the version is gone).
    pub timeline: String,
}

impl PublicationRow {
    /// The published text as the ledger holds it, `(customer_text, staff_text)` (see
    /// [`report_texts`]), read from the stored version; refused, saying why, when it no
    /// longer reads.
    pub fn texts(&self) -> Result<(Value, Value), String> {
        let sections: Sections = parsed(&self.sections, "text")?;
        let timeline: Vec<Line> = parsed(&self.timeline, "timeline")?;
        Ok(report_texts(&sections, &timeline))
    }
}

/// A quarterly review's frozen figure set as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiguresRow {
    /// Its id (`review_figures.id`).
    pub id: i64,
    /// The org.
    pub org: String,
    /// The quarter (`2026-Q3`).
    pub quarter: String,
    /// When the figures were frozen, in Unix seconds.
    pub at: i64,
    /// The figures (JSON text as stored).
    pub figures: String,
}

/// A row of another source than the timeline, as the audit reads it for a leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OtherRow {
    /// A status update.
    Status(StatusRow),
    /// A report publication.
    Report(PublicationRow),
    /// A review's figure set.
    Review(FiguresRow),
}

fn instant(at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(|_| format!("{at}s"), |t| t.to_string())
}

fn parsed<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("its stored {what} does not read: {e}"))
}

impl OtherRow {
    /// The source its leaf names.
    pub fn source(&self) -> &'static str {
        match self {
            OtherRow::Status(_) => STATUS_UPDATE,
            OtherRow::Report(_) => REPORT,
            OtherRow::Review(_) => REVIEW,
        }
    }

    /// The `source_id` its leaf at `index` must name: the row's id (a status update, whose id
    /// is text, is named by the leaf's own index).
    pub fn source_id(&self, index: u64) -> i64 {
        match self {
            OtherRow::Status(_) => index as i64,
            OtherRow::Report(p) => p.id,
            OtherRow::Review(f) => f.id,
        }
    }

    /// The thing as its reader finds it: `status update upd_1 at 2026-…Z`, `report ACME-42
    /// text 2 at …`, `review acme 2026-Q3 at …`.
    pub fn event(&self) -> String {
        match self {
            OtherRow::Status(s) => format!("status update {} at {}", s.update, instant(s.at)),
            OtherRow::Report(p) => {
                let key = TicketKey { org: OrgSlug::from(p.org.as_str()), number: p.number };
                format!("report {key} text {} at {}", p.text_version, instant(p.at))
            }
            OtherRow::Review(f) => format!("review {} {} at {}", f.org, f.quarter, instant(f.at)),
        }
    }

    /// The row's entry encoded under `secret` (docs/ledger.md §1); refused, saying why, when
    /// a stored value no longer reads or cannot be encoded.
    pub fn leaf(&self, secret: &Secret) -> Result<Leaf, String> {
        self.encode(secret)?.map_err(|e| e.to_string())
    }

    fn encode(&self, secret: &Secret) -> Result<Result<Leaf, EncodeError>, String> {
        Ok(match self {
            OtherRow::Status(s) => {
                let affected: Value = parsed(&s.affected, "affected components")?;
                StatusEntry {
                    page: &s.page,
                    org: s.org.as_deref(),
                    incident: &s.incident,
                    update: &s.update,
                    status: &s.status,
                    body: &s.body,
                    affected: &affected,
                    at: s.at,
                }
                .leaf(secret)
            }
            OtherRow::Report(p) => {
                let (customer_text, staff_text) = p.texts()?;
                ReportEntry {
                    org: &p.org,
                    ticket: &p.ticket,
                    text_version: p.text_version,
                    at: p.at,
                    customer_text: &customer_text,
                    staff_text: &staff_text,
                }
                .leaf(secret)
            }
            OtherRow::Review(f) => {
                let figures: Value = parsed(&f.figures, "figures")?;
                ReviewEntry { org: &f.org, quarter: &f.quarter, at: f.at, figures: &figures }.leaf(secret)
            }
        })
    }

    /// The row's leaf hash under `secret`.
    pub fn leaf_hash(&self, secret: &Secret) -> Result<Hash, String> {
        Ok(self.leaf(secret)?.hash())
    }
}

/// Checks a leaf of another source than the timeline against the row that claims it (the
/// store reads it into [`AuditLeaf::other`]): the row exists, is of the leaf's source and the
/// one it names, and recomputes to the stored hash under the stored secret.
pub fn check_other(leaf: &AuditLeaf) -> Result<(), Finding> {
    let at_leaf = |what: String, problem: String| Finding {
        leaf: Some(leaf.index),
        message: format!("{what} (leaf {}): {problem}", leaf.index),
    };
    let noun = match leaf.source.as_str() {
        STATUS_UPDATE => "status update",
        REPORT => "report publication",
        REVIEW => "review figures",
        other => {
            return Err(Finding {
                leaf: Some(leaf.index),
                message: format!("the ledger: leaf {} has the unknown source {other:?}", leaf.index),
            });
        }
    };
    let Some(row) = &leaf.other else {
        return Err(at_leaf(format!("{noun} {}", leaf.source_id), "missing".into()));
    };
    if row.source() != leaf.source || row.source_id(leaf.index) != leaf.source_id {
        return Err(at_leaf(row.event(), format!("its leaf stands for {noun} {}, not this one", leaf.source_id)));
    }
    match row.leaf_hash(&leaf.secret) {
        Ok(hash) if hash == leaf.hash => Ok(()),
        Ok(_) => Err(at_leaf(row.event(), "does not match its leaf".into())),
        Err(e) => Err(at_leaf(row.event(), format!("can no longer be encoded: {e}"))),
    }
}

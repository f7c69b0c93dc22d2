//! The ledger's other sources (issue 28, docs/ledger.md §1; migration 43): status-page
//! updates, post-incident report publications and quarterly-review figure sets are leaves of
//! the one tree beside the timeline rows, each appended in the transaction that writes it.
//!
//! This module is the one mapping from what the store keeps of each to the entry's fields
//! (`stringer_ledger::encode`'s [`StatusEntry`], [`ReportEntry`], [`ReviewEntry`]), for the
//! append, the backfill, the audit (`ledger_audit::check_other`) and the bundle alike, and
//! names the thing as its reader finds it:
//! `status update upd_… at <instant>`, `report ACME-42 text 2 at <instant>`,
//! `review acme 2026-Q3 at <instant>`.

use serde_json::Value;
use stringer_core::ids::{OrgSlug, TicketKey};
use stringer_ledger::Hash;
use stringer_ledger::encode::{Leaf, ReportEntry, ReviewEntry, Secret, StatusEntry};

/// The `source` of a leaf that stands for a status-page update.
pub const STATUS_UPDATE: &str = "status_update";
/// The `source` of a leaf that stands for a report's publication.
pub const REPORT: &str = "report";
/// The `source` of a leaf that stands for a quarterly review's figure set.
pub const REVIEW: &str = "review";

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
    /// The published text as the ledger holds it, `(customer_text, staff_text)`, read from
    /// the stored version by [`crate::postmortem::stored_report_texts`]; why not, when it no
    /// longer reads (or is gone).
    pub texts: Result<(Value, Value), String>,
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
        let encoded = match self {
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
                let (customer_text, staff_text) = p.texts.clone()?;
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
        };
        encoded.map_err(|e| e.to_string())
    }

    /// The row's leaf hash under `secret`.
    pub fn leaf_hash(&self, secret: &Secret) -> Result<Hash, String> {
        Ok(self.leaf(secret)?.hash())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger_audit::{AuditLeaf, check_other};

    fn update() -> OtherRow {
        OtherRow::Status(StatusRow {
            update: "upd_1".into(),
            incident: "inc_1".into(),
            page: "pg_1".into(),
            org: None,
            status: "investigating".into(),
            body: "Looking into it.".into(),
            affected: "[]".into(),
            at: 1_767_225_600,
        })
    }

    fn leaf_of(row: OtherRow, index: u64) -> AuditLeaf {
        let secret = [7; 32];
        AuditLeaf {
            index,
            hash: row.leaf_hash(&secret).unwrap(),
            secret,
            source: row.source().into(),
            source_id: row.source_id(index),
            row: None,
            other: Some(row),
        }
    }

    #[test]
    fn another_sources_leaf_is_checked_against_its_row_and_named() {
        let good = leaf_of(update(), 5);
        assert_eq!(check_other(&good), Ok(()));
        let mut edited = good.clone();
        if let Some(OtherRow::Status(s)) = &mut edited.other {
            s.body = "Nothing happened.".into();
        }
        let found = check_other(&edited).unwrap_err();
        assert_eq!(found.message, "status update upd_1 at 2026-01-01T00:00:00Z (leaf 5): does not match its leaf");
        let mut gone = good.clone();
        gone.other = None;
        assert_eq!(check_other(&gone).unwrap_err().message, "status update 5 (leaf 5): missing");
        let mut unreadable = good.clone();
        if let Some(OtherRow::Status(s)) = &mut unreadable.other {
            s.affected = "[1.5]".into();
        }
        assert!(check_other(&unreadable).unwrap_err().message.contains("can no longer be encoded"));
        let mut other = good;
        other.source = "review".into();
        assert!(
            check_other(&other).unwrap_err().message.ends_with("its leaf stands for review figures 5, not this one")
        );
    }

    #[test]
    fn a_figures_row_names_its_org_and_quarter() {
        let figures = |text: &str| {
            OtherRow::Review(FiguresRow {
                id: 3,
                org: "acme".into(),
                quarter: "2026-Q3".into(),
                at: 1_767_225_600,
                figures: text.into(),
            })
        };
        let row = figures(r#"{"tickets":2}"#);
        assert_eq!(row.event(), "review acme 2026-Q3 at 2026-01-01T00:00:00Z");
        assert_eq!(row.source_id(9), 3);
        assert!(row.leaf(&[1; 32]).is_ok());
        assert!(figures(r#"{"percent":99.5}"#).leaf(&[1; 32]).unwrap_err().contains("refuses floats"));
    }
}

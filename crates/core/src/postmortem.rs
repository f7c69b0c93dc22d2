//! Post-incident reports as documents: their sections, action items and the review that
//! leads to publication. Draft → in review → approved → published; a reviewer can send it
//! back to draft with a comment; an edit after approval needs approving again; a published
//! report is final. A security incident's report is not published without its root cause
//! and remediation. (Whether a report is owed, and by when, is the ticket's rule:
//! [`crate::ticket::report`].)

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Longest section, in bytes (a report is read by people; this is a generous book chapter).
pub const MAX_SECTION: usize = 64 * 1024;
/// Most action items in one report.
pub const MAX_ACTION_ITEMS: usize = 100;
/// Longest action item text, owner or comment, in bytes.
pub const MAX_LINE: usize = 2 * 1024;

/// Where a report is in its review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Being written.
    Draft,
    /// Submitted for a support lead's or VP's review.
    InReview,
    /// Approved: may be published as it stands.
    Approved,
    /// Shown to the customer; final.
    Published,
}

impl ReportState {
    /// The name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Draft => "draft",
            ReportState::InReview => "in_review",
            ReportState::Approved => "approved",
            ReportState::Published => "published",
        }
    }

    /// The state a name gives.
    pub fn parse(text: &str) -> Option<ReportState> {
        [ReportState::Draft, ReportState::InReview, ReportState::Approved, ReportState::Published]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A step in a report's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Save a new version of the text.
    Edit,
    /// Ask for review.
    Submit,
    /// Approve it for publication (support leads and VPs: see the access policy).
    Approve,
    /// Send it back to its writers.
    RequestChanges,
    /// Show it to the customer.
    Publish,
}

impl Step {
    /// The name used in paths and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Edit => "edit",
            Step::Submit => "submit",
            Step::Approve => "approve",
            Step::RequestChanges => "request_changes",
            Step::Publish => "publish",
        }
    }

    /// The step a name gives.
    pub fn parse(text: &str) -> Option<Step> {
        [Step::Edit, Step::Submit, Step::Approve, Step::RequestChanges, Step::Publish]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Whether an action item is still to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// To do.
    Open,
    /// Being done.
    InProgress,
    /// Done.
    Done,
}

/// Something to do so that it does not happen again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionItem {
    /// What.
    pub what: String,
    /// Who owns it: a staff member's user id (the application checks that it is one).
    pub owner: String,
    /// By when.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub due: Option<Date>,
    /// Where it stands.
    pub state: ItemState,
}

/// Most timeline edits in one report.
pub const MAX_LINE_EDITS: usize = 1000;

/// Staff's change to one line of the timeline the org's people read: other words for it, or
/// hidden. The line is named by its key (the application's timeline gives each line one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineEdit {
    /// The line's key.
    pub line: String,
    /// Not shown to the org's people.
    #[serde(default)]
    pub hide: bool,
    /// The words shown instead of the line's own.
    #[serde(default)]
    pub words: Option<String>,
}

/// The text of a report: Markdown sections, the action items, and staff's edits of the
/// timeline the org's people read. The timeline itself is not written: it is drawn from the
/// records (see the application's `postmortem`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Sections {
    /// What happened, in a paragraph.
    pub summary: String,
    /// Who and what was affected, and how long.
    pub impact: String,
    /// Why it happened.
    pub root_cause: String,
    /// How it was ended.
    pub resolution: String,
    /// What was done or will be done so it cannot recur (required for security incidents).
    pub remediation: String,
    /// What was learned.
    pub lessons: String,
    /// The follow-ups.
    pub action_items: Vec<ActionItem>,
    /// Lines of the customer's timeline reworded or hidden, one edit per line at most.
    pub timeline_edits: Vec<LineEdit>,
}

impl Sections {
    /// The sections with their headings, in reading order.
    pub fn titled(&self) -> [(&'static str, &str); 6] {
        [
            ("Summary", &self.summary),
            ("Impact", &self.impact),
            ("Root cause", &self.root_cause),
            ("Resolution", &self.resolution),
            ("Remediation", &self.remediation),
            ("Lessons learned", &self.lessons),
        ]
    }

    /// Checks sizes: every section, item and owner within its limit.
    pub fn check(&self) -> Result<(), Refused> {
        for (title, text) in self.titled() {
            if text.len() > MAX_SECTION {
                return Err(Refused::new(format!("{title} is longer than {MAX_SECTION} bytes")));
            }
        }
        if self.action_items.len() > MAX_ACTION_ITEMS {
            return Err(Refused::new(format!("a report has at most {MAX_ACTION_ITEMS} action items")));
        }
        for item in &self.action_items {
            if item.what.trim().is_empty() {
                return Err(Refused::new("an action item says what is to be done"));
            }
            if item.owner.trim().is_empty() {
                return Err(Refused::new("an action item names its owner"));
            }
            if item.what.len() > MAX_LINE || item.owner.len() > MAX_LINE {
                return Err(Refused::new(format!("an action item's text and owner are at most {MAX_LINE} bytes")));
            }
        }
        if self.timeline_edits.len() > MAX_LINE_EDITS {
            return Err(Refused::new(format!("a report edits at most {MAX_LINE_EDITS} timeline lines")));
        }
        for (n, edit) in self.timeline_edits.iter().enumerate() {
            if self.timeline_edits[..n].iter().any(|e| e.line == edit.line) {
                return Err(Refused::new(format!("timeline line {} is edited twice", edit.line)));
            }
            match &edit.words {
                Some(w) if w.trim().is_empty() => {
                    return Err(Refused::new("a reworded timeline line has words (or hide it)"));
                }
                Some(w) if w.len() > MAX_LINE => {
                    return Err(Refused::new(format!("a timeline line is at most {MAX_LINE} bytes")));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Why a step is refused, in words for the person who tried it, and the sections to put
/// right (by their JSON names: `root_cause`, `remediation`…), when it is their content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{why}")]
pub struct Refused {
    /// Why, in words.
    pub why: String,
    /// The sections to put right (empty: the step itself is refused).
    pub fields: Vec<&'static str>,
}

impl Refused {
    /// A refusal of the step itself.
    pub fn new(why: impl Into<String>) -> Refused {
        Refused { why: why.into(), fields: Vec::new() }
    }
}

/// The state a step leads to from `state`, for a report whose (new) text is `sections`, of a
/// security incident or not.
pub fn step(state: ReportState, step: Step, security: bool, sections: &Sections) -> Result<ReportState, Refused> {
    use ReportState::*;
    let refused = |why: &str| Err(Refused::new(why));
    match (state, step) {
        (Published, _) => refused("the report is published; a published report is final"),
        (Draft | InReview, Step::Edit) => sections.check().map(|()| state),
        (Approved, Step::Edit) => sections.check().map(|()| InReview),
        (Draft, Step::Submit) if sections.summary.trim().is_empty() => {
            refused("write the summary before asking for review")
        }
        (Draft, Step::Submit) => Ok(InReview),
        (_, Step::Submit) => refused("the report is under review already"),
        (InReview, Step::Approve) if security => security_complete(sections, "approved").map(|()| Approved),
        (InReview, Step::Approve) => Ok(Approved),
        (Approved, Step::Approve) => refused("the report is approved already"),
        (Draft, Step::Approve) => refused("the report is a draft; it is submitted for review first"),
        (InReview | Approved, Step::RequestChanges) => Ok(Draft),
        (Draft, Step::RequestChanges) => refused("the report is a draft already"),
        (Approved, Step::Publish) if security => security_complete(sections, "published").map(|()| Published),
        (Approved, Step::Publish) => Ok(Published),
        (Draft | InReview, Step::Publish) => refused("a report is published once a support lead or VP approved it"),
    }
}

/// The state a step carrying a text (`new`, over the report's `current` one) leads to, and
/// whether the text is saved as a new version: a changed text is an edit first — so words
/// typed before any step are kept, and approving changed words approves them — then the
/// step; changed words are never published unreviewed.
pub fn step_with_text(
    state: ReportState,
    asked: Step,
    security: bool,
    current: &Sections,
    new: &Sections,
) -> Result<(ReportState, bool), Refused> {
    if asked == Step::Edit {
        return step(state, Step::Edit, security, new).map(|s| (s, true));
    }
    if new == current {
        return step(state, asked, security, new).map(|s| (s, false));
    }
    if asked == Step::Publish && state != ReportState::Published {
        return Err(Refused::new(
            "the text changed since it was approved: save it and have it reviewed again before publishing",
        ));
    }
    let edited = step(state, Step::Edit, security, new)?;
    step(edited, asked, security, new).map(|s| (s, true))
}

/// A security incident's report has its root cause and remediation before it is approved
/// or published (`at`): refused naming the sections missing.
fn security_complete(sections: &Sections, at: &str) -> Result<(), Refused> {
    let missing: Vec<&'static str> = [("root_cause", &sections.root_cause), ("remediation", &sections.remediation)]
        .into_iter()
        .filter(|(_, text)| text.trim().is_empty())
        .map(|(name, _)| name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Refused {
        why: format!("a security incident's report states its root cause and remediation before it is {at}"),
        fields: missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReportState::*;

    fn written() -> Sections {
        Sections { summary: "The API was down.".into(), ..Sections::default() }
    }

    #[test]
    fn a_report_goes_from_draft_through_review_to_published() {
        let s = written();
        let table = [
            (Draft, Step::Edit, Draft),
            (Draft, Step::Submit, InReview),
            (InReview, Step::Edit, InReview),
            (InReview, Step::RequestChanges, Draft),
            (InReview, Step::Approve, Approved),
            (Approved, Step::Edit, InReview),
            (Approved, Step::RequestChanges, Draft),
            (Approved, Step::Publish, Published),
        ];
        for (from, by, to) in table {
            assert_eq!(step(from, by, false, &s), Ok(to), "{from:?} by {by:?}");
        }
    }

    #[test]
    fn out_of_order_steps_and_published_reports_are_refused_in_words() {
        let s = written();
        for (from, by, why) in [
            (Draft, Step::Approve, "submitted for review first"),
            (Draft, Step::Publish, "approved it"),
            (InReview, Step::Publish, "approved it"),
            (InReview, Step::Submit, "under review already"),
            (Approved, Step::Approve, "approved already"),
            (Draft, Step::RequestChanges, "a draft already"),
            (Published, Step::Edit, "final"),
            (Published, Step::RequestChanges, "final"),
        ] {
            let err = step(from, by, false, &s).expect_err("refused");
            assert!(err.why.contains(why), "{from:?} by {by:?}: {err}");
        }
        let empty = Sections::default();
        assert!(step(Draft, Step::Submit, false, &empty).unwrap_err().why.contains("summary"));
    }

    #[test]
    fn a_security_report_needs_its_root_cause_and_remediation() {
        let mut s = written();
        assert!(step(Approved, Step::Publish, true, &s).unwrap_err().why.contains("root cause and remediation"));
        s.root_cause = "A leaked key.".into();
        assert!(step(Approved, Step::Publish, true, &s).is_err());
        s.remediation = "   ".into();
        assert!(step(Approved, Step::Publish, true, &s).is_err());
        s.remediation = "Keys rotated; scanning added.".into();
        assert_eq!(step(Approved, Step::Publish, true, &s), Ok(Published));
        assert_eq!(step(Approved, Step::Publish, false, &written()), Ok(Published));
    }

    #[test]
    fn a_security_report_is_not_approved_without_its_root_cause_and_remediation() {
        let mut s = written();
        let refused = step(InReview, Step::Approve, true, &s).unwrap_err();
        assert!(refused.why.contains("before it is approved"), "{refused}");
        assert_eq!(refused.fields, vec!["root_cause", "remediation"]);
        s.root_cause = "A leaked key.".into();
        assert_eq!(step(InReview, Step::Approve, true, &s).unwrap_err().fields, vec!["remediation"]);
        s.remediation = "Keys rotated.".into();
        assert_eq!(step(InReview, Step::Approve, true, &s), Ok(Approved));
        assert_eq!(step(InReview, Step::Approve, false, &written()), Ok(Approved));
    }

    #[test]
    fn a_step_carrying_changed_words_saves_them_first() {
        let old = written();
        let new = Sections { root_cause: "A bad deploy.".into(), ..written() };
        assert_eq!(step_with_text(Draft, Step::Submit, false, &old, &new), Ok((InReview, true)));
        assert_eq!(step_with_text(Draft, Step::Submit, false, &old, &old), Ok((InReview, false)));
        assert_eq!(step_with_text(InReview, Step::Approve, false, &old, &new), Ok((Approved, true)));
        assert_eq!(step_with_text(Approved, Step::RequestChanges, false, &old, &new), Ok((Draft, true)));
        assert_eq!(step_with_text(Draft, Step::Edit, false, &old, &old), Ok((Draft, true)));
        assert!(step_with_text(Approved, Step::Publish, false, &old, &new).unwrap_err().why.contains("reviewed again"));
        assert_eq!(step_with_text(Approved, Step::Publish, false, &old, &old), Ok((Published, false)));
        let empty = Sections::default();
        assert!(step_with_text(Draft, Step::Submit, false, &old, &empty).unwrap_err().why.contains("summary"));
    }

    #[test]
    fn sizes_are_limited() {
        let mut s = written();
        s.lessons = "x".repeat(MAX_SECTION + 1);
        assert!(step(Draft, Step::Edit, false, &s).unwrap_err().why.contains("Lessons learned"));
        let mut s = written();
        let item = ActionItem { what: "Add alerting".into(), owner: "ana".into(), due: None, state: ItemState::Open };
        s.action_items = vec![item.clone(); MAX_ACTION_ITEMS + 1];
        assert!(step(Draft, Step::Edit, false, &s).is_err());
        s.action_items = vec![ActionItem { what: " ".into(), ..item }];
        assert!(step(Draft, Step::Edit, false, &s).unwrap_err().why.contains("says what"));
    }

    #[test]
    fn timeline_edits_have_words_and_name_each_line_once() {
        let mut s = written();
        let edit = LineEdit { line: "t:3".into(), hide: false, words: Some("Reported by Acme".into()) };
        s.timeline_edits = vec![edit.clone()];
        assert_eq!(step(Draft, Step::Edit, false, &s), Ok(Draft));
        s.timeline_edits = vec![edit.clone(), LineEdit { hide: true, words: None, ..edit.clone() }];
        assert!(step(Draft, Step::Edit, false, &s).unwrap_err().why.contains("edited twice"));
        s.timeline_edits = vec![LineEdit { words: Some("  ".into()), ..edit.clone() }];
        assert!(step(Draft, Step::Edit, false, &s).unwrap_err().why.contains("has words"));
        s.timeline_edits = vec![LineEdit { words: Some("x".repeat(MAX_LINE + 1)), ..edit }];
        assert!(step(Draft, Step::Edit, false, &s).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in [Draft, InReview, Approved, Published] {
            assert_eq!(ReportState::parse(s.as_str()), Some(s));
        }
        for s in [Step::Edit, Step::Submit, Step::Approve, Step::RequestChanges, Step::Publish] {
            assert_eq!(Step::parse(s.as_str()), Some(s));
        }
        assert_eq!(Step::parse("delete"), None);
    }
}

//! A what-if [`Report`] written out: as Markdown (which reads as plain text in a terminal
//! too), and as CSV — one row per ticket and target whose outcome changed, with both due
//! times, for a spreadsheet. JSON is the report's own serialization; HTML is the console's
//! page (the web crate).

use super::Report;
use stringer_core::whatif::{Counts, Due, Load, Pages, Shift};

/// How many changed targets the Markdown lists (the CSV and JSON list every one kept).
const SHOWN: usize = 200;

/// Met as a share of met and breached, as the reports write it ("96.1 %", "–" when neither).
pub fn percent(c: &Counts) -> String {
    c.percent().map_or_else(|| "–".into(), |p| format!("{p:.1} %"))
}

/// A target's outcome and due time, as the reports write it.
pub fn due(d: &Option<Due>) -> String {
    match d {
        Some(Due { outcome, due: Some(at) }) => {
            format!("{} (due {})", outcome.as_str(), at.strftime("%Y-%m-%d %H:%M UTC"))
        }
        Some(Due { outcome, due: None }) => format!("{} (paused)", outcome.as_str()),
        None => "no such target".into(),
    }
}

fn counts(c: &Counts) -> String {
    format!("{}/{}/{}/{}", c.met, c.breached, c.withdrawn, c.running)
}

fn change(b: u32, p: u32) -> String {
    match p as i64 - b as i64 {
        0 => "=".into(),
        d => format!("{d:+}"),
    }
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    let w = &r.whatif;
    let mut out = format!(
        "# What if: {} instead of {}\n\nTickets opened from {} until {} ({}), replayed up to {}: {} tickets compared, {} \
         with a target whose outcome changes.\n\n",
        r.proposed,
        r.baseline,
        r.from.strftime("%Y-%m-%d %H:%M UTC"),
        r.until.strftime("%Y-%m-%d %H:%M UTC"),
        if r.orgs.is_empty() { "no orgs".to_string() } else { r.orgs.join(", ") },
        r.as_of.strftime("%Y-%m-%d %H:%M UTC"),
        w.tickets,
        w.changed_tickets,
    );
    out.push_str("## What this means\n\n");
    for o in &w.observations {
        out.push_str(&format!("- {o}\n"));
    }
    out.push_str("\n## Targets\n\nMet/breached/withdrawn/running, and met as a share of met and breached.\n\n");
    out.push_str("| Tier | Severity | Target | Baseline | Met | Proposed | Met | Due moved |\n|---|---|---|---|---|---|---|---|\n");
    for row in &w.rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.tier,
            row.severity,
            row.target,
            counts(&row.baseline),
            percent(&row.baseline),
            counts(&row.proposed),
            percent(&row.proposed),
            row.due_moved
        ));
    }
    out.push_str(&format!("\n## Tickets whose outcome changes ({} targets)\n\n", w.changed_total));
    if w.changed.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| Ticket | Tier | Severity | Target | Baseline | Proposed |\n|---|---|---|---|---|---|\n");
        for c in w.changed.iter().take(SHOWN) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                c.key,
                c.tier,
                c.severity,
                c.target,
                due(&c.baseline),
                due(&c.proposed)
            ));
        }
        if w.changed_total as usize > SHOWN {
            out.push_str(&format!("\n…and {} more (the CSV and JSON list them).\n", w.changed_total as usize - SHOWN));
        }
    }
    out.push_str(&pages(&w.pages.baseline, &w.pages.proposed));
    if !w.load.is_empty() {
        out.push_str("\n## Load on people (person-weeks that change)\n\n| Person | Week | Baseline | Proposed |\n|---|---|---|---|\n");
        let load = |l: &Load| format!("{} ({} at night, {} at weekends)", l.pages, l.night, l.weekend);
        for l in &w.load {
            out.push_str(&format!("| {} | {} | {} | {} |\n", l.person, l.week, load(&l.baseline), load(&l.proposed)));
        }
    }
    out.push_str("\n## Deadlines\n\n| Deadline | Same | Earlier | Later | Newly set | No longer set |\n|---|---|---|---|---|---|\n");
    for (what, s) in
        [("Customer may page on-call", &w.customer_page), ("Bridge", &w.bridges), ("Post-incident report", &w.reports)]
    {
        out.push_str(&shift(what, s));
    }
    out.push_str("\n## Quarterly reviews\n\n| Org | Quarter | Severity | Target | Baseline met | Proposed met |\n|---|---|---|---|---|---|\n");
    for review in &w.reviews {
        for row in &review.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                review.org,
                review.quarter,
                row.severity,
                row.target,
                percent(&row.baseline),
                percent(&row.proposed)
            ));
        }
    }
    if !w.not_comparable.is_empty() {
        out.push_str(&format!("\n## Not comparable ({})\n\n", w.not_comparable.len()));
        for n in w.not_comparable.iter().take(SHOWN) {
            out.push_str(&format!("- {} ({}): {}\n", n.key, n.org, n.reason));
        }
    }
    out.push_str("\n## What the replay assumed\n\n");
    for note in &r.notes {
        out.push_str(&format!("- {note}\n"));
    }
    out
}

/// The paging figures under both contracts, as the reports name them: (what, baseline,
/// proposed).
pub fn page_rows(b: &Pages, p: &Pages) -> [(&'static str, u32, u32); 9] {
    [
        ("Pages to on-call", b.oncall, p.oncall),
        ("Pages to the TAM", b.tam, p.tam),
        ("Pages to the VP of Engineering", b.vp_engineering, p.vp_engineering),
        ("Pages to the support lead", b.support_lead, p.support_lead),
        ("People paged (per person per page)", b.person_pages, p.person_pages),
        ("Of them at night", b.night, p.night),
        ("Of them at weekends", b.weekend, p.weekend),
        ("Tickets reaching the TAM", b.reached_tam, p.reached_tam),
        ("Tickets reaching the VP", b.reached_vp, p.reached_vp),
    ]
}

fn pages(b: &Pages, p: &Pages) -> String {
    let mut out = String::from("\n## Pages\n\n| | Baseline | Proposed | Change |\n|---|---|---|---|\n");
    for (what, x, y) in page_rows(b, p) {
        out.push_str(&format!("| {what} | {x} | {y} | {} |\n", change(x, y)));
    }
    out
}

fn shift(what: &str, s: &Shift) -> String {
    format!("| {what} | {} | {} | {} | {} | {} |\n", s.same, s.earlier, s.later, s.added, s.removed)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

/// The changed targets as CSV: one row per ticket and target, with both outcomes and due
/// times (RFC 3339, empty while paused or when a contract has no such target).
pub fn csv(r: &Report) -> String {
    let mut out =
        String::from("ticket,org,tier,severity,target,baseline_outcome,baseline_due,proposed_outcome,proposed_due\n");
    let cells = |d: &Option<Due>| match d {
        Some(d) => (d.outcome.as_str().to_string(), d.due.map(|t| t.to_string()).unwrap_or_default()),
        None => (String::new(), String::new()),
    };
    for c in &r.whatif.changed {
        let ((bo, bd), (po, pd)) = (cells(&c.baseline), cells(&c.proposed));
        let fields = [&c.key, &c.org, &c.tier, &c.severity, &c.target, &bo, &bd, &po, &pd];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

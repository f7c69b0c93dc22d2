//! A ticket's timeline in people's words: the ticket page shows it, and a post-incident
//! report's automatic timeline is made of it.

use crate::records::TimelineRecord;

/// A contract role's name in words ("oncall" → "on-call engineer").
pub fn role(name: &str) -> String {
    match name {
        "oncall" => "on-call engineer".into(),
        "tam" => "TAM".into(),
        "vp_engineering" => "VP of Engineering".into(),
        "support_lead" => "support lead".into(),
        other => other.replace('_', " "),
    }
}

/// The ids of the people [`describe`] names in `e`: whose names to read for it.
pub fn people(e: &TimelineRecord) -> Vec<String> {
    let seen = std::cell::RefCell::new(Vec::new());
    describe(e, &|id| {
        seen.borrow_mut().push(id.to_string());
        String::new()
    });
    seen.into_inner()
}

/// A timeline entry in words, naming people by `name` (which answers an id with a name, or
/// with whatever the reader may see).
pub fn describe(e: &TimelineRecord, name: &dyn Fn(&str) -> String) -> String {
    let field = |k: &str| e.body.get(k).and_then(|v| v.as_str()).map(String::from);
    let list = |k: &str| -> Vec<String> {
        match e.body.get(k) {
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_str().map(String::from)).collect()
            }
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let actor = e.actor.as_ref().map(|a| name(a.as_str()));
    // " by NAME" when the reader may see who; nothing otherwise.
    let by = field("by").map(|b| name(&b)).or(actor).map(|who| format!(" by {who}")).unwrap_or_default();
    match e.kind.as_str() {
        "ticket.opened" => format!("Opened{by}"),
        "ticket.acknowledged" => format!("Acknowledged{by}"),
        "ticket.replied" if e.body.get("public") == Some(&serde_json::Value::Bool(false)) => {
            format!("Internal note{by}")
        }
        "ticket.replied" => format!("Replied{by}"),
        "ticket.customer_replied" => format!("Customer reply{by}"),
        "ticket.severity_changed" => format!("Severity changed to {}{by}", field("severity").unwrap_or_default()),
        "ticket.waiting_on_customer" => format!("Set to wait on the customer{by}"),
        "ticket.stopped_waiting" => format!("No longer waiting on the customer{by}"),
        "ticket.resolved" => format!("Resolved{by}"),
        "ticket.reopened" => format!("Reopened{by}"),
        "ticket.assigned" => match field("to") {
            Some(to) => format!("Assigned to {}{by}", name(&to)),
            None if e.body.get("to").is_some() => format!("Given back to the queue{by}"),
            None => format!("Assignment changed{by}"),
        },
        "customer.page_requested" => format!("On-call page requested{by}"),
        "page" => {
            let to: Vec<String> = list("to").iter().map(|t| name(t)).collect();
            let role = role(&field("role").unwrap_or_default());
            let via = list("via").join(", ").replace('_', " ");
            let who = if to.is_empty() { format!("the {role}") } else { format!("{} ({role})", to.join(", ")) };
            let reason = field("reason").map(|r| format!(" — {r}")).unwrap_or_default();
            if via.is_empty() { format!("Paged {who}{reason}") } else { format!("Paged {who} via {via}{reason}") }
        }
        "sla.breached" => format!("The {} target was breached", field("target").unwrap_or_default()),
        "sla.met" => format!("The {} target was met", field("target").unwrap_or_default()),
        "sla.withdrawn" => format!(
            "The {} target was withdrawn: the customer resolved the ticket before a response",
            field("target").unwrap_or_default()
        ),
        "customer_page.available" => "The customer may now page on-call".into(),
        "customer_page.refused" => format!("On-call page refused — {}", field("reason").unwrap_or_default()),
        "customer_page.in_flight" => {
            "On-call page asked again while the last one is unanswered: nothing paged again".into()
        }
        "bridge.given" => format!("The customer gave their incident bridge: {}", field("url").unwrap_or_default()),
        "bridge.joined" => format!("Joined the incident bridge as {}{by}", field("role").unwrap_or_default()),
        "queue.notified" => "The support queue was notified".into(),
        "report.due" => "A post-incident report is owed".into(),
        "report.overdue" => "The post-incident report is overdue".into(),
        "bridge.overdue" => {
            let to: Vec<String> = list("to").iter().map(|t| name(t)).collect();
            let told = if to.is_empty() { String::new() } else { format!("; told {}", to.join(", ")) };
            format!("Nobody joined the incident bridge as {} in time{told}", role(&field("role").unwrap_or_default()))
        }
        "report.published" => format!("The post-incident report was published{by}"),
        other => other.replace(['.', '_'], " "),
    }
}

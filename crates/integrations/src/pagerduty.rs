//! PagerDuty's Events API v2, inbound: the event objects monitoring tools and PagerDuty's
//! client libraries send to `POST /v2/enqueue`, checked field by field as PagerDuty checks
//! them, and the answers they expect (`202 {"status":"success","message":"Event
//! processed","dedup_key":…}`, `400 {"status":"invalid event","message":"Event object is
//! invalid","errors":[…]}`). The web front mounts the endpoint; this reads and answers.

use serde_json::{Map, Value, json};
use stringer_core::alert::{AlertAction, AlertLevel};

/// The largest event accepted, in bytes (PagerDuty's limit).
pub const MAX_EVENT_BYTES: usize = 512 * 1024;
/// The longest deduplication key.
pub const MAX_DEDUP_KEY: usize = 255;
/// The longest summary; longer ones are cut, as PagerDuty does.
pub const MAX_SUMMARY: usize = 1024;
/// The length of every routing key (integration key), PagerDuty's and ours.
pub const ROUTING_KEY_LENGTH: usize = 32;

/// An event as checked: everything Stringer keeps of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventV2 {
    /// The integration key it names.
    pub routing_key: String,
    /// Trigger, acknowledge or resolve.
    pub action: AlertAction,
    /// The alert it is about; `None` on a trigger without one (the door makes one up).
    pub dedup_key: Option<String>,
    /// The trigger's summary (cut to [`MAX_SUMMARY`] characters); empty otherwise.
    pub summary: String,
    /// The trigger's source.
    pub source: String,
    /// The trigger's severity.
    pub level: Option<AlertLevel>,
    /// The rest of the payload, links, images and client, as JSON text.
    pub details: String,
}

/// A change event as checked (`POST /v2/change/enqueue`): something changed that is not a
/// problem (a deploy, a configuration change), shown beside the alerts' tickets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeV2 {
    /// The integration key it names.
    pub routing_key: String,
    /// What changed (cut to [`MAX_SUMMARY`] characters).
    pub summary: String,
    /// Where, when the tool says.
    pub source: String,
    /// When it happened, when the tool says.
    pub timestamp: Option<jiff::Timestamp>,
    /// The rest (custom details, links, images), as JSON text.
    pub details: String,
}

/// Why an event is refused, in PagerDuty's words: a body that is no JSON object is an
/// "Unrecognized object"; one whose fields are wrong is an "invalid event" listing them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a JSON object at all.
    Unrecognized(String),
    /// These fields are wrong.
    Invalid(Vec<String>),
}

impl Refusal {
    /// The body of the `400`.
    pub fn body(&self) -> Value {
        match self {
            Refusal::Unrecognized(why) => json!({
                "status": "Unrecognized object", "message": "Event object format is unrecognized", "errors": [why]
            }),
            Refusal::Invalid(errors) => invalid(errors),
        }
    }

    /// The errors listed.
    pub fn errors(&self) -> Vec<String> {
        match self {
            Refusal::Unrecognized(why) => vec![why.clone()],
            Refusal::Invalid(errors) => errors.clone(),
        }
    }
}

/// The body as a JSON object, or the refusal PagerDuty answers.
fn object(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(Refusal::Unrecognized(format!("Event object is larger than {MAX_EVENT_BYTES} bytes")));
    }
    if crate::nul::in_json(body) {
        return Err(Refusal::Invalid(vec![crate::nul::REFUSAL.into()]));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(event)) => Ok(event),
        Ok(_) => Err(Refusal::Unrecognized("Event object must be a JSON object".into())),
        Err(_) => Err(Refusal::Unrecognized("JSON parse error".into())),
    }
}

/// Reads an alert event body; on failure, the refusal PagerDuty would answer.
pub fn read_event(body: &[u8]) -> Result<EventV2, Refusal> {
    let event = object(body)?;
    let mut errors = Vec::new();
    let routing_key = routing_key(&event, &mut errors);
    let action = match text(&event, "event_action", &mut errors) {
        Some(a) => AlertAction::parse(&a).or_else(|| {
            errors.push("'event_action' must be one of trigger, acknowledge or resolve".into());
            None
        }),
        None => None,
    };
    let dedup_key = match event.get("dedup_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) if k.chars().count() > MAX_DEDUP_KEY => {
            errors.push(format!("'dedup_key' must be at most {MAX_DEDUP_KEY} characters"));
            None
        }
        Some(Value::String(k)) if k.trim().is_empty() => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            errors.push("'dedup_key' must be a string".into());
            None
        }
    };
    let (mut summary, mut source, mut level) = (String::new(), String::new(), None);
    match action {
        Some(AlertAction::Trigger) => match event.get("payload") {
            Some(Value::Object(payload)) => {
                summary = text_in(payload, "payload.summary", "summary", &mut errors).unwrap_or_default();
                summary = summary.chars().take(MAX_SUMMARY).collect();
                source = text_in(payload, "payload.source", "source", &mut errors).unwrap_or_default();
                level = text_in(payload, "payload.severity", "severity", &mut errors).and_then(|s| {
                    AlertLevel::parse(&s).or_else(|| {
                        errors.push("'payload.severity' must be one of critical, error, warning or info".into());
                        None
                    })
                });
                if let Some(t) = payload.get("timestamp")
                    && t.as_str().is_none_or(|t| t.parse::<jiff::Timestamp>().is_err())
                {
                    errors.push("'payload.timestamp' must be an ISO 8601 date and time".into());
                }
                if let Some(d) = payload.get("custom_details")
                    && !(d.is_object() || d.is_string() || d.is_null())
                {
                    errors.push("'payload.custom_details' must be an object or a string".into());
                }
            }
            Some(_) => errors.push("'payload' must be an object".into()),
            None => errors.push("'payload' is missing or blank".into()),
        },
        Some(_) if dedup_key.is_none() && !errors.iter().any(|e| e.starts_with("'dedup_key'")) => {
            errors.push("'dedup_key' is missing or blank".into())
        }
        _ => {}
    }
    for list in ["links", "images"] {
        if event.get(list).is_some_and(|l| !(l.is_array() || l.is_null())) {
            errors.push(format!("'{list}' must be an array"));
        }
    }
    match (routing_key, action) {
        (Some(routing_key), Some(action)) if errors.is_empty() => {
            let mut rest = event.clone();
            for k in ["routing_key", "event_action", "dedup_key"] {
                rest.remove(k);
            }
            let details = serde_json::to_string_pretty(&Value::Object(rest)).unwrap_or_default();
            Ok(EventV2 { routing_key, action, dedup_key, summary, source, level, details })
        }
        _ => Err(Refusal::Invalid(errors)),
    }
}

/// Reads a change event body (`payload.summary` required; `source`, `timestamp`,
/// `custom_details`, `links` and `images` optional).
pub fn read_change(body: &[u8]) -> Result<ChangeV2, Refusal> {
    let event = object(body)?;
    let mut errors = Vec::new();
    let routing_key = routing_key(&event, &mut errors);
    let (mut summary, mut source, mut timestamp) = (None, String::new(), None);
    match event.get("payload") {
        Some(Value::Object(payload)) => {
            summary = text_in(payload, "payload.summary", "summary", &mut errors)
                .map(|s| s.chars().take(MAX_SUMMARY).collect::<String>());
            source = payload.get("source").and_then(Value::as_str).unwrap_or_default().chars().take(1024).collect();
            match payload.get("timestamp") {
                None | Some(Value::Null) => {}
                Some(t) => match t.as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
                    Some(t) => timestamp = Some(t),
                    None => errors.push("'payload.timestamp' must be an ISO 8601 date and time".into()),
                },
            }
        }
        Some(_) => errors.push("'payload' must be an object".into()),
        None => errors.push("'payload' is missing or blank".into()),
    }
    match (routing_key, summary) {
        (Some(routing_key), Some(summary)) if errors.is_empty() => {
            let mut rest = event.clone();
            rest.remove("routing_key");
            let details = serde_json::to_string_pretty(&Value::Object(rest)).unwrap_or_default();
            Ok(ChangeV2 { routing_key, summary, source, timestamp, details })
        }
        _ => Err(Refusal::Invalid(errors)),
    }
}

/// The routing key, if it has the shape of one: [`ROUTING_KEY_LENGTH`] letters and digits,
/// each flaw named in PagerDuty's words (a key of the right shape that names no key is the
/// door's to refuse).
fn routing_key(event: &Map<String, Value>, errors: &mut Vec<String>) -> Option<String> {
    let key = text(event, "routing_key", errors)?;
    let before = errors.len();
    if key.chars().count() != ROUTING_KEY_LENGTH {
        errors.push(format!("Length of 'routing_key' is incorrect (should be {ROUTING_KEY_LENGTH} characters)"));
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        errors.push("'routing_key' cannot contain non-alphanumeric characters.".into());
    }
    (errors.len() == before).then_some(key)
}

fn text(obj: &Map<String, Value>, name: &str, errors: &mut Vec<String>) -> Option<String> {
    text_in(obj, name, name, errors)
}

fn text_in(obj: &Map<String, Value>, shown: &str, name: &str, errors: &mut Vec<String>) -> Option<String> {
    match obj.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::String(_)) | Some(Value::Null) | None => {
            errors.push(format!("'{shown}' is missing or blank"));
            None
        }
        Some(_) => {
            errors.push(format!("'{shown}' must be a string"));
            None
        }
    }
}

/// The body of a `202` for an accepted event.
pub fn accepted(dedup_key: &str) -> Value {
    json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key})
}

/// The body of a `400` for an invalid event.
pub fn invalid(errors: &[String]) -> Value {
    json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors})
}

/// The body of a `202` for an accepted change event.
pub fn change_accepted() -> Value {
    json!({"status": "success", "message": "Change event processed"})
}

/// The body of a `429`.
pub fn throttled() -> Value {
    json!({"status": "throttle exceeded", "message": "Requests for this service are arriving too quickly. Please retry later."})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: &str) -> Vec<String> {
        read_event(body.as_bytes()).unwrap_err().errors()
    }

    #[test]
    fn a_trigger_reads_whole() {
        let body = r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","dedup_key":"disk/db1",
            "payload":{"summary":"Disk full on db1","source":"db1","severity":"critical",
            "custom_details":{"free":"0%"}},"links":[{"href":"https://x.example"}]}"#;
        let e = read_event(body.as_bytes()).unwrap();
        assert_eq!(e.action, AlertAction::Trigger);
        assert_eq!(e.dedup_key.as_deref(), Some("disk/db1"));
        assert_eq!(
            (e.summary.as_str(), e.source.as_str(), e.level),
            ("Disk full on db1", "db1", Some(AlertLevel::Critical))
        );
        assert!(e.details.contains("\"free\": \"0%\"") && e.details.contains("links"), "{}", e.details);
        assert!(!e.details.contains("routing_key"));
    }

    #[test]
    fn invalid_events_say_what_is_wrong() {
        let table: &[(&str, &str)] = &[
            ("[]", "Event object must be a JSON object"),
            ("{", "JSON parse error"),
            (
                r#"{"event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info"}}"#,
                "'routing_key' is missing or blank",
            ),
            (
                r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"explode"}"#,
                "'event_action' must be one of trigger, acknowledge or resolve",
            ),
            (
                r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger"}"#,
                "'payload' is missing or blank",
            ),
            (
                r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","payload":{"source":"s","severity":"info"}}"#,
                "'payload.summary' is missing or blank",
            ),
            (
                r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"sev1"}}"#,
                "'payload.severity' must be one of critical, error, warning or info",
            ),
            (
                r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info","timestamp":"yesterday"}}"#,
                "'payload.timestamp' must be an ISO 8601 date and time",
            ),
            (
                r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"resolve"}"#,
                "'dedup_key' is missing or blank",
            ),
            (
                r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"acknowledge","dedup_key":null}"#,
                "'dedup_key' is missing or blank",
            ),
            (
                r#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"acknowledge","dedup_key":7}"#,
                "'dedup_key' must be a string",
            ),
            (r#"{"routing_key":1,"event_action":"resolve","dedup_key":"k"}"#, "'routing_key' must be a string"),
        ];
        for (body, expected) in table {
            assert!(errors(body).iter().any(|e| e == expected), "{body}: {:?}", errors(body));
        }
        let long = format!(
            r#"{{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"resolve","dedup_key":"{}"}}"#,
            "k".repeat(256)
        );
        assert_eq!(errors(&long), ["'dedup_key' must be at most 255 characters"]);
    }

    #[test]
    fn a_routing_key_has_pagerdutys_shape() {
        let with = |key: &str| format!(r#"{{"routing_key":"{key}","event_action":"resolve","dedup_key":"k"}}"#);
        assert_eq!(errors(&with("R")), ["Length of 'routing_key' is incorrect (should be 32 characters)"]);
        assert_eq!(errors(&with(&"k-".repeat(16))), ["'routing_key' cannot contain non-alphanumeric characters."]);
        assert!(read_event(with(&"Kk9".repeat(11)[..32]).as_bytes()).is_ok());
        let change = read_change(br#"{"routing_key":"R","payload":{"summary":"s"}}"#).unwrap_err();
        assert_eq!(change.errors(), ["Length of 'routing_key' is incorrect (should be 32 characters)"]);
    }

    #[test]
    fn timestamps_read_as_pagerduty_documents_them() {
        for t in ["2015-07-17T08:42:58.315+0000", "2026-12-02T03:00:00Z", "2026-12-02T04:00:00+01:00"] {
            let body = format!(
                r#"{{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","payload":{{"summary":"s","source":"s","severity":"info","timestamp":"{t}"}}}}"#
            );
            assert!(read_event(body.as_bytes()).is_ok(), "{t}");
        }
    }

    #[test]
    fn change_events_read_and_refuse() {
        let body = r#"{"routing_key":"0123456789abcdef0123456789abcdef","payload":{"summary":"Deployed v42","source":"ci","timestamp":"2015-07-17T08:42:58.315+0000",
            "custom_details":{"build":"220"}},"links":[{"href":"https://ci.example/220","text":"Build"}]}"#;
        let c = read_change(body.as_bytes()).unwrap();
        assert_eq!((c.summary.as_str(), c.source.as_str()), ("Deployed v42", "ci"));
        assert_eq!(c.timestamp.unwrap().to_string(), "2015-07-17T08:42:58.315Z");
        assert!(c.details.contains("ci.example/220"));
        let refused = read_change(br#"{"routing_key":"0123456789abcdef0123456789abcdef","payload":{}}"#).unwrap_err();
        assert_eq!(refused.errors(), ["'payload.summary' is missing or blank"]);
        assert_eq!(read_change(b"nope").unwrap_err().body()["status"], "Unrecognized object");
    }

    #[test]
    fn a_long_summary_is_cut() {
        let body = format!(
            r#"{{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","payload":{{"summary":"{}","source":"s","severity":"info"}}}}"#,
            "é".repeat(2000)
        );
        assert_eq!(read_event(body.as_bytes()).unwrap().summary.chars().count(), MAX_SUMMARY);
    }
}

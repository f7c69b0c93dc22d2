//! The alert doors' readers under arbitrary input: random bytes, and valid PagerDuty events
//! and Alertmanager notifications damaged (bytes flipped, inserted, deleted, cut short) or
//! with any JSON value in any field, give an answer — never a panic — and what they accept
//! stays within the limits (summary length, deduplication key length).

use proptest::prelude::*;
use serde_json::{Value, json};
use stringer_integrations::alertmanager::read_notification;
use stringer_integrations::pagerduty::{MAX_DEDUP_KEY, MAX_SUMMARY, read_change, read_event};

fn valid() -> [String; 3] {
    [
        json!({"routing_key": "0123456789abcdef0123456789abcdef", "event_action": "trigger", "dedup_key": "d",
               "payload": {"summary": "s", "source": "h", "severity": "critical", "timestamp": "2026-12-02T03:00:00Z",
                           "custom_details": {"a": 1}}, "links": [], "images": []})
        .to_string(),
        json!({"routing_key": "0123456789abcdef0123456789abcdef", "payload": {"summary": "deploy", "source": "ci"}})
            .to_string(),
        json!({"version": "4", "groupKey": "{}:{a=\"b\"}", "status": "firing", "receiver": "r",
               "commonLabels": {"alertname": "A", "severity": "warning"}, "commonAnnotations": {},
               "externalURL": "http://am", "truncatedAlerts": 0,
               "alerts": [{"status": "firing", "labels": {"severity": "page"}, "annotations": {"summary": "x"}}]})
        .to_string(),
    ]
}

fn read_all(bytes: &[u8]) {
    if let Ok(e) = read_event(bytes) {
        assert!(e.summary.chars().count() <= MAX_SUMMARY);
        assert!(e.dedup_key.as_ref().is_none_or(|d| d.chars().count() <= MAX_DEDUP_KEY));
        assert!(!e.routing_key.trim().is_empty());
    }
    if let Ok(c) = read_change(bytes) {
        assert!(c.summary.chars().count() <= MAX_SUMMARY);
    }
    if let Ok(g) = read_notification(bytes) {
        assert!(g.dedup_key.chars().count() <= 255 + "sha256:".len() + 64);
        assert!(g.summary.chars().count() <= 1024);
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        read_all(&bytes);
    }

    #[test]
    fn damaged_valid_bodies(which in 0usize..3, edits in prop::collection::vec((0usize..2000, any::<u8>(), 0u8..4), 1..6)) {
        let mut bytes = valid()[which].clone().into_bytes();
        for (at, byte, how) in edits {
            let at = at % (bytes.len() + 1);
            match how {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                2 if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.truncate(at),
            }
        }
        read_all(&bytes);
    }

    #[test]
    fn any_value_in_any_field(which in 0usize..3, path in prop::collection::vec("[a-zA-Z_]{1,14}", 1..3), value in any_json()) {
        let mut body: Value = serde_json::from_str(&valid()[which]).unwrap();
        let mut at = &mut body;
        for (i, key) in path.iter().enumerate() {
            let Value::Object(map) = at else { break };
            if i + 1 == path.len() {
                map.insert(key.clone(), value.clone());
                break;
            }
            at = map.entry(key.clone()).or_insert_with(|| json!({}));
        }
        read_all(body.to_string().as_bytes());
        // The known fields, each replaced by anything.
        for field in ["routing_key", "event_action", "dedup_key", "payload", "version", "groupKey", "status", "alerts", "commonLabels"] {
            let mut b: Value = serde_json::from_str(&valid()[which]).unwrap();
            b[field] = value.clone();
            read_all(b.to_string().as_bytes());
        }
    }
}

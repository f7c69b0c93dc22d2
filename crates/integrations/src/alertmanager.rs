//! Prometheus Alertmanager's webhook, inbound: the group notifications (payload version 4)
//! a `webhook_configs` receiver posts. One notification speaks for one alert group
//! (`groupKey`): `firing` triggers (or repeats) its alert, `resolved` resolves it. The web
//! front mounts the endpoint; this reads a notification into the signal it stands for.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use stringer_core::alert::{AlertAction, AlertLevel};

/// The largest notification accepted, in bytes.
pub const MAX_NOTIFICATION_BYTES: usize = 1024 * 1024;
/// Group keys longer than this are stood for by their SHA-256.
const MAX_GROUP_KEY: usize = 255;

/// One alert of a group.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertItem {
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// Where the rule lives.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
}

/// A group notification (webhook payload version 4).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// `"4"`.
    pub version: String,
    /// The group's identity: the same for every notification of the group.
    pub group_key: String,
    /// `firing` while any alert of the group fires, else `resolved`.
    pub status: String,
    /// The receiver's name.
    #[serde(default)]
    pub receiver: String,
    /// Labels every alert of the group shares.
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    /// Annotations every alert of the group shares.
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    /// The Alertmanager's own address.
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// The alerts.
    #[serde(default)]
    pub alerts: Vec<AlertItem>,
    /// Alerts left out because of `max_alerts`.
    #[serde(default)]
    pub truncated_alerts: u64,
}

/// What a notification stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSignal {
    /// Trigger (firing) or resolve (resolved).
    pub action: AlertAction,
    /// The group key (or its SHA-256, when longer than 255 characters).
    pub dedup_key: String,
    /// One line: the shared `summary` annotation, else `[FIRING:n] alertname …`.
    pub summary: String,
    /// The Alertmanager's address, or the shared `instance`/`job` label.
    pub source: String,
    /// The worst `severity` label among the firing alerts (warning when none says).
    pub level: AlertLevel,
    /// The alerts, firing first, as text for the ticket.
    pub details: String,
}

/// Reads a notification body.
pub fn read_notification(body: &[u8]) -> Result<GroupSignal, String> {
    if body.len() > MAX_NOTIFICATION_BYTES {
        return Err(format!("the notification is larger than {MAX_NOTIFICATION_BYTES} bytes"));
    }
    if crate::nul::in_json(body) {
        return Err(crate::nul::REFUSAL.into());
    }
    let n: Notification =
        serde_json::from_slice(body).map_err(|e| format!("not an Alertmanager webhook notification: {e}"))?;
    if n.version != "4" {
        return Err(format!("payload version {:?} is not supported (version 4 is)", n.version));
    }
    if n.group_key.trim().is_empty() {
        return Err("groupKey is empty".into());
    }
    let action = match n.status.as_str() {
        "firing" => AlertAction::Trigger,
        "resolved" => AlertAction::Resolve,
        other => return Err(format!("status {other:?} is neither firing nor resolved")),
    };
    let dedup_key = if n.group_key.chars().count() > MAX_GROUP_KEY {
        format!("sha256:{}", hex::encode(Sha256::digest(n.group_key.as_bytes())))
    } else {
        n.group_key.clone()
    };
    let firing: Vec<&AlertItem> = n.alerts.iter().filter(|a| a.status == "firing").collect();
    let level = firing
        .iter()
        .filter_map(|a| a.labels.get("severity").and_then(|s| AlertLevel::from_label(s)))
        .chain(n.common_labels.get("severity").and_then(|s| AlertLevel::from_label(s)))
        .min_by_key(|l| AlertLevel::ALL.iter().position(|x| x == l))
        .unwrap_or(AlertLevel::Warning);
    let name = n.common_labels.get("alertname").cloned().unwrap_or_else(|| "alert".into());
    let summary = n
        .common_annotations
        .get("summary")
        .or_else(|| n.common_annotations.get("description"))
        .cloned()
        .unwrap_or_else(|| {
            let others: Vec<String> =
                n.common_labels.iter().filter(|(k, _)| *k != "alertname").map(|(k, v)| format!("{k}={v}")).collect();
            format!("[{}:{}] {name} ({})", n.status.to_uppercase(), firing.len(), others.join(" "))
        });
    let source = n
        .common_labels
        .get("instance")
        .or_else(|| n.common_labels.get("job"))
        .cloned()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| if n.external_url.is_empty() { n.receiver.clone() } else { n.external_url.clone() });
    let mut details = format!("Alertmanager group {} (receiver {})\n", n.group_key, n.receiver);
    let mut listed: Vec<&AlertItem> = firing.clone();
    listed.extend(n.alerts.iter().filter(|a| a.status != "firing"));
    for a in listed {
        let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        details.push_str(&format!("\n- {} {}", a.status, labels.join(" ")));
        if let Some(s) = a.annotations.get("summary").or_else(|| a.annotations.get("description")) {
            details.push_str(&format!(": {s}"));
        }
        if let Some(at) = &a.starts_at {
            details.push_str(&format!(" (since {at})"));
        }
        if let Some(url) = a.generator_url.as_ref().filter(|u| !u.is_empty()) {
            details.push_str(&format!(" <{url}>"));
        }
    }
    if n.truncated_alerts > 0 {
        details.push_str(&format!("\n… and {} more", n.truncated_alerts));
    }
    Ok(GroupSignal { action, dedup_key, summary: summary.chars().take(1024).collect(), source, level, details })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRING: &str = r#"{"version":"4","groupKey":"{}:{alertname=\"DiskFull\"}","status":"firing",
      "receiver":"stringer","groupLabels":{"alertname":"DiskFull"},
      "commonLabels":{"alertname":"DiskFull","job":"node"},"commonAnnotations":{},
      "externalURL":"http://am.example:9093","truncatedAlerts":0,
      "alerts":[
        {"status":"firing","labels":{"alertname":"DiskFull","instance":"db1","severity":"warning"},
         "annotations":{"summary":"db1 disk 97%"},"startsAt":"2026-12-02T03:00:00Z","generatorURL":"http://prom/g"},
        {"status":"firing","labels":{"alertname":"DiskFull","instance":"db2","severity":"critical"},
         "annotations":{},"startsAt":"2026-12-02T03:01:00Z"},
        {"status":"resolved","labels":{"alertname":"DiskFull","instance":"db3","severity":"critical"},"annotations":{}}]}"#;

    #[test]
    fn a_firing_group_triggers_at_its_worst_firing_severity() {
        let s = read_notification(FIRING.as_bytes()).unwrap();
        assert_eq!(s.action, AlertAction::Trigger);
        assert_eq!(s.dedup_key, "{}:{alertname=\"DiskFull\"}");
        assert_eq!(s.level, AlertLevel::Critical);
        assert_eq!(s.summary, "[FIRING:2] DiskFull (job=node)");
        assert_eq!(s.source, "node");
        let firing_first = s.details.find("firing").unwrap() < s.details.find("resolved alertname").unwrap();
        assert!(firing_first && s.details.contains("db1 disk 97%"), "{}", s.details);
    }

    #[test]
    fn a_resolved_group_resolves_and_long_keys_are_hashed() {
        let body = FIRING
            .replace("\"status\":\"firing\",\n      \"receiver\"", "\"status\":\"resolved\",\n      \"receiver\"");
        assert_eq!(read_notification(body.as_bytes()).unwrap().action, AlertAction::Resolve);
        let long = FIRING.replace("{}:{alertname=\\\"DiskFull\\\"}", &"k".repeat(300));
        assert!(read_notification(long.as_bytes()).unwrap().dedup_key.starts_with("sha256:"));
    }

    #[test]
    fn other_payloads_are_refused_with_the_reason() {
        for (body, says) in [
            ("{}", "not an Alertmanager webhook notification"),
            (r#"{"version":"3","groupKey":"g","status":"firing"}"#, "version \"3\" is not supported"),
            (r#"{"version":"4","groupKey":" ","status":"firing"}"#, "groupKey is empty"),
            (r#"{"version":"4","groupKey":"g","status":"sleeping"}"#, "neither firing nor resolved"),
        ] {
            let e = read_notification(body.as_bytes()).unwrap_err();
            assert!(e.contains(says), "{body}: {e}");
        }
    }
}

//! Whether a person who could be paged can be reached: at least one contact method that has
//! not failed on its last delivery (a method never used yet counts as working).

use crate::records::{ContactMethodRecord, MethodOutcome, UserRecord};

/// Someone who could be paged but cannot be reached, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    /// The person.
    pub user: UserRecord,
    /// Why, in people's words.
    pub why: String,
}

/// `None` when `user` can be reached through one of `methods` (each with its last finished
/// delivery); else why not: no method at all, or every one failed last time.
pub fn reach(user: &UserRecord, methods: &[(&ContactMethodRecord, Option<&MethodOutcome>)]) -> Option<Reach> {
    if methods.is_empty() {
        return Some(Reach { user: user.clone(), why: "has no contact method".into() });
    }
    if methods.iter().any(|(_, last)| last.is_none_or(|o| o.sent)) {
        return None;
    }
    let reasons: Vec<String> = methods
        .iter()
        .map(|(m, last)| {
            let error = last.and_then(|o| o.error.clone()).unwrap_or_else(|| "failed".into());
            format!("{} {}: {error}", m.kind.as_str(), m.address)
        })
        .collect();
    Some(Reach { user: user.clone(), why: format!("every contact method failed last time ({})", reasons.join("; ")) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::MethodKind;
    use stringer_core::ids::{UserId, UserRole};

    fn user() -> UserRecord {
        UserRecord {
            id: UserId::from("usr_1"),
            email: "nico@vendor.example".into(),
            name: "Nico".into(),
            role: UserRole::Engineer,
            org: None,
            federal_cleared: false,
            password_hash: None,
            created_at: 0,
            time_zone: None,
            deactivated_at: None,
        }
    }

    fn method(id: &str) -> ContactMethodRecord {
        ContactMethodRecord {
            id: id.into(),
            user_id: UserId::from("usr_1"),
            kind: MethodKind::Webhook,
            address: format!("https://{id}.example"),
            secret: String::new(),
            created_at: 0,
        }
    }

    fn outcome(id: &str, sent: bool) -> MethodOutcome {
        MethodOutcome {
            method_id: id.into(),
            sent,
            at: 1,
            retrying: false,
            error: (!sent).then(|| "connection refused".into()),
        }
    }

    #[test]
    fn no_method_is_unreachable() {
        assert_eq!(reach(&user(), &[]).unwrap().why, "has no contact method");
    }

    #[test]
    fn every_method_failing_is_unreachable_with_the_reasons() {
        let (a, b) = (method("a"), method("b"));
        let (fa, fb) = (outcome("a", false), outcome("b", false));
        let why = reach(&user(), &[(&a, Some(&fa)), (&b, Some(&fb))]).unwrap().why;
        assert!(why.starts_with("every contact method failed last time"), "{why}");
        assert!(why.contains("webhook https://a.example: connection refused"), "{why}");
    }

    #[test]
    fn one_working_or_unused_method_is_enough() {
        let (a, b) = (method("a"), method("b"));
        let (fa, sb) = (outcome("a", false), outcome("b", true));
        assert_eq!(reach(&user(), &[(&a, Some(&fa)), (&b, Some(&sb))]), None);
        assert_eq!(reach(&user(), &[(&a, Some(&fa)), (&b, None)]), None);
    }
}

//! Where two contracts differ for the tickets of one tier: a ticket's rules read its own
//! tier's entries (its tier's definition, its escalation policy, its security rule, and its
//! targets' cells for the severities it has had) and the contract-wide terms (calendars,
//! severities, the security severity and bridge, the post-incident report), never another
//! tier's, and never a target's cell for a severity the ticket never had. A what-if replays
//! a ticket once, not twice, when a proposal leaves every term it reads as it was.

use super::Contract;
use crate::ids::{Severity, Tier};
use serde_json::Value;
use std::collections::BTreeSet;

impl Contract {
    /// The severities whose target cells for `tier` differ in `other` (empty: every term the
    /// tier's tickets read is the same), when all the rest of both contracts but their names,
    /// their versions and other tiers' entries is the same, compared as written; `None` when
    /// it is not (or either lacks `tier`). A ticket of `tier` that never had one of the
    /// severities named runs the same under both. Anything the comparison cannot take apart
    /// counts as different.
    pub fn severities_changed_for(&self, other: &Contract, tier: &Tier) -> Option<BTreeSet<Severity>> {
        if self.terms_for(tier)? != other.terms_for(tier)? {
            return None;
        }
        let cell = |contract: &Contract, target: &str, severity: &Severity| {
            contract.targets.get(target)?.tiers.get(tier)?.get(severity).cloned()
        };
        let changed = self
            .severities
            .keys()
            .filter(|severity| {
                self.targets.keys().any(|target| cell(self, target, severity) != cell(other, target, severity))
            })
            .cloned()
            .collect();
        Some(changed)
    }

    /// The contract as JSON without its name, version, other tiers' entries and the cells of
    /// its targets (their measures kept); `None` when it lacks `tier`.
    fn terms_for(&self, tier: &Tier) -> Option<Value> {
        if !self.tiers.contains_key(tier) {
            return None;
        }
        let mut terms = serde_json::to_value(self).ok()?;
        let contract = terms.as_object_mut()?;
        contract.remove("name");
        contract.remove("version");
        let only_tier = |map: Option<&mut Value>| -> Option<()> {
            map?.as_object_mut()?.retain(|name, _| name == tier.as_str());
            Some(())
        };
        only_tier(contract.get_mut("tiers"))?;
        only_tier(contract.get_mut("escalation"))?;
        only_tier(contract.get_mut("security")?.get_mut("tiers"))?;
        for target in contract.get_mut("targets")?.as_object_mut()?.values_mut() {
            target.as_object_mut()?.remove("tiers")?;
        }
        Some(terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("default.toml");

    /// The built-in contract with `from` replaced by `to` (which must be there).
    fn edited(from: &str, to: &str) -> Contract {
        assert!(DEFAULT.contains(from), "{from}");
        Contract::from_toml(&DEFAULT.replacen(from, to, 1), "edited").unwrap()
    }

    /// The severities whose cells a change touches for a tier, `None` when it touches more.
    type Changed = Option<&'static [&'static str]>;

    #[test]
    fn a_change_names_the_tiers_and_severities_whose_terms_it_touches() {
        let base = Contract::default_contract();
        let (pro, enterprise, gold) = (Tier::from("pro"), Tier::from("enterprise"), Tier::from("gold"));
        let none: Changed = None;
        let cases: [(&str, Contract, Changed, Changed); 7] = [
            ("the same file", base.clone(), Some(&[]), Some(&[])),
            (
                "Pro P2 halved",
                edited(
                    r#"P2 = { within = "8 business hours", calendar = "pro_coverage" }"#,
                    r#"P2 = { within = "4 business hours", calendar = "pro_coverage" }"#,
                ),
                Some(&["P2"]),
                Some(&[]),
            ),
            (
                "Enterprise P3 and P4 in clock time",
                edited(
                    r#"P3 = { within = "8 business hours", calendar = "enterprise_coverage" }
P4 = { within = "1 business day", calendar = "enterprise_coverage" }"#,
                    r#"P3 = { within = "8 hours" }
P4 = { within = "24 hours" }"#,
                ),
                Some(&[]),
                Some(&["P3", "P4"]),
            ),
            (
                "the TAM paged at 10 minutes",
                edited(r#"{ notify = "tam", after = "15 minutes""#, r#"{ notify = "tam", after = "10 minutes""#),
                Some(&[]),
                none,
            ),
            (
                "another name and version",
                edited(r#"version = "2026-11""#, r#"version = "2027-01""#),
                Some(&[]),
                Some(&[]),
            ),
            (
                "a calendar both may use",
                edited(r#"name = "business hours, Mon–Fri UTC""#, r#"name = "office hours""#),
                none,
                none,
            ),
            (
                "a target's clock paused while waiting",
                edited("pause_while_waiting = false", "pause_while_waiting = true"),
                none,
                none,
            ),
        ];
        let named =
            |names: Option<&[&str]>| names.map(|n| n.iter().map(|s| Severity::from(*s)).collect::<BTreeSet<_>>());
        for (what, proposed, pro_changed, enterprise_changed) in cases {
            assert_eq!(base.severities_changed_for(&proposed, &pro), named(pro_changed), "{what}: pro");
            assert_eq!(
                base.severities_changed_for(&proposed, &enterprise),
                named(enterprise_changed),
                "{what}: enterprise"
            );
            assert_eq!(
                base.severities_changed_for(&proposed, &gold),
                None,
                "{what}: a tier neither has is never the same"
            );
        }
    }
}

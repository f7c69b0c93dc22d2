//! Whether two contracts hold the same terms for the tickets of one tier: a ticket's rules
//! read its own tier's entries (its tier's definition, its targets' cells, its escalation
//! policy, its security rule) and the contract-wide terms (calendars, severities, the
//! security severity and bridge, the post-incident report), never another tier's. A what-if
//! replays a tier whose terms a proposal leaves as they were once, not twice.

use super::Contract;
use crate::ids::Tier;
use serde_json::Value;

impl Contract {
    /// Whether `other` holds the very terms this contract holds for tickets of `tier`: all
    /// of both contracts but their names, their versions and other tiers' entries, compared
    /// as written. Anything the comparison cannot take apart counts as different.
    pub fn same_terms_for(&self, other: &Contract, tier: &Tier) -> bool {
        match (self.terms_for(tier), other.terms_for(tier)) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => false,
        }
    }

    /// The contract as JSON without its name, version and other tiers' entries; `None`
    /// when it lacks `tier`.
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
            only_tier(target.get_mut("tiers"))?;
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

    #[test]
    fn a_change_to_one_tier_leaves_the_others_terms_the_same() {
        let base = Contract::default_contract();
        let (pro, enterprise, gold) = (Tier::from("pro"), Tier::from("enterprise"), Tier::from("gold"));
        let cases: [(&str, Contract, bool, bool); 5] = [
            ("the same file", base.clone(), true, true),
            (
                "Pro P2 halved",
                edited(
                    r#"P2 = { within = "8 business hours", calendar = "pro_coverage" }"#,
                    r#"P2 = { within = "4 business hours", calendar = "pro_coverage" }"#,
                ),
                false,
                true,
            ),
            (
                "the TAM paged at 10 minutes",
                edited(r#"{ notify = "tam", after = "15 minutes""#, r#"{ notify = "tam", after = "10 minutes""#),
                true,
                false,
            ),
            ("another name and version", edited(r#"version = "2026-11""#, r#"version = "2027-01""#), true, true),
            (
                "a calendar both may use",
                edited(r#"name = "business hours, Mon–Fri UTC""#, r#"name = "office hours""#),
                false,
                false,
            ),
        ];
        for (what, proposed, same_pro, same_enterprise) in cases {
            assert_eq!(base.same_terms_for(&proposed, &pro), same_pro, "{what}: pro");
            assert_eq!(base.same_terms_for(&proposed, &enterprise), same_enterprise, "{what}: enterprise");
            assert!(!base.same_terms_for(&proposed, &gold), "{what}: a tier neither has is never the same");
        }
    }
}

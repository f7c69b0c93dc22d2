//! What mail authentication proves about who sent a message, and what that allows. A `From:`
//! header proves nothing by itself: a message speaks for its From address only when SPF,
//! DKIM and DMARC (checked by this server at its SMTP door, or by a receiving mail server we
//! were told to trust) tie it to the From domain. Pure: the mail adapter does the DNS work
//! and fills in a [`MailAuth`]; [`MailAuth::verdict`] decides.

use serde::{Deserialize, Serialize};

/// The result of one check, as RFC 8601 names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The check passed.
    Pass,
    /// The check failed.
    Fail,
    /// SPF: the domain says the host is probably not allowed.
    SoftFail,
    /// The domain says nothing either way.
    Neutral,
    /// Nothing to check (no record, no signature).
    #[default]
    None,
    /// A temporary failure (DNS did not answer).
    TempError,
    /// A permanent error (a broken record or signature).
    PermError,
}

impl Outcome {
    /// The RFC 8601 word.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::SoftFail => "softfail",
            Outcome::Neutral => "neutral",
            Outcome::None => "none",
            Outcome::TempError => "temperror",
            Outcome::PermError => "permerror",
        }
    }

    /// The outcome of that word (`hardfail` is `fail`); unknown words are `None`.
    pub fn parse(word: &str) -> Outcome {
        match word.to_ascii_lowercase().as_str() {
            "pass" => Outcome::Pass,
            "fail" | "hardfail" => Outcome::Fail,
            "softfail" => Outcome::SoftFail,
            "neutral" => Outcome::Neutral,
            "temperror" => Outcome::TempError,
            "permerror" => Outcome::PermError,
            _ => Outcome::None,
        }
    }
}

/// What a domain's DMARC record asks receivers to do with mail that fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmarcPolicy {
    /// No record, or `p=none`: report only.
    #[default]
    None,
    /// `p=quarantine`.
    Quarantine,
    /// `p=reject`.
    Reject,
}

/// Who checked the message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Checker {
    /// Nobody: the door could not check and no trusted server had.
    #[default]
    Nobody,
    /// This server, at its SMTP door, for a client connecting from `peer`.
    Here {
        /// The client's IP address.
        peer: String,
    },
    /// The receiving mail server whose `Authentication-Results` carry `authserv_id`, which
    /// the configuration trusts.
    Relay {
        /// The server's authserv-id.
        authserv_id: String,
    },
    /// Mail from the loopback address, trusted as its From says only because the server was
    /// told to (`--demo`, or `--mail-trust-loopback` in tests): never in production.
    Loopback,
}

/// One DKIM signature's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Its signing domain (`d=`), lower case.
    pub domain: String,
    /// Whether it verified.
    pub outcome: Outcome,
}

/// What mail authentication found for a message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAuth {
    /// Who checked.
    pub checker: Checker,
    /// SPF for the envelope sender (or the HELO name for a bounce).
    pub spf: Outcome,
    /// The domain SPF was checked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spf_domain: Option<String>,
    /// Every DKIM signature.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dkim: Vec<Signature>,
    /// DMARC for the From domain.
    pub dmarc: Outcome,
    /// What the From domain's DMARC record asks for.
    #[serde(default)]
    pub dmarc_policy: DmarcPolicy,
    /// The ARC chain, when the message carries one.
    #[serde(default)]
    pub arc: Outcome,
    /// The domain of the newest ARC seal (the last forwarder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arc_sealer: Option<String>,
    /// DMARC as the first forwarder in the ARC chain recorded it (`ARC-Authentication-Results`
    /// of instance 1).
    #[serde(default)]
    pub arc_first_dmarc: Outcome,
}

/// What the checks prove about a message's From address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The From address is proven: the message may act as its owner.
    Authenticated(String),
    /// Not proven either way: it may be kept and shown, never act as the From address.
    Unverified(String),
    /// The From domain says such mail is forged (DMARC fails under `p=reject` or
    /// `p=quarantine`, and no trusted forwarder vouches for it).
    Forged(String),
}

impl MailAuth {
    /// Mail from the loopback address under `--demo`.
    pub fn loopback() -> MailAuth {
        MailAuth { checker: Checker::Loopback, ..MailAuth::default() }
    }

    /// What the checks prove about `from` (the From address), trusting ARC chains sealed
    /// by `arc_sealers` (forwarders such as a mailing list or a customer's gateway whose
    /// record of the first hop we believe).
    ///
    /// In order: the loopback under `--demo` proves anything; a DMARC pass proves the From
    /// domain; a domain without a DMARC record is proven by a DKIM signature or an SPF pass
    /// of its own (the same domain, or one a subdomain of the other); a trusted forwarder's
    /// ARC chain that passes, and says DMARC passed at its first hop, proves it too. A DMARC
    /// failure under `p=reject` or `p=quarantine` is forged; anything else is unverified.
    pub fn verdict(&self, from: &str, arc_sealers: &[String]) -> Verdict {
        let Some(domain) = from.rsplit_once('@').map(|(_, d)| d.trim().to_ascii_lowercase()) else {
            return Verdict::Unverified("the message names no sender address".into());
        };
        match &self.checker {
            Checker::Loopback => {
                return Verdict::Authenticated("sent from the loopback address, trusted under --demo".into());
            }
            Checker::Nobody => {
                return Verdict::Unverified("nobody checked who sent it (no trusted Authentication-Results)".into());
            }
            Checker::Here { .. } | Checker::Relay { .. } => {}
        }
        if self.dmarc == Outcome::Pass {
            return Verdict::Authenticated(format!("DMARC passed for {domain}"));
        }
        let forwarded = self.arc == Outcome::Pass
            && self.arc_first_dmarc == Outcome::Pass
            && self.arc_sealer.as_deref().is_some_and(|s| arc_sealers.iter().any(|t| t.eq_ignore_ascii_case(s)));
        if forwarded {
            let sealer = self.arc_sealer.as_deref().unwrap_or_default();
            return Verdict::Authenticated(format!(
                "forwarded by {sealer}, whose ARC chain says DMARC passed for {domain} where it was first received"
            ));
        }
        if self.dmarc == Outcome::Fail {
            return match self.dmarc_policy {
                DmarcPolicy::Reject | DmarcPolicy::Quarantine => Verdict::Forged(format!(
                    "DMARC failed for {domain}, whose policy is {}",
                    if self.dmarc_policy == DmarcPolicy::Reject { "reject" } else { "quarantine" }
                )),
                DmarcPolicy::None => Verdict::Unverified(format!("DMARC failed for {domain} (policy none)")),
            };
        }
        if self.dmarc == Outcome::None {
            if let Some(s) = self.dkim.iter().find(|s| s.outcome == Outcome::Pass && aligned(&s.domain, &domain)) {
                return Verdict::Authenticated(format!("signed by {} (DKIM); {domain} has no DMARC record", s.domain));
            }
            if self.spf == Outcome::Pass && self.spf_domain.as_deref().is_some_and(|d| aligned(d, &domain)) {
                return Verdict::Authenticated(format!("SPF passed for {domain}, which has no DMARC record"));
            }
        }
        Verdict::Unverified(format!("nothing ties it to {domain}: {}", self.summary()))
    }

    /// The results in one line, as an `Authentication-Results` header lists them.
    pub fn summary(&self) -> String {
        match &self.checker {
            Checker::Loopback => return "unchecked: from the loopback address, trusted under --demo".into(),
            Checker::Nobody => return "unchecked: no trusted Authentication-Results".into(),
            Checker::Here { .. } | Checker::Relay { .. } => {}
        }
        let mut parts = vec![format!("spf={}", self.spf.as_str())];
        if self.dkim.is_empty() {
            parts.push("dkim=none".into());
        }
        for s in &self.dkim {
            parts.push(format!("dkim={} (d={})", s.outcome.as_str(), s.domain));
        }
        parts.push(format!("dmarc={}", self.dmarc.as_str()));
        if self.arc != Outcome::None {
            parts.push(format!("arc={}", self.arc.as_str()));
        }
        parts.join(" ")
    }
}

/// Relaxed alignment without a public-suffix list: the same domain, or one a subdomain of
/// the other.
fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

/// The results of the first (topmost) `Authentication-Results` header, among `headers` in
/// the order the message carries them, whose authserv-id is one of `trusted`: what the
/// receiving mail server found (RFC 8601). A trusted server removes such headers that
/// arrive from outside, so the topmost one with its id is its own. `None` when no header
/// has a trusted id.
pub fn relay_results(headers: &[&str], trusted: &[String]) -> Option<MailAuth> {
    headers.iter().find_map(|h| {
        let text = without_comments(h);
        let mut parts = text.split(';');
        let id = parts.next()?.split_whitespace().next()?.to_ascii_lowercase();
        if !trusted.iter().any(|t| t.eq_ignore_ascii_case(&id)) {
            return None;
        }
        let mut auth = MailAuth { checker: Checker::Relay { authserv_id: id }, ..MailAuth::default() };
        for resinfo in parts {
            let mut words = resinfo.split_whitespace();
            let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else { continue };
            let method = method.split('/').next().unwrap_or_default().to_ascii_lowercase();
            let props: Vec<(String, String)> = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_ascii_lowercase()))
                .collect();
            let prop = |name: &str| props.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            let outcome = Outcome::parse(result);
            match method.as_str() {
                "spf" => {
                    auth.spf = outcome;
                    auth.spf_domain = prop("smtp.mailfrom")
                        .map(|m| m.rsplit('@').next().unwrap_or_default().to_string())
                        .or_else(|| prop("smtp.helo"));
                }
                "dkim" => {
                    let domain = prop("header.d")
                        .or_else(|| prop("header.i").map(|i| i.rsplit('@').next().unwrap_or_default().to_string()));
                    if let Some(domain) = domain {
                        auth.dkim.push(Signature { domain, outcome });
                    }
                }
                "dmarc" => {
                    auth.dmarc = outcome;
                    auth.dmarc_policy = match prop("policy.dmarc").as_deref() {
                        Some("reject") => DmarcPolicy::Reject,
                        Some("quarantine") => DmarcPolicy::Quarantine,
                        _ => DmarcPolicy::None,
                    };
                }
                "arc" => auth.arc = outcome,
                _ => {}
            }
        }
        Some(auth)
    })
}

/// The header value without its RFC 5322 comments (parenthesised, nesting, escapes).
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let (mut depth, mut escaped, mut quoted) = (0usize, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> MailAuth {
        MailAuth { checker: Checker::Here { peer: "192.0.2.1".into() }, ..MailAuth::default() }
    }

    fn pass(domain: &str) -> Signature {
        Signature { domain: domain.into(), outcome: Outcome::Pass }
    }

    fn proven(v: &Verdict) -> &'static str {
        match v {
            Verdict::Authenticated(_) => "authenticated",
            Verdict::Unverified(_) => "unverified",
            Verdict::Forged(_) => "forged",
        }
    }

    #[test]
    fn verdicts_read_like_the_rules() {
        let sealers = vec!["lists.example".to_string()];
        let cases: Vec<(&str, MailAuth, &str, &str)> = vec![
            ("dmarc pass", MailAuth { dmarc: Outcome::Pass, ..here() }, "a@acme.example", "authenticated"),
            (
                "dmarc fail, p=reject",
                MailAuth { dmarc: Outcome::Fail, dmarc_policy: DmarcPolicy::Reject, ..here() },
                "a@acme.example",
                "forged",
            ),
            (
                "dmarc fail, p=quarantine",
                MailAuth { dmarc: Outcome::Fail, dmarc_policy: DmarcPolicy::Quarantine, ..here() },
                "a@acme.example",
                "forged",
            ),
            ("dmarc fail, p=none", MailAuth { dmarc: Outcome::Fail, ..here() }, "a@acme.example", "unverified"),
            (
                "no dmarc record, own dkim",
                MailAuth { dkim: vec![pass("acme.example")], ..here() },
                "a@acme.example",
                "authenticated",
            ),
            (
                "no dmarc record, dkim of a parent domain",
                MailAuth { dkim: vec![pass("acme.example")], ..here() },
                "a@eu.acme.example",
                "authenticated",
            ),
            (
                "no dmarc record, someone else's dkim",
                MailAuth { dkim: vec![pass("mailer.example")], ..here() },
                "a@acme.example",
                "unverified",
            ),
            (
                "no dmarc record, spf pass of the domain",
                MailAuth { spf: Outcome::Pass, spf_domain: Some("acme.example".into()), ..here() },
                "a@acme.example",
                "authenticated",
            ),
            (
                "spf softfail",
                MailAuth { spf: Outcome::SoftFail, spf_domain: Some("acme.example".into()), ..here() },
                "a@acme.example",
                "unverified",
            ),
            (
                "spf pass of another domain",
                MailAuth { spf: Outcome::Pass, spf_domain: Some("evil.example".into()), ..here() },
                "a@acme.example",
                "unverified",
            ),
            (
                "dmarc temperror",
                MailAuth { dmarc: Outcome::TempError, dkim: vec![pass("acme.example")], ..here() },
                "a@acme.example",
                "unverified",
            ),
            (
                "forwarded through a trusted sealer",
                MailAuth {
                    dmarc: Outcome::Fail,
                    dmarc_policy: DmarcPolicy::Reject,
                    arc: Outcome::Pass,
                    arc_sealer: Some("lists.example".into()),
                    arc_first_dmarc: Outcome::Pass,
                    ..here()
                },
                "a@acme.example",
                "authenticated",
            ),
            (
                "forwarded through an unknown sealer",
                MailAuth {
                    dmarc: Outcome::Fail,
                    dmarc_policy: DmarcPolicy::Reject,
                    arc: Outcome::Pass,
                    arc_sealer: Some("other.example".into()),
                    arc_first_dmarc: Outcome::Pass,
                    ..here()
                },
                "a@acme.example",
                "forged",
            ),
            (
                "nobody checked",
                MailAuth { dmarc: Outcome::Pass, ..MailAuth::default() },
                "a@acme.example",
                "unverified",
            ),
            ("loopback under --demo", MailAuth::loopback(), "a@acme.example", "authenticated"),
            ("no address", MailAuth { dmarc: Outcome::Pass, ..here() }, "nobody", "unverified"),
        ];
        for (name, auth, from, expected) in cases {
            assert_eq!(proven(&auth.verdict(from, &sealers)), expected, "{name}");
        }
    }

    #[test]
    fn the_topmost_trusted_authentication_results_count() {
        let trusted = vec!["mx.vendor.example".to_string()];
        let headers = [
            "mx.vendor.example 1; spf=pass (sender ok) smtp.mailfrom=a@acme.example; \
             dkim=pass header.d=acme.example header.s=s1; dmarc=pass (p=reject) policy.dmarc=reject header.from=acme.example",
            "mx.vendor.example; dmarc=fail header.from=acme.example",
        ];
        let auth = relay_results(&headers, &trusted).unwrap();
        assert_eq!(auth.checker, Checker::Relay { authserv_id: "mx.vendor.example".into() });
        assert_eq!(auth.spf, Outcome::Pass);
        assert_eq!(auth.spf_domain.as_deref(), Some("acme.example"));
        assert_eq!(auth.dkim, vec![pass("acme.example")]);
        assert_eq!((auth.dmarc, auth.dmarc_policy), (Outcome::Pass, DmarcPolicy::Reject));
        assert!(matches!(auth.verdict("a@acme.example", &[]), Verdict::Authenticated(_)));

        let forged_id = ["evil.example; dmarc=pass header.from=acme.example"];
        assert_eq!(relay_results(&forged_id, &trusted), None, "another server's results are not ours to believe");
        assert_eq!(relay_results(&headers, &[]), None, "nothing is trusted unless configured");
        let commented =
            ["(a comment; dmarc=pass) mx.vendor.example; dmarc=fail (p=quarantine (nested)) policy.dmarc=quarantine"];
        let auth = relay_results(&commented, &trusted).unwrap();
        assert_eq!((auth.dmarc, auth.dmarc_policy), (Outcome::Fail, DmarcPolicy::Quarantine));
    }

    proptest::proptest! {
        #[test]
        fn any_header_text_is_read_without_panicking(text in "\\PC{0,300}") {
            let trusted = vec!["mx".to_string()];
            let _ = relay_results(&[text.as_str()], &trusted);
            let _ = relay_results(&[format!("mx; {text}").as_str()], &trusted);
        }
    }
}

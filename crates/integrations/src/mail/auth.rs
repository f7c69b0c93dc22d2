//! Mail authentication with the Stalwart project's `mail-auth`: SPF for the SMTP client and
//! envelope sender, every DKIM signature, the ARC chain and DMARC for the From domain, over
//! DNS (the system's resolver, or one named server). Mail that came through the SMTP door is
//! checked here; mail handed in by the mailgate or the HTTP door carries the receiving mail
//! server's `Authentication-Results`, believed only for a configured authserv-id. The
//! verdict is the core's ([`stringer_core::mail_auth::MailAuth::verdict`]).

use async_trait::async_trait;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::arc::Set;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, DkimResult, DmarcResult, MessageAuthenticator, SpfResult};
use std::net::{IpAddr, SocketAddr};
use stringer_app::mail::{Door, InboundRecord, SenderCheck};
use stringer_core::mail_auth::{self as core_auth, Checker, DmarcPolicy, MailAuth, Outcome, Signature};

/// Checks who sent a stored message.
pub struct Authenticator {
    dns: MessageAuthenticator,
    hostname: String,
    relays: Vec<String>,
    trust_loopback: bool,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("relays", &self.relays).finish_non_exhaustive()
    }
}

/// How the authenticator is set up.
#[derive(Clone, Debug, Default)]
pub struct AuthSetup {
    /// The DNS server to ask (UDP and TCP), or `None` for the system's (`/etc/resolv.conf`).
    pub dns: Option<SocketAddr>,
    /// Our host name (SPF's `%{r}`).
    pub hostname: String,
    /// The authserv-ids of the receiving mail servers whose `Authentication-Results` the
    /// mailgate and HTTP doors believe.
    pub relays: Vec<String>,
    /// Whether mail from the loopback address counts as proven (`--demo` and tests only).
    pub trust_loopback: bool,
}

impl Authenticator {
    /// An authenticator as `setup` says.
    pub fn new(setup: AuthSetup) -> Result<Authenticator, String> {
        let dns = match setup.dns {
            Some(server) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                let config =
                    ResolverConfig::from_name_servers(vec![NameServerConfig::new(server.ip(), true, vec![udp, tcp])]);
                let mut options = ResolverOpts::default();
                options.timeout = std::time::Duration::from_secs(2);
                options.attempts = 1;
                MessageAuthenticator::new(config, options)
            }
            None => MessageAuthenticator::new_system_conf().or_else(|e| {
                tracing::warn!("no system DNS resolver ({e}): mail cannot be authenticated and is held as unproven");
                MessageAuthenticator::new(ResolverConfig::from_name_servers(Vec::new()), ResolverOpts::default())
            }),
        }
        .map_err(|e| format!("cannot set up the DNS resolver for mail authentication: {e}"))?;
        Ok(Authenticator {
            dns,
            hostname: setup.hostname,
            relays: setup.relays.iter().map(|r| r.to_ascii_lowercase()).collect(),
            trust_loopback: setup.trust_loopback,
        })
    }

    /// Checks a message received over SMTP from `peer`, introduced as `helo`, with the
    /// envelope sender `mail_from` (empty for a bounce).
    pub async fn check_smtp(&self, raw: &[u8], peer: IpAddr, helo: &str, mail_from: &str) -> MailAuth {
        let mut auth = MailAuth { checker: Checker::Here { peer: peer.to_string() }, ..MailAuth::default() };
        let spf_domain = match mail_from.rsplit_once('@') {
            Some((_, domain)) if !domain.is_empty() => domain.to_ascii_lowercase(),
            _ => helo.to_ascii_lowercase(),
        };
        let spf = if mail_from.is_empty() {
            self.dns.verify_spf(SpfParameters::verify_ehlo(peer, helo, &self.hostname)).await
        } else {
            self.dns.verify_spf(SpfParameters::verify_mail_from(peer, helo, &self.hostname, mail_from)).await
        };
        auth.spf = spf_outcome(spf.result());
        auth.spf_domain = Some(spf_domain.clone());
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return auth;
        };
        let dkim = self.dns.verify_dkim(&message).await;
        auth.dkim = dkim
            .iter()
            .filter_map(|d| {
                d.signature().map(|s| Signature { domain: s.d.to_ascii_lowercase(), outcome: dkim_outcome(d.result()) })
            })
            .collect();
        let arc = self.dns.verify_arc(&message).await;
        if !arc.sets().is_empty() {
            auth.arc = dkim_outcome(arc.result());
            auth.arc_sealer = arc.sets().last().map(|s| s.seal.header.d.to_ascii_lowercase());
            auth.arc_first_dmarc = arc.sets().first().map(first_hop_dmarc).unwrap_or_default();
        }
        let dmarc = self.dns.verify_dmarc(DmarcParameters::new(&message, &dkim, &spf_domain, &spf)).await;
        auth.dmarc = match dmarc.result() {
            DmarcResult::Pass => Outcome::Pass,
            DmarcResult::Fail(_) => Outcome::Fail,
            DmarcResult::TempError(_) => Outcome::TempError,
            DmarcResult::PermError(_) => Outcome::PermError,
            DmarcResult::None => Outcome::None,
        };
        auth.dmarc_policy = match dmarc.policy() {
            Policy::Reject => DmarcPolicy::Reject,
            Policy::Quarantine => DmarcPolicy::Quarantine,
            _ => DmarcPolicy::None,
        };
        auth
    }

    /// What the receiving mail server recorded in a message handed in by the mailgate or
    /// the HTTP door, when its authserv-id is one we trust.
    pub fn check_relayed(&self, raw: &[u8]) -> MailAuth {
        let Some(message) = mail_parser::MessageParser::new().parse_headers(raw) else {
            return MailAuth::default();
        };
        let headers: Vec<String> =
            message.header_values("Authentication-Results").filter_map(|v| v.as_text().map(str::to_string)).collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        core_auth::relay_results(&headers, &self.relays).unwrap_or_default()
    }
}

#[async_trait]
impl SenderCheck for Authenticator {
    async fn check(&self, m: &InboundRecord) -> MailAuth {
        match m.door {
            Door::Smtp => {
                let Some(peer) = m.peer.as_deref().and_then(|p| p.parse::<IpAddr>().ok()) else {
                    return MailAuth::default();
                };
                if self.trust_loopback && peer.is_loopback() {
                    return MailAuth::loopback();
                }
                let helo = m.helo.as_deref().unwrap_or_default();
                self.check_smtp(&m.raw, peer, helo, m.envelope_from.as_deref().unwrap_or_default()).await
            }
            Door::Mailgate | Door::Http => self.check_relayed(&m.raw),
        }
    }
}

/// DMARC as the first forwarder recorded it in its `ARC-Authentication-Results`.
fn first_hop_dmarc(set: &Set<'_>) -> Outcome {
    let text = String::from_utf8_lossy(set.results.value).to_ascii_lowercase();
    let found = text.split(';').find_map(|part| {
        let word = part.split_whitespace().next()?;
        word.strip_prefix("dmarc=").map(Outcome::parse)
    });
    found.unwrap_or_default()
}

fn spf_outcome(r: SpfResult) -> Outcome {
    match r {
        SpfResult::Pass => Outcome::Pass,
        SpfResult::Fail => Outcome::Fail,
        SpfResult::SoftFail => Outcome::SoftFail,
        SpfResult::Neutral => Outcome::Neutral,
        SpfResult::TempError => Outcome::TempError,
        SpfResult::PermError => Outcome::PermError,
        SpfResult::None => Outcome::None,
    }
}

fn dkim_outcome(r: &DkimResult) -> Outcome {
    match r {
        DkimResult::Pass => Outcome::Pass,
        DkimResult::Neutral(_) => Outcome::Neutral,
        DkimResult::Fail(_) => Outcome::Fail,
        DkimResult::PermError(_) => Outcome::PermError,
        DkimResult::TempError(_) => Outcome::TempError,
        DkimResult::None => Outcome::None,
    }
}

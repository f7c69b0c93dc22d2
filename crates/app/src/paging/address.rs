//! What a contact method's address must look like, by kind, and the checks only the front can
//! make ([`AddressChecks`]: it holds the resolver and the Slack client).

use async_trait::async_trait;

/// Checks of an address that need an outside system.
#[async_trait]
pub trait AddressChecks: Send + Sync {
    /// Why this webhook URL may not be used (its host is, or resolves to, a private address),
    /// or `None` when it may.
    async fn webhook_refused(&self, url: &str) -> Option<String>;
    /// Whether Slack confirms that the member's email is `email`.
    async fn slack_confirms(&self, member: &str, email: &str) -> bool;
}

/// An absolute http(s) URL with a host, at most 2000 bytes, without spaces.
pub(super) fn webhook(address: &str) -> Result<String, &'static str> {
    let rest = address.strip_prefix("https://").or_else(|| address.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
    if host.is_empty() || address.len() > 2000 || address.chars().any(char::is_whitespace) {
        return Err("an http(s) URL with a host");
    }
    Ok(address.to_string())
}

/// A Slack member ID: U or W followed by 2–20 upper-case letters and digits.
pub(super) fn slack_member(address: &str) -> Result<String, &'static str> {
    let ok = (3..=21).contains(&address.len())
        && matches!(address.as_bytes()[0], b'U' | b'W')
        && address.bytes().skip(1).all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok { Ok(address.to_string()) } else { Err("a Slack member ID such as U024BE7LH") }
}

/// An email address: one @, something on both sides, no spaces, at most 254 bytes.
pub(super) fn email(address: &str) -> Result<String, &'static str> {
    let ok = address.len() <= 254
        && !address.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        && address
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if ok { Ok(address.to_string()) } else { Err("an email address such as eve@example.com") }
}

/// An E.164 phone number: + and 8 to 15 digits.
pub(super) fn phone(address: &str) -> Result<String, &'static str> {
    stringer_core::phone::e164(address).ok_or("an E.164 phone number such as +14155550100")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_shape() {
        assert!(webhook("https://hooks.example/p").is_ok());
        assert!(webhook("ftp://hooks.example").is_err() && webhook("https:///x").is_err());
        assert!(slack_member("U024BE7LH").is_ok() && slack_member("u024").is_err() && slack_member("").is_err());
        assert!(email("eve@example.com").is_ok() && email("not an address").is_err() && email("@x.y").is_err());
        assert!(phone("+14155550100").is_ok() && phone("555").is_err());
    }
}

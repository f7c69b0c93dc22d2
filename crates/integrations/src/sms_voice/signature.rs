//! Twilio's request signature (`X-Twilio-Signature`): the Base64 of the HMAC-SHA1, under the
//! account's auth token, of the full URL the provider requested followed by each form
//! parameter's name and value, sorted by name. Checked in constant time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The signature of a form POST to `url` with `params`.
pub fn sign(token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(token, url, params).finalize().into_bytes())
}

/// Whether `signature` is the provider's for this request: made for `url`, or for `url`
/// with its scheme's default port written out or left out (as the provider's own
/// validators accept).
pub fn verify(token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    let exact = mac(token, url, params).verify_slice(&given).is_ok();
    exact || other_port_form(url).is_some_and(|other| mac(token, &other, params).verify_slice(&given).is_ok())
}

/// `url` with its default port written out if it was left out, or left out if written.
fn other_port_form(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(end);
    match host.strip_suffix(port) {
        Some(bare) => Some(format!("{scheme}://{bare}{path}")),
        None if !host.contains(':') => Some(format!("{scheme}://{host}{port}{path}")),
        None => None,
    }
}

fn mac(token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn the_documented_example_verifies() {
        // The example of Twilio's security documentation (auth token 12345).
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &params()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify("12345", url, &params(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    #[test]
    fn any_change_fails() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let good = sign("12345", url, &params());
        assert!(!verify("54321", url, &params(), &good));
        assert!(!verify("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", &params(), &good));
        let mut changed = params();
        changed[2].1 = "1235".into();
        assert!(!verify("12345", url, &changed, &good));
        assert!(!verify("12345", url, &params(), "not base64!"));
        assert!(!verify("12345", url, &params(), ""));
    }

    proptest::proptest! {
        #[test]
        fn any_signature_and_url_are_checked_without_panicking(url in ".{0,80}", signature in ".{0,60}") {
            proptest::prop_assert!(!verify("12345", &url, &params(), &signature) || signature == sign("12345", &url, &params()));
        }
    }

    #[test]
    fn the_default_port_may_be_written_or_not() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let with_port = sign("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &params());
        assert!(verify("12345", url, &params(), &with_port));
        let without = sign("12345", url, &params());
        assert!(verify("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &params(), &without));
        assert!(!verify("12345", "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &params(), &without));
    }
}

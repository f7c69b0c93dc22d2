//! A NUL character in what a door takes in, found after decoding: PostgreSQL cannot store
//! one in text and no field of ours has a use for it, so every door refuses a request that
//! holds one (raw, `\u0000` in JSON, `%00` in a form) with its own protocol's 400, before
//! anything is written.

/// Whether JSON text holds a NUL character: a raw NUL byte, or inside a string the escape
/// `\u0000` (the only way JSON writes one).
pub fn in_json(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0 => return true,
            b'\\' if bytes[i + 1..].starts_with(b"u0000") => return true,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    false
}

/// Whether a form (`application/x-www-form-urlencoded`) holds a NUL character in a name or
/// value once decoded; an unreadable form holds none (its reader refuses it).
pub fn in_form(bytes: &[u8]) -> bool {
    bytes.contains(&0)
        || serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .is_ok_and(|pairs| pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')))
}

/// The refusal's words, the same at every door.
pub const REFUSAL: &str = "a NUL character is not allowed in any field";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_and_raw_bytes() {
        assert!(in_json(br#"{"a":"x\u0000y"}"#));
        assert!(in_json(br#"{"a\u0000":1}"#));
        assert!(!in_json(br#"{"a":"x\\u0000y"}"#), "an escaped backslash, then text");
        assert!(in_json(br#"{"a":"x\\\u0000y"}"#));
        assert!(in_json(br#"{"a":"\u00001"}"#), "NUL, then a digit");
        assert!(in_json(b"{\"a\":\"\0\"}"));
        assert!(!in_json(br#"{"a":"\u0001 and %00"}"#));
        assert!(!in_json(br#"{"a":"ends with a backslash\\"}"#));
    }

    #[test]
    fn forms_once_decoded() {
        assert!(in_form(b"text=a%00b"));
        assert!(in_form(b"a%00=1"));
        assert!(in_form(b"text=a\0b"));
        assert!(!in_form(b"text=a%2500b"), "a percent sign, then 00");
        assert!(!in_form(b"text=hello+world"));
    }
}

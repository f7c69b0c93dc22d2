//! Identifiers: a type prefix and a ULID (48-bit millisecond time, 80 random bits, Crockford
//! base32), so ids sort by creation and cursor pagination can compare them.

use rand::RngCore;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new id `PREFIX_` + 26 characters, created at `millis` since the Unix epoch.
pub fn new_id(prefix: &str, millis: u64) -> String {
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    let mut value: u128 = u128::from(millis & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (8 * (9 - i));
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    for i in (0..26).rev() {
        out.push(ALPHABET[((value >> (5 * i)) & 31) as usize] as char);
    }
    out
}

/// Whether `id` has the shape `PREFIX_` + 26 Crockford base32 characters.
pub fn is_id(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| rest.len() == 26 && rest.bytes().all(|b| ALPHABET.contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_have_their_shape() {
        let a = new_id("tkt", 1_000);
        let b = new_id("tkt", 1_001);
        assert!(a < b);
        assert!(is_id("tkt", &a));
        assert!(!is_id("usr", &a));
        for bad in
            ["tkt_", "tkt_123", "tkt_0123456789ABCDEFGHJKMNPQRU", "tkt_0123456789abcdefghjkmnpqrs", "../etc/passwd"]
        {
            assert!(!is_id("tkt", bad), "{bad}");
        }
    }
}

//! The shape of the API's identifiers: a type prefix and a ULID (48-bit milliseconds, 80 more
//! bits, Crockford base32), so ids sort by creation. The web front makes new ones from the
//! desk's clock and randomness ([`NewId`]); mail processing derives them from a stored
//! message.

use std::sync::Arc;

/// Makes a new id for a prefix (`usr`, `tok`, …): handed to a desk by the front, which takes
/// the time from the desk's clock and the other bits from randomness.
pub type NewId = Arc<dyn Fn(&str) -> String + Send + Sync>;

const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `PREFIX_` + the 26-character ULID of `millis` and `random`.
pub fn ulid(prefix: &str, millis: u64, random: [u8; 10]) -> String {
    let mut value: u128 = u128::from(millis & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (8 * (9 - i));
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    for i in (0..26).rev() {
        out.push(BASE32[((value >> (5 * i)) & 31) as usize] as char);
    }
    out
}

/// `PREFIX_` + the ULID of `millis` whose 80 other bits are the first of the SHA-256 of
/// `seed`: the same seed gives the same bits, so an id derived from what came in (a call, a
/// channel's event) is found again by a retry.
pub fn seeded_ulid(prefix: &str, millis: i64, seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed.as_bytes());
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    ulid(prefix, millis.max(0) as u64, random)
}

/// Whether `id` has the shape `PREFIX_` + 26 Crockford base32 characters.
pub fn is_id(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| rest.len() == 26 && rest.bytes().all(|b| BASE32.contains(&b)))
}

/// The second an id of the shape `PREFIX_` + ULID was made for (its ULID's milliseconds,
/// whole seconds), or `None` for any other text. A sending's id is made when the sending is
/// written, so it tells an adapter how far back a copy of it could be.
pub fn made_at(id: &str) -> Option<i64> {
    let (_, ulid) = id.rsplit_once('_')?;
    if ulid.len() != 26 || !ulid.bytes().all(|b| BASE32.contains(&b)) {
        return None;
    }
    // The first 10 characters are the 48 bits of milliseconds (and two zero bits).
    let millis = ulid
        .bytes()
        .take(10)
        .try_fold(0i64, |at, b| BASE32.iter().position(|c| *c == b).map(|digit| at * 32 + digit as i64))?;
    Some(millis / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_tells_the_second_it_was_made_for() {
        let at = 1_764_000_123_456;
        assert_eq!(made_at(&ulid("ann", at as u64, [0xFF; 10])), Some(1_764_000_123));
        assert_eq!(made_at(&seeded_ulid("stn", at, "a notice")), Some(1_764_000_123));
        assert_eq!(made_at(&seeded_ulid("stn", 0, "the start")), Some(0));
        assert_eq!(made_at("ann_01ARZ3NDEKTSV4RRFFQ69G5FA"), None, "25 characters");
        assert_eq!(made_at("ann_01ARZ3NDEKTSV4RRFFQ69G5FAU"), None, "U is not Crockford base32");
        assert_eq!(made_at("#acme-ops"), None);
    }
}

//! Passwords: argon2id hashes; a sign-in without an account (or without a password) verifies
//! a dummy hash, so it costs what a wrong password costs.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use std::sync::LazyLock;

/// The fewest and most characters (bytes, for the most) a password takes.
pub const LENGTH: (usize, usize) = (12, 256);

/// An argon2id hash of a password.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes encode");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// A hash of a random password, verified against when a sign-in names no account (or one
/// without a password), so that such a sign-in costs what a wrong password costs.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut random = [0u8; 32];
    rand::rng().fill_bytes(&mut random);
    hash(&hex::encode(random))
});

/// Whether `password` matches `hash` (constant-time comparison inside argon2). With no hash,
/// a dummy one is verified, so the answer takes as long as for a real account.
pub fn verify(password: &str, hash: Option<&str>) -> bool {
    let (hash, real) = match hash {
        Some(h) => (h, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let ok = PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok());
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_without_an_account_verifies_a_hash_of_the_same_cost() {
        let real = hash("correct horse battery");
        assert!(verify("correct horse battery", Some(&real)));
        assert!(!verify("wrong", Some(&real)));
        assert!(!verify("anything", None));
        // Same algorithm and parameters as a real hash, so the same work.
        let params = |h: &str| h.rsplitn(3, '$').nth(2).map(String::from);
        assert_eq!(params(&DUMMY_HASH), params(&real));
    }
}

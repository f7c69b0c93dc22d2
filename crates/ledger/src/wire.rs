//! The JSON spellings of bytes (docs/ledger.md §5): hashes, salts, log and key ids in lowercase
//! hex of exactly 64 digits; signatures in standard base64 with padding.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::Error;
use serde::{Deserialize, Deserializer, Serializer};

/// 32 bytes from exactly 64 lowercase hex digits.
pub fn parse_hex32(s: &str) -> Result<[u8; 32], String> {
    if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("expected 64 lowercase hex digits, got {s:?}"));
    }
    let mut out = [0; 32];
    hex::decode_to_slice(s, &mut out).map_err(|e| format!("{s:?}: {e}"))?;
    Ok(out)
}

/// Standard base64 (with padding) of exactly `N` bytes.
pub fn parse_base64<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let bytes = STANDARD.decode(s).map_err(|e| format!("{s:?}: {e}"))?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("expected {N} bytes in base64, got {}", b.len()))
}

/// Standard base64 with padding.
pub fn to_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Serde for a 32-byte value written as 64 lowercase hex digits.
pub mod hex32 {
    use super::*;

    /// Writes lowercase hex.
    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Reads exactly 64 lowercase hex digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        parse_hex32(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Serde for a list of 32-byte values, each 64 lowercase hex digits.
pub mod hex32_vec {
    use super::*;

    /// Writes each as lowercase hex.
    pub fn serialize<S: Serializer>(list: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(hex::encode))
    }

    /// Reads each as exactly 64 lowercase hex digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|s| parse_hex32(s).map_err(D::Error::custom)).collect()
    }
}

/// Serde for a 64-byte Ed25519 signature written in base64.
pub mod sig64 {
    use super::*;

    /// Writes base64.
    pub fn serialize<S: Serializer>(bytes: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_base64(bytes))
    }

    /// Reads base64 of exactly 64 bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        parse_base64::<64>(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

//! A leaf's canonical encoding (docs/ledger.md §2): an entry is a set of named fields whose
//! values are canonical JSON; each field is hashed with its own salt, derived from the leaf's
//! random secret, and the leaf is the sorted list of those digests. Whoever is given a field's
//! name, value and salt can recompute its digest, and nothing else: the other fields stay
//! opaque, and a leaf nobody disclosed hides even low-entropy values behind its secret.

use crate::tree::{Hash, leaf_hash, sha256};
use crate::wire;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The domain label of a field's salt.
pub const SALT_LABEL: &[u8] = b"stringer-ledger/v1 salt\0";
/// The domain label of a field's digest.
pub const FIELD_LABEL: &[u8] = b"stringer-ledger/v1 field\0";
/// The domain label that starts a leaf's data.
pub const LEAF_LABEL: &[u8] = b"stringer-ledger/v1 leaf\0";
/// How deeply a value may nest arrays and objects (serde_json's own parsing limit).
pub const MAX_DEPTH: usize = 128;

/// A leaf's 32 random bytes, from which its field salts derive. Kept by the store, never
/// published.
pub type Secret = [u8; 32];

/// Why a value or an entry cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A number with a fraction or an exponent: the ledger takes integers only.
    #[error("{0} is not an integer: the ledger refuses floats")]
    Float(String),
    /// An integer outside `i64`.
    #[error("{0} is outside the 64-bit signed integers the ledger takes")]
    IntegerRange(String),
    /// Arrays and objects nested beyond [`MAX_DEPTH`].
    #[error("a value nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// A name or value longer than a `u32` counts.
    #[error("a field name or value is longer than 2^32 - 1 bytes")]
    TooLong,
    /// Two fields of one entry with the same name.
    #[error("the field {0} appears twice")]
    DuplicateField(String),
    /// A timeline body that is not a JSON object.
    #[error("a timeline body must be a JSON object")]
    BodyNotObject,
}

/// The canonical JSON of a value: no whitespace, object keys sorted by code point, integers
/// only, strings escaping just `"`, `\` and the control characters below U+0020. Python's
/// `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` gives the same
/// bytes. The keys are sorted here, whatever order serde_json's map keeps.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write_value(value, &mut out, 0)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), EncodeError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => match n.as_i64() {
            Some(i) => out.extend_from_slice(i.to_string().as_bytes()),
            None if n.is_u64() => return Err(EncodeError::IntegerRange(n.to_string())),
            None => return Err(EncodeError::Float(n.to_string())),
        },
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            if depth >= MAX_DEPTH {
                return Err(EncodeError::TooDeep);
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            if depth >= MAX_DEPTH {
                return Err(EncodeError::TooDeep);
            }
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn len32(bytes: &[u8]) -> Result<[u8; 4], EncodeError> {
    u32::try_from(bytes.len()).map(u32::to_be_bytes).map_err(|_| EncodeError::TooLong)
}

/// A field's salt: `SHA-256(SALT_LABEL || secret || u32be(len name) || name)`.
pub fn salt(secret: &Secret, name: &str) -> Result<Hash, EncodeError> {
    Ok(sha256(&[SALT_LABEL, secret, &len32(name.as_bytes())?, name.as_bytes()]))
}

/// A field's digest: `SHA-256(FIELD_LABEL || salt || u32be(len name) || name || u32be(len v) ||
/// v)`, with `v` the value's canonical JSON.
pub fn field_digest(salt: &Hash, name: &str, canonical_value: &[u8]) -> Result<Hash, EncodeError> {
    Ok(sha256(&[
        FIELD_LABEL,
        salt,
        &len32(name.as_bytes())?,
        name.as_bytes(),
        &len32(canonical_value)?,
        canonical_value,
    ]))
}

/// A leaf's data: `LEAF_LABEL || u32be(count) || the digests sorted ascending bytewise`.
pub fn leaf_data(digests: &[Hash]) -> Result<Vec<u8>, EncodeError> {
    let count = u32::try_from(digests.len()).map_err(|_| EncodeError::TooLong)?;
    let mut sorted = digests.to_vec();
    sorted.sort_unstable();
    let mut data = Vec::with_capacity(LEAF_LABEL.len() + 4 + 32 * sorted.len());
    data.extend_from_slice(LEAF_LABEL);
    data.extend_from_slice(&count.to_be_bytes());
    for digest in &sorted {
        data.extend_from_slice(digest);
    }
    Ok(data)
}

/// A field given to a verifier: its name, its value and the salt that opens its digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosed {
    /// The field's name, e.g. `kind` or `body.by`.
    pub name: String,
    /// The salt of this field in this leaf.
    #[serde(with = "wire::hex32")]
    pub salt: Hash,
    /// The field's value (any JSON without floats).
    pub value: Value,
}

impl Disclosed {
    /// This field's digest, recomputed.
    pub fn digest(&self) -> Result<Hash, EncodeError> {
        field_digest(&self.salt, &self.name, &canonical_json(&self.value)?)
    }
}

/// One field of a [`Leaf`], with what its digest was made from.
#[derive(Clone, Debug, PartialEq)]
pub struct LeafField {
    /// The field's name.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// Its salt.
    pub salt: Hash,
    /// Its digest.
    pub digest: Hash,
}

/// An entry encoded as a leaf: its fields' digests, the leaf data and the leaf hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    fields: Vec<LeafField>,
    data: Vec<u8>,
    hash: Hash,
}

impl Leaf {
    /// Encodes an entry's named fields under its secret; refuses floats, integers outside
    /// `i64`, over-deep values and repeated names.
    pub fn new(secret: &Secret, fields: impl IntoIterator<Item = (String, Value)>) -> Result<Leaf, EncodeError> {
        let mut encoded: Vec<LeafField> = Vec::new();
        for (name, value) in fields {
            if encoded.iter().any(|f| f.name == name) {
                return Err(EncodeError::DuplicateField(name));
            }
            let salt = salt(secret, &name)?;
            let digest = field_digest(&salt, &name, &canonical_json(&value)?)?;
            encoded.push(LeafField { name, value, salt, digest });
        }
        let digests: Vec<Hash> = encoded.iter().map(|f| f.digest).collect();
        let data = leaf_data(&digests)?;
        let hash = leaf_hash(&data);
        Ok(Leaf { fields: encoded, data, hash })
    }

    /// The leaf hash, `SHA-256(0x00 || leaf_data)`.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// The leaf data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The fields, in the order given.
    pub fn fields(&self) -> &[LeafField] {
        &self.fields
    }

    /// What a verifier is given of this leaf: the fields `shown` accepts, disclosed (in the
    /// order given), and the digests of the others, sorted.
    pub fn disclose(&self, shown: impl Fn(&str) -> bool) -> (Vec<Disclosed>, Vec<Hash>) {
        let mut disclosed = Vec::new();
        let mut withheld = Vec::new();
        for field in &self.fields {
            if shown(&field.name) {
                disclosed.push(Disclosed { name: field.name.clone(), salt: field.salt, value: field.value.clone() });
            } else {
                withheld.push(field.digest);
            }
        }
        withheld.sort_unstable();
        (disclosed, withheld)
    }
}

/// The leaf hash a verifier recomputes from the disclosed fields and the withheld digests.
pub fn leaf_hash_of(disclosed: &[Disclosed], withheld: &[Hash]) -> Result<Hash, EncodeError> {
    let mut digests = Vec::with_capacity(disclosed.len() + withheld.len());
    for (i, field) in disclosed.iter().enumerate() {
        if disclosed[..i].iter().any(|f| f.name == field.name) {
            return Err(EncodeError::DuplicateField(field.name.clone()));
        }
        digests.push(field.digest()?);
    }
    digests.extend_from_slice(withheld);
    Ok(leaf_hash(&leaf_data(&digests)?))
}

/// The fields of a timeline entry (docs/ledger.md §2.1): `entry` = `"timeline"`, `org`,
/// `ticket`, `version`, `at` (Unix seconds, UTC), `kind`, `actor`, and one `body.<key>` per
/// top-level key of the body, which must be an object.
pub struct TimelineEntry<'a> {
    /// The org's slug.
    pub org: &'a str,
    /// The ticket's id (`tkt_…`).
    pub ticket: &'a str,
    /// The ticket version the change made, if it made one.
    pub version: Option<i64>,
    /// When, in Unix seconds (UTC).
    pub at: i64,
    /// The entry's kind, e.g. `ticket.acknowledged`.
    pub kind: &'a str,
    /// Who acted, if anyone.
    pub actor: Option<&'a str>,
    /// The event or notice body.
    pub body: &'a Value,
}

impl TimelineEntry<'_> {
    /// The named fields, in the documented order.
    pub fn fields(&self) -> Result<Vec<(String, Value)>, EncodeError> {
        let Value::Object(body) = self.body else { return Err(EncodeError::BodyNotObject) };
        let mut fields = vec![
            ("entry".to_owned(), Value::from("timeline")),
            ("org".to_owned(), Value::from(self.org)),
            ("ticket".to_owned(), Value::from(self.ticket)),
            ("version".to_owned(), self.version.map_or(Value::Null, Value::from)),
            ("at".to_owned(), Value::from(self.at)),
            ("kind".to_owned(), Value::from(self.kind)),
            ("actor".to_owned(), self.actor.map_or(Value::Null, Value::from)),
        ];
        fields.extend(body.iter().map(|(k, v)| (format!("body.{k}"), v.clone())));
        Ok(fields)
    }

    /// The entry encoded as a leaf under `secret`.
    pub fn leaf(&self, secret: &Secret) -> Result<Leaf, EncodeError> {
        Leaf::new(secret, self.fields()?)
    }
}

/// The fields of a status-page update (docs/ledger.md §1): `entry` = `"status"`, `page`,
/// `org` (`null` for the public page), `incident`, `update`, `status`, `body`, `affected`
/// (the components it named, as stored) and `at` (Unix seconds, UTC).
pub struct StatusEntry<'a> {
    /// The status page's id.
    pub page: &'a str,
    /// The org whose page it is; `None` for the public page.
    pub org: Option<&'a str>,
    /// The incident or maintenance the update belongs to.
    pub incident: &'a str,
    /// The update's id.
    pub update: &'a str,
    /// The incident's status it announced (`investigating`, …).
    pub status: &'a str,
    /// Its words.
    pub body: &'a str,
    /// The components it affected, with their statuses, as stored.
    pub affected: &'a Value,
    /// When it was posted, in Unix seconds.
    pub at: i64,
}

impl StatusEntry<'_> {
    /// The named fields, in the documented order.
    pub fn fields(&self) -> Vec<(String, Value)> {
        vec![
            ("entry".to_owned(), Value::from("status")),
            ("page".to_owned(), Value::from(self.page)),
            ("org".to_owned(), self.org.map_or(Value::Null, Value::from)),
            ("incident".to_owned(), Value::from(self.incident)),
            ("update".to_owned(), Value::from(self.update)),
            ("status".to_owned(), Value::from(self.status)),
            ("body".to_owned(), Value::from(self.body)),
            ("affected".to_owned(), self.affected.clone()),
            ("at".to_owned(), Value::from(self.at)),
        ]
    }

    /// The entry encoded as a leaf under `secret`.
    pub fn leaf(&self, secret: &Secret) -> Result<Leaf, EncodeError> {
        Leaf::new(secret, self.fields())
    }
}

/// The fields of a post-incident report's publication (docs/ledger.md §1): `entry` =
/// `"report"`, `org`, `ticket`, `text_version` (the version of the text published), `at`
/// (Unix seconds, UTC), `customer_text` (the text as the org's people read it) and
/// `staff_text` (the whole text, with the staff-only timeline lines and edits).
pub struct ReportEntry<'a> {
    /// The org's slug.
    pub org: &'a str,
    /// The ticket's id (`tkt_…`).
    pub ticket: &'a str,
    /// The published text's version (1, 2, …).
    pub text_version: i64,
    /// When it was published, in Unix seconds.
    pub at: i64,
    /// What the org's people read of it.
    pub customer_text: &'a Value,
    /// The whole text, as staff read it.
    pub staff_text: &'a Value,
}

impl ReportEntry<'_> {
    /// The named fields, in the documented order.
    pub fn fields(&self) -> Vec<(String, Value)> {
        vec![
            ("entry".to_owned(), Value::from("report")),
            ("org".to_owned(), Value::from(self.org)),
            ("ticket".to_owned(), Value::from(self.ticket)),
            ("text_version".to_owned(), Value::from(self.text_version)),
            ("at".to_owned(), Value::from(self.at)),
            ("customer_text".to_owned(), self.customer_text.clone()),
            ("staff_text".to_owned(), self.staff_text.clone()),
        ]
    }

    /// The entry encoded as a leaf under `secret`.
    pub fn leaf(&self, secret: &Secret) -> Result<Leaf, EncodeError> {
        Leaf::new(secret, self.fields())
    }
}

/// The fields of a quarterly review's figure set (docs/ledger.md §1): `entry` = `"review"`,
/// `org`, `quarter` (`2026-Q3`), `at` (when the review round was written, Unix seconds) and
/// `figures` (integers only: counts and seconds; readers derive the percentages).
pub struct ReviewEntry<'a> {
    /// The org's slug.
    pub org: &'a str,
    /// The quarter reviewed.
    pub quarter: &'a str,
    /// When the figures were frozen, in Unix seconds.
    pub at: i64,
    /// The figure set.
    pub figures: &'a Value,
}

impl ReviewEntry<'_> {
    /// The named fields, in the documented order.
    pub fn fields(&self) -> Vec<(String, Value)> {
        vec![
            ("entry".to_owned(), Value::from("review")),
            ("org".to_owned(), Value::from(self.org)),
            ("quarter".to_owned(), Value::from(self.quarter)),
            ("at".to_owned(), Value::from(self.at)),
            ("figures".to_owned(), self.figures.clone()),
        ]
    }

    /// The entry encoded as a leaf under `secret`.
    pub fn leaf(&self, secret: &Secret) -> Result<Leaf, EncodeError> {
        Leaf::new(secret, self.fields())
    }
}

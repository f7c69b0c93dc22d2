//! The format a stranger implements (docs/ledger.md): canonical values and their refusals, the
//! salted leaf, the signed head, the bundle check and its failures, and the worked vectors in
//! docs/ledger-vectors.json, regenerated here and compared so they cannot drift
//! (`STRINGER_BLESS=1` rewrites them).

mod support;

use proptest::prelude::*;
use serde_json::{Value, json};
use stringer_ledger::bundle::{
    Bundle, BundleError, EntryProblem, FORMAT, FORMAT_V2, Previous, ReviewBundle, instant_seconds, verify_bundle,
    verify_review_bundle,
};
use stringer_ledger::encode::{
    Disclosed, EncodeError, Leaf, ReportEntry, ReviewEntry, StatusEntry, TimelineEntry, canonical_json, field_digest,
    leaf_data, leaf_hash_of, salt,
};
use stringer_ledger::head::{HEAD_LEN, HeadError, PublicKey, Rotation, SignedHead, TreeHead};
use stringer_ledger::tree::{self, MemoryTree, leaf_hash};
use stringer_ledger::verify::{verify_consistency, verify_inclusion};
use support::{LOG_ID, World, leaf, leaves, secret, test_key};

fn canon(v: &Value) -> String {
    String::from_utf8(canonical_json(v).unwrap()).unwrap()
}

/// Values whose canonical JSON both implementations must agree on.
fn canonical_cases() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-9223372036854775808i64),
        json!(9223372036854775807i64),
        json!(""),
        json!("quote \" backslash \\ slash / tab \t newline \n cr \r bs \u{8} ff \u{c}"),
        json!("\u{0}\u{1}\u{1f} del \u{7f} nbsp \u{a0} ls \u{2028} ps \u{2029}"),
        json!("é ü 漢字 😀 \u{10ffff}"),
        json!({"b": 1, "a": [true, null, {"d": "x", "c": "y"}], "": 0}),
        json!({"é": 1, "z": 2, "😀": 3, "\u{ffff}": 4, "A": 5, "a": 6}),
        json!([[], {}, [[[]]]]),
    ]
}

#[test]
fn canonical_json_sorts_keys_by_code_point_and_escapes_only_what_json_must() {
    assert_eq!(canon(&json!({"b": 1, "a": {"d": [1, 2], "c": null}})), r#"{"a":{"c":null,"d":[1,2]},"b":1}"#);
    assert_eq!(canon(&json!("a\"b\\c\nd\u{1}é😀\u{7f}")), "\"a\\\"b\\\\c\\nd\\u0001é😀\u{7f}\"");
    assert_eq!(canon(&json!({"😀": 1, "\u{ffff}": 2, "é": 3, "z": 4})), "{\"z\":4,\"é\":3,\"\u{ffff}\":2,\"😀\":1}");
    assert_eq!(canon(&json!(-12)), "-12");
    // Reading the canonical form back gives the value again.
    for v in canonical_cases() {
        let again: Value = serde_json::from_str(&canon(&v)).unwrap();
        assert_eq!(again, v);
    }
}

/// JSON texts whose values the ledger refuses: fractions, exponents, integers beyond i64.
const REFUSED: [&str; 7] =
    ["1.5", "1.0", "-0.0", "1e3", "{\"minutes\":0.5}", "[9223372036854775808]", "18446744073709551615"];

#[test]
fn floats_and_integers_beyond_i64_are_refused_everywhere() {
    for text in REFUSED {
        let v: Value = serde_json::from_str(text).unwrap();
        let err = canonical_json(&v).unwrap_err();
        assert!(matches!(err, EncodeError::Float(_) | EncodeError::IntegerRange(_)), "{text}: {err}");
        assert!(Leaf::new(&secret(0), [("body.x".to_owned(), v.clone())]).is_err(), "{text}");
        let body = json!({ "x": v });
        let entry =
            TimelineEntry { org: "acme", ticket: "t", version: None, at: 0, kind: "k", actor: None, body: &body };
        assert!(entry.leaf(&secret(0)).is_err(), "{text}");
    }
    assert_eq!(canonical_json(&json!(1.5)), Err(EncodeError::Float("1.5".to_owned())));
    let mut deep = json!(0);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    assert_eq!(canonical_json(&deep), Err(EncodeError::TooDeep));
}

#[test]
fn a_leaf_is_its_sorted_salted_field_digests() {
    let s = secret(9);
    let fields = vec![("kind".to_owned(), json!("ticket.acknowledged")), ("at".to_owned(), json!(1_767_225_660))];
    let built = Leaf::new(&s, fields.clone()).unwrap();
    let mut digests = Vec::new();
    for (name, value) in &fields {
        let salt = salt(&s, name).unwrap();
        let expected =
            tree::sha256(&[b"stringer-ledger/v1 salt\0", &s, &(name.len() as u32).to_be_bytes(), name.as_bytes()]);
        assert_eq!(salt, expected);
        let v = canonical_json(value).unwrap();
        let digest = field_digest(&salt, name, &v).unwrap();
        assert_eq!(
            digest,
            tree::sha256(&[
                b"stringer-ledger/v1 field\0",
                &salt,
                &(name.len() as u32).to_be_bytes(),
                name.as_bytes(),
                &(v.len() as u32).to_be_bytes(),
                &v
            ])
        );
        digests.push(digest);
    }
    digests.sort();
    let data = [b"stringer-ledger/v1 leaf\0".as_slice(), &2u32.to_be_bytes(), &digests[0], &digests[1]].concat();
    assert_eq!(built.data(), data.as_slice());
    assert_eq!(leaf_data(&[digests[1], digests[0]]).unwrap(), data);
    assert_eq!(built.hash(), leaf_hash(&data));
    // Field order does not matter; names, values and the secret do.
    let reversed = Leaf::new(&s, fields.iter().rev().cloned()).unwrap();
    assert_eq!(reversed.hash(), built.hash());
    assert_ne!(Leaf::new(&secret(10), fields.clone()).unwrap().hash(), built.hash());
    let renamed = vec![("kind".to_owned(), json!("ticket.acknowledged")), ("at2".to_owned(), json!(1_767_225_660))];
    assert_ne!(Leaf::new(&s, renamed).unwrap().hash(), built.hash());
    let twice = vec![("at".to_owned(), json!(1)), ("at".to_owned(), json!(1))];
    assert_eq!(Leaf::new(&s, twice), Err(EncodeError::DuplicateField("at".to_owned())));
    let body = json!(["not", "an", "object"]);
    let entry = TimelineEntry { org: "a", ticket: "t", version: None, at: 0, kind: "k", actor: None, body: &body };
    assert_eq!(entry.fields().unwrap_err(), EncodeError::BodyNotObject);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever is disclosed, the rest as digests recompute the same leaf; a changed value,
    /// salt or digest does not.
    #[test]
    fn any_disclosure_recomputes_the_leaf(mask in any::<u16>(), text in ".{0,20}", n in any::<i64>(), pick in any::<usize>()) {
        let body = json!({"by": "usr_staff1", "note": text, "count": n, "list": [n, text.clone(), null]});
        let entry = TimelineEntry { org: "acme", ticket: "tkt_1", version: Some(3), at: 1_767_225_600, kind: "ticket.commented", actor: Some("usr_1"), body: &body };
        let leaf = entry.leaf(&secret(n as u64)).unwrap();
        let names: Vec<String> = leaf.fields().iter().map(|f| f.name.clone()).collect();
        let (disclosed, withheld) = leaf.disclose(|name| mask & (1 << names.iter().position(|x| x == name).unwrap()) != 0);
        prop_assert_eq!(disclosed.len() + withheld.len(), names.len());
        prop_assert_eq!(leaf_hash_of(&disclosed, &withheld), Ok(leaf.hash()));
        if !disclosed.is_empty() {
            let mut changed = disclosed.clone();
            let k = pick % changed.len();
            changed[k].value = json!(format!("{}!", changed[k].value));
            prop_assert_ne!(leaf_hash_of(&changed, &withheld), Ok(leaf.hash()));
            let mut resalted = disclosed.clone();
            resalted[k].salt[0] ^= 1;
            prop_assert_ne!(leaf_hash_of(&resalted, &withheld), Ok(leaf.hash()));
        }
        if !withheld.is_empty() {
            let mut bad = withheld.clone();
            let k = pick % bad.len();
            bad[k][31] ^= 0x80;
            prop_assert_ne!(leaf_hash_of(&disclosed, &bad), Ok(leaf.hash()));
            prop_assert_ne!(leaf_hash_of(&disclosed, &withheld[1..]), Ok(leaf.hash()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A bundle garbled anywhere is refused as malformed or fails a check; it never panics.
    /// Only the ticket's key, which names the ticket in messages and is in no leaf, may change
    /// and pass.
    #[test]
    fn a_garbled_bundle_is_an_error_never_a_panic(at in any::<usize>(), with in proptest::char::range('!', '~')) {
        let key = test_key(1);
        let world = World::new(40);
        let original = world.bundle(40, false, None, &key);
        let text = serde_json::to_string(&original).unwrap();
        let chars: Vec<char> = text.chars().collect();
        let i = at % chars.len();
        prop_assume!(chars[i] != with);
        let garbled: String = chars[..i].iter().chain(std::iter::once(&with)).chain(chars[i + 1..].iter()).collect();
        if let Ok(mut bundle) = Bundle::from_json(&garbled)
            && verify_bundle(&bundle, Some(&PublicKey::of(&key)), None).is_ok()
        {
            bundle.ticket.key = original.ticket.key.clone();
            prop_assert_eq!(bundle, original);
        }
    }
}

fn head_of(size: u64, root: [u8; 32]) -> TreeHead {
    TreeHead { log_id: LOG_ID, tree_size: size, root_hash: root, timestamp: 1_767_225_660 }
}

#[test]
fn a_head_signs_its_104_bytes_and_verifies_only_under_its_key() {
    let key = test_key(1);
    let public = PublicKey::of(&key);
    let head = head_of(1_234_567, [0xab; 32]);
    let bytes = head.to_bytes();
    assert_eq!(bytes.len(), HEAD_LEN);
    assert_eq!(&bytes[..24], b"stringer-ledger/v1 head\0");
    assert_eq!(&bytes[24..56], &LOG_ID);
    assert_eq!(&bytes[56..64], &1_234_567u64.to_be_bytes());
    assert_eq!(&bytes[64..96], &[0xab; 32]);
    assert_eq!(&bytes[96..], &1_767_225_660u64.to_be_bytes());
    assert_eq!(TreeHead::from_bytes(&bytes), Ok(head));
    assert_eq!(TreeHead::from_bytes(&bytes[..103]), Err(HeadError::BadLayout));
    let mut relabelled = bytes;
    relabelled[0] = b'S';
    assert_eq!(TreeHead::from_bytes(&relabelled), Err(HeadError::BadLayout));

    let signed = head.sign(&key);
    assert_eq!(signed.key_id, public.key_id());
    signed.verify(&public).unwrap();
    public.verify(&bytes, &signed.signature).unwrap();
    let other = PublicKey::of(&test_key(2));
    assert!(matches!(signed.verify(&other), Err(HeadError::OtherKey { .. })));
    for field in 0..4 {
        let mut forged = signed;
        match field {
            0 => forged.head.tree_size += 1,
            1 => forged.head.root_hash[5] ^= 1,
            2 => forged.head.timestamp -= 1,
            _ => forged.signature[10] ^= 1,
        }
        assert_eq!(forged.verify(&public), Err(HeadError::BadSignature), "field {field}");
    }
    // The JSON form reads back, and refuses what it does not know.
    let text = serde_json::to_string(&signed).unwrap();
    assert_eq!(serde_json::from_str::<SignedHead>(&text).unwrap(), signed);
    let mut extra: Value = serde_json::from_str(&text).unwrap();
    extra["note"] = json!("x");
    assert!(serde_json::from_value::<SignedHead>(extra).is_err());
    let mut upper: Value = serde_json::from_str(&text).unwrap();
    upper["root_hash"] = json!("AB".repeat(32));
    assert!(serde_json::from_value::<SignedHead>(upper).is_err());
}

#[test]
fn public_keys_have_one_written_form_and_a_fingerprint() {
    let public = PublicKey::of(&test_key(1));
    let written = public.to_string();
    assert!(written.starts_with("ed25519:"));
    assert_eq!(written.parse::<PublicKey>(), Ok(public));
    assert_eq!(public.key_id(), tree::sha256(&[&public.0]));
    let fp = public.fingerprint();
    assert_eq!(fp.len(), 39);
    assert_eq!(fp.replace(' ', ""), hex::encode(&public.key_id()[..16]));
    for bad in ["", "ed25519:", "ed25519:AAAA", "rsa:AAAA", "ed25519:!!!!", &written[8..]] {
        assert!(bad.parse::<PublicKey>().is_err(), "{bad:?}");
    }
}

#[test]
fn a_rotation_is_endorsed_by_the_key_it_retires() {
    let (old, new) = (test_key(1), test_key(2));
    let rotation = Rotation::endorse(&old, &PublicKey::of(&new), 1_767_225_600);
    rotation.verify().unwrap();
    assert_eq!(rotation.endorsed_bytes().len(), 26 + 32 + 32 + 8);
    let mut forged = rotation;
    forged.new_key = PublicKey::of(&test_key(3));
    assert_eq!(forged.verify(), Err(HeadError::BadSignature));
}

fn entry_error(result: Result<stringer_ledger::bundle::Verified, BundleError>) -> (String, EntryProblem) {
    match result {
        Err(BundleError::Entry { event, problem }) => (event, problem),
        other => panic!("expected an entry's failure, got {other:?}"),
    }
}

#[test]
fn a_customer_bundle_verifies_and_shows_no_staff_only_value() {
    let world = World::new(40);
    let key = test_key(1);
    let bundle = world.bundle(30, false, None, &key);
    let verified = verify_bundle(&bundle, Some(&PublicKey::of(&key)), None).unwrap();
    assert_eq!((verified.tree_size, verified.entries, verified.pending), (30, 4, 1));
    assert!(verified.pinned);
    let text = serde_json::to_string(&bundle).unwrap();
    for secret_value in ["usr_staff1", "usr_staff2", "sms", "globex"] {
        assert!(!text.contains(secret_value), "{secret_value} leaked into a customer's bundle");
    }
    assert_eq!(Bundle::from_json(&text).unwrap(), bundle);
    // Staff see everything, and it verifies too.
    let staff = world.bundle(40, true, Some(30), &key);
    assert_eq!(verify_bundle(&staff, None, Some(&Previous::Head(bundle.head))).unwrap().previous_size, Some(30));
}

#[test]
fn a_tampered_bundle_names_the_event() {
    let world = World::new(40);
    let key = test_key(1);
    let good = world.bundle(40, false, None, &key);
    let pin = PublicKey::of(&key);
    let ack = "ACME-42 seq 2 ticket.acknowledged at 2026-01-01T00:01:00Z (leaf 10)";

    let mut shown = good.clone();
    shown.entries[1].shown.at = "2026-01-01T00:02:00Z".to_owned();
    let (event, problem) = entry_error(verify_bundle(&shown, Some(&pin), None));
    assert_eq!(event, "ACME-42 seq 2 ticket.acknowledged at 2026-01-01T00:02:00Z (leaf 10)");
    assert_eq!(problem, EntryProblem::Changed("at".to_owned()));

    // The instant edited in the database: shown and disclosed agree, the leaf does not.
    let mut both = good.clone();
    both.entries[1].shown.at = "2026-01-01T00:02:00Z".to_owned();
    let at = both.entries[1].disclosed.iter_mut().find(|d| d.name == "at").unwrap();
    at.value = json!(1_767_225_720);
    let err = verify_bundle(&both, Some(&pin), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ACME-42 seq 2 ticket.acknowledged at 2026-01-01T00:02:00Z (leaf 10): does not match its leaf"
    );

    let mut path = good.clone();
    path.entries[1].inclusion[0][0] ^= 1;
    assert_eq!(entry_error(verify_bundle(&path, Some(&pin), None)), (ack.to_owned(), EntryProblem::DoesNotMatchLeaf));

    let mut moved = good.clone();
    moved.entries[1].leaf_index = 9;
    assert_eq!(entry_error(verify_bundle(&moved, Some(&pin), None)).1, EntryProblem::DoesNotMatchLeaf);

    let mut swapped = good.clone();
    swapped.entries.swap(1, 2);
    assert_eq!(entry_error(verify_bundle(&swapped, Some(&pin), None)).1, EntryProblem::OutOfOrder);

    let mut hidden = good.clone();
    hidden.entries[0].disclosed.retain(|d| d.name != "body.subject");
    assert_eq!(
        entry_error(verify_bundle(&hidden, Some(&pin), None)).1,
        EntryProblem::Undisclosed("body.subject".to_owned())
    );

    let mut other_org = good.clone();
    other_org.ticket.org = "globex".to_owned();
    assert_eq!(entry_error(verify_bundle(&other_org, Some(&pin), None)).1, EntryProblem::OtherTicket("org".to_owned()));

    let mut unshown = good.clone();
    unshown.entries[1].shown.body = json!({});
    assert_eq!(entry_error(verify_bundle(&unshown, Some(&pin), None)).1, EntryProblem::Unshown("body.at".to_owned()));

    let mut float = good.clone();
    float.entries[3].shown.body = json!({"minutes": 60.5});
    float.entries[3].disclosed.iter_mut().find(|d| d.name == "body.minutes").unwrap().value = json!(60.5);
    assert!(matches!(
        entry_error(verify_bundle(&float, Some(&pin), None)).1,
        EntryProblem::BadValue(EncodeError::Float(_))
    ));

    let mut instant = good.clone();
    instant.entries[0].shown.at = "2026-01-01T00:00:00+00:00".to_owned();
    assert!(matches!(entry_error(verify_bundle(&instant, Some(&pin), None)).1, EntryProblem::BadInstant(_)));

    let mut beyond = good.clone();
    beyond.entries[4].leaf_index = 40;
    assert_eq!(entry_error(verify_bundle(&beyond, Some(&pin), None)).1, EntryProblem::BeyondHead);
}

#[test]
fn a_bundle_under_another_key_log_or_format_is_refused() {
    let world = World::new(40);
    let key = test_key(1);
    let good = world.bundle(40, false, None, &key);
    let pin = PublicKey::of(&key);
    let stranger = PublicKey::of(&test_key(9));
    assert!(matches!(verify_bundle(&good, Some(&stranger), None), Err(BundleError::Key(_))));
    assert!(!verify_bundle(&good, None, None).unwrap().pinned);

    let mut forged = good.clone();
    forged.head.head.timestamp += 1;
    assert_eq!(verify_bundle(&forged, Some(&pin), None), Err(BundleError::Head(HeadError::BadSignature)));

    let mut relogged = good.clone();
    relogged.log.log_id = [7; 32];
    assert!(matches!(verify_bundle(&relogged, Some(&pin), None), Err(BundleError::Key(_))));

    let mut format = good.clone();
    format.format = "stringer-ledger-bundle/3".to_owned();
    assert_eq!(verify_bundle(&format, Some(&pin), None), Err(BundleError::Format(format.format.clone())));

    let text = serde_json::to_string(&good).unwrap();
    let broken = text.replacen("\"inclusion\":[\"", "\"inclusion\":[\"zz", 1);
    assert!(matches!(Bundle::from_json(&broken), Err(BundleError::Malformed(_))));
    assert!(matches!(Bundle::from_json("{}"), Err(BundleError::Malformed(_))));
    assert!(matches!(Bundle::from_json("[1.5]"), Err(BundleError::Malformed(_))));
    let mut unknown: Value = serde_json::from_str(&text).unwrap();
    unknown["extra"] = json!(1);
    assert!(matches!(Bundle::from_json(&unknown.to_string()), Err(BundleError::Malformed(_))));
}

#[test]
fn a_rotated_key_is_accepted_from_a_pin_on_the_old_one() {
    let world = World::new(40);
    let (old, new) = (test_key(1), test_key(2));
    let before = world.bundle(30, false, None, &old);
    let mut after = world.bundle(40, false, Some(30), &new);
    after.log.rotations = vec![Rotation::endorse(&old, &PublicKey::of(&new), 1_767_300_000)];
    let previous = Previous::Bundle(Box::new(before.clone()));
    verify_bundle(&after, Some(&PublicKey::of(&old)), Some(&previous)).unwrap();
    verify_bundle(&after, Some(&PublicKey::of(&new)), None).unwrap();
    // A head signed before the rotation is not trusted from a pin on the new key.
    assert!(matches!(
        verify_bundle(&after, Some(&PublicKey::of(&new)), Some(&previous)),
        Err(BundleError::Previous(_))
    ));
    // Without the endorsement, the old pin does not reach the new key.
    after.log.rotations.clear();
    assert!(matches!(verify_bundle(&after, Some(&PublicKey::of(&old)), None), Err(BundleError::Key(_))));
    after.log.rotations = vec![Rotation::endorse(&test_key(3), &PublicKey::of(&new), 1)];
    assert!(matches!(verify_bundle(&after, Some(&PublicKey::of(&old)), None), Err(BundleError::Key(_))));
}

#[test]
fn against_a_previous_bundle_a_deleted_or_rewritten_entry_is_named() {
    let key = test_key(1);
    let pin = PublicKey::of(&key);
    let world = World::new(40);
    let before = world.bundle(30, false, None, &key);
    let previous = Previous::Bundle(Box::new(before.clone()));
    verify_bundle(&world.bundle(40, false, Some(30), &key), Some(&pin), Some(&previous)).unwrap();

    // The entry deleted and its proof left out.
    let mut deleted = world.bundle(40, false, Some(30), &key);
    deleted.entries.remove(1);
    let (event, problem) = entry_error(verify_bundle(&deleted, Some(&pin), Some(&previous)));
    assert_eq!(event, "ACME-42 seq 2 ticket.acknowledged at 2026-01-01T00:01:00Z (leaf 10)");
    assert_eq!(problem, EntryProblem::Missing);

    // History rewritten: one instant edited, the tree rebuilt and signed by a new key.
    let mut rows = support::acme_rows();
    rows[1].1.at += 60;
    let rewritten = World::with_rows(40, rows);
    let new_key = test_key(5);
    let forged = rewritten.bundle(40, false, Some(30), &new_key);
    verify_bundle(&forged, None, None).unwrap();
    let (event, problem) = entry_error(verify_bundle(&forged, Some(&pin), Some(&previous)));
    assert_eq!(event, "ACME-42 seq 2 ticket.acknowledged at 2026-01-01T00:01:00Z (leaf 10)");
    assert_eq!(problem, EntryProblem::ChangedSincePrevious);
    // Re-signed with the old key, the consistency proof gives it away.
    let resigned = rewritten.bundle(40, false, Some(30), &key);
    let head_only = Previous::Head(before.head);
    assert!(matches!(verify_bundle(&resigned, Some(&pin), Some(&head_only)), Err(BundleError::Previous(_))));

    // A head larger than the bundle's, or of the same size with another root.
    let bigger = Previous::Head(world.bundle(40, false, None, &key).head);
    assert!(matches!(
        verify_bundle(&world.bundle(30, false, None, &key), Some(&pin), Some(&bigger)),
        Err(BundleError::Previous(_))
    ));
    let same = Previous::Head(rewritten.bundle(40, false, None, &key).head);
    assert!(matches!(
        verify_bundle(&world.bundle(40, false, None, &key), Some(&pin), Some(&same)),
        Err(BundleError::Previous(_))
    ));
    assert!(matches!(
        verify_bundle(&world.bundle(40, false, None, &key), Some(&pin), Some(&head_only)),
        Err(BundleError::Previous(_))
    ));
    let mut bad_proof = world.bundle(40, false, Some(30), &key);
    bad_proof.consistency.as_mut().unwrap().proof[0][3] ^= 1;
    assert!(matches!(verify_bundle(&bad_proof, Some(&pin), Some(&head_only)), Err(BundleError::Consistency(_))));
    assert!(matches!(Previous::from_json("{\"tree_size\": 1}"), Err(BundleError::Malformed(_))));
}

#[test]
fn instants_are_whole_utc_seconds_in_one_spelling() {
    assert_eq!(instant_seconds("2026-01-01T00:01:00Z"), Some(1_767_225_660));
    assert_eq!(instant_seconds("1970-01-01T00:00:00Z"), Some(0));
    for bad in ["2026-01-01T00:01:00.5Z", "2026-01-01T00:01:00+00:00", "2026-01-01 00:01:00Z", "", "2026-01-01"] {
        assert_eq!(instant_seconds(bad), None, "{bad}");
    }
}

// ----- docs/ledger-vectors.json -----

fn h(bytes: &[u8]) -> Value {
    json!(hex::encode(bytes))
}

fn hs(list: &[[u8; 32]]) -> Value {
    json!(list.iter().map(hex::encode).collect::<Vec<_>>())
}

fn vectors() -> Value {
    let canonical: Vec<Value> =
        canonical_cases().into_iter().map(|v| json!({"value": v.clone(), "canonical": canon(&v)})).collect();

    let s = secret(1);
    let body = json!({"by": "usr_staff1", "at": "2026-01-01T00:01:00Z"});
    let entry = TimelineEntry {
        org: "acme",
        ticket: "tkt_01JGZ0ACME42",
        version: Some(2),
        at: 1_767_225_660,
        kind: "ticket.acknowledged",
        actor: Some("usr_staff1"),
        body: &body,
    };
    let leaf = entry.leaf(&s).unwrap();
    let fields: Vec<Value> = leaf
        .fields()
        .iter()
        .map(|f| {
            json!({"name": f.name, "value": f.value, "canonical": canon(&f.value), "salt": h(&f.salt), "digest": h(&f.digest)})
        })
        .collect();

    let n = 33u64;
    let tree = MemoryTree::from_leaves(leaves(n));
    let roots: Vec<Value> = [0u64, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33]
        .iter()
        .map(|&size| json!({"size": size, "root": h(&tree::root(&tree, size).unwrap())}))
        .collect();
    let inclusion: Vec<Value> =
        [(0u64, 1u64), (0, 2), (1, 2), (2, 3), (5, 8), (6, 7), (8, 9), (16, 17), (15, 33), (32, 33)]
            .iter()
            .map(|&(i, size)| {
                let path = tree::inclusion_proof(&tree, i, size).unwrap();
                verify_inclusion(&leaf_at(i), i, size, &path, &tree::root(&tree, size).unwrap()).unwrap();
                json!({"index": i, "size": size, "leaf_hash": h(&leaf_at(i)), "path": hs(&path)})
            })
            .collect();
    let consistency: Vec<Value> =
        [(1u64, 2u64), (1, 8), (2, 5), (3, 7), (4, 8), (6, 8), (7, 9), (16, 17), (17, 33), (32, 33)]
            .iter()
            .map(|&(m, size)| {
                let proof = tree::consistency_proof(&tree, m, size).unwrap();
                let (from_root, to_root) = (tree::root(&tree, m).unwrap(), tree::root(&tree, size).unwrap());
                verify_consistency(m, size, &from_root, &to_root, &proof).unwrap();
                json!({"from": m, "to": size, "from_root": h(&from_root), "to_root": h(&to_root), "proof": hs(&proof)})
            })
            .collect();

    let key = test_key(1);
    let public = PublicKey::of(&key);
    let head = TreeHead { log_id: LOG_ID, tree_size: n, root_hash: tree.root(), timestamp: 1_767_225_660 };
    let signed = head.sign(&key);
    let new_key = test_key(2);
    let rotation = Rotation::endorse(&key, &PublicKey::of(&new_key), 1_767_300_000);

    json!({
        "about": "Worked vectors for docs/ledger.md, generated and checked by crates/ledger/tests/format.rs \
                  (STRINGER_BLESS=1 cargo test -p stringer-ledger --test format rewrites them). The keys are \
                  test keys whose seeds are printed here: never a real log's.",
        "canonical_json": canonical,
        "refused_json": REFUSED,
        "leaf": {
            "secret": h(&s),
            "entry": {"org": "acme", "ticket": "tkt_01JGZ0ACME42", "version": 2, "at": 1_767_225_660,
                      "kind": "ticket.acknowledged", "actor": "usr_staff1", "body": body},
            "fields": fields,
            "leaf_data": h(leaf.data()),
            "leaf_hash": h(&leaf.hash()),
        },
        "leaf_kinds": leaf_kinds(),
        "review_bundles": review_vectors(),
        "tree": {
            "leaves": "leaf i's data is the 8 bytes u64be(i); its leaf hash is SHA-256(0x00 || u64be(i))",
            "roots": roots,
            "inclusion": inclusion,
            "consistency": consistency,
        },
        "head": {
            "seed": h(&[1; 32]),
            "public_key": public.to_string(),
            "key_id": h(&public.key_id()),
            "fingerprint": public.fingerprint(),
            "head_bytes": h(&head.to_bytes()),
            "json": signed,
        },
        "rotation": {
            "old_seed": h(&[1; 32]),
            "new_seed": h(&[2; 32]),
            "endorsed_bytes": h(&rotation.endorsed_bytes()),
            "json": rotation,
        },
        "bundles": bundle_vectors(),
    })
}

fn leaf_at(i: u64) -> [u8; 32] {
    leaf(i)
}

/// One entry of each other kind (docs/ledger.md §1) under a secret: its fields in the
/// documented order and its leaf hash.
fn leaf_kinds() -> Vec<Value> {
    let affected =
        json!([{"code": "cmp_api", "name": "API", "old_status": "operational", "new_status": "major_outage"}]);
    let status = StatusEntry {
        page: "pg_acme",
        org: Some("acme"),
        incident: "inc_01",
        update: "upd_01",
        status: "investigating",
        body: "Logins fail for some.",
        affected: &affected,
        at: 1_767_226_000,
    };
    let (customer, staff) = support::report_texts();
    let report = ReportEntry {
        org: "acme",
        ticket: "tkt_01JGZ0ACME42",
        text_version: 1,
        at: 1_767_240_000,
        customer_text: &customer,
        staff_text: &staff,
    };
    let figures = json!({"tier": "gold", "tickets": 3, "attainment": [{"severity": "sev2", "target": "response",
        "met": 2, "breached": 1, "running": 0, "withdrawn": 0, "weekend_met": 0, "weekend_breached": 0}]});
    let review = ReviewEntry { org: "acme", quarter: "2026-Q1", at: 1_775_001_600, figures: &figures };
    let kinds = [("status", status.fields(), 2), ("report", report.fields(), 3), ("review", review.fields(), 4)];
    kinds
        .into_iter()
        .map(|(kind, fields, n)| {
            let leaf = Leaf::new(&secret(n), fields.clone()).unwrap();
            let fields: Vec<Value> =
                fields.into_iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
            json!({"kind": kind, "secret": h(&secret(n)), "fields": fields, "leaf_hash": h(&leaf.hash())})
        })
        .collect()
}

/// Review bundles (docs/ledger.md §6.5) with the verdict each verifier must reach.
fn review_vectors() -> Vec<Value> {
    let key = test_key(1);
    let pin = PublicKey::of(&key).to_string();
    let good = support::review_bundle(&key);
    let mut edited = good.clone();
    edited.review.figures["attainment"][0]["breached"] = json!(0);
    edited.review.disclosed.iter_mut().find(|d| d.name == "figures").unwrap().value = edited.review.figures.clone();
    let mut unshown = good.clone();
    unshown.review.figures["tickets"] = json!(4);
    [("a review's figures", &good), ("a frozen figure edited", &edited), ("figures shown unlike the leaf", &unshown)]
        .into_iter()
        .map(|(name, bundle)| {
            let pinned: PublicKey = pin.parse().unwrap();
            let error = verify_review_bundle(bundle, Some(&pinned), None).err().map(|e| e.to_string());
            json!({"name": name, "key": pin, "error": error, "bundle": bundle})
        })
        .collect()
}

#[test]
fn a_review_bundle_proves_its_figures() {
    let key = test_key(1);
    let good = support::review_bundle(&key);
    let verified = verify_review_bundle(&good, Some(&PublicKey::of(&key)), None).unwrap();
    assert_eq!((verified.entries, verified.tree_size), (1, 40));
    let mut later = good.clone();
    later.review.at = "2026-04-01T00:00:01Z".to_owned();
    let (event, problem) = entry_error(verify_review_bundle(&later, None, None));
    assert_eq!(event, "review acme 2026-Q1 at 2026-04-01T00:00:01Z (leaf 39)");
    assert_eq!(problem, EntryProblem::Changed("at".into()));
    let mut withheld = good.clone();
    let figures = withheld.review.disclosed.iter().position(|d| d.name == "figures").unwrap();
    let digest = withheld.review.disclosed.remove(figures).digest().unwrap();
    withheld.review.withheld.push(digest);
    assert_eq!(entry_error(verify_review_bundle(&withheld, None, None)).1, EntryProblem::Undisclosed("figures".into()));
    let text = serde_json::to_string(&good).unwrap();
    assert_eq!(ReviewBundle::from_json(&text).unwrap(), good);
    assert!(matches!(verify_review_bundle(&good, Some(&PublicKey::of(&test_key(9))), None), Err(BundleError::Key(_))));
}

/// Bundles with the verdict each verifier must reach: `error` is the message of the first
/// failure (`null` when the bundle verifies).
fn bundle_vectors() -> Vec<Value> {
    let key = test_key(1);
    let pin = PublicKey::of(&key).to_string();
    let stranger = PublicKey::of(&test_key(9)).to_string();
    let world = World::new(40);
    let before = world.bundle(30, false, None, &key);
    let after = world.bundle(40, false, Some(30), &key);
    let staff = world.bundle(40, true, Some(30), &key);

    let mut edited = after.clone();
    edited.entries[1].shown.at = "2026-01-01T00:02:00Z".to_owned();
    edited.entries[1].disclosed.iter_mut().find(|d| d.name == "at").unwrap().value = json!(1_767_225_720);
    let mut deleted = after.clone();
    deleted.entries.remove(1);
    let mut swapped = after.clone();
    let (a, b) = (swapped.entries[1].shown.clone(), swapped.entries[3].shown.clone());
    swapped.entries[1].shown = b;
    swapped.entries[3].shown = a;
    let mut rows = support::acme_rows();
    rows[1].1.at += 60;
    let rewritten = World::with_rows(40, rows).bundle(40, false, Some(30), &test_key(5));
    let mut float = after.clone();
    float.entries[3].shown.body = json!({"minutes": 60.5});
    float.entries[3].disclosed.iter_mut().find(|d| d.name == "body.minutes").unwrap().value = json!(60.5);

    let reported = World::with_report();
    let with_report = reported.bundle_with_report(40, false, &key);
    let staff_report = reported.bundle_with_report(40, true, &key);
    let mut report_edited = with_report.clone();
    let edit = |text: &mut Value| text["sections"]["root_cause"] = json!("Nobody knows.");
    edit(&mut report_edited.reports[0].shown.customer_text);
    edit(&mut report_edited.reports[0].disclosed.iter_mut().find(|d| d.name == "customer_text").unwrap().value);

    let cases: Vec<(&str, &Bundle, Option<&str>, Option<Value>)> = vec![
        ("a customer's bundle", &before, Some(&pin), None),
        ("a later customer's bundle against the earlier one", &after, Some(&pin), Some(json!(before))),
        ("a staff bundle against an earlier head", &staff, Some(&pin), Some(json!(before.head))),
        ("an unpinned bundle", &after, None, None),
        ("an instant edited in the database", &edited, Some(&pin), None),
        ("an entry deleted", &deleted, Some(&pin), Some(json!(before))),
        ("two entries' contents swapped", &swapped, Some(&pin), None),
        ("history rewritten and signed by a new key", &rewritten, Some(&pin), Some(json!(before))),
        ("a float in a disclosed value", &float, Some(&pin), None),
        ("a key that is not pinned", &after, Some(&stranger), None),
        ("a customer's bundle with a published report", &with_report, Some(&pin), None),
        ("a staff bundle with a published report", &staff_report, Some(&pin), None),
        ("a published report's text edited", &report_edited, Some(&pin), None),
    ];
    cases
        .into_iter()
        .map(|(name, bundle, key, previous)| {
            let pinned: Option<PublicKey> = key.map(|k| k.parse().unwrap());
            let prev = previous.as_ref().map(|p| Previous::from_json(&p.to_string()).unwrap());
            let error = verify_bundle(bundle, pinned.as_ref(), prev.as_ref()).err().map(|e| e.to_string());
            json!({"name": name, "key": key, "previous": previous, "error": error, "bundle": bundle})
        })
        .collect()
}

#[test]
fn the_worked_vectors_in_the_docs_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ledger-vectors.json");
    let fresh = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var_os("STRINGER_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == fresh,
        "docs/ledger-vectors.json is stale: run STRINGER_BLESS=1 cargo test -p stringer-ledger --test format"
    );
    // The verdicts in the file are the ones the vectors were written to show.
    let v: Value = serde_json::from_str(&stored).unwrap();
    let verdicts: Vec<(String, bool)> = v["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["name"].as_str().unwrap().to_owned(), b["error"].is_null()))
        .collect();
    let ok: Vec<&str> = verdicts.iter().filter(|(_, ok)| *ok).map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        ok,
        [
            "a customer's bundle",
            "a later customer's bundle against the earlier one",
            "a staff bundle against an earlier head",
            "an unpinned bundle",
            "a customer's bundle with a published report",
            "a staff bundle with a published report",
        ]
    );
    assert_eq!(verdicts.len(), 13);
    for b in v["bundles"].as_array().unwrap() {
        let bundle: Bundle = serde_json::from_value(b["bundle"].clone()).unwrap();
        let error = b["error"].as_str().unwrap_or("");
        if b["name"].as_str().unwrap().contains("deleted") || b["name"].as_str().unwrap().contains("rewritten") {
            assert!(
                error.starts_with("ACME-42 seq 2 ticket.acknowledged at 2026-01-01T00:01:00Z (leaf 10): "),
                "{error}"
            );
        }
        let reports = b["name"].as_str().unwrap().contains("report");
        assert_eq!(bundle.format, if reports { FORMAT_V2 } else { FORMAT });
        assert_eq!(bundle.reports.len(), usize::from(reports));
    }
    let d: Disclosed = serde_json::from_value(json!({"name": "kind", "salt": "00".repeat(32), "value": "x"})).unwrap();
    assert_eq!(d.name, "kind");
}

#[test]
fn a_report_publication_proves_the_customer_text_and_withholds_the_staff_text() {
    let key = test_key(1);
    let world = World::with_report();
    let customer = world.bundle_with_report(40, false, &key);
    let verified = verify_bundle(&customer, Some(&PublicKey::of(&key)), None).unwrap();
    assert_eq!(verified.entries, customer.entries.len() + 1);
    let report = &customer.reports[0];
    assert!(report.shown.staff_text.is_none() && !report.disclosed.iter().any(|d| d.name == "staff_text"));
    assert_eq!(report.withheld.len(), 1, "staff_text is given as its digest alone");
    assert!(!serde_json::to_string(&customer).unwrap().contains("Paged Bob"), "no staff-only words");
    let staff = world.bundle_with_report(40, true, &key);
    verify_bundle(&staff, None, Some(&Previous::Bundle(Box::new(customer.clone())))).unwrap();

    let named = |bundle: &Bundle| entry_error(verify_bundle(bundle, None, None));
    let event = "ACME-42 report text 1 at 2026-01-01T04:00:00Z (leaf 38)";
    let mut changed = customer.clone();
    changed.reports[0].shown.text_version = 2;
    assert_eq!(named(&changed).1, EntryProblem::Changed("text_version".into()));
    let mut hidden = customer.clone();
    hidden.reports[0].shown.staff_text = Some(json!("the whole text"));
    assert_eq!(named(&hidden), (event.to_owned(), EntryProblem::Undisclosed("staff_text".into())));
    let mut other = customer.clone();
    other.reports[0].disclosed.iter_mut().find(|d| d.name == "entry").unwrap().value = json!("timeline");
    assert_eq!(named(&other).1, EntryProblem::OtherTicket("entry".into()));
    let mut v1 = customer.clone();
    v1.format = FORMAT.to_owned();
    assert!(matches!(verify_bundle(&v1, None, None), Err(BundleError::Malformed(_))));
    let mut dropped = staff.clone();
    dropped.reports.clear();
    dropped.format = FORMAT.to_owned();
    let (event, problem) = entry_error(verify_bundle(&dropped, None, Some(&Previous::Bundle(Box::new(customer)))));
    assert_eq!(
        (event.as_str(), problem),
        ("ACME-42 report text 1 at 2026-01-01T04:00:00Z (leaf 38)", EntryProblem::Missing)
    );
}

//! What the ledger's tests share: RFC 9162's recursive definitions written out naively, and a
//! small log with a ticket's entries among another org's, from which bundles are cut.
#![allow(dead_code)]

use serde_json::{Value, json};
use stringer_ledger::Hash;
use stringer_ledger::bundle::{
    Bundle, Consistency, Entry, FORMAT, FORMAT_V2, LogInfo, Pending, REVIEW_FORMAT, ReportProof, ReportShown,
    ReviewBundle, ReviewProof, Shown, TicketRef,
};
use stringer_ledger::encode::{Leaf, ReportEntry, ReviewEntry, TimelineEntry};
use stringer_ledger::head::{PublicKey, Rotation, SigningKey, TreeHead};
use stringer_ledger::tree::{self, MemoryTree, empty_root, leaf_hash, node_hash};

/// Leaf `i`'s hash in the trees of the tree tests: its data is `u64be(i)`.
pub fn leaf(i: u64) -> Hash {
    leaf_hash(&i.to_be_bytes())
}

pub fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(leaf).collect()
}

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.1 MTH over leaf hashes, recursively.
pub fn naive_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&naive_mth(&d[..k]), &naive_mth(&d[k..]))
        }
    }
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
pub fn naive_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() <= 1 {
        return Vec::new();
    }
    let k = k_of(d.len());
    let (mut path, sibling) = if m < k {
        (naive_path(m, &d[..k]), naive_mth(&d[k..]))
    } else {
        (naive_path(m - k, &d[k..]), naive_mth(&d[..k]))
    };
    path.push(sibling);
    path
}

/// RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
pub fn naive_proof(m: usize, d: &[Hash]) -> Vec<Hash> {
    naive_subproof(m, d, true)
}

fn naive_subproof(m: usize, d: &[Hash], complete: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if complete { Vec::new() } else { vec![naive_mth(d)] };
    }
    let k = k_of(n);
    let (mut proof, sibling) = if m <= k {
        (naive_subproof(m, &d[..k], complete), naive_mth(&d[k..]))
    } else {
        (naive_subproof(m - k, &d[k..], false), naive_mth(&d[..k]))
    };
    proof.push(sibling);
    proof
}

/// A throw-away signing key for tests and vectors; never a real log's.
pub fn test_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub const LOG_ID: [u8; 32] = [0x42; 32];

/// Fields a customer sees only as digests.
pub const STAFF_ONLY: [&str; 5] = ["actor", "body.by", "body.to", "body.via", "body.notify"];

/// One of the ticket's timeline entries.
#[derive(Clone)]
pub struct Row {
    pub seq: i64,
    pub at: i64,
    pub kind: &'static str,
    pub actor: Option<&'static str>,
    pub body: Value,
    pub version: Option<i64>,
}

/// A log of `size` leaves in which ACME-42's entries sit at fixed indices and another org's
/// entries fill the rest.
pub struct World {
    pub ticket: TicketRef,
    pub rows: Vec<(u64, Row)>,
    pub leaves: Vec<Leaf>,
    pub tree: MemoryTree,
}

pub fn secret(i: u64) -> [u8; 32] {
    tree::sha256(&[b"test secret", &i.to_be_bytes()])
}

pub fn acme_rows() -> Vec<(u64, Row)> {
    vec![
        (
            3,
            Row {
                seq: 1,
                at: 1_767_225_600,
                kind: "ticket.opened",
                actor: Some("usr_cust"),
                body: json!({"severity": "sev2", "subject": "Checkout \"down\"\n\u{e9}\u{1f600}", "tier": "gold"}),
                version: Some(1),
            },
        ),
        (
            10,
            Row {
                seq: 2,
                at: 1_767_225_660,
                kind: "ticket.acknowledged",
                actor: Some("usr_staff1"),
                body: json!({"by": "usr_staff1", "at": "2026-01-01T00:01:00Z"}),
                version: Some(2),
            },
        ),
        (
            11,
            Row {
                seq: 3,
                at: 1_767_225_660,
                kind: "notice.paged",
                actor: None,
                body: json!({"to": ["usr_staff2"], "via": "sms", "step": 1}),
                version: None,
            },
        ),
        (
            25,
            Row {
                seq: 4,
                at: 1_767_229_200,
                kind: "ticket.resolved",
                actor: Some("usr_staff1"),
                body: json!({"by": "usr_staff1", "minutes": 60}),
                version: Some(3),
            },
        ),
        (37, Row { seq: 5, at: 1_767_232_800, kind: "ticket.closed", actor: None, body: json!({}), version: Some(4) }),
    ]
}

impl World {
    pub fn new(size: u64) -> World {
        World::with_rows(size, acme_rows())
    }

    pub fn with_rows(size: u64, rows: Vec<(u64, Row)>) -> World {
        let ticket = TicketRef { id: "tkt_01JGZ0ACME42".to_owned(), key: "ACME-42".to_owned(), org: "acme".to_owned() };
        let mut leaves = Vec::new();
        for i in 0..size {
            let leaf = match rows.iter().find(|(index, _)| *index == i) {
                Some((_, row)) => World::leaf_of(&ticket, row, i),
                None => {
                    let body = json!({"subject": format!("globex secret {i}")});
                    TimelineEntry {
                        org: "globex",
                        ticket: "tkt_01JGZ0GLOBEX",
                        version: Some(i as i64),
                        at: 1_767_225_000 + i as i64,
                        kind: "ticket.commented",
                        actor: Some("usr_globex"),
                        body: &body,
                    }
                    .leaf(&secret(i))
                    .unwrap()
                }
            };
            leaves.push(leaf);
        }
        let tree = MemoryTree::from_leaves(leaves.iter().map(Leaf::hash));
        World { ticket, rows, leaves, tree }
    }

    fn leaf_of(ticket: &TicketRef, row: &Row, i: u64) -> Leaf {
        TimelineEntry {
            org: &ticket.org,
            ticket: &ticket.id,
            version: row.version,
            at: row.at,
            kind: row.kind,
            actor: row.actor,
            body: &row.body,
        }
        .leaf(&secret(i))
        .unwrap()
    }

    /// What the timeline shows this reader.
    pub fn shown(row: &Row, staff: bool) -> Shown {
        let at = jiff::Timestamp::from_second(row.at).unwrap().to_string();
        let mut body = row.body.clone();
        if let (false, Value::Object(map)) = (staff, &mut body) {
            map.retain(|k, _| !STAFF_ONLY.contains(&format!("body.{k}").as_str()));
        }
        Shown { at, kind: row.kind.to_owned(), actor: if staff { row.actor.map(str::to_owned) } else { None }, body }
    }

    /// A bundle under a head of `head_size` leaves, signed by `key`, with a consistency proof
    /// from `from` if given.
    pub fn bundle(&self, head_size: u64, staff: bool, from: Option<u64>, key: &SigningKey) -> Bundle {
        let head = TreeHead {
            log_id: LOG_ID,
            tree_size: head_size,
            root_hash: tree::root(&self.tree, head_size).unwrap(),
            timestamp: 1_767_300_000 + head_size,
        }
        .sign(key);
        let public_key = PublicKey::of(key);
        let mut entries = Vec::new();
        let mut pending = Vec::new();
        for (index, row) in &self.rows {
            let shown = World::shown(row, staff);
            if *index >= head_size {
                pending.push(Pending { seq: row.seq, shown });
                continue;
            }
            let (disclosed, withheld) =
                self.leaves[*index as usize].disclose(|name| staff || !STAFF_ONLY.contains(&name));
            entries.push(Entry {
                leaf_index: *index,
                seq: row.seq,
                shown,
                disclosed,
                withheld,
                inclusion: tree::inclusion_proof(&self.tree, *index, head_size).unwrap(),
            });
        }
        let consistency = from.map(|m| Consistency {
            from_size: m,
            from_root: tree::root(&self.tree, m).unwrap(),
            proof: if m == head_size { Vec::new() } else { tree::consistency_proof(&self.tree, m, head_size).unwrap() },
        });
        Bundle {
            format: FORMAT.to_owned(),
            log: LogInfo { log_id: LOG_ID, public_key, key_id: public_key.key_id(), rotations: Vec::<Rotation>::new() },
            head,
            consistency,
            ticket: self.ticket.clone(),
            entries,
            pending,
            reports: Vec::new(),
        }
    }
}

/// The leaf index of the report publication in [`World::with_report`].
pub const REPORT_LEAF: u64 = 38;

/// The published report's texts: what the org's people read, and the whole (with a
/// staff-only timeline line).
pub fn report_texts() -> (Value, Value) {
    let sections = json!({"summary": "Checkout was down for an hour.", "root_cause": "A full disk."});
    let customer = json!({"sections": sections, "timeline": [{"key": "t:1", "at": 1_767_225_600, "what": "Opened"}]});
    let staff = json!({"sections": sections, "timeline": [
        {"key": "t:1", "at": 1_767_225_600, "what": "Opened by Ann", "customer": "Opened"},
        {"key": "d:1", "at": 1_767_225_660, "what": "Paged Bob (on call)", "customer": null}]});
    (customer, staff)
}

impl World {
    /// The ACME world of 40 leaves with leaf [`REPORT_LEAF`] a publication of ACME-42's report
    /// (text 1).
    pub fn with_report() -> World {
        let mut world = World::new(40);
        let (customer, staff) = report_texts();
        let entry = ReportEntry {
            org: &world.ticket.org,
            ticket: &world.ticket.id,
            text_version: 1,
            at: 1_767_240_000,
            customer_text: &customer,
            staff_text: &staff,
        };
        world.leaves[REPORT_LEAF as usize] = entry.leaf(&secret(REPORT_LEAF)).unwrap();
        world.tree = MemoryTree::from_leaves(world.leaves.iter().map(Leaf::hash));
        world
    }

    /// [`World::bundle`] with the report publication (version 2): a customer's withholds
    /// `staff_text`.
    pub fn bundle_with_report(&self, head_size: u64, staff: bool, key: &SigningKey) -> Bundle {
        let mut bundle = self.bundle(head_size, staff, None, key);
        let (customer, whole) = report_texts();
        let leaf = &self.leaves[REPORT_LEAF as usize];
        let (disclosed, withheld) = leaf.disclose(|name| staff || name != "staff_text");
        bundle.format = FORMAT_V2.to_owned();
        bundle.reports.push(ReportProof {
            leaf_index: REPORT_LEAF,
            shown: ReportShown {
                text_version: 1,
                at: "2026-01-01T04:00:00Z".to_owned(),
                customer_text: customer,
                staff_text: staff.then_some(whole),
            },
            disclosed,
            withheld,
            inclusion: tree::inclusion_proof(&self.tree, REPORT_LEAF, head_size).unwrap(),
        });
        bundle
    }
}

/// The leaf index of the review figure set in [`review_bundle`].
pub const REVIEW_LEAF: u64 = 39;

/// ACME's 2026-Q1 review figures.
pub fn review_figures() -> Value {
    json!({"tier": "gold", "tickets": 3, "attainment": [{"severity": "sev2", "target": "response",
        "met": 2, "breached": 1, "running": 0, "withdrawn": 0, "weekend_met": 0, "weekend_breached": 0}],
        "by_week": [1, 0, 2]})
}

/// A review bundle of ACME's 2026-Q1 figures at leaf [`REVIEW_LEAF`] of the ACME world, under
/// a head of 40 leaves signed by `key`.
pub fn review_bundle(key: &SigningKey) -> ReviewBundle {
    let mut world = World::new(40);
    let figures = review_figures();
    let entry = ReviewEntry { org: "acme", quarter: "2026-Q1", at: 1_775_001_600, figures: &figures };
    world.leaves[REVIEW_LEAF as usize] = entry.leaf(&secret(REVIEW_LEAF)).unwrap();
    world.tree = MemoryTree::from_leaves(world.leaves.iter().map(Leaf::hash));
    let head = TreeHead {
        log_id: LOG_ID,
        tree_size: 40,
        root_hash: tree::root(&world.tree, 40).unwrap(),
        timestamp: 1_775_002_000,
    }
    .sign(key);
    let public_key = PublicKey::of(key);
    let (disclosed, withheld) = world.leaves[REVIEW_LEAF as usize].disclose(|_| true);
    ReviewBundle {
        format: REVIEW_FORMAT.to_owned(),
        log: LogInfo { log_id: LOG_ID, public_key, key_id: public_key.key_id(), rotations: Vec::new() },
        head,
        consistency: None,
        review: ReviewProof {
            org: "acme".to_owned(),
            quarter: "2026-Q1".to_owned(),
            leaf_index: REVIEW_LEAF,
            at: "2026-04-01T00:00:00Z".to_owned(),
            figures,
            disclosed,
            withheld,
            inclusion: tree::inclusion_proof(&world.tree, REVIEW_LEAF, 40).unwrap(),
        },
    }
}

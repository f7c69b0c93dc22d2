//! An inclusion proof at 10,000,000 leaves: assembled from a node source, then verified. The
//! source synthesizes the tree (identical leaves, so every subtree of a level has one hash), so
//! this measures the crate's planning, assembly and hashing, not a store's reads.
//! Run: `cargo bench -p stringer-ledger --bench proof`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use stringer_ledger::Hash;
use stringer_ledger::tree::{Node, NodeSource, inclusion_proof, leaf_hash, node_hash, root};
use stringer_ledger::verify::verify_inclusion;

const N: u64 = 10_000_000;

struct Uniform {
    size: u64,
    levels: Vec<Hash>,
}

impl NodeSource for Uniform {
    fn node(&self, node: Node) -> Option<Hash> {
        let end = node.index.checked_add(1)?.checked_mul(1u64.checked_shl(node.level.into())?)?;
        (end <= self.size).then(|| self.levels[node.level as usize])
    }
}

fn proof(c: &mut Criterion) {
    let mut levels = vec![leaf_hash(b"leaf")];
    for l in 1..64 {
        levels.push(node_hash(&levels[l - 1], &levels[l - 1]));
    }
    let source = Uniform { size: N, levels };
    let top = root(&source, N).expect("a root");
    let mut index = 0u64;
    c.bench_function("inclusion proof and verification at 10M leaves", |b| {
        b.iter(|| {
            index = (index + 7_919_993) % N;
            let path = inclusion_proof(&source, black_box(index), N).expect("a proof");
            assert!(path.len() <= 24);
            verify_inclusion(&source.levels[0], index, N, &path, &top).expect("it verifies");
        })
    });
}

criterion_group!(benches, proof);
criterion_main!(benches);

//! The tree and its proofs: RFC 6962/9162 known answers, the recursive definitions written out
//! naively, ct-merkle as an independent implementation, properties over random trees, bad
//! input as errors, and proof sizes at 10,000,000 leaves.

mod support;

use proptest::prelude::*;
use sha2_11::Sha256;
use std::collections::HashMap;
use stringer_ledger::Hash;
use stringer_ledger::tree::{
    self, Frontier, MemoryTree, Node, NodeSource, TreeError, consistency_proof, empty_root, inclusion_proof, leaf_hash,
    mth, node_hash, plan_consistency, plan_inclusion, plan_root,
};
use stringer_ledger::verify::{ProofError, root_from_inclusion, verify_consistency, verify_inclusion};
use support::{leaf, leaves, naive_mth, naive_path, naive_proof};

fn hex32(s: &str) -> Hash {
    let mut out = [0; 32];
    hex::decode_to_slice(s, &mut out).unwrap();
    out
}

fn hexes(list: &[Hash]) -> Vec<String> {
    list.iter().map(hex::encode).collect()
}

/// The leaves of the Certificate Transparency test vectors (RFC 6962 implementations share them).
fn ct_leaves() -> Vec<Hash> {
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .iter()
        .map(|h| leaf_hash(&hex::decode(h).unwrap()))
        .collect()
}

const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn roots_of_the_certificate_transparency_vectors() {
    let d = ct_leaves();
    assert_eq!(hex::encode(empty_root()), CT_ROOTS[0]);
    for n in 0..=8 {
        let tree = MemoryTree::from_leaves(d[..n].iter().copied());
        assert_eq!(hex::encode(tree.root()), CT_ROOTS[n], "size {n}");
        assert_eq!(hex::encode(mth(&d[..n])), CT_ROOTS[n], "size {n}");
        assert_eq!(hex::encode(naive_mth(&d[..n])), CT_ROOTS[n], "size {n}");
    }
}

#[test]
fn proofs_of_the_certificate_transparency_vectors() {
    let tree = MemoryTree::from_leaves(ct_leaves());
    let root8 = hex32(CT_ROOTS[8]);
    let path = inclusion_proof(&tree, 5, 8).unwrap();
    assert_eq!(
        hexes(&path),
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ]
    );
    verify_inclusion(&ct_leaves()[5], 5, 8, &path, &root8).unwrap();
    let proof = consistency_proof(&tree, 3, 8).unwrap();
    assert_eq!(
        hexes(&proof),
        [
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ]
    );
    verify_consistency(3, 8, &hex32(CT_ROOTS[3]), &root8, &proof).unwrap();
    let proof = consistency_proof(&tree, 2, 5).unwrap();
    assert_eq!(
        hexes(&proof),
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ]
    );
    verify_consistency(2, 5, &hex32(CT_ROOTS[2]), &hex32(CT_ROOTS[5]), &proof).unwrap();
}

/// Sizes the tests walk whole: small trees and each side of powers of two.
fn sizes() -> Vec<u64> {
    let mut sizes = vec![0, 1, 2, 3, 4, 5, 7, 8, 9];
    for k in 4..=7 {
        sizes.extend([(1 << k) - 1, 1 << k, (1 << k) + 1]);
    }
    sizes
}

#[test]
fn every_proof_of_small_trees_equals_the_recursive_definition_and_verifies() {
    for n in sizes() {
        let d = leaves(n);
        let tree = MemoryTree::from_leaves(d.iter().copied());
        let root = naive_mth(&d);
        assert_eq!(tree.root(), root, "size {n}");
        assert_eq!(tree::root(&tree, n).unwrap(), root, "size {n}");
        for i in 0..n {
            let path = inclusion_proof(&tree, i, n).unwrap();
            assert_eq!(path, naive_path(i as usize, &d), "PATH({i}, D[{n}])");
            verify_inclusion(&d[i as usize], i, n, &path, &root).unwrap();
            assert!(path.len() <= 64 - (n - 1).leading_zeros() as usize);
        }
        for m in 1..n {
            let proof = consistency_proof(&tree, m, n).unwrap();
            assert_eq!(proof, naive_proof(m as usize, &d), "PROOF({m}, D[{n}])");
            verify_consistency(m, n, &naive_mth(&d[..m as usize]), &root, &proof).unwrap();
        }
    }
}

#[test]
fn the_frontier_gives_the_root_and_completes_each_subtree_once() {
    let d = leaves(70);
    let tree = MemoryTree::from_leaves(d.iter().copied());
    let mut frontier = Frontier::new();
    let mut completed: HashMap<Node, Hash> = HashMap::new();
    assert_eq!(frontier.root(), empty_root());
    for (i, h) in d.iter().enumerate() {
        for (node, hash) in frontier.push(*h).unwrap() {
            assert_eq!(tree.node(node), Some(hash), "{node:?}");
            assert!(completed.insert(node, hash).is_none(), "{node:?} completed twice");
        }
        assert_eq!(frontier.size(), i as u64 + 1);
        assert_eq!(frontier.root(), naive_mth(&d[..=i]));
        let stored = Frontier::from_bytes(frontier.size(), &frontier.to_bytes()).unwrap();
        assert_eq!(stored, frontier);
        for (node, hash) in frontier.subtrees() {
            assert_eq!(tree.node(node), Some(hash));
        }
    }
    // Every complete subtree of 70 leaves: 70 + 35 + 17 + 8 + 4 + 2 + 1.
    assert_eq!(completed.len(), 137);
    // A store's map of the completed subtrees answers any proof.
    assert_eq!(inclusion_proof(&completed, 33, 70).unwrap(), naive_path(33, &d));
    assert_eq!(consistency_proof(&completed, 21, 70).unwrap(), naive_proof(21, &d));
}

#[test]
fn plans_name_exactly_the_subtrees_a_proof_reads() {
    let d = leaves(100);
    let tree = MemoryTree::from_leaves(d.iter().copied());
    for (i, n) in [(0, 1), (5, 9), (63, 100), (99, 100), (64, 65)] {
        let planned: HashMap<Node, Hash> =
            plan_inclusion(i, n).unwrap().into_iter().map(|node| (node, tree.node(node).unwrap())).collect();
        assert_eq!(inclusion_proof(&planned, i, n).unwrap(), naive_path(i as usize, &d[..n as usize]));
    }
    for (m, n) in [(1, 2), (3, 9), (64, 100), (99, 100), (37, 64)] {
        let planned: HashMap<Node, Hash> =
            plan_consistency(m, n).unwrap().into_iter().map(|node| (node, tree.node(node).unwrap())).collect();
        assert_eq!(consistency_proof(&planned, m, n).unwrap(), naive_proof(m as usize, &d[..n as usize]));
    }
    // Without one of its nodes a proof is an error naming it.
    let mut planned: HashMap<Node, Hash> =
        plan_inclusion(5, 9).unwrap().into_iter().map(|node| (node, tree.node(node).unwrap())).collect();
    let gone = *planned.keys().next().unwrap();
    planned.remove(&gone);
    assert_eq!(inclusion_proof(&planned, 5, 9), Err(TreeError::MissingNode(gone)));
    // The root of an earlier size reads its frontier's subtrees, and only those.
    for n in [1, 2, 7, 16, 63, 100] {
        let planned: HashMap<Node, Hash> =
            plan_root(n).into_iter().map(|node| (node, tree.node(node).unwrap())).collect();
        assert_eq!(planned.len(), n.count_ones() as usize);
        assert_eq!(tree::root(&planned, n).unwrap(), naive_mth(&d[..n as usize]));
    }
    assert!(plan_root(0).is_empty());
}

#[test]
fn bad_sizes_and_indices_are_errors_not_panics() {
    let tree = MemoryTree::from_leaves(leaves(8));
    assert_eq!(inclusion_proof(&tree, 8, 8), Err(TreeError::IndexBeyond { index: 8, size: 8 }));
    assert_eq!(inclusion_proof(&tree, 0, 0), Err(TreeError::IndexBeyond { index: 0, size: 0 }));
    assert_eq!(plan_inclusion(u64::MAX, u64::MAX), Err(TreeError::IndexBeyond { index: u64::MAX, size: u64::MAX }));
    assert!(matches!(inclusion_proof(&tree, 3, 9), Err(TreeError::MissingNode(_))));
    assert!(matches!(tree::root(&tree, 1 << 40), Err(TreeError::MissingNode(_))));
    for (m, n) in [(0, 8), (8, 8), (9, 8), (0, 0), (u64::MAX, u64::MAX)] {
        assert_eq!(consistency_proof(&tree, m, n), Err(TreeError::BadSizes { from: m, to: n }));
    }
    assert_eq!(Node { level: 4, index: 3 }.first_leaf(), Some(48));
    assert_eq!(Node { level: 200, index: 1 }.first_leaf(), None);
    assert_eq!(Node { level: 1, index: u64::MAX }.first_leaf(), None);
    assert!(plan_inclusion(u64::MAX - 1, u64::MAX).unwrap().len() <= 64);
    assert!(plan_consistency(u64::MAX - 1, u64::MAX).unwrap().len() <= 128);
    assert_eq!(Frontier::from_bytes(3, &[0; 32]), Err(TreeError::BadFrontier { bytes: 32, size: 3 }));
    assert_eq!(Frontier::from_bytes(3, &[0; 65]), Err(TreeError::BadFrontier { bytes: 65, size: 3 }));

    let root = tree.root();
    let path = inclusion_proof(&tree, 2, 8).unwrap();
    assert_eq!(root_from_inclusion(&leaf(2), 2, 8, &path), Ok(root));
    assert_eq!(verify_inclusion(&leaf(2), 8, 8, &path, &root), Err(ProofError::IndexBeyond { index: 8, size: 8 }));
    assert_eq!(verify_inclusion(&leaf(2), 0, 0, &[], &root), Err(ProofError::IndexBeyond { index: 0, size: 0 }));
    assert_eq!(verify_inclusion(&leaf(2), 2, 8, &path[..2], &root), Err(ProofError::WrongLength));
    let long: Vec<Hash> = path.iter().chain(path.iter()).copied().collect();
    assert_eq!(verify_inclusion(&leaf(2), 2, 8, &long, &root), Err(ProofError::WrongLength));
    assert_eq!(verify_inclusion(&leaf(2), 2, u64::MAX, &path, &root), Err(ProofError::WrongLength));
    let proof = consistency_proof(&tree, 3, 8).unwrap();
    let root3 = mth(&leaves(3));
    assert_eq!(verify_consistency(3, 8, &root3, &root, &[]), Err(ProofError::WrongLength));
    assert_eq!(verify_consistency(0, 8, &root3, &root, &proof), Err(ProofError::BadSizes { from: 0, to: 8 }));
    assert_eq!(verify_consistency(8, 8, &root, &root, &proof), Err(ProofError::BadSizes { from: 8, to: 8 }));
    assert_eq!(verify_consistency(9, 8, &root, &root, &proof), Err(ProofError::BadSizes { from: 9, to: 8 }));
    assert_eq!(verify_consistency(3, u64::MAX, &root3, &root, &proof), Err(ProofError::WrongLength));
    let long: Vec<Hash> = proof.iter().chain(proof.iter()).copied().collect();
    assert_eq!(verify_consistency(3, 8, &root3, &root, &long), Err(ProofError::WrongLength));
}

/// A tree of identical leaves: every complete subtree of a level has the same hash, so a
/// source answers any size without holding the leaves.
struct Uniform {
    size: u64,
    levels: Vec<Hash>,
}

impl Uniform {
    fn new(size: u64) -> Uniform {
        let mut levels = vec![leaf(0)];
        for l in 1..64 {
            levels.push(node_hash(&levels[l - 1], &levels[l - 1]));
        }
        Uniform { size, levels }
    }
}

impl NodeSource for Uniform {
    fn node(&self, node: Node) -> Option<Hash> {
        let end = node.index.checked_add(1)?.checked_mul(1u64.checked_shl(node.level.into())?)?;
        (end <= self.size).then(|| self.levels[node.level as usize])
    }
}

#[test]
fn proofs_at_ten_million_leaves_hold_at_most_24_hashes() {
    const N: u64 = 10_000_000;
    let source = Uniform::new(N);
    let root = tree::root(&source, N).unwrap();
    let mut indices: Vec<u64> = vec![0, 1, N / 2, (1 << 23) - 1, 1 << 23, N - 2, N - 1];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..500 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        indices.push(x % N);
    }
    let mut longest = 0;
    for i in indices {
        let path = inclusion_proof(&source, i, N).unwrap();
        assert!(path.len() <= 24, "leaf {i}: {} hashes", path.len());
        longest = longest.max(path.len());
        verify_inclusion(&leaf(0), i, N, &path, &root).unwrap();
        assert!(plan_inclusion(i, N).unwrap().len() <= 48);
    }
    assert_eq!(longest, 24);
    for m in [1, 2, 3, 1_000, 4_194_304, 9_999_999] {
        let proof = consistency_proof(&source, m, N).unwrap();
        assert!(proof.len() <= 2 * 24, "from {m}: {} hashes", proof.len());
        verify_consistency(m, N, &tree::root(&source, m).unwrap(), &root, &proof).unwrap();
    }
}

fn flip(hashes: &mut [Hash], at: usize, bit: u8) {
    let n = hashes.len();
    hashes[at % n][(bit / 8) as usize % 32] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_inclusion_proof_verifies_and_no_altered_one_does(n in 1u64..600, i in any::<u64>(), at in any::<usize>(), bit in any::<u8>()) {
        let i = i % n;
        let tree = MemoryTree::from_leaves(leaves(n));
        let root = tree.root();
        let path = inclusion_proof(&tree, i, n).unwrap();
        prop_assert_eq!(verify_inclusion(&leaf(i), i, n, &path, &root), Ok(()));
        prop_assert!(verify_inclusion(&leaf(i + 1), i, n, &path, &root).is_err());
        if n > 1 {
            prop_assert!(verify_inclusion(&leaf(i), (i + 1) % n, n, &path, &root).is_err());
            let mut bad = path.clone();
            flip(&mut bad, at, bit);
            prop_assert!(verify_inclusion(&leaf(i), i, n, &bad, &root).is_err());
        }
        let mut bad_root = root;
        bad_root[bit as usize % 32] ^= 1;
        prop_assert!(verify_inclusion(&leaf(i), i, n, &path, &bad_root).is_err());
    }

    #[test]
    fn every_consistency_proof_verifies_and_no_altered_one_does(n in 2u64..600, m in any::<u64>(), at in any::<usize>(), bit in any::<u8>()) {
        let m = 1 + m % (n - 1);
        let d = leaves(n);
        let tree = MemoryTree::from_leaves(d.iter().copied());
        let (old, new) = (mth(&d[..m as usize]), tree.root());
        let proof = consistency_proof(&tree, m, n).unwrap();
        prop_assert_eq!(verify_consistency(m, n, &old, &new, &proof), Ok(()));
        let mut bad = proof.clone();
        flip(&mut bad, at, bit);
        prop_assert!(verify_consistency(m, n, &old, &new, &bad).is_err());
        let mut other = d.clone();
        other[at % m as usize] = leaf(n + 7);
        prop_assert!(verify_consistency(m, n, &mth(&other[..m as usize]), &new, &proof).is_err());
        prop_assert!(verify_consistency(m, n, &old, &mth(&other), &proof).is_err());
    }

    #[test]
    fn roots_and_proofs_equal_ct_merkle_and_each_verifies_the_others(n in 1u64..2000, i in any::<u64>(), m in any::<u64>()) {
        use ct_merkle::mem_backed_tree::MemoryBackedTree;
        use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
        let i = i % n;
        let data: Vec<[u8; 8]> = (0..n).map(u64::to_be_bytes).collect();
        let mut theirs = MemoryBackedTree::<Sha256, [u8; 8]>::new();
        for d in &data {
            theirs.push(*d);
        }
        let ours = MemoryTree::from_leaves(leaves(n));
        let their_root = theirs.root();
        prop_assert_eq!(their_root.as_bytes().as_slice(), &ours.root()[..]);

        let path = inclusion_proof(&ours, i, n).unwrap();
        let their_path = theirs.prove_inclusion(i as usize);
        let path_bytes = path.concat();
        prop_assert_eq!(their_path.as_bytes(), path_bytes.as_slice());
        let ours_as_theirs = InclusionProof::<Sha256>::try_from_bytes(path_bytes).unwrap();
        prop_assert!(their_root.verify_inclusion(&data[i as usize], i, &ours_as_theirs).is_ok());
        let theirs_as_ours: Vec<Hash> = their_path.as_bytes().chunks(32).map(|c| c.try_into().unwrap()).collect();
        prop_assert_eq!(verify_inclusion(&leaf(i), i, n, &theirs_as_ours, &ours.root()), Ok(()));

        if n > 1 {
            let m = 1 + m % (n - 1);
            let proof = consistency_proof(&ours, m, n).unwrap();
            let their_proof = theirs.prove_consistency((n - m) as usize);
            let proof_bytes = proof.concat();
            prop_assert_eq!(their_proof.as_bytes(), proof_bytes.as_slice());
            let old = mth(&leaves(m));
            let their_old = RootHash::<Sha256>::new(old.into(), m);
            let ours_as_theirs = ConsistencyProof::<Sha256>::try_from_bytes(proof_bytes).unwrap();
            prop_assert!(their_root.verify_consistency(&their_old, &ours_as_theirs).is_ok());
        }
    }
}

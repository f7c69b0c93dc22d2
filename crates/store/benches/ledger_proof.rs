//! An inclusion proof served from the store at 10,000,000 leaves (issue 28: at most 24 hashes,
//! under 1 ms): a real SQLite file is filled with a log of that size as migrations 41 and 45
//! keep it (`ledger_leaves`, each row with the subtrees of 16 leaves and up that its leaf
//! completes, the frontier in `ledger_state`), then each iteration plans a proof for another
//! leaf, reads the subtrees it names through the `LedgerBook` port (one block of 16 leaves and
//! O(log n) leaf rows) and
//! assembles it — what `GET /api/v1/tickets/{id}/proof` does per entry. The proof is checked
//! against the root the store keeps.
//! Run: `cargo bench -p stringer-store --bench ledger_proof` (the fill takes a minute or two;
//! `LEDGER_BENCH_LEAVES` sets another size).

use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use std::hint::black_box;
use std::path::Path;
use stringer_app::ledger::LedgerBook;
use stringer_ledger::tree::{Frontier, inclusion_proof, leaf_hash, plan_inclusion};
use stringer_ledger::verify::verify_inclusion;
use stringer_store::SqlStore;

/// Leaves per insert transaction.
const BATCH: u64 = 100_000;
/// Rows per INSERT statement (SQLite's default limit is 32,766 parameters).
const ROWS: usize = 500;

/// The synthetic leaf `i`: distinct per index, so every subtree hash differs.
fn leaf(i: u64) -> [u8; 32] {
    leaf_hash(&i.to_be_bytes())
}

/// Fills the migrated database at `path` with `n` leaves, their stored subtrees and frontier.
async fn fill(path: &Path, n: u64) -> [u8; 32] {
    let url = format!("sqlite://{}", path.display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut conn).await.unwrap();
    sqlx::query("PRAGMA synchronous = OFF").execute(&mut conn).await.unwrap();
    let mut frontier = Frontier::new();
    let secret = vec![0u8; 32];
    let mut from = 0;
    while from < n {
        let to = (from + BATCH).min(n);
        let mut tx = conn.begin().await.unwrap();
        let indices: Vec<u64> = (from..to).collect();
        for chunk in indices.chunks(ROWS) {
            let values = vec!["(?, ?, ?, 'timeline', ?, ?)"; chunk.len()].join(", ");
            let sql =
                format!("INSERT INTO ledger_leaves (idx, hash, secret, source, source_id, nodes) VALUES {values}");
            let mut query = sqlx::query(&sql);
            for &i in chunk {
                let hash = leaf(i);
                // As migration 45 documents: the subtrees of level 4 and up this leaf completes,
                // in level order.
                let nodes: Vec<u8> = frontier
                    .push(hash)
                    .unwrap()
                    .into_iter()
                    .filter(|(n, _)| n.level >= 4)
                    .flat_map(|(_, h)| h)
                    .collect();
                let nodes = (!nodes.is_empty()).then_some(nodes);
                query = query.bind(i as i64).bind(hash.to_vec()).bind(secret.clone()).bind(i as i64).bind(nodes);
            }
            query.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        from = to;
    }
    sqlx::query("UPDATE ledger_state SET size = ?, frontier = ? WHERE id = 1")
        .bind(n as i64)
        .bind(frontier.to_bytes())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    frontier.root()
}

fn proof(c: &mut Criterion) {
    let n: u64 = std::env::var("LEDGER_BENCH_LEAVES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("stringer-ledger-proof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stringer.db");
    let store = runtime.block_on(async {
        SqlStore::open_sqlite(&path).await.unwrap().close().await;
        let started = std::time::Instant::now();
        let root = fill(&path, n).await;
        eprintln!("filled {n} leaves in {:.1} s", started.elapsed().as_secs_f64());
        let store = SqlStore::open_sqlite(&path).await.unwrap();
        let state = store.log_state().await.unwrap();
        assert_eq!((state.size, state.root), (n, root), "the store keeps the filled log");
        store
    });
    let root = runtime.block_on(store.log_state()).unwrap().root;
    let mut index = 0u64;
    let mut longest = 0;
    c.bench_function(&format!("inclusion proof read from SQLite at {n} leaves"), |b| {
        b.iter(|| {
            index = (index + 7_919_993) % n;
            let plan = plan_inclusion(black_box(index), n).unwrap();
            let nodes = runtime.block_on(store.subtrees(&plan)).unwrap();
            let path = inclusion_proof(&nodes, index, n).unwrap();
            longest = longest.max(path.len());
            verify_inclusion(&leaf(index), index, n, &path, &root).unwrap();
        })
    });
    eprintln!("longest path: {longest} hashes");
    assert!(longest <= 24, "a proof at {n} leaves has at most 24 hashes");
    runtime.block_on(store.close());
    std::fs::remove_dir_all(&dir).unwrap();
}

criterion_group!(benches, proof);
criterion_main!(benches);

//! The ledger's helpers for black-box tests: run `stringer ledger`, sign a head as an admin,
//! keep JSON in a file, and run both verifiers (`stringer verify` and `tools/verify-bundle.py`)
//! on a bundle.

use super::{Db, Server};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `stringer ledger <args>` on `db`: its exit code and what it printed (stdout, then stderr).
pub fn ledger(db: &Db, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .arg("ledger")
        .args(args)
        .args(db.args())
        .env_remove("STRINGER_CONTRACT")
        .env_remove("STRINGER_CONFIG")
        .output()
        .unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), printed)
}

/// Writes `value` as `name` in `dir`; answers its path.
pub fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// Runs both verifiers on `bundle` with `key` pinned and `previous` (if any): each must say
/// the same, passed or not, and answers the Rust verifier's output.
pub fn verify_both(bundle: &Path, key: &str, previous: Option<&Path>) -> (bool, String) {
    let mut rust = Command::new(env!("CARGO_BIN_EXE_stringer"));
    rust.arg("verify").arg(bundle).args(["--key", key]);
    let python = std::env::var("STRINGER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut py = Command::new(python);
    py.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/verify-bundle.py")).arg(bundle).args(["--key", key]);
    if let Some(previous) = previous {
        rust.arg("--previous-head").arg(previous);
        py.arg("--previous-head").arg(previous);
    }
    let rust = rust.output().unwrap();
    let py = py.output().unwrap();
    let said = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };
    assert_eq!(
        rust.status.success(),
        py.status.success(),
        "the verifiers disagree:\nstringer verify: {}\nverify-bundle.py: {}",
        said(&rust),
        said(&py)
    );
    (rust.status.success(), format!("{}\n{}", said(&rust), said(&py)))
}

/// Signs the log's head now as `admin` (`POST /api/v1/ledger/heads`); answers it.
pub async fn sign(server: &Server, admin: &str) -> Value {
    let (status, head) = server.call(Method::POST, "/api/v1/ledger/heads", Some(admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{head}");
    head
}

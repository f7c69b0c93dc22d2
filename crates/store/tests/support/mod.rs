//! What the store's test files share: fresh databases on both backends.

/// A fresh database named after `test` on the test server, dropped first if it exists.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("STRINGER_TEST_POSTGRES_URL") {
        Ok(base) => Some(fresh_postgres_database(&base, test)),
        Err(_) if std::env::var("STRINGER_REQUIRE_POSTGRES").is_ok() => {
            panic!("STRINGER_REQUIRE_POSTGRES is set but STRINGER_TEST_POSTGRES_URL is not")
        }
        Err(_) => {
            eprintln!("SKIPPED: set STRINGER_TEST_POSTGRES_URL=postgres://… to run against PostgreSQL");
            None
        }
    }
}

/// Creates database `{test}_{pid}` on the server of `base` (dropped first), answering its URL.
pub fn fresh_postgres_database(base: &str, test: &str) -> String {
    let name = format!("{test}_{}", std::process::id());
    let status = std::process::Command::new("psql")
        .args([base, "-q", "-c", &format!("DROP DATABASE IF EXISTS {name}"), "-c", &format!("CREATE DATABASE {name}")])
        .env("PGOPTIONS", "--client-min-messages=warning")
        .status()
        .expect("psql runs");
    assert!(status.success(), "could not create database {name}");
    let (prefix, _) = base.rsplit_once('/').expect("URL has a database part");
    format!("{prefix}/{name}")
}

/// A fresh directory for a test's SQLite file.
pub fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stringer-store-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Nanoseconds now: tells apart the directories of one process.
fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

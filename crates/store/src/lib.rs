//! Stringer's SQL stores: an embedded SQLite file by default, PostgreSQL when several
//! instances share one database. One implementation over sqlx's `Any` driver, with a schema
//! per backend (`migrations/`), so the same queries and the same conformance suite serve both.
//!
//! It implements every persistence port of the application: `Store` (the Desk's writes),
//! `Queries` (the read port), `Accounts`, `OnCall`, `Safeguards`, `DeliveryStore` and
//! `SettleStore`. This is the only crate that speaks SQL.

#![warn(missing_docs)]

mod account_mail;
mod accounts;
mod alerts;
mod bells;
mod chat;
mod commit;
mod deliveries;
mod drop_box;
mod files;
mod fit;
mod history;
mod inquiries;
mod keyed;
mod ledger;
mod ledger_audit;
mod ledger_book;
mod ledger_sources;
mod letters;
mod mail;
mod migrate;
mod oncall;
mod phone;
mod reports;
mod reviews;
mod roster_cache;
mod rows;
mod safeguards;
mod sending;
mod status;
mod tickets;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::time::Duration;
use stringer_app::StoreError;
use stringer_app::keyed::CurrentKey;

pub use bells::Bells;
pub use ledger::StoredLeaf;

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (WAL mode), one writer at a time.
    Sqlite,
    /// A PostgreSQL server, shared by any number of instances.
    Postgres,
}

impl Backend {
    /// `rows` parenthesized groups of `width` placeholders, numbered from `first` on
    /// PostgreSQL (`($3, $4), ($5, $6)`) and anonymous on SQLite (`(?, ?), (?, ?)`), whose
    /// parser and binder look a numbered parameter up by name in a list — a cost that grows
    /// with the square of a batch statement's parameters. Every placeholder of a statement
    /// that uses this must be written by [`Backend::mark`] or this, in the order bound.
    pub(crate) fn value_rows(self, rows: usize, width: usize, first: usize) -> String {
        let group = |r: usize| {
            let marks: Vec<String> = (0..width).map(|c| self.mark(first + r * width + c)).collect();
            format!("({})", marks.join(", "))
        };
        (0..rows).map(group).collect::<Vec<_>>().join(", ")
    }

    /// The placeholder of the `n`th parameter (see [`Backend::value_rows`]).
    pub(crate) fn mark(self, n: usize) -> String {
        match self {
            Backend::Sqlite => "?".into(),
            Backend::Postgres => format!("${n}"),
        }
    }
}

/// The SQL store.
#[derive(Clone, Debug)]
pub struct SqlStore {
    /// Connections for writes: one for SQLite (writes are serialized there anyway, and a
    /// single writer avoids lock-upgrade failures), several for PostgreSQL.
    write: AnyPool,
    /// Connections for reads.
    read: AnyPool,
    backend: Backend,
    /// Ticket changes go through one group committer (see [`commit`]).
    committer: commit::Committer,
    /// Rosters read in the last second (see [`roster_cache`]).
    rosters: roster_cache::RosterCache,
    /// Received mail is stored in batches (see [`mail`]).
    mail_drop: drop_box::DropBox<stringer_app::mail::NewInbound>,
    /// Monitoring signals are stored in batches too.
    signal_drop: drop_box::DropBox<stringer_app::alerts::Signal>,
    /// Rung when a commit left work for a background cycle (see [`bells`]).
    bells: Bells,
    /// The running request's `Idempotency-Key`, marked with what a keyed write wrote (see
    /// [`keyed`]).
    keyed: CurrentKey,
}

pub(crate) fn backend_err(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqlStore {
    /// Opens (creating if needed) the SQLite database file `path` and applies migrations.
    pub async fn open_sqlite(path: &Path) -> Result<SqlStore, StoreError> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        SqlStore::connect(&url).await
    }

    /// Connects to `sqlite://…` or `postgres://…` and applies migrations.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Backend(format!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://…"
            )));
        };
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(10))
                // A broken connection fails its query and is replaced; pinging on every
                // checkout cost a round trip per query.
                .test_before_acquire(false)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;").await?;
                        }
                        Ok(())
                    })
                })
        };
        // (writer connections, reader connections, group-commit lanes)
        let (writers, readers, lanes) = match backend {
            Backend::Sqlite => (1, 8, 1),
            Backend::Postgres => (16, 16, 4),
        };
        let write = pool(writers).connect(url).await.map_err(backend_err)?;
        migrate::run(&write, backend).await?;
        let read = pool(readers).connect(url).await.map_err(backend_err)?;
        let bells = Bells::default();
        let committer = commit::Committer::start(write.clone(), lanes, bells.outbox.clone());
        let mail_drop = drop_box::DropBox::start(write.clone(), backend, bells.mail.clone());
        let signal_drop = drop_box::DropBox::start(write.clone(), backend, bells.signals.clone());
        Ok(SqlStore {
            write,
            read,
            backend,
            committer,
            rosters: Default::default(),
            mail_drop,
            signal_drop,
            bells,
            keyed: stringer_app::keyed::never,
        })
    }

    /// The doorbells this store rings when it stored work for a background cycle: what the
    /// engine of this process waits on between its polls.
    pub fn bells(&self) -> Bells {
        self.bells.clone()
    }

    /// This store, asking `current` for the running request's `Idempotency-Key`: a write a
    /// keyed request answers with marks the key in its own transaction (see [`keyed`]).
    pub fn keyed_by(mut self, current: CurrentKey) -> Self {
        self.keyed = current;
        self
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection, waiting for in-flight queries.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

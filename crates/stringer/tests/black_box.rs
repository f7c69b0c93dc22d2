//! The black-box tests of the `stringer` binary and its server, in one test binary: each module
//! is one subject (its own doc comment says what it covers), all of them run the real binary
//! through `support`. One binary rather than one per file: linking four dozen test binaries,
//! each carrying every crate of the workspace, ran a CI machine out of disk, and the links were
//! a large share of the build's time.

#[macro_use]
mod support;

mod ack_walk;
mod alerts;
mod channels;
mod cli;
mod contract_fit;
mod crash;
mod door_hardening;
mod idempotency_crash;
mod identity;
mod idle_and_supervision;
mod instances;
mod keyed_writes;
mod kill_per_kind;
mod layout;
mod ledger_crash;
mod ledger_documents;
mod ledger_heads;
mod ledger_sources;
mod ledger_tamper;
mod mail;
mod mail_auth;
mod mail_triage;
mod maintenance_start;
mod nul_doors;
mod one_way_in;
mod packet;
mod paging;
mod phone_line;
mod promises;
mod protocol_details;
mod report_work;
mod reports;
mod review;
mod review_mailing;
mod schedules;
mod security;
mod server;
mod severity_paging;
mod slack;
mod slack_channel;
mod smtp_limits;
mod status_pages;
mod status_subscriptions;
mod tenant_isolation;
mod web_pages;
mod whatif;

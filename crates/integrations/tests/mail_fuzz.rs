//! The mail ingest path under arbitrary input: random bytes and corpus messages mutated
//! (bytes flipped, inserted, deleted, cut short, headers repeated) go through the MIME reader,
//! quote stripping and the channel's rules without a panic, and what comes out stays within
//! its limits. The number of cases is proptest's (`PROPTEST_CASES`); the million
//! executions: `PROPTEST_CASES=500000 cargo test --release -p stringer-integrations --test mail_fuzz`.

use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;
use stringer_app::files::MAX_PER_TICKET;
use stringer_app::mail::LetterReader;
use stringer_core::ids::Severity;
use stringer_core::mail::{MailAddresses, machine_made, severity_marker, ticket_key};
use stringer_integrations::mail::read::MimeReader;

fn corpus() -> &'static Vec<Vec<u8>> {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail_corpus");
        let mut all: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        all.sort();
        all.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

fn ingest(raw: &[u8]) {
    let letter = MimeReader::new("fuzz").read(raw);
    assert!(letter.files.len() <= MAX_PER_TICKET);
    let ours = MailAddresses { domains: vec!["support.stringer.example".into()], ..MailAddresses::default() };
    for r in &letter.recipients {
        let _ = ours.mailbox(r);
    }
    let _ = severity_marker(&letter.subject, &[Severity("P1".into())]);
    let _ = ticket_key(&letter.subject);
    let _ = machine_made(&letter.provenance);
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            proptest::collection::vec(prop_oneof![any::<u8>(), Just(b'\n'), Just(b'='), Just(b'-'), Just(b':')], 1..64)
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..256).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..512).prop_map(|(i, n)| Mutation::Repeat(i, n)),
    ]
}

fn apply(mut raw: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let len = raw.len().max(1);
    match m {
        Mutation::Flip(i, b) => {
            if !raw.is_empty() {
                let i = i % len;
                raw[i] ^= b | 1;
            }
        }
        Mutation::Insert(i, v) => {
            let i = i % (raw.len() + 1);
            raw.splice(i..i, v.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = i % len;
            let end = (i + n).min(raw.len());
            if i < end {
                raw.drain(i..end);
            }
        }
        Mutation::Truncate(i) => raw.truncate(i % len),
        Mutation::Repeat(i, n) => {
            let i = i % len;
            let end = (i + n).min(raw.len());
            let piece: Vec<u8> = raw[i.min(end)..end].to_vec();
            raw.splice(end..end, piece);
        }
    }
    raw
}

/// A mutation that made mail-parser 0.11 panic ("Invalid part ID, could not find multipart"):
/// the message is unreadable, not a panic.
#[test]
fn a_message_mail_parser_panics_on_is_unreadable() {
    let corpus = corpus();
    let raw = apply(
        corpus[(12038622122841744285u64 % corpus.len() as u64) as usize].clone(),
        &Mutation::Repeat(7841720564503918943, 303),
    );
    ingest(&raw);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        ingest(&raw);
    }

    #[test]
    fn mutated_corpus_messages_never_panic(
        pick in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let corpus = corpus();
        let raw = mutations.iter().fold(corpus[pick % corpus.len()].clone(), apply);
        ingest(&raw);
    }
}

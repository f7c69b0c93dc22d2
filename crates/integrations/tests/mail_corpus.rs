//! What each message of the corpus becomes (tests/mail_corpus: Gmail, Outlook, Apple Mail
//! and Thunderbird shapes, charsets, forwards, auto-replies, lists, bounces), as insta
//! snapshots: the sender, the words kept for the ticket, the files, the threading headers,
//! the mailbox it addresses and whether anything may answer it.

use std::path::Path;
use stringer_app::files;
use stringer_app::mail::LetterReader;
use stringer_core::ids::Severity;
use stringer_core::mail::{MailAddresses, machine_made, severity_marker, ticket_key};
use stringer_integrations::mail::read::MimeReader;

fn summary(raw: &[u8]) -> String {
    let letter = MimeReader::new("this-instance").read(raw);
    let ours = MailAddresses { domains: vec!["support.stringer.example".into()], ..MailAddresses::default() };
    let severities: Vec<Severity> = ["P1", "P2", "P3", "P4"].into_iter().map(|s| Severity(s.into())).collect();
    let mut out = String::new();
    out.push_str(&format!("from: {} ({})\n", letter.from, letter.from_name.as_deref().unwrap_or("-")));
    out.push_str(&format!("subject: {}\n", letter.subject));
    out.push_str(&format!("message_id: {}\n", letter.message_id.as_deref().unwrap_or("-")));
    out.push_str(&format!("references: {:?}\n", letter.references));
    let mailbox = letter.recipients.iter().find_map(|r| ours.mailbox(r));
    out.push_str(&format!("mailbox: {mailbox:?}\n"));
    out.push_str(&format!("severity marker: {:?}\n", severity_marker(&letter.subject, &severities).map(|s| s.0)));
    out.push_str(&format!("ticket key: {:?}\n", ticket_key(&letter.subject).map(|k| k.to_string())));
    out.push_str(&format!("machine made: {:?}\n", machine_made(&letter.provenance)));
    out.push_str(&format!("bounced: {:?}\n", letter.bounced));
    out.push_str("files:\n");
    for f in &letter.files {
        let verdict = match files::check(&f.name, &f.bytes) {
            Ok(kind) => format!("kept as {kind}"),
            Err(why) => format!("refused: {why}"),
        };
        out.push_str(&format!("  - {} ({}, {} bytes): {verdict}\n", f.name, f.content_type, f.bytes.len()));
    }
    out.push_str(&format!("full text: {} characters\n", letter.full_text.chars().count()));
    out.push_str("text:\n");
    out.push_str(&letter.text);
    out.push('\n');
    out
}

#[test]
fn every_corpus_message_becomes_what_a_help_desk_expects() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail_corpus");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "the corpus is there");
    for path in names {
        let raw = std::fs::read(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(name, summary(&raw));
    }
}

#[test]
fn our_own_mail_is_recognised_by_the_loop_header() {
    let raw = b"From: support@support.stringer.example\r\nTo: a@b.example\r\nX-Stringer-Loop: this-instance\r\nSubject: x\r\n\r\nbody\r\n";
    assert!(MimeReader::new("this-instance").read(raw).provenance.ours);
    assert!(
        !MimeReader::new("another-instance").read(raw).provenance.ours,
        "another installation's mail is a person's"
    );
}

#[test]
fn html_only_mail_keeps_list_items_and_table_rows_apart() {
    let raw = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail_corpus/23-html-list.eml")).unwrap();
    let text = MimeReader::new("this-instance").read(&raw).text;
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for item in ["* row 1", "* row 2", "* row 3", "1. re-ran the import", "2. checked the file"] {
        assert!(lines.contains(&item), "{item:?} is a line of its own: {text}");
    }
    assert!(!text.contains("row 1row 2"), "{text}");
    assert!(!text.contains("never shown"), "a template is never shown: {text}");
}

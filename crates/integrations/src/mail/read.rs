//! Reading a received message (mail-parser): addresses, threading headers, the text the
//! sender wrote (HTML made into plain text, charsets and transfer encodings decoded, quoted
//! history and signature cut off), attachments and inline images, a forwarded message's inner
//! message, delivery status reports, and the headers that mark machine-made mail.

use super::quotes::new_words;
use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use stringer_app::files::MAX_PER_TICKET;
use stringer_app::mail::{Letter, LetterFile, LetterReader};
use stringer_core::mail::Provenance;

/// The header our own mail carries, naming the instance that sent it.
pub const LOOP_HEADER: &str = "X-Stringer-Loop";

/// Reads messages with mail-parser; recognises this installation's own mail by its
/// [`LOOP_HEADER`] value.
#[derive(Clone, Debug)]
pub struct MimeReader {
    instance: String,
}

impl MimeReader {
    /// A reader for the installation named `instance` (the value of its loop header).
    pub fn new(instance: &str) -> MimeReader {
        MimeReader { instance: instance.to_string() }
    }
}

impl LetterReader for MimeReader {
    /// Reads a message; one mail-parser cannot read — or on which it panics, as it does on
    /// some malformed multipart structures — is an unreadable message, never a panic.
    fn read(&self, raw: &[u8]) -> Letter {
        let read = std::panic::catch_unwind(|| {
            MessageParser::default().parse(raw).map(|message| letter(&message, &self.instance))
        });
        match read {
            Ok(Some(letter)) => letter,
            Ok(None) | Err(_) => Letter { subject: "(unreadable message)".into(), ..Letter::default() },
        }
    }
}

fn first_address(a: Option<&Address<'_>>) -> Option<(String, Option<String>)> {
    let addr = a?.first()?;
    let address = addr.address()?.trim().to_ascii_lowercase();
    (!address.is_empty()).then(|| (address, addr.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty())))
}

fn addresses(a: Option<&Address<'_>>) -> Vec<String> {
    a.map(|a| a.iter().filter_map(|x| x.address()).map(|x| x.trim().to_ascii_lowercase()).collect()).unwrap_or_default()
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn header_text(m: &Message<'_>, name: &str) -> Option<String> {
    m.header_raw(name).map(|v| v.trim().to_string())
}

fn letter(m: &Message<'_>, instance: &str) -> Letter {
    let (from, from_name) =
        first_address(m.from()).or_else(|| first_address(m.sender())).unwrap_or((String::new(), None));
    let mut references = ids(m.in_reply_to());
    let mut older = ids(m.references());
    older.reverse();
    for r in older {
        if !references.contains(&r) {
            references.push(r);
        }
    }
    let mut recipients = addresses(m.to());
    recipients.extend(addresses(m.cc()));
    for h in m.header_values("Delivered-To").chain(m.header_values("X-Original-To")) {
        if let Some(t) = h.as_text() {
            recipients.push(t.trim().trim_matches(['<', '>']).to_ascii_lowercase());
        }
    }
    let full_text = body(m);
    let text = new_words(&full_text);
    let content_type = m.root_part().content_type();
    let report = content_type.is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("multipart") && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let autoreply_header = ["X-Autoreply", "X-Autorespond", "X-Autoresponder"].iter().any(|h| m.header(*h).is_some())
        || header_text(m, "X-Auto-Response-Suppress").is_some_and(|v| {
            v.split(',').any(|p| ["all", "oof", "autoreply"].contains(&p.trim().to_ascii_lowercase().as_str()))
        });
    let provenance = Provenance {
        auto_submitted: header_text(m, "Auto-Submitted"),
        precedence: header_text(m, "Precedence"),
        list: m.header("List-Id").is_some() || m.header("List-Unsubscribe").is_some(),
        autoreply_header,
        from: from.clone(),
        report,
        ours: header_text(m, super::read::LOOP_HEADER).is_some_and(|v| v == instance),
    };
    Letter {
        message_id: m.message_id().map(str::to_string),
        references,
        from,
        from_name,
        recipients,
        subject: m.subject().map(|s| s.trim().to_string()).unwrap_or_default(),
        text,
        full_text,
        files: files(m),
        bounced: if report { bounced(m) } else { Vec::new() },
        bounced_message: if report { returned_message_id(m) } else { None },
        provenance,
    }
}

/// The message's text: its first text body (an HTML-only body made into text), and a
/// forwarded message's own text after it.
fn body(m: &Message<'_>) -> String {
    let mut out = text_of(m);
    for part in m.attachments() {
        if let PartType::Message(inner) = &part.body {
            let from = inner.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or("unknown sender");
            let subject = inner.subject().unwrap_or("");
            out.push_str(&format!("\n\n---------- Forwarded message ----------\nFrom: {from}\nSubject: {subject}\n\n"));
            out.push_str(&text_of(inner));
        }
    }
    out.trim().to_string()
}

/// A message's first text body; an HTML-only one made into the text a reader sees.
fn text_of(m: &Message<'_>) -> String {
    let html_only = m.text_part(0).is_some_and(|p| p.is_text_html());
    let text = if html_only { m.body_html(0).map(|h| html_text(&h)) } else { m.body_text(0).map(|t| t.into_owned()) };
    text.unwrap_or_default().replace("\r\n", "\n")
}

/// The widest line [`html_text`] writes: wide enough that a paragraph stays one line.
const HTML_LINE_WIDTH: usize = 10_000;

/// HTML as text (html2text): paragraphs and list items on lines of their own (`* item`,
/// `1. item`), each table cell a line of its own (mail lays out with tables), entities decoded, scripts, styles and templates dropped,
/// and each link's address listed after the text (`[1]: https://…`); runs of blank lines
/// (Word's empty paragraphs) become one.
fn html_text(html: &str) -> String {
    let text = html2text::config::plain_no_decorate()
        .link_footnotes(true)
        .raw_mode(true)
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), HTML_LINE_WIDTH)
        .unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Attached files and inline images (a forwarded message's too), named and decoded.
fn files(m: &Message<'_>) -> Vec<LetterFile> {
    let mut out = Vec::new();
    collect_files(m, &mut out, 0);
    out
}

fn collect_files(m: &Message<'_>, out: &mut Vec<LetterFile>, depth: usize) {
    for part in m.attachments() {
        if out.len() >= MAX_PER_TICKET {
            return;
        }
        let content_type = part
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")).to_ascii_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        match &part.body {
            PartType::Message(inner) if depth < 3 => collect_files(inner, out, depth + 1),
            PartType::Message(_) | PartType::Multipart(_) => {}
            _ if content_type.starts_with("message/") || content_type == "text/rfc822-headers" => {}
            _ => {
                let name = part.attachment_name().map(clean_name).unwrap_or_else(|| {
                    let ext = content_type.rsplit('/').next().unwrap_or("bin");
                    format!("attachment-{}.{ext}", out.len() + 1)
                });
                out.push(LetterFile { name, content_type, bytes: part.contents().to_vec() });
            }
        }
    }
}

/// A file name without any path, control characters or leading dots.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String =
        base.chars().filter(|c| !c.is_control()).collect::<String>().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() { "attachment".into() } else { cleaned.chars().take(200).collect() }
}

/// The `Message-ID` of the message a delivery status report returns: from its returned
/// headers (`text/rfc822-headers`) or message (`message/rfc822`).
fn returned_message_id(m: &Message<'_>) -> Option<String> {
    m.parts.iter().find_map(|part| {
        let returned = part.content_type().is_some_and(|c| {
            let (t, s) = (c.ctype().to_ascii_lowercase(), c.subtype().unwrap_or_default().to_ascii_lowercase());
            (t == "text" && s == "rfc822-headers") || (t == "message" && (s == "rfc822" || s == "global"))
        });
        if !returned {
            return None;
        }
        let text = String::from_utf8_lossy(part.contents()).replace("\r\n", "\n");
        let headers = text.split("\n\n").next().unwrap_or_default().replace("\n ", " ").replace("\n\t", " ");
        headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            let id = v.trim().trim_start_matches('<').trim_end_matches('>').trim();
            (k.trim().eq_ignore_ascii_case("message-id") && !id.is_empty()).then(|| id.chars().take(500).collect())
        })
    })
}

/// The recipients a delivery status report says failed for good (`Action: failed`).
fn bounced(m: &Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for part in m.parts.iter() {
        let is_status = part.content_type().is_some_and(|c| {
            c.ctype().eq_ignore_ascii_case("message")
                && c.subtype().is_some_and(|s| {
                    s.eq_ignore_ascii_case("delivery-status") || s.eq_ignore_ascii_case("global-delivery-status")
                })
        });
        if !is_status {
            continue;
        }
        let text = String::from_utf8_lossy(part.contents()).replace("\r\n", "\n");
        // Per-recipient fields are blocks separated by blank lines (RFC 3464).
        for block in text.split("\n\n") {
            let field = |name: &str| {
                block.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                })
            };
            let failed = field("Action").is_some_and(|a| a.eq_ignore_ascii_case("failed"));
            if let Some(recipient) = field("Final-Recipient").or_else(|| field("Original-Recipient"))
                && failed
            {
                let address = recipient
                    .rsplit(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_ascii_lowercase();
                if address.contains('@') && !out.contains(&address) {
                    out.push(address);
                }
            }
        }
    }
    out
}

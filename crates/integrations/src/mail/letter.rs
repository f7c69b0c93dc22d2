//! The letters customers get: plain text and HTML, threaded into their conversation
//! (`Message-ID` naming the ticket, `In-Reply-To`/`References` to the messages so far, a
//! root id per ticket so clients keep every letter of a ticket together), answerable (the
//! ticket's signed reply address), and marked `Auto-Submitted: auto-replied` when no person
//! wrote them, so that no other system answers them.

use super::{Mail, header, unbuildable};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use stringer_app::delivery::{Parcel, SendError};
use stringer_app::mail::Inform;
use stringer_app::mail::LetterPayload;

/// The subject, text and HTML of a letter.
pub fn render(l: &LetterPayload) -> (String, String, String) {
    let subject = match l.inform {
        Inform::Received => format!("[{}] Received: {}", l.key, l.subject),
        Inform::Replied => format!("Re: [{}] {}", l.key, l.subject),
        Inform::Resolved => format!("[{}] Resolved: {}", l.key, l.subject),
        Inform::LineOpen => format!("[{}] You can now page our on-call engineer", l.key),
    };
    let mut text = format!("Hello {},\n\n", l.name);
    match l.inform {
        Inform::Received => {
            text.push_str(&format!("we received your request \"{}\" as ticket {} (severity {}).\n", l.subject, l.key, l.severity));
            if let (Some(due), Some(within)) = (&l.response_due, &l.response_within) {
                text.push_str(&format!("Our contract promises a first response within {within}: by {} UTC.\n", utc(due)));
            }
        }
        Inform::Replied => {
            text.push_str(&format!("{} replied on {}:\n\n", l.author.as_deref().unwrap_or("Support"), l.key));
            text.push_str(l.body.as_deref().unwrap_or_default());
            text.push('\n');
        }
        Inform::Resolved => text.push_str(&format!(
            "we resolved ticket {} (\"{}\"). If anything is still wrong, reply to this mail and the ticket reopens.\n",
            l.key, l.subject
        )),
        Inform::LineOpen => text.push_str(&format!(
            "your P1 ticket {} is still waiting for a response, so our contract now lets you page the on-call engineer: use the Page on-call button on the ticket.\n",
            l.key
        )),
    }
    text.push_str(&format!("\nReply to this mail to add to the ticket, or open it: {}\n", l.url));
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><pre style=\"white-space:pre-wrap;font-family:inherit\">{}</pre><p><a href=\"{}\">Open {}</a></p></body></html>",
        escape(&text),
        escape(&l.url),
        escape(&l.key)
    );
    (subject, text, html)
}

fn utc(rfc3339: &str) -> String {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.strftime("%a %d %b %Y %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.into())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The message of a letter delivery (`id`, its parcel `p`): [`Mail::envelope`] with the
/// ticket's thread, its reply address and, for an automatic letter, the marks that ask
/// nothing to answer it.
pub fn message(mail: &Mail, id: &str, p: &Parcel, l: &LetterPayload) -> Result<Message, SendError> {
    let (subject, text, html) = render(l);
    let root = format!("<stringer.{}@{}>", l.ticket, l.domain);
    let mut thread: Vec<String> = l.thread.iter().map(|t| format!("<{t}>")).collect();
    thread.insert(0, root.clone());
    let mut builder = mail
        .envelope(&p.address, subject, &format!("stringer.{}.{}", l.ticket, id))?
        .in_reply_to(thread.last().cloned().unwrap_or(root))
        .references(thread.join(" "))
        .raw_header(header("X-Stringer-Ticket", &l.key));
    if let Ok(reply_to) = l.reply_to.parse::<Mailbox>() {
        builder = builder.reply_to(reply_to);
    }
    if l.inform.automatic() {
        builder = builder
            .raw_header(header("Auto-Submitted", "auto-replied"))
            .raw_header(header("X-Auto-Response-Suppress", "All"));
    }
    builder.multipart(MultiPart::alternative_plain_html(text, html)).map_err(unbuildable)
}

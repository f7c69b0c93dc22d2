//! A page's incident and maintenance history as feeds: Atom 1.0 (RFC 4287) and RSS 2.0,
//! newest first, each entry linking to the incident's page and carrying its updates.

use jiff::Timestamp;
use stringer_app::status::statuspage::Urls;
use stringer_app::status::{IncidentRecord, PageView};

/// Atom's media type.
pub const ATOM: &str = "application/atom+xml; charset=utf-8";
/// RSS's media type.
pub const RSS: &str = "application/rss+xml; charset=utf-8";

/// Text escaped for XML character data and attribute values.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(at: i64) -> String {
    Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH).to_string()
}

fn rfc2822(at: i64) -> String {
    Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH).strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// Incidents and maintenances, newest change first.
fn entries(view: &PageView) -> Vec<&IncidentRecord> {
    let mut all: Vec<&IncidentRecord> = view.incidents.iter().chain(&view.maintenances).collect();
    all.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| b.id.cmp(&a.id)));
    all
}

/// An entry's content: its updates as HTML (escaped once more by the caller).
fn content(i: &IncidentRecord) -> String {
    let mut html = String::new();
    if let Some((from, until)) = i.scheduled_for.zip(i.scheduled_until) {
        html.push_str(&format!("<p><small>Scheduled for {} – {}</small></p>", rfc3339(from), rfc3339(until)));
    }
    for u in &i.updates {
        html.push_str(&format!(
            "<p><small>{}</small><br><strong>{}</strong> - {}</p>",
            rfc3339(u.created_at),
            xml(&stringer_app::status::statuspage::phase_words(u.phase)),
            xml(&u.body)
        ));
    }
    html
}

/// The page's history as Atom.
pub fn atom(view: &PageView, urls: &Urls) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n");
    out.push_str(&format!("<id>{}</id>\n", xml(&urls.page)));
    out.push_str(&format!("<title>{} status - Incident history</title>\n", xml(&view.page.name)));
    out.push_str(&format!("<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n", xml(&urls.page)));
    out.push_str(&format!(
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}/history.atom\"/>\n",
        xml(&urls.page)
    ));
    out.push_str(&format!("<updated>{}</updated>\n", rfc3339(view.updated_at())));
    out.push_str(&format!("<author><name>{}</name></author>\n", xml(&view.page.name)));
    for i in entries(view) {
        let link = urls.incident(&i.id);
        out.push_str("<entry>\n");
        out.push_str(&format!("<id>{}</id>\n", xml(&link)));
        out.push_str(&format!("<published>{}</published>\n", rfc3339(i.created_at)));
        out.push_str(&format!("<updated>{}</updated>\n", rfc3339(i.updated_at)));
        out.push_str(&format!("<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n", xml(&link)));
        out.push_str(&format!("<title>{}</title>\n", xml(&i.name)));
        out.push_str(&format!("<content type=\"html\">{}</content>\n", xml(&content(i))));
        out.push_str("</entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// The page's history as RSS 2.0.
pub fn rss(view: &PageView, urls: &Urls) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n");
    out.push_str(&format!("<title>{} status - Incident history</title>\n", xml(&view.page.name)));
    out.push_str(&format!("<link>{}</link>\n", xml(&urls.page)));
    out.push_str(&format!(
        "<atom:link href=\"{}/history.rss\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        xml(&urls.page)
    ));
    out.push_str(&format!("<description>Statuspage of {}</description>\n", xml(&view.page.name)));
    out.push_str(&format!("<lastBuildDate>{}</lastBuildDate>\n", rfc2822(view.updated_at())));
    for i in entries(view) {
        let link = urls.incident(&i.id);
        out.push_str("<item>\n");
        out.push_str(&format!("<title>{}</title>\n", xml(&i.name)));
        out.push_str(&format!("<description>{}</description>\n", xml(&content(i))));
        out.push_str(&format!("<pubDate>{}</pubDate>\n", rfc2822(i.created_at)));
        out.push_str(&format!("<link>{}</link>\n", xml(&link)));
        out.push_str(&format!("<guid isPermaLink=\"true\">{}</guid>\n", xml(&link)));
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_forbidden_characters_never_reach_the_feed_raw() {
        assert_eq!(xml("<b>\"a\" & 'b'</b>\u{1}"), "&lt;b&gt;&quot;a&quot; &amp; &apos;b&apos;&lt;/b&gt;");
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    }
}

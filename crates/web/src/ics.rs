//! iCalendar (RFC 5545) feeds of on-call shifts: CRLF line ends, lines folded at 75 octets,
//! UTC date-times, a stable UID per shift.

use jiff::Timestamp;

/// One shift as a calendar event.
pub struct Event<'a> {
    /// Stable across feed refreshes.
    pub uid: String,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// The title.
    pub summary: &'a str,
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes TEXT values (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    s.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace('\n', "\\n").replace('\r', "")
}

/// Folds a content line at 75 octets, never inside a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
}

/// A VCALENDAR named `name` with the events, stamped `now`.
pub fn calendar(name: &str, events: &[Event<'_>], now: Timestamp) -> String {
    let mut out = String::new();
    for line in
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Stringer//On-call//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    {
        fold(line, &mut out);
    }
    fold(&format!("X-WR-CALNAME:{}", text(name)), &mut out);
    for e in events {
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}", text(&e.uid)), &mut out);
        fold(&format!("DTSTAMP:{}", utc(now)), &mut out);
        fold(&format!("DTSTART:{}", utc(e.start)), &mut out);
        fold(&format!("DTEND:{}", utc(e.end)), &mut out);
        fold(&format!("SUMMARY:{}", text(e.summary)), &mut out);
        fold("TRANSP:TRANSPARENT", &mut out);
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_crlf_folded_and_escaped() {
        let t: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        let long = "On call: ".to_string() + &"é".repeat(60) + ", ok; done";
        let cal = calendar("Platform", &[Event { uid: "s1-1".into(), start: t, end: t, summary: &long }], t);
        assert!(cal.starts_with("BEGIN:VCALENDAR\r\n") && cal.ends_with("END:VCALENDAR\r\n"));
        assert!(cal.contains("DTSTART:20261127T090000Z\r\n"));
        assert!(cal.split("\r\n").all(|l| l.len() <= 75), "{cal}");
        assert!(cal.contains("\\, ok\\; done"));
        assert!(!cal.replace("\r\n", "").contains('\n'));
    }
}

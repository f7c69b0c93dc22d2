//! The words a sender wrote this time: a reply's quoted history ("On … wrote:", Outlook's
//! "-----Original Message-----" and "From: … Sent: …" blocks, `>` lines) and the signature
//! after a "-- " line are cut off. A forwarded message is kept: it is what the sender meant
//! to pass on. When cutting would leave nothing, the whole text stays.

/// What is left of `text` without quoted history and signature.
pub fn new_words(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if is_forward(line) {
            break;
        }
        if starts_history(&lines, i) {
            end = i;
            break;
        }
        let t = line.trim_end();
        if t == "--" || t == "-- " || line == &"-- " {
            end = i;
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..end].to_vec();
    while kept.last().is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('>')) {
        kept.pop();
    }
    let out = kept.join("\n").trim().to_string();
    if out.is_empty() { text.trim().to_string() } else { out }
}

/// A forwarded message begins: everything from here on is what the sender passes on.
fn is_forward(line: &str) -> bool {
    let lower = line.trim().to_ascii_lowercase();
    lower.contains("forwarded message") || lower.starts_with("begin forwarded message")
}

fn starts_history(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let lower = line.to_ascii_lowercase();
    if lower.trim_matches('-').trim() == "original message" && line.starts_with('-') {
        return true;
    }
    if line.len() >= 10 && line.chars().all(|c| c == '_') {
        return lines.get(i + 1).is_some_and(|n| n.trim_start().to_ascii_lowercase().starts_with("from:"));
    }
    if lower.starts_with("from:") {
        let next: Vec<String> = lines.iter().skip(i + 1).take(4).map(|l| l.trim().to_ascii_lowercase()).collect();
        return next.iter().any(|l| l.starts_with("sent:") || l.starts_with("date:"))
            && next.iter().any(|l| l.starts_with("to:") || l.starts_with("subject:"));
    }
    let wrote = |l: &str| {
        let l = l.trim_end().to_lowercase();
        l.ends_with(':') && ["wrote", "schrieb", "a écrit", "escribió"].iter().any(|verb| l.contains(verb))
    };
    let opener = ["on ", "am ", "le ", "el "].iter().any(|p| lower.starts_with(p));
    opener && (wrote(line) || lines.get(i + 1).is_some_and(|n| wrote(n) && !n.trim_start().starts_with('>')))
}

#[cfg(test)]
mod tests {
    use super::new_words;

    #[test]
    fn history_and_signatures_are_cut() {
        let cases = [
            (
                "Thanks, that fixed it.\n\nOn Mon, 30 Nov 2026 at 09:12, Support <s@x> wrote:\n> old\n> text",
                "Thanks, that fixed it.",
            ),
            ("Still broken.\nOn Mon, 30 Nov 2026 at 09:12, Stringer Support\n<s@x> wrote:\n> old", "Still broken."),
            (
                "New info.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nTo: Ana\nSubject: x\n\nold",
                "New info.",
            ),
            (
                "New info.\n\n________________________________\nFrom: Support <s@x>\nSent: Monday\nTo: Ana\n",
                "New info.",
            ),
            (
                "See log.\n\nFrom: Support <s@x>\nSent: Monday, 30 November 2026 09:12\nTo: Ana\nSubject: Re: x\n\nold",
                "See log.",
            ),
            ("Danke!\n\nAm 30.11.2026 um 09:12 schrieb Support <s@x>:\n> alt", "Danke!"),
            ("It works now.\n\n-- \nAna Lima\nACME Corp", "It works now."),
            ("Yes.\n> quoted at the end\n>\n", "Yes."),
            ("> only a quote", "> only a quote"),
            (
                "FYI\n\n---------- Forwarded message ---------\nFrom: Bo <bo@acme.example>\n\nThe original",
                "FYI\n\n---------- Forwarded message ---------\nFrom: Bo <bo@acme.example>\n\nThe original",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(new_words(text), want, "{text:?}");
        }
    }
}

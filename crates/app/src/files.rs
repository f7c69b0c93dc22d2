//! What a file attached to a ticket may be, by any door (a page, the API, a mail): size- and
//! type-limited, the type read from the bytes, not taken from the sender.

/// Why a file is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    /// A bad name, or no bytes.
    #[error("{0}")]
    Invalid(String),
    /// Larger than [`MAX_ATTACHMENT`].
    #[error("{0}")]
    TooLarge(String),
    /// Not a kind accepted, or a name that does not fit the bytes.
    #[error("{0}")]
    Type(String),
}

/// The largest attachment, in bytes.
pub const MAX_ATTACHMENT: usize = 10 * 1024 * 1024;
/// The most attachments on one ticket.
pub const MAX_PER_TICKET: usize = 50;

/// The types accepted, by what the bytes are: (content type, extensions it may carry).
const KINDS: [(&str, &[&str]); 11] = [
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    ("application/pdf", &["pdf"]),
    ("application/zip", &["zip"]),
    ("application/gzip", &["gz", "tgz"]),
    ("application/json", &["json"]),
    ("audio/mpeg", &["mp3"]),
    ("audio/wav", &["wav"]),
    ("text/plain", &["txt", "log", "csv", "md", "yaml", "yml", "toml", "xml", "conf", "ini", "har"]),
];

/// The content type the bytes are, if they are one of the accepted kinds.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WAVE" {
        Some("audio/wav")
    } else if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Some("audio/mpeg")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        Some("application/zip")
    } else if starts(b"\x1f\x8b") {
        Some("application/gzip")
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some("text/plain")
    } else {
        None
    }
}

/// Checks a file: a name (no path, no control characters, at most 200 bytes), 1 byte to
/// [`MAX_ATTACHMENT`], bytes of an accepted kind whose extension fits what they are. Answers
/// the content type to store (JSON stays JSON when it parses).
pub fn check(filename: &str, bytes: &[u8]) -> Result<&'static str, FileRefusal> {
    let bad_name = filename.is_empty()
        || filename.len() > 200
        || filename.contains(['/', '\\'])
        || filename.chars().any(char::is_control)
        || filename.starts_with('.');
    if bad_name {
        return Err(FileRefusal::Invalid("filename: 1 to 200 bytes, no path, no control characters".into()));
    }
    if bytes.is_empty() {
        return Err(FileRefusal::Invalid("the file is empty".into()));
    }
    if bytes.len() > MAX_ATTACHMENT {
        return Err(FileRefusal::TooLarge(format!(
            "an attachment takes at most {} MiB",
            MAX_ATTACHMENT / (1024 * 1024)
        )));
    }
    let accepted: Vec<&str> = KINDS.iter().flat_map(|(_, exts)| exts.iter().copied()).collect();
    let Some(kind) = sniff(bytes) else {
        return Err(FileRefusal::Type(format!("this kind of file is not accepted; accepted: {}", accepted.join(", "))));
    };
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let kind =
        if kind == "text/plain" && ext == "json" && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
            "application/json"
        } else {
            kind
        };
    let fits = KINDS.iter().any(|(k, exts)| *k == kind && exts.contains(&ext.as_str()));
    if !fits {
        return Err(FileRefusal::Type(format!(
            "the file is {kind} but its name says .{ext}; accepted: {}",
            accepted.join(", ")
        )));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_what_their_bytes_are() {
        let png = b"\x89PNG\r\n\x1a\n rest".to_vec();
        for (name, bytes, expected) in [
            ("shot.png", png.clone(), Ok("image/png")),
            ("shot.PNG", png.clone(), Ok("image/png")),
            ("error.log", b"line 1\nline 2\n".to_vec(), Ok("text/plain")),
            ("data.json", br#"{"a": 1}"#.to_vec(), Ok("application/json")),
            ("report.pdf", b"%PDF-1.7 ...".to_vec(), Ok("application/pdf")),
            ("message.mp3", b"ID3\x04\x00 frames".to_vec(), Ok("audio/mpeg")),
            ("message.mp3", b"\xff\xfb\x90\x64 frame".to_vec(), Ok("audio/mpeg")),
            ("message.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec(), Ok("audio/wav")),
            ("message.wav", b"ID3\x04\x00 frames".to_vec(), Err(415)),
            ("shot.jpg", png.clone(), Err(415)),
            ("evil.html", b"<script>alert(1)</script>".to_vec(), Err(415)),
            ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04".to_vec(), Err(415)),
            ("notes.txt", b"bin\x00ary".to_vec(), Err(415)),
            ("bad.json", b"{not json".to_vec(), Err(415)),
            ("../etc/passwd.txt", b"x".to_vec(), Err(422)),
            (".hidden.txt", b"x".to_vec(), Err(422)),
            ("empty.txt", Vec::new(), Err(422)),
            ("huge.txt", vec![b'a'; MAX_ATTACHMENT + 1], Err(413)),
        ] {
            let got = check(name, &bytes).map_err(|e| match e {
                FileRefusal::Invalid(_) => 422,
                FileRefusal::TooLarge(_) => 413,
                FileRefusal::Type(_) => 415,
            });
            assert_eq!(got, expected, "{name}");
        }
    }
}

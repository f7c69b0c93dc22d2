//! The built-in SMTP listener (RFC 5321): mail for the support domains only — a recipient on
//! any other domain is refused at `RCPT`, so it is never an open relay — with `SIZE`,
//! `8BITMIME`, `PIPELINING` and, when a certificate is configured, `STARTTLS`. Each message
//! is stored with the client's address and `EHLO` name, which mail authentication checks
//! (SPF) when it is processed. A message is answered `250` only after [`Mailroom::accept`]
//! stored it; if storing fails the client hears
//! `451` and tries again later. Lines, recipients, errors and idle time are bounded, and so
//! are each client's sessions and messages ([`client_limits`](super::client_limits)); a
//! client that sends bad commands or goes over its limits waits longer for each answer
//! (tarpitting).

use super::client_limits::{Clients, Session, SmtpLimits};
use std::sync::Arc;
use std::time::Duration;
use stringer_app::Clock;
use stringer_app::mail::{Door, Mailroom, NewInbound};
use stringer_core::mail::MailAddresses;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The most recipients of one message.
const MAX_RECIPIENTS: usize = 100;
/// The longest command line (RFC 5321 says 512; some clients send longer `MAIL` lines).
const MAX_COMMAND: usize = 2048;
/// The longest text line in a message body we read before calling it too long.
const MAX_DATA_LINE: usize = 64 * 1024;
/// Bad commands before the connection is closed.
const MAX_ERRORS: usize = 10;
/// How long the listener waits for a client's next line once a message is under way.
const IDLE: Duration = Duration::from_secs(300);
/// How much longer a client waits for each answer per bad or refused command so far.
const TARPIT: Duration = Duration::from_millis(500);
/// Sessions served at once; more are told to come back later (`421`).
const MAX_SESSIONS: usize = 512;

/// What the listener needs.
pub struct Listener {
    /// Our domains (the only ones mail is accepted for).
    pub addresses: MailAddresses,
    /// The name in the greeting.
    pub hostname: String,
    /// The largest message, in bytes.
    pub max_bytes: usize,
    /// STARTTLS, when a certificate is configured.
    pub tls: Option<TlsAcceptor>,
    /// Where accepted mail is stored.
    pub mailroom: Arc<dyn Mailroom>,
    /// The server's clock (the message's arrival time).
    pub clock: Arc<dyn Clock>,
    /// What one client may hold and send.
    pub limits: SmtpLimits,
}

impl Listener {
    /// Accepts connections until the task is dropped; each is served on its own task.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        let sessions = Arc::new(tokio::sync::Semaphore::new(MAX_SESSIONS));
        let clients = Clients::new(self.limits);
        loop {
            let Ok((mut stream, peer)) = listener.accept().await else { continue };
            let Some(client) = clients.open(peer.ip()) else {
                tokio::spawn(async move {
                    let _ = stream
                        .write_all(b"421 4.7.0 too many connections from your address, try again later\r\n")
                        .await;
                });
                continue;
            };
            let Ok(permit) = sessions.clone().try_acquire_owned() else {
                tokio::spawn(async move {
                    let _ = stream.write_all(b"421 4.3.2 too many connections, try again later\r\n").await;
                });
                continue;
            };
            let this = self.clone();
            let clients = clients.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let _ = stream.set_nodelay(true);
                let session = Held { clients: &clients, client: &client, secure: false };
                match this.session(stream, session, peer.ip()).await {
                    Ok(Some(plain)) => {
                        if let Some(tls) = this.tls.clone() {
                            match tls.accept(plain).await {
                                Ok(secure) => {
                                    let session = Held { secure: true, ..session };
                                    let _ = this.session(secure, session, peer.ip()).await;
                                }
                                Err(e) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::debug!(%peer, "SMTP session ended: {e}"),
                }
            });
        }
    }

    /// One SMTP session on `stream` with the client at `peer`; answers the stream back when
    /// the client asked for STARTTLS (the caller then runs a new session over TLS).
    async fn session<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: S,
        held: Held<'_>,
        peer: std::net::IpAddr,
    ) -> std::io::Result<Option<S>> {
        let secure = held.secure;
        let mut io = BufReader::new(stream);
        if !secure {
            reply(&mut io, &format!("220 {} Stringer ESMTP ready", self.hostname)).await?;
        }
        let mut helo: Option<String> = None;
        let mut from: Option<String> = None;
        let mut to: Vec<String> = Vec::new();
        let mut errors = 0;
        // Before its first message a client has a short while in all, however many
        // commands it sends meanwhile; after, each line may take the usual idle time.
        let before_mail = tokio::time::Instant::now() + held.clients.limits().idle_before_mail;
        let mut mailed = false;
        let mut line = Vec::new();
        loop {
            line.clear();
            let deadline = if mailed { tokio::time::Instant::now() + IDLE } else { before_mail };
            match tokio::time::timeout_at(deadline, read_line(&mut io, &mut line, MAX_COMMAND)).await {
                Err(_) => {
                    reply(&mut io, "421 4.4.2 idle too long, closing").await?;
                    return Ok(None);
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Line::Eof)) => return Ok(None),
                Ok(Ok(Line::TooLong)) => {
                    reply(&mut io, "500 5.5.2 line too long").await?;
                    errors += 1;
                    if errors >= MAX_ERRORS {
                        return Ok(None);
                    }
                    continue;
                }
                Ok(Ok(Line::Done)) => {}
            }
            let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
            let upper = text.to_ascii_uppercase();
            let verb = upper.split_whitespace().next().unwrap_or("");
            let answer: String = match verb {
                "EHLO" => {
                    helo = Some(helo_name(&text));
                    (from, to) = (None, Vec::new());
                    let mut lines = vec![
                        self.hostname.clone(),
                        format!("SIZE {}", self.max_bytes),
                        "8BITMIME".into(),
                        "PIPELINING".into(),
                    ];
                    if self.tls.is_some() && !secure {
                        lines.push("STARTTLS".into());
                    }
                    lines.push("ENHANCEDSTATUSCODES".into());
                    let n = lines.len();
                    lines
                        .iter()
                        .enumerate()
                        .map(|(i, l)| format!("250{}{l}", if i + 1 == n { ' ' } else { '-' }))
                        .collect::<Vec<_>>()
                        .join("\r\n")
                }
                "HELO" => {
                    helo = Some(helo_name(&text));
                    (from, to) = (None, Vec::new());
                    format!("250 {}", self.hostname)
                }
                "STARTTLS" if self.tls.is_some() && !secure => {
                    reply(&mut io, "220 2.0.0 ready to start TLS").await?;
                    if !io.buffer().is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(io.into_inner()));
                }
                "MAIL" if helo.is_none() => "503 5.5.1 say EHLO first".into(),
                "MAIL" => match path_after(&text, "FROM:") {
                    None => "501 5.5.4 syntax: MAIL FROM:<address>".into(),
                    Some((_, params)) if size_param(&params).is_some_and(|s| s > self.max_bytes) => {
                        format!("552 5.3.4 a message takes at most {} bytes", self.max_bytes)
                    }
                    Some(_) if !held.clients.take_message(held.client) => {
                        errors += 1;
                        tarpit(errors).await;
                        "451 4.7.1 too many messages from your address; try again later".into()
                    }
                    Some((address, _)) => {
                        mailed = true;
                        (from, to) = (Some(address), Vec::new());
                        "250 2.1.0 sender ok".into()
                    }
                },
                "RCPT" if from.is_none() => "503 5.5.1 MAIL first".into(),
                "RCPT" => match path_after(&text, "TO:") {
                    None => "501 5.5.4 syntax: RCPT TO:<address>".into(),
                    Some(_) if to.len() >= MAX_RECIPIENTS => "452 4.5.3 too many recipients".into(),
                    Some((address, _)) if self.addresses.is_ours(&address) => {
                        to.push(address.to_ascii_lowercase());
                        "250 2.1.5 recipient ok".into()
                    }
                    Some(_) => {
                        errors += 1;
                        tarpit(errors).await;
                        "550 5.7.1 relaying denied: this server takes mail for its support domains only".into()
                    }
                },
                "DATA" if to.is_empty() => "503 5.5.1 RCPT first".into(),
                "DATA" => {
                    reply(&mut io, "354 end data with <CR><LF>.<CR><LF>").await?;
                    let raw = match self.data(&mut io).await? {
                        Some(raw) => raw,
                        None => {
                            (from, to) = (None, Vec::new());
                            reply(&mut io, &format!("552 5.3.4 a message takes at most {} bytes", self.max_bytes))
                                .await?;
                            continue;
                        }
                    };
                    let message = NewInbound {
                        door: Door::Smtp,
                        envelope_from: from.take().filter(|f| !f.is_empty()),
                        envelope_to: std::mem::take(&mut to),
                        raw,
                        received_at_ms: self.clock.now().as_millisecond(),
                        peer: Some(peer.to_canonical().to_string()),
                        helo: helo.clone(),
                    };
                    match self.mailroom.accept(&message).await {
                        Ok(id) => format!("250 2.0.0 queued as {id}"),
                        Err(e) => {
                            tracing::warn!("could not store a received message: {e}");
                            "451 4.3.0 could not store the message; try again later".into()
                        }
                    }
                }
                "RSET" => {
                    (from, to) = (None, Vec::new());
                    "250 2.0.0 ok".into()
                }
                "NOOP" => "250 2.0.0 ok".into(),
                "VRFY" => "252 2.1.5 cannot verify, but will take the message".into(),
                "QUIT" => {
                    reply(&mut io, "221 2.0.0 bye").await?;
                    return Ok(None);
                }
                _ => {
                    errors += 1;
                    if errors >= MAX_ERRORS {
                        reply(&mut io, "421 4.7.0 too many errors, closing").await?;
                        return Ok(None);
                    }
                    tarpit(errors).await;
                    "500 5.5.2 command not recognised".into()
                }
            };
            reply(&mut io, &answer).await?;
        }
    }

    /// The message after `DATA`, dot-unstuffed; `None` when it was too large (read to its
    /// end and dropped).
    async fn data<S: AsyncRead + AsyncWrite + Unpin>(&self, io: &mut BufReader<S>) -> std::io::Result<Option<Vec<u8>>> {
        let mut raw = Vec::new();
        let mut too_large = false;
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = tokio::time::timeout(IDLE, read_line(io, &mut line, MAX_DATA_LINE))
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle during DATA"))??;
            match read {
                Line::Eof => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed during DATA")),
                Line::TooLong => too_large = true,
                Line::Done => {}
            }
            if line == b".\r\n" || line == b".\n" {
                return Ok((!too_large).then_some(raw));
            }
            let content = if line.starts_with(b".") { &line[1..] } else { &line[..] };
            if raw.len() + content.len() > self.max_bytes {
                too_large = true;
            }
            if !too_large {
                raw.extend_from_slice(content);
            }
        }
    }
}

/// A session's place among its client's: what the limits count it by, and whether it runs
/// over TLS.
#[derive(Clone, Copy)]
struct Held<'a> {
    clients: &'a Clients,
    client: &'a Session,
    secure: bool,
}

/// Holds back the answer to a client's `errors`th bad or refused command.
async fn tarpit(errors: usize) {
    tokio::time::sleep(TARPIT * errors.min(MAX_ERRORS) as u32).await;
}

enum Line {
    Done,
    TooLong,
    Eof,
}

/// Reads one line (through its `\n`) into `buf`, keeping at most `limit` bytes; a longer line
/// is read to its end and reported as too long.
async fn read_line<R: AsyncRead + Unpin>(
    io: &mut BufReader<R>,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Line> {
    let mut too_long = false;
    loop {
        let available = io.fill_buf().await?;
        if available.is_empty() {
            return Ok(if buf.is_empty() && !too_long { Line::Eof } else { Line::Done });
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        if buf.len() + chunk.len() > limit {
            too_long = true;
        } else {
            buf.extend_from_slice(chunk);
        }
        let n = chunk.len();
        io.consume(n);
        if done {
            return Ok(if too_long { Line::TooLong } else { Line::Done });
        }
    }
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, text: &str) -> std::io::Result<()> {
    let stream = io.get_mut();
    stream.write_all(text.as_bytes()).await?;
    stream.write_all(b"\r\n").await?;
    stream.flush().await
}

/// `MAIL FROM:<a> SIZE=1` → (`a`, `SIZE=1`); an empty reverse path (`<>`, a bounce) is "".
fn path_after(line: &str, keyword: &str) -> Option<(String, String)> {
    let upper = line.to_ascii_uppercase();
    let at = upper.find(keyword)? + keyword.len();
    let rest = line[at..].trim_start();
    let (path, params) = if let Some(inner) = rest.strip_prefix('<') {
        let close = inner.find('>')?;
        (inner[..close].to_string(), inner[close + 1..].trim().to_string())
    } else {
        let mut parts = rest.splitn(2, ' ');
        (parts.next()?.to_string(), parts.next().unwrap_or("").to_string())
    };
    let path = path.rsplit(':').next().unwrap_or_default().trim().to_string();
    (path.is_empty() || path.contains('@')).then_some((path, params))
}

/// The name after `EHLO`/`HELO` (at most 255 characters; empty when none was given).
fn helo_name(line: &str) -> String {
    line.split_whitespace().nth(1).unwrap_or_default().chars().take(255).collect()
}

fn size_param(params: &str) -> Option<usize> {
    params.split_whitespace().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.eq_ignore_ascii_case("SIZE").then(|| v.parse().ok()).flatten()
    })
}

/// A STARTTLS acceptor from a PEM certificate chain and private key.
pub fn tls_acceptor(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad certificate PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the certificate file holds no certificate".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("bad private key PEM: {e}"))?;
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not make a TLS configuration: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sizes_read() {
        assert_eq!(
            path_after("MAIL FROM:<a@b.example> SIZE=100", "FROM:"),
            Some(("a@b.example".into(), "SIZE=100".into()))
        );
        assert_eq!(path_after("mail from: <>", "FROM:"), Some((String::new(), String::new())));
        assert_eq!(
            path_after("RCPT TO:<@relay.example:x@y.example>", "TO:"),
            Some(("x@y.example".into(), String::new()))
        );
        assert_eq!(path_after("RCPT TO:<nobody>", "TO:"), None);
        assert_eq!(path_after("RCPT TO:<a@b", "TO:"), None);
        assert_eq!(size_param("BODY=8BITMIME SIZE=2048"), Some(2048));
        assert_eq!(size_param("BODY=8BITMIME"), None);
    }
}

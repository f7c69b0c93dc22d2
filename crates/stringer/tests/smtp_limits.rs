//! The SMTP listener's per-client limits over real SMTP conversations: one client's excess
//! sessions are refused while another client still gets in; one client's messages are
//! limited per minute with a `451` it retries later; a session that starts no message is
//! closed after the short wait.

use crate::support;

use std::time::Duration;
use support::{Db, Server, smtp_address};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

/// A conversation with the listener from the loopback address `from` (any 127.0.0.0/8
/// address is this host).
struct Conversation {
    io: BufReader<TcpStream>,
}

impl Conversation {
    async fn open(smtp: &str, from: &str) -> Conversation {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        let stream = socket.connect(smtp.parse().unwrap()).await.unwrap();
        Conversation { io: BufReader::new(stream) }
    }

    /// The next reply (its last line), or "" when the listener closed the connection; waits
    /// at most 20 s.
    async fn reply(&mut self) -> String {
        let read = async {
            loop {
                let mut line = String::new();
                if self.io.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return String::new();
                }
                if line.as_bytes().get(3) != Some(&b'-') {
                    return line;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read).await.expect("the listener answers in time")
    }

    async fn say(&mut self, command: &str) -> String {
        self.io.get_mut().write_all(format!("{command}\r\n").as_bytes()).await.unwrap();
        self.reply().await
    }

    /// One message from `sender` to the support mailbox; the reply to its `MAIL FROM`, and
    /// the reply to its end when that was accepted.
    async fn message(&mut self, sender: &str) -> String {
        let mail = self.say(&format!("MAIL FROM:<{sender}>")).await;
        if !mail.starts_with("250") {
            return mail;
        }
        assert!(self.say("RCPT TO:<support@support.example>").await.starts_with("250"));
        assert!(self.say("DATA").await.starts_with("354"));
        let body = format!("From: {sender}\r\nTo: support@support.example\r\nSubject: hello\r\n\r\nhi\r\n.");
        self.say(&body).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_hold_every_session() {
    let server = Server::start(
        &Db::sqlite(),
        &["--smtp-listen", "127.0.0.1:0", "--mail-domain", "support.example", "--smtp-sessions-per-client", "3"],
    );
    let smtp = smtp_address(&server);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = Conversation::open(&smtp, "127.0.0.1").await;
        assert!(c.reply().await.starts_with("220"));
        held.push(c);
    }
    let mut fourth = Conversation::open(&smtp, "127.0.0.1").await;
    let refused = fourth.reply().await;
    assert!(refused.starts_with("421"), "{refused}");
    assert_eq!(fourth.reply().await, "", "the refused session is closed");
    // Another client still gets in and is served.
    let mut other = Conversation::open(&smtp, "127.0.0.2").await;
    assert!(other.reply().await.starts_with("220"));
    assert!(other.say("EHLO other.example").await.starts_with("250"));
    // A closed session frees its place.
    let mut first = held.remove(0);
    assert!(first.say("QUIT").await.starts_with("221"));
    drop(first);
    support::until("a freed place", || {
        let smtp = smtp.clone();
        async move {
            let mut again = Conversation::open(&smtp, "127.0.0.1").await;
            again.reply().await.starts_with("220").then_some(())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_messages_are_limited_per_minute() {
    let server = Server::start(
        &Db::sqlite(),
        &["--smtp-listen", "127.0.0.1:0", "--mail-domain", "support.example", "--smtp-messages-per-minute", "4"],
    );
    let smtp = smtp_address(&server);
    let mut first = Conversation::open(&smtp, "127.0.0.1").await;
    assert!(first.reply().await.starts_with("220"));
    assert!(first.say("EHLO sender.example").await.starts_with("250"));
    for _ in 0..2 {
        let done = first.message("someone@customer.example").await;
        assert!(done.starts_with("250"), "{done}");
    }
    // The limit is the client's, not the session's.
    let mut second = Conversation::open(&smtp, "127.0.0.1").await;
    assert!(second.reply().await.starts_with("220"));
    assert!(second.say("EHLO sender.example").await.starts_with("250"));
    for _ in 0..2 {
        let done = second.message("someone@customer.example").await;
        assert!(done.starts_with("250"), "{done}");
    }
    let refused = second.message("someone@customer.example").await;
    assert!(refused.starts_with("451 4.7.1"), "a temporary refusal: {refused}");
    let refused = first.message("someone@customer.example").await;
    assert!(refused.starts_with("451 4.7.1"), "{refused}");
    // The session stays usable, and another client is not held back.
    assert!(first.say("RSET").await.starts_with("250"));
    let mut other = Conversation::open(&smtp, "127.0.0.3").await;
    assert!(other.reply().await.starts_with("220"));
    assert!(other.say("EHLO other.example").await.starts_with("250"));
    let done = other.message("someone@customer.example").await;
    assert!(done.starts_with("250"), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_starts_no_message_is_closed_soon() {
    let server = Server::start(
        &Db::sqlite(),
        &["--smtp-listen", "127.0.0.1:0", "--mail-domain", "support.example", "--smtp-idle-before-mail", "1"],
    );
    let smtp = smtp_address(&server);
    let started = std::time::Instant::now();
    let mut idle = Conversation::open(&smtp, "127.0.0.1").await;
    assert!(idle.reply().await.starts_with("220"));
    // Commands other than MAIL do not keep it open.
    assert!(idle.say("EHLO idle.example").await.starts_with("250"));
    assert!(idle.say("NOOP").await.starts_with("250"));
    let closing = idle.reply().await;
    assert!(closing.starts_with("421 4.4.2"), "{closing}");
    assert_eq!(idle.reply().await, "", "closed");
    assert!(started.elapsed() < Duration::from_secs(15), "closed after the short wait, not the long one");
    // A session that starts a message in time is served.
    let mut busy = Conversation::open(&smtp, "127.0.0.1").await;
    assert!(busy.reply().await.starts_with("220"));
    assert!(busy.say("EHLO busy.example").await.starts_with("250"));
    let done = busy.message("someone@customer.example").await;
    assert!(done.starts_with("250"), "{done}");
}

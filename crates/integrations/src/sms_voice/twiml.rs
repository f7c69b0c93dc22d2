//! The line's steps written as TwiML, the XML a Twilio-compatible provider runs for a call:
//! only the documented verbs `<Say>`, `<Gather>`, `<Dial>` with `<Number>`, `<Record>` and
//! `<Hangup>`, with documented attributes. Every callback URL is absolute, under the
//! server's public address, so that the provider signs what it requests.

use stringer_app::phone::Step;

/// The paths the provider requests, under the public address.
pub mod paths {
    /// A new call to the line (the number's voice webhook).
    pub const INCOMING: &str = "/twilio/voice";
    /// The PIN the caller keyed in.
    pub const PIN: &str = "/twilio/voice/pin";
    /// A ring ended.
    pub const RANG: &str = "/twilio/voice/rang";
    /// The person rung answered (before the caller is put through).
    pub const ANSWERED: &str = "/twilio/voice/answered";
    /// The caller's message was recorded.
    pub const RECORDED: &str = "/twilio/voice/recorded";
    /// The message's transcription.
    pub const TRANSCRIBED: &str = "/twilio/voice/transcribed";
}

/// Escapes text for an XML element or attribute.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn say(text: &str) -> String {
    if text.is_empty() { String::new() } else { format!("<Say>{}</Say>", escape(text)) }
}

/// The TwiML document of `step`, with callbacks under `base` (the public address).
pub fn render(step: &Step, base: &str) -> String {
    let base = base.trim_end_matches('/');
    let body = match step {
        Step::AskPin { say: text, attempt } => format!(
            "<Gather input=\"dtmf\" action=\"{}\" method=\"POST\" timeout=\"10\" finishOnKey=\"#\" numDigits=\"{}\">{}</Gather>\
             <Say>No PIN was entered. Goodbye.</Say><Hangup/>",
            escape(&format!("{base}{}?attempt={attempt}", paths::PIN)),
            stringer_core::phone::PIN_MAX_DIGITS,
            say(text)
        ),
        Step::Ring { say: text, ticket, place, whom, number, caller_id, seconds } => {
            let query = format!("ticket={ticket}&place={place}&whom={whom}");
            format!(
                "{}<Dial action=\"{}\" method=\"POST\" timeout=\"{seconds}\" callerId=\"{}\" answerOnBridge=\"true\">\
                 <Number url=\"{}\" method=\"POST\">{}</Number></Dial>",
                say(text),
                escape(&format!("{base}{}?{query}", paths::RANG)),
                escape(caller_id),
                escape(&format!("{base}{}?{query}", paths::ANSWERED)),
                escape(number)
            )
        }
        Step::Record { say: text, ticket } => format!(
            "{}<Record action=\"{}\" method=\"POST\" maxLength=\"180\" timeout=\"10\" finishOnKey=\"#\" playBeep=\"true\" \
             transcribe=\"true\" transcribeCallback=\"{}\"/><Say>No message was recorded. Goodbye.</Say><Hangup/>",
            say(text),
            escape(&format!("{base}{}?ticket={ticket}", paths::RECORDED)),
            escape(&format!("{base}{}?ticket={ticket}", paths::TRANSCRIBED))
        ),
        Step::Goodbye { say: text } => format!("{}<Hangup/>", say(text)),
        Step::Whisper { say: text } => say(text),
    };
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{body}</Response>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use stringer_core::ids::TicketId;

    #[test]
    fn each_step_is_written_with_its_verbs() {
        let ticket = TicketId::from("tkt_01");
        let ring = Step::Ring {
            say: "Putting you through & holding.".into(),
            ticket: ticket.clone(),
            place: 1,
            whom: stringer_core::ids::UserId::from("usr_01"),
            number: "+15550100002".into(),
            caller_id: "+15550109999".into(),
            seconds: 20,
        };
        insta::assert_snapshot!(render(&ring, "https://stringer.example/"), @r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Putting you through &amp; holding.</Say><Dial action="https://stringer.example/twilio/voice/rang?ticket=tkt_01&amp;place=1&amp;whom=usr_01" method="POST" timeout="20" callerId="+15550109999" answerOnBridge="true"><Number url="https://stringer.example/twilio/voice/answered?ticket=tkt_01&amp;place=1&amp;whom=usr_01" method="POST">+15550100002</Number></Dial></Response>"#);
        let goodbye = render(&Step::Goodbye { say: String::new() }, "https://s.example");
        assert_eq!(goodbye, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>");
        let ask = render(&Step::AskPin { say: "PIN <please>".into(), attempt: 2 }, "https://s.example");
        assert!(ask.contains("action=\"https://s.example/twilio/voice/pin?attempt=2\""), "{ask}");
        assert!(ask.contains("<Say>PIN &lt;please&gt;</Say></Gather>"), "{ask}");
        let record = render(&Step::Record { say: "Leave a message.".into(), ticket }, "https://s.example");
        assert!(record.contains("transcribeCallback=\"https://s.example/twilio/voice/transcribed?ticket=tkt_01\""));
    }
}

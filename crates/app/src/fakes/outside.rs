//! The outside world as the desks' tests see it: the one [`Sender`], keeping what it was
//! handed and answering as the test scripts it.

use crate::outbox::{Outgoing, SendError, Sender};
use async_trait::async_trait;
use std::sync::Mutex;

/// A sender that is down (a temporary failure) for its first `down` sends, then takes each
/// message, answering `receipt` for a delivery (as a provider whose messages can be changed
/// later does) and none for anything else.
#[derive(Default)]
pub struct Relay {
    /// Sends refused before the first taken.
    pub down: Mutex<usize>,
    /// What a delivery's send answers.
    pub receipt: Option<String>,
    /// What it took: (the sending's id, the message).
    pub took: Mutex<Vec<(String, Outgoing)>>,
}

#[async_trait]
impl Sender for Relay {
    async fn send(&self, id: &str, message: &Outgoing) -> Result<Option<String>, SendError> {
        let mut down = self.down.lock().unwrap();
        if *down > 0 {
            *down -= 1;
            return Err(SendError::Temporary("451 try again later".into()));
        }
        self.took.lock().unwrap().push((id.to_string(), message.clone()));
        Ok(match message {
            Outgoing::Delivery(_) => self.receipt.clone(),
            Outgoing::Mail { .. } | Outgoing::Webhook { .. } | Outgoing::Slack { .. } => None,
        })
    }
}

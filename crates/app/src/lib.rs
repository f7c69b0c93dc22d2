//! Stringer's use cases and the ports they need. The server and the simulator both drive
//! [`Desk`]; only their adapters differ. The fronts reach the application through the
//! object-safe [`ports`]; the engine runs the [`delivery`] and [`settle`] workers.

#![warn(missing_docs)]

pub mod accounts;
pub mod act;
pub mod alerts;
pub mod chat;
mod clock;
pub mod delivery;
mod desk;
#[cfg(test)]
mod fakes;
pub mod files;
pub mod history;
pub mod ids;
pub mod inbox;
pub mod inquiries;
pub mod keyed;
pub mod ledger;
pub mod ledger_audit;
pub mod ledger_sources;
pub mod letters;
pub mod limits;
pub mod links;
pub mod mail;
mod memory_store;
pub mod outbox;
mod outcome;
pub mod packet;
pub mod paging;
pub mod phone;
pub mod ports;
pub mod postmortem;
pub mod records;
pub mod review;
pub mod schedules;
pub mod settle;
pub mod simulate;
pub mod status;
mod store;
pub mod whatif;

pub use clock::{Clock, VirtualClock};
pub use desk::{Desk, Fired, thread_notes};
pub use memory_store::{MemoryStore, TimelineEntry};
pub use outcome::{AppError, Recorded};
pub use store::{
    Change, Extras, NewComment, PagingEnded, Store, StoreError, StoredTicket, ThreadNote, TicketDetails, Timer,
};

//! Stringer's use cases and the ports they need (Store, Clock). The server and the simulator
//! both drive [`Desk`]; only their adapters differ.

#![warn(missing_docs)]

mod clock;
pub mod delivery;
mod desk;
mod memory_store;
pub mod simulate;
mod store;

pub use clock::{Clock, VirtualClock};
pub use desk::{AppError, Desk, Fired, Recorded};
pub use memory_store::{MemoryStore, TimelineEntry};
pub use store::{Change, Extras, NewComment, Store, StoreError, StoredTicket, TicketDetails, Timer};

//! The engine's cycles, by what they work on: each a [`crate::cycle::Cycle`] — a name, one
//! step and a pacing — and nothing else.

pub(crate) mod auditor;
pub(crate) mod intake;
pub(crate) mod notary;
pub(crate) mod outgoing;
pub(crate) mod publishing;
pub(crate) mod sweep;
pub(crate) mod upkeep;

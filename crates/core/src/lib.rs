//! Stringer's pure domain: the support contract as data, business-time calendars, SLA clocks and
//! escalation rules.
//!
//! Nothing here reads a clock, touches IO or runs async: every decision takes the current
//! instant as a parameter and returns what changes and what must happen next.

#![warn(missing_docs)]

pub mod access;
pub mod alert;
pub mod calendar;
pub mod contract;
pub mod event;
pub mod ids;
pub mod mail;
pub mod mail_auth;
pub mod oncall;
pub mod phone;
pub mod postmortem;
pub mod replay;
pub mod review;
pub mod routing;
pub mod sla;
pub mod span;
pub mod status;
pub mod ticket;
pub mod whatif;

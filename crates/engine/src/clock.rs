//! The system clock, in whole seconds: the running server's [`Clock`]. The engine is where
//! the server reads the wall clock; everything else gets time from a `Clock`.

use jiff::Timestamp;
use stringer_app::Clock;

/// The system clock, truncated to the second.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_second(Timestamp::now().as_second()).expect("now is a valid instant")
    }
}

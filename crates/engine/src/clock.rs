//! The system clock, in whole seconds: the running server's [`Clock`]. The engine is where
//! the server reads the wall clock; everything else gets time from a `Clock`.

use jiff::Timestamp;
use stringer_app::Clock;

/// The system clock, truncated to the second (to the millisecond where asked).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_second(Timestamp::now().as_second()).expect("now is a valid instant")
    }

    fn now_precise(&self) -> Timestamp {
        Timestamp::from_millisecond(Timestamp::now().as_millisecond()).expect("now is a valid instant")
    }
}

//! The Clock port: the only way the use cases learn the current instant. The server uses the
//! system clock; the simulator a virtual clock it moves from timer to timer.

use jiff::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current instant, in whole seconds.
pub trait Clock: Send + Sync {
    /// Now, truncated to the second.
    fn now(&self) -> Timestamp;

    /// Now to the millisecond, where the order of things within one second matters (the
    /// arrival order of channel messages); whole seconds for a clock that has no finer
    /// time.
    fn now_precise(&self) -> Timestamp {
        self.now()
    }
}

/// A clock that only moves when told to: the simulator's.
#[derive(Debug)]
pub struct VirtualClock {
    seconds: AtomicI64,
}

impl VirtualClock {
    /// A clock standing at `at`.
    pub fn new(at: Timestamp) -> VirtualClock {
        VirtualClock { seconds: AtomicI64::new(at.as_second()) }
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: Timestamp) {
        self.seconds.store(at.as_second(), Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_second(self.seconds.load(Ordering::SeqCst)).expect("set from a valid timestamp")
    }
}

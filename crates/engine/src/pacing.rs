//! How a polling cycle paces its rounds. After a full round it goes again at once (more is
//! waiting); after a round that found work, it rests its `busy` pause; after each round that
//! found nothing, a pause that starts at `busy` and doubles up to its `idle` pause. A doorbell
//! (work this process stored: see the store's bells) ends any pause once the busy pause has
//! passed since the round, so a stream of stored work is taken in batches, not one round per
//! item. So an idle server polls each cycle at its idle pace, work stored on this instance
//! starts within the busy pause (as soon as before the bells, never later), and work stored by
//! another instance waits at most the idle pause.

use std::time::Duration;

/// What a round found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Round {
    /// A full batch: more may be waiting.
    Full,
    /// Some work (or a failure: try again soon).
    Worked,
    /// Nothing to do.
    Empty,
}

impl Round {
    /// The round that handled `items` of at most `batch`.
    pub(crate) fn of(items: usize, batch: i64) -> Round {
        if items as i64 >= batch {
            Round::Full
        } else if items > 0 {
            Round::Worked
        } else {
            Round::Empty
        }
    }

    /// The busier of two rounds (a cycle with several kinds of work).
    pub(crate) fn and(self, other: Round) -> Round {
        match (self, other) {
            (Round::Full, _) | (_, Round::Full) => Round::Full,
            (Round::Worked, _) | (_, Round::Worked) => Round::Worked,
            _ => Round::Empty,
        }
    }
}

/// A cycle's pacing (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct Pacing {
    busy: Duration,
    idle: Duration,
    next_empty: Duration,
}

impl Pacing {
    /// Rests `busy` after work, up to `idle` when there is none.
    pub(crate) const fn new(busy: Duration, idle: Duration) -> Pacing {
        Pacing { busy, idle, next_empty: busy }
    }

    /// The pause after a round with work: the shortest a doorbell may cut a rest to.
    pub(crate) const fn busy(&self) -> Duration {
        self.busy
    }

    /// The longest pause between two rounds: the cycle's period for the supervisor.
    pub(crate) const fn longest(&self) -> Duration {
        self.idle
    }

    /// The pause after a round that found `round`.
    pub(crate) fn after(&mut self, round: Round) -> Duration {
        match round {
            Round::Full => {
                self.next_empty = self.busy;
                Duration::ZERO
            }
            Round::Worked => {
                self.next_empty = self.busy;
                self.busy
            }
            Round::Empty => {
                let pause = self.next_empty;
                self.next_empty = (pause * 2).min(self.idle);
                pause
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn empty_rounds_slow_down_to_the_idle_pause_and_work_speeds_up_again() {
        let mut pacing = Pacing::new(MS(100), MS(1000));
        let empty: Vec<_> = (0..6).map(|_| pacing.after(Round::Empty)).collect();
        assert_eq!(empty, [MS(100), MS(200), MS(400), MS(800), MS(1000), MS(1000)]);
        assert_eq!(pacing.after(Round::Worked), MS(100));
        assert_eq!(pacing.after(Round::Empty), MS(100));
        assert_eq!(pacing.after(Round::Empty), MS(200));
        assert_eq!(pacing.after(Round::Full), Duration::ZERO);
        assert_eq!(pacing.after(Round::Empty), MS(100));
    }

    #[test]
    fn a_round_is_full_when_it_filled_its_batch() {
        assert_eq!(Round::of(0, 10), Round::Empty);
        assert_eq!(Round::of(3, 10), Round::Worked);
        assert_eq!(Round::of(10, 10), Round::Full);
        assert_eq!(Round::Empty.and(Round::Worked), Round::Worked);
        assert_eq!(Round::Worked.and(Round::Full), Round::Full);
        assert_eq!(Round::Empty.and(Round::Empty), Round::Empty);
    }
}

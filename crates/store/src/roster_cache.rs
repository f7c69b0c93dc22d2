//! Rosters recently read, so that opening a burst of paging tickets does not read an org's
//! people, schedules and staff again for every ticket. An entry lives at most
//! [`ROSTER_TTL`]; every write through this store that changes a roster (orgs, staff users,
//! schedules) empties the cache at once, so only another instance's change can be seen late,
//! and by at most that long — the same bound as the token cache's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stringer_core::ids::OrgSlug;
use stringer_core::routing::Roster;

/// How long a roster read is reused.
pub(crate) const ROSTER_TTL: Duration = Duration::from_secs(1);

/// Rosters by org, each with when it was read, and the generation of the writes seen.
#[derive(Clone, Debug, Default)]
pub(crate) struct RosterCache(Arc<Mutex<Entries>>);

#[derive(Debug, Default)]
struct Entries {
    /// Counts the writes that emptied the cache: a read that began before one is not kept.
    generation: u64,
    rosters: HashMap<OrgSlug, (Instant, Roster)>,
}

/// A cache miss: where a read of the roster began, to keep it afterwards.
pub(crate) struct Miss {
    generation: u64,
    started: Instant,
}

impl RosterCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The org's roster, if read less than [`ROSTER_TTL`] before `now`; else the miss to
    /// hand back to [`RosterCache::put`] with the roster read afterwards.
    pub(crate) fn get(&self, org: &OrgSlug, now: Instant) -> Result<Roster, Miss> {
        let entries = self.lock();
        match entries.rosters.get(org) {
            Some((read, roster)) if now.duration_since(*read) < ROSTER_TTL => Ok(roster.clone()),
            _ => Err(Miss { generation: entries.generation, started: now }),
        }
    }

    /// Keeps a roster read after `miss`, unless a write emptied the cache meanwhile.
    pub(crate) fn put(&self, org: OrgSlug, roster: Roster, miss: Miss) {
        let mut entries = self.lock();
        if entries.generation != miss.generation {
            return;
        }
        entries.rosters.retain(|_, (at, _)| miss.started.duration_since(*at) < ROSTER_TTL);
        entries.rosters.insert(org, (miss.started, roster));
    }

    /// Forgets every roster (a write changed who may be paged).
    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.rosters.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stringer_core::ids::Deployment;

    fn roster(org: &str) -> Roster {
        Roster {
            org: OrgSlug::from(org),
            deployment: Deployment::Shared,
            tam: None,
            named_engineers: vec![],
            schedules: vec![],
            staff: vec![],
        }
    }

    #[test]
    fn a_roster_is_reused_for_a_second_and_forgotten_on_clear() {
        let cache = RosterCache::default();
        let acme = OrgSlug::from("acme");
        let t0 = Instant::now();
        let miss = cache.get(&acme, t0).unwrap_err();
        cache.put(acme.clone(), roster("acme"), miss);
        assert!(cache.get(&acme, t0 + Duration::from_millis(999)).is_ok());
        assert!(cache.get(&acme, t0 + ROSTER_TTL).is_err());
        assert!(cache.get(&OrgSlug::from("bolt"), t0).is_err());
        cache.clear();
        assert!(cache.get(&acme, t0).is_err());
    }

    #[test]
    fn a_read_that_began_before_a_write_is_not_kept() {
        let cache = RosterCache::default();
        let acme = OrgSlug::from("acme");
        let miss = cache.get(&acme, Instant::now()).unwrap_err();
        cache.clear();
        cache.put(acme.clone(), roster("acme"), miss);
        assert!(cache.get(&acme, Instant::now()).is_err());
    }
}

//! Fixed-window request counting, for vendors that document a rate limit.
//!
//! Off unless a vendor's fixture or `--rate-limit VENDOR` turns it on, so
//! clients' retry logic can be tested on demand. A window opens at a key's
//! first request and lasts `window`; the `limit`-th request in it is the last
//! one allowed. Windows run on the request's clock (`now`), so a test that
//! freezes or advances the clock controls them.

use dashmap::DashMap;
use time::{Duration, OffsetDateTime};

/// Windows of sessions that went away are dropped once there are this many.
const PRUNE_ABOVE: usize = 1024;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: DashMap<String, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: OffsetDateTime,
    used: u32,
}

impl Window {
    /// Whether `now` still falls in this window. A clock set back before
    /// the window opened starts a new one; an end past the calendar's
    /// range never comes.
    fn covers(&self, now: OffsetDateTime, length: Duration) -> bool {
        now >= self.opened && self.opened.checked_add(length).is_none_or(|end| now < end)
    }
}

impl RateLimiter {
    pub fn new(limit: u32, window: std::time::Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window: Duration::try_from(window).unwrap_or(Duration::MAX),
            windows: DashMap::new(),
        }
    }

    /// Counts one request for `key` at `now` and says whether it may proceed.
    pub fn check(&self, key: &str, now: OffsetDateTime) -> Quota {
        if self.windows.len() > PRUNE_ABOVE {
            self.windows.retain(|_, w| w.covers(now, self.window));
        }
        let mut entry = self.windows.entry(key.to_owned()).or_insert(Window {
            opened: now,
            used: 0,
        });
        if !entry.covers(now, self.window) {
            *entry = Window {
                opened: now,
                used: 0,
            };
        }
        let allowed = entry.used < self.limit;
        if allowed {
            entry.used = entry.used.saturating_add(1);
        }
        let left = entry
            .opened
            .checked_add(self.window)
            .map_or(self.window, |end| end - now);
        Quota {
            allowed,
            limit: self.limit,
            remaining: self.limit.saturating_sub(entry.used),
            reset_after_secs: whole_seconds_up(left),
        }
    }

    pub fn reset(&self) {
        self.windows.clear();
    }
}

/// At least one second, rounded up.
fn whole_seconds_up(left: Duration) -> u64 {
    let secs = u64::try_from(left.whole_seconds()).unwrap_or(0);
    let secs = if left.subsec_nanoseconds() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    };
    secs.max(1)
}

/// What one request's check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    pub allowed: bool,
    pub limit: u32,
    /// Requests still allowed in this window after this one.
    pub remaining: u32,
    /// Whole seconds until the window closes (at least 1).
    pub reset_after_secs: u64,
}

impl Quota {
    /// A used-up quota that refills in `retry_after_secs` (a scenario's 429).
    pub fn exhausted(limit: u32, retry_after_secs: u64) -> Quota {
        Quota {
            allowed: false,
            limit,
            remaining: 0,
            reset_after_secs: retry_after_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn windows_follow_the_given_clock_not_the_machines() {
        let limiter = RateLimiter::new(2, std::time::Duration::from_secs(60));
        let t0 = datetime!(2026-01-01 0:00 UTC);
        assert!(limiter.check("w", t0).allowed);
        let second = limiter.check("w", t0 + Duration::seconds(59));
        assert_eq!(
            (second.allowed, second.remaining, second.reset_after_secs),
            (true, 0, 1)
        );
        assert!(!limiter.check("w", t0 + Duration::seconds(59)).allowed);
        assert!(limiter.check("w", t0 + Duration::seconds(60)).allowed);
        // A clock set back opens a new window instead of waiting for it.
        assert!(limiter.check("w", t0 - Duration::days(1)).allowed);
    }

    #[test]
    fn a_window_at_the_end_of_time_does_not_overflow() {
        let limiter = RateLimiter::new(1, std::time::Duration::from_secs(60));
        let end = datetime!(+9999-12-31 23:59:59.999 UTC);
        let quota = limiter.check("w", end);
        assert!(quota.allowed);
        assert_eq!(quota.reset_after_secs, 60);
        assert!(!limiter.check("w", end).allowed);
    }
}

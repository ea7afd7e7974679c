//! Fixed-window request counting, for vendors that document a rate limit.
//!
//! Off unless a vendor's fixture or `--rate-limit VENDOR` turns it on, so
//! clients' retry logic can be tested on demand. A window opens at a key's
//! first request and lasts `window`; the `limit`-th request in it is the last
//! one allowed. Windows run on the request's clock (`now`), so a test that
//! freezes or advances the clock controls them.
//!
//! Keys come and go (a session per test), so old windows are dropped, but
//! not by the clock: each session may run its own, frozen or moved, and
//! one request's `now` says nothing about another key's window. A window
//! goes when no request used it for [`IDLE`] of real time (a session idle
//! that long is dropped too), and beyond [`MAX_WINDOWS`] the least recently
//! used go first. Pruning runs when the map has doubled since the last
//! pass, so a new key per request costs amortised constant time, not a
//! pass over every window.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use dashmap::DashMap;
use time::{Duration, OffsetDateTime};

/// The map is not pruned below this many windows.
const PRUNE_ABOVE: usize = 1024;

/// A window no request used for this long (real time) is dropped: the
/// default `--session-idle`, after which the session itself is gone.
const IDLE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The most windows kept; past it the least recently used go first.
const MAX_WINDOWS: usize = 100_000;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: DashMap<String, Window>,
    /// The next pass runs when the map holds more than this.
    prune_at: AtomicUsize,
    idle: std::time::Duration,
    max_windows: usize,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: OffsetDateTime,
    used: u32,
    /// When a request last counted here, in real time.
    touched: Instant,
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
            prune_at: AtomicUsize::new(PRUNE_ABOVE),
            idle: IDLE,
            max_windows: MAX_WINDOWS,
        }
    }

    /// Counts one request for `key` at `now` and says whether it may proceed.
    pub fn check(&self, key: &str, now: OffsetDateTime) -> Quota {
        let touched = Instant::now();
        if self.windows.len() > self.prune_at.load(Ordering::Relaxed) {
            self.prune(touched);
        }
        let mut entry = self.windows.entry(key.to_owned()).or_insert(Window {
            opened: now,
            used: 0,
            touched,
        });
        entry.touched = touched;
        if !entry.covers(now, self.window) {
            *entry = Window {
                opened: now,
                used: 0,
                touched,
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
        self.prune_at.store(PRUNE_ABOVE, Ordering::Relaxed);
    }

    /// Drops idle windows, then the least recently used beyond the cap
    /// (down to half of it, so the next eviction is as far away); the next
    /// pass waits until the map has doubled.
    fn prune(&self, now: Instant) {
        self.windows
            .retain(|_, w| now.saturating_duration_since(w.touched) < self.idle);
        if self.windows.len() > self.max_windows {
            let mut by_use: Vec<(Instant, String)> = self
                .windows
                .iter()
                .map(|e| (e.value().touched, e.key().clone()))
                .collect();
            by_use.sort_unstable();
            let drop = by_use.len().saturating_sub(self.max_windows / 2);
            for (_, key) in by_use.into_iter().take(drop) {
                self.windows.remove(&key);
            }
        }
        let next = self
            .windows
            .len()
            .saturating_mul(2)
            .clamp(PRUNE_ABOVE, self.max_windows.max(PRUNE_ABOVE));
        self.prune_at.store(next, Ordering::Relaxed);
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
    fn a_new_key_per_request_prunes_rarely_not_on_every_request() {
        let limiter = RateLimiter::new(5, std::time::Duration::from_secs(60));
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let mut passes = 0;
        let mut threshold = limiter.prune_at.load(Ordering::Relaxed);
        for i in 0..20_000 {
            limiter.check(&format!("session-{i}"), t0);
            let now = limiter.prune_at.load(Ordering::Relaxed);
            if now != threshold {
                passes += 1;
                threshold = now;
            }
        }
        assert_eq!(limiter.windows.len(), 20_000, "no window in use is dropped");
        assert!(passes <= 6, "{passes} pruning passes for 20,000 keys");
    }

    #[test]
    fn under_a_frozen_clock_windows_hold_and_the_map_stays_bounded() {
        let mut limiter = RateLimiter::new(1, std::time::Duration::from_secs(60));
        limiter.max_windows = 2_000;
        let frozen = datetime!(2026-01-01 0:00 UTC);
        assert!(limiter.check("kept", frozen).allowed);
        for i in 0..10_000 {
            limiter.check(&format!("session-{i}"), frozen);
            if i % 100 == 0 {
                // Used now and then, so it is never the least recently used.
                assert!(
                    !limiter.check("kept", frozen).allowed,
                    "the frozen window holds"
                );
            }
            assert!(limiter.windows.len() <= 2_001);
        }
    }

    #[test]
    fn idle_windows_are_dropped_by_real_time_not_by_another_keys_clock() {
        let mut limiter = RateLimiter::new(1, std::time::Duration::from_secs(60));
        limiter.idle = std::time::Duration::ZERO;
        let future = datetime!(2030-01-01 0:00 UTC);
        let past = datetime!(2026-01-01 0:00 UTC);
        assert!(limiter.check("session-in-2030", future).allowed);
        // Another key's clock runs years behind: that alone drops nothing.
        limiter.idle = IDLE;
        for i in 0..3_000 {
            limiter.check(&format!("other-{i}"), past);
        }
        assert!(!limiter.check("session-in-2030", future).allowed);
        limiter.idle = std::time::Duration::ZERO;
        limiter.prune(Instant::now());
        assert_eq!(limiter.windows.len(), 0, "every idle window went");
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

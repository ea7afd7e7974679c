//! Fixed-window request counting, for vendors that document a rate limit.
//!
//! Off unless a vendor's fixture or `--rate-limit VENDOR` turns it on, so
//! clients' retry logic can be tested on demand. A window opens at a key's
//! first request and lasts `window`; the `limit`-th request in it is the last
//! one allowed.

use std::time::{Duration, Instant};

use dashmap::DashMap;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: DashMap<String, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    used: u32,
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

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            windows: DashMap::new(),
        }
    }

    /// Counts one request for `key` and says whether it may proceed.
    pub fn check(&self, key: &str) -> Quota {
        let now = Instant::now();
        let mut entry = self.windows.entry(key.to_owned()).or_insert(Window {
            opened: now,
            used: 0,
        });
        if now.duration_since(entry.opened) >= self.window {
            *entry = Window {
                opened: now,
                used: 0,
            };
        }
        let allowed = entry.used < self.limit;
        if allowed {
            entry.used += 1;
        }
        let left = self.window.saturating_sub(now.duration_since(entry.opened));
        Quota {
            allowed,
            limit: self.limit,
            remaining: self.limit - entry.used,
            reset_after_secs: left.as_secs_f64().ceil().max(1.0) as u64,
        }
    }

    /// Forgets every window (admin reset).
    pub fn reset(&self) {
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_th_request_is_the_last_one_allowed_per_key() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        let seen: Vec<bool> = (0..4).map(|_| limiter.check("a").allowed).collect();
        assert_eq!(seen, [true, true, true, false]);
        assert!(limiter.check("b").allowed);
        let quota = limiter.check("a");
        assert_eq!((quota.remaining, quota.limit), (0, 3));
        assert!(quota.reset_after_secs >= 59 && quota.reset_after_secs <= 60);
        limiter.reset();
        assert!(limiter.check("a").allowed);
    }

    #[test]
    fn a_new_window_opens_after_the_old_one_closes() {
        let limiter = RateLimiter::new(1, Duration::from_millis(30));
        assert!(limiter.check("a").allowed);
        assert!(!limiter.check("a").allowed);
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.check("a").allowed);
    }
}

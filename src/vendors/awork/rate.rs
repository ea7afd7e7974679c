//! awork's rate limits: fixed windows counted per workspace, on the
//! request's clock, with the `ratelimit-*` / `x-ratelimit-*` headers of
//! awork's gateway.
//!
//! The shared `crate::rate_limit::RateLimiter` counts on `Instant`, so a
//! frozen or advanced clock does not move its windows; until it takes a
//! `now`, this folder keeps its own clock-driven window (same semantics:
//! a window opens at a key's first request, the `limit`-th request in it is
//! the last one allowed).

use dashmap::DashMap;
use hyper::header::{HeaderName, HeaderValue};
use time::{Duration, OffsetDateTime};

use crate::http::Reply;
use crate::rate_limit::Quota;

/// Windows of sessions that went away are dropped once there are this many.
const PRUNE_ABOVE: usize = 1024;

#[derive(Debug)]
pub(super) struct Limiter {
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

impl Limiter {
    pub fn new(limit: u32, window: std::time::Duration) -> Limiter {
        Limiter {
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

/// `ratelimit-*` describe the window closest to running out; the
/// `x-ratelimit-*` pairs describe each window (the second's only when known).
pub(super) fn with_rate_limit_headers(
    mut reply: Reply,
    second: Option<Quota>,
    minute: Quota,
) -> Reply {
    let tightest = match second {
        Some(second) if second.remaining <= minute.remaining => second,
        _ => minute,
    };
    let mut headers: Vec<(&'static str, u64)> = vec![
        ("ratelimit-limit", u64::from(tightest.limit)),
        ("ratelimit-remaining", u64::from(tightest.remaining)),
        ("ratelimit-reset", tightest.reset_after_secs),
    ];
    if let Some(second) = second {
        headers.push(("x-ratelimit-limit-second", u64::from(second.limit)));
        headers.push(("x-ratelimit-remaining-second", u64::from(second.remaining)));
    }
    headers.push(("x-ratelimit-limit-minute", u64::from(minute.limit)));
    headers.push(("x-ratelimit-remaining-minute", u64::from(minute.remaining)));
    for (name, value) in headers {
        reply = reply.with_header(HeaderName::from_static(name), HeaderValue::from(value));
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn windows_follow_the_given_clock_not_the_machines() {
        let limiter = Limiter::new(2, std::time::Duration::from_secs(60));
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
        let limiter = Limiter::new(1, std::time::Duration::from_secs(60));
        let end = datetime!(+9999-12-31 23:59:59.999 UTC);
        let quota = limiter.check("w", end);
        assert!(quota.allowed);
        assert_eq!(quota.reset_after_secs, 60);
        assert!(!limiter.check("w", end).allowed);
    }
}

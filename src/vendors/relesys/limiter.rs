//! Relesys' throttling: a fixed one-minute window per client id, opened by
//! the client's first request, on the request's clock (`req.now()`), so a
//! test that freezes or advances the clock controls the window.
//!
//! Local to Relesys because the shared `crate::rate_limit` reads the
//! machine's clock (`Instant::now()`); see the report for the request to
//! move it onto the clock.

use dashmap::DashMap;
use time::{Duration, OffsetDateTime};

use super::error::Throttled;

#[derive(Debug)]
pub(crate) struct Limiter {
    limit: u32,
    window: Duration,
    windows: DashMap<String, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: OffsetDateTime,
    used: u32,
}

impl Limiter {
    pub fn new(limit: u32, window: Duration) -> Limiter {
        Limiter {
            limit,
            window,
            windows: DashMap::new(),
        }
    }

    /// Counts one request of `client` at `now`; `Err` when its quota for
    /// the current window is used up. A clock moved back before the
    /// window opened starts a new one.
    pub fn check(&self, client: &str, now: OffsetDateTime) -> Result<(), Throttled> {
        let mut entry = self.windows.entry(client.to_owned()).or_insert(Window {
            opened: now,
            used: 0,
        });
        let elapsed = now - entry.opened;
        if elapsed >= self.window || elapsed.is_negative() {
            *entry = Window {
                opened: now,
                used: 0,
            };
        }
        if entry.used < self.limit {
            entry.used = entry.used.saturating_add(1);
            return Ok(());
        }
        let left = self.window.saturating_sub(now - entry.opened);
        let whole = left.whole_seconds();
        let rounded_up = if left.subsec_nanoseconds() > 0 {
            whole.saturating_add(1)
        } else {
            whole
        };
        Err(Throttled {
            limit: self.limit,
            retry_after_secs: u64::try_from(rounded_up.max(1)).unwrap_or(1),
        })
    }

    /// Forgets every window (a full reset).
    pub fn reset(&self) {
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_limit_th_request_is_the_last_one_in_a_window_and_the_clock_opens_the_next() {
        let limiter = Limiter::new(2, Duration::minutes(1));
        let t0 = datetime!(2026-01-01 00:00:00 UTC);
        assert_eq!(limiter.check("a", t0), Ok(()));
        assert_eq!(limiter.check("a", t0 + Duration::seconds(10)), Ok(()));
        assert_eq!(
            limiter.check("a", t0 + Duration::milliseconds(20_500)),
            Err(Throttled {
                limit: 2,
                retry_after_secs: 40
            })
        );
        assert_eq!(limiter.check("b", t0), Ok(()));
        assert_eq!(limiter.check("a", t0 + Duration::seconds(60)), Ok(()));
        // A clock set back opens a new window rather than underflowing.
        assert_eq!(limiter.check("a", t0 - Duration::days(1)), Ok(()));
        limiter.reset();
        assert_eq!(limiter.check("a", t0), Ok(()));
    }
}

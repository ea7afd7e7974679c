//! The time vendors see: real, or frozen by a test.
//!
//! Every timestamp and version a vendor writes, every token expiry and
//! every rate-limit window reads [`Clock::now`] of its request's state, so a
//! test can freeze time (`--clock`, `PUT /__admin/clock`) and get the same
//! answers on every run, or move it forward to expire a token without
//! sleeping. A session can have a clock of its own; without one it follows
//! the global clock.

use std::sync::{Arc, RwLock};

use time::{Duration, OffsetDateTime};

/// How one clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    /// The machine's time.
    Real,
    /// Stopped at this instant until set or advanced.
    Frozen(OffsetDateTime),
}

/// Why a clock change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfRange;

/// A clock that may be overridden; sessions hold one that falls back to the
/// global clock.
#[derive(Debug)]
pub(crate) struct Clock {
    own: RwLock<Option<Setting>>,
    parent: Option<Arc<Clock>>,
}

impl Clock {
    /// The global clock, running as `setting` says.
    pub fn global(setting: Setting) -> Arc<Clock> {
        Arc::new(Clock {
            own: RwLock::new(Some(setting)),
            parent: None,
        })
    }

    /// A session's clock: follows `parent` until set.
    pub fn following(parent: &Arc<Clock>) -> Clock {
        Clock {
            own: RwLock::new(None),
            parent: Some(Arc::clone(parent)),
        }
    }

    /// How this clock runs now (a following clock reports its parent's).
    pub fn setting(&self) -> Setting {
        let own = self.own.read().map(|s| *s).unwrap_or(None);
        match (own, &self.parent) {
            (Some(setting), _) => setting,
            (None, Some(parent)) => parent.setting(),
            (None, None) => Setting::Real,
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        match self.setting() {
            Setting::Real => OffsetDateTime::now_utc(),
            Setting::Frozen(at) => at,
        }
    }

    /// Runs as `setting` from now on.
    pub fn set(&self, setting: Setting) {
        if let Ok(mut own) = self.own.write() {
            *own = Some(setting);
        }
    }

    /// Back to the parent's time (a session), or the machine's (global).
    pub fn unset(&self) {
        if let Ok(mut own) = self.own.write() {
            *own = if self.parent.is_some() {
                None
            } else {
                Some(Setting::Real)
            };
        }
    }

    /// Freezes at now + `seconds` (a running clock is frozen first).
    pub fn advance(&self, seconds: u64) -> Result<OffsetDateTime, OutOfRange> {
        let seconds = i64::try_from(seconds).map_err(|_| OutOfRange)?;
        let at = self
            .now()
            .checked_add(Duration::seconds(seconds))
            .ok_or(OutOfRange)?;
        self.set(Setting::Frozen(at));
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_session_clock_follows_the_global_one_until_set() {
        let global = Clock::global(Setting::Frozen(datetime!(2026-01-01 0:00 UTC)));
        let session = Clock::following(&global);
        assert_eq!(session.now(), datetime!(2026-01-01 0:00 UTC));
        session.set(Setting::Frozen(datetime!(2030-05-05 0:00 UTC)));
        assert_eq!(session.now(), datetime!(2030-05-05 0:00 UTC));
        assert_eq!(global.now(), datetime!(2026-01-01 0:00 UTC));
        session.unset();
        assert_eq!(session.now(), datetime!(2026-01-01 0:00 UTC));
    }

    #[test]
    fn advancing_freezes_and_refuses_to_overflow() {
        let global = Clock::global(Setting::Real);
        let before = OffsetDateTime::now_utc();
        let at = global.advance(60).expect("in range");
        assert!(at >= before + Duration::seconds(60));
        assert_eq!(global.setting(), Setting::Frozen(at));
        assert_eq!(global.advance(u64::MAX), Err(OutOfRange));
        let end = Clock::global(Setting::Frozen(datetime!(+9999-12-31 23:59 UTC)));
        assert_eq!(end.advance(3600), Err(OutOfRange));
    }
}

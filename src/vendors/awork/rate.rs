//! awork's rate-limit headers (`ratelimit-*` / `x-ratelimit-*` of awork's
//! gateway), from the shared limiter's quota.

use crate::http::Reply;
use crate::rate_limit::Quota;

/// `ratelimit-*` describe the window closest to running out; the
/// `x-ratelimit-*` pairs describe each window (the second's only when known).
pub(super) fn with_rate_limit_headers(
    reply: Reply,
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
    reply.with_number_headers(&headers)
}

//! Pacing under Connect's API limits: one token bucket per operation, as Connect counts its limits per API
//! (2 requests/s with a burst of 5 unless the account's quotas were raised). A caller that waits for its slot
//! instead of calling and being throttled spends the same time without the failed calls and their backoff.
//! Used by the `connect-users` tool and by rosters (`Custom::ConnectUserSet`), by one rule ([`Pacer::under`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The pace actually used, as a share of the quota: a hair under it, so that clock differences between this
/// process and Connect's own bucket do not turn into throttled calls.
pub const MARGIN: f64 = 0.995;

/// An account's request quota for each Connect API: requests per second and the burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    pub rate: f64,
    pub burst: u32,
}

impl Quota {
    /// Connect's default: 2 requests/s, a burst of 5.
    pub const DEFAULT: Quota = Quota { rate: 2.0, burst: 5 };

    /// (rate, burst, tokens at the start) by [`Pacer::under`]'s rule.
    fn pacing(self, first: bool) -> (f64, u32, u32) {
        let start = if first { self.burst.saturating_sub(1).max(1) } else { 1 };
        (self.rate * MARGIN, self.burst, start)
    }
}

/// A token bucket that hands out start times: the pure part of pacing, tested without a clock.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// `rate` requests per second (at least 0.001), up to `burst` at once (at least 1).
    pub fn new(rate: f64, burst: u32, now: Instant) -> Bucket {
        Bucket::with_tokens(rate, burst, burst.max(1), now)
    }

    /// A bucket holding only `tokens` at first (at most the burst): for a start when someone else may have
    /// spent the server's burst just before (a continuation right after the invocation that queued it).
    pub fn with_tokens(rate: f64, burst: u32, tokens: u32, now: Instant) -> Bucket {
        let burst = f64::from(burst.max(1));
        Bucket { rate: rate.max(0.001), burst, tokens: f64::from(tokens).min(burst), at: now }
    }

    /// The server said "throttled": whatever this bucket believed, it holds nothing now, so the next call
    /// waits a full interval.
    pub fn throttled(&mut self, now: Instant) {
        if now > self.at {
            self.at = now;
        }
        self.tokens = self.tokens.min(0.0);
    }

    /// Takes the next token and says how long to wait from `now` before using it. Tokens are taken in turn,
    /// so callers that reserve one after another are spaced `1/rate` apart once the burst is spent.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        if now > self.at {
            self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
            self.at = now;
        }
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            return self.at.saturating_duration_since(now);
        }
        // In debt: the token becomes available once the debt is paid back at `rate`.
        let wait = Duration::from_secs_f64(-self.tokens / self.rate);
        (self.at + wait).saturating_duration_since(now)
    }
}

/// Buckets per operation name, shared by every task of a process.
pub struct Pacer {
    rate: f64,
    burst: u32,
    /// Tokens each bucket starts with.
    start: u32,
    buckets: Mutex<HashMap<&'static str, Bucket>>,
    throttled: AtomicU64,
}

impl Pacer {
    pub fn new(rate: f64, burst: u32) -> Pacer {
        Pacer::starting_with(rate, burst, burst)
    }

    /// Buckets that start with `start` tokens instead of a full burst.
    pub fn starting_with(rate: f64, burst: u32, start: u32) -> Pacer {
        Pacer { rate, burst, start, buckets: Mutex::new(HashMap::new()), throttled: AtomicU64::new(0) }
    }

    /// The pacer for calls under `quota`, the one rule of the set and the CLI: a hair under the rate ([`MARGIN`]),
    /// and one token of the burst kept in reserve, for calls that reach Connect closer together than they were
    /// sent. A continuation (`first` false) starts with one token: the invocation before it may have spent the
    /// server's burst just now.
    pub fn under(quota: Quota, first: bool) -> Pacer {
        let (rate, burst, start) = quota.pacing(first);
        Pacer::starting_with(rate, burst, start)
    }

    fn reserve(&self, operation: &'static str, limit: Option<Instant>) -> Option<Duration> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return Some(Duration::ZERO) };
        let bucket = buckets.entry(operation).or_insert_with(|| Bucket::with_tokens(self.rate, self.burst, self.start, now));
        let before = bucket.clone();
        let wait = bucket.reserve(now);
        if limit.is_some_and(|l| now + wait > l) {
            *bucket = before;
            return None;
        }
        Some(wait)
    }

    /// Waits until `operation` may be called again.
    pub async fn wait(&self, operation: &'static str) {
        if let Some(wait) = self.reserve(operation, None).filter(|w| !w.is_zero()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Waits for `operation`'s next slot if it comes before `limit`, and says whether it did; a slot past the
    /// limit is not taken, so work that would start too late is left for later instead.
    pub async fn wait_until(&self, operation: &'static str, limit: Instant) -> bool {
        match self.reserve(operation, Some(limit)) {
            None => false,
            Some(wait) => {
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                true
            }
        }
    }

    /// Feedback from the server: `operation` was throttled.
    pub fn throttled(&self, operation: &'static str) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut b) = self.buckets.lock() {
            if let Some(bucket) = b.get_mut(operation) {
                bucket.throttled(Instant::now());
            }
        }
    }

    /// Throttled answers seen so far.
    pub fn throttled_count(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_is_a_hair_under_the_quota_with_a_token_in_reserve() {
        assert_eq!(Quota { rate: 2.0, burst: 5 }.pacing(true), (1.99, 5, 4), "a first invocation: the burst less one");
        assert_eq!(Quota { rate: 2.0, burst: 5 }.pacing(false), (1.99, 5, 1), "a continuation: one token");
        assert_eq!(Quota { rate: 50.0, burst: 1 }.pacing(true), (49.75, 1, 1), "never none");
    }

    #[test]
    fn a_burst_goes_at_once_then_calls_are_spaced_by_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(2.0, 5, t0);
        let waits: Vec<Duration> = (0..8).map(|_| b.reserve(t0)).collect();
        assert_eq!(&waits[..5], &[Duration::ZERO; 5]);
        assert_eq!(waits[5], Duration::from_millis(500));
        assert_eq!(waits[6], Duration::from_millis(1000));
        assert_eq!(waits[7], Duration::from_millis(1500));
    }

    #[test]
    fn idle_time_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::with_tokens(2.0, 5, 0, t0);
        // A second at 2 per second: two tokens, then a wait of half a second.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!((b.reserve(t1), b.reserve(t1), b.reserve(t1)), (Duration::ZERO, Duration::ZERO, Duration::from_millis(500)));
    }

    #[tokio::test]
    async fn a_paced_call_really_waits_for_its_slot() {
        let p = Pacer::new(10.0, 1);
        let t0 = Instant::now();
        p.wait("Op").await;
        p.wait("Op").await;
        p.wait("Op").await;
        // Two intervals of 100 ms (a lower bound: sleeps never end early).
        assert!(t0.elapsed() >= Duration::from_millis(200), "{:?}", t0.elapsed());
    }

    #[test]
    fn idle_time_refills_up_to_the_burst_only() {
        let t0 = Instant::now();
        let mut b = Bucket::new(2.0, 2, t0);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::from_millis(500));
        // A minute later the bucket holds its burst (2), not 120 tokens.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(b.reserve(later), Duration::ZERO);
        assert_eq!(b.reserve(later), Duration::ZERO);
        assert_eq!(b.reserve(later), Duration::from_millis(500));
    }

    #[test]
    fn a_cautious_start_holds_fewer_tokens_and_a_throttle_empties_the_bucket() {
        let t0 = Instant::now();
        let mut b = Bucket::with_tokens(2.0, 5, 1, t0);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::from_millis(500), "only one token at first");
        assert_eq!(Bucket::with_tokens(2.0, 2, 9, t0).tokens, 2.0, "never more than the burst");
        let mut full = Bucket::new(2.0, 5, t0);
        full.throttled(t0);
        assert_eq!(full.reserve(t0), Duration::from_millis(500), "after a throttle the next call waits an interval");
        let mut later = Bucket::new(2.0, 5, t0);
        later.throttled(t0 + Duration::from_secs(1));
        assert_eq!(later.reserve(t0 + Duration::from_secs(1)), Duration::from_millis(500));
    }

    #[tokio::test]
    async fn a_slot_past_the_limit_is_not_taken() {
        // Every limit counts from t0, taken before the pacer exists, so that no two statements need to run within
        // some time of each other: a token's slot is never before the moment it is asked for, which is after t0.
        let t0 = Instant::now();
        let p = Pacer::starting_with(0.5, 5, 1);
        let far = t0 + Duration::from_secs(30);
        assert!(p.wait_until("Op", far).await, "the first token is there");
        assert!(!p.wait_until("Op", t0 + Duration::from_millis(1900)).await, "the next slot is 2 s after the first");
        assert!(p.wait_until("Op", far).await, "the refused slot was not spent");
        assert!(Instant::now() >= t0 + Duration::from_secs(2), "it waited for its slot");
        // Op's next slot is 2 s after that one (4 s or more after t0); another operation's first token is now.
        assert!(p.wait_until("Other", t0 + Duration::from_millis(3500)).await, "operations have buckets of their own");
        p.throttled("Op");
        p.throttled("Unseen");
        assert_eq!(p.throttled_count(), 2);
    }

    #[test]
    fn degenerate_settings_still_pace() {
        let t0 = Instant::now();
        let mut b = Bucket::new(0.0, 0, t0);
        assert_eq!(b.reserve(t0), Duration::ZERO, "a burst of at least one");
        assert!(b.reserve(t0) > Duration::from_secs(100), "a rate of at least 0.001/s, not a division by zero");
    }
}

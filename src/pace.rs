//! Pacing under Connect's API limits: one token bucket per operation, as Connect counts its limits per API
//! (2 requests/s with a burst of 5 unless the account's quotas were raised). A caller that waits for its slot
//! instead of calling and being throttled spends the same time without the failed calls and their backoff.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
        let burst = f64::from(burst.max(1));
        Bucket { rate: rate.max(0.001), burst, tokens: burst, at: now }
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
    buckets: Mutex<HashMap<&'static str, Bucket>>,
}

impl Pacer {
    pub fn new(rate: f64, burst: u32) -> Pacer {
        Pacer { rate, burst, buckets: Mutex::new(HashMap::new()) }
    }

    /// Waits until `operation` may be called again.
    pub async fn wait(&self, operation: &'static str) {
        let now = Instant::now();
        let wait = match self.buckets.lock() {
            Ok(mut b) => b.entry(operation).or_insert_with(|| Bucket::new(self.rate, self.burst, now)).reserve(now),
            Err(_) => Duration::ZERO,
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn degenerate_settings_still_pace() {
        let t0 = Instant::now();
        let mut b = Bucket::new(0.0, 0, t0);
        assert_eq!(b.reserve(t0), Duration::ZERO, "a burst of at least one");
        assert!(b.reserve(t0) > Duration::from_secs(100), "a rate of at least 0.001/s, not a division by zero");
    }
}

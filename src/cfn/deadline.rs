//! How much of the invocation the resource may spend, and how much is kept back for the response PUT.
//! Some local emulators send a duration instead of an epoch timestamp, or a deadline already past; failing
//! every request on those would be worse than using a sane fallback, so such deadlines are replaced.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Lambda's maximum timeout; a deadline further out than this (plus slack) is not a real one.
const MAX_LAMBDA: Duration = Duration::from_secs(900);

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Used when the deadline is implausible.
    pub fallback_total: Duration,
    /// Kept back for delivering the response, at most.
    pub max_delivery_reserve: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { fallback_total: Duration::from_secs(60), max_delivery_reserve: Duration::from_secs(10) }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub work: Duration,
    pub delivery: Duration,
    /// Why the fallback was used, if it was.
    pub note: Option<String>,
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Policy {
    pub fn plan(&self, deadline_ms: u64, now_ms: u64) -> Budget {
        let (total, note) = if deadline_ms <= now_ms {
            (self.fallback_total, Some(format!("deadline {deadline_ms} is not in the future")))
        } else if Duration::from_millis(deadline_ms - now_ms) > MAX_LAMBDA + Duration::from_secs(60) {
            (self.fallback_total, Some(format!("deadline {deadline_ms} is more than 15 minutes away")))
        } else {
            (Duration::from_millis(deadline_ms - now_ms), None)
        };
        // A tenth of the time, between 1 s and the maximum, for the PUT and its retries; never more than half.
        let delivery = (total / 10).clamp(Duration::from_secs(1), self.max_delivery_reserve).min(total / 2);
        Budget { work: total - delivery, delivery, note }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn a_normal_deadline_keeps_back_a_delivery_reserve() {
        let b = Policy::default().plan(NOW + 300_000, NOW);
        assert_eq!(b.delivery, Duration::from_secs(10));
        assert_eq!(b.work, Duration::from_secs(290));
        assert!(b.note.is_none());
    }

    #[test]
    fn a_short_deadline_splits_sensibly() {
        let b = Policy::default().plan(NOW + 3_000, NOW);
        assert_eq!(b.delivery, Duration::from_secs(1));
        assert_eq!(b.work, Duration::from_secs(2));
        let tiny = Policy::default().plan(NOW + 1_000, NOW);
        assert_eq!(tiny.work, Duration::from_millis(500));
    }

    #[test]
    fn past_or_duration_like_deadlines_fall_back() {
        let p = Policy::default();
        let past = p.plan(NOW - 1, NOW);
        assert_eq!(past.work + past.delivery, Duration::from_secs(60));
        assert!(past.note.is_some());
        // A duration (300 s) sent where an epoch timestamp belongs.
        assert!(p.plan(300_000, NOW).note.is_some());
        // A timestamp a day away.
        assert!(p.plan(NOW + 86_400_000, NOW).note.is_some());
        // The edges: now is past, a millisecond ahead is not; 16 minutes is plausible (Lambda's 15 and slack),
        // a millisecond more is not.
        assert!(p.plan(NOW, NOW).note.is_some());
        assert_eq!(p.plan(NOW + 1, NOW).note, None);
        assert_eq!(p.plan(NOW + 960_000, NOW).work, Duration::from_secs(950));
        assert!(p.plan(NOW + 960_001, NOW).note.unwrap().contains("more than 15 minutes away"));
    }
}

//! Work that outlasts one invocation. A resource that runs out of time returns [`Outcome::Continue`]; the
//! protocol then hands the same event, with a [`Marker`], to a new asynchronous invocation of this function,
//! and only the invocation that finishes sends the one response.
//!
//! Nothing but the marker is carried: a resource re-reads its state from the service it manages in every
//! invocation, so a repeated or overlapping invocation finds less (or nothing) to do. The marker carries the
//! time CloudFormation sent the event (see [`super::clock`]), so that every invocation of the chain stops in
//! time to answer FAILED before CloudFormation's `ServiceTimeout` runs out.
//!
//! [`Outcome::Continue`]: super::Outcome::Continue

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The top-level key of the event that carries the marker.
pub const KEY: &str = "CustomResourceContinuation";

/// CloudFormation's wait for a custom resource when `ServiceTimeout` is not given.
pub const DEFAULT_SERVICE_TIMEOUT_S: u64 = 3600;

/// Where an event is in its chain of invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// 0 for the invocation CloudFormation made, then 1, 2, ...
    #[serde(rename = "Round")]
    pub round: u32,
    /// When CloudFormation sent the event (epoch ms): the ResponseURL's signing time, or, when the URL does not
    /// say, when the first invocation began.
    #[serde(rename = "StartedMs")]
    pub started_ms: u64,
    /// When the chain stops and answers FAILED (epoch ms), early enough for the answer to arrive before
    /// `ServiceTimeout` runs out.
    #[serde(rename = "GiveUpAtMs")]
    pub give_up_at_ms: u64,
}

/// What is kept back from `ServiceTimeout` for the last answer: a tenth, between 2 and 60 seconds.
pub fn reserve_ms(service_timeout_s: u64) -> u64 {
    (service_timeout_s * 100).clamp(2_000, 60_000)
}

impl Marker {
    /// The marker of an event's first invocation: CloudFormation's clock started at `signed_ms` (when the
    /// ResponseURL was signed; never later than now), or now when that is unknown.
    pub fn first(now_ms: u64, signed_ms: Option<u64>, service_timeout_s: Option<u64>) -> Marker {
        let started = signed_ms.map_or(now_ms, |s| s.min(now_ms));
        let timeout = service_timeout_s.unwrap_or(DEFAULT_SERVICE_TIMEOUT_S).clamp(1, DEFAULT_SERVICE_TIMEOUT_S);
        let give_up = started + (timeout * 1000).saturating_sub(reserve_ms(timeout)).max(1_000);
        Marker { round: 0, started_ms: started, give_up_at_ms: give_up }
    }

    pub fn next(&self) -> Marker {
        Marker { round: self.round + 1, ..*self }
    }

    /// Reads the marker of a continued event: `Ok(None)` for an event CloudFormation sent.
    pub fn read(event: &serde_json::Map<String, Value>) -> Result<Option<Marker>, String> {
        match event.get(KEY) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| format!("{KEY} is not a continuation marker: {e}")),
        }
    }
}

/// What to do when a resource asks to continue.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Hand the rest to a new invocation with this marker.
    Relay(Marker),
    /// Answer FAILED with this reason: the chain's time is up.
    GiveUp(String),
}

/// Continue while the chain has time left, at least `min_round_ms` of it (a round too short to do anything
/// would only burn invocations); otherwise give up, saying how far the work got (`progress`, the resource's own
/// words, which also say how it could go faster).
pub fn decide(marker: &Marker, now_ms: u64, min_round_ms: u64, progress: &str) -> Next {
    if now_ms + min_round_ms < marker.give_up_at_ms {
        return Next::Relay(marker.next());
    }
    let spent = now_ms.saturating_sub(marker.started_ms) / 1000;
    Next::GiveUp(format!(
        "gave up after {spent} s and {} invocation(s), before CloudFormation's ServiceTimeout runs out: {progress}. Raise ServiceTimeout (at most 3600 s), then retry",
        marker.round + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn the_first_marker_gives_up_a_reserve_before_service_timeout() {
        let m = Marker::first(NOW, None, None);
        assert_eq!(m.round, 0);
        assert_eq!(m.started_ms, NOW);
        assert_eq!(m.give_up_at_ms, NOW + 3_600_000 - 60_000, "an hour by default, a minute kept back");
        assert_eq!(Marker::first(NOW, None, Some(300)).give_up_at_ms, NOW + 300_000 - 30_000, "a tenth of a shorter timeout");
        assert_eq!(Marker::first(NOW, None, Some(10)).give_up_at_ms, NOW + 8_000, "at least 2 s kept back");
        assert_eq!(Marker::first(NOW, None, Some(99_999)).give_up_at_ms, NOW + 3_540_000, "never more than an hour");
        assert_eq!(Marker::first(NOW, None, Some(1)).give_up_at_ms, NOW + 1_000, "at least a second of work");
    }

    #[test]
    fn the_clock_starts_when_cloudformation_signed_the_event() {
        let waited = Marker::first(NOW, Some(NOW - 1_200_000), None);
        assert_eq!(waited.started_ms, NOW - 1_200_000);
        assert_eq!(waited.give_up_at_ms, NOW - 1_200_000 + 3_540_000, "20 minutes in the queue leave 39 of the 59");
        assert_eq!(
            Marker::first(NOW, Some(NOW + 5_000), Some(300)),
            Marker::first(NOW, None, Some(300)),
            "a signing time ahead of now is now"
        );
    }

    #[test]
    fn next_keeps_the_chain_start_and_limit() {
        let m = Marker::first(NOW, None, Some(600));
        let n = m.next().next();
        assert_eq!((n.round, n.started_ms, n.give_up_at_ms), (2, m.started_ms, m.give_up_at_ms));
    }

    #[test]
    fn markers_round_trip_through_the_event() {
        let m = Marker { round: 3, started_ms: NOW, give_up_at_ms: NOW + 5 };
        let mut event = serde_json::Map::new();
        assert_eq!(Marker::read(&event), Ok(None));
        event.insert(KEY.into(), serde_json::to_value(m).unwrap());
        assert_eq!(event[KEY], json!({"Round": 3, "StartedMs": NOW, "GiveUpAtMs": NOW + 5}));
        assert_eq!(Marker::read(&event), Ok(Some(m)));
        event.insert(KEY.into(), json!({"Round": "x"}));
        assert!(Marker::read(&event).is_err());
    }

    #[test]
    fn a_chain_continues_while_a_round_fits_then_gives_up_with_its_progress() {
        let m = Marker { round: 2, started_ms: NOW, give_up_at_ms: NOW + 100_000 };
        assert_eq!(decide(&m, NOW + 50_000, 10_000, "p"), Next::Relay(m.next()));
        assert_eq!(decide(&m, NOW + 89_999, 10_000, "p"), Next::Relay(m.next()));
        let Next::GiveUp(why) = decide(&m, NOW + 90_000, 10_000, "1500 of 2000 users done") else { panic!("must give up") };
        assert!(why.contains("1500 of 2000 users done") && why.contains("after 90 s and 3 invocation(s)"), "{why}");
        assert!(matches!(decide(&m, NOW + 200_000, 0, "p"), Next::GiveUp(_)));
    }
}

//! Which events were answered, and which Updates were answered FAILED, kept in the state table ([`Store`]).
//!
//! Lambda delivers an asynchronous invocation at least once: the original event as well as a function's own
//! continuations may arrive twice, and an `Invoke` reported as failed may still have been queued. Without a
//! record, a second copy would work again after the first answered and then answer again, perhaps to the
//! contrary. So every invocation looks here before it works, and claims the answer before it sends it: the claim
//! is a conditional write, so of two copies that finish at once exactly one sends its answer.
//!
//! CloudFormation follows a failed Update with a rollback Update whose OldResourceProperties are the failed
//! Update's properties; the record of the failed Update lets a resource know those were never (fully) applied.

use crate::digest::fnv64;
use crate::store::{Attributes, Store, StoreError};

/// A failed Update's record is trusted this long: CloudFormation's rollback follows the failure at once.
pub const FAILED_FRESH_MS: u64 = 2 * 3600 * 1000;

/// How long a record is kept: Lambda keeps an asynchronous event for 6 hours at most, so no duplicate can come
/// later than that. DynamoDB's TTL removes it after.
pub const KEEP_MS: u64 = 7 * 3600 * 1000;

/// The sort key of the ledger's items (one item per key).
const SK: &str = "-";

/// A record: an answer's Status, or a failed Update's properties digest, and when it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    pub at_ms: u64,
}

#[derive(Clone)]
pub struct Ledger {
    store: Store,
}

/// The key of one event: the same for every invocation and every retry of it.
pub fn key(stack_id: &str, logical_id: &str, request_id: &str) -> String {
    format!("answer#{}", fnv64(&[stack_id, logical_id, request_id]))
}

/// The key of the last Update of one resource that was answered FAILED, so that, for example, a refused change
/// of what can never change does not refuse its own rollback too (which would leave the stack in
/// UPDATE_ROLLBACK_FAILED).
pub fn failed_key(stack_id: &str, logical_id: &str) -> String {
    format!("failed#{}", fnv64(&[stack_id, logical_id]))
}

/// A digest of properties that does not depend on the order of their keys.
pub fn props_digest(props: &serde_json::Map<String, serde_json::Value>) -> String {
    fn canonical(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                out.push('{');
                for k in keys {
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(&o[k], out);
                    out.push(',');
                }
                out.push('}');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for x in a {
                    canonical(x, out);
                    out.push(',');
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    canonical(&serde_json::Value::Object(props.clone()), &mut text);
    fnv64(&[&text])
}

/// An Update's identity: its new and old properties. A rollback is recognised by the failed Update's pair
/// swapped, so that a later Update that merely starts from the same properties is not taken for one.
pub fn update_digest(new: &serde_json::Map<String, serde_json::Value>, old: &serde_json::Map<String, serde_json::Value>) -> String {
    format!("{}-{}", props_digest(new), props_digest(old))
}

fn entry(attrs: &Attributes) -> Option<Entry> {
    Some(Entry { value: attrs.get("value")?.clone(), at_ms: attrs.get("at_ms")?.parse().ok()? })
}

fn attributes(e: &Entry) -> Attributes {
    Attributes::from([("value".to_string(), e.value.clone()), ("at_ms".to_string(), e.at_ms.to_string())])
}

/// When DynamoDB may drop a record written at `at_ms` (epoch seconds).
fn expiry(at_ms: u64) -> Option<u64> {
    Some((at_ms + KEEP_MS) / 1000)
}

impl Ledger {
    pub fn new(store: Store) -> Ledger {
        Ledger { store }
    }

    /// The answer recorded for `key`, if any.
    pub async fn answered(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        Ok(self.store.get(key, SK).await?.as_ref().and_then(entry))
    }

    /// Claims the answer to the event `key` with `status`: `Ok(true)` when this invocation is the one to send
    /// it, `Ok(false)` when another copy claimed it first (its answer stands).
    pub async fn claim(&self, key: &str, status: &str, at_ms: u64) -> Result<bool, StoreError> {
        let e = Entry { value: status.to_string(), at_ms };
        self.store.put_new(key, SK, &attributes(&e), expiry(at_ms)).await
    }

    /// Gives a claim back, when the answer could not be delivered: a retry of the event may then answer.
    pub async fn unclaim(&self, key: &str) -> Result<(), StoreError> {
        self.store.delete(key, SK).await
    }

    /// Records that this resource's Update with properties `digest` was answered FAILED.
    pub async fn record_failed_update(&self, key: &str, digest: &str, at_ms: u64) -> Result<(), StoreError> {
        self.store.put(key, SK, &attributes(&Entry { value: digest.to_string(), at_ms }), expiry(at_ms)).await
    }

    /// The properties digest of this resource's last Update answered FAILED, if it is fresh.
    pub async fn failed_update(&self, key: &str, now_ms: u64) -> Result<Option<String>, StoreError> {
        Ok(self.answered(key).await?.filter(|e| e.at_ms + FAILED_FRESH_MS >= now_ms).map(|e| e.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::live;

    #[tokio::test]
    async fn an_answer_is_claimed_once_read_back_and_given_back() {
        let l = live::start().await;
        let ledger = Ledger::new(l.store.clone());
        let k = key("arn:stack/s/1", "Roster", "req-1");
        assert_eq!(ledger.answered(&k).await, Ok(None), "nothing recorded yet");
        assert_eq!(ledger.claim(&k, "SUCCESS", 1_000).await, Ok(true), "the first copy answers");
        assert_eq!(ledger.claim(&k, "FAILED", 2_000).await, Ok(false), "a second copy does not");
        assert_eq!(ledger.answered(&k).await, Ok(Some(Entry { value: "SUCCESS".into(), at_ms: 1_000 })));
        ledger.unclaim(&k).await.unwrap();
        assert_eq!(ledger.answered(&k).await, Ok(None), "an answer not delivered is given back");
        assert_eq!(ledger.claim(&k, "FAILED", 3_000).await, Ok(true));
        // DynamoDB's TTL drops the record after Lambda could still deliver a copy (6 hours).
        let items = l.moto.scan("state").await.unwrap();
        assert_eq!(items[0]["expires"]["N"], ((3_000 + KEEP_MS) / 1000).to_string());
    }

    #[tokio::test]
    async fn a_failed_updates_record_counts_while_it_is_fresh() {
        let l = live::start().await;
        let ledger = Ledger::new(l.store.clone());
        let now = 100 * KEEP_MS;
        let k = failed_key("s", "A");
        ledger.record_failed_update(&k, "digest", now).await.unwrap();
        assert_eq!(ledger.failed_update(&k, now + 5_400_000).await, Ok(Some("digest".into())), "90 minutes later");
        assert_eq!(ledger.failed_update(&k, now + FAILED_FRESH_MS).await, Ok(Some("digest".into())));
        assert_eq!(ledger.failed_update(&k, now + FAILED_FRESH_MS + 1).await, Ok(None));
        assert_eq!(ledger.failed_update(&failed_key("s", "B"), now).await, Ok(None));
        ledger.record_failed_update(&k, "newer", now + 1).await.unwrap();
        assert_eq!(ledger.failed_update(&k, now + 1).await, Ok(Some("newer".into())), "the last failed Update counts");
    }

    #[tokio::test]
    async fn a_ledger_that_cannot_be_reached_says_why() {
        let ledger = Ledger::new(Store::new(live::client("http://127.0.0.1:9"), "state"));
        let e = ledger.answered("answer#1").await.unwrap_err();
        assert!(e.to_string().starts_with("DynamoDB GetItem failed: ") && e.to_string().contains("onnect"), "{e}");
    }

    #[test]
    fn the_key_is_stable_and_tells_events_apart() {
        let a = key("arn:stack/s/1", "Roster", "req-1");
        assert_eq!(a, key("arn:stack/s/1", "Roster", "req-1"));
        assert_ne!(a, key("arn:stack/s/1", "Roster", "req-2"));
        assert_ne!(a, key("arn:stack/s/1", "Other", "req-1"));
        // The separator matters: moving a character from one part to the next is another event.
        assert_ne!(key("ab", "c", "d"), key("a", "bc", "d"));
        assert!(a.starts_with("answer#") && a.len() == 7 + 16, "{a}");
    }

    #[test]
    fn a_failed_updates_record_is_per_resource_and_its_digest_ignores_key_order() {
        assert_eq!(failed_key("s", "A"), failed_key("s", "A"));
        assert_ne!(failed_key("s", "A"), failed_key("s", "B"));
        assert!(failed_key("s", "A").starts_with("failed#"));
        assert_ne!(failed_key("s", "A"), key("s", "A", ""), "never an answer's key");
        let a: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"Name": "x", "P": {"a": 1, "b": [1, 2]}}"#).unwrap();
        let b: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"P": {"b": [1, 2], "a": 1}, "Name": "x"}"#).unwrap();
        let c: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"P": {"b": [2, 1], "a": 1}, "Name": "x"}"#).unwrap();
        let d: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"P": {"b": [1, 2], "a": "1"}, "Name": "x"}"#).unwrap();
        assert_eq!(props_digest(&a), props_digest(&b));
        assert_ne!(props_digest(&a), props_digest(&c), "list order matters");
        assert_ne!(props_digest(&a), props_digest(&d), "1 is not \"1\"");
        assert_eq!(update_digest(&a, &c), update_digest(&b, &c));
        assert_ne!(update_digest(&a, &c), update_digest(&c, &a), "new and old are not interchangeable");
    }

    #[test]
    fn records_round_trip_and_expire_after_lambda_keeps_events() {
        let e = Entry { value: "FAILED".into(), at_ms: 1_000 };
        assert_eq!(entry(&attributes(&e)), Some(e));
        assert_eq!(entry(&Attributes::from([("value".to_string(), "x".to_string())])), None);
        assert_eq!(entry(&Attributes::from([("value".to_string(), "x".to_string()), ("at_ms".to_string(), "soon".to_string())])), None);
        let hour = 3_600_000;
        assert_eq!(expiry(0), Some(7 * 3600), "longer than Lambda keeps an asynchronous event (6 hours)");
        assert_eq!(expiry(hour), Some(8 * 3600));
    }
}

//! Which events a chain of invocations has answered, kept as tags on the function itself.
//!
//! Lambda delivers an asynchronous invocation at least once, and an `Invoke` reported as failed may still have
//! been queued. Without a record, a duplicated continuation could work on after its chain answered FAILED and
//! then answer SUCCESS (CloudFormation takes the first answer; the second contradicts it in the logs and in what
//! Connect holds). So every invocation of a chain looks here before it works and before it answers, and records
//! its answer here before sending it. The function's own tags are the one store every invocation can reach with
//! the Lambda client it already has for continuing, and they need no table or bucket in the template.
//!
//! What remains: two copies that check at the same moment, before either records, both answer (tags have no
//! conditional write). The window is the few milliseconds between a check and a record.

use aws_sdk_lambda::error::ProvideErrorMetadata;
use std::collections::HashMap;
use std::time::Duration;

/// The prefix of the tags that record a chain's answer.
pub const PREFIX: &str = "cr-answered-";
/// The prefix of the tags that record an Update answered FAILED (see [`failed_key`]).
pub const FAILED_PREFIX: &str = "cr-failed-";
/// A failed Update's record is trusted this long: CloudFormation's rollback follows the failure at once.
pub const FAILED_FRESH_MS: u64 = 2 * 3600 * 1000;

/// How long a record is kept: Lambda keeps an asynchronous event for 6 hours at most, so no duplicate can come
/// later than that.
pub const KEEP_MS: u64 = 7 * 3600 * 1000;

/// How long one tag call may take: a ledger that cannot be reached must not cost the answer its time.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// A record: an answer's Status, or a failed Update's properties digest, and when it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    pub at_ms: u64,
}

#[derive(Clone)]
pub struct Ledger {
    client: aws_sdk_lambda::Client,
}

/// FNV-1a, 64 bit, of the parts separated by a zero byte: stable across processes and versions (unlike std's
/// hasher), short enough for a tag.
pub fn fnv64(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        let sep: &[u8] = if i == 0 { &[] } else { &[0] };
        for b in sep.iter().copied().chain(part.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The tag key of one event: the same for every invocation and every retry of it.
pub fn key(stack_id: &str, logical_id: &str, request_id: &str) -> String {
    format!("{PREFIX}{}", fnv64(&[stack_id, logical_id, request_id]))
}

/// The tag key of the last Update of one resource that was answered FAILED. CloudFormation follows a failed
/// Update with a rollback Update whose OldResourceProperties are the failed Update's properties: with this record
/// a resource knows those were never (fully) applied, so that, for example, a refused change of what can never
/// change does not refuse its own rollback too (which would leave the stack in UPDATE_ROLLBACK_FAILED).
pub fn failed_key(stack_id: &str, logical_id: &str) -> String {
    format!("{FAILED_PREFIX}{}", fnv64(&[stack_id, logical_id]))
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

/// Tags live on the function, not on a version or alias: the invoked ARN loses its qualifier.
pub fn unqualified(arn: &str) -> &str {
    match arn.match_indices(':').nth(6) {
        Some((i, _)) => &arn[..i],
        None => arn,
    }
}

pub fn value(e: &Entry) -> String {
    format!("{} {}", e.value, e.at_ms)
}

pub fn parse(v: &str) -> Option<Entry> {
    let (value, at) = v.split_once(' ')?;
    Some(Entry { value: value.to_string(), at_ms: at.parse().ok()? })
}

/// Records older than [`KEEP_MS`] (or unreadable ones) among `tags`: removed when a new one is written.
pub fn stale(tags: &HashMap<String, String>, now_ms: u64) -> Vec<String> {
    let mut keys: Vec<String> = tags
        .iter()
        .filter(|(k, v)| (k.starts_with(PREFIX) || k.starts_with(FAILED_PREFIX)) && parse(v).is_none_or(|e| e.at_ms + KEEP_MS < now_ms))
        .map(|(k, _)| k.clone())
        .collect();
    keys.sort();
    keys
}

fn describe<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &aws_sdk_lambda::error::SdkError<E>) -> String {
    match e.code() {
        Some(code) => format!("{code}: {}", e.message().unwrap_or_default()),
        None => format!("{}", aws_sdk_lambda::error::DisplayErrorContext(e)),
    }
}

async fn bounded<T>(what: &str, f: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(CALL_TIMEOUT, f).await.unwrap_or_else(|_| Err(format!("{what} took longer than {CALL_TIMEOUT:?}")))
}

impl Ledger {
    pub fn new(client: aws_sdk_lambda::Client) -> Ledger {
        Ledger { client }
    }

    async fn tags(&self, function: &str) -> Result<HashMap<String, String>, String> {
        bounded("ListTags", async {
            let out = self.client.list_tags().resource(unqualified(function)).send().await.map_err(|e| describe(&e))?;
            Ok(out.tags().cloned().unwrap_or_default())
        })
        .await
    }

    /// The answer recorded for `key`, if any.
    pub async fn answered(&self, function: &str, key: &str) -> Result<Option<Entry>, String> {
        Ok(self.tags(function).await?.get(key).and_then(|v| parse(v)))
    }

    /// The properties digest of this resource's last Update answered FAILED, if it is fresh.
    pub async fn failed_update(&self, function: &str, key: &str, now_ms: u64) -> Result<Option<String>, String> {
        Ok(self.answered(function, key).await?.filter(|e| e.at_ms + FAILED_FRESH_MS >= now_ms).map(|e| e.value))
    }

    /// Records an answer, and drops records too old to matter (a function has room for 50 tags).
    pub async fn record(&self, function: &str, key: &str, entry: &Entry) -> Result<(), String> {
        let arn = unqualified(function);
        bounded("TagResource", async {
            self.client.tag_resource().resource(arn).tags(key, value(entry)).send().await.map_err(|e| describe(&e))?;
            Ok(())
        })
        .await?;
        let old = stale(&self.tags(function).await?, entry.at_ms);
        if !old.is_empty() {
            bounded("UntagResource", async {
                self.client.untag_resource().resource(arn).set_tag_keys(Some(old)).send().await.map_err(|e| describe(&e))?;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ledger on the test harness's Lambda API (the one the end-to-end tests run the function under).
    async fn live() -> (lambda_harness::RuntimeApi, Ledger) {
        let api = lambda_harness::RuntimeApi::start().await.unwrap();
        let ledger = Ledger::new(crate::cfn::relay::harness_client(api.addr));
        (api, ledger)
    }

    #[tokio::test]
    async fn a_ledger_that_cannot_be_reached_says_why() {
        let (api, ledger) = live().await;
        drop(api);
        let e = ledger.answered(lambda_harness::FUNCTION_ARN, "cr-answered-1").await.unwrap_err();
        assert!(e.contains("dispatch failure") && e.contains("onnect"), "{e}");
    }

    #[tokio::test]
    async fn a_record_is_read_back_from_the_functions_tags_and_old_records_are_pruned() {
        let (api, ledger) = live().await;
        let f = lambda_harness::FUNCTION_ARN;
        let now = 100 * KEEP_MS;
        assert_eq!(ledger.answered(f, "cr-answered-1").await, Ok(None), "nothing recorded yet");
        api.tag_function(f, "team", "contact-center");
        api.tag_function(f, "cr-answered-old", &format!("SUCCESS {}", now - KEEP_MS - 1));
        api.tag_function(f, "cr-failed-old", "unreadable");
        api.tag_function(f, "cr-answered-recent", &format!("FAILED {}", now - KEEP_MS));
        // Recorded through a qualified ARN (an alias): the tag is on the function itself.
        let entry = Entry { value: "SUCCESS".into(), at_ms: now };
        ledger.record(&format!("{f}:live"), "cr-answered-1", &entry).await.unwrap();
        assert_eq!(ledger.answered(f, "cr-answered-1").await, Ok(Some(entry)));
        let tags = api.function_tags().get(f).cloned().unwrap_or_default();
        let keys: Vec<&str> = tags.keys().map(String::as_str).collect();
        assert_eq!(keys, ["cr-answered-1", "cr-answered-recent", "team"], "the stale and unreadable records went, the rest stayed");

        // A failed Update's record counts while it is fresh.
        let failed = Entry { value: "digest".into(), at_ms: now };
        ledger.record(f, "cr-failed-x", &failed).await.unwrap();
        assert_eq!(ledger.failed_update(f, "cr-failed-x", now + 5_400_000).await, Ok(Some("digest".into())), "90 minutes later");
        assert_eq!(ledger.failed_update(f, "cr-failed-x", now + FAILED_FRESH_MS).await, Ok(Some("digest".into())));
        assert_eq!(ledger.failed_update(f, "cr-failed-x", now + FAILED_FRESH_MS + 1).await, Ok(None));
        assert_eq!(ledger.failed_update(f, "cr-failed-y", now).await, Ok(None));
    }

    #[test]
    fn the_key_is_stable_and_tells_events_apart() {
        let a = key("arn:stack/s/1", "Roster", "req-1");
        assert_eq!(a, key("arn:stack/s/1", "Roster", "req-1"));
        assert_ne!(a, key("arn:stack/s/1", "Roster", "req-2"));
        assert_ne!(a, key("arn:stack/s/1", "Other", "req-1"));
        // The separator matters: moving a character from one part to the next is another event.
        assert_ne!(key("ab", "c", "d"), key("a", "bc", "d"));
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 16, "{a}");
        assert!(a.len() <= 128, "a Lambda tag key has at most 128 characters");
    }

    #[test]
    fn a_failed_updates_record_is_per_resource_and_its_digest_ignores_key_order() {
        assert_eq!(failed_key("s", "A"), failed_key("s", "A"));
        assert_ne!(failed_key("s", "A"), failed_key("s", "B"));
        assert!(failed_key("s", "A").starts_with(FAILED_PREFIX));
        let a: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"Name": "x", "P": {"a": 1, "b": [1, 2]}}"#).unwrap();
        let b: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"P": {"b": [1, 2], "a": 1}, "Name": "x"}"#).unwrap();
        let c: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"P": {"b": [2, 1], "a": 1}, "Name": "x"}"#).unwrap();
        let d: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"P": {"b": [1, 2], "a": "1"}, "Name": "x"}"#).unwrap();
        assert_eq!(props_digest(&a), props_digest(&b));
        assert_ne!(props_digest(&a), props_digest(&c), "list order matters");
        assert_ne!(props_digest(&a), props_digest(&d), "1 is not \"1\"");
        assert_eq!(update_digest(&a, &c), update_digest(&b, &c));
        assert_ne!(update_digest(&a, &c), update_digest(&c, &a), "new and old are not interchangeable");
        assert!(update_digest(&a, &c).len() <= 256, "a Lambda tag value has at most 256 characters");
        let now = 10 * KEEP_MS;
        let old = HashMap::from([(failed_key("s", "A"), format!("abc {}", now - KEEP_MS - 1))]);
        assert_eq!(stale(&old, now).len(), 1, "failed records are pruned too");
    }

    #[test]
    fn fnv64_is_the_published_fnv1a() {
        // Reference values of FNV-1a 64 (the empty string is the offset basis).
        assert_eq!(fnv64(&[""]), "cbf29ce484222325");
        assert_eq!(fnv64(&["a"]), "af63dc4c8601ec8c");
        assert_eq!(fnv64(&["foobar"]), "85944171f73967e8");
    }

    #[test]
    fn tags_go_on_the_function_not_its_version_or_alias() {
        let f = "arn:aws:lambda:us-east-1:123456789012:function:connect-user-resource";
        assert_eq!(unqualified(f), f);
        assert_eq!(unqualified(&format!("{f}:live")), f);
        assert_eq!(unqualified(&format!("{f}:$LATEST")), f);
        assert_eq!(unqualified("connect-user-resource"), "connect-user-resource");
    }

    #[test]
    fn records_round_trip_and_only_old_or_unreadable_ones_of_ours_are_stale() {
        let e = Entry { value: "FAILED".into(), at_ms: 1_000 };
        assert_eq!(parse(&value(&e)), Some(e));
        assert_eq!(parse("SUCCESS"), None);
        assert_eq!(parse("SUCCESS soon"), None);
        let now = 10 * KEEP_MS;
        let tags: HashMap<String, String> = [
            (format!("{PREFIX}old"), format!("SUCCESS {}", now - KEEP_MS - 1)),
            (format!("{PREFIX}edge"), format!("SUCCESS {}", now - KEEP_MS)),
            (format!("{PREFIX}new"), format!("FAILED {}", now - 1)),
            (format!("{PREFIX}junk"), "x".into()),
            ("team".into(), "SUCCESS 0".into()),
        ]
        .into_iter()
        .collect();
        assert_eq!(stale(&tags, now), vec![format!("{PREFIX}junk"), format!("{PREFIX}old")]);
        // Longer than Lambda keeps an asynchronous event (6 hours), not much longer (a function has 50 tags).
        let hour = 3_600_000;
        let at = |age: u64| HashMap::from([(format!("{PREFIX}x"), format!("SUCCESS {}", now - age))]);
        assert!(stale(&at(6 * hour + 59 * 60_000), now).is_empty(), "6 h 59 min old: kept");
        assert_eq!(stale(&at(7 * hour + 60_000), now).len(), 1, "7 h 1 min old: dropped");
    }
}

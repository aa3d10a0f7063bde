//! State that must outlast an invocation, in one DynamoDB table (named by `STATE_TABLE`; template.yaml and the
//! CDK provider create it): strongly consistent reads and conditional writes, which neither Connect's search
//! index (eventually consistent) nor the function's own tags (no conditional write, 50 at most) give.
//!
//! Items are string attributes under a partition key `pk` and a sort key `sk`; `expires` (epoch seconds) lets
//! DynamoDB's TTL remove what no longer matters. The store knows nothing of CloudFormation or Connect: the
//! protocol core keeps its answers here ([`crate::cfn::ledger`]) and a roster the users it holds.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::Duration;

/// The environment variable that names the table.
pub const TABLE_ENV: &str = "STATE_TABLE";
/// The TTL attribute (epoch seconds).
pub const EXPIRES: &str = "expires";

/// How long one call may take, all attempts included: a store that cannot be reached must not cost an answer
/// its time.
const CALL_TIMEOUT: Duration = Duration::from_secs(4);
const ATTEMPTS: u32 = 3;
/// Items per page of a query: small pages answer well within [`CALL_TIMEOUT`] (a page may hold up to 1 MB, which
/// a slow server, moto's for one, may take seconds to assemble for a set of 20,000 users).
const PAGE: i32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB answered with an error (its code and message).
    #[error("DynamoDB {operation} failed: {code}: {message}")]
    Service { operation: &'static str, code: String, message: String },
    /// No answer (network, timeout).
    #[error("DynamoDB {operation} failed: {why}")]
    Unreachable { operation: &'static str, why: String },
}

/// An item's attributes other than its keys.
pub type Attributes = HashMap<String, String>;

#[derive(Clone)]
pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn error<E: ProvideErrorMetadata + std::error::Error + 'static>(operation: &'static str, e: &SdkError<E>) -> (StoreError, bool) {
    match e {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or("UnknownError").to_string();
            let retry = retryable(ctx.raw().status().is_server_error(), &code);
            (StoreError::Service { operation, code, message: ctx.err().message().unwrap_or_default().to_string() }, retry)
        }
        other => (StoreError::Unreachable { operation, why: aws_sdk_dynamodb::error::DisplayErrorContext(other).to_string() }, true),
    }
}

/// Whether a service error is worth another attempt: the server's own trouble, or throttling.
fn retryable(server_error: bool, code: &str) -> bool {
    server_error || matches!(code, "ThrottlingException" | "ProvisionedThroughputExceededException" | "RequestLimitExceeded")
}

/// Whether failed attempt number `attempt` (from 1) is followed by another.
fn again(retry: bool, attempt: u32) -> bool {
    retry && attempt < ATTEMPTS
}

/// Where a query's next page starts: nowhere when DynamoDB gave no key, or an empty one.
fn next_start(key: Option<&HashMap<String, AttributeValue>>) -> Option<HashMap<String, AttributeValue>> {
    key.filter(|k| !k.is_empty()).cloned()
}

/// Runs `call` up to [`ATTEMPTS`] times while its errors are worth retrying, within [`CALL_TIMEOUT`].
async fn attempts<T, E, F, Fut>(operation: &'static str, call: F) -> Result<T, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E>>>,
{
    let run = async {
        let mut wait = Duration::from_millis(50);
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let (err, retry) = error(operation, &e);
                    if !again(retry, attempt) {
                        return Err(err);
                    }
                }
            }
            tokio::time::sleep(wait).await;
            wait *= 4;
            attempt += 1;
        }
    };
    tokio::time::timeout(CALL_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| Err(StoreError::Unreachable { operation, why: format!("no answer within {CALL_TIMEOUT:?}") }))
}

fn item(pk: &str, sk: &str, attrs: &Attributes, expires_s: Option<u64>) -> HashMap<String, AttributeValue> {
    let mut m: HashMap<String, AttributeValue> = attrs.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect();
    m.insert("pk".into(), AttributeValue::S(pk.into()));
    m.insert("sk".into(), AttributeValue::S(sk.into()));
    if let Some(t) = expires_s {
        m.insert(EXPIRES.into(), AttributeValue::N(t.to_string()));
    }
    m
}

/// The string attributes of an item, without its keys and its expiry.
fn attributes(raw: &HashMap<String, AttributeValue>) -> Attributes {
    raw.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "pk" | "sk" | EXPIRES))
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone())))
        .collect()
}

fn keys(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), AttributeValue::S(pk.into())), ("sk".to_string(), AttributeValue::S(sk.into()))])
}

impl Store {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Store {
        Store { client, table: table.into() }
    }

    /// The item, read strongly consistently (what any invocation wrote before is there).
    pub async fn get(&self, pk: &str, sk: &str) -> Result<Option<Attributes>, StoreError> {
        let out =
            attempts("GetItem", || self.client.get_item().table_name(&self.table).set_key(Some(keys(pk, sk))).consistent_read(true).send())
                .await?;
        Ok(out.item().map(attributes))
    }

    /// Writes the item only if none exists under its keys: `Ok(false)` when another writer was first.
    pub async fn put_new(&self, pk: &str, sk: &str, attrs: &Attributes, expires_s: Option<u64>) -> Result<bool, StoreError> {
        let r = attempts("PutItem", || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item(pk, sk, attrs, expires_s)))
                .condition_expression("attribute_not_exists(pk)")
                .send()
        })
        .await;
        match r {
            Ok(_) => Ok(true),
            Err(StoreError::Service { code, .. }) if code == "ConditionalCheckFailedException" => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes the item, replacing any under its keys.
    pub async fn put(&self, pk: &str, sk: &str, attrs: &Attributes, expires_s: Option<u64>) -> Result<(), StoreError> {
        attempts("PutItem", || self.client.put_item().table_name(&self.table).set_item(Some(item(pk, sk, attrs, expires_s))).send())
            .await
            .map(|_| ())
    }

    /// Removes the item (nothing to remove is fine).
    pub async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        attempts("DeleteItem", || self.client.delete_item().table_name(&self.table).set_key(Some(keys(pk, sk))).send()).await.map(|_| ())
    }

    /// Every item under `pk` (all pages), read strongly consistently: (sort key, attributes).
    pub async fn query(&self, pk: &str) -> Result<Vec<(String, Attributes)>, StoreError> {
        let mut out = Vec::new();
        self.query_each(pk, &mut |sk, a| out.push((sk, a))).await?;
        Ok(out)
    }

    /// [`Store::query`], each item handed to `f` as its page arrives, so that a caller keeping less than the
    /// attributes (a set's 20,000 records) never holds them all as maps.
    pub async fn query_each(&self, pk: &str, f: &mut (dyn FnMut(String, Attributes) + Send)) -> Result<(), StoreError> {
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = attempts("Query", || {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
                    .consistent_read(true)
                    .limit(PAGE)
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await?;
            for raw in page.items() {
                if let Some(sk) = raw.get("sk").and_then(|v| v.as_s().ok()) {
                    f(sk.clone(), attributes(raw));
                }
            }
            start = next_start(page.last_evaluated_key());
            if start.is_none() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod live {
    //! The store against moto's DynamoDB (started by the harness from the project's venv), for unit tests.
    use super::*;

    pub(crate) struct LiveStore {
        pub store: Store,
        pub moto: lambda_harness::moto::Moto,
    }

    pub(crate) fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
            .endpoint_url(endpoint)
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    pub(crate) async fn start() -> LiveStore {
        let moto = lambda_harness::moto::start().await.expect("moto_server (make venv installs it)");
        moto.state_table("state").await.expect("the state table");
        LiveStore { store: Store::new(client(&moto.endpoint), "state"), moto }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Attributes {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[tokio::test]
    async fn items_are_written_read_queried_and_removed_and_the_first_writer_wins() {
        let live = live::start().await;
        let s = &live.store;
        assert_eq!(s.get("a", "1").await, Ok(None));
        assert_eq!(s.put_new("a", "1", &attrs(&[("status", "SUCCESS")]), Some(123)).await, Ok(true));
        assert_eq!(s.put_new("a", "1", &attrs(&[("status", "FAILED")]), None).await, Ok(false), "the second writer loses");
        assert_eq!(s.get("a", "1").await, Ok(Some(attrs(&[("status", "SUCCESS")]))), "keys and expiry are not attributes");
        s.put("a", "1", &attrs(&[("status", "FAILED")]), None).await.unwrap();
        assert_eq!(s.get("a", "1").await, Ok(Some(attrs(&[("status", "FAILED")]))), "put replaces");
        for i in 0..3 {
            s.put("set", &format!("user#{i}"), &attrs(&[("name", &format!("n{i}"))]), None).await.unwrap();
        }
        let all = s.query("set").await.unwrap();
        assert_eq!(all.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["user#0", "user#1", "user#2"]);
        assert_eq!(all[1].1, attrs(&[("name", "n1")]));
        s.delete("set", "user#1").await.unwrap();
        s.delete("set", "user#9").await.unwrap();
        assert_eq!(s.query("set").await.unwrap().len(), 2);
        assert_eq!(s.query("other").await, Ok(vec![]));
    }

    #[tokio::test]
    async fn a_query_follows_every_page() {
        let live = live::start().await;
        // Items of about 40 KB: DynamoDB (and moto) answer at most 1 MB a page.
        let big = "x".repeat(40_000);
        for i in 0..40 {
            live.store.put("p", &format!("{i:03}"), &attrs(&[("blob", &big)]), None).await.unwrap();
        }
        assert_eq!(live.store.query("p").await.unwrap().len(), 40);
    }

    #[test]
    fn throttling_and_server_errors_are_tried_again_up_to_three_attempts() {
        assert!(retryable(true, "InternalServerError"));
        for code in ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"] {
            assert!(retryable(false, code), "{code}");
        }
        assert!(!retryable(false, "ConditionalCheckFailedException"));
        assert!(!retryable(false, "ResourceNotFoundException"));
        assert!(again(true, 1) && again(true, 2));
        assert!(!again(true, 3), "three attempts in all");
        assert!(!again(false, 1), "a final error is final");
    }

    #[test]
    fn a_query_ends_where_dynamodb_gives_no_next_key() {
        assert_eq!(next_start(None), None);
        assert_eq!(next_start(Some(&HashMap::new())), None, "an empty key is no key");
        let k = HashMap::from([("pk".to_string(), AttributeValue::S("p".into()))]);
        assert_eq!(next_start(Some(&k)), Some(k.clone()));
    }

    #[tokio::test]
    async fn an_endpoint_that_cannot_be_reached_is_tried_three_times() {
        let nowhere = Store::new(live::client("http://127.0.0.1:9"), "state");
        let t0 = std::time::Instant::now();
        assert!(matches!(nowhere.get("a", "1").await, Err(StoreError::Unreachable { .. })));
        // Two waits, of 50 and 200 ms, between three attempts (a lower bound: sleeps never end early).
        assert!(t0.elapsed() >= Duration::from_millis(250), "{:?}", t0.elapsed());
    }

    #[tokio::test]
    async fn a_table_that_does_not_exist_or_cannot_be_reached_says_so() {
        let live = live::start().await;
        let missing = Store::new(live::client(&live.moto.endpoint), "missing");
        let e = missing.get("a", "1").await.unwrap_err();
        assert!(matches!(&e, StoreError::Service { code, .. } if code == "ResourceNotFoundException"), "{e}");
        let e = missing.put_new("a", "1", &Attributes::new(), None).await.unwrap_err();
        assert!(matches!(&e, StoreError::Service { code, .. } if code == "ResourceNotFoundException"), "an error, never a lost race: {e}");
        let nowhere = Store::new(live::client("http://127.0.0.1:9"), "state");
        let e = nowhere.put("a", "1", &Attributes::new(), None).await.unwrap_err();
        assert!(matches!(e, StoreError::Unreachable { operation: "PutItem", .. }), "{e}");
    }
}

//! The protocol with a toy resource: whatever the resource does, exactly one response arrives in time.

use super::*;
use lambda_harness::{events, Receiver};
use serde_json::json;

/// A resource whose behaviour is chosen by its `Mode` property.
struct Toy;

impl CustomResource for Toy {
    async fn create(&self, ctx: &Ctx) -> Outcome {
        match ctx.request.properties.get("Mode").and_then(Value::as_str).unwrap_or("") {
            "panic" => panic!("toy panic"),
            "hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Outcome::failed("unreachable")
            }
            "hang-after-progress" => {
                ctx.record_physical_id("made-something");
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Outcome::failed("unreachable")
            }
            _ => Outcome::Success { physical_resource_id: "toy-1".into(), data: [("A".to_string(), "1".to_string())].into() },
        }
    }
    async fn update(&self, _ctx: &Ctx) -> Outcome {
        Outcome::failed("update refused")
    }
    async fn delete(&self, _ctx: &Ctx) -> Outcome {
        Outcome::Success { physical_resource_id: "toy-1".into(), data: Default::default() }
    }
}

fn protocol() -> Protocol<Toy> {
    Protocol::new(Toy, reqwest::Client::new(), deadline::Policy::default())
}

async fn run(event: Value, deadline_in_ms: u64) -> (Result<Value, HandlerError>, Vec<lambda_harness::Received>, Receiver) {
    let rx = Receiver::start().await.unwrap();
    let mut e = event;
    if e.get("ResponseURL").is_some() {
        e["ResponseURL"] = json!(rx.url("r"));
    }
    let result = protocol().handle(e, deadline::now_ms() + deadline_in_ms).await;
    let got = rx.for_name("r");
    (result, got, rx)
}

fn create(mode: &str) -> Value {
    events::create("Toy", "http://placeholder", json!({ "Mode": mode }))
}

#[tokio::test]
async fn success_is_put_once_without_content_type() {
    let (result, got, _) = run(create("ok"), 30_000).await;
    assert_eq!(result.unwrap(), json!({"responses": ["SUCCESS"]}), "the invocation's own result lists each status");
    assert_eq!(got[0].json()["Status"], "SUCCESS", "in time: the work deadline lies ahead");
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.content_type, None);
    assert_eq!(r.content_length, Some(r.body.len()));
    assert_eq!(r.transfer_encoding, None);
    let b = r.json();
    assert_eq!(b["Status"], "SUCCESS");
    assert_eq!(b["PhysicalResourceId"], "toy-1");
    assert_eq!(b["Data"]["A"], "1");
    assert_eq!(b["LogicalResourceId"], "Toy");
}

#[tokio::test]
async fn a_panic_still_answers_failed() {
    let (result, got, _) = run(create("panic"), 30_000).await;
    assert!(result.is_ok());
    assert_eq!(got.len(), 1);
    let b = got[0].json();
    assert_eq!(b["Status"], "FAILED");
    assert!(b["Reason"].as_str().unwrap().contains("panicked"));
    assert!(b["PhysicalResourceId"].as_str().unwrap().starts_with("create-failed-Toy-"));
}

#[tokio::test]
async fn a_hang_answers_failed_before_the_deadline() {
    let rx = Receiver::start().await.unwrap();
    let mut e = create("hang");
    e["ResponseURL"] = json!(rx.url("r"));
    let deadline = deadline::now_ms() + 3_000;
    protocol().handle(e, deadline).await.unwrap();
    let got = rx.for_name("r");
    assert_eq!(got.len(), 1);
    assert!(got[0].received_ms <= deadline, "answered {} ms after the deadline", got[0].received_ms - deadline);
    let b = got[0].json();
    assert_eq!(b["Status"], "FAILED");
    assert!(b["Reason"].as_str().unwrap().contains("deadline was near"));
}

#[tokio::test]
async fn progress_recorded_before_a_hang_is_reported() {
    let (_, got, _) = run(create("hang-after-progress"), 2_000).await;
    assert_eq!(got[0].json()["PhysicalResourceId"], "made-something");
}

#[tokio::test]
async fn a_failed_update_keeps_the_existing_physical_id() {
    let e = events::update("Toy", "http://placeholder", "toy-1", json!({}), json!({}));
    let (_, got, _) = run(e, 30_000).await;
    let b = got[0].json();
    assert_eq!((b["Status"].as_str(), b["PhysicalResourceId"].as_str()), (Some("FAILED"), Some("toy-1")));
}

#[tokio::test]
async fn malformed_events_with_a_response_url_are_answered() {
    let mut e = create("ok");
    e["RequestType"] = json!("Upsert");
    let (_, got, _) = run(e, 30_000).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].json()["Reason"].as_str().unwrap().contains("unknown RequestType"));
}

#[tokio::test]
async fn an_implausible_deadline_uses_the_fallback() {
    // A duration where an epoch timestamp belongs: must not fail the request.
    let rx = Receiver::start().await.unwrap();
    let mut e = create("ok");
    e["ResponseURL"] = json!(rx.url("r"));
    protocol().handle(e, 300_000).await.unwrap();
    assert_eq!(rx.for_name("r")[0].json()["Status"], "SUCCESS");
}

#[tokio::test]
async fn sns_delivery_is_answered_the_same_way() {
    let rx = Receiver::start().await.unwrap();
    let mut e = create("ok");
    e["ResponseURL"] = json!(rx.url("r"));
    protocol().handle(events::sns(&e), deadline::now_ms() + 30_000).await.unwrap();
    assert_eq!(rx.for_name("r")[0].json()["Status"], "SUCCESS");
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_final() {
    let rx = Receiver::start().await.unwrap();
    rx.fail_next(&[503, 500]);
    let mut e = create("ok");
    e["ResponseURL"] = json!(rx.url("r"));
    protocol().handle(e.clone(), deadline::now_ms() + 30_000).await.unwrap();
    let got = rx.for_name("r");
    assert_eq!(got.iter().map(|r| r.answered).collect::<Vec<_>>(), vec![503, 500, 200]);

    let rx = Receiver::start().await.unwrap();
    rx.fail_next(&[403]);
    e["ResponseURL"] = json!(rx.url("r"));
    let result = protocol().handle(e, deadline::now_ms() + 30_000).await;
    assert!(matches!(result, Err(HandlerError::Undelivered { .. })));
    assert_eq!(rx.for_name("r").len(), 1);
}

#[tokio::test]
async fn a_put_keeps_retrying_for_the_whole_delivery_reserve() {
    // Four failures take at least 1.5 s of backoff (100 + 200 + 400 + 800 ms at the least jitter): past the 1 s
    // floor, within the reserve that follows the work deadline.
    let rx = Receiver::start().await.unwrap();
    rx.fail_next(&[503, 503, 503, 503]);
    let mut e = create("ok");
    e["ResponseURL"] = json!(rx.url("r"));
    protocol().handle(e, deadline::now_ms() + 30_000).await.unwrap();
    assert_eq!(rx.for_name("r").iter().map(|r| r.answered).collect::<Vec<_>>(), vec![503, 503, 503, 503, 200]);
}

#[tokio::test]
async fn a_put_counts_its_attempts_and_backs_off_at_least_half_of_each_step() {
    let rx = Receiver::start().await.unwrap();
    rx.fail_next(&[503, 500, 429]);
    let started = Instant::now();
    let attempts = response::deliver(&reqwest::Client::new(), &rx.url("r"), b"{}".to_vec(), Duration::from_secs(30)).await.unwrap();
    assert_eq!(attempts, 4);
    // Waits of 200, 400 and 800 ms, each jittered to between half and all of it: at least 700 ms in all.
    assert!(started.elapsed() >= Duration::from_millis(700), "{:?}", started.elapsed());
}

#[test]
fn the_delivery_reserve_follows_the_work() {
    let now = Instant::now();
    let budget = deadline::Budget { work: Duration::from_secs(27), delivery: Duration::from_secs(3), note: None };
    assert_eq!(deadlines(now, &budget), (now + Duration::from_secs(27), now + Duration::from_secs(30)));
}

#[test]
fn panic_messages_are_read_from_either_payload() {
    assert_eq!(panic_message(Box::new("static str")), "static str");
    assert_eq!(panic_message(Box::new(String::from("owned"))), "owned");
    assert_eq!(panic_message(Box::new(42_u8)), "non-string panic payload");
}

#[tokio::test]
async fn undeliverable_responses_fail_the_invocation_so_lambda_retries() {
    let rx = Receiver::start().await.unwrap();
    rx.fail_next(&[500; 100]);
    let mut e = create("ok");
    e["ResponseURL"] = json!(rx.url("r"));
    let result = protocol().handle(e, deadline::now_ms() + 4_000).await;
    assert!(matches!(result, Err(HandlerError::Undelivered { failed: 1, .. })));
}

#[test]
fn the_release_profile_unwinds_so_panics_are_caught() {
    // With panic = "abort" the process would die before any response: the stack would wait an hour.
    let manifest = include_str!("../../Cargo.toml");
    let release = manifest.split("[profile.release]").nth(1).expect("a release profile").split("\n[").next().unwrap_or("");
    assert!(release.lines().any(|l| l.trim().replace(' ', "") == "panic=\"unwind\""), "{release}");
}

//! The protocol with a toy resource: whatever the resource does, exactly one response arrives in time.

use super::*;
use event::Intake;
use lambda_harness::{events, Receiver};
use serde_json::json;

/// A resource whose behaviour is chosen by its `Mode` property.
struct Toy;

impl CustomResource for Toy {
    async fn create(&self, ctx: &Ctx) -> Outcome {
        match ctx.request.properties.get("Mode").and_then(Value::as_str).unwrap_or("") {
            "panic" => {
                ctx.count("Started", 1);
                panic!("toy panic")
            }
            "hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Outcome::failed("unreachable")
            }
            "slow" => {
                tokio::time::sleep(Duration::from_millis(400)).await;
                Outcome::Success { physical_resource_id: "toy-slow".into(), data: Default::default() }
            }
            "hang-after-progress" => {
                ctx.record_physical_id("made-something");
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Outcome::failed("unreachable")
            }
            // Three invocations' worth of work: continues twice, then succeeds.
            "long" if ctx.round < 2 => {
                ctx.count("Rounds", 1);
                Outcome::Continue { progress: format!("round {} done", ctx.round), physical_resource_id: Some("toy-long".into()) }
            }
            "long" => Outcome::Success {
                physical_resource_id: "toy-long".into(),
                data: [("Rounds".to_string(), (ctx.round + 1).to_string())].into(),
            },
            _ => Outcome::Success { physical_resource_id: "toy-1".into(), data: [("A".to_string(), "1".to_string())].into() },
        }
    }
    /// Refuses every Update, except (with `Mode: rollback-aware`) CloudFormation's rollback of one it refused.
    async fn update(&self, ctx: &Ctx) -> Outcome {
        if ctx.request.properties.get("Mode").and_then(Value::as_str) == Some("rollback-aware") && ctx.rolls_back_failed_update().await {
            return Outcome::Success { physical_resource_id: "toy-1".into(), data: [("RolledBack".to_string(), "yes".to_string())].into() };
        }
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

/// A protocol whose relay queues continuations at a Lambda Invoke endpoint on `addr`.
fn relaying_to(addr: std::net::SocketAddr) -> Protocol<Toy> {
    protocol().with_relay(relay::Relay::new(relay::harness_client(addr)))
}

/// A protocol whose relay queues continuations at the harness's Lambda Invoke endpoint.
fn relaying(runtime: &lambda_harness::RuntimeApi) -> Protocol<Toy> {
    relaying_to(runtime.addr)
}

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:connect-user-resource";

fn invocation(deadline_in_ms: u64) -> Invocation {
    Invocation { deadline_ms: deadline::now_ms() + deadline_in_ms, function_arn: FUNCTION.into() }
}

#[tokio::test]
async fn unfinished_work_continues_in_new_invocations_and_only_the_last_answers() {
    let runtime = lambda_harness::RuntimeApi::start().await.unwrap();
    let rx = Receiver::start().await.unwrap();
    let p = relaying(&runtime);
    let mut e = create("long");
    e["ResponseURL"] = json!(rx.url("r"));
    e["ResourceProperties"]["ServiceTimeout"] = json!("600");
    assert_eq!(p.handle(e.clone(), invocation(30_000)).await.unwrap(), json!({"responses": ["CONTINUED"]}));
    assert!(rx.for_name("r").is_empty(), "no answer while work is left");
    let queued = runtime.invoked();
    assert_eq!(queued.len(), 1);
    let first = &queued[0];
    let marker: continuation::Marker = serde_json::from_value(first[continuation::KEY].clone()).unwrap();
    assert_eq!(marker.round, 1);
    let now = deadline::now_ms();
    assert!(marker.started_ms <= now && marker.started_ms + 5_000 > now);
    assert_eq!(marker.give_up_at_ms, marker.started_ms + 600_000 - 60_000, "ServiceTimeout less its reserve");
    for key in ["RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId", "ResourceType"] {
        assert_eq!(first[key], e[key], "{key} is carried");
    }
    assert_eq!(first["ResourceProperties"], json!({"Mode": "long", "ServiceTimeout": "600"}));

    assert_eq!(p.handle(first.clone(), invocation(30_000)).await.unwrap(), json!({"responses": ["CONTINUED"]}));
    let second = runtime.invoked()[1].clone();
    assert_eq!(second[continuation::KEY]["Round"], 2);
    assert_eq!(second[continuation::KEY]["StartedMs"], first[continuation::KEY]["StartedMs"], "the chain keeps its start");
    assert_eq!(p.handle(second, invocation(30_000)).await.unwrap(), json!({"responses": ["SUCCESS"]}));
    let got = rx.for_name("r");
    assert_eq!(got.len(), 1, "exactly one answer for the whole chain");
    assert_eq!(got[0].json()["Data"]["Rounds"], "3");
    assert_eq!(runtime.invoked().len(), 2);
}

#[tokio::test]
async fn a_chain_out_of_time_answers_failed_with_its_progress_and_a_late_continuation_does_nothing() {
    let runtime = lambda_harness::RuntimeApi::start().await.unwrap();
    let rx = Receiver::start().await.unwrap();
    let p = relaying(&runtime);
    let mut e = create("long");
    e["ResponseURL"] = json!(rx.url("r"));
    e["ResourceProperties"]["ServiceTimeout"] = json!("5");
    p.handle(e.clone(), invocation(30_000)).await.unwrap();
    let got = rx.for_name("r");
    assert_eq!(got.len(), 1, "no time for another round: answered at once");
    let b = got[0].json();
    assert_eq!(b["Status"], "FAILED");
    assert_eq!(b["PhysicalResourceId"], "toy-long", "what was made is reported for the cleanup");
    let reason = b["Reason"].as_str().unwrap();
    assert!(reason.contains("ServiceTimeout") && reason.contains("round 0 done"), "{reason}");
    assert!(runtime.invoked().is_empty());

    // A continuation delivered after the chain's give-up time: no call, no answer.
    let late = continuation::Marker { round: 1, started_ms: deadline::now_ms() - 10_000, give_up_at_ms: deadline::now_ms() - 1 };
    let Intake::Request(req) = event::parse(e.clone()) else { panic!("a request") };
    let late_event: Value = serde_json::from_slice(&req.continued(&late)).unwrap();
    let r = p.handle(late_event, invocation(30_000)).await.unwrap();
    assert_eq!(r, json!({"responses": ["EXPIRED"]}));
    assert_eq!(rx.for_name("r").len(), 1, "nothing more was sent");
}

#[tokio::test]
async fn without_a_way_to_continue_the_answer_is_failed_not_silence() {
    let (result, got, _) = run(create("long"), 30_000).await;
    assert_eq!(result.unwrap(), json!({"responses": ["FAILED"]}));
    let b = got[0].json();
    assert!(b["Reason"].as_str().unwrap().contains("cannot invoke itself"), "{b}");
    assert_eq!(b["PhysicalResourceId"], "toy-long");

    // A relay that Lambda refuses (an unreachable endpoint): FAILED, saying so.
    let rx = Receiver::start().await.unwrap();
    let runtime = lambda_harness::RuntimeApi::start().await.unwrap();
    let addr = runtime.addr;
    drop(runtime);
    let dead = relaying_to(addr);
    let mut e = create("long");
    e["ResponseURL"] = json!(rx.url("r"));
    dead.handle(e, invocation(30_000)).await.unwrap();
    let b = rx.for_name("r")[0].json();
    assert_eq!(b["Status"], "FAILED");
    assert!(b["Reason"].as_str().unwrap().contains("could not hand the rest of the work"), "{b}");
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

#[tokio::test]
async fn a_rollback_is_told_from_another_update_by_the_failed_updates_record() {
    let store = crate::store::live::start().await;
    let rx = Receiver::start().await.unwrap();
    let p = protocol().with_store(store.store.clone());
    let update = |new: Value, old: Value| {
        let mut e = events::update("Toy", "http://placeholder", "toy-1", new, old);
        e["ResponseURL"] = json!(rx.url("r"));
        e
    };
    let a = json!({"Mode": "rollback-aware", "Size": "1"});
    let b = json!({"Mode": "rollback-aware", "Size": "2"});
    let c = json!({"Mode": "rollback-aware", "Size": "3"});
    // Nothing failed yet: an Update from b to a is an Update like any other.
    assert_eq!(p.handle(update(a.clone(), b.clone()), invocation(30_000)).await.unwrap(), json!({"responses": ["FAILED"]}));
    // That refused Update (b to a) is rolled back by a to b: told apart from any other.
    assert_eq!(p.handle(update(b.clone(), a.clone()), invocation(30_000)).await.unwrap(), json!({"responses": ["SUCCESS"]}));
    assert_eq!(rx.for_name("r").last().map(|r| r.json()["Data"]["RolledBack"].clone()), Some(json!("yes")));
    assert_eq!(p.handle(update(b.clone(), c.clone()), invocation(30_000)).await.unwrap(), json!({"responses": ["FAILED"]}));
    assert_eq!(
        p.handle(update(a.clone(), b.clone()), invocation(30_000)).await.unwrap(),
        json!({"responses": ["FAILED"]}),
        "the same direction again is no rollback"
    );
    // Without a state table nothing is known: refused.
    let plain = protocol();
    let mut e = update(c.clone(), b.clone());
    e["ResponseURL"] = json!(rx.url("plain"));
    plain.handle(update(b.clone(), c.clone()), invocation(30_000)).await.unwrap();
    assert_eq!(plain.handle(e, invocation(30_000)).await.unwrap(), json!({"responses": ["FAILED"]}));
}

#[tokio::test]
async fn a_continuation_of_an_event_another_copy_answered_does_nothing() {
    let store = crate::store::live::start().await;
    let runtime = lambda_harness::RuntimeApi::start().await.unwrap();
    let rx = Receiver::start().await.unwrap();
    let p = relaying(&runtime).with_store(store.store.clone());
    let mut e = create("long");
    e["ResponseURL"] = json!(rx.url("r"));
    assert_eq!(p.handle(e.clone(), invocation(30_000)).await.unwrap(), json!({"responses": ["CONTINUED"]}));
    let next = runtime.invoked()[0].clone();
    // Another copy of the chain answered meanwhile.
    let key = ledger::key(e["StackId"].as_str().unwrap(), "Toy", e["RequestId"].as_str().unwrap());
    ledger::Ledger::new(store.store.clone()).claim(&key, "FAILED", deadline::now_ms()).await.unwrap();
    assert_eq!(p.handle(next.clone(), invocation(30_000)).await.unwrap(), json!({"responses": ["ANSWERED"]}));
    assert!(rx.for_name("r").is_empty(), "no answer that could contradict the first");
    assert_eq!(runtime.invoked().len(), 1, "and no further continuation");
    // Without a state table the same continuation works on.
    assert_ne!(relaying(&runtime).handle(next, invocation(30_000)).await.unwrap(), json!({"responses": ["ANSWERED"]}));
}

#[tokio::test]
async fn a_second_copy_of_an_answered_event_does_nothing_and_of_two_copies_at_once_one_answers() {
    let store = crate::store::live::start().await;
    let rx = Receiver::start().await.unwrap();
    let p = protocol().with_store(store.store.clone());
    // The panicking mode tells whether the resource ran again.
    let mut e = create("ok");
    e["ResponseURL"] = json!(rx.url("r"));
    assert_eq!(p.handle(e.clone(), invocation(30_000)).await.unwrap(), json!({"responses": ["SUCCESS"]}));
    let mut again = e.clone();
    again["ResourceProperties"]["Mode"] = json!("panic");
    assert_eq!(p.handle(again, invocation(30_000)).await.unwrap(), json!({"responses": ["ANSWERED"]}), "Lambda delivered it twice");
    assert_eq!(rx.for_name("r").len(), 1, "answered once");

    // Two copies at once: both work, and the one that claims the answer second does not send it.
    let mut slow = create("slow");
    slow["ResponseURL"] = json!(rx.url("s"));
    let key = ledger::key(slow["StackId"].as_str().unwrap(), "Toy", slow["RequestId"].as_str().unwrap());
    let (first, ()) = tokio::join!(p.handle(slow.clone(), invocation(30_000)), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ledger::Ledger::new(store.store.clone()).claim(&key, "SUCCESS", deadline::now_ms()).await.unwrap();
    });
    assert_eq!(first.unwrap(), json!({"responses": ["ANSWERED"]}));
    assert!(rx.for_name("s").is_empty(), "the copy that claimed first sends the answer, not this one");
}

#[tokio::test]
async fn an_answer_that_could_not_be_delivered_gives_its_claim_back() {
    let store = crate::store::live::start().await;
    let rx = Receiver::start().await.unwrap();
    let p = protocol().with_store(store.store.clone());
    let mut e = create("ok");
    e["ResponseURL"] = json!(rx.url("r"));
    rx.fail_next(&[403]);
    assert!(p.handle(e.clone(), invocation(30_000)).await.is_err(), "undelivered: Lambda may retry");
    let key = ledger::key(e["StackId"].as_str().unwrap(), "Toy", e["RequestId"].as_str().unwrap());
    assert_eq!(ledger::Ledger::new(store.store.clone()).answered(&key).await, Ok(None));
    assert_eq!(p.handle(e, invocation(30_000)).await.unwrap(), json!({"responses": ["SUCCESS"]}), "the retry answers");
}

#[test]
fn a_record_leaves_the_response_its_room() {
    assert_eq!(record_room(Duration::from_secs(10)), Duration::from_millis(8_500), "all but the PUT's 1.5 s");
    assert_eq!(record_room(Duration::from_secs(2)), Duration::from_secs(1), "never more than half");
    assert_eq!(record_room(Duration::ZERO), Duration::ZERO);
}

/// How long a reason says the event waited (`X-Amz-Date` has whole seconds: the signing time is seen up to a
/// second early).
fn waited_s(reason: &str) -> Option<u64> {
    reason.strip_prefix("this event waited ")?.split(' ').next()?.parse().ok()
}

/// An event whose ResponseURL CloudFormation signed `ago_ms` before now, answered by the toy resource.
async fn run_signed(event: Value, ago_ms: u64) -> Vec<lambda_harness::Received> {
    let rx = Receiver::start().await.unwrap();
    let mut e = event;
    e["ResponseURL"] = json!(rx.url_signed_at("r", deadline::now_ms() - ago_ms));
    protocol().handle(e, deadline::now_ms() + 30_000).await.unwrap();
    rx.for_name("r")
}

#[tokio::test]
async fn an_event_that_waited_past_cloudformations_give_up_time_is_answered_without_running() {
    // The panicking mode tells whether the resource ran: it would answer "the handler panicked".
    let got = run_signed(create("panic"), 3_600_000).await;
    assert_eq!(got.len(), 1);
    let reason = got[0].json()["Reason"].as_str().unwrap().to_string();
    assert!(waited_s(&reason).is_some_and(|w| (3600..=3601).contains(&w)) && reason.contains(" s in Lambda's queue"), "{reason}");
    assert!(reason.contains("CloudFormation has given up on it by now; nothing was changed"), "{reason}");
    assert_eq!(got[0].json()["Status"], "FAILED");
    assert!(got[0].json()["PhysicalResourceId"].as_str().unwrap().starts_with("create-failed-Toy-"), "a Create that made nothing");

    // Three seconds before it gives up (an hour less the minute kept back): too close to start.
    let got = run_signed(create("panic"), 3_540_000 - 3_000).await;
    let reason = got[0].json()["Reason"].as_str().unwrap().to_string();
    // (1 or 2 s: X-Amz-Date has whole seconds.)
    assert!(
        reason.contains("CloudFormation gives up on it in ") && reason.contains(" s, too soon to start; nothing was changed"),
        "{reason}"
    );

    // A ServiceTimeout of its own counts from the signing time too.
    let mut short = create("panic");
    short["ResourceProperties"]["ServiceTimeout"] = json!("300");
    let reason = run_signed(short, 300_000).await[0].json()["Reason"].as_str().unwrap().to_string();
    assert!(waited_s(&reason).is_some_and(|w| (300..=301).contains(&w)), "{reason}");
}

#[tokio::test]
async fn an_event_that_waited_but_has_time_left_runs_and_its_chain_counts_from_the_signing_time() {
    let got = run_signed(create("ok"), 1_200_000).await;
    assert_eq!(got[0].json()["Status"], "SUCCESS", "20 minutes in the queue leave 39 of the hour's 59");
    // Five seconds is the least a first run needs; the signing time is seen up to a second early, and the test's
    // own steps take a moment on a loaded machine: eight seconds before the give-up time leave margin for both.
    let got = run_signed(create("panic"), 3_540_000 - 8_000).await;
    assert!(got[0].json()["Reason"].as_str().unwrap().contains("panicked"), "eight seconds are enough to start");

    let runtime = lambda_harness::RuntimeApi::start().await.unwrap();
    let rx = Receiver::start().await.unwrap();
    let signed = deadline::now_ms() - 1_200_000;
    let mut e = create("long");
    e["ResponseURL"] = json!(rx.url_signed_at("r", signed));
    assert_eq!(relaying(&runtime).handle(e, invocation(30_000)).await.unwrap(), json!({"responses": ["CONTINUED"]}));
    let marker: continuation::Marker = serde_json::from_value(runtime.invoked()[0][continuation::KEY].clone()).unwrap();
    assert_eq!(marker.started_ms, signed / 1000 * 1000, "the chain's clock is CloudFormation's (X-Amz-Date has whole seconds)");
    assert_eq!(marker.give_up_at_ms, marker.started_ms + 3_540_000);
}

/// A protocol writing its metric lines into the returned vector.
fn measured(p: Protocol<Toy>) -> (Protocol<Toy>, Arc<Mutex<Vec<Value>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    let sink = Arc::new(move |line: String| l.lock().unwrap().push(serde_json::from_str::<Value>(&line).unwrap()));
    (p.with_metrics(metrics::Metrics::new("Test", sink)), lines)
}

#[tokio::test]
async fn every_event_writes_one_metrics_line_saying_what_became_of_it_with_the_resources_counts() {
    let rx = Receiver::start().await.unwrap();
    let runtime = lambda_harness::RuntimeApi::start().await.unwrap();
    let (p, lines) = measured(relaying(&runtime));
    let with_url = |mut e: Value| {
        e["ResponseURL"] = json!(rx.url("r"));
        e
    };
    let metric = |v: &Value, n: &str| v[n].as_u64().unwrap_or_else(|| panic!("{n} in {v}"));
    let fates = |v: &Value| ["Events", "Failed", "Undelivered", "Continuations"].map(|n| metric(v, n));

    p.handle(with_url(create("ok")), invocation(30_000)).await.unwrap();
    p.handle(with_url(create("panic")), invocation(30_000)).await.unwrap();
    let mut long = with_url(create("long"));
    long["ResourceProperties"]["ServiceTimeout"] = json!("600");
    p.handle(long, invocation(30_000)).await.unwrap();
    p.handle(with_url(json!({"RequestType": "Create"})), invocation(30_000)).await.unwrap();
    rx.fail_next(&[500; 100]);
    let _ = p.handle(with_url(create("ok")), invocation(3_000)).await;

    let got = lines.lock().unwrap().clone();
    assert_eq!(got.len(), 5, "one line per event: {got:?}");
    assert_eq!(fates(&got[0]), [1, 0, 0, 0], "answered SUCCESS");
    assert_eq!(fates(&got[1]), [1, 1, 0, 0], "answered FAILED");
    assert_eq!(metric(&got[1], "Started"), 1, "what the resource counted before it panicked is kept");
    assert_eq!(fates(&got[2]), [0, 0, 0, 1], "continued");
    assert_eq!(metric(&got[2], "Rounds"), 1);
    assert_eq!(fates(&got[3]), [1, 1, 0, 0], "a malformed event is answered FAILED");
    assert_eq!((got[3]["ResourceType"].as_str(), got[3]["RequestType"].as_str()), (Some("Unknown"), Some("Create")));
    assert_eq!(fates(&got[4]), [0, 0, 1, 0], "not delivered");
    for v in &got[..3] {
        assert_eq!((v["ResourceType"].as_str(), v["RequestType"].as_str()), (Some("Custom::ConnectUser"), Some("Create")));
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Test");
    }
    assert!(got[0].get("Started").is_none(), "a resource's counts belong to its own event");
}

//! The ways custom resources fail their users, reproduced: each test shows it cannot happen here.

use crate::support::*;
use connect_emulator::Config;
use lambda_harness::{events, InvocationResult};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn a_retried_create_adopts_its_own_user_and_never_a_stranger() {
    let bed = Bed::start().await;
    let event = events::create("Agent", "x", soft_phone("agent"));
    let first = bed.send(event.clone()).await;
    assert_eq!(first.status(), "SUCCESS");
    // Lambda delivers the same event again (same StackId, LogicalResourceId and RequestId).
    let again = bed.send(event.clone()).await;
    assert_eq!(again.status(), "SUCCESS", "{}", again.reason());
    assert_eq!(again.physical_id(), first.physical_id(), "adopted, not created twice");
    assert_eq!(bed.users().await.len(), 1);
    // Another request for the same name (another stack, or a user made by hand) is refused.
    let stranger = bed.create("Other", soft_phone("agent")).await;
    assert_eq!(stranger.status(), "FAILED");
    assert!(stranger.reason().starts_with("Name: a user named agent already exists"), "{}", stranger.reason());
    assert_eq!(bed.users().await.len(), 1);
}

#[tokio::test]
async fn a_create_that_crashed_after_create_user_is_safe_to_retry() {
    let bed = Bed::start().await;
    // The response PUT fails for good, so the invocation errors and Lambda would retry it.
    bed.receiver.fail_next(&[403]);
    let event = events::create("Agent", "x", soft_phone("agent"));
    let first = bed.send(event.clone()).await;
    assert!(matches!(first.invocation, Some(InvocationResult::Error(_))), "{:?}", first.invocation);
    let retry = bed.send(event).await;
    assert_eq!(retry.status(), "SUCCESS", "{}", retry.reason());
    assert_eq!(bed.users().await.len(), 1);
    assert_eq!(retry.user_id(), bed.users().await[0]["Id"].as_str().unwrap());
}

#[tokio::test]
async fn throttling_is_retried_within_the_deadline() {
    let bed = Bed::start_with(Config { throttle: Some((2.0, 5)), ..Default::default() }, &[]).await;
    // Twelve creates at once against a 2/s, burst 5 bucket.
    let sends = (0..12).map(|i| bed.create("Agent", soft_phone(&format!("agent-{i}"))));
    let answers = futures::future::join_all(sends).await;
    for a in &answers {
        assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    }
    assert_eq!(bed.users().await.len(), 12);
    let calls = bed.control("GET", "calls", None).await;
    let throttled = calls["calls"].as_array().unwrap().iter().filter(|c| c["error"] == "ThrottlingException").count();
    assert!(throttled > 0, "the bucket did throttle");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let bed = Bed::start().await;
    bed.fault("CreateUser", 2, "InternalServiceException").await;
    let a = bed.create("Agent", soft_phone("agent")).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(bed.calls().await, vec!["CreateUser"; 3]);
}

#[tokio::test]
async fn an_update_right_after_create_waits_for_consistency() {
    let bed = Bed::start_with(Config { describe_delay_ms: 800, ..Default::default() }, &[]).await;
    let props = soft_phone("agent");
    let a = bed.create("Agent", props.clone()).await;
    let u = bed.update("Agent", &a.physical_id(), with(props.clone(), "RoutingProfileId", json!(RP_SALES)), props).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(u.physical_id(), a.physical_id(), "not mistaken for a deleted user");
    assert_eq!(bed.users().await.len(), 1);
}

#[tokio::test]
async fn a_half_done_update_is_rolled_back_exactly() {
    let bed = Bed::start().await;
    let old = with(soft_phone("agent"), "HierarchyGroupId", json!(HG_NA));
    let a = bed.create("Agent", old.clone()).await;
    let before = bed.user(&a.user_id()).await.unwrap();
    let new = with(
        with(
            with(with(old.clone(), "RoutingProfileId", json!(RP_SALES)), "SecurityProfileIds", json!([SP_QA])),
            "HierarchyGroupId",
            json!(HG_EMEA),
        ),
        "IdentityInfo",
        json!({"FirstName": "Jane"}),
    );
    // The third of four update calls fails.
    bed.fault("UpdateUserHierarchy", 1, "InvalidParameterException").await;
    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), new.clone(), old.clone()).await;
    assert_eq!(u.status(), "FAILED");
    assert!(u.reason().starts_with("UpdateUserHierarchy failed: InvalidParameterException"), "{}", u.reason());
    assert!(u.reason().contains("[UpdateUserRoutingProfile, UpdateUserSecurityProfiles]"), "{}", u.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser", "UpdateUserRoutingProfile", "UpdateUserSecurityProfiles", "UpdateUserHierarchy"]);
    // CloudFormation's rollback: properties swapped.
    bed.clear_calls().await;
    let r = bed.update("Agent", &a.physical_id(), old.clone(), new).await;
    assert_eq!(r.status(), "SUCCESS", "{}", r.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser", "UpdateUserRoutingProfile", "UpdateUserSecurityProfiles"]);
    let mut after = bed.user(&a.user_id()).await.unwrap();
    let mut before = before;
    for u in [&mut after, &mut before] {
        u.as_object_mut().unwrap().remove("LastModifiedTime");
    }
    assert_eq!(after, before, "exactly as it was");
}

#[tokio::test]
async fn a_slow_connect_never_outlives_the_function() {
    let bed = Bed::start().await;
    bed.control("POST", "faults", Some(json!({"operation": "CreateUser", "count": 1, "delay_ms": 20_000}))).await;
    let a = bed.send_with_deadline(events::create("Agent", "x", soft_phone("agent")), Duration::from_secs(4)).await;
    let deadline = *bed.runtime.deadlines().last().unwrap();
    assert!(a.puts[0].received_ms <= deadline, "answered {} ms after the deadline", a.puts[0].received_ms - deadline);
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().contains("deadline was near"), "{}", a.reason());
    assert_eq!(a.puts.len(), 1);
}

#[tokio::test]
async fn an_implausible_deadline_still_succeeds() {
    let bed = Bed::start().await;
    let (url, name) = bed.url();
    let mut e = events::create("Agent", "x", soft_phone("agent"));
    set_url(&mut e, &url);
    // Some local emulators send the timeout as a duration instead of an epoch timestamp.
    bed.runtime.invoke_with_deadline(e, lambda_harness::Deadline::At(300_000), Duration::from_secs(20)).await.unwrap();
    let got = bed.receiver.wait_for(&name, 1, Duration::from_secs(2)).await;
    assert_eq!(got[0].json()["Status"], "SUCCESS");
    assert!(bed.output().contains("implausible invocation deadline"));
}

#[tokio::test]
async fn logs_are_json_lines_without_secrets() {
    let bed = Bed::start().await;
    let props = soft_phone("agent");
    let a = bed.create("Agent", props.clone()).await;
    let sig_create = a.puts[0].query.clone();
    bed.update("Agent", &a.physical_id(), with(props.clone(), "RoutingProfileId", json!(RP_SALES)), props.clone()).await;
    bed.update("Agent", &a.physical_id(), with(props.clone(), "Password", json!("Chang3dPassword")), props.clone()).await;
    bed.create("Bad", with(props.clone(), "Password", json!("weakpass"))).await;
    bed.create("Bad2", with(soft_phone("x"), "PhoneConfig", json!({"PhoneType": "DESK_PHONE"}))).await;
    bed.delete("Agent", &a.physical_id(), props).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out = bed.output();
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 10);
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v["level"].is_string());
    }
    for secret in [PASSWORD, "Chang3dPassword", "weakpass", "X-Amz-Signature", sig_create.as_str()] {
        assert!(!out.contains(secret), "{secret} leaked into the logs");
    }
    // What the logs do say: request identity, the decided action, each call with its outcome, the final status.
    let decided = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["fields"]["action"] == "update")
        .expect("an update decision");
    assert_eq!(decided["span"]["logical_id"], "Agent");
    assert_eq!(decided["span"]["request_type"], "Update");
    assert!(decided["span"]["request_id"].is_string());
    assert!(out.contains("\"operation\":\"UpdateUserRoutingProfile\"") && out.contains("\"duration_ms\""));
    assert!(out.contains("\"status\":\"FAILED\"") && out.contains("\"status\":\"SUCCESS\""));
    assert!(out.contains("/responses/r0"), "the response target is logged by host and path");
}

/// Arbitrary JSON: wrong types, long strings, deep nesting, unicode.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        (0usize..6000).prop_map(|n| Value::String("é".repeat(n))),
        Just(json!("DESK_PHONE")),
        Just(json!("true")),
        Just(json!(IID)),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Name".to_string()),
                    Just("InstanceId".to_string()),
                    Just("PhoneConfig".to_string()),
                    Just("Tags".to_string()),
                    Just("SecurityProfileIds".to_string()),
                    "\\PC{0,12}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn hostile_event() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just(json!("Create")), Just(json!("Update")), Just(json!("Delete")), any_json()],
        any_json(),
        any_json(),
        prop_oneof![Just(json!("i:u")), Just(json!("81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca:nobody")), any_json()],
        prop_oneof![Just(json!("Agent")), any_json()],
        any::<bool>(),
    )
        .prop_map(|(rt, props, old, pid, logical, drop_ids)| {
            let mut e = json!({
                "RequestType": rt, "ResponseURL": "x", "StackId": events::STACK_ID, "RequestId": "req",
                "ResourceType": "Custom::ConnectUser", "LogicalResourceId": logical,
                "ResourceProperties": props, "OldResourceProperties": old, "PhysicalResourceId": pid,
            });
            if drop_ids {
                e.as_object_mut().unwrap().remove("StackId");
            }
            e
        })
}

#[tokio::test]
async fn hostile_events_always_get_exactly_one_small_response() {
    let bed = Bed::start().await;
    let cases: u32 = std::env::var("HOSTILE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    // A seed of its own for every run, printed, so that any failure can be replayed with HOSTILE_SEED.
    let seed: u64 = std::env::var("HOSTILE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1));
    eprintln!("hostile events: {cases} cases, HOSTILE_SEED={seed} replays this run");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(PropConfig { cases, ..PropConfig::default() }, rng);
    // Past failures first, from the regression file, then the generated cases.
    let regressions: Vec<Value> = serde_json::from_str(include_str!("hostile-regressions.json")).unwrap();
    let mut samples: Vec<(String, Value, Option<String>)> = regressions
        .into_iter()
        .map(|r| (format!("regression {}", r["why"]), r["event"].clone(), r["expect"].as_str().map(str::to_string)))
        .collect();
    for i in 0..cases {
        samples.push((format!("case {i} of HOSTILE_SEED={seed}"), hostile_event().new_tree(&mut runner).unwrap().current(), None));
    }
    for (which, e, expect) in samples {
        let a = bed.send(e.clone()).await;
        assert_eq!(a.puts.len(), 1, "{which}: event {e}");
        assert!(a.puts[0].body.len() <= 4096, "{which}: {} bytes for {e}", a.puts[0].body.len());
        assert!(matches!(a.status(), "SUCCESS" | "FAILED"), "{which}: {e}");
        assert!(!a.physical_id().is_empty(), "{which}: {e}");
        assert!(a.invocation.is_some(), "{which}: the process answered the runtime");
        if let Some(status) = expect {
            assert_eq!(a.status(), status, "{which}: {e}");
        }
    }
    assert!(bed.lambda.output().find("panicked").is_none(), "no panic");
    // Without a ResponseURL nothing can be answered, but the process lives on.
    let r = bed.runtime.invoke(json!([1, 2, 3]), Duration::from_secs(5)).await;
    assert!(matches!(r, Some(InvocationResult::Response(_))));
    let a = bed.create("Agent", soft_phone("still-alive")).await;
    assert_eq!(a.status(), "SUCCESS");
}

/// Failed response PUTs (5xx then 403, a refused connection, a target that never answers) at debug level: the
/// ResponseURL's query string stays out of every line and out of the error returned to the Lambda runtime.
/// (`Bed`'s drop scans the whole output for every signature it handed out and every password sent.)
#[tokio::test]
async fn failed_response_puts_leak_neither_the_url_nor_a_password() {
    let bed = Bed::start().await;
    let no_secret = |r: &Option<lambda_harness::InvocationResult>, sig: &str| {
        let text = format!("{r:?}");
        assert!(matches!(r, Some(lambda_harness::InvocationResult::Error(_))), "the invocation fails so Lambda retries: {text}");
        assert!(!text.contains(sig) && !text.contains("X-Amz-Signature"), "{text}");
    };

    // The receiver answers 503, then 403 (final).
    bed.receiver.fail_next(&[503, 403]);
    let a = bed.send(events::create("Agent", "x", soft_phone("put-rejected"))).await;
    assert_eq!(a.puts.iter().map(|p| p.answered).collect::<Vec<_>>(), vec![503, 403]);
    no_secret(&a.invocation, &a.puts[0].query);

    // A refused connection, and a target that accepts and never answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            open.push(sock);
        }
    });
    for (addr, what) in [(closed, "refused"), (silent_addr, "timeout")] {
        let sig = format!("sig{what}{}", std::process::id());
        bed.secret(&sig);
        let mut e = events::create("Agent", "x", soft_phone(&format!("put-{what}")));
        e["ResponseURL"] = json!(format!("http://{addr}/responses/{what}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={sig}"));
        let r = bed.runtime.invoke(e, Duration::from_secs(5)).await;
        no_secret(&r, &sig);
    }
    held.abort();
    let out = bed.output();
    assert!(out.contains("response not delivered") && out.contains("\"level\":\"DEBUG\""), "debug logging was on");
}

/// The scan that `Bed`'s drop makes can fail: a value the function does print, registered as a secret, fails
/// the test.
#[tokio::test]
#[should_panic(expected = "reached the function's output")]
async fn the_secret_scan_fails_a_test_whose_output_holds_a_secret() {
    let bed = Bed::start().await;
    let a = bed.create("Agent", soft_phone("scanned")).await;
    assert_eq!(a.status(), "SUCCESS");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(bed.output().contains("response delivered"));
    bed.secret("response delivered");
}

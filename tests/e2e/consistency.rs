//! Connect's search is an index that may be minutes behind its writes. A set's lifecycle stays exact while the
//! emulator's index lags far behind: what the set holds comes from its records in the state table, each user
//! read itself before it is deleted or released.

use crate::roster::{counts, throttled};
use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const LOGICAL: &str = "Roster";

fn agent(name: &str) -> Value {
    json!({"Name": name, "Password": PASSWORD, "IdentityInfo": {"FirstName": name, "LastName": "Agent", "Email": format!("{name}@example.com")}})
}

/// `n` agents at 10 requests/s, burst 2, against an emulator that throttles at that.
async fn roster(bed: &Bed, users: Vec<Value>) -> Value {
    bed.control("POST", "throttle", Some(json!({"operation": "*", "rate": 10.0, "burst": 2}))).await;
    json!({
        "InstanceId": IID, "RequestsPerSecond": 10, "Burst": 2,
        "Defaults": {"RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT]},
        "Users": users
    })
}

fn names(n: usize) -> Vec<Value> {
    (0..n).map(|i| agent(&format!("agent{i:02}"))).collect()
}

fn set_id() -> String {
    format!("{IID}:set:{}", holder(LOGICAL))
}

async fn by_name(bed: &Bed) -> BTreeMap<String, Value> {
    bed.users().await.into_iter().map(|u| (u["Username"].as_str().unwrap_or("").to_string(), u)).collect()
}

/// An index a minute behind: nothing the set writes during a test shows in a search.
async fn lagging() -> Bed {
    let bed = Bed::with_store().await;
    bed.control("POST", "search-lag", Some(json!({"lag_ms": 60_000}))).await;
    bed
}

#[tokio::test]
async fn create_across_continuations_then_an_update_and_a_delete_right_after_are_exact_while_the_index_is_behind() {
    let bed = lagging().await;
    let first = roster(&bed, names(30)).await;
    // 30 creates at 10/s take 3 s; each invocation may start work for about 1.6 s of its 3 s.
    let a =
        bed.send_chain(events::for_set(events::create(LOGICAL, "x", first.clone())), Duration::from_secs(3), Duration::from_secs(60)).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert!(!bed.runtime.invoked().is_empty(), "it continued");
    let log = bed.call_log().await;
    assert_eq!(counts(&log).get("CreateUser"), Some(&30), "each user created once, none refused as someone else's");
    assert!(log.iter().all(|c| c["error"] != "DuplicateResourceException"));
    assert!(throttled(&log) <= 2, "{}", throttled(&log));
    let made = by_name(&bed).await;
    assert_eq!(made.len(), 30);
    let ids: BTreeMap<String, String> = serde_json::from_str(a.body["Data"]["UserIds"].as_str().unwrap()).unwrap();
    assert_eq!(ids.len(), 30, "the answer names every user, although no search shows one");

    // Right after: change one, add one, remove one.
    let mut second = names(30);
    second[1]["IdentityInfo"]["LastName"] = json!("Changed");
    second.remove(2);
    second.push(agent("agent30"));
    let second = roster(&bed, second).await;
    bed.clear_calls().await;
    let u = bed
        .send_chain(
            events::for_set(events::update(LOGICAL, "x", &a.physical_id(), second.clone(), first.clone())),
            Duration::from_secs(3),
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    let mut w = writes(&bed.call_log().await);
    w.sort();
    assert_eq!(w, ["CreateUser", "UpdateUserIdentityInfo"], "only what changed; the removed user waits for the stack to commit");
    // CloudFormation's cleanup: the Delete of the id the Update replaced.
    let c = bed
        .send_chain(events::for_set(events::delete(LOGICAL, "x", &a.physical_id(), first)), Duration::from_secs(3), Duration::from_secs(60))
        .await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    assert_eq!(writes(&bed.call_log().await).iter().filter(|w| *w == "DeleteUser").count(), 1, "the removed user, not one more");
    let now = by_name(&bed).await;
    assert!(!now.contains_key("agent02") && now.contains_key("agent30"));
    assert_eq!(now["agent01"]["IdentityInfo"]["LastName"], "Changed");
    for (name, u) in &now {
        if name != "agent30" {
            assert_eq!(u["Id"], made[name]["Id"], "{name} keeps its id");
        }
    }

    // Right after: the Delete removes every one of them.
    let d = bed
        .send_chain(
            events::for_set(events::delete(LOGICAL, "x", &u.physical_id(), second)),
            Duration::from_secs(3),
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty(), "{:?}", bed.users().await);
    assert_eq!(bed.all_users().await.len(), FIXTURE_USERS.len(), "the instance's own agents are untouched");
    assert!(bed.state().await.iter().all(|i| !i["sk"]["S"].as_str().unwrap_or("").starts_with("user#")), "no record left");
}

#[tokio::test]
async fn the_rollback_delete_right_after_a_failed_create_removes_what_it_made_while_the_index_is_behind() {
    let bed = lagging().await;
    let props = roster(&bed, names(20)).await;
    // The first CreateUser fails after 800 ms; meanwhile the paced others go on.
    bed.control("POST", "faults", Some(json!({"operation": "CreateUser", "error": "InvalidParameterException", "delay_ms": 800}))).await;
    let a = bed.send(events::for_set(events::create(LOGICAL, "x", props.clone()))).await;
    assert_eq!(a.status(), "FAILED", "{}", a.reason());
    assert_eq!(a.physical_id(), set_id(), "the set is reported, so that the rollback's Delete finds what it made");
    let made = bed.users().await.len();
    assert!(made > 0, "some users were made before the failure");
    let d = bed.send(events::for_set(events::delete(LOGICAL, "x", &set_id(), props))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty(), "none left behind: {:?}", bed.users().await);
}

//! The function's metric lines (CloudWatch's embedded metric format) from real runs of the binary: each one a
//! valid EMF document, their counts what happened in Connect, and no user's personal data in any of them.

use crate::roster::{agent, counts, create, names, roster, throttled};
use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Every EMF document the function wrote, in order.
pub fn metric_lines(bed: &Bed) -> Vec<Value> {
    bed.output().lines().filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok()).filter(|v| v.get("_aws").is_some()).collect()
}

/// Checks one document against the EMF specification's rules that CloudWatch enforces (each declared metric
/// has a numeric value at the top level, each dimension a string value) and returns its metrics by name.
fn valid(doc: &Value) -> BTreeMap<String, u64> {
    let aws = &doc["_aws"];
    assert!(aws["Timestamp"].as_u64().is_some_and(|t| t > 1_700_000_000_000), "a Timestamp in ms: {doc}");
    let directives = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics");
    assert_eq!(directives.len(), 1, "{doc}");
    let d = &directives[0];
    assert_eq!(d["Namespace"], "ConnectUserResource", "the default namespace");
    assert_eq!(d["Dimensions"], json!([["ResourceType", "RequestType"], []]), "by type and in total, no other dimension: {doc}");
    for dim in ["ResourceType", "RequestType"] {
        assert!(doc[dim].is_string(), "{dim} has a value: {doc}");
    }
    let mut out = BTreeMap::new();
    for m in d["Metrics"].as_array().expect("Metrics") {
        let name = m["Name"].as_str().expect("a metric's Name");
        assert!(["Count", "Milliseconds"].contains(&m["Unit"].as_str().unwrap_or("")), "{m}");
        let v = doc[name].as_u64().unwrap_or_else(|| panic!("metric {name} has no value: {doc}"));
        out.insert(name.to_string(), v);
    }
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    for k in keys {
        assert!(
            ["_aws", "ResourceType", "RequestType", "level"].contains(&k.as_str()) || out.contains_key(k),
            "{k}: neither a metric nor a dimension"
        );
    }
    out
}

/// A metric summed over the documents of one resource and request type.
fn sum(docs: &[(String, String, BTreeMap<String, u64>)], rt: &str, req: &str, name: &str) -> u64 {
    docs.iter().filter(|(r, q, _)| r == rt && q == req).map(|(_, _, m)| m.get(name).copied().unwrap_or(0)).sum()
}

#[tokio::test]
async fn each_event_writes_valid_emf_whose_counts_match_what_happened_and_carry_no_personal_data() {
    let bed = Bed::with_store().await;
    // CreateUser throttled below the rate the set is told: some creates are throttled and retried.
    bed.control("POST", "throttle", Some(json!({"operation": "CreateUser", "rate": 1.0, "burst": 1}))).await;
    let mut legacy = agent("legacy.agent");
    legacy["ImportId"] = json!(format!("{IID}:{LEGACY_ID}"));
    legacy.as_object_mut().unwrap().remove("Password");
    let mut users = names(4);
    users.push(legacy.clone());
    let mut first = roster(users);
    first["RequestsPerSecond"] = json!(20);
    first["Burst"] = json!(10);
    let c = bed.send(create(first.clone())).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let log = bed.call_log().await;
    let throttles = throttled(&log);
    assert!(throttles > 0, "the test needs throttling: {:?}", counts(&log));

    // agent01 changed, agent02 taken out (kept until the cleanup Delete), agent04 added.
    let mut second_users = names(5);
    second_users.remove(2);
    second_users[1]["RoutingProfileId"] = json!(RP_SALES);
    second_users.push(legacy);
    let mut second = roster(second_users);
    second["RequestsPerSecond"] = json!(20);
    second["Burst"] = json!(10);
    let u = bed.send(events::for_set(events::update("Roster", "x", &c.physical_id(), second.clone(), first.clone()))).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    let cleanup = bed.send(events::for_set(events::delete("Roster", "x", &c.physical_id(), first))).await;
    assert_eq!(cleanup.status(), "SUCCESS", "{}", cleanup.reason());
    let d = bed.send(events::for_set(events::delete("Roster", "x", &u.physical_id(), second))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    let bad = bed.send(events::create("One", "x", json!({"InstanceId": IID, "Name": "bad name!"}))).await;
    assert_eq!(bad.status(), "FAILED");
    let log = bed.call_log().await;
    let made = counts(&log);

    let lines = metric_lines(&bed);
    assert_eq!(lines.len(), 5, "one line per event (none continued): {lines:?}");
    let docs: Vec<(String, String, BTreeMap<String, u64>)> = lines
        .iter()
        .map(|l| (l["ResourceType"].as_str().unwrap().to_string(), l["RequestType"].as_str().unwrap().to_string(), valid(l)))
        .collect();
    let set = "Custom::ConnectUserSet";
    assert_eq!(
        docs.iter().map(|(r, q, _)| format!("{r} {q}")).collect::<Vec<_>>(),
        [
            format!("{set} Create"),
            format!("{set} Update"),
            format!("{set} Delete"),
            format!("{set} Delete"),
            "Custom::ConnectUser Create".to_string()
        ]
    );
    assert_eq!(sum(&docs, set, "Create", "UsersCreated"), 4);
    assert_eq!(sum(&docs, set, "Create", "UsersTakenOver"), 1);
    assert_eq!(sum(&docs, set, "Update", "UsersCreated"), 1);
    assert_eq!(sum(&docs, set, "Update", "UsersUpdated"), 1);
    assert_eq!(sum(&docs, set, "Update", "UsersDeleted"), 0, "the taken-out user waits for the cleanup");
    assert_eq!(sum(&docs, set, "Delete", "UsersDeleted"), 1 + 4, "the cleanup's one, then the set's four");
    assert_eq!(sum(&docs, set, "Delete", "UsersReleased"), 1, "the taken-over agent");
    assert_eq!(made.get("CreateUser"), Some(&5));
    assert_eq!(made.get("DeleteUser"), Some(&5));
    let retried: u64 = ["Create", "Update", "Delete"].iter().map(|q| sum(&docs, set, q, "ThrottledRetries")).sum();
    assert_eq!(retried, throttled(&log) as u64, "every throttled answer Connect gave");
    for q in ["Create", "Update", "Delete"] {
        assert_eq!(sum(&docs, set, q, "Failed"), 0);
        assert_eq!(sum(&docs, set, q, "Continuations"), 0);
    }
    assert_eq!(sum(&docs, set, "Delete", "Events"), 2);
    assert_eq!(sum(&docs, "Custom::ConnectUser", "Create", "Failed"), 1, "the refused user");
    assert_eq!(sum(&docs, "Custom::ConnectUser", "Create", "Events"), 1);
    assert!(docs.iter().all(|(_, _, m)| m.contains_key("Duration")));

    // Names, emails and ids are in the other log lines, never in a metric line.
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    for secret in ["agent0", "legacy", "example.com", LEGACY_ID, IID, "bad name"] {
        assert!(text.iter().all(|l| !l.contains(secret)), "{secret} in a metric line");
    }
}

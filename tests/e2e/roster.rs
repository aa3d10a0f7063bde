//! `Custom::ConnectUserSet` through the real binary: a roster created, changed and deleted; ownership; imported
//! entries; continuations across invocations (and one delivered twice); throttling; a fault in the middle and
//! the rollback that follows it.

use crate::secrets::{moto, secrets_client};
use crate::support::*;
use lambda_harness::{events, InvocationResult};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const LOGICAL: &str = "Roster";
const ENTRY_TAG: &str = "connect-user-resource:entry";
const MARKER_TAG: &str = "connect-user-resource:request";

fn set_id() -> String {
    format!("{IID}:set:{}", holder(LOGICAL))
}

pub(crate) fn agent(name: &str) -> Value {
    json!({"Name": name, "Password": PASSWORD, "IdentityInfo": {"FirstName": name, "LastName": "Agent", "Email": format!("{name}@example.com")}})
}

pub(crate) fn roster(users: Vec<Value>) -> Value {
    json!({
        "InstanceId": IID,
        "Defaults": {"RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT], "PhoneConfig": {"AfterContactWorkTimeLimit": 30}, "Tags": {"team": "support"}},
        "Users": users
    })
}

pub(crate) fn names(n: usize) -> Vec<Value> {
    (0..n).map(|i| agent(&format!("agent{i:02}"))).collect()
}

pub(crate) fn create(props: Value) -> Value {
    events::for_set(events::create(LOGICAL, "x", props))
}

fn update(id: &str, props: Value, old: Value) -> Value {
    events::for_set(events::update(LOGICAL, "x", id, props, old))
}

fn delete(id: &str, props: Value) -> Value {
    events::for_set(events::delete(LOGICAL, "x", id, props))
}

/// The users the set made, by name.
pub(crate) async fn by_name(bed: &Bed) -> BTreeMap<String, Value> {
    bed.users().await.into_iter().map(|u| (u["Username"].as_str().unwrap_or("").to_string(), u)).collect()
}

/// Operation counts of a call log (only the calls that succeeded).
pub fn counts(log: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in log.iter().filter(|c| c["status"] == 200) {
        *out.entry(c["operation"].as_str().unwrap_or("").to_string()).or_default() += 1;
    }
    out
}

pub fn throttled(log: &[Value]) -> usize {
    log.iter().filter(|c| c["error"] == "ThrottlingException").count()
}

/// The function's ledger, on the bed's state table.
pub fn ledger(bed: &Bed) -> connect_user_resource::cfn::ledger::Ledger {
    let endpoint = &bed.moto.as_ref().expect("a bed with a store").endpoint;
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .build();
    let store = connect_user_resource::store::Store::new(aws_sdk_dynamodb::Client::from_conf(config), STATE_TABLE);
    connect_user_resource::cfn::ledger::Ledger::new(store)
}

/// A user's settings without what differs between two users made from the same entry at different times.
pub(crate) fn comparable(u: &Value) -> Value {
    let mut v = settings_of(u);
    let o = v.as_object_mut().unwrap();
    for k in ["Id", "Arn", "Password"] {
        o.remove(k);
    }
    if let Some(Value::Object(tags)) = o.get_mut("Tags") {
        tags.remove(MARKER_TAG);
    }
    v
}

#[tokio::test]
async fn a_roster_is_created_changed_in_place_and_deleted_with_the_fewest_calls() {
    let bed = Bed::with_store().await;
    let first = roster(names(5));
    let a = bed.send(create(first.clone())).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(a.puts.len(), 1);
    assert!(a.physical_id().starts_with(&format!("{}#", set_id())), "the set's base id and its roster's digest");
    assert_eq!(a.body["Data"]["Total"], "5");
    let ids: BTreeMap<String, String> = serde_json::from_str(a.body["Data"]["UserIds"].as_str().unwrap()).unwrap();
    let users = by_name(&bed).await;
    assert_eq!(users.keys().cloned().collect::<Vec<_>>(), ids.keys().cloned().collect::<Vec<_>>());
    for (name, u) in &users {
        assert_eq!(u["Id"], ids[name]);
        assert_eq!(u["RoutingProfileId"], RP_BASIC, "Defaults apply");
        assert_eq!(u["PhoneConfig"]["AfterContactWorkTimeLimit"], 30);
        assert_eq!(u["IdentityInfo"]["Email"], format!("{name}@example.com"));
        assert_eq!(u["Tags"][HOLDER_TAG], holder(LOGICAL), "held by the set");
        assert!(u["Tags"][MARKER_TAG].is_string() && u["Tags"][ENTRY_TAG].is_string(), "created by it, entry recorded");
        assert_eq!(u["Tags"]["team"], "support");
    }
    let log = bed.call_log().await;
    assert_eq!(counts(&log).get("CreateUser"), Some(&5));
    assert_eq!(writes(&log).len(), 5, "one call per new user: {:?}", writes(&log));

    // Add agent05, change agent01's routing profile and email, rename agent02 to agent02b, remove agent03.
    let mut second = names(5);
    second[1]["RoutingProfileId"] = json!(RP_SALES);
    second[1]["IdentityInfo"]["Email"] = json!("one@example.com");
    second[2]["Name"] = json!("agent02b");
    second.remove(3);
    second.push(agent("agent05"));
    let second = roster(second);
    bed.clear_calls().await;
    let u = bed.send(update(&a.physical_id(), second.clone(), first.clone())).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_ne!(u.physical_id(), a.physical_id(), "another roster: the removed users wait for the cleanup Delete of the old id");
    assert_eq!(u.body["Data"]["Total"], "5");
    let log = bed.call_log().await;
    let mut w = writes(&log);
    w.sort();
    assert_eq!(
        w,
        vec!["CreateUser", "CreateUser", "TagResource", "UpdateUserIdentityInfo", "UpdateUserRoutingProfile"],
        "only what changed: two creates (added, renamed), agent01's two changes and its new digest"
    );
    assert_eq!(counts(&log).get("SearchUsers"), Some(&1), "one page says what the set holds");
    assert_eq!(counts(&log).get("DescribeUser"), None, "no user is read");
    assert_eq!(by_name(&bed).await.len(), 7, "the removed and the renamed user wait for the stack to commit");

    // CloudFormation's cleanup Delete of the old id: those two go, read first to confirm the set holds them.
    bed.clear_calls().await;
    let cleanup = bed.send(delete(&a.physical_id(), first.clone())).await;
    assert_eq!(cleanup.status(), "SUCCESS", "{}", cleanup.reason());
    let log = bed.call_log().await;
    assert_eq!(writes(&log), vec!["DeleteUser", "DeleteUser"]);
    assert_eq!(counts(&log).get("DescribeUser"), Some(&2));
    assert_eq!(counts(&log).get("SearchUsers"), None, "the set's records say whom it took out");
    let users = by_name(&bed).await;
    assert_eq!(users.keys().cloned().collect::<Vec<_>>(), vec!["agent00", "agent01", "agent02b", "agent04", "agent05"]);
    assert_eq!(users["agent01"]["RoutingProfileId"], RP_SALES);
    assert_eq!(users["agent01"]["IdentityInfo"]["Email"], "one@example.com");
    assert_eq!(users["agent00"]["Id"], ids["agent00"], "unchanged users keep their ids");
    assert_eq!(users["agent01"]["Id"], ids["agent01"], "changed in place");

    // The same properties again: nothing to do, and no PhoneConfig call (a page's 30,000 ms are 30 s).
    bed.clear_calls().await;
    let again = bed.send(update(&u.physical_id(), second.clone(), second.clone())).await;
    assert_eq!(again.status(), "SUCCESS", "{}", again.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());
    assert_eq!(again.body["Data"], u.body["Data"], "the same state gives the same answer");

    let d = bed.send(delete(&u.physical_id(), second)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty(), "every user of the set is gone");
    assert_eq!(bed.all_users().await.len(), FIXTURE_USERS.len(), "the instance's own agents are untouched");
    let again = bed.send(delete(&u.physical_id(), roster(names(5)))).await;
    assert_eq!(again.status(), "SUCCESS", "a delete never fails because the users are gone");
}

#[tokio::test]
async fn users_the_set_does_not_hold_are_refused_unless_imported_and_then_only_released() {
    let bed = Bed::with_store().await;
    let mut legacy = agent("legacy.agent");
    let refused = bed.send(create(roster(vec![agent("new.one"), legacy.clone(), agent("veteran.agent")]))).await;
    assert_eq!(refused.status(), "FAILED");
    assert!(
        refused.reason().contains("already exist in the instance and are not held by this set: legacy.agent, veteran.agent"),
        "{}",
        refused.reason()
    );
    assert!(refused.reason().contains("nothing was changed"), "{}", refused.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new(), "nothing changed in Connect");
    let d = bed.send(delete(&refused.physical_id(), roster(vec![]))).await;
    assert_eq!(d.status(), "SUCCESS");

    // Taken over with ImportId: the entry's settings applied, the user held, then released (not deleted).
    legacy["ImportId"] = json!(format!("{IID}:{LEGACY_ID}"));
    legacy.as_object_mut().unwrap().remove("Password");
    legacy["IdentityInfo"] = json!({"FirstName": "Lee", "LastName": "Gacy", "Email": "lee.gacy@example.com"});
    let before = bed.user(LEGACY_ID).await.unwrap();
    let props = roster(vec![agent("new.one"), legacy]);
    let c = bed.send(create(props.clone())).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let held = bed.user(LEGACY_ID).await.unwrap();
    assert_eq!(held["Tags"][HOLDER_TAG], holder(LOGICAL));
    assert!(held["Tags"][MARKER_TAG].is_null(), "imported, not created: the set does not own it");
    assert_eq!(held["PhoneConfig"]["AfterContactWorkTimeLimit"], 30, "the set's Defaults applied to it");
    let d = bed.send(delete(&c.physical_id(), props)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    let after = bed.user(LEGACY_ID).await.expect("an imported user is never deleted");
    assert!(after["Tags"][HOLDER_TAG].is_null() && after["Tags"][ENTRY_TAG].is_null(), "released: {after}");
    assert_eq!(after["Tags"]["team"], before["Tags"]["team"]);
    assert!(bed.users().await.is_empty(), "the user the set created is deleted");
}

#[tokio::test]
async fn bad_input_and_impossible_changes_fail_once_before_any_call() {
    let bed = Bed::with_store().await;
    // A set's properties on a single user, a user's on a set, and a bad entry: each one FAILED, no call.
    let single = bed.send(events::create("One", "x", roster(names(1)))).await;
    assert_eq!(single.status(), "FAILED");
    assert!(single.reason().contains("Defaults, Users: a property of Custom::ConnectUserSet"), "{}", single.reason());
    let set_with_user_props = bed.send(create(with(roster(names(1)), "Name", json!("x")))).await;
    assert!(set_with_user_props.reason().contains("Name: is a property of one user"), "{}", set_with_user_props.reason());
    let mut bad = names(2);
    bad[1]["IdentityInfo"]["Email"] = json!("not-an-email");
    let b = bed.send(create(roster(bad))).await;
    assert_eq!(b.status(), "FAILED");
    assert!(b.reason().contains("Users[1].IdentityInfo.Email: must be an email address"), "{}", b.reason());
    assert!(bed.calls().await.is_empty(), "nothing was called: {:?}", bed.calls().await);

    let first = roster(names(3));
    let made = bed.send(create(first.clone())).await;
    assert_eq!(made.status(), "SUCCESS");
    let id = made.physical_id();
    let mut changed = names(3);
    changed[2]["Password"] = json!("An0therPassw0rd");
    changed[0]["RoutingProfileId"] = json!(RP_SALES);
    bed.clear_calls().await;
    let r = bed.send(update(&id, roster(changed.clone()), first.clone())).await;
    assert_eq!(r.status(), "FAILED");
    assert!(r.reason().contains("Users[2] (agent02): Password: cannot be changed"), "{}", r.reason());
    assert!(!r.reason().contains("An0therPassw0rd"));
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new(), "not even the possible change was made");
    // CloudFormation's rollback (properties swapped) succeeds and writes nothing: nothing had changed.
    let back = bed.send(update(&id, first.clone(), roster(changed.clone()))).await;
    assert_eq!(back.status(), "SUCCESS", "{}", back.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());
    // The same change again, by the user: refused again.
    assert_eq!(bed.send(update(&id, roster(changed), first)).await.status(), "FAILED");
}

#[tokio::test]
async fn passwords_come_from_one_secret_mapping_names_to_passwords() {
    let m = moto().await;
    let secrets = secrets_client(&m.endpoint);
    let map = json!({"agents": {"agent00": "Secr3tPassw0rd0", "agent01": "Secr3tPassw0rd1"}});
    secrets.create_secret().name("roster-passwords").secret_string(map.to_string()).send().await.unwrap();
    let bed = Bed::with_store_and(Default::default(), &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &m.endpoint)]).await;
    bed.secret("Secr3tPassw0rd0");
    bed.secret("Secr3tPassw0rd1");
    let users: Vec<Value> = names(2)
        .into_iter()
        .map(|mut u| {
            u.as_object_mut().unwrap().remove("Password");
            u
        })
        .collect();
    let mut props = roster(users.clone());
    props["PasswordSecretId"] = json!("roster-passwords");
    props["PasswordSecretKey"] = json!("agents");
    let c = bed.send(create(props.clone())).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let made = by_name(&bed).await;
    assert_eq!(made["agent00"]["Password"], "Secr3tPassw0rd0");
    assert_eq!(made["agent01"]["Password"], "Secr3tPassw0rd1");

    // An entry the secret has no password for: FAILED before any write, naming it.
    let mut more = users;
    more.push(json!({"Name": "agent02"}));
    let mut props2 = props.clone();
    props2["Users"] = json!(more);
    bed.clear_calls().await;
    let r = bed.send(update(&c.physical_id(), props2, props)).await;
    assert_eq!(r.status(), "FAILED");
    assert!(
        r.reason().contains("Users[2] (agent02): PasswordSecretId: secret roster-passwords has no password for agent02"),
        "{}",
        r.reason()
    );
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());
}

#[tokio::test]
async fn a_password_the_instance_cannot_take_fails_before_any_write() {
    let bed = Bed::with_store().await;
    // CONNECT_MANAGED: an entry without a password (and no PasswordSecretId) is refused, not created half-way.
    let mut users = names(3);
    users[2].as_object_mut().unwrap().remove("Password");
    let r = bed.send(create(roster(users))).await;
    assert_eq!(r.status(), "FAILED");
    assert!(
        r.reason().contains("Users[2] (agent02): Password: required: the instance keeps its users' passwords (CONNECT_MANAGED)"),
        "{}",
        r.reason()
    );
    assert!(!r.reason().contains(PASSWORD), "{}", r.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());
    assert_eq!(counts(&bed.call_log().await).get("DescribeInstance"), Some(&1), "the instance was asked once");

    // SAML: a password is refused for each entry that has one; the entry without one is fine.
    bed.clear_calls().await;
    let mut saml: Vec<Value> = (0..3).map(|i| json!({"Name": format!("sso{i}@example.com"), "Password": PASSWORD})).collect();
    saml[1].as_object_mut().unwrap().remove("Password");
    let props = json!({"InstanceId": SAML_IID, "Defaults": {"RoutingProfileId": SAML_RP, "SecurityProfileIds": [SAML_SP]}, "Users": saml});
    let s = bed.send(create(props.clone())).await;
    assert_eq!(s.status(), "FAILED");
    let reason = s.reason();
    assert!(reason.contains("Users[0] (sso0@example.com): Password: not allowed"), "{reason}");
    assert!(reason.contains("Users[2] (sso2@example.com): Password: not allowed"), "{reason}");
    assert!(!reason.contains("Users[1]"), "{reason}");
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());

    // Without the passwords the same set is created.
    let fixed: Vec<Value> = (0..3).map(|i| json!({"Name": format!("sso{i}@example.com")})).collect();
    let mut ok = props;
    ok["Users"] = json!(fixed);
    let c = bed.send(create(ok)).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    assert_eq!(bed.users().await.len(), 3);
}

/// A roster of `n` told to use 10 requests/s, burst 2, against an emulator that throttles at exactly that.
pub(crate) async fn at_ten_per_second(bed: &Bed, n: usize) -> Value {
    bed.control("POST", "throttle", Some(json!({"operation": "*", "rate": 10.0, "burst": 2}))).await;
    let mut props = roster(names(n));
    props["RequestsPerSecond"] = json!(10);
    props["Burst"] = json!(2);
    props
}

#[tokio::test]
async fn a_long_roster_continues_across_invocations_and_answers_once() {
    let bed = Bed::with_store().await;
    let props = at_ten_per_second(&bed, 50).await;
    // 50 creates at 10/s take 5 s; each invocation may start work for about 1.6 s of its 3 s.
    let a = bed.send_chain(create(props.clone()), Duration::from_secs(3), Duration::from_secs(60)).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(a.puts.len(), 1, "one answer for the whole chain");
    let continued = bed.runtime.invoked();
    assert!(continued.len() >= 2, "continued {} times", continued.len());
    assert_eq!(bed.users().await.len(), 50);
    let log = bed.call_log().await;
    assert_eq!(counts(&log).get("CreateUser"), Some(&50), "each user created once");
    assert!(log.iter().all(|c| c["error"] != "DuplicateResourceException"), "no create was repeated");
    // Unpaced, twelve creates at once against a burst of 2 would be throttled again and again.
    assert!(throttled(&log) <= 2, "throttled {} of {} calls", throttled(&log), log.len());
    for (i, c) in continued.iter().enumerate() {
        assert_eq!(c["CustomResourceContinuation"]["Round"], i + 1);
        assert_eq!(c["ResourceType"], "Custom::ConnectUserSet");
    }

    // The chain's answer is on record (in the state table), beside the set's records of its 50 users ...
    let state = bed.state().await;
    let answers: Vec<&Value> = state.iter().filter(|i| i["pk"]["S"].as_str().is_some_and(|k| k.starts_with("answer#"))).collect();
    assert_eq!(answers.len(), 1, "{state:?}");
    assert_eq!(answers[0]["value"]["S"], "SUCCESS");
    assert_eq!(state.iter().filter(|i| i["sk"]["S"].as_str().is_some_and(|k| k.starts_with("user#"))).count(), 50);
    // ... so the first continuation delivered again after the answer does nothing: no call, no second answer.
    bed.clear_calls().await;
    let result = bed.runtime.invoke(continued[0].clone(), Duration::from_secs(10)).await;
    assert!(matches!(&result, Some(InvocationResult::Response(r)) if r["responses"][0] == "ANSWERED"), "{result:?}");
    let name = a.puts[0].path.rsplit('/').next().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bed.call_log().await, Vec::<Value>::new(), "a duplicate does not act twice");
    assert_eq!(bed.receiver.for_name(&name).len(), 1, "a duplicate does not answer again");

    let d = bed.send_chain(delete(&a.physical_id(), props), Duration::from_secs(3), Duration::from_secs(60)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty());
}

/// Lambda can report an asynchronous Invoke as failed although it queued it: the chain answers FAILED, and the
/// continuations that were queued anyway must neither act nor answer SUCCESS after it.
#[tokio::test]
async fn a_continuation_queued_although_invoke_failed_does_not_contradict_the_failed_answer() {
    let bed = Bed::with_store().await;
    // 150 creates at 10/s take 15 s: more than a 10 s invocation, which then tries to continue.
    let props = at_ten_per_second(&bed, 150).await;
    bed.runtime.invoke_lies(Some(503));
    let mut event = create(props);
    let (url, name) = bed.url();
    set_url(&mut event, &url);
    let result = bed.runtime.invoke(event, Duration::from_secs(10)).await;
    assert!(result.is_some());
    let puts = bed.receiver.wait_for(&name, 1, Duration::from_secs(10)).await;
    assert_eq!(puts.len(), 1);
    let first = puts[0].json();
    assert_eq!(first["Status"], "FAILED");
    assert!(first["Reason"].as_str().unwrap_or_default().contains("could not hand the rest"), "{first}");
    let queued = bed.runtime.invoked();
    assert!(queued.len() >= 2, "each attempt was queued: {}", queued.len());

    // Lambda now runs what it queued, later, as it may.
    bed.runtime.invoke_lies(None);
    bed.clear_calls().await;
    for copy in queued {
        let r = bed.runtime.invoke(copy, Duration::from_secs(5)).await;
        assert!(matches!(&r, Some(InvocationResult::Response(v)) if v["responses"][0] == "ANSWERED"), "{r:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bed.call_log().await, Vec::<Value>::new(), "no copy worked on after the FAILED answer");
    assert_eq!(bed.receiver.for_name(&name).len(), 1, "and none answered again");
}

/// Two copies of one continuation at work at once: the one that finishes second finds the first one's answer on
/// record and stays silent.
#[tokio::test]
async fn a_copy_that_finishes_after_another_answered_stays_silent() {
    let bed = Bed::with_store().await;
    let props = at_ten_per_second(&bed, 30).await;
    let mut event = create(props);
    let (url, name) = bed.url();
    set_url(&mut event, &url);
    let now = lambda_harness::now_ms();
    event["CustomResourceContinuation"] = json!({"Round": 1, "StartedMs": now, "GiveUpAtMs": now + 120_000});
    let pending = bed.runtime.enqueue(event.clone(), lambda_harness::Deadline::After(Duration::from_secs(20)));
    // Once it works on Connect (past its first look at the record), the other copy answers.
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    while bed.call_log().await.is_empty() && tokio::time::Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let key = connect_user_resource::cfn::ledger::key(
        event["StackId"].as_str().unwrap(),
        event["LogicalResourceId"].as_str().unwrap(),
        event["RequestId"].as_str().unwrap(),
    );
    ledger(&bed).claim(&key, "FAILED", lambda_harness::now_ms()).await.unwrap();
    let result = tokio::time::timeout(Duration::from_secs(25), pending).await.ok().and_then(Result::ok);
    assert!(matches!(&result, Some(InvocationResult::Response(v)) if v["responses"][0] == "ANSWERED"), "{result:?}");
    assert_eq!(bed.users().await.len(), 30, "it did its work");
    assert!(bed.receiver.for_name(&name).is_empty(), "but did not answer over the recorded FAILED");
}

#[tokio::test]
async fn under_connects_throttle_the_set_paces_itself_instead_of_being_throttled() {
    let bed = Bed::with_store().await;
    bed.control("POST", "throttle", Some(json!({"operation": "*", "rate": 2.0, "burst": 5}))).await;
    let a = bed.send_chain(create(roster(names(14))), Duration::from_secs(30), Duration::from_secs(60)).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(bed.users().await.len(), 14);
    let log = bed.call_log().await;
    // Unpaced, twelve creates at once against a burst of 5 would be throttled at least seven times at once; one
    // is allowed for a scheduling hiccup of a loaded machine.
    assert!(throttled(&log) <= 1, "paced under 2 requests/s, burst 5: {} throttled, {:?}", throttled(&log), counts(&log));
}

#[tokio::test]
async fn a_fault_in_the_middle_fails_and_the_rollback_puts_the_old_roster_back() {
    let bed = Bed::with_store().await;
    let old = roster(names(6));
    let made = bed.send(create(old.clone())).await;
    assert_eq!(made.status(), "SUCCESS");
    let id = made.physical_id();
    let before: BTreeMap<String, Value> = by_name(&bed).await.into_iter().map(|(k, v)| (k, comparable(&v))).collect();
    let ids_before: BTreeMap<String, Value> = by_name(&bed).await.into_iter().map(|(k, v)| (k, v["Id"].clone())).collect();

    let mut new = names(6);
    for u in new.iter_mut().take(3) {
        u["RoutingProfileId"] = json!(RP_SALES);
        u["Tags"] = json!({"team": "sales"});
    }
    new.remove(5);
    new.push(agent("agent06"));
    new.push(agent("agent07"));
    let new = roster(new);
    bed.fault("CreateUser", 1, "InvalidRequestException").await;
    let failed = bed.send(update(&id, new.clone(), old.clone())).await;
    assert_eq!(failed.status(), "FAILED");
    assert!(failed.reason().contains("CreateUser failed: InvalidRequestException"), "{}", failed.reason());
    assert!(failed.reason().contains("rollback"), "{}", failed.reason());
    assert_eq!(failed.physical_id(), id, "a failed Update keeps the id CloudFormation holds");

    // CloudFormation's rollback: an Update back to the old properties.
    let back = bed.send(update(&id, old.clone(), new)).await;
    assert_eq!(back.status(), "SUCCESS", "{}", back.reason());
    let after: BTreeMap<String, Value> = by_name(&bed).await.into_iter().map(|(k, v)| (k, comparable(&v))).collect();
    assert_eq!(after, before, "Connect is back to the old roster");
    // Ids too: the users the failed Update changed in place are the same users, and the one it took out was
    // kept (the failed Update answered no new id), so the rollback finds it where it was.
    let ids_now: BTreeMap<String, Value> = by_name(&bed).await.into_iter().map(|(k, v)| (k, v["Id"].clone())).collect();
    assert_eq!(ids_now, ids_before, "every user keeps its id");
    assert_eq!(back.physical_id(), id, "the rollback keeps the id: no cleanup Delete follows, so it deleted what the failed Update made");
    let d = bed.send(delete(&id, old)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty());
}

/// A template as JSON, its intrinsic functions as `{"Ref": ...}` objects (cfn-lint's own reader).
pub fn template_json(path: &std::path::Path) -> Value {
    let out = std::process::Command::new(venv_bin("python"))
        .args([
            "-c",
            "import json, sys; from cfnlint.decode import decode_str; t, m = decode_str(open(sys.argv[1]).read()); print(json.dumps(t))",
        ])
        .arg(path)
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Resolves `{"Ref": parameter}` from `params`.
/// A template's `Ref` and string `Fn::Sub` of parameters, as CloudFormation resolves them.
pub fn resolve(v: &Value, params: &BTreeMap<&str, &str>) -> Value {
    match v {
        Value::Object(o) if o.len() == 1 && o.get("Fn::Sub").is_some_and(Value::is_string) => {
            let mut text = o["Fn::Sub"].as_str().unwrap().to_string();
            for (k, val) in params {
                text = text.replace(&format!("${{{k}}}"), val);
            }
            assert!(!text.contains("${"), "no value for a parameter of {text}");
            json!(text)
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Ref") => {
            let name = o["Ref"].as_str().unwrap();
            json!(params.get(name).unwrap_or_else(|| panic!("no value for parameter {name}")))
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), resolve(x, params))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve(x, params)).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn the_roster_example_deploys_as_written() {
    let m = moto().await;
    let secrets = secrets_client(&m.endpoint);
    let map = json!({"agents": {"ana.silva": "Secr3tPassw0rdA", "ben.okafor": "Secr3tPassw0rdB", "chen.wei": "Secr3tPassw0rdC"}});
    let arn = secrets.create_secret().name("example-roster").secret_string(map.to_string()).send().await.unwrap().arn.unwrap();
    let bed = Bed::with_store_and(Default::default(), &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &m.endpoint)]).await;
    for p in ["Secr3tPassw0rdA", "Secr3tPassw0rdB", "Secr3tPassw0rdC"] {
        bed.secret(p);
    }
    let template = template_json(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/roster.yaml"));
    let resource = &template["Resources"]["Agents"];
    assert_eq!(resource["Type"], "Custom::ConnectUserSet");
    let params = BTreeMap::from([
        ("InstanceId", IID),
        ("BasicRoutingProfileId", RP_BASIC),
        ("SalesRoutingProfileId", RP_SALES),
        ("AgentSecurityProfileId", SP_AGENT),
        ("PasswordSecretArn", arn.as_str()),
    ]);
    let mut props = resource["Properties"].clone();
    props.as_object_mut().unwrap().remove("ServiceToken");
    let props = resolve(&props, &params);
    let a = bed.send(create(props)).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let users = by_name(&bed).await;
    assert_eq!(users.keys().cloned().collect::<Vec<_>>(), vec!["ana.silva", "ben.okafor", "chen.wei"]);
    assert_eq!(users["chen.wei"]["RoutingProfileId"], RP_SALES);
    assert_eq!(users["chen.wei"]["Tags"]["team"], "sales");
    assert_eq!(users["ana.silva"]["Tags"]["team"], "support");
    assert_eq!(users["ben.okafor"]["Password"], "Secr3tPassw0rdB");
    assert_eq!(users["ana.silva"]["PhoneConfig"]["AfterContactWorkTimeLimit"], 30);
}

#[tokio::test]
async fn a_roster_that_cannot_finish_before_service_timeout_answers_failed_in_time_and_its_rollback_cleans_up() {
    let bed = Bed::with_store().await;
    let mut props = at_ten_per_second(&bed, 60).await;
    props["ServiceTimeout"] = json!("4");
    let sent = lambda_harness::now_ms();
    let a = bed.send_chain(create(props.clone()), Duration::from_secs(30), Duration::from_secs(20)).await;
    assert_eq!(a.status(), "FAILED");
    assert_eq!(a.puts.len(), 1);
    assert!(a.puts[0].received_ms < sent + 4_000, "answered {} ms after the event, within ServiceTimeout", a.puts[0].received_ms - sent);
    assert!(a.reason().contains("ServiceTimeout") && a.reason().contains("users done"), "says how far it got: {}", a.reason());
    assert_eq!(a.physical_id(), set_id(), "reports the set, so that the rollback's Delete finds what it made");
    let made = bed.users().await.len();
    assert!(made > 0 && made < 60, "{made} users made before it gave up");
    // The rollback's Delete, given CloudFormation's default wait (4 s leave 2 s of work, less than the reads
    // that confirm each delete need at 10 requests/s).
    props.as_object_mut().unwrap().remove("ServiceTimeout");
    let d = bed.send(delete(&a.physical_id(), props)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty());
}

/// CloudFormation's clock, not the function's: events that waited in Lambda's queue (reserved concurrency)
/// count their time from when CloudFormation signed the ResponseURL (X-Amz-Date).
#[tokio::test]
async fn a_queued_event_counts_from_cloudformations_clock_and_writes_nothing_after_it_gives_up() {
    let bed = Bed::with_store().await;
    // A user's event that waited two hours: CloudFormation gave up on it long ago. No call at all.
    let (url, name) = bed.url_signed_at(lambda_harness::now_ms() - 7_200_000);
    let mut late = events::create("Agent", "x", soft_phone("late.agent"));
    late["ResponseURL"] = json!(url);
    bed.runtime.invoke(late, Duration::from_secs(10)).await;
    let puts = bed.receiver.wait_for(&name, 1, Duration::from_secs(5)).await;
    assert_eq!(puts.len(), 1, "answered once all the same");
    assert_eq!(puts[0].json()["Status"], "FAILED");
    let reason = puts[0].json()["Reason"].as_str().unwrap_or("").to_string();
    // X-Amz-Date has whole seconds: the event is seen as 7,200 s old, or a second more.
    let waited: u64 = reason.strip_prefix("this event waited ").and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(
        (7_200..=7_202).contains(&waited) && reason.contains(" s in Lambda's queue") && reason.contains("nothing was changed"),
        "{reason}"
    );
    assert_eq!(bed.call_log().await, Vec::<Value>::new(), "no Connect call for an event CloudFormation gave up on");

    // A roster whose event waited 46 of its ServiceTimeout's 60 s (54 less the tenth kept back): 150 creates at
    // 10/s need 15 s, and the chain has about 8. It gives up in CloudFormation's time, not an hour from now.
    let mut props = at_ten_per_second(&bed, 150).await;
    props["ServiceTimeout"] = json!("60");
    let signed = lambda_harness::now_ms() - 46_000;
    let a = bed.send_chain_signed_at(create(props.clone()), Duration::from_secs(3), Duration::from_secs(30), signed).await;
    assert_eq!(a.status(), "FAILED", "{}", a.reason());
    assert_eq!(a.puts.len(), 1);
    assert!(
        a.puts[0].received_ms < signed + 60_000,
        "answered {} s after CloudFormation sent the event, within its ServiceTimeout",
        (a.puts[0].received_ms - signed) / 1000
    );
    assert!(
        a.reason().contains("gave up after") && a.reason().contains("users done") && a.reason().contains("RequestsPerSecond"),
        "{}",
        a.reason()
    );
    let made = bed.users().await.len();
    assert!(made > 0 && made < 150, "{made} users made before it gave up");
    // Nothing is written after the answer: the chain's continuations stop at the same give-up time.
    let writes_then = writes(&bed.call_log().await).len();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(writes(&bed.call_log().await).len(), writes_then, "no write after the chain answered");
    assert_eq!(bed.users().await.len(), made);
    // Each continuation carried CloudFormation's start, not the first invocation's.
    for c in bed.runtime.invoked() {
        assert_eq!(c["CustomResourceContinuation"]["StartedMs"], json!(signed / 1000 * 1000), "{c}");
    }
}

/// Lambda delivers CloudFormation's own event twice: the second copy finds the answer on record and neither
/// works nor answers again (not only continuations are copied).
#[tokio::test]
async fn cloudformations_event_delivered_twice_is_worked_on_and_answered_once() {
    let bed = Bed::with_store().await;
    let mut event = create(roster(names(3)));
    let (url, name) = bed.url();
    set_url(&mut event, &url);
    let first = bed.runtime.invoke(event.clone(), Duration::from_secs(30)).await;
    assert!(matches!(&first, Some(InvocationResult::Response(r)) if r["responses"][0] == "SUCCESS"), "{first:?}");
    bed.clear_calls().await;
    let second = bed.runtime.invoke(event, Duration::from_secs(30)).await;
    assert!(matches!(&second, Some(InvocationResult::Response(r)) if r["responses"][0] == "ANSWERED"), "{second:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(bed.call_log().await, Vec::<Value>::new(), "the copy made no call");
    assert_eq!(bed.receiver.for_name(&name).len(), 1, "and sent no second answer");
}

/// The records of users taken out of the roster and waiting for the stack to commit.
fn leaving(state: &[Value]) -> usize {
    state.iter().filter(|i| i["sk"]["S"].as_str().is_some_and(|k| k.starts_with("user#")) && i["leaving"].is_object()).count()
}

#[tokio::test]
async fn an_update_that_would_take_out_more_than_max_deletions_is_refused_before_any_write() {
    let bed = Bed::with_store().await;
    let first = roster(names(30));
    let a = bed.send(create(first.clone())).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());

    // A truncated roster: 15 of the 30 gone is more than the default (a tenth, at least 10).
    let truncated = roster(names(15));
    bed.clear_calls().await;
    let r = bed.send(update(&a.physical_id(), truncated.clone(), first.clone())).await;
    assert_eq!(r.status(), "FAILED");
    assert!(r.reason().contains("would take 15 of the set's 30 users out of the roster"), "{}", r.reason());
    assert!(r.reason().contains("(10)") && r.reason().contains("set MaxDeletions to 15 or more"), "{}", r.reason());
    assert!(r.reason().ends_with("nothing was changed"), "{}", r.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());
    assert_eq!(leaving(&bed.state().await), 0, "nobody recorded as taken out");
    // No entry at all is refused even under the default limit, unless MaxDeletions says so.
    let r = bed.send(update(&a.physical_id(), roster(vec![]), first.clone())).await;
    assert!(r.reason().contains("the roster has no entry, so this Update would take all 30 users"), "{}", r.reason());
    let bad = bed.send(update(&a.physical_id(), with(truncated.clone(), "MaxDeletions", json!("-2")), first.clone())).await;
    assert!(bad.reason().contains("MaxDeletions: must be a whole number of users, 0 or more, or -1 for no limit"), "{}", bad.reason());

    // Allowed when the template says so.
    let allowed = with(truncated, "MaxDeletions", json!("15"));
    let u = bed.send(update(&a.physical_id(), allowed.clone(), first.clone())).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(leaving(&bed.state().await), 15);

    // CloudFormation's rollback of an Update that added users takes them out again: never refused.
    let grown = roster(names(45));
    let g = bed.send(update(&u.physical_id(), grown.clone(), allowed)).await;
    assert_eq!(g.status(), "SUCCESS", "{}", g.reason());
    let not_a_rollback = bed.send(update(&g.physical_id(), first.clone(), grown.clone())).await;
    assert_eq!(not_a_rollback.status(), "FAILED", "an Update by hand back to 30 takes 15 out");
    bed.runtime.stack_status(Some("UPDATE_ROLLBACK_IN_PROGRESS"));
    let back = bed.send(update(&g.physical_id(), first, grown)).await;
    assert_eq!(back.status(), "SUCCESS", "{}", back.reason());
}

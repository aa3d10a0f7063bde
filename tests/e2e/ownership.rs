//! Whom a stack may touch: only what its own resources hold. A stack deleted with its resources retained and
//! created again under the same name is another stack (its StackId has a new GUID); users an earlier version
//! tagged without the stack's identity keep working for the set that made them and for nobody else.

use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const LOGICAL: &str = "Roster";
const MARKER_TAG: &str = "connect-user-resource:request";
/// The same stack name as `events::STACK_ID`, with the GUID of a stack created again after that one was deleted.
const AGAIN: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/connect-users/9e8d7c6b-2222-11ef-8a4b-0f1e2d3c4b5a";

fn agent(name: &str) -> Value {
    json!({"Name": name, "Password": PASSWORD, "IdentityInfo": {"FirstName": name, "LastName": "Agent"}})
}

fn roster(users: Vec<Value>) -> Value {
    json!({"InstanceId": IID, "Defaults": {"RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT]}, "Users": users})
}

fn names(n: usize) -> Vec<Value> {
    (0..n).map(|i| agent(&format!("agent{i:02}"))).collect()
}

/// An event of the stack created again under the same name.
fn again(mut e: Value) -> Value {
    e["StackId"] = json!(AGAIN);
    e
}

async fn by_name(bed: &Bed) -> BTreeMap<String, Value> {
    bed.users().await.into_iter().map(|u| (u["Username"].as_str().unwrap_or("").to_string(), settings_of(&u))).collect()
}

#[tokio::test]
async fn a_stack_created_again_under_the_same_name_never_touches_the_first_ones_users() {
    let bed = Bed::with_store().await;
    let first = roster(names(3));
    let a = bed.send(events::for_set(events::create(LOGICAL, "x", first.clone()))).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert!(
        a.physical_id().starts_with(&format!("{IID}:set:connect-users/{STACK_GUID}/{LOGICAL}#")),
        "the set's id names the stack's identity (then its roster's digest): {}",
        a.physical_id()
    );
    let old = by_name(&bed).await;
    assert_eq!(old.len(), 3);

    // The stack is deleted with the set retained (no Delete reaches the function), and created again.
    bed.clear_calls().await;
    let refused = bed.send(again(events::for_set(events::create(LOGICAL, "x", roster(names(4)))))).await;
    assert_eq!(refused.status(), "FAILED");
    assert!(
        refused.reason().contains("already exist in the instance and are not held by this set: agent00, agent01, agent02"),
        "{}",
        refused.reason()
    );
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new(), "nothing changed in Connect");

    // Taking one over is refused as well: the first stack's resource holds it.
    let mut import = agent("agent01");
    import["ImportId"] = json!(format!("{IID}:{}", old["agent01"]["Id"].as_str().unwrap()));
    import.as_object_mut().unwrap().remove("Password");
    let taken = bed.send(again(events::for_set(events::create(LOGICAL, "x", roster(vec![import.clone()]))))).await;
    assert_eq!(taken.status(), "FAILED");
    assert!(taken.reason().contains(&format!("held by resource {LOGICAL} of stack connect-users ({STACK_GUID})")), "{}", taken.reason());
    assert!(
        taken.reason().contains("A holder whose stack CloudFormation says is deleted does not block a take-over"),
        "says what to do: {}",
        taken.reason()
    );
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new(), "nothing changed in Connect");

    // A roster of new names is created beside them; its Delete deletes its own users only.
    let fresh = roster(vec![agent("fresh01")]);
    let c = bed.send(again(events::for_set(events::create(LOGICAL, "x", fresh.clone())))).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    assert!(c.physical_id().starts_with(&format!("{IID}:set:connect-users/9e8d7c6b-2222-11ef-8a4b-0f1e2d3c4b5a/{LOGICAL}#")));
    assert_eq!(c.body["Data"]["Total"], "1");
    let d = bed.send(again(events::for_set(events::delete(LOGICAL, "x", &c.physical_id(), fresh)))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert_eq!(by_name(&bed).await, old, "the first stack's users are as they were, ids and tags included");

    // Once CloudFormation says the first stack is gone (DELETE_COMPLETE), its hold is stale: the set's take-over
    // goes ahead and replaces it (issue 26).
    bed.runtime
        .other_stack(&format!("arn:aws:cloudformation:us-east-1:123456789012:stack/connect-users/{STACK_GUID}"), Some("DELETE_COMPLETE"));
    bed.clear_calls().await;
    let stale = bed.send(again(events::for_set(events::create(LOGICAL, "x", roster(vec![import]))))).await;
    assert_eq!(stale.status(), "SUCCESS", "{}", stale.reason());
    assert_eq!(writes(&bed.call_log().await), vec!["TagResource"], "the hold replaced, nothing else");
}

#[tokio::test]
async fn a_single_users_stack_created_again_cannot_take_the_first_ones_user() {
    let bed = Bed::with_store().await;
    let created = bed.create("Agent", soft_phone("solo.agent")).await;
    assert_eq!(created.status(), "SUCCESS", "{}", created.reason());
    let before = bed.user(&created.user_id()).await.unwrap();
    assert_eq!(before["Tags"][HOLDER_TAG], holder("Agent"));

    bed.clear_calls().await;
    let mut props = soft_phone("solo.agent");
    props.as_object_mut().unwrap().remove("Password");
    props["ImportId"] = json!(created.physical_id());
    let taken = bed.send(again(events::create("Agent", "x", props))).await;
    assert_eq!(taken.status(), "FAILED");
    assert!(taken.reason().contains("already held by resource Agent of stack connect-users"), "{}", taken.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());
    // Nor can a plain Create of the same name adopt it: its request marker is the first stack's.
    let adopt = bed.send(again(events::create("Agent", "x", soft_phone("solo.agent")))).await;
    assert_eq!(adopt.status(), "FAILED");
    assert!(adopt.reason().starts_with("Name: a user named solo.agent already exists"), "{}", adopt.reason());
    assert_eq!(settings_of(&bed.user(&created.user_id()).await.unwrap()), settings_of(&before));
}

/// Users tagged by a version before the stack's identity was recorded: `<stack name>/<logical id>`.
async fn tag_as_earlier_version(bed: &Bed, holder_value: &str) {
    for u in bed.users().await {
        bed.connect.tag_resource().resource_arn(u["Arn"].as_str().unwrap()).tags(HOLDER_TAG, holder_value).send().await.expect("tag");
    }
}

#[tokio::test]
async fn a_set_an_earlier_version_created_keeps_its_users_and_a_new_stack_of_its_name_does_not_see_them() {
    let bed = Bed::with_store().await;
    let first = roster(names(3));
    let a = bed.send(events::for_set(events::create(LOGICAL, "x", first.clone()))).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let legacy_holder = format!("{STACK_NAME}/{LOGICAL}");
    tag_as_earlier_version(&bed, &legacy_holder).await;
    let legacy_id = format!("{IID}:set:{legacy_holder}");
    let ids: BTreeMap<String, String> = by_name(&bed).await.into_iter().map(|(n, u)| (n, u["Id"].as_str().unwrap().to_string())).collect();

    // Another stack of the same name does not see them.
    let refused = bed.send(again(events::for_set(events::create(LOGICAL, "x", roster(names(1)))))).await;
    assert_eq!(refused.status(), "FAILED");
    assert!(refused.reason().contains("not held by this set: agent00"), "{}", refused.reason());

    // The set itself (its physical id is what the earlier version answered) still holds them: an Update changes
    // one in place and adds one, keeping the earlier holder; its id gains the roster's digest.
    let mut second = names(4);
    second[1]["IdentityInfo"]["LastName"] = json!("Changed");
    let second = roster(second);
    bed.clear_calls().await;
    let u = bed.send(events::for_set(events::update(LOGICAL, "x", &legacy_id, second.clone(), first.clone()))).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert!(u.physical_id().starts_with(&format!("{legacy_id}#")), "{}", u.physical_id());
    let mut w = writes(&bed.call_log().await);
    w.sort();
    assert_eq!(w, vec!["CreateUser", "UpdateUserIdentityInfo"]);
    // CloudFormation's cleanup Delete of the earlier id: the Update took nobody out, so it deletes nobody.
    bed.clear_calls().await;
    let c = bed.send(events::for_set(events::delete(LOGICAL, "x", &legacy_id, first))).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());
    let now = by_name(&bed).await;
    assert_eq!(now["agent01"]["IdentityInfo"]["LastName"], "Changed");
    for (name, id) in &ids {
        assert_eq!(now[name]["Id"], json!(id), "{name} keeps its id");
    }
    assert_eq!(now["agent03"]["Tags"][HOLDER_TAG], json!(legacy_holder), "the set keeps one holder for all its users");

    // Its Delete deletes the users it created.
    let d = bed.send(events::for_set(events::delete(LOGICAL, "x", &u.physical_id(), second))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty(), "{:?}", bed.users().await);
}

#[tokio::test]
async fn a_user_an_earlier_version_imported_is_released_by_its_resource() {
    let bed = Bed::with_store().await;
    let props = crate::import::legacy();
    let c = bed.create("Agent", props.clone()).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let arn = bed.user(LEGACY_ID).await.unwrap()["Arn"].as_str().unwrap().to_string();
    bed.connect.tag_resource().resource_arn(&arn).tags(HOLDER_TAG, format!("{STACK_NAME}/Agent")).send().await.unwrap();
    let d = bed.delete("Agent", &c.physical_id(), props).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    let after = bed.user(LEGACY_ID).await.expect("never deleted");
    assert!(after["Tags"][HOLDER_TAG].is_null() && after["Tags"][MARKER_TAG].is_null(), "released: {after}");
}

/// One wrong `ImportId` among many changes refuses the Update before any write, and every wrong one is named.
/// A refusal is never taken for work left for later, whatever the names in it say.
#[tokio::test]
async fn wrong_imports_among_many_changes_refuse_the_update_before_any_write() {
    let bed = Bed::with_store().await;
    let first = roster(names(3));
    let a = bed.send(events::for_set(events::create(LOGICAL, "x", first.clone()))).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let before = by_name(&bed).await;

    let mut second = names(5);
    second.remove(0);
    second[0]["IdentityInfo"]["LastName"] = json!("Changed");
    let typo = "0f6a2c1e-5d3b-4a7e-9c10-2b8d4e6f1a0f";
    second.push(json!({"Name": "legacy.agent", "ImportId": format!("{IID}:{typo}")}));
    second.push(json!({"Name": "Deferred.agent", "ImportId": format!("{IID}:{VETERAN_ID}")}));
    bed.clear_calls().await;
    let u = bed.send(events::for_set(events::update(LOGICAL, "x", &a.physical_id(), roster(second), first))).await;
    assert_eq!(u.status(), "FAILED", "{}", u.reason());
    assert_eq!(u.puts.len(), 1);
    assert!(u.reason().contains(&format!("(legacy.agent): ImportId: there is no user {typo}")), "{}", u.reason());
    assert!(u.reason().contains("(Deferred.agent): Name: the user that ImportId"), "{}", u.reason());
    assert!(u.reason().ends_with("nothing was changed"), "{}", u.reason());
    assert!(bed.runtime.invoked().is_empty(), "a refusal is not work left for later");
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new(), "no create, delete or change before the refusal");
    assert_eq!(by_name(&bed).await, before);
}

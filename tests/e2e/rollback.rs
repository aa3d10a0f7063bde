//! Nothing lost on rollback: the users a set's Update takes out of its roster stay in Connect, untouched, until
//! CloudFormation's cleanup Delete of the id that Update replaced (the stack committed); a rollback finds them
//! where they were, ids included, and its own cleanup Delete removes only what the rolled-back Update created.
//! Each test follows CloudFormation's event sequence through the binary, the Update spread over invocations.

use crate::roster::{agent, at_ten_per_second, by_name, comparable, create, names};
use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const LOGICAL: &str = "Roster";
const PER_INVOCATION: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(90);

fn update(id: &str, props: Value, old: Value) -> Value {
    events::for_set(events::update(LOGICAL, "x", id, props, old))
}

fn delete(id: &str, props: Value) -> Value {
    events::for_set(events::delete(LOGICAL, "x", id, props))
}

/// 30 users at 10 requests/s; the next roster removes five (agent25..29), renames two (agent03 and agent04 to
/// agent03b and agent04b), changes agent01 and adds fifteen (agent30..44): 17 creates, more than one 3 s
/// invocation starts.
async fn rosters(bed: &Bed) -> (Value, Value) {
    let old = at_ten_per_second(bed, 30).await;
    let mut users = names(30);
    users.truncate(25);
    users[1]["RoutingProfileId"] = json!(RP_SALES);
    users[1]["Tags"] = json!({"team": "sales"});
    users[3]["Name"] = json!("agent03b");
    users[4]["Name"] = json!("agent04b");
    users.extend((30..45).map(|i| agent(&format!("agent{i:02}"))));
    let mut new = old.clone();
    new["Users"] = Value::Array(users);
    (old, new)
}

const TAKEN_OUT: [&str; 7] = ["agent03", "agent04", "agent25", "agent26", "agent27", "agent28", "agent29"];

/// Every user as Connect has it, by name.
async fn snapshot(bed: &Bed) -> BTreeMap<String, Value> {
    by_name(bed).await.into_iter().map(|(k, v)| (k, settings_of(&v))).collect()
}

fn wanted_names(props: &Value) -> Vec<String> {
    let mut n: Vec<String> = props["Users"].as_array().unwrap().iter().map(|u| u["Name"].as_str().unwrap().to_string()).collect();
    n.sort();
    n
}

/// A bed with the old roster created: the bed, both rosters, the set's id and its users as they are.
async fn created() -> (Bed, Value, Value, String, BTreeMap<String, Value>) {
    let bed = Bed::with_store().await;
    let (old, new) = rosters(&bed).await;
    let a = bed.send_chain(create(old.clone()), PER_INVOCATION, WAIT).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let before = snapshot(&bed).await;
    assert_eq!(before.len(), 30);
    (bed, old, new, a.physical_id(), before)
}

#[tokio::test]
async fn an_update_keeps_the_users_it_takes_out_until_the_cleanup_delete_of_the_id_it_replaced() {
    let (bed, old, new, x, before) = created().await;

    bed.clear_calls().await;
    let invoked = bed.runtime.invoked().len();
    let u = bed.send_chain(update(&x, new.clone(), old.clone()), PER_INVOCATION, WAIT).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(u.puts.len(), 1);
    assert!(bed.runtime.invoked().len() > invoked, "the Update continued in another invocation");
    let y = u.physical_id();
    assert_ne!(y, x, "a new id: CloudFormation deletes the old one only once the whole stack update succeeded");
    assert_eq!(u.body["Data"]["Total"], "40");
    let during = bed.call_log().await;
    assert_eq!(crate::roster::counts(&during).get("DeleteUser"), None, "nobody is deleted before the stack commits");
    assert_eq!(crate::roster::counts(&during).get("CreateUser"), Some(&17));
    let now = snapshot(&bed).await;
    for name in TAKEN_OUT {
        assert_eq!(now[name], before[name], "{name}, taken out of the roster, is exactly as it was");
    }
    let ids: BTreeMap<String, String> = serde_json::from_str(u.body["Data"]["UserIds"].as_str().unwrap()).unwrap();
    assert!(TAKEN_OUT.iter().all(|n| !ids.contains_key(*n)), "the answer's UserIds are the new roster's");

    // The stack update succeeded: CloudFormation's cleanup deletes the old id, with the old properties.
    bed.clear_calls().await;
    let c = bed.send_chain(delete(&x, old.clone()), PER_INVOCATION, WAIT).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    assert_eq!(crate::roster::counts(&bed.call_log().await).get("DeleteUser"), Some(&7), "exactly the users taken out");
    let after = snapshot(&bed).await;
    assert_eq!(after.keys().cloned().collect::<Vec<_>>(), wanted_names(&new));
    for (name, u) in &after {
        if let Some(b) = before.get(name) {
            assert_eq!(u["Id"], b["Id"], "{name} keeps its id");
        }
    }
    assert_eq!(after["agent01"]["RoutingProfileId"], RP_SALES);
    // A cleanup delivered again deletes nothing more.
    let again = bed.send(delete(&x, old)).await;
    assert_eq!(again.status(), "SUCCESS", "{}", again.reason());
    assert_eq!(snapshot(&bed).await.len(), 40);

    // The stack's own Delete, of the id it holds: everything goes.
    let d = bed.send_chain(delete(&y, new), PER_INVOCATION, WAIT).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty());
}

#[tokio::test]
async fn a_rolled_back_update_puts_every_user_back_with_its_id_and_its_cleanup_removes_only_what_it_created() {
    let (bed, old, new, x, before) = created().await;
    let comparable_before: BTreeMap<String, Value> = by_name(&bed).await.into_iter().map(|(k, v)| (k, comparable(&v))).collect();

    let invoked = bed.runtime.invoked().len();
    let u = bed.send_chain(update(&x, new.clone(), old.clone()), PER_INVOCATION, WAIT).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert!(bed.runtime.invoked().len() > invoked, "the Update continued in another invocation");
    let y = u.physical_id();

    // A later resource of the stack failed: CloudFormation's rollback Update (properties swapped) goes to the new
    // id, answers the old one, and then its cleanup deletes the new id with the new properties.
    bed.runtime.stack_status(Some("UPDATE_ROLLBACK_IN_PROGRESS"));
    let back = bed.send_chain(update(&y, old.clone(), new.clone()), PER_INVOCATION, WAIT).await;
    assert_eq!(back.status(), "SUCCESS", "{}", back.reason());
    assert_eq!(back.physical_id(), x, "the rollback answers the id CloudFormation had before");
    let c = bed.send_chain(delete(&y, new.clone()), PER_INVOCATION, WAIT).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());

    let after = snapshot(&bed).await;
    assert_eq!(after.keys().cloned().collect::<Vec<_>>(), wanted_names(&old), "the created users are gone, the old roster is whole");
    for (name, u) in &after {
        assert_eq!(u["Id"], before[name]["Id"], "{name} keeps its id");
    }
    for name in TAKEN_OUT {
        assert_eq!(after[name], before[name], "{name} was never touched");
    }
    let comparable_after: BTreeMap<String, Value> = by_name(&bed).await.into_iter().map(|(k, v)| (k, comparable(&v))).collect();
    assert_eq!(comparable_after, comparable_before, "every setting as it was (agent01's routing profile and tags too)");

    // The stack lives on with the old id: its Delete removes every user.
    let d = bed.send_chain(delete(&x, old), PER_INVOCATION, WAIT).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty());
}

/// The fixture's legacy.agent taken over by a template that changes every group of its settings.
fn changing_everything(props: Value) -> Value {
    let mut p = props;
    let o = p.as_object_mut().unwrap();
    o.insert("RoutingProfileId".into(), json!(RP_SALES));
    o.insert("SecurityProfileIds".into(), json!([SP_AGENT, SP_QA]));
    o.insert("HierarchyGroupId".into(), json!(HG_NA));
    o.insert(
        "IdentityInfo".into(),
        json!({"FirstName": "Leland", "LastName": "Gacy", "Email": "leland@example.com", "Mobile": "+14155550111"}),
    );
    o.insert(
        "PhoneConfig".into(),
        json!({"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+14155550100", "AutoAccept": "true", "AfterContactWorkTimeLimit": "60"}),
    );
    o.insert("Tags".into(), json!({"team": "sales", "site": "Lisbon"}));
    o.insert("UserProficiencies".into(), json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": "3"}]));
    p
}

/// The agent as Connect has it, every field but the time of its last change.
async fn agent_now(bed: &Bed) -> Value {
    settings_of(&bed.user(LEGACY_ID).await.expect("the agent exists"))
}

/// A single resource takes legacy.agent over, changing every group of its settings; then its Delete comes with
/// the stack in `status` (`None`: DescribeStacks denied). The agent before, after the take-over, and at the end.
async fn take_over_then_delete(status: Option<&str>) -> (Value, Value, Value) {
    let bed = Bed::with_store().await;
    let before = agent_now(&bed).await;
    let props = changing_everything(crate::import::legacy());
    let a = bed.create("Legacy", props.clone()).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let taken = agent_now(&bed).await;
    bed.runtime.stack_status(status);
    let d = bed.delete("Legacy", &a.physical_id(), props).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert_eq!(bed.runtime.described_stacks(), vec![events::STACK_ID.to_string()], "the stack's own status, asked once");
    (before, taken, agent_now(&bed).await)
}

#[tokio::test]
async fn a_take_over_rolled_back_puts_the_agent_back_exactly_and_a_deletion_keeps_its_settings() {
    // CloudFormation rolls the stack back (a later resource failed): the Delete puts every setting back.
    let (before, taken, after) = take_over_then_delete(Some("ROLLBACK_IN_PROGRESS")).await;
    for field in ["RoutingProfileId", "SecurityProfileIds", "HierarchyGroupId", "IdentityInfo", "PhoneConfig", "Tags", "Proficiencies"] {
        assert_ne!(taken[field], before[field], "the take-over changed {field}");
    }
    for (field, was) in before.as_object().unwrap() {
        assert_eq!(&after[field], was, "{field} is as it was before the take-over");
    }
    assert_eq!(after, before);

    // The stack's Delete (not a rollback): the agent keeps the settings the stack gave it; only our tag goes.
    let (_, taken, after) = take_over_then_delete(Some("DELETE_IN_PROGRESS")).await;
    let mut expected = taken.clone();
    expected["Tags"].as_object_mut().unwrap().remove(HOLDER_TAG);
    assert_eq!(after, expected, "settings kept, the resource's tag removed");

    // A role without cloudformation:DescribeStacks: never taken for a rollback; released as it is.
    let (_, _, denied) = take_over_then_delete(None).await;
    assert_eq!(denied, expected);
}

#[tokio::test]
async fn a_sets_take_over_rolled_back_puts_the_agent_back_exactly() {
    let bed = Bed::with_store().await;
    let before = agent_now(&bed).await;
    let mut entry = changing_everything(crate::import::legacy());
    entry.as_object_mut().unwrap().remove("InstanceId");
    let props = json!({"InstanceId": IID, "Users": [entry, agent("made.one")], "Defaults": {"RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT], "PhoneConfig": {"PhoneType": "SOFT_PHONE"}}});
    let a = bed.send(create(props.clone())).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_ne!(agent_now(&bed).await["RoutingProfileId"], before["RoutingProfileId"]);

    // The stack's creation failed later on: its rollback Delete.
    bed.runtime.stack_status(Some("ROLLBACK_IN_PROGRESS"));
    let d = bed.send(events::for_set(events::delete(LOGICAL, "x", &a.physical_id(), props))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert_eq!(agent_now(&bed).await, before, "every setting, its own tags and its proficiencies as they were");
    assert!(bed.users().await.is_empty(), "the user the set created is deleted");
}

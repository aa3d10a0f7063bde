//! `Custom::ConnectUser` against the emulator in-process: each lifecycle decision (create, adopt, refuse,
//! replace, re-create, update in place, reject, import, release, delete) with the calls it makes. The
//! end-to-end tests drive the same through the binary; these are fast enough for `make mutants`.

use super::*;
use crate::cfn::event::{self, Intake};
use crate::connect::emulator_tests::*;
use crate::connect::ownership;
use lambda_harness::events;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn resource(live: &Live) -> ConnectUserResource {
    // Secrets Manager is not reached by these tests: the passwords are inline.
    ConnectUserResource::new(live.connect.clone(), no_secrets())
}

fn ctx(e: Value) -> Ctx {
    match event::parse(e) {
        Intake::Request(r) => Ctx::new(*r, soon()),
        Intake::Malformed { reason, .. } => panic!("test event is malformed: {reason}"),
    }
}

/// `Create` of `props` under the logical id `logical`, as CloudFormation sends it.
async fn create(r: &ConnectUserResource, logical: &str, props: Value) -> Outcome {
    CustomResource::create(r, &ctx(events::create(logical, "https://x", props))).await
}

async fn update(r: &ConnectUserResource, logical: &str, id: &str, props: Value, old: Value) -> Outcome {
    CustomResource::update(r, &ctx(events::update(logical, "https://x", id, props, old))).await
}

async fn delete(r: &ConnectUserResource, logical: &str, id: &str, props: Value) -> Outcome {
    CustomResource::delete(r, &ctx(events::delete(logical, "https://x", id, props))).await
}

fn agent() -> Value {
    json!({
        "InstanceId": IID, "Name": "mod.agent", "Password": PASSWORD, "RoutingProfileId": RP_BASIC,
        "SecurityProfileIds": [SP_AGENT], "IdentityInfo": {"FirstName": "Mo", "LastName": "Dule"},
        "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
        "UserProficiencies": [{"AttributeName": "Language", "AttributeValue": "English", "Level": "2"}]
    })
}

fn with(mut v: Value, key: &str, x: Value) -> Value {
    v[key] = x;
    v
}

#[tokio::test]
async fn create_update_in_place_and_delete() {
    let live = Live::start().await;
    let r = resource(&live);
    let (id, data) = success(create(&r, "Agent", agent()).await);
    let user_id = id.strip_prefix(&format!("{IID}:")).unwrap().to_string();
    assert_eq!(data["UserId"], user_id);
    assert_eq!(data["Name"], "mod.agent");
    assert!(data["Arn"].ends_with(&user_id));
    let stored = live.stored(&user_id).await.unwrap();
    assert_eq!(stored["Password"], PASSWORD);
    assert_eq!(live.read(&user_id).await.settings.proficiencies.map(|p| p.len()), Some(1), "proficiencies follow CreateUser");

    // In place: only what changed, and the answer is the same user.
    clear(&live).await;
    let new = with(agent(), "RoutingProfileId", json!(RP_SALES));
    let (same, _) = success(update(&r, "Agent", &id, new.clone(), agent()).await);
    assert_eq!(same, id);
    assert_eq!(writes(&live).await, ["UpdateUserRoutingProfile"]);
    assert_eq!(live.read(&user_id).await.settings.routing_profile_id, RP_SALES);

    // Nothing changed: no write.
    clear(&live).await;
    success(update(&r, "Agent", &id, new.clone(), new.clone()).await);
    assert_eq!(writes(&live).await, Vec::<String>::new());

    // A call that fails half-way names what was done before it.
    let newer = with(with(new.clone(), "SecurityProfileIds", json!([SP_MANAGER])), "HierarchyGroupId", json!(HG_EMEA));
    live.fault("UpdateUserHierarchy", "AccessDeniedException", 1).await;
    let (why, _) = failure(update(&r, "Agent", &id, newer, new.clone()).await);
    assert!(why.contains("UpdateUserHierarchy failed: AccessDeniedException"), "{why}");
    assert!(why.contains("changes made before it: [UpdateUserSecurityProfiles]"), "{why}");

    // Delete, and a Delete of what is already gone.
    let (gone, _) = success(delete(&r, "Agent", &id, new.clone()).await);
    assert_eq!(gone, id);
    assert!(live.stored(&user_id).await.is_none());
    clear(&live).await;
    success(delete(&r, "Agent", &id, new).await);
    assert_eq!(live.calls().await.iter().map(|(op, s)| (op.as_str(), *s)).collect::<Vec<_>>(), [("DeleteUser", 404)]);
}

#[tokio::test]
async fn a_delete_that_fails_otherwise_is_failed_and_the_user_stays() {
    let live = Live::start().await;
    let r = resource(&live);
    let (id, data) = success(create(&r, "Agent", agent()).await);
    live.fault("DeleteUser", "AccessDeniedException", 1).await;
    let (why, _) = failure(delete(&r, "Agent", &id, agent()).await);
    assert!(why.starts_with("DeleteUser failed: AccessDeniedException"), "{why}");
    assert!(live.stored(&data["UserId"]).await.is_some());
}

#[tokio::test]
async fn a_rename_replaces_a_gone_user_is_created_again_and_a_password_change_is_refused() {
    let live = Live::start().await;
    let r = resource(&live);
    let (id, data) = success(create(&r, "Agent", agent()).await);
    let renamed = with(agent(), "Name", json!("mod.renamed"));
    let (new_id, new_data) = success(update(&r, "Agent", &id, renamed.clone(), agent()).await);
    assert_ne!(new_id, id, "a new user under a new id");
    assert_eq!(new_data["Name"], "mod.renamed");
    assert!(live.stored(&data["UserId"]).await.is_some(), "the old one is CloudFormation's cleanup to delete");

    // Deleted outside the stack: an Update creates it again.
    live.connect.delete_user(IID, &new_data["UserId"], soon()).await.unwrap();
    let (again, again_data) = success(update(&r, "Agent", &new_id, renamed.clone(), renamed.clone()).await);
    assert_ne!(again, new_id);
    assert!(live.stored(&again_data["UserId"]).await.is_some());

    // A changed password cannot be applied: FAILED, nothing written.
    clear(&live).await;
    let repassed = with(renamed.clone(), "Password", json!("An0therPassw0rd"));
    let (why, _) = failure(update(&r, "Agent", &again, repassed, renamed.clone()).await);
    assert!(why.contains("Password") && !why.contains("An0therPassw0rd"), "{why}");
    assert_eq!(writes(&live).await, Vec::<String>::new());

    // A physical id that is no user (a failed Create's placeholder): the Update creates.
    let (made, _) = success(update(&r, "Agent", "not-a-user", with(agent(), "Name", json!("mod.third")), agent()).await);
    assert!(made.starts_with(IID));

    // Only ImportId added, on a user the stack made: no call at all.
    clear(&live).await;
    let imported = with(renamed.clone(), "ImportId", json!(again.clone()));
    let (same, d) = success(update(&r, "Agent", &again, imported, renamed).await);
    assert_eq!((same.as_str(), d["UserId"].as_str()), (again.as_str(), again_data["UserId"].as_str()));
    assert_eq!(live.calls().await, Vec::new());
}

#[tokio::test]
async fn a_retried_create_adopts_its_own_user_and_never_anyone_elses() {
    let live = Live::start().await;
    let r = resource(&live);
    let event = events::create("Agent", "https://x", agent());
    let (first, _) = success(CustomResource::create(&r, &ctx(event.clone())).await);
    // The same request again (a retry after a crash): the user it made is found by its marker.
    let (second, _) = success(CustomResource::create(&r, &ctx(event)).await);
    assert_eq!(second, first);
    assert_eq!(
        live.control("GET", "state", None).await["users"].as_array().unwrap().iter().filter(|u| u["Username"] == "mod.agent").count(),
        1
    );

    // Another request with the same Name: someone else's user, refused with the ImportId to use.
    let mut other = events::create("Other", "https://x", agent());
    other["RequestId"] = json!("another-request");
    let (why, id) = failure(CustomResource::create(&r, &ctx(other)).await);
    assert!(why.contains(&format!("take it over with ImportId: {first}")), "{why}");
    assert_eq!(id, None);
}

#[tokio::test]
async fn an_imported_user_is_taken_over_released_and_never_deleted() {
    let live = Live::start().await;
    let r = resource(&live);
    let target = format!("{IID}:{LEGACY_ID}");
    let props = json!({"InstanceId": IID, "Name": "legacy.agent", "ImportId": target, "RoutingProfileId": RP_SALES, "SecurityProfileIds": [SP_AGENT]});
    let (id, data) = success(create(&r, "Legacy", props.clone()).await);
    assert_eq!((id.as_str(), data["UserId"].as_str()), (target.as_str(), LEGACY_ID));
    let held = live.read(LEGACY_ID).await;
    assert_eq!(held.settings.routing_profile_id, RP_SALES);
    assert!(held.marker_tags.contains_key(ownership::HOLDER_TAG), "the hold is recorded");

    // Delete while ImportId is given: released (its tags go), not deleted.
    success(delete(&r, "Legacy", &id, props.clone()).await);
    let after = live.read(LEGACY_ID).await;
    assert!(after.marker_tags.is_empty(), "{:?}", after.marker_tags);

    // A name that does not match the user ImportId names: refused before any write.
    clear(&live).await;
    let wrong = with(props.clone(), "Name", json!("someone.else"));
    let (why, _) = failure(create(&r, "Legacy", wrong).await);
    assert!(why.contains("nothing was changed"), "{why}");
    assert_eq!(writes(&live).await, Vec::<String>::new());

    // A write that fails half-way is put back.
    let more = with(with(props, "SecurityProfileIds", json!([SP_MANAGER])), "RoutingProfileId", json!(RP_BASIC));
    live.fault("UpdateUserSecurityProfiles", "AccessDeniedException", 1).await;
    let (why, _) = failure(create(&r, "Legacy", more).await);
    assert!(why.contains("were put back as they were"), "{why}");
    assert_eq!(live.read(LEGACY_ID).await.settings.routing_profile_id, RP_SALES, "the routing profile is back");
}

#[tokio::test]
async fn a_delete_never_touches_a_user_it_cannot_know_is_its_own() {
    let live = Live::start().await;
    let r = resource(&live);
    let (id, data) = success(create(&r, "Agent", agent()).await);
    clear(&live).await;
    // Properties that cannot be read: the user is kept.
    let unreadable = events::delete("Agent", "https://x", &id, json!("not an object"));
    let (kept, _) = success(CustomResource::delete(&r, &ctx(unreadable)).await);
    assert_eq!(kept, id);
    // A placeholder physical id: nothing to delete.
    success(delete(&r, "Agent", "placeholder-of-a-failed-create", agent()).await);
    assert_eq!(live.calls().await, Vec::new());
    assert!(live.stored(&data["UserId"]).await.is_some());
}

#[tokio::test]
async fn a_create_that_fails_otherwise_is_failed_without_looking_for_a_namesake() {
    let live = Live::start().await;
    live.fault("CreateUser", "AccessDeniedException", 1).await;
    let (why, id) = failure(create(&resource(&live), "Agent", agent()).await);
    assert!(why.starts_with("CreateUser failed: AccessDeniedException"), "{why}");
    assert_eq!(id, None);
    assert_eq!(live.calls().await.len(), 1, "no SearchUsers for a user of the same name");
}

#[tokio::test]
async fn an_update_that_imports_another_user_reads_only_that_user() {
    let live = Live::start().await;
    let r = resource(&live);
    let (id, _) = success(create(&r, "Agent", agent()).await);
    clear(&live).await;
    let target = format!("{IID}:{LEGACY_ID}");
    let import = json!({"InstanceId": IID, "Name": "legacy.agent", "ImportId": target, "RoutingProfileId": RP_SALES, "SecurityProfileIds": [SP_AGENT]});
    let (new_id, _) = success(update(&r, "Agent", &id, import, agent()).await);
    assert_eq!(new_id, target);
    let describes = live.calls().await.iter().filter(|(op, _)| op == "DescribeUser").count();
    assert_eq!(describes, 1, "the user taken over is read, not the one it replaces");
}

#[tokio::test]
async fn proficiencies_are_read_only_when_the_template_mentions_them() {
    let live = Live::start().await;
    let r = resource(&live);
    let (id, _) = success(create(&r, "Agent", agent()).await);
    clear(&live).await;
    let relevelled = with(agent(), "UserProficiencies", json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": "4"}]));
    success(update(&r, "Agent", &id, relevelled, agent()).await);
    assert_eq!(writes(&live).await, ["UpdateUserProficiencies"]);

    // A template that never mentioned them: an Update does not read them.
    let mut plain = agent();
    plain.as_object_mut().unwrap().remove("UserProficiencies");
    plain["Name"] = json!("mod.plain");
    let (id, _) = success(create(&r, "Plain", plain.clone()).await);
    clear(&live).await;
    let moved = with(plain.clone(), "RoutingProfileId", json!(RP_SALES));
    success(update(&r, "Plain", &id, moved, plain).await);
    let ops: Vec<String> = live.calls().await.into_iter().map(|(op, _)| op).collect();
    assert_eq!(ops, ["DescribeUser", "UpdateUserRoutingProfile"]);
}

#[tokio::test]
async fn a_take_over_records_the_hold_and_a_sets_records_in_one_call_and_undoes_nothing_when_nothing_was_done() {
    let live = Live::start().await;
    let target = PhysicalId::parse(&format!("{IID}:{LEGACY_ID}")).unwrap();
    let props = |rp: &str| {
        let v = json!({"InstanceId": IID, "Name": "legacy.agent", "ImportId": target.to_string(), "RoutingProfileId": rp, "SecurityProfileIds": [SP_AGENT]});
        UserProps::parse(v.as_object().unwrap()).unwrap()
    };
    let records = BTreeMap::from([("connect-user-resource:entry".to_string(), "e1".to_string())]);
    let before = take_over(&live.connect, &props(RP_SALES), &target, "stack/Set", &records, None, None, soon()).await.unwrap();
    assert_eq!(before.user_id, LEGACY_ID);
    let tagged = live.calls().await.iter().filter(|(op, _)| op == "TagResource").count();
    assert_eq!(tagged, 1, "the hold and the records in one call");
    let held = live.read(LEGACY_ID).await.marker_tags;
    assert_eq!(held.get(ownership::HOLDER_TAG).map(String::as_str), Some("stack/Set"));
    assert_eq!(held.get("connect-user-resource:entry").map(String::as_str), Some("e1"));

    // The first write fails: nothing to put back, and the reason says so.
    live.fault("UpdateUserRoutingProfile", "AccessDeniedException", 1).await;
    let why = take_over(&live.connect, &props(RP_BASIC), &target, "stack/Set", &records, None, None, soon()).await.unwrap_err().to_string();
    assert!(why.contains("UpdateUserRoutingProfile failed: AccessDeniedException") && why.ends_with("nothing had been changed"), "{why}");
}

#[tokio::test]
async fn the_rollback_of_a_refused_password_change_is_accepted_and_writes_nothing() {
    use crate::cfn::{deadline, Invocation, Protocol};
    let live = Live::start().await;
    let store = crate::store::live::start().await;
    let rx = lambda_harness::Receiver::start().await.unwrap();
    let p = Protocol::new(resource(&live), reqwest::Client::new(), deadline::Policy::default()).with_store(store.store.clone());
    let invocation = || Invocation { deadline_ms: deadline::now_ms() + 30_000, function_arn: String::new() };
    let (id, _) = success(create(&resource(&live), "Agent", agent()).await);
    let repassed = with(agent(), "Password", json!("An0therPassw0rd"));
    let answer = |name: &str| rx.for_name(name).last().map(|r| r.json()["Status"].clone());

    // The Update that changes the password is refused...
    p.handle(events::update("Agent", &rx.url("refused"), &id, repassed.clone(), agent()), invocation()).await.unwrap();
    assert_eq!(answer("refused"), Some(json!("FAILED")));
    // ...and CloudFormation's rollback (the same change the other way) succeeds without a write: Connect never had
    // the refused password, so it still has what the rollback asks for.
    clear(&live).await;
    p.handle(events::update("Agent", &rx.url("rollback"), &id, agent(), repassed.clone()), invocation()).await.unwrap();
    assert_eq!(answer("rollback"), Some(json!("SUCCESS")));
    assert_eq!(writes(&live).await, Vec::<String>::new());
    // Without the state table's record of the failed Update the same event is a password change like any other.
    let plain = Protocol::new(resource(&live), reqwest::Client::new(), deadline::Policy::default());
    plain.handle(events::update("Agent", &rx.url("unknown"), &id, agent(), repassed), invocation()).await.unwrap();
    assert_eq!(answer("unknown"), Some(json!("FAILED")));
    let why = rx.for_name("unknown").last().map(|r| r.json()["Reason"].as_str().unwrap_or_default().to_string()).unwrap_or_default();
    assert!(why.contains("Password"), "{why}");
}

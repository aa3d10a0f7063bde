//! `Custom::ConnectUserSet` against the emulator in-process: what each lifecycle event does to Connect (the
//! writes it makes and the state it leaves) and what it answers. The end-to-end tests drive the same through
//! the binary, with continuations, throttling and S3; these are fast enough for `make mutants`.

use super::*;
use crate::cfn::event::{self, Intake};
use crate::connect::emulator_tests::*;
use crate::connect::ownership;
use lambda_harness::events;
use serde_json::{json, Value};

const LOGICAL: &str = "Agents";

fn set(live: &Live) -> ConnectUserSet {
    // Secrets Manager and S3 are not reached by these tests: passwords are inline, entries are in `Users`.
    let s3 = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    ConnectUserSet::new(live.connect.clone(), no_secrets(), s3::Files::new(aws_sdk_s3::Client::from_conf(s3)))
}

fn ctx_until(e: Value, deadline: Instant) -> Ctx {
    match event::parse(events::for_set(e)) {
        Intake::Request(r) => Ctx::new(*r, deadline),
        Intake::Malformed { reason, .. } => panic!("test event is malformed: {reason}"),
    }
}

fn ctx(e: Value) -> Ctx {
    ctx_until(e, soon())
}

async fn create(s: &ConnectUserSet, props: Value) -> Outcome {
    CustomResource::create(s, &ctx(events::create(LOGICAL, "https://x", props))).await
}

async fn update(s: &ConnectUserSet, id: &str, props: Value, old: Value) -> Outcome {
    CustomResource::update(s, &ctx(events::update(LOGICAL, "https://x", id, props, old))).await
}

async fn delete(s: &ConnectUserSet, id: &str, props: Value) -> Outcome {
    CustomResource::delete(s, &ctx(events::delete(LOGICAL, "https://x", id, props))).await
}

fn entry(name: &str) -> Value {
    json!({"Name": name, "Password": PASSWORD, "IdentityInfo": {"FirstName": "A", "LastName": name}})
}

/// A roster of `entries` at a rate no test waits for.
fn roster(entries: &[Value]) -> Value {
    json!({
        "InstanceId": IID, "RequestsPerSecond": "100", "Burst": "20",
        "Defaults": {"RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT], "PhoneConfig": {"PhoneType": "SOFT_PHONE"}},
        "Users": entries,
    })
}

fn holder() -> String {
    ownership::holder_value(events::STACK_ID, LOGICAL)
}

fn set_id() -> String {
    physical_id(IID, &holder())
}

async fn count(live: &Live, op: &str) -> usize {
    live.calls().await.iter().filter(|(o, _)| o == op).count()
}

/// The instance's users by name (the emulator's own state, not the set's reading of it).
async fn users(live: &Live) -> BTreeMap<String, Value> {
    let state = live.control("GET", "state", None).await;
    state["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["InstanceId"] == IID)
        .map(|u| (u["Username"].as_str().unwrap().to_string(), u.clone()))
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn a_roster_is_created_changed_and_deleted_with_only_the_calls_each_change_needs() {
    let live = Live::start().await;
    let s = set(&live);
    let first = roster(&[entry("set.a"), entry("set.b"), entry("set.c")]);
    let (id, data) = success(create(&s, first.clone()).await);
    assert_eq!(id, set_id());
    assert_eq!(data["Total"], "3");
    let ids: BTreeMap<String, String> = serde_json::from_str(&data["UserIds"]).unwrap();
    assert_eq!(ids.keys().collect::<Vec<_>>(), ["set.a", "set.b", "set.c"]);
    assert_eq!(writes(&live).await, ["CreateUser"; 3]);
    assert_eq!(count(&live, "DescribeInstance").await, 1, "passwords checked against the instance once");
    let now = users(&live).await;
    for name in ["set.a", "set.b", "set.c"] {
        let u = &now[name];
        assert_eq!(u["Id"], ids[name].as_str());
        assert_eq!(u["Tags"][ownership::HOLDER_TAG], holder().as_str(), "{name} is held by the set");
        assert_eq!(u["RoutingProfileId"], RP_BASIC, "Defaults merged under {name}");
    }
    assert!(now.contains_key("legacy.agent"), "a user the set never held is not touched");

    // The same roster again: nothing to do.
    clear(&live).await;
    let (_, again) = success(update(&s, &id, first.clone(), first.clone()).await);
    assert_eq!(again, data, "the same state, the same answer");
    assert_eq!(writes(&live).await, Vec::<String>::new());
    assert_eq!(count(&live, "DescribeUser").await, 0, "a search page answers for unchanged users");

    // Add set.d, change set.a's routing profile, rename set.b to set.e, remove set.c.
    clear(&live).await;
    let mut a = entry("set.a");
    a["RoutingProfileId"] = json!(RP_SALES);
    let second = roster(&[a, entry("set.e"), entry("set.d")]);
    let (_, data) = success(update(&s, &id, second.clone(), first.clone()).await);
    assert_eq!(data["Total"], "3");
    let ids2: BTreeMap<String, String> = serde_json::from_str(&data["UserIds"]).unwrap();
    assert_eq!(ids2.keys().collect::<Vec<_>>(), ["set.a", "set.d", "set.e"]);
    assert_eq!(ids2["set.a"], ids["set.a"], "changed in place, not replaced");
    assert_eq!(
        sorted(writes(&live).await),
        ["CreateUser", "CreateUser", "DeleteUser", "DeleteUser", "UpdateUserRoutingProfile"],
        "two creates (set.d, set.e), two deletes (set.b, set.c), one routing profile"
    );
    let now = users(&live).await;
    assert_eq!(now["set.a"]["RoutingProfileId"], RP_SALES);
    assert!(!now.contains_key("set.b") && !now.contains_key("set.c"));
    assert_eq!(now["set.e"]["Id"], ids2["set.e"].as_str());

    // Delete: every user the set holds, none other; a second Delete finds nothing to do.
    clear(&live).await;
    let (gone_id, data) = success(delete(&s, &id, second.clone()).await);
    assert_eq!((gone_id.as_str(), data.len()), (id.as_str(), 0));
    assert_eq!(writes(&live).await, ["DeleteUser"; 3]);
    let now = users(&live).await;
    assert_eq!(now.keys().collect::<Vec<_>>(), ["legacy.agent", "veteran.agent"]);
    clear(&live).await;
    success(delete(&s, &id, second).await);
    assert_eq!(writes(&live).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_name_held_by_no_set_is_refused_unless_imported_and_an_import_is_released_not_deleted() {
    let live = Live::start().await;
    let s = set(&live);
    let stranger = roster(&[entry("set.a"), entry("legacy.agent")]);
    let (reason, id) = failure(create(&s, stranger).await);
    assert!(reason.contains("legacy.agent") && reason.contains("ImportId"), "{reason}");
    assert!(reason.ends_with("nothing was changed"), "{reason}");
    assert_eq!(id, Some(set_id()), "the set's id, so that the rollback Delete finds it");
    assert_eq!(writes(&live).await, Vec::<String>::new());

    clear(&live).await;
    let imported = json!({"Name": "legacy.agent", "ImportId": format!("{IID}:{LEGACY_ID}")});
    let props = roster(&[entry("set.a"), imported]);
    let (id, data) = success(create(&s, props.clone()).await);
    let ids: BTreeMap<String, String> = serde_json::from_str(&data["UserIds"]).unwrap();
    assert_eq!(ids["legacy.agent"], LEGACY_ID);
    let now = users(&live).await;
    assert_eq!(now["legacy.agent"]["Tags"][ownership::HOLDER_TAG], holder().as_str());
    assert!(now["legacy.agent"]["Tags"].get(ownership::MARKER_TAG).is_none(), "imported: held, never marked as made here");

    clear(&live).await;
    success(delete(&s, &id, props).await);
    assert_eq!(sorted(writes(&live).await), ["DeleteUser", "UntagResource"], "set.a deleted, legacy.agent released");
    let now = users(&live).await;
    assert!(now["legacy.agent"]["Tags"].get(ownership::HOLDER_TAG).is_none(), "released");
    assert_eq!(now["legacy.agent"]["Id"], LEGACY_ID, "still there");
}

#[tokio::test]
async fn bad_properties_and_impossible_changes_fail_before_any_call() {
    let live = Live::start().await;
    let s = set(&live);
    let (reason, id) = failure(create(&s, roster(&[entry("set.a"), json!({"Name": "set.a", "Password": PASSWORD})])).await);
    assert!(reason.starts_with("invalid properties: ") && reason.contains("set.a"), "{reason}");
    assert!(id.is_none(), "nothing made: the placeholder id");
    let mut bad = roster(&[entry("set.a")]);
    bad["Users"][0]["RoutingProfileId"] = json!("");
    let (reason, _) = failure(create(&s, bad).await);
    assert!(reason.contains("Users[0]") && reason.contains("RoutingProfileId"), "{reason}");
    assert_eq!(live.calls().await, Vec::<(String, u64)>::new(), "no call at all");

    let props = roster(&[entry("set.a")]);
    let (id, _) = success(create(&s, props.clone()).await);
    clear(&live).await;
    let mut changed = roster(&[entry("set.a")]);
    changed["Users"][0]["Password"] = json!("An0therPassw0rd");
    let (reason, failed_id) = failure(update(&s, &id, changed, props).await);
    assert!(reason.contains("set.a") && reason.contains("Password"), "{reason}");
    assert_eq!(failed_id.as_deref(), Some(id.as_str()), "a failed Update keeps the set's id");
    assert_eq!(writes(&live).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_password_the_instance_cannot_take_is_refused_before_any_write() {
    let live = Live::start().await;
    let s = set(&live);
    let mut props = roster(&[entry("set.a"), json!({"Name": "set.b"})]);
    let (reason, _) = failure(create(&s, props.clone()).await);
    assert!(reason.contains("Users[1] (set.b): Password: required"), "{reason}");
    assert!(!reason.contains("set.a"), "{reason}");
    assert_eq!(writes(&live).await, Vec::<String>::new());

    props["InstanceId"] = json!(SAML_IID);
    props["Defaults"] = json!({"RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT]});
    let (reason, _) = failure(create(&s, props).await);
    assert!(reason.contains("Users[0] (set.a): Password") && !reason.contains("set.b"), "{reason}");
    assert!(!reason.contains(PASSWORD), "never the password itself");
    assert_eq!(writes(&live).await, Vec::<String>::new());
}

#[tokio::test]
async fn work_that_does_not_fit_the_invocation_continues_and_the_next_finishes_it() {
    let live = Live::start().await;
    let s = set(&live);
    let props = roster(&(0..6).map(|i| entry(&format!("set.{i}"))).collect::<Vec<_>>());
    let e = events::create(LOGICAL, "https://x", props.clone());
    // A deadline so near that no paced call fits after the reads: nothing is created, the rest is handed on.
    let near = ctx_until(e.clone(), Instant::now() + Duration::from_millis(1));
    match CustomResource::create(&s, &near).await {
        Outcome::Continue { physical_resource_id, progress } => {
            assert_eq!(physical_resource_id, Some(set_id()));
            assert!(!progress.is_empty());
        }
        other => panic!("expected Continue, got {other:?}"),
    }
    assert_eq!(count(&live, "CreateUser").await, 0);
    // The next invocation re-reads Connect and finishes.
    let (_, data) = success(CustomResource::create(&s, &ctx(e)).await);
    assert_eq!(data["Total"], "6");
    assert_eq!(count(&live, "CreateUser").await, 6, "each user created once");
}

/// Out of time between a user's calls: created, its proficiencies and its entry's record not yet made. The next
/// invocation finds it half done (no record: it is read), finishes it, and creates nobody twice.
#[tokio::test]
async fn a_user_left_half_done_by_an_invocation_out_of_time_is_finished_by_the_next() {
    let live = Live::start().await;
    let s = set(&live);
    let skilled = |name: &str| {
        let mut e = entry(name);
        e["UserProficiencies"] = json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": "2"}]);
        e
    };
    let e = events::create(LOGICAL, "https://x", roster(&[skilled("set.a"), skilled("set.b")]));
    // Each CreateUser takes 4.3 s; work may start until 4 s (a fifth of 5 s before the deadline): both users are
    // created, and what follows them does not fit.
    for _ in 0..2 {
        live.control("POST", "faults", Some(json!({"operation": "CreateUser", "delay_ms": 4300}))).await;
    }
    match CustomResource::create(&s, &ctx_until(e.clone(), Instant::now() + Duration::from_secs(5))).await {
        Outcome::Continue { physical_resource_id, .. } => assert_eq!(physical_resource_id, Some(set_id())),
        other => panic!("expected Continue, got {other:?}"),
    }
    let made =
        |all: BTreeMap<String, Value>| -> Vec<Value> { all.into_iter().filter(|(n, _)| n.starts_with("set.")).map(|(_, u)| u).collect() };
    let half = made(users(&live).await);
    assert_eq!(half.len(), 2, "both created");
    for u in &half {
        assert!(u["Tags"][plan::ENTRY_TAG].is_null(), "half done: no record of the entry yet: {u}");
    }
    assert_eq!(count(&live, "AssociateUserProficiencies").await, 0, "nothing after CreateUser fitted");

    let (_, data) = success(CustomResource::create(&s, &ctx(e)).await);
    assert_eq!(data["Total"], "2");
    assert_eq!(count(&live, "CreateUser").await, 2, "nobody created twice");
    assert_eq!(count(&live, "AssociateUserProficiencies").await, 2, "each finished");
    for u in made(users(&live).await) {
        assert!(u["Tags"][plan::ENTRY_TAG].is_string(), "recorded once finished: {u}");
    }
}

#[tokio::test]
async fn a_delete_of_a_placeholder_or_with_unreadable_properties_touches_nobody() {
    let live = Live::start().await;
    let s = set(&live);
    let props = roster(&[entry("set.a")]);
    let (id, _) = success(create(&s, props.clone()).await);
    clear(&live).await;
    let (kept, _) = success(delete(&s, "create-failed-Agents-1", props).await);
    assert_eq!(kept, "create-failed-Agents-1");
    let mut unreadable = events::delete(LOGICAL, "https://x", &id, json!({}));
    unreadable["ResourceProperties"] = json!("not an object");
    success(CustomResource::delete(&s, &ctx(unreadable)).await);
    assert_eq!(live.calls().await, Vec::<(String, u64)>::new(), "no call: without properties nobody knows the imports");
    assert!(users(&live).await.contains_key("set.a"));
}

#[tokio::test]
async fn a_connect_failure_is_failed_with_the_sets_id_and_says_how_far_it_got() {
    let live = Live::start().await;
    let s = set(&live);
    live.fault("SearchUsers", "AccessDeniedException", 1).await;
    let (reason, id) = failure(create(&s, roster(&[entry("set.a")])).await);
    assert!(reason.starts_with("reading the users the set holds failed: ") && reason.ends_with("nothing was changed"), "{reason}");
    assert_eq!(id, Some(set_id()));
    clear(&live).await;
    live.fault("CreateUser", "InvalidParameterException", 1).await;
    let (reason, _) = failure(create(&s, roster(&[entry("set.a"), entry("set.b")])).await);
    assert!(reason.contains("InvalidParameterException") && reason.contains("CloudFormation's rollback"), "{reason}");
    assert_eq!(count(&live, "CreateUser").await, 2, "the other user is still made: the rollback Delete removes both");
}

/// A set that records whom it holds in the state table (moto's DynamoDB), as deployed.
async fn recording(live: &Live) -> (ConnectUserSet, crate::store::live::LiveStore) {
    let store = crate::store::live::start().await;
    let s = set(live).with_store(Some(store.store.clone()));
    (s, store)
}

async fn records(store: &crate::store::live::LiveStore) -> BTreeMap<String, held::Record> {
    let h = held::Held::new(store.store.clone(), &set_id());
    h.all().await.unwrap().into_iter().map(|r| (r.name.clone(), r)).collect()
}

#[tokio::test]
async fn a_set_records_whom_it_holds_and_how_and_forgets_whom_it_lets_go() {
    let live = Live::start().await;
    let (s, store) = recording(&live).await;
    let imported = json!({"Name": "legacy.agent", "ImportId": format!("{IID}:{LEGACY_ID}")});
    let first = roster(&[entry("set.a"), entry("set.b"), imported.clone()]);
    let (id, _) = success(create(&s, first.clone()).await);
    let r = records(&store).await;
    assert_eq!(r.keys().collect::<Vec<_>>(), ["legacy.agent", "set.a", "set.b"]);
    assert_eq!(r["set.a"].hold, Some(held::Hold::Created));
    assert_eq!(r["legacy.agent"].hold, Some(held::Hold::TakenOver));
    assert_eq!(r["legacy.agent"].user_id, LEGACY_ID);
    let entries = SetProps::parse(first.as_object().unwrap()).unwrap();
    assert_eq!(r["set.a"].given, Some(entries.entries[0].given), "created in full: the entry is recorded");
    assert_eq!(r["legacy.agent"].given, Some(entries.entries[2].given));

    // legacy.agent loses ImportId (the set owns it now), set.b changes, set.a goes.
    let mut b = entry("set.b");
    b["RoutingProfileId"] = json!(RP_SALES);
    let second = roster(&[b, json!({"Name": "legacy.agent"})]);
    let (id2, _) = success(update(&s, &id, second.clone(), first.clone()).await);
    assert_ne!(id2, id);
    let r = records(&store).await;
    assert!(r["set.a"].leaving && !r["set.b"].leaving && !r["legacy.agent"].leaving, "set.a waits for the stack to commit");
    assert_eq!(r["legacy.agent"].hold, Some(held::Hold::Created), "handed to the set");
    let entries2 = SetProps::parse(second.as_object().unwrap()).unwrap();
    assert_eq!(r["set.b"].given, Some(entries2.entries[0].given), "brought to its new entry");
    // The cleanup Delete of the replaced id.
    success(delete(&s, &id, first.clone()).await);
    let r = records(&store).await;
    assert_eq!(r.keys().collect::<Vec<_>>(), ["legacy.agent", "set.b"], "set.a deleted and forgotten");

    // ImportId back (a later Update): ownership given back before anything else.
    let (id3, _) = success(update(&s, &id2, first.clone(), second.clone()).await);
    assert_eq!(id3, id, "the names of the first roster: its id");
    assert_eq!(records(&store).await["legacy.agent"].hold, Some(held::Hold::TakenOver));
    assert!(users(&live).await["legacy.agent"]["Tags"].get(ownership::MARKER_TAG).is_none());

    // The set's Delete: set.a and set.b deleted, legacy.agent released; no record left.
    clear(&live).await;
    success(delete(&s, &id3, first).await);
    assert_eq!(sorted(writes(&live).await), ["DeleteUser", "DeleteUser", "UntagResource"]);
    assert!(records(&store).await.is_empty());
    assert!(users(&live).await.contains_key("legacy.agent"));
}

#[tokio::test]
async fn a_user_recorded_as_taken_over_is_released_even_if_its_tags_say_the_set_made_it() {
    let live = Live::start().await;
    let (s, store) = recording(&live).await;
    let props = roster(&[entry("set.a")]);
    let (id, _) = success(create(&s, props.clone()).await);
    let a = records(&store).await["set.a"].clone();
    held::Held::new(store.store.clone(), &set_id()).record(&a.user_id, "set.a", held::Hold::TakenOver, None).await.unwrap();
    clear(&live).await;
    success(delete(&s, &id, props).await);
    assert_eq!(writes(&live).await, ["UntagResource"], "released: the witnesses disagree, so nobody is deleted");
    assert!(users(&live).await.contains_key("set.a"));
}

#[tokio::test]
async fn a_search_that_is_behind_is_made_good_by_the_records() {
    let live = Live::start().await;
    let (s, store) = recording(&live).await;
    live.control("POST", "search-lag", Some(json!({"lag_ms": 60_000}))).await;
    let first = roster(&[entry("set.a"), entry("set.b"), entry("set.c")]);
    let (id, data) = success(create(&s, first.clone()).await);
    let ids: BTreeMap<String, String> = serde_json::from_str(&data["UserIds"]).unwrap();

    // The same roster again: the search shows none of them; the records say each is as its entry wants.
    clear(&live).await;
    let (_, again) = success(create(&s, first.clone()).await);
    assert_eq!(again, data, "not refused as someone else's");
    assert_eq!(live.calls().await.iter().filter(|(op, _)| op != "SearchUsers").count(), 0, "nothing read user by user, nothing written");

    // One entry changed: that user alone is read, then changed; one removed: deleted after reading it.
    clear(&live).await;
    let mut b = entry("set.b");
    b["RoutingProfileId"] = json!(RP_SALES);
    let second = roster(&[entry("set.a"), b]);
    let (id2, _) = success(update(&s, &id, second.clone(), first.clone()).await);
    assert_eq!(sorted(writes(&live).await), ["UpdateUserRoutingProfile"], "set.c waits for the stack to commit");
    assert_eq!(count(&live, "DescribeUser").await, 1, "set.b to plan it");
    assert_eq!(users(&live).await["set.b"]["Id"], ids["set.b"].as_str());
    clear(&live).await;
    success(delete(&s, &id, first.clone()).await);
    assert_eq!(writes(&live).await, ["DeleteUser"], "the cleanup Delete of the replaced id: set.c");
    assert_eq!(count(&live, "DescribeUser").await, 1, "set.c, to confirm before deleting it");
    let id = id2;

    // A record of a user gone meanwhile, or held by another resource by now, is dropped; the user is not touched.
    let h = held::Held::new(store.store.clone(), &set_id());
    h.record(VETERAN_ID, "veteran.agent", held::Hold::Created, None).await.unwrap();
    h.record("0f6a2c1e-0000-0000-0000-000000000000", "ghost", held::Hold::Created, None).await.unwrap();
    clear(&live).await;
    success(delete(&s, &id, second).await);
    assert_eq!(writes(&live).await, ["DeleteUser"; 2], "set.a and set.b; veteran.agent is not the set's");
    assert!(users(&live).await.contains_key("veteran.agent"));
    assert!(records(&store).await.is_empty(), "{:?}", records(&store).await);
}

/// A failure stops every kind of work from starting more: what is under way finishes, nothing new begins.
#[tokio::test]
async fn a_failure_stops_the_other_kinds_of_work_from_starting_more() {
    let live = Live::start().await;
    let s = set(&live);
    let names: Vec<String> = (0..20).map(|i| format!("set.{i:02}")).collect();
    let first = roster(&names.iter().map(|n| entry(n)).collect::<Vec<_>>());
    let (id, _) = success(create(&s, first.clone()).await);
    let mut moved: Vec<Value> = names.iter().map(|n| entry(n)).collect();
    for e in &mut moved {
        e["RoutingProfileId"] = json!(RP_SALES);
    }
    moved.push(entry("set.new"));
    // Each change takes 300 ms; the one create fails at once.
    for _ in 0..20 {
        live.control("POST", "faults", Some(json!({"operation": "UpdateUserRoutingProfile", "delay_ms": 300}))).await;
    }
    live.fault("CreateUser", "InvalidParameterException", 1).await;
    clear(&live).await;
    let (reason, _) = failure(update(&s, &id, roster(&moved), first).await);
    assert!(reason.contains("CreateUser failed: InvalidParameterException"), "{reason}");
    let changed = count(&live, "UpdateUserRoutingProfile").await;
    assert!(changed <= run::PER_KIND, "only the changes under way when it failed were made: {changed}");
}

/// Two copies of one event at work at once (Lambda delivers at least once): a user one creates, the other finds
/// taken (DuplicateResourceException) and takes as the set's own, since it carries the set's holder. A user of
/// that name that is not the set's is refused instead.
#[tokio::test]
async fn a_copy_at_work_at_the_same_time_adopts_what_the_other_created_and_nothing_else() {
    let live = Live::start().await;
    let s = set(&live);
    let e = events::create(LOGICAL, "https://x", roster(&[entry("set.a"), entry("set.b"), entry("set.c")]));
    // The first copy's CreateUser calls land 300 ms late: the second copy, 50 ms behind, finds no user yet.
    for _ in 0..3 {
        live.control("POST", "faults", Some(json!({"operation": "CreateUser", "delay_ms": 300}))).await;
    }
    let (first, second) = (ctx(e.clone()), ctx(e.clone()));
    let (one, two) = tokio::join!(CustomResource::create(&s, &first), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        CustomResource::create(&s, &second).await
    });
    let ((_, a), (_, b)) = (success(one), success(two));
    assert_eq!(a, b, "both answer the same state");
    let made: Vec<String> = users(&live).await.keys().filter(|n| n.starts_with("set.")).cloned().collect();
    assert_eq!(made, ["set.a", "set.b", "set.c"], "each once");
    let dup = live.control("GET", "calls", None).await["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["error"] == "DuplicateResourceException")
        .count();
    assert_eq!(dup, 3, "the late copy met every user taken, and adopted it");

    // A name taken meanwhile by someone else (here: Connect says so, and no user of the set's has it).
    live.fault("CreateUser", "DuplicateResourceException", 1).await;
    let (reason, _) = failure(CustomResource::create(&s, &ctx(events::create("Other", "https://x", roster(&[entry("set.z")])))).await);
    assert!(
        reason.contains("(set.z): Name: a user named set.z was created in the instance by someone else while the set worked"),
        "{reason}"
    );
}

/// A record that claims a user another resource holds by now (a stale record) never makes the set touch it.
#[tokio::test]
async fn a_record_never_makes_the_set_touch_a_user_another_resource_holds() {
    let live = Live::start().await;
    let (s, store) = recording(&live).await;
    let other = events::create("Other", "https://x", roster(&[entry("other.a")]));
    success(CustomResource::create(&s, &ctx(other)).await);
    let theirs = users(&live).await["other.a"]["Id"].as_str().unwrap().to_string();
    let props = roster(&[entry("set.a")]);
    let (id, _) = success(create(&s, props.clone()).await);
    held::Held::new(store.store.clone(), &set_id()).record(&theirs, "other.a", held::Hold::Created, None).await.unwrap();
    clear(&live).await;
    success(delete(&s, &id, props).await);
    assert_eq!(writes(&live).await, ["DeleteUser"], "set.a only");
    assert!(users(&live).await.contains_key("other.a"), "the other set's user is left as it is");

    // Nor does a record make it the set's when an entry names it: the user itself says whose it is.
    let mut wants = entry("other.a");
    wants["RoutingProfileId"] = json!(RP_SALES);
    let claims = roster(&[wants]);
    let (id, _) = success(create(&s, roster(&[])).await);
    held::Held::new(store.store.clone(), &set_id()).record(&theirs, "other.a", held::Hold::Created, None).await.unwrap();
    clear(&live).await;
    let (reason, _) = failure(update(&s, &id, claims, roster(&[])).await);
    assert!(reason.contains("not held by this set: other.a"), "{reason}");
    assert_eq!(writes(&live).await, Vec::<String>::new());
    assert!(records(&store).await.is_empty(), "the stale record is dropped");
}

//! Taking existing users over (`ImportId`), through the real binary against the emulator's pre-existing agents.

use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};

/// The template of the fixture's legacy.agent, exactly as the agent is.
pub fn legacy() -> Value {
    json!({
        "InstanceId": IID,
        "Name": "legacy.agent",
        "ImportId": format!("{IID}:{LEGACY_ID}"),
        "RoutingProfileId": RP_BASIC,
        "SecurityProfileIds": [SP_AGENT],
        "IdentityInfo": {"FirstName": "Lee", "LastName": "Gacy", "Email": "lee.gacy@example.com"},
        "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AutoAccept": "false", "AfterContactWorkTimeLimit": "30"},
        "Tags": {"team": "support"}
    })
}

#[tokio::test]
async fn an_import_with_differing_settings_makes_only_the_needed_calls() {
    let bed = Bed::start().await;
    let before = bed.user(LEGACY_ID).await.unwrap();
    let props = with(with(legacy(), "RoutingProfileId", json!(RP_SALES)), "Tags", json!({"team": "support", "site": "Lisbon"}));
    let a = bed.create("Legacy", props).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(a.puts.len(), 1);
    assert_eq!(a.physical_id(), format!("{IID}:{LEGACY_ID}"));
    assert_eq!(a.body["Data"]["UserId"], LEGACY_ID);
    assert_eq!(a.body["Data"]["Arn"], format!("{IARN}/agent/{LEGACY_ID}"));
    assert_eq!(a.body["Data"]["Name"], "legacy.agent");
    // No CreateUser; the routing profile, and one tag call carrying the new tag and the hold.
    assert_eq!(bed.calls().await, vec!["DescribeUser", "UpdateUserRoutingProfile", "TagResource"]);
    let log = bed.call_log().await;
    assert_eq!(log[2]["request"]["tags"], json!({"site": "Lisbon", HOLDER_TAG: holder("Legacy")}));
    let after = bed.user(LEGACY_ID).await.unwrap();
    assert_eq!(after["RoutingProfileId"], RP_SALES);
    assert_eq!(after["Password"], before["Password"], "an import never touches the password");
    assert_eq!(after["IdentityInfo"], before["IdentityInfo"]);
    assert_eq!(bed.users().await.len(), 0, "nothing was created");
}

#[tokio::test]
async fn an_import_by_arn_of_a_matching_user_only_records_the_hold() {
    let bed = Bed::start().await;
    let before = settings_of(&bed.user(LEGACY_ID).await.unwrap());
    // A password beside ImportId is accepted and never applied.
    let props = with(with(legacy(), "ImportId", json!(format!("{IARN}/agent/{LEGACY_ID}"))), "Password", json!(PASSWORD));
    let a = bed.create("Legacy", props).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(a.physical_id(), format!("{IID}:{LEGACY_ID}"));
    let log = bed.call_log().await;
    assert_eq!(writes(&log), vec!["TagResource"]);
    assert_eq!(log.last().unwrap()["request"]["tags"], json!({HOLDER_TAG: holder("Legacy")}));
    let mut after = settings_of(&bed.user(LEGACY_ID).await.unwrap());
    assert_eq!(after["Tags"][HOLDER_TAG], holder("Legacy"));
    after["Tags"].as_object_mut().unwrap().remove(HOLDER_TAG);
    assert_eq!(after, before, "the password and everything else as it was");

    // A retried delivery of the same import finds its own hold: no write at all.
    bed.clear_calls().await;
    let again = bed.create("Legacy", legacy()).await;
    assert_eq!(again.status(), "SUCCESS", "{}", again.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser"]);
}

#[tokio::test]
async fn every_mismatch_fails_before_any_write() {
    let bed = Bed::start().await;
    let cases: Vec<(Value, &str)> = vec![
        (with(legacy(), "Name", json!("someone.else")), "Name: the user that ImportId"),
        (with(legacy(), "DirectoryUserId", json!("dir-42")), "DirectoryUserId: the user that ImportId"),
        (with(legacy(), "ImportId", json!(format!("{SAML_IID}:{LEGACY_ID}"))), "ImportId: names instance"),
        (with(legacy(), "ImportId", json!("not-an-import-id")), "ImportId: must be <instance-id>:<user-id>"),
    ];
    for (props, want) in cases {
        bed.clear_calls().await;
        let a = bed.create("Legacy", props.clone()).await;
        assert_eq!(a.status(), "FAILED", "{props}");
        assert_eq!(a.puts.len(), 1);
        assert!(a.reason().contains(want), "{want} in {}", a.reason());
        assert!(a.physical_id().starts_with("create-failed-"), "{}", a.physical_id());
        assert_eq!(writes(&bed.call_log().await), Vec::<String>::new(), "no write for {props}");
    }
    let name = bed.create("Legacy", with(legacy(), "Name", json!("someone.else"))).await;
    assert!(name.reason().contains("is legacy.agent, but Name is someone.else"), "{}", name.reason());
    assert!(bed.user(LEGACY_ID).await.unwrap()["Tags"].get(HOLDER_TAG).is_none());
}

#[tokio::test]
async fn a_missing_user_fails_without_creating_one() {
    let bed = Bed::start().await;
    let a = bed.create("Ghost", with(legacy(), "ImportId", json!(format!("{IID}:no-such-user")))).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().contains("ImportId: there is no user no-such-user"), "{}", a.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser"]);
    assert!(bed.users().await.is_empty());
}

#[tokio::test]
async fn a_user_held_by_another_resource_is_refused_until_released_there() {
    let bed = Bed::start().await;
    let owner = bed.create("Owner", soft_phone("shared.agent")).await;
    assert_eq!(owner.status(), "SUCCESS", "{}", owner.reason());
    let pid = owner.physical_id();
    let taker = with(with(soft_phone("shared.agent"), "ImportId", json!(pid)), "Password", Value::Null);

    bed.clear_calls().await;
    let refused = bed.create("Taker", taker.clone()).await;
    assert_eq!(refused.status(), "FAILED");
    assert!(refused.reason().contains(&format!("held by resource Owner of stack {STACK_NAME}")), "{}", refused.reason());
    assert!(refused.reason().contains(&format!("give that resource ImportId: {pid}")), "{}", refused.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());

    // Released there: ImportId equal to its own id is an Update without any call, then its removal keeps the user.
    bed.clear_calls().await;
    let release = bed.update("Owner", &pid, with(soft_phone("shared.agent"), "ImportId", json!(pid)), soft_phone("shared.agent")).await;
    assert_eq!(release.status(), "SUCCESS", "{}", release.reason());
    assert_eq!(release.physical_id(), pid);
    assert_eq!(release.body["Data"]["Arn"], format!("{IARN}/agent/{}", owner.user_id()));
    assert_eq!(bed.calls().await, Vec::<String>::new());
    let gone = bed.delete("Owner", &pid, with(soft_phone("shared.agent"), "ImportId", json!(pid))).await;
    assert_eq!(gone.status(), "SUCCESS", "{}", gone.reason());
    let u = bed.user(&owner.user_id()).await.expect("released, not deleted");
    assert!(u["Tags"].as_object().unwrap().keys().all(|k| !k.starts_with("connect-user-resource:")), "{u}");

    let taken = bed.create("Taker", taker).await;
    assert_eq!(taken.status(), "SUCCESS", "{}", taken.reason());
    assert_eq!(bed.user(&owner.user_id()).await.unwrap()["Tags"][HOLDER_TAG], holder("Taker"));
}

#[tokio::test]
async fn a_failed_import_is_undone_and_the_rollback_delete_deletes_nothing() {
    let bed = Bed::start().await;
    let before = settings_of(&bed.user(LEGACY_ID).await.unwrap());
    let props = with(with(legacy(), "RoutingProfileId", json!(RP_SALES)), "HierarchyGroupId", json!(HG_NA));
    // The second update call fails for good (not a retryable error).
    bed.fault("UpdateUserHierarchy", 1, "InvalidParameterException").await;
    let a = bed.create("Legacy", props.clone()).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().contains("UpdateUserHierarchy failed: InvalidParameterException"), "{}", a.reason());
    assert!(a.reason().contains("(UpdateUserRoutingProfile) were put back"), "{}", a.reason());
    let placeholder = a.physical_id();
    assert!(placeholder.starts_with("create-failed-"), "not the user's id: {placeholder}");
    assert_eq!(bed.calls().await, vec!["DescribeUser", "UpdateUserRoutingProfile", "UpdateUserHierarchy", "UpdateUserRoutingProfile"]);
    assert_eq!(settings_of(&bed.user(LEGACY_ID).await.unwrap()), before, "the user is as it was before the import");

    // CloudFormation's rollback: a Delete for the placeholder, with the same properties.
    bed.clear_calls().await;
    let d = bed.send(events::delete("Legacy", "x", &placeholder, props)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert_eq!(bed.calls().await, Vec::<String>::new());
    assert_eq!(settings_of(&bed.user(LEGACY_ID).await.unwrap()), before);
}

#[tokio::test]
async fn a_delete_with_import_id_keeps_the_user_and_removes_only_our_tags() {
    let bed = Bed::start().await;
    let before = settings_of(&bed.user(LEGACY_ID).await.unwrap());
    let a = bed.create("Legacy", legacy()).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    bed.clear_calls().await;
    let d = bed.delete("Legacy", &a.physical_id(), legacy()).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser", "UntagResource"]);
    assert_eq!(settings_of(&bed.user(LEGACY_ID).await.unwrap()), before, "kept, with its own tags only");
    // Already released (or gone): still SUCCESS.
    let again = bed.delete("Legacy", &a.physical_id(), legacy()).await;
    assert_eq!(again.status(), "SUCCESS", "{}", again.reason());
    assert!(bed.user(LEGACY_ID).await.is_some());
}

#[tokio::test]
async fn removing_import_id_hands_the_user_to_the_stack() {
    let bed = Bed::start().await;
    let a = bed.create("Legacy", legacy()).await;
    let pid = a.physical_id();
    let mut owned = legacy();
    owned.as_object_mut().unwrap().remove("ImportId");
    bed.clear_calls().await;
    let u = bed.update("Legacy", &pid, owned.clone(), legacy()).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(u.physical_id(), pid);
    assert_eq!(u.body["Data"], a.body["Data"], "the same attributes, without a call");
    assert_eq!(bed.calls().await, Vec::<String>::new());
    let d = bed.delete("Legacy", &pid, owned).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert_eq!(bed.calls().await, vec!["DeleteUser"]);
    assert!(bed.user(LEGACY_ID).await.is_none(), "now the stack's, so deleted with it");
}

#[tokio::test]
async fn a_changed_import_id_replaces_and_the_cleanup_releases_the_old_import() {
    let bed = Bed::start().await;
    let created = bed.create("Agent", soft_phone("fresh.agent")).await;
    // Point the resource at the existing legacy.agent instead: a replacement that takes it over.
    let u = bed.update("Agent", &created.physical_id(), legacy(), soft_phone("fresh.agent")).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(u.physical_id(), format!("{IID}:{LEGACY_ID}"));
    // CloudFormation's cleanup deletes the old user, which the stack created.
    let d = bed.delete("Agent", &created.physical_id(), soft_phone("fresh.agent")).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.user(&created.user_id()).await.is_none());
    assert_eq!(bed.user(LEGACY_ID).await.unwrap()["Tags"][HOLDER_TAG], holder("Agent"));
}

#[tokio::test]
async fn an_existing_name_without_import_id_points_to_import_id() {
    let bed = Bed::start().await;
    let mut props = legacy();
    props.as_object_mut().unwrap().remove("ImportId");
    let a = bed.create("Legacy", with(props, "Password", json!(PASSWORD))).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().contains(&format!("take it over with ImportId: {IID}:{LEGACY_ID}")), "{}", a.reason());
    assert!(bed.user(LEGACY_ID).await.is_some());
}

#[tokio::test]
async fn the_native_migration_example_takes_the_user_over_by_arn_with_native_names() {
    // examples/migrate-from-native-2-import.yaml, for the fixture's legacy.agent: AWS::Connect::User's names, and
    // the ARN that Ref of the native resource gave as ImportId.
    let bed = Bed::start().await;
    let props = json!({
        "ImportId": format!("{IARN}/agent/{LEGACY_ID}"),
        "InstanceArn": IARN,
        "Username": "legacy.agent",
        "RoutingProfileArn": format!("{IARN}/routing-profile/{RP_BASIC}"),
        "SecurityProfileArns": [format!("{IARN}/security-profile/{SP_AGENT}")],
        "IdentityInfo": {"FirstName": "Lee", "LastName": "Gacy", "Email": "lee.gacy@example.com"},
        "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": "30"},
        "Tags": [{"Key": "team", "Value": "support"}]
    });
    let a = bed.create("Agent", props.clone()).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(a.physical_id(), format!("{IID}:{LEGACY_ID}"));
    assert_eq!(writes(&bed.call_log().await), vec!["TagResource"]);
    // Step 4: ImportId removed, the stack owns the user.
    let mut owned = props.clone();
    owned.as_object_mut().unwrap().remove("ImportId");
    let u = bed.update("Agent", &a.physical_id(), owned, props).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(writes(&bed.call_log().await), vec!["TagResource"], "no further call");
}

/// Issue 26: a holder record naming a stack CloudFormation says is gone (deleted with its resource retained) does
/// not block a take-over forever; a holder whose stack exists still refuses.
#[tokio::test]
async fn a_holder_whose_stack_is_gone_does_not_block_a_take_over_and_one_whose_stack_exists_does() {
    let bed = Bed::start().await;
    let arn = format!("{IARN}/agent/{LEGACY_ID}");
    let stack = |name: &str, guid: &str| format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/{guid}");
    let hold = |value: String| {
        let bed = &bed;
        let arn = arn.clone();
        async move { bed.connect.tag_resource().resource_arn(arn).tags(HOLDER_TAG, value).send().await.unwrap() }
    };
    let cases = [
        ("exists", Some("UPDATE_COMPLETE"), false),
        ("deleted", Some("DELETE_COMPLETE"), true),
        ("unknown", None, true),
        ("rolling", Some("UPDATE_ROLLBACK_COMPLETE"), false),
    ];
    for (i, (name, status, taken)) in cases.into_iter().enumerate() {
        let guid = format!("9d1c0000-0000-0000-0000-00000000000{i}");
        bed.runtime.other_stack(&stack(name, &guid), status);
        hold(format!("{name}/{guid}/Agent")).await;
        bed.clear_calls().await;
        let logical = format!("Taker{i}");
        let a = bed.create(&logical, legacy()).await;
        let log = bed.call_log().await;
        assert!(bed.runtime.described_stacks().contains(&stack(name, &guid)), "{name}: its stack was looked up");
        if taken {
            assert_eq!(a.status(), "SUCCESS", "{name}: {}", a.reason());
            assert_eq!(writes(&log), vec!["TagResource"], "{name}");
            assert_eq!(log.last().unwrap()["request"]["tags"], json!({HOLDER_TAG: holder(&logical)}), "{name}: the stale record replaced");
            assert!(bed.output().contains(&format!("names stack {name} ({guid}), which CloudFormation says is")), "{name}: logged");
        } else {
            assert_eq!(a.status(), "FAILED", "{name}");
            assert!(a.reason().contains(&format!("already held by resource Agent of stack {name} ({guid})")), "{name}: {}", a.reason());
            assert!(writes(&log).is_empty(), "{name}: nothing changed");
        }
    }
}

/// Issue 26 (docs/import.md, "Between single resources and a set"): agents move from single resources to one
/// set and back without anyone deleted or re-created: release them where they are (ImportId = their own id, then
/// remove the resources), take them over in the new shape (ImportId on each entry or resource).
#[tokio::test]
async fn agents_move_from_single_resources_to_a_set_and_back_keeping_their_ids() {
    let bed = Bed::with_store().await;
    let names = ["move.ana", "move.ben", "move.cai"];
    let mut singles = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let a = bed.create(&format!("Single{i}"), soft_phone(n)).await;
        assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
        singles.push((format!("Single{i}"), a.physical_id(), a.user_id()));
    }
    let ids: Vec<String> = singles.iter().map(|s| s.2.clone()).collect();
    let snapshot = || async {
        let mut v = Vec::new();
        for id in &ids {
            let mut u = settings_of(&bed.user(id).await.expect("the user is there"));
            u["Tags"].as_object_mut().unwrap().retain(|k, _| !k.starts_with("connect-user-resource:"));
            v.push(u);
        }
        v
    };
    let before = snapshot().await;

    // 1. Release them where they are: ImportId = their own id (an Update without calls), then remove them.
    for (i, (logical, pid, _)) in singles.iter().enumerate() {
        let released = with(soft_phone(names[i]), "ImportId", json!(pid));
        assert_eq!(bed.update(logical, pid, released.clone(), soft_phone(names[i])).await.status(), "SUCCESS");
        assert_eq!(bed.delete(logical, pid, released).await.status(), "SUCCESS");
    }
    assert_eq!(snapshot().await, before, "kept, as they were");

    // 2. Take them over as one set, as connect-users export --as set writes it.
    let r = crate::export::export(&bed, &["--instance-id", IID, "--as", "set", "--format", "json", "--username-prefix", "move."]).await;
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let t: Value = serde_json::from_slice(&r.stdout).unwrap();
    let mut set = t["Resources"]["Roster"]["Properties"].clone();
    set.as_object_mut().unwrap().remove("ServiceToken");
    bed.clear_calls().await;
    let s = bed.send(events::for_set(events::create("Roster", "x", set.clone()))).await;
    assert_eq!(s.status(), "SUCCESS", "{}", s.reason());
    assert_eq!(writes(&bed.call_log().await), vec!["TagResource"; 3], "the set's hold only");
    assert_eq!(snapshot().await, before);

    // 3. And back: the set's Delete releases what it took over, and single resources take them over again.
    let d = bed.send(events::for_set(events::delete("Roster", "x", &s.physical_id(), set))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    bed.clear_calls().await;
    for (i, (_, pid, id)) in singles.iter().enumerate() {
        let back = with(with(soft_phone(names[i]), "ImportId", json!(pid)), "Password", Value::Null);
        let a = bed.create(&format!("Again{i}"), back).await;
        assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
        assert_eq!(&a.user_id(), id, "the same user");
    }
    assert_eq!(writes(&bed.call_log().await), vec!["TagResource"; 3]);
    assert_eq!(snapshot().await, before, "every id and setting kept throughout");
    assert_eq!(bed.users().await.len(), 3, "nobody created or deleted: the same three users");
}

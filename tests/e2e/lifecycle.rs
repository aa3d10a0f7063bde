//! Create, Update and Delete through the real binary under a Runtime API, against the emulator.

use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};

fn assert_one_clean_put(a: &Answer, logical: &str) {
    assert_eq!(a.puts.len(), 1, "exactly one response");
    let p = &a.puts[0];
    assert_eq!(p.method, "PUT");
    assert!(p.content_type.as_deref().unwrap_or("").is_empty(), "no Content-Type: {:?}", p.content_type);
    assert_eq!(p.content_length, Some(p.body.len()));
    assert!(p.body.len() <= 4096);
    assert_eq!(a.body["StackId"], events::STACK_ID);
    assert_eq!(a.body["LogicalResourceId"], logical);
    assert!(a.body["RequestId"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(!a.physical_id().is_empty());
}

#[tokio::test]
async fn the_four_guide_scenarios_create_what_they_say() {
    let bed = Bed::start().await;
    // 1. Soft phone.
    let a = bed.create("SoftPhone", soft_phone("example")).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_one_clean_put(&a, "SoftPhone");
    assert_eq!(a.physical_id(), format!("{IID}:{}", a.user_id()));
    assert_eq!(a.body["Data"]["UserId"], a.user_id());
    assert_eq!(a.body["Data"]["Arn"], format!("{IARN}/agent/{}", a.user_id()));
    assert_eq!(a.body["Data"]["InstanceId"], IID);
    assert_eq!(a.body["Data"]["Name"], "example");
    let u = bed.user(&a.user_id()).await.unwrap();
    assert_eq!(u["PhoneConfig"]["PhoneType"], "SOFT_PHONE");
    assert_eq!(u["IdentityInfo"], json!({"FirstName": "example", "LastName": "example2"}));
    assert_eq!(u["Password"], PASSWORD);

    // 2. Hierarchy group, with the instance given as an ARN: the physical id still uses the plain id.
    let props = with(with(soft_phone("example-hierarchy"), "HierarchyGroupId", json!(HG_NA)), "InstanceId", json!(IARN));
    let a = bed.create("Hierarchy", props).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert!(a.physical_id().starts_with(&format!("{IID}:")));
    assert_eq!(bed.user(&a.user_id()).await.unwrap()["HierarchyGroupId"], HG_NA);

    // 3. Email and SecondaryEmail.
    let props = with(
        soft_phone("example-email"),
        "IdentityInfo",
        json!({"Email": "example@example.com", "FirstName": "example", "LastName": "example2", "SecondaryEmail": "secondary@example.com"}),
    );
    let a = bed.create("Email", props).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let u = bed.user(&a.user_id()).await.unwrap();
    assert_eq!(u["IdentityInfo"]["SecondaryEmail"], "secondary@example.com");

    // 4. Two security profiles, desk phone, AutoAccept false.
    let props = with(
        with(soft_phone("example-desk"), "SecurityProfileIds", json!([SP_AGENT, SP_MANAGER])),
        "PhoneConfig",
        json!({"AfterContactWorkTimeLimit": "100", "AutoAccept": "false", "DeskPhoneNumber": "+112345678912", "PhoneType": "DESK_PHONE"}),
    );
    let a = bed.create("Desk", props).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let u = bed.user(&a.user_id()).await.unwrap();
    assert_eq!(
        u["PhoneConfig"],
        json!({"PhoneType": "DESK_PHONE", "AutoAccept": false, "AfterContactWorkTimeLimit": 100, "DeskPhoneNumber": "+112345678912", "PersistentConnection": false})
    );
    assert_eq!(u["SecurityProfileIds"].as_array().unwrap().len(), 2);

    // One CreateUser per user, nothing else.
    assert_eq!(bed.calls().await, vec!["CreateUser"; 4]);
}

#[tokio::test]
async fn updates_call_only_what_changed() {
    let bed = Bed::start().await;
    let old = with(soft_phone("agent"), "Tags", json!([{"Key": "team", "Value": "blue"}, {"Key": "cost", "Value": "1"}]));
    let a = bed.create("Agent", old.clone()).await;
    let pid = a.physical_id();

    // Nothing changed (the same instance written as an ARN is no change): only the read.
    bed.clear_calls().await;
    let same = with(old.clone(), "InstanceId", json!(IARN));
    let u = bed.update("Agent", &pid, same, old.clone()).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(u.physical_id(), pid);
    assert_eq!(bed.calls().await, vec!["DescribeUser"]);

    // One group at a time: each is the read plus its own call.
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (with(old.clone(), "RoutingProfileId", json!(RP_SALES)), vec!["DescribeUser", "UpdateUserRoutingProfile"]),
        (with(old.clone(), "SecurityProfileIds", json!([SP_QA, SP_AGENT])), vec!["DescribeUser", "UpdateUserSecurityProfiles"]),
        (with(old.clone(), "HierarchyGroupId", json!(HG_EMEA)), vec!["DescribeUser", "UpdateUserHierarchy"]),
        (
            with(old.clone(), "IdentityInfo", json!({"FirstName": "Jane", "LastName": "Doe", "Mobile": "+14155550100"})),
            vec!["DescribeUser", "UpdateUserIdentityInfo"],
        ),
        (
            with(old.clone(), "PhoneConfig", json!({"PhoneType": "SOFT_PHONE", "AutoAccept": "true", "AfterContactWorkTimeLimit": "45"})),
            vec!["DescribeUser", "UpdateUserPhoneConfig"],
        ),
        (with(old.clone(), "Tags", json!({"team": "red", "cost": "1"})), vec!["DescribeUser", "TagResource"]),
        (with(old.clone(), "Tags", json!({"team": "blue"})), vec!["DescribeUser", "UntagResource"]),
    ];
    let mut prev = old.clone();
    for (new, expected) in cases {
        // Each case starts from the original properties, so first put the user back (not counted).
        let back = bed.update("Agent", &pid, old.clone(), prev.clone()).await;
        assert_eq!(back.status(), "SUCCESS", "{}", back.reason());
        bed.clear_calls().await;
        let u = bed.update("Agent", &pid, new.clone(), old.clone()).await;
        assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
        assert_eq!(u.physical_id(), pid, "in place keeps the physical id");
        assert_eq!(bed.calls().await, expected, "for {new}");
        prev = new;
    }
    let user = bed.user(&a.user_id()).await.unwrap();
    assert_eq!(user["Tags"]["team"], "blue");
    assert!(user["Tags"]["connect-user-resource:request"].is_string(), "the marker survives tag updates");
    assert!(user["Tags"].get("cost").is_none());
}

#[tokio::test]
async fn removing_the_hierarchy_group_takes_the_user_out_of_it() {
    let bed = Bed::start().await;
    let old = with(soft_phone("agent"), "HierarchyGroupId", json!(HG_NA));
    let a = bed.create("Agent", old.clone()).await;
    let u = bed.update("Agent", &a.physical_id(), soft_phone("agent"), old).await;
    assert_eq!(u.status(), "SUCCESS");
    assert!(bed.user(&a.user_id()).await.unwrap().get("HierarchyGroupId").is_none());
}

#[tokio::test]
async fn drift_made_outside_the_stack_is_corrected() {
    let bed = Bed::start().await;
    let props = soft_phone("agent");
    let a = bed.create("Agent", props.clone()).await;
    bed.connect.update_user_routing_profile().instance_id(IID).user_id(a.user_id()).routing_profile_id(RP_SALES).send().await.unwrap();
    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), props.clone(), props).await;
    assert_eq!(u.status(), "SUCCESS");
    assert_eq!(bed.calls().await, vec!["DescribeUser", "UpdateUserRoutingProfile"]);
    assert_eq!(bed.user(&a.user_id()).await.unwrap()["RoutingProfileId"], RP_BASIC);
}

#[tokio::test]
async fn a_name_change_replaces_and_the_old_user_is_deleted_in_cleanup() {
    let bed = Bed::start().await;
    let old = soft_phone("agent");
    let a = bed.create("Agent", old.clone()).await;
    let new = with(old.clone(), "Name", json!("agent-renamed"));
    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), new.clone(), old.clone()).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_ne!(u.physical_id(), a.physical_id(), "a new physical id means replacement");
    assert_eq!(u.body["Data"]["Name"], "agent-renamed");
    assert_eq!(bed.calls().await, vec!["DescribeUser", "CreateUser"]);
    assert_eq!(bed.users().await.len(), 2, "create before delete");
    // CloudFormation's cleanup deletes the old one.
    let d = bed.delete("Agent", &a.physical_id(), old).await;
    assert_eq!(d.status(), "SUCCESS");
    let names: Vec<Value> = bed.users().await.iter().map(|u| u["Username"].clone()).collect();
    assert_eq!(names, vec![json!("agent-renamed")]);
}

#[tokio::test]
async fn an_instance_change_replaces_without_reading_the_old_user() {
    let bed = Bed::start().await;
    let old = soft_phone("agent");
    let a = bed.create("Agent", old.clone()).await;
    bed.clear_calls().await;
    let new = json!({"InstanceId": SAML_IID, "Name": "agent", "RoutingProfileId": SAML_RP, "SecurityProfileIds": [SAML_SP]});
    let u = bed.update("Agent", &a.physical_id(), new, old).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert!(u.physical_id().starts_with(SAML_IID));
    assert_eq!(bed.calls().await, vec!["CreateUser"]);
}

#[tokio::test]
async fn password_and_directory_changes_are_refused_without_any_change() {
    // The refused Update is recorded in the state table, so that its rollback is told apart.
    let bed = Bed::with_store().await;
    let old = with(soft_phone("agent"), "DirectoryUserId", json!("dir-1"));
    let a = bed.create("Agent", old.clone()).await;
    let before = bed.user(&a.user_id()).await;
    for (key, value) in [("Password", json!("An0therPassword")), ("DirectoryUserId", json!("dir-2"))] {
        bed.clear_calls().await;
        let new = with(with(old.clone(), key, value), "RoutingProfileId", json!(RP_SALES));
        let u = bed.update("Agent", &a.physical_id(), new.clone(), old.clone()).await;
        assert_eq!(u.status(), "FAILED");
        assert!(u.reason().starts_with(&format!("{key}: cannot be changed")), "{}", u.reason());
        assert!(u.reason().contains("new Name"), "{}", u.reason());
        assert_eq!(u.physical_id(), a.physical_id());
        assert_eq!(bed.calls().await, vec!["DescribeUser"], "nothing is changed");
        assert!(!u.reason().contains("An0therPassword"));
        // CloudFormation's rollback swaps the properties: it must succeed (the refused values never reached
        // Connect), or the stack would be left in UPDATE_ROLLBACK_FAILED.
        let r = bed.update("Agent", &a.physical_id(), old.clone(), new.clone()).await;
        assert_eq!(r.status(), "SUCCESS", "the rollback of a refused {key} change: {}", r.reason());
        assert_eq!(r.physical_id(), a.physical_id());
        assert_eq!(bed.user(&a.user_id()).await, before, "and it changes nothing");
        // The same change asked for again by the user (not a rollback) is still refused; so is one that starts
        // from the refused properties but goes elsewhere (only the exact swap is a rollback).
        let again = bed.update("Agent", &a.physical_id(), new.clone(), old.clone()).await;
        assert_eq!(again.status(), "FAILED", "{key}");
        let elsewhere = with(old.clone(), "RoutingProfileId", json!(RP_BASIC));
        let e = bed.update("Agent", &a.physical_id(), with(elsewhere, key, json!("Y3tAnotherPassw0rd")), new).await;
        assert_eq!(e.status(), "FAILED", "{key}: {}", e.reason());
    }
    assert_eq!(bed.user(&a.user_id()).await, before);
}

#[tokio::test]
async fn a_user_deleted_outside_the_stack_is_created_again() {
    let bed = Bed::start().await;
    let props = soft_phone("agent");
    let a = bed.create("Agent", props.clone()).await;
    bed.connect.delete_user().instance_id(IID).user_id(a.user_id()).send().await.unwrap();
    let u = bed.update("Agent", &a.physical_id(), with(props.clone(), "RoutingProfileId", json!(RP_SALES)), props).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_ne!(u.physical_id(), a.physical_id());
    assert_eq!(bed.user(&u.user_id()).await.unwrap()["RoutingProfileId"], RP_SALES);
}

#[tokio::test]
async fn deletes_never_fail_on_what_is_already_gone() {
    let bed = Bed::start().await;
    let props = soft_phone("agent");
    let a = bed.create("Agent", props.clone()).await;
    bed.clear_calls().await;
    let d = bed.delete("Agent", &a.physical_id(), props.clone()).await;
    assert_eq!(d.status(), "SUCCESS");
    assert_one_clean_put(&d, "Agent");
    assert_eq!(d.physical_id(), a.physical_id());
    assert!(bed.users().await.is_empty());
    // Again: already gone.
    let d = bed.delete("Agent", &a.physical_id(), props.clone()).await;
    assert_eq!(d.status(), "SUCCESS");
    // A gone instance.
    let d = bed.delete("Agent", "00000000-0000-0000-0000-000000000000:u-1", props.clone()).await;
    assert_eq!(d.status(), "SUCCESS");
    assert_eq!(bed.calls().await, vec!["DeleteUser"; 3]);
    // A failed Create's placeholder: no call at all.
    bed.clear_calls().await;
    let d = bed.delete("Agent", "create-failed-Agent-1234", json!({"Name": 5})).await;
    assert_eq!(d.status(), "SUCCESS");
    assert!(bed.calls().await.is_empty());
}

#[tokio::test]
async fn a_failed_create_is_followed_by_a_clean_delete() {
    let bed = Bed::start().await;
    let a = bed.create("Agent", with(soft_phone("agent"), "RoutingProfileId", json!("no-such-profile"))).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().contains("CreateUser failed: ResourceNotFoundException"), "{}", a.reason());
    let d = bed.delete("Agent", &a.physical_id(), soft_phone("agent")).await;
    assert_eq!(d.status(), "SUCCESS");
    assert_eq!(bed.calls().await, vec!["CreateUser"]);
}

#[tokio::test]
async fn bad_input_gets_one_failed_response_naming_the_property_and_changes_nothing() {
    let bed = Bed::start().await;
    let cases = vec![
        (
            with(soft_phone("a"), "PhoneConfig", json!({"PhoneType": "DESK_PHONE"})),
            "PhoneConfig.DeskPhoneNumber: required when PhoneType is DESK_PHONE",
        ),
        (
            {
                let mut v = soft_phone("a");
                let sp = v.as_object_mut().unwrap().remove("SecurityProfileIds").unwrap();
                v["SecurityProfileId"] = sp;
                v
            },
            "SecurityProfileId: unknown property; did you mean SecurityProfileIds?",
        ),
        (with(soft_phone("a"), "Password", json!("weak")), "Password: must be 8 to 64 characters"),
        (with(soft_phone("a"), "IdentityInfo", json!({"Email": "nope"})), "IdentityInfo.Email: must be an email address"),
        (with(soft_phone("a"), "PhoneConfig", json!({"AutoAccept": "maybe"})), "PhoneConfig.AutoAccept: expected a boolean"),
    ];
    for (props, want) in cases {
        let a = bed.create("Agent", props).await;
        assert_eq!(a.status(), "FAILED");
        assert_one_clean_put(&a, "Agent");
        assert!(a.reason().contains(want), "{} does not contain {want}", a.reason());
    }
    // Connect's own errors name the code and message.
    let a = bed.create("Agent", with(soft_phone("a"), "RoutingProfileId", json!("no-such"))).await;
    assert!(a.reason().starts_with("CreateUser failed: ResourceNotFoundException: Routing profile not found"), "{}", a.reason());
    // Only that last one reached Connect.
    assert_eq!(bed.calls().await, vec!["CreateUser"]);
    assert!(bed.users().await.is_empty());
    // Invalid properties on an Update change nothing either.
    let ok = bed.create("Agent", soft_phone("b")).await;
    bed.clear_calls().await;
    let u = bed.update("Agent", &ok.physical_id(), with(soft_phone("b"), "SecurityProfileIds", json!([])), soft_phone("b")).await;
    assert_eq!(u.status(), "FAILED");
    assert_eq!(u.physical_id(), ok.physical_id());
    assert!(bed.calls().await.is_empty());
}

#[tokio::test]
async fn malformed_events_and_sns_delivery() {
    let bed = Bed::start().await;
    // An unknown request type still gets its one FAILED response.
    let mut e = events::create("Agent", "x", soft_phone("a"));
    e["RequestType"] = json!("Upsert");
    let a = bed.send(e).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().contains("unknown RequestType"));
    assert_eq!(a.puts.len(), 1);
    // Properties that are not an object: the Create is FAILED with a placeholder id...
    let mut e = events::create("Agent", "x", json!({}));
    e["ResourceProperties"] = json!("oops");
    let failed = bed.send(e).await;
    assert_eq!(failed.status(), "FAILED");
    assert!(failed.physical_id().starts_with("create-failed-"));
    // ...and the rollback Delete that follows, with the same properties, is SUCCESS without any call.
    bed.clear_calls().await;
    let mut d = events::delete("Agent", "x", &failed.physical_id(), json!({}));
    d["ResourceProperties"] = json!("oops");
    let rollback = bed.send(d).await;
    assert_eq!(rollback.status(), "SUCCESS", "{}", rollback.reason());
    assert_eq!(rollback.physical_id(), failed.physical_id());
    // A Delete of a real user with unreadable properties cannot tell whether the user was imported: it keeps the
    // user (a pre-existing agent is never deleted on a guess) and answers SUCCESS, so the stack is not stuck.
    let mut d = events::delete("Agent", "x", &format!("{IID}:{LEGACY_ID}"), json!({}));
    d["ResourceProperties"] = json!(["not", "an", "object"]);
    let kept = bed.send(d).await;
    assert_eq!(kept.status(), "SUCCESS", "{}", kept.reason());
    assert!(bed.calls().await.is_empty());
    assert!(bed.user(LEGACY_ID).await.is_some());
    // Any other request with such properties is still refused.
    let mut u = events::update("Agent", "x", &format!("{IID}:{LEGACY_ID}"), json!({}), json!({}));
    u["ResourceProperties"] = json!(7);
    assert!(bed.send(u).await.reason().contains("ResourceProperties must be an object"));
    // SNS: the same handling.
    let a = bed.send(events::sns(&events::create("Agent", "x", soft_phone("via-sns")))).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(bed.user(&a.user_id()).await.unwrap()["Username"], "via-sns");
    let d = bed.send(events::sns(&events::delete("Agent", "x", &a.physical_id(), soft_phone("via-sns")))).await;
    assert_eq!(d.status(), "SUCCESS");
    assert!(bed.users().await.is_empty());
}

#[tokio::test]
async fn saml_instances_need_no_password_and_refuse_one() {
    let bed = Bed::start().await;
    let props =
        json!({"InstanceId": SAML_IID, "Name": "sso.user@example.com", "RoutingProfileId": SAML_RP, "SecurityProfileIds": [SAML_SP]});
    let a = bed.create("Sso", props.clone()).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let a = bed.create("Sso2", with(with(props, "Name", json!("other")), "Password", json!(PASSWORD))).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().starts_with("CreateUser failed: InvalidRequestException: Password is not allowed"), "{}", a.reason());
    // And a CONNECT_MANAGED instance without one.
    let mut p = soft_phone("nopass");
    p.as_object_mut().unwrap().remove("Password");
    let a = bed.create("NoPass", p).await;
    assert!(a.reason().contains("Password is required"), "{}", a.reason());
}

#[tokio::test]
async fn the_sample_events_run_in_lifecycle_order() {
    let bed = Bed::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut ids = events::Ids::default();
    let files = events::load_dir(&dir).unwrap();
    assert!(files.len() >= 8);
    for (file, raw) in files {
        let event = events::fill(&raw, "x", &ids);
        assert!(!event.to_string().contains("{{"), "{file}: unfilled placeholder");
        let logical = event["LogicalResourceId"].as_str().unwrap().to_string();
        let a = bed.send(event).await;
        assert_eq!(a.status(), "SUCCESS", "{file}: {}", a.reason());
        ids.record(&logical, &a.physical_id());
    }
    let names: Vec<String> = bed.users().await.iter().map(|u| u["Username"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["example-email", "example-desk", "example-hierarchy-2"]);
    // The fixture's legacy.agent was taken over (brought to its template), then released, not deleted.
    let legacy = bed.user(LEGACY_ID).await.expect("released, not deleted");
    assert_eq!(legacy["RoutingProfileId"], RP_SALES);
    assert_eq!(legacy["Tags"], json!({"team": "support", "managed-by": "cloudformation"}));
}

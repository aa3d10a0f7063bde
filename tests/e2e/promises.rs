//! Promises of the docs that had no test of their own: failures of Delete, throttling that outlasts the deadline,
//! defaults after a removed property, the full order of in-place calls, and a timed-out handler that stays quiet.

use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};
use std::time::Duration;

/// A throttle that never lets a call through (no burst, practically no refill).
async fn throttle_forever(bed: &Bed, operation: &str) {
    bed.control("POST", "throttle", Some(json!({"operation": operation, "rate": 0.000001, "burst": 0}))).await;
}

fn answered_before_the_deadline(bed: &Bed, a: &Answer) {
    let deadline = *bed.runtime.deadlines().last().unwrap();
    assert_eq!(a.puts.len(), 1);
    assert!(a.puts[0].received_ms <= deadline, "answered {} ms after the deadline", a.puts[0].received_ms - deadline);
}

#[tokio::test]
async fn a_delete_error_other_than_not_found_is_failed_and_the_user_stays() {
    let bed = Bed::start().await;
    let props = soft_phone("stays");
    let a = bed.create("Agent", props.clone()).await;
    bed.fault("DeleteUser", 1, "AccessDeniedException").await;
    let d = bed.delete("Agent", &a.physical_id(), props.clone()).await;
    assert_eq!(d.status(), "FAILED");
    assert!(d.reason().starts_with("DeleteUser failed: AccessDeniedException"), "{}", d.reason());
    assert_eq!(d.physical_id(), a.physical_id());
    assert!(bed.user(&a.user_id()).await.is_some());

    // Throttling that outlasts the deadline: FAILED before it, saying the deadline was near; the user stays.
    throttle_forever(&bed, "DeleteUser").await;
    let d = bed.send_with_deadline(events::delete("Agent", "x", &a.physical_id(), props), Duration::from_secs(3)).await;
    assert_eq!(d.status(), "FAILED");
    assert!(d.reason().contains("deadline was near"), "{}", d.reason());
    answered_before_the_deadline(&bed, &d);
    assert!(bed.user(&a.user_id()).await.is_some());
}

#[tokio::test]
async fn throttling_that_outlasts_the_deadline_fails_before_it() {
    let bed = Bed::start().await;
    throttle_forever(&bed, "CreateUser").await;
    let a = bed.send_with_deadline(events::create("Agent", "x", soft_phone("never")), Duration::from_secs(3)).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().contains("ThrottlingException") && a.reason().contains("deadline was near"), "{}", a.reason());
    answered_before_the_deadline(&bed, &a);
    let log = bed.call_log().await;
    assert!(log.len() > 1 && log.iter().all(|c| c["status"] == 429), "retried, never through");
    assert!(bed.users().await.is_empty());
}

#[tokio::test]
async fn a_removed_phone_config_and_identity_info_go_back_to_the_defaults() {
    let bed = Bed::start().await;
    let full = with(
        with(
            soft_phone("defaults"),
            "PhoneConfig",
            json!({"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+14155550100", "AutoAccept": "true", "AfterContactWorkTimeLimit": "90", "PersistentConnection": "true"}),
        ),
        "IdentityInfo",
        json!({"FirstName": "Dee", "LastName": "Fault", "Email": "dee@example.com", "SecondaryEmail": "d@example.org", "Mobile": "+14155550101"}),
    );
    let a = bed.create("Agent", full.clone()).await;
    let mut no_phone = full.clone();
    no_phone.as_object_mut().unwrap().remove("PhoneConfig");
    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), no_phone.clone(), full.clone()).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser", "UpdateUserPhoneConfig"]);
    assert_eq!(
        bed.user(&a.user_id()).await.unwrap()["PhoneConfig"],
        json!({"PhoneType": "SOFT_PHONE", "AutoAccept": false, "AfterContactWorkTimeLimit": 0, "PersistentConnection": false})
    );

    let mut neither = no_phone.clone();
    neither.as_object_mut().unwrap().remove("IdentityInfo");
    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), neither, no_phone).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser", "UpdateUserIdentityInfo"]);
    let log = bed.call_log().await;
    assert_eq!(log[1]["request"]["IdentityInfo"], json!({}), "every field emptied");
    assert_eq!(bed.user(&a.user_id()).await.unwrap()["IdentityInfo"], json!({}));
}

#[tokio::test]
async fn the_full_order_of_in_place_calls() {
    let bed = Bed::start().await;
    let old = json!({
        "InstanceId": IID, "Name": "order", "Password": PASSWORD, "RoutingProfileId": RP_BASIC,
        "SecurityProfileIds": [SP_AGENT], "HierarchyGroupId": HG_NA,
        "IdentityInfo": {"FirstName": "Or", "LastName": "Der"},
        "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": "0"},
        "VoiceEnhancementConfigs": [{"Channel": "VOICE", "VoiceEnhancementMode": "NONE"}],
        "UserProficiencies": [
            {"AttributeName": "Language", "AttributeValue": "English", "Level": "1"},
            {"AttributeName": "Language", "AttributeValue": "French", "Level": "1"}
        ],
        "Tags": {"gone": "1", "kept": "1"}
    });
    // Every group changed at once.
    let changes = [
        ("RoutingProfileId", json!(RP_SALES)),
        ("SecurityProfileIds", json!([SP_QA])),
        ("HierarchyGroupId", json!(HG_EMEA)),
        ("IdentityInfo", json!({"FirstName": "Re", "LastName": "Order"})),
        ("PhoneConfig", json!({"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": "60"})),
        ("VoiceEnhancementConfigs", json!([{"Channel": "VOICE", "VoiceEnhancementMode": "NOISE_SUPPRESSION"}])),
        (
            "UserProficiencies",
            json!([
                {"AttributeName": "Language", "AttributeValue": "English", "Level": "4"},
                {"AttributeName": "Language", "AttributeValue": "Spanish", "Level": "2"}
            ]),
        ),
        ("Tags", json!({"kept": "1", "new": "1"})),
    ];
    let new = changes.into_iter().fold(old.clone(), |v, (k, x)| with(v, k, x));
    let a = bed.create("Agent", old.clone()).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), new, old).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(
        bed.calls().await,
        vec![
            "DescribeUser",
            "ListUserProficiencies",
            "UpdateUserRoutingProfile",
            "UpdateUserSecurityProfiles",
            "UpdateUserHierarchy",
            "UpdateUserIdentityInfo",
            "UpdateUserPhoneConfig",
            "UpdateUserConfig",
            "DisassociateUserProficiencies",
            "UpdateUserProficiencies",
            "AssociateUserProficiencies",
            "UntagResource",
            "TagResource",
        ]
    );
}

#[tokio::test]
async fn a_timed_out_handler_makes_no_call_after_its_answer() {
    let bed = Bed::start().await;
    let old = soft_phone("quiet");
    let a = bed.create("Agent", old.clone()).await;
    // The first update call hangs past the deadline; the second must never be made.
    bed.control("POST", "faults", Some(json!({"operation": "UpdateUserRoutingProfile", "count": 1, "delay_ms": 5_000}))).await;
    let new = with(with(old.clone(), "RoutingProfileId", json!(RP_SALES)), "SecurityProfileIds", json!([SP_QA]));
    bed.clear_calls().await;
    let u = bed.send_with_deadline(events::update("Agent", "x", &a.physical_id(), new, old), Duration::from_secs(2)).await;
    assert_eq!(u.status(), "FAILED");
    assert!(u.reason().contains("deadline was near"), "{}", u.reason());
    // Wait until the hung call would have returned and the next one been made, had the task lived on.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let calls: Vec<String> = bed.calls().await;
    assert!(!calls.contains(&"UpdateUserSecurityProfiles".to_string()), "{calls:?}");
    let user: Value = bed.user(&a.user_id()).await.unwrap();
    assert_eq!(user["SecurityProfileIds"], json!([SP_AGENT]));
}

//! Everything AWS::Connect::User can do: per-channel configuration, proficiencies, and its property names.

use crate::support::*;
use serde_json::{json, Value};

fn full() -> Value {
    let mut p = soft_phone("channels");
    let o = p.as_object_mut().unwrap();
    o.remove("PhoneConfig");
    for (k, v) in json!({
        "AutoAcceptConfigs": [{"Channel": "VOICE", "AutoAccept": "true"}, {"Channel": "CHAT", "AutoAccept": "false", "AgentFirstCallbackAutoAccept": "true"}],
        "AfterContactWorkConfigs": [{"Channel": "VOICE", "AfterContactWorkConfig": {"AfterContactWorkTimeLimit": "30"}}],
        "PhoneNumberConfigs": [{"Channel": "VOICE", "PhoneType": "DESK_PHONE", "PhoneNumber": "+14155550100"}],
        "PersistentConnectionConfigs": [{"Channel": "VOICE", "PersistentConnection": "true"}],
        "VoiceEnhancementConfigs": [{"Channel": "VOICE", "VoiceEnhancementMode": "NOISE_SUPPRESSION"}],
        "UserProficiencies": [
            {"AttributeName": "Language", "AttributeValue": "English", "Level": "3"},
            {"AttributeName": "Technology", "AttributeValue": "Billing", "Level": "2.5"}
        ]
    })
    .as_object()
    .unwrap()
    {
        o.insert(k.clone(), v.clone());
    }
    p
}

fn channel(u: &Value, list: &str, ch: &str) -> Value {
    u[list].as_array().and_then(|l| l.iter().find(|e| e["Channel"] == ch)).cloned().unwrap_or(Value::Null)
}

fn levels(u: &Value) -> Vec<(String, f64)> {
    u["Proficiencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["AttributeValue"].as_str().unwrap().to_string(), p["Level"].as_f64().unwrap()))
        .collect()
}

#[tokio::test]
async fn every_configuration_list_and_proficiencies_through_create_update_and_removal() {
    let bed = Bed::start().await;
    let old = full();
    let a = bed.create("Agent", old.clone()).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(bed.calls().await, vec!["CreateUser", "AssociateUserProficiencies"]);
    let u = bed.user(&a.user_id()).await.unwrap();
    assert_eq!(channel(&u, "AutoAcceptConfigs", "VOICE")["AutoAccept"], true);
    assert_eq!(channel(&u, "AutoAcceptConfigs", "CHAT")["AgentFirstCallbackAutoAccept"], true);
    assert_eq!(channel(&u, "AfterContactWorkConfigs", "VOICE")["AfterContactWorkConfig"]["AfterContactWorkTimeLimit"], 30);
    assert_eq!(channel(&u, "PhoneNumberConfigs", "VOICE")["PhoneNumber"], "+14155550100");
    assert_eq!(channel(&u, "PersistentConnectionConfigs", "VOICE")["PersistentConnection"], true);
    assert_eq!(channel(&u, "VoiceEnhancementConfigs", "VOICE")["VoiceEnhancementMode"], "NOISE_SUPPRESSION");
    assert_eq!(levels(&u), vec![("English".to_string(), 3.0), ("Billing".to_string(), 2.5)]);

    // Nothing changed: the reads only.
    bed.clear_calls().await;
    let same = bed.update("Agent", &a.physical_id(), old.clone(), old.clone()).await;
    assert_eq!(same.status(), "SUCCESS", "{}", same.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser", "ListUserProficiencies"]);

    // Each list in place: one UpdateUserConfig with only the changed channel.
    let edits = [
        (
            "AutoAcceptConfigs",
            json!([{"Channel": "VOICE", "AutoAccept": "false"}, {"Channel": "CHAT", "AutoAccept": "false", "AgentFirstCallbackAutoAccept": "true"}]),
        ),
        ("AfterContactWorkConfigs", json!([{"Channel": "VOICE", "AfterContactWorkConfig": {"AfterContactWorkTimeLimit": "60"}}])),
        ("PhoneNumberConfigs", json!([{"Channel": "VOICE", "PhoneType": "SOFT_PHONE"}])),
        ("PersistentConnectionConfigs", json!([{"Channel": "VOICE", "PersistentConnection": "false"}])),
        ("VoiceEnhancementConfigs", json!([{"Channel": "VOICE", "VoiceEnhancementMode": "VOICE_ISOLATION"}])),
    ];
    let mut current = old.clone();
    for (list, value) in edits {
        let new = with(current.clone(), list, value);
        bed.clear_calls().await;
        let u = bed.update("Agent", &a.physical_id(), new.clone(), current.clone()).await;
        assert_eq!(u.status(), "SUCCESS", "{list}: {}", u.reason());
        assert_eq!(bed.calls().await, vec!["DescribeUser", "ListUserProficiencies", "UpdateUserConfig"], "{list}");
        let log = bed.control("GET", "calls", None).await;
        let body = &log["calls"][2]["request"];
        assert_eq!(
            body.as_object().unwrap().keys().filter(|k| k.ends_with("Configs")).collect::<Vec<_>>(),
            vec![list],
            "only {list} is sent"
        );
        assert_eq!(body[list].as_array().unwrap().len(), 1, "only the changed channel of {list}");
        current = new;
    }
    let u = bed.user(&a.user_id()).await.unwrap();
    assert_eq!(channel(&u, "AutoAcceptConfigs", "VOICE")["AutoAccept"], false);
    assert_eq!(channel(&u, "AutoAcceptConfigs", "CHAT")["AgentFirstCallbackAutoAccept"], true, "untouched channel kept");
    assert_eq!(channel(&u, "VoiceEnhancementConfigs", "VOICE")["VoiceEnhancementMode"], "VOICE_ISOLATION");
    assert!(channel(&u, "PhoneNumberConfigs", "VOICE").get("PhoneNumber").is_none());

    // Proficiencies: update one level, add one, drop one.
    let new = with(
        current.clone(),
        "UserProficiencies",
        json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": "4"}, {"AttributeName": "Language", "AttributeValue": "Spanish", "Level": "1"}]),
    );
    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), new.clone(), current.clone()).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(
        bed.calls().await,
        vec![
            "DescribeUser",
            "ListUserProficiencies",
            "DisassociateUserProficiencies",
            "UpdateUserProficiencies",
            "AssociateUserProficiencies"
        ]
    );
    assert_eq!(levels(&bed.user(&a.user_id()).await.unwrap()), vec![("English".to_string(), 4.0), ("Spanish".to_string(), 1.0)]);
    current = new;

    // Removed from the template: proficiencies go, lists return to their defaults.
    let mut bare = soft_phone("channels");
    bare.as_object_mut().unwrap().remove("PhoneConfig");
    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), bare, current).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    let calls = bed.calls().await;
    assert!(calls.contains(&"DisassociateUserProficiencies".to_string()) && calls.contains(&"UpdateUserConfig".to_string()), "{calls:?}");
    let u = bed.user(&a.user_id()).await.unwrap();
    assert!(levels(&u).is_empty());
    assert_eq!(channel(&u, "AutoAcceptConfigs", "CHAT")["AutoAccept"], false);
    assert!(channel(&u, "AutoAcceptConfigs", "CHAT").get("AgentFirstCallbackAutoAccept").is_none());
    assert_eq!(channel(&u, "AfterContactWorkConfigs", "VOICE")["AfterContactWorkConfig"]["AfterContactWorkTimeLimit"], 0);
    assert_eq!(channel(&u, "VoiceEnhancementConfigs", "VOICE")["VoiceEnhancementMode"], "NONE");
}

#[tokio::test]
async fn conflicts_and_bad_proficiencies_fail_before_any_call() {
    let bed = Bed::start().await;
    let v = with(soft_phone("x"), "AutoAcceptConfigs", json!([{"Channel": "VOICE", "AutoAccept": true}]));
    let v = with(v, "PhoneConfig", json!({"PhoneType": "SOFT_PHONE", "AutoAccept": "true"}));
    let a = bed.create("Agent", v).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().contains("PhoneConfig.AutoAccept: conflicts with AutoAcceptConfigs"), "{}", a.reason());
    let v = with(
        soft_phone("x"),
        "UserProficiencies",
        json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": 1}, {"AttributeName": "Language", "AttributeValue": "English", "Level": 2}]),
    );
    assert!(bed.create("Agent", v).await.reason().contains("is listed twice"));
    assert!(bed.calls().await.is_empty());
    // An unknown attribute is Connect's to refuse; the user created first is reported so cleanup deletes it.
    let v = with(soft_phone("y"), "UserProficiencies", json!([{"AttributeName": "Klingon", "AttributeValue": "Fluent", "Level": 1}]));
    let a = bed.create("Agent", v).await;
    assert_eq!(a.status(), "FAILED");
    assert!(a.reason().starts_with("AssociateUserProficiencies failed: ResourceNotFoundException"), "{}", a.reason());
    assert!(a.physical_id().starts_with(IID), "the created user's id, for the Delete that follows");
    let d = bed.delete("Agent", &a.physical_id(), json!({})).await;
    assert_eq!(d.status(), "SUCCESS");
    assert!(bed.users().await.is_empty());
}

#[tokio::test]
async fn a_native_aws_connect_user_template_works_after_changing_its_type() {
    let bed = Bed::start().await;
    let arn = |kind: &str, id: &str| format!("{IARN}/{kind}/{id}");
    // Properties as written for AWS::Connect::User (with CloudFormation's string values).
    let native = json!({
        "InstanceArn": IARN,
        "Username": "native-agent",
        "Password": PASSWORD,
        "RoutingProfileArn": arn("routing-profile", RP_BASIC),
        "SecurityProfileArns": [arn("security-profile", SP_AGENT)],
        "HierarchyGroupArn": arn("agent-group", HG_NA),
        "IdentityInfo": {"FirstName": "Native", "LastName": "Agent", "Email": "native@example.com"},
        "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": "10"},
        "UserProficiencies": [{"AttributeName": "Language", "AttributeValue": "French", "Level": "2"}],
        "Tags": [{"Key": "origin", "Value": "native"}]
    });
    let a = bed.create("NativeUser", native.clone()).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(a.body["Data"]["UserArn"], a.body["Data"]["Arn"]);
    assert_eq!(a.physical_id(), format!("{IID}:{}", a.user_id()));
    let u = bed.user(&a.user_id()).await.unwrap();
    assert_eq!((u["RoutingProfileId"].as_str(), u["HierarchyGroupId"].as_str()), (Some(RP_BASIC), Some(HG_NA)));
    assert_eq!(u["Tags"]["origin"], "native");

    let new = with(native.clone(), "SecurityProfileArns", json!([arn("security-profile", SP_AGENT), arn("security-profile", SP_QA)]));
    bed.clear_calls().await;
    let up = bed.update("NativeUser", &a.physical_id(), new.clone(), native).await;
    assert_eq!(up.status(), "SUCCESS", "{}", up.reason());
    assert_eq!(bed.calls().await, vec!["DescribeUser", "ListUserProficiencies", "UpdateUserSecurityProfiles"]);

    let d = bed.delete("NativeUser", &a.physical_id(), new).await;
    assert_eq!(d.status(), "SUCCESS");
    assert!(bed.users().await.is_empty());
}

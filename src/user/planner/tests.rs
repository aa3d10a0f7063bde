use super::*;
use crate::user::properties::{PhoneType, UserProps};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const IID: &str = "inst-1";

fn props(v: Value) -> UserProps {
    UserProps::parse(v.as_object().unwrap()).unwrap()
}

fn base() -> Value {
    json!({
        "InstanceId": IID, "Name": "jdoe", "Password": "Passw0rd!", "RoutingProfileId": "rp-1",
        "SecurityProfileIds": ["sp-1", "sp-2"], "HierarchyGroupId": "hg-1",
        "IdentityInfo": {"FirstName": "John", "LastName": "Doe"},
        "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": "0"},
        "Tags": {"team": "blue"}
    })
}

fn actual_of(p: &UserProps) -> Actual {
    Actual {
        user_id: "u-1".into(),
        arn: "arn:u-1".into(),
        username: p.name.clone(),
        settings: p.settings.clone(),
        marker_tags: BTreeMap::from([("connect-user-resource:request".into(), "m".into())]),
    }
}

fn current() -> PhysicalId {
    PhysicalId { instance_id: IID.into(), user_id: "u-1".into() }
}

fn plan(old: Value, new: Value, actual: Option<&Actual>) -> Plan {
    let n = props(new.clone());
    plan_update(&n, &Immutable::read(old.as_object().unwrap()), &Immutable::read(new.as_object().unwrap()), &current(), actual)
}

fn with(mut v: Value, key: &str, val: Value) -> Value {
    v[key] = val;
    v
}

#[test]
fn nothing_changed_means_no_calls() {
    let a = actual_of(&props(base()));
    assert_eq!(plan(base(), base(), Some(&a)), Plan::InPlace(vec![]));
}

#[test]
fn instance_change_is_a_replacement_even_without_reading() {
    let new = with(base(), "InstanceId", json!("inst-2"));
    assert!(matches!(plan(base(), new, None), Plan::Replace { why } if why.contains("InstanceId changed")));
}

#[test]
fn name_change_is_a_replacement() {
    let a = actual_of(&props(base()));
    let new = with(base(), "Name", json!("jdoe2"));
    assert!(matches!(plan(base(), new, Some(&a)), Plan::Replace { why } if why.contains("Name changed from jdoe to jdoe2")));
}

#[test]
fn a_replacement_may_also_change_the_password() {
    let a = actual_of(&props(base()));
    let new = with(with(base(), "Name", json!("jdoe2")), "Password", json!("Other0ne!"));
    assert!(matches!(plan(base(), new, Some(&a)), Plan::Replace { .. }));
}

#[test]
fn an_instance_written_as_an_arn_is_not_a_change() {
    let a = actual_of(&props(base()));
    let new = with(base(), "InstanceId", json!(format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}")));
    assert_eq!(plan(base(), new, Some(&a)), Plan::InPlace(vec![]));
}

#[test]
fn password_change_is_rejected_with_what_to_do() {
    let a = actual_of(&props(base()));
    let new = with(base(), "Password", json!("Other0ne!"));
    let Plan::Reject { reason } = plan(base(), new, Some(&a)) else { panic!("expected a rejection") };
    assert!(reason.starts_with("Password: cannot be changed"), "{reason}");
    assert!(reason.contains("revert") && reason.contains("new Name"), "{reason}");
    assert!(!reason.contains("Other0ne") && !reason.contains("Passw0rd"), "{reason}");
}

#[test]
fn switching_to_a_secret_is_a_password_change() {
    let a = actual_of(&props(base()));
    let mut new = base();
    new.as_object_mut().unwrap().remove("Password");
    new["PasswordSecretId"] = json!("my-secret");
    assert!(matches!(plan(base(), new, Some(&a)), Plan::Reject { .. }));
}

#[test]
fn directory_user_id_change_is_rejected() {
    let a = actual_of(&props(base()));
    let new = with(base(), "DirectoryUserId", json!("dir-2"));
    assert!(matches!(plan(base(), new, Some(&a)), Plan::Reject { reason } if reason.starts_with("DirectoryUserId: cannot be changed")));
}

#[test]
fn a_gone_user_is_recreated() {
    assert_eq!(plan(base(), with(base(), "RoutingProfileId", json!("rp-2")), None), Plan::Recreate);
}

#[test]
fn each_group_maps_to_its_own_call() {
    let a = actual_of(&props(base()));
    let cases: Vec<(Value, Change)> = vec![
        (with(base(), "RoutingProfileId", json!("rp-2")), Change::RoutingProfile("rp-2".into())),
        (with(base(), "SecurityProfileIds", json!(["sp-3"])), Change::SecurityProfiles(vec!["sp-3".into()])),
        (with(base(), "HierarchyGroupId", json!("hg-2")), Change::Hierarchy(Some("hg-2".into()))),
        (
            with(base(), "IdentityInfo", json!({"FirstName": "Jane", "LastName": "Doe"})),
            Change::IdentityInfo(IdentityInfo { first_name: Some("Jane".into()), last_name: Some("Doe".into()), ..Default::default() }),
        ),
        (
            with(base(), "PhoneConfig", json!({"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+14155550100"})),
            Change::PhoneConfig(PhoneConfig {
                phone_type: PhoneType::DeskPhone,
                desk_phone_number: Some("+14155550100".into()),
                ..Default::default()
            }),
        ),
    ];
    for (new, change) in cases {
        assert_eq!(plan(base(), new, Some(&a)), Plan::InPlace(vec![change]));
    }
}

#[test]
fn removing_the_hierarchy_group_takes_the_user_out() {
    let a = actual_of(&props(base()));
    let mut new = base();
    new.as_object_mut().unwrap().remove("HierarchyGroupId");
    assert_eq!(plan(base(), new, Some(&a)), Plan::InPlace(vec![Change::Hierarchy(None)]));
}

#[test]
fn security_profile_order_does_not_matter() {
    let a = actual_of(&props(base()));
    assert_eq!(plan(base(), with(base(), "SecurityProfileIds", json!(["sp-2", "sp-1"])), Some(&a)), Plan::InPlace(vec![]));
}

#[test]
fn tags_touch_only_the_difference_and_never_the_marker() {
    let mut a = actual_of(&props(base()));
    a.settings.tags.insert("old".into(), "x".into());
    let new = with(base(), "Tags", json!({"team": "red", "extra": "1"}));
    let Plan::InPlace(changes) = plan(base(), new, Some(&a)) else { panic!() };
    assert_eq!(
        changes,
        vec![Change::Untag(vec!["old".into()]), Change::Tag(BTreeMap::from([("extra".into(), "1".into()), ("team".into(), "red".into())]))]
    );
    assert!(!format!("{changes:?}").contains("connect-user-resource:request"));
}

#[test]
fn drift_is_corrected_against_actual_state() {
    // Someone moved the user to another routing profile outside the stack; the template did not change.
    let mut a = actual_of(&props(base()));
    a.settings.routing_profile_id = "rp-drifted".into();
    assert_eq!(plan(base(), base(), Some(&a)), Plan::InPlace(vec![Change::RoutingProfile("rp-1".into())]));
}

#[test]
fn a_rollback_after_a_partial_update_restores_only_what_changed() {
    let old = base();
    let new = with(
        with(with(base(), "RoutingProfileId", json!("rp-2")), "HierarchyGroupId", json!("hg-2")),
        "SecurityProfileIds",
        json!(["sp-9"]),
    );
    let new = with(new, "IdentityInfo", json!({"FirstName": "Jane"}));
    let Plan::InPlace(forward) = plan(old.clone(), new.clone(), Some(&actual_of(&props(old.clone())))) else { panic!() };
    assert_eq!(forward.len(), 4);
    // The first two calls went through, the third failed: the user is half way.
    let mut half = actual_of(&props(old.clone()));
    half.settings.routing_profile_id = "rp-2".into();
    half.settings.security_profile_ids = BTreeSet::from(["sp-9".to_string()]);
    // CloudFormation's rollback swaps old and new.
    let Plan::InPlace(back) = plan(new, old, Some(&half)) else { panic!() };
    assert_eq!(back, vec![Change::RoutingProfile("rp-1".into()), Change::SecurityProfiles(vec!["sp-1".into(), "sp-2".into()])]);
}

#[test]
fn a_rollback_from_invalid_properties_still_plans() {
    // The failed Update's properties were invalid; they are the rollback's old properties.
    let a = actual_of(&props(base()));
    let invalid_old = json!({"InstanceId": IID, "Name": "jdoe", "Password": "Passw0rd!", "PhoneConfig": {"PhoneType": "DESK_PHONE"}});
    assert_eq!(plan(invalid_old, base(), Some(&a)), Plan::InPlace(vec![]));
}

mod channels {
    use super::*;
    use crate::user::properties::{Entry, ListKind, Proficiencies};

    fn lists() -> Value {
        with(
            with(base(), "AutoAcceptConfigs", json!([{"Channel": "CHAT", "AutoAccept": true}, {"Channel": "TASK", "AutoAccept": true}])),
            "UserProficiencies",
            json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": 3}, {"AttributeName": "Language", "AttributeValue": "Spanish", "Level": 2}]),
        )
    }

    fn actual_with_proficiencies(p: &UserProps) -> Actual {
        let mut a = actual_of(p);
        a.settings.phone_config = Some(p.settings.phone_config.clone().unwrap_or_default());
        if a.settings.proficiencies.is_none() {
            a.settings.proficiencies = Some(Proficiencies::new());
        }
        a
    }

    #[test]
    fn only_the_differing_channels_are_sent() {
        let a = actual_with_proficiencies(&props(lists()));
        let new =
            with(lists(), "AutoAcceptConfigs", json!([{"Channel": "CHAT", "AutoAccept": true}, {"Channel": "TASK", "AutoAccept": false}]));
        let expected = configs(vec![(ListKind::AutoAccept, "TASK", Entry::AutoAccept { auto_accept: false, agent_first_callback: false })]);
        assert_eq!(plan(lists(), new, Some(&a)), Plan::InPlace(vec![Change::Config(expected)]));
    }

    #[test]
    fn a_removed_list_goes_back_to_defaults() {
        let a = actual_with_proficiencies(&props(lists()));
        let mut new = lists();
        new.as_object_mut().unwrap().remove("AutoAcceptConfigs");
        let expected = configs(vec![
            (ListKind::AutoAccept, "CHAT", ListKind::AutoAccept.default_entry()),
            (ListKind::AutoAccept, "TASK", ListKind::AutoAccept.default_entry()),
        ]);
        assert_eq!(plan(lists(), new, Some(&a)), Plan::InPlace(vec![Change::Config(expected)]));
    }

    #[test]
    fn proficiencies_touch_only_the_difference() {
        let a = actual_with_proficiencies(&props(lists()));
        let new = with(
            lists(),
            "UserProficiencies",
            json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": 5}, {"AttributeName": "Language", "AttributeValue": "French", "Level": 1}]),
        );
        let key = |v: &str| ("Language".to_string(), v.to_string());
        assert_eq!(
            plan(lists(), new, Some(&a)),
            Plan::InPlace(vec![
                Change::DisassociateProficiencies(vec![key("Spanish")]),
                Change::UpdateProficiencies(Proficiencies::from([(key("English"), 500)])),
                Change::AssociateProficiencies(Proficiencies::from([(key("French"), 100)])),
            ])
        );
        // Removed from the template: all go.
        let mut gone = lists();
        gone.as_object_mut().unwrap().remove("UserProficiencies");
        assert_eq!(
            plan(lists(), gone, Some(&a)),
            Plan::InPlace(vec![Change::DisassociateProficiencies(vec![key("English"), key("Spanish")])])
        );
        // Never mentioned: nothing is read or changed, even if the user has some.
        let mut unmanaged = a.clone();
        unmanaged.settings.proficiencies = None;
        assert_eq!(plan(base(), base(), Some(&unmanaged)), Plan::InPlace(vec![]));
    }

    #[test]
    fn phone_config_members_managed_per_channel_are_not_phone_configs_to_change() {
        // PhoneConfig says nothing about AutoAccept; AutoAcceptConfigs manages it.
        let mut a = actual_with_proficiencies(&props(lists()));
        a.settings.phone_config.as_mut().unwrap().auto_accept = true;
        assert_eq!(plan(lists(), lists(), Some(&a)), Plan::InPlace(vec![]));
    }

    fn configs(entries: Vec<(ListKind, &str, Entry)>) -> crate::user::properties::ChannelConfigs {
        let mut c = crate::user::properties::ChannelConfigs::new();
        for (k, ch, e) in entries {
            c.entry(k).or_default().insert(ch.to_string(), e);
        }
        c
    }
}

use super::*;
use crate::user::properties::IdentityInfo;
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
        directory_user_id: None,
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
fn tags_touch_only_the_difference_and_never_the_resources_own() {
    // The user as DescribeUser returns it: its own tags and this resource's reserved ones side by side.
    let p = props(base());
    let u = aws_sdk_connect::types::User::builder()
        .id("u-1")
        .arn("arn:u-1")
        .username("jdoe")
        .routing_profile_id("rp-1")
        .security_profile_ids("sp-1")
        .security_profile_ids("sp-2")
        .hierarchy_group_id("hg-1")
        .identity_info(crate::user::translate::identity_to_sdk(&p.settings.identity_info))
        .phone_config(crate::user::translate::phone_to_sdk(&p.settings.phone_config.clone().unwrap()))
        .tags("team", "blue")
        .tags("old", "x")
        .tags("connect-user-resource:request", "m")
        .tags("connect-user-resource:holder", "s/L")
        .build();
    let a = crate::user::translate::actual_from_sdk(&u).unwrap();
    let new = with(base(), "Tags", json!({"team": "red", "extra": "1"}));
    let Plan::InPlace(changes) = plan(base(), new, Some(&a)) else { panic!() };
    assert_eq!(
        changes,
        vec![Change::Untag(vec!["old".into()]), Change::Tag(BTreeMap::from([("extra".into(), "1".into()), ("team".into(), "red".into())]))]
    );
    // Without any Tags in the template, the user's own tags go and the resource's stay.
    let Plan::InPlace(changes) = plan(base(), without_key(base(), "Tags"), Some(&a)) else { panic!() };
    assert_eq!(changes, vec![Change::Untag(vec!["old".into(), "team".into()])]);
}

fn without_key(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

#[test]
fn a_password_secret_key_change_alone_is_rejected() {
    let old = with(without_key(base(), "Password"), "PasswordSecretId", json!("my-secret"));
    let old = with(old, "PasswordSecretKey", json!("password"));
    let new = with(old.clone(), "PasswordSecretKey", json!("other-key"));
    let a = actual_of(&props(new.clone()));
    assert!(matches!(plan(old.clone(), new, Some(&a)), Plan::Reject { reason } if reason.starts_with("Password: cannot be changed")));
    assert_eq!(plan(old.clone(), old.clone(), Some(&a)), Plan::InPlace(vec![]));
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

// ---- Import ----

const HOLDER: &str = "agents/Agent";

fn target() -> PhysicalId {
    PhysicalId { instance_id: IID.into(), user_id: "u-1".into() }
}

fn unheld(p: &UserProps) -> Actual {
    Actual { marker_tags: BTreeMap::new(), ..actual_of(p) }
}

fn holder_tag(v: &str) -> Change {
    Change::Tag(BTreeMap::from([("connect-user-resource:holder".to_string(), v.to_string())]))
}

#[test]
fn an_import_of_a_matching_user_only_records_the_hold() {
    let p = props(with(base(), "ImportId", json!(format!("{IID}:u-1"))));
    assert_eq!(plan_import(&p, &target(), HOLDER, &unheld(&p)), Ok(vec![holder_tag(HOLDER)]));
}

#[test]
fn an_import_brings_only_the_differing_groups_to_the_template() {
    let p = props(with(base(), "ImportId", json!(format!("{IID}:u-1"))));
    let mut a = unheld(&p);
    a.settings.routing_profile_id = "rp-9".into();
    a.settings.tags.insert("team".into(), "red".into());
    let plan = plan_import(&p, &target(), HOLDER, &a).unwrap();
    assert_eq!(
        plan,
        vec![
            Change::RoutingProfile("rp-1".into()),
            Change::Tag(BTreeMap::from([
                ("connect-user-resource:holder".to_string(), HOLDER.to_string()),
                ("team".to_string(), "blue".to_string())
            ]))
        ],
        "the hold rides on the tag call the template needs anyway"
    );
}

#[test]
fn every_import_mismatch_is_named_with_both_values() {
    let p = props(with(with(base(), "ImportId", json!(format!("{IID}:u-1"))), "DirectoryUserId", json!("dir-1")));
    let mut a = unheld(&p);
    a.username = "someone".into();
    a.directory_user_id = Some("dir-2".into());
    let why = plan_import(&p, &target(), HOLDER, &a).unwrap_err();
    assert!(why.contains("Name: the user that ImportId"), "{why}");
    assert!(why.contains("is someone, but Name is jdoe"), "{why}");
    assert!(why.contains("DirectoryUserId: the user that ImportId") && why.contains("has dir-2, but DirectoryUserId is dir-1"), "{why}");
    a.directory_user_id = None;
    assert!(plan_import(&p, &target(), HOLDER, &a).unwrap_err().contains("has none, but DirectoryUserId is dir-1"));
}

#[test]
fn a_user_held_by_another_resource_is_refused_and_ours_is_taken_again() {
    let p = props(with(base(), "ImportId", json!(format!("{IID}:u-1"))));
    let mut a = unheld(&p);
    a.marker_tags.insert("connect-user-resource:holder".into(), "other-stack/Legacy".into());
    let why = plan_import(&p, &target(), HOLDER, &a).unwrap_err();
    assert!(why.contains("held by resource Legacy of stack other-stack"), "{why}");
    assert!(why.contains(&format!("give that resource ImportId: {IID}:u-1")), "{why}");
    // A retried delivery of our own import finds our hold: nothing more to do.
    a.marker_tags.insert("connect-user-resource:holder".into(), HOLDER.into());
    assert_eq!(plan_import(&p, &target(), HOLDER, &a), Ok(vec![]));
    // A user created by this resource before holders were recorded is held, by a resource it cannot name.
    let mut legacy = unheld(&p);
    legacy.marker_tags.insert("connect-user-resource:request".into(), "m".into());
    assert!(plan_import(&p, &target(), HOLDER, &legacy).unwrap_err().contains("(not recorded)"));
}

#[test]
fn inverse_puts_back_each_group_as_it_was_in_reverse_order() {
    let p = props(with(base(), "UserProficiencies", json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": "2"}])));
    let mut before = unheld(&p);
    before.settings.proficiencies = Some(p.settings.proficiencies.clone().unwrap());
    let en = ("Language".to_string(), "English".to_string());
    let fr = ("Language".to_string(), "French".to_string());
    let applied = vec![
        Change::RoutingProfile("rp-9".into()),
        Change::SecurityProfiles(vec!["sp-9".into()]),
        Change::Hierarchy(None),
        Change::IdentityInfo(IdentityInfo::default()),
        Change::PhoneConfig(PhoneConfig { auto_accept: true, ..PhoneConfig::default() }),
        Change::DisassociateProficiencies(vec![en.clone()]),
        Change::AssociateProficiencies(BTreeMap::from([(fr.clone(), 300)])),
        Change::Untag(vec!["team".into()]),
        Change::Tag(BTreeMap::from([
            ("new".to_string(), "x".to_string()),
            ("connect-user-resource:holder".to_string(), HOLDER.to_string()),
        ])),
    ];
    let undo = inverse(&applied, &before);
    let b = &before.settings;
    assert_eq!(
        undo,
        vec![
            Change::Untag(vec!["connect-user-resource:holder".into(), "new".into()]),
            Change::Tag(BTreeMap::from([("team".to_string(), "blue".to_string())])),
            Change::DisassociateProficiencies(vec![fr]),
            Change::AssociateProficiencies(BTreeMap::from([(en, 200)])),
            Change::PhoneConfig(b.phone_config.clone().unwrap()),
            Change::IdentityInfo(b.identity_info.clone()),
            Change::Hierarchy(Some("hg-1".into())),
            Change::SecurityProfiles(vec!["sp-1".into(), "sp-2".into()]),
            Change::RoutingProfile("rp-1".into()),
        ]
    );
    assert_eq!(inverse(&[], &before), vec![]);
}

#[test]
fn inverse_of_a_config_call_restores_only_the_channels_sent() {
    let p = props(with_lists());
    let before = unheld(&p);
    let sent: ChannelConfigs = BTreeMap::from([(
        ListKind::AutoAccept,
        BTreeMap::from([
            ("CHAT".to_string(), crate::user::properties::Entry::AutoAccept { auto_accept: false, agent_first_callback: false }),
            ("EMAIL".to_string(), crate::user::properties::Entry::AutoAccept { auto_accept: true, agent_first_callback: false }),
        ]),
    )]);
    let undo = inverse(&[Change::Config(sent)], &before);
    let Change::Config(back) = &undo[0] else { panic!("{undo:?}") };
    let auto = &back[&ListKind::AutoAccept];
    assert_eq!(auto.len(), 2);
    assert_eq!(auto["CHAT"], before.settings.channel_configs[&ListKind::AutoAccept]["CHAT"], "what it had");
    assert_eq!(auto["EMAIL"], ListKind::AutoAccept.default_entry(), "a channel it did not have goes back to the default");
}

#[test]
fn only_an_import_id_change_is_recognised() {
    let a = base();
    let b = with(base(), "ImportId", json!(format!("{IID}:u-1")));
    assert!(only_import_changed(a.as_object().unwrap(), b.as_object().unwrap()));
    assert!(only_import_changed(b.as_object().unwrap(), a.as_object().unwrap()));
    assert!(!only_import_changed(a.as_object().unwrap(), a.as_object().unwrap()), "no change at all is not an ImportId change");
    let c = with(b.clone(), "HierarchyGroupId", json!("hg-2"));
    assert!(!only_import_changed(a.as_object().unwrap(), c.as_object().unwrap()));
}

#[test]
fn with_import_id_a_password_change_is_not_refused_as_it_is_never_applied() {
    let old = with(base(), "ImportId", json!(format!("{IID}:u-1")));
    let new = with(old.clone(), "Password", json!("An0therPassw0rd"));
    let a = actual_of(&props(new.clone()));
    assert_eq!(plan(old, new, Some(&a)), Plan::InPlace(vec![]));
}

fn with_lists() -> Value {
    with(base(), "AutoAcceptConfigs", json!([{"Channel": "CHAT", "AutoAccept": true}]))
}

#[test]
fn every_change_names_its_connect_operation() {
    let cases = [
        (Change::RoutingProfile("r".into()), "UpdateUserRoutingProfile"),
        (Change::SecurityProfiles(vec![]), "UpdateUserSecurityProfiles"),
        (Change::Hierarchy(None), "UpdateUserHierarchy"),
        (Change::IdentityInfo(IdentityInfo::default()), "UpdateUserIdentityInfo"),
        (Change::PhoneConfig(PhoneConfig::default()), "UpdateUserPhoneConfig"),
        (Change::Config(ChannelConfigs::new()), "UpdateUserConfig"),
        (Change::DisassociateProficiencies(vec![]), "DisassociateUserProficiencies"),
        (Change::UpdateProficiencies(BTreeMap::new()), "UpdateUserProficiencies"),
        (Change::AssociateProficiencies(BTreeMap::new()), "AssociateUserProficiencies"),
        (Change::Untag(vec![]), "UntagResource"),
        (Change::Tag(BTreeMap::new()), "TagResource"),
    ];
    for (change, op) in cases {
        assert_eq!(change.operation(), op);
    }
}

#[test]
fn proficiencies_are_read_only_when_the_template_mentions_them_now_or_did_before() {
    let with_p = props(with(base(), "UserProficiencies", json!([{"AttributeName": "L", "AttributeValue": "E", "Level": "1"}])));
    let none = Immutable::read(base().as_object().unwrap());
    let mentioned = Immutable::read(with(base(), "UserProficiencies", json!([])).as_object().unwrap());
    assert!(needs_proficiencies(&with_p.settings, &none), "mentioned now");
    assert!(needs_proficiencies(&props(base()).settings, &mentioned), "mentioned before: removed ones are disassociated");
    assert!(!needs_proficiencies(&props(base()).settings, &none), "never mentioned: no extra call");
}

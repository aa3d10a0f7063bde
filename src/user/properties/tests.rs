use super::*;
use serde_json::json;

const IID: &str = "81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca";

fn base() -> Value {
    json!({
        "InstanceId": IID,
        "Name": "jdoe",
        "Password": "Passw0rd!",
        "RoutingProfileId": "rp-1",
        "SecurityProfileIds": ["sp-1"],
    })
}

fn parse(v: Value) -> Result<UserProps, PropertyErrors> {
    UserProps::parse(v.as_object().expect("object"))
}

fn with(mut v: Value, key: &str, val: Value) -> Value {
    v[key] = val;
    v
}

fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

/// The one error of a parse that must fail, as "path: message".
fn error_of(v: Value) -> String {
    let e = parse(v).expect_err("expected invalid properties");
    e.to_string()
}

#[test]
fn minimal_properties_take_connect_defaults() {
    let p = parse(base()).unwrap();
    assert_eq!(p.instance_id, IID);
    assert_eq!(p.name, "jdoe");
    assert_eq!(p.settings.phone_config, Some(PhoneConfig::default()));
    assert_eq!(p.settings.identity_info, IdentityInfo::default());
    assert!(p.settings.tags.is_empty());
    assert!(matches!(&p.password, Some(PasswordSource::Inline(s)) if s.expose() == "Passw0rd!"));
}

#[test]
fn strings_are_coerced_like_cloudformation_sends_them() {
    let v = with(
        base(),
        "PhoneConfig",
        json!({"PhoneType": "SOFT_PHONE", "AutoAccept": "true", "AfterContactWorkTimeLimit": "0", "PersistentConnection": "false"}),
    );
    let p = parse(v).unwrap();
    assert!(p.settings.phone_config.clone().unwrap().auto_accept);
    assert_eq!(p.settings.phone_config.clone().unwrap().after_contact_work_time_limit, 0);
    // CDK sends real JSON types: the same result.
    let v = with(base(), "PhoneConfig", json!({"PhoneType": "SOFT_PHONE", "AutoAccept": true, "AfterContactWorkTimeLimit": 0}));
    assert!(parse(v).unwrap().settings.phone_config.unwrap().auto_accept);
}

#[test]
fn camel_case_and_native_names_are_aliases() {
    let camel = json!({
        "instanceId": IID, "name": "jdoe", "password": "Passw0rd!", "routingProfileId": "rp-1",
        "securityProfileIds": ["sp-1"], "identityInfo": {"firstName": "J"}, "phoneConfig": {"phoneType": "SOFT_PHONE"}
    });
    let p = parse(camel).unwrap();
    assert_eq!(p.settings.identity_info.first_name.as_deref(), Some("J"));
    let native = json!({
        "InstanceArn": format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}"), "Username": "jdoe", "Password": "Passw0rd!",
        "RoutingProfileArn": format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}/routing-profile/rp-1"),
        "SecurityProfileArns": [format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}/security-profile/sp-1")],
        "HierarchyGroupArn": format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}/agent-group/hg-1"),
    });
    let n = parse(native).unwrap();
    assert_eq!(n.instance_id, IID);
    assert_eq!(n.settings.routing_profile_id, "rp-1");
    assert_eq!(n.settings.security_profile_ids, BTreeSet::from(["sp-1".to_string()]));
    assert_eq!(n.settings.hierarchy_group_id.as_deref(), Some("hg-1"));
}

#[test]
fn arns_and_ids_of_the_same_thing_are_equal() {
    let by_id = parse(base()).unwrap();
    let v = with(base(), "InstanceId", json!(format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}")));
    let v = with(v, "RoutingProfileId", json!(format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}/routing-profile/rp-1")));
    assert_eq!(parse(v).unwrap(), by_id);
}

#[test]
fn a_property_given_twice_is_an_error() {
    let v = with(base(), "name", json!("other"));
    assert!(error_of(v).contains("Name: given twice"));
}

#[test]
fn unknown_properties_suggest_the_nearest_name() {
    let v = with(without(base(), "SecurityProfileIds"), "SecurityProfileId", json!(["sp-1"]));
    let e = error_of(v);
    assert!(e.contains("SecurityProfileId: unknown property; did you mean SecurityProfileIds?"), "{e}");
    let e = error_of(with(base(), "PhoneConfig", json!({"PhoneTyp": "SOFT_PHONE"})));
    assert!(e.contains("PhoneConfig.PhoneTyp: unknown property; did you mean PhoneType?"), "{e}");
    let e = error_of(with(base(), "Zzzzzzzzzz", json!(1)));
    assert!(e.contains("known properties are"), "{e}");
}

#[test]
fn required_properties_are_named() {
    for key in ["InstanceId", "Name", "RoutingProfileId", "SecurityProfileIds"] {
        let e = error_of(without(base(), key));
        assert!(e.starts_with(&format!("{key}: required")), "{key}: {e}");
    }
}

#[test]
fn all_errors_are_reported_together() {
    let v = json!({"InstanceId": "", "Name": "has space", "SecurityProfileIds": []});
    let e = parse(v).unwrap_err();
    let paths: Vec<&str> = e.0.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(paths, vec!["InstanceId", "Name", "RoutingProfileId", "SecurityProfileIds"]);
}

#[test]
fn name_rules() {
    assert!(error_of(with(base(), "Name", json!("x".repeat(101)))).contains("Name: must be at most 100"));
    assert!(error_of(with(base(), "Name", json!("a b"))).contains("Name: may contain only"));
    assert!(error_of(with(base(), "Name", json!("a@b"))).contains("Name: may contain @ only in the form of an email"));
    assert!(parse(with(base(), "Name", json!("jane.doe@example.com"))).is_ok());
}

#[test]
fn password_rules_never_echo_the_value() {
    for bad in ["short1A", "alllowercase1", "ALLUPPER1", "NoDigitsHere", "Has Space1a"] {
        let e = error_of(with(base(), "Password", json!(bad)));
        assert!(e.contains("Password: must be 8 to 64 characters"), "{e}");
        assert!(!e.contains(bad), "{e}");
    }
    assert!(error_of(with(base(), "PasswordSecretId", json!("s"))).contains("Password: give either Password or PasswordSecretId"));
    let v = with(without(base(), "Password"), "PasswordSecretKey", json!("k"));
    assert!(error_of(v).contains("PasswordSecretKey: needs PasswordSecretId"));
    let v = with(with(without(base(), "Password"), "PasswordSecretId", json!("arn:secret")), "PasswordSecretKey", json!("pw"));
    assert_eq!(parse(v).unwrap().password, Some(PasswordSource::SecretsManager { secret_id: "arn:secret".into(), key: Some("pw".into()) }));
    // No password at all is allowed here: SAML instances reject one, and Connect says so for the others.
    assert!(parse(without(base(), "Password")).unwrap().password.is_none());
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let p = parse(base()).unwrap();
    assert!(!format!("{p:?}").contains("Passw0rd"));
}

#[test]
fn id_and_arn_rules() {
    let e = error_of(with(base(), "InstanceId", json!("arn:aws:s3:::bucket")));
    assert!(e.starts_with("InstanceId: is not an Amazon Connect ARN"), "{e}");
    let other = "arn:aws:connect:us-east-1:123456789012:instance/other/routing-profile/rp-1";
    assert!(error_of(with(base(), "RoutingProfileId", json!(other))).contains("RoutingProfileId: names instance other, but InstanceId is"));
    let wrong_kind = format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}/routing-profile/x");
    assert!(error_of(with(base(), "HierarchyGroupId", json!(wrong_kind))).contains("HierarchyGroupId: is not a agent-group ARN"));
}

#[test]
fn security_profile_rules() {
    assert!(error_of(with(base(), "SecurityProfileIds", json!([]))).contains("must list 1 to 10"));
    let eleven: Vec<String> = (0..11).map(|i| format!("sp-{i}")).collect();
    assert!(error_of(with(base(), "SecurityProfileIds", json!(eleven))).contains("got 11"));
    assert!(error_of(with(base(), "SecurityProfileIds", json!(["a", "a"]))).contains("SecurityProfileIds[1]: a is listed twice"));
    assert!(error_of(with(base(), "SecurityProfileIds", json!("sp-1"))).contains("SecurityProfileIds: expected a list"));
    let p = parse(with(base(), "SecurityProfileIds", json!(["b", "a"]))).unwrap();
    assert_eq!(p.settings.security_profile_ids.iter().cloned().collect::<Vec<_>>(), vec!["a", "b"]);
}

#[test]
fn identity_rules() {
    let e = error_of(with(base(), "IdentityInfo", json!({"Email": "not-an-email"})));
    assert!(e.contains("IdentityInfo.Email: must be an email address"), "{e}");
    let e = error_of(with(base(), "IdentityInfo", json!({"SecondaryEmail": "a@b"})));
    assert!(e.contains("IdentityInfo.SecondaryEmail"), "{e}");
    let e = error_of(with(base(), "IdentityInfo", json!({"Mobile": "0123"})));
    assert!(e.contains("IdentityInfo.Mobile: must be an E.164"), "{e}");
    assert!(error_of(with(base(), "IdentityInfo", json!({"FirstName": "x".repeat(256)}))).contains("FirstName: must be at most 255"));
    assert!(error_of(with(base(), "IdentityInfo", json!({"LastName": "x".repeat(301)}))).contains("LastName: must be at most 300"));
    assert!(error_of(with(base(), "IdentityInfo", json!("x"))).contains("IdentityInfo: expected an object"));
    // Empty strings mean absent, as in Connect.
    let p = parse(with(base(), "IdentityInfo", json!({"FirstName": "", "Mobile": "+14155550100"}))).unwrap();
    assert_eq!(p.settings.identity_info.first_name, None);
    assert_eq!(p.settings.identity_info.mobile.as_deref(), Some("+14155550100"));
}

#[test]
fn phone_rules() {
    let e = error_of(with(base(), "PhoneConfig", json!({"PhoneType": "DESK_PHONE"})));
    assert_eq!(e, "PhoneConfig.DeskPhoneNumber: required when PhoneType is DESK_PHONE");
    assert!(error_of(with(base(), "PhoneConfig", json!({"PhoneType": "desk"})))
        .contains("PhoneConfig.PhoneType: must be SOFT_PHONE or DESK_PHONE"));
    assert!(error_of(with(base(), "PhoneConfig", json!({"AutoAccept": "yes"}))).contains("PhoneConfig.AutoAccept: expected a boolean"));
    assert!(error_of(with(base(), "PhoneConfig", json!({"AfterContactWorkTimeLimit": "-1"}))).contains("must be 0 to 2000000"));
    assert!(error_of(with(base(), "PhoneConfig", json!({"AfterContactWorkTimeLimit": "ten"}))).contains("expected a whole number"));
    assert!(error_of(with(base(), "PhoneConfig", json!({"DeskPhoneNumber": "555-1234"})))
        .contains("PhoneConfig.DeskPhoneNumber: must be an E.164"));
    let p = parse(with(
        base(),
        "PhoneConfig",
        json!({"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+112345678912", "AfterContactWorkTimeLimit": "100"}),
    ))
    .unwrap();
    assert_eq!(p.settings.phone_config.clone().unwrap().phone_type, PhoneType::DeskPhone);
    assert_eq!(p.settings.phone_config.clone().unwrap().after_contact_work_time_limit, 100);
}

#[test]
fn tags_as_map_or_list() {
    let m = parse(with(base(), "Tags", json!({"team": "blue", "n": 1}))).unwrap();
    let l = parse(with(base(), "Tags", json!([{"Key": "team", "Value": "blue"}, {"Key": "n", "Value": "1"}]))).unwrap();
    assert_eq!(m.settings.tags, l.settings.tags);
    assert!(error_of(with(base(), "Tags", json!([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]))).contains("given twice"));
    assert!(error_of(with(base(), "Tags", json!({"aws:x": "1"}))).contains("must not start with aws:"));
    assert!(error_of(with(base(), "Tags", json!({"connect-user-resource:request": "1"}))).contains("reserved"));
    assert!(error_of(with(base(), "Tags", json!({"k": "v".repeat(257)}))).contains("at most 256"));
    let many: serde_json::Map<String, Value> = (0..49).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert!(error_of(with(base(), "Tags", Value::Object(many.clone()))).contains("at most 48 tags"));
    let fits: serde_json::Map<String, Value> = many.into_iter().take(48).collect();
    assert_eq!(parse(with(base(), "Tags", Value::Object(fits))).unwrap().settings.tags.len(), 48, "the marker and the holder take two");
    assert!(error_of(with(base(), "Tags", json!("k=v"))).contains("Tags: must be a map"));
    assert!(error_of(with(base(), "Tags", json!([{"Value": "v"}]))).contains("Tags[0].Key: required"));
}

#[test]
fn immutable_fields_are_read_leniently() {
    let broken = json!({"Name": 5, "Password": "Passw0rd!", "DirectoryUserId": "", "Bogus": 1});
    let i = Immutable::read(broken.as_object().unwrap());
    assert_eq!(i.password, Some(json!("Passw0rd!")));
    assert_eq!(i.directory_user_id, None);
    let camel = json!({"password": "Passw0rd!"});
    assert_eq!(Immutable::read(camel.as_object().unwrap()).password, Some(json!("Passw0rd!")));
}

fn channels() -> Value {
    json!({
        "AutoAcceptConfigs": [{"Channel": "VOICE", "AutoAccept": "true"}, {"Channel": "CHAT", "AutoAccept": false, "AgentFirstCallbackAutoAccept": "true"}],
        "AfterContactWorkConfigs": [{"Channel": "VOICE", "AfterContactWorkConfig": {"AfterContactWorkTimeLimit": "30"}}],
        "PhoneNumberConfigs": [{"Channel": "VOICE", "PhoneType": "DESK_PHONE", "PhoneNumber": "+14155550100"}],
        "PersistentConnectionConfigs": [{"Channel": "VOICE", "PersistentConnection": "true"}],
        "VoiceEnhancementConfigs": [{"Channel": "VOICE", "VoiceEnhancementMode": "NOISE_SUPPRESSION"}],
        "UserProficiencies": [{"AttributeName": "Language", "AttributeValue": "English", "Level": "3.5"}]
    })
}

fn with_channels() -> Value {
    let mut v = base();
    for (k, x) in channels().as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[test]
fn per_channel_lists_and_proficiencies_parse() {
    let p = parse(with_channels()).unwrap();
    let s = &p.settings;
    assert_eq!(s.phone_config, None, "per-channel lists manage the phone when PhoneConfig is absent");
    assert_eq!(s.channel_configs.len(), 5);
    assert_eq!(s.channel_configs[&ListKind::AutoAccept]["CHAT"], Entry::AutoAccept { auto_accept: false, agent_first_callback: true });
    assert_eq!(s.channel_configs[&ListKind::AfterContactWork]["VOICE"], Entry::AfterContactWork { limit: 30, agent_first_callback: 0 });
    assert_eq!(
        s.channel_configs[&ListKind::PhoneNumber]["VOICE"],
        Entry::PhoneNumber { phone_type: PhoneType::DeskPhone, number: Some("+14155550100".into()) }
    );
    assert_eq!(s.channel_configs[&ListKind::VoiceEnhancement]["VOICE"], Entry::VoiceEnhancement("NOISE_SUPPRESSION".into()));
    assert_eq!(s.proficiencies.as_ref().unwrap()[&("Language".to_string(), "English".to_string())], 350);
    // Not mentioned: not managed.
    assert_eq!(parse(base()).unwrap().settings.proficiencies, None);
}

#[test]
fn per_channel_rules() {
    let one = |k: &str, v: Value| error_of(with(base(), k, v));
    assert!(one("AutoAcceptConfigs", json!([{"Channel": "VOICE"}])).contains("AutoAcceptConfigs[0].AutoAccept: required"));
    assert!(one("AutoAcceptConfigs", json!([{"Channel": "FAX", "AutoAccept": true}]))
        .contains("AutoAcceptConfigs[0].Channel: must be one of VOICE, CHAT, TASK, EMAIL"));
    let e = one("AutoAcceptConfigs", json!([{"Channel": "VOICE", "AutoAccept": true}, {"Channel": "VOICE", "AutoAccept": false}]));
    assert!(e.contains("AutoAcceptConfigs[1].Channel: VOICE has more than one entry"), "{e}");
    assert!(one("AfterContactWorkConfigs", json!([{"Channel": "CHAT"}]))
        .contains("AfterContactWorkConfigs[0].AfterContactWorkConfig: required"));
    assert!(one("AfterContactWorkConfigs", json!([{"Channel": "CHAT", "AfterContactWorkConfig": {"AfterContactWorkTimeLimit": -1}}]))
        .contains("must be 0 to 2000000"));
    assert!(one("PhoneNumberConfigs", json!([{"Channel": "VOICE", "PhoneType": "DESK_PHONE"}]))
        .contains("PhoneNumberConfigs[0].PhoneNumber: required when PhoneType is DESK_PHONE"));
    assert!(one("PersistentConnectionConfigs", json!([{"Channel": "VOICE", "PersistentConnection": "sometimes"}]))
        .contains("expected a boolean"));
    assert!(one("VoiceEnhancementConfigs", json!([{"Channel": "VOICE", "VoiceEnhancementMode": "LOUD"}]))
        .contains("VoiceEnhancementMode: must be one of VOICE_ISOLATION"));
    assert!(one("VoiceEnhancementConfigs", json!({"Channel": "VOICE"})).contains("VoiceEnhancementConfigs: expected a list"));
}

#[test]
fn a_phone_config_field_beside_its_per_channel_counterpart_names_both() {
    let v = with(
        with(base(), "PhoneConfig", json!({"AutoAccept": "true"})),
        "AutoAcceptConfigs",
        json!([{"Channel": "VOICE", "AutoAccept": true}]),
    );
    assert!(error_of(v).contains("PhoneConfig.AutoAccept: conflicts with AutoAcceptConfigs"));
    let v = with(
        with(base(), "PhoneConfig", json!({"AfterContactWorkTimeLimit": 5})),
        "AfterContactWorkConfigs",
        json!([{"Channel": "VOICE", "AfterContactWorkConfig": {"AfterContactWorkTimeLimit": 5}}]),
    );
    assert!(error_of(v).contains("PhoneConfig.AfterContactWorkTimeLimit: conflicts with AfterContactWorkConfigs"));
    let v = with(
        with(base(), "PhoneConfig", json!({"AutoAccept": true})),
        "PhoneNumberConfigs",
        json!([{"Channel": "VOICE", "PhoneType": "SOFT_PHONE"}]),
    );
    assert!(error_of(v).contains("PhoneConfig: conflicts with PhoneNumberConfigs"));
    // Different settings side by side are fine.
    let v = with(
        with(base(), "PhoneConfig", json!({"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": "10"})),
        "AutoAcceptConfigs",
        json!([{"Channel": "CHAT", "AutoAccept": true}]),
    );
    assert!(parse(v).unwrap().settings.phone_config.is_some());
}

#[test]
fn proficiency_rules() {
    let one = |v: Value| error_of(with(base(), "UserProficiencies", v));
    let e = one(
        json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": 2}, {"attributeName": "Language", "attributeValue": "English", "level": 3}]),
    );
    assert!(e.contains("UserProficiencies[1]: Language=English is listed twice"), "{e}");
    assert!(one(json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": "6"}])).contains("Level: must be 1.0 to 5.0"));
    assert!(one(json!([{"AttributeName": "Language", "AttributeValue": "English"}])).contains("UserProficiencies[0].Level: required"));
    assert!(one(json!([{"AttributeValue": "English", "Level": 1}])).contains("UserProficiencies[0].AttributeName: required"));
    // An empty list is managed and empty (removes every proficiency), unlike an absent one.
    assert_eq!(parse(with(base(), "UserProficiencies", json!([]))).unwrap().settings.proficiencies, Some(Default::default()));
}

#[test]
fn the_old_template_records_what_it_mentioned() {
    let i = Immutable::read(with_channels().as_object().unwrap());
    assert!(i.mentioned.contains("UserProficiencies") && i.mentioned.contains("VoiceEnhancementConfigs"));
    assert!(!Immutable::read(base().as_object().unwrap()).mentioned.contains("UserProficiencies"));
}

#[test]
fn import_id_is_an_id_or_a_user_arn_of_the_same_instance() {
    let id = format!("{IID}:u-1");
    let p = parse(with(base(), "ImportId", json!(id))).unwrap();
    assert_eq!(p.import.as_ref().map(ToString::to_string), Some(id.clone()));
    let arn = format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}/agent/u-1");
    assert_eq!(parse(with(base(), "importId", json!(arn))).unwrap().import.map(|i| i.to_string()), Some(id));
    let e = parse(with(base(), "ImportId", json!("other-instance:u-1"))).unwrap_err().to_string();
    assert!(e.contains(&format!("ImportId: names instance other-instance, but InstanceId is {IID}")), "{e}");
    let e = parse(with(base(), "ImportId", json!("u-1"))).unwrap_err().to_string();
    assert!(e.starts_with("ImportId: must be <instance-id>:<user-id>"), "{e}");
    assert_eq!(parse(base()).unwrap().import, None);
}

#[test]
fn a_delete_knows_import_id_even_when_other_properties_are_wrong() {
    let broken = json!({"ImportId": format!("{IID}:u-1"), "Name": 5, "Nonsense": true});
    let i = Immutable::read(broken.as_object().unwrap());
    assert!(i.import_given);
    assert_eq!(i.import.map(|x| x.user_id), Some("u-1".to_string()));
    let unreadable = json!({"ImportId": "not an id"});
    assert!(Immutable::read(unreadable.as_object().unwrap()).import_given, "given but unreadable still means release");
    assert!(!Immutable::read(json!({"ImportId": " "}).as_object().unwrap()).import_given);
    assert!(!Immutable::read(base().as_object().unwrap()).import_given);
}

#[test]
fn persistent_connection_beside_its_per_channel_list_is_refused() {
    let v = with(
        with(base(), "PhoneConfig", json!({"PhoneType": "SOFT_PHONE", "PersistentConnection": "true"})),
        "PersistentConnectionConfigs",
        json!([{"Channel": "VOICE", "PersistentConnection": "true"}]),
    );
    let e = error_of(v);
    assert!(e.contains("PhoneConfig.PersistentConnection: conflicts with PersistentConnectionConfigs"), "{e}");
}

#[test]
fn several_wrong_properties_are_reported_together() {
    let v = with(with(with(base(), "Name", json!("has space")), "HierarchyGroupId", json!("not an id!")), "Tags", json!("k=v"));
    let e = error_of(v);
    let parts: Vec<&str> = e.split("; ").collect();
    assert_eq!(parts.len(), 3, "{e}");
    assert!(parts.iter().any(|p| p.starts_with("Name: ")), "{e}");
    assert!(parts.iter().any(|p| p.starts_with("HierarchyGroupId: ")), "{e}");
    assert!(parts.iter().any(|p| p.starts_with("Tags: ")), "{e}");
}

#[test]
fn terraform_snake_case_names_are_refused_with_the_pascal_case_name() {
    let v = with(without(base(), "RoutingProfileId"), "routing_profile_id", json!("rp-1"));
    let e = error_of(v);
    assert!(e.contains("routing_profile_id: unknown property; did you mean RoutingProfileId?"), "{e}");
    let e = error_of(with(without(base(), "InstanceId"), "instance_id", json!(IID)));
    assert!(e.contains("instance_id: unknown property; did you mean InstanceId?"), "{e}");
}

#[test]
fn a_password_must_suit_the_instances_identity_management() {
    assert!(password_fits("CONNECT_MANAGED", true).is_ok());
    assert!(password_fits("CONNECT_MANAGED", false).unwrap_err().contains("required"));
    assert!(password_fits("SAML", false).is_ok());
    assert!(password_fits("SAML", true).unwrap_err().contains("not allowed"));
    assert!(password_fits("EXISTING_DIRECTORY", true).is_ok());
    assert!(password_fits("EXISTING_DIRECTORY", false).is_ok());
}

#[test]
fn a_password_never_shows_in_debug_output() {
    let s = Secret::new("Sup3rSecretPassw0rd");
    assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    assert_eq!(format!("{:?}", Some(PasswordSource::Inline(s))), "Some(Inline(Secret(<redacted>)))");
}

#[test]
fn edit_distance_counts_each_insertion_deletion_and_substitution() {
    assert_eq!(distance("kitten", "sitting"), 3);
    assert_eq!(distance("ab", "b"), 1, "a deletion");
    assert_eq!(distance("b", "ab"), 1, "an insertion");
    assert_eq!(distance("aab", "b"), 2, "two deletions (no substitution can stand in for them)");
    assert_eq!(distance("b", "aab"), 2, "two insertions");
    assert_eq!(distance("abc", ""), 3);
    assert_eq!(distance("same", "same"), 0);
}

#[test]
fn a_long_name_is_suggested_across_a_third_of_its_length_in_typos() {
    // Three typos in an 18-letter name: near enough (a third of 18 is 6); a short name allows two.
    assert_eq!(suggest("SecurtyProfilIdz", TOP), Some("SecurityProfileIds"));
    assert_eq!(suggest("Nmae", TOP), Some("Name"));
    assert_eq!(suggest("Zzzzzzzzzz", TOP), None);
}

#[test]
fn an_email_address_fails_on_any_one_wrong_part() {
    assert!(is_email("first.last+tag@mail-1.example.co.uk"));
    let long = format!("{}@example.com", "a".repeat(254));
    assert!(is_email(&long[1..]), "265 characters");
    for bad in [
        long.as_str(),  // 266 characters
        "@example.com", // no local part
        "first last@example.com",
        "a@.com", // no host
        "a@exa_mple.com",
        "a@example.c", // a one-letter top-level domain
        "a@example.c0m",
        &format!("a@example.{}", "c".repeat(64)),
    ] {
        assert!(!is_email(bad), "{bad}");
    }
}

#[test]
fn each_length_limit_is_exact() {
    let a = |n: usize| "a".repeat(n);
    let sps = |n: usize| json!((0..n).map(|i| format!("sp-{i}")).collect::<Vec<_>>());
    let cases = [
        ("Name", json!(a(100)), json!(a(101)), "Name: must be at most 100 characters"),
        ("DirectoryUserId", json!(a(256)), json!(a(257)), "DirectoryUserId: must be at most 256 characters"),
        ("SecurityProfileIds", sps(10), sps(11), "SecurityProfileIds: must list 1 to 10 security profiles, got 11"),
        ("IdentityInfo", json!({"FirstName": a(255)}), json!({"FirstName": a(256)}), "IdentityInfo.FirstName: must be at most 255"),
        ("IdentityInfo", json!({"LastName": a(300)}), json!({"LastName": a(301)}), "IdentityInfo.LastName: must be at most 300"),
    ];
    for (key, ok, over, message) in cases {
        assert!(parse(with(base(), key, ok)).is_ok(), "{key} at its limit");
        let e = error_of(with(base(), key, over));
        assert!(e.contains(message), "{key}: {e}");
    }
}

#[test]
fn a_secret_key_without_a_secret_is_reported_beside_other_errors_but_not_beside_a_wrong_password() {
    let v = with(with(base(), "PasswordSecretKey", json!("pw")), "Name", json!("has space"));
    let e = error_of(v);
    assert!(e.contains("Name: ") && e.contains("PasswordSecretKey: needs PasswordSecretId"), "{e}");
    let v = with(with(base(), "PasswordSecretKey", json!("pw")), "Password", json!("short"));
    let e = error_of(v);
    assert!(e.contains("Password: ") && !e.contains("PasswordSecretKey"), "one mistake, one message: {e}");
}

#[test]
fn a_desk_phone_needs_its_number_whatever_else_is_wrong() {
    let v = with(with(base(), "PhoneConfig", json!({"PhoneType": "DESK_PHONE"})), "Name", json!("has space"));
    let e = error_of(v);
    assert!(e.contains("PhoneConfig.DeskPhoneNumber: required when PhoneType is DESK_PHONE") && e.contains("Name: "), "{e}");
    let e = error_of(with(base(), "PhoneConfig", json!({"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "555"})));
    assert!(e.contains("must be an E.164") && !e.contains("required when"), "one message for the number: {e}");
}

#[test]
fn a_tag_value_may_have_256_characters() {
    assert!(parse(with(base(), "Tags", json!({"team": "v".repeat(256)}))).is_ok());
    let e = error_of(with(base(), "Tags", json!({"team": "v".repeat(257)})));
    assert!(e.contains("the value of tag \"team\" must be at most 256 characters"), "{e}");
}

#[test]
fn a_refused_updates_password_and_directory_id_are_taken_as_never_applied() {
    let before = Immutable::read(with(base(), "DirectoryUserId", json!("d-1")).as_object().unwrap());
    let refused = with(with(base(), "Password", json!("0therPassw0rd")), "DirectoryUserId", json!("d-2"));
    let refused = Immutable::read(with(refused, "PasswordSecretKey", json!("k")).as_object().unwrap());
    let mut old = refused.clone();
    old.accept_as_applied(&before);
    assert_eq!(
        (&old.password, &old.password_secret_id, &old.password_secret_key, &old.directory_user_id),
        (&before.password, &before.password_secret_id, &before.password_secret_key, &before.directory_user_id)
    );
    assert_ne!(old.password, refused.password);
    assert_eq!(old.mentioned, refused.mentioned, "what the properties mention is not the rollback's business");
}

#[test]
fn a_proficiencys_name_and_value_may_have_100_characters() {
    let prof = |n: &str, v: &str| with(base(), "UserProficiencies", json!([{"AttributeName": n, "AttributeValue": v, "Level": "2"}]));
    let a = |n: usize| "a".repeat(n);
    assert!(parse(prof(&a(100), &a(100))).is_ok());
    assert!(error_of(prof(&a(101), "x")).contains("UserProficiencies[0].AttributeName: must be at most 100 characters"));
    assert!(error_of(prof("x", &a(101))).contains("UserProficiencies[0].AttributeValue: must be at most 100 characters"));
}

#[test]
fn what_properties_mention_is_a_small_set_of_canonical_names() {
    let m: Mentioned = ["Tags", "RoutingProfileId", "NotAProperty", "Tags"].into_iter().collect();
    assert!(m.contains("Tags") && m.contains("RoutingProfileId"));
    assert!(!m.contains("NotAProperty") && !m.contains("UserProficiencies"));
    assert_eq!(m.iter().count(), 2, "names that are no property are not kept, and each name once");
    let shown = format!("{m:?}");
    assert!(shown.contains("\"Tags\"") && shown.contains("\"RoutingProfileId\"") && !shown.contains("NotAProperty"), "{shown}");
    assert_eq!(m, m.iter().collect::<Mentioned>(), "read back as it was");
    assert_eq!(Mentioned::default().iter().count(), 0);
    assert!(std::mem::size_of::<Mentioned>() <= 8);
}

use super::*;
use serde_json::json;
use std::collections::BTreeMap;

const I: &str = "11111111-2222-3333-4444-555555555555";

fn parse(v: Value) -> Result<SetProps, PropertyErrors> {
    SetProps::parse(v.as_object().unwrap())
}

fn user(name: &str) -> Value {
    json!({"Name": name, "Password": "Passw0rd!", "RoutingProfileId": "rp-1", "SecurityProfileIds": ["sp-1"]})
}

fn messages(e: PropertyErrors) -> Vec<String> {
    e.0.iter().map(ToString::to_string).collect()
}

#[test]
fn defaults_are_merged_under_each_entry_and_the_entry_wins() {
    let s = parse(json!({
        "InstanceId": I,
        "Defaults": {"routingProfileId": "rp-default", "SecurityProfileIds": ["sp-9"], "Tags": {"team": "all"}, "PhoneConfig": {"AutoAccept": true}},
        "Users": [
            {"Name": "a", "Password": "Passw0rd!"},
            {"name": "b", "Password": "Passw0rd!", "RoutingProfileId": "rp-own", "Tags": {"own": "1"}}
        ]
    }))
    .unwrap();
    assert_eq!(s.instance_id, I);
    let (a, b) = (&s.entries[0].props, &s.entries[1].props);
    assert_eq!(a.instance_id, I, "the set's InstanceId applies to every entry");
    assert_eq!(a.settings.routing_profile_id, "rp-default");
    assert_eq!(b.settings.routing_profile_id, "rp-own", "the entry's own value wins, whatever its spelling");
    assert_eq!(a.settings.tags, BTreeMap::from([("team".to_string(), "all".to_string())]));
    assert_eq!(b.settings.tags, BTreeMap::from([("own".to_string(), "1".to_string())]), "maps are replaced, not merged");
    assert!(a.settings.phone_config.as_ref().unwrap().auto_accept);
    assert_eq!((s.requests_per_second, s.burst), (2.0, 5), "Connect's default quota");
    assert_eq!(s.entries[1].origin, crate::roster::source::Origin::Inline(1));
}

#[test]
fn the_digest_covers_what_a_search_page_does_not_show_and_nothing_else() {
    let base = json!({"Name": "a", "SecurityProfileIds": ["sp-1"], "RoutingProfileId": "rp-1", "IdentityInfo": {"FirstName": "A", "Email": "a@example.com"}});
    let digest = |entry: Value| parse(json!({"InstanceId": I, "Users": [entry]})).unwrap().entries[0].digest.clone();
    let d = digest(base.clone());
    assert_eq!(d.len(), 16);
    let mut shown = base.clone();
    shown["RoutingProfileId"] = json!("rp-2");
    shown["IdentityInfo"]["FirstName"] = json!("B");
    assert_eq!(digest(shown), d, "a page shows these");
    for (path, value) in [("Email", json!("b@example.com")), ("SecondaryEmail", json!("s@example.com")), ("Mobile", json!("+14155550100"))]
    {
        let mut hidden = base.clone();
        hidden["IdentityInfo"][path] = value;
        assert_ne!(digest(hidden), d, "{path} is not on a page");
    }
    let mut none = base.clone();
    none["UserProficiencies"] = json!([]);
    let mut some = base.clone();
    some["UserProficiencies"] = json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": 2}]);
    let (none, some) = (digest(none), digest(some));
    assert!(none != d && some != d && none != some, "left alone, none, or some proficiencies are three different things");
    let mut spelled = base.clone();
    spelled.as_object_mut().unwrap().remove("Name");
    spelled["username"] = json!("a");
    assert_eq!(digest(spelled), d);
}

#[test]
fn entry_errors_name_the_entry_and_use_the_single_users_messages() {
    let e = parse(json!({
        "InstanceId": I,
        "Users": [user("ok"), {"Name": "bad name", "Password": "weak", "RoutingProfileId": "rp-1", "SecurityProfileIds": []}, {"Nmae": "x"}]
    }))
    .unwrap_err();
    let m = messages(e);
    assert!(m.contains(&"Users[1].Name: may contain only letters, digits and _ - . @".to_string()), "{m:?}");
    assert!(m.iter().any(|x| x.starts_with("Users[1].Password: must be 8 to 64")), "{m:?}");
    assert!(m.contains(&"Users[1].SecurityProfileIds: must list 1 to 10 security profiles, got 0".to_string()), "{m:?}");
    assert!(m.contains(&"Users[2].Nmae: unknown property; did you mean Name?".to_string()), "{m:?}");
    assert!(m.iter().all(|x| !x.contains("weak")), "a password never shows in a reason");
}

#[test]
fn names_are_unique_and_instance_ids_belong_to_the_set() {
    let m = messages(parse(json!({"InstanceId": I, "Users": [user("jdoe"), user("ann"), user("JDoe")]})).unwrap_err());
    assert_eq!(m, vec!["Users[2].Name: JDoe is also the Name of Users[0]; names are unique in a set".to_string()]);
    let mut with_instance = user("a");
    with_instance["InstanceId"] = json!(I);
    let m = messages(parse(json!({"InstanceId": I, "Users": [with_instance]})).unwrap_err());
    assert_eq!(m, vec!["Users[0].InstanceId: the set's InstanceId applies to every entry; remove it here".to_string()]);
}

#[test]
fn set_level_mistakes_are_named() {
    let m = messages(
        parse(json!({
            "Users": "x", "Name": "a", "RoutingProfileId": "rp", "Colour": 1,
            "Defaults": {"Name": "n", "InstanceId": I}, "RequestsPerSecond": 0, "Burst": "many", "PasswordSecretKey": "k"
        }))
        .unwrap_err(),
    );
    let has = |p: &str| m.iter().any(|x| x.starts_with(p));
    assert!(has("InstanceId: required"), "{m:?}");
    assert!(has("Users: "), "{m:?}");
    assert!(m.iter().any(|x| x.starts_with("Name: is a property of one user: give it in each entry of Users")), "{m:?}");
    assert!(m.iter().any(|x| x.starts_with("RoutingProfileId: is a property of one user: give it in Defaults")), "{m:?}");
    assert!(has("Colour: unknown property; known properties are InstanceId, Users, Source"), "{m:?}");
    assert!(has("Defaults.Name: differs per user"), "{m:?}");
    assert!(has("Defaults.InstanceId: is the set's own InstanceId"), "{m:?}");
    assert!(has("RequestsPerSecond: must be between 0.1 and 1000, got 0"), "{m:?}");
    assert!(has("Burst: "), "{m:?}");
    assert!(has("PasswordSecretKey: needs PasswordSecretId"), "{m:?}");
}

/// The set's properties are read by the user's parser: the same aliases, suggestions and words.
#[test]
fn a_sets_property_names_get_the_users_suggestions_and_words() {
    let m = messages(parse(json!({"InstanceArn": I, "users": [], "Sourse": "s3://b/k", "Burst": 5, "burst": 6})).unwrap_err());
    assert!(m.contains(&"Sourse: unknown property; did you mean Source?".to_string()), "{m:?}");
    assert!(m.contains(&"Burst: given twice, as Burst and as burst".to_string()), "{m:?}");
    assert_eq!(m.len(), 2, "InstanceArn and camelCase users are accepted: {m:?}");
}

#[test]
fn rate_burst_and_the_password_secret_are_read() {
    let s = parse(json!({"InstanceId": I, "Users": [], "RequestsPerSecond": "50", "Burst": 20, "PasswordSecretId": "roster", "PasswordSecretKey": "agents"}))
        .unwrap();
    assert_eq!((s.requests_per_second, s.burst), (50.0, 20));
    assert_eq!(s.password_secret, Some(("roster".to_string(), Some("agents".to_string()))));
    assert!(s.entries.is_empty(), "an empty roster is a valid one");
}

#[test]
fn an_entry_keeps_room_for_the_sets_own_tags() {
    let tags: serde_json::Map<String, Value> = (0..48).map(|i| (format!("k{i}"), json!("v"))).collect();
    let mut u = user("a");
    u["Tags"] = Value::Object(tags);
    let m = messages(parse(json!({"InstanceId": I, "Users": [u]})).unwrap_err());
    assert_eq!(
        m,
        vec!["Users[0].Tags: at most 47 tags in a set (Connect allows 50 and the set keeps three for its own), got 48".to_string()]
    );
}

#[test]
fn old_entries_are_read_leniently_by_name() {
    let old = json!({
        "InstanceId": I, "Defaults": {"RoutingProfileId": "rp-1"},
        "Users": [user("a"), {"Name": "b", "ImportId": format!("{I}:u-b")}, {"Name": ""}, "junk", {"NoName": 1}]
    });
    let o = old_entries(old.as_object().unwrap(), Vec::new(), None);
    assert_eq!(o.len(), 2, "unreadable entries are left out: {:?}", o.keys().collect::<Vec<_>>());
    assert!(!o["a"].import_given && o["b"].import_given);
    let now = parse(json!({"InstanceId": I, "Defaults": {"RoutingProfileId": "rp-1"}, "Users": [user("a")]})).unwrap();
    assert_eq!(o["a"].digest.as_ref(), Some(&now.entries[0].digest), "the same entry has the same digest before and after");
    assert!(o["b"].immutable.mentioned.contains("RoutingProfileId"), "defaults merged as for the new properties");
    assert_eq!(o["a"].hidden.as_ref().and_then(|h| h.email.clone()), None);
}

#[test]
fn a_delete_reads_only_which_entries_import() {
    let props = json!({"InstanceId": I, "Users": [user("a"), {"username": "b", "importId": format!("{I}:u-b")}, {"Name": "c", "ImportId": ""}, "junk"]});
    let m = imported_entries(props.as_object().unwrap());
    assert_eq!(m.keys().collect::<Vec<_>>(), vec!["b"], "only b imports (any spelling); an empty ImportId is none");
    assert!(m["b"].import_given);
}

#[test]
fn previous_entries_given_exactly_as_now_are_left_out() {
    let mut changed = user("b");
    changed["RoutingProfileId"] = json!("rp-2");
    let old = json!({"InstanceId": I, "Users": [user("a"), user("b"), user("gone")]});
    let now = parse(json!({"InstanceId": I, "Users": [user("a"), changed]})).unwrap();
    let o = old_entries(old.as_object().unwrap(), Vec::new(), Some(&now));
    let mut names: Vec<&String> = o.keys().collect();
    names.sort();
    assert_eq!(names, vec!["b", "gone"], "a is the same as now; b changed; gone was removed");
}

#[test]
fn no_type_holding_a_password_prints_it() {
    let set = parse(json!({"InstanceId": I, "Users": [user("a")]})).unwrap();
    for shown in [format!("{set:?}"), format!("{set:#?}"), format!("{:?}", set.entries[0]), format!("{:?}", set.entries[0].immutable)] {
        assert!(!shown.contains("Passw0rd!"), "{shown}");
        assert!(shown.contains("<redacted>"), "says a password is there: {shown}");
    }
    let old = old_entries(json!({"InstanceId": I, "Users": [user("a")]}).as_object().unwrap(), Vec::new(), None);
    assert!(!format!("{old:?}").contains("Passw0rd!"));
    // A failed assertion prints both sides with Debug.
    let other = parse(json!({"InstanceId": I, "Users": [user("b")]})).unwrap();
    let failed = std::panic::catch_unwind(|| assert_eq!(set, other)).unwrap_err();
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("assertion") && !message.contains("Passw0rd!"), "{message}");
}

#[test]
fn users_are_required_but_for_a_source_and_the_sets_instance_id_is_reported_once_with_the_entry_tag_limit() {
    // A Source alone is a set (its entries are read later); neither Users nor Source is not.
    let sourced = parse(json!({"InstanceId": I, "Source": "s3://bucket/agents.csv"})).unwrap();
    assert!(sourced.entries.is_empty());
    let none = messages(parse(json!({"InstanceId": I})).unwrap_err());
    assert!(none.iter().any(|m| m.starts_with("Users: required")), "{none:?}");
    // A missing InstanceId is the set's error, said once, never again for each entry.
    let missing = messages(parse(json!({"Users": [user("a"), user("b")]})).unwrap_err());
    assert_eq!(missing.iter().filter(|m| m.contains("InstanceId")).count(), 1, "{missing:?}");
    assert!(missing.iter().all(|m| !m.starts_with("Users[")), "{missing:?}");
    // ...and an entry's own errors are still reported beside it.
    let mut bad = user("b");
    bad["RoutingProfileId"] = json!("");
    let both = messages(parse(json!({"Users": [user("a"), bad]})).unwrap_err());
    assert!(both.iter().any(|m| m.starts_with("Users[1].RoutingProfileId")), "{both:?}");
    // Exactly the entry's limit of tags is allowed; one more is not.
    let tagged = |n: usize| {
        let tags: serde_json::Map<String, Value> = (0..n).map(|i| (format!("k{i}"), json!("v"))).collect();
        let mut u = user("a");
        u["Tags"] = Value::Object(tags);
        parse(json!({"InstanceId": I, "Users": [u]}))
    };
    assert!(tagged(MAX_ENTRY_TAGS).is_ok());
    let over = messages(tagged(MAX_ENTRY_TAGS + 1).unwrap_err());
    assert!(over.iter().any(|m| m.contains(&format!("at most {MAX_ENTRY_TAGS} tags"))), "{over:?}");
}

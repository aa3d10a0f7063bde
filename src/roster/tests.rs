use super::inputs::password_map;
use super::*;
use crate::connect::ownership;
use serde_json::json;

#[test]
fn a_sets_physical_id_names_instance_and_holder_and_is_never_a_users() {
    let id = physical_id("inst-1", "stack/Agents");
    assert_eq!(id, "inst-1:set:stack/Agents");
    assert_eq!(parse_physical_id(&id), Some(("inst-1", "stack/Agents")));
    assert_eq!(parse_physical_id("inst-1:user-1"), None);
    assert_eq!(parse_physical_id("create-failed-Agents-r1"), None);
    assert_eq!(parse_physical_id(":set:stack/Agents"), None, "no instance");
    assert_eq!(parse_physical_id("inst-1:set:"), None, "no holder");
    assert!(crate::user::ids::PhysicalId::parse(&id).is_none(), "a single user's Delete would not take it for a user");
}

#[test]
fn a_sets_roster_id_changes_with_its_names_only_and_keeps_instance_and_holder() {
    let base = physical_id("inst-1", "stack/guid/Agents");
    let a = roster_id(&base, ["ana", "ben"].into_iter());
    assert!(a.starts_with("inst-1:set:stack/guid/Agents#") && a.len() == base.len() + 17, "{a}");
    assert_eq!(parse_physical_id(&a), Some(("inst-1", "stack/guid/Agents")), "the holder without the digest");
    assert_eq!(roster_id(&base, ["ben", "ana"].into_iter()), a, "the order of the entries does not matter");
    assert_eq!(roster_id(&base, ["Ana", "BEN"].into_iter()), a, "nor the case of a name (Connect's names are not told apart by it)");
    assert_ne!(roster_id(&base, ["ana"].into_iter()), a, "a user taken out");
    assert_ne!(roster_id(&base, ["ana", "ben", "cai"].into_iter()), a, "a user added");
    assert_ne!(roster_id(&base, ["ana", "bea"].into_iter()), a, "a user renamed");
    assert_ne!(roster_id(&physical_id("inst-2", "stack/guid/Agents"), ["ana", "ben"].into_iter()), a);
    assert_eq!(parse_physical_id("inst-1:set:#0123"), None, "no holder");
}

#[test]
fn a_set_acts_as_its_stacks_own_holder_unless_an_earlier_version_created_it() {
    use crate::cfn::event::{self, Intake};
    use lambda_harness::events::{self as ev, STACK_ID};
    let request = |e: Value| match event::parse(e) {
        Intake::Request(r) => *r,
        Intake::Malformed { reason, .. } => panic!("{reason}"),
    };
    let own = ownership::holder_value(STACK_ID, "Agents");
    let legacy = ownership::legacy_holder_value(STACK_ID, "Agents");
    assert_eq!(legacy, "connect-users/Agents");
    let props = json!({"InstanceId": "inst-1", "Users": []});
    assert_eq!(set_holder(&request(ev::for_set(ev::create("Agents", "https://x", props.clone()))), "inst-1"), own);
    let with_id = |id: &str| request(ev::for_set(ev::delete("Agents", "https://x", id, props.clone())));
    assert_eq!(set_holder(&with_id(&physical_id("inst-1", &own)), "inst-1"), own);
    assert_eq!(set_holder(&with_id(&physical_id("inst-1", &legacy)), "inst-1"), legacy, "a set an earlier version created");
    assert_eq!(set_holder(&with_id(&physical_id("inst-2", &legacy)), "inst-1"), own, "in another instance it is a new set");
    assert_eq!(set_holder(&with_id(&physical_id("inst-1", "other-stack/Agents")), "inst-1"), own, "never another resource's holder");
    assert_eq!(set_holder(&with_id(&physical_id("inst-1", "connect-users/Other")), "inst-1"), own);
    assert_eq!(set_holder(&with_id("create-failed-Agents-r1"), "inst-1"), own);
}

#[test]
fn data_is_the_resulting_state_and_user_ids_go_before_the_body_is_too_long() {
    let few: BTreeMap<String, String> = (0..3).map(|i| (format!("agent{i}"), format!("id-{i}"))).collect();
    let d = data(3, &few);
    assert_eq!(d["Total"], "3");
    assert_eq!(serde_json::from_str::<Value>(&d["UserIds"]).unwrap(), json!({"agent0": "id-0", "agent1": "id-1", "agent2": "id-2"}));
    let many: BTreeMap<String, String> = (0..200).map(|i| (format!("agent{i}"), format!("{i:036}"))).collect();
    let d = data(200, &many);
    assert_eq!(d.keys().collect::<Vec<_>>(), vec!["Total"], "too many ids for a 4096-byte answer");
    // A roster over the most whose ids are collected: none are given, even if those at hand would fit.
    let d = data(plan::MAX_ID_ENTRIES + 1, &few);
    assert_eq!(d.keys().collect::<Vec<_>>(), vec!["Total"], "an incomplete map is never given");
    assert!(data(plan::MAX_ID_ENTRIES, &few).contains_key("UserIds"));
}

#[test]
fn the_password_map_is_the_secret_or_its_object_under_the_key() {
    let m = password_map("s", r#"{"a": "Passw0rd!", "n": 1}"#, None).unwrap();
    assert_eq!(m, HashMap::from([("a".to_string(), "Passw0rd!".to_string())]));
    let m = password_map("s", r#"{"agents": {"b": "Passw0rd!"}}"#, Some("agents")).unwrap();
    assert_eq!(m["b"], "Passw0rd!");
    let e = password_map("s", "Passw0rd!", None).unwrap_err();
    assert!(e.starts_with("PasswordSecretId: secret s is not a JSON object") && !e.contains("Passw0rd"), "{e}");
    let e = password_map("s", r#"{"a": "Passw0rd!"}"#, Some("agents")).unwrap_err();
    assert!(e.starts_with("PasswordSecretKey: secret s has no object agents") && !e.contains("Passw0rd"), "{e}");
}

#[test]
fn a_deletes_pace_comes_from_its_properties_or_the_defaults() {
    let props = |v: Value| v.as_object().unwrap().clone();
    assert_eq!(pace_of(&props(json!({"RequestsPerSecond": "50", "Burst": "20"}))), Quota { rate: 50.0, burst: 20 });
    assert_eq!(pace_of(&props(json!({"RequestsPerSecond": 0, "Burst": "x"}))), Quota::DEFAULT);
    assert_eq!(pace_of(&props(json!({}))), Quota::DEFAULT);
}

#[test]
fn a_read_that_did_not_fit_continues_and_any_other_failure_fails() {
    let e = |code: &str| ApiError::new("SearchUsers", code, "m", 1);
    let late = ApiError::deferral("SearchUsers", 0);
    assert!(matches!(stop_of("reading", &late), Stop::Deferred(why) if why == "reading did not fit this invocation"));
    assert!(matches!(stop_of("reading", &e("Deferred")), Stop::Failed(_)), "a service error whose code reads Deferred is an error");
    assert!(
        matches!(stop_of("reading", &e("AccessDeniedException")), Stop::Failed(why) if why.starts_with("reading failed: ") && why.ends_with("nothing was changed"))
    );
}

#[test]
fn the_deletion_guard_allows_a_tenth_at_least_ten_or_what_max_deletions_says() {
    let set = |n: usize, max: Option<&str>| {
        let users: Vec<Value> = (0..n)
            .map(
                |i| json!({"Name": format!("u{i}"), "Password": "Passw0rdExample", "RoutingProfileId": "rp", "SecurityProfileIds": ["sp"]}),
            )
            .collect();
        let mut p = json!({"InstanceId": "inst-1", "Users": users});
        if let Some(m) = max {
            p["MaxDeletions"] = json!(m);
        }
        SetProps::parse(p.as_object().unwrap()).unwrap()
    };
    assert_eq!(props::max_deletions(None, 0), Some(10), "at least 10");
    assert_eq!(props::max_deletions(None, 250), Some(25), "a tenth");
    assert_eq!(props::max_deletions(Some(Some(3)), 250), Some(3));
    assert_eq!(props::max_deletions(Some(None), 250), None, "-1: no limit");

    assert_eq!(deletion_guard(&set(5, None), 10, 15), None, "10 of 15: within the default");
    let why = deletion_guard(&set(5, None), 11, 16).unwrap();
    assert!(why.contains("take 11 of the set's 16 users") && why.contains("(10)") && why.contains("MaxDeletions to 11"), "{why}");
    assert_eq!(deletion_guard(&set(100, None), 30, 300), None, "a tenth of 300");
    assert!(deletion_guard(&set(100, None), 31, 300).is_some());
    assert!(deletion_guard(&set(5, Some("2")), 3, 8).unwrap().contains("more than MaxDeletions allows (2)"));
    assert_eq!(deletion_guard(&set(5, Some("-1")), 3000, 3005), None);
    assert_eq!(deletion_guard(&set(5, Some("0")), 0, 5), None, "nothing taken out");
    // No entry at all: refused unless MaxDeletions is given, whatever the count.
    assert!(deletion_guard(&set(0, None), 3, 3).unwrap().contains("the roster has no entry, so this Update would take all 3 users"));
    assert_eq!(deletion_guard(&set(0, Some("3")), 3, 3), None);
    assert_eq!(deletion_guard(&set(0, None), 0, 0), None, "an empty set stays empty");
    let bad = |m: &str| {
        let p = json!({"InstanceId": "inst-1", "Users": [], "MaxDeletions": m});
        SetProps::parse(p.as_object().unwrap()).unwrap_err().to_string()
    };
    for m in ["-2", "1.5", "ten"] {
        assert!(bad(m).contains("MaxDeletions: "), "{m}: {}", bad(m));
    }
}

#[test]
fn every_action_counts_in_a_declared_metric_and_the_templates_dashboard_and_alarm_show_only_metrics_written() {
    use crate::cfn::metrics::CORE;
    for action in ["created", "updated", "deleted", "imported", "released", "put back"] {
        let m = run::metric_of(action).unwrap_or_else(|| panic!("{action} counts"));
        assert!(run::METRICS.contains(&m), "{m}");
    }
    for action in ["unchanged", "kept", "left"] {
        assert_eq!(run::metric_of(action), None, "{action} changes no user");
    }
    let template = include_str!("../../template.yaml");
    let written = |n: &str| CORE.contains(&n) || run::METRICS.contains(&n);
    let mut shown = Vec::new();
    for piece in template.split("[\"${NS}\", \"").skip(1).chain(template.split("[\".\", \"").skip(1)) {
        let name = piece.split('"').next().unwrap_or("");
        if name != "." {
            shown.push(name.to_string());
        }
    }
    for line in template.lines().filter_map(|l| l.trim().strip_prefix("MetricName: ")) {
        shown.push(line.to_string());
    }
    assert!(shown.len() >= 12, "{shown:?}");
    for name in &shown {
        assert!(written(name), "template.yaml shows {name}, which the function never writes");
    }
    for name in run::METRICS.iter().chain(CORE.iter()) {
        assert!(shown.iter().any(|s| s == name), "{name} is written but not on the dashboard");
    }
    assert!(template.contains("METRICS_NAMESPACE: !Ref MetricsNamespace"), "the function writes where the alarm looks");
    assert_eq!(crate::cfn::metrics::NAMESPACE_ENV, "METRICS_NAMESPACE");
}

#[test]
fn the_ids_a_round_leaves_are_the_held_ones_with_what_it_made_less_what_it_took_out() {
    let users: Vec<Value> = ["ana", "ben", "cai", "dan"]
        .iter()
        .map(|n| json!({"Name": n, "Password": "Passw0rdExample", "RoutingProfileId": "rp", "SecurityProfileIds": ["sp"]}))
        .collect();
    let set = SetProps::parse(json!({"InstanceId": "inst-1", "Users": users}).as_object().unwrap()).unwrap();
    let report = |name: &str, user_id: &str, action: &'static str| run::Report {
        name: name.into(),
        user_id: user_id.into(),
        action,
        calls: vec![],
        outcome: "ok".into(),
    };
    let ran = run::Ran {
        reports: vec![
            report("cai", "id-cai", "created"),
            report("ben", "id-ben-2", "updated"),
            report("dan", "id-dan", "imported"),
            report("ana", "id-ana", "kept"),
            report("old", "id-old", "deleted"),
            report("gone", "id-gone", "released"),
        ],
        ..Default::default()
    };
    let held: BTreeMap<String, String> =
        [("ana", "id-ana"), ("ben", "id-ben"), ("old", "id-old"), ("gone", "id-gone"), ("stray", "id-stray")]
            .into_iter()
            .map(|(n, i)| (n.to_string(), i.to_string()))
            .collect();
    let ids = ran.resulting_ids(held, &set);
    let want: BTreeMap<String, String> =
        [("ben", "id-ben-2"), ("cai", "id-cai"), ("dan", "id-dan")].into_iter().map(|(n, i)| (n.to_string(), i.to_string())).collect();
    assert_eq!(ids, want, "made or changed: in; deleted, released, kept for the cleanup, or not in the roster: out");
}

#[test]
fn a_failed_rounds_reason_shows_five_failures_and_counts_the_rest() {
    let failures = |n: usize| run::Ran {
        failures: (0..n)
            .map(|i| run::Failure { name: format!("u{i}"), entry: Some(i), user_id: String::new(), why: format!("u{i}: refused") })
            .collect(),
        ..Default::default()
    };
    assert_eq!(failures(1).failures_shown(), "u0: refused");
    let five = failures(5).failures_shown();
    assert_eq!(five.matches(": refused").count(), 5);
    assert!(!five.contains("more"), "{five}");
    let seven = failures(7).failures_shown();
    assert_eq!(seven.matches(": refused").count(), 5, "{seven}");
    assert!(seven.ends_with("; and 2 more failures (in the function's logs)"), "{seven}");
    assert!(!seven.contains("u5"), "{seven}");
}

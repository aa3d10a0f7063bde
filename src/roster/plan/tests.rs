use super::*;
use crate::connect::ownership::HOLDER_TAG;
use crate::roster::props::{old_entries, SetProps};
use serde_json::{json, Value};

const I: &str = "11111111-2222-3333-4444-555555555555";
const HOLDER: &str = "stack/Agents";
const MARKER: &str = "00000000000000aa";

fn user(name: &str) -> Value {
    json!({"Name": name, "Password": "Passw0rd!", "RoutingProfileId": "rp-1", "SecurityProfileIds": ["sp-1"],
           "IdentityInfo": {"FirstName": name, "Email": format!("{name}@example.com")}})
}

fn set(users: Vec<Value>) -> SetProps {
    SetProps::parse(json!({"InstanceId": I, "Users": users}).as_object().unwrap()).unwrap()
}

fn previous(users: Vec<Value>) -> HashMap<String, OldEntry> {
    old_entries(json!({"InstanceId": I, "Users": users}).as_object().unwrap(), Vec::new(), None)
}

/// A held user as a SearchUsers page shows it: the entry's settings without what a page leaves out.
fn held(e: &Entry, id: &str, created: bool, digest: Option<&str>) -> Actual {
    let mut settings = e.props.settings.clone();
    settings.identity_info.email = None;
    settings.identity_info.secondary_email = None;
    settings.identity_info.mobile = None;
    settings.proficiencies = None;
    let mut marker_tags = BTreeMap::from([(HOLDER_TAG.to_string(), HOLDER.to_string())]);
    if created {
        marker_tags.insert(MARKER_TAG.to_string(), "0000000000000001".to_string());
    }
    if let Some(d) = digest {
        marker_tags.insert(ENTRY_TAG.to_string(), d.to_string());
    }
    Actual { user_id: id.into(), arn: format!("arn:{id}"), username: e.props.name.clone(), directory_user_id: None, settings, marker_tags }
}

fn kinds(p: &SetPlan) -> Vec<&'static str> {
    p.work.iter().map(Work::kind).collect()
}

#[test]
fn a_new_roster_creates_every_entry() {
    let s = set(vec![user("a"), user("b")]);
    let p = plan(Some(&s), &HashMap::new(), vec![], Some(&HashMap::new()), MARKER).unwrap();
    assert_eq!(p.work, vec![Work::Create { entry: 0 }, Work::Create { entry: 1 }]);
}

#[test]
fn names_taken_by_users_the_set_does_not_hold_are_refused_before_anything() {
    let users: Vec<Value> = (0..25).map(|i| user(&format!("agent{i:02}"))).collect();
    let s = set(users);
    let taken: HashMap<String, String> = (0..23).map(|i| (format!("agent{i:02}"), format!("id{i}"))).collect();
    let why = plan(Some(&s), &HashMap::new(), vec![], Some(&taken), MARKER).unwrap_err();
    assert!(why.starts_with("Users: these users already exist in the instance and are not held by this set: agent00, agent01"), "{why}");
    assert!(why.contains("agent19 and 3 more"), "at most 20 names, then a count: {why}");
    assert!(!why.contains("agent20"), "{why}");
    assert!(why.contains("ImportId"), "says how to take them over: {why}");
    let mixed = HashMap::from([("AGENT24".to_lowercase(), "x".to_string())]);
    assert!(plan(Some(&s), &HashMap::new(), vec![], Some(&mixed), MARKER).unwrap_err().contains("agent24"), "names compare without case");
}

#[test]
fn an_entry_with_import_id_takes_over_instead_of_refusing() {
    let mut u = user("legacy");
    u["ImportId"] = json!(format!("{I}:u-legacy"));
    let s = set(vec![u]);
    let taken = HashMap::from([("legacy".to_string(), "u-legacy".to_string())]);
    assert_eq!(plan(Some(&s), &HashMap::new(), vec![], Some(&taken), MARKER).unwrap().work, vec![Work::Import { entry: 0 }]);
    let other = held(&s.entries[0], "u-other", false, None);
    let why = plan(Some(&s), &HashMap::new(), vec![other], None, MARKER).unwrap_err();
    assert!(why.contains("Users[0].ImportId: names user u-legacy, but this set already holds user u-other named legacy"), "{why}");
}

#[test]
fn a_held_user_that_matches_its_entry_needs_no_call_and_drift_is_corrected() {
    let s = set(vec![user("a"), user("b")]);
    let a = held(&s.entries[0], "u-a", true, Some(&s.entries[0].digest));
    let mut b = held(&s.entries[1], "u-b", true, Some(&s.entries[1].digest));
    b.settings.routing_profile_id = "rp-drifted".into();
    let p = plan(Some(&s), &previous(vec![user("a"), user("b")]), vec![a, b], None, MARKER).unwrap();
    assert_eq!(p.unchanged, 1);
    let [Work::Update { entry: 1, changes, .. }] = p.work.as_slice() else { panic!("{:?}", p.work) };
    assert_eq!(changes, &vec![Change::RoutingProfile("rp-1".into())], "the digest is already the entry's: no tag call");
}

#[test]
fn a_changed_entry_is_planned_from_the_previous_one_without_a_read() {
    let before = user("a");
    let mut after = user("a");
    after["IdentityInfo"]["Email"] = json!("new@example.com");
    let s = set(vec![after]);
    let old = previous(vec![before]);
    let h = held(&s.entries[0], "u-a", true, old["a"].digest.as_deref());
    let p = plan(Some(&s), &old, vec![h], None, MARKER).unwrap();
    let [Work::Update { changes, .. }] = p.work.as_slice() else { panic!("{:?}", p.work) };
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(matches!(&changes[0], Change::IdentityInfo(i) if i.email.as_deref() == Some("new@example.com")));
    assert_eq!(
        changes[1],
        Change::Tag(BTreeMap::from([(ENTRY_TAG.to_string(), s.entries[0].digest.clone())])),
        "the new digest is recorded last"
    );
}

#[test]
fn a_change_a_page_shows_needs_no_record() {
    let before = user("a");
    let mut after = user("a");
    after["RoutingProfileId"] = json!("rp-2");
    let s = set(vec![after]);
    let old = previous(vec![before]);
    assert_eq!(old["a"].digest.as_ref(), Some(&s.entries[0].digest));
    let h = held(&s.entries[0], "u-a", true, old["a"].digest.as_deref());
    let mut h = h;
    h.settings.routing_profile_id = "rp-1".into();
    let p = plan(Some(&s), &old, vec![h], None, MARKER).unwrap();
    let [Work::Update { changes, .. }] = p.work.as_slice() else { panic!("{:?}", p.work) };
    assert_eq!(changes, &vec![Change::RoutingProfile("rp-2".into())], "one call, no tag");
}

#[test]
fn a_user_whose_applied_entry_is_unknown_is_read_first() {
    let s = set(vec![user("a"), user("b")]);
    let a = held(&s.entries[0], "u-a", true, Some("ffffffffffffffff"));
    let b = held(&s.entries[1], "u-b", true, None);
    let p = plan(Some(&s), &HashMap::new(), vec![a, b], None, MARKER).unwrap();
    assert!(matches!(p.work.as_slice(), [Work::Read { entry: 0, .. }, Work::Read { entry: 1, .. }]), "{:?}", p.work);
}

#[test]
fn proficiencies_the_known_entry_never_mentioned_are_read() {
    let mut with = user("a");
    with["UserProficiencies"] = json!([{"AttributeName": "skill", "AttributeValue": "billing", "Level": 3}]);
    let s = set(vec![with.clone()]);
    let old = previous(vec![user("a")]);
    let h = held(&s.entries[0], "u-a", true, old["a"].digest.as_deref());
    assert!(known(&s.entries[0], old.get("a"), &h).is_none(), "the old entry said nothing of proficiencies");
    let h2 = held(&s.entries[0], "u-a", true, Some(&s.entries[0].digest));
    let filled = known(&s.entries[0], None, &h2).unwrap();
    assert_eq!(filled.settings.proficiencies, s.entries[0].props.settings.proficiencies);
    assert_eq!(filled.settings.identity_info.email.as_deref(), Some("a@example.com"));
}

#[test]
fn users_no_longer_wanted_are_deleted_only_when_the_set_created_them() {
    let all = set(vec![user("made"), user("imported"), user("imported-then-listed")]);
    let made = held(&all.entries[0], "u1", true, None);
    let imported = held(&all.entries[1], "u2", false, None);
    let listed = held(&all.entries[2], "u3", true, None);
    let mut import_entry = user("imported-then-listed");
    import_entry["ImportId"] = json!(format!("{I}:u3"));
    let old = previous(vec![user("made"), user("imported"), import_entry]);
    let s = set(vec![]);
    let p = plan(Some(&s), &old, vec![made.clone(), imported.clone(), listed.clone()], None, MARKER).unwrap();
    assert_eq!(
        p.work,
        vec![
            Work::Delete { user: Box::new(made.clone()) },
            Work::Release { user: Box::new(imported.clone()) },
            Work::Release { user: Box::new(listed.clone()) }
        ]
    );
    let d = plan(None, &old, vec![made.clone(), imported], None, MARKER).unwrap();
    assert_eq!(kinds(&d), vec!["delete", "release"], "a Delete of the set works the same way");
    assert_eq!(release_keys(&listed), vec![HOLDER_TAG.to_string(), MARKER_TAG.to_string()]);
}

#[test]
fn password_and_directory_changes_are_refused_naming_the_entries() {
    let mut a = user("a");
    a["Password"] = json!("Other0ne!");
    let mut b = user("b");
    b["DirectoryUserId"] = json!("dir-b");
    let s = set(vec![a, b, user("c")]);
    let old = previous(vec![user("a"), user("b"), user("c")]);
    let why = plan(Some(&s), &old, vec![], Some(&HashMap::new()), MARKER).unwrap_err();
    assert!(why.contains("Users[0] (a): Password: cannot be changed"), "{why}");
    assert!(why.contains("Users[1] (b): DirectoryUserId: cannot be changed"), "{why}");
    assert!(!why.contains("(c)"), "{why}");
    assert!(!why.contains("Other0ne"), "never the password: {why}");
}

#[test]
fn an_entry_that_stops_importing_makes_the_set_the_owner() {
    let s = set(vec![user("a")]);
    let h = held(&s.entries[0], "u-a", false, Some(&s.entries[0].digest));
    let changes = entry_changes(&s.entries[0], None, &known(&s.entries[0], None, &h).unwrap(), MARKER).unwrap();
    assert_eq!(changes, vec![Change::Tag(BTreeMap::from([(MARKER_TAG.to_string(), MARKER.to_string())]))]);
    let mut imp = user("a");
    imp["ImportId"] = json!(format!("{I}:u-a"));
    let s2 = set(vec![imp]);
    let h2 = held(&s2.entries[0], "u-a", false, Some(&s2.entries[0].digest));
    assert_eq!(entry_changes(&s2.entries[0], None, &known(&s2.entries[0], None, &h2).unwrap(), MARKER).unwrap(), vec![]);
}

#[test]
fn an_entry_that_imports_again_gives_up_ownership_before_anything_else() {
    let mut imp = user("a");
    imp["ImportId"] = json!(format!("{I}:u-a"));
    let s = set(vec![imp.clone()]);
    // Created-by-the-set record left by a version of the roster without ImportId: removed, nothing else to do.
    let h = held(&s.entries[0], "u-a", true, Some(&s.entries[0].digest));
    let changes = entry_changes(&s.entries[0], None, &known(&s.entries[0], None, &h).unwrap(), MARKER).unwrap();
    assert_eq!(changes, vec![Change::Untag(vec![MARKER_TAG.to_string()])]);
    // With settings to change too, the record goes first.
    imp["RoutingProfileId"] = json!("rp-2");
    let s2 = set(vec![imp]);
    let h2 = held(&s.entries[0], "u-a", true, Some(&s.entries[0].digest));
    let old = previous(vec![user("a")]);
    let changes = entry_changes(&s2.entries[0], old.get("a"), &h2, MARKER).unwrap();
    assert_eq!(changes.first(), Some(&Change::Untag(vec![MARKER_TAG.to_string()])), "{changes:?}");
    assert!(changes.contains(&Change::RoutingProfile("rp-2".into())), "{changes:?}");
    assert!(!changes.iter().any(|c| matches!(c, Change::Tag(t) if t.contains_key(MARKER_TAG))), "{changes:?}");
    // Through the planner: the held user is updated, not left as it was.
    let p = plan(Some(&s), &HashMap::new(), vec![h], None, MARKER).unwrap();
    assert_eq!(kinds(&p), vec!["update"]);
}

#[test]
fn the_hold_follows_the_last_ownership_call_made() {
    use crate::roster::held::Hold;
    let tag = |k: &str| Change::Tag(BTreeMap::from([(k.to_string(), "v".to_string())]));
    let untag = |k: &str| Change::Untag(vec![k.to_string()]);
    assert_eq!(hold_after(&[]), None);
    assert_eq!(hold_after(&[Change::RoutingProfile("rp".into()), tag(ENTRY_TAG)]), None, "settings and the entry's record");
    assert_eq!(hold_after(&[Change::RoutingProfile("rp".into()), tag(MARKER_TAG)]), Some(Hold::Created));
    assert_eq!(hold_after(&[untag(MARKER_TAG), Change::RoutingProfile("rp".into())]), Some(Hold::TakenOver));
    assert_eq!(hold_after(&[untag(MARKER_TAG), tag(MARKER_TAG)]), Some(Hold::Created), "the last one counts");
    assert_eq!(hold_after(&[tag(MARKER_TAG), untag(MARKER_TAG)]), Some(Hold::TakenOver));
    assert_eq!(hold_after(&[untag(ENTRY_TAG)]), None);
}

#[test]
fn a_user_recorded_as_brought_to_its_entry_needs_no_read() {
    let mut imp = user("c");
    imp["ImportId"] = json!(format!("{I}:u-c"));
    let s = set(vec![user("a"), user("b"), imp]);
    let prev = HashMap::new();
    let mut p = Planner::new(Some(&s), &prev, MARKER);
    assert!(p.wanted("a").is_some() && p.wanted("z").is_none());
    assert!(!p.held_as_recorded("a", "u-a", None), "no digest recorded: read it");
    assert!(!p.held_as_recorded("a", "u-a", Some(s.entries[0].given ^ 1)), "another entry: read it");
    assert!(!p.held_as_recorded("z", "u-z", Some(1)), "not wanted: not this way");
    assert!(!p.held_as_recorded("c", "u-other", Some(s.entries[2].given)), "an import of another user: read it");
    assert!(p.held_as_recorded("a", "u-a", Some(s.entries[0].given)));
    assert!(!p.held_as_recorded("a", "u-a", Some(s.entries[0].given)), "once");
    assert!(p.held_as_recorded("c", "u-c", Some(s.entries[2].given)));
    let (plan, ids) = p.finish(Some(&HashMap::new())).unwrap();
    assert_eq!((plan.unchanged, kinds(&plan)), (2, vec!["create"]), "b is still to be created");
    assert_eq!(ids, BTreeMap::from([("a".to_string(), "u-a".to_string()), ("c".to_string(), "u-c".to_string())]));
}

#[test]
fn proficiencies_an_entry_stops_mentioning_are_read_so_that_they_can_be_removed() {
    let mut skilled = user("a");
    skilled["UserProficiencies"] = json!([{"AttributeName": "Language", "AttributeValue": "English", "Level": 2}]);
    let s = set(vec![user("a")]);
    let old = previous(vec![skilled]);
    assert!(mentions_proficiencies(&old["a"]));
    assert!(!mentions_proficiencies(&previous(vec![user("a")])["a"]));
    // The user carries the new entry's record, which says nothing of proficiencies: they must be read.
    let h = held(&s.entries[0], "u-a", true, Some(&s.entries[0].digest));
    assert!(known(&s.entries[0], old.get("a"), &h).is_none());
    let p = plan(Some(&s), &old, vec![h.clone()], None, MARKER).unwrap();
    assert!(matches!(p.work.as_slice(), [Work::Read { .. }]), "{:?}", p.work);
    // An entry that never mentioned them leaves them alone: known without a read.
    assert!(known(&s.entries[0], previous(vec![user("a")]).get("a"), &h).is_some());
}

#[test]
fn the_sets_records_ride_on_the_users_own_tag_call() {
    let mut tagged = user("a");
    tagged["Tags"] = json!({"team": "blue"});
    let s = set(vec![tagged]);
    // Held with another team and an email the entry changes (so its record changes too).
    let mut h = held(&s.entries[0], "u-a", true, Some("stale-digest"));
    h.settings.tags.insert("team".into(), "red".into());
    let mut filled = h.clone();
    filled.settings.identity_info.email = Some("old@example.com".into());
    let changes = entry_changes(&s.entries[0], None, &filled, MARKER).unwrap();
    let tag_calls: Vec<&Change> = changes.iter().filter(|c| matches!(c, Change::Tag(_))).collect();
    assert_eq!(tag_calls.len(), 1, "one TagResource for the user's tag and the set's record: {changes:?}");
    let Change::Tag(t) = tag_calls[0] else { unreachable!() };
    assert_eq!(t.get("team").map(String::as_str), Some("blue"));
    assert_eq!(t.get(ENTRY_TAG), Some(&s.entries[0].digest));
}

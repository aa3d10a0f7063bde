//! Rosters kept in S3 (`Source`): Connect's bulk-upload CSV as the console writes it, JSON and JSON lines, read
//! from a real S3-compatible server (moto) with versioned objects, through the real binary.

use crate::roster::{resolve, template_json};
use crate::secrets::{moto, secrets_client, Moto};
use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const LOGICAL: &str = "Roster";
pub(crate) const BUCKET: &str = "rosters";
const TIER1: &str = "3b1c2d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";

fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// moto's S3 with a versioned bucket, and the function pointed at it.
pub(crate) struct Files {
    moto: Moto,
    s3: aws_sdk_s3::Client,
    pub(crate) bed: Bed,
}

impl Files {
    async fn start() -> Files {
        Self::start_with(connect_emulator::Config::default()).await
    }

    pub(crate) async fn start_with(config: connect_emulator::Config) -> Files {
        let moto = moto().await;
        let s3 = s3_client(&moto.endpoint);
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        let on = aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build();
        s3.put_bucket_versioning().bucket(BUCKET).versioning_configuration(on).send().await.unwrap();
        moto.state_table(STATE_TABLE).await.unwrap();
        let env = [
            ("AWS_ENDPOINT_URL_S3", moto.endpoint.as_str()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.endpoint.as_str()),
            ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint.as_str()),
            ("STATE_TABLE", STATE_TABLE),
        ];
        let bed = Bed::start_with(config, &env).await;
        Files { moto, s3, bed }
    }

    /// Uploads `body` and returns its VersionId and ETag.
    pub(crate) async fn put(&self, key: &str, body: impl Into<Vec<u8>>) -> (String, String) {
        let out = self.s3.put_object().bucket(BUCKET).key(key).body(body.into().into()).send().await.unwrap();
        (out.version_id().unwrap().to_string(), out.e_tag().unwrap().to_string())
    }
}

fn source(key: &str, version: &str) -> Value {
    json!({"InstanceId": IID, "Source": format!("s3://{BUCKET}/{key}"), "SourceVersion": version})
}

pub(crate) fn create(props: Value) -> Value {
    events::for_set(events::create(LOGICAL, "x", props))
}

/// An Update as CloudFormation sends it: to the physical id the set answered last.
fn update(id: &str, props: Value, old: Value) -> Value {
    events::for_set(events::update(LOGICAL, "x", id, props, old))
}

pub(crate) fn delete(id: &str, props: Value) -> Value {
    events::for_set(events::delete(LOGICAL, "x", id, props))
}

async fn by_name(bed: &Bed) -> BTreeMap<String, Value> {
    bed.users().await.into_iter().map(|u| (u["Username"].as_str().unwrap_or_default().to_string(), u)).collect()
}

const HEADER: &str = "first name,last name,email address,secondary email address,mobile,password,user login,routing profile name,security_profile_name_1|security_profile_name_2,phone type (soft/desk),phone number,soft phone auto accept (yes/no),ACW timeout (seconds)";

/// Rows as the console's template writes them.
fn row(login: &str, last: &str) -> String {
    format!(
        "{login},\"{last}, Jr.\",{login}@example.com,,,Passw0rd{login}1,{login},Basic Routing Profile,Agent|CallCenterManager,soft,,yes,30"
    )
}

/// The console's CSV: a byte order mark, CRLF line ends, quoting, empty optional columns.
fn console_csv(rows: &[String]) -> String {
    format!("\u{feff}{HEADER}\r\n{}\r\n", rows.join("\r\n"))
}

#[tokio::test]
async fn a_console_csv_is_created_then_one_changed_row_and_one_removed_row_are_all_that_is_done() {
    let f = Files::start().await;
    let bed = &f.bed;
    for l in ["ana", "ben", "cai"] {
        bed.secret(&format!("Passw0rd{l}1"));
    }
    let v1 = console_csv(&[row("ana", "Silva"), row("ben", "Okafor"), row("cai", "Chen")]);
    let (version1, _) = f.put("team/agents.csv", v1).await;
    let first = source("team/agents.csv", &version1);
    let c = bed.send(create(first.clone())).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    assert_eq!(c.body["Data"]["Total"], "3");
    let users = by_name(bed).await;
    let ana = &users["ana"];
    assert_eq!(ana["IdentityInfo"]["LastName"], "Silva, Jr.", "a quoted field with a comma");
    assert_eq!(ana["IdentityInfo"]["Email"], "ana@example.com");
    assert_eq!(ana["RoutingProfileId"], RP_BASIC, "the routing profile's name resolved to its id");
    let mut sps: Vec<String> = serde_json::from_value(ana["SecurityProfileIds"].clone()).unwrap();
    sps.sort();
    let mut want = vec![SP_AGENT.to_string(), SP_MANAGER.to_string()];
    want.sort();
    assert_eq!(sps, want);
    assert_eq!(ana["PhoneConfig"]["AutoAccept"], true);
    assert_eq!(ana["PhoneConfig"]["AfterContactWorkTimeLimit"], 30);
    assert_eq!(ana["Password"], "Passw0rdana1", "the console's password column is applied at creation");

    // A new upload of the same key, one row changed: deployed by its new VersionId, and only that user is touched.
    let (version2, _) = f.put("team/agents.csv", console_csv(&[row("ana", "Silva"), row("ben", "Okafor-Diaz"), row("cai", "Chen")])).await;
    let second = source("team/agents.csv", &version2);
    bed.clear_calls().await;
    let u = bed.send(update(&c.physical_id(), second.clone(), first.clone())).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(u.physical_id(), c.physical_id(), "the same names: the same id");
    let log = bed.call_log().await;
    assert_eq!(writes(&log), ["UpdateUserIdentityInfo"], "{log:?}");
    let ben_id = by_name(bed).await["ben"]["Id"].clone();
    let touched: Vec<&Value> = log.iter().filter(|c| c["operation"] == "UpdateUserIdentityInfo").map(|c| &c["labels"][1]).collect();
    assert_eq!(touched, [&ben_id], "only ben's");
    assert_eq!(by_name(bed).await["ben"]["IdentityInfo"]["LastName"], "Okafor-Diaz, Jr.");

    // A row removed: that user waits for the stack to commit (a new id), nobody else is touched.
    let (version3, _) = f.put("team/agents.csv", console_csv(&[row("ana", "Silva"), row("ben", "Okafor-Diaz")])).await;
    let third = source("team/agents.csv", &version3);
    bed.clear_calls().await;
    let u3 = bed.send(update(&u.physical_id(), third.clone(), second.clone())).await;
    assert_eq!(u3.status(), "SUCCESS", "{}", u3.reason());
    assert_ne!(u3.physical_id(), u.physical_id());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new(), "cai is kept until the stack commits");
    assert_eq!(by_name(bed).await.keys().cloned().collect::<Vec<_>>(), ["ana", "ben", "cai"]);

    // CloudFormation's rollback carries the previous SourceVersion: the previous content is still there to read,
    // and cai is where it was; the rollback's cleanup Delete of the new id deletes nobody.
    let r = bed.send(update(&u3.physical_id(), second.clone(), third.clone())).await;
    assert_eq!(r.status(), "SUCCESS", "{}", r.reason());
    assert_eq!(r.physical_id(), u.physical_id(), "the id from before");
    let cleanup = bed.send(delete(&u3.physical_id(), third.clone())).await;
    assert_eq!(cleanup.status(), "SUCCESS", "{}", cleanup.reason());
    assert_eq!(by_name(bed).await.keys().cloned().collect::<Vec<_>>(), ["ana", "ben", "cai"]);

    // The same Update again, committed this time: the cleanup Delete of the old id deletes cai alone.
    bed.clear_calls().await;
    let u3 = bed.send(update(&r.physical_id(), third.clone(), second.clone())).await;
    assert_eq!(u3.status(), "SUCCESS", "{}", u3.reason());
    let cleanup = bed.send(delete(&r.physical_id(), second.clone())).await;
    assert_eq!(cleanup.status(), "SUCCESS", "{}", cleanup.reason());
    assert_eq!(writes(&bed.call_log().await), ["DeleteUser"]);
    assert_eq!(by_name(bed).await.keys().cloned().collect::<Vec<_>>(), ["ana", "ben"]);

    let d = bed.send(delete(&u3.physical_id(), third)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty());
}

#[tokio::test]
async fn json_files_hierarchy_paths_tags_and_inline_users_come_together() {
    let f = Files::start().await;
    let bed = &f.bed;
    let inline = json!([{"Name": "inline", "Password": PASSWORD, "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT], "PhoneConfig": {"PhoneType": "SOFT_PHONE"}}]);
    // JSON lines with passwords, and a JSON array: the same entries as Users.
    let lines = "{\"Name\": \"ana\", \"Password\": \"Sup3rSecretPassw0rd\", \"RoutingProfileId\": \"fcc8ed3b-a605-49a2-9d2d-9313178676db\", \"SecurityProfileIds\": [\"16d9d65b-eb82-419f-b3bc-80a0d32111ef\"], \"HierarchyGroupId\": \"3b1c2d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d\"}\n\n{\"Name\": \"ben\", \"Password\": \"Sup3rSecretPassw0rd\", \"RoutingProfileId\": \"f1478cfd-0ff1-4e4f-b73a-ffafa95f1eaf\", \"SecurityProfileIds\": [\"16d9d65b-eb82-419f-b3bc-80a0d32111ef\"]}\n";
    let (v, _) = f.put("agents.jsonl", lines).await;
    let mut p = source("agents.jsonl", &v);
    p["Defaults"] = json!({"PhoneConfig": {"PhoneType": "SOFT_PHONE"}});
    p["Users"] = inline;
    let c = bed.send(create(p.clone())).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    assert_eq!(c.body["Data"]["Total"], "3", "the file's two and the inline one");
    let users = by_name(bed).await;
    assert_eq!(users["ana"]["HierarchyGroupId"], TIER1);
    assert_eq!(users["ana"]["RoutingProfileId"], RP_SALES);
    assert!(users.contains_key("inline"));
    let d = bed.send(delete(&c.physical_id(), p)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());

    // A JSON array.
    let array = json!([{"Name": "dee", "Password": PASSWORD, "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT], "PhoneConfig": {"PhoneType": "SOFT_PHONE"}}]);
    let (v, _) = f.put("agents.json", array.to_string()).await;
    let c = bed.send(create(source("agents.json", &v))).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    assert!(by_name(bed).await.contains_key("dee"));
    let d = bed.send(delete(&c.physical_id(), source("agents.json", &v))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.is_empty());

    // The CSV in a form in public use (no email, a hierarchy and a tags column): names, paths and tags resolve.
    let csv = "User Login,Password,First Name,Last Name,Routing Profile Name,Security Profile Name,Hierarchy,Tags\nana,Sup3rSecretPassw0rd,Ana,Silva,sales routing profile,Agent,EMEA/tier 1,site=lisbon|level=2\nben,Sup3rSecretPassw0rd,Ben,Okafor,Basic Routing Profile,Agent,North America,\n";
    let (v, _) = f.put("team.csv", csv).await;
    let mut p = source("team.csv", &v);
    p["Defaults"] = json!({"PhoneConfig": {"PhoneType": "SOFT_PHONE"}});
    bed.clear_calls().await;
    let c = bed.send(create(p.clone())).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let users = by_name(bed).await;
    assert_eq!(users["ana"]["HierarchyGroupId"], TIER1, "a group path");
    assert_eq!(users["ben"]["HierarchyGroupId"], HG_NA, "a group name");
    assert_eq!(users["ana"]["RoutingProfileId"], RP_SALES, "names without regard to case");
    assert_eq!(users["ana"]["Tags"]["site"], "lisbon");
    assert_eq!(users["ana"]["Tags"]["level"], "2");
    let log = bed.call_log().await;
    let count = |op: &str| log.iter().filter(|c| c["operation"] == op).count();
    assert_eq!(count("ListRoutingProfiles"), 1, "names are read once");
    assert_eq!(count("ListSecurityProfiles"), 1);
    assert_eq!(count("ListUserHierarchyGroups"), 1);
    assert_eq!(count("DescribeUserHierarchyGroup"), 1, "only the group a path names");
    let d = bed.send(delete(&c.physical_id(), p)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
}

#[tokio::test]
async fn a_bad_file_fails_once_before_any_write_naming_row_column_and_rule() {
    let f = Files::start().await;
    let bed = &f.bed;
    for p in ["weakpass", "Passw0rda1", "Passw0rdana1", "Passw0rdAna1", "Passw0rdben1"] {
        bed.secret(p);
    }
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "header.csv",
            "login,colour,routing profile name\nana,red,Basic Routing Profile\n".into(),
            vec![
                "row 1: unknown column \"colour\"",
                "row 1, column security_profile_name_1|security_profile_name_2: a required column is missing",
            ],
        ),
        (
            "duplicates.csv",
            format!("{HEADER}\n{}\n{}\n", row("ana", "A"), row("Ana", "B")),
            vec!["row 3, column user login: Ana is also the login of row 2"],
        ),
        (
            "phone.csv",
            format!("{HEADER}\nana,Silva,ana@example.com,,,Passw0rdana1,ana,Basic Routing Profile,Agent,desk,12345,no,0\n"),
            vec!["row 2, column phone number: "],
        ),
        (
            "names.csv",
            format!("{HEADER}\nana,Silva,ana@example.com,,,Passw0rdana1,ana,Basic Routing Profil,Agnt,soft,,yes,30\n"),
            vec![
                "row 2, column routing profile name: no such name: \"Basic Routing Profil\"; the nearest is \"Basic Routing Profile\"",
                "row 2, column security_profile_name_1|security_profile_name_2: no such name: \"Agnt\"; the nearest is \"Agent\"",
            ],
        ),
        (
            "weak.csv",
            format!("{HEADER}\nana,Silva,ana@example.com,,,weakpass,ana,Basic Routing Profile,Agent,soft,,yes,30\n"),
            vec!["row 2"],
        ),
        (
            "many.csv",
            format!("{HEADER}\n{}", (0..20_001).map(|i| row(&format!("a{i}"), "X") + "\n").collect::<String>()),
            vec!["row 20002: the file has more than 20000 users; a set takes at most 20000"],
        ),
        ("broken.json", "[{\"Name\": \"a\"},".into(), vec!["the file is not JSON"]),
        (
            "mixed.csv",
            format!(
                "{HEADER}\n{}\nben,O,ben@example.com,,,Passw0rdben1,ben,Basic Routing Profile,Agent,desk,12345,no,0\n",
                row("ana", "A").replace("Basic Routing Profile", "Premium")
            ),
            vec!["2 problem(s)", "row 2, column routing profile name: no such name: \"Premium\"", "row 3, column phone number: "],
        ),
    ];
    for (key, body, wanted) in cases {
        let (v, _) = f.put(key, body).await;
        bed.clear_calls().await;
        let r = bed.send(create(source(key, &v))).await;
        assert_eq!(r.status(), "FAILED", "{key}");
        assert_eq!(r.puts.len(), 1, "{key}: one answer");
        for w in wanted {
            assert!(r.reason().contains(w), "{key}: {w:?} not in {}", r.reason());
        }
        assert!(!r.reason().contains("weakpass"), "{key}: a password in the reason");
        assert!(r.body.to_string().len() <= 4096);
        assert_eq!(writes(&bed.call_log().await), Vec::<String>::new(), "{key}: nothing written");
        assert!(r.physical_id().starts_with("create-failed-"), "{key}: nothing was made");
    }

    // Every problem of a long file is counted; the reason fits CloudFormation's 4096 bytes.
    let rows: String =
        (0..300).map(|i| format!("a{i},X,a@example.com,,,Passw0rda1,a{i},Basic Routing Profile,Agent,desk,12345,no,0\n")).collect();
    let (v, _) = f.put("bad-phones.csv", format!("{HEADER}\n{rows}")).await;
    let r = bed.send(create(source("bad-phones.csv", &v))).await;
    assert_eq!(r.status(), "FAILED");
    assert!(r.reason().contains("more (every one is in the function's logs)"), "{}", r.reason());
    assert!(!r.reason().contains("(truncated)"), "capped by count, not cut: {}", r.reason());
    // The log has every one of them, the last row's too.
    let out = bed.lambda.output();
    for row in [2, 150, 301] {
        assert!(out.contains(&format!("row {row}, column phone number")), "row {row}'s problem is not in the log");
    }

    // Over 50 MB: refused from its size, before its body is read.
    let mut huge = console_csv(&[row("ana", "A")]).into_bytes();
    huge.resize(50 * 1024 * 1024 + 1, b'\n');
    let (v, _) = f.put("huge.csv", huge).await;
    let r = bed.send(create(source("huge.csv", &v))).await;
    assert_eq!(r.status(), "FAILED");
    assert!(
        r.reason().contains("Source: s3://rosters/huge.csv has 52428801 bytes; a roster file may have at most 50 MB (52428800 bytes)"),
        "{}",
        r.reason()
    );

    // The object, version or content is not there.
    let missing = bed.send(create(source("nobody.csv", ""))).await;
    assert!(missing.reason().contains("Source: s3://rosters/nobody.csv does not exist"), "{}", missing.reason());
    let (_, etag) = f.put("moving.csv", console_csv(&[row("ana", "A")])).await;
    f.put("moving.csv", console_csv(&[row("ana", "B")])).await;
    let changed = bed.send(create(source("moving.csv", &etag))).await;
    assert!(changed.reason().contains("has changed since ETag"), "{}", changed.reason());
    let wrong = bed.send(create(source("moving.csv", "no-such-version"))).await;
    assert!(wrong.reason().contains("SourceVersion: s3://rosters/moving.csv has no version \"no-such-version\""), "{}", wrong.reason());

    // A Name in both the file and Users.
    let (v, _) = f.put("one.csv", console_csv(&[row("ana", "A")])).await;
    let mut both = source("one.csv", &v);
    both["Users"] = json!([{"Name": "ANA", "Password": PASSWORD, "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT], "PhoneConfig": {"PhoneType": "SOFT_PHONE"}}]);
    bed.clear_calls().await;
    let r = bed.send(create(both)).await;
    assert!(r.reason().contains("Users[0].Name: ANA is also the Name of row 2; names are unique in a set"), "{}", r.reason());
    assert_eq!(writes(&bed.call_log().await), Vec::<String>::new());
    assert!(bed.users().await.iter().all(|u| u["Username"] != "ana"), "nothing was created");
}

#[tokio::test]
async fn an_etag_pins_content_and_a_content_addressed_key_needs_none() {
    let f = Files::start().await;
    let bed = &f.bed;
    bed.secret("Passw0rdana1");
    let (_, etag) = f.put("pinned.csv", console_csv(&[row("ana", "A")])).await;
    let c = bed.send(create(source("pinned.csv", &etag))).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let d = bed.send(delete(&c.physical_id(), source("pinned.csv", &etag))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    // A CDK asset: the key holds the content's hash, and SourceVersion repeats it.
    let hash = "5f0c2e9d7a1b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5";
    f.put(&format!("assets/{hash}.csv"), console_csv(&[row("ana", "A")])).await;
    let c = bed.send(create(source(&format!("assets/{hash}.csv"), hash))).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    // A delete does not read the file: one that is gone since is no reason to fail.
    f.s3.delete_object().bucket(BUCKET).key(format!("assets/{hash}.csv")).send().await.unwrap();
    let d = bed.send(delete(&c.physical_id(), source(&format!("assets/{hash}.csv"), hash))).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.users().await.iter().all(|u| u["Username"] != "ana"));
}

#[tokio::test]
async fn the_csv_roster_example_deploys_as_written() {
    let f = Files::start().await;
    let bed = &f.bed;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (version, _) = f.put("rosters/agents.csv", std::fs::read(root.join("examples/agents.csv")).unwrap()).await;
    let map = json!({"ana.silva": "Secr3tPassw0rdA", "ben.okafor": "Secr3tPassw0rdB", "chen.wei": "Secr3tPassw0rdC"});
    for p in map.as_object().unwrap().values() {
        bed.secret(p.as_str().unwrap());
    }
    let arn =
        secrets_client(&f.moto.endpoint).create_secret().name("roster").secret_string(map.to_string()).send().await.unwrap().arn.unwrap();
    let template = template_json(&root.join("examples/roster-csv.yaml"));
    let resource = &template["Resources"]["Agents"];
    assert_eq!(resource["Type"], "Custom::ConnectUserSet");
    let params = BTreeMap::from([
        ("InstanceId", IID),
        ("RosterBucket", BUCKET),
        ("RosterKey", "rosters/agents.csv"),
        ("RosterVersion", version.as_str()),
        ("PasswordSecretArn", arn.as_str()),
    ]);
    let mut props = resource["Properties"].clone();
    props.as_object_mut().unwrap().remove("ServiceToken");
    let c = bed.send(create(resolve(&props, &params))).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let users = by_name(bed).await;
    assert_eq!(users.keys().cloned().collect::<Vec<_>>(), ["ana.silva", "ben.okafor", "chen.wei"]);
    assert_eq!(users["chen.wei"]["RoutingProfileId"], RP_SALES);
    assert_eq!(users["chen.wei"]["PhoneConfig"]["DeskPhoneNumber"], "+14155550100");
    assert_eq!(users["chen.wei"]["IdentityInfo"]["LastName"], "Wei, Jr.");
    assert_eq!(users["ben.okafor"]["IdentityInfo"]["Mobile"], "+14155550123");
    assert_eq!(users["ben.okafor"]["Password"], "Secr3tPassw0rdB", "from the secret");
    assert_eq!(users["ana.silva"]["Tags"]["managed-by"], "cloudformation");
}

/// The fixture's legacy.agent as a JSON roster entry that takes it over, exactly as it is.
fn legacy_entry(import: bool) -> Value {
    let mut e = crate::import::legacy();
    let o = e.as_object_mut().unwrap();
    o.remove("InstanceId");
    if !import {
        o.remove("ImportId");
    }
    e
}

fn json_roster(entries: Vec<Value>) -> String {
    serde_json::to_string(&entries).unwrap()
}

/// An agent that existed before the stack is never deleted with it, whatever happened to its entry's `ImportId`
/// on the way: dropped by one version of the file and restored by the next, the set gives up ownership again.
#[tokio::test]
async fn an_agent_whose_import_id_was_dropped_and_restored_survives_the_stacks_delete() {
    let f = Files::start().await;
    let bed = &f.bed;
    // Three versions of one file: the agent taken over, then without ImportId, then with it again.
    let mut p = Vec::new();
    for import in [true, false, true] {
        let made = json!({"Name": "made.one", "Password": PASSWORD, "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT]});
        let (v, _) = f.put("team/agents.json", json_roster(vec![legacy_entry(import), made])).await;
        p.push(source("team/agents.json", &v));
    }
    let (p1, p2, p3) = (p[0].clone(), p[1].clone(), p[2].clone());
    let c = bed.send(create(p1.clone())).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let u = bed.send(update(&c.physical_id(), p2.clone(), p1)).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert!(bed.user(LEGACY_ID).await.unwrap()["Tags"]["connect-user-resource:request"].is_string(), "without ImportId the set owns it");
    let r = bed.send(update(&u.physical_id(), p3.clone(), p2)).await;
    assert_eq!(r.status(), "SUCCESS", "{}", r.reason());
    assert!(bed.user(LEGACY_ID).await.unwrap()["Tags"]["connect-user-resource:request"].is_null(), "ImportId again: only held");

    // The stack's Delete does not read the file: the users' own records decide, and they are exact.
    let d = bed.send(delete(&r.physical_id(), p3)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    let after = bed.user(LEGACY_ID).await.expect("the pre-existing agent survives");
    assert!(after["Tags"][HOLDER_TAG].is_null(), "released: {after}");
    assert!(bed.users().await.is_empty(), "what the set created is deleted: {:?}", bed.users().await);
}

/// The same through CloudFormation's rollback: an Update drops `ImportId` and fails later on; the rollback
/// Update restores it, and the stack's Delete then leaves the agent in place.
#[tokio::test]
async fn an_agent_whose_import_id_a_rollback_restored_survives_the_stacks_delete() {
    let f = Files::start().await;
    let bed = &f.bed;
    let (v1, _) = f.put("team/agents.json", json_roster(vec![legacy_entry(true)])).await;
    // The failed version drops ImportId and adds a user whose creation fails.
    let (v2, _) = f
        .put(
            "team/agents.json",
            json_roster(vec![
                legacy_entry(false),
                json!({"Name": "late.one", "Password": PASSWORD, "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT]}),
            ]),
        )
        .await;
    let (p1, p2) = (source("team/agents.json", &v1), source("team/agents.json", &v2));
    let c = bed.send(create(p1.clone())).await;
    assert_eq!(c.status(), "SUCCESS");
    // The new user's CreateUser fails (a second later, after the agent's own calls were made).
    bed.control("POST", "faults", Some(json!({"operation": "CreateUser", "error": "InvalidParameterException", "delay_ms": 1000}))).await;
    let failed = bed.send(update(&c.physical_id(), p2.clone(), p1.clone())).await;
    assert_eq!(failed.status(), "FAILED", "{}", failed.reason());
    assert!(bed.user(LEGACY_ID).await.unwrap()["Tags"]["connect-user-resource:request"].is_string(), "the failed Update took ownership");
    let rollback = bed.send(update(&failed.physical_id(), p1.clone(), p2)).await;
    assert_eq!(rollback.status(), "SUCCESS", "{}", rollback.reason());
    let d = bed.send(delete(&rollback.physical_id(), p1)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    assert!(bed.user(LEGACY_ID).await.is_some(), "the pre-existing agent survives the rollback and the Delete");
}

/// Files far past the limits answer FAILED naming the limit, before any Connect call and without the function
/// running out of its 128 MB (which would leave the stack waiting for an hour).
#[tokio::test]
async fn files_far_past_the_limits_are_refused_before_any_connect_call_and_in_little_memory() {
    let f = Files::start().await;
    let bed = &f.bed;
    // 100,000 rows of the console's CSV (10 MB).
    let rows: Vec<String> = (0..100_000).map(|i| row(&format!("u{i:06}"), "Agent")).collect();
    let (v, _) = f.put("huge.csv", console_csv(&rows)).await;
    bed.clear_calls().await;
    let a = bed.send(create(source("huge.csv", &v))).await;
    assert_eq!(a.status(), "FAILED");
    assert!(
        a.reason().contains("row 20002: the file has more than 20000 users") && a.reason().ends_with("nothing was changed"),
        "{}",
        a.reason()
    );
    assert_eq!(bed.call_log().await, Vec::<Value>::new(), "not even the instance's names are read");

    // 40 MB of JSON, 130,000 entries: read as far as the limit, never built whole.
    let entry = |i: usize| json!({"Name": format!("user{i:06}"), "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT], "IdentityInfo": {"FirstName": "A", "LastName": "B", "Email": format!("user{i:06}@example.com")}, "Tags": {"team": "support", "site": "north"}});
    let mut json_text = String::from("[");
    let mut i = 0;
    while json_text.len() < 40 * 1024 * 1024 {
        if i > 0 {
            json_text.push(',');
        }
        json_text.push_str(&entry(i).to_string());
        i += 1;
    }
    json_text.push(']');
    let (v, _) = f.put("huge.json", json_text).await;
    let j = bed.send(create(source("huge.json", &v))).await;
    assert_eq!(j.status(), "FAILED");
    assert!(j.reason().contains("Source[20000]: the file has more than 20000 users"), "{}", j.reason());

    // Over 50 MB: refused from its size, before its body is read.
    let mut big = vec![b' '; 50 * 1024 * 1024 + 1];
    big[0] = b'[';
    big[50 * 1024 * 1024] = b']';
    let (v, _) = f.put("huge-too.json", big).await;
    let b = bed.send(create(source("huge-too.json", &v))).await;
    assert_eq!(b.status(), "FAILED");
    assert!(b.reason().contains("has 52428801 bytes; a roster file may have at most 50 MB"), "{}", b.reason());

    assert_eq!(bed.call_log().await, Vec::<Value>::new(), "no Connect call for any of them");
    let peak = lambda_harness::peak_rss_kb(bed.lambda.pid().unwrap()).unwrap();
    assert!(peak < 128 * 1024, "the function peaked at {} MB of its 128", peak / 1024);
}

/// An object's text, by its `s3://bucket/key`.
async fn read_object(s3: &aws_sdk_s3::Client, uri: &str) -> String {
    let (bucket, key) = uri.strip_prefix("s3://").and_then(|r| r.split_once('/')).expect("an s3:// uri");
    let out = s3.get_object().bucket(bucket).key(key).send().await.unwrap_or_else(|e| panic!("{uri}: {e:?}"));
    String::from_utf8(out.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
}

/// One CSV line, quoted as the console writes it.
fn csv_line(cells: &[String]) -> String {
    cells.iter().map(|c| if c.contains(',') { format!("\"{c}\"") } else { c.clone() }).collect::<Vec<_>>().join(",")
}

#[tokio::test]
async fn each_run_writes_a_report_and_the_failed_rows_go_back_in_as_a_roster_once_fixed() {
    let f = Files::start().await;
    let bed = &f.bed;
    f.s3.create_bucket().bucket("ops-reports").send().await.unwrap();
    for l in ["ana", "ben", "cai"] {
        bed.secret(&format!("Passw0rd{l}1"));
    }
    let (version1, _) = f.put("team/agents.csv", console_csv(&[row("ana", "Silva"), row("ben", "Okafor")])).await;
    let mut first = source("team/agents.csv", &version1);
    first["Report"] = json!("s3://ops-reports/runs/");
    let c = bed.send(create(first.clone())).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    let folder = c.body["Data"]["ReportUri"].as_str().expect("ReportUri").to_string();
    assert!(folder.starts_with("s3://ops-reports/runs/connect-users/Roster/") && folder.ends_with("/"), "{folder}");
    assert!(folder.contains("-Create-"), "{folder}");
    let report: Value = serde_json::from_str(&read_object(&f.s3, &format!("{folder}report.json")).await).unwrap();
    assert_eq!(report["status"], "SUCCESS");
    assert_eq!(report["requestType"], "Create");
    assert_eq!(report["counts"]["created"], 2);
    let users = by_name(bed).await;
    let mut lines: Vec<(String, String, String)> = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["name"].as_str().unwrap().into(), u["userId"].as_str().unwrap().into(), u["action"].as_str().unwrap().into()))
        .collect();
    lines.sort();
    let want: Vec<(String, String, String)> =
        ["ana", "ben"].iter().map(|n| (n.to_string(), users[*n]["Id"].as_str().unwrap().to_string(), "created".to_string())).collect();
    assert_eq!(lines, want, "every user, with the id Connect gave it");

    // ben changed, cai added, and cai's CreateUser refused by Connect.
    let (version2, _) = f.put("team/agents.csv", console_csv(&[row("ana", "Silva"), row("ben", "Okafor-Diaz"), row("cai", "Chen")])).await;
    let mut second = source("team/agents.csv", &version2);
    second["Report"] = json!("s3://ops-reports/runs/");
    bed.fault("CreateUser", 1, "InvalidParameterException").await;
    let u = bed.send(update(&c.physical_id(), second.clone(), first.clone())).await;
    assert_eq!(u.status(), "FAILED");
    let folder =
        u.reason().rsplit("(run report: ").next().and_then(|r| r.strip_suffix(')')).expect("the reason names the report").to_string();
    assert!(folder.contains("-Update-"), "{folder}");
    let text = read_object(&f.s3, &format!("{folder}report.json")).await;
    assert!(!text.contains("Passw0rd"), "no password in a report");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["status"], "FAILED");
    assert_eq!(report["counts"]["failed"], 1);
    let cai = report["users"].as_array().unwrap().iter().find(|u| u["name"] == "cai").expect("cai's line").clone();
    assert_eq!(cai["action"], "failed");
    assert!(cai["error"].as_str().unwrap().contains("InvalidParameterException"), "{cai}");
    let failed = read_object(&f.s3, &format!("{folder}failed.csv")).await;
    assert!(!failed.contains("Passw0rdcai1"), "no password in a report");
    let rows = connect_user_resource::roster::csv::records(&failed).unwrap();
    assert_eq!(rows.len(), 2, "the header and cai's row: {failed}");
    let header = &rows[0].1;
    let cell = |h: &str| rows[1].1[header.iter().position(|c| c == h).unwrap_or_else(|| panic!("{h} in {header:?}"))].clone();
    assert_eq!(cell("user login"), "cai");
    assert_eq!(cell("last name"), "Chen, Jr.");
    assert_eq!(cell("routing profile name"), "Basic Routing Profile", "names, as the console's file has them");
    let mut sps: Vec<String> = cell("security_profile_name_1|security_profile_name_2").split('|').map(String::from).collect();
    sps.sort();
    assert_eq!(sps, ["Agent", "CallCenterManager"]);
    assert_eq!(cell("password"), "");
    assert!(cell("error").contains("InvalidParameterException"));

    // Fixed (its password filled in) and uploaded as it is, error column and all: it reads as a roster.
    let mut fixed = rows[1].1.clone();
    fixed[header.iter().position(|c| c == "password").unwrap()] = "Passw0rdcai1".into();
    let (v, _) = f.put("team/retry.csv", format!("{}\r\n{}\r\n", csv_line(header), csv_line(&fixed))).await;
    let retry = bed.send(events::for_set(events::create("Retry", "x", source("team/retry.csv", &v)))).await;
    assert_eq!(retry.status(), "SUCCESS", "{}", retry.reason());
    let cai = by_name(bed).await["cai"].clone();
    assert_eq!(cai["RoutingProfileId"], RP_BASIC);
    assert_eq!(cai["IdentityInfo"]["LastName"], "Chen, Jr.");
    assert_eq!(cai["PhoneConfig"]["AfterContactWorkTimeLimit"], 30);
}

async fn plan(f: &Files, args: &[&str]) -> (i32, String, String) {
    run_plan_on(&f.bed, Some(&f.moto.endpoint), args).await
}

/// Runs `connect-users plan` with the standard AWS configuration pointed at the bed (Connect, CloudFormation, and
/// S3 when given), and nothing else of ours: its exit status, stdout and stderr.
pub(crate) async fn run_plan_on(bed: &Bed, s3: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = tokio::process::Command::new(workspace_bin("connect-users"));
    cmd.arg("plan").args(args);
    let extra = [
        ("AWS_ENDPOINT_URL_S3", s3.unwrap_or("http://127.0.0.1:9").to_string()),
        ("AWS_ENDPOINT_URL_CLOUDFORMATION", format!("http://{}", bed.runtime.addr)),
    ];
    let out = crate::export::run_with_aws_env(bed, cmd, &extra).await;
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A stack's template with the set, its instance and roster version as parameters (as a team keeps it).
const PLANNED_TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ConnectInstanceId:
    Type: String
  RosterVersion:
    Type: String
  ServiceTokenExport:
    Type: String
    Default: connect-user-resource-ServiceToken
Resources:
  Roster:
    Type: Custom::ConnectUserSet
    Properties:
      ServiceToken: !ImportValue
        Ref: ServiceTokenExport
      InstanceId: !Ref ConnectInstanceId
      Source: !Sub s3://rosters/team/agents.csv
      SourceVersion: !Ref RosterVersion
      Defaults:
        Tags:
          team: !Sub "${AWS::StackName}-agents"
"#;

#[tokio::test]
async fn plan_says_exactly_what_the_deployment_then_does_and_after_it_that_nothing_is_left() {
    let f = Files::start().await;
    let bed = &f.bed;
    for l in ["ana", "ben", "cai", "dan"] {
        bed.secret(&format!("Passw0rd{l}1"));
    }
    bed.runtime.stack_named("connect-users", events::STACK_ID);
    let dir = std::env::temp_dir().join(format!("plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let template = dir.join("stack.yaml");
    std::fs::write(&template, PLANNED_TEMPLATE).unwrap();
    let props = |version: &str| {
        let mut p = source("team/agents.csv", version);
        p["Defaults"] = json!({"Tags": {"team": "connect-users-agents"}});
        p
    };
    let args = |version: &str| -> Vec<String> {
        [
            "--template",
            template.to_str().unwrap(),
            "--parameter",
            &format!("ConnectInstanceId={IID}"),
            "--parameter",
            &format!("RosterVersion={version}"),
            "--stack-name",
            "connect-users",
            "--format",
            "json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let f = &f;
    let run_plan = |version: String| {
        let a = args(&version);
        async move {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            plan(f, &refs).await
        }
    };

    let (v1, _) = f.put("team/agents.csv", console_csv(&[row("ana", "Silva"), row("ben", "Okafor"), row("cai", "Chen")])).await;
    // Before the stack has the set: three to create, nothing read but names.
    let (code, out, err) = run_plan(v1.clone()).await;
    assert_eq!(code, 2, "changes: {out}{err}");
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["counts"]["create"], 3, "{p}");
    assert!(writes(&bed.call_log().await).is_empty(), "a plan writes nothing");
    let c = bed.send(create(props(&v1))).await;
    assert_eq!(c.status(), "SUCCESS", "{}", c.reason());
    bed.runtime.stack_resource("Roster", Some(&c.physical_id()));

    // ben changed, cai removed, dan added.
    let (v2, _) = f.put("team/agents.csv", console_csv(&[row("ana", "Silva"), row("ben", "Okafor-Diaz"), row("dan", "Dube")])).await;
    bed.clear_calls().await;
    let (code, out, err) = run_plan(v2.clone()).await;
    assert_eq!(code, 2, "changes: {out}{err}");
    assert!(writes(&bed.call_log().await).is_empty(), "a plan writes nothing");
    let p: Value = serde_json::from_str(&out).unwrap();
    let users = p["resources"][0]["users"].as_array().unwrap();
    let by: BTreeMap<&str, &Value> = users.iter().map(|u| (u["name"].as_str().unwrap(), u)).collect();
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), ["ben", "cai", "dan"], "{p}");
    assert_eq!(by["ben"]["action"], "update");
    assert!(by["ben"]["changes"].as_array().unwrap().iter().any(|c| c == "IdentityInfo.LastName: Okafor, Jr. -> Okafor-Diaz, Jr."), "{p}");
    assert_eq!(by["cai"]["action"], "delete");
    assert_eq!(by["dan"]["action"], "create");
    assert_eq!(p["counts"]["unchanged"], 1, "ana");
    let mut planned: Vec<String> =
        users.iter().flat_map(|u| u["calls"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string())).collect();
    planned.sort();

    // The same change deployed: the Update, then (the stack committed) the cleanup Delete of the old id.
    let u = bed.send(update(&c.physical_id(), props(&v2), props(&v1))).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    let cleanup = bed.send(delete(&c.physical_id(), props(&v1))).await;
    assert_eq!(cleanup.status(), "SUCCESS", "{}", cleanup.reason());
    let mut made = writes(&bed.call_log().await);
    made.sort();
    assert_eq!(made, planned, "the Connect writes made are the ones the plan listed");
    bed.runtime.stack_resource("Roster", Some(&u.physical_id()));

    let (code, out, err) = run_plan(v2.clone()).await;
    assert_eq!(code, 0, "nothing left to do: {out}{err}");
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["changes"], false);
    assert_eq!(p["counts"]["unchanged"], 3);

    // A file cut to its header: refused with the function's own words, exit 1.
    let (v3, _) = f.put("team/agents.csv", console_csv(&[])).await;
    let (code, _, err) = run_plan(v3).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Roster: the deployment would fail: MaxDeletions: the roster has no entry"), "{err}");

    // The text form, from a local roster file, for a person. The file alone has no Defaults: their tag would go.
    let local = dir.join("agents.csv");
    std::fs::write(&local, console_csv(&[row("ana", "Silva"), row("ben", "Okafor-Diaz")])).unwrap();
    let (code, out, err) =
        plan(f, &["--roster", local.to_str().unwrap(), "--instance-id", IID, "--stack-name", "connect-users", "--logical-id", "Roster"])
            .await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains(&format!("  - delete dan ({}): DeleteUser\n", by_name(bed).await["dan"]["Id"].as_str().unwrap())), "{out}");
    assert!(out.contains("  ~ update ana (") && out.contains("      Tags.team: connect-users-agents -> (none)\n"), "{out}");
    assert!(
        out.ends_with("Plan: 0 to create, 2 to update, 0 to replace, 0 to take over, 0 to release, 1 to delete; 0 unchanged.\n"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A template of single users, as JSON (the plan reads JSON templates as well as YAML).
fn singles(resources: &[(&str, Value)]) -> String {
    let r: serde_json::Map<String, Value> = resources
        .iter()
        .map(|(id, props)| {
            let mut p = props.clone();
            p["ServiceToken"] = json!({"Fn::ImportValue": "connect-user-resource-ServiceToken"});
            (id.to_string(), json!({"Type": "Custom::ConnectUser", "Properties": p}))
        })
        .collect();
    json!({"Resources": r}).to_string()
}

#[tokio::test]
async fn plan_matches_single_users_by_the_stacks_physical_ids_and_refuses_a_name_someone_else_has() {
    let bed = Bed::start().await;
    bed.runtime.stack_named("connect-users", events::STACK_ID);
    let a = bed.create("Agent", soft_phone("agent")).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    bed.runtime.stack_resource("Agent", Some(&a.physical_id()));
    let dir = std::env::temp_dir().join(format!("plan-singles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stack.json");
    let plan = |resources: Vec<(&'static str, Value)>| {
        std::fs::write(&file, singles(&resources)).unwrap();
        let f = file.to_str().unwrap().to_string();
        let bed = &bed;
        async move { run_plan_on(bed, None, &["--template", &f, "--stack-name", "connect-users", "--format", "json"]).await }
    };

    let moved = with(soft_phone("agent"), "RoutingProfileId", json!(RP_SALES));
    let (code, out, err) = plan(vec![("Agent", moved.clone()), ("Newbie", soft_phone("newbie"))]).await;
    assert_eq!(code, 2, "{out}{err}");
    let p: Value = serde_json::from_str(&out).unwrap();
    let agent = &p["resources"][0];
    assert_eq!(agent["resource"], a.physical_id().as_str(), "the stack's resource, found by its physical id");
    assert_eq!(agent["users"][0]["action"], "update");
    assert_eq!(agent["users"][0]["calls"], json!(["UpdateUserRoutingProfile"]));
    assert_eq!(agent["users"][0]["changes"], json!([format!("RoutingProfileId: {RP_BASIC} -> {RP_SALES}")]));
    let newbie = &p["resources"][1];
    assert_eq!(newbie["resource"], "not deployed yet");
    assert_eq!(newbie["users"][0]["action"], "create");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD), "no password in a plan");
    let mut planned: Vec<String> = p["resources"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["users"][0]["calls"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()))
        .collect();
    planned.sort();

    bed.clear_calls().await;
    let u = bed.update("Agent", &a.physical_id(), moved.clone(), soft_phone("agent")).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    let n = bed.create("Newbie", soft_phone("newbie")).await;
    assert_eq!(n.status(), "SUCCESS", "{}", n.reason());
    let mut made = writes(&bed.call_log().await);
    made.sort();
    assert_eq!(made, planned, "the writes made are the ones planned");
    bed.runtime.stack_resource("Newbie", Some(&n.physical_id()));
    let (code, out, err) = plan(vec![("Agent", moved.clone()), ("Newbie", soft_phone("newbie"))]).await;
    assert_eq!(code, 0, "{out}{err}");

    // A new Name is a replacement; a Name that someone else's user has is refused, as the function refuses it.
    let (code, out, err) = plan(vec![("Agent", with(moved, "Name", json!("agent.two")))]).await;
    assert_eq!(code, 2, "{out}{err}");
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["resources"][0]["users"][0]["action"], "replace");
    assert_eq!(p["resources"][0]["users"][0]["changes"][0], "Name changed from agent to agent.two");
    let (code, _, err) = plan(vec![("Legacy", soft_phone("legacy.agent"))]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Legacy: the deployment would fail: Name: a user named legacy.agent already exists"), "{err}");
    assert!(err.contains(&format!("ImportId: {IID}:{LEGACY_ID}")), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_continued_event_writes_one_document_per_invocation_and_the_answering_one_lists_the_others() {
    let f = Files::start().await;
    let bed = &f.bed;
    f.s3.create_bucket().bucket("ops-reports").send().await.unwrap();
    let mut props = crate::roster::at_ten_per_second(bed, 40).await;
    props["Report"] = json!("s3://ops-reports/");
    // 40 creates at 10/s take 4 s; each invocation may start work for about 1.6 s of its 3 s.
    let a = bed.send_chain(create(props), std::time::Duration::from_secs(3), std::time::Duration::from_secs(60)).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    let rounds = bed.runtime.invoked().len();
    assert!(rounds >= 2, "continued {rounds} times");
    let folder = a.body["Data"]["ReportUri"].as_str().unwrap().to_string();
    let last: Value = serde_json::from_str(&read_object(&f.s3, &format!("{folder}report.json")).await).unwrap();
    assert_eq!(last["round"], rounds);
    let earlier: Vec<String> = (0..rounds).map(|k| format!("round-{k}.json")).collect();
    assert_eq!(last["earlierRounds"], json!(earlier), "the answering document names the others, all in the event's folder");
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut created = 0;
    for name in earlier.iter().chain(["report.json".to_string()].iter()) {
        let doc: Value = serde_json::from_str(&read_object(&f.s3, &format!("{folder}{name}")).await).unwrap();
        assert_eq!(doc["requestId"], last["requestId"], "{name}: the same event");
        assert_eq!(doc["status"], if name == "report.json" { "SUCCESS" } else { "CONTINUED" }, "{name}");
        created += doc["counts"]["created"].as_u64().unwrap_or(0);
        for u in doc["users"].as_array().unwrap().iter().filter(|u| u["action"] == "created") {
            let name = u["name"].as_str().unwrap().to_string();
            assert!(seen.insert(name.clone(), u["userId"].as_str().unwrap().to_string()).is_none(), "{name} created twice");
        }
    }
    assert_eq!(created, 40);
    let users = by_name(bed).await;
    assert_eq!(seen.len(), 40);
    for (name, id) in &seen {
        assert_eq!(users[name]["Id"].as_str(), Some(id.as_str()), "{name}: the id Connect has");
    }
}

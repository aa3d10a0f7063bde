//! `connect-users export` round trips: export the emulator's users, lint the template with cfn-lint, send each
//! resource as a Create to the real binary (each only records its hold), then a stack Delete keeps every user.

use crate::support::*;
use lambda_harness::events;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

/// Runs `connect-users export` (asynchronously: the emulator it calls runs on this test's runtime).
pub(crate) async fn export(bed: &Bed, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(workspace_bin("connect-users"));
    cmd.arg("export").args(args);
    run_with_aws_env(bed, cmd, &[]).await
}

/// Runs a command with the standard AWS configuration pointed at the emulator (`extra` adds to it or replaces
/// part of it), and nothing else of ours.
pub(crate) async fn run_with_aws_env(bed: &Bed, mut cmd: tokio::process::Command, extra: &[(&str, String)]) -> Output {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_CONNECT", bed.emulator.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    // After the defaults, so that a test can replace one of them.
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("connect-users runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

pub(crate) fn cfn_lint(files: &[&Path]) {
    let out = std::process::Command::new(venv_bin("cfn-lint")).args(files).output().expect("cfn-lint runs");
    assert!(out.status.success(), "cfn-lint: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// The YAML file as JSON, read by PyYAML (which cfn-lint brings into the venv).
pub(crate) fn yaml_as_json(path: &Path) -> Value {
    let out = std::process::Command::new(venv_bin("python"))
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"])
        .arg(path)
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Users made directly in Connect (not by any stack), with the settings the fixture's agents do not have.
pub(crate) async fn more_existing_users(bed: &Bed) {
    use aws_sdk_connect::types::*;
    bed.connect
        .create_user()
        .instance_id(IID)
        .username("chat.only")
        .password(PASSWORD)
        .routing_profile_id(RP_BASIC)
        .security_profile_ids(SP_QA)
        .identity_info(UserIdentityInfo::builder().first_name("Chat").build())
        .after_contact_work_configs(
            AfterContactWorkConfigPerChannel::builder()
                .channel(Channel::Chat)
                .after_contact_work_config(AfterContactWorkConfig::builder().after_contact_work_time_limit(60).build())
                .build()
                .unwrap(),
        )
        .phone_number_configs(
            PhoneNumberConfig::builder()
                .channel(Channel::Voice)
                .phone_type(PhoneType::DeskPhone)
                .phone_number("+14155550177")
                .build()
                .unwrap(),
        )
        .persistent_connection_configs(
            PersistentConnectionConfig::builder().channel(Channel::Voice).persistent_connection(true).build().unwrap(),
        )
        .tags("cost-center", "42")
        .send()
        .await
        .unwrap();
}

/// Sends every resource of a template as a Create, then (after `check`) as a Delete, like a stack would.
async fn deploy_and_delete(bed: &Bed, template: &Value) -> usize {
    let resources = template["Resources"].as_object().unwrap().clone();
    let mut ids = Vec::new();
    for (logical, r) in &resources {
        assert_eq!(r["Type"], "Custom::ConnectUser");
        let mut props = r["Properties"].clone();
        props.as_object_mut().unwrap().remove("ServiceToken");
        bed.clear_calls().await;
        let a = bed.send(events::create(logical, "x", props.clone())).await;
        assert_eq!(a.status(), "SUCCESS", "{logical}: {}", a.reason());
        assert_eq!(a.physical_id(), props["ImportId"].as_str().unwrap());
        let log = bed.call_log().await;
        assert_eq!(writes(&log), vec!["TagResource"], "{logical}: its only write records the hold");
        let tagged = &log.iter().find(|c| c["operation"] == "TagResource").unwrap()["request"]["tags"];
        assert_eq!(tagged, &json!({HOLDER_TAG: holder(logical)}), "{logical}");
        ids.push((logical.clone(), a.physical_id(), props));
    }
    for (logical, pid, props) in &ids {
        let d = bed.send(events::delete(logical, "x", pid, props.clone())).await;
        assert_eq!(d.status(), "SUCCESS", "{logical}: {}", d.reason());
    }
    ids.len()
}

#[tokio::test]
async fn an_exported_instance_is_taken_over_and_released_unchanged() {
    let bed = Bed::start().await;
    more_existing_users(&bed).await;
    // One user a stack already holds: left out, and named on stderr.
    let held = bed.create("Held", soft_phone("held.agent")).await;
    assert_eq!(held.status(), "SUCCESS", "{}", held.reason());
    let before: Vec<Value> = bed.all_users().await.iter().map(settings_of).collect();

    let dir = tempdir("export-roundtrip");
    let yaml = dir.join("users.yaml");
    let json_path = dir.join("users.json");
    let y = export(&bed, &["--instance-id", IARN, "--output", yaml.to_str().unwrap(), "--requests-per-second", "200"]).await;
    assert!(y.status.success(), "{}", String::from_utf8_lossy(&y.stderr));
    let stderr = String::from_utf8_lossy(&y.stderr);
    assert!(
        stderr.contains(&format!("held.agent ({IID}:{}) held by resource Held of stack {STACK_NAME} ({STACK_GUID})", held.user_id())),
        "{stderr}"
    );
    assert!(stderr.contains("exported 3 users"), "{stderr}");
    let j =
        export(&bed, &["--instance-id", IID, "--format", "json", "--output", json_path.to_str().unwrap(), "--requests-per-second", "200"])
            .await;
    assert!(j.status.success(), "{}", String::from_utf8_lossy(&j.stderr));
    cfn_lint(&[&yaml, &json_path]);
    let template = read_json(&json_path);
    assert_eq!(yaml_as_json(&yaml), template, "YAML and JSON say the same");

    let resources = template["Resources"].as_object().unwrap();
    let names: Vec<&str> = resources.values().map(|r| r["Properties"]["Name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3);
    for n in ["legacy.agent", "veteran.agent", "chat.only"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let veteran = &resources["UserVeteranAgent"]["Properties"];
    assert_eq!(veteran["ImportId"], format!("{IID}:{VETERAN_ID}"));
    assert_eq!(veteran["HierarchyGroupId"], HG_EMEA);
    assert_eq!(veteran["IdentityInfo"]["SecondaryEmail"], "vera@example.org");
    assert_eq!(veteran["PhoneConfig"]["DeskPhoneNumber"], "+14155550124");
    assert_eq!(veteran["UserProficiencies"], json!([{"AttributeName": "Language", "AttributeValue": "Spanish", "Level": 4.0}]));
    assert_eq!(veteran["AutoAcceptConfigs"], json!([{"Channel": "CHAT", "AutoAccept": true}]));
    assert_eq!(veteran["Tags"], json!([{"Key": "site", "Value": "Madrid"}, {"Key": "team", "Value": "sales"}]));
    assert!(veteran.get("Password").is_none());
    assert!(resources["UserChatOnly"]["Properties"].get("PhoneConfig").is_none(), "PhoneNumberConfigs carries the phone");
    assert_eq!(template["Parameters"]["ServiceTokenExport"]["Default"], "connect-user-resource-ServiceToken");

    // --include-managed writes the held user too, and says so.
    let all = export(&bed, &["--instance-id", IID, "--format", "json", "--include-managed", "--requests-per-second", "200"]).await;
    assert!(all.status.success());
    let with_held: Value = serde_json::from_slice(&all.stdout).unwrap();
    assert!(with_held["Resources"]["UserHeldAgent"]["Properties"]["ImportId"] == held.physical_id().as_str());
    assert!(String::from_utf8_lossy(&all.stderr).contains("written although a resource already holds them"));

    assert_eq!(deploy_and_delete(&bed, &template).await, 3);
    let after: Vec<Value> = bed.all_users().await.iter().map(settings_of).collect();
    assert_eq!(after, before, "every user is still there, with the settings it had before the export");
}

#[tokio::test]
async fn more_than_500_users_are_written_to_several_templates_that_each_deploy() {
    let bed = Bed::start().await;
    plain_users(&bed, "agent", 600).await;
    let dir = tempdir("export-split");
    let out = dir.join("roster.yaml");
    let r =
        export(&bed, &["--instance-id", IID, "--output", out.to_str().unwrap(), "--requests-per-second", "5000", "--burst", "50"]).await;
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let files: Vec<_> = (1..=2).map(|i| dir.join(format!("roster-{i}.yaml"))).collect();
    assert!(files.iter().all(|f| f.exists()) && !dir.join("roster-3.yaml").exists() && !out.exists());
    cfn_lint(&files.iter().map(|f| f.as_path()).collect::<Vec<_>>());
    let mut total = 0;
    for f in &files {
        let t = yaml_as_json(f);
        let n = t["Resources"].as_object().unwrap().len();
        assert!(n <= 500);
        total += deploy_and_delete(&bed, &t).await;
    }
    assert_eq!(total, 602, "600 new users and the fixture's two");
    assert_eq!(bed.all_users().await.len(), 602, "released, not deleted");

    // Without --output, several templates have nowhere to go: one clear line, nothing written.
    let r = export(&bed, &["--instance-id", IID, "--requests-per-second", "5000", "--burst", "50"]).await;
    assert_eq!(r.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains("602 users need 2 templates") && stderr.trim().lines().count() == 1, "{stderr}");
}

#[tokio::test]
async fn bad_arguments_credentials_and_instances_end_with_one_clear_line() {
    let bed = Bed::start().await;
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec![], 2, "--instance-id"),
        (vec!["--instance-id", IID, "--format", "xml"], 2, "xml"),
        (vec!["--instance-id", "arn:aws:s3:::bucket"], 1, "--instance-id arn:aws:s3:::bucket is not an Amazon Connect ARN"),
        (vec!["--instance-id", "11111111-2222-3333-4444-555555555555"], 1, "instance 11111111-2222-3333-4444-555555555555 was not found"),
        (vec!["--instance-id", IID, "--requests-per-second", "0"], 1, "--requests-per-second"),
    ];
    for (args, code, want) in cases {
        let r = export(&bed, &args).await;
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(code), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("connect-users: ") && stderr.contains(want), "{args:?}: {stderr}");
        assert!(r.stdout.is_empty());
    }
    // No credentials anywhere.
    let r = tokio::process::Command::new(workspace_bin("connect-users"))
        .args(["export", "--instance-id", IID])
        .env_clear()
        .env("AWS_ENDPOINT_URL_CONNECT", bed.emulator.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("connect-users: no AWS credentials") && stderr.trim().lines().count() == 1, "{stderr}");
    // --help documents every option.
    let help = std::process::Command::new(workspace_bin("connect-users")).args(["export", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for opt in [
        "--instance-id",
        "--format",
        "--output",
        "--name-prefix",
        "--include-managed",
        "--requests-per-second",
        "--burst",
        "--region",
        "--profile",
    ] {
        assert!(text.contains(opt), "{opt} in {text}");
    }
    assert_eq!(bed.calls().await.iter().filter(|c| *c != "ListUsers").count(), 0, "nothing but the failed listing was called");
}

#[tokio::test]
async fn the_export_paces_itself_under_connects_throttle_and_retries_when_it_must() {
    let bed = Bed::start().await;
    plain_users(&bed, "paced", 10).await;
    let throttled = |log: &[Value]| log.iter().filter(|c| c["status"] == 429).count();
    // Connect's default limits: 2 requests/s per operation, burst 5. The export's default pacing stays under them.
    bed.control("POST", "throttle", Some(json!({"operation": "*", "rate": 2.0, "burst": 5}))).await;
    bed.clear_calls().await;
    let r = export(&bed, &["--instance-id", IID]).await;
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let log = bed.call_log().await;
    assert_eq!(log.iter().filter(|c| c["operation"] == "DescribeUser").count(), 12);
    assert_eq!(throttled(&log), 0, "paced: no call was throttled");

    // Told the quota is far higher than it is, it is throttled, and still finishes by retrying.
    bed.control("POST", "throttle", Some(json!({"operation": "*", "rate": 2.0, "burst": 5}))).await;
    bed.clear_calls().await;
    let r = export(&bed, &["--instance-id", IID, "--requests-per-second", "1000", "--burst", "1000"]).await;
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let log = bed.call_log().await;
    assert!(throttled(&log) > 0, "unpaced calls meet the throttle");
    assert_eq!(log.iter().filter(|c| c["operation"] == "DescribeUser" && c["status"] == 200).count(), 12);
    assert!(String::from_utf8_lossy(&r.stdout).contains("UserPaced0009"));
}

/// `n` users made directly in Connect, named `<prefix>0000`, `<prefix>0001`, ...
pub(crate) async fn plain_users(bed: &Bed, prefix: &str, n: usize) {
    for i in 0..n {
        bed.connect
            .create_user()
            .instance_id(IID)
            .username(format!("{prefix}{i:04}"))
            .password(PASSWORD)
            .routing_profile_id(RP_BASIC)
            .security_profile_ids(SP_AGENT)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_terminal_shows_a_progress_bar_and_a_pipe_gets_none() {
    let bed = Bed::start().await;
    plain_users(&bed, "bar", 10).await;
    let dir = tempdir("export-bar");
    let out = dir.join("bar.yaml");
    // script(1) gives the command a pseudo-terminal, as a person's shell would.
    let line = format!(
        "env TERM=xterm {} export --instance-id {IID} --output {} --requests-per-second 6",
        workspace_bin("connect-users").display(),
        out.display()
    );
    let mut cmd = tokio::process::Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]);
    let r = run_with_aws_env(&bed, cmd, &[]).await;
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stdout));
    let screen = String::from_utf8_lossy(&r.stdout);
    assert!(screen.contains("reading users") && screen.contains("/12 users"), "{screen}");
    assert!(out.exists());
    // Through a pipe: no bar, only the summary line.
    let r = export(&bed, &["--instance-id", IID, "--output", out.to_str().unwrap(), "--requests-per-second", "200"]).await;
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(!stderr.contains("reading users") && stderr.contains("exported 12 users"), "{stderr}");
}

pub(crate) fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("{name}-{}-{}", std::process::id(), uuid_ish()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn uuid_ish() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// The names of a `--format json` set export's entries.
fn entry_names(stdout: &[u8]) -> Vec<String> {
    let t: Value = serde_json::from_slice(stdout).unwrap_or(Value::Null);
    let users = t["Resources"]["Roster"]["Properties"]["Users"].as_array().cloned().unwrap_or_default();
    users.iter().map(|u| u["Name"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test]
async fn the_export_refuses_before_reading_writes_what_it_could_read_and_filters_as_centers_do() {
    use aws_sdk_connect::types::UserIdentityInfo;
    let bed = Bed::start().await;
    plain_users(&bed, "bulk", 501).await;
    let fast = ["--requests-per-second", "5000", "--burst", "50"];

    // More than 500 single resources and no --output: refused from the listing, before any user is read.
    bed.clear_calls().await;
    let r = export(&bed, &[&["--instance-id", IID][..], &fast].concat()).await;
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("503 users need 2 templates") && stderr.trim().lines().count() == 1, "{stderr}");
    assert_eq!(bed.calls().await, vec!["ListUsers"], "nothing but the listing was read");
    assert!(r.stdout.is_empty());

    // As one set they fit one template; one user that cannot be read leaves the others written and is named,
    // and the exit status says so.
    bed.fault("DescribeUser", 1, "AccessDeniedException").await;
    let r = export(&bed, &[&["--instance-id", IID, "--as", "set", "--format", "json"][..], &fast].concat()).await;
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{stderr}");
    let names = entry_names(&r.stdout);
    assert_eq!(names.len(), 502, "every user but the one that failed");
    let missing: Vec<String> =
        bed.all_users().await.iter().map(|u| u["Username"].as_str().unwrap_or("").to_string()).filter(|n| !names.contains(n)).collect();
    assert_eq!(missing.len(), 1);
    assert!(stderr.contains("1 users could not be read") && stderr.contains(&format!("  {}: ", missing[0])), "{stderr}");
    assert!(stderr.contains("AccessDeniedException"), "{stderr}");

    // Filters real centers use: routing profile, hierarchy group, tag, username prefix.
    for (name, rp, hg, team) in
        [("f.sales.na", RP_SALES, Some(HG_NA), "blue"), ("f.sales", RP_SALES, None, "red"), ("f.basic.na", RP_BASIC, Some(HG_NA), "blue")]
    {
        let mut c = bed
            .connect
            .create_user()
            .instance_id(IID)
            .username(name)
            .password(PASSWORD)
            .routing_profile_id(rp)
            .security_profile_ids(SP_AGENT)
            .identity_info(UserIdentityInfo::builder().first_name("F").build())
            .tags("team", team);
        if let Some(h) = hg {
            c = c.hierarchy_group_id(h);
        }
        c.send().await.unwrap();
    }
    // --endpoint-url wins over the standard configuration's endpoint (here pointed nowhere).
    let nowhere = [("AWS_ENDPOINT_URL_CONNECT", "http://127.0.0.1:9".to_string())];
    let filtered = |extra: Vec<&'static str>| {
        let bed = &bed;
        let nowhere = &nowhere;
        async move {
            let endpoint = bed.emulator.endpoint();
            let mut cmd = tokio::process::Command::new(workspace_bin("connect-users"));
            cmd.args(["export", "--instance-id", IID, "--as", "set", "--format", "json", "--username-prefix", "f.", "--endpoint-url"]);
            cmd.arg(endpoint).args(extra).args(["--requests-per-second", "5000", "--burst", "50"]);
            let r = run_with_aws_env(bed, cmd, nowhere).await;
            assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
            let mut names = entry_names(&r.stdout);
            names.sort();
            names
        }
    };
    assert_eq!(filtered(vec![]).await, ["f.basic.na", "f.sales", "f.sales.na"]);
    assert_eq!(filtered(vec!["--routing-profile-id", RP_SALES]).await, ["f.sales", "f.sales.na"]);
    assert_eq!(filtered(vec!["--hierarchy-group-id", HG_NA]).await, ["f.basic.na", "f.sales.na"]);
    assert_eq!(filtered(vec!["--tag", "team=red"]).await, ["f.sales"]);
    assert_eq!(filtered(vec!["--routing-profile-id", RP_SALES, "--tag", "team=blue"]).await, ["f.sales.na"]);
    let mut cmd = tokio::process::Command::new(workspace_bin("connect-users"));
    cmd.args(["export", "--instance-id", IID, "--as", "set"]);
    let r = run_with_aws_env(&bed, cmd, &nowhere).await;
    assert_eq!(r.status.code(), Some(1), "without --endpoint-url the configured (dead) endpoint is called");
    let r = export(&bed, &["--instance-id", IID, "--tag", "team"]).await;
    assert!(r.status.code() == Some(1) && String::from_utf8_lossy(&r.stderr).contains("--tag team: give KEY=VALUE"));
    let r = export(&bed, &["--instance-id", IID, "--as", "set", "--roster-format", "csv"]).await;
    assert!(String::from_utf8_lossy(&r.stderr).contains("--roster-format writes the roster file beside --output"));
}

/// Issue 26: every template shown in README.md and docs/ is complete as written (its parameters declared):
/// each YAML block is a template with Resources, and cfn-lint passes on it.
#[test]
fn every_template_in_the_readme_and_docs_is_complete() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs")).unwrap().map(|e| e.unwrap().path()).collect();
    docs.sort();
    files.extend(docs.into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")));
    let dir = tempdir("doc-templates");
    let mut written = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, block) in text.split("```yaml\n").skip(1).enumerate() {
            let body = block.split("```").next().unwrap_or("");
            let name = format!("{}-{i}.yaml", f.file_stem().unwrap().to_string_lossy());
            assert!(body.lines().any(|l| l == "Resources:"), "{name}: a template shown in {} has no Resources: section", f.display());
            let path = dir.join(&name);
            std::fs::write(&path, body).unwrap();
            written.push(path);
        }
    }
    assert!(written.len() >= 5, "{written:?}");
    cfn_lint(&written.iter().map(|p| p.as_path()).collect::<Vec<_>>());
}

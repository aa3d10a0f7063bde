//! The end-to-end tests at a contact center's scale. Named to run first: the longest of the suite, they start while
//! the short ones share the other threads (libtest starts tests in the order of their names).

use crate::roster::{counts, resolve};
use crate::roster_files::{create, delete, Files, BUCKET};
use crate::support::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Each user's settings by id (the emulator's own view), optionally only those whose username starts with `prefix`,
/// without the reserved tags the set adds while it holds them.
async fn center(bed: &Bed, prefix: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for u in bed.all_users().await {
        if !u["Username"].as_str().unwrap_or("").starts_with(prefix) {
            continue;
        }
        let mut s = settings_of(&u);
        if let Some(tags) = s.get_mut("Tags").and_then(Value::as_object_mut) {
            tags.retain(|k, _| !k.starts_with("connect-user-resource:"));
        }
        out.insert(u["Id"].as_str().or(u["UserId"].as_str()).unwrap_or("").to_string(), s);
    }
    out
}

/// Deploys an exported set through the binary and deletes it: the Create's only writes are a tag call per user,
/// the Delete's an untag call per user, and every user keeps its id and settings throughout.
async fn take_over_and_release(bed: &Bed, props: Value, prefix: &str) {
    let before = center(bed, prefix).await;
    let exact: Vec<Value> = bed.all_users().await.iter().map(settings_of).collect();
    bed.clear_calls().await;
    let a = bed.send_chain(create(props.clone()), Duration::from_secs(60), Duration::from_secs(300)).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(a.body["Data"]["Total"], json!(before.len().to_string()), "{}", a.body);
    let w = writes(&bed.call_log().await);
    assert!(w.iter().all(|op| op == "TagResource"), "only the set's tag calls: {:?}", counts(&bed.call_log().await));
    assert_eq!(w.len(), before.len());
    assert_eq!(center(bed, prefix).await, before, "every user keeps its id and settings");

    bed.clear_calls().await;
    let d = bed.send_chain(delete(&a.physical_id(), props), Duration::from_secs(60), Duration::from_secs(300)).await;
    assert_eq!(d.status(), "SUCCESS", "{}", d.reason());
    let w = writes(&bed.call_log().await);
    assert!(
        w.iter().all(|op| op == "UntagResource") && w.len() == before.len(),
        "released, not deleted: {:?}",
        counts(&bed.call_log().await)
    );
    let after: Vec<Value> = bed.all_users().await.iter().map(settings_of).collect();
    assert_eq!(after, exact, "as they were before the stack, reserved tags gone too");
}

/// Issue 26: an existing center of 1,500 agents into one set, as `connect-users export --as set` writes it: inline
/// (every agent, whatever its settings), and as Connect's CSV with an import id column, uploaded to S3.
#[tokio::test]
async fn fifteen_hundred_existing_agents_exported_as_one_set_are_taken_over_by_tag_calls_alone_and_released() {
    use crate::export::{cfn_lint, export, more_existing_users, plain_users, tempdir, yaml_as_json};
    // An instance whose user quota was raised past its default 1,000.
    let mut fixture = connect_emulator::fixture::Fixture::default_fixture();
    let instance = fixture.instances.iter_mut().find(|i| i.id == IID).unwrap();
    instance.user_limit = 2000;
    let f = Files::start_with(connect_emulator::Config { fixture: Some(fixture), ..Default::default() }).await;
    plain_users(&f.bed, "agent", 1500).await;
    more_existing_users(&f.bed).await;
    let dir = tempdir("export-set");
    let fast = ["--requests-per-second", "5000", "--burst", "50"];
    let deployable = |mut props: Value| {
        props.as_object_mut().unwrap().remove("ServiceToken");
        props["RequestsPerSecond"] = json!("500");
        props["Burst"] = json!("100");
        props
    };

    // Inline: 1,503 entries fit one template.
    let yaml = dir.join("center.yaml");
    let r = export(&f.bed, &[&["--instance-id", IID, "--as", "set", "--output", yaml.to_str().unwrap()][..], &fast].concat()).await;
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    cfn_lint(&[&yaml]);
    let t = yaml_as_json(&yaml);
    assert_eq!(t["Resources"].as_object().unwrap().len(), 1);
    let set = &t["Resources"]["Roster"];
    assert_eq!(set["Type"], "Custom::ConnectUserSet");
    let users = set["Properties"]["Users"].as_array().unwrap();
    assert_eq!(users.len(), 1503);
    assert!(users.iter().all(|u| u["ImportId"].as_str().is_some_and(|i| i.starts_with(&format!("{IID}:")))));
    assert!(users.iter().any(|u| u["Name"] == "chat.only" && u["AfterContactWorkConfigs"].is_array()), "per-channel settings inline");
    take_over_and_release(&f.bed, deployable(set["Properties"].clone()), "").await;

    // Connect's CSV cannot hold chat.only's per-channel settings: refused, naming it, rather than written short.
    let refused = dir.join("refused.yaml");
    let r = export(
        &f.bed,
        &[&["--instance-id", IID, "--as", "set", "--roster-format", "csv", "--output", refused.to_str().unwrap()][..], &fast].concat(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("chat.only") && stderr.contains("--roster-format jsonl"), "{stderr}");
    assert!(!refused.exists() && !dir.join("refused.roster.csv").exists(), "nothing written");

    // The agents as a CSV in S3: the template points at the upload through its parameters.
    let yaml = dir.join("agents.yaml");
    let args =
        ["--instance-id", IID, "--as", "set", "--roster-format", "csv", "--username-prefix", "agent", "--output", yaml.to_str().unwrap()];
    let r = export(&f.bed, &[&args[..], &fast].concat()).await;
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("agents.roster.csv: upload it"), "{}", String::from_utf8_lossy(&r.stderr));
    cfn_lint(&[&yaml]);
    let text = std::fs::read_to_string(dir.join("agents.roster.csv")).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("first name,last name,") && header.ends_with(",import id"), "{header}");
    assert_eq!(text.lines().count(), 1501);
    let (version, _) = f.put("center/agents.csv", text).await;
    let t = yaml_as_json(&yaml);
    assert!(t["Parameters"]["RosterUri"].is_object() && t["Parameters"]["RosterVersion"].is_object());
    let mut props = t["Resources"]["Roster"]["Properties"].clone();
    props.as_object_mut().unwrap().remove("ServiceToken");
    let props = resolve(
        &props,
        &BTreeMap::from([("RosterUri", format!("s3://{BUCKET}/center/agents.csv").as_str()), ("RosterVersion", version.as_str())]),
    );
    assert_eq!(props["SourceFormat"], "csv");
    take_over_and_release(&f.bed, deployable(props), "agent").await;
}

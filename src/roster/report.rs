//! A set's run report in S3 (`Report: s3://bucket/prefix`): what each event did to every user, as one JSON
//! document per invocation, and the rows that failed as a CSV in the console's columns (with an `error` column),
//! so that they can be fixed and uploaded again. Pure: the document, the keys and the CSV; `s3.rs` writes them.
//!
//! Layout, under the prefix: `<stack name>/<logical id>/<event start, UTC>-<RequestType>-<RequestId>/`, holding
//! `report.json` (the invocation that answered), `round-<n>.json` for each invocation that handed on, and
//! `failed.csv` when any user failed.

use crate::roster::csv::{self, NamesById};
use crate::roster::props::{SetProps, Target};
use crate::roster::run::Ran;
use crate::user::properties::UserProps;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The answer's attribute naming the event's report folder.
pub const DATA_KEY: &str = "ReportUri";

/// The event a report belongs to.
pub struct Event<'a> {
    pub stack_id: &'a str,
    pub logical_id: &'a str,
    pub request_id: &'a str,
    pub request_type: &'a str,
    /// When the event was first received (epoch ms): the same for every invocation of a continued event.
    pub started_ms: u64,
    pub round: u32,
}

/// The stack's name from its id (`arn:...:stack/<name>/<guid>`), or the id itself.
fn stack_name(stack_id: &str) -> &str {
    stack_id.split(":stack/").nth(1).and_then(|r| r.split('/').next()).filter(|n| !n.is_empty()).unwrap_or(stack_id)
}

/// Only what S3 keys carry safely (the parts come from CloudFormation, but a key should never surprise).
fn key_part(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).take(128).collect()
}

/// `YYYYMMDDTHHMMSSZ` of epoch milliseconds (UTC): folders sort by time.
fn utc(ms: u64) -> String {
    crate::cfn::clock::amz_date(ms)
}

impl Target {
    /// The event's folder (a key prefix ending in `/`).
    pub fn folder(&self, e: &Event) -> String {
        format!(
            "{}{}/{}/{}-{}-{}/",
            self.prefix,
            key_part(stack_name(e.stack_id)),
            key_part(e.logical_id),
            utc(e.started_ms),
            key_part(e.request_type),
            key_part(e.request_id)
        )
    }

    pub fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// The document's name in the event's folder: `report.json` from the invocation that answers.
pub fn document_name(round: u32, answered: bool) -> String {
    if answered {
        "report.json".into()
    } else {
        format!("round-{round}.json")
    }
}

pub const FAILED_CSV: &str = "failed.csv";

/// One user's line.
pub fn user_line(name: &str, user_id: &str, action: &str, calls: &[&str], outcome: &str, error: Option<&str>) -> Value {
    let mut v = json!({"name": name, "userId": user_id, "action": action, "calls": calls, "outcome": outcome});
    if let Some(e) = error {
        v["error"] = json!(e);
    }
    v
}

/// The whole document of one invocation, as JSON text. `users` are the users' lines as JSON, comma-separated
/// (kept as text while the run goes: a 20,000-user report as values would weigh several times more).
pub fn document(e: &Event, status: &str, reason: Option<&str>, counts: &BTreeMap<String, usize>, users: &str, parts: &[String]) -> String {
    let mut doc = json!({
        "stackId": e.stack_id,
        "logicalResourceId": e.logical_id,
        "requestId": e.request_id,
        "requestType": e.request_type,
        "startedAt": utc(e.started_ms),
        "round": e.round,
        "status": status,
        "counts": counts,
        "users": [],
    });
    if let Some(r) = reason {
        doc["reason"] = json!(r);
    }
    if !parts.is_empty() {
        doc["earlierRounds"] = json!(parts);
    }
    // Inside a JSON string a quote is escaped, so this text occurs once: the member itself.
    doc.to_string().replacen("\"users\":[]", &format!("\"users\":[{users}]"), 1)
}

/// The console's columns in its template's order (and `import id`), then `error`.
pub fn failed_header() -> String {
    let mut cols: Vec<String> = csv::COLUMNS.iter().map(|c| c.header().to_string()).collect();
    cols.push("error".into());
    csv::line(cols)
}

/// One failed user as a row of the console's CSV, with why it failed. The password is never written.
pub fn failed_row(name: &str, props: Option<&UserProps>, error: &str, names: Option<&NamesById>) -> String {
    let mut cells = csv::cells(name, props, names);
    cells.push(error.to_string());
    csv::line(cells)
}

/// What one invocation's run leaves for its report (filled only when the set has a `Report`).
#[derive(Default)]
pub struct Collected {
    /// Whether a report is written (the run then keeps every user's line and id).
    pub on: bool,
    /// The instance's names by id, when the roster's CSV made the function read them.
    pub names: Option<NamesById>,
    pub counts: BTreeMap<String, usize>,
    /// Every user's line, as JSON text, comma-separated.
    pub users: String,
    /// `failed.csv`'s rows (without the header).
    pub failed_rows: Vec<String>,
}

impl Collected {
    fn push(&mut self, line: Value) {
        if !self.users.is_empty() {
            self.users.push(',');
        }
        self.users.push_str(&line.to_string());
    }

    /// Takes in a run: every user it reported or that failed, then (when `held` is given: the run did not hand
    /// work on) the held users the plan found matching their entries.
    pub fn record(&mut self, ran: &Ran, unchanged: usize, held: Option<&BTreeMap<String, String>>, set: Option<&SetProps>) {
        for (action, n) in &ran.actions {
            *self.counts.entry((*action).to_string()).or_default() += n;
        }
        *self.counts.entry("unchanged".into()).or_default() += unchanged;
        if !ran.failures.is_empty() {
            *self.counts.entry("failed".into()).or_default() += ran.failures.len();
        }
        if ran.deferred > 0 {
            *self.counts.entry("left for the next invocation".into()).or_default() += ran.deferred;
        }
        let mut seen = std::collections::HashSet::new();
        for r in &ran.reports {
            seen.insert(r.name.as_str());
            self.push(user_line(&r.name, &r.user_id, r.action, &r.calls, &r.outcome, None));
        }
        for f in &ran.failures {
            seen.insert(f.name.as_str());
            self.push(user_line(&f.name, &f.user_id, "failed", &[], "failed", Some(&f.why)));
            let props = f.entry.and_then(|i| set.and_then(|s| s.entries.get(i))).map(|e| &e.props);
            self.failed_rows.push(failed_row(&f.name, props, &f.why, self.names.as_ref()));
        }
        for (name, id) in held.into_iter().flatten() {
            if !seen.contains(name.as_str()) {
                self.push(user_line(name, id, "unchanged", &[], "ok", None));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::props::report_target as target;
    use serde_json::Map;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_report_target_is_an_s3_bucket_and_an_optional_prefix() {
        let t = |v: Value| target(&props(json!({ "Report": v })));
        assert_eq!(t(json!("s3://ops-reports/connect/")), Ok(Some(Target { bucket: "ops-reports".into(), prefix: "connect/".into() })));
        assert_eq!(t(json!("s3://ops-reports")), Ok(Some(Target { bucket: "ops-reports".into(), prefix: String::new() })));
        assert_eq!(t(json!("s3://ops.reports.9/x")).unwrap().unwrap().bucket, "ops.reports.9", "dots and digits");
        assert!(t(json!("s3://-ops/x")).unwrap_err().contains("is not an S3 bucket name"));
        assert!(t(json!("s3://ops./x")).unwrap_err().contains("is not an S3 bucket name"));
        assert_eq!(target(&props(json!({"report": "s3://abc/x"}))).unwrap().unwrap().prefix, "x", "camelCase too, as other properties");
        assert_eq!(t(json!("")), Ok(None));
        assert_eq!(target(&props(json!({}))), Ok(None));
        assert_eq!(t(json!("https://b/x")), Err("Report: must be s3://bucket/prefix, got \"https://b/x\"".into()));
        assert!(t(json!("s3://Bad_Bucket/x")).unwrap_err().contains("is not an S3 bucket name"));
        assert!(t(json!("s3://ab")).unwrap_err().contains("is not an S3 bucket name"));
        assert!(t(json!(5)).unwrap_err().starts_with("Report: must be s3://bucket/prefix"));
        assert!(t(json!(format!("s3://abc/{}", "p".repeat(513)))).unwrap_err().contains("512"));
        assert_eq!(t(json!(format!("s3://abc/{}", "p".repeat(512)))).unwrap().unwrap().prefix.len(), 512, "512 is allowed");
    }

    #[test]
    fn an_events_folder_sorts_by_time_and_names_stack_resource_request() {
        let t = Target { bucket: "b".into(), prefix: "reports/".into() };
        let e = Event {
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/agents-prod/51af3dc0-da77-11e4-872e-1234567db123",
            logical_id: "Roster",
            request_id: "unique id/1",
            request_type: "Update",
            started_ms: 1_764_633_600_000 + 3_723_000,
            round: 2,
        };
        assert_eq!(t.folder(&e), "reports/agents-prod/Roster/20251202T010203Z-Update-unique_id_1/");
        assert_eq!(t.uri("k"), "s3://b/k");
        assert_eq!(utc(0), "19700101T000000Z");
        assert_eq!(utc(951_782_400_000), "20000229T000000Z", "a leap day");
        assert_eq!(stack_name("not-an-arn"), "not-an-arn");
        assert_eq!((document_name(0, true), document_name(3, false)), ("report.json".to_string(), "round-3.json".to_string()));
    }

    #[test]
    fn the_document_has_the_event_every_users_line_and_the_earlier_rounds() {
        let e = Event { stack_id: "s", logical_id: "L", request_id: "r", request_type: "Create", started_ms: 0, round: 1 };
        let counts = BTreeMap::from([("created".to_string(), 1)]);
        let mut c = Collected::default();
        c.push(user_line("ana", "u-1", "created", &["CreateUser"], "ok", None));
        c.push(user_line("ben", "", "failed", &[], "failed", Some("CreateUser: InvalidParameterException")));
        let text = document(&e, "FAILED", Some("ben failed \"users\":[]"), &counts, &c.users, &["round-0.json".to_string()]);
        let d: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(d["status"], "FAILED");
        assert_eq!(d["reason"], "ben failed \"users\":[]", "a reason that looks like the member is left as it is");
        assert_eq!(d["users"].as_array().unwrap().len(), 2);
        assert_eq!(d["counts"]["created"], 1);
        assert_eq!(d["users"][0], json!({"name": "ana", "userId": "u-1", "action": "created", "calls": ["CreateUser"], "outcome": "ok"}));
        assert_eq!(d["users"][1]["error"], "CreateUser: InvalidParameterException");
        assert_eq!(d["earlierRounds"], json!(["round-0.json"]));
        let alone: Value = serde_json::from_str(&document(&e, "SUCCESS", None, &counts, "", &[])).unwrap();
        assert_eq!(alone["users"], json!([]));
        assert!(alone.get("reason").is_none() && alone.get("earlierRounds").is_none());
    }

    #[test]
    fn a_run_is_recorded_with_every_user_its_counts_and_failed_rows_and_the_unchanged_only_when_it_finished() {
        use crate::roster::run::{Failure, Report};
        let set = SetProps::parse(
            json!({"InstanceId": "i", "Users": [
                {"Name": "ana", "RoutingProfileId": "rp-1", "SecurityProfileIds": ["sp-1"]},
                {"Name": "ben", "RoutingProfileId": "rp-1", "SecurityProfileIds": ["sp-1"], "IdentityInfo": {"LastName": "Okafor"}},
                {"Name": "cai", "RoutingProfileId": "rp-1", "SecurityProfileIds": ["sp-1"]}
            ]})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        let ran = Ran {
            reports: vec![Report {
                name: "ana".into(),
                user_id: "u-1".into(),
                action: "created",
                calls: vec!["CreateUser"],
                outcome: "ok".into(),
            }],
            actions: [("created", 1)].into(),
            done: 1,
            deferred: 2,
            failures: vec![Failure { name: "ben".into(), entry: Some(1), user_id: String::new(), why: "CreateUser failed: X".into() }],
        };
        let held = BTreeMap::from([("ana".to_string(), "u-1".to_string()), ("cai".to_string(), "u-3".to_string())]);
        let mut c = Collected { on: true, ..Default::default() };
        c.record(&ran, 4, Some(&held), Some(&set));
        c.record(&Ran { actions: [("created", 2)].into(), ..Default::default() }, 1, None, Some(&set));
        let users: Value = serde_json::from_str(&format!("[{}]", c.users)).unwrap();
        let lines: Vec<(&str, &str, &str)> = users
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["name"].as_str().unwrap(), u["userId"].as_str().unwrap(), u["action"].as_str().unwrap()))
            .collect();
        assert_eq!(lines, [("ana", "u-1", "created"), ("ben", "", "failed"), ("cai", "u-3", "unchanged")], "ana is reported once");
        assert_eq!(users[1]["error"], "CreateUser failed: X");
        let counts: Vec<(&str, usize)> = c.counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(counts, [("created", 3), ("failed", 1), ("left for the next invocation", 2), ("unchanged", 5)], "summed over the runs");
        assert_eq!(c.failed_rows.len(), 1);
        let rows = csv::records(&format!("{}{}", failed_header(), c.failed_rows[0])).unwrap();
        assert_eq!(rows[1].1[6], "ben", "the login column");
        assert_eq!(rows[1].1[1], "Okafor", "from its entry");

        let mut unfinished = Collected { on: true, ..Default::default() };
        unfinished.record(&Ran::default(), 0, None, Some(&set));
        assert!(
            unfinished.users.is_empty()
                && !unfinished.counts.contains_key("failed")
                && !unfinished.counts.contains_key("left for the next invocation")
        );
    }

    fn entry_props(v: Value) -> UserProps {
        let mut p = props(v);
        p.insert("InstanceId".into(), json!("inst-1"));
        UserProps::parse(&p).unwrap()
    }

    #[test]
    fn a_failed_row_is_a_console_row_with_names_when_known_without_the_password_and_with_its_error() {
        let p = entry_props(json!({
            "Name": "ana", "Password": "Secret1234!", "RoutingProfileId": "rp-2", "SecurityProfileIds": ["sp-1", "sp-2"],
            "HierarchyGroupId": "hg-2",
            "IdentityInfo": {"FirstName": "Ana", "LastName": "Diaz, Jr.", "Email": "ana@example.com"},
            "PhoneConfig": {"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+14155550100", "AutoAccept": true, "AfterContactWorkTimeLimit": 30},
            "Tags": {"team": "blue", "site": "lis"}
        }));
        let names = csv::Names {
            routing_profiles: [("Sales Routing Profile".to_string(), "rp-2".to_string())].into(),
            security_profiles: [("Agent".to_string(), "sp-1".to_string())].into(),
            hierarchy_groups: [("tier 1".to_string(), "hg-2".to_string()), ("EMEA/tier 1".to_string(), "hg-2".to_string())].into(),
            ambiguous_groups: Default::default(),
        };
        let by_id = NamesById::of(&names);
        let header = failed_header();
        assert!(header.starts_with("first name,last name,email address,"), "{header}");
        assert!(header.ends_with(",tags,import id,error\r\n"), "{header}");
        let line = failed_row("ana", Some(&p), "CreateUser: \"bad\" phone", Some(&by_id));
        assert!(!line.contains("Secret1234!"));
        let read = csv::records(&format!("{header}{line}")).unwrap();
        let cells = &read[1].1;
        let col = |h: &str| cells[header.trim_end().split(',').position(|c| c == h).unwrap()].clone();
        assert_eq!(col("first name"), "Ana");
        assert_eq!(col("last name"), "Diaz, Jr.", "quoted");
        assert_eq!(col("user login"), "ana");
        assert_eq!(col("password"), "");
        assert_eq!(col("routing profile name"), "Sales Routing Profile");
        assert_eq!(col("phone type (soft/desk)"), "desk");
        assert_eq!(col("soft phone auto accept (yes/no)"), "yes");
        assert_eq!(col("ACW timeout (seconds)"), "30");
        assert_eq!(col("hierarchy"), "EMEA/tier 1", "the path, not the ambiguous name");
        assert_eq!(col("tags"), "site=lis|team=blue");
        assert_eq!(col("error"), "CreateUser: \"bad\" phone");
        assert_eq!(
            cells[csv::COLUMNS.iter().position(|c| *c == csv::Column::SecurityProfiles).unwrap()],
            "Agent|sp-2",
            "an unknown id as it is"
        );

        let bare = failed_row("gone.user", None, "DeleteUser: AccessDenied", None);
        let cells = &csv::records(&format!("{header}{bare}")).unwrap()[1].1;
        assert_eq!(cells.iter().filter(|c| !c.is_empty()).count(), 2, "{cells:?}");
    }
}

//! Metrics in CloudWatch's embedded metric format (EMF): one JSON line per event and invocation on the function's
//! output, which CloudWatch Logs turns into metrics. No API call, no permission beyond the logs, and nothing that
//! delays the answer: the line is written after the response PUT.
//!
//! A line is at level INFO like the per-user lines (Lambda's log-level filter would count a line without a level
//! as INFO anyway): template.yaml's LogLevel therefore goes no higher than INFO, or the alarm would go blind.
//!
//! A small module rather than a crate: the format is one JSON object per event, and the maintained crates bring
//! a framework around it (`metrics_cloudwatch_embedded`: the `metrics` facade's registry and a flush per
//! invocation, tied to its own `lambda_runtime` version; `metrique`: typed entries, sinks and a background
//! writer), more code and dependencies than the line they would write.
//!
//! The protocol core counts what it knows of every event (Events, Failed, Undelivered, Continuations,
//! Duration); a resource adds its own counts through [`Ctx::count`](super::Ctx::count). Dimensions are the
//! resource type and the request type, or none (the total over all events): never a name, an id or anything else an event carries.

use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

/// The default namespace; `METRICS_NAMESPACE` overrides it.
pub const NAMESPACE: &str = "ConnectUserResource";
pub const NAMESPACE_ENV: &str = "METRICS_NAMESPACE";

/// The metrics every event's line has.
pub const CORE: [&str; 5] = ["Duration", "Events", "Failed", "Undelivered", "Continuations"];

/// Counts a resource adds to its event's line (several adds of one name are summed).
#[derive(Clone, Default)]
pub struct Counts(Arc<Mutex<Vec<(&'static str, u64)>>>);

impl Counts {
    pub fn add(&self, name: &'static str, n: u64) {
        if let Ok(mut g) = self.0.lock() {
            match g.iter_mut().find(|(k, _)| *k == name) {
                Some((_, v)) => *v += n,
                None => g.push((name, n)),
            }
        }
    }

    fn take(&self) -> Vec<(&'static str, u64)> {
        self.0.lock().map(|mut g| std::mem::take(&mut *g)).unwrap_or_default()
    }
}

/// What became of one event in one invocation, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// A response was delivered; `failed` when its status was FAILED.
    Answered { failed: bool },
    /// The rest of the work went to a new invocation.
    Continued,
    /// The response could not be delivered (Lambda retries the invocation).
    Undelivered,
    /// Nothing was answered here (a duplicate, an expired continuation, no ResponseURL).
    Nothing,
}

/// Where the lines go: stdout in the function, a closure in tests.
type Sink = Arc<dyn Fn(String) + Send + Sync>;

#[derive(Clone)]
pub struct Metrics {
    namespace: String,
    sink: Sink,
}

impl Metrics {
    /// Lines to stdout under `METRICS_NAMESPACE` (or [`NAMESPACE`]).
    pub fn stdout() -> Metrics {
        Metrics::new(namespace(std::env::var(NAMESPACE_ENV).ok()), Arc::new(|line| println!("{line}")))
    }

    pub fn new(namespace: impl Into<String>, sink: Sink) -> Metrics {
        Metrics { namespace: namespace.into(), sink }
    }

    pub fn emit(&self, resource_type: &str, request_type: &str, fate: Fate, duration_ms: u64, counts: &Counts, at_ms: u64) {
        (self.sink)(line(&self.namespace, resource_type, request_type, fate, duration_ms, &counts.take(), at_ms));
    }
}

/// The namespace given (`METRICS_NAMESPACE`), or the default when it is not given or blank.
fn namespace(given: Option<String>) -> String {
    given.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| NAMESPACE.to_string())
}

/// A dimension value from an event: only the shapes CloudFormation allows (a custom type is `Custom::` and up to
/// 60 letters, digits and `_@-`), so that a malformed event cannot put arbitrary text into a metric's dimension.
fn resource_dimension(resource_type: &str) -> &str {
    let ok = resource_type.len() <= 128
        && !resource_type.is_empty()
        && resource_type.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '@' | '-'));
    if ok {
        resource_type
    } else {
        "Unknown"
    }
}

fn request_dimension(request_type: &str) -> &str {
    match request_type {
        "Create" | "Update" | "Delete" => request_type,
        _ => "Unknown",
    }
}

/// One EMF document: the core's five metrics, then the resource's counts, all under one dimension set.
pub fn line(
    namespace: &str,
    resource_type: &str,
    request_type: &str,
    fate: Fate,
    duration_ms: u64,
    counts: &[(&'static str, u64)],
    at_ms: u64,
) -> String {
    let core: [(&str, u64); 4] = [
        ("Events", u64::from(matches!(fate, Fate::Answered { .. }))),
        ("Failed", u64::from(fate == Fate::Answered { failed: true })),
        ("Undelivered", u64::from(fate == Fate::Undelivered)),
        ("Continuations", u64::from(fate == Fate::Continued)),
    ];
    let mut doc = Map::new();
    let mut defs = vec![json!({"Name": "Duration", "Unit": "Milliseconds"})];
    doc.insert("Duration".into(), json!(duration_ms));
    for (name, v) in core.into_iter().chain(counts.iter().copied()) {
        if doc.contains_key(name) {
            continue;
        }
        defs.push(json!({"Name": name, "Unit": "Count"}));
        doc.insert(name.into(), json!(v));
    }
    doc.insert("level".into(), json!("INFO"));
    doc.insert("ResourceType".into(), json!(resource_dimension(resource_type)));
    doc.insert("RequestType".into(), json!(request_dimension(request_type)));
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                // The empty set publishes each metric without dimensions too: one series for the alarm and the
                // dashboard, whatever type names the stacks use.
                "Dimensions": [["ResourceType", "RequestType"], []],
                "Metrics": defs,
            }]
        }),
    );
    Value::Object(doc).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(l: &str) -> Value {
        serde_json::from_str(l).expect("one JSON document")
    }

    #[test]
    fn a_line_is_an_emf_document_with_every_declared_metric_given_a_value() {
        let counts = Counts::default();
        counts.add("UsersCreated", 3);
        counts.add("UsersCreated", 2);
        counts.add("ThrottledRetries", 0);
        let v = parse(&line("NS", "Custom::ConnectUserSet", "Update", Fate::Answered { failed: true }, 1234, &counts.take(), 99));
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 99);
        assert_eq!(cw["Namespace"], "NS");
        assert_eq!(cw["Dimensions"], json!([["ResourceType", "RequestType"], []]), "by type, and all together");
        assert_eq!((v["ResourceType"].as_str(), v["RequestType"].as_str()), (Some("Custom::ConnectUserSet"), Some("Update")));
        assert_eq!(v["level"], "INFO", "as Lambda's log-level filter reads it");
        let names: Vec<&str> = cw["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Duration", "Events", "Failed", "Undelivered", "Continuations", "UsersCreated", "ThrottledRetries"]);
        for n in &names {
            assert!(v[*n].is_u64(), "{n} has a value");
        }
        assert_eq!(cw["Metrics"][0]["Unit"], "Milliseconds");
        assert_eq!(cw["Metrics"][1]["Unit"], "Count");
        let values: Vec<u64> = names.iter().map(|n| v[*n].as_u64().unwrap()).collect();
        assert_eq!(values, [1234, 1, 1, 0, 0, 5, 0]);
        assert!(counts.take().is_empty(), "taken once");
    }

    #[test]
    fn each_fate_counts_once_in_its_own_metric() {
        let of = |fate| {
            let v = parse(&line("NS", "Custom::X", "Create", fate, 0, &[], 0));
            ["Events", "Failed", "Undelivered", "Continuations"].map(|n| v[n].as_u64().unwrap())
        };
        assert_eq!(of(Fate::Answered { failed: false }), [1, 0, 0, 0]);
        assert_eq!(of(Fate::Answered { failed: true }), [1, 1, 0, 0]);
        assert_eq!(of(Fate::Undelivered), [0, 0, 1, 0]);
        assert_eq!(of(Fate::Continued), [0, 0, 0, 1]);
        assert_eq!(of(Fate::Nothing), [0, 0, 0, 0]);
    }

    #[test]
    fn a_resource_cannot_overwrite_the_cores_metrics_or_dimensions() {
        let v = parse(&line("NS", "Custom::X", "Create", Fate::Nothing, 7, &[("Events", 5), ("Duration", 1)], 0));
        assert_eq!((v["Events"].as_u64(), v["Duration"].as_u64()), (Some(0), Some(7)));
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn dimensions_take_only_the_shapes_cloudformation_sends() {
        let dims = |rt: &str, req: &str| {
            let v = parse(&line("NS", rt, req, Fate::Nothing, 0, &[], 0));
            (v["ResourceType"].as_str().unwrap().to_string(), v["RequestType"].as_str().unwrap().to_string())
        };
        assert_eq!(dims("Custom::Agent_1@x-y", "Delete"), ("Custom::Agent_1@x-y".into(), "Delete".into()));
        assert_eq!(dims("Custom::ann@example.com", "Create").0, "Unknown", "a dot is not in a type name");
        assert_eq!(dims("", "Create").0, "Unknown");
        assert_eq!(dims("Custom::a b", "Destroy"), ("Unknown".into(), "Unknown".into()));
        assert_eq!(dims(&format!("Custom::{}", "a".repeat(130)), "Update").0, "Unknown");
    }

    #[test]
    fn the_namespace_is_the_one_given_unless_blank() {
        assert_eq!(namespace(Some("Contact/Agents".into())), "Contact/Agents");
        assert_eq!(namespace(Some("  ".into())), NAMESPACE);
        assert_eq!(namespace(None), NAMESPACE);
    }

    #[test]
    fn the_sink_gets_one_line_per_emit() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let m = Metrics::new("NS", Arc::new(move |l| g.lock().unwrap().push(l)));
        let counts = Counts::default();
        counts.add("UsersDeleted", 2);
        m.emit("Custom::X", "Delete", Fate::Continued, 5, &counts, 1);
        m.emit("Custom::X", "Delete", Fate::Answered { failed: false }, 5, &counts, 2);
        let lines = got.lock().unwrap().clone();
        assert_eq!(lines.len(), 2);
        assert_eq!(parse(&lines[0])["UsersDeleted"], 2);
        assert!(parse(&lines[1]).get("UsersDeleted").is_none(), "counts are per invocation");
    }
}

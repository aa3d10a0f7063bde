//! CloudFormation events: building them for tests, and filling the placeholders of the sample files in
//! `events/` (`{{ResponseURL}}`, `{{PhysicalResourceId:Logical}}` for the latest physical id of a logical
//! resource, `{{PreviousPhysicalResourceId:Logical}}` for the one before it, after a replacement).

use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/connect-users/5b9c8f10-1111-11ef-9a3b-0a1b2c3d4e5f";

/// The holder tag value the function gives a resource `logical_id` of the stack `STACK_ID`:
/// `<stack name>/<stack guid>/<logical id>`.
pub fn holder(logical_id: &str) -> String {
    let name_and_guid = STACK_ID.split_once(":stack/").map(|(_, rest)| rest).unwrap_or(STACK_ID);
    format!("{name_and_guid}/{logical_id}")
}

/// A custom resource event as CloudFormation sends it.
pub fn event(request_type: &str, logical_id: &str, response_url: &str, props: Value) -> Value {
    let mut p = props;
    if let Some(o) = p.as_object_mut() {
        o.insert("ServiceToken".into(), json!("arn:aws:lambda:us-east-1:123456789012:function:connect-user-resource"));
    }
    json!({
        "RequestType": request_type,
        "ResponseURL": response_url,
        "StackId": STACK_ID,
        "RequestId": uuid::Uuid::new_v4().to_string(),
        "ResourceType": "Custom::ConnectUser",
        "LogicalResourceId": logical_id,
        "ResourceProperties": p,
    })
}

/// The same event for a roster (`Custom::ConnectUserSet`).
pub fn for_set(mut e: Value) -> Value {
    e["ResourceType"] = json!("Custom::ConnectUserSet");
    e
}

pub fn create(logical_id: &str, url: &str, props: Value) -> Value {
    event("Create", logical_id, url, props)
}

pub fn update(logical_id: &str, url: &str, physical_id: &str, props: Value, old: Value) -> Value {
    let mut e = event("Update", logical_id, url, props);
    e["PhysicalResourceId"] = json!(physical_id);
    let mut old = old;
    if let Some(o) = old.as_object_mut() {
        o.insert("ServiceToken".into(), json!("arn:aws:lambda:us-east-1:123456789012:function:connect-user-resource"));
    }
    e["OldResourceProperties"] = old;
    e
}

pub fn delete(logical_id: &str, url: &str, physical_id: &str, props: Value) -> Value {
    let mut e = event("Delete", logical_id, url, props);
    e["PhysicalResourceId"] = json!(physical_id);
    e
}

/// Wraps an event the way SNS delivers it to Lambda.
pub fn sns(event: &Value) -> Value {
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:cfn-connect-users:1b2c3d4e",
            "Sns": {
                "Type": "Notification",
                "MessageId": uuid::Uuid::new_v4().to_string(),
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:cfn-connect-users",
                "Subject": "AWS CloudFormation custom resource request",
                "Message": event.to_string(),
                "Timestamp": "2026-11-28T12:00:00.000Z",
                "SignatureVersion": "1",
                "MessageAttributes": {}
            }
        }]
    })
}

/// Physical ids seen so far, per logical id, oldest first.
#[derive(Debug, Default, Clone)]
pub struct Ids(pub HashMap<String, Vec<String>>);

impl Ids {
    pub fn record(&mut self, logical_id: &str, physical_id: &str) {
        let list = self.0.entry(logical_id.to_string()).or_default();
        if list.last().map(String::as_str) != Some(physical_id) {
            list.push(physical_id.to_string());
        }
    }
}

fn fill_str(s: &str, url: &str, ids: &Ids) -> String {
    let mut out = s.replace("{{ResponseURL}}", url);
    for (logical, list) in &ids.0 {
        if let Some(last) = list.last() {
            out = out.replace(&format!("{{{{PhysicalResourceId:{logical}}}}}"), last);
        }
        if list.len() >= 2 {
            out = out.replace(&format!("{{{{PreviousPhysicalResourceId:{logical}}}}}"), &list[list.len() - 2]);
        }
    }
    out
}

/// Replaces the placeholders in every string of a sample event.
pub fn fill(v: &Value, url: &str, ids: &Ids) -> Value {
    match v {
        Value::String(s) => Value::String(fill_str(s, url, ids)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, url, ids)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, url, ids))).collect::<Map<_, _>>()),
        other => other.clone(),
    }
}

/// The sample events of a folder, in file-name order (the lifecycle order).
pub fn load_dir(dir: &std::path::Path) -> std::io::Result<Vec<(String, Value)>> {
    let mut files: Vec<_> =
        std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", p.display())))?;
            Ok((p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), v))
        })
        .collect()
}

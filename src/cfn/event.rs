//! Event intake. The handler takes raw JSON, not a typed event, because a typed event that fails to
//! deserialize (strings where numbers were expected, an unknown RequestType) never reaches the handler, and
//! the stack then waits an hour for a response that never comes. Here every event that carries a ResponseURL
//! can be answered.

use super::continuation::Marker;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

impl RequestType {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Create => "Create",
            RequestType::Update => "Update",
            RequestType::Delete => "Delete",
        }
    }
}

/// A well-formed custom resource request.
#[derive(Debug, Clone)]
pub struct Request {
    pub request_type: RequestType,
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub resource_type: String,
    pub logical_resource_id: String,
    /// Present on Update and Delete.
    pub physical_resource_id: Option<String>,
    /// Without `ServiceToken` and `ServiceTimeout`, which belong to CloudFormation, not to the resource.
    pub properties: Map<String, Value>,
    /// Present on Update.
    pub old_properties: Option<Map<String, Value>>,
    /// Why `ResourceProperties` could not be read, on a Delete (whose properties are then empty). Any other
    /// request with unreadable properties is refused, but a Delete is never refused for the shape of its
    /// properties: a stack must be able to roll back and be deleted. What to do is the resource's decision.
    pub properties_unreadable: Option<String>,
    /// `ServiceTimeout` (seconds) when CloudFormation passed a readable one: how long it waits for the answer.
    pub service_timeout: Option<u64>,
    /// Present when this invocation continues the work of an earlier one.
    pub continuation: Option<Marker>,
}

impl Request {
    /// The event again, for the invocation that continues it: what CloudFormation sent (less `ServiceToken`),
    /// with the marker added, serialized straight from the request (no copy of its properties is made).
    pub fn continued(&self, marker: &Marker) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Props<'a> {
            #[serde(flatten)]
            given: &'a Map<String, Value>,
            #[serde(rename = "ServiceTimeout", skip_serializing_if = "Option::is_none")]
            service_timeout: Option<String>,
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Event<'a> {
            request_type: &'static str,
            #[serde(rename = "ResponseURL")]
            response_url: &'a str,
            stack_id: &'a str,
            request_id: &'a str,
            resource_type: &'a str,
            logical_resource_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            physical_resource_id: Option<&'a str>,
            resource_properties: Props<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            old_resource_properties: Option<&'a Map<String, Value>>,
            #[serde(rename = "CustomResourceContinuation")]
            marker: &'a Marker,
        }
        let e = Event {
            request_type: self.request_type.as_str(),
            response_url: &self.response_url,
            stack_id: &self.stack_id,
            request_id: &self.request_id,
            resource_type: &self.resource_type,
            logical_resource_id: &self.logical_resource_id,
            physical_resource_id: self.physical_resource_id.as_deref(),
            resource_properties: Props { given: &self.properties, service_timeout: self.service_timeout.map(|t| t.to_string()) },
            old_resource_properties: self.old_properties.as_ref(),
            marker,
        };
        serde_json::to_vec(&e).unwrap_or_default()
    }
}

/// The fields every response must echo, taken from whatever the event had.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    pub response_url: Option<String>,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub physical_resource_id: Option<String>,
    pub request_type: String,
}

/// One item of intake: a request to act on, or an event that is malformed but may still be answerable.
#[derive(Debug, Clone)]
pub enum Intake {
    Request(Box<Request>),
    Malformed { echo: Echo, reason: String },
}

impl Intake {
    pub fn echo(&self) -> Echo {
        match self {
            Intake::Request(r) => Echo {
                response_url: Some(r.response_url.clone()),
                stack_id: r.stack_id.clone(),
                request_id: r.request_id.clone(),
                logical_resource_id: r.logical_resource_id.clone(),
                physical_resource_id: r.physical_resource_id.clone(),
                request_type: r.request_type.as_str().to_string(),
            },
            Intake::Malformed { echo, .. } => echo.clone(),
        }
    }
}

/// Property keys that CloudFormation adds to every custom resource.
const RESERVED: [&str; 2] = ["ServiceToken", "ServiceTimeout"];

fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Splits an invocation payload into the requests it carries: one for a direct invocation, one per record for
/// an SNS delivery (the SNS message is the same JSON as a direct event).
/// Takes the payload by value: its properties move into the request instead of being copied (a roster's
/// properties can be megabytes).
pub fn intake(raw: Value) -> Vec<Intake> {
    if let Some(records) = raw.get("Records").and_then(Value::as_array) {
        return records
            .iter()
            .map(|rec| {
                let message = rec.get("Sns").and_then(|s| s.get("Message")).and_then(Value::as_str);
                match message.map(serde_json::from_str::<Value>) {
                    Some(Ok(inner)) => parse(inner),
                    Some(Err(e)) => Intake::Malformed { echo: Echo::default(), reason: format!("SNS message is not JSON: {e}") },
                    None => Intake::Malformed { echo: Echo::default(), reason: "SNS record without Sns.Message".into() },
                }
            })
            .collect();
    }
    vec![parse(raw)]
}

/// Reads one custom resource request; anything missing or of the wrong type makes it Malformed.
pub fn parse(raw: Value) -> Intake {
    let Value::Object(mut o) = raw else {
        return Intake::Malformed { echo: Echo::default(), reason: "event is not a JSON object".into() };
    };
    let o = &mut o;
    let echo = Echo {
        response_url: text(o, "ResponseURL"),
        stack_id: text(o, "StackId").unwrap_or_default(),
        request_id: text(o, "RequestId").unwrap_or_default(),
        logical_resource_id: text(o, "LogicalResourceId").unwrap_or_default(),
        physical_resource_id: text(o, "PhysicalResourceId").filter(|p| !p.is_empty()),
        request_type: text(o, "RequestType").unwrap_or_default(),
    };
    let malformed = |reason: String| Intake::Malformed { echo: echo.clone(), reason };
    let request_type = match o.get("RequestType") {
        Some(Value::String(s)) if s == "Create" => RequestType::Create,
        Some(Value::String(s)) if s == "Update" => RequestType::Update,
        Some(Value::String(s)) if s == "Delete" => RequestType::Delete,
        Some(Value::String(s)) => {
            return malformed(format!("unknown RequestType {:?}: expected Create, Update or Delete", truncate(s, 40)))
        }
        _ => return malformed("RequestType is missing or not a string".into()),
    };
    let Some(response_url) = echo.response_url.clone() else {
        return malformed("ResponseURL is missing or not a string".into());
    };
    for (key, value) in [("StackId", &echo.stack_id), ("RequestId", &echo.request_id), ("LogicalResourceId", &echo.logical_resource_id)] {
        if value.is_empty() {
            return malformed(format!("{key} is missing or not a string"));
        }
    }
    let service_timeout = o
        .get("ResourceProperties")
        .and_then(|p| p.get("ServiceTimeout"))
        .and_then(|v| super::coerce::integer(v).ok())
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| *n > 0);
    let continuation = match Marker::read(o) {
        Ok(m) => m,
        Err(e) => return malformed(e),
    };
    let resource_type = text(o, "ResourceType").unwrap_or_default();
    let mut props = |key: &str| -> Result<Option<Map<String, Value>>, String> {
        match o.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(mut m)) => {
                for k in RESERVED {
                    m.remove(k);
                }
                Ok(Some(m))
            }
            Some(_) => Err(format!("{key} must be an object")),
        }
    };
    let (properties, properties_unreadable) = match props("ResourceProperties") {
        Ok(p) => (p.unwrap_or_default(), None),
        Err(e) if request_type == RequestType::Delete => (Map::new(), Some(e)),
        Err(e) => return malformed(e),
    };
    let old_properties = match props("OldResourceProperties") {
        Ok(p) => p,
        Err(e) => return malformed(e),
    };
    if request_type != RequestType::Create && echo.physical_resource_id.is_none() {
        return malformed(format!("PhysicalResourceId is missing on a {} request", request_type.as_str()));
    }
    if request_type == RequestType::Update && old_properties.is_none() {
        return malformed("OldResourceProperties is missing on an Update request".into());
    }
    Intake::Request(Box::new(Request {
        request_type,
        response_url,
        stack_id: echo.stack_id.clone(),
        request_id: echo.request_id.clone(),
        resource_type,
        logical_resource_id: echo.logical_resource_id.clone(),
        physical_resource_id: echo.physical_resource_id.clone(),
        properties,
        old_properties,
        properties_unreadable,
        service_timeout,
        continuation,
    }))
}

pub fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max_chars).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::continuation::KEY;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "RequestType": "Create",
            "ResponseURL": "https://bucket.s3.amazonaws.com/key?X-Amz-Signature=abc",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
            "RequestId": "r1",
            "ResourceType": "Custom::ConnectUser",
            "LogicalResourceId": "Agent",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", "ServiceTimeout": "300", "Name": "a"}
        })
    }

    /// A continuation is run by whatever code the function has when Lambda delivers it: one this version queued
    /// may be read by the next (a deployment in the middle of a roster). This is the event as 0.3 writes it,
    /// frozen: a change of the format fails here first, and the newer code must still read it.
    const CONTINUED_BY_0_3: &str = r#"{"RequestType":"Update","ResponseURL":"https://bucket.s3.amazonaws.com/key?X-Amz-Date=20261202T120000Z&X-Amz-Signature=abc","StackId":"arn:aws:cloudformation:us-east-1:123456789012:stack/s/1","RequestId":"r1","ResourceType":"Custom::ConnectUserSet","LogicalResourceId":"Roster","PhysicalResourceId":"i-1:set:s/1/Roster","ResourceProperties":{"InstanceId":"i-1","Users":[{"Name":"ana"}],"ServiceTimeout":"3600"},"OldResourceProperties":{"InstanceId":"i-1","Users":[]},"CustomResourceContinuation":{"Round":2,"StartedMs":1796212800000,"GiveUpAtMs":1796216340000}}"#;

    #[test]
    fn a_continuation_written_by_this_version_is_read_by_it_and_by_a_later_one() {
        let v: Value = serde_json::from_str(CONTINUED_BY_0_3).unwrap();
        let items = intake(v.clone());
        let Intake::Request(r) = &items[0] else { panic!("a continued event is a request: {items:?}") };
        let marker = Marker { round: 2, started_ms: 1_796_212_800_000, give_up_at_ms: 1_796_216_340_000 };
        assert_eq!(r.continuation, Some(marker));
        assert_eq!(r.service_timeout, Some(3600));
        assert_eq!(r.properties.get("Users"), Some(&json!([{"Name": "ana"}])));
        // What this version writes is that event, key for key.
        let again: Value = serde_json::from_slice(&r.continued(&marker)).unwrap();
        assert_eq!(again, v, "the continued event's format changed: keep reading the old one, then update this fixture");
        // A later version's marker may carry more: it is still read.
        let mut later = v.clone();
        later[KEY]["Checkpoint"] = json!("abc");
        later["SomethingNew"] = json!(1);
        let items = intake(later);
        assert!(matches!(&items[0], Intake::Request(r) if r.continuation == Some(marker)), "{items:?}");
    }

    #[test]
    fn a_direct_event_is_one_request_without_cloudformation_keys() {
        let items = intake(base());
        assert_eq!(items.len(), 1);
        let Intake::Request(r) = &items[0] else { panic!("expected a request") };
        assert_eq!(r.request_type, RequestType::Create);
        assert_eq!(r.properties.keys().collect::<Vec<_>>(), vec!["Name"]);
    }

    #[test]
    fn sns_records_are_unwrapped() {
        let sns = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": base().to_string()}}]});
        let items = intake(sns);
        assert!(matches!(&items[0], Intake::Request(r) if r.logical_resource_id == "Agent"));
    }

    #[test]
    fn an_unknown_request_type_is_malformed_but_answerable() {
        let mut e = base();
        e["RequestType"] = json!("Upsert");
        let items = intake(e.clone());
        let Intake::Malformed { echo, reason } = &items[0] else { panic!("expected malformed") };
        assert!(echo.response_url.is_some());
        assert!(reason.contains("Upsert"), "{reason}");
    }

    #[test]
    fn update_needs_physical_id_and_old_properties() {
        let mut e = base();
        e["RequestType"] = json!("Update");
        assert!(matches!(&parse(e.clone()), Intake::Malformed { reason, .. } if reason.contains("PhysicalResourceId")));
        e["PhysicalResourceId"] = json!("i:u");
        assert!(matches!(&parse(e.clone()), Intake::Malformed { reason, .. } if reason.contains("OldResourceProperties")));
        e["OldResourceProperties"] = json!({});
        assert!(matches!(&parse(e.clone()), Intake::Request(_)));
    }

    #[test]
    fn a_continued_event_reads_back_as_the_same_request_with_its_marker() {
        let mut e = base();
        e["RequestType"] = json!("Update");
        e["PhysicalResourceId"] = json!("i:set:s/Agents");
        e["OldResourceProperties"] = json!({"Name": "b"});
        let Intake::Request(r) = parse(e.clone()) else { panic!("expected a request") };
        assert_eq!((r.service_timeout, r.continuation), (Some(300), None));
        let m = Marker { round: 1, started_ms: 5, give_up_at_ms: 9 };
        let again: Value = serde_json::from_slice(&r.continued(&m)).unwrap();
        assert_eq!(again[KEY], json!({"Round": 1, "StartedMs": 5, "GiveUpAtMs": 9}));
        assert_eq!(again["ResourceProperties"], json!({"ServiceTimeout": "300", "Name": "a"}), "ServiceToken is not carried");
        let Intake::Request(r2) = parse(again.clone()) else { panic!("expected a request") };
        assert_eq!(r2.continuation, Some(m));
        assert_eq!(r2.service_timeout, Some(300));
        assert_eq!(r2.properties, r.properties);
        assert_eq!(r2.old_properties, r.old_properties);
        assert_eq!(
            (
                r2.request_type,
                &r2.response_url,
                &r2.stack_id,
                &r2.request_id,
                &r2.resource_type,
                &r2.logical_resource_id,
                &r2.physical_resource_id
            ),
            (
                r.request_type,
                &r.response_url,
                &r.stack_id,
                &r.request_id,
                &r.resource_type,
                &r.logical_resource_id,
                &r.physical_resource_id
            )
        );
        let mut bad = again.clone();
        bad[KEY] = json!("x");
        assert!(matches!(&parse(bad.clone()), Intake::Malformed { reason, .. } if reason.contains(KEY)));
        e["ResourceProperties"]["ServiceTimeout"] = json!("soon");
        let Intake::Request(r3) = parse(e.clone()) else { panic!("expected a request") };
        assert_eq!(r3.service_timeout, None, "an unreadable ServiceTimeout is CloudFormation's default");
        for (given, read) in [(json!("0"), None), (json!(-5), None), (json!(1), Some(1))] {
            e["ResourceProperties"]["ServiceTimeout"] = given.clone();
            let Intake::Request(r) = parse(e.clone()) else { panic!("expected a request") };
            assert_eq!(r.service_timeout, read, "ServiceTimeout {given}: only a positive number of seconds is one");
        }
    }

    #[test]
    fn non_object_properties_are_malformed() {
        let mut e = base();
        e["ResourceProperties"] = json!("x");
        assert!(matches!(&parse(e.clone()), Intake::Malformed { .. }));
        assert!(matches!(&parse(json!([1])), Intake::Malformed { echo, .. } if echo.response_url.is_none()));
    }
}

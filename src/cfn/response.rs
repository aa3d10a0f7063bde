//! The response document and its delivery. CloudFormation rejects bodies over 4096 bytes, and legacy presigned
//! URLs sign the Content-Type, so the body is capped here and the PUT carries no Content-Type at all.

use super::event::Echo;
use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse as Body, CloudFormationCustomResourceResponseStatus as Status,
};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use thiserror::Error;

/// CloudFormation's limit on the whole response body.
pub const MAX_BODY: usize = 4096;
/// CloudFormation's limit on a physical resource id.
pub const MAX_PHYSICAL_ID: usize = 1024;
/// Real StackIds, RequestIds and LogicalResourceIds are far shorter; the cap only keeps a hostile event's echo
/// from pushing the body past `MAX_BODY`.
const MAX_ECHOED: usize = 512;

/// What a resource handler decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success {
        physical_resource_id: String,
        data: BTreeMap<String, String>,
    },
    Failed {
        reason: String,
        physical_resource_id: Option<String>,
    },
    /// Not done yet: the protocol hands the rest to a new invocation (see `continuation`). `progress` says how
    /// far the work got, for the FAILED answer if the chain runs out of time, which reports
    /// `physical_resource_id` (so that CloudFormation's cleanup finds what was made).
    Continue {
        progress: String,
        physical_resource_id: Option<String>,
    },
}

impl Outcome {
    pub fn failed(reason: impl Into<String>) -> Outcome {
        Outcome::Failed { reason: reason.into(), physical_resource_id: None }
    }
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Success { .. } => "SUCCESS",
            Outcome::Failed { .. } | Outcome::Continue { .. } => "FAILED",
        }
    }
}

fn cut(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_string();
    }
    let mut end = max_bytes;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// A physical id for a request that has none of its own (a failed Create). It is deliberately not of the form
/// any resource uses for real ids, so that the Delete that follows knows there is nothing to delete.
pub fn placeholder_id(echo: &Echo) -> String {
    let logical = if echo.logical_resource_id.is_empty() { "resource" } else { &echo.logical_resource_id };
    cut(&format!("create-failed-{}-{}", logical, echo.request_id.replace(':', "-")), 200)
}

/// Builds the JSON body, always within `MAX_BODY`: the Reason is shortened first, then Data is dropped (turning
/// SUCCESS into FAILED, since an answer without the promised attributes would break `Fn::GetAtt` silently).
pub fn body(echo: &Echo, outcome: &Outcome) -> Vec<u8> {
    let mut b = Body::default();
    b.stack_id = cut(&echo.stack_id, MAX_ECHOED);
    b.request_id = cut(&echo.request_id, MAX_ECHOED);
    b.logical_resource_id = cut(&echo.logical_resource_id, MAX_ECHOED);
    let fallback_id = || echo.physical_resource_id.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| placeholder_id(echo));
    let mut reason = String::new();
    match outcome {
        Outcome::Success { physical_resource_id, data } => {
            b.status = Status::Success;
            b.physical_resource_id = physical_resource_id.clone();
            b.data = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<HashMap<_, _>>();
        }
        Outcome::Failed { reason: r, physical_resource_id } => {
            b.status = Status::Failed;
            b.physical_resource_id = physical_resource_id.clone().filter(|p| !p.is_empty()).unwrap_or_else(fallback_id);
            reason = if r.is_empty() { "failed (no reason given)".into() } else { r.clone() };
            b.reason = Some(reason.clone());
        }
        // The protocol never answers a Continue; should one reach here, it is an unfinished job, not a success.
        Outcome::Continue { progress, physical_resource_id } => {
            b.status = Status::Failed;
            b.physical_resource_id = physical_resource_id.clone().filter(|p| !p.is_empty()).unwrap_or_else(fallback_id);
            reason = format!("unfinished: {progress}");
            b.reason = Some(reason.clone());
        }
    }
    if b.physical_resource_id.is_empty() {
        b.physical_resource_id = fallback_id();
    }
    b.physical_resource_id = cut(&b.physical_resource_id, MAX_PHYSICAL_ID);
    // Reason is optional on SUCCESS, and the SDK struct would send it as `null`; cfn-response and crhelper send a
    // string and the Go library leaves it out, never `null`, so it is left out here too.
    let render = |b: &Body| {
        let mut v = serde_json::to_value(b).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.retain(|_, field| !field.is_null());
        }
        serde_json::to_vec(&v).unwrap_or_default()
    };
    let mut out = render(&b);
    if out.len() > MAX_BODY && b.reason.is_some() {
        let excess = out.len() - MAX_BODY;
        let keep = reason.len().saturating_sub(excess + 32);
        b.reason = Some(format!("{} …(truncated)", cut(&reason, keep)));
        out = render(&b);
    }
    if out.len() > MAX_BODY {
        b.data.clear();
        b.status = Status::Failed;
        b.reason = Some("the response was too large for CloudFormation (over 4096 bytes)".into());
        out = render(&b);
    }
    out
}

/// The ResponseURL is a bearer credential: logs get its host and path, never the query string.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.port() {
            Some(port) => format!("{}://{}:{port}{}", u.scheme(), u.host_str().unwrap_or(""), u.path()),
            None => format!("{}://{}{}", u.scheme(), u.host_str().unwrap_or(""), u.path()),
        },
        Err(_) => "<unparseable ResponseURL>".into(),
    }
}

#[derive(Debug, Error)]
pub enum DeliveryError {
    #[error("ResponseURL rejected the response with HTTP {0} (not retried)")]
    Rejected(u16),
    #[error("response not delivered after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
}

/// PUTs the body. 2xx is done; 5xx and network errors are retried with backoff until `budget` runs out;
/// other statuses are final.
pub async fn deliver(client: &reqwest::Client, url: &str, body: Vec<u8>, budget: Duration) -> Result<u32, DeliveryError> {
    let start = Instant::now();
    let mut attempt = 0u32;
    let mut backoff = Duration::from_millis(200);
    loop {
        attempt += 1;
        let remaining = budget.saturating_sub(start.elapsed());
        let timeout = remaining.clamp(Duration::from_millis(500), Duration::from_secs(10));
        // No Content-Type: a Vec body gets an exact Content-Length and no type from reqwest.
        let result = client.put(url).body(body.clone()).timeout(timeout).send().await;
        let last = match result {
            Ok(resp) if resp.status().is_success() => return Ok(attempt),
            Ok(resp) if resp.status().is_server_error() || resp.status().as_u16() == 429 => format!("HTTP {}", resp.status().as_u16()),
            Ok(resp) => return Err(DeliveryError::Rejected(resp.status().as_u16())),
            // reqwest errors can include the URL, which must not reach a log line.
            Err(e) => format!(
                "network error ({})",
                if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connect"
                } else {
                    "request"
                }
            ),
        };
        tracing::warn!(attempt, error = %last, "response PUT failed");
        let jittered = jitter(backoff, fastrand::f64());
        if start.elapsed() + jittered >= budget {
            return Err(DeliveryError::GaveUp { attempts: attempt, last });
        }
        tokio::time::sleep(jittered).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Between half and all of `backoff`, for `r` in [0, 1): retries of many functions spread out instead of
/// arriving together, and each still waits at least half its step.
fn jitter(backoff: Duration, r: f64) -> Duration {
    backoff.mul_f64(0.5 + r * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn echo() -> Echo {
        Echo {
            response_url: Some("https://b.s3.amazonaws.com/k?X-Amz-Signature=s".into()),
            stack_id: "stack".into(),
            request_id: "req".into(),
            logical_resource_id: "Agent".into(),
            physical_resource_id: None,
            request_type: "Create".into(),
        }
    }

    #[test]
    fn a_long_reason_is_cut_to_fit() {
        let b = body(&echo(), &Outcome::failed("é".repeat(5000)));
        assert!(b.len() <= MAX_BODY, "{}", b.len());
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["Status"], "FAILED");
        assert!(v["Reason"].as_str().unwrap().ends_with("(truncated)"));
        assert!(b.len() > MAX_BODY - 64, "as much of the reason as fits is kept: {} bytes", b.len());
    }

    #[test]
    fn a_body_of_exactly_the_limit_is_left_whole() {
        let base = body(&echo(), &Outcome::failed("x")).len();
        let reason = "x".repeat(MAX_BODY - base + 1);
        let b = body(&echo(), &Outcome::failed(reason.clone()));
        assert_eq!(b.len(), MAX_BODY);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["Reason"], reason.as_str(), "not truncated");
    }

    #[test]
    fn a_success_of_exactly_the_limit_keeps_its_data() {
        let success = |v: String| Outcome::Success { physical_resource_id: "p".into(), data: [("A".to_string(), v)].into() };
        let base = body(&echo(), &success(String::new())).len();
        let b = body(&echo(), &success("x".repeat(MAX_BODY - base)));
        assert_eq!(b.len(), MAX_BODY);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["Status"], "SUCCESS");
    }

    #[test]
    fn jitter_keeps_between_half_and_all_of_the_step() {
        let step = Duration::from_millis(800);
        assert_eq!(jitter(step, 0.0), Duration::from_millis(400));
        assert_eq!(jitter(step, 0.5), Duration::from_millis(600));
        assert!(jitter(step, 0.999_999) <= step);
    }

    #[test]
    fn cut_keeps_whole_characters_within_the_byte_limit() {
        assert_eq!(cut("abcdef", 3), "abc");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abc", 10), "abc");
        // "é" is two bytes: a cut inside it steps back to the character before.
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut("éé", 3), "é");
        assert_eq!(cut("é", 1), "");
        assert_eq!(cut("ab", 0), "");
    }

    #[test]
    fn statuses_are_cloudformations_words() {
        assert_eq!(Outcome::Success { physical_resource_id: "p".into(), data: Default::default() }.status(), "SUCCESS");
        assert_eq!(Outcome::failed("x").status(), "FAILED");
    }

    #[test]
    fn a_success_has_no_reason_field() {
        let data = [("UserId".to_string(), "u-1".to_string())].into();
        let b = body(&echo(), &Outcome::Success { physical_resource_id: "p".into(), data });
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["Status"], "SUCCESS");
        assert!(v.as_object().is_some_and(|m| !m.contains_key("Reason")), "{v}");
        assert_eq!(v["Data"]["UserId"], "u-1");
    }

    #[test]
    fn oversized_data_turns_into_failed() {
        let data = (0..100).map(|i| (format!("k{i}"), "v".repeat(100))).collect();
        let b = body(&echo(), &Outcome::Success { physical_resource_id: "p".into(), data });
        assert!(b.len() <= MAX_BODY);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["Status"], "FAILED");
    }

    #[test]
    fn a_failed_create_gets_a_placeholder_id_and_echoes_the_request() {
        let v: Value = serde_json::from_slice(&body(&echo(), &Outcome::failed("bad"))).unwrap();
        assert_eq!(v["PhysicalResourceId"], "create-failed-Agent-req");
        assert_eq!(
            (v["StackId"].as_str(), v["RequestId"].as_str(), v["LogicalResourceId"].as_str()),
            (Some("stack"), Some("req"), Some("Agent"))
        );
    }

    #[test]
    fn a_failed_update_keeps_the_existing_id() {
        let mut e = echo();
        e.physical_resource_id = Some("inst:user".into());
        let v: Value = serde_json::from_slice(&body(&e, &Outcome::failed("bad"))).unwrap();
        assert_eq!(v["PhysicalResourceId"], "inst:user");
    }

    #[test]
    fn an_unfinished_job_that_reaches_the_body_is_failed_with_what_it_made() {
        let unfinished = |id: Option<&str>| -> Value {
            let o = Outcome::Continue { progress: "3 of 9 done".into(), physical_resource_id: id.map(str::to_string) };
            serde_json::from_slice(&body(&echo(), &o)).unwrap()
        };
        let v = unfinished(Some("inst:set:s/Roster"));
        assert_eq!((v["Status"].as_str(), v["PhysicalResourceId"].as_str()), (Some("FAILED"), Some("inst:set:s/Roster")));
        assert_eq!(v["Reason"], "unfinished: 3 of 9 done");
        assert_eq!(unfinished(Some(""))["PhysicalResourceId"], "create-failed-Agent-req");
        assert_eq!(unfinished(None)["PhysicalResourceId"], "create-failed-Agent-req");
    }

    #[test]
    fn huge_echoed_fields_still_fit() {
        let mut e = echo();
        e.stack_id = "s".repeat(10_000);
        e.request_id = "r".repeat(10_000);
        e.logical_resource_id = "l".repeat(10_000);
        e.physical_resource_id = Some("p".repeat(10_000));
        assert!(body(&e, &Outcome::failed("x".repeat(10_000))).len() <= MAX_BODY);
    }

    #[test]
    fn urls_lose_their_query_string() {
        assert_eq!(redact_url("https://b.s3.amazonaws.com/a/b?X-Amz-Signature=secret"), "https://b.s3.amazonaws.com/a/b");
        assert!(!redact_url("not a url?sig=secret").contains("secret"));
        assert_eq!(redact_url("http://127.0.0.1:4599/responses/r1?X-Amz-Signature=s"), "http://127.0.0.1:4599/responses/r1");
    }
}

//! A local emulator of Amazon Connect's user API, speaking the service's REST-JSON protocol on loopback so that
//! `aws-sdk-connect`, boto3 and the AWS CLI work against it unchanged (`AWS_ENDPOINT_URL_CONNECT`).
//!
//! Besides the Connect operations it has a control API under `/_emulator/` (a path the SDK never calls) for the
//! production behaviour tests need on demand: throttling, eventual consistency, fault injection, a call log and
//! a state dump.

pub mod control;
pub mod error;
pub mod fixture;
mod ops;
pub mod seed;
mod validate;
pub mod world;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use control::{CallRecord, Control, Fault};
use error::ApiError;
use fixture::Fixture;
use ops::Req;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use world::World;

/// Start-up options; everything here can also be changed later through the control API.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The seeded world; `None` uses the checked-in default fixture.
    pub fixture: Option<Fixture>,
    /// Token bucket applied to every operation: (requests per second, burst).
    pub throttle: Option<(f64, u32)>,
    /// DescribeUser answers ResourceNotFoundException for this long after CreateUser.
    pub describe_delay_ms: u64,
}

pub(crate) struct Inner {
    pub fixture: Fixture,
    pub world: World,
    pub control: Control,
    pub started: Instant,
}

#[derive(Clone)]
pub(crate) struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked mid-request; the state is still the best we have.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running emulator; dropping it (or calling `stop`) shuts the server down.
pub struct Emulator {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Binds 127.0.0.1 and serves until stopped.
pub async fn start(config: Config) -> std::io::Result<Emulator> {
    let fixture = config.fixture.clone().unwrap_or_else(Fixture::default_fixture);
    let inner = Inner {
        world: seed::world(&fixture),
        fixture,
        control: Control::new(config.throttle, config.describe_delay_ms),
        started: Instant::now(),
    };
    let shared = Shared(Arc::new(Mutex::new(inner)));
    let app = Router::new().fallback(dispatch).with_state(shared);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Emulator { addr, stop: Some(tx), task: Some(task) })
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn decode_path(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Maps method and path to the operation name and its URI labels, as the service model's `requestUri`s say.
fn route(method: &Method, segs: &[String]) -> Option<(&'static str, Vec<String>)> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    let op = match (m, s.as_slice()) {
        ("PUT", ["users", _]) => "CreateUser",
        ("GET", ["users", _, _]) => "DescribeUser",
        ("DELETE", ["users", _, _]) => "DeleteUser",
        ("POST", ["users", _, _, "identity-info"]) => "UpdateUserIdentityInfo",
        ("POST", ["users", _, _, "phone-config"]) => "UpdateUserPhoneConfig",
        ("POST", ["users", _, _, "config"]) => "UpdateUserConfig",
        ("POST", ["users", _, _, "routing-profile"]) => "UpdateUserRoutingProfile",
        ("POST", ["users", _, _, "security-profiles"]) => "UpdateUserSecurityProfiles",
        ("POST", ["users", _, _, "hierarchy"]) => "UpdateUserHierarchy",
        ("POST", ["users", _, _, "associate-proficiencies"]) => "AssociateUserProficiencies",
        ("POST", ["users", _, _, "proficiencies"]) => "UpdateUserProficiencies",
        ("POST", ["users", _, _, "disassociate-proficiencies"]) => "DisassociateUserProficiencies",
        ("GET", ["users", _, _, "proficiencies"]) => "ListUserProficiencies",
        ("GET", ["users-summary", _]) => "ListUsers",
        ("GET", ["routing-profiles-summary", _]) => "ListRoutingProfiles",
        ("GET", ["security-profiles-summary", _]) => "ListSecurityProfiles",
        ("GET", ["user-hierarchy-groups-summary", _]) => "ListUserHierarchyGroups",
        ("GET", ["user-hierarchy-groups", _, _]) => "DescribeUserHierarchyGroup",
        ("GET", ["instance", _]) => "DescribeInstance",
        ("POST", ["search-users"]) => "SearchUsers",
        ("POST", ["tags", _]) => "TagResource",
        ("DELETE", ["tags", _]) => "UntagResource",
        ("GET", ["tags", _]) => "ListTagsForResource",
        _ => return None,
    };
    let labels = match s.first() {
        Some(&"users") | Some(&"user-hierarchy-groups") => segs.iter().skip(1).take(2).cloned().collect(),
        Some(&"users-summary")
        | Some(&"instance")
        | Some(&"tags")
        | Some(&"routing-profiles-summary")
        | Some(&"security-profiles-summary")
        | Some(&"user-hierarchy-groups-summary") => segs.iter().skip(1).take(1).cloned().collect(),
        _ => Vec::new(),
    };
    Some((op, labels))
}

/// The operations that change nothing.
const READS: [&str; 10] = [
    "DescribeUser",
    "ListUserProficiencies",
    "ListUsers",
    "ListRoutingProfiles",
    "ListSecurityProfiles",
    "ListUserHierarchyGroups",
    "DescribeUserHierarchyGroup",
    "DescribeInstance",
    "SearchUsers",
    "ListTagsForResource",
];

fn run_op(inner: &mut Inner, op: &str, req: &Req) -> Result<Value, ApiError> {
    if op == "SearchUsers" {
        // Connect's search is an index, behind the writes when a lag is set.
        if let Some(mut index) = inner.control.index_of(&inner.world) {
            return ops::search_users(&mut index, req);
        }
    }
    let result = apply_op(inner, op, req);
    if result.is_ok() && !READS.contains(&op) {
        inner.control.wrote(&inner.world);
    }
    result
}

fn apply_op(inner: &mut Inner, op: &str, req: &Req) -> Result<Value, ApiError> {
    let w = &mut inner.world;
    match op {
        "CreateUser" => ops::create_user(w, req),
        "DescribeUser" => ops::describe_user(w, req, inner.control.describe_delay_ms),
        "DeleteUser" => ops::delete_user(w, req),
        "UpdateUserIdentityInfo" => ops::update_identity_info(w, req),
        "UpdateUserPhoneConfig" => ops::update_phone_config(w, req),
        "UpdateUserConfig" => ops::update_config(w, req),
        "UpdateUserRoutingProfile" => ops::update_routing_profile(w, req),
        "UpdateUserSecurityProfiles" => ops::update_security_profiles(w, req),
        "UpdateUserHierarchy" => ops::update_hierarchy(w, req),
        "AssociateUserProficiencies" => ops::associate_proficiencies(w, req),
        "UpdateUserProficiencies" => ops::update_proficiencies(w, req),
        "DisassociateUserProficiencies" => ops::disassociate_proficiencies(w, req),
        "ListUserProficiencies" => ops::list_user_proficiencies(w, req),
        "ListUsers" => ops::list_users(w, req),
        "ListRoutingProfiles" => ops::list_named(w, req, "routing-profile", "RoutingProfileSummaryList"),
        "ListSecurityProfiles" => ops::list_named(w, req, "security-profile", "SecurityProfileSummaryList"),
        "ListUserHierarchyGroups" => ops::list_named(w, req, "agent-group", "UserHierarchyGroupSummaryList"),
        "DescribeUserHierarchyGroup" => ops::describe_hierarchy_group(w, req),
        "DescribeInstance" => ops::describe_instance(w, req),
        "SearchUsers" => ops::search_users(w, req),
        "TagResource" => ops::tag_resource(w, req),
        "UntagResource" => ops::untag_resource(w, req),
        _ => ops::list_tags(w, req),
    }
}

async fn dispatch(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        return control::handle(&shared, &method, rest, &body).into_response();
    }
    let segs: Vec<String> = path.trim_start_matches('/').split('/').map(decode_path).collect();
    let query: Vec<(String, String)> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let Some((op, labels)) = route(&method, &segs) else {
        return ApiError::new("UnknownOperationException", format!("No operation at {method} {path}")).into_response();
    };
    let body_value: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return ApiError::new("SerializationException", format!("Malformed JSON body: {e}")).into_response(),
        }
    };
    let req = Req { labels: labels.clone(), query, body: body_value };

    // Decide the fate of the call before running it: authentication, injected faults, throttling.
    let t0 = Instant::now();
    let (pre, delay) = {
        let mut g = shared.lock();
        if !headers.contains_key("authorization") {
            (Some(ApiError::new("AccessDeniedException", "Missing Authentication Token")), 0)
        } else {
            let fault: Option<Fault> = g.control.take_fault(op);
            let delay = fault.as_ref().map(|f| f.delay_ms).unwrap_or(0);
            match fault.and_then(|f| f.error()) {
                Some(e) => (Some(e), delay),
                None => (g.control.throttle(op).err(), delay),
            }
        }
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let result = match pre {
        Some(e) => Err(e),
        None => {
            let mut g = shared.lock();
            run_op(&mut g, op, &req)
        }
    };
    let mut g = shared.lock();
    let since = g.started.elapsed().as_secs_f64() * 1000.0;
    let (status, error) = match &result {
        Ok(_) => (200, None),
        Err(e) => (e.status, Some(e.code.clone())),
    };
    g.control.record(CallRecord {
        seq: 0,
        operation: op.to_string(),
        labels,
        status,
        error,
        at_ms: since,
        duration_ms: t0.elapsed().as_secs_f64() * 1000.0,
        request: redact(&req.body),
    });
    drop(g);
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The call log keeps request bodies for tests to assert on, but never the password.
fn redact(body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        if o.contains_key("Password") {
            o.insert("Password".into(), Value::String("<redacted>".into()));
        }
    }
    b
}

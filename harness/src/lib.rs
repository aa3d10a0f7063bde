//! Drives the real Lambda binary as AWS does: a Lambda Runtime API on loopback hands it events, a response
//! receiver stands in for the presigned S3 ResponseURL, and the Connect emulator answers its SDK calls.
//! Used by the integration tests, the demo (`cr-demo`) and the benchmarks; never part of the Lambda.

pub mod events;
pub mod moto;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path as FsPath;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;
use tokio::sync::{oneshot, Notify};

type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn serve(app: Router) -> std::io::Result<(SocketAddr, oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok((addr, tx))
}

// ---------------------------------------------------------------------------------------------------------
// Response receiver
// ---------------------------------------------------------------------------------------------------------

/// One PUT as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
    pub content_length: Option<usize>,
    pub transfer_encoding: Option<String>,
    pub body: Vec<u8>,
    /// The answer the receiver gave (an injected failure or 200).
    pub answered: u16,
    /// When it arrived (epoch milliseconds), to compare with the invocation's deadline.
    pub received_ms: u64,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Statuses to answer with before answering 200, one per PUT.
    fail_next: VecDeque<u16>,
}

/// Stands in for S3: records every PUT to `/responses/...`.
pub struct Receiver {
    pub addr: SocketAddr,
    state: Shared<ReceiverState>,
    notify: Arc<Notify>,
    _stop: oneshot::Sender<()>,
}

impl Receiver {
    pub async fn start() -> std::io::Result<Receiver> {
        let state: Shared<ReceiverState> = Default::default();
        let notify = Arc::new(Notify::new());
        let app = Router::new().fallback(receive).with_state((state.clone(), notify.clone()));
        let (addr, stop) = serve(app).await?;
        Ok(Receiver { addr, state, notify, _stop: stop })
    }

    /// A presigned-looking URL as CloudFormation makes it when it sends an event now: SigV4, signed now, with a
    /// signature in the query string like S3's.
    pub fn url(&self, name: &str) -> String {
        self.url_signed_at(name, now_ms())
    }

    /// The same URL signed at `signed_ms` (epoch ms): an event that waited in Lambda's queue since then.
    pub fn url_signed_at(&self, name: &str, signed_ms: u64) -> String {
        format!(
            "http://{}/responses/{name}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={}&X-Amz-Expires=7200&X-Amz-Signature=sig{}",
            self.addr,
            amz_date(signed_ms),
            uuid::Uuid::new_v4().simple()
        )
    }

    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.state).fail_next.extend(statuses);
    }

    pub fn all(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// PUTs whose path ends with `/responses/<name>`.
    pub fn for_name(&self, name: &str) -> Vec<Received> {
        let suffix = format!("/responses/{name}");
        self.all().into_iter().filter(|r| r.path == suffix).collect()
    }

    /// Waits until `n` PUTs for `name` arrived (or the timeout passes) and returns them.
    pub async fn wait_for(&self, name: &str, n: usize, timeout: Duration) -> Vec<Received> {
        let end = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.for_name(name);
            if got.len() >= n || tokio::time::Instant::now() >= end {
                return got;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), self.notify.notified()).await;
        }
    }
}

async fn receive(
    State((state, notify)): State<(Shared<ReceiverState>, Arc<Notify>)>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let answered = {
        let mut g = lock(&state);
        let answered = g.fail_next.pop_front().unwrap_or(200);
        g.received.push(Received {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().unwrap_or("").to_string(),
            content_type: h("content-type"),
            content_length: h("content-length").and_then(|v| v.parse().ok()),
            transfer_encoding: h("transfer-encoding"),
            body: body.to_vec(),
            answered,
            received_ms: now_ms(),
        });
        answered
    };
    notify.notify_waiters();
    StatusCode::from_u16(answered).unwrap_or(StatusCode::OK).into_response()
}

// ---------------------------------------------------------------------------------------------------------
// Lambda Runtime API
// ---------------------------------------------------------------------------------------------------------

/// How an invocation ended, as the runtime reported it.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationResult {
    Response(Value),
    Error(Value),
}

/// When the invocation must end: a fixed epoch time, or a timeout counted from the moment the function
/// receives the event (as Lambda counts it, so queued events do not lose time while they wait).
#[derive(Debug, Clone, Copy)]
pub enum Deadline {
    At(u64),
    After(Duration),
}

struct Pending {
    id: String,
    event: Value,
    deadline: Deadline,
}

#[derive(Default)]
struct RuntimeState {
    queue: VecDeque<Pending>,
    waiting: HashMap<String, oneshot::Sender<InvocationResult>>,
    /// Times (ms since the runtime started) of each `next` request, for start-up measurements.
    next_calls: Vec<f64>,
    /// The deadline (epoch milliseconds) of each invocation handed out, in order.
    deadlines: Vec<u64>,
    init_error: Option<Value>,
    /// Payloads the function queued through Lambda's Invoke API (asynchronous invocations), in order.
    invoked: Vec<Value>,
    /// When set, each queued invocation is delivered to the function at once, with this timeout.
    auto_deliver: Option<Duration>,
    /// When set, the Invoke API queues the invocation and still answers this status: Lambda's "reported failed
    /// but queued", the case that makes a continuation a duplicate.
    invoke_lies: Option<u16>,
    /// What CloudFormation's DescribeStacks answers as the stack's status (`None`: AccessDenied, a role without
    /// `cloudformation:DescribeStacks`); `UPDATE_IN_PROGRESS` until a test says otherwise.
    stack_status: Option<Option<String>>,
    /// The StackName of each DescribeStacks, in order.
    described: Vec<String>,
    /// Stacks known by name (as a person asks for them: `connect-users plan --stack-name`), and their ids.
    stack_ids: HashMap<String, String>,
    /// Other stacks of the account, by id, with their status (`None`: CloudFormation has no such stack).
    other_stacks: HashMap<String, Option<String>>,
    /// Each logical id's physical id, for DescribeStackResource.
    physical_ids: HashMap<String, String>,
}

/// The Runtime API (`/2018-06-01/runtime/...`) on loopback.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    state: Shared<RuntimeState>,
    notify: Arc<Notify>,
    started: std::time::Instant,
    _stop: oneshot::Sender<()>,
}

/// The ARN every invocation is made as.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:connect-user-resource";

/// Epoch milliseconds as SigV4's `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`).
pub fn amz_date(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

type RtState = (Shared<RuntimeState>, Arc<Notify>, std::time::Instant);

impl RuntimeApi {
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let state: Shared<RuntimeState> = Default::default();
        let notify = Arc::new(Notify::new());
        let started = std::time::Instant::now();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .route("/2015-03-31/functions/{name}/invocations", post(invoke_api))
            .route("/", post(cloudformation_api))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .with_state((state.clone(), notify.clone(), started));
        let (addr, stop) = serve(app).await?;
        Ok(RuntimeApi { addr, state, notify, started, _stop: stop })
    }

    /// Queues an event; the returned receiver resolves when the function reports the result.
    pub fn enqueue(&self, event: Value, deadline: Deadline) -> oneshot::Receiver<InvocationResult> {
        let (tx, rx) = oneshot::channel();
        let id = uuid::Uuid::new_v4().to_string();
        {
            let mut g = lock(&self.state);
            g.waiting.insert(id.clone(), tx);
            g.queue.push_back(Pending { id, event, deadline });
        }
        self.notify.notify_waiters();
        rx
    }

    /// Invokes with a deadline `timeout` from now and waits for the result (at most `timeout` + 5 s).
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Option<InvocationResult> {
        self.invoke_with_deadline(event, Deadline::After(timeout), timeout + Duration::from_secs(5)).await
    }

    pub async fn invoke_with_deadline(&self, event: Value, deadline: Deadline, wait: Duration) -> Option<InvocationResult> {
        let rx = self.enqueue(event, deadline);
        tokio::time::timeout(wait, rx).await.ok().and_then(Result::ok)
    }

    /// Milliseconds from the runtime's start to each `next` request.
    pub fn next_calls(&self) -> Vec<f64> {
        lock(&self.state).next_calls.clone()
    }

    /// The deadline (epoch milliseconds) each invocation was handed out with, in order: the moment a response
    /// must beat, counted as Lambda counts it (from the hand-out).
    pub fn deadlines(&self) -> Vec<u64> {
        lock(&self.state).deadlines.clone()
    }

    /// Delivers every asynchronous invocation the function queues (Lambda's Invoke API, `AWS_ENDPOINT_URL_LAMBDA`)
    /// to the function, as Lambda would, each with `timeout`; `None` only records them.
    pub fn auto_deliver(&self, timeout: Option<Duration>) {
        lock(&self.state).auto_deliver = timeout;
    }

    /// What DescribeStacks answers from now on as the stack's status (`None`: AccessDenied).
    pub fn stack_status(&self, status: Option<&str>) {
        lock(&self.state).stack_status = Some(status.map(str::to_string));
    }

    /// A stack DescribeStacks finds by its name (and by its id, as before).
    pub fn stack_named(&self, name: &str, stack_id: &str) {
        lock(&self.state).stack_ids.insert(name.to_string(), stack_id.to_string());
    }

    /// Another stack of the account, asked for by its id: its status, or `None` for one CloudFormation does not
    /// know (deleted more than 90 days ago, or never made).
    pub fn other_stack(&self, stack_id: &str, status: Option<&str>) {
        lock(&self.state).other_stacks.insert(stack_id.to_string(), status.map(str::to_string));
    }

    /// What DescribeStackResource answers for a logical id (`None`: the stack has no such resource).
    pub fn stack_resource(&self, logical_id: &str, physical_id: Option<&str>) {
        let mut g = lock(&self.state);
        match physical_id {
            Some(p) => g.physical_ids.insert(logical_id.to_string(), p.to_string()),
            None => g.physical_ids.remove(logical_id),
        };
    }

    /// The StackName of every DescribeStacks the function made.
    pub fn described_stacks(&self) -> Vec<String> {
        lock(&self.state).described.clone()
    }

    /// From now on the Invoke API queues each invocation but answers `status` (`None`: 202 again).
    pub fn invoke_lies(&self, status: Option<u16>) {
        lock(&self.state).invoke_lies = status;
    }

    /// The payloads queued through the Invoke API so far.
    pub fn invoked(&self) -> Vec<Value> {
        lock(&self.state).invoked.clone()
    }

    /// Waits until `n` payloads were queued through the Invoke API (or the timeout passes).
    pub async fn wait_invoked(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let end = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.invoked();
            if got.len() >= n || tokio::time::Instant::now() >= end {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn init_error(&self) -> Option<Value> {
        lock(&self.state).init_error.clone()
    }

    pub fn started(&self) -> std::time::Instant {
        self.started
    }
}

async fn next(State((state, notify, started)): State<RtState>) -> Response {
    lock(&state).next_calls.push(started.elapsed().as_secs_f64() * 1000.0);
    loop {
        let notified = notify.notified();
        let popped = lock(&state).queue.pop_front();
        if let Some(p) = popped {
            let deadline_ms = match p.deadline {
                Deadline::At(ms) => ms,
                Deadline::After(d) => now_ms() + d.as_millis() as u64,
            };
            lock(&state).deadlines.push(deadline_ms);
            let headers = [
                ("Lambda-Runtime-Aws-Request-Id", p.id.clone()),
                ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
                ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN.to_string()),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0".to_string()),
            ];
            return (StatusCode::OK, headers, axum::Json(p.event)).into_response();
        }
        notified.await;
    }
}

fn finish(state: &Shared<RuntimeState>, id: &str, result: InvocationResult) -> StatusCode {
    match lock(state).waiting.remove(id) {
        Some(tx) => {
            let _ = tx.send(result);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn respond(State((state, _, _)): State<RtState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&state, &id, InvocationResult::Response(serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

async fn fail(State((state, _, _)): State<RtState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&state, &id, InvocationResult::Error(serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// CloudFormation's DescribeStacks (the query protocol: a form-encoded POST, an XML answer), as a function uses it
/// to tell a rollback from a deletion. The Runtime API's address serves it (`AWS_ENDPOINT_URL_CLOUDFORMATION`).
async fn cloudformation_api(State((state, _, _)): State<RtState>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let xml = |status: StatusCode, body: String| (status, [("content-type", "text/xml")], body).into_response();
    let error = |status: StatusCode, code: &str, message: &str| {
        xml(
            status,
            format!(
                "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
            ),
        )
    };
    let action = form.get("Action").cloned().unwrap_or_default();
    if action != "DescribeStacks" && action != "DescribeStackResource" {
        return error(StatusCode::BAD_REQUEST, "InvalidAction", "this test endpoint serves DescribeStacks and DescribeStackResource only");
    }
    let Some(asked) = form.get("StackName").cloned() else {
        return error(StatusCode::BAD_REQUEST, "ValidationError", "StackName is required here");
    };
    if action == "DescribeStacks" {
        let other = lock(&state).other_stacks.get(&asked).cloned();
        if other.is_some() {
            lock(&state).described.push(asked.clone());
        }
        match other {
            Some(None) => return error(StatusCode::BAD_REQUEST, "ValidationError", &format!("Stack with id {asked} does not exist")),
            Some(Some(status)) => {
                let stack_name = asked.split('/').nth(1).unwrap_or(&asked).to_string();
                return xml(
                    StatusCode::OK,
                    format!(
                        "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStacksResult><Stacks><member><StackName>{stack_name}</StackName><StackId>{asked}</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>{status}</StackStatus></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeStacksResponse>"
                    ),
                );
            }
            None => {}
        }
    }
    // A function asks by the stack's id; a person by its name, which only stacks made known answer to.
    let known = lock(&state).stack_ids.get(&asked).cloned();
    let name = match known {
        Some(id) => id,
        None if asked.starts_with("arn:") => asked.clone(),
        None => return error(StatusCode::BAD_REQUEST, "ValidationError", &format!("Stack with id {asked} does not exist")),
    };
    if action == "DescribeStackResource" {
        let logical = form.get("LogicalResourceId").cloned().unwrap_or_default();
        let Some(physical) = lock(&state).physical_ids.get(&logical).cloned() else {
            return error(StatusCode::BAD_REQUEST, "ValidationError", &format!("Resource {logical} does not exist for stack {asked}"));
        };
        let stack_name = name.split('/').nth(1).unwrap_or(&name).to_string();
        return xml(
            StatusCode::OK,
            format!(
                "<DescribeStackResourceResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStackResourceResult><StackResourceDetail><StackName>{stack_name}</StackName><StackId>{name}</StackId><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>Custom::ConnectUserSet</ResourceType><LastUpdatedTimestamp>2026-01-01T00:00:00Z</LastUpdatedTimestamp><ResourceStatus>UPDATE_COMPLETE</ResourceStatus></StackResourceDetail></DescribeStackResourceResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeStackResourceResponse>"
            ),
        );
    }
    let status = {
        let mut g = lock(&state);
        g.described.push(asked.clone());
        g.stack_status.clone().unwrap_or_else(|| Some("UPDATE_IN_PROGRESS".into()))
    };
    let Some(status) = status else {
        return error(StatusCode::FORBIDDEN, "AccessDenied", "User is not authorized to perform: cloudformation:DescribeStacks");
    };
    let stack_name = name.split('/').nth(1).unwrap_or(&name).to_string();
    xml(
        StatusCode::OK,
        format!(
            "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStacksResult><Stacks><member><StackName>{stack_name}</StackName><StackId>{name}</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>{status}</StackStatus></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeStacksResponse>"
        ),
    )
}

/// Lambda's Invoke API, asynchronous invocations only (`X-Amz-Invocation-Type: Event`), as a function uses it to
/// continue its own work: recorded, delivered when auto-delivery is on, answered 202.
async fn invoke_api(State((state, notify, _)): State<RtState>, Path(_name): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let kind = headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok()).unwrap_or("RequestResponse");
    if kind != "Event" {
        let body = json!({"Type": "User", "message": format!("this test endpoint only takes InvocationType Event, got {kind}")});
        return (StatusCode::BAD_REQUEST, [("x-amzn-ErrorType", "InvalidParameterValueException")], axum::Json(body)).into_response();
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        let body = json!({"Type": "User", "message": "Could not parse request body into json"});
        return (StatusCode::BAD_REQUEST, [("x-amzn-ErrorType", "InvalidRequestContentException")], axum::Json(body)).into_response();
    };
    let lie = {
        let mut g = lock(&state);
        g.invoked.push(payload.clone());
        if let Some(timeout) = g.auto_deliver {
            let id = uuid::Uuid::new_v4().to_string();
            // Nobody waits for an asynchronous invocation's result; the sender only lets the function report it.
            let (tx, _) = oneshot::channel();
            g.waiting.insert(id.clone(), tx);
            g.queue.push_back(Pending { id, event: payload, deadline: Deadline::After(timeout) });
        }
        g.invoke_lies
    };
    notify.notify_waiters();
    match lie.and_then(|s| StatusCode::from_u16(s).ok()) {
        Some(status) => {
            let body = json!({"Type": "Service", "message": "Service Unavailable"});
            (status, [("x-amzn-ErrorType", "ServiceException")], axum::Json(body)).into_response()
        }
        None => StatusCode::ACCEPTED.into_response(),
    }
}

async fn init_error(State((state, _, _)): State<RtState>, body: Bytes) -> StatusCode {
    lock(&state).init_error = Some(serde_json::from_slice(&body).unwrap_or(Value::Null));
    StatusCode::ACCEPTED
}

// ---------------------------------------------------------------------------------------------------------
// The Lambda process
// ---------------------------------------------------------------------------------------------------------

/// The real binary, started as Lambda starts it, with its output captured.
pub struct LambdaProcess {
    child: tokio::process::Child,
    output: Shared<Vec<u8>>,
}

/// The environment Lambda gives a function, pointed at loopback.
pub fn lambda_env(runtime: SocketAddr, connect_endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime.to_string()),
        ("AWS_ENDPOINT_URL_CONNECT", connect_endpoint.to_string()),
        // The function continues long work by invoking itself; the Runtime API serves Lambda's Invoke API too.
        ("AWS_ENDPOINT_URL_LAMBDA", format!("http://{runtime}")),
        // ... and CloudFormation's DescribeStacks, to tell a rollback from a deletion.
        ("AWS_ENDPOINT_URL_CLOUDFORMATION", format!("http://{runtime}")),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".into()),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
        ("AWS_LAMBDA_FUNCTION_NAME", "connect-user-resource".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/connect-user-resource".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

impl LambdaProcess {
    pub fn spawn(binary: &FsPath, env: &[(String, String)]) -> std::io::Result<LambdaProcess> {
        let mut cmd = tokio::process::Command::new(binary);
        cmd.env_clear();
        if let Ok(path) = std::env::var("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null()).kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let output: Shared<Vec<u8>> = Default::default();
        for stream in [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child.stderr.take().map(|s| Box::new(s) as _),
        ]
        .into_iter()
        .flatten()
        {
            let out = output.clone();
            tokio::spawn(async move {
                let mut s = stream;
                let mut buf = [0u8; 8192];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    lock(&out).extend_from_slice(&buf[..n]);
                }
            });
        }
        Ok(LambdaProcess { child, output })
    }

    /// Everything the process printed so far (stdout and stderr interleaved).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&lock(&self.output)).into_owned()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

// ---------------------------------------------------------------------------------------------------------
// Benchmark results
// ---------------------------------------------------------------------------------------------------------

/// A process's peak resident memory (VmHWM, kB), for the benchmarks.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

// ---------------------------------------------------------------------------------------------------------
// Benchmark results file
// ---------------------------------------------------------------------------------------------------------

/// Writes `content` as the section `name` of `bench/RESULTS.md` (between `<!-- name -->` and `<!-- /name -->`),
/// keeping the other sections, so that each benchmark binary can refresh its own figures.
pub fn write_results_section(name: &str, content: &str) -> std::io::Result<()> {
    let path = FsPath::new("bench/RESULTS.md");
    std::fs::create_dir_all("bench")?;
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let (open, close) = (format!("<!-- {name} -->"), format!("<!-- /{name} -->"));
    let section = format!("{open}\n{}\n{close}", content.trim_end());
    let header = "# Benchmark results\n\nReproduce with `make bench` (see docs/performance.md).\n";
    let text = match (old.find(&open), old.find(&close)) {
        (Some(a), Some(b)) if b > a => format!("{}{section}{}", &old[..a], &old[b + close.len()..]),
        _ if old.contains("<!-- ") => format!("{}\n{section}\n", old.trim_end()),
        // A file from before sections (or none): start over with the header.
        _ => format!("{header}\n{section}\n"),
    };
    std::fs::write(path, text)
}

// ---------------------------------------------------------------------------------------------------------
// Emulator control client
// ---------------------------------------------------------------------------------------------------------

/// A minimal HTTP/1.1 client for the emulator's control API (so the harness needs no HTTP client crate).
pub async fn control(endpoint: &str, method: &str, path: &str, body: Option<Value>) -> std::io::Result<Value> {
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let (_, _, body) =
        http(endpoint, method, &format!("/_emulator/{path}"), &[("Content-Type", "application/json")], payload.as_bytes()).await?;
    // The emulator answers with a Content-Length body (no chunking) for control requests.
    let body = String::from_utf8_lossy(&body);
    Ok(serde_json::from_str(&body).unwrap_or_else(|_| json!({ "raw": body })))
}

/// One plain HTTP/1.1 request to a loopback server; the status, the response's headers (lowercase names) and its
/// body (read to the end: the connection is closed).
pub async fn http(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    use tokio::io::AsyncWriteExt;
    let host = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).await?;
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(resp.len());
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string())).collect();
    Ok((status, headers, resp.get(split + 4..).unwrap_or_default().to_vec()))
}

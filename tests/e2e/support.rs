//! A test bed per test: the Connect emulator, a response receiver, a Runtime API and the real Lambda binary.

use aws_sdk_connect::config::{Credentials, Region};
use connect_emulator::Emulator;
use lambda_harness::{control, events, lambda_env, InvocationResult, LambdaProcess, Received, Receiver, RuntimeApi};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const IID: &str = "81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca";
pub const IARN: &str = "arn:aws:connect:us-east-1:123456789012:instance/81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca";
pub const SAML_IID: &str = "7a760212-305b-4271-ade7-fce68795b60c";
pub const SAML_RP: &str = "ea7378e8-a072-4c05-835c-3033946b450a";
pub const SAML_SP: &str = "35992b22-ad0e-4862-9d0e-adede3d916c1";
pub const RP_BASIC: &str = "f1478cfd-0ff1-4e4f-b73a-ffafa95f1eaf";
pub const RP_SALES: &str = "fcc8ed3b-a605-49a2-9d2d-9313178676db";
pub const SP_AGENT: &str = "16d9d65b-eb82-419f-b3bc-80a0d32111ef";
pub const SP_MANAGER: &str = "5830ffcf-dcb3-423e-8d16-19cfa5bd7a92";
pub const SP_QA: &str = "d5f4b602-adba-4884-a1ba-3a551158840b";
pub const HG_NA: &str = "fc81f9df-eb75-4f12-a8db-2aa195c5b772";
pub const HG_EMEA: &str = "a8e0f0bb-4a9a-412f-8992-bd18de9c8f82";
pub const PASSWORD: &str = "Sup3rSecretPassw0rd";
/// The agents the default fixture's first instance has before any stack (see emulator/fixtures/default.json).
pub const LEGACY_ID: &str = "0f6a2c1e-5d3b-4a7e-9c10-2b8d4e6f1a01";
pub const VETERAN_ID: &str = "7c3e9b52-1f4d-4e8a-b6a0-5d2c8e1f3b02";
pub const FIXTURE_USERS: [&str; 2] = [LEGACY_ID, VETERAN_ID];
/// The stack name in `events::STACK_ID`, which the holder tag records with the stack's GUID.
pub const STACK_NAME: &str = "connect-users";
pub const STACK_GUID: &str = "5b9c8f10-1111-11ef-9a3b-0a1b2c3d4e5f";
pub use lambda_harness::events::holder;
pub const HOLDER_TAG: &str = "connect-user-resource:holder";
/// The name of the function's state table in the tests.
pub const STATE_TABLE: &str = "state";

pub fn connect_client(endpoint: &str) -> aws_sdk_connect::Client {
    let config = aws_sdk_connect::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .retry_config(aws_sdk_connect::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_connect::Client::from_conf(config)
}

pub struct Bed {
    pub emulator: Emulator,
    pub receiver: Receiver,
    pub runtime: RuntimeApi,
    pub lambda: LambdaProcess,
    pub connect: aws_sdk_connect::Client,
    seq: AtomicUsize,
    /// moto's DynamoDB holding the function's state table, for a bed started with one.
    pub moto: Option<lambda_harness::moto::Moto>,
    /// Every password sent and every ResponseURL signature handed out: none may appear in the function's output,
    /// which `Drop` checks for every test that starts a `Bed`, so that a new test cannot forget it.
    secrets: std::sync::Mutex<Vec<String>>,
}

impl Drop for Bed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let out = self.lambda.output();
        let secrets = self.secrets.lock().map(|s| s.clone()).unwrap_or_default();
        for secret in secrets.iter().chain([PASSWORD.to_string()].iter()) {
            assert!(!out.contains(secret.as_str()), "a secret ({} characters) reached the function's output", secret.len());
        }
    }
}

/// The string values of every `Password` member, at any depth.
fn passwords(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::String(s) if k.eq_ignore_ascii_case("password") && s.len() >= 8 => out.push(s.clone()),
                    _ => passwords(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| passwords(x, out)),
        Value::String(s) if s.starts_with('{') => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                passwords(&inner, out);
            }
        }
        _ => {}
    }
}

/// A response and the invocation's own result.
pub struct Answer {
    pub body: Value,
    pub puts: Vec<Received>,
    pub invocation: Option<InvocationResult>,
}

impl Answer {
    pub fn status(&self) -> &str {
        self.body["Status"].as_str().unwrap_or("")
    }
    pub fn reason(&self) -> &str {
        self.body["Reason"].as_str().unwrap_or("")
    }
    pub fn physical_id(&self) -> String {
        self.body["PhysicalResourceId"].as_str().unwrap_or("").to_string()
    }
    pub fn user_id(&self) -> String {
        self.physical_id().split_once(':').map(|(_, u)| u.to_string()).unwrap_or_default()
    }
}

impl Bed {
    pub async fn start() -> Bed {
        Self::start_with(connect_emulator::Config::default(), &[]).await
    }

    pub async fn start_with(config: connect_emulator::Config, extra_env: &[(&str, &str)]) -> Bed {
        let emulator = connect_emulator::start(config).await.expect("emulator");
        let receiver = Receiver::start().await.expect("receiver");
        let runtime = RuntimeApi::start().await.expect("runtime api");
        let mut env = lambda_env(runtime.addr, &emulator.endpoint());
        // The level the docs recommend for troubleshooting: secrets must stay out of it too.
        env.push(("RUST_LOG".into(), "debug".into()));
        env.extend(extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let lambda = LambdaProcess::spawn(std::path::Path::new(env!("CARGO_BIN_EXE_connect-user-resource")), &env).expect("lambda");
        let connect = connect_client(&emulator.endpoint());
        Bed { emulator, receiver, runtime, lambda, connect, seq: AtomicUsize::new(0), moto: None, secrets: Default::default() }
    }

    /// A bed whose function keeps its state in a table (as deployed: template.yaml creates it), on moto.
    pub async fn with_store() -> Bed {
        Self::with_store_and(connect_emulator::Config::default(), &[]).await
    }

    pub async fn with_store_and(config: connect_emulator::Config, extra_env: &[(&str, &str)]) -> Bed {
        let moto = lambda_harness::moto::start().await.expect("moto_server (make test installs it)");
        moto.state_table(STATE_TABLE).await.expect("the state table");
        let mut env = vec![("STATE_TABLE", STATE_TABLE), ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint.as_str())];
        env.extend_from_slice(extra_env);
        let mut bed = Self::start_with(config, &env).await;
        bed.moto = Some(moto);
        bed
    }

    /// The items of the function's state table, as DynamoDB JSON.
    pub async fn state(&self) -> Vec<Value> {
        self.moto.as_ref().expect("a bed with a store").scan(STATE_TABLE).await.expect("scan")
    }

    /// Records a value that must never reach the function's output.
    pub fn secret(&self, s: &str) {
        if let Ok(mut g) = self.secrets.lock() {
            g.push(s.to_string());
        }
    }

    pub fn url(&self) -> (String, String) {
        self.url_signed_at(lambda_harness::now_ms())
    }

    /// A ResponseURL that CloudFormation signed at `signed_ms` (the event waited in Lambda's queue since).
    pub fn url_signed_at(&self, signed_ms: u64) -> (String, String) {
        let name = format!("r{}", self.seq.fetch_add(1, Ordering::SeqCst));
        let url = self.receiver.url_signed_at(&name, signed_ms);
        if let Some((_, query)) = url.split_once('?') {
            self.secret(query);
            if let Some((_, sig)) = query.split_once("X-Amz-Signature=") {
                self.secret(sig);
            }
        }
        (url, name)
    }

    /// Sends an event (its ResponseURL replaced by a fresh one) and waits for the response PUT.
    pub async fn send(&self, event: Value) -> Answer {
        self.send_with_deadline(event, Duration::from_secs(30)).await
    }

    pub async fn send_with_deadline(&self, mut event: Value, timeout: Duration) -> Answer {
        let mut sent = Vec::new();
        passwords(&event, &mut sent);
        sent.iter().for_each(|p| self.secret(p));
        let (url, name) = self.url();
        set_url(&mut event, &url);
        let invocation = self.runtime.invoke(event, timeout).await;
        let puts = self.receiver.wait_for(&name, 1, Duration::from_secs(2)).await;
        // Give a duplicate PUT a moment to show up, so that "exactly one" is really checked.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let puts = if puts.is_empty() { puts } else { self.receiver.for_name(&name) };
        let body = puts.first().map(Received::json).unwrap_or(Value::Null);
        Answer { body, puts, invocation }
    }

    /// Sends an event whose work may continue in further invocations (each queued continuation is delivered at
    /// once, with `per_invocation` as its timeout) and waits up to `wait` for the one response.
    pub async fn send_chain(&self, event: Value, per_invocation: Duration, wait: Duration) -> Answer {
        self.send_chain_signed_at(event, per_invocation, wait, lambda_harness::now_ms()).await
    }

    /// [`Bed::send_chain`] for an event whose ResponseURL was signed at `signed_ms`.
    pub async fn send_chain_signed_at(&self, mut event: Value, per_invocation: Duration, wait: Duration, signed_ms: u64) -> Answer {
        let mut sent = Vec::new();
        passwords(&event, &mut sent);
        sent.iter().for_each(|p| self.secret(p));
        let (url, name) = self.url_signed_at(signed_ms);
        set_url(&mut event, &url);
        self.runtime.auto_deliver(Some(per_invocation));
        let invocation = self.runtime.invoke(event, per_invocation).await;
        let puts = self.receiver.wait_for(&name, 1, wait).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let puts = if puts.is_empty() { puts } else { self.receiver.for_name(&name) };
        let body = puts.first().map(Received::json).unwrap_or(Value::Null);
        Answer { body, puts, invocation }
    }

    pub async fn create(&self, logical: &str, props: Value) -> Answer {
        self.send(events::create(logical, "x", props)).await
    }

    pub async fn update(&self, logical: &str, physical: &str, props: Value, old: Value) -> Answer {
        self.send(events::update(logical, "x", physical, props, old)).await
    }

    pub async fn delete(&self, logical: &str, physical: &str, props: Value) -> Answer {
        self.send(events::delete(logical, "x", physical, props)).await
    }

    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        control(&self.emulator.endpoint(), method, path, body).await.expect("control api")
    }

    /// Every user of the emulator, the fixture's pre-existing agents included.
    pub async fn all_users(&self) -> Vec<Value> {
        self.control("GET", "state", None).await["users"].as_array().cloned().unwrap_or_default()
    }

    /// The users made since the emulator started (the fixture's pre-existing agents left out).
    pub async fn users(&self) -> Vec<Value> {
        self.all_users().await.into_iter().filter(|u| !FIXTURE_USERS.iter().any(|f| u["Id"] == *f)).collect()
    }

    pub async fn user(&self, user_id: &str) -> Option<Value> {
        self.all_users().await.into_iter().find(|u| u["Id"] == user_id)
    }

    /// The call log's entries (operation, status, request body, ...), in order.
    pub async fn call_log(&self) -> Vec<Value> {
        self.control("GET", "calls", None).await["calls"].as_array().cloned().unwrap_or_default()
    }

    /// Operation names of the call log, in order.
    pub async fn calls(&self) -> Vec<String> {
        self.control("GET", "calls", None).await["calls"]
            .as_array()
            .map(|c| c.iter().map(|c| c["operation"].as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    }

    pub async fn clear_calls(&self) {
        self.control("DELETE", "calls", None).await;
    }

    pub async fn fault(&self, operation: &str, count: u32, error: &str) {
        self.control("POST", "faults", Some(json!({"operation": operation, "count": count, "error": error}))).await;
    }

    pub fn output(&self) -> String {
        self.lambda.output()
    }
}

pub fn set_url(event: &mut Value, url: &str) {
    if let Some(records) = event.get_mut("Records").and_then(Value::as_array_mut) {
        for r in records {
            if let Some(msg) = r["Sns"]["Message"].as_str() {
                let mut inner: Value = serde_json::from_str(msg).unwrap_or(Value::Null);
                inner["ResponseURL"] = json!(url);
                r["Sns"]["Message"] = json!(inner.to_string());
            }
        }
    } else if event.is_object() {
        event["ResponseURL"] = json!(url);
    }
}

/// The soft-phone user of the original Pulumi guide.
pub fn soft_phone(name: &str) -> Value {
    json!({
        "InstanceId": IID,
        "Name": name,
        "Password": PASSWORD,
        "RoutingProfileId": RP_BASIC,
        "SecurityProfileIds": [SP_AGENT],
        "IdentityInfo": {"FirstName": "example", "LastName": "example2"},
        "PhoneConfig": {"AfterContactWorkTimeLimit": "0", "PhoneType": "SOFT_PHONE"}
    })
}

pub fn with(mut v: Value, key: &str, val: Value) -> Value {
    v[key] = val;
    v
}

/// A binary of another workspace member, built by `make test` (`cargo build --workspace --all-targets`) before
/// the tests run.
pub fn workspace_bin(name: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug").join(name);
    assert!(p.exists(), "{} is missing: run the tests through `make test`, which builds it", p.display());
    p
}

/// A tool from the project's venv (cfn-lint, python), installed by `make test`.
pub fn venv_bin(name: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin").join(name);
    assert!(p.exists(), "{} is missing: run the tests through `make test`, which installs it", p.display());
    p
}

/// The write calls of a call log (everything but the reads).
pub fn writes(log: &[Value]) -> Vec<String> {
    const READS: [&str; 10] = [
        "DescribeInstance",
        "DescribeUser",
        "ListUserProficiencies",
        "ListUsers",
        "SearchUsers",
        "ListTagsForResource",
        "ListRoutingProfiles",
        "ListSecurityProfiles",
        "ListUserHierarchyGroups",
        "DescribeUserHierarchyGroup",
    ];
    log.iter().filter_map(|c| c["operation"].as_str()).filter(|op| !READS.contains(op)).map(str::to_string).collect()
}

/// A user as the emulator holds it, less what changes on every write.
pub fn settings_of(u: &Value) -> Value {
    let mut v = u.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("LastModifiedTime");
    }
    v
}

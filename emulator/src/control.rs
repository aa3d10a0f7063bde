//! Production behaviour on demand (throttling, eventual consistency, faults) and what tests read back (the call
//! log, the state dump). Served under `/_emulator/`:
//!
//! | method and path           | body / effect |
//! |---------------------------|---------------|
//! | `GET  /_emulator/calls`   | the call log, oldest first |
//! | `DELETE /_emulator/calls` | clears the call log |
//! | `GET  /_emulator/state`   | every user, with password and proficiencies |
//! | `POST /_emulator/reset`   | back to the fixture; clears users, log, faults; keeps throttle and delay |
//! | `POST /_emulator/throttle`| `{"operation": "CreateUser" or "*", "rate": 2.0, "burst": 5}`; `rate: null` turns it off |
//! | `POST /_emulator/consistency` | `{"describe_delay_ms": 500}` |
//! | `POST /_emulator/search-lag` | `{"lag_ms": 2000}`: SearchUsers answers from an index that many ms behind the writes; 0 turns it off |
//! | `POST /_emulator/paging`  | `{"page_size": 2}`: at most that many items per List/Search page; `null` turns it off |
//! | `POST /_emulator/faults`  | `{"operation": "UpdateUserHierarchy", "count": 1, "error": "InternalServiceException", "message": "...", "delay_ms": 0}` |
//! | `DELETE /_emulator/faults`| clears pending faults |

use crate::error::ApiError;
use crate::world::World;
use crate::Shared;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    pub seq: u64,
    pub operation: String,
    /// URI labels: instance and user for the user operations, the ARN for the tag operations.
    pub labels: Vec<String>,
    pub status: u16,
    pub error: Option<String>,
    pub at_ms: f64,
    pub duration_ms: f64,
    /// The request body, password redacted.
    pub request: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    pub operation: String,
    #[serde(default = "one")]
    pub count: u32,
    /// An error code such as `InternalServiceException`; absent for a pure delay.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub delay_ms: u64,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn error(&self) -> Option<ApiError> {
        self.error.as_ref().map(|code| ApiError::new(code, self.message.clone().unwrap_or_else(|| format!("Injected {code}"))))
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: u32) -> Bucket {
        Bucket { rate, burst: f64::from(burst), tokens: f64::from(burst), last: Instant::now() }
    }
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct Control {
    default_throttle: Option<(f64, u32)>,
    per_op_throttle: BTreeMap<String, Option<(f64, u32)>>,
    buckets: BTreeMap<String, Bucket>,
    pub describe_delay_ms: u64,
    faults: Vec<Fault>,
    calls: Vec<CallRecord>,
    seq: u64,
    /// How far SearchUsers' index is behind the writes (Connect's documented eventual consistency).
    search_lag: Duration,
    /// The users as they were after each write while a lag is set, oldest first: the index answers from the
    /// newest one at least `search_lag` old.
    snapshots: VecDeque<(Instant, BTreeMap<String, crate::world::User>, Vec<String>)>,
}

impl Control {
    pub fn new(throttle: Option<(f64, u32)>, describe_delay_ms: u64) -> Control {
        Control {
            default_throttle: throttle,
            per_op_throttle: BTreeMap::new(),
            buckets: BTreeMap::new(),
            describe_delay_ms,
            faults: Vec::new(),
            calls: Vec::new(),
            seq: 0,
            search_lag: Duration::ZERO,
            snapshots: VecDeque::new(),
        }
    }

    /// After a write: the users as they are now, for the lagging index.
    pub fn wrote(&mut self, w: &World) {
        if self.search_lag.is_zero() {
            return;
        }
        self.snapshots.push_back((Instant::now(), w.users.clone(), w.user_order.clone()));
    }

    /// The world as SearchUsers' index sees it: `w` itself without a lag; otherwise `w` with the users of the
    /// newest snapshot at least the lag old (older ones are dropped).
    pub fn index_of(&mut self, w: &World) -> Option<World> {
        if self.search_lag.is_zero() {
            return None;
        }
        let seen_until = Instant::now().checked_sub(self.search_lag)?;
        while self.snapshots.len() > 1 && self.snapshots.get(1).is_some_and(|(at, _, _)| *at <= seen_until) {
            self.snapshots.pop_front();
        }
        let (_, users, order) = self.snapshots.front()?;
        Some(World { users: users.clone(), user_order: order.clone(), ..w.clone() })
    }

    /// One token bucket per operation, as Connect's limits are per API.
    pub fn throttle(&mut self, op: &str) -> Result<(), ApiError> {
        let setting = self.per_op_throttle.get(op).cloned().unwrap_or(self.default_throttle);
        let Some((rate, burst)) = setting else { return Ok(()) };
        let bucket = self.buckets.entry(op.to_string()).or_insert_with(|| Bucket::new(rate, burst));
        if bucket.take() {
            Ok(())
        } else {
            Err(ApiError::new("ThrottlingException", "Rate exceeded"))
        }
    }

    pub fn take_fault(&mut self, op: &str) -> Option<Fault> {
        let i = self.faults.iter().position(|f| f.operation == op && f.count > 0)?;
        let f = self.faults[i].clone();
        self.faults[i].count -= 1;
        if self.faults[i].count == 0 {
            self.faults.remove(i);
        }
        Some(f)
    }

    pub fn record(&mut self, mut c: CallRecord) {
        self.seq += 1;
        c.seq = self.seq;
        self.calls.push(c);
    }
}

#[derive(Deserialize)]
struct ThrottleReq {
    #[serde(default)]
    operation: Option<String>,
    rate: Option<f64>,
    #[serde(default)]
    burst: Option<u32>,
}

#[derive(Deserialize)]
struct PagingReq {
    page_size: Option<usize>,
}

#[derive(Deserialize)]
struct SearchLagReq {
    lag_ms: u64,
}

#[derive(Deserialize)]
struct ConsistencyReq {
    describe_delay_ms: u64,
}

fn bad(msg: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": msg.to_string() }))).into_response()
}

pub(crate) fn handle(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> Response {
    let mut g = shared.lock();
    match (method.as_str(), path) {
        ("GET", "calls") => axum::Json(json!({ "calls": g.control.calls })).into_response(),
        ("DELETE", "calls") => {
            g.control.calls.clear();
            axum::Json(json!({})).into_response()
        }
        ("GET", "state") => {
            let users: Vec<Value> = g.world.user_order.iter().filter_map(|id| g.world.users.get(id)).map(|u| u.dump()).collect();
            axum::Json(json!({ "users": users })).into_response()
        }
        ("POST", "reset") => {
            g.world = crate::seed::world(&g.fixture);
            g.control.calls.clear();
            g.control.faults.clear();
            g.control.buckets.clear();
            axum::Json(json!({})).into_response()
        }
        ("POST", "throttle") => match serde_json::from_slice::<ThrottleReq>(body) {
            Ok(t) => {
                let setting = t.rate.map(|r| (r, t.burst.unwrap_or(5)));
                match t.operation.as_deref() {
                    None | Some("*") => {
                        g.control.default_throttle = setting;
                        g.control.per_op_throttle.clear();
                        g.control.buckets.clear();
                    }
                    Some(op) => {
                        g.control.per_op_throttle.insert(op.to_string(), setting);
                        g.control.buckets.remove(op);
                    }
                }
                axum::Json(json!({})).into_response()
            }
            Err(e) => bad(e),
        },
        ("POST", "consistency") => match serde_json::from_slice::<ConsistencyReq>(body) {
            Ok(c) => {
                g.control.describe_delay_ms = c.describe_delay_ms;
                axum::Json(json!({})).into_response()
            }
            Err(e) => bad(e),
        },
        ("POST", "search-lag") => match serde_json::from_slice::<SearchLagReq>(body) {
            Ok(l) => {
                g.control.search_lag = Duration::from_millis(l.lag_ms);
                g.control.snapshots.clear();
                let world = g.world.clone();
                // The index starts from the users as they are now.
                g.control.snapshots.push_back((Instant::now(), world.users, world.user_order));
                axum::Json(json!({})).into_response()
            }
            Err(e) => bad(e),
        },
        ("POST", "paging") => match serde_json::from_slice::<PagingReq>(body) {
            Ok(p) => {
                g.world.page_size = p.page_size;
                axum::Json(json!({})).into_response()
            }
            Err(e) => bad(e),
        },
        ("POST", "faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(f) => {
                g.control.faults.push(f);
                axum::Json(json!({})).into_response()
            }
            Err(e) => bad(e),
        },
        ("DELETE", "faults") => {
            g.control.faults.clear();
            axum::Json(json!({})).into_response()
        }
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({ "error": format!("no control endpoint {method} /_emulator/{path}") })))
            .into_response(),
    }
}

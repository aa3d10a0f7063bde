//! The CloudFormation custom-resource protocol, independent of what the resource manages.
//!
//! Its one promise: every event that carries a ResponseURL gets exactly one response, before the function's
//! own deadline, whatever the resource does (fails, hangs, panics). A resource only implements
//! [`CustomResource`]; intake, coercion, deadlines, panic guards and the response PUT live here.

pub mod clock;
pub mod coerce;
pub mod continuation;
pub mod deadline;
pub mod event;
pub mod ledger;
pub mod metrics;
pub mod relay;
pub mod response;
pub mod stack;

pub use event::{Request, RequestType};
pub use response::Outcome;

use event::{Echo, Intake};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// What a resource sees of one request: the request itself, the time it may use, and a place to record the
/// physical id as soon as something exists, so that a deadline or a panic after that point still reports it
/// (and CloudFormation's cleanup can delete it) instead of orphaning it.
pub struct Ctx {
    pub request: Request,
    /// When every call must be done (the invocation's work deadline, or the chain's give-up time if sooner).
    pub deadline: Instant,
    /// When a resource that can continue should stop starting new work and return [`Outcome::Continue`]: far
    /// enough before `deadline` for the calls already under way to finish.
    pub continue_by: Instant,
    /// 0 for the invocation CloudFormation made; 1, 2, ... for continuations.
    pub round: u32,
    /// When the event was first received (epoch ms), the same in every invocation of a continued event.
    pub started_ms: u64,
    progress: Arc<Mutex<Option<String>>>,
    /// Where to look whether this Update rolls back a failed one (see [`Ctx::rolls_back_failed_update`]).
    rollback_probe: Option<RollbackProbe>,
    /// Where to read the stack's status (see [`Ctx::stack_phase`]).
    stacks: Option<stack::Stacks>,
    /// What the resource counts for this event's metrics line (see [`Ctx::count`]).
    counts: metrics::Counts,
}

#[derive(Clone)]
struct RollbackProbe {
    ledger: ledger::Ledger,
    key: String,
    old_digest: String,
}

impl Ctx {
    pub fn new(request: Request, deadline: Instant) -> Ctx {
        let continue_by = deadline - deadline.saturating_duration_since(Instant::now()).div_f64(5.0).min(Duration::from_secs(15));
        let round = request.continuation.map(|m| m.round).unwrap_or(0);
        let started_ms = request.continuation.map(|m| m.started_ms).unwrap_or_else(deadline::now_ms);
        Ctx {
            request,
            deadline,
            continue_by,
            round,
            started_ms,
            progress: Arc::new(Mutex::new(None)),
            rollback_probe: None,
            stacks: None,
            counts: Default::default(),
        }
    }

    /// Where this event's questions about stacks go (the protocol gives its own; `connect-users plan` the caller's).
    pub fn with_stacks(mut self, stacks: stack::Stacks) -> Ctx {
        self.stacks = Some(stacks);
        self
    }

    /// Whether this Update is CloudFormation's rollback of an Update this function answered FAILED: its
    /// OldResourceProperties are then properties that were refused or only partly applied, not the resource's
    /// state. One read of the state table; ask only when the answer changes what to do. False when unknown.
    pub async fn rolls_back_failed_update(&self) -> bool {
        let Some(p) = &self.rollback_probe else { return false };
        match p.ledger.failed_update(&p.key, deadline::now_ms()).await {
            Ok(Some(d)) => d == p.old_digest,
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "could not read whether the previous Update failed (the state table)");
                false
            }
        }
    }
    /// Whether CloudFormation is rolling the stack back (one DescribeStacks on the request's StackId). `None` when
    /// that cannot be read (no permission, no client, unreachable): the caller then does what is safe without it.
    pub async fn stack_phase(&self) -> Option<stack::Phase> {
        let stacks = self.stacks.as_ref()?;
        match stacks.phase(&self.request.stack_id, self.deadline).await {
            Ok(p) => Some(p),
            Err(why) => {
                tracing::warn!(why = %why, "the stack's status could not be read");
                None
            }
        }
    }

    /// Whether the stack `name`/`guid` (of this event's account and Region) is gone, with how CloudFormation says
    /// so; `None` when it exists or its status cannot be read (no permission, no client, unreachable).
    pub async fn other_stack_gone(&self, name: &str, guid: &str) -> Option<String> {
        let stacks = self.stacks.as_ref()?;
        let prefix = self.request.stack_id.split(":stack/").next()?;
        let id = format!("{prefix}:stack/{name}/{guid}");
        match stacks.gone(&id, self.deadline).await {
            Ok(gone) => gone,
            Err(why) => {
                tracing::warn!(why = %why, stack = %id, "the holder's stack status could not be read: its record stands");
                None
            }
        }
    }

    /// Adds `n` to this event's metric `name` (summed over the invocation; each invocation of a continued event
    /// writes its own line). Counts recorded before a panic or a timeout are still written.
    pub fn count(&self, name: &'static str, n: u64) {
        self.counts.add(name, n);
    }

    pub fn record_physical_id(&self, id: &str) {
        if let Ok(mut g) = self.progress.lock() {
            *g = Some(id.to_string());
        }
    }
}

/// A resource type served through this protocol. Each method returns the outcome to report; it never has to
/// send anything itself.
pub trait CustomResource: Send + Sync + 'static {
    fn create(&self, ctx: &Ctx) -> impl Future<Output = Outcome> + Send;
    fn update(&self, ctx: &Ctx) -> impl Future<Output = Outcome> + Send;
    fn delete(&self, ctx: &Ctx) -> impl Future<Output = Outcome> + Send;
}

/// Serves one resource type: turns invocations into responses.
pub struct Protocol<R> {
    resource: Arc<R>,
    http: reqwest::Client,
    budget: deadline::Policy,
    relay: Option<relay::Relay>,
    ledger: Option<ledger::Ledger>,
    stacks: Option<stack::Stacks>,
    metrics: Option<metrics::Metrics>,
}

/// What Lambda says about one invocation.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The deadline (epoch milliseconds).
    pub deadline_ms: u64,
    /// The ARN the function was invoked as (where a continuation is sent); empty when unknown.
    pub function_arn: String,
}

impl From<u64> for Invocation {
    fn from(deadline_ms: u64) -> Invocation {
        Invocation { deadline_ms, function_arn: String::new() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Returned to Lambda so that it retries the invocation (the retry is safe: resources are idempotent).
    #[error("{failed} response(s) could not be delivered: {last}")]
    Undelivered { failed: usize, last: String },
}

impl<R: CustomResource> Protocol<R> {
    pub fn new(resource: R, http: reqwest::Client, budget: deadline::Policy) -> Protocol<R> {
        Protocol { resource: Arc::new(resource), http, budget, relay: None, ledger: None, stacks: None, metrics: None }
    }

    /// Lets resources continue past one invocation (without it, a [`Outcome::Continue`] answers FAILED).
    pub fn with_relay(mut self, relay: relay::Relay) -> Protocol<R> {
        self.relay = Some(relay);
        self
    }

    /// Keeps the [`ledger`] of answered events and failed Updates in `store`. Without it, a duplicated event is
    /// worked on and answered again, and a refused Update's rollback is refused too.
    pub fn with_store(mut self, store: crate::store::Store) -> Protocol<R> {
        self.ledger = Some(ledger::Ledger::new(store));
        self
    }

    /// Lets resources read their stack's status ([`Ctx::stack_phase`]).
    pub fn with_stacks(mut self, stacks: stack::Stacks) -> Protocol<R> {
        self.stacks = Some(stacks);
        self
    }

    /// Writes one metrics line per event and invocation ([`metrics`]).
    pub fn with_metrics(mut self, metrics: metrics::Metrics) -> Protocol<R> {
        self.metrics = Some(metrics);
        self
    }

    /// Handles one invocation.
    pub async fn handle(&self, raw: Value, invocation: impl Into<Invocation>) -> Result<Value, HandlerError> {
        let invocation = invocation.into();
        let deadline_ms = invocation.deadline_ms;
        let budget = self.budget.plan(deadline_ms, deadline::now_ms());
        if let Some(note) = &budget.note {
            tracing::warn!(deadline_ms, note = %note, "implausible invocation deadline; using the fallback budget");
        }
        let (work_deadline, delivery_deadline) = deadlines(Instant::now(), &budget);
        let mut statuses = Vec::new();
        let mut failed = 0;
        let mut last_error = String::new();
        for item in event::intake(raw) {
            let echo = item.echo();
            let started = Instant::now();
            let resource_type = match &item {
                Intake::Request(r) => r.resource_type.clone(),
                Intake::Malformed { .. } => String::new(),
            };
            let counts = metrics::Counts::default();
            let span = tracing::info_span!(
                "request",
                request_id = %event::truncate(&echo.request_id, 80),
                logical_id = %event::truncate(&echo.logical_resource_id, 80),
                request_type = %event::truncate(&echo.request_type, 20),
            );
            // Boxed: the answer's future nests the resource's, and is deep enough to exceed the compiler's
            // layout limit where the binary nests it in the runtime's.
            let request_type = echo.request_type.clone();
            let result = Box::pin(self.answer(item, echo, &invocation, (work_deadline, delivery_deadline), &counts).instrument(span)).await;
            if let Some(m) = &self.metrics {
                let fate = match &result {
                    Ok(Answered::Sent(status)) => metrics::Fate::Answered { failed: *status == "FAILED" },
                    Ok(Answered::Continued) => metrics::Fate::Continued,
                    Ok(_) => metrics::Fate::Nothing,
                    Err(_) => metrics::Fate::Undelivered,
                };
                m.emit(&resource_type, &request_type, fate, started.elapsed().as_millis() as u64, &counts, deadline::now_ms());
            }
            match result {
                Ok(answered) => statuses.push(answered.label()),
                Err(e) => {
                    failed += 1;
                    last_error = e.to_string();
                }
            }
        }
        if failed > 0 {
            return Err(HandlerError::Undelivered { failed, last: last_error });
        }
        Ok(json!({ "responses": statuses }))
    }

    /// One event, from its intake to its response: what the work (or a settled copy) decides, then the answer.
    async fn answer(
        &self,
        item: Intake,
        echo: Echo,
        invocation: &Invocation,
        (work_deadline, delivery_deadline): (Instant, Instant),
        counts: &metrics::Counts,
    ) -> Result<Answered, response::DeliveryError> {
        let ledger_key = ledger::key(&echo.stack_id, &echo.logical_resource_id, &echo.request_id);
        match self.decide(item, &ledger_key, invocation, (work_deadline, delivery_deadline), counts).await {
            Decision::Settled(answered) => Ok(answered),
            Decision::Answer { outcome, failed_update } => self.send(&echo, &ledger_key, outcome, failed_update, delivery_deadline).await,
        }
    }

    /// What to answer, if anything: a malformed event fails; a late continuation, or a copy of an answered
    /// event, does nothing; a request too late to start fails; otherwise the resource works, and an unfinished
    /// work is relayed to a new invocation.
    async fn decide(
        &self,
        item: Intake,
        ledger_key: &str,
        invocation: &Invocation,
        (work_deadline, delivery_deadline): (Instant, Instant),
        counts: &metrics::Counts,
    ) -> Decision {
        let req = match item {
            Intake::Malformed { reason, .. } => {
                tracing::error!(reason = %reason, "malformed event");
                let outcome = Outcome::failed(format!("malformed custom resource event: {reason}"));
                return Decision::Answer { outcome, failed_update: None };
            }
            Intake::Request(req) => req,
        };
        let now = deadline::now_ms();
        let marker = req
            .continuation
            .unwrap_or_else(|| continuation::Marker::first(now, clock::signed_at_ms(&req.response_url, now), req.service_timeout));
        if req.continuation.is_none() {
            tracing::info!(waited_ms = now - marker.started_ms, give_up_in_ms = marker.give_up_at_ms as i64 - now as i64, "event received");
        }
        if req.continuation.is_some() && now >= marker.give_up_at_ms {
            // The chain has answered by now (it gives up at this time at the latest), or CloudFormation times the
            // event out: an answer from here could only contradict it.
            tracing::error!(round = marker.round, "continuation arrived after the chain's give-up time; it does nothing");
            return Decision::Settled(Answered::Expired);
        }
        // Lambda may deliver any event twice, CloudFormation's own too: a copy whose event was answered does
        // nothing at all.
        if self.already_answered(ledger_key, "before any work").await {
            return Decision::Settled(Answered::Duplicate);
        }
        if let Some(late) = too_late(&req, &marker, now) {
            tracing::error!(waited_s = (now - marker.started_ms) / 1000, "the event waited too long in Lambda's queue: nothing is done");
            return Decision::Answer { outcome: late, failed_update: None };
        }
        // An Update's properties, recorded if it is answered FAILED (see [`ledger::failed_key`]).
        let failed_update = (req.request_type == RequestType::Update)
            .then(|| req.old_properties.as_ref().map(|old| ledger::update_digest(&req.properties, old)))
            .flatten();
        let give_up = Instant::now() + Duration::from_millis(marker.give_up_at_ms.saturating_sub(now));
        let probe = self.rollback_probe(&req);
        let outcome = match self.run(*req, work_deadline.min(give_up), probe, counts, marker.started_ms).await {
            (Outcome::Continue { progress, physical_resource_id }, Some(req)) => {
                let made = physical_resource_id.or_else(|| req.physical_resource_id.clone());
                match self.relay(&req, &marker, invocation, &progress, delivery_deadline).await {
                    Ok(()) => return Decision::Settled(Answered::Continued),
                    Err(reason) => Outcome::Failed { reason, physical_resource_id: made },
                }
            }
            (Outcome::Continue { progress, physical_resource_id }, None) => {
                Outcome::Failed { reason: format!("internal error: the request was lost: {progress}"), physical_resource_id }
            }
            (o, _) => o,
        };
        Decision::Answer { outcome, failed_update }
    }

    /// Claims the answer, records a failed Update, and PUTs the response; a response not delivered gives its
    /// claim back, so that a retry of the event can answer.
    async fn send(
        &self,
        echo: &Echo,
        ledger_key: &str,
        outcome: Outcome,
        failed_update: Option<String>,
        delivery_deadline: Instant,
    ) -> Result<Answered, response::DeliveryError> {
        // A copy of this event may have answered while this one worked; then its answer stands.
        let claimed = self.claim(ledger_key, outcome.status(), delivery_deadline).await;
        if claimed == Claim::Lost {
            return Ok(Answered::Duplicate);
        }
        if let (Some(digest), Outcome::Failed { .. }) = (failed_update, &outcome) {
            self.record_failed_update(echo, &digest, delivery_deadline).await;
        }
        let Some(url) = echo.response_url.clone() else {
            tracing::error!(status = outcome.status(), "event has no ResponseURL; nothing can be answered");
            return Ok(Answered::Unanswerable);
        };
        let body = response::body(echo, &outcome);
        let target = response::redact_url(&url);
        let reason = match &outcome {
            Outcome::Failed { reason, .. } => Some(reason.as_str()),
            Outcome::Success { .. } | Outcome::Continue { .. } => None,
        };
        let budget = delivery_deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
        match response::deliver(&self.http, &url, body, budget).await {
            Ok(attempts) => {
                tracing::info!(status = outcome.status(), reason, target = %target, attempts, "response delivered");
                Ok(Answered::Sent(outcome.status()))
            }
            Err(e) => {
                tracing::error!(status = outcome.status(), target = %target, error = %e, "response not delivered");
                if claimed == Claim::Won {
                    if let Some(l) = &self.ledger {
                        if let Err(e) = l.unclaim(ledger_key).await {
                            tracing::warn!(error = %e, "could not give the answer's claim back");
                        }
                    }
                }
                Err(e)
            }
        }
    }

    /// Whether the event was answered already (a failed look is logged and counts as no).
    async fn already_answered(&self, key: &str, when: &str) -> bool {
        let Some(ledger) = &self.ledger else { return false };
        match ledger.answered(key).await {
            Ok(Some(e)) => {
                tracing::warn!(status = %e.value, answered_at_ms = e.at_ms, when, "a copy of this event answered it already; this one does nothing more");
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "could not read whether the event was answered (the state table); going on");
                false
            }
        }
    }

    /// Claims the answer before it is sent, unless that would cut into the response's own time (the answer
    /// matters more than the record).
    async fn claim(&self, key: &str, status: &str, delivery_deadline: Instant) -> Claim {
        let Some(ledger) = &self.ledger else { return Claim::Unknown };
        let room = record_room(delivery_deadline.saturating_duration_since(Instant::now()));
        match tokio::time::timeout(room, ledger.claim(key, status, deadline::now_ms())).await {
            Ok(Ok(true)) => Claim::Won,
            Ok(Ok(false)) => {
                tracing::warn!("a copy of this event answered it while this one worked; its answer stands");
                Claim::Lost
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not record the answer (the state table); answering all the same");
                Claim::Unknown
            }
            Err(_) => {
                tracing::warn!("no time left to record the answer (the response comes first)");
                Claim::Unknown
            }
        }
    }

    async fn record_failed_update(&self, echo: &Echo, digest: &str, delivery_deadline: Instant) {
        let Some(ledger) = &self.ledger else { return };
        let key = ledger::failed_key(&echo.stack_id, &echo.logical_resource_id);
        let room = record_room(delivery_deadline.saturating_duration_since(Instant::now()));
        match tokio::time::timeout(room, ledger.record_failed_update(&key, digest, deadline::now_ms())).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not record the failed Update (so that its rollback knows)"),
            Err(_) => tracing::warn!("no time left to record the failed Update (the response comes first)"),
        }
    }

    /// For an Update: where its resource can look whether it rolls back a failed Update.
    fn rollback_probe(&self, req: &Request) -> Option<RollbackProbe> {
        // Only an Update has OldResourceProperties (and only an Update asks).
        let ledger = self.ledger.clone()?;
        Some(RollbackProbe {
            ledger,
            key: ledger::failed_key(&req.stack_id, &req.logical_resource_id),
            // A rollback swaps the failed Update's properties: its old ones are the failed new ones, and back.
            old_digest: ledger::update_digest(req.old_properties.as_ref()?, &req.properties),
        })
    }

    /// Hands the rest of the work to a new invocation, or says why not (the FAILED answer to send instead).
    async fn relay(
        &self,
        req: &Request,
        marker: &continuation::Marker,
        invocation: &Invocation,
        progress: &str,
        by: Instant,
    ) -> Result<(), String> {
        let failed = |reason: String| reason;
        // A round shorter than this would spend more on starting than on work.
        const MIN_ROUND_MS: u64 = 5_000;
        let next = match continuation::decide(marker, deadline::now_ms(), MIN_ROUND_MS, progress) {
            continuation::Next::Relay(next) => next,
            continuation::Next::GiveUp(why) => {
                tracing::error!(round = marker.round, progress, "the chain's time is up");
                return Err(failed(why));
            }
        };
        let Some(relay) = self.relay.as_ref().filter(|_| !invocation.function_arn.is_empty()) else {
            return Err(failed(format!("the work needs another invocation, but this function cannot invoke itself here: {progress}")));
        };
        let payload = req.continued(&next);
        tracing::info!(round = next.round, progress, bytes = payload.len(), "continuing in a new invocation");
        relay
            .send(&invocation.function_arn, payload, by)
            .await
            .map_err(|e| failed(format!("could not hand the rest of the work to a new invocation ({e}); {progress}")))
    }

    /// Runs the resource in its own task, so that a panic is caught by the runtime rather than unwinding
    /// through us, and under a timeout, so that a hung call cannot outlive the function. The request comes back
    /// with the outcome when the resource ended normally (a continuation needs it).
    async fn run(
        &self,
        req: Request,
        work_deadline: Instant,
        rollback_probe: Option<RollbackProbe>,
        counts: &metrics::Counts,
        started_ms: u64,
    ) -> (Outcome, Option<Request>) {
        let mut ctx = Ctx::new(req, work_deadline);
        ctx.counts = counts.clone();
        ctx.started_ms = started_ms;
        ctx.rollback_probe = rollback_probe;
        ctx.stacks = self.stacks.clone();
        let progress = ctx.progress.clone();
        let existing = ctx.request.physical_resource_id.clone();
        let resource = self.resource.clone();
        let task = async move {
            let outcome = match ctx.request.request_type {
                RequestType::Create => resource.create(&ctx).await,
                RequestType::Update => resource.update(&ctx).await,
                RequestType::Delete => resource.delete(&ctx).await,
            };
            (outcome, ctx.request)
        };
        let mut handle = tokio::spawn(task.in_current_span());
        let wait = work_deadline.saturating_duration_since(Instant::now());
        let failure = match tokio::time::timeout(wait, &mut handle).await {
            Ok(Ok((outcome, req))) => return (outcome, Some(req)),
            Ok(Err(join)) if join.is_panic() => {
                tracing::error!(panic = %panic_message(join.into_panic()), "resource handler panicked");
                "internal error: the handler panicked (details in the function's logs)".to_string()
            }
            Ok(Err(_)) => "internal error: the handler was cancelled".to_string(),
            Err(_) => {
                handle.abort();
                tracing::error!("deadline near: gave up waiting on the resource");
                "the function's deadline was near, so it stopped waiting and answered FAILED (the Lambda timeout may be too short, or the API is throttling heavily)".to_string()
            }
        };
        let recorded = progress.lock().ok().and_then(|g| g.clone());
        (Outcome::Failed { reason: failure, physical_resource_id: recorded.or(existing) }, None)
    }
}

/// What the protocol decided for one event before any answer.
enum Decision {
    /// Nothing is sent from here (see [`Answered`]).
    Settled(Answered),
    /// This outcome is answered; an Update's digest goes with it, recorded if it fails.
    Answer { outcome: Outcome, failed_update: Option<String> },
}

/// What became of one event in this invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answered {
    /// The response was delivered with this Status.
    Sent(&'static str),
    /// The work goes on in a new invocation, which answers.
    Continued,
    /// A copy of the event answered it (before this one worked, or while it did): nothing more is done.
    Duplicate,
    /// A continuation that came after its chain's give-up time: nothing is done.
    Expired,
    /// The event has no ResponseURL.
    Unanswerable,
}

impl Answered {
    /// As the invocation's own result lists it.
    fn label(self) -> &'static str {
        match self {
            Answered::Sent(status) => status,
            Answered::Continued => "CONTINUED",
            Answered::Duplicate => "ANSWERED",
            Answered::Expired => "EXPIRED",
            Answered::Unanswerable => "UNANSWERABLE",
        }
    }
}

/// Whether this invocation may send the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// Recorded as this invocation's.
    Won,
    /// A copy of the event claimed it first.
    Lost,
    /// No record could be written (no store, an error, no time): answer all the same.
    Unknown,
}

/// The answer to an event whose first invocation comes too late to start work (see [`clock`]): it waited in
/// Lambda's queue until CloudFormation has given up on it, or nearly. No call is made for it.
fn too_late(req: &Request, marker: &continuation::Marker, now_ms: u64) -> Option<Outcome> {
    if req.continuation.is_some() || now_ms + clock::min_first_run_ms(marker.started_ms, marker.give_up_at_ms) <= marker.give_up_at_ms {
        return None;
    }
    let waited = now_ms.saturating_sub(marker.started_ms) / 1000;
    let when = if now_ms >= marker.give_up_at_ms {
        "CloudFormation has given up on it by now".to_string()
    } else {
        format!("CloudFormation gives up on it in {} s, too soon to start", (marker.give_up_at_ms - now_ms) / 1000)
    };
    Some(Outcome::failed(format!(
        "this event waited {waited} s in Lambda's queue before the function could start on it and {when}; nothing was changed. The function's reserved concurrency may be too low for the stack's events; retry the stack operation"
    )))
}

/// What recording in the state table leaves the response's PUT (or half the time left, when less).
const PUT_ROOM: Duration = Duration::from_millis(1500);

/// How long a record may take when `left` remains before the response must be delivered: all but the response
/// PUT's room, and never more than half of what is left.
fn record_room(left: Duration) -> Duration {
    left.saturating_sub(PUT_ROOM.min(left / 2))
}

/// When the resource must be done, and when the response must be delivered: the delivery reserve comes after the
/// work, so that a resource that uses all of its time still leaves the PUT its retries.
fn deadlines(now: Instant, budget: &deadline::Budget) -> (Instant, Instant) {
    let work = now + budget.work;
    (work, work + budget.delivery)
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".into()
    }
}

#[cfg(test)]
mod tests;

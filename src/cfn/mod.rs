//! The CloudFormation custom-resource protocol, independent of what the resource manages.
//!
//! Its one promise: every event that carries a ResponseURL gets exactly one response, before the function's
//! own deadline, whatever the resource does (fails, hangs, panics). A resource only implements
//! [`CustomResource`]; intake, coercion, deadlines, panic guards and the response PUT live here.

pub mod coerce;
pub mod deadline;
pub mod event;
pub mod response;

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
    pub deadline: Instant,
    progress: Arc<Mutex<Option<String>>>,
}

impl Ctx {
    pub fn new(request: Request, deadline: Instant) -> Ctx {
        Ctx { request, deadline, progress: Arc::new(Mutex::new(None)) }
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
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Returned to Lambda so that it retries the invocation (the retry is safe: resources are idempotent).
    #[error("{failed} response(s) could not be delivered: {last}")]
    Undelivered { failed: usize, last: String },
}

impl<R: CustomResource> Protocol<R> {
    pub fn new(resource: R, http: reqwest::Client, budget: deadline::Policy) -> Protocol<R> {
        Protocol { resource: Arc::new(resource), http, budget }
    }

    /// Handles one invocation. `deadline_ms` is the Lambda deadline (epoch milliseconds).
    pub async fn handle(&self, raw: Value, deadline_ms: u64) -> Result<Value, HandlerError> {
        let budget = self.budget.plan(deadline_ms, deadline::now_ms());
        if let Some(note) = &budget.note {
            tracing::warn!(deadline_ms, note = %note, "implausible invocation deadline; using the fallback budget");
        }
        let (work_deadline, delivery_deadline) = deadlines(Instant::now(), &budget);
        let mut statuses = Vec::new();
        let mut failed = 0;
        let mut last_error = String::new();
        for item in event::intake(&raw) {
            let echo = item.echo();
            let span = tracing::info_span!(
                "request",
                request_id = %event::truncate(&echo.request_id, 80),
                logical_id = %event::truncate(&echo.logical_resource_id, 80),
                request_type = %event::truncate(&echo.request_type, 20),
            );
            let result = self.answer(item, echo, work_deadline, delivery_deadline).instrument(span).await;
            match result {
                Ok(status) => statuses.push(status),
                Err(e) => {
                    failed += 1;
                    last_error = e;
                }
            }
        }
        if failed > 0 {
            return Err(HandlerError::Undelivered { failed, last: last_error });
        }
        Ok(json!({ "responses": statuses }))
    }

    async fn answer(&self, item: Intake, echo: Echo, work_deadline: Instant, delivery_deadline: Instant) -> Result<String, String> {
        let outcome = match item {
            Intake::Malformed { reason, .. } => {
                tracing::error!(reason = %reason, "malformed event");
                Outcome::failed(format!("malformed custom resource event: {reason}"))
            }
            Intake::Request(req) => self.run(*req, work_deadline).await,
        };
        let Some(url) = echo.response_url.clone() else {
            tracing::error!(status = outcome.status(), "event has no ResponseURL; nothing can be answered");
            return Ok("UNANSWERABLE".into());
        };
        let body = response::body(&echo, &outcome);
        let target = response::redact_url(&url);
        let reason = match &outcome {
            Outcome::Failed { reason, .. } => Some(reason.as_str()),
            Outcome::Success { .. } => None,
        };
        let budget = delivery_deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
        match response::deliver(&self.http, &url, body, budget).await {
            Ok(attempts) => {
                tracing::info!(status = outcome.status(), reason, target = %target, attempts, "response delivered");
                Ok(outcome.status().to_string())
            }
            Err(e) => {
                tracing::error!(status = outcome.status(), target = %target, error = %e, "response not delivered");
                Err(e.to_string())
            }
        }
    }

    /// Runs the resource in its own task, so that a panic is caught by the runtime rather than unwinding
    /// through us, and under a timeout, so that a hung call cannot outlive the function.
    async fn run(&self, req: Request, work_deadline: Instant) -> Outcome {
        let ctx = Ctx::new(req, work_deadline);
        let progress = ctx.progress.clone();
        let existing = ctx.request.physical_resource_id.clone();
        let resource = self.resource.clone();
        let task = async move {
            match ctx.request.request_type {
                RequestType::Create => resource.create(&ctx).await,
                RequestType::Update => resource.update(&ctx).await,
                RequestType::Delete => resource.delete(&ctx).await,
            }
        };
        let mut handle = tokio::spawn(task.in_current_span());
        let wait = work_deadline.saturating_duration_since(Instant::now());
        let failure = match tokio::time::timeout(wait, &mut handle).await {
            Ok(Ok(outcome)) => return outcome,
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
        Outcome::Failed { reason: failure, physical_resource_id: recorded.or(existing) }
    }
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

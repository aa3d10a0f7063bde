//! `Custom::ConnectUserSet`: a whole roster of users in one resource, reconciled at the pace Connect allows.
//!
//! - `props`: the set's properties (each entry parsed by the single user's parser, `Defaults` merged under it);
//! - `plan`: the pure set plan (ownership, which users to create, update, delete, release; per user the single
//!   resource's planner);
//! - `run`: carrying the plan out with the single resource's calls, paced per operation, and what it came to;
//! - `source`, `csv`, `s3`: entries kept in an S3 file (Connect's bulk-upload CSV, JSON, JSON lines);
//! - `inputs`: what the set reads before it plans (entries at a version, the names a CSV uses, passwords);
//! - `held`: the users the set holds, recorded in the state table; `report`: the run report;
//! - `preview`: the plan without its run (`connect-users plan`).
//!
//! Every invocation re-reads whom the set holds (its records in the state table, `held`, and SearchUsers by the
//! holder tag for their settings), so nothing but the protocol's continuation marker is carried between
//! invocations, and a repeated invocation finds less (or nothing) to do. Work that does not fit one invocation
//! ends in [`Outcome::Continue`]; the protocol core hands it on.

pub mod csv;
pub mod held;
mod inputs;
pub mod plan;
pub mod preview;
pub mod props;
pub mod report;
pub mod run;
pub mod s3;
pub mod source;

use crate::cfn::{Ctx, CustomResource, Outcome, RequestType};
use crate::connect::ownership;
use crate::connect::pace::{Pacer, Quota};
use crate::connect::{ApiError, Connect, Named, Secrets};
use crate::user::model::TakeOver;
use crate::user::properties::{self, PasswordSource, Settings};
use crate::user::{reason, TakeOverError};
use props::{OldEntry, SetProps};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Data keeps `UserIds` only while the whole response stays well inside CloudFormation's 4096 bytes.
const MAX_USER_IDS_BYTES: usize = 2500;

/// One invocation's Connect client, every call paced, and its pacer (which counts the throttled retries).
struct Paced {
    connect: Connect,
    pacer: Arc<Pacer>,
}

pub struct ConnectUserSet {
    connect: Connect,
    secrets: Secrets,
    files: s3::Files,
    /// Where the set records the users it holds (see [`held`]); without it, only Connect's search says.
    store: Option<crate::store::Store>,
    /// Where a take-over keeps the agent's state (see [`crate::user::before`]).
    before: Option<crate::user::before::Before>,
}

/// How the set's records say it holds its users.
#[derive(Default)]
struct Holds {
    /// Created or taken over, by user id.
    how: HashMap<String, held::Hold>,
    /// Users taken out of the roster by an Update, waiting for the cleanup Delete.
    leaving: std::collections::HashSet<String>,
}

/// A set's plan with what it was made from, checked: all that comes before the first write.
struct Prepared {
    set_plan: plan::SetPlan,
    /// Name to id of the wanted users held already.
    held_ids: BTreeMap<String, String>,
    held_count: usize,
    holds: Holds,
    passwords: HashMap<String, String>,
    checked: HashMap<usize, crate::user::model::TakeOver>,
}

/// Why the wanted set could not be made ready.
enum Stop {
    Failed(String),
    /// A read did not fit this invocation: continue.
    Deferred(String),
}

fn stop_of(what: &str, e: &ApiError) -> Stop {
    if e.is_deferred() {
        Stop::Deferred(format!("{what} did not fit this invocation"))
    } else {
        Stop::Failed(format!("{what} failed: {}; nothing was changed", reason(e)))
    }
}

/// `<instance-id>:set:<holder>`: stable for the resource, distinct from a user's id. The holder (see
/// [`ownership::holder_value`]) is part of it, so that every later event of the set knows whom it acts as.
pub fn physical_id(instance_id: &str, holder: &str) -> String {
    format!("{instance_id}:set:{holder}")
}

/// The instance and holder of a set's physical id (whatever roster digest follows them, see [`roster_id`]).
pub fn parse_physical_id(id: &str) -> Option<(&str, &str)> {
    let (i, rest) = id.split_once(":set:")?;
    let h = rest.split_once('#').map_or(rest, |(h, _)| h);
    Some((i, h)).filter(|(i, h)| !i.is_empty() && !h.is_empty())
}

/// `<base>#<digest of the roster's names>`: the id a set answers when it keeps its records in the state table.
/// It changes exactly when the roster's names change, so that CloudFormation sends a Delete for the id it
/// replaced only after the whole stack update succeeded (its cleanup), or for the new id after a rollback; the
/// users an Update takes out wait for that Delete. A function of the names alone, so that every invocation of
/// one Update answers the same id, and a rollback to the old roster answers the old id again.
pub fn roster_id<'a>(base: &str, names: impl Iterator<Item = &'a str>) -> String {
    let mut sum: u64 = 0;
    for n in names {
        // A sum, so that the order of the entries does not matter.
        sum = sum.wrapping_add(crate::digest::fnv1a(n.to_lowercase().bytes()));
    }
    format!("{base}#{sum:016x}")
}

/// The holder a set acts as in `instance_id`: the one its physical id names when that is this resource's and the
/// instance is the same. A set created by this version names the stack's identity there; one created by an
/// earlier version keeps the holder it tagged its users with (`<stack name>/<logical id>`), so that its
/// Updates and Delete still find them. Anything else (a Create, a new instance, a placeholder) is the stack's own.
pub fn set_holder(r: &crate::cfn::Request, instance_id: &str) -> String {
    let own = ownership::holder_value(&r.stack_id, &r.logical_resource_id);
    let legacy = ownership::legacy_holder_value(&r.stack_id, &r.logical_resource_id);
    match r.physical_resource_id.as_deref().and_then(parse_physical_id) {
        Some((i, h)) if i == instance_id && h == legacy && h != own => legacy,
        _ => own,
    }
}

/// The request rate and burst of properties that may not be valid (a Delete's): the defaults where unreadable.
fn pace_of(props: &Map<String, Value>) -> Quota {
    let get = |k: &str| props.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).and_then(|(_, v)| crate::cfn::coerce::number(v).ok());
    let rate = get("RequestsPerSecond").filter(|x| props::RATE.contains(*x)).unwrap_or(props::RATE.default);
    let burst = get("Burst").filter(|x| props::BURST.contains(*x)).map(|x| x as u32).unwrap_or(props::BURST.default);
    Quota { rate, burst }
}

/// The most a run report's writing may take (the answer waits for it).
const REPORT_TIME: Duration = Duration::from_secs(5);

/// What the set's answer says: only the resulting state, so that any invocation that answers the same request
/// answers the same.
fn data(total: usize, ids: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut d = BTreeMap::from([("Total".to_string(), total.to_string())]);
    let json = serde_json::to_string(ids).unwrap_or_default();
    // A larger roster's ids are not collected (they could never fit).
    if total <= plan::MAX_ID_ENTRIES && json.len() <= MAX_USER_IDS_BYTES {
        d.insert("UserIds".into(), json);
    }
    d
}

impl ConnectUserSet {
    pub fn new(connect: Connect, secrets: Secrets, files: s3::Files) -> ConnectUserSet {
        ConnectUserSet { connect, secrets, files, store: None, before: None }
    }

    pub fn with_store(mut self, store: Option<crate::store::Store>) -> ConnectUserSet {
        self.before = store.clone().map(crate::user::before::Before::new);
        self.store = store;
        self
    }

    /// Runs `work`, then counts the throttled answers its paced client retried into the event's metrics (see
    /// [`crate::cfn::metrics`]).
    async fn measured<F: std::future::Future<Output = Outcome>>(ctx: &Ctx, pacer: Arc<Pacer>, work: F) -> Outcome {
        let outcome = work.await;
        ctx.count("ThrottledRetries", pacer.throttled_count());
        outcome
    }

    /// Writes the invocation's run report when the set has a `Report` (see [`report`]), and points the answer
    /// at it. A report that cannot be written is logged and does not change the answer: the users are as the
    /// answer says, whatever became of their report.
    async fn reported(&self, ctx: &Ctx, collected: report::Collected, outcome: Outcome) -> Outcome {
        let Ok(Some(target)) = props::report_target(&ctx.request.properties) else { return outcome };
        let r = &ctx.request;
        let event = report::Event {
            stack_id: &r.stack_id,
            logical_id: &r.logical_resource_id,
            request_id: &r.request_id,
            request_type: r.request_type.as_str(),
            started_ms: ctx.started_ms,
            round: ctx.round,
        };
        let folder = target.folder(&event);
        let answered = !matches!(outcome, Outcome::Continue { .. });
        let parts: Vec<String> = if answered { (0..ctx.round).map(|k| report::document_name(k, false)).collect() } else { Vec::new() };
        let (status, reason) = match &outcome {
            Outcome::Success { .. } => ("SUCCESS", None),
            Outcome::Failed { reason, .. } => ("FAILED", Some(reason.as_str())),
            Outcome::Continue { progress, .. } => ("CONTINUED", Some(progress.as_str())),
        };
        let doc = report::document(&event, status, reason, &collected.counts, &collected.users, &parts);
        // Never long, and at most half the time left: a report never turns a finished answer into the
        // deadline's FAILED (a call past its time is cut off, not waited for).
        let budget = REPORT_TIME.min(ctx.deadline.saturating_duration_since(Instant::now()) / 2);
        let by = Instant::now() + budget;
        let put = |key: String, body: Vec<u8>, content_type: &'static str| {
            let bucket = target.bucket.clone();
            async move {
                match tokio::time::timeout(
                    by.saturating_duration_since(Instant::now()),
                    self.files.put(&bucket, &key, body, content_type, by),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(format!("writing s3://{bucket}/{key} did not finish in the time the answer leaves it")),
                }
            }
        };
        let mut written = Vec::new();
        let key = format!("{folder}{}", report::document_name(ctx.round, answered));
        let body = doc.into_bytes();
        match put(key.clone(), body, "application/json").await {
            Ok(()) => written.push(key),
            Err(why) => tracing::error!(why = %why, "the run report could not be written"),
        }
        if !collected.failed_rows.is_empty() {
            let key = format!("{folder}{}", report::FAILED_CSV);
            let body = std::iter::once(report::failed_header()).chain(collected.failed_rows).collect::<String>().into_bytes();
            match put(key.clone(), body, "text/csv").await {
                Ok(()) => written.push(key),
                Err(why) => tracing::error!(why = %why, "the failed rows could not be written"),
            }
        }
        let uri = target.uri(&folder);
        tracing::info!(report = %uri, objects = written.len(), "run report");
        match outcome {
            Outcome::Success { physical_resource_id, mut data } => {
                data.insert(report::DATA_KEY.into(), uri);
                Outcome::Success { physical_resource_id, data }
            }
            Outcome::Failed { reason, physical_resource_id } => {
                Outcome::Failed { reason: format!("{reason} (run report: {uri})"), physical_resource_id }
            }
            c => c,
        }
    }

    /// The Connect client of one invocation, every call paced under the set's rate.
    fn paced(&self, ctx: &Ctx, quota: Quota) -> Paced {
        let pacer = Arc::new(Pacer::under(quota, ctx.round == 0));
        Paced { connect: self.connect.paced(pacer.clone(), Some(ctx.continue_by)), pacer }
    }

    /// Reads every user the search shows the set holding in `instance_id` (all pages) into the plan, page by
    /// page; returns each one's id, name and whether its tags say the set created it. With `ids_only` (a
    /// Delete, which compares no settings) the settings are dropped at once.
    async fn searched(
        &self,
        connect: &Connect,
        instance_id: &str,
        holder: &str,
        ids_only: bool,
        planner: &mut plan::Planner<'_>,
        deadline: Instant,
    ) -> Result<HashMap<String, (String, bool)>, crate::connect::ApiError> {
        let mut seen = HashMap::new();
        let mut token = None;
        loop {
            let page = connect.search_tagged(instance_id, ownership::HOLDER_TAG, holder, token, deadline).await?;
            for mut u in page.users.into_iter().filter(|u| u.marker_tags.get(ownership::HOLDER_TAG).map(String::as_str) == Some(holder)) {
                if ids_only {
                    u.settings = Settings::empty();
                }
                seen.insert(u.user_id.clone(), (u.username.clone(), plan::created_by_set(&u)));
                planner.held(u);
            }
            match page.next {
                Some(t) => token = Some(t),
                None => return Ok(seen),
            }
        }
    }

    /// The users the set's records hold that the search did not show (it may be behind), planned as the search
    /// would have shown them: one recorded as brought to its wanted entry has nothing to do; one no longer wanted
    /// (or any, for a Delete) is planned from its record alone, since a delete or release reads the user itself
    /// first anyway; any other is read (DescribeUser). Records of users gone, or held by another resource by
    /// now, are dropped. Users the search showed without a record are recorded. Returns how each recorded user
    /// is held.
    #[allow(clippy::too_many_arguments)]
    async fn recorded(
        &self,
        held: &held::Held,
        connect: &Connect,
        instance_id: &str,
        holder: &str,
        ids_only: bool,
        seen: &HashMap<String, (String, bool)>,
        planner: &mut plan::Planner<'_>,
        deadline: Instant,
    ) -> Result<Holds, Stop> {
        let records =
            held.all().await.map_err(|e| Stop::Failed(format!("reading the users the set holds failed: {e}; nothing was changed")))?;
        let mut holds = Holds::default();
        for r in &records {
            if let Some(h) = r.hold {
                holds.how.insert(r.user_id.clone(), h);
            }
            if r.leaving {
                if planner.wanted(&r.name).is_some() {
                    // Taken out by an Update that did not commit (or wanted again): it stays, as it was.
                    tracing::info!(user_id = %r.user_id, "a user taken out of the roster is wanted again");
                    held.mark(r, false).await.map_err(|e| Stop::Failed(format!("recording a user the set holds failed: {e}")))?;
                } else {
                    holds.leaving.insert(r.user_id.clone());
                }
            }
            if seen.contains_key(&r.user_id) || planner.held_as_recorded(&r.name, &r.user_id, r.given) {
                continue;
            }
            if ids_only || planner.wanted(&r.name).is_none() {
                planner.held(held::as_recorded(r, holder));
                continue;
            }
            match connect.describe_user(instance_id, &r.user_id, Duration::ZERO, deadline).await {
                Ok(Some(mut u)) if u.marker_tags.get(ownership::HOLDER_TAG).map(String::as_str) == Some(holder) => {
                    tracing::info!(user_id = %r.user_id, "a user the set holds is not in the search's index yet: read itself");
                    if ids_only {
                        u.settings = Settings::empty();
                    }
                    planner.held(u);
                }
                Ok(found) => {
                    tracing::info!(user_id = %r.user_id, gone = found.is_none(), "a recorded user is gone or held by another resource now: its record is dropped");
                    holds.how.remove(&r.user_id);
                    if let Err(e) = held.forget(&r.user_id).await {
                        tracing::warn!(error = %e, "could not drop a record of the set");
                    }
                }
                Err(e) => return Err(stop_of("reading a user the set holds", &e)),
            }
        }
        let unrecorded: Vec<(&String, &(String, bool))> = seen.iter().filter(|(id, _)| !holds.how.contains_key(*id)).collect();
        for (id, (name, created)) in unrecorded {
            let hold = if *created { held::Hold::Created } else { held::Hold::TakenOver };
            match held.record(id, name, hold, None).await {
                Ok(()) => {
                    holds.how.insert(id.clone(), hold);
                }
                Err(e) => tracing::warn!(error = %e, "could not record a user the set holds"),
            }
        }
        Ok(holds)
    }

    /// The cleanup Delete of a replaced id: the users recorded as leaving, planned from their records alone.
    async fn leaving(&self, held: &held::Held, holder: &str, planner: &mut plan::Planner<'_>) -> Result<Holds, String> {
        let records = held.all().await.map_err(|e| format!("reading the users the set holds failed: {e}; nothing was changed"))?;
        let mut holds = Holds::default();
        for r in records.iter().filter(|r| r.leaving) {
            if let Some(h) = r.hold {
                holds.how.insert(r.user_id.clone(), h);
            }
            holds.leaving.insert(r.user_id.clone());
            planner.held(held::as_recorded(r, holder));
        }
        tracing::info!(
            action = "cleanup",
            leaving = holds.leaving.len(),
            "the Delete of a replaced id: only the users taken out of the roster"
        );
        Ok(holds)
    }

    /// The physical id a Create or Update answers (see [`roster_id`]): the roster's, or, for CloudFormation's
    /// rollback to the properties an id replaced, that id again (an id from before 0.3 has no roster digest).
    /// A rollback of a failed Update keeps the id CloudFormation holds (the failed Update answered no other).
    async fn answer_id(&self, ctx: &Ctx, held: &held::Held, base: &str, set: &SetProps) -> Result<String, crate::store::StoreError> {
        let r = &ctx.request;
        let own = roster_id(base, set.entries.iter().map(|e| e.props.name.as_str()));
        let Some(incoming) = r.physical_resource_id.as_deref().filter(|_| r.request_type == RequestType::Update) else {
            return Ok(own);
        };
        if incoming == own || parse_physical_id(incoming).map(|(i, h)| physical_id(i, h)).as_deref() != Some(base) {
            return Ok(own);
        }
        if let Some((prior, digest)) = held.prior(incoming).await? {
            if digest == crate::cfn::ledger::props_digest(&r.properties) {
                return Ok(prior);
            }
        }
        if ctx.rolls_back_failed_update().await {
            return Ok(incoming.to_string());
        }
        Ok(own)
    }

    /// Everything before the first write: the users the set holds (search and records), the plan, and every
    /// check that may refuse it (names taken, the deletion guard, passwords unless `with_passwords` is off,
    /// imports). Also what `connect-users plan` runs, so that it says what the function will do.
    #[allow(clippy::too_many_arguments)]
    async fn prepare(
        &self,
        ctx: &Ctx,
        connect: &Connect,
        wanted: Option<&SetProps>,
        previous: &HashMap<String, OldEntry>,
        instance_id: &str,
        (holder, marker): (&str, &str),
        (records, cleanup): (Option<&held::Held>, bool),
        (keep_ids, with_passwords): (bool, bool),
    ) -> Result<Prepared, Stop> {
        let r = &ctx.request;
        let mut planner = plan::Planner::new(wanted, previous, marker);
        if keep_ids {
            planner = planner.keeping_ids();
        }
        let (seen, holds) = match (&records, cleanup) {
            (Some(h), true) => {
                // The cleanup of a replaced id: only the users the Update that replaced it took out, from their
                // records (a delete or release reads each user first).
                match self.leaving(h, holder, &mut planner).await {
                    Ok(holds) => (HashMap::new(), holds),
                    Err(why) => return Err(Stop::Failed(why)),
                }
            }
            _ => {
                let seen = match self.searched(connect, instance_id, holder, wanted.is_none(), &mut planner, ctx.deadline).await {
                    Ok(seen) => seen,
                    Err(e) if e.is_deferred() => {
                        return Err(Stop::Deferred("reading the users the set holds did not fit this invocation".into()))
                    }
                    Err(e) => {
                        return Err(Stop::Failed(format!("reading the users the set holds failed: {}; nothing was changed", reason(&e))))
                    }
                };
                let holds = match &records {
                    Some(h) => {
                        match self.recorded(h, connect, instance_id, holder, wanted.is_none(), &seen, &mut planner, ctx.deadline).await {
                            Ok(holds) => holds,
                            Err(Stop::Failed(why)) => return Err(Stop::Failed(why)),
                            Err(Stop::Deferred(_)) => {
                                return Err(Stop::Deferred("reading the users the set holds did not fit this invocation".into()))
                            }
                        }
                    }
                    None => Holds::default(),
                };
                (seen, holds)
            }
        };
        let held_count = seen.len().max(holds.how.len());
        let taken = if planner.needs_names() {
            match connect.list_users(instance_id, ctx.deadline).await {
                Ok(all) => Some(all.into_iter().map(|(id, name)| (name.to_lowercase(), id)).collect::<HashMap<_, _>>()),
                Err(e) if e.is_deferred() => {
                    return Err(Stop::Deferred("reading the instance's user names did not fit this invocation".into()))
                }
                Err(e) => return Err(Stop::Failed(format!("{}; nothing was changed", reason(&e)))),
            }
        } else {
            None
        };
        let (set_plan, held_ids) = match planner.finish(taken.as_ref()) {
            Ok(p) => p,
            Err(why) => {
                tracing::warn!(action = "reject", "set refused");
                return Err(Stop::Failed(format!("{why}; nothing was changed")));
            }
        };
        if let (Some(set), RequestType::Update) = (wanted, r.request_type) {
            // Users an earlier Update took out already (waiting for a cleanup that did not come) were allowed then.
            let out = set_plan
                .work
                .iter()
                .filter(|w| match w {
                    plan::Work::Delete { user } | plan::Work::Release { user } => !holds.leaving.contains(&user.user_id),
                    _ => false,
                })
                .count();
            if let Some(why) = deletion_guard(set, out, held_count) {
                // CloudFormation's rollback takes out what the Update it undoes added: never refused. (The same
                // change undone by hand is an Update like any other, and the guard applies.)
                let rolling_back =
                    ctx.rolls_back_failed_update().await || ctx.stack_phase().await == Some(crate::cfn::stack::Phase::RollingBack);
                if !rolling_back {
                    tracing::warn!(action = "reject", taken_out = out, held = held_count, "mass deletion refused");
                    return Err(Stop::Failed(format!("{why}; nothing was changed")));
                }
                tracing::info!(taken_out = out, "CloudFormation is rolling back: MaxDeletions does not apply");
            }
        }
        let creating: Vec<usize> =
            set_plan.work.iter().filter_map(|w| if let plan::Work::Create { entry } = w { Some(*entry) } else { None }).collect();
        let passwords = match wanted {
            Some(set) if with_passwords && !creating.is_empty() => {
                match self.passwords((connect, instance_id), set, &creating, ctx).await {
                    Ok(p) => p,
                    Err(why) => return Err(Stop::Failed(format!("{why}; nothing was changed"))),
                }
            }
            _ => HashMap::new(),
        };
        let imports: Vec<usize> =
            set_plan.work.iter().filter_map(|w| if let plan::Work::Import { entry } = w { Some(*entry) } else { None }).collect();
        let checked = match wanted {
            Some(set) if !imports.is_empty() => match check_imports(ctx, connect, set, &imports, holder).await {
                Ok(c) => c,
                Err(Stop::Failed(why)) => return Err(Stop::Failed(format!("{why}; nothing was changed"))),
                Err(deferred) => return Err(deferred),
            },
            _ => HashMap::new(),
        };
        Ok(Prepared { set_plan, held_ids, held_count, holds, passwords, checked })
    }

    /// Brings the set's users in `instance_id` to `wanted` (`None`: no users at all, a Delete).
    async fn reconcile(
        &self,
        ctx: &Ctx,
        Paced { connect, pacer }: Paced,
        wanted: Option<&SetProps>,
        previous: &HashMap<String, OldEntry>,
        instance_id: &str,
        collected: &mut report::Collected,
    ) -> Outcome {
        let r = &ctx.request;
        let holder = set_holder(r, instance_id);
        let marker = ownership::marker_value(&r.stack_id, &r.logical_resource_id, &r.request_id);
        let base = physical_id(instance_id, &holder);
        let started = Instant::now();
        let records = self.store.as_ref().map(|s| held::Held::new(s.clone(), &base));
        // A failed or unfinished Update keeps the id CloudFormation holds; a failed Create reports the set.
        let kept_id = match r.request_type {
            RequestType::Create => base.clone(),
            _ => r.physical_resource_id.clone().unwrap_or_else(|| base.clone()),
        };
        let failed = |reason: String| Outcome::Failed { reason, physical_resource_id: Some(kept_id.clone()) };
        let cont = |progress: String| Outcome::Continue { progress, physical_resource_id: Some(kept_id.clone()) };
        let id = match (&records, wanted) {
            (Some(h), Some(set)) => match self.answer_id(ctx, h, &base, set).await {
                Ok(a) => a,
                Err(e) => return failed(format!("reading the set's state failed: {e}; nothing was changed")),
            },
            // A Delete answers the id it was sent; without a state table a set keeps one id, as before 0.3.
            (_, None) => kept_id.clone(),
            (None, Some(_)) => base.clone(),
        };
        // Users taken out of the roster wait for the Delete of the id this Update replaces (see `roster_id`).
        let keep_leaving = r.request_type == RequestType::Update && records.is_some() && Some(&id) != r.physical_resource_id.as_ref();
        let cleanup = match (&records, wanted) {
            (Some(h), None) => match h.live().await {
                Ok(live) => live.is_some_and(|l| Some(&l) != r.physical_resource_id.as_ref()),
                Err(e) => return failed(format!("reading the set's state failed: {e}; nothing was changed")),
            },
            _ => false,
        };

        let prepared = self
            .prepare(ctx, &connect, wanted, previous, instance_id, (&holder, &marker), (records.as_ref(), cleanup), (collected.on, true))
            .await;
        let Prepared { set_plan, held_ids, held_count, holds, passwords, checked } = match prepared {
            Ok(p) => p,
            Err(Stop::Failed(why)) => return failed(why),
            Err(Stop::Deferred(progress)) => return cont(progress),
        };
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for w in &set_plan.work {
            *counts.entry(w.kind()).or_default() += 1;
        }
        tracing::info!(round = ctx.round, held = held_count, unchanged = set_plan.unchanged, planned = ?counts, "set plan");

        let exec = run::Exec {
            connect: &connect,
            set: wanted,
            previous,
            instance_id,
            holder: &holder,
            marker: &marker,
            passwords: &passwords,
            checked: &checked,
            held: records.as_ref(),
            holds: &holds.how,
            leaving: &holds.leaving,
            keep_leaving,
            before: self.before.as_ref(),
            ctx,
            phase: tokio::sync::OnceCell::new(),
            keep_reports: collected.on || wanted.is_some_and(|w| w.entries.len() <= plan::MAX_ID_ENTRIES),
            deadline: ctx.deadline,
            continue_by: ctx.continue_by,
        };
        let ran = run::run_logging_progress(set_plan.work, &exec, &pacer, started).await;
        if collected.on {
            collected.record(&ran, set_plan.unchanged, (ran.deferred == 0 && ran.failures.is_empty()).then_some(&held_ids), wanted);
        }
        ran.log_round(ctx.round, set_plan.unchanged, pacer.throttled_count(), started);
        let so_far = format!(
            "{} of {} users done in this invocation ({} before it matched), {} left",
            ran.done,
            ran.done + ran.deferred + ran.failures.len(),
            set_plan.unchanged,
            ran.deferred
        );
        if !ran.failures.is_empty() {
            return failed(format!("{}; {so_far}. CloudFormation's rollback brings the set back", ran.failures_shown()));
        }
        if ran.deferred > 0 {
            // Also the reason if the chain runs out of time: then the set's own advice follows.
            return cont(format!("{so_far} (the request rate sets the pace: RequestsPerSecond, after raising the account's quotas)"));
        }
        let Some(set) = wanted else {
            if let (Some(h), false) = (&records, cleanup) {
                // The set is gone: a later Create under the same stack and logical id starts afresh.
                if let Err(e) = h.forget_live().await {
                    tracing::warn!(error = %e, "could not drop the set's record of its physical id");
                }
            }
            return Outcome::Success { physical_resource_id: id, data: Default::default() };
        };
        if let Some(h) = &records {
            // Recorded before the answer: the Delete of the id this one replaces must find it, or it would take
            // itself for the set's own Delete.
            let incoming = r.physical_resource_id.as_deref().filter(|i| r.request_type == RequestType::Update && **i != id);
            let recorded = async {
                if let (Some(incoming), Some(old)) = (incoming, r.old_properties.as_ref()) {
                    h.set_prior(&id, incoming, &crate::cfn::ledger::props_digest(old)).await?;
                }
                h.set_live(&id).await
            };
            if let Err(e) = recorded.await {
                return failed(format!("recording the set's physical id failed: {e}; the users taken out of the roster are kept"));
            }
        }
        let ids = ran.resulting_ids(held_ids, set);
        Outcome::Success { physical_resource_id: id, data: data(set.entries.len(), &ids) }
    }

    /// The answer for a set that could not be made ready: FAILED, or continue when a read did not fit.
    fn stopped(ctx: &Ctx, stop: Stop, id: Option<String>) -> Outcome {
        match stop {
            Stop::Failed(reason) => {
                Outcome::Failed { reason, physical_resource_id: id.or_else(|| ctx.request.physical_resource_id.clone()) }
            }
            Stop::Deferred(progress) => Outcome::Continue { progress, physical_resource_id: id },
        }
    }
}

/// Every take-over of the plan checked before the first write (paced reads, several at once), so that one
/// wrong `ImportId` among many changes refuses the whole Update before anything is changed; every refusal is
/// reported. Reads that do not fit this invocation make it continue (nothing has been written yet).
async fn check_imports(
    ctx: &Ctx,
    connect: &Connect,
    set: &SetProps,
    imports: &[usize],
    holder: &str,
) -> Result<HashMap<usize, TakeOver>, Stop> {
    use futures::StreamExt;
    let checks: Vec<(usize, Result<TakeOver, TakeOverError>)> = futures::stream::iter(imports.iter().copied())
        .map(move |i| async move {
            let checked = match set.entries.get(i).and_then(|e| e.props.import.as_ref().map(|t| (e, t))) {
                Some((e, target)) => crate::user::check_take_over(connect, &e.props, target, holder, Some(ctx), ctx.deadline).await,
                None => Err(TakeOverError::Refused("internal error: no ImportId".into())),
            };
            (i, checked)
        })
        .buffer_unordered(run::PER_KIND)
        .collect()
        .await;
    let (mut ok, mut refused, mut deferred) = (HashMap::new(), Vec::new(), false);
    for (i, r) in checks {
        match r {
            Ok(t) => {
                ok.insert(i, t);
            }
            Err(TakeOverError::Deferred) => deferred = true,
            Err(TakeOverError::Refused(why)) => refused.push((i, why)),
        }
    }
    if !refused.is_empty() {
        refused.sort_by_key(|(i, _)| *i);
        let shown: Vec<String> =
            refused.iter().map(|(i, why)| format!("{}: {why}", set.entries.get(*i).map(|e| e.what()).unwrap_or_default())).collect();
        for p in &shown {
            tracing::warn!(problem = %p, "take-over refused");
        }
        return Err(Stop::Failed(source::capped(&shown, source::PROBLEMS_BUDGET)));
    }
    if deferred {
        return Err(Stop::Deferred("checking the entries that take users over did not fit this invocation".into()));
    }
    Ok(ok)
}

/// Why an Update that takes `out` of the `held` users out of the roster (deleted, or released when imported) is
/// refused, if it is: more than `MaxDeletions` allows (by default a tenth of the set, at least 10), or a roster
/// of no entry at all while the set holds users, unless `MaxDeletions` is given. A truncated file (the console's
/// export stops at 1,000 rows; a spreadsheet's filter left on) would otherwise deploy as "delete everyone else".
pub fn deletion_guard(set: &SetProps, out: usize, held: usize) -> Option<String> {
    if set.entries.is_empty() && held > 0 && set.max_deletions.is_none() {
        return Some(format!(
            "MaxDeletions: the roster has no entry, so this Update would take all {held} users of the set out (deleted, or released if imported); if that is what you want, set MaxDeletions to {held} (or -1 for no limit), or delete the set"
        ));
    }
    let limit = props::max_deletions(set.max_deletions, held)?;
    (out as u64 > limit).then(|| {
        let how = if set.max_deletions.is_some() { "MaxDeletions" } else { "the default MaxDeletions, a tenth of the set and at least 10," };
        format!(
            "MaxDeletions: this Update would take {out} of the set's {held} users out of the roster (deleted, or released if imported), more than {how} allows ({limit}); check the roster (a truncated file?), and if it is right, set MaxDeletions to {out} or more (or -1 for no limit)"
        )
    })
}

/// The three requests, each with its invocation's paced client.
impl ConnectUserSet {
    async fn create_set(&self, ctx: &Ctx, paced: Paced, collected: &mut report::Collected) -> Outcome {
        let r = &ctx.request;
        let holder = ownership::holder_value(&r.stack_id, &r.logical_resource_id);
        // Recorded as soon as the instance is known: whatever happens from here, a failed Create reports the set,
        // so that the Delete of CloudFormation's rollback removes what this Create made.
        let id = SetProps::instance_of(&r.properties).ok().map(|i| physical_id(&i, &holder));
        if let Some(id) = &id {
            ctx.record_physical_id(id);
        }
        let (set, _, names) = match self.load(ctx, &paced.connect, None).await {
            Ok(s) => s,
            // Bad properties: the placeholder id, as for any failed Create (nothing was made).
            Err(Stop::Failed(reason)) => return Outcome::failed(reason),
            Err(stop) => return Self::stopped(ctx, stop, id),
        };
        let instance = set.instance_id.clone();
        collected.names = names.as_ref().map(csv::NamesById::of);
        self.reconcile(ctx, paced, Some(&set), &HashMap::new(), &instance, collected).await
    }

    async fn update_set(&self, ctx: &Ctx, paced: Paced, collected: &mut report::Collected) -> Outcome {
        let r = &ctx.request;
        let current = r.physical_resource_id.clone().unwrap_or_default();
        let new_instance = SetProps::instance_of(&r.properties).ok();
        let same_instance = parse_physical_id(&current).is_some_and(|(i, _)| Some(i) == new_instance.as_deref());
        let old = if same_instance { r.old_properties.as_ref() } else { None };
        let (set, mut previous, names) = match self.load(ctx, &paced.connect, old).await {
            Ok(s) => s,
            Err(stop) => return Self::stopped(ctx, stop, None),
        };
        let by_name = set.by_name();
        let pairs = previous
            .iter_mut()
            .filter_map(|(name, o)| by_name.get(name.as_str()).map(|e| (&e.props, &mut o.immutable, &e.immutable)))
            .collect();
        crate::user::accept_refused_rollback(ctx, pairs).await;
        if !same_instance {
            // Another instance: a new set there; CloudFormation deletes the old one's users in its cleanup.
            tracing::info!(action = "replace", "InstanceId changed (or the set never existed): a new set");
        }
        let instance = set.instance_id.clone();
        collected.names = names.as_ref().map(csv::NamesById::of);
        self.reconcile(ctx, paced, Some(&set), &previous, &instance, collected).await
    }

    async fn delete_set(&self, ctx: &Ctx, paced: Paced, collected: &mut report::Collected) -> Outcome {
        let r = &ctx.request;
        let existing = r.physical_resource_id.clone().unwrap_or_default();
        let Some((instance, _)) = parse_physical_id(&existing) else {
            tracing::info!(action = "none", "physical id was never a set (failed create); nothing to delete");
            return Outcome::Success { physical_resource_id: existing, data: Default::default() };
        };
        if let Some(why) = &r.properties_unreadable {
            // Without its properties nobody can tell which users were imported: keep every one.
            tracing::warn!(action = "keep", why = %why, "properties unreadable: the set's users are kept; delete them by hand if the stack created them");
            return Outcome::Success { physical_resource_id: existing, data: Default::default() };
        }
        let instance = instance.to_string();
        // A Source is not read: a delete must not fail because the file is gone. The users' own records say which
        // ones the set created (the others are released); inline entries that import are released too.
        let imported = props::imported_entries(&r.properties);
        self.reconcile(ctx, paced, None, &imported, &instance, collected).await
    }
}

/// Which request a set serves.
#[derive(Clone, Copy)]
enum Serving {
    Create,
    Update,
    Delete,
}

impl ConnectUserSet {
    /// One request with its invocation's paced client; the throttled retries go to the event's metrics and the
    /// run to its report (when the set has a `Report`).
    async fn serve(&self, ctx: &Ctx, request: Serving) -> Outcome {
        let paced = self.paced(ctx, pace_of(&ctx.request.properties));
        let pacer = paced.pacer.clone();
        let on = props::report_target(&ctx.request.properties).is_ok_and(|t| t.is_some());
        let mut collected = report::Collected { on, ..Default::default() };
        let outcome = match request {
            Serving::Create => Self::measured(ctx, pacer, self.create_set(ctx, paced, &mut collected)).await,
            Serving::Update => Self::measured(ctx, pacer, self.update_set(ctx, paced, &mut collected)).await,
            Serving::Delete => Self::measured(ctx, pacer, self.delete_set(ctx, paced, &mut collected)).await,
        };
        self.reported(ctx, collected, outcome).await
    }
}

impl CustomResource for ConnectUserSet {
    async fn create(&self, ctx: &Ctx) -> Outcome {
        self.serve(ctx, Serving::Create).await
    }

    async fn update(&self, ctx: &Ctx) -> Outcome {
        self.serve(ctx, Serving::Update).await
    }

    async fn delete(&self, ctx: &Ctx) -> Outcome {
        self.serve(ctx, Serving::Delete).await
    }
}

#[cfg(test)]
mod emulator_tests;
#[cfg(test)]
mod tests;

//! Carries out a set's plan: each user's calls through the single resource's API layer, paced per Connect
//! operation, different kinds of work side by side, until the plan is done, a call fails, or the invocation's
//! time for starting work is over (the rest is left for the next invocation, which re-reads and re-plans); the
//! progress lines while it works, the round's summary, and the ids the work leaves each entry with.

use crate::connect::ownership;
use crate::connect::pace::Pacer;
use crate::connect::{ApiError, Connect, Created};
use crate::roster::held::{Held, Hold};
use crate::roster::plan::{self, Work, ENTRY_TAG};
use crate::roster::props::SetProps;
use crate::user;
use crate::user::ids::PhysicalId;
use crate::user::model::{Actual, Change, TakeOver};
use crate::user::planner;
use crate::user::TakeOverError;
use futures::StreamExt;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Users worked on at once per kind of work. Pacing, not this, sets the rate; this only keeps enough calls
/// queued for every operation's turn to be used.
pub const PER_KIND: usize = 12;

/// What happened to one user, as logged.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub name: String,
    pub user_id: String,
    pub action: &'static str,
    pub calls: Vec<&'static str>,
    pub outcome: String,
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Ran {
    /// What happened to each user, kept only for a roster whose ids the answer can carry (see
    /// [`plan::MAX_ID_ENTRIES`]); every report is logged either way.
    pub reports: Vec<Report>,
    /// How many users each action was reported for.
    pub actions: BTreeMap<&'static str, usize>,
    /// Users done (reported), whether kept in `reports` or not.
    pub done: usize,
    /// Work not started (or stopped between calls) for lack of time: the next invocation's.
    pub deferred: usize,
    /// The users that failed, and why.
    pub failures: Vec<Failure>,
}

/// How often a running set logs its progress (done, remaining, an estimate of the time left).
const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// [`run`], with a progress line every [`PROGRESS_EVERY`] while it works.
pub async fn run_logging_progress(work: Vec<Work>, exec: &Exec<'_>, pacer: &Pacer, started: Instant) -> Ran {
    let progress = Progress::default();
    let work = run(work, exec, &progress);
    tokio::pin!(work);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    loop {
        tokio::select! {
            ran = &mut work => return ran,
            _ = tick.tick() => {
                let done = progress.done.load(Ordering::Relaxed);
                let total = progress.total.load(Ordering::Relaxed);
                let remaining = total - done.min(total);
                let per_s = done as f64 / started.elapsed().as_secs_f64().max(0.001);
                let eta = if per_s > 0.0 { (remaining as f64 / per_s) as u64 } else { 0 };
                tracing::info!(progress = "set", done, remaining, throttled_retries = pacer.throttled_count(), eta_s = eta, "progress");
            }
        }
    }
}

impl Ran {
    /// The round's one summary line: what each action came to, and how long it took.
    pub fn log_round(&self, round: u32, unchanged: usize, throttled_retries: u64, started: Instant) {
        let count = |action: &str| self.actions.get(action).copied().unwrap_or(0);
        tracing::info!(
            summary = "set",
            round,
            created = count("created"),
            updated = count("updated"),
            imported = count("imported"),
            deleted = count("deleted"),
            released = count("released"),
            put_back = count("put back"),
            kept_until_cleanup = count("kept"),
            unchanged = unchanged + count("unchanged"),
            deferred = self.deferred,
            failed = self.failures.len(),
            throttled_retries,
            seconds = started.elapsed().as_secs_f64(),
            "set round done"
        );
    }

    /// The failures for a FAILED reason: the first five, then how many more (every one is logged here, as the
    /// reason has room for five).
    pub fn failures_shown(&self) -> String {
        let mut shown: Vec<String> = self.failures.iter().take(5).map(|f| f.why.clone()).collect();
        if self.failures.len() > 5 {
            shown.push(format!("and {} more failures (in the function's logs)", self.failures.len() - 5));
        }
        for f in &self.failures {
            tracing::warn!(failure = %f.why, "user failed");
        }
        shown.join("; ")
    }

    /// Every entry's user id once this invocation is done: what was held, with what it made, less what it took
    /// out; only the names `set` has.
    pub fn resulting_ids(&self, held: BTreeMap<String, String>, set: &SetProps) -> BTreeMap<String, String> {
        let mut ids = held;
        for rep in &self.reports {
            match rep.action {
                "deleted" | "released" | "put back" | "left" | "kept" => {
                    ids.remove(&rep.name);
                }
                _ => {
                    ids.insert(rep.name.clone(), rep.user_id.clone());
                }
            }
        }
        let by_name = set.by_name();
        ids.retain(|name, _| by_name.contains_key(name.as_str()));
        ids
    }
}

/// One user that failed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub name: String,
    /// Its entry in the set (none for a user the roster no longer has).
    pub entry: Option<usize>,
    /// Empty when it has none yet (a create).
    pub user_id: String,
    pub why: String,
}

/// Whom a piece of work is for, for its failure.
fn subject(w: &Work, x: &Exec<'_>) -> (String, Option<usize>, String) {
    let name = |i: usize| x.set.and_then(|s| s.entries.get(i)).map(|e| e.props.name.clone()).unwrap_or_default();
    match w {
        Work::Create { entry } | Work::Import { entry } => (name(*entry), Some(*entry), String::new()),
        Work::Update { entry, user, .. } | Work::Read { entry, user } => (name(*entry), Some(*entry), user.user_id.clone()),
        Work::Delete { user } | Work::Release { user } => (user.username.clone(), None, user.user_id.clone()),
    }
}

/// Everything a piece of work needs.
pub struct Exec<'a> {
    pub connect: &'a Connect,
    pub set: Option<&'a SetProps>,
    pub previous: &'a HashMap<String, crate::roster::props::OldEntry>,
    pub instance_id: &'a str,
    pub holder: &'a str,
    pub marker: &'a str,
    /// Passwords by entry Name, for the entries to create.
    pub passwords: &'a HashMap<String, String>,
    /// The take-overs of the plan, checked before any write, by entry index.
    pub checked: &'a HashMap<usize, TakeOver>,
    /// Where the set records whom it holds (none: Connect's search alone says).
    pub held: Option<&'a Held>,
    /// How the set's records say it holds each user (by id).
    pub holds: &'a HashMap<String, Hold>,
    /// Users recorded as taken out of the roster already (by id).
    pub leaving: &'a std::collections::HashSet<String>,
    /// This Update answers a new physical id: the users it takes out are kept, recorded as leaving, until the
    /// Delete of the id it replaces (the stack committed) or of the new one (a rollback put them back).
    pub keep_leaving: bool,
    /// Where a take-over keeps the agent's state before its first write, for a rollback to put back.
    pub before: Option<&'a crate::user::before::Before>,
    /// The request (its stack's status is read once, and only when a release could put a user back).
    pub ctx: &'a crate::cfn::Ctx,
    pub phase: tokio::sync::OnceCell<Option<crate::cfn::stack::Phase>>,
    /// Whether each user's report is kept after it is logged (for the answer's `UserIds`).
    pub keep_reports: bool,
    pub deadline: Instant,
    pub continue_by: Instant,
}

enum Done {
    Report(Report),
    Deferred,
    Failed(String),
    /// A failure with whom it was for (what the run collects).
    FailedAt(Failure),
}

/// Counters shared with the progress line.
#[derive(Default)]
pub struct Progress {
    pub done: AtomicUsize,
    pub total: AtomicUsize,
}

/// The metrics a set adds to its event's line.
pub const METRICS: [&str; 6] = ["UsersCreated", "UsersUpdated", "UsersDeleted", "UsersTakenOver", "UsersReleased", "ThrottledRetries"];

/// The metric a user's action counts in (see [`crate::cfn::metrics`]); none for a user left as it was.
pub fn metric_of(action: &str) -> Option<&'static str> {
    match action {
        "created" => Some("UsersCreated"),
        "updated" => Some("UsersUpdated"),
        "deleted" => Some("UsersDeleted"),
        "imported" => Some("UsersTakenOver"),
        "released" | "put back" => Some("UsersReleased"),
        _ => None,
    }
}

/// Runs `work`, the kinds side by side.
pub async fn run(work: Vec<Work>, exec: &Exec<'_>, progress: &Progress) -> Ran {
    progress.total.store(work.len(), Ordering::Relaxed);
    let stop = AtomicBool::new(false);
    let mut by_kind: BTreeMap<&'static str, Vec<Work>> = BTreeMap::new();
    for w in work {
        let lane = match w.kind() {
            "create" => "create",
            "delete" => "delete",
            _ => "other",
        };
        by_kind.entry(lane).or_default().push(w);
    }
    let lanes = by_kind.into_values().map(|items| {
        let stop = &stop;
        futures::stream::iter(items)
            .map(move |w| async move {
                if stop.load(Ordering::Relaxed) || Instant::now() >= exec.continue_by {
                    return Done::Deferred;
                }
                let (name, entry, user_id) = subject(&w, exec);
                let done = match one(w, exec).await {
                    Done::Failed(why) => Done::FailedAt(Failure { name, entry, user_id, why }),
                    d => d,
                };
                if matches!(done, Done::Failed(_) | Done::FailedAt(_)) {
                    stop.store(true, Ordering::Relaxed);
                }
                if let Done::Report(r) = &done {
                    progress.done.fetch_add(1, Ordering::Relaxed);
                    // Counted as each user is done, so that an invocation cut short still reports its work.
                    if let Some(metric) = metric_of(r.action) {
                        exec.ctx.count(metric, 1);
                    }
                }
                done
            })
            .buffer_unordered(PER_KIND)
            .collect::<Vec<Done>>()
    });
    let mut ran = Ran::default();
    for done in futures::future::join_all(lanes).await.into_iter().flatten() {
        match done {
            Done::Report(r) => {
                tracing::info!(report = "user", name = %r.name, user_id = %r.user_id, action = r.action, calls = ?r.calls, outcome = %r.outcome, "user");
                *ran.actions.entry(r.action).or_default() += 1;
                ran.done += 1;
                if exec.keep_reports {
                    ran.reports.push(r);
                }
            }
            Done::Deferred => ran.deferred += 1,
            Done::FailedAt(f) => ran.failures.push(f),
            Done::Failed(why) => ran.failures.push(Failure { name: String::new(), entry: None, user_id: String::new(), why }),
        }
    }
    ran
}

/// Records how the set holds a user (or that it no longer does). A record that cannot be written is logged: the
/// user's own tags still say the same, and the next invocation that sees the user in a search records it.
async fn note(x: &Exec<'_>, user_id: &str, name: &str, hold: Option<Hold>, given: Option<u64>) {
    let Some(held) = x.held else { return };
    let r = match hold {
        Some(h) => held.record(user_id, name, h, given).await,
        None => held.forget(user_id).await,
    };
    if let Err(e) = r {
        tracing::warn!(error = %e, user_id, "could not update the set's record of a user");
    }
}

fn failed_or_deferred(what: String, e: &ApiError) -> Done {
    if e.is_deferred() {
        Done::Deferred
    } else {
        Done::Failed(format!("{what}: {}", user::reason(e)))
    }
}

async fn one(w: Work, x: &Exec<'_>) -> Done {
    let entry = |i: usize| x.set.and_then(|s| s.entries.get(i));
    match w {
        Work::Create { entry: i } => match entry(i) {
            Some(e) => create(e, x).await,
            None => Done::Failed("internal error: no entry".into()),
        },
        Work::Import { entry: i } => {
            let Some(e) = entry(i) else { return Done::Failed("internal error: no entry".into()) };
            let Some(target) = e.props.import.as_ref() else { return Done::Failed("internal error: no ImportId".into()) };
            let Some(checked) = x.checked.get(&i).cloned() else { return Done::Failed("internal error: a take-over not checked".into()) };
            let records = BTreeMap::from([(ENTRY_TAG.to_string(), e.digest.clone())]);
            let keep = x.before.map(|b| user::Keep { before: b, holder: x.holder, mentioned: &e.immutable.mentioned });
            match user::make_take_over(x.connect, target, checked, &records, keep, x.deadline).await {
                Ok(before) => {
                    note(x, &before.user_id, &e.props.name, Some(Hold::TakenOver), Some(e.given)).await;
                    Done::Report(Report {
                        name: e.props.name.clone(),
                        user_id: before.user_id,
                        action: "imported",
                        calls: vec![],
                        outcome: "ok".into(),
                    })
                }
                Err(TakeOverError::Deferred) => Done::Deferred,
                Err(TakeOverError::Refused(why)) => Done::Failed(format!("{}: {why}", e.what())),
            }
        }
        Work::Update { entry: i, user, changes } => match entry(i) {
            Some(e) => apply(&e.props.name, Some(e), &user, &changes, "updated", x).await,
            None => Done::Failed("internal error: no entry".into()),
        },
        Work::Read { entry: i, user } => {
            let Some(e) = entry(i) else { return Done::Failed("internal error: no entry".into()) };
            let old = x.previous.get(&e.props.name);
            match read_entry(x.connect, x.instance_id, e, old, &user.user_id, x.marker, x.deadline).await {
                Ok(Some((actual, changes))) => {
                    apply(&e.props.name, Some(e), &actual, &changes, if changes.is_empty() { "unchanged" } else { "updated" }, x).await
                }
                Ok(None) => Done::Deferred, // deleted since the page was read: the next read sees it gone
                Err(Unread::Api(err)) => failed_or_deferred(e.what(), &err),
                Err(Unread::Refused(why)) => Done::Failed(why),
            }
        }
        Work::Delete { user } | Work::Release { user } if x.keep_leaving => keep(&user, x).await,
        Work::Delete { user } => let_go(&user, "deleted", x).await,
        Work::Release { user } => let_go(&user, "released", x).await,
    }
}

/// Why a held user's entry could not be planned from the user itself.
pub enum Unread {
    Api(ApiError),
    /// The entry asks what cannot be done (the planner's reason).
    Refused(String),
}

/// A held user a search page could not tell everything about: read whole (with its proficiencies when the entry,
/// or its previous one, mentions them), and the calls that bring it to its entry; `None` when it is gone. What
/// the run does with such a user, and what a preview shows.
pub async fn read_entry(
    connect: &Connect,
    instance_id: &str,
    e: &crate::roster::props::Entry,
    old: Option<&crate::roster::props::OldEntry>,
    user_id: &str,
    marker: &str,
    deadline: Instant,
) -> Result<Option<(Actual, Vec<Change>)>, Unread> {
    let proficiencies = e.props.settings.proficiencies.is_some() || old.is_some_and(plan::mentions_proficiencies);
    let Some(actual) = connect.read_user(instance_id, user_id, Duration::ZERO, proficiencies, deadline).await.map_err(Unread::Api)? else {
        return Ok(None);
    };
    let changes = plan::entry_changes(e, old, &actual, marker).map_err(Unread::Refused)?;
    Ok(Some((actual, changes)))
}

/// A user the roster no longer holds, kept as it is until the stack commits: recorded as leaving, no call.
async fn keep(user: &Actual, x: &Exec<'_>) -> Done {
    let report = Report {
        name: user.username.clone(),
        user_id: user.user_id.clone(),
        action: "kept",
        calls: vec![],
        outcome: "kept until the stack's update is complete".into(),
    };
    if x.leaving.contains(&user.user_id) {
        return Done::Report(report);
    }
    let Some(held) = x.held else { return Done::Failed("internal error: no state table to keep a user in".into()) };
    let hold = x.holds.get(&user.user_id).copied().unwrap_or(if plan::created_by_set(user) { Hold::Created } else { Hold::TakenOver });
    let record = crate::roster::held::Record {
        user_id: user.user_id.clone(),
        name: user.username.clone(),
        hold: Some(hold),
        given: None,
        leaving: true,
    };
    match held.mark(&record, true).await {
        Ok(()) => Done::Report(report),
        // Not recorded, not answered: the next attempt records it, and nothing was changed in Connect.
        Err(e) => Done::Failed(format!("{} ({}): recording it as taken out of the roster failed: {e}", user.username, user.user_id)),
    }
}

/// Deletes a user the set created and no longer wants, or releases one it took over, after confirming from the
/// user itself which it is (`planned`: what the search page said, for a user gone since).
async fn let_go(user: &Actual, planned: &'static str, x: &Exec<'_>) -> Done {
    let user = match confirmed(user, planned, x).await {
        Ok(fresh) => fresh,
        Err(done) => return done,
    };
    // Deleted only when every witness says the set created it: the user's own tags as read now (not as a search
    // page showed them), the set's record (when it has one), and the previous entries (an entry that imported it).
    let imported = x.previous.get(&user.username).is_some_and(|o| o.import_given);
    let recorded_as_taken_over = x.holds.get(&user.user_id) == Some(&Hold::TakenOver);
    if plan::created_by_set(&user) && !imported && !recorded_as_taken_over {
        return match x.connect.delete_user(x.instance_id, &user.user_id, x.deadline).await {
            Ok(existed) => {
                note(x, &user.user_id, &user.username, None, None).await;
                Done::Report(Report {
                    name: user.username.clone(),
                    user_id: user.user_id.clone(),
                    action: "deleted",
                    calls: vec!["DescribeUser", "DeleteUser"],
                    outcome: if existed { "ok".into() } else { "already gone".into() },
                })
            }
            Err(err) => failed_or_deferred(format!("{} ({})", user.username, user.user_id), &err),
        };
    }
    let id = PhysicalId { instance_id: x.instance_id.to_string(), user_id: user.user_id.clone() };
    let phase = async { *x.phase.get_or_init(|| x.ctx.stack_phase()).await };
    let (changes, restored) = match user::release_changes(x.connect, x.before, &id, &user, x.holder, phase, x.deadline).await {
        Ok(c) => c,
        Err(err) => return failed_or_deferred(format!("{} ({})", user.username, user.user_id), &err),
    };
    let done = apply(&user.username, None, &user, &changes, if restored { "put back" } else { "released" }, x).await;
    if matches!(done, Done::Report(_)) {
        note(x, &user.user_id, &user.username, None, None).await;
        if let Some(b) = x.before {
            if let Err(e) = b.forget(x.instance_id, &user.user_id, x.holder).await {
                tracing::warn!(error = %e, "could not drop the user's kept state");
            }
        }
    }
    done
}

/// The user itself, read again before it is deleted or released: a search page may show it as it was (Connect's
/// index is eventually consistent), and nothing that decides a delete rests on a page alone. A user gone since
/// needs nothing more; one that another resource holds by now is left as it is.
async fn confirmed(user: &Actual, planned: &'static str, x: &Exec<'_>) -> Result<Actual, Done> {
    let report = |action: &'static str, outcome: &str| {
        Done::Report(Report {
            name: user.username.clone(),
            user_id: user.user_id.clone(),
            action,
            calls: vec!["DescribeUser"],
            outcome: outcome.to_string(),
        })
    };
    match x.connect.describe_user(x.instance_id, &user.user_id, Duration::ZERO, x.deadline).await {
        Ok(Some(fresh)) if fresh.marker_tags.get(ownership::HOLDER_TAG).map(String::as_str) == Some(x.holder) => Ok(fresh),
        Ok(Some(_)) => {
            tracing::warn!(user_id = %user.user_id, "a user the set's search showed as held is not held by it: left as it is");
            note(x, &user.user_id, &user.username, None, None).await;
            Err(report("left", "not held by this set (any more): left as it is"))
        }
        Ok(None) => {
            note(x, &user.user_id, &user.username, None, None).await;
            Err(report(planned, "already gone"))
        }
        Err(err) => Err(failed_or_deferred(format!("{} ({})", user.username, user.user_id), &err)),
    }
}

/// Makes a user's calls in order.
async fn apply(
    name: &str,
    entry: Option<&crate::roster::props::Entry>,
    user: &Actual,
    changes: &[Change],
    action: &'static str,
    x: &Exec<'_>,
) -> Done {
    let id = PhysicalId { instance_id: x.instance_id.to_string(), user_id: user.user_id.clone() };
    let calls: Vec<&'static str> = changes.iter().map(Change::operation).collect();
    let result = user::apply_all(x.connect, &id, &user.arn, changes, x.deadline).await;
    if let Some(e) = entry {
        // An entry that stopped or started importing the user changes how the set holds it, from the call that
        // made the change on, whatever came after it; a user brought to its entry in full records which.
        let (made, given) = match &result {
            Ok(()) => (changes, Some(e.given)),
            Err((done, _)) => (&changes[..*done], None),
        };
        let now = plan::hold_after(made);
        let hold = now.or_else(|| x.holds.get(&user.user_id).copied()).unwrap_or(if plan::created_by_set(user) {
            Hold::Created
        } else {
            Hold::TakenOver
        });
        if now.is_some() || given.is_some() {
            note(x, &user.user_id, name, Some(hold), given).await;
        }
    }
    match result {
        Ok(()) => Done::Report(Report { name: name.to_string(), user_id: user.user_id.clone(), action, calls, outcome: "ok".into() }),
        Err((done, e)) => {
            let what = entry.map(|e| e.what()).unwrap_or_else(|| name.to_string());
            if e.is_deferred() {
                // Not begun, or half done: the next invocation reads this user again and finishes it (the entry's
                // digest, recorded by the last call, is not there yet).
                return Done::Deferred;
            }
            Done::Failed(format!("{what}: {}; made before it: [{}]", user::reason(&e), calls[..done].join(", ")))
        }
    }
}

async fn create(e: &crate::roster::props::Entry, x: &Exec<'_>) -> Done {
    let what = e.what();
    let password = x.passwords.get(&e.props.name).map(String::as_str);
    let proficiencies = e.props.settings.proficiencies.as_ref().filter(|p| !p.is_empty());
    // The entry's digest says "this user is as the entry wants it": with proficiencies to add after
    // CreateUser, it is recorded only once they are there.
    let digest = BTreeMap::from([(ENTRY_TAG.to_string(), e.digest.clone())]);
    let records = if proficiencies.is_some() { BTreeMap::new() } else { digest.clone() };
    let mut calls = vec!["CreateUser"];
    // Created meanwhile by an overlapping invocation of this set (at-least-once delivery): it holds the user.
    // Anyone else's is refused.
    let (user_id, arn, adopted) = match x.connect.create_or_find(&e.props, password, x.marker, x.holder, &records, x.deadline).await {
        Ok(Created::New { user_id, arn }) => (user_id, arn, false),
        Ok(Created::Existing { user_id, arn, tags }) if tags.get(ownership::HOLDER_TAG).map(String::as_str) == Some(x.holder) => {
            (user_id, arn, true)
        }
        Ok(_) => {
            return Done::Failed(format!(
                "{what}: Name: a user named {} was created in the instance by someone else while the set worked; remove the entry, import that user, or delete it",
                e.props.name
            ))
        }
        Err(err) => return failed_or_deferred(what, &err),
    };
    // Recorded at once, before anything else can fail: a search right after may not show the user yet.
    note(x, &user_id, &e.props.name, Some(Hold::Created), None).await;
    if adopted {
        // The other invocation finishes it (and the next read of this one would too).
        return Done::Report(Report {
            name: e.props.name.clone(),
            user_id,
            action: "created",
            calls,
            outcome: "created by an overlapping invocation".into(),
        });
    }
    if let Some(wanted) = proficiencies {
        let id = PhysicalId { instance_id: x.instance_id.to_string(), user_id: user_id.clone() };
        let mut changes = planner::proficiency_changes(wanted, &Default::default());
        changes.push(Change::Tag(digest));
        calls.extend(changes.iter().map(Change::operation));
        if let Err((_, err)) = user::apply_all(x.connect, &id, &arn, &changes, x.deadline).await {
            if err.is_deferred() {
                return Done::Deferred; // the next invocation reads the user (no digest yet) and finishes it
            }
            return Done::Failed(format!("{what}: {}; the user was created without its proficiencies", user::reason(&err)));
        }
    }
    note(x, &user_id, &e.props.name, Some(Hold::Created), Some(e.given)).await;
    Done::Report(Report { name: e.props.name.clone(), user_id, action: "created", calls, outcome: "ok".into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::event::{self, Intake};
    use crate::connect::emulator_tests::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_namesake_another_resource_made_meanwhile_is_refused_and_the_sets_own_adopted() {
        let live = Live::start().await;
        let props = json!({"InstanceId": IID, "Users": [{
            "Name": "set.y", "Password": PASSWORD, "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT],
            "IdentityInfo": {"FirstName": "Y", "LastName": "Why"}, "PhoneConfig": {"PhoneType": "SOFT_PHONE"}
        }]});
        let set = SetProps::parse(props.as_object().unwrap()).unwrap();
        let e = &set.entries[0];
        // Made by another resource after the set read the instance's names (so its own check found none).
        live.connect.create_user(&e.props, Some(PASSWORD), "m-else", "stack/Else", &BTreeMap::new(), soon()).await.unwrap();
        let Intake::Request(r) = event::parse(lambda_harness::events::create("Agents", "https://x", props.clone())) else {
            panic!("the test event is malformed")
        };
        let ctx = crate::cfn::Ctx::new(*r, soon());
        let previous = HashMap::new();
        let passwords = HashMap::from([("set.y".to_string(), PASSWORD.to_string())]);
        let (checked, holds, leaving) = (HashMap::new(), HashMap::new(), Default::default());
        let x = Exec {
            connect: &live.connect,
            set: Some(&set),
            previous: &previous,
            instance_id: IID,
            holder: "stack/Agents",
            marker: "m-set",
            passwords: &passwords,
            checked: &checked,
            held: None,
            holds: &holds,
            leaving: &leaving,
            keep_leaving: false,
            before: None,
            ctx: &ctx,
            phase: Default::default(),
            keep_reports: true,
            deadline: soon(),
            continue_by: soon(),
        };
        match create(e, &x).await {
            Done::Failed(why) => assert!(why.contains("was created in the instance by someone else"), "{why}"),
            _ => panic!("a namesake another resource holds is never adopted"),
        }
        // One the set holds (an overlapping invocation of the same set made it): adopted, and left to that one.
        let same_set = Exec { holder: "stack/Else", ..x };
        match create(e, &same_set).await {
            Done::Report(r) => assert_eq!(r.outcome, "created by an overlapping invocation"),
            _ => panic!("the set's own user is adopted"),
        }
    }
}

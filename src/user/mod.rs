//! The Connect user resource: what Create, Update and Delete mean for an Amazon Connect user.
//!
//! - `properties`: typed, validated properties (everything is checked before any call);
//! - `model`: the user as Connect has it, and the changes that can be made to it;
//! - `planner`: the pure Update decision;
//! - `translate`: pure mapping to and from the SDK's shapes;
//! - `ids`, `before`, `preview`: the physical id, the record of a user before an Update, and the plan's preview.
//!
//! The calls themselves are made through [`crate::connect`].

pub mod before;
pub mod ids;
pub mod model;
pub mod planner;
pub mod preview;
pub mod properties;
pub mod translate;

#[cfg(test)]
mod emulator_tests;

use crate::cfn::{Ctx, CustomResource, Outcome};
use crate::connect::ownership;
use crate::connect::{ApiError, Connect, Created, Secrets};
use before::Before;
use ids::PhysicalId;
use model::Change;
use planner::Plan;
use properties::{Immutable, PasswordSource, UserProps};
use std::time::{Duration, Instant};

/// How long a not-found DescribeUser is re-read before it is believed (Connect is eventually consistent
/// right after CreateUser).
const SETTLE: Duration = Duration::from_secs(3);

pub struct ConnectUserResource {
    connect: Connect,
    secrets: Secrets,
    /// Where a take-over keeps the agent's state, for a rollback to put back (none: not kept).
    before: Option<Before>,
}

/// What an Update of one user comes to.
enum Updated {
    /// A new user (or a take-over) under a new physical id, for this reason; CloudFormation deletes the old one.
    Anew(String),
    /// Nothing to do to the user (only who may delete it changed).
    Kept(PhysicalId),
    /// These calls on the user as it is (none: nothing differs).
    InPlace { current: PhysicalId, actual: Box<model::Actual>, changes: Vec<Change> },
}

/// Why a user cannot be created under its Name: someone else's user `id` has it.
pub(crate) fn name_taken(props: &UserProps, id: &str) -> String {
    format!(
        "Name: a user named {} already exists in instance {} and was not created by this resource; choose another Name, delete that user, or take it over with ImportId: {}:{id}",
        props.name, props.instance_id, props.instance_id
    )
}

/// A Connect error as a FAILED reason: the operation, the code and the service's message (or why a deferred call
/// was not made).
pub fn reason(e: &ApiError) -> String {
    e.to_string()
}

impl ConnectUserResource {
    pub fn new(connect: Connect, secrets: Secrets) -> ConnectUserResource {
        ConnectUserResource { connect, secrets, before: None }
    }

    pub fn with_store(mut self, store: Option<crate::store::Store>) -> ConnectUserResource {
        self.before = store.map(Before::new);
        self
    }

    fn parse(ctx: &Ctx) -> Result<UserProps, Outcome> {
        UserProps::parse(&ctx.request.properties).map_err(|e| {
            tracing::warn!(action = "reject", errors = e.0.len(), "invalid properties");
            Outcome::failed(format!("invalid properties: {e}"))
        })
    }

    async fn password(&self, props: &UserProps, ctx: &Ctx) -> Result<Option<String>, Outcome> {
        match &props.password {
            None => Ok(None),
            Some(PasswordSource::Inline(s)) => Ok(Some(s.expose().to_string())),
            Some(PasswordSource::SecretsManager { secret_id, key }) => {
                let value =
                    self.secrets.password(secret_id, key.as_deref(), ctx.deadline).await.map_err(|e| Outcome::failed(e.to_string()))?;
                if !properties::password_ok(&value) {
                    return Err(Outcome::failed(format!(
                        "PasswordSecretId: the password in secret {secret_id} {}",
                        properties::PASSWORD_RULE
                    )));
                }
                Ok(Some(value))
            }
        }
    }

    /// Creates the user, or takes over the one `ImportId` names.
    /// What an Update does, read and decided before any write (also what `connect-users plan` shows). `Err` is
    /// the FAILED answer.
    async fn decide_update(&self, props: &UserProps, ctx: &Ctx) -> Result<Updated, Outcome> {
        let existing = ctx.request.physical_resource_id.clone().unwrap_or_default();
        let Some(current) = PhysicalId::parse(&existing) else {
            return Ok(Updated::Anew("the physical id is not a user's (its Create failed)".into()));
        };
        let no_properties = Default::default();
        let old_properties = ctx.request.old_properties.as_ref().unwrap_or(&no_properties);
        let mut old = Immutable::read(old_properties);
        let new = Immutable::read(&ctx.request.properties);
        accept_refused_rollback(ctx, vec![(props, &mut old, &new)]).await;
        // A new ImportId that names another user than this one takes that user over: a replacement.
        if props.import.as_ref().is_some_and(|t| old.import.as_ref() != Some(t) && *t != current) {
            return Ok(Updated::Anew("ImportId names another user".into()));
        }
        if planner::only_import_changed(old_properties, &ctx.request.properties) {
            return Ok(Updated::Kept(current));
        }
        let actual = if props.instance_id == current.instance_id {
            let proficiencies = planner::needs_proficiencies(&props.settings, &old);
            self.connect
                .read_user(&current.instance_id, &current.user_id, SETTLE, proficiencies, ctx.deadline)
                .await
                .map_err(|e| Outcome::failed(reason(&e)))?
        } else {
            None
        };
        match planner::plan_update(props, &old, &new, &current, actual.as_ref()) {
            Plan::Replace { why } => Ok(Updated::Anew(why)),
            Plan::Recreate => Ok(Updated::Anew("the user no longer exists; it is created again".into())),
            Plan::Reject { reason } => {
                tracing::warn!(action = "reject", "change not possible in place");
                Err(Outcome::failed(reason))
            }
            Plan::InPlace(changes) => match actual {
                Some(actual) => Ok(Updated::InPlace { current, actual: Box::new(actual), changes }),
                None => Err(Outcome::failed("internal error: in-place plan without a user")),
            },
        }
    }

    async fn create_or_import(&self, props: &UserProps, ctx: &Ctx) -> Outcome {
        match &props.import {
            Some(target) => self.import(props, target, ctx).await,
            None => self.create(props, ctx).await,
        }
    }

    /// Creates the user, or adopts the one a previous attempt of this same request created. Used by Create,
    /// and by Update for a replacement or a re-creation.
    async fn create(&self, props: &UserProps, ctx: &Ctx) -> Outcome {
        let password = match self.password(props, ctx).await {
            Ok(p) => p,
            Err(o) => return o,
        };
        let r = &ctx.request;
        let marker = ownership::marker_value(&r.stack_id, &r.logical_resource_id, &r.request_id);
        let holder = ownership::holder_value(&r.stack_id, &r.logical_resource_id);
        // A user of the name that carries this request's marker was made by an earlier attempt of it: adopted.
        // Any other is someone else's and is never taken over.
        let (user_id, arn, adopted) = match self.connect.create_or_find(props, password.as_deref(), &marker, &holder, &Default::default(), ctx.deadline).await {
            Ok(Created::New { user_id, arn }) => (user_id, arn, false),
            Ok(Created::Existing { user_id, arn, tags }) => {
                let ours = tags.get(ownership::MARKER_TAG).map(String::as_str) == Some(marker.as_str());
                tracing::info!(action = if ours { "adopt" } else { "refuse-adoption" }, "user of the same name exists");
                if !ours {
                    return Outcome::failed(name_taken(props, &user_id));
                }
                (user_id, arn, true)
            }
            Ok(Created::Vanished) => {
                return Outcome::failed(format!(
                    "Name: a user named {} already exists in instance {} and was not created by this resource; choose another Name, or delete or import that user",
                    props.name, props.instance_id
                ))
            }
            Err(e) => return Outcome::failed(reason(&e)),
        };
        let id = PhysicalId { instance_id: props.instance_id.clone(), user_id: user_id.clone() };
        ctx.record_physical_id(&id.to_string());
        // Proficiencies have no place in CreateUser; they follow it. A failure here still reports the user's id,
        // so CloudFormation's cleanup deletes it.
        if let Some(wanted) = props.settings.proficiencies.as_ref().filter(|p| !p.is_empty()) {
            let have = if adopted {
                match self.connect.list_proficiencies(&props.instance_id, &user_id, ctx.deadline).await {
                    Ok(p) => p,
                    Err(e) => return Outcome::Failed { reason: reason(&e), physical_resource_id: Some(id.to_string()) },
                }
            } else {
                Default::default()
            };
            for change in planner::proficiency_changes(wanted, &have) {
                if let Err(e) = self.connect.apply(&props.instance_id, &user_id, &arn, &change, ctx.deadline).await {
                    return Outcome::Failed { reason: reason(&e), physical_resource_id: Some(id.to_string()) };
                }
            }
        }
        Outcome::Success { physical_resource_id: id.to_string(), data: translate::data(props, &user_id, &arn) }
    }

    /// Takes over the existing user `target` (see [`take_over`]). Until it succeeds the physical id stays a
    /// placeholder (never recorded), so the Delete of a rollback cannot touch the user.
    async fn import(&self, props: &UserProps, target: &PhysicalId, ctx: &Ctx) -> Outcome {
        let r = &ctx.request;
        let holder = ownership::holder_value(&r.stack_id, &r.logical_resource_id);
        let mentioned = Immutable::read(&r.properties).mentioned;
        let keep = self.before.as_ref().map(|b| Keep { before: b, holder: &holder, mentioned: &mentioned });
        match take_over(&self.connect, props, target, &holder, &Default::default(), keep, Some(ctx), ctx.deadline).await {
            Ok(before) => {
                Outcome::Success { physical_resource_id: target.to_string(), data: translate::data(props, &before.user_id, &before.arn) }
            }
            Err(e) => Outcome::failed(e.to_string()),
        }
    }

    /// A Delete while `ImportId` is given: the user stays in Connect, only this resource's own tags go (and
    /// nothing at all when another resource holds the user by now).
    async fn release(&self, id: &PhysicalId, ctx: &Ctx) -> Outcome {
        let r = &ctx.request;
        let done = || Outcome::Success { physical_resource_id: id.to_string(), data: Default::default() };
        let actual = match self.connect.describe_user(&id.instance_id, &id.user_id, Duration::ZERO, ctx.deadline).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                tracing::info!(action = "none", "imported user was already gone");
                return done();
            }
            Err(e) => return Outcome::failed(reason(&e)),
        };
        // This resource's holder, or the one an earlier version recorded for it (without the stack's identity):
        // CloudFormation sends this Delete only to the resource that imported the user, so either is this one's.
        let ours = [
            ownership::holder_value(&r.stack_id, &r.logical_resource_id),
            ownership::legacy_holder_value(&r.stack_id, &r.logical_resource_id),
        ];
        if actual.marker_tags.get(ownership::HOLDER_TAG).is_some_and(|h| !ours.contains(h)) {
            tracing::info!(action = "none", "imported user is held by another resource now; left as it is");
            return done();
        }
        let holder = &ours[0];
        let (changes, restored) =
            match release_changes(&self.connect, self.before.as_ref(), id, &actual, holder, ctx.stack_phase(), ctx.deadline).await {
                Ok(c) => c,
                Err(e) => return Outcome::failed(reason(&e)),
            };
        if !restored {
            tracing::info!(action = "release", "ImportId is given: the user is kept, only this resource's tags are removed");
        }
        for change in &changes {
            if let Err(e) = self.connect.apply(&id.instance_id, &id.user_id, &actual.arn, change, ctx.deadline).await {
                return Outcome::failed(reason(&e));
            }
        }
        if let Some(b) = &self.before {
            if let Err(e) = b.forget(&id.instance_id, &id.user_id, holder).await {
                tracing::warn!(error = %e, "could not drop the user's kept state");
            }
        }
        done()
    }
}

/// Makes the calls in order; on a failure, how many were made before it and the error.
pub async fn apply_all(
    connect: &Connect,
    id: &PhysicalId,
    arn: &str,
    changes: &[Change],
    deadline: Instant,
) -> Result<(), (usize, ApiError)> {
    for (i, change) in changes.iter().enumerate() {
        connect.apply(&id.instance_id, &id.user_id, arn, change, deadline).await.map_err(|e| (i, e))?;
    }
    Ok(())
}

/// Why a take-over was not made.
#[derive(Debug, thiserror::Error)]
pub enum TakeOverError {
    /// A call did not fit this invocation (its paced turn came too late): the next invocation tries again.
    #[error("not started: it did not fit this invocation")]
    Deferred,
    /// The FAILED reason: the user does not fit the template, cannot be read, or a write failed.
    #[error("{0}")]
    Refused(String),
}

/// An Update that rolls back a failed one ([`Ctx::rolls_back_failed_update`]) whose Password or DirectoryUserId
/// change was refused: Connect never got those values, so what these properties say is what it has, and each
/// pair's old record is taken as applied (else the rollback would be refused in turn, and the stack stuck in
/// UPDATE_ROLLBACK_FAILED). The ledger is read only when some pair would be refused. Pairs: (properties, the old
/// record, the new one), one per user (a set's users whose names the previous roster had).
pub(crate) async fn accept_refused_rollback(ctx: &Ctx, pairs: Vec<(&UserProps, &mut Immutable, &Immutable)>) {
    if pairs.iter().any(|(props, old, new)| planner::immutable_change(props, old, new).is_some()) && ctx.rolls_back_failed_update().await {
        tracing::info!(
            action = "rollback",
            "rolling back a failed Update: its refused Password or DirectoryUserId changes were never applied"
        );
        for (_, old, new) in pairs {
            old.accept_as_applied(new);
        }
    }
}

fn refused_or_deferred(e: &ApiError) -> TakeOverError {
    if e.is_deferred() {
        TakeOverError::Deferred
    } else {
        TakeOverError::Refused(reason(e))
    }
}

/// Where a take-over keeps the agent's state before its first write (see [`before`]).
pub struct Keep<'a> {
    pub before: &'a Before,
    pub holder: &'a str,
    /// What the take-over's properties mention: what it may change, and so what a rollback puts back.
    pub mentioned: &'a properties::Mentioned,
}

/// Takes over the existing user `target` for the resource `holder`: [`check_take_over`], then
/// [`make_take_over`]. Returns the user as it was before. Used by `Custom::ConnectUser`.
#[allow(clippy::too_many_arguments)]
pub async fn take_over(
    connect: &Connect,
    props: &UserProps,
    target: &PhysicalId,
    holder: &str,
    records: &std::collections::BTreeMap<String, String>,
    keep: Option<Keep<'_>>,
    ctx: Option<&crate::cfn::Ctx>,
    deadline: Instant,
) -> Result<model::Actual, TakeOverError> {
    let checked = check_take_over(connect, props, target, holder, ctx, deadline).await.map_err(|e| match e {
        TakeOverError::Refused(why) => TakeOverError::Refused(format!("{why}; nothing was changed")),
        deferred => deferred,
    })?;
    make_take_over(connect, target, checked, records, keep, deadline).await
}

/// The calls that release `actual` from `holder`: first, when its state before the take-over was kept and
/// CloudFormation is rolling back (`phase`, asked only then), the calls that put every setting back; then the
/// removal of the reserved tags `keys`. Also whether it is put back (then the kept state is dropped once the
/// calls are made, as after any release). A stack whose status cannot be read is not rolled back: the settings
/// stay, as for a release at the stack's Delete.
pub async fn release_changes<F>(
    connect: &Connect,
    before: Option<&Before>,
    id: &PhysicalId,
    actual: &model::Actual,
    holder: &str,
    phase: F,
    deadline: Instant,
) -> Result<(Vec<Change>, bool), ApiError>
where
    F: std::future::Future<Output = Option<crate::cfn::stack::Phase>>,
{
    let keys: Vec<String> = actual.marker_tags.keys().cloned().collect();
    let untag = |mut changes: Vec<Change>| {
        if !keys.is_empty() {
            changes.push(Change::Untag(keys.clone()));
        }
        changes
    };
    let kept = match before {
        Some(b) => match b.get(&id.instance_id, &id.user_id, holder).await {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(error = %e, "the user's state before the take-over cannot be read: released as it is");
                None
            }
        },
        None => None,
    };
    let Some(kept) = kept else { return Ok((untag(Vec::new()), false)) };
    match phase.await {
        Some(crate::cfn::stack::Phase::RollingBack) => {}
        Some(crate::cfn::stack::Phase::Other) => return Ok((untag(Vec::new()), false)),
        None => {
            tracing::warn!(user_id = %id.user_id, "the stack's status cannot be read: released without putting its settings back");
            return Ok((untag(Vec::new()), false));
        }
    }
    let mut current = actual.clone();
    if kept.needs_proficiencies() {
        current.settings.proficiencies = Some(connect.list_proficiencies(&id.instance_id, &id.user_id, deadline).await?);
    }
    match before::restore_changes(&kept, &current) {
        Ok(back) => {
            let ops: Vec<&str> = back.iter().map(Change::operation).collect();
            tracing::info!(action = "restore", user_id = %id.user_id, calls = ?ops, "CloudFormation is rolling back the take-over: the user is put back as it was");
            Ok((untag(back), true))
        }
        Err(why) => {
            tracing::warn!(why = %why, "the user's kept state cannot be put back: released as it is");
            Ok((untag(Vec::new()), false))
        }
    }
}

/// Reads the user `target` names and checks it against the template before any write (it exists, its Name and
/// DirectoryUserId are the template's, no other resource holds it), then plans the calls that bring its settings
/// to the template with the in-place planner and record the hold. Reads only: a set checks every take-over of
/// its plan this way before its first write. A refusal's reason does not say that nothing was changed: the
/// caller knows.
pub async fn check_take_over(
    connect: &Connect,
    props: &UserProps,
    target: &PhysicalId,
    holder: &str,
    ctx: Option<&crate::cfn::Ctx>,
    deadline: Instant,
) -> Result<model::TakeOver, TakeOverError> {
    let with_proficiencies = props.settings.proficiencies.is_some();
    let before = match connect.read_user(&target.instance_id, &target.user_id, Duration::ZERO, with_proficiencies, deadline).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return Err(TakeOverError::Refused(format!("ImportId: there is no user {} in instance {}", target.user_id, target.instance_id)))
        }
        Err(e) => return Err(refused_or_deferred(&e)),
    };
    // A holder record naming a stack CloudFormation says is gone (deleted with the resource retained, or never
    // released) is stale: it does not block the take-over, which replaces it. A holder whose stack exists, or
    // whose stack cannot be looked up, still refuses.
    let mut seen = std::borrow::Cow::Borrowed(&before);
    let ours = before.marker_tags.get(ownership::HOLDER_TAG).is_some_and(|h| h == holder);
    if let (Some(ctx), Some((name, guid)), false) = (ctx, ownership::holder_stack(&before.marker_tags), ours) {
        if let Some(why) = ctx.other_stack_gone(&name, &guid).await {
            tracing::warn!(
                action = "take over a stale hold",
                user_id = %target.user_id,
                stale_holder = %before.marker_tags.get(ownership::HOLDER_TAG).cloned().unwrap_or_default(),
                "user {}'s holder record names stack {name} ({guid}), which CloudFormation says is {why}: the record is stale and the user is taken over",
                before.username
            );
            // The request marker beside it is that stack's too: without either, nobody holds the user.
            let tags = &mut seen.to_mut().marker_tags;
            tags.remove(ownership::HOLDER_TAG);
            tags.remove(ownership::MARKER_TAG);
        }
    }
    match planner::plan_import(props, target, holder, &seen) {
        Ok(changes) => Ok(model::TakeOver { before, changes }),
        Err(why) => {
            tracing::warn!(action = "reject", "import refused");
            Err(TakeOverError::Refused(why))
        }
    }
}

/// Makes a checked take-over (with `records`, more reserved tags, in the hold's call). A call that fails half-way
/// is followed by the calls that put back what was read before the first write. Returns the user as it was.
pub async fn make_take_over(
    connect: &Connect,
    target: &PhysicalId,
    checked: model::TakeOver,
    records: &std::collections::BTreeMap<String, String>,
    keep: Option<Keep<'_>>,
    deadline: Instant,
) -> Result<model::Actual, TakeOverError> {
    let model::TakeOver { before, mut changes } = checked;
    if !records.is_empty() {
        match changes.last_mut() {
            Some(Change::Tag(tags)) => tags.extend(records.clone()),
            _ => changes.push(Change::Tag(records.clone())),
        }
    }
    let held_already = before.marker_tags.get(ownership::HOLDER_TAG).map(String::as_str) == keep.as_ref().map(|k| k.holder);
    if let Some(k) = keep.filter(|_| !held_already) {
        // Before the first write: what the agent was like, for CloudFormation's rollback of this operation. (A
        // user this resource holds already is not kept again: that would keep the state it gave it.)
        if let Err(e) = k.before.keep(&target.instance_id, &before, k.holder, k.mentioned).await {
            return Err(TakeOverError::Refused(format!(
                "ImportId: keeping user {}'s settings before the take-over failed ({e}); nothing was changed",
                before.username
            )));
        }
    }
    let ops: Vec<&str> = changes.iter().map(Change::operation).collect();
    tracing::info!(action = "import", calls = ?ops, "decided");
    if let Err((done, e)) = apply_all(connect, target, &before.arn, &changes, deadline).await {
        if e.is_deferred() && done == 0 {
            return Err(TakeOverError::Deferred);
        }
        let undo = planner::inverse(&changes[..done], &before);
        let undone = match apply_all(connect, target, &before.arn, &undo, deadline).await {
            Ok(()) if done == 0 => "nothing had been changed".to_string(),
            Ok(()) => format!("the changes made before it ({}) were put back as they were", ops[..done].join(", ")),
            Err((_, e2)) => format!(
                "putting back the changes made before it ({}) failed too ({}), so the user may keep them",
                ops[..done].join(", "),
                reason(&e2)
            ),
        };
        tracing::warn!(action = "import-undone", undone = %undone, "import failed");
        if e.is_deferred() {
            // Out of time half-way: what was made is put back where time allowed; the next invocation reads the
            // user again and starts over.
            return Err(TakeOverError::Deferred);
        }
        return Err(TakeOverError::Refused(format!("ImportId: the import of user {} failed: {}; {undone}", before.username, reason(&e))));
    }
    Ok(before)
}

impl CustomResource for ConnectUserResource {
    async fn create(&self, ctx: &Ctx) -> Outcome {
        let props = match Self::parse(ctx) {
            Ok(p) => p,
            Err(o) => return o,
        };
        tracing::info!(action = if props.import.is_some() { "import" } else { "create" }, "decided");
        self.create_or_import(&props, ctx).await
    }

    async fn update(&self, ctx: &Ctx) -> Outcome {
        let props = match Self::parse(ctx) {
            Ok(p) => p,
            Err(o) => return o,
        };
        match self.decide_update(&props, ctx).await {
            Err(o) => o,
            Ok(Updated::Anew(why)) => {
                tracing::info!(action = "replace", why = %why, "decided");
                self.create_or_import(&props, ctx).await
            }
            Ok(Updated::Kept(current)) => {
                tracing::info!(action = "none", "only ImportId changed: who may delete the user, not the user");
                let arn = ids::user_arn(&ctx.request.stack_id, &current).unwrap_or_default();
                Outcome::Success { physical_resource_id: current.to_string(), data: translate::data(&props, &current.user_id, &arn) }
            }
            Ok(Updated::InPlace { current, actual, changes }) => {
                let ops: Vec<&str> = changes.iter().map(|c| c.operation()).collect();
                tracing::info!(action = if changes.is_empty() { "none" } else { "update" }, calls = ?ops, "decided");
                for (i, change) in changes.iter().enumerate() {
                    if let Err(e) = self.connect.apply(&current.instance_id, &actual.user_id, &actual.arn, change, ctx.deadline).await {
                        let done = ops[..i].join(", ");
                        return Outcome::failed(format!(
                            "{}; changes made before it: [{done}], which CloudFormation's rollback will revert",
                            reason(&e)
                        ));
                    }
                }
                Outcome::Success { physical_resource_id: current.to_string(), data: translate::data(&props, &actual.user_id, &actual.arn) }
            }
        }
    }

    async fn delete(&self, ctx: &Ctx) -> Outcome {
        let existing = ctx.request.physical_resource_id.clone().unwrap_or_default();
        let Some(id) = PhysicalId::parse(&existing) else {
            tracing::info!(action = "none", "physical id was never a user (failed create); nothing to delete");
            return Outcome::Success { physical_resource_id: existing, data: Default::default() };
        };
        if let Some(why) = &ctx.request.properties_unreadable {
            // Without its properties nobody can tell whether the user was imported (ImportId), and a user that
            // existed before the stack must never be deleted by it: keep it, and say so.
            tracing::warn!(action = "keep", why = %why, user_id = %id.user_id, "properties unreadable: the user is kept; delete it by hand if the stack created it");
            return Outcome::Success { physical_resource_id: existing, data: Default::default() };
        }
        if Immutable::read(&ctx.request.properties).import_given {
            return self.release(&id, ctx).await;
        }
        tracing::info!(action = "delete", "decided");
        match self.connect.delete_user(&id.instance_id, &id.user_id, ctx.deadline).await {
            Ok(existed) => {
                tracing::info!(already_gone = !existed, "deleted");
                Outcome::Success { physical_resource_id: existing, data: Default::default() }
            }
            Err(e) => Outcome::failed(reason(&e)),
        }
    }
}

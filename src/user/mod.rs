//! The Connect user resource: what Create, Update and Delete mean for an Amazon Connect user.
//!
//! - `properties`: typed, validated properties (everything is checked before any call);
//! - `planner`: the pure Update decision;
//! - `translate`: pure mapping to and from the SDK's shapes;
//! - `api`: the calls, with retries and error mapping.

pub mod api;
pub mod ids;
pub mod planner;
pub mod properties;
pub mod translate;

use crate::cfn::{Ctx, CustomResource, Outcome};
use api::{ApiError, Connect, Secrets};
use ids::PhysicalId;
use planner::Plan;
use properties::{Immutable, PasswordSource, UserProps};
use std::time::Duration;

/// How long a not-found DescribeUser is re-read before it is believed (Connect is eventually consistent
/// right after CreateUser).
const SETTLE: Duration = Duration::from_secs(3);

pub struct ConnectUserResource {
    connect: Connect,
    secrets: Secrets,
}

/// A Connect error as a FAILED reason: the operation, the code and the service's message.
fn reason(e: &ApiError) -> String {
    format!("{} failed: {}: {}", e.operation, e.code, e.message)
}

impl ConnectUserResource {
    pub fn new(connect: Connect, secrets: Secrets) -> ConnectUserResource {
        ConnectUserResource { connect, secrets }
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

    /// Creates the user, or adopts the one a previous attempt of this same request created. Used by Create,
    /// and by Update for a replacement or a re-creation.
    async fn create(&self, props: &UserProps, ctx: &Ctx) -> Outcome {
        let password = match self.password(props, ctx).await {
            Ok(p) => p,
            Err(o) => return o,
        };
        let r = &ctx.request;
        let marker = translate::marker_value(&r.stack_id, &r.logical_resource_id, &r.request_id);
        let (user_id, arn, adopted) = match self.connect.create_user(props, password.as_deref(), &marker, ctx.deadline).await {
            Ok((id, arn)) => (id, arn, false),
            Err(e) if e.is("DuplicateResourceException") => match self.adopt(props, &marker, ctx).await {
                Ok(Some((id, arn))) => (id, arn, true),
                Ok(None) => {
                    return Outcome::failed(format!(
                        "Name: a user named {} already exists in instance {} and was not created by this resource; choose another Name, or delete or import that user",
                        props.name, props.instance_id
                    ))
                }
                Err(e) => return Outcome::failed(reason(&e)),
            },
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

    /// A retried request finds the user its first attempt created by the marker tag; any other user of the
    /// same name is someone else's and is never taken over.
    async fn adopt(&self, props: &UserProps, marker: &str, ctx: &Ctx) -> Result<Option<(String, String)>, ApiError> {
        let found = self.connect.find_by_username(&props.instance_id, &props.name, ctx.deadline).await?;
        Ok(found.and_then(|(id, arn, tags)| {
            let ours = tags.get(translate::MARKER_TAG).map(String::as_str) == Some(marker);
            tracing::info!(action = if ours { "adopt" } else { "refuse-adoption" }, "user of the same name exists");
            ours.then_some((id, arn))
        }))
    }
}

impl CustomResource for ConnectUserResource {
    async fn create(&self, ctx: &Ctx) -> Outcome {
        let props = match Self::parse(ctx) {
            Ok(p) => p,
            Err(o) => return o,
        };
        tracing::info!(action = "create", "decided");
        self.create(&props, ctx).await
    }

    async fn update(&self, ctx: &Ctx) -> Outcome {
        let props = match Self::parse(ctx) {
            Ok(p) => p,
            Err(o) => return o,
        };
        let existing = ctx.request.physical_resource_id.clone().unwrap_or_default();
        let Some(current) = PhysicalId::parse(&existing) else {
            tracing::info!(action = "recreate", "physical id is not a user id; creating");
            return self.create(&props, ctx).await;
        };
        let old = Immutable::read(ctx.request.old_properties.as_ref().unwrap_or(&Default::default()));
        let new = Immutable::read(&ctx.request.properties);
        let actual = if props.instance_id == current.instance_id {
            match self.connect.describe_user(&current.instance_id, &current.user_id, SETTLE, ctx.deadline).await {
                Ok(Some(mut a)) if planner::needs_proficiencies(&props.settings, &old) => {
                    match self.connect.list_proficiencies(&current.instance_id, &current.user_id, ctx.deadline).await {
                        Ok(p) => a.settings.proficiencies = Some(p),
                        Err(e) => return Outcome::failed(reason(&e)),
                    }
                    Some(a)
                }
                Ok(a) => a,
                Err(e) => return Outcome::failed(reason(&e)),
            }
        } else {
            None
        };
        match planner::plan_update(&props, &old, &new, &current, actual.as_ref()) {
            Plan::Replace { why } => {
                tracing::info!(action = "replace", why = %why, "decided");
                self.create(&props, ctx).await
            }
            Plan::Recreate => {
                tracing::info!(action = "recreate", "user no longer exists; creating it again");
                self.create(&props, ctx).await
            }
            Plan::Reject { reason } => {
                tracing::warn!(action = "reject", "change not possible in place");
                Outcome::failed(reason)
            }
            Plan::InPlace(changes) => {
                let Some(actual) = actual else { return Outcome::failed("internal error: in-place plan without a user") };
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
        tracing::info!(action = "delete", "decided");
        match self.connect.delete_user(&id.instance_id, &id.user_id, ctx.deadline).await {
            Ok(existed) => {
                if !existed {
                    tracing::info!("user was already gone");
                }
                Outcome::Success { physical_resource_id: existing, data: Default::default() }
            }
            Err(e) => Outcome::failed(reason(&e)),
        }
    }
}

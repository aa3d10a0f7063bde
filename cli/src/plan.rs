//! `connect-users plan`: what deploying a roster or a template would do to an instance's users, read with the
//! caller's credentials and never written. Each `Custom::ConnectUserSet` is previewed by the library's own set
//! (`ConnectUserSet::preview`: the same parsing, name resolution, ownership rules, planner and refusals as the
//! function), each single user by the library's single resource (`ConnectUserResource::preview`), each sent the
//! event CloudFormation would send: an Update when the stack has the resource (its physical id says which user),
//! a Create otherwise.

use crate::export::sdk_config;
use crate::stack_template::{self, Context};
use crate::PlanArgs;
use connect_user_resource::cfn::event::{self, Intake};
use connect_user_resource::cfn::stack::Stacks;
use connect_user_resource::cfn::Ctx;
use connect_user_resource::roster::preview::Preview;
use connect_user_resource::roster::ConnectUserSet;
use connect_user_resource::user::ConnectUserResource;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// How long a plan may read (a large roster whose users must each be read, at Connect's default 2 per second).
const PLAN_BUDGET: Duration = Duration::from_secs(3 * 3600);
/// The bucket name standing for a roster file given as a local path.
const LOCAL: &str = "local-file";
const SET_TYPE: &str = "Custom::ConnectUserSet";
/// How a resource the stack does not have yet is shown.
const NOT_DEPLOYED: &str = "not deployed yet";

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Setup(#[from] crate::export::ExportError),
    #[error("{0}")]
    Template(String),
    #[error("reading stack {0} failed: {1}")]
    Stack(String, String),
    /// The function would answer FAILED, with this reason.
    #[error("{logical_id}: the deployment would fail: {reason}")]
    Refused { logical_id: String, reason: String },
}

/// One resource to preview: its logical id, type and resolved properties.
struct Target {
    logical_id: String,
    resource_type: String,
    properties: Map<String, Value>,
}

/// What CloudFormation knows of the stack: its id, and each resource's physical id.
struct Deployed {
    stack_id: String,
}

/// Runs the plan; `Ok(true)` when something would change.
pub async fn run(args: &PlanArgs) -> Result<bool, PlanError> {
    let config = sdk_config(args.region.as_deref(), args.profile.as_deref()).await?;
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let deployed = match &args.stack_name {
        Some(name) => stack(&cfn, name).await?,
        None => None,
    };
    let stack_name = args.stack_name.clone().unwrap_or_else(|| "connect-users-plan".into());
    let stack_id = deployed.as_ref().map(|d| d.stack_id.clone()).unwrap_or_else(|| {
        // A stack not created yet: nothing holds users under its name, and no id is needed to say so.
        format!("arn:aws:cloudformation:{region}:000000000000:stack/{stack_name}/not-created")
    });
    let account = stack_id.split(':').nth(4).unwrap_or("000000000000").to_string();

    let mut local = None;
    let targets = match (&args.template, &args.roster) {
        (Some(path), None) => {
            let text = std::fs::read_to_string(path).map_err(|e| PlanError::Usage(format!("cannot read {}: {e}", path.display())))?;
            let template = stack_template::parse(&text).map_err(PlanError::Template)?;
            let given = parameters(&args.parameter)?;
            let pseudo = [
                ("AWS::Region", region.as_str()),
                ("AWS::AccountId", account.as_str()),
                ("AWS::StackName", stack_name.as_str()),
                ("AWS::StackId", stack_id.as_str()),
                ("AWS::Partition", "aws"),
                ("AWS::URLSuffix", "amazonaws.com"),
            ];
            let context = Context::new(&template, &given, &pseudo).map_err(PlanError::Template)?;
            let all = stack_template::resources(&template, &context, &|t| t.starts_with("Custom::")).map_err(PlanError::Template)?;
            // A set by its type; a single user by its Name (any Custom:: type with a ServiceToken serves one user).
            let ours: Vec<Target> = all
                .into_iter()
                .filter(|r| r.resource_type == SET_TYPE || r.properties.keys().any(|k| k.eq_ignore_ascii_case("Name")))
                .map(|r| Target { logical_id: r.logical_id, resource_type: r.resource_type, properties: r.properties })
                .collect();
            if ours.is_empty() {
                return Err(PlanError::Template(format!("{} has no Connect user resource to plan", path.display())));
            }
            ours
        }
        (None, Some(roster)) => {
            let instance = args.instance_id.clone().ok_or_else(|| PlanError::Usage("--roster needs --instance-id".into()))?;
            let mut properties = Map::new();
            properties.insert("InstanceId".into(), json!(instance));
            if roster.starts_with("s3://") {
                properties.insert("Source".into(), json!(roster));
                if let Some(v) = &args.roster_version {
                    properties.insert("SourceVersion".into(), json!(v));
                }
            } else {
                let text = std::fs::read_to_string(roster).map_err(|e| PlanError::Usage(format!("cannot read {roster}: {e}")))?;
                let name = std::path::Path::new(roster).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                properties.insert("Source".into(), json!(format!("s3://{LOCAL}/{name}")));
                local = Some(text);
            }
            vec![Target { logical_id: args.logical_id.clone(), resource_type: SET_TYPE.into(), properties }]
        }
        _ => return Err(PlanError::Usage("give --template FILE or --roster FILE|s3://bucket/key".into())),
    };

    let set = ConnectUserSet::reading(&config, local);
    let user = ConnectUserResource::reading(&config);
    let mut previews = Vec::new();
    for t in targets {
        let physical = match (&deployed, &args.stack_name) {
            (Some(_), Some(name)) => physical_id(&cfn, name, &t.logical_id).await?,
            _ => None,
        };
        let ctx = context(&stack_id, &t, physical.clone(), &cfn)?;
        let refused =
            |reason: String| PlanError::Refused { logical_id: t.logical_id.clone(), reason: reason.replace(&format!("s3://{LOCAL}/"), "") };
        let preview = if t.resource_type == SET_TYPE {
            set.preview(&ctx).await.map_err(refused)?
        } else {
            let planned = user.preview(&ctx).await.map_err(refused)?;
            Preview {
                resource: physical.clone().unwrap_or_else(|| NOT_DEPLOYED.into()),
                held: usize::from(physical.is_some()),
                unchanged: usize::from(planned.is_none()),
                users: planned.into_iter().collect(),
            }
        };
        previews.push((t.logical_id, t.resource_type, preview));
    }
    let changes = previews.iter().any(|(_, _, p)| p.changes_anything());
    match args.format {
        crate::PlanFormat::Json => println!("{}", serde_json::to_string_pretty(&as_json(&previews)).unwrap_or_default()),
        crate::PlanFormat::Text => print!("{}", as_text(&previews)),
    }
    Ok(changes)
}

/// `K=V` pairs.
fn parameters(given: &[String]) -> Result<Vec<(String, String)>, PlanError> {
    given
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| PlanError::Usage(format!("--parameter {p}: expected NAME=VALUE")))
        })
        .collect()
}

async fn stack(cfn: &aws_sdk_cloudformation::Client, name: &str) -> Result<Option<Deployed>, PlanError> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => {
            let s = out.stacks().first();
            let gone =
                s.and_then(|s| s.stack_status()).is_some_and(|st| st.as_str() == "DELETE_COMPLETE" || st.as_str() == "REVIEW_IN_PROGRESS");
            Ok(s.filter(|_| !gone).and_then(|s| s.stack_id()).map(|id| Deployed { stack_id: id.to_string() }))
        }
        Err(e) => absent(name, &e),
    }
}

/// CloudFormation's "does not exist" (of a stack, or of a resource in it) is an answer: nothing deployed yet.
fn absent<T, E: std::error::Error + 'static, R: std::fmt::Debug>(
    stack: &str,
    e: &aws_sdk_cloudformation::error::SdkError<E, R>,
) -> Result<Option<T>, PlanError> {
    let message = aws_sdk_cloudformation::error::DisplayErrorContext(e).to_string();
    if message.contains("does not exist") {
        Ok(None)
    } else {
        Err(PlanError::Stack(stack.to_string(), message))
    }
}

async fn physical_id(cfn: &aws_sdk_cloudformation::Client, stack: &str, logical_id: &str) -> Result<Option<String>, PlanError> {
    match cfn.describe_stack_resource().stack_name(stack).logical_resource_id(logical_id).send().await {
        Ok(out) => Ok(out.stack_resource_detail().and_then(|d| d.physical_resource_id()).filter(|p| !p.is_empty()).map(str::to_string)),
        Err(e) => absent(stack, &e),
    }
}

/// The request CloudFormation would send for `t`, as the function receives it.
fn context(stack_id: &str, t: &Target, physical: Option<String>, cfn: &aws_sdk_cloudformation::Client) -> Result<Ctx, PlanError> {
    let mut props = t.properties.clone();
    props.insert("ServiceToken".into(), json!("arn:aws:lambda:::function:connect-users-plan"));
    let mut e = json!({
        "RequestType": if physical.is_some() { "Update" } else { "Create" },
        "ResponseURL": "https://plan.invalid/",
        "StackId": stack_id,
        "RequestId": "connect-users-plan",
        "ResourceType": t.resource_type,
        "LogicalResourceId": t.logical_id,
        "ResourceProperties": props,
    });
    if let Some(p) = physical {
        e["PhysicalResourceId"] = json!(p);
        // The deployed properties are CloudFormation's, and a NoEcho password among them reads as ****: the plan
        // compares with Connect instead, so a changed Password or DirectoryUserId (which Connect cannot show, and
        // the deployment refuses) is not seen here.
        e["OldResourceProperties"] = e["ResourceProperties"].clone();
    }
    match event::parse(e) {
        Intake::Request(r) => Ok(Ctx::new(*r, Instant::now() + PLAN_BUDGET).with_stacks(Stacks::new(cfn.clone()))),
        Intake::Malformed { reason, .. } => Err(PlanError::Template(format!("{}: {reason}", t.logical_id))),
    }
}

/// The verbs and their signs, in the order they are listed.
const ACTIONS: [(&str, &str); 6] =
    [("create", "+"), ("update", "~"), ("replace", "+-"), ("take over", ">"), ("release", "<"), ("delete", "-")];

/// Each resource's preview: logical id, type, preview.
type Previews = [(String, String, Preview)];

fn counts(previews: &Previews) -> Map<String, Value> {
    let mut c = Map::new();
    for (action, _) in ACTIONS {
        let n = previews.iter().flat_map(|(_, _, p)| &p.users).filter(|u| u.action == action).count();
        c.insert(action.to_string(), json!(n));
    }
    c.insert("unchanged".into(), json!(previews.iter().map(|(_, _, p)| p.unchanged).sum::<usize>()));
    c
}

fn as_json(previews: &Previews) -> Value {
    json!({
        "resources": previews.iter().map(|(id, ty, p)| json!({
            "logicalId": id,
            "type": ty,
            "resource": p.resource,
            "held": p.held,
            "unchanged": p.unchanged,
            "users": p.users,
        })).collect::<Vec<_>>(),
        "counts": counts(previews),
        "changes": previews.iter().any(|(_, _, p)| p.changes_anything()),
    })
}

fn as_text(previews: &Previews) -> String {
    let mut out = String::new();
    for (id, ty, p) in previews {
        if ty == SET_TYPE {
            out.push_str(&format!("{ty} {id} ({}; holds {} users)\n", p.resource, p.held));
        } else {
            out.push_str(&format!("{ty} {id} ({})\n", p.resource));
        }
        for (action, sign) in ACTIONS {
            for u in p.users.iter().filter(|u| u.action == action) {
                let id = if u.user_id.is_empty() { String::new() } else { format!(" ({})", u.user_id) };
                out.push_str(&format!("  {sign} {action} {}{id}", u.name));
                if !u.calls.is_empty() {
                    out.push_str(&format!(": {}", u.calls.join(", ")));
                }
                out.push('\n');
                for c in &u.changes {
                    out.push_str(&format!("      {c}\n"));
                }
            }
        }
        out.push_str(&format!("  {} unchanged\n", p.unchanged));
    }
    let c = counts(previews);
    let n = |k: &str| c.get(k).and_then(Value::as_u64).unwrap_or(0);
    out.push_str(&format!(
        "Plan: {} to create, {} to update, {} to replace, {} to take over, {} to release, {} to delete; {} unchanged.\n",
        n("create"),
        n("update"),
        n("replace"),
        n("take over"),
        n("release"),
        n("delete"),
        n("unchanged")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_user_resource::user::preview::Planned;

    fn preview() -> Preview {
        Preview {
            resource: "i:set:s/g/Roster".into(),
            held: 3,
            unchanged: 2,
            users: vec![
                Planned { name: "cai".into(), user_id: String::new(), action: "create", calls: vec!["CreateUser"], changes: vec![] },
                Planned {
                    name: "ben".into(),
                    user_id: "u-2".into(),
                    action: "update",
                    calls: vec!["UpdateUserIdentityInfo"],
                    changes: vec!["IdentityInfo.LastName: A -> B".into()],
                },
                Planned { name: "dan".into(), user_id: "u-4".into(), action: "delete", calls: vec!["DeleteUser"], changes: vec![] },
            ],
        }
    }

    #[test]
    fn the_text_lists_each_user_under_its_sign_with_its_calls_and_changes_then_the_counts() {
        let single = Preview {
            resource: NOT_DEPLOYED.into(),
            held: 0,
            unchanged: 0,
            users: vec![Planned {
                name: "eve".into(),
                user_id: String::new(),
                action: "create",
                calls: vec!["CreateUser"],
                changes: vec![],
            }],
        };
        let t = as_text(&[("Roster".into(), SET_TYPE.into(), preview()), ("Eve".into(), "Custom::ConnectUser".into(), single)]);
        assert_eq!(
            t,
            "Custom::ConnectUserSet Roster (i:set:s/g/Roster; holds 3 users)\n  + create cai: CreateUser\n  ~ update ben (u-2): UpdateUserIdentityInfo\n      IdentityInfo.LastName: A -> B\n  - delete dan (u-4): DeleteUser\n  2 unchanged\nCustom::ConnectUser Eve (not deployed yet)\n  + create eve: CreateUser\n  0 unchanged\nPlan: 2 to create, 1 to update, 0 to replace, 0 to take over, 0 to release, 1 to delete; 2 unchanged.\n"
        );
        let j = as_json(&[("Roster".into(), SET_TYPE.into(), preview())]);
        assert_eq!(j["counts"], json!({"create": 1, "update": 1, "replace": 0, "take over": 0, "release": 0, "delete": 1, "unchanged": 2}));
        assert_eq!(j["changes"], true);
        assert_eq!(j["resources"][0]["users"][1]["calls"], json!(["UpdateUserIdentityInfo"]));
        assert_eq!(j["resources"][0]["type"], SET_TYPE);
    }

    #[test]
    fn parameters_are_name_equals_value() {
        assert_eq!(parameters(&["A=b=c".into()]).unwrap(), [("A".to_string(), "b=c".to_string())]);
        assert!(parameters(&["novalue".into()]).is_err());
        assert!(parameters(&["=x".into()]).is_err());
    }
}

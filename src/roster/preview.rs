//! What deploying a set would do, without doing it: the function's own read, plan and refusals ([`prepare`]),
//! then, for the users the plan must read first, the same read and diff the run makes. `connect-users plan`
//! shows it; the calls listed are the writes the run would make.
//!
//! [`prepare`]: super::ConnectUserSet

use super::plan::Work;
use super::run::{read_entry, Unread};
use super::{pace_of, physical_id, set_holder, ConnectUserSet, Prepared, Stop};
use crate::cfn::Ctx;
use crate::connect::ownership;
use crate::connect::Connect;
use crate::user::model::{Actual, Change};
use crate::user::preview::{create_calls, described, take_over_calls, Planned};
use serde::Serialize;
use std::collections::HashMap;

/// The whole preview of one set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preview {
    /// The resource: a set's physical id before the roster's digest (`<instance>:set:<holder>`), a user's
    /// physical id, or `not deployed yet`.
    pub resource: String,
    pub users: Vec<Planned>,
    /// Users already as their entry wants them.
    pub unchanged: usize,
    /// How many users the set holds now.
    pub held: usize,
}

impl Preview {
    pub fn changes_anything(&self) -> bool {
        !self.users.is_empty()
    }
}

impl ConnectUserSet {
    /// A set that only reads, with the clients of `config` (the caller's own credentials): for previews.
    /// `local_source`, when given, is read in place of the set's `Source`.
    pub fn reading(config: &aws_config::SdkConfig, local_source: Option<String>) -> ConnectUserSet {
        let files = super::s3::Files::from_config(config);
        ConnectUserSet::new(
            Connect::new(aws_sdk_connect::Client::new(config)),
            crate::connect::Secrets::new(aws_sdk_secretsmanager::Client::new(config)),
            match local_source {
                Some(t) => files.with_local_text(t),
                None => files,
            },
        )
    }

    /// What an event `ctx` (a Create, or an Update of the set as deployed) would do, read from Connect and never
    /// written: the same load, plan and refusals as the function (passwords aside: they are read only when
    /// users are created, and never by a preview). `Err` is the function's FAILED reason.
    pub async fn preview(&self, ctx: &Ctx) -> Result<Preview, String> {
        let stop = |s: Stop| match s {
            Stop::Failed(why) => why,
            Stop::Deferred(what) => format!("{what} (the preview's time ran out)"),
        };
        let connect = self.paced(ctx, pace_of(&ctx.request.properties)).connect;
        let (set, _, _) = self.load(ctx, &connect, None).await.map_err(stop)?;
        let instance = set.instance_id.clone();
        let r = &ctx.request;
        let holder = set_holder(r, &instance);
        let marker = ownership::marker_value(&r.stack_id, &r.logical_resource_id, &r.request_id);
        let previous = HashMap::new();
        let Prepared { set_plan, held_count, checked, .. } = self
            .prepare(ctx, &connect, Some(&set), &previous, &instance, (&holder, &marker), (None, false), (false, false))
            .await
            .map_err(stop)?;
        let mut out =
            Preview { resource: physical_id(&instance, &holder), held: held_count, unchanged: set_plan.unchanged, users: Vec::new() };
        for w in set_plan.work {
            let planned = match w {
                Work::Create { entry } => {
                    let e = &set.entries[entry];
                    let mut calls = create_calls(&e.props);
                    if calls.len() > 1 {
                        // The entry's digest follows its proficiencies (see run.rs's create).
                        calls.push("TagResource");
                    }
                    Planned { name: e.props.name.clone(), user_id: String::new(), action: "create", calls, changes: Vec::new() }
                }
                Work::Import { entry } => {
                    let e = &set.entries[entry];
                    let Some(t) = checked.get(&entry) else { continue };
                    Planned {
                        name: e.props.name.clone(),
                        user_id: t.before.user_id.clone(),
                        action: "take over",
                        calls: take_over_calls(&t.changes),
                        changes: described(&t.changes, &t.before),
                    }
                }
                Work::Update { entry, user, changes } => update(&set.entries[entry].props.name, &user, &changes),
                Work::Read { entry, user } => {
                    let e = &set.entries[entry];
                    let read = read_entry(&connect, &instance, e, previous.get(&e.props.name), &user.user_id, &marker, ctx.deadline).await;
                    match read.map_err(|u| match u {
                        Unread::Api(err) => format!("{}: {}", e.what(), crate::user::reason(&err)),
                        Unread::Refused(why) => why,
                    })? {
                        Some((actual, changes)) if !changes.is_empty() => update(&e.props.name, &actual, &changes),
                        _ => {
                            out.unchanged += 1;
                            continue;
                        }
                    }
                }
                Work::Delete { user } => Planned {
                    name: user.username.clone(),
                    user_id: user.user_id.clone(),
                    action: "delete",
                    calls: vec!["DeleteUser"],
                    changes: Vec::new(),
                },
                Work::Release { user } => Planned {
                    name: user.username.clone(),
                    user_id: user.user_id.clone(),
                    action: "release",
                    calls: if user.marker_tags.is_empty() { Vec::new() } else { vec!["UntagResource"] },
                    changes: Vec::new(),
                },
            };
            out.users.push(planned);
        }
        out.users.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

fn update(name: &str, user: &Actual, changes: &[Change]) -> Planned {
    Planned {
        name: name.to_string(),
        user_id: user.user_id.clone(),
        action: "update",
        calls: changes.iter().map(Change::operation).collect(),
        changes: described(changes, user),
    }
}

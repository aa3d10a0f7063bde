//! What deploying a set would do, without doing it: the function's own read, plan and refusals ([`prepare`]),
//! then, for the users the plan must read first, the same read and diff the run makes. `connect-users plan`
//! shows it; the calls listed are the writes the run would make.
//!
//! [`prepare`]: super::ConnectUserSet

use super::plan::{self, Work};
use super::props::{OldEntry, SetProps};
use super::{pace_of, physical_id, set_holder, ConnectUserSet, Prepared, Stop};
use crate::cfn::Ctx;
use crate::user::api::Connect;
use crate::user::planner::{self, Actual, Change};
use crate::user::translate;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// One user the deployment would change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    pub name: String,
    /// Empty for a user not created yet.
    pub user_id: String,
    /// `create`, `update`, `take over`, `delete`, `release`.
    pub action: &'static str,
    /// The Connect writes, in order.
    pub calls: Vec<&'static str>,
    /// Each changed setting, `old -> new` (passwords are never shown).
    pub changes: Vec<String>,
}

/// The whole preview of one set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preview {
    /// The set's physical id before the round's digest (`<instance>:set:<holder>`).
    pub set: String,
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

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(none)".into())
}

/// The reserved tags the function keeps for itself: bookkeeping, not a setting to show.
fn reserved(key: &str) -> bool {
    key.starts_with(crate::user::properties::RESERVED_TAG_PREFIX)
}

/// What one change does to `before`, in the template's words. Reserved tags (who holds the user, the entry's
/// digest) are not settings and are not shown.
pub fn describe(change: &Change, before: &Actual) -> Vec<String> {
    let s = &before.settings;
    match change {
        Change::RoutingProfile(rp) => vec![format!("RoutingProfileId: {} -> {rp}", s.routing_profile_id)],
        Change::SecurityProfiles(ids) => {
            let old: Vec<&String> = s.security_profile_ids.iter().collect();
            vec![format!("SecurityProfileIds: {old:?} -> {ids:?}")]
        }
        Change::Hierarchy(h) => vec![format!("HierarchyGroupId: {} -> {}", opt(&s.hierarchy_group_id), opt(h))],
        Change::IdentityInfo(i) => {
            let o = &s.identity_info;
            [
                ("FirstName", &o.first_name, &i.first_name),
                ("LastName", &o.last_name, &i.last_name),
                ("Email", &o.email, &i.email),
                ("SecondaryEmail", &o.secondary_email, &i.secondary_email),
                ("Mobile", &o.mobile, &i.mobile),
            ]
            .into_iter()
            .filter(|(_, a, b)| a != b)
            .map(|(k, a, b)| format!("IdentityInfo.{k}: {} -> {}", opt(a), opt(b)))
            .collect()
        }
        Change::PhoneConfig(p) => {
            let o = s.phone_config.clone().unwrap_or_default();
            let mut out = Vec::new();
            if o.phone_type != p.phone_type {
                out.push(format!("PhoneConfig.PhoneType: {} -> {}", o.phone_type.as_str(), p.phone_type.as_str()));
            }
            if o.auto_accept != p.auto_accept {
                out.push(format!("PhoneConfig.AutoAccept: {} -> {}", o.auto_accept, p.auto_accept));
            }
            if o.after_contact_work_time_limit != p.after_contact_work_time_limit {
                out.push(format!(
                    "PhoneConfig.AfterContactWorkTimeLimit: {} -> {}",
                    o.after_contact_work_time_limit, p.after_contact_work_time_limit
                ));
            }
            if o.desk_phone_number != p.desk_phone_number {
                out.push(format!("PhoneConfig.DeskPhoneNumber: {} -> {}", opt(&o.desk_phone_number), opt(&p.desk_phone_number)));
            }
            if o.persistent_connection != p.persistent_connection {
                out.push(format!("PhoneConfig.PersistentConnection: {} -> {}", o.persistent_connection, p.persistent_connection));
            }
            out
        }
        Change::Config(_) => {
            vec!["per-channel settings (AutoAcceptConfigs, AfterContactWorkConfigs, PhoneNumberConfigs, PersistentConnectionConfigs)".into()]
        }
        Change::DisassociateProficiencies(p) => vec![format!("UserProficiencies: {} removed", p.len())],
        Change::UpdateProficiencies(p) => vec![format!("UserProficiencies: {} changed level", p.len())],
        Change::AssociateProficiencies(p) => vec![format!("UserProficiencies: {} added", p.len())],
        Change::Untag(keys) => {
            let shown: Vec<&String> = keys.iter().filter(|k| !reserved(k)).collect();
            shown.iter().map(|k| format!("Tags.{k}: {} -> (none)", s.tags.get(*k).map(String::as_str).unwrap_or("?"))).collect()
        }
        Change::Tag(tags) => tags
            .iter()
            .filter(|(k, _)| !reserved(k))
            .map(|(k, v)| format!("Tags.{k}: {} -> {v}", s.tags.get(k).map(String::as_str).unwrap_or("(none)")))
            .collect(),
    }
}

fn described(changes: &[Change], before: &Actual) -> Vec<String> {
    changes.iter().flat_map(|c| describe(c, before)).collect()
}

/// The writes of a take-over: its checked changes, and the tag that records the hold (added to the last tag
/// change, as `make_take_over` does).
fn take_over_calls(changes: &[Change]) -> Vec<&'static str> {
    let mut calls: Vec<&'static str> = changes.iter().map(Change::operation).collect();
    if !matches!(changes.last(), Some(Change::Tag(_))) {
        calls.push("TagResource");
    }
    calls
}

impl ConnectUserSet {
    /// A set that only reads, with the clients of `config` (the caller's own credentials): for previews.
    /// `local_source`, when given, is read in place of the set's `Source`.
    pub fn reading(config: &aws_config::SdkConfig, local_source: Option<String>) -> ConnectUserSet {
        let files = super::s3::Files::from_config(config);
        ConnectUserSet::new(
            Connect::new(aws_sdk_connect::Client::new(config)),
            crate::user::api::Secrets::new(aws_sdk_secretsmanager::Client::new(config)),
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
        let (connect, _) = self.paced(ctx, pace_of(&ctx.request.properties));
        let (set, _, _) = self.load(ctx, &connect, None).await.map_err(stop)?;
        let instance = set.instance_id.clone();
        let r = &ctx.request;
        let holder = set_holder(r, &instance);
        let marker = translate::marker_value(&r.stack_id, &r.logical_resource_id, &r.request_id);
        let previous = HashMap::new();
        let Prepared { set_plan, held_count, checked, .. } = self
            .prepare(ctx, &connect, Some(&set), &previous, &instance, (&holder, &marker), (None, false), (false, false))
            .await
            .map_err(stop)?;
        let mut out = Preview { set: physical_id(&instance, &holder), held: held_count, unchanged: set_plan.unchanged, users: Vec::new() };
        for w in set_plan.work {
            let planned = match w {
                Work::Create { entry } => {
                    let e = &set.entries[entry];
                    let mut calls = vec!["CreateUser"];
                    if let Some(p) = e.props.settings.proficiencies.as_ref().filter(|p| !p.is_empty()) {
                        calls.extend(planner::proficiency_changes(p, &Default::default()).iter().map(Change::operation));
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
                    match read(&connect, &set, entry, &previous, &user, &marker, ctx).await? {
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

/// A held user the search page could not tell everything about, read as the run reads it; `None` when it is gone.
async fn read(
    connect: &Connect,
    set: &SetProps,
    entry: usize,
    previous: &HashMap<String, OldEntry>,
    user: &Actual,
    marker: &str,
    ctx: &Ctx,
) -> Result<Option<(Actual, Vec<Change>)>, String> {
    let e = &set.entries[entry];
    let failed = |err: crate::user::api::ApiError| format!("{}: {}", e.what(), crate::user::reason(&err));
    let Some(mut actual) = connect.describe_user(&set.instance_id, &user.user_id, Duration::ZERO, ctx.deadline).await.map_err(failed)?
    else {
        return Ok(None);
    };
    let old = previous.get(&e.props.name);
    if e.props.settings.proficiencies.is_some() || old.is_some_and(plan::mentions_proficiencies) {
        actual.settings.proficiencies =
            Some(connect.list_proficiencies(&set.instance_id, &user.user_id, ctx.deadline).await.map_err(failed)?);
    }
    let changes = plan::entry_changes(e, old, &actual, marker)?;
    Ok(Some((actual, changes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::properties::{IdentityInfo, PhoneConfig, PhoneType, Settings};
    use std::collections::BTreeMap;

    fn actual() -> Actual {
        let mut settings = Settings::empty();
        settings.routing_profile_id = "rp-1".into();
        settings.security_profile_ids = ["sp-1".to_string()].into();
        settings.identity_info = IdentityInfo { first_name: Some("Ana".into()), last_name: Some("Silva".into()), ..Default::default() };
        settings.phone_config = Some(PhoneConfig::default());
        settings.tags = BTreeMap::from([("team".to_string(), "blue".to_string())]);
        Actual {
            user_id: "u-1".into(),
            arn: "arn".into(),
            username: "ana".into(),
            directory_user_id: None,
            settings,
            marker_tags: BTreeMap::new(),
        }
    }

    #[test]
    fn each_change_is_shown_old_to_new_and_the_functions_own_tags_are_not_settings() {
        let a = actual();
        assert_eq!(describe(&Change::RoutingProfile("rp-2".into()), &a), ["RoutingProfileId: rp-1 -> rp-2"]);
        assert_eq!(describe(&Change::SecurityProfiles(vec!["sp-2".into()]), &a), ["SecurityProfileIds: [\"sp-1\"] -> [\"sp-2\"]"]);
        assert_eq!(describe(&Change::Hierarchy(Some("hg-1".into())), &a), ["HierarchyGroupId: (none) -> hg-1"]);
        let i = IdentityInfo {
            first_name: Some("Ana".into()),
            last_name: Some("Diaz".into()),
            email: Some("a@x.io".into()),
            ..Default::default()
        };
        assert_eq!(
            describe(&Change::IdentityInfo(i), &a),
            ["IdentityInfo.LastName: Silva -> Diaz", "IdentityInfo.Email: (none) -> a@x.io"]
        );
        let p = PhoneConfig {
            phone_type: PhoneType::DeskPhone,
            desk_phone_number: Some("+1".into()),
            after_contact_work_time_limit: 30,
            ..Default::default()
        };
        assert_eq!(
            describe(&Change::PhoneConfig(p), &a),
            [
                "PhoneConfig.PhoneType: SOFT_PHONE -> DESK_PHONE",
                "PhoneConfig.AfterContactWorkTimeLimit: 0 -> 30",
                "PhoneConfig.DeskPhoneNumber: (none) -> +1"
            ]
        );
        let tags = BTreeMap::from([
            ("team".to_string(), "red".to_string()),
            (format!("{}entry", crate::user::properties::RESERVED_TAG_PREFIX), "d".to_string()),
        ]);
        assert_eq!(describe(&Change::Tag(tags), &a), ["Tags.team: blue -> red"]);
        assert_eq!(
            describe(&Change::Untag(vec!["team".into(), format!("{}holder", crate::user::properties::RESERVED_TAG_PREFIX)]), &a),
            ["Tags.team: blue -> (none)"]
        );
    }

    #[test]
    fn a_take_over_records_its_hold_with_a_tag_call_of_its_own_unless_it_tags_anyway() {
        assert_eq!(take_over_calls(&[Change::RoutingProfile("rp".into())]), ["UpdateUserRoutingProfile", "TagResource"]);
        assert_eq!(take_over_calls(&[Change::Tag(BTreeMap::new())]), ["TagResource"]);
        assert_eq!(take_over_calls(&[]), ["TagResource"]);
    }
}

//! What a deployment would do to one user, in words: the change, each setting old -> new, and the calls. Shared
//! by the single resource's preview and a set's ([`crate::roster::preview`]); `connect-users plan` prints it.

use super::model::{Actual, Change};
use super::planner;
use super::properties::{UserProps, RESERVED_TAG_PREFIX};
use super::{check_take_over, ConnectUserResource, Updated};
use crate::cfn::{Ctx, Outcome};
use crate::connect::ownership;
use serde::Serialize;

/// One user the deployment would change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    pub name: String,
    /// Empty for a user not created yet.
    pub user_id: String,
    /// `create`, `update`, `replace`, `take over`, `delete`, `release`.
    pub action: &'static str,
    /// The Connect writes, in order.
    pub calls: Vec<&'static str>,
    /// Each changed setting, `old -> new` (passwords are never shown).
    pub changes: Vec<String>,
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(none)".into())
}

/// The reserved tags the function keeps for itself: bookkeeping, not a setting to show.
fn reserved(key: &str) -> bool {
    key.starts_with(RESERVED_TAG_PREFIX)
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

pub fn described(changes: &[Change], before: &Actual) -> Vec<String> {
    changes.iter().flat_map(|c| describe(c, before)).collect()
}

/// The writes of a take-over: its checked changes, and the tag that records the hold (added to the last tag
/// change, as `make_take_over` does).
pub fn take_over_calls(changes: &[Change]) -> Vec<&'static str> {
    let mut calls: Vec<&'static str> = changes.iter().map(Change::operation).collect();
    if !matches!(changes.last(), Some(Change::Tag(_))) {
        calls.push("TagResource");
    }
    calls
}

/// The writes of a new user: CreateUser, then its proficiencies.
pub fn create_calls(props: &UserProps) -> Vec<&'static str> {
    let mut calls = vec!["CreateUser"];
    if let Some(p) = props.settings.proficiencies.as_ref().filter(|p| !p.is_empty()) {
        calls.extend(planner::proficiency_changes(p, &Default::default()).iter().map(Change::operation));
    }
    calls
}

fn failed_reason(o: Outcome) -> String {
    match o {
        Outcome::Failed { reason, .. } => reason,
        Outcome::Success { .. } | Outcome::Continue { .. } => "internal error: no reason".into(),
    }
}

impl ConnectUserResource {
    /// A resource that only reads, with the clients of `config` (the caller's own credentials): for previews.
    pub fn reading(config: &aws_config::SdkConfig) -> ConnectUserResource {
        ConnectUserResource::new(
            crate::connect::Connect::new(aws_sdk_connect::Client::new(config)),
            crate::connect::Secrets::new(aws_sdk_secretsmanager::Client::new(config)),
        )
    }

    /// What the event `ctx` (a Create, or an Update of the resource as deployed) would do to its user, read and
    /// never written; `None` when nothing would change. `Err` is the function's FAILED reason.
    pub async fn preview(&self, ctx: &Ctx) -> Result<Option<Planned>, String> {
        let props = Self::parse(ctx).map_err(failed_reason)?;
        let r = &ctx.request;
        let holder = ownership::holder_value(&r.stack_id, &r.logical_resource_id);
        if r.physical_resource_id.is_none() {
            return self.anew(&props, &holder, "create", Vec::new(), ctx).await.map(Some);
        }
        match self.decide_update(&props, ctx).await.map_err(failed_reason)? {
            Updated::Anew(why) => self.anew(&props, &holder, "replace", vec![why], ctx).await.map(Some),
            Updated::Kept(_) => Ok(None),
            Updated::InPlace { changes, .. } if changes.is_empty() => Ok(None),
            Updated::InPlace { current, actual, changes } => Ok(Some(Planned {
                name: props.name.clone(),
                user_id: current.user_id.clone(),
                action: "update",
                calls: changes.iter().map(Change::operation).collect(),
                changes: described(&changes, &actual),
            })),
        }
    }

    /// A user made anew (created, or taken over with ImportId): what the function would call.
    async fn anew(
        &self,
        props: &UserProps,
        holder: &str,
        action: &'static str,
        changes: Vec<String>,
        ctx: &Ctx,
    ) -> Result<Planned, String> {
        match &props.import {
            Some(target) => {
                let t = check_take_over(&self.connect, props, target, holder, Some(ctx), ctx.deadline).await.map_err(|e| e.to_string())?;
                let mut shown = changes;
                shown.extend(described(&t.changes, &t.before));
                Ok(Planned {
                    name: props.name.clone(),
                    user_id: t.before.user_id.clone(),
                    action: if action == "create" { "take over" } else { action },
                    calls: t.changes.iter().map(Change::operation).collect(),
                    changes: shown,
                })
            }
            None => {
                // CreateUser would meet a user of this name: someone else's (a retry of this very request is not
                // a preview's case), refused as the function refuses it.
                let found =
                    self.connect.find_by_username(&props.instance_id, &props.name, ctx.deadline).await.map_err(|e| super::reason(&e))?;
                if let Some((id, _, _)) = found {
                    return Err(super::name_taken(props, &id));
                }
                Ok(Planned { name: props.name.clone(), user_id: String::new(), action, calls: create_calls(props), changes })
            }
        }
    }
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
        let tags = BTreeMap::from([("team".to_string(), "red".to_string()), (format!("{}entry", RESERVED_TAG_PREFIX), "d".to_string())]);
        assert_eq!(describe(&Change::Tag(tags), &a), ["Tags.team: blue -> red"]);
        assert_eq!(
            describe(&Change::Untag(vec!["team".into(), format!("{}holder", RESERVED_TAG_PREFIX)]), &a),
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

//! The pure decision of an Update: from the new properties, the old ones and the user's actual state, decide
//! between a replacement, a rejection, a re-creation, or a list of in-place changes (possibly none).
//!
//! In-place changes are computed against the actual state, not the old properties, so that drift made outside
//! the stack is corrected and the rollback Update that follows a half-done Update restores exactly what was there.

use crate::user::ids::PhysicalId;
use crate::user::properties::{IdentityInfo, Immutable, PhoneConfig, Settings, UserProps};
use std::collections::BTreeMap;

/// The user as Connect has it, in the same normalised shape as the desired settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Actual {
    pub user_id: String,
    pub arn: String,
    pub username: String,
    pub settings: Settings,
    /// Tags under the resource's reserved prefix, kept apart so they never show up as drift.
    pub marker_tags: BTreeMap<String, String>,
}

/// One in-place update call, in the order they are made.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    RoutingProfile(String),
    SecurityProfiles(Vec<String>),
    Hierarchy(Option<String>),
    IdentityInfo(IdentityInfo),
    PhoneConfig(PhoneConfig),
    Untag(Vec<String>),
    Tag(BTreeMap<String, String>),
}

impl Change {
    /// The Connect operation this change calls, for logs and reasons.
    pub fn operation(&self) -> &'static str {
        match self {
            Change::RoutingProfile(_) => "UpdateUserRoutingProfile",
            Change::SecurityProfiles(_) => "UpdateUserSecurityProfiles",
            Change::Hierarchy(_) => "UpdateUserHierarchy",
            Change::IdentityInfo(_) => "UpdateUserIdentityInfo",
            Change::PhoneConfig(_) => "UpdateUserPhoneConfig",
            Change::Untag(_) => "UntagResource",
            Change::Tag(_) => "TagResource",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// A new user under a new physical id; CloudFormation deletes the old one in cleanup.
    Replace { why: String },
    /// The user is gone (deleted outside the stack): create it again.
    Recreate,
    /// Cannot be done; nothing is changed.
    Reject { reason: String },
    /// The calls to make, in order; empty when nothing differs.
    InPlace(Vec<Change>),
}

/// Decides an Update. `actual` is `None` when the user no longer exists.
pub fn plan_update(new: &UserProps, old: &Immutable, new_immutable: &Immutable, current: &PhysicalId, actual: Option<&Actual>) -> Plan {
    if new.instance_id != current.instance_id {
        return Plan::Replace { why: format!("InstanceId changed from {} to {}", current.instance_id, new.instance_id) };
    }
    let Some(actual) = actual else { return Plan::Recreate };
    if actual.username != new.name {
        return Plan::Replace { why: format!("Name changed from {} to {}", actual.username, new.name) };
    }
    let password_changed = old.password != new_immutable.password
        || old.password_secret_id != new_immutable.password_secret_id
        || old.password_secret_key != new_immutable.password_secret_key;
    if password_changed {
        return Plan::Reject {
            reason: format!(
                "Password: cannot be changed on an existing user (Connect has no API for it, and a replacement under the same Name would collide); revert Password (or PasswordSecretId/PasswordSecretKey) to its previous value, or give the user a new Name to replace it. Nothing was changed for user {}",
                new.name
            ),
        };
    }
    if old.directory_user_id != new_immutable.directory_user_id {
        return Plan::Reject {
            reason: format!(
                "DirectoryUserId: cannot be changed on an existing user (Connect has no API for it, and a replacement under the same Name would collide); revert DirectoryUserId to its previous value, or give the user a new Name to replace it. Nothing was changed for user {}",
                new.name
            ),
        };
    }
    Plan::InPlace(diff(&new.settings, &actual.settings))
}

/// The calls that bring `actual` to `desired`, one per group that differs.
pub fn diff(desired: &Settings, actual: &Settings) -> Vec<Change> {
    let mut out = Vec::new();
    if desired.routing_profile_id != actual.routing_profile_id {
        out.push(Change::RoutingProfile(desired.routing_profile_id.clone()));
    }
    if desired.security_profile_ids != actual.security_profile_ids {
        out.push(Change::SecurityProfiles(desired.security_profile_ids.iter().cloned().collect()));
    }
    if desired.hierarchy_group_id != actual.hierarchy_group_id {
        out.push(Change::Hierarchy(desired.hierarchy_group_id.clone()));
    }
    if desired.identity_info != actual.identity_info {
        out.push(Change::IdentityInfo(desired.identity_info.clone()));
    }
    if desired.phone_config != actual.phone_config {
        out.push(Change::PhoneConfig(desired.phone_config.clone()));
    }
    let removed: Vec<String> = actual.tags.keys().filter(|k| !desired.tags.contains_key(*k)).cloned().collect();
    if !removed.is_empty() {
        out.push(Change::Untag(removed));
    }
    let added: BTreeMap<String, String> =
        desired.tags.iter().filter(|(k, v)| actual.tags.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !added.is_empty() {
        out.push(Change::Tag(added));
    }
    out
}

#[cfg(test)]
mod tests;

//! The pure decision of an Update: from the new properties, the old ones and the user's actual state, decide
//! between a replacement, a rejection, a re-creation, or a list of in-place changes (possibly none).
//!
//! In-place changes are computed against the actual state, not the old properties, so that drift made outside
//! the stack is corrected and the rollback Update that follows a half-done Update restores exactly what was there.

use crate::connect::ownership::{holder_of, HOLDER_TAG};
use crate::user::ids::PhysicalId;
use crate::user::model::{Actual, Change};
use crate::user::properties::{ChannelConfigs, Immutable, ListKind, Mentioned, PhoneConfig, Proficiencies, Settings, UserProps};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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
    if let Some(reason) = immutable_change(new, old, new_immutable) {
        return Plan::Reject { reason };
    }
    Plan::InPlace(diff(&new.settings, &actual.settings, &old.mentioned))
}

/// Why an Update cannot be made at all, whatever the user's state: a change of what Connect cannot change.
pub fn immutable_change(new: &UserProps, old: &Immutable, new_immutable: &Immutable) -> Option<String> {
    // With ImportId the password is never applied (Connect cannot set one on an existing user), so a change of it
    // changes nothing either.
    let password_changed = new.import.is_none() && old.password != new_immutable.password
        || old.password_secret_id != new_immutable.password_secret_id
        || old.password_secret_key != new_immutable.password_secret_key;
    if password_changed {
        return Some(format!(
            "Password: cannot be changed on an existing user (Connect has no API for it, and a replacement under the same Name would collide); revert Password (or PasswordSecretId/PasswordSecretKey) to its previous value, or give the user a new Name to replace it. Nothing was changed for user {}",
            new.name
        ));
    }
    if old.directory_user_id != new_immutable.directory_user_id {
        return Some(format!(
            "DirectoryUserId: cannot be changed on an existing user (Connect has no API for it, and a replacement under the same Name would collide); revert DirectoryUserId to its previous value, or give the user a new Name to replace it. Nothing was changed for user {}",
            new.name
        ));
    }
    None
}

/// Takes an existing user over: every mismatch between the user and the template (each naming the property and
/// both values), or the calls that bring the user's settings to the template, computed as for an in-place
/// Update, with the hold recorded by the last call (merged into the tag call when there is one).
pub fn plan_import(props: &UserProps, target: &PhysicalId, holder: &str, actual: &Actual) -> Result<Vec<Change>, String> {
    let mut errors = Vec::new();
    if actual.username != props.name {
        errors.push(format!("Name: the user that ImportId {target} names is {}, but Name is {}", actual.username, props.name));
    }
    if let Some(d) = &props.directory_user_id {
        if actual.directory_user_id.as_ref() != Some(d) {
            errors.push(format!(
                "DirectoryUserId: the user that ImportId {target} names has {}, but DirectoryUserId is {d}",
                actual.directory_user_id.as_deref().unwrap_or("none")
            ));
        }
    }
    let ours = actual.marker_tags.get(HOLDER_TAG).is_some_and(|h| h == holder);
    if let Some((stack, logical)) = holder_of(&actual.marker_tags).filter(|_| !ours) {
        errors.push(format!(
            "ImportId: user {} ({target}) is already held by resource {logical} of stack {stack}; release it there first (give that resource ImportId: {target} and update its stack, then remove the resource from that stack), or import another user. (A holder whose stack CloudFormation says is deleted does not block a take-over; one whose stack's status cannot be read, or that an earlier version recorded without the stack's identity, does: remove the tag {HOLDER_TAG} from the user, then import it)",
            actual.username
        ));
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let mut changes = diff(&props.settings, &actual.settings, &Default::default());
    if !ours {
        match changes.last_mut() {
            Some(Change::Tag(tags)) => {
                tags.insert(HOLDER_TAG.to_string(), holder.to_string());
            }
            _ => changes.push(Change::Tag(BTreeMap::from([(HOLDER_TAG.to_string(), holder.to_string())]))),
        }
    }
    Ok(changes)
}

/// The calls that undo `applied` (changes already made, in order), back to `before` as it was read before the
/// first of them: each group is set back whole, in reverse order. Used when an import fails half-way, so that
/// a user the stack does not own is left exactly as it was.
pub fn inverse(applied: &[Change], before: &Actual) -> Vec<Change> {
    let b = &before.settings;
    let no_proficiencies = Proficiencies::new();
    let had = b.proficiencies.as_ref().unwrap_or(&no_proficiencies);
    let levels = |keys: &mut dyn Iterator<Item = &(String, String)>| -> Proficiencies {
        keys.filter_map(|k| had.get(k).map(|l| (k.clone(), *l))).collect()
    };
    let tag_before = |k: &String| b.tags.get(k).or_else(|| before.marker_tags.get(k)).cloned();
    let mut out = Vec::new();
    for change in applied.iter().rev() {
        match change {
            Change::RoutingProfile(_) => out.push(Change::RoutingProfile(b.routing_profile_id.clone())),
            Change::SecurityProfiles(_) => out.push(Change::SecurityProfiles(b.security_profile_ids.iter().cloned().collect())),
            Change::Hierarchy(_) => out.push(Change::Hierarchy(b.hierarchy_group_id.clone())),
            Change::IdentityInfo(_) => out.push(Change::IdentityInfo(b.identity_info.clone())),
            Change::PhoneConfig(_) => out.push(Change::PhoneConfig(b.phone_config.clone().unwrap_or_default())),
            Change::Config(sent) => {
                let back: ChannelConfigs = sent
                    .iter()
                    .map(|(kind, entries)| {
                        let had = b.channel_configs.get(kind);
                        let entries = entries
                            .keys()
                            .map(|ch| (ch.clone(), had.and_then(|l| l.get(ch)).cloned().unwrap_or_else(|| kind.default_entry())))
                            .collect();
                        (*kind, entries)
                    })
                    .collect();
                out.push(Change::Config(back));
            }
            Change::DisassociateProficiencies(keys) => out.push(Change::AssociateProficiencies(levels(&mut keys.iter()))),
            Change::UpdateProficiencies(p) => out.push(Change::UpdateProficiencies(levels(&mut p.keys()))),
            Change::AssociateProficiencies(p) => out.push(Change::DisassociateProficiencies(p.keys().cloned().collect())),
            Change::Untag(keys) => {
                out.push(Change::Tag(keys.iter().filter_map(|k| tag_before(k).map(|v| (k.clone(), v))).collect()));
            }
            Change::Tag(tags) => {
                let added: Vec<String> = tags.keys().filter(|k| tag_before(k).is_none()).cloned().collect();
                let back: BTreeMap<String, String> = tags.keys().filter_map(|k| tag_before(k).map(|v| (k.clone(), v))).collect();
                if !added.is_empty() {
                    out.push(Change::Untag(added));
                }
                if !back.is_empty() {
                    out.push(Change::Tag(back));
                }
            }
        }
    }
    out
}

/// Whether an Update only adds, removes or rewrites `ImportId`: that changes who may delete the user, not the
/// user, so it needs no call at all.
pub fn only_import_changed(old: &Map<String, Value>, new: &Map<String, Value>) -> bool {
    let rest = |m: &Map<String, Value>| -> Map<String, Value> {
        m.iter().filter(|(k, _)| k.as_str() != "ImportId" && k.as_str() != "importId").map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let import = |m: &Map<String, Value>| m.get("ImportId").or_else(|| m.get("importId")).cloned();
    import(old) != import(new) && rest(old) == rest(new)
}

/// Whether an Update must read the user's proficiencies (an extra call): only when the template mentions them
/// now or did before.
pub fn needs_proficiencies(new: &Settings, old: &Immutable) -> bool {
    new.proficiencies.is_some() || old.mentioned.contains("UserProficiencies")
}

/// The proficiency calls that bring `actual` to `desired`: disassociate, update levels, associate.
pub fn proficiency_changes(desired: &Proficiencies, actual: &Proficiencies) -> Vec<Change> {
    let mut out = Vec::new();
    let gone: Vec<(String, String)> = actual.keys().filter(|k| !desired.contains_key(*k)).cloned().collect();
    if !gone.is_empty() {
        out.push(Change::DisassociateProficiencies(gone));
    }
    let changed: Proficiencies =
        desired.iter().filter(|(k, l)| actual.get(*k).is_some_and(|a| a != *l)).map(|(k, l)| (k.clone(), *l)).collect();
    if !changed.is_empty() {
        out.push(Change::UpdateProficiencies(changed));
    }
    let added: Proficiencies = desired.iter().filter(|(k, _)| !actual.contains_key(*k)).map(|(k, l)| (k.clone(), *l)).collect();
    if !added.is_empty() {
        out.push(Change::AssociateProficiencies(added));
    }
    out
}

/// PhoneConfig members that a given per-channel list manages instead are not PhoneConfig's to change.
fn masked(desired: &PhoneConfig, actual: &PhoneConfig, lists: &ChannelConfigs) -> PhoneConfig {
    let mut d = desired.clone();
    for kind in lists.keys() {
        match kind {
            ListKind::AutoAccept => d.auto_accept = actual.auto_accept,
            ListKind::AfterContactWork => d.after_contact_work_time_limit = actual.after_contact_work_time_limit,
            ListKind::PhoneNumber => {
                d.phone_type = actual.phone_type;
                d.desk_phone_number = actual.desk_phone_number.clone();
            }
            ListKind::PersistentConnection => d.persistent_connection = actual.persistent_connection,
            ListKind::VoiceEnhancement => {}
        }
    }
    d
}

/// The per-channel entries to send: those of a given list that differ from the actual ones, and for a list the
/// old template had but the new one has not, the actual non-default entries set back to the default.
fn config_changes(desired: &ChannelConfigs, actual: &ChannelConfigs, old_mentioned: &Mentioned) -> ChannelConfigs {
    let mut out = ChannelConfigs::new();
    let empty = BTreeMap::new();
    for kind in ListKind::ALL {
        let have = actual.get(&kind).unwrap_or(&empty);
        let wanted: BTreeMap<String, _> = match desired.get(&kind) {
            Some(entries) => entries
                .iter()
                .filter(|(ch, e)| have.get(*ch).unwrap_or(&kind.default_entry()) != *e)
                .map(|(c, e)| (c.clone(), e.clone()))
                .collect(),
            None if old_mentioned.contains(kind.name()) => {
                have.iter().filter(|(_, e)| **e != kind.default_entry()).map(|(c, _)| (c.clone(), kind.default_entry())).collect()
            }
            None => BTreeMap::new(),
        };
        if !wanted.is_empty() {
            out.insert(kind, wanted);
        }
    }
    out
}

/// The calls that bring `actual` to `desired`, one per group that differs.
pub fn diff(desired: &Settings, actual: &Settings, old_mentioned: &Mentioned) -> Vec<Change> {
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
    if let Some(d) = &desired.phone_config {
        let a = actual.phone_config.clone().unwrap_or_default();
        let d = masked(d, &a, &desired.channel_configs);
        if d != a {
            out.push(Change::PhoneConfig(d));
        }
    }
    let config = config_changes(&desired.channel_configs, &actual.channel_configs, old_mentioned);
    if !config.is_empty() {
        out.push(Change::Config(config));
    }
    if let Some(actual_p) = &actual.proficiencies {
        if desired.proficiencies.is_some() || old_mentioned.contains("UserProficiencies") {
            out.extend(proficiency_changes(desired.proficiencies.as_ref().unwrap_or(&Proficiencies::new()), actual_p));
        }
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

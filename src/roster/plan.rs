//! The set's plan, pure: from the entries wanted, the previous entries and the users the set holds now (as a
//! page of SearchUsers shows them), what to do for each user. Per user it is the single resource's planner
//! that decides; this only adds what a set needs: ownership, and knowing the settings a page does not show.
//!
//! A page leaves out Email, SecondaryEmail, Mobile and the proficiencies. Each user the set writes carries the
//! digest of those settings as applied, so when that digest is the wanted entry's or the previous entry's, they
//! are known without a call; otherwise the user is read (DescribeUser) first.

use crate::roster::props::{Entry, Hidden, OldEntry, SetProps};
use crate::user::ids::PhysicalId;
use crate::user::planner::{self, Actual, Change, Plan};

use crate::user::translate::{HOLDER_TAG, MARKER_TAG};
use std::collections::{BTreeMap, HashMap};

/// The digest of the settings a page does not show, as last applied to a user.
pub const ENTRY_TAG: &str = "connect-user-resource:entry";

/// How many names a refusal lists before it counts the rest.
const MAX_NAMED: usize = 20;

/// What to do for one user.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// Create the entry (index into the set's entries).
    Create { entry: usize },
    /// Take over the user the entry's `ImportId` names.
    Import { entry: usize },
    /// Make these calls on a held user.
    Update { entry: usize, user: Box<Actual>, changes: Vec<Change> },
    /// Read the held user first (what a page cannot show is not known), then plan it with [`entry_changes`].
    Read { entry: usize, user: Box<Actual> },
    /// Delete a user the set created and no longer wants.
    Delete { user: Box<Actual> },
    /// Let go of a user the set took over (its reserved tags removed; the user stays).
    Release { user: Box<Actual> },
}

impl Work {
    /// The kind, for reports and for running kinds side by side.
    pub fn kind(&self) -> &'static str {
        match self {
            Work::Create { .. } => "create",
            Work::Import { .. } => "import",
            Work::Update { .. } | Work::Read { .. } => "update",
            Work::Delete { .. } => "delete",
            Work::Release { .. } => "release",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SetPlan {
    pub work: Vec<Work>,
    /// Held users that already match their entries.
    pub unchanged: usize,
}

/// Whether the set created this user (and may therefore delete it): it carries a request marker.
pub fn created_by_set(user: &Actual) -> bool {
    user.marker_tags.contains_key(MARKER_TAG)
}

/// The plan, or why nothing may be done (every reason found, before any call).
///
/// `wanted` is `None` for a Delete. `previous` are the previous entries (an Update's old properties; on a Delete
/// the current ones), for what a user had and whether it was imported. `held` are the users tagged as held by
/// this set. `taken` are the names of all users of the instance (lowercase) when some wanted entry is not held.
pub fn plan(
    wanted: Option<&SetProps>,
    previous: &HashMap<String, OldEntry>,
    held: Vec<Actual>,
    taken: Option<&HashMap<String, String>>,
    marker: &str,
) -> Result<SetPlan, String> {
    let mut out = SetPlan::default();
    let mut rejections = Vec::new();
    let mut refused = Vec::new();
    // Taken by value: users to delete or release move into the plan instead of being copied.
    let mut held: Vec<Option<Actual>> = held.into_iter().map(Some).collect();
    let held_by_name: HashMap<String, usize> =
        held.iter().enumerate().filter_map(|(i, u)| u.as_ref().map(|u| (u.username.clone(), i))).collect();
    for (i, e) in wanted.map(|w| w.entries.as_slice()).unwrap_or_default().iter().enumerate() {
        let name = e.props.name.as_str();
        if let Some(old) = previous.get(name) {
            if let Some(why) = planner::immutable_change(&e.props, &old.immutable, &e.immutable) {
                rejections.push(format!("Users[{}] ({name}): {why}", e.index));
                continue;
            }
        }
        match held_by_name.get(name).and_then(|&i| held[i].take()) {
            Some(user) => {
                if let Some(t) = e.props.import.as_ref().filter(|t| t.user_id != user.user_id) {
                    rejections.push(format!(
                        "Users[{}].ImportId: names user {}, but this set already holds user {} named {name}",
                        e.index, t.user_id, user.user_id
                    ));
                    continue;
                }
                let old = previous.get(name);
                match known(e, old, &user) {
                    None => out.work.push(Work::Read { entry: i, user: Box::new(user) }),
                    Some(filled) => match entry_changes(e, old, &filled, marker) {
                        Err(why) => rejections.push(why),
                        Ok(c) if c.is_empty() => out.unchanged += 1,
                        Ok(changes) => out.work.push(Work::Update { entry: i, user: Box::new(filled), changes }),
                    },
                }
            }
            None if e.props.import.is_some() => out.work.push(Work::Import { entry: i }),
            None if taken.is_some_and(|t| t.contains_key(&name.to_lowercase())) => refused.push(name.to_string()),
            None => out.work.push(Work::Create { entry: i }),
        }
    }
    // What is left is held but no longer wanted.
    for user in held.into_iter().flatten() {
        let imported = previous.get(&user.username).is_some_and(|o| o.import_given);
        if created_by_set(&user) && !imported {
            out.work.push(Work::Delete { user: Box::new(user) });
        } else {
            out.work.push(Work::Release { user: Box::new(user) });
        }
    }
    if !refused.is_empty() {
        let more = refused.len().saturating_sub(MAX_NAMED);
        refused.truncate(MAX_NAMED);
        let mut names = refused.join(", ");
        if more > 0 {
            names.push_str(&format!(" and {more} more"));
        }
        rejections.insert(
            0,
            format!(
                "Users: these users already exist in the instance and are not held by this set: {names}. Remove them from Users, give their entries ImportId to take them over, or delete them first"
            ),
        );
    }
    if !rejections.is_empty() {
        return Err(rejections.join("; "));
    }
    Ok(out)
}

/// The held user with the settings a page leaves out filled in, when they are known: from the entry whose
/// digest the user carries (the wanted one, or the previous one). `None` when they must be read.
pub fn known(e: &Entry, old: Option<&OldEntry>, user: &Actual) -> Option<Actual> {
    let applied = user.marker_tags.get(ENTRY_TAG)?;
    let source: Hidden =
        if *applied == e.digest { Hidden::of(&e.props) } else { old.filter(|o| o.digest.as_ref() == Some(applied))?.hidden.clone()? };
    let mut filled = user.clone();
    let to = &mut filled.settings;
    to.identity_info.email = source.email;
    to.identity_info.secondary_email = source.secondary_email;
    to.identity_info.mobile = source.mobile;
    if e.props.settings.proficiencies.is_some() || old.is_some_and(mentions_proficiencies) {
        // What the source entry said is what the user has; an entry that said nothing leaves them unknown.
        to.proficiencies = Some(source.proficiencies?);
    }
    Some(filled)
}

/// Whether a previous entry managed proficiencies (so that removing them from the entry removes them).
pub fn mentions_proficiencies(old: &OldEntry) -> bool {
    old.immutable.mentioned.contains("UserProficiencies")
}

/// The calls for a held user whose settings are known: the single resource's in-place plan, then the set's
/// own records (the entry's digest, and ownership when the entry no longer imports the user). Nothing when the
/// user already matches.
pub fn entry_changes(e: &Entry, old: Option<&OldEntry>, actual: &Actual, marker: &str) -> Result<Vec<Change>, String> {
    let new_immutable = &e.immutable;
    let old_immutable = old.map(|o| &o.immutable).unwrap_or(new_immutable);
    let id = PhysicalId { instance_id: e.props.instance_id.clone(), user_id: actual.user_id.clone() };
    let mut changes = match planner::plan_update(&e.props, old_immutable, new_immutable, &id, Some(actual)) {
        Plan::InPlace(c) => c,
        Plan::Reject { reason } => return Err(format!("Users[{}] ({}): {reason}", e.index, e.props.name)),
        other => return Err(format!("Users[{}] ({}): internal error: unexpected {other:?}", e.index, e.props.name)),
    };
    let mut records = BTreeMap::new();
    if e.props.import.is_none() && !created_by_set(actual) {
        records.insert(MARKER_TAG.to_string(), marker.to_string());
    }
    if !changes.is_empty() && actual.marker_tags.get(ENTRY_TAG) != Some(&e.digest) {
        records.insert(ENTRY_TAG.to_string(), e.digest.clone());
    }
    if !records.is_empty() {
        match changes.last_mut() {
            Some(Change::Tag(tags)) => tags.extend(records),
            _ => changes.push(Change::Tag(records)),
        }
    }
    Ok(changes)
}

/// The reserved tags a release removes: the set's own records on the user.
pub fn release_keys(user: &Actual) -> Vec<String> {
    [HOLDER_TAG, MARKER_TAG, ENTRY_TAG].iter().filter(|k| user.marker_tags.contains_key(**k)).map(|k| k.to_string()).collect()
}

#[cfg(test)]
mod tests;

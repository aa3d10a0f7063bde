//! The set's plan, pure: from the entries wanted, the previous entries and the users the set holds now (as a
//! page of SearchUsers shows them), what to do for each user. Per user it is the single resource's planner
//! that decides; this only adds what a set needs: ownership, and knowing the settings a page does not show.
//!
//! A page leaves out Email, SecondaryEmail, Mobile and the proficiencies. Each user the set writes carries the
//! digest of those settings as applied, so when that digest is the wanted entry's or the previous entry's, they
//! are known without a call; otherwise the user is read (DescribeUser) first.

use crate::roster::props::{Entry, Hidden, OldEntry, SetProps};
use crate::user::ids::PhysicalId;
use crate::user::model::{Actual, Change};
use crate::user::planner::{self, Plan};

use crate::connect::ownership::{HOLDER_TAG, MARKER_TAG};
use std::collections::{BTreeMap, HashMap};

/// The digest of the settings a page does not show, as last applied to a user.
pub const ENTRY_TAG: &str = "connect-user-resource:entry";

/// How many names a refusal lists before it counts the rest.
const MAX_NAMED: usize = 20;

/// The most entries whose ids the answer's `UserIds` can carry (each name and id takes 40 bytes or more of its
/// 2,500): a larger roster's ids are not collected at all, which spares 20,000 entries' worth of memory.
pub const MAX_ID_ENTRIES: usize = 64;

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

/// The plan, or why nothing may be done (every reason found, before any call). See [`Planner`].
pub fn plan(
    wanted: Option<&SetProps>,
    previous: &HashMap<String, OldEntry>,
    held: Vec<Actual>,
    taken: Option<&HashMap<String, String>>,
    marker: &str,
) -> Result<SetPlan, String> {
    let mut p = Planner::new(wanted, previous, marker);
    for user in held {
        p.held(user);
    }
    p.finish(taken).map(|(plan, _)| plan)
}

/// Builds the set's plan one held user at a time, as the pages of SearchUsers arrive, so that only the users with
/// work to do are kept (a roster of 10,000 users read whole would not fit the function's memory).
///
/// `wanted` is `None` for a Delete. `previous` are the previous entries (an Update's old properties; on a Delete
/// the imported ones), for what a user had and whether it was imported.
pub struct Planner<'a> {
    wanted: &'a [Entry],
    by_name: HashMap<&'a str, usize>,
    previous: &'a HashMap<String, OldEntry>,
    marker: &'a str,
    /// Entries matched with a held user (or refused already).
    done: Vec<bool>,
    /// Name to id of the held users that are wanted: the answer's `UserIds`.
    ids: BTreeMap<String, String>,
    out: SetPlan,
    rejections: Vec<String>,
    /// Keep every held user's id, however large the roster (a run report lists every user).
    all_ids: bool,
}

impl<'a> Planner<'a> {
    /// Starts a plan; the changes no state can allow (Password, DirectoryUserId) are refused here.
    pub fn new(wanted: Option<&'a SetProps>, previous: &'a HashMap<String, OldEntry>, marker: &'a str) -> Planner<'a> {
        let wanted = wanted.map(|w| w.entries.as_slice()).unwrap_or_default();
        let mut p = Planner {
            wanted,
            by_name: wanted.iter().enumerate().map(|(i, e)| (e.props.name.as_str(), i)).collect(),
            previous,
            marker,
            done: vec![false; wanted.len()],
            ids: BTreeMap::new(),
            out: SetPlan::default(),
            rejections: Vec::new(),
            all_ids: false,
        };
        for (i, e) in wanted.iter().enumerate() {
            let old = previous.get(&e.props.name);
            if let Some(why) = old.and_then(|o| planner::immutable_change(&e.props, &o.immutable, &e.immutable)) {
                p.rejections.push(format!("{}: {why}", e.what()));
                p.done[i] = true;
            }
        }
        p
    }

    /// Keeps the id of every wanted user held already, not only a small roster's (see [`MAX_ID_ENTRIES`]).
    pub fn keeping_ids(mut self) -> Planner<'a> {
        self.all_ids = true;
        self
    }

    /// One user the set holds.
    pub fn held(&mut self, user: Actual) {
        let name = user.username.clone();
        let Some(&i) = self.by_name.get(name.as_str()) else {
            // Held but no longer wanted.
            let imported = self.previous.get(&name).is_some_and(|o| o.import_given);
            let w = if created_by_set(&user) && !imported {
                Work::Delete { user: Box::new(user) }
            } else {
                Work::Release { user: Box::new(user) }
            };
            self.out.work.push(w);
            return;
        };
        let e = &self.wanted[i];
        if std::mem::replace(&mut self.done[i], true) {
            return; // refused already
        }
        if self.all_ids || self.wanted.len() <= MAX_ID_ENTRIES {
            self.ids.insert(name.clone(), user.user_id.clone());
        }
        if let Some(t) = e.props.import.as_ref().filter(|t| t.user_id != user.user_id) {
            self.rejections.push(format!(
                "{}: names user {}, but this set already holds user {} named {name}",
                e.origin.at("ImportId"),
                t.user_id,
                user.user_id
            ));
            return;
        }
        let old = self.previous.get(&name);
        match known(e, old, &user) {
            None => self.out.work.push(Work::Read { entry: i, user: Box::new(user) }),
            Some(filled) => match entry_changes(e, old, &filled, self.marker) {
                Err(why) => self.rejections.push(why),
                Ok(c) if c.is_empty() => self.out.unchanged += 1,
                Ok(changes) => self.out.work.push(Work::Update { entry: i, user: Box::new(filled), changes }),
            },
        }
    }

    /// The wanted entry of a name, if any.
    pub fn wanted(&self, name: &str) -> Option<&'a Entry> {
        self.by_name.get(name).map(|&i| &self.wanted[i])
    }

    /// A held user the set's record shows brought to exactly its wanted entry (see [`crate::roster::held`]),
    /// planned without a read: nothing to do. `false` when that cannot be told (then the user is read).
    pub fn held_as_recorded(&mut self, name: &str, user_id: &str, given: Option<u64>) -> bool {
        let Some(&i) = self.by_name.get(name) else { return false };
        let e = &self.wanted[i];
        if self.done[i] || given != Some(e.given) || e.props.import.as_ref().is_some_and(|t| t.user_id != user_id) {
            return false;
        }
        self.done[i] = true;
        if self.all_ids || self.wanted.len() <= MAX_ID_ENTRIES {
            self.ids.insert(name.to_string(), user_id.to_string());
        }
        self.out.unchanged += 1;
        true
    }

    /// Whether some wanted entry is not held and not imported: the names of the instance's users must then be
    /// read, to refuse a Name that belongs to someone else.
    pub fn needs_names(&self) -> bool {
        self.wanted.iter().zip(&self.done).any(|(e, done)| !done && e.props.import.is_none())
    }

    /// The plan and the ids of the wanted users held already, or every reason found. `taken` are the names of all
    /// users of the instance (lowercase), when [`Planner::needs_names`].
    pub fn finish(mut self, taken: Option<&HashMap<String, String>>) -> Result<(SetPlan, BTreeMap<String, String>), String> {
        let mut refused = Vec::new();
        for (i, e) in self.wanted.iter().enumerate().filter(|(i, _)| !self.done[*i]) {
            let name = e.props.name.as_str();
            if e.props.import.is_some() {
                self.out.work.push(Work::Import { entry: i });
            } else if taken.is_some_and(|t| t.contains_key(&name.to_lowercase())) {
                refused.push(name.to_string());
            } else {
                self.out.work.push(Work::Create { entry: i });
            }
        }
        if !refused.is_empty() {
            let more = refused.len().saturating_sub(MAX_NAMED);
            refused.truncate(MAX_NAMED);
            let mut names = refused.join(", ");
            if more > 0 {
                names.push_str(&format!(" and {more} more"));
            }
            self.rejections.insert(
                0,
                format!(
                    "Users: these users already exist in the instance and are not held by this set: {names}. Remove them from Users, give their entries ImportId to take them over, or delete them first"
                ),
            );
        }
        if !self.rejections.is_empty() {
            return Err(self.rejections.join("; "));
        }
        Ok((self.out, self.ids))
    }
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
        Plan::Reject { reason } => return Err(format!("{}: {reason}", e.what())),
        other => return Err(format!("{}: internal error: unexpected {other:?}", e.what())),
    };
    let mut records = BTreeMap::new();
    if e.props.import.is_none() && !created_by_set(actual) {
        // The entry no longer imports the user: the set owns it now, and deletes it with the set.
        records.insert(MARKER_TAG.to_string(), marker.to_string());
    }
    if !changes.is_empty() && actual.marker_tags.get(ENTRY_TAG) != Some(&e.digest) {
        records.insert(ENTRY_TAG.to_string(), e.digest.clone());
    }
    if e.props.import.is_some() && created_by_set(actual) {
        // The entry imports the user (again: ImportId restored by hand or by a rollback): the set does not own it
        // any more, and only releases it. Before the settings' calls, so that a failure half-way never leaves a
        // user with ImportId that the set would delete.
        changes.insert(0, Change::Untag(vec![MARKER_TAG.to_string()]));
    }
    if !records.is_empty() {
        match changes.last_mut() {
            Some(Change::Tag(tags)) => tags.extend(records),
            _ => changes.push(Change::Tag(records)),
        }
    }
    Ok(changes)
}

/// How the set holds a user after `made` (calls made on it, in order), when they change it: the request marker
/// added (the entry no longer imports the user: the set owns it) or removed (it imports the user again).
pub fn hold_after(made: &[Change]) -> Option<crate::roster::held::Hold> {
    use crate::roster::held::Hold;
    made.iter().rev().find_map(|c| match c {
        Change::Tag(tags) if tags.contains_key(MARKER_TAG) => Some(Hold::Created),
        Change::Untag(keys) if keys.iter().any(|k| k == MARKER_TAG) => Some(Hold::TakenOver),
        _ => None,
    })
}

/// The reserved tags a release removes: the set's own records on the user.
pub fn release_keys(user: &Actual) -> Vec<String> {
    [HOLDER_TAG, MARKER_TAG, ENTRY_TAG].iter().filter(|k| user.marker_tags.contains_key(**k)).map(|k| k.to_string()).collect()
}

#[cfg(test)]
mod tests;

//! The seeded world: instances with their routing profiles, security profiles and hierarchy groups.
//! The checked-in default is what the sample events in `events/` refer to.

use serde::Deserialize;
use std::collections::BTreeMap;

pub const DEFAULT_FIXTURE: &str = include_str!("../fixtures/default.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Fixture {
    pub region: String,
    pub account: String,
    pub instances: Vec<InstanceFixture>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstanceFixture {
    pub id: String,
    #[serde(default)]
    pub alias: String,
    pub identity_management_type: String,
    #[serde(default = "default_user_limit")]
    pub user_limit: usize,
    #[serde(default)]
    pub routing_profiles: BTreeMap<String, String>,
    #[serde(default)]
    pub security_profiles: BTreeMap<String, String>,
    #[serde(default)]
    pub hierarchy_groups: BTreeMap<String, String>,
    /// Group id to its parent group's id; groups not listed are at level one. At most five levels.
    #[serde(default)]
    pub hierarchy_parents: BTreeMap<String, String>,
    #[serde(default)]
    pub predefined_attributes: BTreeMap<String, Vec<String>>,
    /// Agents the instance has before any stack: CreateUser request bodies with a fixed `Id` (and optionally
    /// `UserProficiencies`).
    #[serde(default)]
    pub users: Vec<serde_json::Value>,
}

impl InstanceFixture {
    /// A hierarchy group's path from level one down to it; `None` for an unknown group, a cycle or a path
    /// longer than Connect's five levels.
    pub fn hierarchy_path(&self, id: &str) -> Option<Vec<String>> {
        let mut path = vec![id.to_string()];
        let mut at = id;
        while let Some(parent) = self.hierarchy_parents.get(at) {
            if path.len() >= 5 || !self.hierarchy_groups.contains_key(parent) {
                return None;
            }
            path.push(parent.clone());
            at = parent;
        }
        self.hierarchy_groups.contains_key(id).then(|| path.into_iter().rev().collect())
    }
}

fn default_user_limit() -> usize {
    1000
}

impl Fixture {
    /// The fixture of `text`, its hierarchies checked; [`crate::seed::parse`] checks its users too.
    pub fn read(text: &str) -> Result<Fixture, String> {
        let f: Fixture = serde_json::from_str(text).map_err(|e| format!("fixture: {e}"))?;
        for i in &f.instances {
            for id in i.hierarchy_groups.keys() {
                i.hierarchy_path(id)
                    .ok_or_else(|| format!("fixture: hierarchy group {id}: unknown parent, a cycle, or more than five levels"))?;
            }
        }
        Ok(f)
    }
    pub fn default_fixture() -> Fixture {
        // The default fixture is compiled in and covered by tests (its users too: `seed`), so a failure is a build
        // defect.
        Self::read(DEFAULT_FIXTURE).unwrap_or_else(|e| panic!("embedded default fixture is invalid: {e}"))
    }
}

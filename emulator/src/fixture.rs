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
    #[serde(default)]
    pub predefined_attributes: BTreeMap<String, Vec<String>>,
    /// Agents the instance has before any stack: CreateUser request bodies with a fixed `Id` (and optionally
    /// `UserProficiencies`).
    #[serde(default)]
    pub users: Vec<serde_json::Value>,
}

fn default_user_limit() -> usize {
    1000
}

impl Fixture {
    pub fn parse(text: &str) -> Result<Fixture, String> {
        let f: Fixture = serde_json::from_str(text).map_err(|e| format!("fixture: {e}"))?;
        crate::world::World::seeded(&f)?;
        Ok(f)
    }
    pub fn default_fixture() -> Fixture {
        // The default fixture is compiled in and covered by tests, so a parse failure is a build defect.
        Self::parse(DEFAULT_FIXTURE).unwrap_or_else(|e| panic!("embedded default fixture is invalid: {e}"))
    }
}

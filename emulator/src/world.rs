//! The emulator's state: instances seeded from the fixture, and the users created through the API.

use crate::error::ApiError;
use crate::fixture::{Fixture, InstanceFixture};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Serialize)]
pub struct Proficiency {
    #[serde(rename = "AttributeName")]
    pub name: String,
    #[serde(rename = "AttributeValue")]
    pub value: String,
    #[serde(rename = "Level")]
    pub level: f64,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub arn: String,
    pub instance_id: String,
    pub username: String,
    pub password: Option<String>,
    pub directory_user_id: Option<String>,
    pub identity_info: Map<String, Value>,
    pub phone_config: Map<String, Value>,
    pub security_profile_ids: Vec<String>,
    pub routing_profile_id: String,
    pub hierarchy_group_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Per-channel configuration lists, keyed by their model member name (`AutoAcceptConfigs`, ...).
    pub channel_configs: BTreeMap<String, Vec<Value>>,
    pub proficiencies: Vec<Proficiency>,
    pub created: Instant,
    pub last_modified: f64,
}

pub const CHANNEL_CONFIG_LISTS: [&str; 5] =
    ["AutoAcceptConfigs", "AfterContactWorkConfigs", "PhoneNumberConfigs", "PersistentConnectionConfigs", "VoiceEnhancementConfigs"];

pub fn now_epoch() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl User {
    /// The `User` structure of DescribeUser (no password, no proficiencies).
    pub fn describe(&self) -> Value {
        let mut o = Map::new();
        o.insert("Id".into(), self.id.clone().into());
        o.insert("Arn".into(), self.arn.clone().into());
        o.insert("Username".into(), self.username.clone().into());
        if let Some(d) = &self.directory_user_id {
            o.insert("DirectoryUserId".into(), d.clone().into());
        }
        o.insert("IdentityInfo".into(), Value::Object(self.identity_info.clone()));
        o.insert("PhoneConfig".into(), Value::Object(self.phone_config.clone()));
        o.insert("SecurityProfileIds".into(), self.security_profile_ids.clone().into());
        o.insert("RoutingProfileId".into(), self.routing_profile_id.clone().into());
        if let Some(h) = &self.hierarchy_group_id {
            o.insert("HierarchyGroupId".into(), h.clone().into());
        }
        o.insert("Tags".into(), serde_json::to_value(&self.tags).unwrap_or(Value::Null));
        for (k, v) in &self.channel_configs {
            o.insert(k.clone(), Value::Array(v.clone()));
        }
        o.insert("LastModifiedTime".into(), self.last_modified.into());
        o.insert("LastModifiedRegion".into(), "us-east-1".into());
        Value::Object(o)
    }

    /// Everything, for the control API's state dump (tests read the password and proficiencies here).
    pub fn dump(&self) -> Value {
        let mut v = self.describe();
        if let Some(o) = v.as_object_mut() {
            o.insert("InstanceId".into(), self.instance_id.clone().into());
            o.insert("Password".into(), self.password.clone().map(Value::from).unwrap_or(Value::Null));
            o.insert("Proficiencies".into(), serde_json::to_value(&self.proficiencies).unwrap_or(Value::Null));
        }
        v
    }
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub fixture: InstanceFixture,
    pub arn: String,
}

#[derive(Debug, Clone)]
pub struct World {
    pub region: String,
    pub account: String,
    pub instances: Vec<Instance>,
    /// Users by id, in creation order of ids (ids are random, so order is by a sequence number).
    pub users: BTreeMap<String, User>,
    pub user_order: Vec<String>,
    /// At most this many items per page of every List and Search operation, whatever MaxResults asks (the
    /// service may answer fewer than asked): lets a test see a reader follow NextToken with a few users.
    pub page_size: Option<usize>,
}

impl World {
    /// The fixture's instances, without users (`seed` creates them).
    pub fn empty(f: &Fixture) -> World {
        let instances = f
            .instances
            .iter()
            .map(|i| Instance { arn: format!("arn:aws:connect:{}:{}:instance/{}", f.region, f.account, i.id), fixture: i.clone() })
            .collect();
        World {
            region: f.region.clone(),
            account: f.account.clone(),
            instances,
            users: BTreeMap::new(),
            user_order: Vec::new(),
            page_size: None,
        }
    }

    /// Accepts an instance id or its full ARN, as the service does.
    pub fn instance(&self, raw: &str) -> Result<&Instance, ApiError> {
        let id = match raw.strip_prefix("arn:") {
            Some(_) => {
                let prefix = format!("arn:aws:connect:{}:{}:instance/", self.region, self.account);
                raw.strip_prefix(&prefix).filter(|r| !r.contains('/')).unwrap_or("")
            }
            None => raw,
        };
        self.instances.iter().find(|i| i.fixture.id == id).ok_or_else(|| ApiError::not_found(format!("Instance not found: {raw}")))
    }

    /// Resolves an id or ARN of a resource that lives under an instance (`routing-profile`, `security-profile`,
    /// `agent-group`, `agent`). An ARN must name the same instance.
    pub fn child_id(&self, inst: &Instance, raw: &str, kind: &str) -> Option<String> {
        if raw.starts_with("arn:") {
            let prefix = format!("{}/{}/", inst.arn, kind);
            raw.strip_prefix(&prefix).filter(|r| !r.is_empty() && !r.contains('/')).map(str::to_string)
        } else {
            Some(raw.to_string())
        }
    }

    pub fn user_arn(&self, inst: &Instance, user_id: &str) -> String {
        format!("{}/agent/{}", inst.arn, user_id)
    }

    pub fn user_mut(&mut self, inst_id: &str, raw_user: &str) -> Result<&mut User, ApiError> {
        let inst = self.instance(inst_id)?.clone();
        let uid = self.child_id(&inst, raw_user, "agent").unwrap_or_default();
        match self.users.get_mut(&uid) {
            Some(u) if u.instance_id == inst.fixture.id => Ok(u),
            _ => Err(ApiError::not_found(format!("User not found for UserId: {raw_user}"))),
        }
    }

    pub fn user_by_arn(&mut self, arn: &str) -> Option<&mut User> {
        self.users.values_mut().find(|u| u.arn == arn)
    }
}

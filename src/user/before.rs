//! What an agent was like before a resource took it over (`ImportId`), kept in the state table before the
//! take-over's first write, so that CloudFormation's rollback of the operation that made the take-over can put
//! the agent back exactly: every setting the take-over could change, its own tags, its proficiencies.
//!
//! The agent is kept as the properties `connect-users export` writes for it (the same shape a template gives), so
//! putting it back is the single resource's own planner bringing the user to those properties.

use crate::store::{Attributes, Store, StoreError};
use crate::user::model::{Actual, Change};
use crate::user::planner;
use crate::user::properties::{self, Mentioned, UserProps};
use crate::user::translate;
use serde_json::{Map, Value};

/// The agent as it was, and what the take-over's properties mentioned (what it may have changed).
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub properties: Map<String, Value>,
    pub mentioned: Mentioned,
}

/// The kept states, one per agent and holder.
#[derive(Clone)]
pub struct Before {
    store: Store,
}

fn pk(instance_id: &str, user_id: &str) -> String {
    format!("before#{instance_id}:{user_id}")
}

impl Before {
    pub fn new(store: Store) -> Before {
        Before { store }
    }

    /// Keeps `user` as it is now, for the take-over by `holder` whose properties mention `mentioned`.
    pub async fn keep(&self, instance_id: &str, user: &Actual, holder: &str, mentioned: &Mentioned) -> Result<(), StoreError> {
        let props = translate::properties_from_actual(instance_id, user);
        let attrs = Attributes::from([
            ("props".to_string(), Value::Object(props).to_string()),
            ("mentioned".to_string(), mentioned.iter().collect::<Vec<_>>().join(",")),
        ]);
        self.store.put(&pk(instance_id, &user.user_id), holder, &attrs, None).await
    }

    pub async fn get(&self, instance_id: &str, user_id: &str, holder: &str) -> Result<Option<Kept>, StoreError> {
        let Some(a) = self.store.get(&pk(instance_id, user_id), holder).await? else { return Ok(None) };
        let properties = a.get("props").and_then(|p| serde_json::from_str::<Value>(p).ok()).and_then(|v| v.as_object().cloned());
        let mentioned = a.get("mentioned").map(|m| m.split(',').filter_map(properties::canonical).collect()).unwrap_or_default();
        Ok(properties.map(|properties| Kept { properties, mentioned }))
    }

    pub async fn forget(&self, instance_id: &str, user_id: &str, holder: &str) -> Result<(), StoreError> {
        self.store.delete(&pk(instance_id, user_id), holder).await
    }
}

/// The calls that bring `current` back to the kept state (none when it is that already). `current` carries its
/// proficiencies when the take-over mentioned them ([`Kept::needs_proficiencies`]).
pub fn restore_changes(kept: &Kept, current: &Actual) -> Result<Vec<Change>, String> {
    let was = UserProps::parse(&kept.properties).map_err(|e| format!("the kept state does not read as properties: {e}"))?;
    let mut desired = was.settings;
    if desired.proficiencies.is_none() && kept.mentioned.contains("UserProficiencies") {
        // It had none, and the take-over gave it some.
        desired.proficiencies = Some(Default::default());
    }
    Ok(planner::diff(&desired, &current.settings, &kept.mentioned))
}

impl Kept {
    /// Whether the take-over may have changed the agent's proficiencies (then they are read before restoring).
    pub fn needs_proficiencies(&self) -> bool {
        self.mentioned.contains("UserProficiencies")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::properties::Settings;

    fn agent() -> Actual {
        let props = serde_json::json!({
            "InstanceId": "inst-1", "Name": "lee", "ImportId": "inst-1:u-1",
            "RoutingProfileId": "rp-basic", "SecurityProfileIds": ["sp-agent"],
            "IdentityInfo": {"FirstName": "Lee", "LastName": "Gacy", "Email": "lee@example.com"},
            "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": 30},
            "Tags": {"team": "support"}
        });
        let p = UserProps::parse(props.as_object().unwrap()).unwrap();
        Actual {
            user_id: "u-1".into(),
            arn: "arn:u-1".into(),
            username: "lee".into(),
            directory_user_id: None,
            settings: p.settings,
            marker_tags: Default::default(),
        }
    }

    fn mentioned(keys: &[&'static str]) -> Mentioned {
        keys.iter().copied().collect()
    }

    #[test]
    fn an_agent_as_kept_needs_nothing_and_every_group_changed_since_is_put_back() {
        let before = agent();
        let all = mentioned(&["RoutingProfileId", "SecurityProfileIds", "IdentityInfo", "PhoneConfig", "Tags", "HierarchyGroupId"]);
        let kept = Kept { properties: translate::properties_from_actual("inst-1", &before), mentioned: all };
        assert_eq!(restore_changes(&kept, &before).unwrap(), vec![], "nothing to put back");

        let mut taken: Settings = before.settings.clone();
        taken.routing_profile_id = "rp-sales".into();
        taken.security_profile_ids = ["sp-qa".to_string()].into();
        taken.hierarchy_group_id = Some("hg-1".into());
        taken.identity_info.last_name = Some("Changed".into());
        taken.tags.insert("site".into(), "lisbon".into());
        taken.tags.insert("team".into(), "sales".into());
        let now = Actual { settings: taken, ..before.clone() };
        let changes = restore_changes(&kept, &now).unwrap();
        let ops: Vec<&str> = changes.iter().map(Change::operation).collect();
        for op in [
            "UpdateUserRoutingProfile",
            "UpdateUserSecurityProfiles",
            "UpdateUserHierarchy",
            "UpdateUserIdentityInfo",
            "TagResource",
            "UntagResource",
        ] {
            assert!(ops.contains(&op), "{op} in {ops:?}");
        }
        assert!(changes.contains(&Change::RoutingProfile("rp-basic".into())));
        assert!(changes.contains(&Change::Hierarchy(None)));
        assert!(changes.contains(&Change::Untag(vec!["site".into()])));
    }

    #[tokio::test]
    async fn a_kept_state_is_one_per_agent_and_holder_and_reads_back_exactly() {
        let l = crate::store::live::start().await;
        let b = Before::new(l.store.clone());
        let m = mentioned(&["RoutingProfileId", "UserProficiencies"]);
        b.keep("inst-1", &agent(), "stack/guid/A", &m).await.unwrap();
        let got = b.get("inst-1", "u-1", "stack/guid/A").await.unwrap().unwrap();
        assert_eq!(got.properties, translate::properties_from_actual("inst-1", &agent()));
        assert_eq!(got.mentioned, m);
        assert!(got.needs_proficiencies());
        assert_eq!(b.get("inst-1", "u-1", "stack/guid/B").await.unwrap(), None, "another resource's take-over");
        assert_eq!(b.get("inst-1", "u-2", "stack/guid/A").await.unwrap(), None, "another agent");
        let other = Actual { user_id: "u-2".into(), username: "mo".into(), ..agent() };
        b.keep("inst-1", &other, "stack/guid/A", &mentioned(&["RoutingProfileId"])).await.unwrap();
        let got2 = b.get("inst-1", "u-2", "stack/guid/A").await.unwrap().unwrap();
        assert!(!got2.needs_proficiencies(), "its take-over did not mention them");
        assert_eq!(b.get("inst-1", "u-1", "stack/guid/A").await.unwrap().unwrap(), got, "each agent's own");
        b.forget("inst-1", "u-1", "stack/guid/A").await.unwrap();
        assert_eq!(b.get("inst-1", "u-1", "stack/guid/A").await.unwrap(), None);
    }
}

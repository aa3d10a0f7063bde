//! One function, one ServiceToken, two resource types: `Custom::ConnectUserSet` is a roster, every other
//! `Custom::` type is one user (so existing templates keep working under any type name they chose).

use crate::cfn::{Ctx, CustomResource, Outcome, RequestType};
use crate::roster::{self, ConnectUserSet};
use crate::user::ConnectUserResource;

pub struct ConnectResources {
    pub user: ConnectUserResource,
    pub set: ConnectUserSet,
}

/// Properties that only a set has.
const SET_ONLY: [&str; 6] = ["Users", "Defaults", "RequestsPerSecond", "Burst", "MaxDeletions", "Report"];

/// A single user given a set's properties: refused, pointing to the right type.
fn set_properties_on_a_user(ctx: &Ctx) -> Option<Outcome> {
    if ctx.request.request_type == RequestType::Delete {
        return None;
    }
    let found: Vec<&str> =
        ctx.request.properties.keys().filter_map(|k| SET_ONLY.iter().find(|s| k.eq_ignore_ascii_case(s)).copied()).collect();
    (!found.is_empty()).then(|| {
        Outcome::failed(format!(
            "invalid properties: {}: a property of {} (a roster of users), but this resource's type is {}; use Type: {} or give the properties of one user",
            found.join(", "),
            roster::props::TYPE,
            if ctx.request.resource_type.is_empty() { "not given" } else { &ctx.request.resource_type },
            roster::props::TYPE
        ))
    })
}

fn is_set(ctx: &Ctx) -> bool {
    ctx.request.resource_type == roster::props::TYPE
}

impl CustomResource for ConnectResources {
    async fn create(&self, ctx: &Ctx) -> Outcome {
        if is_set(ctx) {
            return self.set.create(ctx).await;
        }
        match set_properties_on_a_user(ctx) {
            Some(o) => o,
            None => self.user.create(ctx).await,
        }
    }

    async fn update(&self, ctx: &Ctx) -> Outcome {
        if is_set(ctx) {
            return self.set.update(ctx).await;
        }
        match set_properties_on_a_user(ctx) {
            Some(o) => o,
            None => self.user.update(ctx).await,
        }
    }

    async fn delete(&self, ctx: &Ctx) -> Outcome {
        if is_set(ctx) {
            self.set.delete(ctx).await
        } else {
            self.user.delete(ctx).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::event::{self, Intake};
    use lambda_harness::events;
    use serde_json::{json, Value};

    fn ctx(e: Value) -> Ctx {
        match event::parse(e) {
            Intake::Request(r) => Ctx::new(*r, std::time::Instant::now() + std::time::Duration::from_secs(10)),
            Intake::Malformed { reason, .. } => panic!("test event is malformed: {reason}"),
        }
    }

    fn reason(o: Option<Outcome>) -> String {
        match o {
            Some(Outcome::Failed { reason, physical_resource_id: None }) => reason,
            other => panic!("expected FAILED with the placeholder id, got {other:?}"),
        }
    }

    #[test]
    fn a_set_is_its_type_and_only_its_type() {
        let props = json!({"InstanceId": "i", "Users": []});
        assert!(is_set(&ctx(events::for_set(events::create("A", "https://x", props.clone())))));
        assert!(!is_set(&ctx(events::create("A", "https://x", props.clone()))));
        let mut other = events::create("A", "https://x", props);
        other["ResourceType"] = json!("Custom::Agent");
        assert!(!is_set(&ctx(other)));
    }

    #[test]
    fn a_sets_properties_on_a_user_are_refused_pointing_to_the_set_type_but_never_on_delete() {
        let user = json!({"InstanceId": "i", "Name": "a"});
        assert!(set_properties_on_a_user(&ctx(events::create("A", "https://x", user.clone()))).is_none());

        let report = json!({"InstanceId": "i", "Name": "a", "Report": "s3://b/p"});
        assert!(reason(set_properties_on_a_user(&ctx(events::create("A", "https://x", report))))
            .starts_with("invalid properties: Report: a property of"));
        let both = json!({"InstanceId": "i", "users": [], "Burst": 5, "Name": "a"});
        let r = reason(set_properties_on_a_user(&ctx(events::create("A", "https://x", both.clone()))));
        assert!(r.starts_with("invalid properties: Users, Burst: a property of Custom::ConnectUserSet"), "{r}");
        assert!(r.contains("this resource's type is Custom::ConnectUser; use Type: Custom::ConnectUserSet"), "{r}");
        let mut untyped = events::update("A", "https://x", "i:u", both.clone(), user.clone());
        untyped["ResourceType"] = json!("");
        assert!(reason(set_properties_on_a_user(&ctx(untyped))).contains("this resource's type is not given"));

        assert!(set_properties_on_a_user(&ctx(events::delete("A", "https://x", "i:u", both))).is_none(), "a Delete is never refused");
    }
}

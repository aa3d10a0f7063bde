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
const SET_ONLY: [&str; 4] = ["Users", "Defaults", "RequestsPerSecond", "Burst"];

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

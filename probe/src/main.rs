//! A test fixture, never shipped: the same protocol core and entry point as the Lambda, serving a resource that
//! panics on every request (the shipped binary has no switch that could make it panic). tests/e2e/panic.rs runs
//! it to check that a panic answers FAILED and the process lives on, which the protocol's guard does only where
//! panics unwind; the same test reads Cargo.toml to check that the profile the zip is built with unwinds.

use connect_user_resource::cfn::{deadline, Ctx, CustomResource, Outcome, Protocol};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

struct Panics;

impl CustomResource for Panics {
    async fn create(&self, _ctx: &Ctx) -> Outcome {
        panic!("deliberate panic")
    }
    async fn update(&self, _ctx: &Ctx) -> Outcome {
        panic!("deliberate panic")
    }
    async fn delete(&self, _ctx: &Ctx) -> Outcome {
        panic!("deliberate panic")
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    connect_user_resource::init::logging();
    let protocol = Protocol::new(Panics, reqwest::Client::new(), deadline::Policy::default());
    let protocol = &protocol;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = event.context.deadline;
        protocol.handle(event.payload, deadline).await.map_err(Error::from)
    }))
    .await
}

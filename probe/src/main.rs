//! A test fixture, never shipped: the same protocol core and entry point as the Lambda, serving a resource that
//! panics on every request. Built with the workspace's release profile (`cargo build --release -p
//! release-probe`), it lets a test check that a panic in a release build still answers FAILED, which only the
//! profile's `panic = "unwind"` makes true; the shipped binary has no switch that could make it panic.

use connect_user_resource::cfn::{deadline, Ctx, CustomResource, Outcome, Protocol};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

struct Panics;

impl CustomResource for Panics {
    async fn create(&self, _ctx: &Ctx) -> Outcome {
        panic!("deliberate panic in a release build")
    }
    async fn update(&self, _ctx: &Ctx) -> Outcome {
        panic!("deliberate panic in a release build")
    }
    async fn delete(&self, _ctx: &Ctx) -> Outcome {
        panic!("deliberate panic in a release build")
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

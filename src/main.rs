//! The Lambda entry point: set up once, then serve invocations through the custom-resource protocol.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    connect_user_resource::init::logging();
    let protocol = connect_user_resource::init::protocol().await?;
    let protocol = &protocol;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = event.context.deadline;
        protocol.handle(event.payload, deadline).await.map_err(Error::from)
    }))
    .await
}

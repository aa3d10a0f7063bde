//! The Lambda entry point: set up once, then serve invocations through the custom-resource protocol.

use connect_user_resource::cfn::Invocation;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

fn main() -> Result<(), Error> {
    connect_user_resource::init::memory();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    connect_user_resource::init::logging();
    let protocol = connect_user_resource::init::protocol().await?;
    let protocol = &protocol;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = Invocation { deadline_ms: event.context.deadline, function_arn: event.context.invoked_function_arn };
        protocol.handle(event.payload, invocation).await.map_err(Error::from)
    }))
    .await
}

//! A panic in a release build answers FAILED: the workspace's release profile (as shipped) must unwind, so that
//! the protocol's guard catches the panic instead of the process aborting and the stack waiting an hour.

use crate::support::*;
use lambda_harness::{events, lambda_env, LambdaProcess, Receiver, RuntimeApi};
use std::time::Duration;

#[tokio::test]
async fn a_panic_in_a_release_build_still_answers_failed() {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/panicking-resource");
    assert!(bin.exists(), "{} is missing: `make test` builds it (cargo build --release -p release-probe)", bin.display());
    let receiver = Receiver::start().await.unwrap();
    let runtime = RuntimeApi::start().await.unwrap();
    let mut lambda = LambdaProcess::spawn(&bin, &lambda_env(runtime.addr, "http://127.0.0.1:9")).unwrap();
    for i in 0..2 {
        let name = format!("p{i}");
        let r = runtime.invoke(events::create("Agent", &receiver.url(&name), soft_phone("x")), Duration::from_secs(10)).await;
        assert!(r.is_some(), "the process answered the runtime");
        let got = receiver.wait_for(&name, 1, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 1);
        let body = got[0].json();
        assert_eq!(body["Status"], "FAILED");
        assert!(body["Reason"].as_str().unwrap().contains("panicked"), "{body}");
        assert!(body["PhysicalResourceId"].as_str().unwrap().starts_with("create-failed-"));
    }
    assert!(lambda.try_wait().is_none(), "the process lives on after the panics");
    lambda.kill().await;
}

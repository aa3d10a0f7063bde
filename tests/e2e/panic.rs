//! A panic answers FAILED: the protocol's guard catches it instead of the process aborting and the stack waiting
//! an hour. That holds only where panics unwind, so the profile the zip is built with (release) must unwind too.

use crate::support::*;
use lambda_harness::{events, lambda_env, LambdaProcess, Receiver, RuntimeApi};
use std::time::Duration;

#[tokio::test]
async fn a_panic_answers_failed_and_the_process_lives_on() {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/panicking-resource");
    assert!(bin.exists(), "{} is missing: `make test` builds it (cargo build --workspace)", bin.display());
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

/// The shipped zip is built with the release profile (cargo lambda build --release); the fixture above is not, to
/// spare the tests a second compile of every dependency. So the one setting that decides whether the guard can
/// work is read from the manifest: no profile may abort on panic, and release says `unwind` in so many words.
#[test]
fn every_profile_unwinds_on_panic() {
    let manifest = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let mut profile = None;
    let mut release_unwinds = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            profile = line.strip_prefix("[profile.").and_then(|l| l.strip_suffix(']')).map(str::to_string);
            continue;
        }
        let Some(p) = &profile else { continue };
        if let Some(v) = line.strip_prefix("panic").map(|v| v.trim_start_matches([' ', '=']).trim_matches('"')) {
            assert_eq!(v, "unwind", "profile {p} sets panic = {v:?}: the protocol's panic guard needs unwind");
            release_unwinds |= p == "release";
        }
    }
    assert!(release_unwinds, "Cargo.toml's [profile.release] should say panic = \"unwind\"");
}

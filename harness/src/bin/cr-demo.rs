//! The main job on the embedded default: starts the Connect emulator (seeded with the default fixture), runs
//! the real Lambda binary under a loopback Runtime API, sends the sample events of `events/` in lifecycle
//! order, and shows each response and the user as Connect then has it.
//!
//! `cr-demo [--binary PATH] [--events DIR]`

use lambda_harness::events::{fill, load_dir, Ids};
use lambda_harness::{control, lambda_env, InvocationResult, LambdaProcess, Receiver, RuntimeApi};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn default_binary() -> PathBuf {
    for p in ["target/release/connect-user-resource", "target/debug/connect-user-resource"] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("target/release/connect-user-resource")
}

fn user_view(u: &Value) -> Value {
    let mut v = u.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["Password", "LastModifiedTime", "LastModifiedRegion", "Arn"] {
            o.remove(k);
        }
        if o.get("Proficiencies").is_some_and(|p| p.as_array().is_some_and(Vec::is_empty)) {
            o.remove("Proficiencies");
        }
    }
    v
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let binary = arg(&args, "--binary").map(PathBuf::from).unwrap_or_else(default_binary);
    let dir = PathBuf::from(arg(&args, "--events").unwrap_or_else(|| "events".into()));
    match run(&binary, &dir).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cr-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(binary: &std::path::Path, dir: &std::path::Path) -> Result<bool, String> {
    let events = load_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let emulator = connect_emulator::start(Default::default()).await.map_err(|e| e.to_string())?;
    let receiver = Receiver::start().await.map_err(|e| e.to_string())?;
    let runtime = RuntimeApi::start().await.map_err(|e| e.to_string())?;
    println!(
        "Connect emulator on {} (default fixture), Runtime API on {}, responses to {}",
        emulator.endpoint(),
        runtime.addr,
        receiver.addr
    );
    println!("Lambda binary: {}\n", binary.display());
    let mut lambda = LambdaProcess::spawn(binary, &lambda_env(runtime.addr, &emulator.endpoint()))
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    // A roster that needs more than one invocation continues in another, as Lambda would deliver it.
    runtime.auto_deliver(Some(Duration::from_secs(60)));

    let state = control(&emulator.endpoint(), "GET", "state", None).await.map_err(|e| e.to_string())?;
    let existing: Vec<&str> =
        state["users"].as_array().map(|us| us.iter().filter_map(|u| u["Username"].as_str()).collect()).unwrap_or_default();
    println!("Users the instance has before any stack (the fixture's): {existing:?}\n");

    let mut ids = Ids::default();
    let mut all_ok = true;
    for (i, (file, raw)) in events.iter().enumerate() {
        let name = format!("demo-{i}");
        let event = fill(raw, &receiver.url(&name), &ids);
        let logical = event["LogicalResourceId"].as_str().unwrap_or("").to_string();
        println!("── {file}: {} {logical}", event["RequestType"].as_str().unwrap_or("?"));
        let result = runtime.invoke(event, Duration::from_secs(60)).await;
        let got = receiver.wait_for(&name, 1, Duration::from_secs(300)).await;
        let Some(resp) = got.first() else {
            println!("   no response arrived (invocation result: {result:?})");
            all_ok = false;
            continue;
        };
        let body = resp.json();
        let status = body["Status"].as_str().unwrap_or("?");
        let physical = body["PhysicalResourceId"].as_str().unwrap_or("");
        println!("   response: {status}  PhysicalResourceId={physical}");
        if let Some(reason) = body["Reason"].as_str() {
            println!("   reason:   {reason}");
        }
        if let Some(data) = body["Data"].as_object().filter(|d| !d.is_empty()) {
            println!("   data:     {}", Value::Object(data.clone()));
        }
        if !matches!(result, Some(InvocationResult::Response(_))) {
            println!("   invocation: {result:?}");
        }
        all_ok &= status == "SUCCESS";
        ids.record(&logical, physical);
        let state = control(&emulator.endpoint(), "GET", "state", None).await.map_err(|e| e.to_string())?;
        if let Some(holder) = physical.split_once(":set:").map(|(_, h)| h.split('#').next().unwrap_or(h)) {
            // A roster: its users, one line each.
            let members: Vec<String> = state["users"]
                .as_array()
                .map(|us| {
                    us.iter()
                        .filter(|u| u["Tags"]["connect-user-resource:holder"] == holder)
                        .map(|u| {
                            format!(
                                "{} (routing profile {})",
                                u["Username"].as_str().unwrap_or(""),
                                u["RoutingProfileId"].as_str().unwrap_or("")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            println!("   the set's users in Connect ({}):", members.len());
            for m in members {
                println!("     {m}");
            }
            continue;
        }
        let user_id = physical.split_once(':').map(|(_, u)| u).unwrap_or("");
        let user = state["users"].as_array().and_then(|us| us.iter().find(|u| u["Id"] == user_id)).cloned();
        match user {
            Some(u) => {
                println!("   in Connect: {}", serde_json::to_string_pretty(&user_view(&u)).unwrap_or_default().replace('\n', "\n   "))
            }
            None => println!("   in Connect: (no such user)"),
        }
    }
    let state = control(&emulator.endpoint(), "GET", "state", None).await.map_err(|e| e.to_string())?;
    let names: Vec<&str> =
        state["users"].as_array().map(|us| us.iter().filter_map(|u| u["Username"].as_str()).collect()).unwrap_or_default();
    println!("\nUsers left in the instance: {names:?}");
    let calls = control(&emulator.endpoint(), "GET", "calls", None).await.map_err(|e| e.to_string())?;
    let ops: Vec<&str> = calls["calls"].as_array().map(|c| c.iter().filter_map(|c| c["operation"].as_str()).collect()).unwrap_or_default();
    println!("Connect calls made ({}): {}", ops.len(), ops.join(", "));
    lambda.kill().await;
    println!("{}", if all_ok { "\nAll sample events answered SUCCESS." } else { "\nSome events did not answer SUCCESS." });
    Ok(all_ok)
}

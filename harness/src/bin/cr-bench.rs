//! Benchmarks of the release binary against the emulator on loopback; prints a table and writes it to
//! `bench/RESULTS.md`. Figures are medians over repeated runs.
//!
//! `cr-bench [--binary PATH] [--runs N] [--stack N] [--skip-stack]`

use lambda_harness::events;
use lambda_harness::{control, lambda_env, LambdaProcess, Receiver, RuntimeApi};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const IID: &str = "81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca";

fn props(name: &str, rp: &str) -> Value {
    json!({
        "InstanceId": IID, "Name": name, "Password": "Passw0rdBench1", "RoutingProfileId": rp,
        "SecurityProfileIds": ["16d9d65b-eb82-419f-b3bc-80a0d32111ef"],
        "IdentityInfo": {"FirstName": "Bench", "LastName": "Mark"}, "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": "0"}
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |n: &str| args.iter().position(|a| a == n).and_then(|i| args.get(i + 1)).cloned();
    let binary = PathBuf::from(get("--binary").unwrap_or_else(|| "target/release/connect-user-resource".into()));
    let runs: usize = get("--runs").and_then(|r| r.parse().ok()).unwrap_or(20);
    let stack: usize =
        if args.iter().any(|a| a == "--skip-stack") { 0 } else { get("--stack").and_then(|r| r.parse().ok()).unwrap_or(200) };
    match run(&binary, runs, stack).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cr-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Time inside the handler: the invocation's wall time less the time the emulator spent on its calls.
struct EventCost {
    handler_ms: Vec<f64>,
    calls: Vec<usize>,
}

async fn run(binary: &std::path::Path, runs: usize, stack: usize) -> Result<(), String> {
    let emulator = connect_emulator::start(Default::default()).await.map_err(|e| e.to_string())?;
    let ep = emulator.endpoint();
    let receiver = Receiver::start().await.map_err(|e| e.to_string())?;

    // Start-up: process start to the first request for the next event (clients built by then).
    let mut startup = Vec::new();
    for _ in 0..runs {
        let runtime = RuntimeApi::start().await.map_err(|e| e.to_string())?;
        let before = runtime.started().elapsed().as_secs_f64() * 1000.0;
        let mut p = LambdaProcess::spawn(binary, &lambda_env(runtime.addr, &ep)).map_err(|e| e.to_string())?;
        let end = Instant::now() + Duration::from_secs(5);
        while runtime.next_calls().is_empty() && Instant::now() < end {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        if let Some(first) = runtime.next_calls().first() {
            startup.push(first - before);
        }
        p.kill().await;
    }

    // Work per event, calls per event, and peak RSS over the whole run (which includes every Create).
    let runtime = RuntimeApi::start().await.map_err(|e| e.to_string())?;
    let p = LambdaProcess::spawn(binary, &lambda_env(runtime.addr, &ep)).map_err(|e| e.to_string())?;
    let mut create = EventCost { handler_ms: vec![], calls: vec![] };
    let mut update = EventCost { handler_ms: vec![], calls: vec![] };
    let mut delete = EventCost { handler_ms: vec![], calls: vec![] };
    let rp_basic = "f1478cfd-0ff1-4e4f-b73a-ffafa95f1eaf";
    let rp_sales = "fcc8ed3b-a605-49a2-9d2d-9313178676db";
    let mut rss_after_first_create = None;
    for i in 0..runs {
        let name = format!("bench-{i}");
        let mut physical = String::new();
        for (kind, cost) in [("create", &mut create), ("update", &mut update), ("delete", &mut delete)] {
            control(&ep, "DELETE", "calls", None).await.map_err(|e| e.to_string())?;
            let tag = format!("{kind}-{i}");
            let url = receiver.url(&tag);
            let e = match kind {
                "create" => events::create("Agent", &url, props(&name, rp_basic)),
                "update" => events::update("Agent", &url, &physical, props(&name, rp_sales), props(&name, rp_basic)),
                _ => events::delete("Agent", &url, &physical, props(&name, rp_sales)),
            };
            let t = Instant::now();
            runtime.invoke(e, Duration::from_secs(30)).await.ok_or("no invocation result")?;
            let wall = t.elapsed().as_secs_f64() * 1000.0;
            let got = receiver.wait_for(&tag, 1, Duration::from_secs(2)).await;
            let body = got.first().map(|r| r.json()).ok_or("no response")?;
            if body["Status"] != "SUCCESS" {
                return Err(format!("{kind} failed: {}", body["Reason"]));
            }
            if kind == "create" {
                physical = body["PhysicalResourceId"].as_str().unwrap_or("").to_string();
                if rss_after_first_create.is_none() {
                    rss_after_first_create = p.pid().and_then(peak_rss_kb);
                }
            }
            let calls = control(&ep, "GET", "calls", None).await.map_err(|e| e.to_string())?;
            let list = calls["calls"].as_array().cloned().unwrap_or_default();
            let emulator_ms: f64 = list.iter().filter_map(|c| c["duration_ms"].as_f64()).sum();
            cost.handler_ms.push(wall - emulator_ms);
            cost.calls.push(list.len());
        }
    }
    let peak = p.pid().and_then(peak_rss_kb);
    let size = std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0);
    let zip = std::fs::metadata("target/lambda/connect-user-resource/bootstrap.zip")
        .map(|m| format!("{:.2} MB", m.len() as f64 / 1e6))
        .unwrap_or_else(|_| "not built".into());

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let row = |what: &str, c: &EventCost, min: usize| {
        format!("| {what} | {:.2} ms | {} | {min} |", median(c.handler_ms.clone()), median(c.calls.iter().map(|&n| n as f64).collect()))
    };
    let table = [
        format!("Benchmarks: {runs} runs each, medians; {cores} cores ({cpu}); release binary {}.", binary.display()),
        String::new(),
        "| Measure | Figure | Target |".into(),
        "|---|---|---|".into(),
        format!(
            "| Start-up (process start to first `next`, {} cold starts) | {:.1} ms | <= 25 ms |",
            startup.len(),
            median(startup.clone())
        ),
        format!(
            "| Peak RSS after the first Create | {} | <= 30 MB |",
            rss_after_first_create.map(|k| format!("{:.1} MB", k as f64 / 1024.0)).unwrap_or("n/a".into())
        ),
        format!(
            "| Peak RSS over {} Create/Update/Delete cycles | {} | <= 30 MB |",
            runs,
            peak.map(|k| format!("{:.1} MB", k as f64 / 1024.0)).unwrap_or("n/a".into())
        ),
        format!("| Stripped release binary (x86_64) | {:.2} MB | |", size as f64 / 1e6),
        format!("| arm64 zip | {zip} | |"),
        String::new(),
        "| Event | Handler time (less emulator time) | Connect calls | Minimum possible |".into(),
        "|---|---|---|---|".into(),
        row("Create", &create, 1),
        row("Update of one group (routing profile)", &update, 2),
        row("Delete", &delete, 1),
    ]
    .join("\n");
    println!("{table}");
    let mut table = table;
    if stack > 0 {
        let rows = [stack_run(binary, stack, stack).await?, stack_run(binary, stack, 5).await?];
        let lines = [
            String::new(),
            format!("A stack of {stack} users (one run per concurrency, not a median): the emulator throttles every operation at 2 requests/s, burst 5; events handed out by one Runtime API to N function processes, each invocation with a 300 s timeout."),
            String::new(),
            "| Concurrency (processes) | Phase | SUCCESS | FAILED | Wall time | Throttle lower bound | Ratio | Throttled calls (retries) |".into(),
            "|---|---|---|---|---|---|---|---|".into(),
        ];
        let extra: Vec<String> = rows.iter().flatten().cloned().collect();
        let block = lines.into_iter().chain(extra).collect::<Vec<_>>().join("\n");
        println!("{block}");
        table = format!("{table}\n{block}");
    }
    std::fs::create_dir_all("bench").map_err(|e| e.to_string())?;
    std::fs::write("bench/RESULTS.md", format!("# Benchmark results\n\nReproduce with `make bench`.\n\n{table}\n"))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// `users` Creates sent at once to `processes` function processes, then `users` Deletes, against a throttled
/// emulator. Returns one table row per phase.
async fn stack_run(binary: &std::path::Path, users: usize, processes: usize) -> Result<Vec<String>, String> {
    let emulator = connect_emulator::start(connect_emulator::Config { throttle: Some((2.0, 5)), ..Default::default() })
        .await
        .map_err(|e| e.to_string())?;
    let ep = emulator.endpoint();
    let receiver = Receiver::start().await.map_err(|e| e.to_string())?;
    let runtime = RuntimeApi::start().await.map_err(|e| e.to_string())?;
    let mut procs = Vec::new();
    for _ in 0..processes {
        procs.push(LambdaProcess::spawn(binary, &lambda_env(runtime.addr, &ep)).map_err(|e| e.to_string())?);
    }
    // Let every process reach the Runtime API, as warm Lambda instances would be.
    let end = Instant::now() + Duration::from_secs(30);
    while runtime.next_calls().len() < processes && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut rows = Vec::new();
    let mut ids = vec![String::new(); users];
    for phase in ["Create", "Delete"] {
        control(&ep, "DELETE", "calls", None).await.map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut waits = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let name = format!("stack-{phase}-{processes}-{i}");
            let url = receiver.url(&name);
            let e = if phase == "Create" {
                events::create(&format!("Agent{i}"), &url, props(&format!("stack-agent-{i}"), "f1478cfd-0ff1-4e4f-b73a-ffafa95f1eaf"))
            } else {
                events::delete(&format!("Agent{i}"), &url, id, json!({}))
            };
            waits.push((name, runtime.enqueue(e, lambda_harness::Deadline::After(Duration::from_secs(300)))));
        }
        let (mut ok, mut failed) = (0, 0);
        for (i, (name, rx)) in waits.into_iter().enumerate() {
            let _ = tokio::time::timeout(Duration::from_secs(900), rx).await;
            let body = receiver.for_name(&name).first().map(|r| r.json()).unwrap_or(Value::Null);
            if body["Status"] == "SUCCESS" {
                ok += 1;
                if phase == "Create" {
                    ids[i] = body["PhysicalResourceId"].as_str().unwrap_or("").to_string();
                }
            } else {
                failed += 1;
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let bound = users.saturating_sub(5) as f64 / 2.0;
        let calls = control(&ep, "GET", "calls", None).await.map_err(|e| e.to_string())?;
        let throttled = calls["calls"].as_array().map(|c| c.iter().filter(|c| c["error"] == "ThrottlingException").count()).unwrap_or(0);
        rows.push(format!("| {processes} | {phase} | {ok} | {failed} | {wall:.1} s | {bound:.1} s | {:.2} | {throttled} |", wall / bound));
    }
    for mut p in procs {
        p.kill().await;
    }
    Ok(rows)
}

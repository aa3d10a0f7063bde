//! Benchmarks of the release binary against the emulator on loopback; prints a table and writes it to
//! `bench/RESULTS.md`. Figures are medians over repeated runs.
//!
//! `cr-bench [--binary PATH] [--runs N] [--stack N] [--stack-runs N] [--skip-stack]`

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

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |n: &str| args.iter().position(|a| a == n).and_then(|i| args.get(i + 1)).cloned();
    let binary = PathBuf::from(get("--binary").unwrap_or_else(|| "target/release/connect-user-resource".into()));
    let runs: usize = get("--runs").and_then(|r| r.parse().ok()).unwrap_or(20);
    let stack: usize =
        if args.iter().any(|a| a == "--skip-stack") { 0 } else { get("--stack").and_then(|r| r.parse().ok()).unwrap_or(200) };
    let stack_runs: usize = get("--stack-runs").and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    match run(&binary, runs, stack, stack_runs).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cr-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The zip `make build` leaves, with the size and architecture of the `bootstrap` inside it. The architecture is
/// read from the ELF header of the binary cargo-lambda zipped, so the table cannot claim arm64 for the x86_64
/// fallback build.
fn zip_figure() -> String {
    let Ok(zip) = std::fs::metadata("target/lambda/connect-user-resource/bootstrap.zip") else {
        return "not built (run `make build` first)".into();
    };
    let zipped = zip.modified().ok();
    let inner = ["aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu"].iter().find_map(|triple| {
        let path = format!("target/{triple}/release/connect-user-resource");
        let meta = std::fs::metadata(&path).ok()?;
        // Only the binary written at or before the zip can be the one inside it.
        if let (Some(z), Ok(b)) = (zipped, meta.modified()) {
            if b > z {
                return None;
            }
        }
        let header = std::fs::read(&path).ok()?.get(..20)?.to_vec();
        let arch = match u16::from_le_bytes([header[18], header[19]]) {
            0xB7 => "aarch64",
            0x3E => "x86_64",
            _ => "unknown architecture",
        };
        Some(format!("bootstrap {:.2} MB, {arch}", meta.len() as f64 / 1e6))
    });
    format!("{:.2} MB ({})", zip.len() as f64 / 1e6, inner.unwrap_or_else(|| "bootstrap not found".into()))
}

/// Time inside the handler: the invocation's wall time less the time the emulator spent on its calls.
struct EventCost {
    handler_ms: Vec<f64>,
    calls: Vec<usize>,
}

async fn run(binary: &std::path::Path, runs: usize, stack: usize, stack_runs: usize) -> Result<(), String> {
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
                    rss_after_first_create = p.pid().and_then(lambda_harness::peak_rss_kb);
                }
            }
            let calls = control(&ep, "GET", "calls", None).await.map_err(|e| e.to_string())?;
            let list = calls["calls"].as_array().cloned().unwrap_or_default();
            let emulator_ms: f64 = list.iter().filter_map(|c| c["duration_ms"].as_f64()).sum();
            cost.handler_ms.push(wall - emulator_ms);
            cost.calls.push(list.len());
        }
    }
    let peak = p.pid().and_then(lambda_harness::peak_rss_kb);
    let size = std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0);
    let zip = zip_figure();

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let row = |what: &str, c: &EventCost, min: usize| {
        format!("| {what} | {:.2} ms | {} | {min} |", median(c.handler_ms.clone()), median(c.calls.iter().map(|&n| n as f64).collect()))
    };
    let table = [
        format!(
            "Benchmarks: {runs} runs each, medians; machine: {}, {cores} cores ({cpu}), Linux; release binary {}.",
            std::env::consts::ARCH,
            binary.display()
        ),
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
        format!("| Deployment zip (`make build`) | {zip} | |"),
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
        let mut extra = Vec::new();
        for processes in [stack, 5] {
            let mut phases: [Vec<PhaseRun>; 2] = [Vec::new(), Vec::new()];
            for r in 0..stack_runs {
                eprintln!("cr-bench: stack of {stack}, {processes} processes, run {}/{stack_runs}", r + 1);
                let [c, d] = stack_run(binary, stack, processes).await?;
                phases[0].push(c);
                phases[1].push(d);
            }
            for (phase, list) in ["Create", "Delete"].iter().zip(phases.iter()) {
                extra.push(stack_row(processes, phase, stack, list));
            }
        }
        let lines = [
            String::new(),
            format!("A stack of {stack} users, {stack_runs} runs per concurrency: SUCCESS and FAILED are totals over the runs; wall time, ratio and throttled calls are medians (range in brackets). The emulator throttles every operation at 2 requests/s, burst 5; events are handed out by one Runtime API to N function processes, each invocation with a 300 s timeout."),
            String::new(),
            "| Concurrency (processes) | Phase | SUCCESS | FAILED | Wall time | Throttle lower bound | Ratio | Throttled calls (retries) |".into(),
            "|---|---|---|---|---|---|---|---|".into(),
        ];
        let block = lines.into_iter().chain(extra).collect::<Vec<_>>().join("\n");
        println!("{block}");
        table = format!("{table}\n{block}");
    }
    lambda_harness::write_results_section("single-user", &format!("## One user per resource (`cr-bench`)\n\n{table}"))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// One phase (Create or Delete) of one stack run.
struct PhaseRun {
    ok: usize,
    failed: usize,
    wall_s: f64,
    throttled: usize,
}

/// The throttle admits a burst of 5 and then 2 requests/s, so `users` calls of one operation need at least this long.
fn lower_bound_s(users: usize) -> f64 {
    users.saturating_sub(5) as f64 / 2.0
}

/// One table row for a phase over repeated runs: totals for outcomes, medians (with range) for the rest.
fn stack_row(processes: usize, phase: &str, users: usize, runs: &[PhaseRun]) -> String {
    let bound = lower_bound_s(users);
    let walls: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
    let throttled: Vec<f64> = runs.iter().map(|r| r.throttled as f64).collect();
    let lo = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ok: usize = runs.iter().map(|r| r.ok).sum();
    let failed: usize = runs.iter().map(|r| r.failed).sum();
    let total = users * runs.len();
    format!(
        "| {processes} | {phase} | {ok}/{total} | {failed} | {:.1} s ({:.1}-{:.1}) | {bound:.1} s | {:.2} ({:.2}-{:.2}) | {:.0} ({:.0}-{:.0}) |",
        median(walls.clone()),
        lo(&walls),
        hi(&walls),
        median(walls.clone()) / bound,
        lo(&walls) / bound,
        hi(&walls) / bound,
        median(throttled.clone()),
        lo(&throttled),
        hi(&throttled),
    )
}

/// `users` Creates sent at once to `processes` function processes, then `users` Deletes, against a fresh
/// throttled emulator. Returns the Create phase and the Delete phase.
async fn stack_run(binary: &std::path::Path, users: usize, processes: usize) -> Result<[PhaseRun; 2], String> {
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
        let calls = control(&ep, "GET", "calls", None).await.map_err(|e| e.to_string())?;
        let throttled = calls["calls"].as_array().map(|c| c.iter().filter(|c| c["error"] == "ThrottlingException").count()).unwrap_or(0);
        rows.push(PhaseRun { ok, failed, wall_s: wall, throttled });
    }
    for mut p in procs {
        p.kill().await;
    }
    let mut rows = rows.into_iter();
    match (rows.next(), rows.next()) {
        (Some(c), Some(d)) => Ok([c, d]),
        _ => Err("a stack run did not produce both phases".into()),
    }
}

//! A whole roster (`Custom::ConnectUserSet`) against the throttled emulator, through the release binary and
//! its continuations: Create, an Update that changes a few users, Delete; then peak memory at a large roster.
//! Prints a table and writes it to its section of `bench/RESULTS.md`.
//!
//! `roster-bench [--binary PATH] [--users 2000] [--rate 2] [--burst 5] [--timeout 300] [--changes 20]
//!               [--memory 10000] [--label NAME] [--source csv] [--report]`
//!
//! With `--source csv` the roster is Connect's bulk-upload CSV in moto's versioned S3 (`Source`, and each change
//! a new VersionId) instead of inline `Users`.
//!
//! The emulator throttles every operation at `--rate`/`--burst`, and the set is told the same
//! (`RequestsPerSecond`, `Burst`), as it would be after the account's quotas were raised to that.

use lambda_harness::{control, events, lambda_env, LambdaProcess, Receiver, RuntimeApi};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const IID: &str = "81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca";
const RP_BASIC: &str = "f1478cfd-0ff1-4e4f-b73a-ffafa95f1eaf";
const RP_SALES: &str = "fcc8ed3b-a605-49a2-9d2d-9313178676db";
const SP_AGENT: &str = "16d9d65b-eb82-419f-b3bc-80a0d32111ef";

struct Args {
    binary: PathBuf,
    users: usize,
    rate: f64,
    burst: u32,
    timeout: u64,
    changes: usize,
    memory: usize,
    label: String,
    csv: bool,
    /// Each event also writes its run report (`Report`) to moto's S3.
    report: bool,
}

fn args() -> Args {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let get = |n: &str| a.iter().position(|x| x == n).and_then(|i| a.get(i + 1)).cloned();
    let num = |n: &str, d: f64| get(n).and_then(|v| v.parse::<f64>().ok()).unwrap_or(d);
    Args {
        binary: PathBuf::from(get("--binary").unwrap_or_else(|| "target/release/connect-user-resource".into())),
        users: num("--users", 2000.0) as usize,
        rate: num("--rate", 2.0),
        burst: num("--burst", 5.0) as u32,
        timeout: num("--timeout", 300.0) as u64,
        changes: num("--changes", 20.0) as usize,
        memory: num("--memory", 10000.0) as usize,
        label: get("--label").unwrap_or_else(|| "roster".into()),
        csv: get("--source").as_deref() == Some("csv"),
        report: a.iter().any(|x| x == "--report"),
    }
}

fn roster(users: usize, rate: f64, burst: u32, changed: usize) -> Value {
    let entries: Vec<Value> = (0..users)
        .map(|i| {
            let mut e = json!({
                "Name": format!("agent{i:05}"),
                "Password": "Passw0rdBench1",
                "IdentityInfo": {"FirstName": "Agent", "LastName": format!("{i:05}"), "Email": format!("agent{i:05}@example.com")}
            });
            if i < changed {
                e["RoutingProfileId"] = json!(RP_SALES);
            }
            e
        })
        .collect();
    json!({
        "InstanceId": IID,
        "RequestsPerSecond": rate,
        "Burst": burst,
        "Defaults": {"RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT], "PhoneConfig": {"AfterContactWorkTimeLimit": 30}},
        "Users": entries
    })
}

/// The same roster as Connect's bulk-upload CSV, as the console writes it.
fn csv_roster(users: usize, changed: usize) -> String {
    let mut out = String::from("\u{feff}first name,last name,email address,secondary email address,mobile,password,user login,routing profile name,security_profile_name_1|security_profile_name_2,phone type (soft/desk),phone number,soft phone auto accept (yes/no),ACW timeout (seconds)\r\n");
    for i in 0..users {
        let rp = if i < changed { "Sales Routing Profile" } else { "Basic Routing Profile" };
        out.push_str(&format!("Agent,{i:05},agent{i:05}@example.com,,,Passw0rdBench1,agent{i:05},{rp},Agent,soft,,no,30\r\n"));
    }
    out
}

/// Where the rosters come from (inline, or files in S3), and the function's state table (as deployed), both on
/// moto.
struct Rosters {
    moto: lambda_harness::moto::Moto,
    csv: bool,
    report: bool,
    uploads: usize,
}

impl Rosters {
    async fn new(csv: bool, report: bool) -> Result<Rosters, String> {
        let moto = lambda_harness::moto::start().await.map_err(|e| e.to_string())?;
        moto.state_table("state").await.map_err(|e| e.to_string())?;
        if csv || report {
            moto.versioned_bucket("bench").await.map_err(|e| e.to_string())?;
        }
        Ok(Rosters { moto, csv, report, uploads: 0 })
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env =
            vec![("AWS_ENDPOINT_URL_DYNAMODB".to_string(), self.moto.endpoint.clone()), ("STATE_TABLE".to_string(), "state".to_string())];
        if self.csv || self.report {
            env.push(("AWS_ENDPOINT_URL_S3".to_string(), self.moto.endpoint.clone()));
        }
        env
    }

    /// The set's properties for `users` entries of which the first `changed` moved to another routing profile.
    async fn props(&mut self, users: usize, rate: f64, burst: u32, changed: usize) -> Result<Value, String> {
        let mut p = self.roster_props(users, rate, burst, changed).await?;
        if self.report {
            p["Report"] = json!("s3://bench/reports/");
        }
        Ok(p)
    }

    async fn roster_props(&mut self, users: usize, rate: f64, burst: u32, changed: usize) -> Result<Value, String> {
        if !self.csv {
            return Ok(roster(users, rate, burst, changed));
        }
        let m = &self.moto;
        self.uploads += 1;
        let key = format!("roster-{users}.csv");
        let version = m.put_object("bench", &key, csv_roster(users, changed).as_bytes()).await.map_err(|e| e.to_string())?;
        Ok(json!({
            "InstanceId": IID,
            "RequestsPerSecond": rate,
            "Burst": burst,
            "Source": format!("s3://bench/{key}"),
            "SourceVersion": version,
        }))
    }
}

/// What one phase did.
struct Phase {
    name: String,
    wall_s: f64,
    bound_s: f64,
    calls: BTreeMap<String, usize>,
    throttled: usize,
    invocations: usize,
    status: String,
    check: String,
    /// The physical id answered: the next event goes to it, as CloudFormation's would.
    physical_id: String,
}

/// The throttle's lower bound for `n` calls of one operation from a full bucket.
fn bound(n: usize, rate: f64, burst: u32) -> f64 {
    n.saturating_sub(burst as usize) as f64 / rate
}

struct Bench {
    emulator: connect_emulator::Emulator,
    receiver: Receiver,
    runtime: RuntimeApi,
    lambda: LambdaProcess,
    timeout: Duration,
    seq: usize,
}

impl Bench {
    async fn start(binary: &Path, throttle: Option<(f64, u32)>, timeout: Duration, extra: Vec<(String, String)>) -> Result<Bench, String> {
        let mut fixture = connect_emulator::fixture::Fixture::default_fixture();
        for i in &mut fixture.instances {
            i.user_limit = 100_000;
        }
        let emulator = connect_emulator::start(connect_emulator::Config { throttle, fixture: Some(fixture), ..Default::default() })
            .await
            .map_err(|e| e.to_string())?;
        let receiver = Receiver::start().await.map_err(|e| e.to_string())?;
        let runtime = RuntimeApi::start().await.map_err(|e| e.to_string())?;
        let mut env = lambda_env(runtime.addr, &emulator.endpoint());
        env.extend(extra);
        env.push(("RUST_LOG".into(), std::env::var("ROSTER_BENCH_LOG").unwrap_or_else(|_| "warn".into())));
        if let Some((k, v)) = std::env::var("ROSTER_BENCH_LAMBDA_ENV").ok().as_deref().and_then(|s| s.split_once('=')) {
            env.push((k.into(), v.into()));
        }
        let lambda = LambdaProcess::spawn(binary, &env).map_err(|e| e.to_string())?;
        runtime.auto_deliver(Some(timeout));
        Ok(Bench { emulator, receiver, runtime, lambda, timeout, seq: 0 })
    }

    async fn log(&self) -> Vec<Value> {
        control(&self.emulator.endpoint(), "GET", "calls", None).await.ok().and_then(|v| v["calls"].as_array().cloned()).unwrap_or_default()
    }

    async fn users(&self) -> Vec<Value> {
        control(&self.emulator.endpoint(), "GET", "state", None).await.ok().and_then(|v| v["users"].as_array().cloned()).unwrap_or_default()
    }

    /// Sends an event and waits for its one response, however many invocations it takes.
    async fn phase(&mut self, name: &str, event: Value, bound_s: f64) -> Result<Phase, String> {
        control(&self.emulator.endpoint(), "DELETE", "calls", None).await.map_err(|e| e.to_string())?;
        let before = self.runtime.invoked().len();
        self.seq += 1;
        let tag = format!("phase-{}", self.seq);
        let mut e = event;
        e["ResponseURL"] = json!(self.receiver.url(&tag));
        let started = Instant::now();
        self.runtime.enqueue(e, lambda_harness::Deadline::After(self.timeout));
        // CloudFormation would wait at most an hour (ServiceTimeout's maximum).
        let wait = std::env::var("ROSTER_BENCH_WAIT").ok().and_then(|w| w.parse().ok()).unwrap_or(3600);
        let got = self.receiver.wait_for(&tag, 1, Duration::from_secs(wait)).await;
        let wall_s = started.elapsed().as_secs_f64();
        let Some(body) = got.first().map(|r| r.json()) else {
            let out = self.lambda.output();
            let tail: Vec<&str> = out.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(format!("{name}: no response within an hour; the function's last lines:\n{}", tail.join("\n")));
        };
        let log = self.log().await;
        let mut calls = BTreeMap::new();
        for c in &log {
            *calls.entry(c["operation"].as_str().unwrap_or("").to_string()).or_default() += 1;
        }
        let throttled = log.iter().filter(|c| c["error"] == "ThrottlingException").count();
        let status = match body["Status"].as_str() {
            Some("SUCCESS") => "SUCCESS".to_string(),
            _ => format!("FAILED: {}", body["Reason"]),
        };
        Ok(Phase {
            name: name.into(),
            wall_s,
            bound_s,
            calls,
            throttled,
            invocations: 1 + self.runtime.invoked().len() - before,
            status,
            check: String::new(),
            physical_id: body["PhysicalResourceId"].as_str().unwrap_or_default().to_string(),
        })
    }
}

fn fixture_users(users: &[Value]) -> usize {
    users.iter().filter(|u| !u["Username"].as_str().unwrap_or("").starts_with("agent")).count()
}

async fn run(a: &Args) -> Result<String, String> {
    let (n, k) = (a.users, a.changes.min(a.users));
    let mut files = Rosters::new(a.csv, a.report).await?;
    let mut b = Bench::start(&a.binary, Some((a.rate, a.burst)), Duration::from_secs(a.timeout), files.env()).await?;
    let first = files.props(n, a.rate, a.burst, 0).await?;
    let second = files.props(n, a.rate, a.burst, k).await?;
    let pages = n.div_ceil(100);
    let mut phases = Vec::new();

    let mut c = b.phase("Create", events::for_set(events::create("Roster", "x", first.clone())), bound(n, a.rate, a.burst)).await?;
    let set_id = c.physical_id.clone();
    let users = b.users().await;
    let made = users.len() - fixture_users(&users);
    c.check = format!("{made}/{n} users exist");
    phases.push(c);

    let mut u = b
        .phase(
            &format!("Update ({k} changed)"),
            events::for_set(events::update("Roster", "x", &set_id, second.clone(), first)),
            bound(pages, a.rate, a.burst) + bound(k, a.rate, a.burst),
        )
        .await?;
    let users = b.users().await;
    let moved =
        users.iter().filter(|u| u["RoutingProfileId"] == RP_SALES && u["Username"].as_str().unwrap_or("").starts_with("agent")).count();
    u.check = format!("{moved}/{k} changed; {} SearchUsers pages", u.calls.get("SearchUsers").copied().unwrap_or(0));
    let set_id = u.physical_id.clone();
    phases.push(u);

    let mut d = b
        .phase(
            "Delete",
            events::for_set(events::delete("Roster", "x", &set_id, second)),
            bound(pages, a.rate, a.burst) + bound(n, a.rate, a.burst),
        )
        .await?;
    let users = b.users().await;
    d.check = format!("{} users left", users.len() - fixture_users(&users));
    phases.push(d);
    let rss = b.lambda.pid().and_then(lambda_harness::peak_rss_kb);
    b.lambda.kill().await;

    let mut lines = vec![
        format!(
            "{} users{}, emulator and set at {} requests/s (burst {}), function timeout {} s; `{}`.",
            n,
            if a.csv { " in a console CSV in S3 (moto, versioned; the Update is a new VersionId)" } else { " inline" },
            a.rate,
            a.burst,
            a.timeout,
            a.label
        ),
        String::new(),
        "| Phase | Result | Wall time | Throttle lower bound | Ratio | Calls | Throttled | Invocations | Afterwards |".into(),
        "|---|---|---|---|---|---|---|---|---|".into(),
    ];
    for p in &phases {
        let total: usize = p.calls.values().sum();
        let calls: Vec<String> = p.calls.iter().map(|(op, c)| format!("{op} {c}")).collect();
        // Under one burst the throttle sets no bound worth a ratio.
        let ratio = if p.bound_s >= 1.0 { format!("{:.3}", p.wall_s / p.bound_s) } else { "n/a (within one burst)".into() };
        lines.push(format!(
            "| {} | {} | {:.1} s | {:.1} s | {ratio} | {total} ({}) | {} ({:.2}%) | {} | {} |",
            p.name,
            p.status,
            p.wall_s,
            p.bound_s,
            calls.join(", "),
            p.throttled,
            100.0 * p.throttled as f64 / total.max(1) as f64,
            p.invocations,
            p.check
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Peak RSS of the function over the three phases: {}.",
        rss.map(|k| format!("{:.1} MB", k as f64 / 1024.0)).unwrap_or("n/a".into())
    ));

    if a.memory > 0 {
        // Memory at a large roster: unthrottled, so that it measures the roster's size, not the wait.
        let m = a.memory;
        let mut big = Bench::start(&a.binary, None, Duration::from_secs(900), files.env()).await?;
        let props = files.props(m, 1000.0, 1000, 0).await?;
        let bytes = if a.csv { csv_roster(m, 0).len() } else { props.to_string().len() };
        let c = big.phase("Create", events::for_set(events::create("Roster", "x", props.clone())), 0.0).await?;
        let set_id = c.physical_id.clone();
        let after_create = big.lambda.pid().and_then(lambda_harness::peak_rss_kb);
        let changed = files.props(m, 1000.0, 1000, 20).await?;
        let u = big.phase("Update", events::for_set(events::update("Roster", "x", &set_id, changed.clone(), props)), 0.0).await?;
        let set_id = u.physical_id.clone();
        let after_update = big.lambda.pid().and_then(lambda_harness::peak_rss_kb);
        let d = big.phase("Delete", events::for_set(events::delete("Roster", "x", &set_id, changed)), 0.0).await?;
        let after_delete = big.lambda.pid().and_then(lambda_harness::peak_rss_kb);
        big.lambda.kill().await;
        let mb = |k: Option<u64>| k.map(|k| format!("{:.1} MB", k as f64 / 1024.0)).unwrap_or("n/a".into());
        lines.push(String::new());
        lines.push(format!(
            "Peak memory (VmHWM of one function process) at {m} entries ({:.1} MB of {}{}), unthrottled: after Create ({}, {:.1} s) {}; after an Update of 20 ({}, {:.1} s) {}; after Delete ({}, {:.1} s) {}. Target: under 64 MB.",
            bytes as f64 / 1e6,
            if a.csv { "CSV" } else { "properties" },
            if a.report { ", each event writing its run report" } else { "" },
            c.status,
            c.wall_s,
            mb(after_create),
            u.status,
            u.wall_s,
            mb(after_update),
            d.status,
            d.wall_s,
            mb(after_delete)
        ));
    }
    Ok(lines.join("\n"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let a = args();
    match run(&a).await {
        Ok(table) => {
            println!("{table}");
            let section = format!("## A roster in one resource (`roster-bench`, {})\n\n{table}", a.label);
            if let Err(e) = lambda_harness::write_results_section(&a.label, &section) {
                eprintln!("roster-bench: could not write bench/RESULTS.md: {e}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("roster-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

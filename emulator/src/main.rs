//! `connect-emulator [--port N] [--fixture FILE] [--throttle RATE:BURST] [--describe-delay-ms N]`
//!
//! Prints `connect-emulator listening on http://127.0.0.1:PORT` once it accepts connections, and stops on
//! SIGTERM or Ctrl-C.

use connect_emulator::{start, Config};
use std::process::ExitCode;

const USAGE: &str = "usage: connect-emulator [--port N] [--fixture FILE] [--throttle RATE:BURST] [--describe-delay-ms N]";

fn parse(args: &[String]) -> Result<Config, String> {
    let mut c = Config::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or_else(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--port" => c.port = val()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--fixture" => {
                let path = val()?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("--fixture {path}: {e}"))?;
                c.fixture = Some(connect_emulator::seed::parse(&text)?);
            }
            "--throttle" => {
                let v = val()?;
                let (r, b) = v.split_once(':').ok_or("--throttle takes RATE:BURST, e.g. 2:5")?;
                c.throttle = Some((
                    r.parse().map_err(|e| format!("--throttle rate: {e}"))?,
                    b.parse().map_err(|e| format!("--throttle burst: {e}"))?,
                ));
            }
            "--describe-delay-ms" => c.describe_delay_ms = val()?.parse().map_err(|e| format!("--describe-delay-ms: {e}"))?,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(c)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let emulator = match start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("connect-emulator: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("connect-emulator listening on {}", emulator.endpoint());
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("connect-emulator: cannot install SIGTERM handler: {e}");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    emulator.stop().await;
    eprintln!("connect-emulator stopped");
    ExitCode::SUCCESS
}

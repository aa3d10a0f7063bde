//! The function as users run it locally: under cargo-lambda's own Runtime API emulator (`cargo lambda watch`),
//! invoked with `cargo lambda invoke` and a sample event, against the Connect emulator. cargo-lambda comes from
//! PyPI into .venv (the Makefile installs it).

use crate::support::*;
use lambda_harness::{events, Receiver};
use std::time::{Duration, Instant};

struct Tree(std::process::Child);

/// The pids whose parent is `pid`, read from /proc.
fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return vec![] };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // The parent pid is the second field after the command name's closing parenthesis.
            stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok()) == Some(pid)
        })
        .collect()
}

impl Drop for Tree {
    fn drop(&mut self) {
        // cargo lambda watch starts the function in a session of its own, so neither a signal to watch nor to its
        // process group reaches it: kill every descendant, then watch itself.
        let mut all = vec![self.0.id()];
        let mut i = 0;
        while i < all.len() {
            all.extend(children(all[i]));
            i += 1;
        }
        for pid in all.iter().rev() {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_sample_event_through_cargo_lambda_watch_and_invoke() {
    let root = env!("CARGO_MANIFEST_DIR");
    let cargo_lambda = std::env::var("CARGO_LAMBDA").unwrap_or_else(|_| format!("{root}/.venv/bin/cargo-lambda"));
    assert!(
        std::path::Path::new(&cargo_lambda).exists(),
        "{cargo_lambda} is missing: run the tests through `make test`, which installs it"
    );
    let emulator = connect_emulator::start(Default::default()).await.unwrap();
    let receiver = Receiver::start().await.unwrap();
    let env = format!(
        "AWS_ENDPOINT_URL_CONNECT={},AWS_REGION=us-east-1,AWS_ACCESS_KEY_ID=AKIDEXAMPLE,AWS_SECRET_ACCESS_KEY=secret,AWS_EC2_METADATA_DISABLED=true",
        emulator.endpoint()
    );
    // `cargo lambda watch` cannot be given port 0 (it reads it as its default, 9000), so a free port is chosen
    // here and may be taken by someone else before watch binds it. Then watch exits, or its log names no such
    // address: try again with another port, rather than trust a port that is not watch's.
    let mut started = None;
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
        let log_path = std::env::temp_dir().join(format!("cargo-lambda-watch-{port}-{}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).unwrap();
        let watch = std::process::Command::new(&cargo_lambda)
            .args(["lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", &port, "-p", "connect-user-resource"])
            // As the Makefile builds it, so that watch reuses the tests' build (docs/development.md#building).
            .args(["--features", "unify", "--env-var", &env])
            .current_dir(root)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut watch = Tree(watch);
        let end = Instant::now() + Duration::from_secs(600);
        let ours = loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if text.contains(&format!("runtime_addr=127.0.0.1:{port}"))
                && tokio::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).await.is_ok()
            {
                break true;
            }
            if watch.0.try_wait().ok().flatten().is_some() || Instant::now() > end {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        if ours {
            started = Some((port, watch));
            break;
        }
    }
    let (port, _watch) = started.expect("cargo lambda watch started on a port of its own");

    let raw = events::load_dir(&std::path::Path::new(root).join("events")).unwrap().remove(0).1;
    let event = events::fill(&raw, &receiver.url("watch"), &events::Ids::default());
    let file = std::env::temp_dir().join(format!("cargo-lambda-event-{port}.json"));
    std::fs::write(&file, event.to_string()).unwrap();
    // The first invocation compiles the function (cargo lambda watch builds on demand).
    let out = tokio::process::Command::new(&cargo_lambda)
        .args(["lambda", "invoke", "connect-user-resource", "-A", "127.0.0.1", "-P", &port, "-F"])
        .arg(&file)
        .current_dir(root)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "cargo lambda invoke: {}", String::from_utf8_lossy(&out.stderr));

    let got = receiver.wait_for("watch", 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["LogicalResourceId"], "SoftPhoneAgent");
    assert!(got[0].content_type.as_deref().unwrap_or("").is_empty());
    let user_id = body["Data"]["UserId"].as_str().unwrap();
    let state = lambda_harness::control(&emulator.endpoint(), "GET", "state", None).await.unwrap();
    let user = state["users"].as_array().unwrap().iter().find(|u| u["Id"] == user_id).cloned().unwrap();
    assert_eq!(user["Username"], "example");
    assert_eq!(user["InstanceId"], IID);
}

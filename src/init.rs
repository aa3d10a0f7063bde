//! Process start-up: logging and clients are built once and reused by every invocation.

use crate::cfn::{deadline, relay::Relay, Protocol};
use crate::connect;
use crate::dispatch::ConnectResources;
use crate::roster::{s3::Files, ConnectUserSet};
use crate::user::ConnectUserResource;
use std::time::Duration;

/// One malloc arena, set before any thread starts. glibc gives each thread that allocates an arena of its own;
/// a roster's large allocations (megabytes of properties, thousands of users) then leave memory free in several
/// arenas at once, and a warm function's next event peaks higher. The work is waiting on the network, so the
/// threads hardly contend for the one arena.
///
/// Fixed thresholds too: glibc raises its mmap threshold (up to 32 MB) each time a large block is freed, after
/// which large buffers (a roster file, a vector of entries) come from the heap and leave holes there; with blocks
/// over 128 KiB always mapped and the heap's top trimmed past 1 MiB they do not. What each setting saved, measured
/// with `make bench`: docs/performance.md.
pub fn memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; it is called before the runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// JSON lines for CloudWatch. `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL` (what the template's LogLevel sets through
/// Lambda's LoggingConfig) sets the level; info by default.
pub fn logging() {
    let filter = tracing_subscriber::EnvFilter::try_new(level(std::env::var("RUST_LOG").ok(), std::env::var("AWS_LAMBDA_LOG_LEVEL").ok()))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .init();
}

/// Every client from one SDK configuration ([`connect::sdk_config`]), made once per process.
pub async fn protocol() -> Result<Protocol<ConnectResources>, reqwest::Error> {
    let config = connect::sdk_config().load().await;
    let connect = connect::Connect::new(aws_sdk_connect::Client::new(&config));
    let secrets = connect::Secrets::new(aws_sdk_secretsmanager::Client::new(&config));
    let relay = Relay::new(aws_sdk_lambda::Client::new(&config));
    let store = match std::env::var(crate::store::TABLE_ENV) {
        Ok(table) if !table.is_empty() => Some(crate::store::Store::new(aws_sdk_dynamodb::Client::new(&config), table)),
        _ => {
            tracing::warn!(
                "STATE_TABLE is not set: no record of answered events or of the users a set holds is kept (template.yaml and the CDK provider set it)"
            );
            None
        }
    };
    let files = Files::from_config(&config);
    let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(3)).build()?;
    let resources = ConnectResources {
        user: ConnectUserResource::new(connect.clone(), secrets.clone()).with_store(store.clone()),
        set: ConnectUserSet::new(connect, secrets, files).with_store(store.clone()),
    };
    let stacks = crate::cfn::stack::Stacks::new(aws_sdk_cloudformation::Client::new(&config));
    let protocol = Protocol::new(resources, http, deadline::Policy::default())
        .with_relay(relay)
        .with_stacks(stacks)
        .with_metrics(crate::cfn::metrics::Metrics::stdout());
    Ok(match store {
        Some(s) => protocol.with_store(s),
        None => protocol,
    })
}

/// The filter for `RUST_LOG` (a directive, kept as given) or Lambda's level (TRACE ... FATAL; tracing has no
/// FATAL, whose messages are errors).
fn level(rust_log: Option<String>, lambda: Option<String>) -> String {
    if let Some(r) = rust_log.filter(|r| !r.trim().is_empty()) {
        return r;
    }
    match lambda.map(|l| l.trim().to_lowercase()).as_deref() {
        Some(l @ ("trace" | "debug" | "info" | "warn" | "error")) => l.to_string(),
        Some("fatal") => "error".into(),
        _ => "info".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::level;

    #[test]
    fn rust_log_wins_then_lambdas_level_read_in_tracings_words() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(level(s("connect_user_resource=debug"), s("ERROR")), "connect_user_resource=debug");
        assert_eq!(level(s(" "), s("WARN")), "warn");
        assert_eq!(level(None, s("DEBUG")), "debug");
        assert_eq!(level(None, s("FATAL")), "error");
        assert_eq!(level(None, s("LOUD")), "info");
        assert_eq!(level(None, None), "info");
    }
}

//! The stack's own status (`cloudformation:DescribeStacks` on the request's StackId): whether CloudFormation is
//! rolling the stack back, which a Delete alone does not say. A Delete during a rollback undoes what the failed
//! operation made; any other Delete (the stack's, or a resource removed by a successful update) does not.

use aws_sdk_cloudformation::Client;
use std::time::{Duration, Instant};

/// What the stack's status says of a Delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `ROLLBACK_IN_PROGRESS`, `UPDATE_ROLLBACK_IN_PROGRESS`, `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`,
    /// `IMPORT_ROLLBACK_IN_PROGRESS`: the operation that made the resource is being undone.
    RollingBack,
    /// Any other status (a Delete, an update's cleanup after success, ...).
    Other,
}

/// Reads the stack's status; one client for the function's life.
#[derive(Clone)]
pub struct Stacks {
    client: Client,
}

/// The status read, or why it could not be (denied, unreachable, no such stack): the caller then does what is
/// safe without it.
pub fn phase_of(status: &str) -> Phase {
    if status.contains("ROLLBACK") && status.ends_with("_IN_PROGRESS") {
        Phase::RollingBack
    } else {
        Phase::Other
    }
}

impl Stacks {
    pub fn new(client: Client) -> Stacks {
        Stacks { client }
    }

    /// The stack's phase, within `deadline` (two attempts; a status that cannot be read is an error).
    pub async fn phase(&self, stack_id: &str, deadline: Instant) -> Result<Phase, String> {
        let mut last = String::new();
        for attempt in 0..2 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < Duration::from_millis(200) {
                break;
            }
            let call = self.client.describe_stacks().stack_name(stack_id).send();
            match tokio::time::timeout(left.min(Duration::from_secs(5)), call).await {
                Ok(Ok(out)) => {
                    let status = out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string());
                    return match status {
                        Some(s) => {
                            tracing::info!(stack_status = %s, "the stack's status");
                            Ok(phase_of(&s))
                        }
                        None => Err("DescribeStacks named no stack".into()),
                    };
                }
                Ok(Err(e)) => {
                    let service = e.as_service_error().map(|s| {
                        use aws_sdk_cloudformation::error::ProvideErrorMetadata;
                        format!("{}: {}", s.code().unwrap_or("error"), s.message().unwrap_or_default())
                    });
                    last = service.clone().unwrap_or_else(|| format!("{e}"));
                    if service.is_some() {
                        break; // denied or no such stack: asking again says the same
                    }
                }
                Err(_) => last = "DescribeStacks timed out".into(),
            }
            if attempt == 0 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Err(if last.is_empty() { "no time left to read the stack's status".into() } else { last })
    }
}

impl Stacks {
    /// Whether CloudFormation says the stack `stack_id` (an ARN, which also finds deleted stacks) no longer exists:
    /// `Ok(Some(why))` when it is `DELETE_COMPLETE` or unknown to CloudFormation, `Ok(None)` when it exists, `Err`
    /// when that cannot be read (denied, unreachable): the caller then keeps to what the records say.
    pub async fn gone(&self, stack_id: &str, deadline: Instant) -> Result<Option<String>, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(200) {
            return Err("no time left to read the stack's status".into());
        }
        let call = self.client.describe_stacks().stack_name(stack_id).send();
        match tokio::time::timeout(left.min(Duration::from_secs(5)), call).await {
            Ok(Ok(out)) => match out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string()) {
                Some(s) if s == "DELETE_COMPLETE" => Ok(Some("deleted (DELETE_COMPLETE)".into())),
                Some(_) => Ok(None),
                None => Err("DescribeStacks named no stack".into()),
            },
            Ok(Err(e)) => {
                use aws_sdk_cloudformation::error::ProvideErrorMetadata;
                let (code, message) = (e.code().unwrap_or_default().to_string(), e.message().unwrap_or_default().to_string());
                if code == "ValidationError" && message.contains("does not exist") {
                    Ok(Some("unknown to CloudFormation (does not exist)".into()))
                } else if code.is_empty() {
                    Err(format!("{e}"))
                } else {
                    Err(format!("{code}: {message}"))
                }
            }
            Err(_) => Err("DescribeStacks timed out".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_rollback_in_progress_undoes() {
        for s in [
            "ROLLBACK_IN_PROGRESS",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            "IMPORT_ROLLBACK_IN_PROGRESS",
        ] {
            assert_eq!(phase_of(s), Phase::RollingBack, "{s}");
        }
        for s in [
            "DELETE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "CREATE_IN_PROGRESS",
            "ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_FAILED",
        ] {
            assert_eq!(phase_of(s), Phase::Other, "{s}");
        }
    }
}

#[cfg(test)]
mod live {
    //! Against the harness's DescribeStacks (the query protocol, as CloudFormation answers it).
    use super::*;
    use lambda_harness::{events::STACK_ID, RuntimeApi};

    fn stacks(api: &RuntimeApi) -> Stacks {
        let config = aws_sdk_cloudformation::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudformation::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
            .retry_config(aws_sdk_cloudformation::config::retry::RetryConfig::disabled())
            .endpoint_url(format!("http://{}", api.addr))
            .build();
        Stacks::new(Client::from_conf(config))
    }

    #[tokio::test]
    async fn the_stacks_status_is_read_once_and_what_cannot_be_read_is_an_error() {
        let api = RuntimeApi::start().await.unwrap();
        let s = stacks(&api);
        let soon = || Instant::now() + Duration::from_secs(5);
        assert_eq!(s.phase(STACK_ID, soon()).await, Ok(Phase::Other), "UPDATE_IN_PROGRESS");
        api.stack_status(Some("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"));
        assert_eq!(s.phase(STACK_ID, soon()).await, Ok(Phase::RollingBack));
        assert_eq!(api.described_stacks(), vec![STACK_ID.to_string(); 2], "the request's own stack, once each");
        api.stack_status(None);
        let denied = s.phase(STACK_ID, soon()).await.unwrap_err();
        assert!(denied.starts_with("AccessDenied: "), "{denied}");
        assert_eq!(api.described_stacks().len(), 3, "a refusal is not asked again");
        let late = s.phase(STACK_ID, Instant::now() + Duration::from_millis(100)).await.unwrap_err();
        assert_eq!(late, "no time left to read the stack's status");
        assert_eq!(api.described_stacks().len(), 3, "no call without time for it");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_tried_twice_then_is_an_error() {
        let api = RuntimeApi::start().await.unwrap();
        let config = aws_sdk_cloudformation::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudformation::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
            .retry_config(aws_sdk_cloudformation::config::retry::RetryConfig::disabled())
            .endpoint_url("http://127.0.0.1:9")
            .build();
        let s = Stacks::new(Client::from_conf(config));
        let started = Instant::now();
        let e = s.phase(STACK_ID, Instant::now() + Duration::from_secs(5)).await.unwrap_err();
        assert!(!e.is_empty() && !e.starts_with("no time left"), "{e}");
        assert!(started.elapsed() >= Duration::from_millis(200), "a second attempt after a pause");
        drop(api);
    }
}

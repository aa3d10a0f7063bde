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

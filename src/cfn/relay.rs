//! Hands a continued event to a new asynchronous invocation of this same function (Lambda `Invoke` with
//! InvocationType Event). The endpoint comes from the standard variables (`AWS_ENDPOINT_URL_LAMBDA`).

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Relay {
    client: aws_sdk_lambda::Client,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Lambda Invoke of {function} failed after {attempts} attempt(s): {message}")]
pub struct RelayError {
    pub function: String,
    pub attempts: u32,
    pub message: String,
}

impl Relay {
    pub fn new(client: aws_sdk_lambda::Client) -> Relay {
        Relay { client }
    }

    pub fn client(&self) -> &aws_sdk_lambda::Client {
        &self.client
    }

    /// Queues `payload` for `function` (the ARN this invocation was invoked as). A few quick attempts within
    /// `deadline`: Lambda accepts an asynchronous event in milliseconds or not at all.
    pub async fn send(&self, function: &str, payload: Vec<u8>, deadline: Instant) -> Result<(), RelayError> {
        let mut attempts = 0;
        let mut wait = Duration::from_millis(200);
        loop {
            attempts += 1;
            let r = self
                .client
                .invoke()
                .function_name(function)
                .invocation_type(InvocationType::Event)
                .payload(Blob::new(payload.clone()))
                .send()
                .await;
            let message = match r {
                Ok(out) if (200..300).contains(&out.status_code()) => {
                    tracing::info!(attempts, "continuation queued");
                    return Ok(());
                }
                Ok(out) => format!("status {}", out.status_code()),
                Err(e) => match e.code() {
                    Some(code) => format!("{code}: {}", e.message().unwrap_or_default()),
                    None => format!("{}", aws_sdk_lambda::error::DisplayErrorContext(&e)),
                },
            };
            if attempts >= 4 || Instant::now() + wait >= deadline {
                return Err(RelayError { function: function.to_string(), attempts, message });
            }
            tracing::warn!(attempts, error = %message, "continuation not queued yet; retrying");
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
}

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
            // The SDK answers Ok only for a 2xx status (202 for an asynchronous invocation).
            let message = match r {
                Ok(_) => {
                    tracing::info!(attempts, "continuation queued");
                    return Ok(());
                }
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

/// A Lambda client for the test harness's Lambda API (the one the end-to-end tests run the function under).
#[cfg(test)]
pub(crate) fn harness_client(addr: std::net::SocketAddr) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
        .endpoint_url(format!("http://{addr}"))
        // As the function's own clients (init.rs): the SDK's retries off, the caller's own in charge.
        .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn live() -> (lambda_harness::RuntimeApi, Relay) {
        let api = lambda_harness::RuntimeApi::start().await.unwrap();
        let relay = Relay::new(harness_client(api.addr));
        (api, relay)
    }

    fn payload() -> Vec<u8> {
        serde_json::to_vec(&json!({"RequestType": "Create", "n": 1})).unwrap()
    }

    #[tokio::test]
    async fn the_event_is_queued_once_as_an_asynchronous_invocation() {
        let (api, relay) = live().await;
        relay.send(lambda_harness::FUNCTION_ARN, payload(), Instant::now() + Duration::from_secs(30)).await.unwrap();
        assert_eq!(api.invoked(), [json!({"RequestType": "Create", "n": 1})]);
    }

    #[tokio::test]
    async fn a_refused_invoke_is_tried_four_times_with_growing_waits_then_reported() {
        let (api, relay) = live().await;
        api.invoke_lies(Some(503));
        let t0 = Instant::now();
        let e = relay.send(lambda_harness::FUNCTION_ARN, payload(), Instant::now() + Duration::from_secs(60)).await.unwrap_err();
        assert_eq!((e.function.as_str(), e.attempts), (lambda_harness::FUNCTION_ARN, 4));
        assert!(e.message.starts_with("ServiceException: "), "{e:?}");
        assert_eq!(api.invoked().len(), 4);
        // 200 + 400 + 800 ms between the attempts (a lower bound: sleeps never end early).
        assert!(t0.elapsed() >= Duration::from_millis(1400), "{:?}", t0.elapsed());
    }

    #[tokio::test]
    async fn no_retry_is_started_that_would_end_past_the_deadline() {
        let (api, relay) = live().await;
        api.invoke_lies(Some(503));
        let e = relay.send(lambda_harness::FUNCTION_ARN, payload(), Instant::now() + Duration::from_millis(150)).await.unwrap_err();
        assert_eq!(e.attempts, 1);
        assert!(e.to_string().starts_with("Lambda Invoke of arn:"), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_lambda_is_reported_with_the_transport_error() {
        let (api, relay) = live().await;
        drop(api);
        let e = relay.send(lambda_harness::FUNCTION_ARN, payload(), Instant::now() + Duration::from_millis(100)).await.unwrap_err();
        assert!(e.message.contains("dispatch failure"), "{e:?}");
    }
}

//! Reads a roster's file from S3 (GetObject, under the function's role), at the version its `SourceVersion` pins.

use super::source::{Pin, Spec, MAX_BYTES};
use crate::connect::{with_retries, ApiError};
use std::time::Instant;

#[derive(Clone)]
pub struct Files {
    client: aws_sdk_s3::Client,
    /// A file given on `connect-users plan`'s command line, read in place of every Source.
    local: Option<std::sync::Arc<String>>,
}

/// Why a file could not be read, as a FAILED reason says it.
pub fn reason(spec: &Spec, e: &ApiError) -> String {
    let uri = spec.uri();
    match (e.code(), &spec.pin) {
        ("NoSuchKey", _) => format!("Source: {uri} does not exist"),
        ("NoSuchVersion", Pin::VersionId(v)) | ("InvalidArgument", Pin::VersionId(v)) => {
            format!("SourceVersion: {uri} has no version {v:?} (give a VersionId of the object, or its ETag)")
        }
        ("PreconditionFailed", Pin::ETag(t)) => format!(
            "SourceVersion: {uri} has changed since ETag {t}: its content is no longer the one this version names. Deploy the new ETag \
             (or, so that a rollback can read the previous content, a VersionId of a versioned bucket)"
        ),
        ("AccessDenied", _) | ("Forbidden", _) => format!(
            "Source: the function may not read {uri} ({}: grant it with the RosterBucket and RosterPrefix parameters of template.yaml, or the CDK provider's roster grants)",
            e.code()
        ),
        ("NoSuchBucket", _) => format!("Source: bucket {} does not exist", spec.bucket),
        _ => format!("Source: reading {uri} failed: {}: {}", e.code(), e.message()),
    }
}

impl Files {
    pub fn new(client: aws_sdk_s3::Client) -> Files {
        Files { client, local: None }
    }

    /// The client of `config`. An S3-compatible endpoint given in `AWS_ENDPOINT_URL_S3` (a test server, MinIO)
    /// takes the bucket in the path; AWS's own endpoints take it in the host name.
    pub fn from_config(config: &aws_config::SdkConfig) -> Files {
        let path_style = std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        Files::new(aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build()))
    }

    /// Every Source reads `text` instead of an object (a local roster file given to `connect-users plan`).
    pub fn with_local_text(mut self, text: String) -> Files {
        self.local = Some(std::sync::Arc::new(text));
        self
    }

    /// Writes one object (a run's report). The reason on failure names the object and what to grant.
    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>, content_type: &str, deadline: Instant) -> Result<(), String> {
        with_retries("PutObject", deadline, || {
            self.client
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type(content_type)
                .body(aws_sdk_s3::primitives::ByteStream::from(body.clone()))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| match e.code() {
            "AccessDenied" | "Forbidden" => format!(
                "the function may not write s3://{bucket}/{key} ({}: grant it with the ReportBucket and ReportPrefix parameters of template.yaml, or the CDK provider's reportBucket)",
                e.code()
            ),
            "NoSuchBucket" => format!("bucket {bucket} does not exist"),
            _ => format!("writing s3://{bucket}/{key} failed: {}: {}", e.code(), e.message()),
        })
    }

    /// The file's text. Refused before its body is read when it is larger than [`MAX_BYTES`].
    pub async fn read(&self, spec: &Spec, deadline: Instant) -> Result<String, String> {
        if let Some(text) = &self.local {
            return Ok(text.as_str().to_string());
        }
        let out = with_retries("GetObject", deadline, || {
            let mut get = self.client.get_object().bucket(&spec.bucket).key(&spec.key);
            match &spec.pin {
                Pin::VersionId(v) => get = get.version_id(v),
                Pin::ETag(t) => get = get.if_match(t),
                Pin::Latest | Pin::InKey => {}
            }
            get.send()
        })
        .await
        .map_err(|e| reason(spec, &e))?;
        let size = out.content_length().unwrap_or(0).max(0) as u64;
        if size > MAX_BYTES {
            return Err(format!("Source: {} has {size} bytes; a roster file may have at most 50 MB ({MAX_BYTES} bytes)", spec.uri()));
        }
        tracing::info!(source = %spec.uri(), version = out.version_id().unwrap_or_default(), bytes = size, "reading the roster file");
        // Chunk by chunk into one buffer (the body is held once, never past the limit): a file is the largest
        // thing the function holds, in 128 MB.
        let left = deadline.saturating_duration_since(Instant::now());
        let mut body = out.body;
        let mut text: Vec<u8> = Vec::with_capacity(size as usize);
        let read = async {
            while let Some(chunk) = body.try_next().await.map_err(|e| format!("Source: reading {} failed: {e}", spec.uri()))? {
                if (text.len() + chunk.len()) as u64 > MAX_BYTES {
                    return Err(format!("Source: {} has more than 50 MB ({MAX_BYTES} bytes)", spec.uri()));
                }
                text.extend_from_slice(&chunk);
            }
            Ok(())
        };
        tokio::time::timeout(left, read)
            .await
            .map_err(|_| format!("Source: reading {} did not finish before the function's deadline", spec.uri()))??;
        String::from_utf8(text).map_err(|e| format!("Source: {} is not UTF-8 text (byte {})", spec.uri(), e.utf8_error().valid_up_to()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::source::Format;

    fn spec(pin: Pin) -> Spec {
        Spec { bucket: "rosters".into(), key: "agents.csv".into(), pin, format: Format::Csv }
    }

    fn err(code: &str) -> ApiError {
        ApiError::new("GetObject", code, "m", 1)
    }

    #[test]
    fn each_way_a_read_fails_says_what_to_do() {
        assert_eq!(reason(&spec(Pin::Latest), &err("NoSuchKey")), "Source: s3://rosters/agents.csv does not exist");
        assert!(reason(&spec(Pin::VersionId("v1".into())), &err("NoSuchVersion"))
            .starts_with("SourceVersion: s3://rosters/agents.csv has no version \"v1\""));
        let changed = reason(&spec(Pin::ETag("\"abc\"".into())), &err("PreconditionFailed"));
        assert!(changed.starts_with("SourceVersion: s3://rosters/agents.csv has changed since ETag \"abc\""), "{changed}");
        assert!(reason(&spec(Pin::Latest), &err("AccessDenied")).contains("RosterBucket"));
        assert_eq!(reason(&spec(Pin::Latest), &err("NoSuchBucket")), "Source: bucket rosters does not exist");
        assert_eq!(reason(&spec(Pin::Latest), &err("SlowDown")), "Source: reading s3://rosters/agents.csv failed: SlowDown: m");
    }
}

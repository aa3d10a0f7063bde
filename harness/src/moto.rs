//! moto's server (installed into `.venv` by the Makefile): Secrets Manager, S3 and DynamoDB for the tests and the
//! roster benchmark, and the few raw requests they need (moto does not check signatures).

use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// moto_server on a port it picks itself (port 0, read back from its start-up line, so no port is released and
/// re-bound in between), stopped when dropped.
pub struct Moto {
    /// Held so that the server lives as long as its user (`kill_on_drop` stops it).
    _child: tokio::process::Child,
    pub endpoint: String,
}

/// Where the Makefile installs moto_server, unless `MOTO_SERVER` says otherwise.
pub fn default_binary() -> String {
    std::env::var("MOTO_SERVER").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/moto_server").to_string())
}

pub async fn start() -> std::io::Result<Moto> {
    let bin = default_binary();
    if !std::path::Path::new(&bin).exists() {
        return Err(std::io::Error::other(format!("{bin} is missing: run through `make`, which installs it")));
    }
    let mut child = tokio::process::Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stderr = child.stderr.take().ok_or_else(|| std::io::Error::other("no stderr"))?;
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let find = async {
        while let Some(line) = lines.next_line().await? {
            if let Some(at) = line.find("http://127.0.0.1:") {
                return Ok(line[at..].split_whitespace().next().unwrap_or_default().to_string());
            }
        }
        Err(std::io::Error::other("moto_server exited before saying where it listens"))
    };
    let endpoint =
        tokio::time::timeout(Duration::from_secs(60), find).await.map_err(|_| std::io::Error::other("moto_server did not start"))??;
    // Keep draining its log so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Moto { _child: child, endpoint })
}

/// An S3 request: moto tells the service from the credential scope (the signature itself is not checked), and a
/// body without a binary content type would be read as a form.
async fn request(endpoint: &str, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";
    crate::http(endpoint, method, path, &[("Authorization", auth), ("Content-Type", "application/octet-stream")], body).await
}

/// The table template.yaml creates for the function's state (`STATE_TABLE`): `pk` and `sk`, on demand, with TTL
/// on `expires`.
pub const STATE_TABLE_SCHEMA: &str = r#"{"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}], "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}], "BillingMode": "PAY_PER_REQUEST"}"#;

/// A DynamoDB request (JSON 1.0): moto tells the service from the credential scope.
async fn dynamodb(endpoint: &str, target: &str, body: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00";
    let target = format!("DynamoDB_20120810.{target}");
    let headers = [("Authorization", auth), ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", target.as_str())];
    let (s, _, b) = crate::http(endpoint, "POST", "/", &headers, body.as_bytes()).await?;
    Ok((s, b))
}

impl Moto {
    /// Creates the function's state table (as template.yaml does) under `name`.
    pub async fn state_table(&self, name: &str) -> std::io::Result<()> {
        let mut schema: serde_json::Value = serde_json::from_str(STATE_TABLE_SCHEMA).map_err(std::io::Error::other)?;
        schema["TableName"] = serde_json::json!(name);
        let (s, b) = dynamodb(&self.endpoint, "CreateTable", &schema.to_string()).await?;
        if s != 200 {
            return Err(std::io::Error::other(format!("CreateTable: {s} {}", String::from_utf8_lossy(&b))));
        }
        let ttl = serde_json::json!({"TableName": name, "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": true}});
        let (s, b) = dynamodb(&self.endpoint, "UpdateTimeToLive", &ttl.to_string()).await?;
        if s != 200 {
            return Err(std::io::Error::other(format!("UpdateTimeToLive: {s} {}", String::from_utf8_lossy(&b))));
        }
        Ok(())
    }

    /// Every item of a table (one Scan page is enough for a test's few items), as DynamoDB JSON.
    pub async fn scan(&self, table: &str) -> std::io::Result<Vec<serde_json::Value>> {
        let (s, b) = dynamodb(&self.endpoint, "Scan", &serde_json::json!({"TableName": table}).to_string()).await?;
        if s != 200 {
            return Err(std::io::Error::other(format!("Scan: {s} {}", String::from_utf8_lossy(&b))));
        }
        let v: serde_json::Value = serde_json::from_slice(&b).map_err(std::io::Error::other)?;
        Ok(v["Items"].as_array().cloned().unwrap_or_default())
    }

    /// Creates a bucket with versioning on.
    pub async fn versioned_bucket(&self, bucket: &str) -> std::io::Result<()> {
        let (s, _, b) = request(&self.endpoint, "PUT", &format!("/{bucket}"), b"").await?;
        if s != 200 {
            return Err(std::io::Error::other(format!("CreateBucket: {s} {}", String::from_utf8_lossy(&b))));
        }
        let on = br#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#;
        let (s, _, b) = request(&self.endpoint, "PUT", &format!("/{bucket}?versioning"), on).await?;
        if s != 200 {
            return Err(std::io::Error::other(format!("PutBucketVersioning: {s} {}", String::from_utf8_lossy(&b))));
        }
        Ok(())
    }

    /// Uploads an object; its VersionId.
    pub async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> std::io::Result<String> {
        let (s, headers, b) = request(&self.endpoint, "PUT", &format!("/{bucket}/{key}"), body).await?;
        if s != 200 {
            return Err(std::io::Error::other(format!("PutObject: {s} {}", String::from_utf8_lossy(&b))));
        }
        headers
            .into_iter()
            .find(|(k, _)| k == "x-amz-version-id")
            .map(|(_, v)| v)
            .ok_or_else(|| std::io::Error::other("no VersionId: is versioning on?"))
    }
}

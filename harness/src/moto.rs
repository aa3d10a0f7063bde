//! moto's server (installed into `.venv` by the Makefile): Secrets Manager and S3 for the tests and the roster
//! benchmark, and the few raw S3 requests the benchmark needs (moto does not check signatures).

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

impl Moto {
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

//! Passwords from Secrets Manager, against moto's server mode (installed into .venv by the Makefile).

use crate::support::*;
use serde_json::{json, Value};

pub use lambda_harness::moto::Moto;

/// moto's server for one test.
pub async fn moto() -> Moto {
    lambda_harness::moto::start().await.expect("moto_server started")
}

pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

fn from_secret(name: &str, secret_id: &str, key: Option<&str>) -> Value {
    let mut p = soft_phone(name);
    let o = p.as_object_mut().unwrap();
    o.remove("Password");
    o.insert("PasswordSecretId".into(), json!(secret_id));
    if let Some(k) = key {
        o.insert("PasswordSecretKey".into(), json!(k));
    }
    p
}

#[tokio::test]
async fn passwords_come_from_secrets_manager_at_create_time_only() {
    let moto = moto().await;
    let sm = secrets_client(&moto.endpoint);
    let plain = "Fr0mSecretsManager";
    let in_json = "Js0nKeyedPassword";
    let weak = "weakweakweak";
    let plain_arn = sm.create_secret().name("agents/plain").secret_string(plain).send().await.unwrap().arn().unwrap().to_string();
    sm.create_secret().name("agents/json").secret_string(json!({"username": "x", "password": in_json}).to_string()).send().await.unwrap();
    sm.create_secret().name("agents/weak").secret_string(weak).send().await.unwrap();

    let bed = Bed::start_with(Default::default(), &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.endpoint)]).await;

    // By ARN, whole string.
    let props = from_secret("plain", &plain_arn, None);
    let a = bed.create("Plain", props.clone()).await;
    assert_eq!(a.status(), "SUCCESS", "{}", a.reason());
    assert_eq!(bed.user(&a.user_id()).await.unwrap()["Password"], plain);

    // By name, one key of a JSON secret.
    let b = bed.create("Json", from_secret("json", "agents/json", Some("password"))).await;
    assert_eq!(b.status(), "SUCCESS", "{}", b.reason());
    assert_eq!(bed.user(&b.user_id()).await.unwrap()["Password"], in_json);

    // Failures name the property and never echo the value; nothing reaches Connect.
    bed.clear_calls().await;
    let cases = [
        (from_secret("c1", "agents/missing", None), "PasswordSecretId: secret agents/missing was not found"),
        (from_secret("c2", "agents/json", Some("pw")), "PasswordSecretKey: secret agents/json has no string key pw"),
        (from_secret("c3", "agents/plain", Some("password")), "PasswordSecretKey: secret agents/plain is not a JSON object"),
        (from_secret("c4", "agents/weak", None), "PasswordSecretId: the password in secret agents/weak must be 8 to 64 characters"),
    ];
    for (p, want) in cases {
        let f = bed.create("Bad", p).await;
        assert_eq!(f.status(), "FAILED");
        assert!(f.reason().starts_with(want), "{} does not start with {want}", f.reason());
        for secret in [plain, in_json, weak] {
            assert!(!f.reason().contains(secret));
        }
    }
    assert!(bed.calls().await.is_empty(), "no Connect call for a bad secret");

    // An update with the same secret does not read it again.
    let reads_before = bed.output().matches("\"operation\":\"GetSecretValue\"").count();
    let u = bed.update("Plain", &a.physical_id(), with(props.clone(), "RoutingProfileId", json!(RP_SALES)), props).await;
    assert_eq!(u.status(), "SUCCESS", "{}", u.reason());
    assert_eq!(bed.output().matches("\"operation\":\"GetSecretValue\"").count(), reads_before);
    assert!(reads_before >= 2);

    // The secret values never reach a log line.
    let out = bed.output();
    for secret in [plain, in_json, weak] {
        assert!(!out.contains(secret), "{secret} leaked into the logs");
    }
}

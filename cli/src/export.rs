//! `connect-users export`: reads every user of an instance (paced under Connect's limits, throttling retried)
//! and writes the template that takes them over. The mapping from a user to properties is the library's
//! (`translate::properties_from_actual`), the same one the resource's import reads back.

use crate::template;
use crate::{ExportArgs, Format};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_connect::config::ProvideCredentials;
use connect_user_resource::pace::Pacer;
use connect_user_resource::user::api::{ApiError, Connect};
use connect_user_resource::user::planner::Actual;
use connect_user_resource::user::{ids, translate};
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long one call may keep retrying throttling before the export gives up.
const CALL_BUDGET: Duration = Duration::from_secs(300);
/// Users read at once; the pacer, not this, sets the rate.
const IN_FLIGHT: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("--instance-id {0}")]
    BadInstance(String),
    #[error("--requests-per-second must be a number above 0")]
    BadRate,
    #[error("no AWS Region is configured: set AWS_REGION, or give --region, or a profile that has a region")]
    NoRegion,
    #[error("no AWS credentials were found ({0}); configure a profile or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials(String),
    #[error("instance {0} was not found in this account and Region ({1})")]
    NoInstance(String, String),
    #[error("{0}")]
    Api(ApiError),
    #[error("instance {0} has no users to export{1}")]
    NoUsers(String, String),
    #[error("{users} users need {files} templates (at most {max} resources each): give --output FILE to write them as FILE-1, FILE-2, ...", max = template::MAX_RESOURCES)]
    NeedOutput { users: usize, files: usize },
    #[error("cannot write {0}: {1}")]
    Write(String, std::io::Error),
}

pub async fn run(args: &ExportArgs) -> Result<(), ExportError> {
    let instance_id = ids::instance_id(&args.instance_id).map_err(|e| ExportError::BadInstance(format!("{} {e}", args.instance_id)))?;
    if !(args.requests_per_second > 0.0 && args.requests_per_second.is_finite()) {
        return Err(ExportError::BadRate);
    }
    let connect = client(args).await?;
    // A little under the quota (one token of the burst and 5% of the rate), so that the service's clock, which
    // starts its own bucket a moment later, and other callers in the account see the calls inside the limit.
    let pacer = Pacer::new(args.requests_per_second * 0.95, args.burst.saturating_sub(1).max(1));

    pacer.wait("ListUsers").await;
    let users = connect.list_users(&instance_id, Instant::now() + CALL_BUDGET).await.map_err(|e| {
        if e.is("ResourceNotFoundException") {
            ExportError::NoInstance(instance_id.clone(), e.message.clone())
        } else {
            ExportError::Api(e)
        }
    })?;

    let bar = ProgressBar::with_draw_target(Some(users.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} users, {eta} left") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("reading users");
    let read: Vec<Result<Option<Actual>, ApiError>> = stream::iter(users.iter())
        .map(|(user_id, _)| {
            let (connect, pacer, instance_id, bar) = (&connect, &pacer, &instance_id, &bar);
            async move {
                let r = read_user(connect, pacer, instance_id, user_id).await;
                bar.inc(1);
                r
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    bar.finish_and_clear();

    let mut actual = Vec::new();
    for r in read {
        match r {
            Ok(Some(a)) => actual.push(a),
            Ok(None) => {} // deleted while the export ran
            Err(e) => return Err(ExportError::Api(e)),
        }
    }
    actual.sort_by(|a, b| a.username.cmp(&b.username));
    let (held, free): (Vec<Actual>, Vec<Actual>) = actual.into_iter().partition(|a| translate::holder_of(&a.marker_tags).is_some());
    if !held.is_empty() {
        let what = if args.include_managed {
            "written although a resource already holds them"
        } else {
            "left out: a resource already holds them (--include-managed writes them too)"
        };
        eprintln!("{} users {what}:", held.len());
        for a in &held {
            let (stack, logical) = translate::holder_of(&a.marker_tags).unwrap_or_default();
            eprintln!("  {} ({instance_id}:{}) held by resource {logical} of stack {stack}", a.username, a.user_id);
        }
    }
    let chosen: Vec<Actual> = if args.include_managed { free.into_iter().chain(held).collect() } else { free };
    if chosen.is_empty() {
        let note = if users.is_empty() { String::new() } else { " that no resource holds already".to_string() };
        return Err(ExportError::NoUsers(instance_id, note));
    }
    let mut chosen = chosen;
    chosen.sort_by(|a, b| a.username.cmp(&b.username));
    let names: Vec<String> = chosen.iter().map(|a| a.username.clone()).collect();
    let ids = template::logical_ids(&args.name_prefix, &names);
    let resources: Vec<(String, serde_json::Value)> = chosen
        .iter()
        .map(|a| {
            let id = ids.get(&a.username).cloned().unwrap_or_else(|| a.user_id.clone());
            (id, template::resource(&translate::properties_from_actual(&instance_id, a)))
        })
        .collect();
    let templates = template::templates(&instance_id, &args.service_token_export, resources);
    write(args, &templates, chosen.len())
}

/// The SDK client from the standard configuration, with its own retries off (the library retries throttling
/// within a deadline), after checking that a Region and credentials are there, so that their absence is one
/// clear line rather than an error per call.
async fn client(args: &ExportArgs) -> Result<Connect, ExportError> {
    let config = sdk_config(args.region.as_deref(), args.profile.as_deref()).await?;
    Ok(Connect::new(aws_sdk_connect::Client::new(&config)))
}

/// The standard configuration (or `region` and `profile`), checked to have a Region and credentials.
pub async fn sdk_config(region: Option<&str>, profile: Option<&str>) -> Result<aws_config::SdkConfig, ExportError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled()).timeout_config(
        TimeoutConfig::builder().operation_attempt_timeout(Duration::from_secs(20)).connect_timeout(Duration::from_secs(5)).build(),
    );
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(ExportError::NoRegion);
    }
    match config.credentials_provider() {
        None => return Err(ExportError::NoCredentials("no credentials provider".into())),
        Some(p) => {
            if let Err(e) = p.provide_credentials().await {
                return Err(ExportError::NoCredentials(e.to_string()));
            }
        }
    }
    Ok(config)
}

/// One user as Connect has it, with its proficiencies; `None` when it was deleted meanwhile.
async fn read_user(connect: &Connect, pacer: &Pacer, instance_id: &str, user_id: &str) -> Result<Option<Actual>, ApiError> {
    pacer.wait("DescribeUser").await;
    let Some(mut a) = connect.describe_user(instance_id, user_id, Duration::ZERO, Instant::now() + CALL_BUDGET).await? else {
        return Ok(None);
    };
    pacer.wait("ListUserProficiencies").await;
    a.settings.proficiencies = Some(connect.list_proficiencies(instance_id, user_id, Instant::now() + CALL_BUDGET).await?);
    Ok(Some(a))
}

fn render(format: Format, t: &serde_json::Value) -> String {
    match format {
        Format::Yaml => template::to_yaml(t),
        Format::Json => template::to_json(t),
    }
}

/// `users.yaml` becomes `users-1.yaml`, `users-2.yaml`, ...
fn part_path(path: &Path, i: usize) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "users".into());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{i}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{i}"),
    };
    path.with_file_name(name)
}

fn write(args: &ExportArgs, templates: &[serde_json::Value], users: usize) -> Result<(), ExportError> {
    let save = |path: &Path, t: &serde_json::Value| {
        std::fs::write(path, render(args.format, t)).map_err(|e| ExportError::Write(path.display().to_string(), e))
    };
    match (&args.output, templates) {
        (None, [one]) => {
            print!("{}", render(args.format, one));
            eprintln!("exported {users} users");
        }
        (None, many) => return Err(ExportError::NeedOutput { users, files: many.len() }),
        (Some(path), [one]) => {
            save(path, one)?;
            eprintln!("exported {users} users to {}", path.display());
        }
        (Some(path), many) => {
            let mut names = Vec::new();
            for (i, t) in many.iter().enumerate() {
                let p = part_path(path, i + 1);
                save(&p, t)?;
                names.push(p.display().to_string());
            }
            eprintln!("exported {users} users to {} templates (one stack each): {}", many.len(), names.join(", "));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_numbered_before_the_extension() {
        assert_eq!(part_path(Path::new("out/users.yaml"), 2), PathBuf::from("out/users-2.yaml"));
        assert_eq!(part_path(Path::new("users"), 1), PathBuf::from("users-1"));
    }
}

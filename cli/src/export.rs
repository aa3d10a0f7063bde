//! `connect-users export`: reads every user of an instance (paced under Connect's limits, throttling retried)
//! and writes the template that takes them over. The mapping from a user to properties is the library's
//! (`translate::properties_from_actual`), the same one the resource's import reads back.

use crate::template;
use crate::{ExportArgs, Format, RosterFormat, Shape};
use aws_config::Region;
use aws_sdk_connect::config::ProvideCredentials;
use connect_user_resource::connect::ownership;
use connect_user_resource::connect::pace::{Pacer, Quota};
use connect_user_resource::connect::{ApiError, Connect};
use connect_user_resource::roster::csv;
use connect_user_resource::user::model::Actual;
use connect_user_resource::user::properties::UserProps;
use connect_user_resource::user::{ids, translate};
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    #[error("{0}")]
    Usage(String),
    #[error("every one of the {0} users failed to be read (the first: {1}); nothing was written")]
    AllFailed(usize, String),
    #[error(
        "{} users have settings Connect's CSV cannot hold (per-channel configs, proficiencies, a directory user id or persistent connection), for example {}: use --roster-format jsonl",
        .0.len(), .0.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
    )]
    NotCsv(Vec<String>),
}

/// What an export wrote: how many users, and how many could not be read (listed on stderr; exit status 3).
pub struct Exported {
    pub failed: usize,
}

pub async fn run(args: &ExportArgs) -> Result<Exported, ExportError> {
    let instance_id = ids::instance_id(&args.instance_id).map_err(|e| ExportError::BadInstance(format!("{} {e}", args.instance_id)))?;
    if !(args.requests_per_second > 0.0 && args.requests_per_second.is_finite()) {
        return Err(ExportError::BadRate);
    }
    let filter = Filter::of(args)?;
    if args.roster_format.is_some() && args.output.is_none() {
        return Err(ExportError::Usage("--roster-format writes the roster file beside --output: give --output FILE".into()));
    }
    // Every call waits for its turn under the quota (retries too).
    let pacer = Pacer::under(Quota { rate: args.requests_per_second, burst: args.burst }, true);
    let connect = client(args).await?.paced(Arc::new(pacer), None);
    let mut users = connect.list_users(&instance_id, Instant::now() + CALL_BUDGET).await.map_err(|e| {
        if e.is("ResourceNotFoundException") {
            ExportError::NoInstance(instance_id.clone(), e.message().to_string())
        } else {
            ExportError::Api(e)
        }
    })?;
    users.retain(|(_, name)| filter.username(name));
    // Single resources past one template need --output; known from the listing, before minutes of reads (with
    // settings filters the count is only known after reading, and checked again then).
    if args.shape == Shape::Singles && args.output.is_none() && !filter.reads_settings() && users.len() > template::MAX_RESOURCES {
        return Err(ExportError::NeedOutput { users: users.len(), files: users.len().div_ceil(template::MAX_RESOURCES) });
    }

    let bar = ProgressBar::with_draw_target(Some(users.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} users, {eta} left") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("reading users");
    let read: Vec<(&String, Result<Option<Actual>, ApiError>)> = stream::iter(users.iter())
        .map(|(user_id, name)| {
            let (connect, instance_id, bar) = (&connect, &instance_id, &bar);
            async move {
                let r = connect.read_user(instance_id, user_id, Duration::ZERO, true, Instant::now() + CALL_BUDGET).await;
                bar.inc(1);
                (name, r)
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    bar.finish_and_clear();

    // One user that cannot be read does not discard the others: they are written, and it is listed.
    let mut actual = Vec::new();
    let mut failed = Vec::new();
    for (name, r) in read {
        match r {
            Ok(Some(a)) => actual.push(a),
            Ok(None) => {} // deleted while the export ran
            Err(e) => failed.push((name.clone(), e)),
        }
    }
    if actual.is_empty() {
        if let Some((name, e)) = failed.first() {
            return Err(ExportError::AllFailed(failed.len(), format!("{name}: {e}")));
        }
    }
    actual.retain(|a| filter.settings(a));
    actual.sort_by(|a, b| a.username.cmp(&b.username));
    let (held, free): (Vec<Actual>, Vec<Actual>) = actual.into_iter().partition(|a| ownership::holder_of(&a.marker_tags).is_some());
    if !held.is_empty() {
        let what = if args.include_managed {
            "written although a resource already holds them"
        } else {
            "left out: a resource already holds them (--include-managed writes them too)"
        };
        eprintln!("{} users {what}:", held.len());
        for a in &held {
            let (stack, logical) = ownership::holder_of(&a.marker_tags).unwrap_or_default();
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
    match args.shape {
        Shape::Singles => {
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
            write(args, &templates, chosen.len())?;
        }
        Shape::Set => write_set(args, &instance_id, &chosen)?,
    }
    if !failed.is_empty() {
        eprintln!("{} users could not be read and are not in the export:", failed.len());
        for (name, e) in &failed {
            eprintln!("  {name}: {e}");
        }
    }
    Ok(Exported { failed: failed.len() })
}

/// Which users an export keeps: by username before any read, by settings after.
struct Filter<'a> {
    username_prefix: Option<&'a str>,
    routing_profile_id: Option<&'a str>,
    hierarchy_group_id: Option<&'a str>,
    tag: Option<(&'a str, &'a str)>,
}

impl<'a> Filter<'a> {
    fn of(args: &'a ExportArgs) -> Result<Filter<'a>, ExportError> {
        let tag = match args.tag.as_deref() {
            None => None,
            Some(t) => match t.split_once('=') {
                Some((k, v)) if !k.is_empty() => Some((k, v)),
                _ => return Err(ExportError::Usage(format!("--tag {t}: give KEY=VALUE"))),
            },
        };
        Ok(Filter {
            username_prefix: args.username_prefix.as_deref(),
            routing_profile_id: args.routing_profile_id.as_deref(),
            hierarchy_group_id: args.hierarchy_group_id.as_deref(),
            tag,
        })
    }

    fn username(&self, name: &str) -> bool {
        self.username_prefix.is_none_or(|p| name.starts_with(p))
    }

    fn reads_settings(&self) -> bool {
        self.routing_profile_id.is_some() || self.hierarchy_group_id.is_some() || self.tag.is_some()
    }

    fn settings(&self, a: &Actual) -> bool {
        let s = &a.settings;
        self.routing_profile_id.is_none_or(|r| s.routing_profile_id == r)
            && self.hierarchy_group_id.is_none_or(|h| s.hierarchy_group_id.as_deref() == Some(h))
            && self.tag.is_none_or(|(k, v)| s.tags.get(k).is_some_and(|x| x == v))
    }
}

/// One `Custom::ConnectUserSet`: inline while the template fits, else (or with --roster-format) a roster file
/// beside --output that the template's `Source` points at once uploaded.
fn write_set(args: &ExportArgs, instance_id: &str, chosen: &[Actual]) -> Result<(), ExportError> {
    let entries: Vec<serde_json::Map<String, serde_json::Value>> = chosen
        .iter()
        .map(|a| {
            let mut p = translate::properties_from_actual(instance_id, a);
            p.remove("InstanceId");
            p
        })
        .collect();
    let inline = template::set_template(instance_id, &args.service_token_export, &args.logical_id, &template::SetEntries::Inline(&entries));
    let fits = render(args.format, &inline).len() <= template::MAX_TEMPLATE_BYTES;
    let format = match (args.roster_format, fits) {
        (None, true) => {
            return write(args, &[inline], chosen.len());
        }
        (Some(f), _) => f,
        (None, false) => RosterFormat::Jsonl,
    };
    let Some(output) = &args.output else {
        return Err(ExportError::Usage(format!(
            "{} users do not fit one template inline: give --output FILE, and the roster is written beside it",
            chosen.len()
        )));
    };
    let (text, ext) = match format {
        RosterFormat::Jsonl => (entries.iter().map(|e| format!("{}\n", serde_json::Value::Object(e.clone()))).collect::<String>(), "jsonl"),
        RosterFormat::Csv => (csv_roster(instance_id, &entries)?, "csv"),
    };
    let roster = roster_path(output, ext);
    let file_name = roster.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    std::fs::write(&roster, text).map_err(|e| ExportError::Write(roster.display().to_string(), e))?;
    let file = template::SetEntries::File { format: ext, file_name: &file_name };
    let t = template::set_template(instance_id, &args.service_token_export, &args.logical_id, &file);
    write(args, &[t], chosen.len())?;
    eprintln!(
        "the roster is in {}: upload it to a versioned bucket, then deploy with RosterUri=s3://BUCKET/KEY and RosterVersion=<its VersionId>",
        roster.display()
    );
    Ok(())
}

/// `users.yaml` gives `users.roster.csv`.
fn roster_path(output: &Path, ext: &str) -> PathBuf {
    let stem = output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "users".into());
    output.with_file_name(format!("{stem}.roster.{ext}"))
}

/// The entries as Connect's CSV (ids where the console writes names, which the set reads in their place), with
/// the `import id` column. Every row is read back as the function will read it, and must give the same user:
/// a user with settings the CSV has no column for is refused rather than exported short of them (the set would
/// then take those settings away).
fn csv_roster(instance_id: &str, entries: &[serde_json::Map<String, serde_json::Value>]) -> Result<String, ExportError> {
    let parse = |e: &serde_json::Map<String, serde_json::Value>| {
        let mut e = e.clone();
        e.insert("InstanceId".into(), serde_json::json!(instance_id));
        UserProps::parse(&e).ok()
    };
    let mut text = csv::header_line();
    let mut names = csv::Names::default();
    let mut wanted = Vec::with_capacity(entries.len());
    for e in entries {
        let name = e.get("Name").and_then(|n| n.as_str()).unwrap_or_default().to_string();
        let props = parse(e);
        if let Some(p) = &props {
            let s = &p.settings;
            names.routing_profiles.insert(s.routing_profile_id.clone(), s.routing_profile_id.clone());
            for id in &s.security_profile_ids {
                names.security_profiles.insert(id.clone(), id.clone());
            }
            if let Some(h) = &s.hierarchy_group_id {
                names.hierarchy_groups.insert(h.clone(), h.clone());
            }
        }
        text.push_str(&csv::line(csv::cells(&name, props.as_ref(), None)));
        wanted.push((name, props));
    }
    let (rows, _) = csv::read(&text, &names);
    let mut read_back: std::collections::HashMap<String, UserProps> = std::collections::HashMap::new();
    for (_, row) in &rows {
        if let Some(p) = parse(row) {
            read_back.insert(p.name.clone(), p);
        }
    }
    let short: Vec<String> = wanted
        .into_iter()
        .filter(|(name, want)| {
            let got = read_back.get(name);
            !matches!((want, got), (Some(w), Some(g)) if w.import == g.import && w.directory_user_id == g.directory_user_id && w.settings == g.settings)
        })
        .map(|(name, _)| name)
        .collect();
    if short.is_empty() {
        Ok(text)
    } else {
        Err(ExportError::NotCsv(short))
    }
}

/// The SDK client from the standard configuration, with its own retries off (the library retries throttling
/// within a deadline), after checking that a Region and credentials are there, so that their absence is one
/// clear line rather than an error per call.
async fn client(args: &ExportArgs) -> Result<Connect, ExportError> {
    let config = sdk_config(args.region.as_deref(), args.profile.as_deref()).await?;
    let mut connect = aws_sdk_connect::config::Builder::from(&config);
    if let Some(url) = &args.endpoint_url {
        connect = connect.endpoint_url(url);
    }
    Ok(Connect::new(aws_sdk_connect::Client::from_conf(connect.build())))
}

/// The standard configuration (or `region` and `profile`), checked to have a Region and credentials.
pub async fn sdk_config(region: Option<&str>, profile: Option<&str>) -> Result<aws_config::SdkConfig, ExportError> {
    let mut loader = connect_user_resource::connect::sdk_config();
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

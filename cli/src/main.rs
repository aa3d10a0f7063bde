//! `connect-users`: command-line tools for connect-user-resource, sharing its library and never linked into the
//! Lambda. `connect-users export` writes the CloudFormation template that takes an instance's existing users over;
//! `connect-users plan` says what deploying a roster would do, before it is deployed.

mod export;
mod plan;
mod stack_template;
mod template;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "connect-users", version, about = "Tools for connect-user-resource (Custom::ConnectUser)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a CloudFormation template with one Custom::ConnectUser per existing user of an instance, each with
    /// ImportId set, so that deploying it takes the users over instead of creating them.
    ///
    /// AWS credentials, Region and endpoint come from the standard configuration (AWS_PROFILE, AWS_REGION,
    /// AWS_ENDPOINT_URL_CONNECT, ...). Passwords are never read or written. Users that a resource already holds
    /// are left out and listed on stderr. More than 500 single resources are written to several templates (one
    /// stack each); --as set writes one set instead. Users that cannot be read are listed, the others written,
    /// and the exit status is 3.
    Export(ExportArgs),
    /// Say what deploying a roster would do to the instance's users, before it is deployed: per user create,
    /// update (each changed setting, old -> new), take over, release or delete, with the Connect calls it would
    /// make, then the counts. Reads only (paced like the function), with your credentials; the same parsing,
    /// ownership rules, planner and refusals as the function.
    ///
    /// Exit status: 0 when nothing would change, 2 when something would, 1 on an error or when the deployment
    /// would be refused (the reason is the one the stack would show).
    Plan(PlanArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct PlanArgs {
    /// A template with Custom::ConnectUserSet resources (YAML or JSON); each one is planned.
    #[arg(long, value_name = "FILE", conflicts_with = "roster")]
    pub template: Option<PathBuf>,
    /// A template parameter (repeat for more); parameters without a default must be given.
    #[arg(long, value_name = "NAME=VALUE", requires = "template")]
    pub parameter: Vec<String>,
    /// A roster file alone (Connect's CSV, JSON or JSON lines): a local path or s3://bucket/key.
    #[arg(long, value_name = "FILE|S3-URI")]
    pub roster: Option<String>,
    /// The S3 VersionId (or ETag) of --roster s3://...
    #[arg(long, value_name = "VERSION", requires = "roster")]
    pub roster_version: Option<String>,
    /// With --roster: the Connect instance (id or ARN).
    #[arg(long, value_name = "ID|ARN")]
    pub instance_id: Option<String>,
    /// The stack the set is (or will be) deployed in; without it, the plan is that of a new stack.
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,
    /// With --roster: the set's logical id in that stack.
    #[arg(long, default_value = "Roster", value_name = "ID")]
    pub logical_id: String,
    /// text for people, json for pipelines.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
    /// The AWS Region (default: the standard configuration's).
    #[arg(long)]
    pub region: Option<String>,
    /// The named profile of ~/.aws/config to use (default: AWS_PROFILE, or the default profile).
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

/// What an export writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shape {
    /// One Custom::ConnectUser per user (at most 500 a template).
    Singles,
    /// One Custom::ConnectUserSet with every user as an entry.
    Set,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RosterFormat {
    /// One JSON entry per line: every setting.
    Jsonl,
    /// Connect's bulk-upload CSV with an import id column (refused for users with settings it has no column for).
    Csv,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The Connect instance: its id or its ARN.
    #[arg(long, value_name = "ID|ARN")]
    pub instance_id: String,
    /// The template's format.
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: Format,
    /// Write here instead of to standard output. With more than 500 users, FILE-1.yaml, FILE-2.yaml, ... are
    /// written instead (needed then).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Put before every logical id (the rest is the username in PascalCase).
    #[arg(long, default_value = "User", value_name = "P")]
    pub name_prefix: String,
    /// Also write users that a Custom::ConnectUser already holds (their import fails until that resource
    /// releases them).
    #[arg(long)]
    pub include_managed: bool,
    /// The export name of the connect-user-resource stack's ServiceToken: the templates' parameter default.
    #[arg(long, default_value = template::DEFAULT_SERVICE_TOKEN_EXPORT, value_name = "NAME")]
    pub service_token_export: String,
    /// Connect calls per second per operation (Connect's default quota is 2; raise it only with the quota).
    #[arg(long, default_value_t = 2.0, value_name = "N")]
    pub requests_per_second: f64,
    /// Calls allowed at once per operation before pacing starts (Connect's default burst is 5).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub burst: u32,
    /// singles: one Custom::ConnectUser per user; set: one Custom::ConnectUserSet holding them all (its entries
    /// inline while the template fits, else in a roster file beside --output).
    #[arg(long = "as", value_enum, default_value = "singles", value_name = "SHAPE")]
    pub shape: Shape,
    /// With --as set: write the entries to FILE.roster.jsonl or .csv beside --output, which the template's Source
    /// then points at (parameters RosterUri and RosterVersion), even when they would fit inline.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub roster_format: Option<RosterFormat>,
    /// With --as set: the set's logical id.
    #[arg(long, default_value = "Roster", value_name = "ID")]
    pub logical_id: String,
    /// Only users whose username starts with this (applied to the listing, before any user is read).
    #[arg(long, value_name = "PREFIX")]
    pub username_prefix: Option<String>,
    /// Only users of this routing profile (its id).
    #[arg(long, value_name = "ID")]
    pub routing_profile_id: Option<String>,
    /// Only users in this hierarchy group (its id).
    #[arg(long, value_name = "ID")]
    pub hierarchy_group_id: Option<String>,
    /// Only users that have this tag.
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
    /// The Connect endpoint to call (default: the standard configuration's, e.g. AWS_ENDPOINT_URL_CONNECT).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The AWS Region (default: the standard configuration's).
    #[arg(long)]
    pub region: Option<String>,
    /// The named profile of ~/.aws/config to use (default: AWS_PROFILE, or the default profile).
    #[arg(long)]
    pub profile: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => e.exit(),
        Err(e) => {
            // clap's message, without its usage block, on one line.
            let text = e.to_string();
            let words: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
            let message = words.join(" ");
            eprintln!("connect-users: {} (see connect-users --help)", message.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match cli.command {
        // 3: written, but some users could not be read (they are listed).
        Command::Export(args) => match export::run(&args).await {
            Ok(e) if e.failed > 0 => ExitCode::from(3),
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("connect-users: {e}");
                ExitCode::FAILURE
            }
        },
        // Terraform's -detailed-exitcode: 0 no change, 2 changes, 1 an error.
        Command::Plan(args) => match plan::run(&args).await {
            Ok(false) => ExitCode::SUCCESS,
            Ok(true) => ExitCode::from(2),
            Err(e) => {
                eprintln!("connect-users: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

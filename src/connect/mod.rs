//! The thin layer that makes the Connect and Secrets Manager calls, for the user resource, the set and the CLI:
//! retries with backoff bounded by the deadline (Connect throttles at 2 requests/s per API and account, and a
//! stack invokes the function once per user, concurrently), pacing ([`pace`]), the paged reads, one log line per
//! call, and errors mapped to what a FAILED reason should say. The tags that record who owns a user are
//! [`ownership`]'s.

pub mod ownership;
pub mod pace;

use crate::user::model::{Actual, Change};
use crate::user::properties::UserProps;
use crate::user::translate;
use aws_sdk_connect::config::http::HttpResponse;
use aws_sdk_connect::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_connect::types::{
    ControlPlaneTagFilter, StringComparisonType, StringCondition, TagCondition, UserSearchCriteria, UserSearchFilter,
};
use pace::Pacer;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The SDK configuration every client of this crate starts from (the function's and the CLI's): the SDK's own
/// retries are off, because [`with_retries`] retries with a deadline-bounded backoff, which a fixed attempt count
/// cannot give; one attempt may take 10 s, a connection 3 s. Endpoints come from the standard variables
/// (`AWS_ENDPOINT_URL_CONNECT`, ...).
pub fn sdk_config() -> aws_config::ConfigLoader {
    use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion};
    aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled()).timeout_config(
        TimeoutConfig::builder().operation_attempt_timeout(Duration::from_secs(10)).connect_timeout(Duration::from_secs(3)).build(),
    )
}

/// A Connect (or Secrets Manager) call that did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The service refused or failed the call, or it could not be sent or its answer read.
    #[error("{0}")]
    Failed(Failure),
    /// Not an error of the service: the call was not made because its paced turn came too late for this
    /// invocation (see [`Connect::paced`]), so the work is the next invocation's. A variant of its own, so that
    /// no code or message, which the service (or a user's name in one) could spell alike, is ever taken for it.
    #[error("{operation} not started: its turn under the request rate came too late for this invocation")]
    Deferred { operation: &'static str, attempts: u32 },
}

/// What [`Connect::create_or_find`] came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A new user.
    New { user_id: String, arn: String },
    /// Refused as a duplicate: the user of that name, with the tags that say whose it is.
    Existing { user_id: String, arn: String, tags: std::collections::HashMap<String, String> },
    /// Refused as a duplicate, yet no user of the name is found (deleted meanwhile).
    Vanished,
}

/// What the service (or the transport) said of a failed call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{operation} failed: {code}: {message}")]
pub struct Failure {
    pub operation: &'static str,
    /// The service's error code (`ResourceNotFoundException`, ...) or a transport description.
    pub code: String,
    pub message: String,
    pub attempts: u32,
}

impl ApiError {
    /// A service error (or a transport failure) of `operation`.
    pub fn new(operation: &'static str, code: impl Into<String>, message: impl Into<String>, attempts: u32) -> ApiError {
        ApiError::Failed(Failure { operation, code: code.into(), message: message.into(), attempts })
    }

    /// A call not made for lack of time (see [`ApiError::Deferred`]).
    pub fn deferral(operation: &'static str, attempts: u32) -> ApiError {
        ApiError::Deferred { operation, attempts }
    }

    /// Whether the service answered with this error code.
    pub fn is(&self, code: &str) -> bool {
        matches!(self, ApiError::Failed(f) if f.code == code)
    }

    pub fn is_deferred(&self) -> bool {
        matches!(self, ApiError::Deferred { .. })
    }

    pub fn operation(&self) -> &'static str {
        match self {
            ApiError::Failed(f) => f.operation,
            ApiError::Deferred { operation, .. } => operation,
        }
    }

    pub fn attempts(&self) -> u32 {
        match self {
            ApiError::Failed(f) => f.attempts,
            ApiError::Deferred { attempts, .. } => *attempts,
        }
    }

    /// The service's error code; empty for a deferral, which the service never saw.
    pub fn code(&self) -> &str {
        match self {
            ApiError::Failed(f) => &f.code,
            ApiError::Deferred { .. } => "",
        }
    }

    /// The service's message; for a deferral, why the call was not made.
    pub fn message(&self) -> &str {
        match self {
            ApiError::Failed(f) => &f.message,
            ApiError::Deferred { .. } => "not started: its turn under the request rate came too late for this invocation",
        }
    }
}

fn map_err<E: ProvideErrorMetadata + std::error::Error + 'static>(
    operation: &'static str,
    e: &SdkError<E, HttpResponse>,
) -> (Failure, bool) {
    let (code, message, retryable) = match e {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or("UnknownError").to_string();
            let message = ctx.err().message().unwrap_or("").to_string();
            let retryable = matches!(
                code.as_str(),
                "ThrottlingException"
                    | "TooManyRequestsException"
                    | "InternalServiceException"
                    | "ServiceUnavailableException"
                    | "InternalServerException"
            ) || e
                .raw_response()
                .is_some_and(|r| r.status().as_u16() >= 500 || (r.status().as_u16() == 429 && code != "LimitExceededException"));
            (code, message, retryable)
        }
        SdkError::TimeoutError(_) => ("Timeout".into(), "the call timed out".into(), true),
        SdkError::DispatchFailure(d) => (
            "NetworkError".into(),
            format!(
                "could not reach the endpoint ({})",
                if d.is_timeout() {
                    "timeout"
                } else if d.is_io() {
                    "io"
                } else {
                    "dispatch"
                }
            ),
            true,
        ),
        SdkError::ResponseError(_) => ("ResponseError".into(), "the response could not be read".into(), true),
        _ => ("ClientError".into(), "the request could not be built".into(), false),
    };
    (Failure { operation, code, message, attempts: 0 }, retryable)
}

/// Exponential backoff with full jitter, from 100 ms up to 10 s per wait, until the deadline leaves no room.
/// A fixed small attempt count would turn a busy stack's throttling into failures.
pub async fn with_retries<T, E, F, Fut>(operation: &'static str, deadline: Instant, call: F) -> Result<T, ApiError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    with_retries_paced(None, operation, deadline, call).await
}

/// [`with_retries`], each attempt waiting for its slot under `pacer` first (and not made, [`ApiError::Deferred`], when that
/// slot comes after the pacer's limit), and telling it of throttling.
pub async fn with_retries_paced<T, E, F, Fut>(
    pacer: Option<(&Pacer, Option<Instant>)>,
    operation: &'static str,
    deadline: Instant,
    mut call: F,
) -> Result<T, ApiError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let start = Instant::now();
    let mut attempt = 0u32;
    let mut cap = Duration::from_millis(100);
    loop {
        attempt += 1;
        let on_time = match pacer {
            Some((p, Some(limit))) => p.wait_until(operation, limit).await,
            Some((p, None)) => {
                p.wait(operation).await;
                true
            }
            None => true,
        };
        if !on_time {
            return Err(ApiError::deferral(operation, attempt - 1));
        }
        let t0 = Instant::now();
        match call().await {
            Ok(v) => {
                tracing::info!(
                    operation,
                    outcome = "ok",
                    attempts = attempt,
                    duration_ms = t0.elapsed().as_millis() as u64,
                    "connect call"
                );
                return Ok(v);
            }
            Err(e) => {
                let (mut err, retryable) = map_err(operation, &e);
                err.attempts = attempt;
                if let Some((p, _)) = pacer.filter(|_| err.code == "ThrottlingException" || err.code == "TooManyRequestsException") {
                    p.throttled(operation);
                }
                let wait = cap.mul_f64(fastrand::f64());
                let room = deadline.saturating_duration_since(Instant::now());
                if !retryable || !time_for_another(wait, room) {
                    tracing::warn!(operation, outcome = %err.code, attempts = attempt, duration_ms = start.elapsed().as_millis() as u64, "connect call failed");
                    if retryable {
                        err.message = format!("{} (gave up after {attempt} attempts: the function's deadline was near)", err.message);
                    }
                    return Err(ApiError::Failed(err));
                }
                tracing::debug!(operation, outcome = %err.code, attempt, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                cap = grown(cap);
            }
        }
    }
}

/// The token of the next page, if there is one: an empty token ends the listing as a missing one does (asking
/// again with it would start over from the first page).
fn next_page(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_string)
}

/// The next backoff cap: doubled, up to 10 s (a longer wait would waste a Lambda's minutes on one call).
fn grown(cap: Duration) -> Duration {
    (cap * 2).min(Duration::from_secs(10))
}

/// Whether waiting `wait` still leaves the next attempt 50 ms before the deadline: a call started later could
/// not finish in time, and the FAILED answer must still be sent.
fn time_for_another(wait: Duration, room: Duration) -> bool {
    wait + Duration::from_millis(50) < room
}

/// The Connect user operations this resource needs.
#[derive(Clone)]
pub struct Connect {
    client: aws_sdk_connect::Client,
    pacer: Option<Arc<Pacer>>,
    /// Calls whose paced slot would come after this are not made ([`ApiError::Deferred`]): work left for a later
    /// invocation.
    limit: Option<Instant>,
}

/// What [`Connect::list_named`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    RoutingProfiles,
    SecurityProfiles,
    HierarchyGroups,
}

/// One page of the users a resource holds (SearchUsers by tag).
pub struct HeldPage {
    pub users: Vec<Actual>,
    pub next: Option<String>,
}

impl Connect {
    pub fn new(client: aws_sdk_connect::Client) -> Connect {
        Connect { client, pacer: None, limit: None }
    }

    /// The same client, every call paced under `pacer` (shared by the clones); with a `limit`, a call whose slot
    /// would come later is not made and fails with [`ApiError::Deferred`].
    pub fn paced(&self, pacer: Arc<Pacer>, limit: Option<Instant>) -> Connect {
        Connect { client: self.client.clone(), pacer: Some(pacer), limit }
    }

    pub fn pacer(&self) -> Option<(&Pacer, Option<Instant>)> {
        self.pacer.as_deref().map(|p| (p, self.limit))
    }

    /// One page (up to 100) of the users tagged `tag_key` = `tag_value`, with the settings a page carries
    /// (see `translate::actual_from_summary` for what it leaves out).
    pub async fn search_tagged(
        &self,
        instance_id: &str,
        tag_key: &str,
        tag_value: &str,
        token: Option<String>,
        deadline: Instant,
    ) -> Result<HeldPage, ApiError> {
        let filter = UserSearchFilter::builder()
            .tag_filter(
                ControlPlaneTagFilter::builder()
                    .tag_condition(TagCondition::builder().tag_key(tag_key).tag_value(tag_value).build())
                    .build(),
            )
            .build();
        let out = with_retries_paced(self.pacer(), "SearchUsers", deadline, || {
            self.client
                .search_users()
                .instance_id(instance_id)
                .search_filter(filter.clone())
                .set_next_token(token.clone())
                .max_results(100)
                .send()
        })
        .await?;
        Ok(HeldPage { users: out.users().iter().filter_map(translate::actual_from_summary).collect(), next: next_page(out.next_token()) })
    }

    /// Returns the new user's id and ARN.
    pub async fn create_user(
        &self,
        props: &UserProps,
        password: Option<&str>,
        marker: &str,
        holder: &str,
        records: &std::collections::BTreeMap<String, String>,
        deadline: Instant,
    ) -> Result<(String, String), ApiError> {
        let s = &props.settings;
        let lists = translate::lists_to_sdk(&s.channel_configs);
        let mut tags = translate::create_tags(props, marker, holder);
        tags.extend(records.iter().map(|(k, v)| (k.clone(), v.clone())));
        let out = with_retries_paced(self.pacer(), "CreateUser", deadline, || {
            self.client
                .create_user()
                .instance_id(&props.instance_id)
                .username(&props.name)
                .set_password(password.map(str::to_string))
                .set_directory_user_id(props.directory_user_id.clone())
                .routing_profile_id(&s.routing_profile_id)
                .set_security_profile_ids(Some(s.security_profile_ids.iter().cloned().collect()))
                .set_hierarchy_group_id(s.hierarchy_group_id.clone())
                .identity_info(translate::identity_to_sdk(&s.identity_info))
                .set_phone_config(s.phone_config.as_ref().map(translate::phone_to_sdk))
                .set_auto_accept_configs(lists.auto_accept.clone())
                .set_after_contact_work_configs(lists.after_contact_work.clone())
                .set_phone_number_configs(lists.phone_number.clone())
                .set_persistent_connection_configs(lists.persistent_connection.clone())
                .set_voice_enhancement_configs(lists.voice_enhancement.clone())
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
        Ok((out.user_id().unwrap_or_default().to_string(), out.user_arn().unwrap_or_default().to_string()))
    }

    /// Creates the user, or, when Connect already has one of the name (DuplicateResourceException), finds that
    /// one. Work is done at least once (a retried request, an overlapping invocation), so a refused create may
    /// be met by the user an earlier attempt made; whose it is, the caller reads from its tags by its own rule.
    pub async fn create_or_find(
        &self,
        props: &UserProps,
        password: Option<&str>,
        marker: &str,
        holder: &str,
        records: &std::collections::BTreeMap<String, String>,
        deadline: Instant,
    ) -> Result<Created, ApiError> {
        match self.create_user(props, password, marker, holder, records, deadline).await {
            Ok((user_id, arn)) => Ok(Created::New { user_id, arn }),
            Err(e) if e.is("DuplicateResourceException") => {
                Ok(match self.find_by_username(&props.instance_id, &props.name, deadline).await? {
                    Some((user_id, arn, tags)) => Created::Existing { user_id, arn, tags },
                    None => Created::Vanished,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The user as Connect has it ([`Connect::describe_user`]), with its proficiencies when `with_proficiencies`:
    /// they are a call of their own (ListUserProficiencies), made only when the caller's plan needs them.
    pub async fn read_user(
        &self,
        instance_id: &str,
        user_id: &str,
        settle: Duration,
        with_proficiencies: bool,
        deadline: Instant,
    ) -> Result<Option<Actual>, ApiError> {
        let Some(mut user) = self.describe_user(instance_id, user_id, settle, deadline).await? else { return Ok(None) };
        if with_proficiencies {
            user.settings.proficiencies = Some(self.list_proficiencies(instance_id, user_id, deadline).await?);
        }
        Ok(Some(user))
    }

    /// `None` when the user does not exist. Right after CreateUser, DescribeUser may answer
    /// ResourceNotFoundException for a while (eventual consistency), so a not-found is re-read for up to
    /// `settle` before it is believed.
    pub async fn describe_user(
        &self,
        instance_id: &str,
        user_id: &str,
        settle: Duration,
        deadline: Instant,
    ) -> Result<Option<Actual>, ApiError> {
        let until = Instant::now() + settle;
        let mut wait = Duration::from_millis(100);
        loop {
            let r = with_retries_paced(self.pacer(), "DescribeUser", deadline, || {
                self.client.describe_user().instance_id(instance_id).user_id(user_id).send()
            })
            .await;
            match r {
                Ok(out) => {
                    return match out.user().and_then(translate::actual_from_sdk) {
                        Some(a) => Ok(Some(a)),
                        None => Err(ApiError::new("DescribeUser", "IncompleteResponse", "the user came back without an id or username", 1)),
                    };
                }
                Err(e) if e.is("ResourceNotFoundException") => {
                    if Instant::now() + wait >= until || Instant::now() + wait >= deadline {
                        return Ok(None);
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// All of the user's proficiencies (every page).
    pub async fn list_proficiencies(
        &self,
        instance_id: &str,
        user_id: &str,
        deadline: Instant,
    ) -> Result<crate::user::properties::Proficiencies, ApiError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = with_retries_paced(self.pacer(), "ListUserProficiencies", deadline, || {
                self.client
                    .list_user_proficiencies()
                    .instance_id(instance_id)
                    .user_id(user_id)
                    .set_next_token(token.clone())
                    .max_results(100)
                    .send()
            })
            .await?;
            all.extend(out.user_proficiency_list().iter().cloned());
            match next_page(out.next_token()) {
                Some(t) => token = Some(t),
                None => return Ok(translate::proficiencies_from_sdk(&all)),
            }
        }
    }

    /// `Ok(false)` when the user (or its instance) was already gone.
    pub async fn delete_user(&self, instance_id: &str, user_id: &str, deadline: Instant) -> Result<bool, ApiError> {
        match with_retries_paced(self.pacer(), "DeleteUser", deadline, || {
            self.client.delete_user().instance_id(instance_id).user_id(user_id).send()
        })
        .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every user of the instance (all pages of ListUsers): id and username.
    pub async fn list_users(&self, instance_id: &str, deadline: Instant) -> Result<Vec<(String, String)>, ApiError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = with_retries_paced(self.pacer(), "ListUsers", deadline, || {
                self.client.list_users().instance_id(instance_id).set_next_token(token.clone()).max_results(1000).send()
            })
            .await?;
            all.extend(
                out.user_summary_list().iter().filter_map(|u| Some((u.id()?.to_string(), u.username().unwrap_or_default().to_string()))),
            );
            match next_page(out.next_token()) {
                Some(t) => token = Some(t),
                None => return Ok(all),
            }
        }
    }

    /// Every routing profile, security profile or hierarchy group of the instance (all pages): id and name.
    pub async fn list_named(&self, instance_id: &str, kind: Named, deadline: Instant) -> Result<Vec<(String, String)>, ApiError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        let pair = |id: Option<&str>, name: Option<&str>| Some((id?.to_string(), name.unwrap_or_default().to_string()));
        loop {
            let next = match kind {
                Named::RoutingProfiles => {
                    let out = with_retries_paced(self.pacer(), "ListRoutingProfiles", deadline, || {
                        self.client.list_routing_profiles().instance_id(instance_id).set_next_token(token.clone()).max_results(1000).send()
                    })
                    .await?;
                    all.extend(out.routing_profile_summary_list().iter().filter_map(|s| pair(s.id(), s.name())));
                    next_page(out.next_token())
                }
                Named::SecurityProfiles => {
                    let out = with_retries_paced(self.pacer(), "ListSecurityProfiles", deadline, || {
                        self.client.list_security_profiles().instance_id(instance_id).set_next_token(token.clone()).max_results(1000).send()
                    })
                    .await?;
                    all.extend(out.security_profile_summary_list().iter().filter_map(|s| pair(s.id(), s.name())));
                    next_page(out.next_token())
                }
                Named::HierarchyGroups => {
                    let out = with_retries_paced(self.pacer(), "ListUserHierarchyGroups", deadline, || {
                        self.client
                            .list_user_hierarchy_groups()
                            .instance_id(instance_id)
                            .set_next_token(token.clone())
                            .max_results(1000)
                            .send()
                    })
                    .await?;
                    all.extend(out.user_hierarchy_group_summary_list().iter().filter_map(|s| pair(s.id(), s.name())));
                    next_page(out.next_token())
                }
            };
            match next {
                Some(t) => token = Some(t),
                None => return Ok(all),
            }
        }
    }

    /// The instance's identity management type (`CONNECT_MANAGED`, `SAML` or `EXISTING_DIRECTORY`), which
    /// decides whether a new user needs a password or must not have one.
    pub async fn identity_management(&self, instance_id: &str, deadline: Instant) -> Result<String, ApiError> {
        let out = with_retries_paced(self.pacer(), "DescribeInstance", deadline, || {
            self.client.describe_instance().instance_id(instance_id).send()
        })
        .await?;
        Ok(out.instance().and_then(|i| i.identity_management_type()).map(|t| t.as_str().to_string()).unwrap_or_default())
    }

    /// The names of a hierarchy group's path from level one down to the group itself.
    pub async fn hierarchy_path(&self, instance_id: &str, group_id: &str, deadline: Instant) -> Result<Vec<String>, ApiError> {
        let out = with_retries_paced(self.pacer(), "DescribeUserHierarchyGroup", deadline, || {
            self.client.describe_user_hierarchy_group().instance_id(instance_id).hierarchy_group_id(group_id).send()
        })
        .await?;
        let Some(path) = out.hierarchy_group().and_then(|g| g.hierarchy_path()) else {
            return Ok(Vec::new());
        };
        let levels = [path.level_one(), path.level_two(), path.level_three(), path.level_four(), path.level_five()];
        Ok(levels.into_iter().flatten().map(|l| l.name().unwrap_or_default().to_string()).collect())
    }

    /// The user of this name in the instance, if any: its id, ARN and tags (for the adoption check).
    pub async fn find_by_username(
        &self,
        instance_id: &str,
        username: &str,
        deadline: Instant,
    ) -> Result<Option<(String, String, std::collections::HashMap<String, String>)>, ApiError> {
        let criteria = UserSearchCriteria::builder()
            .string_condition(
                StringCondition::builder().field_name("Username").value(username).comparison_type(StringComparisonType::Exact).build(),
            )
            .build();
        let out = with_retries_paced(self.pacer(), "SearchUsers", deadline, || {
            self.client.search_users().instance_id(instance_id).search_criteria(criteria.clone()).max_results(10).send()
        })
        .await?;
        Ok(out.users().iter().find(|u| u.username() == Some(username)).map(|u| {
            (u.id().unwrap_or_default().to_string(), u.arn().unwrap_or_default().to_string(), u.tags().cloned().unwrap_or_default())
        }))
    }

    /// Makes one in-place change.
    pub async fn apply(&self, instance_id: &str, user_id: &str, arn: &str, change: &Change, deadline: Instant) -> Result<(), ApiError> {
        let (iid, uid, c) = (instance_id, user_id, &self.client);
        let op = change.operation();
        match change {
            Change::RoutingProfile(rp) => with_retries_paced(self.pacer(), op, deadline, || {
                c.update_user_routing_profile().instance_id(iid).user_id(uid).routing_profile_id(rp).send()
            })
            .await
            .map(drop),
            Change::SecurityProfiles(ids) => with_retries_paced(self.pacer(), op, deadline, || {
                c.update_user_security_profiles().instance_id(iid).user_id(uid).set_security_profile_ids(Some(ids.clone())).send()
            })
            .await
            .map(drop),
            Change::Hierarchy(h) => with_retries_paced(self.pacer(), op, deadline, || {
                c.update_user_hierarchy().instance_id(iid).user_id(uid).set_hierarchy_group_id(h.clone()).send()
            })
            .await
            .map(drop),
            Change::IdentityInfo(i) => with_retries_paced(self.pacer(), op, deadline, || {
                c.update_user_identity_info().instance_id(iid).user_id(uid).identity_info(translate::identity_to_sdk(i)).send()
            })
            .await
            .map(drop),
            Change::PhoneConfig(p) => with_retries_paced(self.pacer(), op, deadline, || {
                c.update_user_phone_config().instance_id(iid).user_id(uid).phone_config(translate::phone_to_sdk(p)).send()
            })
            .await
            .map(drop),
            Change::Config(configs) => {
                let l = translate::lists_to_sdk(configs);
                with_retries_paced(self.pacer(), op, deadline, || {
                    c.update_user_config()
                        .instance_id(iid)
                        .user_id(uid)
                        .set_auto_accept_configs(l.auto_accept.clone())
                        .set_after_contact_work_configs(l.after_contact_work.clone())
                        .set_phone_number_configs(l.phone_number.clone())
                        .set_persistent_connection_configs(l.persistent_connection.clone())
                        .set_voice_enhancement_configs(l.voice_enhancement.clone())
                        .send()
                })
                .await
                .map(drop)
            }
            Change::AssociateProficiencies(p) => {
                let list = translate::proficiencies_to_sdk(p);
                with_retries_paced(self.pacer(), op, deadline, || {
                    c.associate_user_proficiencies().instance_id(iid).user_id(uid).set_user_proficiencies(Some(list.clone())).send()
                })
                .await
                .map(drop)
            }
            Change::UpdateProficiencies(p) => {
                let list = translate::proficiencies_to_sdk(p);
                with_retries_paced(self.pacer(), op, deadline, || {
                    c.update_user_proficiencies().instance_id(iid).user_id(uid).set_user_proficiencies(Some(list.clone())).send()
                })
                .await
                .map(drop)
            }
            Change::DisassociateProficiencies(keys) => {
                let list = translate::proficiency_keys_to_sdk(keys);
                with_retries_paced(self.pacer(), op, deadline, || {
                    c.disassociate_user_proficiencies().instance_id(iid).user_id(uid).set_user_proficiencies(Some(list.clone())).send()
                })
                .await
                .map(drop)
            }
            Change::Untag(keys) => with_retries_paced(self.pacer(), op, deadline, || {
                c.untag_resource().resource_arn(arn).set_tag_keys(Some(keys.clone())).send()
            })
            .await
            .map(drop),
            Change::Tag(tags) => {
                let map: std::collections::HashMap<String, String> = tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                with_retries_paced(self.pacer(), op, deadline, || c.tag_resource().resource_arn(arn).set_tags(Some(map.clone())).send())
                    .await
                    .map(drop)
            }
        }
    }
}

/// Reads passwords from Secrets Manager, at create time only.
#[derive(Clone)]
pub struct Secrets {
    client: aws_sdk_secretsmanager::Client,
}

/// Why a password could not be read; the messages never contain the secret's value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SecretError {
    #[error("PasswordSecretId: secret {0} was not found")]
    NotFound(String),
    #[error("PasswordSecretId: secret {0} has no string value")]
    NoString(String),
    #[error("PasswordSecretKey: secret {0} is not a JSON object, so it has no key {1}")]
    NotJson(String, String),
    #[error("PasswordSecretKey: secret {0} has no string key {1}")]
    NoKey(String, String),
    #[error("PasswordSecretId: could not read secret {0}: {1}")]
    Api(String, ApiError),
}

impl Secrets {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Secrets {
        Secrets { client }
    }

    pub async fn password(&self, secret_id: &str, key: Option<&str>, deadline: Instant) -> Result<String, SecretError> {
        let value = self.value(secret_id, deadline).await?;
        extract(secret_id, &value, key)
    }

    /// The secret's string.
    pub async fn value(&self, secret_id: &str, deadline: Instant) -> Result<String, SecretError> {
        let out =
            with_retries("GetSecretValue", deadline, || self.client.get_secret_value().secret_id(secret_id).send()).await.map_err(|e| {
                if e.is("ResourceNotFoundException") {
                    SecretError::NotFound(secret_id.to_string())
                } else {
                    SecretError::Api(secret_id.to_string(), e)
                }
            })?;
        out.secret_string().map(str::to_string).ok_or_else(|| SecretError::NoString(secret_id.to_string()))
    }
}

/// The password from a secret's string: the whole string, or one key of a JSON object.
pub fn extract(secret_id: &str, value: &str, key: Option<&str>) -> Result<String, SecretError> {
    let Some(key) = key else { return Ok(value.to_string()) };
    let json: serde_json::Value = serde_json::from_str(value).map_err(|_| SecretError::NotJson(secret_id.to_string(), key.to_string()))?;
    let obj = json.as_object().ok_or_else(|| SecretError::NotJson(secret_id.to_string(), key.to_string()))?;
    obj.get(key).and_then(|v| v.as_str()).map(str::to_string).ok_or_else(|| SecretError::NoKey(secret_id.to_string(), key.to_string()))
}

#[cfg(test)]
pub(crate) mod emulator_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_next_token_ends_a_listing() {
        assert_eq!(next_page(Some("t2")), Some("t2".to_string()));
        assert_eq!(next_page(Some("")), None);
        assert_eq!(next_page(None), None);
    }

    #[test]
    fn the_backoff_doubles_up_to_ten_seconds_and_stops_50_ms_before_the_deadline() {
        let ms = Duration::from_millis;
        assert_eq!(grown(ms(100)), ms(200));
        assert_eq!(grown(ms(6_000)), ms(10_000));
        assert!(time_for_another(ms(100), ms(151)));
        assert!(!time_for_another(ms(100), ms(150)));
        assert!(!time_for_another(Duration::ZERO, ms(50)));
    }

    type ListUsersSdkError = SdkError<aws_sdk_connect::operation::list_users::ListUsersError, HttpResponse>;

    #[test]
    fn a_timeout_and_an_unreadable_response_are_retried_with_their_own_codes() {
        let timeout: ListUsersSdkError = SdkError::timeout_error("operation timeout");
        let (e, retryable) = map_err("ListUsers", &timeout);
        assert_eq!((e.code.as_str(), e.message.as_str(), retryable), ("Timeout", "the call timed out", true));

        let raw =
            HttpResponse::new(aws_smithy_runtime_api::http::StatusCode::try_from(200).unwrap(), aws_smithy_types::body::SdkBody::from("{"));
        let unreadable: ListUsersSdkError = SdkError::response_error("truncated body", raw);
        let (e, retryable) = map_err("ListUsers", &unreadable);
        assert_eq!((e.operation, e.code.as_str(), retryable), ("ListUsers", "ResponseError", true));
        assert_eq!(e.message, "the response could not be read");

        let unbuilt: ListUsersSdkError = SdkError::construction_failure("missing InstanceId");
        let (e, retryable) = map_err("ListUsers", &unbuilt);
        assert_eq!((e.code.as_str(), retryable), ("ClientError", false));
    }

    #[test]
    fn a_key_is_read_from_a_json_secret_without_echoing_values() {
        assert_eq!(extract("s", "plain", None), Ok("plain".into()));
        assert_eq!(extract("s", r#"{"password":"Passw0rd!"}"#, Some("password")), Ok("Passw0rd!".into()));
        let e = extract("s", r#"{"other":"Passw0rd!"}"#, Some("password")).unwrap_err();
        assert!(!e.to_string().contains("Passw0rd"), "{e}");
        assert!(matches!(extract("s", "Passw0rd!", Some("k")), Err(SecretError::NotJson(..))));
        assert!(!extract("s", "Passw0rd!", Some("k")).unwrap_err().to_string().contains("Passw0rd"));
    }

    /// PascalCase of an SDK fluent method name (`update_user_hierarchy` -> `UpdateUserHierarchy`).
    fn pascal(snake: &str) -> String {
        snake.split('_').map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect()
    }

    /// The operations this file calls: every `.name()` whose name starts with an operation verb.
    fn called_operations(source: &str) -> std::collections::BTreeSet<String> {
        const VERBS: [&str; 13] = [
            "create_",
            "describe_",
            "delete_",
            "update_",
            "list_",
            "search_",
            "associate_",
            "disassociate_",
            "tag_",
            "untag_",
            "get_",
            "put_",
            "query",
        ];
        let mut out = std::collections::BTreeSet::new();
        for (i, _) in source.match_indices("()") {
            let head = &source[..i];
            let start = head.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map(|p| p + 1).unwrap_or(0);
            let name = &head[start..];
            if start > 0 && head[..start].ends_with('.') && VERBS.iter().any(|v| name.starts_with(v)) {
                out.insert(pascal(name));
            }
        }
        out
    }

    #[test]
    fn the_iam_policy_lists_exactly_the_operations_the_code_calls() {
        let template = include_str!("../../template.yaml");
        let granted = |service: &str| -> std::collections::BTreeSet<String> {
            template
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- ").and_then(|a| a.strip_prefix(service)).map(|a| a.trim().to_string()))
                .collect()
        };
        let mut connect = granted("connect:");
        let secrets = granted("secretsmanager:");
        assert!(!connect.contains("*") && !secrets.contains("*"), "no wildcard action");
        let mut called = called_operations(include_str!("mod.rs"));
        assert!(called.remove("GetSecretValue"), "Secrets Manager is called");
        assert_eq!(secrets, ["GetSecretValue".to_string()].into());
        connect.retain(|a| !a.is_empty());
        assert_eq!(called, connect, "left: called by the code; right: granted in template.yaml");
        // The protocol's relay invokes the function itself; nothing else of Lambda's.
        assert!(include_str!("../cfn/relay.rs").contains(".invoke()"), "the relay calls Invoke");
        assert_eq!(granted("lambda:"), ["InvokeFunction".to_string()].into(), "granted in template.yaml");
        // The state table: what the store calls, on that table only.
        assert_eq!(granted("dynamodb:"), called_operations(include_str!("../store.rs")), "left: granted; right: called by the store");
        assert!(template.contains("Resource: !GetAtt StateTable.Arn"), "on the function's own table only");
        // The stack's status: DescribeStacks, on this account's stacks in this region only.
        assert_eq!(granted("cloudformation:"), called_operations(include_str!("../cfn/stack.rs")), "left: granted; right: called");
        assert!(template.contains("Resource: !Sub arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/*"));
        // A roster's file: GetObject, which needs GetObjectVersion too when it names a version.
        // and a run report: PutObject.
        let mut s3 = called_operations(include_str!("../roster/s3.rs"));
        assert_eq!(s3, ["GetObject".to_string(), "PutObject".to_string()].into());
        s3.insert("GetObjectVersion".into());
        assert_eq!(granted("s3:"), s3);
        assert!(
            template.contains("Resource: !Sub arn:${AWS::Partition}:s3:::${ReportBucket}/${ReportPrefix}*"),
            "reports: that prefix only"
        );
    }

    #[test]
    fn the_scan_of_calls_finds_fluent_calls_only() {
        let found = called_operations("c.update_user_hierarchy().x(); self.client.create_user(); fn list_things() {} create_user();");
        assert_eq!(found, ["CreateUser".to_string(), "UpdateUserHierarchy".to_string()].into());
    }
}

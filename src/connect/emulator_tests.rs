//! The calling layer against the project's Connect emulator, started in-process on loopback: what each call
//! sends, how its answer is read (pages, not-found, retries) and that every in-place change really changes the
//! user. The end-to-end tests cover the same code through the binary; these run in milliseconds, so that
//! `make mutants` (unit tests only) can tell when a change here goes unnoticed.

use super::*;
use crate::connect::ownership;
use crate::user::planner::diff;
use crate::user::properties::UserProps;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) const IID: &str = "81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca";
pub(crate) const SAML_IID: &str = "7a760212-305b-4271-ade7-fce68795b60c";
pub(crate) const RP_BASIC: &str = "f1478cfd-0ff1-4e4f-b73a-ffafa95f1eaf";
pub(crate) const RP_SALES: &str = "fcc8ed3b-a605-49a2-9d2d-9313178676db";
pub(crate) const SP_AGENT: &str = "16d9d65b-eb82-419f-b3bc-80a0d32111ef";
pub(crate) const SP_MANAGER: &str = "5830ffcf-dcb3-423e-8d16-19cfa5bd7a92";
pub(crate) const HG_EMEA: &str = "a8e0f0bb-4a9a-412f-8992-bd18de9c8f82";
pub(crate) const HG_TIER1: &str = "3b1c2d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
pub(crate) const LEGACY_ID: &str = "0f6a2c1e-5d3b-4a7e-9c10-2b8d4e6f1a01";
pub(crate) const VETERAN_ID: &str = "7c3e9b52-1f4d-4e8a-b6a0-5d2c8e1f3b02";
pub(crate) const PASSWORD: &str = "Sup3rSecretPassw0rd";

pub(crate) struct Live {
    pub(crate) emulator: connect_emulator::Emulator,
    pub(crate) connect: Connect,
}

impl Live {
    pub(crate) async fn start() -> Live {
        let emulator = connect_emulator::start(Default::default()).await.unwrap();
        let config = aws_sdk_connect::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_connect::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_connect::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
            .endpoint_url(emulator.endpoint())
            .retry_config(aws_sdk_connect::config::retry::RetryConfig::disabled())
            .build();
        Live { connect: Connect::new(aws_sdk_connect::Client::from_conf(config)), emulator }
    }

    pub(crate) async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        lambda_harness::control(&self.emulator.endpoint(), method, path, body).await.unwrap()
    }

    pub(crate) async fn fault(&self, operation: &str, error: &str, count: u32) {
        self.control("POST", "faults", Some(json!({"operation": operation, "error": error, "count": count}))).await;
    }

    /// The operations called so far, oldest first, with their HTTP status.
    pub(crate) async fn calls(&self) -> Vec<(String, u64)> {
        let log = self.control("GET", "calls", None).await;
        log["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["operation"].as_str().unwrap().to_string(), c["status"].as_u64().unwrap()))
            .collect()
    }

    pub(crate) async fn stored(&self, user_id: &str) -> Option<Value> {
        let state = self.control("GET", "state", None).await;
        state["users"].as_array().unwrap().iter().find(|u| u["Id"] == user_id).cloned()
    }

    /// The user as the resource reads it back: DescribeUser and every proficiency.
    pub(crate) async fn read(&self, user_id: &str) -> Actual {
        let mut a = self.connect.describe_user(IID, user_id, Duration::ZERO, soon()).await.unwrap().unwrap();
        a.settings.proficiencies = Some(self.connect.list_proficiencies(IID, user_id, soon()).await.unwrap());
        a
    }
}

/// A Secrets Manager client for tests whose passwords are inline: it is never reached.
pub(crate) fn no_secrets() -> Secrets {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    Secrets::new(aws_sdk_secretsmanager::Client::from_conf(config))
}

pub(crate) fn success(o: crate::cfn::Outcome) -> (String, BTreeMap<String, String>) {
    match o {
        crate::cfn::Outcome::Success { physical_resource_id, data } => (physical_resource_id, data),
        other => panic!("expected SUCCESS, got {other:?}"),
    }
}

pub(crate) fn failure(o: crate::cfn::Outcome) -> (String, Option<String>) {
    match o {
        crate::cfn::Outcome::Failed { reason, physical_resource_id } => (reason, physical_resource_id),
        other => panic!("expected FAILED, got {other:?}"),
    }
}

/// The write operations called since the log was cleared, in order, whatever Connect answered: "before any
/// write" means none was even tried.
pub(crate) async fn writes(live: &Live) -> Vec<String> {
    let reads = ["DescribeUser", "ListUserProficiencies", "ListUsers", "SearchUsers", "ListTagsForResource", "DescribeInstance"];
    live.calls().await.into_iter().filter(|(op, _)| !reads.contains(&op.as_str())).map(|(op, _)| op).collect()
}

pub(crate) async fn clear(live: &Live) {
    live.control("DELETE", "calls", None).await;
}

pub(crate) fn soon() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

fn props(v: Value) -> UserProps {
    UserProps::parse(v.as_object().unwrap()).unwrap()
}

fn first() -> UserProps {
    props(json!({
        "InstanceId": IID, "Name": "live.agent", "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT],
        "IdentityInfo": {"FirstName": "Ana", "LastName": "Silva", "Email": "ana@example.com"},
        "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AutoAccept": "true", "AfterContactWorkTimeLimit": "30"},
        "Tags": {"team": "support", "gone": "1"}
    }))
}

/// Every setting different from [`first`].
fn second() -> UserProps {
    props(json!({
        "InstanceId": IID, "Name": "live.agent", "RoutingProfileId": RP_SALES, "SecurityProfileIds": [SP_AGENT, SP_MANAGER],
        "HierarchyGroupId": HG_EMEA,
        "IdentityInfo": {"FirstName": "Ana", "LastName": "Silva-Reis", "Mobile": "+14155550100"},
        "PhoneConfig": {"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+14155550101", "AfterContactWorkTimeLimit": "60"},
        "VoiceEnhancementConfigs": [{"Channel": "VOICE", "VoiceEnhancementMode": "NOISE_SUPPRESSION"}],
        "UserProficiencies": [
            {"AttributeName": "Language", "AttributeValue": "English", "Level": "4"},
            {"AttributeName": "Language", "AttributeValue": "Spanish", "Level": "2"}
        ],
        "Tags": {"team": "sales"}
    }))
}

#[tokio::test]
async fn a_user_is_created_with_everything_it_was_given() {
    let live = Live::start().await;
    let records = BTreeMap::from([("connect-user-resource:record".to_string(), "r1".to_string())]);
    let (id, arn) = live.connect.create_user(&first(), Some(PASSWORD), "m-1", "stack/Agent", &records, soon()).await.unwrap();
    assert!(!id.is_empty());
    assert!(arn.ends_with(&format!("/agent/{id}")), "{arn}");
    let stored = live.stored(&id).await.unwrap();
    assert_eq!(stored["Username"], "live.agent");
    assert_eq!(stored["Password"], PASSWORD);
    assert_eq!(stored["RoutingProfileId"], RP_BASIC);
    assert_eq!(stored["IdentityInfo"]["Email"], "ana@example.com");
    assert_eq!(stored["PhoneConfig"]["AfterContactWorkTimeLimit"], 30);
    let tags = &stored["Tags"];
    assert_eq!((tags["team"].as_str(), tags[ownership::MARKER_TAG].as_str()), (Some("support"), Some("m-1")));
    assert_eq!(tags[ownership::HOLDER_TAG], "stack/Agent");
    assert_eq!(tags["connect-user-resource:record"], "r1");

    let a = live.read(&id).await;
    assert_eq!((a.user_id.as_str(), a.arn.as_str(), a.username.as_str()), (id.as_str(), arn.as_str(), "live.agent"));
    assert_eq!(a.settings.routing_profile_id, RP_BASIC);
    assert_eq!(a.settings.tags, BTreeMap::from([("gone".to_string(), "1".to_string()), ("team".to_string(), "support".to_string())]));
    assert_eq!(a.marker_tags.get(ownership::MARKER_TAG).map(String::as_str), Some("m-1"));
    assert!(diff(&first().settings, &a.settings, &Default::default()).is_empty(), "read back as created");

    // No password: CreateUser goes without one (and a CONNECT_MANAGED instance refuses it).
    let e = live
        .connect
        .create_user(
            &props(json!({"InstanceId": IID, "Name": "nopass", "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT]})),
            None,
            "m",
            "h",
            &BTreeMap::new(),
            soon(),
        )
        .await
        .unwrap_err();
    assert_eq!((e.operation(), e.code(), e.attempts()), ("CreateUser", "InvalidRequestException", 1));
}

#[tokio::test]
async fn every_in_place_change_reaches_the_user_and_a_second_diff_finds_nothing() {
    let live = Live::start().await;
    let (id, arn) = live.connect.create_user(&first(), Some(PASSWORD), "m-1", "h", &BTreeMap::new(), soon()).await.unwrap();
    live.connect.apply(IID, &id, &arn, &Change::AssociateProficiencies(first_proficiencies()), soon()).await.unwrap();
    let before = live.read(&id).await;
    let changes = diff(&second().settings, &before.settings, &Default::default());
    let ops: BTreeSet<&str> = changes.iter().map(Change::operation).collect();
    assert_eq!(ops.len(), 11, "every kind of change is made: {ops:?}");
    for c in &changes {
        live.connect.apply(IID, &id, &arn, c, soon()).await.unwrap();
    }
    let after = live.read(&id).await;
    assert_eq!(diff(&second().settings, &after.settings, &Default::default()), Vec::new(), "every change took");
    assert_eq!(after.settings.hierarchy_group_id.as_deref(), Some(HG_EMEA));
    assert_eq!(after.marker_tags.get(ownership::MARKER_TAG).map(String::as_str), Some("m-1"), "the reserved tags stay");
    // And back: Hierarchy(None) removes the group.
    live.connect.apply(IID, &id, &arn, &Change::Hierarchy(None), soon()).await.unwrap();
    assert_eq!(live.read(&id).await.settings.hierarchy_group_id, None);
}

fn first_proficiencies() -> crate::user::properties::Proficiencies {
    let p = props(json!({
        "InstanceId": IID, "Name": "p", "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT],
        "UserProficiencies": [
            {"AttributeName": "Language", "AttributeValue": "English", "Level": "1"},
            {"AttributeName": "Language", "AttributeValue": "French", "Level": "3"}
        ]
    }));
    p.settings.proficiencies.unwrap()
}

#[tokio::test]
async fn every_page_is_read() {
    let live = Live::start().await;
    live.control("POST", "paging", Some(json!({"page_size": 1}))).await;
    let c = &live.connect;
    let mut made = Vec::new();
    let mut arns = Vec::new();
    for name in ["p.one", "p.two", "p.three"] {
        let mut p = first();
        p.name = name.to_string();
        let (id, arn) = c.create_user(&p, Some(PASSWORD), "m", "holder-x", &BTreeMap::new(), soon()).await.unwrap();
        made.push(id);
        arns.push(arn);
    }
    let users = c.list_users(IID, soon()).await.unwrap();
    assert_eq!(users.len(), 5, "the two fixture users and three new: {users:?}");
    assert!(users.contains(&(made[2].clone(), "p.three".to_string())));
    assert!(users.contains(&(LEGACY_ID.to_string(), "legacy.agent".to_string())));

    let sps = c.list_named(IID, Named::SecurityProfiles, soon()).await.unwrap();
    assert_eq!(sps.len(), 4, "{sps:?}");
    assert!(sps.contains(&(SP_MANAGER.to_string(), "CallCenterManager".to_string())));
    let rps = c.list_named(IID, Named::RoutingProfiles, soon()).await.unwrap();
    assert_eq!(
        rps,
        vec![(RP_BASIC.to_string(), "Basic Routing Profile".to_string()), (RP_SALES.to_string(), "Sales Routing Profile".to_string())]
    );
    let groups = c.list_named(IID, Named::HierarchyGroups, soon()).await.unwrap();
    assert_eq!(groups.len(), 3);
    assert!(groups.contains(&(HG_TIER1.to_string(), "tier 1".to_string())));

    c.apply(IID, &made[0], &arns[0], &Change::AssociateProficiencies(first_proficiencies()), soon()).await.unwrap();
    assert_eq!(c.list_proficiencies(IID, &made[0], soon()).await.unwrap().len(), 2);

    // SearchUsers by tag: one page at a time, the caller follows `next`.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c.search_tagged(IID, ownership::HOLDER_TAG, "holder-x", token, soon()).await.unwrap();
        assert!(page.users.len() <= 1);
        seen.extend(page.users.into_iter().map(|u| u.username));
        match page.next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["p.one", "p.three", "p.two"]);
}

#[tokio::test]
async fn names_paths_and_the_instance_are_read() {
    let live = Live::start().await;
    let c = &live.connect;
    assert_eq!(c.hierarchy_path(IID, HG_TIER1, soon()).await.unwrap(), ["EMEA", "tier 1"]);
    assert_eq!(c.hierarchy_path(IID, HG_EMEA, soon()).await.unwrap(), ["EMEA"]);
    assert_eq!(c.identity_management(IID, soon()).await.unwrap(), "CONNECT_MANAGED");
    assert_eq!(c.identity_management(SAML_IID, soon()).await.unwrap(), "SAML");
    let (id, arn, tags) = c.find_by_username(IID, "legacy.agent", soon()).await.unwrap().unwrap();
    assert_eq!(id, LEGACY_ID);
    assert!(arn.ends_with(LEGACY_ID));
    assert!(tags.is_empty() || !tags.contains_key(ownership::HOLDER_TAG));
    assert_eq!(c.find_by_username(IID, "legacy", soon()).await.unwrap(), None, "an exact name only");
}

#[tokio::test]
async fn a_create_refused_as_a_duplicate_finds_the_user_of_that_name() {
    let live = Live::start().await;
    let c = &live.connect;
    let none = BTreeMap::new();
    let Created::New { user_id, arn } = c.create_or_find(&first(), Some(PASSWORD), "m-1", "h-1", &none, soon()).await.unwrap() else {
        panic!("a new name is created")
    };
    match c.create_or_find(&first(), Some(PASSWORD), "m-2", "h-2", &none, soon()).await.unwrap() {
        Created::Existing { user_id: id, arn: a, tags } => {
            assert_eq!((id, a), (user_id, arn), "the user the first call made");
            assert_eq!(tags.get(ownership::MARKER_TAG).map(String::as_str), Some("m-1"), "with its own tags, not the refused call's");
            assert_eq!(tags.get(ownership::HOLDER_TAG).map(String::as_str), Some("h-1"));
        }
        other => panic!("{other:?}"),
    }
    // Refused as a duplicate, yet nobody of the name is there (deleted meanwhile).
    let mut other = first();
    other.name = "nobody.here".into();
    live.fault("CreateUser", "DuplicateResourceException", 1).await;
    assert_eq!(c.create_or_find(&other, Some(PASSWORD), "m", "h", &none, soon()).await.unwrap(), Created::Vanished);
    // Any other refusal is an error, and nothing is searched for.
    live.fault("CreateUser", "InvalidParameterException", 1).await;
    let e = c.create_or_find(&other, Some(PASSWORD), "m", "h", &none, soon()).await.unwrap_err();
    assert_eq!(e.code(), "InvalidParameterException");
    let searches = live.calls().await.iter().filter(|(op, _)| op == "SearchUsers").count();
    assert_eq!(searches, 2, "one search for each duplicate");
}

#[tokio::test]
async fn a_gone_user_reads_as_none_and_deletes_as_already_gone() {
    let live = Live::start().await;
    let c = &live.connect;
    let (id, _) = c.create_user(&first(), Some(PASSWORD), "m", "h", &BTreeMap::new(), soon()).await.unwrap();
    assert!(c.delete_user(IID, &id, soon()).await.unwrap(), "deleted");
    assert!(!c.delete_user(IID, &id, soon()).await.unwrap(), "already gone is not an error");
    assert_eq!(c.describe_user(IID, &id, Duration::ZERO, soon()).await.unwrap().map(|a| a.user_id), None);

    // Another error of DeleteUser is an error, and the user stays.
    let (id, _) = c.create_user(&first(), Some(PASSWORD), "m", "h", &BTreeMap::new(), soon()).await.unwrap();
    live.fault("DeleteUser", "AccessDeniedException", 1).await;
    let e = c.delete_user(IID, &id, soon()).await.unwrap_err();
    assert_eq!((e.code(), e.attempts()), ("AccessDeniedException", 1), "not retried");
    assert!(live.stored(&id).await.is_some());
}

#[tokio::test]
async fn a_user_not_yet_visible_is_read_again_until_it_is() {
    let live = Live::start().await;
    live.control("POST", "consistency", Some(json!({"describe_delay_ms": 400}))).await;
    let c = &live.connect;
    let (id, _) = c.create_user(&first(), Some(PASSWORD), "m", "h", &BTreeMap::new(), soon()).await.unwrap();
    let found = c.describe_user(IID, &id, Duration::from_secs(10), soon()).await.unwrap();
    assert_eq!(found.map(|a| a.user_id), Some(id.clone()), "found once visible");
    let calls = live.calls().await;
    let not_found = calls.iter().filter(|(op, s)| op == "DescribeUser" && *s == 404).count();
    // Asked again after 100, 200, 400 ms...: at most three not-founds in the 400 ms (sleeps never end early).
    assert!((1..=3).contains(&not_found), "asked again after a not-found, each wait twice the last: {calls:?}");

    // Not visible for a minute: with no settle time the not-found is believed at once.
    live.control("POST", "consistency", Some(json!({"describe_delay_ms": 60_000}))).await;
    let (other, _) = {
        let mut p = first();
        p.name = "later".into();
        c.create_user(&p, Some(PASSWORD), "m", "h", &BTreeMap::new(), soon()).await.unwrap()
    };
    live.control("DELETE", "calls", None).await;
    assert_eq!(c.describe_user(IID, &other, Duration::ZERO, soon()).await.unwrap().map(|a| a.user_id), None, "no settle: believed at once");
    assert_eq!(live.calls().await.len(), 1, "asked once");
    // A long settle time, but the deadline comes first: not-found, without waiting for the settle time.
    live.control("DELETE", "calls", None).await;
    let near = Instant::now() + Duration::from_millis(300);
    assert_eq!(c.describe_user(IID, &other, Duration::from_secs(60), near).await.unwrap().map(|a| a.user_id), None);
    // At 0 and after 100 ms; a wait of 200 more would end past the deadline.
    assert!(live.calls().await.len() <= 2, "{:?}", live.calls().await);
    // Another error is an error, not a user still on its way.
    live.fault("DescribeUser", "AccessDeniedException", 1).await;
    let e = c.describe_user(IID, &id, Duration::from_secs(10), soon()).await.unwrap_err();
    assert_eq!(e.code(), "AccessDeniedException");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_and_client_errors_are_not() {
    let live = Live::start().await;
    let c = &live.connect;
    live.fault("ListUsers", "ThrottlingException", 2).await;
    assert_eq!(c.list_users(IID, soon()).await.unwrap().len(), 2);
    live.fault("ListUsers", "InternalServiceException", 1).await;
    assert_eq!(c.list_users(IID, soon()).await.unwrap().len(), 2);
    let listed = live.calls().await.into_iter().filter(|(op, _)| op == "ListUsers").map(|(_, s)| s).collect::<Vec<_>>();
    assert_eq!(listed, [429, 429, 200, 500, 200]);

    live.fault("ListUsers", "InvalidParameterException", 1).await;
    let e = c.list_users(IID, soon()).await.unwrap_err();
    assert_eq!((e.operation(), e.code(), e.attempts()), ("ListUsers", "InvalidParameterException", 1));
    assert!(!e.message().contains("gave up"));

    // Throttled until the deadline: given up before it, saying why.
    live.fault("ListUsers", "ThrottlingException", 1000).await;
    let deadline = Instant::now() + Duration::from_millis(800);
    let e = c.list_users(IID, deadline).await.unwrap_err();
    // No wait is started that would end past the deadline (the last call itself may end a little after it on
    // a loaded machine, hence the second of slack).
    assert!(Instant::now() < deadline + Duration::from_secs(1), "given up at the deadline, not after retrying past it");
    assert_eq!(e.code(), "ThrottlingException");
    assert!(e.attempts() > 1 && e.message().contains("the function's deadline was near"), "{e:?}");
}

#[tokio::test]
async fn a_paced_call_whose_turn_comes_too_late_is_not_made() {
    let live = Live::start().await;
    // One token, the next one 10 s later: far past the limit, however slow the first call is.
    let pacer = Arc::new(Pacer::new(0.1, 1));
    let paced = live.connect.paced(pacer.clone(), Some(Instant::now() + Duration::from_millis(300)));
    assert_eq!(paced.list_users(IID, soon()).await.unwrap().len(), 2, "the first call has its token");
    let e = paced.list_users(IID, soon()).await.unwrap_err();
    assert!(e.is_deferred() && e.attempts() == 0, "{e:?}");
    assert_eq!(e.code(), "", "the service never saw it");
    assert_eq!(live.calls().await.len(), 1, "the second was never sent");

    live.fault("ListUsers", "ThrottlingException", 1).await;
    let relaxed = live.connect.paced(Arc::new(Pacer::new(50.0, 5)), None);
    relaxed.list_users(IID, soon()).await.unwrap();
    assert!(relaxed.pacer().is_some());
    assert_eq!(relaxed.pacer().map(|(p, _)| p.throttled_count()), Some(1), "the pacer is told of throttling");
    // Some Connect operations name it TooManyRequestsException: the same news for the pacer. A server error is not.
    live.fault("ListUsers", "TooManyRequestsException", 1).await;
    relaxed.list_users(IID, soon()).await.unwrap();
    assert_eq!(relaxed.pacer().map(|(p, _)| p.throttled_count()), Some(2), "told of TooManyRequests");
    live.fault("ListUsers", "InternalServiceException", 1).await;
    relaxed.list_users(IID, soon()).await.unwrap();
    assert_eq!(relaxed.pacer().map(|(p, _)| p.throttled_count()), Some(2), "not told of a server error");
}

#[tokio::test]
async fn any_server_error_is_retried_a_limit_is_not_and_an_unreachable_endpoint_is_a_network_error() {
    let live = Live::start().await;
    // A code this layer has never heard of, answered with 500: retried like any server error.
    live.fault("ListUsers", "SomeNewServerException", 1).await;
    assert_eq!(live.connect.list_users(IID, soon()).await.unwrap().len(), 2);
    // LimitExceededException comes with 429 too, but waiting does not help: final.
    live.fault("ListUsers", "LimitExceededException", 1).await;
    let e = live.connect.list_users(IID, soon()).await.unwrap_err();
    assert_eq!((e.code(), e.attempts()), ("LimitExceededException", 1));

    let Live { emulator, connect } = live;
    emulator.stop().await;
    let e = connect.list_users(IID, Instant::now() + Duration::from_millis(600)).await.unwrap_err();
    assert_eq!(e.code(), "NetworkError");
    assert!(e.attempts() > 1 && e.message().starts_with("could not reach the endpoint"), "retried until the deadline: {e:?}");
}

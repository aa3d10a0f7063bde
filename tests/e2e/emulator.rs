//! The Connect emulator, driven with aws-sdk-connect exactly as the Lambda drives it.

use crate::support::*;
use aws_sdk_connect::error::ProvideErrorMetadata;
use aws_sdk_connect::types::{
    AutoAcceptConfig, Channel, PhoneType, StringComparisonType, StringCondition, UserIdentityInfo, UserPhoneConfig, UserProficiency,
    UserProficiencyDisassociate, UserSearchCriteria,
};
use connect_emulator::Config;
use lambda_harness::control;
use serde_json::json;
use std::time::{Duration, Instant};

async fn emu(config: Config) -> (connect_emulator::Emulator, aws_sdk_connect::Client) {
    let e = connect_emulator::start(config).await.unwrap();
    let c = connect_client(&e.endpoint());
    (e, c)
}

fn code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("").to_string()
}

fn soft() -> UserPhoneConfig {
    UserPhoneConfig::builder().phone_type(PhoneType::SoftPhone).build()
}

/// A valid CreateUser request on the CONNECT_MANAGED instance, for tests to send or extend.
fn create_request(c: &aws_sdk_connect::Client, name: &str) -> aws_sdk_connect::operation::create_user::builders::CreateUserFluentBuilder {
    c.create_user().instance_id(IID).username(name).password(PASSWORD).routing_profile_id(RP_BASIC).security_profile_ids(SP_AGENT)
}

async fn create(c: &aws_sdk_connect::Client, name: &str) -> (String, String) {
    let out = create_request(c, name).phone_config(soft()).send().await.unwrap();
    (out.user_id().unwrap().to_string(), out.user_arn().unwrap().to_string())
}

#[tokio::test]
async fn user_lifecycle_through_every_update_operation() {
    let (_e, c) = emu(Config::default()).await;
    let out = c
        .create_user()
        .instance_id(IARN)
        .username("jdoe")
        .password(PASSWORD)
        .routing_profile_id(format!("{IARN}/routing-profile/{RP_BASIC}"))
        .security_profile_ids(format!("{IARN}/security-profile/{SP_AGENT}"))
        .hierarchy_group_id(HG_NA)
        .identity_info(UserIdentityInfo::builder().first_name("John").email("jdoe@example.com").build())
        .phone_config(
            UserPhoneConfig::builder()
                .phone_type(PhoneType::DeskPhone)
                .desk_phone_number("+14155550100")
                .after_contact_work_time_limit(30)
                .build(),
        )
        .tags("team", "blue")
        .send()
        .await
        .unwrap();
    let uid = out.user_id().unwrap().to_string();
    let arn = out.user_arn().unwrap().to_string();
    assert_eq!(arn, format!("{IARN}/agent/{uid}"));

    let u = c.describe_user().instance_id(IID).user_id(&uid).send().await.unwrap().user.unwrap();
    assert_eq!(u.username(), Some("jdoe"));
    assert_eq!(u.routing_profile_id(), Some(RP_BASIC));
    assert_eq!(u.security_profile_ids(), [SP_AGENT.to_string()]);
    assert_eq!(u.hierarchy_group_id(), Some(HG_NA));
    assert_eq!(u.phone_config().unwrap().desk_phone_number(), Some("+14155550100"));
    assert_eq!(u.phone_config().unwrap().after_contact_work_time_limit(), 30);
    assert_eq!(u.tags().unwrap().get("team").map(String::as_str), Some("blue"));

    c.update_user_routing_profile().instance_id(IID).user_id(&uid).routing_profile_id(RP_SALES).send().await.unwrap();
    c.update_user_security_profiles()
        .instance_id(IID)
        .user_id(&uid)
        .security_profile_ids(SP_MANAGER)
        .security_profile_ids(SP_QA)
        .send()
        .await
        .unwrap();
    c.update_user_identity_info()
        .instance_id(IID)
        .user_id(&uid)
        .identity_info(UserIdentityInfo::builder().first_name("Jane").build())
        .send()
        .await
        .unwrap();
    c.update_user_phone_config().instance_id(IID).user_id(&uid).phone_config(soft()).send().await.unwrap();
    c.update_user_config()
        .instance_id(IID)
        .user_id(&uid)
        .auto_accept_configs(AutoAcceptConfig::builder().channel(Channel::Chat).auto_accept(true).build().unwrap())
        .send()
        .await
        .unwrap();
    // By ARN, as the service accepts it.
    c.update_user_hierarchy()
        .instance_id(IID)
        .user_id(&arn)
        .hierarchy_group_id(format!("{IARN}/agent-group/{HG_EMEA}"))
        .send()
        .await
        .unwrap();
    let u = c.describe_user().instance_id(IID).user_id(&uid).send().await.unwrap().user.unwrap();
    assert_eq!(u.routing_profile_id(), Some(RP_SALES));
    assert_eq!(u.security_profile_ids().len(), 2);
    assert_eq!(u.identity_info().unwrap().first_name(), Some("Jane"));
    assert_eq!(u.identity_info().unwrap().email(), None, "identity info is replaced as a whole");
    assert_eq!(u.phone_config().unwrap().phone_type(), &PhoneType::SoftPhone);
    assert_eq!(u.auto_accept_configs()[0].channel(), &Channel::Chat);
    assert_eq!(u.hierarchy_group_id(), Some(HG_EMEA));
    // Without an id, the user leaves its group.
    c.update_user_hierarchy().instance_id(IID).user_id(&uid).send().await.unwrap();
    let u = c.describe_user().instance_id(IID).user_id(&uid).send().await.unwrap().user.unwrap();
    assert_eq!(u.hierarchy_group_id(), None);

    c.tag_resource().resource_arn(&arn).tags("env", "prod").send().await.unwrap();
    c.untag_resource().resource_arn(&arn).tag_keys("team").send().await.unwrap();
    let tags = c.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 1);
    assert_eq!(tags.tags().unwrap().get("env").map(String::as_str), Some("prod"));

    c.delete_user().instance_id(IID).user_id(&uid).send().await.unwrap();
    let e = c.describe_user().instance_id(IID).user_id(&uid).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert!(e.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn proficiencies_list_users_and_search() {
    let (_e, c) = emu(Config::default()).await;
    let (uid, _) = create(&c, "agent-a").await;
    create(&c, "agent-b").await;
    create(&c, "other").await;
    let p = |v: &str, l: f32| UserProficiency::builder().attribute_name("Language").attribute_value(v).level(l).build().unwrap();
    c.associate_user_proficiencies()
        .instance_id(IID)
        .user_id(&uid)
        .user_proficiencies(p("English", 3.0))
        .user_proficiencies(p("Spanish", 2.0))
        .send()
        .await
        .unwrap();
    c.update_user_proficiencies().instance_id(IID).user_id(&uid).user_proficiencies(p("English", 5.0)).send().await.unwrap();
    c.disassociate_user_proficiencies()
        .instance_id(IID)
        .user_id(&uid)
        .user_proficiencies(UserProficiencyDisassociate::builder().attribute_name("Language").attribute_value("Spanish").build().unwrap())
        .send()
        .await
        .unwrap();
    let list = c.list_user_proficiencies().instance_id(IID).user_id(&uid).send().await.unwrap();
    let got: Vec<(String, f32)> = list.user_proficiency_list().iter().map(|p| (p.attribute_value().to_string(), p.level())).collect();
    assert_eq!(got, vec![("English".to_string(), 5.0)]);
    let e = c.associate_user_proficiencies().instance_id(IID).user_id(&uid).user_proficiencies(p("English", 9.0)).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let e = c.associate_user_proficiencies().instance_id(IID).user_id(&uid).user_proficiencies(p("Klingon", 1.0)).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");

    // Three users made here and the fixture's two pre-existing agents.
    let page = c.list_users().instance_id(IID).max_results(3).send().await.unwrap();
    assert_eq!(page.user_summary_list().len(), 3);
    let next = c.list_users().instance_id(IID).max_results(3).next_token(page.next_token().unwrap()).send().await.unwrap();
    assert_eq!(next.user_summary_list().len(), 2);
    assert!(next.next_token().is_none());

    let search = |value: &str, cmp: StringComparisonType| {
        let criteria = UserSearchCriteria::builder()
            .string_condition(StringCondition::builder().field_name("Username").value(value).comparison_type(cmp).build())
            .build();
        c.search_users().instance_id(IARN).search_criteria(criteria).send()
    };
    let exact = search("agent-a", StringComparisonType::Exact).await.unwrap();
    assert_eq!(exact.users().len(), 1);
    assert_eq!(exact.users()[0].id(), Some(uid.as_str()));
    assert_eq!(search("agent", StringComparisonType::StartsWith).await.unwrap().users().len(), 2);
    assert_eq!(search("nobody", StringComparisonType::Exact).await.unwrap().users().len(), 0);
}

#[tokio::test]
async fn validation_errors_match_the_service_model() {
    let (_e, c) = emu(Config::default()).await;
    let base =
        || c.create_user().instance_id(IID).username("v").password(PASSWORD).routing_profile_id(RP_BASIC).security_profile_ids(SP_AGENT);
    let cases: Vec<(&str, Result<_, _>)> = vec![
        ("InvalidParameterException", base().password("weak").send().await),
        (
            "InvalidRequestException",
            c.create_user().instance_id(IID).username("v").routing_profile_id(RP_BASIC).security_profile_ids(SP_AGENT).send().await,
        ),
        ("InvalidParameterException", base().identity_info(UserIdentityInfo::builder().mobile("555").build()).send().await),
        ("InvalidParameterException", base().identity_info(UserIdentityInfo::builder().email("nope").build()).send().await),
        ("InvalidRequestException", base().phone_config(UserPhoneConfig::builder().phone_type(PhoneType::DeskPhone).build()).send().await),
        (
            "InvalidParameterException",
            base().phone_config(UserPhoneConfig::builder().phone_type(PhoneType::from("CAR_PHONE")).build()).send().await,
        ),
        ("InvalidParameterException", base().tags("aws:reserved", "x").send().await),
        ("InvalidParameterException", base().username("x".repeat(101)).send().await),
        ("ResourceNotFoundException", base().routing_profile_id("nope").send().await),
        ("ResourceNotFoundException", base().security_profile_ids("nope").send().await),
        ("ResourceNotFoundException", base().hierarchy_group_id("nope").send().await),
        ("ResourceNotFoundException", base().instance_id("00000000-0000-0000-0000-000000000000").send().await),
        (
            "ResourceNotFoundException",
            base()
                .routing_profile_id(format!("arn:aws:connect:us-east-1:123456789012:instance/{SAML_IID}/routing-profile/{SAML_RP}"))
                .send()
                .await,
        ),
        (
            "InvalidRequestException",
            base()
                .phone_config(UserPhoneConfig::builder().phone_type(PhoneType::SoftPhone).auto_accept(true).build())
                .auto_accept_configs(AutoAcceptConfig::builder().channel(Channel::Voice).auto_accept(true).build().unwrap())
                .send()
                .await,
        ),
    ];
    for (want, got) in cases {
        let e = got.expect_err(want);
        assert_eq!(code(&e), want, "{:?}", e.message());
        assert!(!e.message().unwrap_or("").is_empty());
    }
    let many_sp = (0..11).fold(base().set_security_profile_ids(None), |b, _| b.security_profile_ids(SP_AGENT));
    assert_eq!(code(&many_sp.send().await.unwrap_err()), "InvalidParameterException");
    // SAML instances reject a password and accept none.
    let saml = || c.create_user().instance_id(SAML_IID).username("s").routing_profile_id(SAML_RP).security_profile_ids(SAML_SP);
    assert_eq!(code(&saml().password(PASSWORD).send().await.unwrap_err()), "InvalidRequestException");
    saml().send().await.unwrap();
    // Usernames are unique per instance.
    base().send().await.unwrap();
    let dup = base().send().await.unwrap_err();
    assert_eq!(code(&dup), "DuplicateResourceException");
    assert!(dup.into_service_error().is_duplicate_resource_exception());
    // Tag operations on unknown resources.
    let e = c.list_tags_for_resource().resource_arn(format!("{IARN}/agent/none")).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn the_user_limit_is_enforced() {
    let mut f = connect_emulator::fixture::Fixture::default_fixture();
    // The fixture's pre-existing agents count towards the limit.
    f.instances[0].user_limit = f.instances[0].users.len() + 1;
    let (_e, c) = emu(Config { fixture: Some(f), ..Default::default() }).await;
    create(&c, "one").await;
    let e = create_request(&c, "two").send().await.unwrap_err();
    assert_eq!(code(&e), "LimitExceededException");
}

#[tokio::test]
async fn throttling_is_a_token_bucket_per_operation() {
    // A refill rate so low that no token comes back during the test, however slow the machine: counts, not timing.
    let (e, c) = emu(Config { throttle: Some((0.001, 5)), ..Default::default() }).await;
    let mut ok = 0;
    let mut throttled = 0;
    for _ in 0..8 {
        match c.list_users().instance_id(IID).send().await {
            Ok(_) => ok += 1,
            Err(err) => {
                assert_eq!(code(&err), "ThrottlingException");
                assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(429));
                throttled += 1;
            }
        }
    }
    assert_eq!((ok, throttled), (5, 3), "burst of 5");
    // Another operation has its own bucket.
    c.search_users().instance_id(IID).send().await.unwrap();
    // Refill at 2/s: a new setting starts a full bucket (of 1 here); a wait of 600 ms brings a token back.
    control(&e.endpoint(), "POST", "throttle", Some(json!({"operation": "ListUsers", "rate": 2.0, "burst": 1}))).await.unwrap();
    c.list_users().instance_id(IID).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    c.list_users().instance_id(IID).send().await.unwrap();
    // Through the control API: off for one operation.
    control(&e.endpoint(), "POST", "throttle", Some(json!({"operation": "ListUsers", "rate": null}))).await.unwrap();
    for _ in 0..10 {
        c.list_users().instance_id(IID).send().await.unwrap();
    }
}

#[tokio::test]
async fn describe_is_eventually_consistent_after_create() {
    // Not found for a minute after CreateUser (far longer than the test can take, so no timing is assumed)...
    let (e, c) = emu(Config { describe_delay_ms: 60_000, ..Default::default() }).await;
    let (uid, _) = create(&c, "late").await;
    // Measured after CreateUser answered, so the emulator's clock for the user started before it.
    let t = Instant::now();
    let err = c.describe_user().instance_id(IID).user_id(&uid).send().await.unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    // ...and found once the delay (now 300 ms) has certainly passed.
    control(&e.endpoint(), "POST", "consistency", Some(json!({"describe_delay_ms": 300}))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(320).saturating_sub(t.elapsed())).await;
    c.describe_user().instance_id(IID).user_id(&uid).send().await.unwrap();
    control(&e.endpoint(), "POST", "consistency", Some(json!({"describe_delay_ms": 0}))).await.unwrap();
    let (uid2, _) = create(&c, "now").await;
    c.describe_user().instance_id(IID).user_id(&uid2).send().await.unwrap();
}

#[tokio::test]
async fn faults_and_delays_are_injected_and_the_call_log_records_them() {
    let (e, c) = emu(Config::default()).await;
    let ep = e.endpoint();
    control(&ep, "POST", "faults", Some(json!({"operation": "ListUsers", "count": 2, "error": "InternalServiceException"}))).await.unwrap();
    for _ in 0..2 {
        let err = c.list_users().instance_id(IID).send().await.unwrap_err();
        assert_eq!(code(&err), "InternalServiceException");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    }
    c.list_users().instance_id(IID).send().await.unwrap();
    control(&ep, "POST", "faults", Some(json!({"operation": "ListUsers", "count": 1, "delay_ms": 300}))).await.unwrap();
    let t = Instant::now();
    c.list_users().instance_id(IID).send().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    control(&ep, "POST", "faults", Some(json!({"operation": "CreateUser", "error": "AccessDeniedException"}))).await.unwrap();
    let err = create_request(&c, "x").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");

    let calls = control(&ep, "GET", "calls", None).await.unwrap();
    let log: Vec<(String, u64)> = calls["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["operation"].as_str().unwrap().to_string(), c["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        log,
        vec![
            ("ListUsers".into(), 500),
            ("ListUsers".into(), 500),
            ("ListUsers".into(), 200),
            ("ListUsers".into(), 200),
            ("CreateUser".into(), 403)
        ]
    );
    // The log never holds a password.
    assert!(!calls.to_string().contains(PASSWORD));
    control(&ep, "POST", "reset", None).await.unwrap();
    assert_eq!(control(&ep, "GET", "calls", None).await.unwrap()["calls"], json!([]));
}

#[tokio::test]
async fn the_binary_prints_its_address_and_stops_on_sigterm() {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/connect-emulator");
    // `cargo test --workspace` (the Makefile's way) builds every binary of the workspace first.
    assert!(bin.exists(), "{} is not built; run the tests with --workspace", bin.display());
    let mut child =
        tokio::process::Command::new(&bin).args(["--port", "0"]).stdout(std::process::Stdio::piped()).kill_on_drop(true).spawn().unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // Generous: on a loaded machine start-up is slow, and speed is `make bench`'s business, not a test's.
    tokio::time::timeout(Duration::from_secs(30), tokio::io::AsyncBufReadExt::read_line(&mut out, &mut line)).await.unwrap().unwrap();
    let endpoint = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{line}");
    let c = connect_client(&endpoint);
    c.list_users().instance_id(IID).send().await.unwrap();
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await.unwrap().unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn the_fixture_seeds_existing_agents_with_fixed_ids() {
    let (_e, c) = emu(Config { describe_delay_ms: 60_000, ..Default::default() }).await;
    // They existed before the emulator started: no consistency delay applies to them.
    let u = c.describe_user().instance_id(IID).user_id(VETERAN_ID).send().await.unwrap();
    let u = u.user().unwrap();
    assert_eq!(u.username(), Some("veteran.agent"));
    assert_eq!(u.arn(), Some(format!("{IARN}/agent/{VETERAN_ID}").as_str()));
    assert_eq!(u.hierarchy_group_id(), Some(HG_EMEA));
    assert_eq!(u.tags().unwrap().get("site").map(String::as_str), Some("Madrid"));
    assert_eq!(u.auto_accept_configs().len(), 1);
    let p = c.list_user_proficiencies().instance_id(IID).user_id(VETERAN_ID).send().await.unwrap();
    assert_eq!(p.user_proficiency_list()[0].attribute_value(), "Spanish");
    let names: Vec<String> = c
        .list_users()
        .instance_id(IID)
        .send()
        .await
        .unwrap()
        .user_summary_list()
        .iter()
        .map(|s| s.username().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["legacy.agent", "veteran.agent"]);
}

#[test]
fn a_fixture_user_that_createuser_would_refuse_is_refused_at_load() {
    let mut v: serde_json::Value = serde_json::from_str(connect_emulator::fixture::DEFAULT_FIXTURE).unwrap();
    v["instances"][0]["users"][0]["PhoneConfig"] = json!({"PhoneType": "DESK_PHONE"});
    let e = connect_emulator::seed::parse(&v.to_string()).unwrap_err();
    assert!(e.contains("legacy.agent") && e.contains("InvalidRequestException"), "{e}");
    v["instances"][0]["users"][0] =
        json!({"Username": "no-id", "Password": PASSWORD, "RoutingProfileId": RP_BASIC, "SecurityProfileIds": [SP_AGENT]});
    assert!(connect_emulator::seed::parse(&v.to_string()).unwrap_err().contains("needs an Id"));
}

#[tokio::test]
async fn profile_and_hierarchy_group_names_are_listed_page_by_page() {
    let (_e, c) = emu(Config::default()).await;
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let out = c.list_security_profiles().instance_id(IID).max_results(3).set_next_token(token).send().await.unwrap();
        for p in out.security_profile_summary_list() {
            assert!(p.arn().unwrap().ends_with(&format!("/security-profile/{}", p.id().unwrap())));
            names.push(p.name().unwrap().to_string());
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    names.sort();
    assert_eq!(names, vec!["Admin", "Agent", "CallCenterManager", "QualityAnalyst"], "every page, once");
    let rps = c.list_routing_profiles().instance_id(IID).send().await.unwrap();
    let rp: Vec<(&str, &str)> = rps.routing_profile_summary_list().iter().map(|p| (p.id().unwrap(), p.name().unwrap())).collect();
    assert!(rp.contains(&(RP_BASIC, "Basic Routing Profile")) && rp.contains(&(RP_SALES, "Sales Routing Profile")), "{rp:?}");
    let hgs = c.list_user_hierarchy_groups().instance_id(IID).send().await.unwrap();
    let hg: Vec<&str> = hgs.user_hierarchy_group_summary_list().iter().map(|g| g.name().unwrap()).collect();
    assert!(hg.contains(&"EMEA") && hg.contains(&"North America"), "{hg:?}");
    let e = c.list_routing_profiles().instance_id("no-such-instance").send().await.unwrap_err();
    assert_eq!(code(&e.into_service_error()), "ResourceNotFoundException");
    let e = c.list_security_profiles().instance_id(IID).max_results(1001).send().await.unwrap_err();
    assert_eq!(code(&e.into_service_error()), "InvalidParameterException");
}

#[tokio::test]
async fn hierarchy_groups_have_paths_and_a_fixture_cannot_loop() {
    let (_e, c) = emu(Config::default()).await;
    let tier = "3b1c2d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
    let out = c.describe_user_hierarchy_group().instance_id(IID).hierarchy_group_id(tier).send().await.unwrap();
    let g = out.hierarchy_group().unwrap();
    assert_eq!((g.name(), g.level_id()), (Some("tier 1"), Some("2")));
    let path = g.hierarchy_path().unwrap();
    assert_eq!(path.level_one().and_then(|l| l.name()), Some("EMEA"));
    assert_eq!(path.level_two().and_then(|l| l.id()), Some(tier));
    assert!(path.level_three().is_none());
    let top = c.describe_user_hierarchy_group().instance_id(IID).hierarchy_group_id(HG_EMEA).send().await.unwrap();
    assert_eq!(top.hierarchy_group().unwrap().level_id(), Some("1"));
    let e = c.describe_user_hierarchy_group().instance_id(IID).hierarchy_group_id("nope").send().await.unwrap_err();
    assert_eq!(code(&e.into_service_error()), "ResourceNotFoundException");

    let mut f: serde_json::Value = serde_json::from_str(connect_emulator::fixture::DEFAULT_FIXTURE).unwrap();
    f["instances"][0]["hierarchy_parents"] = json!({HG_EMEA: tier, tier: HG_EMEA});
    let err = connect_emulator::seed::parse(&f.to_string()).unwrap_err();
    assert!(err.contains("a cycle"), "{err}");
}

/// SearchUsers is an index that can be behind the writes: with a lag set, it answers from the users as they were
/// that long ago (a user just created is missing, one just deleted or re-tagged still shows as it was), while
/// DescribeUser and ListUsers answer from the users as they are.
#[tokio::test]
async fn search_answers_from_an_index_behind_the_writes() {
    let (e, c) = emu(Config::default()).await;
    let (before, _) = create(&c, "before").await;
    let names = |out: &aws_sdk_connect::operation::search_users::SearchUsersOutput| -> Vec<String> {
        let mut n: Vec<String> = out.users().iter().filter_map(|u| u.username().map(str::to_string)).collect();
        n.sort();
        n
    };
    let all = c.search_users().instance_id(IID).send().await.unwrap();
    let fixture = names(&all);
    // A minute of lag: far longer than the test, so nothing written after this is seen.
    control(&e.endpoint(), "POST", "search-lag", Some(json!({"lag_ms": 60_000}))).await.unwrap();
    let (after, arn) = create(&c, "after").await;
    c.delete_user().instance_id(IID).user_id(&before).send().await.unwrap();
    c.tag_resource().resource_arn(&arn).tags("team", "late").send().await.unwrap();
    let seen = c.search_users().instance_id(IID).send().await.unwrap();
    assert_eq!(names(&seen), fixture, "the index has the deleted user and not the new one");
    c.describe_user().instance_id(IID).user_id(&after).send().await.expect("DescribeUser is current");
    let listed = c.list_users().instance_id(IID).send().await.unwrap();
    assert!(listed.user_summary_list().iter().any(|u| u.username() == Some("after")), "ListUsers is current");
    // Once the lag has passed the index shows the writes: 200 ms of lag, waited out.
    control(&e.endpoint(), "POST", "search-lag", Some(json!({"lag_ms": 200}))).await.unwrap();
    let (late, _) = create(&c, "late").await;
    assert!(!names(&c.search_users().instance_id(IID).send().await.unwrap()).contains(&"late".to_string()));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let caught_up = c.search_users().instance_id(IID).send().await.unwrap();
    assert!(names(&caught_up).contains(&"late".to_string()) && !names(&caught_up).contains(&"before".to_string()));
    let tagged = caught_up.users().iter().find(|u| u.username() == Some("after")).unwrap();
    assert_eq!(tagged.tags().and_then(|t| t.get("team")).map(String::as_str), Some("late"));
    // Off: current again.
    control(&e.endpoint(), "POST", "search-lag", Some(json!({"lag_ms": 0}))).await.unwrap();
    c.delete_user().instance_id(IID).user_id(&late).send().await.unwrap();
    assert!(!names(&c.search_users().instance_id(IID).send().await.unwrap()).contains(&"late".to_string()));
}

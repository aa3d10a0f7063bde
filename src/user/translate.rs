//! Pure mapping between the resource's typed properties and the SDK's shapes, kept apart from the calls (as
//! AWS's own resource providers keep their Translator classes), so it is tested without a network.

use crate::connect::ownership::{HOLDER_TAG, MARKER_TAG};
use crate::user::model::Actual;
use crate::user::properties::channels::{centi, level_of};
use crate::user::properties::{
    ChannelConfigs, Entry, IdentityInfo, ListKind, PhoneConfig, PhoneType, Proficiencies, Settings, UserProps, RESERVED_TAG_PREFIX,
};
use aws_sdk_connect::types::{self as sdk};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

pub fn identity_to_sdk(i: &IdentityInfo) -> sdk::UserIdentityInfo {
    sdk::UserIdentityInfo::builder()
        .set_first_name(i.first_name.clone())
        .set_last_name(i.last_name.clone())
        .set_email(i.email.clone())
        .set_secondary_email(i.secondary_email.clone())
        .set_mobile(i.mobile.clone())
        .build()
}

pub fn identity_from_sdk(i: Option<&sdk::UserIdentityInfo>) -> IdentityInfo {
    let Some(i) = i else { return IdentityInfo::default() };
    IdentityInfo {
        first_name: non_empty(i.first_name()),
        last_name: non_empty(i.last_name()),
        email: non_empty(i.email()),
        secondary_email: non_empty(i.secondary_email()),
        mobile: non_empty(i.mobile()),
    }
}

pub fn phone_to_sdk(p: &PhoneConfig) -> sdk::UserPhoneConfig {
    sdk::UserPhoneConfig::builder()
        .phone_type(sdk::PhoneType::from(p.phone_type.as_str()))
        .auto_accept(p.auto_accept)
        .after_contact_work_time_limit(p.after_contact_work_time_limit)
        .set_desk_phone_number(p.desk_phone_number.clone())
        .persistent_connection(p.persistent_connection)
        .build()
}

/// Absent members read as Connect's defaults, the same defaults the properties use.
pub fn phone_from_sdk(p: Option<&sdk::UserPhoneConfig>) -> PhoneConfig {
    let Some(p) = p else { return PhoneConfig::default() };
    PhoneConfig {
        phone_type: if p.phone_type().as_str() == "DESK_PHONE" { PhoneType::DeskPhone } else { PhoneType::SoftPhone },
        auto_accept: p.auto_accept(),
        after_contact_work_time_limit: p.after_contact_work_time_limit(),
        desk_phone_number: non_empty(p.desk_phone_number()),
        persistent_connection: p.persistent_connection().unwrap_or(false),
    }
}

/// The per-channel lists in the SDK's shapes, ready for CreateUser or UpdateUserConfig (`None` for a list not
/// given, so that it is left out of the request).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SdkLists {
    pub auto_accept: Option<Vec<sdk::AutoAcceptConfig>>,
    pub after_contact_work: Option<Vec<sdk::AfterContactWorkConfigPerChannel>>,
    pub phone_number: Option<Vec<sdk::PhoneNumberConfig>>,
    pub persistent_connection: Option<Vec<sdk::PersistentConnectionConfig>>,
    pub voice_enhancement: Option<Vec<sdk::VoiceEnhancementConfig>>,
}

fn acw(limit: i32) -> sdk::AfterContactWorkConfig {
    sdk::AfterContactWorkConfig::builder().after_contact_work_time_limit(limit).build()
}

/// One list's entries in an SDK shape; `build` returns `None` for an entry of another list.
fn collect<T>(entries: &BTreeMap<String, Entry>, build: impl Fn(sdk::Channel, &Entry) -> Option<T>) -> Option<Vec<T>> {
    Some(entries.iter().filter_map(|(c, e)| build(sdk::Channel::from(c.as_str()), e)).collect())
}

/// Every required member is set from validated properties, so the builders cannot fail here.
pub fn lists_to_sdk(configs: &ChannelConfigs) -> SdkLists {
    let mut out = SdkLists::default();
    for (kind, entries) in configs {
        match kind {
            ListKind::AutoAccept => {
                out.auto_accept = collect(entries, |ch, e| match e {
                    Entry::AutoAccept { auto_accept, agent_first_callback } => sdk::AutoAcceptConfig::builder()
                        .channel(ch)
                        .auto_accept(*auto_accept)
                        .set_agent_first_callback_auto_accept(agent_first_callback.then_some(true))
                        .build()
                        .ok(),
                    _ => None,
                })
            }
            ListKind::AfterContactWork => {
                out.after_contact_work = collect(entries, |ch, e| match e {
                    Entry::AfterContactWork { limit, agent_first_callback } => sdk::AfterContactWorkConfigPerChannel::builder()
                        .channel(ch)
                        .after_contact_work_config(acw(*limit))
                        .set_agent_first_callback_after_contact_work_config(
                            (*agent_first_callback != 0).then(|| acw(*agent_first_callback)),
                        )
                        .build()
                        .ok(),
                    _ => None,
                })
            }
            ListKind::PhoneNumber => {
                out.phone_number = collect(entries, |ch, e| match e {
                    Entry::PhoneNumber { phone_type, number } => sdk::PhoneNumberConfig::builder()
                        .channel(ch)
                        .phone_type(sdk::PhoneType::from(phone_type.as_str()))
                        .set_phone_number(number.clone())
                        .build()
                        .ok(),
                    _ => None,
                })
            }
            ListKind::PersistentConnection => {
                out.persistent_connection = collect(entries, |ch, e| match e {
                    Entry::PersistentConnection(b) => {
                        sdk::PersistentConnectionConfig::builder().channel(ch).persistent_connection(*b).build().ok()
                    }
                    _ => None,
                })
            }
            ListKind::VoiceEnhancement => {
                out.voice_enhancement = collect(entries, |ch, e| match e {
                    Entry::VoiceEnhancement(m) => sdk::VoiceEnhancementConfig::builder()
                        .channel(ch)
                        .voice_enhancement_mode(sdk::VoiceEnhancementMode::from(m.as_str()))
                        .build()
                        .ok(),
                    _ => None,
                })
            }
        }
    }
    out
}

/// DescribeUser's per-channel lists, all five, normalised like the properties.
pub fn lists_from_sdk(u: &sdk::User) -> ChannelConfigs {
    lists_from_parts(
        u.auto_accept_configs(),
        u.after_contact_work_configs(),
        u.phone_number_configs(),
        u.persistent_connection_configs(),
        u.voice_enhancement_configs(),
    )
}

/// The five per-channel lists (DescribeUser and SearchUsers carry the same shapes).
fn lists_from_parts(
    auto_accept: &[sdk::AutoAcceptConfig],
    after_contact_work: &[sdk::AfterContactWorkConfigPerChannel],
    phone_number: &[sdk::PhoneNumberConfig],
    persistent_connection: &[sdk::PersistentConnectionConfig],
    voice_enhancement: &[sdk::VoiceEnhancementConfig],
) -> ChannelConfigs {
    let mut out = ChannelConfigs::new();
    let mut put = |kind: ListKind, channel: &str, e: Entry| {
        out.entry(kind).or_default().insert(channel.to_string(), e);
    };
    for c in auto_accept {
        put(
            ListKind::AutoAccept,
            c.channel().as_str(),
            Entry::AutoAccept { auto_accept: c.auto_accept(), agent_first_callback: c.agent_first_callback_auto_accept().unwrap_or(false) },
        );
    }
    for c in after_contact_work {
        let limit = |x: Option<&sdk::AfterContactWorkConfig>| x.map(|a| a.after_contact_work_time_limit()).unwrap_or(0);
        put(
            ListKind::AfterContactWork,
            c.channel().as_str(),
            Entry::AfterContactWork {
                limit: limit(c.after_contact_work_config()),
                agent_first_callback: limit(c.agent_first_callback_after_contact_work_config()),
            },
        );
    }
    for c in phone_number {
        let phone_type = if c.phone_type().as_str() == "DESK_PHONE" { PhoneType::DeskPhone } else { PhoneType::SoftPhone };
        put(ListKind::PhoneNumber, c.channel().as_str(), Entry::PhoneNumber { phone_type, number: non_empty(c.phone_number()) });
    }
    for c in persistent_connection {
        put(ListKind::PersistentConnection, c.channel().as_str(), Entry::PersistentConnection(c.persistent_connection()));
    }
    for c in voice_enhancement {
        put(ListKind::VoiceEnhancement, c.channel().as_str(), Entry::VoiceEnhancement(c.voice_enhancement_mode().as_str().to_string()));
    }
    out
}

pub fn proficiencies_to_sdk(p: &Proficiencies) -> Vec<sdk::UserProficiency> {
    p.iter()
        .filter_map(|((name, value), level)| {
            sdk::UserProficiency::builder().attribute_name(name).attribute_value(value).level(level_of(*level)).build().ok()
        })
        .collect()
}

pub fn proficiency_keys_to_sdk(keys: &[(String, String)]) -> Vec<sdk::UserProficiencyDisassociate> {
    keys.iter()
        .filter_map(|(name, value)| sdk::UserProficiencyDisassociate::builder().attribute_name(name).attribute_value(value).build().ok())
        .collect()
}

pub fn proficiencies_from_sdk(list: &[sdk::UserProficiency]) -> Proficiencies {
    list.iter().map(|p| ((p.attribute_name().to_string(), p.attribute_value().to_string()), centi(f64::from(p.level())))).collect()
}

/// The tags to send with CreateUser: the user's own plus the request marker and the holder.
pub fn create_tags(props: &UserProps, marker: &str, holder: &str) -> HashMap<String, String> {
    let mut tags: HashMap<String, String> = props.settings.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    tags.insert(MARKER_TAG.to_string(), marker.to_string());
    tags.insert(HOLDER_TAG.to_string(), holder.to_string());
    tags
}

/// An [`Actual`] from DescribeUser's `User` or a SearchUsers `UserSearchSummary`: the two have the same accessors
/// for what both carry; identity and phone are read by the caller (a page's differ).
macro_rules! actual_of {
    ($u:expr, $identity:expr, $phone:expr) => {{
        let u = $u;
        let (tags, marker_tags) = split_tags(u.tags());
        Some(Actual {
            user_id: u.id()?.to_string(),
            arn: u.arn().unwrap_or_default().to_string(),
            username: u.username()?.to_string(),
            directory_user_id: non_empty(u.directory_user_id()),
            settings: Settings {
                routing_profile_id: u.routing_profile_id().unwrap_or_default().to_string(),
                security_profile_ids: u.security_profile_ids().iter().cloned().collect::<BTreeSet<_>>(),
                hierarchy_group_id: non_empty(u.hierarchy_group_id()),
                identity_info: $identity,
                phone_config: Some($phone),
                tags,
                channel_configs: lists_from_parts(
                    u.auto_accept_configs(),
                    u.after_contact_work_configs(),
                    u.phone_number_configs(),
                    u.persistent_connection_configs(),
                    u.voice_enhancement_configs(),
                ),
                proficiencies: None,
            },
            marker_tags,
        })
    }};
}

/// Reads DescribeUser's answer into the planner's shape. `None` when Connect left out something every user
/// has (an id or a username), which would make any comparison meaningless.
pub fn actual_from_sdk(u: &sdk::User) -> Option<Actual> {
    actual_of!(u, identity_from_sdk(u.identity_info()), phone_from_sdk(u.phone_config()))
}

/// The user's own tags, and this resource's reserved ones.
fn split_tags(all: Option<&HashMap<String, String>>) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let (mut tags, mut marker_tags) = (BTreeMap::new(), BTreeMap::new());
    for (k, v) in all.into_iter().flatten() {
        if k.starts_with(RESERVED_TAG_PREFIX) {
            marker_tags.insert(k.clone(), v.clone());
        } else {
            tags.insert(k.clone(), v.clone());
        }
    }
    (tags, marker_tags)
}

/// Reads one user of a SearchUsers page into the planner's shape. A page leaves out Email, SecondaryEmail,
/// Mobile and the proficiencies: those come back empty and the caller fills them in from what it knows. The
/// page gives `AfterContactWorkTimeLimit` in milliseconds (DescribeUser in seconds): it is converted here, so
/// that 30 s is never compared with, or written back as, 30,000.
pub fn actual_from_summary(u: &sdk::UserSearchSummary) -> Option<Actual> {
    let mut phone = phone_from_sdk(u.phone_config());
    phone.after_contact_work_time_limit /= 1000;
    let lite = u.identity_info();
    let identity = IdentityInfo {
        first_name: non_empty(lite.and_then(|i| i.first_name())),
        last_name: non_empty(lite.and_then(|i| i.last_name())),
        ..Default::default()
    };
    actual_of!(u, identity, phone)
}

fn put(o: &mut Map<String, Value>, key: &str, v: Option<&String>) {
    if let Some(v) = v {
        o.insert(key.into(), json!(v));
    }
}

fn entry_to_property(channel: &str, e: &Entry) -> Value {
    match e {
        Entry::AutoAccept { auto_accept, agent_first_callback } => {
            let mut o = json!({"Channel": channel, "AutoAccept": auto_accept});
            if *agent_first_callback {
                o["AgentFirstCallbackAutoAccept"] = json!(true);
            }
            o
        }
        Entry::AfterContactWork { limit, agent_first_callback } => {
            let mut o = json!({"Channel": channel, "AfterContactWorkConfig": {"AfterContactWorkTimeLimit": limit}});
            if *agent_first_callback != 0 {
                o["AgentFirstCallbackAfterContactWorkConfig"] = json!({"AfterContactWorkTimeLimit": agent_first_callback});
            }
            o
        }
        Entry::PhoneNumber { phone_type, number } => {
            let mut o = json!({"Channel": channel, "PhoneType": phone_type.as_str()});
            if let Some(n) = number {
                o["PhoneNumber"] = json!(n);
            }
            o
        }
        Entry::PersistentConnection(b) => json!({"Channel": channel, "PersistentConnection": b}),
        Entry::VoiceEnhancement(m) => json!({"Channel": channel, "VoiceEnhancementMode": m}),
    }
}

/// The resource properties that describe an existing user as it is (for `connect-users export`): every
/// setting it has, `ImportId` so that a Create takes it over, no password, none of this resource's own tags.
/// PhoneConfig members that a per-channel list of the user also carries are left to the list (the two may not
/// stand side by side), and PhoneConfig is left out beside PhoneNumberConfigs, as the properties require.
pub fn properties_from_actual(instance_id: &str, a: &Actual) -> Map<String, Value> {
    let s = &a.settings;
    let mut o = Map::new();
    o.insert("InstanceId".into(), json!(instance_id));
    o.insert("Name".into(), json!(a.username));
    o.insert("ImportId".into(), json!(format!("{instance_id}:{}", a.user_id)));
    put(&mut o, "DirectoryUserId", a.directory_user_id.as_ref());
    o.insert("RoutingProfileId".into(), json!(s.routing_profile_id));
    o.insert("SecurityProfileIds".into(), json!(s.security_profile_ids));
    put(&mut o, "HierarchyGroupId", s.hierarchy_group_id.as_ref());
    let i = &s.identity_info;
    let mut identity = Map::new();
    for (k, v) in [
        ("FirstName", &i.first_name),
        ("LastName", &i.last_name),
        ("Email", &i.email),
        ("SecondaryEmail", &i.secondary_email),
        ("Mobile", &i.mobile),
    ] {
        put(&mut identity, k, v.as_ref());
    }
    if !identity.is_empty() {
        o.insert("IdentityInfo".into(), Value::Object(identity));
    }
    let lists: Vec<ListKind> = s.channel_configs.iter().filter(|(_, e)| !e.is_empty()).map(|(k, _)| *k).collect();
    if let Some(pc) = s.phone_config.as_ref().filter(|_| !lists.contains(&ListKind::PhoneNumber)) {
        let mut phone = Map::new();
        phone.insert("PhoneType".into(), json!(pc.phone_type.as_str()));
        put(&mut phone, "DeskPhoneNumber", pc.desk_phone_number.as_ref());
        if !lists.contains(&ListKind::AutoAccept) {
            phone.insert("AutoAccept".into(), json!(pc.auto_accept));
        }
        if !lists.contains(&ListKind::AfterContactWork) {
            phone.insert("AfterContactWorkTimeLimit".into(), json!(pc.after_contact_work_time_limit));
        }
        if !lists.contains(&ListKind::PersistentConnection) {
            phone.insert("PersistentConnection".into(), json!(pc.persistent_connection));
        }
        o.insert("PhoneConfig".into(), Value::Object(phone));
    }
    for kind in lists {
        let entries: Vec<Value> = s.channel_configs[&kind].iter().map(|(c, e)| entry_to_property(c, e)).collect();
        o.insert(kind.name().into(), Value::Array(entries));
    }
    if let Some(p) = s.proficiencies.as_ref().filter(|p| !p.is_empty()) {
        let list: Vec<Value> = p
            .iter()
            .map(|((name, value), level)| json!({"AttributeName": name, "AttributeValue": value, "Level": f64::from(*level) / 100.0}))
            .collect();
        o.insert("UserProficiencies".into(), Value::Array(list));
    }
    if !s.tags.is_empty() {
        let list: Vec<Value> = s.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        o.insert("Tags".into(), Value::Array(list));
    }
    o
}

/// `Fn::GetAtt` attributes.
pub fn data(props: &UserProps, user_id: &str, arn: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("UserId".to_string(), user_id.to_string()),
        ("Arn".to_string(), arn.to_string()),
        ("UserArn".to_string(), arn.to_string()),
        ("InstanceId".to_string(), props.instance_id.clone()),
        ("Name".to_string(), props.name.clone()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::properties::UserProps;

    fn props() -> UserProps {
        let v = json!({
            "InstanceId": "inst-1", "Name": "jdoe", "Password": "Passw0rd!", "RoutingProfileId": "rp-1",
            "SecurityProfileIds": ["sp-2", "sp-1"], "HierarchyGroupId": "hg-1",
            "IdentityInfo": {"FirstName": "John", "LastName": "Doe", "Email": "jdoe@example.com"},
            "PhoneConfig": {"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+14155550100", "AutoAccept": "false", "AfterContactWorkTimeLimit": "30"},
            "Tags": {"team": "blue"}
        });
        UserProps::parse(v.as_object().unwrap()).unwrap()
    }

    #[test]
    fn a_search_page_reads_like_describe_but_in_seconds_and_without_hidden_fields() {
        let p = props();
        let s = &p.settings;
        let lists = lists_to_sdk(&s.channel_configs);
        let mut phone = phone_to_sdk(s.phone_config.as_ref().unwrap());
        phone.after_contact_work_time_limit = 30_000; // SearchUsers answers in milliseconds
        let summary = sdk::UserSearchSummary::builder()
            .id("u-1")
            .arn("arn:u-1")
            .username("jdoe")
            .routing_profile_id("rp-1")
            .set_security_profile_ids(Some(vec!["sp-1".into(), "sp-2".into()]))
            .hierarchy_group_id("hg-1")
            .identity_info(sdk::UserIdentityInfoLite::builder().first_name("John").last_name("Doe").build())
            .phone_config(phone)
            .set_auto_accept_configs(lists.auto_accept)
            .tags("team", "blue")
            .tags(HOLDER_TAG, "s/Agents")
            .build();
        let a = actual_from_summary(&summary).unwrap();
        assert_eq!(a.settings.phone_config.as_ref().unwrap().after_contact_work_time_limit, 30, "30,000 ms is 30 s");
        assert_eq!(a.settings.identity_info.email, None, "a page has no email");
        let mut expected = s.clone();
        expected.identity_info.email = None;
        assert_eq!(a.settings, expected);
        assert_eq!(a.marker_tags, BTreeMap::from([(HOLDER_TAG.to_string(), "s/Agents".to_string())]));
        assert_eq!((a.user_id.as_str(), a.arn.as_str(), a.username.as_str()), ("u-1", "arn:u-1", "jdoe"));
        assert!(actual_from_summary(&sdk::UserSearchSummary::builder().id("x").build()).is_none(), "no username");
    }

    #[test]
    fn identity_and_phone_round_trip_through_sdk_shapes() {
        let p = props();
        let i = identity_to_sdk(&p.settings.identity_info);
        assert_eq!(i.first_name(), Some("John"));
        assert_eq!(i.secondary_email(), None);
        assert_eq!(identity_from_sdk(Some(&i)), p.settings.identity_info);
        let pc = p.settings.phone_config.clone().unwrap();
        let ph = phone_to_sdk(&pc);
        assert_eq!(ph.phone_type().as_str(), "DESK_PHONE");
        assert_eq!(ph.after_contact_work_time_limit(), 30);
        assert_eq!(phone_from_sdk(Some(&ph)), pc);
    }

    #[test]
    fn missing_blocks_read_as_defaults() {
        assert_eq!(identity_from_sdk(None), IdentityInfo::default());
        assert_eq!(phone_from_sdk(None), PhoneConfig::default());
        let empty = sdk::UserIdentityInfo::builder().first_name("").build();
        assert_eq!(identity_from_sdk(Some(&empty)).first_name, None);
    }

    #[test]
    fn the_marker_is_split_from_user_tags() {
        let u = sdk::User::builder()
            .id("u1")
            .arn("arn:u1")
            .username("jdoe")
            .routing_profile_id("rp-1")
            .security_profile_ids("sp-1")
            .tags("team", "blue")
            .tags(MARKER_TAG, "abc")
            .build();
        let a = actual_from_sdk(&u).unwrap();
        assert_eq!(a.settings.tags, BTreeMap::from([("team".into(), "blue".into())]));
        assert_eq!(a.marker_tags.get(MARKER_TAG).map(String::as_str), Some("abc"));
        assert_eq!(a.settings.hierarchy_group_id, None);
        assert!(actual_from_sdk(&sdk::User::builder().id("x").build()).is_none());
    }

    #[test]
    fn create_tags_carry_the_marker_and_the_holder() {
        let t = create_tags(&props(), "m", "stack/Agent");
        assert_eq!(t.get("team").map(String::as_str), Some("blue"));
        assert_eq!(t.get(MARKER_TAG).map(String::as_str), Some("m"));
        assert_eq!(t.get(HOLDER_TAG).map(String::as_str), Some("stack/Agent"));
    }

    #[test]
    fn data_has_the_getatt_attributes() {
        let d = data(&props(), "u1", "arn:x");
        assert_eq!(d.get("UserId").map(String::as_str), Some("u1"));
        assert_eq!(d.get("Arn").map(String::as_str), Some("arn:x"));
        assert_eq!(d.get("InstanceId").map(String::as_str), Some("inst-1"));
        assert_eq!(d.get("Name").map(String::as_str), Some("jdoe"));
    }

    fn exported(a: &Actual) -> UserProps {
        let props = properties_from_actual("inst-1", a);
        assert!(props.get("Password").is_none());
        UserProps::parse(&props).unwrap_or_else(|e| panic!("{e}: {}", Value::Object(props.clone())))
    }

    fn everything() -> Actual {
        let u = sdk::User::builder()
            .id("u1")
            .arn("arn:u1")
            .username("jdoe")
            .directory_user_id("dir-1")
            .routing_profile_id("rp-1")
            .security_profile_ids("sp-1")
            .security_profile_ids("sp-2")
            .hierarchy_group_id("hg-1")
            .identity_info(
                sdk::UserIdentityInfo::builder()
                    .first_name("John")
                    .last_name("Doe")
                    .email("jdoe@example.com")
                    .secondary_email("j@example.org")
                    .mobile("+14155550100")
                    .build(),
            )
            .phone_config(phone_to_sdk(&PhoneConfig {
                phone_type: PhoneType::DeskPhone,
                auto_accept: true,
                after_contact_work_time_limit: 45,
                desk_phone_number: Some("+14155550111".into()),
                persistent_connection: true,
            }))
            .tags("team", "blue")
            .tags(MARKER_TAG, "abc")
            .tags(HOLDER_TAG, "s/L")
            .build();
        let mut a = actual_from_sdk(&u).unwrap();
        a.settings.proficiencies = Some(Proficiencies::from([(("Language".into(), "English".into()), 350)]));
        a
    }

    #[test]
    fn an_exported_user_reads_back_as_the_same_settings() {
        let a = everything();
        let p = exported(&a);
        assert_eq!(p.settings, a.settings);
        assert_eq!(p.name, "jdoe");
        assert_eq!(p.directory_user_id.as_deref(), Some("dir-1"));
        assert_eq!(p.import.map(|i| i.to_string()).as_deref(), Some("inst-1:u1"));
        let raw = properties_from_actual("inst-1", &a);
        assert_eq!(raw["Tags"], json!([{"Key": "team", "Value": "blue"}]), "none of the resource's own tags");
        assert_eq!(raw["UserProficiencies"][0]["Level"], json!(3.5));
    }

    #[test]
    fn exported_per_channel_lists_take_over_their_phone_config_members() {
        let mut a = everything();
        let u = sdk::User::builder()
            .id("u1")
            .username("jdoe")
            .auto_accept_configs(sdk::AutoAcceptConfig::builder().channel(sdk::Channel::Chat).auto_accept(true).build().unwrap())
            .voice_enhancement_configs(
                sdk::VoiceEnhancementConfig::builder()
                    .channel(sdk::Channel::Voice)
                    .voice_enhancement_mode(sdk::VoiceEnhancementMode::NoiseSuppression)
                    .build()
                    .unwrap(),
            )
            .build();
        a.settings.channel_configs = lists_from_sdk(&u);
        let raw = properties_from_actual("inst-1", &a);
        assert!(raw["PhoneConfig"].get("AutoAccept").is_none(), "AutoAcceptConfigs carries it: {raw:?}");
        assert_eq!(raw["PhoneConfig"]["AfterContactWorkTimeLimit"], json!(45));
        let p = exported(&a);
        assert_eq!(crate::user::planner::diff(&p.settings, &a.settings, &Default::default()), vec![], "nothing to change on import");

        // Beside PhoneNumberConfigs PhoneConfig cannot stand at all; the lists carry the phone.
        let u = sdk::User::builder()
            .id("u1")
            .username("jdoe")
            .phone_number_configs(
                sdk::PhoneNumberConfig::builder()
                    .channel(sdk::Channel::Voice)
                    .phone_type(sdk::PhoneType::DeskPhone)
                    .phone_number("+14155550111")
                    .build()
                    .unwrap(),
            )
            .build();
        a.settings.channel_configs = lists_from_sdk(&u);
        let raw = properties_from_actual("inst-1", &a);
        assert!(raw.get("PhoneConfig").is_none());
        let p = exported(&a);
        assert_eq!(p.settings.phone_config, None);
        assert_eq!(crate::user::planner::diff(&p.settings, &a.settings, &Default::default()), vec![]);
    }

    #[test]
    fn all_five_per_channel_lists_survive_the_round_trip_through_the_sdk_shapes() {
        use crate::user::properties::channels::{Entry, ListKind};
        let configs: ChannelConfigs = BTreeMap::from([
            (
                ListKind::AutoAccept,
                BTreeMap::from([
                    ("CHAT".to_string(), Entry::AutoAccept { auto_accept: true, agent_first_callback: false }),
                    ("VOICE".to_string(), Entry::AutoAccept { auto_accept: false, agent_first_callback: true }),
                ]),
            ),
            (
                ListKind::AfterContactWork,
                BTreeMap::from([
                    ("VOICE".to_string(), Entry::AfterContactWork { limit: 30, agent_first_callback: 15 }),
                    ("TASK".to_string(), Entry::AfterContactWork { limit: 60, agent_first_callback: 0 }),
                ]),
            ),
            (
                ListKind::PhoneNumber,
                BTreeMap::from([(
                    "VOICE".to_string(),
                    Entry::PhoneNumber { phone_type: PhoneType::DeskPhone, number: Some("+14155550100".into()) },
                )]),
            ),
            (ListKind::PersistentConnection, BTreeMap::from([("VOICE".to_string(), Entry::PersistentConnection(true))])),
            (ListKind::VoiceEnhancement, BTreeMap::from([("VOICE".to_string(), Entry::VoiceEnhancement("VOICE_ISOLATION".into()))])),
        ]);
        let l = lists_to_sdk(&configs);
        let acw = l.after_contact_work.clone().unwrap();
        let voice = acw.iter().find(|c| c.channel() == &sdk::Channel::Voice).unwrap();
        assert_eq!(voice.agent_first_callback_after_contact_work_config().map(|c| c.after_contact_work_time_limit()), Some(15));
        let task = acw.iter().find(|c| c.channel() == &sdk::Channel::Task).unwrap();
        assert!(task.agent_first_callback_after_contact_work_config().is_none(), "0 is not sent");
        let u = sdk::User::builder()
            .id("u1")
            .username("jdoe")
            .set_auto_accept_configs(l.auto_accept)
            .set_after_contact_work_configs(l.after_contact_work)
            .set_phone_number_configs(l.phone_number)
            .set_persistent_connection_configs(l.persistent_connection)
            .set_voice_enhancement_configs(l.voice_enhancement)
            .build();
        assert_eq!(lists_from_sdk(&u), configs);
        // And exported as properties, they read back the same.
        let mut a = everything();
        a.settings.channel_configs = lists_from_sdk(&u);
        assert_eq!(exported(&a).settings.channel_configs, configs);
    }
}

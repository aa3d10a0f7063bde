//! Per-channel configuration lists and routing proficiencies: the parts of `AWS::Connect::User` beyond the
//! classic PhoneConfig. Values are normalised (absent optional members read as Connect's defaults) so that the
//! planner can compare them with what DescribeUser and ListUserProficiencies return.

use super::{Parser, PhoneType};
use crate::cfn::coerce;
use serde_json::Value;
use std::collections::BTreeMap;

pub const CHANNELS: [&str; 4] = ["VOICE", "CHAT", "TASK", "EMAIL"];
pub const VOICE_ENHANCEMENT_MODES: [&str; 3] = ["VOICE_ISOLATION", "NOISE_SUPPRESSION", "NONE"];

/// The five per-channel lists of CreateUser and UpdateUserConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ListKind {
    AutoAccept,
    AfterContactWork,
    PhoneNumber,
    PersistentConnection,
    VoiceEnhancement,
}

impl ListKind {
    pub const ALL: [ListKind; 5] = [
        ListKind::AutoAccept,
        ListKind::AfterContactWork,
        ListKind::PhoneNumber,
        ListKind::PersistentConnection,
        ListKind::VoiceEnhancement,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ListKind::AutoAccept => "AutoAcceptConfigs",
            ListKind::AfterContactWork => "AfterContactWorkConfigs",
            ListKind::PhoneNumber => "PhoneNumberConfigs",
            ListKind::PersistentConnection => "PersistentConnectionConfigs",
            ListKind::VoiceEnhancement => "VoiceEnhancementConfigs",
        }
    }

    /// The PhoneConfig members this list stands in for (CreateUser's documented conflicts).
    pub fn phone_fields(self) -> &'static [&'static str] {
        match self {
            ListKind::AutoAccept => &["AutoAccept"],
            ListKind::AfterContactWork => &["AfterContactWorkTimeLimit"],
            ListKind::PhoneNumber => &["PhoneType", "DeskPhoneNumber"],
            ListKind::PersistentConnection => &["PersistentConnection"],
            ListKind::VoiceEnhancement => &[],
        }
    }

    /// What a channel has when nobody set it; used when a list is removed from the template.
    pub fn default_entry(self) -> Entry {
        match self {
            ListKind::AutoAccept => Entry::AutoAccept { auto_accept: false, agent_first_callback: false },
            ListKind::AfterContactWork => Entry::AfterContactWork { limit: 0, agent_first_callback: 0 },
            ListKind::PhoneNumber => Entry::PhoneNumber { phone_type: PhoneType::SoftPhone, number: None },
            ListKind::PersistentConnection => Entry::PersistentConnection(false),
            ListKind::VoiceEnhancement => Entry::VoiceEnhancement("NONE".into()),
        }
    }
}

/// One channel's entry of one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    AutoAccept { auto_accept: bool, agent_first_callback: bool },
    AfterContactWork { limit: i32, agent_first_callback: i32 },
    PhoneNumber { phone_type: PhoneType, number: Option<String> },
    PersistentConnection(bool),
    VoiceEnhancement(String),
}

/// List kind -> channel -> entry. Only the lists the template gives are present.
pub type ChannelConfigs = BTreeMap<ListKind, BTreeMap<String, Entry>>;

/// (AttributeName, AttributeValue) -> level in hundredths (1.0..5.0 as 100..500), exact to compare.
pub type Proficiencies = BTreeMap<(String, String), u32>;

pub fn level_of(centi: u32) -> f32 {
    centi as f32 / 100.0
}

pub fn centi(level: f64) -> u32 {
    (level * 100.0).round() as u32
}

const AUTO_ACCEPT: &[super::Field] = &[("Channel", &[]), ("AutoAccept", &[]), ("AgentFirstCallbackAutoAccept", &[])];
const ACW: &[super::Field] = &[("Channel", &[]), ("AfterContactWorkConfig", &[]), ("AgentFirstCallbackAfterContactWorkConfig", &[])];
const ACW_INNER: &[super::Field] = &[("AfterContactWorkTimeLimit", &[])];
const PHONE_NUMBER: &[super::Field] = &[("Channel", &[]), ("PhoneType", &[]), ("PhoneNumber", &[])];
const PERSISTENT: &[super::Field] = &[("Channel", &[]), ("PersistentConnection", &[])];
const VOICE: &[super::Field] = &[("Channel", &[]), ("VoiceEnhancementMode", &[])];
const PROFICIENCY: &[super::Field] = &[("AttributeName", &[]), ("AttributeValue", &[]), ("Level", &[])];

fn acw_limit(p: &mut Parser, v: Option<&Value>, path: &str) -> Option<i32> {
    let o = p.object(v, path)?;
    let g = p.fields(o, ACW_INNER, &format!("{path}."));
    let path = format!("{path}.AfterContactWorkTimeLimit");
    match g.get("AfterContactWorkTimeLimit").map(|v| coerce::integer(v)) {
        None => {
            p.err(path, "required");
            None
        }
        Some(Ok(n)) if (0..=2_000_000).contains(&n) => Some(n as i32),
        Some(Ok(n)) => {
            p.err(path, format!("must be 0 to 2000000 seconds, got {n}"));
            None
        }
        Some(Err(e)) => {
            p.err(path, e.to_string());
            None
        }
    }
}

/// Parses one per-channel list: one entry per channel, each with its required members.
pub(super) fn parse_list(p: &mut Parser, kind: ListKind, v: &Value) -> BTreeMap<String, Entry> {
    let name = kind.name();
    let mut out = BTreeMap::new();
    let list = match coerce::list(v) {
        Ok(l) => l,
        Err(e) => {
            p.err(name, e.to_string());
            return out;
        }
    };
    for (i, item) in list.iter().enumerate() {
        let path = format!("{name}[{i}]");
        let Some(o) = p.object(Some(item), &path) else { continue };
        let fields = match kind {
            ListKind::AutoAccept => AUTO_ACCEPT,
            ListKind::AfterContactWork => ACW,
            ListKind::PhoneNumber => PHONE_NUMBER,
            ListKind::PersistentConnection => PERSISTENT,
            ListKind::VoiceEnhancement => VOICE,
        };
        let g = p.fields(o, fields, &format!("{path}."));
        let Some(channel) = p.required(g.get("Channel").copied(), &format!("{path}.Channel")) else { continue };
        if !CHANNELS.contains(&channel.as_str()) {
            p.err(
                format!("{path}.Channel"),
                format!("must be one of {}, got {}", CHANNELS.join(", "), coerce::show(&Value::from(channel.as_str()))),
            );
            continue;
        }
        let required_bool = |p: &mut Parser, key: &str| -> Option<bool> {
            match g.get(key) {
                None => {
                    p.err(format!("{path}.{key}"), "required");
                    None
                }
                Some(v) => p.boolean(Some(v), &format!("{path}.{key}")),
            }
        };
        let entry = match kind {
            ListKind::AutoAccept => {
                let auto_accept = required_bool(p, "AutoAccept");
                let first = p
                    .boolean(g.get("AgentFirstCallbackAutoAccept").copied(), &format!("{path}.AgentFirstCallbackAutoAccept"))
                    .unwrap_or(false);
                auto_accept.map(|a| Entry::AutoAccept { auto_accept: a, agent_first_callback: first })
            }
            ListKind::AfterContactWork => {
                let limit = match g.get("AfterContactWorkConfig").copied() {
                    None => {
                        p.err(format!("{path}.AfterContactWorkConfig"), "required");
                        None
                    }
                    some => acw_limit(p, some, &format!("{path}.AfterContactWorkConfig")),
                };
                let first = match g.get("AgentFirstCallbackAfterContactWorkConfig").copied() {
                    None => Some(0),
                    some => acw_limit(p, some, &format!("{path}.AgentFirstCallbackAfterContactWorkConfig")),
                };
                limit.zip(first).map(|(limit, agent_first_callback)| Entry::AfterContactWork { limit, agent_first_callback })
            }
            ListKind::PhoneNumber => {
                let phone_type = match p.required(g.get("PhoneType").copied(), &format!("{path}.PhoneType")).as_deref() {
                    Some("SOFT_PHONE") => Some(PhoneType::SoftPhone),
                    Some("DESK_PHONE") => Some(PhoneType::DeskPhone),
                    Some(other) => {
                        p.err(
                            format!("{path}.PhoneType"),
                            format!("must be SOFT_PHONE or DESK_PHONE, got {}", coerce::show(&Value::from(other))),
                        );
                        None
                    }
                    None => None,
                };
                let number = p.opt_string(g.get("PhoneNumber").copied(), &format!("{path}.PhoneNumber"));
                if number.as_ref().is_some_and(|n| !super::is_e164(n)) {
                    p.err(format!("{path}.PhoneNumber"), "must be an E.164 phone number like +14155550100");
                }
                if phone_type == Some(PhoneType::DeskPhone) && number.is_none() {
                    p.err(format!("{path}.PhoneNumber"), "required when PhoneType is DESK_PHONE");
                }
                phone_type.map(|phone_type| Entry::PhoneNumber { phone_type, number })
            }
            ListKind::PersistentConnection => required_bool(p, "PersistentConnection").map(Entry::PersistentConnection),
            ListKind::VoiceEnhancement => match p.required(g.get("VoiceEnhancementMode").copied(), &format!("{path}.VoiceEnhancementMode"))
            {
                Some(m) if VOICE_ENHANCEMENT_MODES.contains(&m.as_str()) => Some(Entry::VoiceEnhancement(m)),
                Some(m) => {
                    p.err(
                        format!("{path}.VoiceEnhancementMode"),
                        format!("must be one of {}, got {}", VOICE_ENHANCEMENT_MODES.join(", "), coerce::show(&Value::from(m))),
                    );
                    None
                }
                None => None,
            },
        };
        if out.contains_key(&channel) {
            p.err(format!("{path}.Channel"), format!("{channel} has more than one entry in {name}"));
            continue;
        }
        if let Some(e) = entry {
            out.insert(channel, e);
        }
    }
    out
}

pub(super) fn parse_proficiencies(p: &mut Parser, v: &Value) -> Proficiencies {
    let mut out = Proficiencies::new();
    let list = match coerce::list(v) {
        Ok(l) => l,
        Err(e) => {
            p.err("UserProficiencies", e.to_string());
            return out;
        }
    };
    for (i, item) in list.iter().enumerate() {
        let path = format!("UserProficiencies[{i}]");
        let Some(o) = p.object(Some(item), &path) else { continue };
        let g = p.fields(o, PROFICIENCY, &format!("{path}."));
        let name = p.required(g.get("AttributeName").copied(), &format!("{path}.AttributeName"));
        let value = p.required(g.get("AttributeValue").copied(), &format!("{path}.AttributeValue"));
        for (k, s) in [("AttributeName", &name), ("AttributeValue", &value)] {
            if s.as_ref().is_some_and(|s| s.chars().count() > 100) {
                p.err(format!("{path}.{k}"), "must be at most 100 characters");
            }
        }
        let level = match g.get("Level").map(|v| coerce::number(v)) {
            None => {
                p.err(format!("{path}.Level"), "required");
                None
            }
            Some(Ok(l)) if (1.0..=5.0).contains(&l) => Some(centi(l)),
            Some(Ok(l)) => {
                p.err(format!("{path}.Level"), format!("must be 1.0 to 5.0, got {l}"));
                None
            }
            Some(Err(e)) => {
                p.err(format!("{path}.Level"), e.to_string());
                None
            }
        };
        let (Some(name), Some(value), Some(level)) = (name, value, level) else { continue };
        let shown = format!("{}={}", crate::cfn::event::truncate(&name, 40), crate::cfn::event::truncate(&value, 40));
        if out.insert((name, value), level).is_some() {
            p.err(path, format!("{shown} is listed twice"));
        }
    }
    out
}

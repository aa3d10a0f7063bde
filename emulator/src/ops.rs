//! The Connect user operations, each validating like the service model and changing the world.

use crate::error::ApiError;
use crate::validate::{self as v, Obj};
use crate::world::{now_epoch, Instance, Proficiency, User, World, CHANNEL_CONFIG_LISTS};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// What a routed request carries: the URI labels (already percent-decoded), the query and the JSON body.
pub struct Req {
    pub labels: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Value,
}

impl Req {
    fn label(&self, i: usize) -> &str {
        self.labels.get(i).map(String::as_str).unwrap_or("")
    }
    fn body(&self) -> Result<&Obj, ApiError> {
        match &self.body {
            Value::Object(o) => Ok(o),
            _ => Err(ApiError::new("SerializationException", "Request body must be a JSON object")),
        }
    }
    fn query_all(&self, key: &str) -> Vec<&str> {
        self.query.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }
    fn query_int(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.query_all(key).first() {
            None => Ok(None),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::invalid_param(format!(
                    "1 validation error detected: Value '{s}' at '{key}' failed to satisfy constraint: Member must have value between {min} and {max}"
                ))),
            },
        }
    }
}

fn instance_id_len(raw: &str) -> Result<(), ApiError> {
    v::length(raw, "instanceId", 1, 100)
}

fn resolve_ref(w: &World, inst: &Instance, raw: &str, kind: &str, what: &str) -> Result<String, ApiError> {
    let known = match kind {
        "routing-profile" => &inst.fixture.routing_profiles,
        "security-profile" => &inst.fixture.security_profiles,
        _ => &inst.fixture.hierarchy_groups,
    };
    match w.child_id(inst, raw, kind) {
        Some(id) if known.contains_key(&id) => Ok(id),
        _ => Err(ApiError::not_found(format!("{what} not found: {raw}"))),
    }
}

fn security_profiles(w: &World, inst: &Instance, list: &[Value], path: &str) -> Result<Vec<String>, ApiError> {
    if list.is_empty() || list.len() > 10 {
        return Err(ApiError::invalid_param(format!(
            "1 validation error detected: Value at '{path}' failed to satisfy constraint: Member must have length between 1 and 10"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for item in list {
        let raw = item.as_str().ok_or_else(|| ApiError::invalid_param(format!("{path}: members must be strings")))?;
        let id = resolve_ref(w, inst, raw, "security-profile", "Security profile")?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn identity_info(o: &Obj, path: &str) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    if let Some(s) = v::opt_str(o, "FirstName", path)? {
        v::length(s, &format!("{path}FirstName"), 0, 255)?;
        out.insert("FirstName".into(), s.into());
    }
    if let Some(s) = v::opt_str(o, "LastName", path)? {
        v::length(s, &format!("{path}LastName"), 0, 300)?;
        out.insert("LastName".into(), s.into());
    }
    for key in ["Email", "SecondaryEmail"] {
        if let Some(s) = v::opt_str(o, key, path)? {
            v::email_address(s, &format!("{path}{key}"))?;
            out.insert(key.into(), s.into());
        }
    }
    if let Some(s) = v::opt_str(o, "Mobile", path)? {
        v::phone_number(s, &format!("{path}Mobile"))?;
        out.insert("Mobile".into(), s.into());
    }
    Ok(out)
}

/// A PhoneConfig as the service stores it: members not given take the service's defaults.
fn phone_config(o: &Obj, path: &str) -> Result<Map<String, Value>, ApiError> {
    let phone_type = v::opt_str(o, "PhoneType", path)?.unwrap_or("SOFT_PHONE");
    v::one_of(phone_type, &format!("{path}PhoneType"), &["SOFT_PHONE", "DESK_PHONE"])?;
    let auto_accept = v::opt_bool(o, "AutoAccept", path)?.unwrap_or(false);
    let acw = v::opt_int(o, "AfterContactWorkTimeLimit", path, 0)?.unwrap_or(0);
    let persistent = v::opt_bool(o, "PersistentConnection", path)?.unwrap_or(false);
    let desk = v::opt_str(o, "DeskPhoneNumber", path)?;
    if let Some(d) = desk {
        v::phone_number(d, &format!("{path}DeskPhoneNumber"))?;
    }
    if phone_type == "DESK_PHONE" && desk.is_none() {
        return Err(ApiError::invalid_request("DeskPhoneNumber is required when PhoneType is DESK_PHONE"));
    }
    let mut out = Map::new();
    out.insert("PhoneType".into(), phone_type.into());
    out.insert("AutoAccept".into(), auto_accept.into());
    out.insert("AfterContactWorkTimeLimit".into(), acw.into());
    if let Some(d) = desk {
        out.insert("DeskPhoneNumber".into(), d.into());
    }
    out.insert("PersistentConnection".into(), persistent.into());
    Ok(out)
}

fn default_phone_config() -> Map<String, Value> {
    phone_config(&Map::new(), "PhoneConfig.").unwrap_or_default()
}

const CHANNELS: [&str; 4] = ["VOICE", "CHAT", "TASK", "EMAIL"];

/// Validates one per-channel configuration list and returns it normalised (one entry per channel).
fn channel_list(name: &str, list: &[Value]) -> Result<Vec<Value>, ApiError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let path = format!("{name}.{}.", i + 1);
        let o = v::object(item, &path)?;
        let channel = v::req_str(o, "Channel", &path)?;
        v::one_of(channel, &format!("{path}Channel"), &CHANNELS)?;
        if !seen.insert(channel.to_string()) {
            return Err(ApiError::invalid_param(format!("{name}: more than one entry for channel {channel}")));
        }
        let mut e = Map::new();
        e.insert("Channel".into(), channel.into());
        match name {
            "AutoAcceptConfigs" => {
                e.insert("AutoAccept".into(), v::req_bool(o, "AutoAccept", &path)?.into());
                if let Some(b) = v::opt_bool(o, "AgentFirstCallbackAutoAccept", &path)? {
                    e.insert("AgentFirstCallbackAutoAccept".into(), b.into());
                }
            }
            "AfterContactWorkConfigs" => {
                for (key, required) in [("AfterContactWorkConfig", true), ("AgentFirstCallbackAfterContactWorkConfig", false)] {
                    let inner = if required { Some(v::req_obj(o, key, &path)?) } else { v::opt_obj(o, key, &path)? };
                    if let Some(inner) = inner {
                        let n = v::opt_int(inner, "AfterContactWorkTimeLimit", &format!("{path}{key}."), 0)?.unwrap_or(0);
                        e.insert(key.into(), json!({ "AfterContactWorkTimeLimit": n }));
                    }
                }
            }
            "PhoneNumberConfigs" => {
                let t = v::req_str(o, "PhoneType", &path)?;
                v::one_of(t, &format!("{path}PhoneType"), &["SOFT_PHONE", "DESK_PHONE"])?;
                e.insert("PhoneType".into(), t.into());
                let n = v::opt_str(o, "PhoneNumber", &path)?;
                if let Some(n) = n {
                    v::phone_number(n, &format!("{path}PhoneNumber"))?;
                    e.insert("PhoneNumber".into(), n.into());
                }
                if t == "DESK_PHONE" && n.is_none() {
                    return Err(ApiError::invalid_request(format!("{path}PhoneNumber is required when PhoneType is DESK_PHONE")));
                }
            }
            "PersistentConnectionConfigs" => {
                e.insert("PersistentConnection".into(), v::req_bool(o, "PersistentConnection", &path)?.into());
            }
            _ => {
                let m = v::req_str(o, "VoiceEnhancementMode", &path)?;
                v::one_of(m, &format!("{path}VoiceEnhancementMode"), &["VOICE_ISOLATION", "NOISE_SUPPRESSION", "NONE"])?;
                e.insert("VoiceEnhancementMode".into(), m.into());
            }
        }
        out.push(Value::Object(e));
    }
    Ok(out)
}

fn channel_configs(body: &Obj) -> Result<BTreeMap<String, Vec<Value>>, ApiError> {
    let mut out = BTreeMap::new();
    for name in CHANNEL_CONFIG_LISTS {
        if let Some(list) = v::opt_list(body, name, "")? {
            out.insert(name.to_string(), channel_list(name, list)?);
        }
    }
    Ok(out)
}

/// CreateUser's documented conflicts between PhoneConfig members and their per-channel counterparts.
fn phone_conflicts(phone: Option<&Obj>, lists: &BTreeMap<String, Vec<Value>>) -> Result<(), ApiError> {
    let Some(p) = phone else { return Ok(()) };
    let pairs = [
        ("AutoAccept", "AutoAcceptConfigs"),
        ("AfterContactWorkTimeLimit", "AfterContactWorkConfigs"),
        ("PhoneType", "PhoneNumberConfigs"),
        ("DeskPhoneNumber", "PhoneNumberConfigs"),
        ("PersistentConnection", "PersistentConnectionConfigs"),
    ];
    for (field, list) in pairs {
        if p.contains_key(field) && lists.contains_key(list) {
            return Err(ApiError::invalid_request(format!("PhoneConfig.{field} conflicts with {list}: set one or the other")));
        }
    }
    Ok(())
}

pub fn create_user(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    let raw_inst = r.label(0);
    instance_id_len(raw_inst)?;
    let b = r.body()?;
    let username = v::req_str(b, "Username", "")?;
    v::length(username, "username", 1, 100)?;
    let rp_raw = v::req_str(b, "RoutingProfileId", "")?;
    let sp_list = v::opt_list(b, "SecurityProfileIds", "")?.ok_or_else(|| {
        ApiError::invalid_param(
            "1 validation error detected: Value null at 'securityProfileIds' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let password = v::opt_str(b, "Password", "")?;
    if let Some(p) = password {
        if !v::password(p) {
            return Err(ApiError::invalid_param(
                "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: /^(?=.*[a-z])(?=.*[A-Z])(?=.*\\d)[a-zA-Z\\d\\S]{8,64}$/",
            ));
        }
    }
    let identity = match v::opt_obj(b, "IdentityInfo", "")? {
        Some(o) => identity_info(o, "IdentityInfo.")?,
        None => Map::new(),
    };
    let phone_in = v::opt_obj(b, "PhoneConfig", "")?;
    let phone = match phone_in {
        Some(o) => phone_config(o, "PhoneConfig.")?,
        None => default_phone_config(),
    };
    let lists = channel_configs(b)?;
    phone_conflicts(phone_in, &lists)?;
    let tags = match b.get("Tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(t) => v::tag_map(t, "tags")?,
    };
    let directory_user_id = v::opt_str(b, "DirectoryUserId", "")?.map(str::to_string);

    let inst = w.instance(raw_inst)?.clone();
    match (inst.fixture.identity_management_type.as_str(), password) {
        ("CONNECT_MANAGED", None) => {
            return Err(ApiError::invalid_request("Password is required for instances with CONNECT_MANAGED identity management"));
        }
        ("SAML", Some(_)) => {
            return Err(ApiError::invalid_request("Password is not allowed for instances with SAML identity management"));
        }
        _ => {}
    }
    let routing_profile_id = resolve_ref(w, &inst, rp_raw, "routing-profile", "Routing profile")?;
    let security_profile_ids = security_profiles(w, &inst, sp_list, "securityProfileIds")?;
    let hierarchy_group_id = match v::opt_str(b, "HierarchyGroupId", "")? {
        Some(h) => Some(resolve_ref(w, &inst, h, "agent-group", "Hierarchy group")?),
        None => None,
    };
    let in_instance: Vec<&User> = w.users.values().filter(|u| u.instance_id == inst.fixture.id).collect();
    if in_instance.iter().any(|u| u.username == username) {
        return Err(ApiError::new("DuplicateResourceException", format!("User with username {username} already exists")));
    }
    if in_instance.len() >= inst.fixture.user_limit {
        return Err(ApiError::new("LimitExceededException", "The allowed limit for the resource has been exceeded"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let arn = w.user_arn(&inst, &id);
    let user = User {
        id: id.clone(),
        arn: arn.clone(),
        instance_id: inst.fixture.id.clone(),
        username: username.to_string(),
        password: password.map(str::to_string),
        directory_user_id,
        identity_info: identity,
        phone_config: phone,
        security_profile_ids,
        routing_profile_id,
        hierarchy_group_id,
        tags: tags.into_iter().collect(),
        channel_configs: lists,
        proficiencies: Vec::new(),
        created: Instant::now(),
        last_modified: now_epoch(),
    };
    w.users.insert(id.clone(), user);
    w.user_order.push(id.clone());
    Ok(json!({ "UserId": id, "UserArn": arn }))
}

/// Seeds a fixture user (an agent the instance had before any stack): the CreateUser request body, validated
/// as CreateUser validates it, plus its fixed `Id` and its `UserProficiencies`. It exists from the start, so
/// the consistency delay does not apply to it.
pub fn seed_user(w: &mut World, instance_id: &str, spec: &Value) -> Result<(), ApiError> {
    let mut body = spec.clone();
    let (id, proficiencies) = match body.as_object_mut() {
        Some(o) => (o.remove("Id"), o.remove("UserProficiencies")),
        None => return Err(ApiError::invalid_param("a fixture user must be an object")),
    };
    let id = id.and_then(|v| v.as_str().map(str::to_string)).ok_or_else(|| ApiError::invalid_param("a fixture user needs an Id"))?;
    let out = create_user(w, &Req { labels: vec![instance_id.to_string()], query: vec![], body })?;
    let made = out["UserId"].as_str().unwrap_or_default().to_string();
    let Some(mut user) = w.users.remove(&made) else { return Err(ApiError::invalid_param("seeded user vanished")) };
    let inst = w.instance(instance_id)?.clone();
    if let Some(list) = proficiencies {
        let body = json!({ "UserProficiencies": list });
        let req = Req { labels: vec![], query: vec![], body };
        user.proficiencies = proficiency_list(&inst, req.body()?, true)?;
    }
    user.arn = w.user_arn(&inst, &id);
    user.id = id.clone();
    user.created = Instant::now().checked_sub(std::time::Duration::from_secs(86_400)).unwrap_or(user.created);
    w.users.insert(id.clone(), user);
    for o in w.user_order.iter_mut().filter(|o| **o == made) {
        *o = id.clone();
    }
    Ok(())
}

pub fn describe_user(w: &mut World, r: &Req, consistency_ms: u64) -> Result<Value, ApiError> {
    instance_id_len(r.label(0))?;
    let u = w.user_mut(r.label(0), r.label(1))?;
    if u.created.elapsed().as_millis() < u128::from(consistency_ms) {
        return Err(ApiError::not_found(format!("User not found for UserId: {}", r.label(1))));
    }
    Ok(json!({ "User": u.describe() }))
}

pub fn delete_user(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    instance_id_len(r.label(0))?;
    let id = w.user_mut(r.label(0), r.label(1))?.id.clone();
    w.users.remove(&id);
    w.user_order.retain(|x| x != &id);
    Ok(json!({}))
}

/// Shared preamble of the update operations: find the user, then apply `f` and stamp the modification time.
fn update<F>(w: &mut World, r: &Req, f: F) -> Result<Value, ApiError>
where
    F: FnOnce(&World, &Instance, &User, &Obj) -> Result<Box<dyn FnOnce(&mut User)>, ApiError>,
{
    instance_id_len(r.label(0))?;
    let b = r.body()?.clone();
    let inst = w.instance(r.label(0))?.clone();
    let current = w.user_mut(r.label(0), r.label(1))?.clone();
    let apply = f(w, &inst, &current, &b)?;
    let u = w.user_mut(r.label(0), r.label(1))?;
    apply(u);
    u.last_modified = now_epoch();
    Ok(json!({}))
}

pub fn update_identity_info(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |_, _, _, b| {
        let info = identity_info(v::req_obj(b, "IdentityInfo", "")?, "IdentityInfo.")?;
        Ok(Box::new(move |u: &mut User| u.identity_info = info))
    })
}

pub fn update_phone_config(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |_, _, _, b| {
        let pc = phone_config(v::req_obj(b, "PhoneConfig", "")?, "PhoneConfig.")?;
        Ok(Box::new(move |u: &mut User| u.phone_config = pc))
    })
}

pub fn update_config(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |_, _, _, b| {
        let lists = channel_configs(b)?;
        // Entries replace those of the same channel; other channels keep theirs.
        Ok(Box::new(move |u: &mut User| {
            for (k, list) in lists {
                let current = u.channel_configs.entry(k).or_default();
                for entry in list {
                    current.retain(|e| e.get("Channel") != entry.get("Channel"));
                    current.push(entry);
                }
                current.sort_by(|a, b| a.get("Channel").and_then(Value::as_str).cmp(&b.get("Channel").and_then(Value::as_str)));
            }
        }))
    })
}

pub fn update_routing_profile(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |w, inst, _, b| {
        let id = resolve_ref(w, inst, v::req_str(b, "RoutingProfileId", "")?, "routing-profile", "Routing profile")?;
        Ok(Box::new(move |u: &mut User| u.routing_profile_id = id))
    })
}

pub fn update_security_profiles(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |w, inst, _, b| {
        let list = v::opt_list(b, "SecurityProfileIds", "")?.ok_or_else(|| {
            ApiError::invalid_param(
                "1 validation error detected: Value null at 'securityProfileIds' failed to satisfy constraint: Member must not be null",
            )
        })?;
        let ids = security_profiles(w, inst, list, "securityProfileIds")?;
        Ok(Box::new(move |u: &mut User| u.security_profile_ids = ids))
    })
}

pub fn update_hierarchy(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |w, inst, _, b| {
        let id = match v::opt_str(b, "HierarchyGroupId", "")? {
            Some(h) => Some(resolve_ref(w, inst, h, "agent-group", "Hierarchy group")?),
            None => None,
        };
        Ok(Box::new(move |u: &mut User| u.hierarchy_group_id = id))
    })
}

fn proficiency_list(inst: &Instance, b: &Obj, with_level: bool) -> Result<Vec<Proficiency>, ApiError> {
    let list = v::opt_list(b, "UserProficiencies", "")?.ok_or_else(|| {
        ApiError::invalid_param(
            "1 validation error detected: Value null at 'userProficiencies' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let mut out: Vec<Proficiency> = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let path = format!("userProficiencies.{}.", i + 1);
        let o = v::object(item, &path)?;
        let name = v::req_str(o, "AttributeName", &path)?;
        v::length(name, &format!("{path}attributeName"), 1, 100)?;
        let value = v::req_str(o, "AttributeValue", &path)?;
        v::length(value, &format!("{path}attributeValue"), 1, 100)?;
        let level = if with_level {
            let l = o.get("Level").and_then(Value::as_f64).ok_or_else(|| {
                ApiError::invalid_param(format!(
                    "1 validation error detected: Value null at '{path}level' failed to satisfy constraint: Member must not be null"
                ))
            })?;
            if !(1.0..=5.0).contains(&l) {
                return Err(ApiError::invalid_param(format!(
                    "1 validation error detected: Value '{l}' at '{path}level' failed to satisfy constraint: Member must have value between 1.0 and 5.0"
                )));
            }
            l
        } else {
            0.0
        };
        let known = inst.fixture.predefined_attributes.get(name).is_some_and(|vals| vals.iter().any(|x| x == value));
        if !known {
            return Err(ApiError::not_found(format!("Predefined attribute {name} with value {value} not found")));
        }
        if out.iter().any(|p| p.name == name && p.value == value) {
            return Err(ApiError::invalid_request(format!("Duplicate proficiency {name}={value} in request")));
        }
        out.push(Proficiency { name: name.into(), value: value.into(), level });
    }
    Ok(out)
}

pub fn associate_proficiencies(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |_, inst, cur, b| {
        let add = proficiency_list(inst, b, true)?;
        let existing = &cur.proficiencies;
        if let Some(p) = add.iter().find(|p| existing.iter().any(|e| e.name == p.name && e.value == p.value)) {
            return Err(ApiError::invalid_request(format!("Proficiency {}={} is already associated", p.name, p.value)));
        }
        Ok(Box::new(move |u: &mut User| u.proficiencies.extend(add)))
    })
}

pub fn update_proficiencies(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |_, inst, cur, b| {
        let upd = proficiency_list(inst, b, true)?;
        let existing = &cur.proficiencies;
        if let Some(p) = upd.iter().find(|p| !existing.iter().any(|e| e.name == p.name && e.value == p.value)) {
            return Err(ApiError::invalid_request(format!("Proficiency {}={} is not associated with the user", p.name, p.value)));
        }
        Ok(Box::new(move |u: &mut User| {
            for p in upd {
                if let Some(e) = u.proficiencies.iter_mut().find(|e| e.name == p.name && e.value == p.value) {
                    e.level = p.level;
                }
            }
        }))
    })
}

pub fn disassociate_proficiencies(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    update(w, r, |_, inst, _, b| {
        let del = proficiency_list(inst, b, false)?;
        Ok(Box::new(move |u: &mut User| u.proficiencies.retain(|e| !del.iter().any(|d| d.name == e.name && d.value == e.value))))
    })
}

fn page(w: &World, r: &Req, len: usize, max: i64, default: i64) -> Result<(usize, usize, Option<String>), ApiError> {
    let max_results = r.query_int("maxResults", 1, max)?.unwrap_or(default) as usize;
    let max_results = w.page_size.map_or(max_results, |p| max_results.min(p.max(1)));
    let start = match r.query_all("nextToken").first() {
        Some(t) => t.parse::<usize>().map_err(|_| ApiError::invalid_param("Invalid NextToken"))?,
        None => 0,
    };
    let end = (start + max_results).min(len);
    let next = (end < len).then(|| end.to_string());
    Ok((start.min(len), end, next))
}

pub fn list_user_proficiencies(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    instance_id_len(r.label(0))?;
    let u = w.user_mut(r.label(0), r.label(1))?.clone();
    let (start, end, next) = page(w, r, u.proficiencies.len(), 100, 100)?;
    let mut out = json!({
        "UserProficiencyList": u.proficiencies[start..end],
        "LastModifiedTime": u.last_modified,
        "LastModifiedRegion": "us-east-1",
    });
    if let (Some(n), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), n.into());
    }
    Ok(out)
}

pub fn list_users(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    instance_id_len(r.label(0))?;
    let inst = w.instance(r.label(0))?.fixture.id.clone();
    let users: Vec<&User> = w.user_order.iter().filter_map(|id| w.users.get(id)).filter(|u| u.instance_id == inst).collect();
    let (start, end, next) = page(w, r, users.len(), 1000, 100)?;
    let list: Vec<Value> = users[start..end]
        .iter()
        .map(|u| json!({"Id": u.id, "Arn": u.arn, "Username": u.username, "LastModifiedTime": u.last_modified, "LastModifiedRegion": "us-east-1"}))
        .collect();
    let mut out = json!({ "UserSummaryList": list });
    if let (Some(n), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), n.into());
    }
    Ok(out)
}

/// ListRoutingProfiles, ListSecurityProfiles, ListUserHierarchyGroups: the fixture's names, paged (1..1000, 100 by
/// default), each with its id and ARN.
pub fn list_named(w: &mut World, r: &Req, kind: &str, list_key: &str) -> Result<Value, ApiError> {
    instance_id_len(r.label(0))?;
    let inst = w.instance(r.label(0))?;
    let named = match kind {
        "routing-profile" => &inst.fixture.routing_profiles,
        "security-profile" => &inst.fixture.security_profiles,
        _ => &inst.fixture.hierarchy_groups,
    };
    let (start, end, next) = page(w, r, named.len(), 1000, 100)?;
    let list: Vec<Value> = named
        .iter()
        .skip(start)
        .take(end - start)
        .map(|(id, name)| json!({"Id": id, "Arn": format!("{}/{kind}/{id}", inst.arn), "Name": name, "LastModifiedTime": 1.7e9, "LastModifiedRegion": "us-east-1"}))
        .collect();
    let mut out = Map::new();
    out.insert(list_key.into(), Value::Array(list));
    if let Some(n) = next {
        out.insert("NextToken".into(), n.into());
    }
    Ok(Value::Object(out))
}

/// DescribeUserHierarchyGroup: the group, its level, and its path from level one (`HierarchyPath.LevelOne`..).
pub fn describe_hierarchy_group(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    instance_id_len(r.label(0))?;
    let inst = w.instance(r.label(0))?;
    let id = w.child_id(inst, r.label(1), "agent-group").unwrap_or_default();
    let not_found = || ApiError::not_found(format!("Hierarchy group not found: {}", r.label(1)));
    let path = inst.fixture.hierarchy_path(&id).ok_or_else(not_found)?;
    let summary = |gid: &str| json!({"Id": gid, "Arn": format!("{}/agent-group/{gid}", inst.arn), "Name": inst.fixture.hierarchy_groups.get(gid).cloned().unwrap_or_default()});
    let mut levels = Map::new();
    for (name, gid) in ["LevelOne", "LevelTwo", "LevelThree", "LevelFour", "LevelFive"].iter().zip(&path) {
        levels.insert((*name).into(), summary(gid));
    }
    let mut group = summary(&id);
    if let Some(o) = group.as_object_mut() {
        o.insert("LevelId".into(), path.len().to_string().into());
        o.insert("HierarchyPath".into(), Value::Object(levels));
    }
    Ok(json!({ "HierarchyGroup": group }))
}

/// The instance's settings that user operations depend on (its identity management type decides whether
/// CreateUser needs a password or refuses one).
pub fn describe_instance(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    instance_id_len(r.label(0))?;
    let inst = w.instance(r.label(0))?;
    let mut instance = json!({
        "Id": inst.fixture.id,
        "Arn": inst.arn,
        "IdentityManagementType": inst.fixture.identity_management_type,
        "InstanceStatus": "ACTIVE",
        "InboundCallsEnabled": true,
        "OutboundCallsEnabled": true,
    });
    if let (Some(o), false) = (instance.as_object_mut(), inst.fixture.alias.is_empty()) {
        o.insert("InstanceAlias".into(), inst.fixture.alias.clone().into());
    }
    Ok(json!({ "Instance": instance }))
}

fn field_of(u: &User, field: &str) -> Option<String> {
    match field {
        "Username" | "username" => Some(u.username.clone()),
        "FirstName" | "firstName" => u.identity_info.get("FirstName").and_then(Value::as_str).map(str::to_string),
        "LastName" | "lastName" => u.identity_info.get("LastName").and_then(Value::as_str).map(str::to_string),
        "ResourceId" | "resourceId" => Some(u.id.clone()),
        _ => None,
    }
}

fn matches(u: &User, c: &Obj) -> Result<bool, ApiError> {
    if let Some(list) = v::opt_list(c, "AndConditions", "")? {
        for item in list {
            if !matches(u, v::object(item, "AndConditions")?)? {
                return Ok(false);
            }
        }
    }
    if let Some(list) = v::opt_list(c, "OrConditions", "")? {
        let mut any = false;
        for item in list {
            any |= matches(u, v::object(item, "OrConditions")?)?;
        }
        if !any {
            return Ok(false);
        }
    }
    if let Some(s) = v::opt_obj(c, "StringCondition", "")? {
        let field = v::opt_str(s, "FieldName", "")?.unwrap_or("");
        let value = v::opt_str(s, "Value", "")?.unwrap_or("");
        let cmp = v::opt_str(s, "ComparisonType", "")?.unwrap_or("EXACT");
        v::one_of(cmp, "SearchCriteria.StringCondition.ComparisonType", &["STARTS_WITH", "CONTAINS", "EXACT"])?;
        let Some(actual) = field_of(u, field) else {
            return Err(ApiError::invalid_param(format!("Unsupported FieldName: {field}")));
        };
        let ok = match cmp {
            "EXACT" => actual == value,
            "STARTS_WITH" => actual.starts_with(value),
            _ => actual.contains(value),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One `TagCondition` (`TagKey`, `TagValue`; a missing value matches any value of the key).
fn tag_matches(u: &User, c: &Obj, path: &str) -> Result<bool, ApiError> {
    let key = v::opt_str(c, "TagKey", path)?.unwrap_or("");
    let value = v::opt_str(c, "TagValue", path)?;
    Ok(match (u.tags.get(key), value) {
        (Some(have), Some(want)) => have == want,
        (Some(_), None) => true,
        (None, _) => false,
    })
}

/// `SearchFilter.TagFilter`: OrConditions (a list of AND lists), AndConditions, or one TagCondition.
fn tag_filter_matches(u: &User, f: &Obj) -> Result<bool, ApiError> {
    const P: &str = "SearchFilter.TagFilter";
    if let Some(or) = v::opt_list(f, "OrConditions", P)? {
        let mut any = false;
        for group in or {
            let Value::Array(group) = group else {
                return Err(ApiError::invalid_param(format!("{P}.OrConditions must be a list of lists")));
            };
            let mut all = true;
            for c in group {
                all &= tag_matches(u, v::object(c, P)?, P)?;
            }
            any |= all;
        }
        return Ok(any);
    }
    if let Some(and) = v::opt_list(f, "AndConditions", P)? {
        for c in and {
            if !tag_matches(u, v::object(c, P)?, P)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    match v::opt_obj(f, "TagCondition", P)? {
        Some(c) => tag_matches(u, c, P),
        None => Ok(true),
    }
}

pub fn search_users(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    let b = r.body()?;
    let raw_inst = v::req_str(b, "InstanceId", "")?;
    instance_id_len(raw_inst)?;
    let inst = w.instance(raw_inst)?.fixture.id.clone();
    let max = match b.get("MaxResults") {
        None | Some(Value::Null) => 100,
        Some(n) => match n.as_i64() {
            Some(n) if (1..=100).contains(&n) => n as usize,
            _ => return Err(ApiError::invalid_param(
                "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100",
            )),
        },
    };
    let criteria = v::opt_obj(b, "SearchCriteria", "")?;
    let filter = v::opt_obj(b, "SearchFilter", "")?;
    let tag_filter = match filter {
        Some(f) => {
            if f.contains_key("UserAttributeFilter") && f.contains_key("TagFilter") {
                return Err(ApiError::invalid_param("SearchFilter: TagFilter and UserAttributeFilter cannot be used together"));
            }
            v::opt_obj(f, "TagFilter", "SearchFilter")?
        }
        None => None,
    };
    let mut hits = Vec::new();
    for id in &w.user_order {
        let Some(u) = w.users.get(id) else { continue };
        if u.instance_id != inst {
            continue;
        }
        if let Some(c) = criteria {
            if !matches(u, c)? {
                continue;
            }
        }
        if let Some(f) = tag_filter {
            if !tag_filter_matches(u, f)? {
                continue;
            }
        }
        hits.push(u);
    }
    let start = match v::opt_str(b, "NextToken", "")? {
        Some(t) => t.parse::<usize>().map_err(|_| ApiError::invalid_param("Invalid NextToken"))?,
        None => 0,
    };
    let total = hits.len();
    let end = (start + w.page_size.map_or(max, |p| max.min(p.max(1)))).min(total);
    let users: Vec<Value> = hits[start.min(total)..end]
        .iter()
        .map(|u| {
            let mut d = u.describe();
            if let Some(o) = d.as_object_mut() {
                o.remove("LastModifiedTime");
                o.remove("LastModifiedRegion");
                let info = json!({
                    "FirstName": u.identity_info.get("FirstName").cloned().unwrap_or(Value::Null),
                    "LastName": u.identity_info.get("LastName").cloned().unwrap_or(Value::Null),
                });
                o.insert("IdentityInfo".into(), info);
                // SearchUsers answers the after-contact-work limit in milliseconds (DescribeUser in seconds).
                if let Some(Value::Object(pc)) = o.get_mut("PhoneConfig") {
                    if let Some(n) = pc.get("AfterContactWorkTimeLimit").and_then(Value::as_i64) {
                        pc.insert("AfterContactWorkTimeLimit".into(), (n * 1000).into());
                    }
                }
            }
            d
        })
        .collect();
    let mut out = json!({ "Users": users, "ApproximateTotalCount": total });
    if end < total {
        if let Some(o) = out.as_object_mut() {
            o.insert("NextToken".into(), end.to_string().into());
        }
    }
    Ok(out)
}

fn tagged<'a>(w: &'a mut World, arn: &str) -> Result<&'a mut User, ApiError> {
    w.user_by_arn(arn).ok_or_else(|| ApiError::not_found(format!("Resource not found: {arn}")))
}

pub fn tag_resource(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    let b = r.body()?;
    let tags = v::tag_map(b.get("tags").unwrap_or(&Value::Null), "tags")?;
    let u = tagged(w, r.label(0))?;
    if u.tags.len() + tags.iter().filter(|(k, _)| !u.tags.contains_key(k)).count() > 50 {
        return Err(ApiError::invalid_request("A resource can have at most 50 tags"));
    }
    u.tags.extend(tags);
    Ok(json!({}))
}

pub fn untag_resource(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    let keys: Vec<String> = r.query_all("tagKeys").into_iter().map(str::to_string).collect();
    if keys.is_empty() || keys.len() > 50 {
        return Err(ApiError::invalid_param(
            "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length between 1 and 50",
        ));
    }
    for k in &keys {
        v::tag_key_ok(k, "tagKeys")?;
    }
    let u = tagged(w, r.label(0))?;
    for k in keys {
        u.tags.remove(&k);
    }
    Ok(json!({}))
}

pub fn list_tags(w: &mut World, r: &Req) -> Result<Value, ApiError> {
    let u = tagged(w, r.label(0))?;
    Ok(json!({ "tags": u.tags }))
}

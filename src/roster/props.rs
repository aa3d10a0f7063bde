//! The set's properties. Each entry of `Users` is a `Custom::ConnectUser` without `InstanceId`, with `Defaults`
//! merged under it, and is parsed by the single user's own parser, so names, aliases, rules and messages are the
//! same (prefixed `Users[12].`).

use super::source::Origin;
use crate::cfn::coerce;
use crate::connect::ownership;
use crate::connect::pace::Quota;
use crate::user::ids;
use crate::user::properties::{self, Field, Immutable, Parser, Proficiencies, PropertyError, PropertyErrors, UserProps, MAX_USER_TAGS};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// The resource type this module serves.
pub const TYPE: &str = "Custom::ConnectUserSet";

/// A set's entries carry one reserved tag more than a single user (the digest of the entry last applied).
pub const MAX_ENTRY_TAGS: usize = MAX_USER_TAGS - 1;

/// Top-level properties of a set (names and aliases, read by the user's own [`Parser`]).
const FIELDS: &[Field] = &[
    ("InstanceId", &["InstanceArn"]),
    ("Users", &[]),
    ("Source", &[]),
    ("SourceVersion", &[]),
    ("SourceFormat", &[]),
    ("Defaults", &[]),
    ("PasswordSecretId", &[]),
    ("PasswordSecretKey", &[]),
    ("RequestsPerSecond", &[]),
    ("Burst", &[]),
    ("MaxDeletions", &[]),
    ("Report", &[]),
];

/// The property naming where a set's run reports go (its rest is in `report`).
pub const REPORT: &str = "Report";

/// Where the reports go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: String,
    /// Written as given: `reports/` puts each stack in a folder of `reports/`; `reports` makes `reportsStack/...`.
    pub prefix: String,
}

/// `Report`, when given (`s3://bucket` or `s3://bucket/prefix`).
pub fn report_target(props: &Map<String, Value>) -> Result<Option<Target>, String> {
    let Some(v) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case(REPORT)).map(|(_, v)| v) else { return Ok(None) };
    let Some(s) = v.as_str() else { return Err(format!("{REPORT}: must be s3://bucket/prefix, got {v}")) };
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let shown = crate::cfn::event::truncate(s, 100);
    let Some(rest) = s.strip_prefix("s3://") else { return Err(format!("{REPORT}: must be s3://bucket/prefix, got {shown:?}")) };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-']);
    if !bucket_ok {
        return Err(format!("{REPORT}: {bucket:?} is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)"));
    }
    if prefix.len() > 512 {
        return Err(format!("{REPORT}: the prefix may have at most 512 characters"));
    }
    Ok(Some(Target { bucket: bucket.to_string(), prefix: prefix.to_string() }))
}

/// A numeric property's accepted range and the value it takes when not given.
pub struct Bounds<T> {
    pub min: f64,
    pub max: f64,
    pub default: T,
}

impl<T> Bounds<T> {
    pub fn contains(&self, x: f64) -> bool {
        (self.min..=self.max).contains(&x)
    }
}

/// `RequestsPerSecond`: by default Connect's default quota.
pub const RATE: Bounds<f64> = Bounds { min: 0.1, max: 1000.0, default: Quota::DEFAULT.rate };
/// `Burst`: by default Connect's default quota.
pub const BURST: Bounds<u32> = Bounds { min: 1.0, max: 1000.0, default: Quota::DEFAULT.burst };

/// Properties that differ per user and have no place in `Defaults`.
const PER_USER: [&str; 6] = ["Name", "ImportId", "DirectoryUserId", "Password", "PasswordSecretId", "PasswordSecretKey"];

/// One entry of the roster, validated. Only what the plan needs is kept (not the entry's JSON): a roster of
/// 10,000 entries must fit a 128 MB function.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Where it was given (`Users[12]`, or a row of the Source), for messages.
    pub origin: Origin,
    pub props: UserProps,
    /// The digest of the settings a page of SearchUsers does not show ([`hidden_digest`]), tagged on the users
    /// the set writes, so that a later read knows them without a call.
    pub digest: String,
    /// What the single user's planner reads of the properties as given.
    pub immutable: Immutable,
    /// A digest of the merged entry as given, to leave out the previous entries that are the same.
    pub given: u64,
}

impl Entry {
    /// The entry for messages: `Users[12] (ana)`, `row 14 (ana)`.
    pub fn what(&self) -> String {
        format!("{} ({})", self.origin.label(), self.props.name)
    }
}

/// The settings a page of SearchUsers does not show.
#[derive(Debug, Clone, PartialEq)]
pub struct Hidden {
    pub email: Option<String>,
    pub secondary_email: Option<String>,
    pub mobile: Option<String>,
    /// `None` when the entry leaves them alone.
    pub proficiencies: Option<Proficiencies>,
}

impl Hidden {
    pub fn of(p: &UserProps) -> Hidden {
        let i = &p.settings.identity_info;
        Hidden {
            email: i.email.clone(),
            secondary_email: i.secondary_email.clone(),
            mobile: i.mobile.clone(),
            proficiencies: p.settings.proficiencies.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetProps {
    pub instance_id: String,
    pub entries: Vec<Entry>,
    /// Secrets Manager secret whose JSON maps Name to password (under `PasswordSecretKey` if given).
    pub password_secret: Option<(String, Option<String>)>,
    pub requests_per_second: f64,
    pub burst: u32,
    /// `MaxDeletions`: how many users an Update may take out of the roster (`None`: no limit, given as -1);
    /// not given: the default of [`max_deletions`].
    pub max_deletions: Option<Option<u64>>,
    /// `Report`: where each event's run report is written.
    pub report: Option<Target>,
}

/// How many users an Update may take out of a set holding `held` users: `MaxDeletions` when given (`None`: no
/// limit), else a tenth of them, at least 10.
pub fn max_deletions(given: Option<Option<u64>>, held: usize) -> Option<u64> {
    given.unwrap_or(Some((held as u64 / 10).max(10)))
}

impl SetProps {
    /// The entry of a name.
    pub fn by_name(&self) -> HashMap<&str, &Entry> {
        self.entries.iter().map(|e| (e.props.name.as_str(), e)).collect()
    }
}

/// An entry of the previous properties (an Update's), read leniently: the rollback of a failed Update carries
/// properties that may not be valid.
#[derive(Debug, Clone, PartialEq)]
pub struct OldEntry {
    /// [`hidden_digest`] of the entry and those settings, when it parses.
    pub digest: Option<String>,
    pub hidden: Option<Hidden>,
    pub immutable: Immutable,
    pub import_given: bool,
}

fn err(errors: &mut Vec<PropertyError>, path: impl Into<String>, message: impl Into<String>) {
    errors.push(PropertyError { path: path.into(), message: message.into() });
}

/// A digest of a merged entry (FNV-1a over its JSON).
fn given_digest(raw: &Map<String, Value>) -> u64 {
    crate::digest::fnv1a(serde_json::to_vec(raw).unwrap_or_default())
}

/// The digest of what a page of SearchUsers does not show of a user: Email, SecondaryEmail, Mobile and the
/// proficiencies (or that the entry leaves them alone). Entries that differ only in what a page shows have the
/// same digest, so changing those needs no record.
pub fn hidden_digest(h: &Hidden) -> String {
    let proficiencies: Option<Vec<(&String, &String, u32)>> =
        h.proficiencies.as_ref().map(|m| m.iter().map(|((n, v), l)| (n, v, *l)).collect());
    let text = serde_json::to_string(&(&h.email, &h.secondary_email, &h.mobile, proficiencies)).unwrap_or_default();
    ownership::marker_value(&text, "", "")
}

/// The entry with `Defaults` merged under it and every key under its canonical name. Keys that are not user
/// properties are kept as given, for the parser to name.
fn merge(entry: &Map<String, Value>, defaults: Option<&Map<String, Value>>, instance: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in entry {
        out.insert(properties::canonical(k).map(str::to_string).unwrap_or_else(|| k.clone()), v.clone());
    }
    for (k, v) in defaults.into_iter().flatten() {
        let key = properties::canonical(k).map(str::to_string).unwrap_or_else(|| k.clone());
        out.entry(key).or_insert_with(|| v.clone());
    }
    out.insert("InstanceId".into(), instance.clone());
    out
}

/// Where a property of the wrong resource type belongs, for the refusal.
fn wrong_type(key: &str) -> Option<String> {
    let canon = properties::canonical(key)?;
    Some(if PER_USER.contains(&canon) {
        "is a property of one user: give it in each entry of Users (or use Type: Custom::ConnectUser for a single user)".to_string()
    } else {
        "is a property of one user: give it in Defaults (for every entry) or in an entry of Users (or use Type: Custom::ConnectUser for a single user)".to_string()
    })
}

impl SetProps {
    /// The set's instance id, when `InstanceId` is valid.
    pub fn instance_of(props: &Map<String, Value>) -> Result<String, String> {
        let v = props.iter().find(|(k, _)| k.eq_ignore_ascii_case("InstanceId") || k.eq_ignore_ascii_case("InstanceArn")).map(|(_, v)| v);
        let raw = coerce::string(v.ok_or_else(|| "required".to_string())?).map_err(|e| e.to_string())?;
        ids::instance_id(&raw)
    }

    /// A set whose entries are all in `Users`.
    pub fn parse(props: &Map<String, Value>) -> Result<SetProps, PropertyErrors> {
        SetProps::parse_with(props, 0, &mut |_| {})
    }

    /// A set whose entries are those `sourced` hands over (read from its `Source`, about `count` of them), then
    /// those of `Users`, if any. Each entry is parsed as it comes, so that a file's 20,000 rows are never all
    /// held as JSON objects at once (as objects they weigh several times the parsed entries).
    pub fn parse_with(
        props: &Map<String, Value>,
        count: usize,
        sourced: &mut dyn FnMut(&mut super::source::Each),
    ) -> Result<SetProps, PropertyErrors> {
        let mut p = Parser::new();
        let f = p.fields_with(props, FIELDS, "", &wrong_type);
        let instance_id = p.instance_id(f.get("InstanceId").copied());
        let secret_id = p.opt_string(f.get("PasswordSecretId").copied(), "PasswordSecretId");
        let secret_key = p.opt_string(f.get("PasswordSecretKey").copied(), "PasswordSecretKey");
        if secret_id.is_none() && secret_key.is_some() {
            p.err("PasswordSecretKey", "needs PasswordSecretId");
        }
        let password_secret = secret_id.map(|id| (id, secret_key));
        let requests_per_second =
            p.number(f.get("RequestsPerSecond").copied(), "RequestsPerSecond", RATE.min, RATE.max).unwrap_or(RATE.default);
        let burst = p.number(f.get("Burst").copied(), "Burst", BURST.min, BURST.max).map(|n| n as u32).unwrap_or(BURST.default);
        let mut errors = std::mem::take(&mut p.errors);
        let max_deletions = match f.get("MaxDeletions").map(|v| coerce::number(v)) {
            None => None,
            Some(Ok(-1.0)) => Some(None),
            Some(Ok(n)) if n >= 0.0 && n.fract() == 0.0 && n <= 1e9 => Some(Some(n as u64)),
            Some(Ok(n)) => {
                err(&mut errors, "MaxDeletions", format!("must be a whole number of users, 0 or more, or -1 for no limit; got {n}"));
                None
            }
            Some(Err(e)) => {
                err(&mut errors, "MaxDeletions", e.to_string());
                None
            }
        };
        let report = report_target(props).unwrap_or_else(|why| {
            err(&mut errors, REPORT, why.trim_start_matches("Report: ").to_string());
            None
        });

        let defaults = match f.get("Defaults").map(|v| coerce::object(v)) {
            None => None,
            Some(Err(e)) => {
                err(&mut errors, "Defaults", e.to_string());
                None
            }
            Some(Ok(o)) => {
                for k in o.keys() {
                    match properties::canonical(k) {
                        Some("InstanceId") => err(&mut errors, format!("Defaults.{k}"), "is the set's own InstanceId; remove it here"),
                        Some(c) if PER_USER.contains(&c) => {
                            err(&mut errors, format!("Defaults.{k}"), "differs per user: give it in each entry of Users")
                        }
                        _ => {}
                    }
                }
                Some(o)
            }
        };

        let instance_value = Value::String(instance_id.clone().unwrap_or_else(|| "unknown".into()));
        let has_source = f.contains_key("Source");
        // Borrowed: a large inline roster is not copied (the properties stay in the event).
        let inline: Vec<(Origin, Cow<Map<String, Value>>)> = match f.get("Users").map(|v| coerce::list(v)) {
            None if has_source => Vec::new(),
            None => {
                err(
                    &mut errors,
                    "Users",
                    "required (a list of users, each with the properties of Custom::ConnectUser but InstanceId), or a Source",
                );
                Vec::new()
            }
            Some(Err(e)) => {
                err(&mut errors, "Users", e.to_string());
                Vec::new()
            }
            Some(Ok(list)) => {
                let mut out = Vec::new();
                for (i, item) in list.iter().enumerate() {
                    match coerce::object(item) {
                        Ok(o) => out.push((Origin::Inline(i), Cow::Borrowed(o))),
                        Err(_) => err(
                            &mut errors,
                            format!("Users[{i}]"),
                            format!("must be an object with the properties of one user, got {}", coerce::kind(item)),
                        ),
                    }
                }
                out
            }
        };
        // Exactly as many as given: grown by doubling, 20,000 entries would hold room for 32,768 (29 MB).
        let mut entries = Vec::with_capacity(count + inline.len());
        let mut seen: HashMap<String, Origin> = HashMap::with_capacity(count + inline.len());
        let mut add = |origin: Origin, o: &Map<String, Value>, errors: &mut Vec<PropertyError>| {
            if o.keys().any(|k| properties::canonical(k) == Some("InstanceId")) {
                err(errors, origin.at("InstanceId"), "the set's InstanceId applies to every entry; remove it here");
                return;
            }
            let raw = merge(o, defaults, &instance_value);
            match UserProps::parse(&raw) {
                Err(PropertyErrors(list)) => {
                    for e in list.into_iter().filter(|e| instance_id.is_some() || e.path != "InstanceId") {
                        err(errors, origin.at(&e.path), e.message);
                    }
                }
                Ok(p) => {
                    if p.settings.tags.len() > MAX_ENTRY_TAGS {
                        err(
                            errors,
                            origin.at("Tags"),
                            format!(
                                "at most {MAX_ENTRY_TAGS} tags in a set (Connect allows 50 and the set keeps three for its own), got {}",
                                p.settings.tags.len()
                            ),
                        );
                    }
                    if let Some(first) = seen.insert(p.name.to_lowercase(), origin) {
                        err(
                            errors,
                            origin.at("Name"),
                            format!("{} is also the Name of {}; names are unique in a set", p.name, first.label()),
                        );
                        return;
                    }
                    entries.push(Entry {
                        origin,
                        digest: hidden_digest(&Hidden::of(&p)),
                        props: p,
                        immutable: Immutable::read(&raw),
                        given: given_digest(&raw),
                    });
                }
            }
        };
        sourced(&mut |origin, o| add(origin, &o, &mut errors));
        for (origin, o) in inline {
            add(origin, &o, &mut errors);
        }
        if !errors.is_empty() {
            return Err(PropertyErrors(errors));
        }
        Ok(SetProps {
            instance_id: instance_id.unwrap_or_default(),
            entries,
            password_secret,
            requests_per_second,
            burst,
            max_deletions,
            report,
        })
    }
}

/// The entries of an Update's old properties, by Name; entries that cannot be read are left out (they are
/// treated as unknown, so the user is read from Connect instead of trusted). Entries given exactly as in `now`
/// are left out too: the new entry says all the old one would (for a large roster, most of them).
pub fn old_entries(props: &Map<String, Value>, sourced: super::source::Sourced, now: Option<&SetProps>) -> HashMap<String, OldEntry> {
    let mut b = OldEntries::new(props, now);
    for (_, o) in sourced {
        b.add(&o);
    }
    b.finish()
}

/// Builds [`old_entries`] one entry at a time, so that a previous file's entries need not all be held at once.
pub struct OldEntries<'a> {
    props: &'a Map<String, Value>,
    same: HashMap<&'a str, u64>,
    instance: Value,
    defaults: Option<&'a Map<String, Value>>,
    out: HashMap<String, OldEntry>,
}

impl<'a> OldEntries<'a> {
    pub fn new(props: &'a Map<String, Value>, now: Option<&'a SetProps>) -> OldEntries<'a> {
        let same = now.map(|s| s.entries.iter().map(|e| (e.props.name.as_str(), e.given)).collect()).unwrap_or_default();
        let get = |name: &str| props.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
        let instance = get("InstanceId")
            .and_then(|v| coerce::string(v).ok())
            .and_then(|s| ids::instance_id(&s).ok())
            .map(Value::String)
            .unwrap_or(Value::String("unknown".into()));
        let defaults = get("Defaults").and_then(|v| coerce::object(v).ok());
        OldEntries { props, same, instance, defaults, out: HashMap::new() }
    }

    /// One previous entry (of the previous file), kept only when it differs from the new one of its Name.
    pub fn add(&mut self, o: &Map<String, Value>) {
        let raw = merge(o, self.defaults, &self.instance);
        let Some(name) = raw.get("Name").and_then(|v| coerce::string(v).ok()).filter(|n| !n.is_empty()) else { return };
        if self.same.get(name.as_str()) == Some(&given_digest(&raw)) {
            return;
        }
        let import_given =
            raw.get("ImportId").is_some_and(|v| !matches!(v, Value::Null) && !matches!(v, Value::String(s) if s.trim().is_empty()));
        let hidden = UserProps::parse(&raw).ok().map(|p| Hidden::of(&p));
        let digest = hidden.as_ref().map(hidden_digest);
        self.out.insert(name, OldEntry { digest, hidden, immutable: Immutable::read(&raw), import_given });
    }

    /// The previous properties' own `Users` added, the entries by Name.
    pub fn finish(mut self) -> HashMap<String, OldEntry> {
        let props = self.props;
        let users = props.iter().find(|(k, _)| k.eq_ignore_ascii_case("Users")).and_then(|(_, v)| coerce::list(v).ok());
        for o in users.into_iter().flatten().filter_map(|item| coerce::object(item).ok()) {
            self.add(o);
        }
        self.out
    }
}

/// Only the entries that carry `ImportId`, by Name: what a Delete needs to know (which users to release rather
/// than delete), read without parsing every entry.
pub fn imported_entries(props: &Map<String, Value>) -> HashMap<String, OldEntry> {
    let get = |o: &Map<String, Value>, canon: &str| o.iter().find(|(k, _)| properties::canonical(k) == Some(canon)).map(|(_, v)| v.clone());
    let given =
        |v: &Option<Value>| v.as_ref().is_some_and(|v| !matches!(v, Value::Null) && !matches!(v, Value::String(s) if s.trim().is_empty()));
    let users = props.iter().find(|(k, _)| k.eq_ignore_ascii_case("Users")).and_then(|(_, v)| coerce::list(v).ok());
    let mut out = HashMap::new();
    for o in users.into_iter().flatten().filter_map(|item| coerce::object(item).ok()) {
        let Some(name) = get(o, "Name").and_then(|v| coerce::string(&v).ok()).filter(|n| !n.is_empty()) else { continue };
        if given(&get(o, "ImportId")) {
            out.insert(name, OldEntry { digest: None, hidden: None, immutable: Immutable::read(&Map::new()), import_given: true });
        }
    }
    out
}

#[cfg(test)]
mod tests;

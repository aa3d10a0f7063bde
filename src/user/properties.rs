//! The resource's properties: parsed from CloudFormation's string-typed JSON into typed, validated values.
//! Every rule is checked here, before any call to Connect, and every error names the property path and the rule.
//! Names are accepted in PascalCase (CloudFormation), camelCase (Pulumi programs) and the native
//! `AWS::Connect::User` spelling (`InstanceArn`, `Username`, ...), so templates move over with few edits.

pub mod channels;

use crate::cfn::coerce;
use crate::user::ids;
pub use channels::{ChannelConfigs, Entry, ListKind, Proficiencies};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One wrong property: where, and which rule it breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for PropertyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// All the wrong properties of one request, reported together so a user fixes them in one round.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct PropertyErrors(pub Vec<PropertyError>);

impl fmt::Display for PropertyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join("; "))
    }
}

/// A password, kept out of `Debug` output and therefore out of every log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where the password comes from. CloudFormation does not resolve secure dynamic references in custom resource
/// properties, so a secret is named here and read by the resource itself.
#[derive(Debug, Clone, PartialEq)]
pub enum PasswordSource {
    Inline(Secret),
    SecretsManager { secret_id: String, key: Option<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneType {
    SoftPhone,
    DeskPhone,
}

impl PhoneType {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneType::SoftPhone => "SOFT_PHONE",
            PhoneType::DeskPhone => "DESK_PHONE",
        }
    }
}

/// Identity fields; an empty string and an absent one mean the same to Connect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityInfo {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub secondary_email: Option<String>,
    pub mobile: Option<String>,
}

/// The phone settings, with Connect's defaults for members not given (a property removed from the template
/// goes back to the default, as CloudFormation users expect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneConfig {
    pub phone_type: PhoneType,
    pub auto_accept: bool,
    pub after_contact_work_time_limit: i32,
    pub desk_phone_number: Option<String>,
    pub persistent_connection: bool,
}

impl Default for PhoneConfig {
    fn default() -> Self {
        PhoneConfig {
            phone_type: PhoneType::SoftPhone,
            auto_accept: false,
            after_contact_work_time_limit: 0,
            desk_phone_number: None,
            persistent_connection: false,
        }
    }
}

/// The settings that can change in place; the planner compares these with the user's actual state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub routing_profile_id: String,
    pub security_profile_ids: BTreeSet<String>,
    pub hierarchy_group_id: Option<String>,
    pub identity_info: IdentityInfo,
    /// `None` when the template manages the phone through per-channel lists only (PhoneConfig absent).
    pub phone_config: Option<PhoneConfig>,
    pub tags: BTreeMap<String, String>,
    /// Only the lists the template gives.
    pub channel_configs: ChannelConfigs,
    /// `None` when the template does not mention UserProficiencies.
    pub proficiencies: Option<Proficiencies>,
}

impl Settings {
    /// No settings at all: a placeholder where only a user's identity matters (a Delete).
    pub fn empty() -> Settings {
        Settings {
            routing_profile_id: String::new(),
            security_profile_ids: BTreeSet::new(),
            hierarchy_group_id: None,
            identity_info: IdentityInfo::default(),
            phone_config: None,
            tags: BTreeMap::new(),
            channel_configs: ChannelConfigs::new(),
            proficiencies: None,
        }
    }
}

/// Validated properties of one Connect user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserProps {
    /// Always the plain instance id, also when an ARN was given.
    pub instance_id: String,
    pub name: String,
    pub password: Option<PasswordSource>,
    pub directory_user_id: Option<String>,
    /// The existing user this resource takes over instead of creating one (`ImportId`).
    pub import: Option<ids::PhysicalId>,
    pub settings: Settings,
}

/// A set of top-level property names ([`canonical`] ones), as bits over their list: every entry of a 20,000-user
/// roster holds one, where a `BTreeSet` would weigh a tree node of its own (about 190 bytes an entry).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Mentioned(u64);

impl Mentioned {
    fn bit(name: &str) -> Option<u64> {
        TOP.iter().position(|(c, _)| *c == name).map(|i| 1u64 << i)
    }

    pub fn contains(&self, name: &str) -> bool {
        Mentioned::bit(name).is_some_and(|b| self.0 & b != 0)
    }

    /// Adds a canonical name; any other is not a property and is ignored.
    pub fn insert(&mut self, name: &str) {
        if let Some(b) = Mentioned::bit(name) {
            self.0 |= b;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        TOP.iter().enumerate().filter(|(i, _)| self.0 & (1u64 << i) != 0).map(|(_, (c, _))| *c)
    }
}

impl<'a> FromIterator<&'a str> for Mentioned {
    fn from_iter<I: IntoIterator<Item = &'a str>>(names: I) -> Mentioned {
        let mut m = Mentioned::default();
        for n in names {
            m.insert(n);
        }
        m
    }
}

impl fmt::Debug for Mentioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Tag keys under this prefix belong to the resource itself (the idempotency marker and the holder).
pub const RESERVED_TAG_PREFIX: &str = "connect-user-resource:";
/// Connect allows 50 tags; two are kept for the resource's own (the request marker and the holder).
pub const MAX_USER_TAGS: usize = 48;

/// Canonical name, then the extra spellings accepted besides its camelCase form. A resource's properties are a
/// table of these, read by [`Parser::fields`]: a new property is one entry (and its rule in the resource's parse).
pub type Field = (&'static str, &'static [&'static str]);

const TOP: &[Field] = &[
    ("InstanceId", &["InstanceArn"]),
    ("Name", &["Username"]),
    ("Password", &[]),
    ("PasswordSecretId", &[]),
    ("PasswordSecretKey", &[]),
    ("DirectoryUserId", &[]),
    ("RoutingProfileId", &["RoutingProfileArn"]),
    ("SecurityProfileIds", &["SecurityProfileArns"]),
    ("HierarchyGroupId", &["HierarchyGroupArn"]),
    ("IdentityInfo", &[]),
    ("PhoneConfig", &[]),
    ("Tags", &[]),
    ("AutoAcceptConfigs", &[]),
    ("AfterContactWorkConfigs", &[]),
    ("PhoneNumberConfigs", &[]),
    ("PersistentConnectionConfigs", &[]),
    ("VoiceEnhancementConfigs", &[]),
    ("UserProficiencies", &[]),
    ("ImportId", &[]),
];
const IDENTITY: &[Field] = &[("FirstName", &[]), ("LastName", &[]), ("Email", &[]), ("SecondaryEmail", &[]), ("Mobile", &[])];
const PHONE: &[Field] =
    &[("PhoneType", &[]), ("AutoAccept", &[]), ("AfterContactWorkTimeLimit", &[]), ("DeskPhoneNumber", &[]), ("PersistentConnection", &[])];
const TAG_ITEM: &[Field] = &[("Key", &[]), ("Value", &[])];

/// The canonical name of a top-level property given in any accepted spelling (`name`, `Username`, ...).
pub fn canonical(key: &str) -> Option<&'static str> {
    TOP.iter()
        .find(|(canon, aliases)| key == *canon || key == camel(canon) || aliases.iter().any(|a| key == *a || key == camel(a)))
        .map(|(c, _)| *c)
}

fn camel(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Edit distance between two names (for "did you mean" suggestions).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The nearest known name, if it is near enough to be a likely typo.
fn suggest(unknown: &str, fields: &[Field]) -> Option<&'static str> {
    let u = unknown.to_ascii_lowercase();
    fields
        .iter()
        .flat_map(|(canon, aliases)| std::iter::once(*canon).chain(aliases.iter().copied()).map(move |n| (*canon, n)))
        .map(|(canon, n)| (distance(&u, &n.to_ascii_lowercase()), canon))
        .filter(|(d, canon)| *d <= (canon.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Collects errors while parsing, so that all wrong properties are reported together: the one parser of both
/// resources' properties (a user's here, a set's in `roster::props`), so that names, aliases, suggestions and
/// messages are the same.
pub(crate) struct Parser {
    pub(crate) errors: Vec<PropertyError>,
}

impl Parser {
    pub(crate) fn new() -> Parser {
        Parser { errors: Vec::new() }
    }

    pub(crate) fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(PropertyError { path: path.into(), message: message.into() });
    }

    /// Maps the object's keys onto canonical names; unknown and doubly given names are errors.
    pub(crate) fn fields<'a>(&mut self, obj: &'a Map<String, Value>, fields: &[Field], prefix: &str) -> BTreeMap<&'static str, &'a Value> {
        self.fields_with(obj, fields, prefix, &|_| None)
    }

    /// [`Parser::fields`], where `misplaced` may say why an unknown name does not belong here (a user's property
    /// given to a set, ...) before the nearest known name is suggested.
    pub(crate) fn fields_with<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        fields: &[Field],
        prefix: &str,
        misplaced: &dyn Fn(&str) -> Option<String>,
    ) -> BTreeMap<&'static str, &'a Value> {
        let mut out: BTreeMap<&'static str, &'a Value> = BTreeMap::new();
        let mut spelled: BTreeMap<&'static str, &'a str> = BTreeMap::new();
        for (key, value) in obj {
            let hit = fields
                .iter()
                .find(|(canon, aliases)| key == canon || *key == camel(canon) || aliases.iter().any(|a| key == a || *key == camel(a)));
            match hit {
                Some((canon, _)) => {
                    if let Some(first) = spelled.get(canon) {
                        self.err(format!("{prefix}{canon}"), format!("given twice, as {first} and as {key}"));
                        continue;
                    }
                    spelled.insert(canon, key);
                    if !value.is_null() {
                        out.insert(canon, value);
                    }
                }
                None => {
                    let shown = crate::cfn::event::truncate(key, 60);
                    if let Some(why) = misplaced(key) {
                        self.err(format!("{prefix}{shown}"), why);
                        continue;
                    }
                    match suggest(key, fields) {
                        Some(s) => self.err(format!("{prefix}{shown}"), format!("unknown property; did you mean {s}?")),
                        None => {
                            let known: Vec<&str> = fields.iter().map(|(c, _)| *c).collect();
                            self.err(format!("{prefix}{shown}"), format!("unknown property; known properties are {}", known.join(", ")))
                        }
                    }
                }
            }
        }
        out
    }

    pub(crate) fn string(&mut self, v: Option<&Value>, path: &str) -> Option<String> {
        match coerce::string(v?) {
            Ok(s) => Some(s),
            Err(e) => {
                self.err(path, e.to_string());
                None
            }
        }
    }

    /// A string that is absent when empty.
    pub(crate) fn opt_string(&mut self, v: Option<&Value>, path: &str) -> Option<String> {
        self.string(v, path).filter(|s| !s.is_empty())
    }

    pub(crate) fn required(&mut self, v: Option<&Value>, path: &str) -> Option<String> {
        match self.opt_string(v, path) {
            Some(s) => Some(s),
            None => {
                if !self.errors.iter().any(|e| e.path == path) {
                    self.err(path, "required");
                }
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, v: Option<&Value>, path: &str) -> Option<bool> {
        match coerce::boolean(v?) {
            Ok(b) => Some(b),
            Err(e) => {
                self.err(path, e.to_string());
                None
            }
        }
    }

    pub(crate) fn object<'a>(&mut self, v: Option<&'a Value>, path: &str) -> Option<&'a Map<String, Value>> {
        match coerce::object(v?) {
            Ok(o) => Some(o),
            Err(e) => {
                self.err(path, e.to_string());
                None
            }
        }
    }

    /// A number from `min` to `max`.
    pub(crate) fn number(&mut self, v: Option<&Value>, path: &str, min: f64, max: f64) -> Option<f64> {
        match coerce::number(v?) {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            Ok(n) => {
                self.err(path, format!("must be between {min} and {max}, got {n}"));
                None
            }
            Err(e) => {
                self.err(path, e.to_string());
                None
            }
        }
    }

    /// `InstanceId` (an id or an instance ARN), required.
    pub(crate) fn instance_id(&mut self, v: Option<&Value>) -> Option<String> {
        self.required(v, "InstanceId").and_then(|raw| match ids::instance_id(&raw) {
            Ok(id) => Some(id),
            Err(e) => {
                self.err("InstanceId", e);
                None
            }
        })
    }
}

fn is_e164(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or("");
    (2..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0')
}

/// The documented email form: `[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,63}`, at most 265 characters.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let Some((host, tld)) = domain.rsplit_once('.') else { return false };
    s.len() <= 265
        && !local.is_empty()
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
        && !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        && (2..=63).contains(&tld.len())
        && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// Connect's password rule, stated without echoing the value.
pub const PASSWORD_RULE: &str =
    "must be 8 to 64 characters with at least one lowercase letter, one uppercase letter and one digit, and no spaces";

/// Whether a new user's having a password suits the instance. Connect requires one on a CONNECT_MANAGED
/// instance and refuses one on a SAML instance, but says so only at that user's CreateUser: a set asks first, so
/// that it fails before its first write rather than half created.
pub fn password_fits(identity_management: &str, has_password: bool) -> Result<(), &'static str> {
    match (identity_management, has_password) {
        ("CONNECT_MANAGED", false) => Err("Password: required: the instance keeps its users' passwords (CONNECT_MANAGED)"),
        ("SAML", true) => Err("Password: not allowed: the instance's users sign in through SAML"),
        _ => Ok(()),
    }
}

pub fn password_ok(p: &str) -> bool {
    (8..=64).contains(&p.chars().count())
        && p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| c.is_ascii_digit())
        && !p.chars().any(char::is_whitespace)
}

fn tag_key_ok(k: &str) -> bool {
    let n = k.chars().count();
    (1..=128).contains(&n)
        && !k.starts_with("aws:")
        && k.chars().all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

/// The top-level properties by canonical name, as [`Parser::fields`] read them.
type Fields<'a> = BTreeMap<&'static str, &'a Value>;

impl UserProps {
    /// Every property checked, and every problem reported at once; each group's rules are in a function below.
    pub fn parse(props: &Map<String, Value>) -> Result<UserProps, PropertyErrors> {
        let mut p = Parser::new();
        let f = p.fields(props, TOP, "");
        let instance_id = p.instance_id(f.get("InstanceId").copied());
        let name = name(&mut p, &f);
        let password = password(&mut p, &f);
        let import = import(&mut p, &f, instance_id.as_deref());
        let directory_user_id = directory_user_id(&mut p, &f);
        let (routing_profile_id, security_profile_ids, hierarchy_group_id) = profiles(&mut p, &f, instance_id.as_deref());
        let identity_info = identity(&mut p, f.get("IdentityInfo").copied());
        let mut channel_configs = ChannelConfigs::new();
        for kind in ListKind::ALL {
            if let Some(v) = f.get(kind.name()).copied() {
                channel_configs.insert(kind, channels::parse_list(&mut p, kind, v));
            }
        }
        let proficiencies = f.get("UserProficiencies").copied().map(|v| channels::parse_proficiencies(&mut p, v));
        let phone_config = phone(&mut p, f.get("PhoneConfig").copied(), &channel_configs);
        let tags = parse_tags(&mut p, f.get("Tags").copied());

        if !p.errors.is_empty() {
            return Err(PropertyErrors(p.errors));
        }
        Ok(UserProps {
            instance_id: instance_id.unwrap_or_default(),
            name: name.unwrap_or_default(),
            password,
            directory_user_id,
            import,
            settings: Settings {
                routing_profile_id: routing_profile_id.unwrap_or_default(),
                security_profile_ids,
                hierarchy_group_id,
                identity_info,
                phone_config,
                tags,
                channel_configs,
                proficiencies,
            },
        })
    }
}

/// `Name`: Connect's username rules.
fn name(p: &mut Parser, f: &Fields) -> Option<String> {
    let name = p.required(f.get("Name").copied(), "Name");
    if let Some(n) = &name {
        if n.chars().count() > 100 {
            p.err("Name", "must be at most 100 characters");
        } else if !n.chars().all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c)) {
            p.err("Name", "may contain only letters, digits and _ - . @");
        } else if n.contains('@') && !is_email(n) {
            p.err("Name", "may contain @ only in the form of an email address");
        }
    }
    name
}

/// `Password`, or `PasswordSecretId` (and `PasswordSecretKey`): one or the other, never both.
fn password(p: &mut Parser, f: &Fields) -> Option<PasswordSource> {
    let inline = f.get("Password").copied();
    let secret_id = p.opt_string(f.get("PasswordSecretId").copied(), "PasswordSecretId");
    let secret_key = p.opt_string(f.get("PasswordSecretKey").copied(), "PasswordSecretKey");
    let password = match (inline, secret_id) {
        (Some(_), Some(_)) => {
            p.err("Password", "give either Password or PasswordSecretId, not both");
            None
        }
        (Some(v), None) => match coerce::string(v) {
            Ok(s) if password_ok(&s) => Some(PasswordSource::Inline(Secret::new(s))),
            Ok(_) => {
                p.err("Password", PASSWORD_RULE);
                None
            }
            Err(_) => {
                p.err("Password", "must be a string");
                None
            }
        },
        (None, Some(id)) => Some(PasswordSource::SecretsManager { secret_id: id, key: secret_key.clone() }),
        (None, None) => None,
    };
    if secret_key.is_some()
        && !matches!(password, Some(PasswordSource::SecretsManager { .. }))
        && !p.errors.iter().any(|e| e.path == "Password")
    {
        p.err("PasswordSecretKey", "needs PasswordSecretId");
    }
    password
}

/// `ImportId`: `<instance id>:<user id>` of the same instance.
fn import(p: &mut Parser, f: &Fields, instance_id: Option<&str>) -> Option<ids::PhysicalId> {
    p.opt_string(f.get("ImportId").copied(), "ImportId").and_then(|raw| match ids::import_id(&raw) {
        Ok(id) if instance_id.is_some_and(|i| i != id.instance_id) => {
            p.err("ImportId", format!("names instance {}, but InstanceId is {}", id.instance_id, instance_id.unwrap_or_default()));
            None
        }
        Ok(id) => Some(id),
        Err(e) => {
            p.err("ImportId", e);
            None
        }
    })
}

fn directory_user_id(p: &mut Parser, f: &Fields) -> Option<String> {
    let directory_user_id = p.opt_string(f.get("DirectoryUserId").copied(), "DirectoryUserId");
    if directory_user_id.as_ref().is_some_and(|d| d.chars().count() > 256) {
        p.err("DirectoryUserId", "must be at most 256 characters");
    }
    directory_user_id
}

/// The routing profile, the security profiles and the hierarchy group: ids, or ARNs of the same instance.
fn profiles(p: &mut Parser, f: &Fields, instance_id: Option<&str>) -> (Option<String>, BTreeSet<String>, Option<String>) {
    let child = |p: &mut Parser, raw: Option<String>, kind: &str, path: &str| -> Option<String> {
        let raw = raw?;
        let Some(iid) = instance_id else { return Some(raw) };
        match ids::child_id(&raw, kind, iid) {
            Ok(id) => Some(id),
            Err(e) => {
                p.err(path, e);
                None
            }
        }
    };

    let rp_raw = p.required(f.get("RoutingProfileId").copied(), "RoutingProfileId");
    let routing_profile_id = child(p, rp_raw, "routing-profile", "RoutingProfileId");

    let mut security_profile_ids = BTreeSet::new();
    match f.get("SecurityProfileIds").copied() {
        None => p.err("SecurityProfileIds", "required (1 to 10 security profile ids or ARNs)"),
        Some(v) => match coerce::list(v) {
            Err(e) => p.err("SecurityProfileIds", e.to_string()),
            Ok(list) if list.is_empty() || list.len() > 10 => {
                p.err("SecurityProfileIds", format!("must list 1 to 10 security profiles, got {}", list.len()))
            }
            Ok(list) => {
                for (i, item) in list.iter().enumerate() {
                    let path = format!("SecurityProfileIds[{i}]");
                    let raw = p.required(Some(item), &path);
                    if let Some(id) = child(p, raw, "security-profile", &path) {
                        if !security_profile_ids.insert(id.clone()) {
                            p.err(path, format!("{id} is listed twice"));
                        }
                    }
                }
            }
        },
    }

    let hg_raw = p.opt_string(f.get("HierarchyGroupId").copied(), "HierarchyGroupId");
    let hierarchy_group_id = child(p, hg_raw, "agent-group", "HierarchyGroupId");
    (routing_profile_id, security_profile_ids, hierarchy_group_id)
}

/// `IdentityInfo`: names, email addresses, mobile number.
fn identity(p: &mut Parser, v: Option<&Value>) -> IdentityInfo {
    match p.object(v, "IdentityInfo") {
        None => IdentityInfo::default(),
        Some(o) => {
            let g = p.fields(o, IDENTITY, "IdentityInfo.");
            let get = |p: &mut Parser, k: &str| p.opt_string(g.get(k).copied(), &format!("IdentityInfo.{k}"));
            let info = IdentityInfo {
                first_name: get(p, "FirstName"),
                last_name: get(p, "LastName"),
                email: get(p, "Email"),
                secondary_email: get(p, "SecondaryEmail"),
                mobile: get(p, "Mobile"),
            };
            if info.first_name.as_ref().is_some_and(|s| s.chars().count() > 255) {
                p.err("IdentityInfo.FirstName", "must be at most 255 characters");
            }
            if info.last_name.as_ref().is_some_and(|s| s.chars().count() > 300) {
                p.err("IdentityInfo.LastName", "must be at most 300 characters");
            }
            for (k, v) in [("Email", &info.email), ("SecondaryEmail", &info.secondary_email)] {
                if v.as_ref().is_some_and(|s| !is_email(s)) {
                    p.err(format!("IdentityInfo.{k}"), "must be an email address like name@example.com");
                }
            }
            if info.mobile.as_ref().is_some_and(|s| !is_e164(s)) {
                p.err("IdentityInfo.Mobile", "must be an E.164 phone number like +14155550100");
            }
            info
        }
    }
}

/// `PhoneConfig`, which per-channel lists may take over.
fn phone(p: &mut Parser, v: Option<&Value>, channel_configs: &ChannelConfigs) -> Option<PhoneConfig> {
    match p.object(v, "PhoneConfig") {
        // Without PhoneConfig the phone is Connect's default, unless per-channel lists manage it instead.
        None if channel_configs.is_empty() => Some(PhoneConfig::default()),
        None => None,
        Some(o) => {
            let g = p.fields(o, PHONE, "PhoneConfig.");
            for kind in channel_configs.keys() {
                for field in kind.phone_fields() {
                    if g.contains_key(field) {
                        p.err(format!("PhoneConfig.{field}"), format!("conflicts with {}: set one or the other", kind.name()));
                    }
                }
            }
            if channel_configs.contains_key(&ListKind::PhoneNumber) && !g.contains_key("PhoneType") && !g.contains_key("DeskPhoneNumber") {
                // The SDK always sends PhoneConfig.PhoneType, which Connect refuses beside PhoneNumberConfigs.
                p.err("PhoneConfig", "conflicts with PhoneNumberConfigs (PhoneConfig always carries a PhoneType): move the other PhoneConfig settings to their per-channel lists");
            }
            let mut pc = PhoneConfig::default();
            if let Some(t) = p.opt_string(g.get("PhoneType").copied(), "PhoneConfig.PhoneType") {
                match t.as_str() {
                    "SOFT_PHONE" => pc.phone_type = PhoneType::SoftPhone,
                    "DESK_PHONE" => pc.phone_type = PhoneType::DeskPhone,
                    other => p.err(
                        "PhoneConfig.PhoneType",
                        format!("must be SOFT_PHONE or DESK_PHONE, got {}", coerce::show(&Value::from(other))),
                    ),
                }
            }
            if let Some(b) = p.boolean(g.get("AutoAccept").copied(), "PhoneConfig.AutoAccept") {
                pc.auto_accept = b;
            }
            if let Some(b) = p.boolean(g.get("PersistentConnection").copied(), "PhoneConfig.PersistentConnection") {
                pc.persistent_connection = b;
            }
            if let Some(v) = g.get("AfterContactWorkTimeLimit").copied() {
                match coerce::integer(v) {
                    Ok(n) if (0..=2_000_000).contains(&n) => pc.after_contact_work_time_limit = n as i32,
                    Ok(n) => p.err("PhoneConfig.AfterContactWorkTimeLimit", format!("must be 0 to 2000000 seconds, got {n}")),
                    Err(e) => p.err("PhoneConfig.AfterContactWorkTimeLimit", e.to_string()),
                }
            }
            pc.desk_phone_number = p.opt_string(g.get("DeskPhoneNumber").copied(), "PhoneConfig.DeskPhoneNumber");
            if pc.desk_phone_number.as_ref().is_some_and(|s| !is_e164(s)) {
                p.err("PhoneConfig.DeskPhoneNumber", "must be an E.164 phone number like +14155550100");
            }
            if pc.phone_type == PhoneType::DeskPhone
                && pc.desk_phone_number.is_none()
                && !p.errors.iter().any(|e| e.path == "PhoneConfig.DeskPhoneNumber")
            {
                p.err("PhoneConfig.DeskPhoneNumber", "required when PhoneType is DESK_PHONE");
            }
            Some(pc)
        }
    }
}

/// Tags as a map `{key: value}` or as CloudFormation's list `[{Key, Value}]`.
fn parse_tags(p: &mut Parser, v: Option<&Value>) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    let Some(v) = v else { return tags };
    let mut add = |p: &mut Parser, k: String, val: Option<String>, path: String| {
        let shown = crate::cfn::event::truncate(&k, 60);
        if !tag_key_ok(&k) {
            p.err(path, format!("tag key {shown:?} must be 1 to 128 letters, digits, spaces or _.:/=+-@ and must not start with aws:"));
        } else if k.starts_with(RESERVED_TAG_PREFIX) {
            p.err(path, format!("tag keys starting with {RESERVED_TAG_PREFIX} are reserved for this resource"));
        } else if val.as_ref().is_some_and(|s| s.chars().count() > 256) {
            p.err(path, format!("the value of tag {shown:?} must be at most 256 characters"));
        } else if tags.insert(k, val.unwrap_or_default()).is_some() {
            p.err(path, format!("tag {shown:?} is given twice"));
        }
    };
    match v {
        Value::Object(o) => {
            for (k, val) in o {
                let s = p.string(Some(val), &format!("Tags.{k}"));
                add(p, k.clone(), s, format!("Tags.{}", crate::cfn::event::truncate(k, 60)));
            }
        }
        Value::Array(list) => {
            for (i, item) in list.iter().enumerate() {
                let path = format!("Tags[{i}]");
                let Some(o) = p.object(Some(item), &path) else { continue };
                let g = p.fields(o, TAG_ITEM, &format!("{path}."));
                let Some(k) = p.required(g.get("Key").copied(), &format!("{path}.Key")) else { continue };
                let val = p.string(g.get("Value").copied(), &format!("{path}.Value"));
                add(p, k, val, path);
            }
        }
        other => p.err("Tags", format!("must be a map of key to value or a list of {{Key, Value}}, got {}", coerce::kind(other))),
    }
    if tags.len() > MAX_USER_TAGS {
        p.err(
            "Tags",
            format!("at most {MAX_USER_TAGS} tags (Connect allows 50 and this resource keeps two for its own), got {}", tags.len()),
        );
    }
    tags
}

/// The properties that can never change on an existing user, read leniently (an Update's old properties may be
/// ones that failed validation, during the rollback of that failed Update). Its `Debug` never shows the password
/// (see below), so that no type holding it (a set's entries, a failed assertion) can print it.
#[derive(Clone, PartialEq)]
pub struct Immutable {
    /// Canonical names of the properties given (to know what a removed property used to manage).
    pub mentioned: Mentioned,
    pub password: Option<Value>,
    pub password_secret_id: Option<Value>,
    pub password_secret_key: Option<Value>,
    pub directory_user_id: Option<Value>,
    /// `ImportId`, when it reads as one.
    pub import: Option<ids::PhysicalId>,
    /// Whether an `ImportId` is given at all, readable or not: a Delete then releases instead of deleting, even
    /// when the other properties are wrong (erring towards keeping a user, never towards deleting one).
    pub import_given: bool,
}

impl fmt::Debug for Immutable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let given = |v: &Option<Value>| if v.is_some() { "<redacted>" } else { "None" };
        f.debug_struct("Immutable")
            .field("mentioned", &self.mentioned)
            .field("password", &format_args!("{}", given(&self.password)))
            .field("password_secret_id", &self.password_secret_id)
            .field("password_secret_key", &self.password_secret_key)
            .field("directory_user_id", &self.directory_user_id)
            .field("import", &self.import)
            .field("import_given", &self.import_given)
            .finish()
    }
}

impl Immutable {
    /// Takes `applied`'s password and directory user id as the ones the user has: for the rollback of an Update
    /// that was refused, whose own values never reached Connect.
    pub fn accept_as_applied(&mut self, applied: &Immutable) {
        self.password = applied.password.clone();
        self.password_secret_id = applied.password_secret_id.clone();
        self.password_secret_key = applied.password_secret_key.clone();
        self.directory_user_id = applied.directory_user_id.clone();
    }

    pub fn read(props: &Map<String, Value>) -> Immutable {
        let mut p = Parser::new();
        let f = p.fields(props, TOP, "");
        let norm = |v: Option<&&Value>| v.and_then(|v| coerce::string(v).ok()).filter(|s| !s.is_empty()).map(Value::String);
        Immutable {
            mentioned: f.keys().copied().collect(),
            password: norm(f.get("Password")),
            password_secret_id: norm(f.get("PasswordSecretId")),
            password_secret_key: norm(f.get("PasswordSecretKey")),
            directory_user_id: norm(f.get("DirectoryUserId")),
            import: f.get("ImportId").and_then(|v| coerce::string(v).ok()).and_then(|s| ids::import_id(&s).ok()),
            import_given: f.get("ImportId").is_some_and(|v| !matches!(v, Value::String(s) if s.trim().is_empty())),
        }
    }
}

#[cfg(test)]
mod tests;

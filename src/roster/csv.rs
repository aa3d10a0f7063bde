//! Amazon Connect's bulk-upload CSV ("Add users", then "Import users using a CSV template"), read into the
//! set's entries: pure, so that every rule is tested without S3 (`source.rs` and `s3.rs` bring the file).
//!
//! Columns are found by their header, without regard to case, spaces or punctuation, in any order; the forms in
//! public use are accepted (without secondary email and mobile; without email and password for SAML instances;
//! with a hierarchy column and a tags column). Names (routing profile, security profiles, hierarchy group) are
//! resolved to ids through [`Names`], and an unknown one fails naming the row, the column and the nearest name.

use crate::user::properties::{PhoneType, UserProps};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Entries a file may hold: what one set can reconcile within CloudFormation's hour at a raised quota.
pub const MAX_ROWS: usize = 20_000;

/// One column of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    FirstName,
    LastName,
    Email,
    SecondaryEmail,
    Mobile,
    Password,
    Login,
    RoutingProfile,
    SecurityProfiles,
    PhoneType,
    PhoneNumber,
    AutoAccept,
    AcwTimeout,
    Hierarchy,
    Tags,
    /// Not the console's: the user a row takes over (`ImportId`), as `connect-users export --as set` writes it.
    ImportId,
}

/// Every column, in the order of the console's template (the admin guide's, then hierarchy and tags), then ours.
pub const COLUMNS: [Column; 16] = [
    Column::FirstName,
    Column::LastName,
    Column::Email,
    Column::SecondaryEmail,
    Column::Mobile,
    Column::Password,
    Column::Login,
    Column::RoutingProfile,
    Column::SecurityProfiles,
    Column::PhoneType,
    Column::PhoneNumber,
    Column::AutoAccept,
    Column::AcwTimeout,
    Column::Hierarchy,
    Column::Tags,
    Column::ImportId,
];

/// Header spellings, reduced to lowercase letters and digits.
const HEADERS: &[(Column, &[&str])] = &[
    (Column::FirstName, &["firstname"]),
    (Column::LastName, &["lastname"]),
    (Column::Email, &["emailaddress", "email"]),
    (Column::SecondaryEmail, &["secondaryemailaddress", "secondaryemail"]),
    (Column::Mobile, &["mobile", "mobilenumber"]),
    (Column::Password, &["password"]),
    (Column::Login, &["userlogin", "login", "username"]),
    (Column::RoutingProfile, &["routingprofilename", "routingprofile"]),
    (
        Column::SecurityProfiles,
        &["securityprofilename1securityprofilename2", "securityprofilenames", "securityprofilename", "securityprofiles"],
    ),
    (Column::PhoneType, &["phonetypesoftdesk", "phonetype"]),
    (Column::PhoneNumber, &["phonenumber", "deskphonenumber"]),
    (Column::AutoAccept, &["softphoneautoacceptyesno", "softphoneautoaccept", "autoaccept"]),
    (Column::AcwTimeout, &["acwtimeoutseconds", "acwtimeout", "aftercontactworktimeout"]),
    (Column::Hierarchy, &["hierarchy", "hierarchygroup", "agenthierarchy", "userhierarchy"]),
    (Column::Tags, &["tags"]),
    (Column::ImportId, &["importid"]),
];

impl Column {
    /// The header as the console's template writes it, for messages.
    pub fn header(self) -> &'static str {
        match self {
            Column::FirstName => "first name",
            Column::LastName => "last name",
            Column::Email => "email address",
            Column::SecondaryEmail => "secondary email address",
            Column::Mobile => "mobile",
            Column::Password => "password",
            Column::Login => "user login",
            Column::RoutingProfile => "routing profile name",
            Column::SecurityProfiles => "security_profile_name_1|security_profile_name_2",
            Column::PhoneType => "phone type (soft/desk)",
            Column::PhoneNumber => "phone number",
            Column::AutoAccept => "soft phone auto accept (yes/no)",
            Column::AcwTimeout => "ACW timeout (seconds)",
            Column::Hierarchy => "hierarchy",
            Column::Tags => "tags",
            Column::ImportId => "import id",
        }
    }
}

fn reduce(h: &str) -> String {
    h.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// One problem of a file: where, and which rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1 for the header line, 2 for the first user, ...
    pub row: usize,
    pub column: Option<Column>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "row {}, column {}: {}", self.row, c.header(), self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

/// Splits CSV text into records (RFC 4180: quoted fields with doubled quotes and line breaks inside, CRLF or LF
/// line ends, a UTF-8 byte order mark). Blank lines are skipped; each record keeps its line number.
pub fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, Problem> {
    let mut out = Vec::new();
    each_record(text, &mut |line, r| {
        out.push((line, r));
        true
    })?;
    Ok(out)
}

/// [`records`], each handed to `f` as it is split, until `f` says stop (`false`): a file is never held as
/// records all at once, and a file far past the row limit is not read to its end.
pub fn each_record(text: &str, f: &mut dyn FnMut(usize, Vec<String>) -> bool) -> Result<(), Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut field, mut record) = (String::new(), Vec::new());
    let (mut line, mut start_line, mut quoted, mut was_quoted) = (1, 1, false, false);
    let mut chars = text.chars().peekable();
    // Whether to go on.
    let mut finish = |record: &mut Vec<String>, field: &mut String, start: usize| -> bool {
        record.push(std::mem::take(field));
        let r = std::mem::take(record);
        r.len() == 1 && r[0].trim().is_empty() || f(start, r)
    };
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, ch) => {
                if ch == '\n' {
                    line += 1;
                }
                field.push(ch);
            }
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                record.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                if !finish(&mut record, &mut field, start_line) {
                    return Ok(());
                }
                line += 1;
                start_line = line;
                was_quoted = false;
            }
            (false, ch) => field.push(ch),
        }
    }
    if quoted {
        return Err(Problem { row: start_line, column: None, message: "a quoted field is not closed".into() });
    }
    if !field.is_empty() || !record.is_empty() {
        finish(&mut record, &mut field, start_line);
    }
    Ok(())
}

/// Names of the instance's routing profiles, security profiles and hierarchy groups (by name and by path), to ids.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub routing_profiles: HashMap<String, String>,
    pub security_profiles: HashMap<String, String>,
    /// By name (names used by one group only) and by path (`support/EMEA/tier 1`).
    pub hierarchy_groups: HashMap<String, String>,
    /// Group names used by several groups (lowercase), with how many: such a name must be given as a path.
    pub ambiguous_groups: HashMap<String, usize>,
}

/// The hierarchy values of a file that are paths (`support/EMEA/tier 1`), trimmed of outer slashes, without
/// duplicates: their groups' paths must be read (DescribeUserHierarchyGroup) to resolve them. Empty for a file
/// that cannot be read (its problems are reported by [`entries`]).
pub fn hierarchy_paths(text: &str) -> Vec<String> {
    let mut at: Option<Option<usize>> = None;
    let mut out: Vec<String> = Vec::new();
    let mut rows = 0;
    let read = each_record(text, &mut |_, r| {
        match at {
            None => {
                at = Some(r.iter().position(|h| HEADERS.iter().any(|(c, sp)| *c == Column::Hierarchy && sp.contains(&reduce(h).as_str()))));
            }
            Some(None) => return false,
            Some(Some(i)) => {
                rows += 1;
                if let Some(v) = r.get(i).map(|v| v.trim().trim_matches('/')).filter(|v| v.contains('/')) {
                    if !out.iter().any(|o| o == v) {
                        out.push(v.to_string());
                    }
                }
            }
        }
        rows <= MAX_ROWS
    });
    if read.is_err() {
        return Vec::new();
    }
    out.sort();
    out
}

/// The name a path ends with (`tier 1` of `support/EMEA/tier 1`).
pub fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path).trim()
}

/// Looks a name up without regard to case; on a miss, the nearest known name for the message.
/// Names that differ only in case are both refused, never one of them picked (a map's order is no rule).
fn resolve(names: &HashMap<String, String>, name: &str) -> Result<String, String> {
    let want = name.trim().to_lowercase();
    let mut found: Vec<(&String, &String)> = names.iter().filter(|(k, _)| k.to_lowercase() == want).collect();
    found.sort();
    match found.as_slice() {
        [(_, id)] => return Ok((*id).clone()),
        [] => {}
        several => {
            let shown: Vec<String> = several.iter().map(|(k, id)| format!("{k:?} ({id})")).collect();
            return Err(format!(
                "{name:?} names {} of the instance's, which differ only in case: {}; rename one of them in Connect, or give the id",
                several.len(),
                shown.join(" and ")
            ));
        }
    }
    // An id in place of a name (as a run report's failed rows carry it when the names were not read).
    if let Some(id) = names.values().find(|id| id.as_str() == name.trim()) {
        return Ok(id.clone());
    }
    let nearest = names.keys().min_by_key(|k| crate::user::properties::distance(&k.to_lowercase(), &want));
    Err(match nearest {
        Some(n) => format!("no such name: {name:?}; the nearest is {n:?}"),
        None => format!("no such name: {name:?}; the instance has none"),
    })
}

/// Id-to-name maps of the instance's profiles and groups, for writing rows with names (when they were read);
/// without them the ids are written, which [`read`] takes in place of names.
pub struct NamesById {
    routing: HashMap<String, String>,
    security: HashMap<String, String>,
    groups: HashMap<String, String>,
}

impl NamesById {
    pub fn of(names: &Names) -> NamesById {
        let inv = |m: &HashMap<String, String>| {
            // A group is known by its name and by its path: the path is the unambiguous one, and the longest.
            let mut out: HashMap<String, String> = HashMap::new();
            for (n, id) in m {
                let e = out.entry(id.clone()).or_insert_with(|| n.clone());
                if n.len() > e.len() {
                    *e = n.clone();
                }
            }
            out
        };
        NamesById { routing: inv(&names.routing_profiles), security: inv(&names.security_profiles), groups: inv(&names.hierarchy_groups) }
    }
}

/// One user as the cells of a row, in [`COLUMNS`]' order (only the login when its properties are unknown).
/// The password is never written.
pub fn cells(name: &str, props: Option<&UserProps>, names: Option<&NamesById>) -> Vec<String> {
    let name_of = |m: Option<&HashMap<String, String>>, id: &str| m.and_then(|m| m.get(id)).cloned().unwrap_or_else(|| id.to_string());
    let mut cells: Vec<String> = Vec::with_capacity(COLUMNS.len() + 1);
    for c in COLUMNS {
        let Some(p) = props else {
            cells.push(if c == Column::Login { name.to_string() } else { String::new() });
            continue;
        };
        let s = &p.settings;
        let phone = s.phone_config.as_ref();
        cells.push(match c {
            Column::FirstName => s.identity_info.first_name.clone().unwrap_or_default(),
            Column::LastName => s.identity_info.last_name.clone().unwrap_or_default(),
            Column::Email => s.identity_info.email.clone().unwrap_or_default(),
            Column::SecondaryEmail => s.identity_info.secondary_email.clone().unwrap_or_default(),
            Column::Mobile => s.identity_info.mobile.clone().unwrap_or_default(),
            Column::Password => String::new(),
            Column::Login => p.name.clone(),
            Column::RoutingProfile => name_of(names.map(|n| &n.routing), &s.routing_profile_id),
            Column::SecurityProfiles => {
                s.security_profile_ids.iter().map(|id| name_of(names.map(|n| &n.security), id)).collect::<Vec<_>>().join("|")
            }
            Column::PhoneType => match phone.map(|p| p.phone_type) {
                Some(PhoneType::DeskPhone) => "desk".into(),
                Some(PhoneType::SoftPhone) => "soft".into(),
                None => String::new(),
            },
            Column::PhoneNumber => phone.and_then(|p| p.desk_phone_number.clone()).unwrap_or_default(),
            Column::AutoAccept => phone.map(|p| if p.auto_accept { "yes" } else { "no" }.to_string()).unwrap_or_default(),
            Column::AcwTimeout => phone.map(|p| p.after_contact_work_time_limit.to_string()).unwrap_or_default(),
            Column::Hierarchy => s.hierarchy_group_id.as_deref().map(|id| name_of(names.map(|n| &n.groups), id)).unwrap_or_default(),
            Column::Tags => s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("|"),
            Column::ImportId => p.import.as_ref().map(|i| i.to_string()).unwrap_or_default(),
        });
    }
    cells
}

/// One CSV line (RFC 4180 quoting), with its line break.
pub fn line(cells: Vec<String>) -> String {
    let quoted: Vec<String> =
        cells.into_iter().map(|c| if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c }).collect();
    format!("{}\r\n", quoted.join(","))
}

/// The header line of [`COLUMNS`].
pub fn header_line() -> String {
    line(COLUMNS.iter().map(|c| c.header().to_string()).collect())
}

/// Entries with their line numbers.
pub type Rows = Vec<(usize, Map<String, Value>)>;

/// The file's rows as entries of `Users` (the properties of `Custom::ConnectUser`, names resolved to ids), each
/// with its line number, or every problem found. The passwords of the file are kept, as the console's upload does.
pub fn entries(text: &str, names: &Names) -> Result<Rows, Vec<Problem>> {
    let (rows, problems) = read(text, names);
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// The rows without problems, and every problem: so that the rows that read can still be checked as users and
/// a file's problems are all reported at once.
pub fn read(text: &str, names: &Names) -> (Rows, Vec<Problem>) {
    let mut out = Vec::new();
    let problems = read_each(text, names, MAX_ROWS, &mut |row, e| out.push((row, e)));
    (out, problems)
}

/// [`read`], each row without problems handed to `f` as it is read (a reader that keeps little of each row
/// need not hold them all). Past `limit` rows the file is not read further, and that is its one problem.
pub fn read_each(text: &str, names: &Names, limit: usize, f: &mut dyn FnMut(usize, Map<String, Value>)) -> Vec<Problem> {
    let mut header: Option<(usize, usize, HashMap<Column, usize>)> = None;
    let mut problems = Vec::new();
    let mut logins: HashMap<String, usize> = HashMap::new();
    let (mut rows, mut over) = (0usize, None);
    let split = each_record(text, &mut |row, rec| {
        let Some((_, columns, at)) = &header else {
            let at = read_header(row, &rec, &mut problems);
            header = Some((row, rec.len(), at));
            return problems.is_empty();
        };
        rows += 1;
        if rows > limit {
            over = Some(row);
            return false;
        }
        read_row(row, &rec, *columns, at, names, &mut logins, &mut problems, f);
        true
    });
    if let Err(p) = split {
        return vec![p];
    }
    if let Some(row) = over {
        let message = format!("the file has more than {limit} users; a set takes at most {limit} (split it into several sets)");
        return vec![Problem { row, column: None, message }];
    }
    if header.is_none() {
        return vec![Problem { row: 1, column: None, message: "the file is empty (no header)".into() }];
    }
    problems
}

/// The header's columns, or its problems.
fn read_header(header_line: usize, header: &[String], problems: &mut Vec<Problem>) -> HashMap<Column, usize> {
    let mut at: HashMap<Column, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let r = reduce(h);
        match HEADERS.iter().find(|(_, spellings)| spellings.contains(&r.as_str())) {
            Some((c, _)) if at.insert(*c, i).is_some() => {
                problems.push(Problem { row: header_line, column: Some(*c), message: "the column is given twice".into() })
            }
            Some(_) => {}
            // A run report's failed rows carry why each failed: read back as they are, the column is ignored.
            None if r.is_empty() || r == "error" => {}
            None => problems.push(Problem { row: header_line, column: None, message: format!("unknown column {h:?}") }),
        }
    }
    for required in [Column::Login, Column::RoutingProfile, Column::SecurityProfiles] {
        if !at.contains_key(&required) {
            problems.push(Problem { row: header_line, column: Some(required), message: "a required column is missing".into() });
        }
    }
    at
}

/// One data row: handed to `f` as an entry, or its problems added.
#[allow(clippy::too_many_arguments)]
fn read_row(
    row: usize,
    rec: &[String],
    columns: usize,
    at: &HashMap<Column, usize>,
    names: &Names,
    logins: &mut HashMap<String, usize>,
    problems: &mut Vec<Problem>,
    f: &mut dyn FnMut(usize, Map<String, Value>),
) {
    {
        // A row with a comma too few or too many has its values under the wrong columns: a password could then
        // be quoted in another column's message. Such a row is refused whole and none of its values is shown
        // (extra fields that are empty, as spreadsheets write them, are fine).
        if rec.len() < columns || rec.iter().skip(columns).any(|f| !f.trim().is_empty()) {
            let message = format!(
                "has {} values where the header has {} columns: a comma too few or too many (a value with a comma \
                 goes in double quotes); its values are not shown",
                rec.len(),
                columns
            );
            problems.push(Problem { row, column: None, message });
            return;
        }
        let before = problems.len();
        let get = |c: Column| at.get(&c).and_then(|&i| rec.get(i)).map(|s| s.trim()).filter(|s| !s.is_empty());
        let mut bad = |c: Column, m: String| problems.push(Problem { row, column: Some(c), message: m });
        let mut e = Map::new();
        match get(Column::Login) {
            None => bad(Column::Login, "required".into()),
            Some(l) => {
                if let Some(first) = logins.insert(l.to_lowercase(), row) {
                    bad(Column::Login, format!("{l} is also the login of row {first}"));
                }
                e.insert("Name".into(), json!(l));
            }
        }
        let mut identity = Map::new();
        for (c, key) in [
            (Column::FirstName, "FirstName"),
            (Column::LastName, "LastName"),
            (Column::Email, "Email"),
            (Column::SecondaryEmail, "SecondaryEmail"),
            (Column::Mobile, "Mobile"),
        ] {
            if let Some(v) = get(c) {
                identity.insert(key.into(), json!(v));
            }
        }
        if !identity.is_empty() {
            e.insert("IdentityInfo".into(), Value::Object(identity));
        }
        if let Some(p) = get(Column::Password) {
            e.insert("Password".into(), json!(p));
        }
        if let Some(id) = get(Column::ImportId) {
            e.insert("ImportId".into(), json!(id));
        }
        match get(Column::RoutingProfile).map(|n| resolve(&names.routing_profiles, n)) {
            None => bad(Column::RoutingProfile, "required".into()),
            Some(Ok(id)) => {
                e.insert("RoutingProfileId".into(), json!(id));
            }
            Some(Err(m)) => bad(Column::RoutingProfile, m),
        }
        match get(Column::SecurityProfiles) {
            None => bad(Column::SecurityProfiles, "required".into()),
            Some(list) => {
                let mut ids = Vec::new();
                for n in list.split('|').filter(|n| !n.trim().is_empty()) {
                    match resolve(&names.security_profiles, n) {
                        Ok(id) => ids.push(json!(id)),
                        Err(m) => bad(Column::SecurityProfiles, m),
                    }
                }
                e.insert("SecurityProfileIds".into(), Value::Array(ids));
            }
        }
        if let Some(h) = get(Column::Hierarchy) {
            let h = h.trim_matches('/');
            match names.ambiguous_groups.get(&h.to_lowercase()) {
                Some(n) => bad(Column::Hierarchy, format!("{n} groups are named {h:?}; give its path (for example parent/{h})")),
                None => match resolve(&names.hierarchy_groups, h) {
                    Ok(id) => {
                        e.insert("HierarchyGroupId".into(), json!(id));
                    }
                    Err(m) => bad(Column::Hierarchy, m),
                },
            }
        }
        let mut phone = Map::new();
        match get(Column::PhoneType).map(str::to_lowercase).as_deref() {
            None => {}
            Some("soft") | Some("soft_phone") => {
                phone.insert("PhoneType".into(), json!("SOFT_PHONE"));
            }
            Some("desk") | Some("desk_phone") => {
                phone.insert("PhoneType".into(), json!("DESK_PHONE"));
            }
            Some(other) => bad(Column::PhoneType, format!("must be soft or desk, got {other:?}")),
        }
        if let Some(n) = get(Column::PhoneNumber) {
            phone.insert("DeskPhoneNumber".into(), json!(n));
        }
        match get(Column::AutoAccept).map(str::to_lowercase).as_deref() {
            None => {}
            Some("yes") | Some("true") => {
                phone.insert("AutoAccept".into(), json!("true"));
            }
            Some("no") | Some("false") => {
                phone.insert("AutoAccept".into(), json!("false"));
            }
            Some(other) => bad(Column::AutoAccept, format!("must be yes or no, got {other:?}")),
        }
        if let Some(t) = get(Column::AcwTimeout) {
            match t.parse::<u32>() {
                Ok(n) => {
                    phone.insert("AfterContactWorkTimeLimit".into(), json!(n.to_string()));
                }
                Err(_) => bad(Column::AcwTimeout, format!("must be a whole number of seconds, got {t:?}")),
            }
        }
        if !phone.is_empty() {
            e.insert("PhoneConfig".into(), Value::Object(phone));
        }
        if let Some(t) = get(Column::Tags) {
            let mut tags = Map::new();
            for pair in t.split('|').filter(|p| !p.trim().is_empty()) {
                match pair.split_once('=') {
                    Some((k, v)) if !k.trim().is_empty() => {
                        tags.insert(k.trim().to_string(), json!(v.trim()));
                    }
                    _ => bad(Column::Tags, format!("{pair:?} is not key=value")),
                }
            }
            e.insert("Tags".into(), Value::Object(tags));
        }
        if problems.len() == before {
            f(row, e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let m = |pairs: &[(&str, &str)]| pairs.iter().map(|(n, i)| (n.to_string(), i.to_string())).collect();
        Names {
            routing_profiles: m(&[("Basic Routing Profile", "rp-1"), ("Sales Routing Profile", "rp-2")]),
            security_profiles: m(&[("Agent", "sp-1"), ("CallCenterManager", "sp-2")]),
            hierarchy_groups: m(&[("EMEA", "hg-1"), ("EMEA/tier 1", "hg-2"), ("US/tier 1", "hg-3")]),
            ambiguous_groups: [("tier 1".to_string(), 2)].into(),
        }
    }

    #[test]
    fn the_import_id_column_is_read_and_written_and_ids_stand_in_for_names() {
        let text =
            "user login,routing profile name,security profile name,import id\nana,rp-2,Agent,i-1:u-9\nben,Basic Routing Profile,sp-2,\n";
        let rows = entries(text, &names()).unwrap();
        assert_eq!(rows[0].1["ImportId"], "i-1:u-9");
        assert_eq!(rows[0].1["RoutingProfileId"], "rp-2", "an id in place of a name");
        assert!(!rows[1].1.contains_key("ImportId"), "an empty cell imports nothing");
        assert!(header_line().ends_with(",tags,import id\r\n"), "{}", header_line());
        // Written back from the user's properties, with the ids where no names are known.
        let mut e = rows[0].1.clone();
        e.insert("InstanceId".into(), json!("i-1"));
        let p = crate::user::properties::UserProps::parse(&e).unwrap();
        let line = line(cells("ana", Some(&p), None));
        let back = entries(&format!("{}{line}", header_line()), &names()).unwrap();
        assert_eq!(back[0].1["ImportId"], "i-1:u-9");
        assert_eq!(back[0].1["RoutingProfileId"], "rp-2");
        assert_eq!(back[0].1["SecurityProfileIds"], json!(["sp-1"]));
    }

    /// The console's template as it writes it: a byte order mark, CRLF, quoting, an empty optional column.
    const CONSOLE: &str = "\u{feff}first name,last name,email address,secondary email address,mobile,password,user login,routing profile name,security_profile_name_1|security_profile_name_2,phone type (soft/desk),phone number,soft phone auto accept (yes/no),ACW timeout (seconds)\r\nAna,\"Silva, Jr.\",ana@example.com,,+14155550100,Passw0rdAna1,ana.silva,Basic Routing Profile,Agent|CallCenterManager,soft,,yes,30\r\n\"Ben \"\"B\"\"\",Okafor,ben@example.com,,,Passw0rdBen1,ben.okafor,Sales Routing Profile,Agent,desk,+14155550101,no,0\r\n";

    #[test]
    fn names_that_differ_only_in_case_are_refused_naming_both() {
        let mut n = names();
        n.routing_profiles.insert("basic routing profile".into(), "rp-lower".into());
        let (rows, problems) = read(CONSOLE, &n);
        assert_eq!(rows.len(), 1, "the other row resolves");
        assert_eq!(problems.len(), 1);
        let shown = problems[0].to_string();
        assert!(shown.starts_with("row 2, column routing profile name: \"Basic Routing Profile\" names 2 of the instance's"), "{shown}");
        assert!(shown.contains("\"Basic Routing Profile\" (rp-1) and \"basic routing profile\" (rp-lower)"), "{shown}");
        assert_eq!(resolve(&n.routing_profiles, "sales routing profile"), Ok("rp-2".into()), "one match in any case is that one");
    }

    #[test]
    fn an_id_of_the_instance_is_taken_in_place_of_its_name_exactly_as_written() {
        let n = names();
        assert_eq!(resolve(&n.routing_profiles, " rp-2 "), Ok("rp-2".into()));
        assert_eq!(resolve(&n.hierarchy_groups, "hg-3"), Ok("hg-3".into()));
        assert!(resolve(&n.routing_profiles, "RP-2").unwrap_err().starts_with("no such name"), "ids are not case-folded");
        assert!(resolve(&n.routing_profiles, "rp-9").unwrap_err().starts_with("no such name"), "only the instance's ids");
    }

    #[test]
    fn the_consoles_template_reads_as_entries() {
        let e: Vec<Map<String, Value>> = entries(CONSOLE, &names()).unwrap().into_iter().map(|(_, m)| m).collect();
        assert_eq!(e.len(), 2);
        assert_eq!(
            Value::Object(e[0].clone()),
            json!({
                "Name": "ana.silva",
                "IdentityInfo": {"FirstName": "Ana", "LastName": "Silva, Jr.", "Email": "ana@example.com", "Mobile": "+14155550100"},
                "Password": "Passw0rdAna1",
                "RoutingProfileId": "rp-1",
                "SecurityProfileIds": ["sp-1", "sp-2"],
                "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AutoAccept": "true", "AfterContactWorkTimeLimit": "30"}
            })
        );
        assert_eq!(e[1]["IdentityInfo"]["FirstName"], "Ben \"B\"", "doubled quotes inside quotes");
        assert_eq!(e[1]["PhoneConfig"]["DeskPhoneNumber"], "+14155550101");
        let every_entry_parses = e.iter().all(|x| {
            let mut p = x.clone();
            p.insert("InstanceId".into(), json!("11111111-2222-3333-4444-555555555555"));
            crate::user::properties::UserProps::parse(&p).is_ok()
        });
        assert!(every_entry_parses, "the entries are valid properties of one user");
    }

    #[test]
    fn a_row_with_a_comma_too_few_or_too_many_is_refused_without_showing_its_values() {
        let header = "first name,mobile,password,user login,routing profile name,security_profile_name_1|security_profile_name_2\n";
        // The mobile left out: the password moves under mobile, the login under password, and so on.
        let short = format!("{header}Ana,Secr3tPassw0rd,ana,Basic Routing Profile,Agent\n");
        let p = entries(&short, &names()).unwrap_err();
        let shown: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].starts_with("row 2: has 5 values where the header has 6 columns"), "{shown:?}");
        let long = format!("{header}Ana,,Secr3tPassw0rd,,ana,Basic Routing Profile,Agent\n");
        let p = entries(&long, &names()).unwrap_err();
        assert!(p[0].to_string().starts_with("row 2: has 7 values where the header has 6 columns"), "{p:?}");
        assert!(p.iter().all(|x| !x.to_string().contains("Secr3t")));
        // Empty fields after the last column, as spreadsheets write them, are not a shift.
        let trailing = format!("{header}Ana,,Secr3tPassw0rd,ana,Basic Routing Profile,Agent,,\n");
        assert_eq!(entries(&trailing, &names()).unwrap().len(), 1);
    }

    #[test]
    fn columns_are_found_by_header_in_any_order_and_the_public_variants_are_accepted() {
        let saml = "User Login,Security Profile Name,First Name,Last Name,Routing Profile Name,Hierarchy,Tags\nana,Agent,Ana,Silva,basic routing profile,EMEA/tier 1,team=support|site=lisbon\n";
        let e: Vec<Map<String, Value>> = entries(saml, &names()).unwrap().into_iter().map(|(_, m)| m).collect();
        assert_eq!(e[0]["RoutingProfileId"], "rp-1", "names without regard to case");
        assert_eq!(e[0]["HierarchyGroupId"], "hg-2", "a group path");
        assert_eq!(e[0]["Tags"], json!({"team": "support", "site": "lisbon"}));
        assert!(e[0].get("Password").is_none() && e[0]["IdentityInfo"].get("Email").is_none());
    }

    #[test]
    fn every_problem_is_reported_with_its_row_column_and_rule_and_never_a_password() {
        let text = "user login,routing profile name,security_profile_name_1|security_profile_name_2,phone type (soft/desk),ACW timeout (seconds),password\nana,Basic Routing Profil,Agent,soft,30,Secr3tPassw0rd\nana,Basic Routing Profile,Agnt,phone,thirty,Secr3tPassw0rd\n,Basic Routing Profile,Agent,,,\n";
        let p = entries(text, &names()).unwrap_err();
        let shown: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert!(
            shown.contains(
                &"row 2, column routing profile name: no such name: \"Basic Routing Profil\"; the nearest is \"Basic Routing Profile\""
                    .to_string()
            ),
            "{shown:?}"
        );
        assert!(shown.contains(&"row 3, column user login: ana is also the login of row 2".to_string()), "{shown:?}");
        assert!(
            shown.iter().any(|s| s.starts_with(
                "row 3, column security_profile_name_1|security_profile_name_2: no such name: \"Agnt\"; the nearest is \"Agent\""
            )),
            "{shown:?}"
        );
        assert!(shown.contains(&"row 3, column phone type (soft/desk): must be soft or desk, got \"phone\"".to_string()), "{shown:?}");
        assert!(
            shown.contains(&"row 3, column ACW timeout (seconds): must be a whole number of seconds, got \"thirty\"".to_string()),
            "{shown:?}"
        );
        assert!(shown.contains(&"row 4, column user login: required".to_string()), "{shown:?}");
        assert!(shown.iter().all(|s| !s.contains("Secr3t")), "{shown:?}");
    }

    #[test]
    fn a_group_name_used_twice_must_be_given_as_a_path() {
        let text = "user login,routing profile name,security profile name,hierarchy\nana,Basic Routing Profile,Agent,tier 1\nben,Basic Routing Profile,Agent,/US/tier 1/\n";
        let p = entries(text, &names()).unwrap_err();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].to_string(), "row 2, column hierarchy: 2 groups are named \"tier 1\"; give its path (for example parent/tier 1)");
        let ok = "user login,routing profile name,security profile name,hierarchy\nben,Basic Routing Profile,Agent,/US/tier 1/\n";
        assert_eq!(
            entries(ok, &names()).unwrap()[0],
            (
                2,
                serde_json::from_value(
                    json!({"Name": "ben", "RoutingProfileId": "rp-1", "SecurityProfileIds": ["sp-1"], "HierarchyGroupId": "hg-3"})
                )
                .unwrap()
            )
        );
        assert_eq!(hierarchy_paths(text), ["US/tier 1"]);
        assert_eq!(hierarchy_paths("user login,Hierarchy Group\na,x/y\nb,x/y\nc,z\n"), ["x/y"]);
        assert!(hierarchy_paths("user login\na\n").is_empty());
        assert_eq!(last_segment("support/EMEA/tier 1"), "tier 1");
    }

    #[test]
    fn a_wrong_header_is_refused_before_any_row() {
        let p = entries("login,colour\nana,red\n", &names()).unwrap_err();
        let shown: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert!(shown.contains(&"row 1: unknown column \"colour\"".to_string()), "{shown:?}");
        assert!(shown.contains(&"row 1, column routing profile name: a required column is missing".to_string()), "{shown:?}");
        assert_eq!(entries("", &names()).unwrap_err()[0].message, "the file is empty (no header)");
        assert_eq!(entries("a,\"b\n", &names()).unwrap_err()[0].message, "a quoted field is not closed");
    }

    #[test]
    fn records_keep_line_breaks_inside_quotes_and_their_line_numbers() {
        let r = records("a,b\r\n\"x\r\ny\",z\r\n\r\nlast,\"\"\n").unwrap();
        assert_eq!(r, vec![(1, vec!["a".into(), "b".into()]), (2, vec!["x\r\ny".into(), "z".into()]), (5, vec!["last".into(), "".into()])]);
    }
}

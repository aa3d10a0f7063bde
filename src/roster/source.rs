//! A roster kept in S3 (`Source`, `SourceVersion`, `SourceFormat`): which object, which version of it, and how
//! its content becomes entries. Pure; the read itself is in `s3.rs`.
//!
//! CloudFormation sends an Update only when a property changes, so a new upload is deployed by changing
//! `SourceVersion`, and a rollback's Update carries the previous one: the version must name content that can
//! still be read later, which is what an S3 VersionId does. An ETag only pins content; if the object has changed
//! since, the event fails rather than apply other content than the one deployed.

use super::csv::{self, Column};
use crate::cfn::coerce;
use crate::user::properties::PropertyError;
use serde_json::{Map, Value};

/// Files larger than this are refused before they are read (a roster of 20,000 agents is about 4 MB of CSV).
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;
/// Entries a file may hold (defined with the CSV reader, which stops there too).
pub use super::csv::MAX_ROWS;
/// How much of a response's 4096 bytes the list of a file's problems may take.
pub const PROBLEMS_BUDGET: usize = 2_800;

/// The set's properties that say where its file is.
pub const FIELDS: [&str; 3] = ["Source", "SourceVersion", "SourceFormat"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// An array of entries.
    Json,
    /// One entry per line.
    JsonLines,
}

/// Which content of the object is meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// No `SourceVersion`: whatever the object holds now.
    Latest,
    /// An S3 VersionId: that content, for as long as the version exists.
    VersionId(String),
    /// An ETag (32 hex digits, `-N` for a multipart upload, quoted or not): the object only while it still has it.
    ETag(String),
    /// A `SourceVersion` the key itself contains (a content-addressed key, such as a CDK asset's `<hash>.csv`):
    /// the key already names the content, and the value only tells CloudFormation that it changed.
    InKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub bucket: String,
    pub key: String,
    pub pin: Pin,
    pub format: Format,
}

impl Spec {
    /// `s3://bucket/key`, for messages.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// Entries as given, each with where it came from, before they are parsed as users.
pub type Sourced = Vec<(Origin, Map<String, Value>)>;

/// Where an entry came from, for messages that point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `Users[i]` of the template.
    Inline(usize),
    /// A CSV file's row (its line number; 1 is the header).
    Row(usize),
    /// A JSON file's array item.
    Item(usize),
    /// A JSON-lines file's line.
    Line(usize),
}

impl Origin {
    /// The entry (`Users[3]`, `row 14`, `Source[3]`, `Source line 7`).
    pub fn label(&self) -> String {
        match self {
            Origin::Inline(i) => format!("Users[{i}]"),
            Origin::Row(r) => format!("row {r}"),
            Origin::Item(i) => format!("Source[{i}]"),
            Origin::Line(l) => format!("Source line {l}"),
        }
    }

    /// A property of the entry: in a CSV row, the column it comes from, as the console's template names it.
    pub fn at(&self, property: &str) -> String {
        match self {
            Origin::Row(r) => match column_of(property) {
                Some(c) => format!("row {r}, column {}", c.header()),
                None => format!("row {r}, {property}"),
            },
            _ => format!("{}.{property}", self.label()),
        }
    }
}

/// The CSV column a property path of an entry comes from.
pub fn column_of(path: &str) -> Option<Column> {
    let head = |p: &str| path == p || path.starts_with(&format!("{p}.")) || path.starts_with(&format!("{p}["));
    let pairs = [
        ("IdentityInfo.FirstName", Column::FirstName),
        ("IdentityInfo.LastName", Column::LastName),
        ("IdentityInfo.SecondaryEmail", Column::SecondaryEmail),
        ("IdentityInfo.Email", Column::Email),
        ("IdentityInfo.Mobile", Column::Mobile),
        ("Password", Column::Password),
        ("Name", Column::Login),
        ("RoutingProfileId", Column::RoutingProfile),
        ("SecurityProfileIds", Column::SecurityProfiles),
        ("PhoneConfig.PhoneType", Column::PhoneType),
        ("PhoneConfig.DeskPhoneNumber", Column::PhoneNumber),
        ("PhoneConfig.AutoAccept", Column::AutoAccept),
        ("PhoneConfig.AfterContactWorkTimeLimit", Column::AcwTimeout),
        ("HierarchyGroupId", Column::Hierarchy),
        ("Tags", Column::Tags),
    ];
    pairs.iter().find(|(p, _)| head(p)).map(|(_, c)| *c)
}

fn get<'a>(props: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    props.iter().find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_null()).map(|(_, v)| v)
}

fn pin_of(version: &str, key: &str) -> Pin {
    let v = version.trim();
    if v.is_empty() {
        return Pin::Latest;
    }
    let bare = v.trim_matches('"');
    let (hex, part) = bare.split_once('-').unwrap_or((bare, "1"));
    if hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) && part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
        return Pin::ETag(format!("\"{bare}\""));
    }
    if key.contains(v) {
        return Pin::InKey;
    }
    Pin::VersionId(v.to_string())
}

fn format_of(key: &str, given: Option<&str>) -> Result<Format, String> {
    let named = given.map(str::to_ascii_lowercase);
    let from_key = key.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase());
    match named.as_deref().or(from_key.as_deref()) {
        Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        Some("jsonl") | Some("ndjson") | Some("jsonlines") | Some("json-lines") => Ok(Format::JsonLines),
        Some(other) if named.is_some() => Err(format!("must be csv, json or jsonl, got {other:?}")),
        _ => Err(format!("cannot tell the format of {key:?} from its extension; give SourceFormat (csv, json or jsonl)")),
    }
}

/// The set's `Source`, if it has one; every problem of the three properties otherwise.
pub fn spec(props: &Map<String, Value>) -> Result<Option<Spec>, Vec<PropertyError>> {
    let mut errors = Vec::new();
    let mut bad = |path: &str, message: String| errors.push(PropertyError { path: path.into(), message });
    let text = |name: &str, bad: &mut dyn FnMut(&str, String)| match get(props, name).map(coerce::string) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            bad(name, e.to_string());
            None
        }
    };
    let source = text("Source", &mut bad).filter(|s| !s.trim().is_empty());
    let version = text("SourceVersion", &mut bad);
    let format = text("SourceFormat", &mut bad);
    let Some(source) = source else {
        for name in ["SourceVersion", "SourceFormat"] {
            if get(props, name).is_some() {
                bad(name, "needs Source".into());
            }
        }
        return if errors.is_empty() { Ok(None) } else { Err(errors) };
    };
    let parsed = source.trim().strip_prefix("s3://").and_then(|rest| rest.split_once('/')).filter(|(b, k)| !b.is_empty() && !k.is_empty());
    let Some((bucket, key)) = parsed else {
        bad("Source", format!("must be s3://bucket/key, got {:?}", crate::cfn::event::truncate(&source, 100)));
        return Err(errors);
    };
    let format = match format_of(key, format.as_deref()) {
        Ok(f) => Some(f),
        Err(m) => {
            bad(if get(props, "SourceFormat").is_some() { "SourceFormat" } else { "Source" }, m);
            None
        }
    };
    match format {
        Some(format) if errors.is_empty() => {
            Ok(Some(Spec { bucket: bucket.to_string(), key: key.to_string(), pin: pin_of(version.as_deref().unwrap_or(""), key), format }))
        }
        _ => Err(errors),
    }
}

/// The entries of a file that could be read, each with where it came from, and every problem found (an entry
/// with a problem is left out, so that the others can still be checked as users and every problem is reported).
pub fn entries(text: &str, format: Format, names: &csv::Names) -> (Sourced, Vec<String>) {
    let mut items = Vec::new();
    let problems = each(text, format, names, &mut |o, e| items.push((o, e)));
    (items, problems)
}

/// The one problem of a file with more than [`MAX_ROWS`] entries, where it is found (`at`: the entry past it).
fn too_many(at: &str) -> String {
    format!("{at}: the file has more than {MAX_ROWS} users; a set takes at most {MAX_ROWS} (split it into several sets)")
}

/// How many entries a file has, when at most [`MAX_ROWS`]: counted without building any (and without reading
/// past the limit), so that a file far too long is refused before anything else is done for it: no name of the
/// instance is read for it, and no entry is held. A file that cannot be read as its format is left to
/// [`each`], which says why (the count is then only a hint).
pub fn within_limit(text: &str, format: Format) -> Result<usize, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Csv => {
            let mut records = 0usize;
            let mut past = None;
            let _ = csv::each_record(text, &mut |line, _| {
                records += 1;
                if records > MAX_ROWS + 1 {
                    past = Some(line);
                }
                past.is_none()
            });
            // The first record is the header.
            past.map_or(Ok(records.saturating_sub(1)), |line| Err(too_many(&Origin::Row(line).label())))
        }
        Format::JsonLines => {
            let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
            match lines.by_ref().nth(MAX_ROWS) {
                Some((n, _)) => Err(too_many(&Origin::Line(n + 1).label())),
                None => Ok(text.lines().filter(|l| !l.trim().is_empty()).count()),
            }
        }
        Format::Json => {
            use serde::de::{Error as _, IgnoredAny, SeqAccess, Visitor};
            // Stops at the first entry past the limit (serde then sees an unfinished array: `over` tells them apart).
            struct Count<'a>(&'a mut bool, &'a mut usize);
            impl<'de> Visitor<'de> for Count<'_> {
                type Value = ();
                fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
                    out.write_str("a JSON array")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                    while seq.next_element::<IgnoredAny>()?.is_some() {
                        *self.1 += 1;
                        if *self.1 > MAX_ROWS {
                            *self.0 = true;
                            return Err(A::Error::custom("too many"));
                        }
                    }
                    Ok(())
                }
            }
            let (mut over, mut n) = (false, 0);
            let mut de = serde_json::Deserializer::from_str(text);
            let _ = serde::Deserializer::deserialize_seq(&mut de, Count(&mut over, &mut n));
            if over {
                return Err(too_many(&Origin::Item(MAX_ROWS).label()));
            }
            Ok(n)
        }
    }
}

/// What receives a file's entries one by one.
pub type Each<'a> = dyn FnMut(Origin, Map<String, Value>) + 'a;

/// [`entries`], each handed to `f` as it is read: the file is never held as entries all at once (a set parses
/// each as it comes; an Update reads its previous file this way, keeping only what differs from the new one),
/// and a file with more than [`MAX_ROWS`] entries is not read past its limit: that is then its one problem.
pub fn each(text: &str, format: Format, names: &csv::Names, f: &mut Each) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Csv => {
            csv::read_each(text, names, MAX_ROWS, &mut |row, e| f(Origin::Row(row), e)).iter().map(ToString::to_string).collect()
        }
        Format::Json => json_each(text, f),
        Format::JsonLines => {
            let mut problems = Vec::new();
            for (i, (n, line)) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).enumerate() {
                if i >= MAX_ROWS {
                    return vec![too_many(&Origin::Line(n + 1).label())];
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(Value::Object(o)) => f(Origin::Line(n + 1), o),
                    Ok(other) => problems.push(format!(
                        "Source line {}: must be an object with the properties of one user, got {}",
                        n + 1,
                        coerce::kind(&other)
                    )),
                    Err(e) => problems.push(format!("Source line {}: not JSON: {e}", n + 1)),
                }
            }
            problems
        }
    }
}

/// A JSON array of entries, read item by item (a 50 MB file parsed whole would not fit the function's memory).
fn json_each(text: &str, f: &mut dyn FnMut(Origin, Map<String, Value>)) -> Vec<String> {
    use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};
    struct Items<'a> {
        f: &'a mut dyn FnMut(Origin, Map<String, Value>),
        problems: &'a mut Vec<String>,
        over: &'a mut bool,
    }
    impl<'de> Visitor<'de> for Items<'_> {
        type Value = ();
        fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
            out.write_str("a JSON array of users")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while let Some(item) = seq.next_element::<Value>()? {
                if i >= MAX_ROWS {
                    *self.over = true;
                    return Err(A::Error::custom("too many"));
                }
                match item {
                    Value::Object(o) => (self.f)(Origin::Item(i), o),
                    other => self
                        .problems
                        .push(format!("Source[{i}]: must be an object with the properties of one user, got {}", coerce::kind(&other))),
                }
                i += 1;
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Items<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    let kind = match text.trim_start().chars().next() {
        Some('{') => Some("an object"),
        Some('"') => Some("a string"),
        Some('t' | 'f') => Some("a boolean"),
        Some('n') => Some("null"),
        Some(c) if c == '-' || c.is_ascii_digit() => Some("a number"),
        _ => None,
    };
    if let Some(kind) = kind {
        return vec![format!("the file must be a JSON array of users, got {kind}")];
    }
    let (mut problems, mut over) = (Vec::new(), false);
    let mut de = serde_json::Deserializer::from_str(text);
    let read = Items { f, problems: &mut problems, over: &mut over }.deserialize(&mut de).and_then(|()| de.end());
    if over {
        return vec![too_many(&Origin::Item(MAX_ROWS).label())];
    }
    if let Err(e) = read {
        return vec![format!("the file is not JSON: {e}")];
    }
    problems
}

/// As many problems as fit `budget` bytes, then how many more there are: the whole list goes to the logs.
pub fn capped(problems: &[String], budget: usize) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        let sep = if out.is_empty() { "" } else { "; " };
        let rest = problems.len() - i;
        let tail = format!("; and {rest} more (every one is in the function's logs)");
        if out.len() + sep.len() + p.len() + tail.len() > budget {
            if out.is_empty() {
                // The cut adds an ellipsis of 3 bytes.
                out = crate::cfn::event::truncate(p, budget.saturating_sub(tail.len() + 3));
                if rest > 1 {
                    out.push_str(&format!("; and {} more (every one is in the function's logs)", rest - 1));
                }
                return out;
            }
            out.push_str(&tail);
            return out;
        }
        out.push_str(sep);
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_source_names_its_bucket_key_version_and_format() {
        let s = spec(&props(json!({"Source": "s3://rosters/team/agents.csv", "SourceVersion": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"})))
            .unwrap()
            .unwrap();
        assert_eq!((s.bucket.as_str(), s.key.as_str(), s.format), ("rosters", "team/agents.csv", Format::Csv));
        assert_eq!(s.pin, Pin::VersionId("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY".into()));
        assert_eq!(s.uri(), "s3://rosters/team/agents.csv");
        let j = spec(&props(json!({"Source": "s3://b/k.data", "SourceFormat": "JSONL"}))).unwrap().unwrap();
        assert_eq!((j.format, j.pin), (Format::JsonLines, Pin::Latest));
        assert_eq!(spec(&props(json!({"Source": "s3://b/x.json"}))).unwrap().unwrap().format, Format::Json);
        assert_eq!(spec(&props(json!({"Users": []}))).unwrap(), None, "no Source: an inline roster");
    }

    #[test]
    fn etags_and_content_addressed_keys_are_told_from_version_ids() {
        let pin = |v: &str, key: &str| pin_of(v, key);
        assert_eq!(pin("0cc175b9c0f1b6a831c399e269772661", "a.csv"), Pin::ETag("\"0cc175b9c0f1b6a831c399e269772661\"".into()));
        assert_eq!(pin("\"0cc175b9c0f1b6a831c399e269772661\"", "a.csv"), Pin::ETag("\"0cc175b9c0f1b6a831c399e269772661\"".into()));
        assert_eq!(pin("0cc175b9c0f1b6a831c399e269772661-12", "a.csv"), Pin::ETag("\"0cc175b9c0f1b6a831c399e269772661-12\"".into()));
        assert_eq!(pin("0cc175b9c0f1b6a831c399e26977266", "a.csv"), Pin::VersionId("0cc175b9c0f1b6a831c399e26977266".into()), "31 digits");
        assert_eq!(pin("0cc175b9c0f1b6a831c399e269772661-", "a.csv"), Pin::VersionId("0cc175b9c0f1b6a831c399e269772661-".into()));
        let hash = "5f0c2e9d7a1b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5";
        assert_eq!(pin(hash, &format!("assets/{hash}.csv")), Pin::InKey);
        assert_eq!(pin("", "a.csv"), Pin::Latest);
        assert_eq!(pin("null", "a.csv"), Pin::VersionId("null".into()), "S3's VersionId of an object written before versioning");
    }

    #[test]
    fn a_wrong_source_is_named() {
        let e = spec(&props(json!({"Source": "https://bucket/key.csv", "SourceVersion": "v"}))).unwrap_err();
        assert_eq!(e[0].to_string(), "Source: must be s3://bucket/key, got \"https://bucket/key.csv\"");
        let e = spec(&props(json!({"Source": "s3://bucket/"}))).unwrap_err();
        assert_eq!(e[0].path, "Source");
        let e = spec(&props(json!({"Source": "s3://b/roster.txt"}))).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "Source: cannot tell the format of \"roster.txt\" from its extension; give SourceFormat (csv, json or jsonl)"
        );
        let e = spec(&props(json!({"Source": "s3://b/roster.csv", "SourceFormat": "xml"}))).unwrap_err();
        assert_eq!(e[0].to_string(), "SourceFormat: must be csv, json or jsonl, got \"xml\"");
        let e = spec(&props(json!({"SourceVersion": "v", "SourceFormat": "csv"}))).unwrap_err();
        assert_eq!(e.iter().map(ToString::to_string).collect::<Vec<_>>(), ["SourceVersion: needs Source", "SourceFormat: needs Source"]);
    }

    #[test]
    fn entries_say_where_they_came_from() {
        assert_eq!(Origin::Inline(3).at("PhoneConfig.DeskPhoneNumber"), "Users[3].PhoneConfig.DeskPhoneNumber");
        assert_eq!(Origin::Row(14).at("PhoneConfig.DeskPhoneNumber"), "row 14, column phone number");
        assert_eq!(Origin::Row(14).at("IdentityInfo.Email"), "row 14, column email address");
        assert_eq!(Origin::Row(14).at("IdentityInfo.SecondaryEmail"), "row 14, column secondary email address");
        assert_eq!(Origin::Row(14).at("SecurityProfileIds[1]"), "row 14, column security_profile_name_1|security_profile_name_2");
        assert_eq!(Origin::Row(14).at("Name"), "row 14, column user login");
        assert_eq!(Origin::Row(14).at("PhoneConfig"), "row 14, PhoneConfig", "no single column");
        assert_eq!(Origin::Item(2).at("Name"), "Source[2].Name");
        assert_eq!(Origin::Line(7).label(), "Source line 7");
    }

    #[test]
    fn json_and_json_lines_read_as_entries_and_their_problems_are_placed() {
        let names = csv::Names::default();
        let ok = |text: &str, f: Format| {
            let (items, problems) = entries(text, f, &names);
            assert!(problems.is_empty(), "{problems:?}");
            items
        };
        let bad = |text: &str, f: Format| entries(text, f, &names).1;
        let e = ok("\u{feff}[{\"Name\": \"a\"}, {\"Name\": \"b\"}]", Format::Json);
        assert_eq!(
            e.iter().map(|(o, m)| (o.label(), m["Name"].clone())).collect::<Vec<_>>(),
            [("Source[0]".to_string(), json!("a")), ("Source[1]".to_string(), json!("b"))]
        );
        let l = ok("{\"Name\": \"a\"}\n\n{\"Name\": \"b\"}\r\n", Format::JsonLines);
        assert_eq!(l.iter().map(|(o, _)| *o).collect::<Vec<_>>(), [Origin::Line(1), Origin::Line(3)]);
        assert_eq!(bad("{\"Name\": 1}", Format::Json), ["the file must be a JSON array of users, got an object"]);
        let (kept, problems) = entries("[1, {}]", Format::Json, &names);
        assert_eq!(problems, ["Source[0]: must be an object with the properties of one user, got a number"]);
        assert_eq!(kept.iter().map(|(o, _)| *o).collect::<Vec<_>>(), [Origin::Item(1)], "the good entries are kept, to be checked too");
        let lines = bad("{\"Name\": \"a\"}\n{oops\n[]\n", Format::JsonLines);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("Source line 2: not JSON"), "{lines:?}");
        assert!(bad("[", Format::Json)[0].starts_with("the file is not JSON"));
    }

    #[test]
    fn a_file_over_the_row_limit_is_refused_without_reading_past_it() {
        let names = csv::Names::default();
        let limit = |at: &str| {
            vec![format!("{at}: the file has more than {MAX_ROWS} users; a set takes at most {MAX_ROWS} (split it into several sets)")]
        };
        let count = |text: &str, format: Format| {
            let mut n = 0;
            let problems = each(text, format, &names, &mut |_, _| n += 1);
            (n, problems)
        };
        // What follows the limit is broken: it is never read, so only the limit is reported.
        let json = format!("[{}, oops", vec!["{}"; MAX_ROWS + 1].join(","));
        assert_eq!(count(&json, Format::Json), (MAX_ROWS, limit("Source[20000]")));
        let lines = format!("{}\n{{oops\n", vec!["{}"; MAX_ROWS + 1].join("\n"));
        assert_eq!(count(&lines, Format::JsonLines), (MAX_ROWS, limit("Source line 20001")));
        let rows: Vec<String> = (0..=MAX_ROWS).map(|i| format!("u{i},x,y")).collect();
        let csv_text =
            format!("user login,routing profile name,security_profile_name_1|security_profile_name_2\n{}\n\"unclosed\n", rows.join("\n"));
        let (n, problems) = count(&csv_text, Format::Csv);
        assert_eq!(problems, limit("row 20002"));
        assert_eq!(n, 0, "no row resolved (the instance has no such profiles), and none past the limit was read");

        assert_eq!(within_limit(&json, Format::Json), Err(limit("Source[20000]").remove(0)));
        assert_eq!(within_limit(&lines, Format::JsonLines), Err(limit("Source line 20001").remove(0)));
        assert_eq!(within_limit(&csv_text, Format::Csv), Err(limit("row 20002").remove(0)));
        let with_bom = format!("\u{feff}{csv_text}");
        assert_eq!(within_limit(&with_bom, Format::Csv), Err(limit("row 20002").remove(0)));

        let just = format!("[{}]", vec!["{}"; MAX_ROWS].join(","));
        assert_eq!(within_limit(&just, Format::Json), Ok(MAX_ROWS));
        assert!(within_limit("{\"a\": [1, 2]}", Format::Json).is_ok(), "not an array: each says so");
        assert!(within_limit("[1, ", Format::Json).is_ok(), "not JSON: each says so");
        let header_and_limit: Vec<String> = (0..MAX_ROWS).map(|i| format!("u{i},x,y")).collect();
        assert_eq!(
            within_limit(&format!("h,h,h\n{}\n\n", header_and_limit.join("\n")), Format::Csv),
            Ok(MAX_ROWS),
            "a header and the limit"
        );
        assert_eq!(within_limit(&vec!["{}"; MAX_ROWS].join("\n\n"), Format::JsonLines), Ok(MAX_ROWS), "blank lines do not count");
        assert_eq!(within_limit("h\na\nb\n", Format::Csv), Ok(2));
        assert_eq!(within_limit("[{}, {}, {}]", Format::Json), Ok(3));
        let (kept, problems) = entries(&just, Format::Json, &names);
        assert_eq!(
            (kept.len(), kept[MAX_ROWS - 1].0, problems),
            (MAX_ROWS, Origin::Item(MAX_ROWS - 1), vec![]),
            "exactly the limit is fine"
        );
        let just_lines = vec!["{}"; MAX_ROWS].join("\n");
        assert_eq!(count(&just_lines, Format::JsonLines), (MAX_ROWS, vec![]));
        assert_eq!(count(" {\"a\": 1}", Format::Json).1, ["the file must be a JSON array of users, got an object"]);
        assert_eq!(count("7", Format::Json).1, ["the file must be a JSON array of users, got a number"]);
        assert_eq!(count("-7", Format::Json).1, ["the file must be a JSON array of users, got a number"]);
        assert_eq!(count("\"x\"", Format::Json).1, ["the file must be a JSON array of users, got a string"]);
        assert_eq!(count("true", Format::Json).1, ["the file must be a JSON array of users, got a boolean"]);
        assert_eq!(count("null", Format::Json).1, ["the file must be a JSON array of users, got null"]);
        assert!(count("[{}] [", Format::Json).1[0].starts_with("the file is not JSON: trailing characters"));
    }

    #[test]
    fn a_long_list_of_problems_is_capped_with_a_count() {
        let problems: Vec<String> = (2..500).map(|r| format!("row {r}, column phone number: must be E.164")).collect();
        let shown = capped(&problems, PROBLEMS_BUDGET);
        assert!(shown.len() <= PROBLEMS_BUDGET, "{}", shown.len());
        assert!(shown.starts_with("row 2, column phone number"));
        let listed = shown.matches("must be E.164").count();
        assert!(shown.ends_with(&format!("; and {} more (every one is in the function's logs)", problems.len() - listed)), "{shown}");
        assert_eq!(capped(&problems[..2], PROBLEMS_BUDGET), format!("{}; {}", problems[0], problems[1]));
        let huge = vec!["x".repeat(5000), "y".into()];
        let one = capped(&huge, 100);
        assert!(one.len() <= 100 && one.ends_with("; and 1 more (every one is in the function's logs)"), "{one}");
    }
}

//! The written template: logical ids from usernames, files of at most 500 resources, and the YAML and JSON
//! forms. Pure, so it is tested without Connect.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// CloudFormation's limit on resources in one stack.
pub const MAX_RESOURCES: usize = 500;
/// CloudFormation's limit on a template uploaded through S3 is 1 MB; stay under it with room to spare.
pub const MAX_TEMPLATE_BYTES: usize = 900_000;
/// The export name `template.yaml`'s stack gives its ServiceToken when the stack is called connect-user-resource.
pub const DEFAULT_SERVICE_TOKEN_EXPORT: &str = "connect-user-resource-ServiceToken";

/// FNV-1a, 32 bit: a short, stable digest for telling apart usernames that read alike.
fn digest(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08X}")
}

/// `prefix` + the username in PascalCase, letters and digits only (`jane.doe@example.com` gives
/// `UserJaneDoeExampleCom`). Usernames that read alike (`jane.doe`, `jane_doe`) each get a digest of their own
/// username appended, so that ids are unique and do not depend on the order users are listed in.
pub fn logical_ids(prefix: &str, usernames: &[String]) -> HashMap<String, String> {
    let prefix: String = prefix.chars().filter(char::is_ascii_alphanumeric).collect();
    let base = |name: &str| -> String {
        let mut out = prefix.clone();
        for word in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
            let mut c = word.chars();
            if let Some(f) = c.next() {
                out.push(f.to_ascii_uppercase());
                out.push_str(c.as_str());
            }
        }
        if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
            out.insert_str(0, "User");
        }
        out.chars().take(200).collect()
    };
    let mut by_base: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for u in usernames {
        by_base.entry(base(u)).or_default().push(u);
    }
    let mut out = HashMap::new();
    for (b, names) in by_base {
        let alike = names.len() > 1;
        for n in names {
            out.insert(n.clone(), if alike { format!("{b}{}", digest(n)) } else { b.clone() });
        }
    }
    out
}

/// One `Custom::ConnectUser` resource from the user's properties.
pub fn resource(properties: &Map<String, Value>) -> Value {
    let mut p = Map::new();
    p.insert("ServiceToken".into(), json!({"Fn::ImportValue": {"Ref": "ServiceTokenExport"}}));
    p.extend(properties.clone());
    json!({"Type": "Custom::ConnectUser", "Properties": p})
}

/// Whole templates, each valid on its own: at most `MAX_RESOURCES` resources and `MAX_TEMPLATE_BYTES`, in the
/// order given.
pub fn templates(instance_id: &str, service_token_export: &str, resources: Vec<(String, Value)>) -> Vec<Value> {
    let mut groups: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    let mut size = 0;
    for (id, r) in resources {
        let bytes = r.to_string().len() * 2 + id.len();
        let full = groups.last().is_some_and(|g| g.len() >= MAX_RESOURCES || (size + bytes > MAX_TEMPLATE_BYTES && !g.is_empty()));
        if full {
            groups.push(Vec::new());
            size = 0;
        }
        size += bytes;
        if let Some(g) = groups.last_mut() {
            g.push((id, r));
        }
    }
    let parts = groups.len();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let part = if parts > 1 { format!(" (part {} of {parts})", i + 1) } else { String::new() };
            json!({
                "AWSTemplateFormatVersion": "2010-09-09",
                "Description": format!(
                    "The existing users of Amazon Connect instance {instance_id}{part}, written by connect-users export. Each resource takes its user over (ImportId) instead of creating one."
                ),
                "Parameters": {
                    "ServiceTokenExport": {
                        "Type": "String",
                        "Default": service_token_export,
                        "Description": "The export name of the connect-user-resource stack's ServiceToken output."
                    }
                },
                "Resources": Value::Object(g.into_iter().collect()),
            })
        })
        .collect()
}

/// Where a set's entries are: in the template, or in a roster file the template's parameters point at.
pub enum SetEntries<'a> {
    Inline(&'a [Map<String, Value>]),
    File { format: &'a str, file_name: &'a str },
}

/// One `Custom::ConnectUserSet` whose entries take every exported user over (each has its `ImportId`).
pub fn set_template(instance_id: &str, service_token_export: &str, logical_id: &str, entries: &SetEntries) -> Value {
    let mut props = Map::new();
    props.insert("ServiceToken".into(), json!({"Fn::ImportValue": {"Ref": "ServiceTokenExport"}}));
    props.insert("InstanceId".into(), json!(instance_id));
    let mut params = Map::new();
    params.insert(
        "ServiceTokenExport".into(),
        json!({
            "Type": "String",
            "Default": service_token_export,
            "Description": "The export name of the connect-user-resource stack's ServiceToken output."
        }),
    );
    match entries {
        SetEntries::Inline(users) => {
            props.insert("Users".into(), Value::Array(users.iter().cloned().map(Value::Object).collect()));
        }
        SetEntries::File { format, file_name } => {
            props.insert("Source".into(), json!({"Ref": "RosterUri"}));
            props.insert("SourceVersion".into(), json!({"Ref": "RosterVersion"}));
            props.insert("SourceFormat".into(), json!(format));
            params.insert(
                "RosterUri".into(),
                json!({
                    "Type": "String",
                    "AllowedPattern": "^s3://[^/]+/.+$",
                    "Description": format!("Where {file_name} (written beside this template) was uploaded: s3://bucket/key")
                }),
            );
            params.insert(
                "RosterVersion".into(),
                json!({
                    "Type": "String",
                    "MinLength": 1,
                    "Description": "The uploaded object's VersionId (a versioned bucket): each new upload is deployed by changing it."
                }),
            );
        }
    }
    let mut resources = Map::new();
    resources.insert(logical_id.to_string(), json!({"Type": "Custom::ConnectUserSet", "Properties": props}));
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "The existing users of Amazon Connect instance {instance_id} as one set, written by connect-users export --as set. Each entry takes its user over (ImportId) instead of creating one."
        ),
        "Parameters": params,
        "Resources": resources,
        "Outputs": {"Total": {"Description": "How many users the set holds.", "Value": {"Fn::GetAtt": [logical_id, "Total"]}}},
    })
}

/// Keys in the order a person writes a template; the rest alphabetically.
const ORDER: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Parameters",
    "Resources",
    "Outputs",
    "Type",
    "Default",
    "Properties",
    "ServiceToken",
    "InstanceId",
    "Source",
    "SourceVersion",
    "SourceFormat",
    "Users",
    "Name",
    "ImportId",
    "DirectoryUserId",
    "RoutingProfileId",
    "SecurityProfileIds",
    "HierarchyGroupId",
    "IdentityInfo",
    "FirstName",
    "LastName",
    "PhoneConfig",
    "PhoneType",
    "Channel",
    "AttributeName",
    "AttributeValue",
    "Key",
];

fn ordered(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<(&String, &Value)> = m.iter().collect();
    v.sort_by_key(|(k, _)| (ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()), k.as_str()));
    v
}

fn scalar(v: &Value) -> String {
    // JSON's string escapes are a subset of YAML's double-quoted ones, so a JSON string is a YAML scalar too.
    v.to_string()
}

fn key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '_') && !k.ends_with(':') {
        k.to_string()
    } else {
        Value::from(k).to_string()
    }
}

fn yaml_map(m: &Map<String, Value>, indent: usize, out: &mut String) {
    for (k, v) in ordered(m) {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key(k));
        out.push(':');
        yaml_value(v, indent, out);
    }
}

/// A value after `key:` (or after `- `): nested blocks on the following lines, scalars on the same line.
fn yaml_value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            yaml_map(m, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            for item in a {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        yaml_map(m, indent + 4, &mut inner);
                        out.push_str(&" ".repeat(indent + 2));
                        out.push_str("- ");
                        out.push_str(&inner[indent + 4..]);
                    }
                    other => {
                        out.push_str(&" ".repeat(indent + 2));
                        out.push('-');
                        yaml_value(other, indent + 2, out);
                    }
                }
            }
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

pub fn to_yaml(template: &Value) -> String {
    let mut out = String::new();
    match template {
        Value::Object(m) => yaml_map(m, 0, &mut out),
        other => out.push_str(&scalar(other)),
    }
    out
}

fn json_value(v: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize| " ".repeat(n);
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push_str("{\n");
            let items = ordered(m);
            for (i, (k, x)) in items.iter().enumerate() {
                out.push_str(&pad(indent + 2));
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push_str(": ");
                json_value(x, indent + 2, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad(indent + 2));
                json_value(x, indent + 2, out);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub fn to_json(template: &Value) -> String {
    let mut out = String::new();
    json_value(template, 0, &mut out);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_set_holds_every_entry_inline_or_points_at_its_roster_file_through_parameters() {
        let entries = vec![json!({"Name": "ana", "ImportId": "i-1:u-1"}).as_object().unwrap().clone()];
        let inline = set_template("i-1", "ex", "Roster", &SetEntries::Inline(&entries));
        let set = &inline["Resources"]["Roster"];
        assert_eq!(set["Type"], "Custom::ConnectUserSet");
        assert_eq!(set["Properties"]["Users"], json!([{"Name": "ana", "ImportId": "i-1:u-1"}]));
        assert_eq!(set["Properties"]["InstanceId"], "i-1");
        assert!(inline["Parameters"].get("RosterUri").is_none());
        assert_eq!(inline["Outputs"]["Total"]["Value"], json!({"Fn::GetAtt": ["Roster", "Total"]}));
        let file = set_template("i-1", "ex", "Agents", &SetEntries::File { format: "csv", file_name: "c.roster.csv" });
        let p = &file["Resources"]["Agents"]["Properties"];
        assert!(p.get("Users").is_none());
        assert_eq!(
            (&p["Source"], &p["SourceVersion"], &p["SourceFormat"]),
            (&json!({"Ref": "RosterUri"}), &json!({"Ref": "RosterVersion"}), &json!("csv"))
        );
        assert!(file["Parameters"]["RosterUri"]["Description"].as_str().unwrap().contains("c.roster.csv"));
        let yaml = to_yaml(&file);
        assert!(
            yaml.find("Parameters:").unwrap() < yaml.find("Resources:").unwrap()
                && yaml.find("Resources:").unwrap() < yaml.find("Outputs:").unwrap(),
            "{yaml}"
        );
    }

    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn logical_ids_are_valid_unique_and_independent_of_order() {
        let list = names(&["jane.doe@example.com", "jane_doe", "jane.doe", "42x", "bob"]);
        let ids = logical_ids("User", &list);
        assert_eq!(ids["jane.doe@example.com"], "UserJaneDoeExampleCom");
        assert_eq!(ids["bob"], "UserBob");
        assert_eq!(ids["42x"], "User42x");
        assert_ne!(ids["jane_doe"], ids["jane.doe"]);
        assert!(ids["jane_doe"].starts_with("UserJaneDoe") && ids["jane_doe"].len() == "UserJaneDoe".len() + 8);
        let mut reversed = list.clone();
        reversed.reverse();
        assert_eq!(logical_ids("User", &reversed), ids, "stable whatever the listing order");
        for id in ids.values() {
            assert!(id.chars().all(|c| c.is_ascii_alphanumeric()) && id.starts_with(|c: char| c.is_ascii_alphabetic()), "{id}");
        }
        assert_eq!(logical_ids("", &names(&["9lives"]))["9lives"], "User9lives");
        assert_eq!(logical_ids("Team-A.", &names(&["x"]))["x"], "TeamAX");
    }

    fn resources(n: usize) -> Vec<(String, Value)> {
        (0..n).map(|i| (format!("User{i}"), resource(&Map::from_iter([("Name".to_string(), json!(format!("u{i}")))])))).collect()
    }

    #[test]
    fn more_than_500_users_are_split_into_whole_templates() {
        let t = templates("inst", DEFAULT_SERVICE_TOKEN_EXPORT, resources(1001));
        assert_eq!(t.len(), 3);
        let counts: Vec<usize> = t.iter().map(|t| t["Resources"].as_object().unwrap().len()).collect();
        assert_eq!(counts, vec![500, 500, 1]);
        for part in &t {
            assert_eq!(part["Parameters"]["ServiceTokenExport"]["Default"], DEFAULT_SERVICE_TOKEN_EXPORT);
            assert!(part["Description"].as_str().unwrap().contains("of 3"));
        }
        let one = templates("inst", "x", resources(500));
        assert_eq!(one.len(), 1);
        assert!(!one[0]["Description"].as_str().unwrap().contains("part"));
    }

    #[test]
    fn large_resources_split_by_size_too() {
        let big: Vec<(String, Value)> =
            (0..10).map(|i| (format!("U{i}"), resource(&Map::from_iter([("Name".to_string(), json!("x".repeat(200_000)))])))).collect();
        let t = templates("inst", "x", big);
        assert!(t.len() >= 5, "{}", t.len());
        assert!(t.iter().all(|t| to_json(t).len() <= 1_000_000));
    }

    #[test]
    fn yaml_and_json_carry_the_same_template_in_a_readable_order() {
        let props = Map::from_iter([
            ("Name".to_string(), json!("o'brien: \"quoted\"\n#x")),
            ("Tags".to_string(), json!([{"Key": "k", "Value": "v"}, {"Key": "e", "Value": ""}])),
            ("SecurityProfileIds".to_string(), json!(["a", "b"])),
            ("PhoneConfig".to_string(), json!({"AutoAccept": false, "AfterContactWorkTimeLimit": 30})),
            ("UserProficiencies".to_string(), json!([{"AttributeName": "L", "AttributeValue": "E", "Level": 3.5}])),
            ("Empty".to_string(), json!({})),
        ]);
        let t = templates("inst", "exp", vec![("UserO".into(), resource(&props))]).remove(0);
        let j = to_json(&t);
        assert_eq!(serde_json::from_str::<Value>(&j).unwrap(), t);
        assert!(j.find("AWSTemplateFormatVersion").unwrap() < j.find("Resources").unwrap());
        assert!(j.find("\"Type\"").unwrap() < j.find("\"Properties\"").unwrap());
        let y = to_yaml(&t);
        assert!(y.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\n"), "{y}");
        assert!(y.contains("      Name: \"o'brien: \\\"quoted\\\"\\n#x\"\n"), "{y}");
        assert!(y.contains("      Tags:\n        - Key: \"k\"\n          Value: \"v\"\n"), "{y}");
        assert!(y.contains("      SecurityProfileIds:\n        - \"a\"\n        - \"b\"\n"), "{y}");
        assert!(y.contains("      ServiceToken:\n        Fn::ImportValue:\n          Ref: \"ServiceTokenExport\"\n"), "{y}");
        assert!(y.contains("Empty: {}\n"), "{y}");
        assert!(y.contains("Level: 3.5\n"), "{y}");
    }
}

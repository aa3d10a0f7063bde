//! Reading a CloudFormation template for `connect-users plan`: JSON or YAML (with the short forms `!Ref`,
//! `!Sub`, ...), parameters from their defaults and the command line, and the intrinsic functions whose value is
//! known before deployment (`Ref` of a parameter or pseudo parameter, `Fn::Sub`, `Fn::Join`, `Fn::Select`,
//! `Fn::If` with its conditions). What only a deployment knows (`Fn::GetAtt`, `Fn::ImportValue`, a `Ref` to a
//! resource) is refused, naming where, except in `ServiceToken`, which the plan does not need. Pure.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The template as JSON, short forms turned into their long forms.
pub fn parse(text: &str) -> Result<Value, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("not a JSON template: {e}"));
    }
    let y: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| format!("not a YAML template: {e}"))?;
    from_yaml(y)
}

fn from_yaml(y: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match y {
        Y::Null => Value::Null,
        Y::Bool(b) => json!(b),
        Y::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        Y::String(s) => json!(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    other => serde_yaml::to_string(&other).map_err(|e| e.to_string())?.trim().to_string(),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let name = t.tag.to_string();
            let name = name.trim_start_matches('!');
            let value = from_yaml(t.value)?;
            match name {
                "Ref" => json!({ "Ref": value }),
                "Condition" => json!({ "Condition": value }),
                // `!GetAtt a.b` is `Fn::GetAtt: [a, b]`.
                "GetAtt" => match value {
                    Value::String(s) => match s.split_once('.') {
                        Some((a, b)) => json!({ "Fn::GetAtt": [a, b] }),
                        None => json!({ "Fn::GetAtt": [s] }),
                    },
                    v => json!({ "Fn::GetAtt": v }),
                },
                other => json!({ format!("Fn::{other}"): value }),
            }
        }
    })
}

/// A parameter's value: its type decides whether it is a list.
fn parameter_value(ty: &str, raw: &str) -> Value {
    if ty == "CommaDelimitedList" || ty.starts_with("List<") {
        json!(raw.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>())
    } else {
        json!(raw)
    }
}

/// What `Ref` and `${}` can be before deployment.
pub struct Context {
    values: BTreeMap<String, Value>,
    conditions: Map<String, Value>,
}

impl Context {
    /// The template's parameters (defaults, then `given`, which must all be declared) and pseudo parameters.
    pub fn new(template: &Value, given: &[(String, String)], pseudo: &[(&str, &str)]) -> Result<Context, String> {
        let declared = template.get("Parameters").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut values = BTreeMap::new();
        for (k, v) in pseudo {
            values.insert((*k).to_string(), json!(v));
        }
        for (name, p) in &declared {
            let ty = p.get("Type").and_then(Value::as_str).unwrap_or("String");
            if let Some(d) = p.get("Default") {
                let raw = match d {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                values.insert(name.clone(), parameter_value(ty, &raw));
            }
        }
        for (k, v) in given {
            let Some(p) = declared.get(k) else {
                return Err(format!("--parameter {k}: the template declares no such parameter"));
            };
            values.insert(k.clone(), parameter_value(p.get("Type").and_then(Value::as_str).unwrap_or("String"), v));
        }
        for name in declared.keys() {
            if !values.contains_key(name) {
                return Err(format!("parameter {name} has no default: give --parameter {name}=VALUE"));
            }
        }
        let conditions = template.get("Conditions").and_then(Value::as_object).cloned().unwrap_or_default();
        Ok(Context { values, conditions })
    }

    /// `v` with every intrinsic function resolved; `at` says where, for the message.
    pub fn resolve(&self, v: &Value, at: &str) -> Result<Value, String> {
        match v {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let r = self.resolve(item, &format!("{at}[{i}]"))?;
                    if r != json!({"Ref": "AWS::NoValue"}) && !is_no_value(item) {
                        out.push(r);
                    }
                }
                Ok(Value::Array(out))
            }
            Value::Object(o) if o.len() == 1 => {
                let (k, arg) = o.iter().next().map(|(k, v)| (k.as_str(), v)).unwrap_or(("", &Value::Null));
                match k {
                    "Ref" => self.reference(arg, at),
                    "Fn::Sub" => self.sub(arg, at),
                    "Fn::Join" => {
                        let parts =
                            arg.as_array().filter(|a| a.len() == 2).ok_or_else(|| format!("{at}: Fn::Join takes [delimiter, list]"))?;
                        let delimiter = parts[0].as_str().unwrap_or_default();
                        let list = self.resolve(&parts[1], at)?;
                        let strings: Vec<String> = list.as_array().into_iter().flatten().map(text).collect();
                        Ok(json!(strings.join(delimiter)))
                    }
                    "Fn::Select" => {
                        let parts =
                            arg.as_array().filter(|a| a.len() == 2).ok_or_else(|| format!("{at}: Fn::Select takes [index, list]"))?;
                        let index = text(&self.resolve(&parts[0], at)?)
                            .parse::<usize>()
                            .map_err(|_| format!("{at}: Fn::Select's index is not a number"))?;
                        let list = self.resolve(&parts[1], at)?;
                        list.as_array()
                            .and_then(|l| l.get(index))
                            .cloned()
                            .ok_or_else(|| format!("{at}: Fn::Select's index {index} is past the list"))
                    }
                    "Fn::If" => {
                        let parts =
                            arg.as_array().filter(|a| a.len() == 3).ok_or_else(|| format!("{at}: Fn::If takes [condition, then, else]"))?;
                        let name = parts[0].as_str().ok_or_else(|| format!("{at}: Fn::If's condition is not a name"))?;
                        let chosen = if self.condition(name, at)? { &parts[1] } else { &parts[2] };
                        self.resolve(chosen, at)
                    }
                    "Fn::GetAtt" | "Fn::ImportValue" | "Fn::GetAZs" | "Fn::Cidr" | "Fn::FindInMap" | "Fn::Base64" | "Fn::Split"
                    | "Fn::Transform" => Err(format!("{at}: {k} is known only when the stack deploys; give the value itself to plan")),
                    _ => self.object(o, at),
                }
            }
            Value::Object(o) => self.object(o, at),
            other => Ok(other.clone()),
        }
    }

    fn object(&self, o: &Map<String, Value>, at: &str) -> Result<Value, String> {
        let mut out = Map::new();
        for (k, v) in o {
            if is_no_value(v) {
                continue;
            }
            out.insert(k.clone(), self.resolve(v, &format!("{at}.{k}"))?);
        }
        Ok(Value::Object(out))
    }

    fn reference(&self, arg: &Value, at: &str) -> Result<Value, String> {
        let name = arg.as_str().unwrap_or_default();
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{at}: Ref {name} is not a parameter (a resource's id is known only when the stack deploys)"))
    }

    fn sub(&self, arg: &Value, at: &str) -> Result<Value, String> {
        let (template, vars) = match arg {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Array(a) if a.len() == 2 => (a[0].as_str().unwrap_or_default(), a[1].as_object().cloned().unwrap_or_default()),
            _ => return Err(format!("{at}: Fn::Sub takes a string or [string, variables]")),
        };
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(lit) = after.strip_prefix('!') {
                // `${!Literal}` is written as `${Literal}`.
                out.push_str("${");
                rest = lit;
                continue;
            }
            let end = after.find('}').ok_or_else(|| format!("{at}: Fn::Sub has an unclosed ${{"))?;
            let name = &after[..end];
            let value = match vars.get(name) {
                Some(v) => self.resolve(v, at)?,
                None if name.contains('.') => return Err(format!("{at}: ${{{name}}} is known only when the stack deploys")),
                None => self.reference(&json!(name), at)?,
            };
            out.push_str(&text(&value));
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(json!(out))
    }

    /// A named condition's value.
    pub fn condition(&self, name: &str, at: &str) -> Result<bool, String> {
        let c = self.conditions.get(name).ok_or_else(|| format!("{at}: no condition {name}"))?;
        self.truth(c, at)
    }

    fn truth(&self, c: &Value, at: &str) -> Result<bool, String> {
        let o = c.as_object().filter(|o| o.len() == 1).ok_or_else(|| format!("{at}: a condition must be one function"))?;
        let (k, arg) = o.iter().next().map(|(k, v)| (k.as_str(), v)).unwrap_or(("", &Value::Null));
        let list = || arg.as_array().cloned().unwrap_or_default();
        match k {
            "Fn::Equals" => {
                let l = list();
                if l.len() != 2 {
                    return Err(format!("{at}: Fn::Equals takes two values"));
                }
                Ok(self.resolve(&l[0], at)? == self.resolve(&l[1], at)?)
            }
            "Fn::Not" => Ok(!self.truth(list().first().ok_or_else(|| format!("{at}: Fn::Not takes one condition"))?, at)?),
            "Fn::And" => list().iter().try_fold(true, |acc, c| Ok(acc && self.truth(c, at)?)),
            "Fn::Or" => list().iter().try_fold(false, |acc, c| Ok(acc || self.truth(c, at)?)),
            "Condition" => self.condition(arg.as_str().unwrap_or_default(), at),
            other => Err(format!("{at}: {other} is not a condition function")),
        }
    }
}

fn is_no_value(v: &Value) -> bool {
    v == &json!({"Ref": "AWS::NoValue"})
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A resource of the template, its properties resolved.
pub struct Resource {
    pub logical_id: String,
    pub resource_type: String,
    pub properties: Map<String, Value>,
}

/// The template's resources of the types given (a resource whose `Condition` is false is not deployed and is left
/// out), their properties resolved except `ServiceToken`.
pub fn resources(template: &Value, context: &Context, types: &dyn Fn(&str) -> bool) -> Result<Vec<Resource>, String> {
    let mut out = Vec::new();
    let all = template.get("Resources").and_then(Value::as_object).ok_or("the template has no Resources")?;
    for (id, r) in all {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        if !types(ty) {
            continue;
        }
        if let Some(c) = r.get("Condition").and_then(Value::as_str) {
            if !context.condition(c, &format!("Resources.{id}.Condition"))? {
                continue;
            }
        }
        let mut properties = Map::new();
        for (k, v) in r.get("Properties").and_then(Value::as_object).into_iter().flatten() {
            if k == "ServiceToken" || is_no_value(v) {
                continue;
            }
            properties.insert(k.clone(), context.resolve(v, &format!("Resources.{id}.Properties.{k}"))?);
        }
        out.push(Resource { logical_id: id.clone(), resource_type: ty.to_string(), properties });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
Parameters:
  ConnectInstanceId:
    Type: String
  Team:
    Type: String
    Default: blue
  Profiles:
    Type: CommaDelimitedList
    Default: "sp-1, sp-2"
Conditions:
  IsBlue: !Equals [!Ref Team, blue]
  NotBlue: !Not [!Condition IsBlue]
Resources:
  Roster:
    Type: Custom::ConnectUserSet
    Properties:
      ServiceToken: !ImportValue connect-user-resource-ServiceToken
      InstanceId: !Ref ConnectInstanceId
      Source: !Sub s3://rosters-${AWS::AccountId}/${Team}/agents.csv
      Defaults:
        SecurityProfileIds: !Ref Profiles
        RoutingProfileId: !If [IsBlue, rp-blue, rp-red]
        Tags:
          site: !Join ["-", [!Ref Team, !Select [1, [a, b]]]]
          gone: !Ref AWS::NoValue
  Red:
    Type: Custom::ConnectUserSet
    Condition: NotBlue
    Properties:
      InstanceId: x
  Bucket:
    Type: AWS::S3::Bucket
"#;

    #[test]
    fn a_yaml_templates_sets_resolve_with_parameters_pseudo_parameters_and_conditions() {
        let t = parse(YAML).unwrap();
        let ctx = Context::new(&t, &[("ConnectInstanceId".into(), "inst-1".into())], &[("AWS::AccountId", "123456789012")]).unwrap();
        let sets = resources(&t, &ctx, &|ty| ty == "Custom::ConnectUserSet").unwrap();
        assert_eq!(sets.len(), 1, "Red's condition is false; the bucket is another type");
        let p = &sets[0].properties;
        assert_eq!(sets[0].logical_id, "Roster");
        assert!(!p.contains_key("ServiceToken"), "not needed, and known only at deployment");
        assert_eq!(p["InstanceId"], "inst-1");
        assert_eq!(p["Source"], "s3://rosters-123456789012/blue/agents.csv");
        assert_eq!(p["Defaults"]["SecurityProfileIds"], json!(["sp-1", "sp-2"]));
        assert_eq!(p["Defaults"]["RoutingProfileId"], "rp-blue");
        assert_eq!(p["Defaults"]["Tags"], json!({"site": "blue-b"}));

        let red = Context::new(&t, &[("ConnectInstanceId".into(), "i".into()), ("Team".into(), "red".into())], &[("AWS::AccountId", "1")])
            .unwrap();
        let names: Vec<String> =
            resources(&t, &red, &|ty| ty == "Custom::ConnectUserSet").unwrap().into_iter().map(|r| r.logical_id).collect();
        assert_eq!(names, ["Roster", "Red"], "in the template's order");
    }

    #[test]
    fn what_only_a_deployment_knows_is_refused_naming_where() {
        let t =
            parse(r#"{"Resources": {"S": {"Type": "Custom::ConnectUserSet", "Properties": {"InstanceId": {"Fn::GetAtt": ["I", "Id"]}}}}}"#)
                .unwrap();
        let ctx = Context::new(&t, &[], &[]).unwrap();
        let e = resources(&t, &ctx, &|_| true).err().unwrap();
        assert_eq!(e, "Resources.S.Properties.InstanceId: Fn::GetAtt is known only when the stack deploys; give the value itself to plan");
        let t = parse("Resources:\n  S:\n    Type: Custom::ConnectUserSet\n    Properties:\n      InstanceId: !Ref Instance\n").unwrap();
        assert!(resources(&t, &Context::new(&t, &[], &[]).unwrap(), &|_| true).err().unwrap().contains("Ref Instance is not a parameter"));
        let t = parse("Parameters:\n  P:\n    Type: String\nResources: {}\n").unwrap();
        assert_eq!(Context::new(&t, &[], &[]).err().unwrap(), "parameter P has no default: give --parameter P=VALUE");
        assert_eq!(
            Context::new(&t, &[("Q".into(), "1".into())], &[]).err().unwrap(),
            "--parameter Q: the template declares no such parameter"
        );
    }

    #[test]
    fn sub_takes_variables_and_literals() {
        let t = parse("Parameters:\n  A:\n    Type: String\n    Default: x\nResources: {}\n").unwrap();
        let ctx = Context::new(&t, &[], &[]).unwrap();
        assert_eq!(ctx.resolve(&json!({"Fn::Sub": ["${A}-${B}-${!C}", {"B": "y"}]}), "at").unwrap(), "x-y-${C}");
        assert!(ctx.resolve(&json!({"Fn::Sub": "${R.Arn}"}), "at").unwrap_err().contains("known only when the stack deploys"));
    }
}

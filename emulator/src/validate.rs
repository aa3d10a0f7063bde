//! Input validation as the Connect service model states it: types, lengths, patterns, enums, list sizes and
//! required members. Messages follow the service's style ("1 validation error detected: Value ... at '...'").

use crate::error::ApiError;
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::OnceLock;

pub type Obj = Map<String, Value>;

fn e164() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^\+[1-9]\d{1,14}$").expect("static regex"))
}
fn email() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,63}$").expect("static regex"))
}
fn tag_key() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").expect("static regex"))
}

fn bad(path: &str, what: &str) -> ApiError {
    ApiError::invalid_param(format!("1 validation error detected: Value at '{path}' failed to satisfy constraint: {what}"))
}

pub fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Obj, ApiError> {
    v.as_object().ok_or_else(|| bad(path, "Member must be a structure"))
}

pub fn opt_obj<'a>(o: &'a Obj, key: &str, path: &str) -> Result<Option<&'a Obj>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => object(v, &format!("{path}{key}")).map(Some),
    }
}

pub fn req_obj<'a>(o: &'a Obj, key: &str, path: &str) -> Result<&'a Obj, ApiError> {
    opt_obj(o, key, path)?.ok_or_else(|| bad(&format!("{path}{key}"), "Member must not be null"))
}

pub fn opt_str<'a>(o: &'a Obj, key: &str, path: &str) -> Result<Option<&'a str>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(&format!("{path}{key}"), "Member must be a string")),
    }
}

pub fn req_str<'a>(o: &'a Obj, key: &str, path: &str) -> Result<&'a str, ApiError> {
    opt_str(o, key, path)?.ok_or_else(|| bad(&format!("{path}{key}"), "Member must not be null"))
}

pub fn opt_bool(o: &Obj, key: &str, path: &str) -> Result<Option<bool>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(&format!("{path}{key}"), "Member must be a boolean")),
    }
}

pub fn req_bool(o: &Obj, key: &str, path: &str) -> Result<bool, ApiError> {
    opt_bool(o, key, path)?.ok_or_else(|| bad(&format!("{path}{key}"), "Member must not be null"))
}

pub fn opt_int(o: &Obj, key: &str, path: &str, min: i64) -> Result<Option<i64>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= min && n <= i64::from(i32::MAX) => Ok(Some(n)),
            Some(_) => Err(bad(&format!("{path}{key}"), &format!("Member must have value greater than or equal to {min}"))),
            None => Err(bad(&format!("{path}{key}"), "Member must be an integer")),
        },
    }
}

pub fn opt_list<'a>(o: &'a Obj, key: &str, path: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(bad(&format!("{path}{key}"), "Member must be a list")),
    }
}

pub fn length(s: &str, path: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = s.chars().count();
    if n < min {
        return Err(bad(path, &format!("Member must have length greater than or equal to {min}")));
    }
    if n > max {
        return Err(bad(path, &format!("Member must have length less than or equal to {max}")));
    }
    Ok(())
}

pub fn one_of(s: &str, path: &str, allowed: &[&str]) -> Result<(), ApiError> {
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(bad(path, &format!("Member must satisfy enum value set: [{}]", allowed.join(", "))))
    }
}

pub fn phone_number(s: &str, path: &str) -> Result<(), ApiError> {
    if e164().is_match(s) {
        Ok(())
    } else {
        Err(bad(path, "Member must satisfy regular expression pattern: \\+[1-9]\\d{1,14}$"))
    }
}

pub fn email_address(s: &str, path: &str) -> Result<(), ApiError> {
    if s.len() <= 265 && email().is_match(s) {
        Ok(())
    } else {
        Err(ApiError::invalid_param(format!("Invalid email address at '{path}'")))
    }
}

/// The model's pattern `^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[a-zA-Z\d\S]{8,64}$`, spelled out because the regex
/// crate has no look-ahead.
pub fn password(s: &str) -> bool {
    let n = s.chars().count();
    (8..=64).contains(&n)
        && s.chars().any(|c| c.is_ascii_lowercase())
        && s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars().any(|c| c.is_ascii_digit())
        && !s.chars().any(char::is_whitespace)
}

pub fn tag_key_ok(k: &str, path: &str) -> Result<(), ApiError> {
    length(k, path, 1, 128)?;
    if k.starts_with("aws:") || !tag_key().is_match(k) {
        return Err(bad(path, "Member must satisfy regular expression pattern: ^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$"));
    }
    Ok(())
}

pub fn tag_map(v: &Value, path: &str) -> Result<Vec<(String, String)>, ApiError> {
    let o = object(v, path)?;
    if o.is_empty() || o.len() > 50 {
        return Err(bad(path, "Member must have between 1 and 50 entries"));
    }
    let mut out = Vec::new();
    for (k, v) in o {
        tag_key_ok(k, &format!("{path}.{k}"))?;
        let s = v.as_str().ok_or_else(|| bad(&format!("{path}.{k}"), "Member must be a string"))?;
        length(s, &format!("{path}.{k}"), 0, 256)?;
        out.push((k.clone(), s.to_string()));
    }
    Ok(out)
}

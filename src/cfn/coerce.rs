//! CloudFormation sends every property value as a string at every depth (`0` arrives as `"0"`, `false` as
//! `"false"`), while CDK and other callers may send real numbers and booleans. These helpers accept both, so
//! that no resource has to care which caller it is talking to.

use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum CoerceError {
    #[error("expected a string, got {0}")]
    NotString(&'static str),
    #[error("expected a boolean (true or false), got {0}")]
    NotBool(String),
    #[error("expected a whole number, got {0}")]
    NotInteger(String),
    #[error("expected a number, got {0}")]
    NotNumber(String),
    #[error("expected a list, got {0}")]
    NotList(&'static str),
    #[error("expected an object, got {0}")]
    NotObject(&'static str),
}

/// The JSON type name, for messages that must not echo the value itself.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A short, quoted rendering of a scalar for error messages (never used for secret fields).
pub fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) | Value::Object(_) => return kind(v).to_string(),
        other => other.to_string(),
    };
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// Strings stay strings; numbers and booleans are written out, as CloudFormation itself would have sent them.
pub fn string(v: &Value) -> Result<String, CoerceError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(CoerceError::NotString(kind(other))),
    }
}

pub fn boolean(v: &Value) -> Result<bool, CoerceError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(CoerceError::NotBool(show(other))),
    }
}

pub fn integer(v: &Value) -> Result<i64, CoerceError> {
    match v {
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => Err(CoerceError::NotInteger(n.to_string())),
        },
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| CoerceError::NotInteger(show(v))),
        other => Err(CoerceError::NotInteger(show(other))),
    }
}

pub fn number(v: &Value) -> Result<f64, CoerceError> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    f.filter(|f| f.is_finite()).ok_or_else(|| CoerceError::NotNumber(show(v)))
}

pub fn list(v: &Value) -> Result<&Vec<Value>, CoerceError> {
    v.as_array().ok_or(CoerceError::NotList(kind(v)))
}

pub fn object(v: &Value) -> Result<&serde_json::Map<String, Value>, CoerceError> {
    v.as_object().ok_or(CoerceError::NotObject(kind(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_numbers_and_booleans_become_strings() {
        assert_eq!(string(&json!("abc")), Ok("abc".into()));
        assert_eq!(string(&json!(42)), Ok("42".into()));
        assert_eq!(string(&json!(true)), Ok("true".into()));
        assert!(string(&json!({})).is_err());
    }

    #[test]
    fn booleans_accept_cloudformation_strings() {
        assert_eq!(boolean(&json!("false")), Ok(false));
        assert_eq!(boolean(&json!("TRUE")), Ok(true));
        assert_eq!(boolean(&json!(false)), Ok(false));
        assert_eq!(boolean(&json!("yes")), Err(CoerceError::NotBool("\"yes\"".into())));
        assert!(boolean(&json!(1)).is_err());
    }

    #[test]
    fn integers_accept_strings_and_whole_floats() {
        assert_eq!(integer(&json!("0")), Ok(0));
        assert_eq!(integer(&json!(" 30 ")), Ok(30));
        assert_eq!(integer(&json!(30)), Ok(30));
        assert_eq!(integer(&json!(30.0)), Ok(30));
        assert!(integer(&json!("3.5")).is_err());
        assert!(integer(&json!(3.5)).is_err());
        assert!(integer(&json!(null)).is_err());
    }

    #[test]
    fn numbers_accept_strings_and_reject_non_finite() {
        assert_eq!(number(&json!("2.5")), Ok(2.5));
        assert_eq!(number(&json!(4)), Ok(4.0));
        assert!(number(&json!("NaN")).is_err());
        assert!(number(&json!("inf")).is_err());
    }

    #[test]
    fn a_whole_float_is_an_integer_only_below_the_exact_range_limit() {
        assert_eq!(integer(&json!(8.0e15)), Ok(8_000_000_000_000_000));
        assert!(integer(&json!(9.0e15)).is_err(), "from 9e15 on, floats are no longer exact enough");
        assert!(integer(&json!(2.5)).is_err());
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(100);
        assert!(show(&json!(long)).chars().count() < 50);
        // 40 characters, quotes included, are shown whole; one more is cut with an ellipsis.
        assert_eq!(show(&json!("y".repeat(38))), format!("\"{}\"", "y".repeat(38)));
        assert_eq!(show(&json!("y".repeat(39))), format!("\"{}…", "y".repeat(39)));
    }
}

//! Ids and ARNs. Connect accepts an id or a full ARN in most places, while DescribeUser returns plain ids; the
//! resource normalises everything to plain ids so that writing the same thing two ways is never a change.

use std::fmt;

/// `<instance-id>:<user-id>`, the physical resource id (the same format `pulumi import` uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicalId {
    pub instance_id: String,
    pub user_id: String,
}

impl PhysicalId {
    /// Anything else (a failed Create's placeholder, say) is not ours to act on.
    pub fn parse(s: &str) -> Option<PhysicalId> {
        let (i, u) = s.split_once(':')?;
        let ok = |p: &str| !p.is_empty() && p.len() <= 256 && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        (ok(i) && ok(u)).then(|| PhysicalId { instance_id: i.to_string(), user_id: u.to_string() })
    }
}

impl fmt::Display for PhysicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.instance_id, self.user_id)
    }
}

/// The parts of a Connect ARN this resource cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectArn {
    pub instance_id: String,
    /// `routing-profile`, `security-profile`, `agent-group`, `agent`; `None` for the instance itself.
    pub kind: Option<String>,
    pub id: Option<String>,
}

/// Parses `arn:<partition>:connect:<region>:<account>:instance/<id>[/<kind>/<id>]`.
pub fn parse_arn(s: &str) -> Result<ConnectArn, String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "connect" || parts[1].is_empty() {
        return Err("is not an Amazon Connect ARN (arn:aws:connect:<region>:<account>:instance/<id>...)".into());
    }
    let path: Vec<&str> = parts[5].split('/').collect();
    match path.as_slice() {
        ["instance", iid] if !iid.is_empty() => Ok(ConnectArn { instance_id: iid.to_string(), kind: None, id: None }),
        ["instance", iid, kind, id] if !iid.is_empty() && !id.is_empty() => {
            Ok(ConnectArn { instance_id: iid.to_string(), kind: Some(kind.to_string()), id: Some(id.to_string()) })
        }
        _ => Err("has an unexpected resource path (expected instance/<id> or instance/<id>/<type>/<id>)".into()),
    }
}

/// The plain id of an instance given as an id or an instance ARN.
pub fn instance_id(raw: &str) -> Result<String, String> {
    if raw.starts_with("arn:") {
        let a = parse_arn(raw)?;
        if a.kind.is_some() {
            return Err("is an ARN of something inside an instance, not of the instance".into());
        }
        return Ok(a.instance_id);
    }
    plain_id(raw)
}

/// The plain id of a resource under `instance` given as an id or an ARN of the expected `kind`.
pub fn child_id(raw: &str, kind: &str, instance: &str) -> Result<String, String> {
    if raw.starts_with("arn:") {
        let a = parse_arn(raw)?;
        if a.kind.as_deref() != Some(kind) {
            return Err(format!("is not a {kind} ARN"));
        }
        if a.instance_id != instance {
            return Err(format!("names instance {}, but InstanceId is {instance}", a.instance_id));
        }
        return Ok(a.id.unwrap_or_default());
    }
    plain_id(raw)
}

fn plain_id(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Err("must not be empty".into());
    }
    if raw.len() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err("must be an id (letters, digits, '-') or a full ARN".into());
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const IID: &str = "81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca";

    #[test]
    fn physical_ids_round_trip_and_reject_placeholders() {
        let p = PhysicalId::parse(&format!("{IID}:abc-1")).unwrap();
        assert_eq!(p.to_string(), format!("{IID}:abc-1"));
        assert_eq!(PhysicalId::parse("create-failed-Agent-req"), None);
        assert_eq!(PhysicalId::parse(":u"), None);
        assert_eq!(PhysicalId::parse("arn:aws:connect:x"), None);
    }

    #[test]
    fn instance_arns_and_ids_normalise_to_the_id() {
        assert_eq!(instance_id(&format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}")), Ok(IID.to_string()));
        assert_eq!(instance_id(IID), Ok(IID.to_string()));
        assert!(instance_id("arn:aws:s3:::bucket").is_err());
        assert!(instance_id(&format!("arn:aws:connect:us-east-1:1:instance/{IID}/agent/u")).is_err());
        assert!(instance_id("has space").is_err());
    }

    #[test]
    fn child_arns_must_match_kind_and_instance() {
        let arn = format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}/routing-profile/rp1");
        assert_eq!(child_id(&arn, "routing-profile", IID), Ok("rp1".into()));
        assert!(child_id(&arn, "security-profile", IID).unwrap_err().contains("not a security-profile ARN"));
        assert!(child_id(&arn, "routing-profile", "other").unwrap_err().contains("names instance"));
        assert_eq!(child_id("rp1", "routing-profile", IID), Ok("rp1".into()));
    }
}

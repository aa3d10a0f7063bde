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

/// An `ImportId`: `<instance-id>:<user-id>` (the id `pulumi import` and this resource use) or the user's ARN.
pub fn import_id(raw: &str) -> Result<PhysicalId, String> {
    const FORM: &str = "must be <instance-id>:<user-id> or the user's ARN (arn:aws:connect:<region>:<account>:instance/<id>/agent/<id>)";
    if raw.starts_with("arn:") {
        let a = parse_arn(raw).map_err(|e| format!("{e}; it {FORM}"))?;
        return match (a.kind.as_deref(), a.id) {
            (Some("agent"), Some(user_id)) => Ok(PhysicalId { instance_id: a.instance_id, user_id }),
            _ => Err(format!("is not a user ARN; it {FORM}")),
        };
    }
    PhysicalId::parse(raw).ok_or_else(|| FORM.to_string())
}

/// A user's ARN, from the stack's own ARN: a Lambda-backed custom resource runs in its stack's partition, Region
/// and account, and so does the Connect client the function builds. Used where no call has returned the ARN.
pub fn user_arn(stack_id: &str, id: &PhysicalId) -> Option<String> {
    let parts: Vec<&str> = stack_id.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "cloudformation", region, account, _] if !region.is_empty() && !account.is_empty() => {
            Some(format!("arn:{partition}:connect:{region}:{account}:instance/{}/agent/{}", id.instance_id, id.user_id))
        }
        _ => None,
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
    fn import_ids_are_physical_ids_or_user_arns() {
        let want = PhysicalId { instance_id: IID.into(), user_id: "u-1".into() };
        assert_eq!(import_id(&format!("{IID}:u-1")), Ok(want.clone()));
        assert_eq!(import_id(&format!("arn:aws:connect:us-east-1:123456789012:instance/{IID}/agent/u-1")), Ok(want));
        let e = import_id(&format!("arn:aws:connect:us-east-1:1:instance/{IID}/routing-profile/rp")).unwrap_err();
        assert!(e.contains("not a user ARN"), "{e}");
        assert!(import_id(&format!("arn:aws:connect:us-east-1:1:instance/{IID}")).unwrap_err().contains("not a user ARN"));
        assert!(import_id("u-1").unwrap_err().contains("<instance-id>:<user-id>"));
        assert!(import_id("arn:aws:s3:::b").unwrap_err().contains("<instance-id>:<user-id>"));
    }

    #[test]
    fn user_arns_come_from_the_stack_arn() {
        let id = PhysicalId { instance_id: IID.into(), user_id: "u-1".into() };
        let stack = "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/s/5b9c8f10";
        assert_eq!(user_arn(stack, &id), Some(format!("arn:aws-cn:connect:cn-north-1:123456789012:instance/{IID}/agent/u-1")));
        assert_eq!(user_arn("not-an-arn", &id), None);
        assert_eq!(user_arn("arn:aws:cloudformation::123456789012:stack/s/x", &id), None);
    }

    #[test]
    fn the_limits_of_each_form_are_exact() {
        let long = |n: usize| "a".repeat(n);
        // Physical ids: each side 1..=256 of letters, digits, '-' and '_'.
        assert!(PhysicalId::parse(&format!("{}:{}", long(256), long(256))).is_some());
        assert_eq!(PhysicalId::parse(&format!("{}:u", long(257))), None);
        assert_eq!(PhysicalId::parse(&format!("i:{}", long(257))), None);
        assert_eq!(PhysicalId::parse("i:"), None);
        assert_eq!(PhysicalId::parse("i_1-a:u_2-b").map(|p| p.user_id), Some("u_2-b".into()));
        assert_eq!(PhysicalId::parse("i:u.1"), None);
        assert_eq!(PhysicalId::parse("i.1:u"), None);
        // Plain ids: 1..=100 of the same characters.
        assert_eq!(instance_id(&long(100)), Ok(long(100)));
        assert_eq!(instance_id(&long(101)).unwrap_err(), "must be at most 100 characters");
        assert_eq!(instance_id("").unwrap_err(), "must not be empty");
        assert_eq!(instance_id("a_b-c"), Ok("a_b-c".into()));
        // ARNs: six fields, `arn`, a partition, `connect`, and a non-empty instance (and child) id.
        let ok = format!("arn:aws:connect:us-east-1:1:instance/{IID}");
        assert!(parse_arn(&ok).is_ok());
        for bad in [
            format!("arx:aws:connect:us-east-1:1:instance/{IID}"),
            format!("arn::connect:us-east-1:1:instance/{IID}"),
            format!("arn:aws:connectx:us-east-1:1:instance/{IID}"),
            "arn:aws:connect:us-east-1:1".to_string(),
        ] {
            assert!(parse_arn(&bad).unwrap_err().contains("is not an Amazon Connect ARN"), "{bad}");
        }
        for bad in ["instance/", "instance//agent/u", &format!("instance/{IID}/agent/"), &format!("queue/{IID}")] {
            let e = parse_arn(&format!("arn:aws:connect:us-east-1:1:{bad}")).unwrap_err();
            assert!(e.contains("unexpected resource path"), "{bad}: {e}");
        }
        let id = PhysicalId { instance_id: IID.into(), user_id: "u".into() };
        assert_eq!(user_arn("arn:aws:cloudformation:us-east-1::stack/s/x", &id), None, "no account");
        assert_eq!(user_arn("arn:aws:cloudformation:us-east-1:1:stack/s/x", &id).map(|a| a.ends_with("/agent/u")), Some(true));
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

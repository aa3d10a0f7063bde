//! The records by which this resource's users are owned: the tags a user carries that say which request created
//! it and which resource (stack identity and logical id) holds it, read back to refuse or to name the holder. Pure
//! string work; the calls that write and read the tags are in [`crate::connect`].

use std::collections::BTreeMap;

/// The tag that marks a user as created by one request of this resource, so that a retried Create adopts its
/// own user instead of failing with "already exists".
pub const MARKER_TAG: &str = "connect-user-resource:request";

/// The tag that names the resource holding a user (`<stack name>/<stack guid>/<logical id>`), set on the users
/// it creates or imports, so that two resources never hold one user and a refusal can say where to release it.
pub const HOLDER_TAG: &str = "connect-user-resource:holder";

/// Connect's limit on a tag value.
const MAX_TAG_VALUE: usize = 256;

/// A stable digest of the request identity (FNV-1a, 64 bit): short enough for a tag value, and the same on every
/// retry of the same request.
pub fn marker_value(stack_id: &str, logical_id: &str, request_id: &str) -> String {
    crate::digest::fnv64(&[stack_id, logical_id, request_id])
}

/// The stack's name and the GUID CloudFormation gave it (`arn:...:stack/<name>/<guid>`). A stack deleted and
/// created again under the same name gets a new GUID. An id of another form is its own name, without a GUID.
fn stack_parts(stack_id: &str) -> (&str, Option<&str>) {
    match stack_id.split_once(":stack/") {
        Some((_, rest)) => match rest.split_once('/') {
            Some((name, guid)) if !guid.is_empty() => (name, Some(guid)),
            _ => (rest.trim_end_matches('/'), None),
        },
        None => (stack_id, None),
    }
}

/// The holder value of a resource: the stack's name, its GUID and the logical id, so that only this stack's
/// resource holds what it tags (a later stack of the same name is another holder). Past Connect's
/// 256-character limit the tail is replaced by a digest of the whole StackId and logical id, which keeps it
/// unique and stable.
pub fn holder_value(stack_id: &str, logical_id: &str) -> String {
    let full = match stack_parts(stack_id) {
        (name, Some(guid)) => format!("{name}/{guid}/{logical_id}"),
        (name, None) => format!("{name}/{logical_id}"),
    };
    capped(full, stack_id, logical_id)
}

/// The holder value versions before 0.2 wrote: `<stack name>/<logical id>`, which a later stack of the same name
/// shares. Only a set whose physical id names it (one those versions created) still acts as this holder, and a
/// single resource releases a user it imported under it; see docs/import.md.
pub fn legacy_holder_value(stack_id: &str, logical_id: &str) -> String {
    capped(format!("{}/{logical_id}", stack_parts(stack_id).0), stack_id, logical_id)
}

fn capped(full: String, stack_id: &str, logical_id: &str) -> String {
    if full.chars().count() <= MAX_TAG_VALUE {
        return full;
    }
    let digest = marker_value(stack_id, logical_id, "");
    let head: String = full.chars().take(MAX_TAG_VALUE - digest.len() - 1).collect();
    format!("{head}#{digest}")
}

/// Who holds a user, from its reserved tags, for the refusal's reason: (stack, logical id), the stack as
/// `name (guid)` when the tag records the stack's identity, or `None` when no resource of this kind holds it.
pub fn holder_of(marker_tags: &BTreeMap<String, String>) -> Option<(String, String)> {
    if let Some(v) = marker_tags.get(HOLDER_TAG) {
        let parts: Vec<&str> = v.splitn(3, '/').collect();
        return Some(match parts.as_slice() {
            [name, guid, logical] => (format!("{name} ({guid})"), logical.to_string()),
            [name, logical] => (format!("{name} (an earlier version's record, without the stack's identity)"), logical.to_string()),
            _ => (v.clone(), String::new()),
        });
    }
    // Users created before the holder tag existed carry only the request marker.
    marker_tags.contains_key(MARKER_TAG).then(|| ("(not recorded)".to_string(), "(not recorded)".to_string()))
}

/// The stack a holder record names by its identity (`name/guid/logical`): its name and GUID. `None` for a record
/// without it (an earlier version's `name/logical`, or one capped with a digest), which cannot be looked up.
pub fn holder_stack(marker_tags: &BTreeMap<String, String>) -> Option<(String, String)> {
    let v = marker_tags.get(HOLDER_TAG)?;
    match v.splitn(3, '/').collect::<Vec<&str>>().as_slice() {
        [name, guid, _] if !v.contains('#') && !name.is_empty() && !guid.is_empty() => Some((name.to_string(), guid.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_stable_per_request() {
        assert_eq!(marker_value("s", "l", "r"), marker_value("s", "l", "r"));
        assert_ne!(marker_value("s", "l", "r"), marker_value("s", "l", "r2"));
        assert_ne!(marker_value("s", "lr", ""), marker_value("s", "l", "r"));
        assert_eq!(marker_value("s", "l", "r").len(), 16);
    }

    #[test]
    fn the_holder_names_stack_identity_and_resource_and_fits_a_tag() {
        let stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/agents/5b9c8f10-1111-11ef";
        let again = "arn:aws:cloudformation:us-east-1:123456789012:stack/agents/77aa0000-2222-11ef";
        assert_eq!(holder_value(stack, "Agent"), "agents/5b9c8f10-1111-11ef/Agent");
        assert_ne!(
            holder_value(stack, "Agent"),
            holder_value(again, "Agent"),
            "a stack re-created under the same name holds nothing of the old one's"
        );
        assert_eq!(legacy_holder_value(stack, "Agent"), "agents/Agent");
        assert_eq!(legacy_holder_value(again, "Agent"), "agents/Agent", "what earlier versions wrote could not tell them apart");
        assert_eq!(holder_value("plain", "Agent"), "plain/Agent");
        assert_eq!(holder_value("arn:aws:cloudformation:us-east-1:1:stack/only-name", "Agent"), "only-name/Agent");
        assert_eq!(
            holder_value("arn:aws:cloudformation:us-east-1:1:stack/only-name/", "Agent"),
            "only-name/Agent",
            "a trailing slash is no GUID"
        );
        let long = "L".repeat(255);
        let v = holder_value(stack, &long);
        assert_eq!(v.chars().count(), 256);
        assert_ne!(v, holder_value(stack, &format!("{}M", "L".repeat(254))), "a digest keeps long ids apart");
        assert_ne!(v, holder_value(again, &long), "and long ids of two stacks of one name");
        assert_eq!(legacy_holder_value(stack, &long).chars().count(), 256);
        let tags = |v: &str| BTreeMap::from([(HOLDER_TAG.to_string(), v.to_string())]);
        assert_eq!(holder_of(&tags("agents/5b9c8f10-1111-11ef/Agent")), Some(("agents (5b9c8f10-1111-11ef)".into(), "Agent".into())));
        let (stack_name, logical) = holder_of(&tags("agents/Agent")).unwrap();
        assert_eq!(logical, "Agent");
        assert!(stack_name.starts_with("agents (an earlier version's record"), "{stack_name}");
        assert_eq!(holder_of(&tags("odd")), Some(("odd".into(), String::new())));
        assert_eq!(holder_of(&BTreeMap::new()), None);
        assert_eq!(holder_stack(&tags("agents/5b9c8f10-1111-11ef/Agent")), Some(("agents".into(), "5b9c8f10-1111-11ef".into())));
        assert_eq!(holder_stack(&tags("agents/Agent")), None, "an earlier version's record names no stack identity");
        assert_eq!(holder_stack(&tags("agents/5b9c/Agent#0123abcd")), None, "a capped record is not looked up");
        assert_eq!(holder_stack(&BTreeMap::new()), None);
        let legacy = BTreeMap::from([(MARKER_TAG.to_string(), "abc".to_string())]);
        assert!(holder_of(&legacy).is_some(), "a user created before holders were recorded is still held");
    }
}

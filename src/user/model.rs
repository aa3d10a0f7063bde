//! What a user is in Connect and what can be done to it, shared by the planners (single and set), the calls that
//! read and change users ([`crate::connect`]) and the command-line tools.

use crate::user::properties::{ChannelConfigs, IdentityInfo, PhoneConfig, Proficiencies, Settings};
use std::collections::BTreeMap;

/// The user as Connect has it, in the same normalised shape as the desired settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Actual {
    pub user_id: String,
    pub arn: String,
    pub username: String,
    pub directory_user_id: Option<String>,
    pub settings: Settings,
    /// Tags under the resource's reserved prefix, kept apart so they never show up as drift.
    pub marker_tags: BTreeMap<String, String>,
}

/// A take-over checked against the template and not made yet: the user as it was read, and the calls that bring
/// it to the template and record the hold.
#[derive(Debug, Clone, PartialEq)]
pub struct TakeOver {
    pub before: Actual,
    pub changes: Vec<Change>,
}

/// One in-place update call, in the order they are made.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    RoutingProfile(String),
    SecurityProfiles(Vec<String>),
    Hierarchy(Option<String>),
    IdentityInfo(IdentityInfo),
    PhoneConfig(PhoneConfig),
    /// Only the channels that differ, of only the lists that differ; one UpdateUserConfig call.
    Config(ChannelConfigs),
    DisassociateProficiencies(Vec<(String, String)>),
    UpdateProficiencies(Proficiencies),
    AssociateProficiencies(Proficiencies),
    Untag(Vec<String>),
    Tag(BTreeMap<String, String>),
}

impl Change {
    /// The Connect operation this change calls, for logs and reasons.
    pub fn operation(&self) -> &'static str {
        match self {
            Change::RoutingProfile(_) => "UpdateUserRoutingProfile",
            Change::SecurityProfiles(_) => "UpdateUserSecurityProfiles",
            Change::Hierarchy(_) => "UpdateUserHierarchy",
            Change::IdentityInfo(_) => "UpdateUserIdentityInfo",
            Change::PhoneConfig(_) => "UpdateUserPhoneConfig",
            Change::Config(_) => "UpdateUserConfig",
            Change::DisassociateProficiencies(_) => "DisassociateUserProficiencies",
            Change::UpdateProficiencies(_) => "UpdateUserProficiencies",
            Change::AssociateProficiencies(_) => "AssociateUserProficiencies",
            Change::Untag(_) => "UntagResource",
            Change::Tag(_) => "TagResource",
        }
    }
}

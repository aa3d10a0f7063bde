//! A CloudFormation custom resource for Amazon Connect users.
//!
//! - [`cfn`]: the custom-resource protocol (intake, coercion, deadlines, panic guard, the response PUT); it
//!   knows nothing about Connect.
//! - [`user`]: the Connect user resource (properties, planner, translation, API calls).
//! - [`roster`]: `Custom::ConnectUserSet`, a whole roster reusing the user resource's parts.
//! - [`dispatch`]: which of the two serves a request (by its resource type).
//! - [`init`]: what `main` sets up once per process and reuses across invocations.
//! - [`pace`]: per-operation pacing under Connect's limits (the `connect-users` tool and rosters).
//! - [`store`]: state that outlasts an invocation (a DynamoDB table): answered events, the users a set holds.

pub mod cfn;
pub mod dispatch;
pub mod init;
pub mod pace;
pub mod roster;
pub mod store;
pub mod user;

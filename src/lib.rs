//! A CloudFormation custom resource for Amazon Connect users.
//!
//! - [`cfn`]: the custom-resource protocol (intake, coercion, deadlines, panic guard, the response PUT); it
//!   knows nothing about Connect.
//! - [`user`]: the Connect user resource (properties, planner, translation, API calls).
//! - [`init`]: what `main` sets up once per process and reuses across invocations.
//! - [`pace`]: per-operation pacing under Connect's limits (the `connect-users` tool).

pub mod cfn;
pub mod init;
pub mod pace;
pub mod user;

//! One integration test binary (faster to build than many), with a module per concern.

mod at_scale;
mod cargo_lambda;
mod consistency;
mod emulator;
mod export;
mod import;
mod lifecycle;
mod metrics;
mod native;
mod ownership;
mod panic;
mod promises;
mod reliability;
mod rollback;
mod roster;
mod roster_files;
mod secrets;
mod support;

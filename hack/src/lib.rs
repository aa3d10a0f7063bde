//! Intentionally empty: this crate exists for the dependency features in its Cargo.toml, which make every build
//! in the workspace resolve shared crates identically, so that no dependency is compiled twice.

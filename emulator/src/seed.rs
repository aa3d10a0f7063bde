//! A world from a fixture: its instances, and its users created as CreateUser creates them, so that a fixture's
//! user is valid exactly when CreateUser would accept it.

use crate::fixture::{Fixture, InstanceFixture};
use crate::world::World;

/// The fixture of `text`, checked: its hierarchies, and every user as CreateUser checks one.
pub fn parse(text: &str) -> Result<Fixture, String> {
    let f = Fixture::read(text)?;
    seeded(&f)?;
    Ok(f)
}

/// The world of a fixture whose users were checked (by [`parse`], or the default fixture, by its test).
pub fn world(f: &Fixture) -> World {
    let mut w = World::empty(f);
    for i in &f.instances {
        for spec in &i.users {
            // Checked already, so none fails here.
            let _ = crate::ops::seed_user(&mut w, &i.id, spec);
        }
    }
    w
}

/// The world of a fixture, or why one of its users is not a valid CreateUser.
fn seeded(f: &Fixture) -> Result<World, String> {
    let empty = Fixture { instances: f.instances.iter().map(|i| InstanceFixture { users: vec![], ..i.clone() }).collect(), ..f.clone() };
    let mut w = World::empty(&empty);
    for i in &f.instances {
        for spec in &i.users {
            crate::ops::seed_user(&mut w, &i.id, spec).map_err(|e| format!("fixture: user {spec}: {}: {}", e.code, e.message))?;
        }
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_fixtures_users_are_valid_create_users() {
        let f = Fixture::default_fixture();
        let w = seeded(&f).unwrap();
        assert_eq!(w.users.len(), f.instances.iter().map(|i| i.users.len()).sum::<usize>());
        assert!(!w.users.is_empty());
    }
}

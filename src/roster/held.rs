//! The users a set holds, recorded in the state table as the set creates, takes over and gives them up.
//!
//! Connect's search index may be seconds, at times minutes, behind its writes: right after a set created users,
//! a search may not show them, and a continuation would take its own users for someone else's, or a rollback's
//! Delete would leave them behind. The record is read strongly consistently, so the set knows whom it holds
//! whatever the index shows; the users' own tags stay a second witness (a delete needs both to say "created by
//! this set"). A user a search shows as held but the record lacks (a set made by an earlier version, or a record
//! that could not be written) is recorded when it is seen.

use crate::store::{Attributes, Store, StoreError};

/// How the set came to hold a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The set created it: deleted with the set.
    Created,
    /// The set took it over (`ImportId`): released, never deleted.
    TakenOver,
}

impl Hold {
    fn as_str(self) -> &'static str {
        match self {
            Hold::Created => "created",
            Hold::TakenOver => "taken-over",
        }
    }

    fn parse(s: &str) -> Option<Hold> {
        match s {
            "created" => Some(Hold::Created),
            "taken-over" => Some(Hold::TakenOver),
            _ => None,
        }
    }
}

/// One recorded user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub user_id: String,
    pub name: String,
    /// `None` for a record that cannot be read (then the user's own tags decide, as for a user without one).
    pub hold: Option<Hold>,
    /// The digest of the entry (`Entry::given`) the user was last brought to in full, when recorded: an entry
    /// given the same way again needs no read of the user to know there is nothing to do.
    pub given: Option<u64>,
}

/// A recorded user as a search page would show it, for what needs only its identity (a delete or release reads
/// the user itself before it acts): no settings, the set's own tags as the record says.
pub fn as_recorded(r: &Record, holder: &str) -> crate::user::planner::Actual {
    let mut marker_tags = std::collections::BTreeMap::from([(crate::user::translate::HOLDER_TAG.to_string(), holder.to_string())]);
    if r.hold == Some(Hold::Created) {
        marker_tags.insert(crate::user::translate::MARKER_TAG.to_string(), "recorded".to_string());
    }
    crate::user::planner::Actual {
        user_id: r.user_id.clone(),
        arn: String::new(),
        username: r.name.clone(),
        directory_user_id: None,
        settings: crate::user::properties::Settings::empty(),
        marker_tags,
    }
}

/// The records of one set (its physical id names the instance and the stack's identity).
#[derive(Clone)]
pub struct Held {
    store: Store,
    pk: String,
}

const USER: &str = "user#";

impl Held {
    pub fn new(store: Store, set_id: &str) -> Held {
        Held { store, pk: format!("set#{set_id}") }
    }

    /// Every user recorded as held.
    pub async fn all(&self) -> Result<Vec<Record>, StoreError> {
        Ok(self
            .store
            .query(&self.pk)
            .await?
            .into_iter()
            .filter_map(|(sk, a)| {
                let user_id = sk.strip_prefix(USER)?.to_string();
                Some(Record {
                    user_id,
                    name: a.get("name").cloned().unwrap_or_default(),
                    hold: a.get("hold").and_then(|h| Hold::parse(h)),
                    given: a.get("given").and_then(|g| g.parse().ok()),
                })
            })
            .collect())
    }

    pub async fn record(&self, user_id: &str, name: &str, hold: Hold, given: Option<u64>) -> Result<(), StoreError> {
        let mut attrs = Attributes::from([("name".to_string(), name.to_string()), ("hold".to_string(), hold.as_str().to_string())]);
        if let Some(g) = given {
            attrs.insert("given".into(), g.to_string());
        }
        self.store.put(&self.pk, &format!("{USER}{user_id}"), &attrs, None).await
    }

    pub async fn forget(&self, user_id: &str) -> Result<(), StoreError> {
        self.store.delete(&self.pk, &format!("{USER}{user_id}")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::live;

    #[tokio::test]
    async fn a_sets_records_are_its_own_and_say_how_it_holds_each_user() {
        let l = live::start().await;
        let a = Held::new(l.store.clone(), "inst:set:s/guid-1/Roster");
        let b = Held::new(l.store.clone(), "inst:set:s/guid-2/Roster");
        a.record("u-1", "ana", Hold::Created, Some(7)).await.unwrap();
        a.record("u-2", "ben", Hold::TakenOver, None).await.unwrap();
        b.record("u-3", "cai", Hold::Created, None).await.unwrap();
        let mut got = a.all().await.unwrap();
        got.sort_by(|x, y| x.user_id.cmp(&y.user_id));
        assert_eq!(
            got,
            vec![
                Record { user_id: "u-1".into(), name: "ana".into(), hold: Some(Hold::Created), given: Some(7) },
                Record { user_id: "u-2".into(), name: "ben".into(), hold: Some(Hold::TakenOver), given: None },
            ],
            "a stack created again under the same name is another set"
        );
        a.record("u-2", "ben", Hold::Created, None).await.unwrap();
        assert!(
            a.all().await.unwrap().contains(&Record { user_id: "u-2".into(), name: "ben".into(), hold: Some(Hold::Created), given: None }),
            "kept exact both ways"
        );
        a.forget("u-1").await.unwrap();
        a.forget("u-1").await.unwrap();
        assert_eq!(a.all().await.unwrap().len(), 1);
        assert_eq!(b.all().await.unwrap().len(), 1);
        // A record that cannot be read says so instead of guessing.
        l.store
            .put("set#inst:set:s/guid-1/Roster", "user#u-9", &Attributes::from([("hold".to_string(), "?".to_string())]), None)
            .await
            .unwrap();
        assert!(a.all().await.unwrap().contains(&Record { user_id: "u-9".into(), name: String::new(), hold: None, given: None }));
    }
}

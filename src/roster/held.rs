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
    /// An Update took the user out of the roster and answered a new physical id: the user stays, untouched, until
    /// the cleanup Delete of the id it replaced proves the stack committed (see [`Held::live`]).
    pub leaving: bool,
}

/// A recorded user as a search page would show it, for what needs only its identity (a delete or release reads
/// the user itself before it acts): no settings, the set's own tags as the record says.
pub fn as_recorded(r: &Record, holder: &str) -> crate::user::model::Actual {
    let mut marker_tags = std::collections::BTreeMap::from([(crate::connect::ownership::HOLDER_TAG.to_string(), holder.to_string())]);
    if r.hold == Some(Hold::Created) {
        marker_tags.insert(crate::connect::ownership::MARKER_TAG.to_string(), "recorded".to_string());
    }
    crate::user::model::Actual {
        user_id: r.user_id.clone(),
        arn: String::new(),
        username: r.name.clone(),
        directory_user_id: None,
        settings: crate::user::properties::Settings::empty(),
        marker_tags,
    }
}

/// The records of one set, under its base id (instance and holder: the same for every physical id the set
/// answers as its roster changes).
#[derive(Clone)]
pub struct Held {
    store: Store,
    pk: String,
}

const USER: &str = "user#";
const LIVE: &str = "live";
const PRIOR: &str = "prior#";

impl Held {
    pub fn new(store: Store, base_id: &str) -> Held {
        Held { store, pk: format!("set#{base_id}") }
    }

    /// The physical id of the set's last successful Create or Update: the one CloudFormation holds. A Delete of
    /// any other id is the cleanup of an id that one replaced (or the rollback's cleanup of an id that failed):
    /// it removes only the users recorded as leaving. `None` for a set that never answered one (a failed Create,
    /// or a set an earlier version made): its Delete removes everything it holds, as before.
    pub async fn live(&self) -> Result<Option<String>, StoreError> {
        Ok(self.store.get(&self.pk, LIVE).await?.and_then(|a| a.get("id").cloned()))
    }

    pub async fn set_live(&self, id: &str) -> Result<(), StoreError> {
        self.store.put(&self.pk, LIVE, &Attributes::from([("id".to_string(), id.to_string())]), None).await
    }

    pub async fn forget_live(&self) -> Result<(), StoreError> {
        self.store.delete(&self.pk, LIVE).await
    }

    /// The id that `id` replaced, and the digest of the properties it was answered for: an Update from `id` back
    /// to exactly those properties (CloudFormation's rollback) answers that id again.
    pub async fn prior(&self, id: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .store
            .get(&self.pk, &format!("{PRIOR}{id}"))
            .await?
            .and_then(|a| Some((a.get("id")?.clone(), a.get("props").cloned().unwrap_or_default()))))
    }

    pub async fn set_prior(&self, id: &str, prior_id: &str, props_digest: &str) -> Result<(), StoreError> {
        let attrs = Attributes::from([("id".to_string(), prior_id.to_string()), ("props".to_string(), props_digest.to_string())]);
        self.store.put(&self.pk, &format!("{PRIOR}{id}"), &attrs, None).await
    }

    /// Every user recorded as held.
    pub async fn all(&self) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        self.store
            .query_each(&self.pk, &mut |sk, mut a| {
                if let Some(user_id) = sk.strip_prefix(USER) {
                    out.push(Record {
                        user_id: user_id.to_string(),
                        name: a.remove("name").unwrap_or_default(),
                        hold: a.get("hold").and_then(|h| Hold::parse(h)),
                        given: a.get("given").and_then(|g| g.parse().ok()),
                        leaving: a.contains_key("leaving"),
                    });
                }
            })
            .await?;
        Ok(out)
    }

    pub async fn record(&self, user_id: &str, name: &str, hold: Hold, given: Option<u64>) -> Result<(), StoreError> {
        self.write(user_id, name, hold, given, false).await
    }

    /// Marks a recorded user as leaving (`true`: taken out of the roster, kept until the cleanup Delete) or as
    /// wanted again (`false`: the roster holds it again, as after a rollback).
    pub async fn mark(&self, r: &Record, leaving: bool) -> Result<(), StoreError> {
        self.write(&r.user_id, &r.name, r.hold.unwrap_or(Hold::TakenOver), r.given, leaving).await
    }

    async fn write(&self, user_id: &str, name: &str, hold: Hold, given: Option<u64>, leaving: bool) -> Result<(), StoreError> {
        let mut attrs = Attributes::from([("name".to_string(), name.to_string()), ("hold".to_string(), hold.as_str().to_string())]);
        if let Some(g) = given {
            attrs.insert("given".into(), g.to_string());
        }
        if leaving {
            attrs.insert("leaving".into(), "1".into());
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
                Record { user_id: "u-1".into(), name: "ana".into(), hold: Some(Hold::Created), given: Some(7), leaving: false },
                Record { user_id: "u-2".into(), name: "ben".into(), hold: Some(Hold::TakenOver), given: None, leaving: false },
            ],
            "a stack created again under the same name is another set"
        );
        a.record("u-2", "ben", Hold::Created, None).await.unwrap();
        assert!(
            a.all().await.unwrap().contains(&Record {
                user_id: "u-2".into(),
                name: "ben".into(),
                hold: Some(Hold::Created),
                given: None,
                leaving: false
            }),
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
        assert!(a.all().await.unwrap().contains(&Record {
            user_id: "u-9".into(),
            name: String::new(),
            hold: None,
            given: None,
            leaving: false
        }));
    }

    #[test]
    fn a_recorded_user_shows_the_sets_tags_as_its_record_says() {
        let r = |hold| Record { user_id: "u-1".into(), name: "ana".into(), hold, given: None, leaving: false };
        let created = as_recorded(&r(Some(Hold::Created)), "s/g/Roster");
        assert_eq!(created.marker_tags.get(crate::connect::ownership::HOLDER_TAG).map(String::as_str), Some("s/g/Roster"));
        assert!(created.marker_tags.contains_key(crate::connect::ownership::MARKER_TAG), "created: deleted with the set");
        for hold in [Some(Hold::TakenOver), None] {
            assert!(
                !as_recorded(&r(hold), "s/g/Roster").marker_tags.contains_key(crate::connect::ownership::MARKER_TAG),
                "{hold:?}: released"
            );
        }
        assert_eq!((created.user_id.as_str(), created.username.as_str()), ("u-1", "ana"));
    }

    #[tokio::test]
    async fn a_set_records_its_live_id_the_id_each_replaced_and_who_is_leaving() {
        let l = live::start().await;
        let a = Held::new(l.store.clone(), "inst:set:s/guid-1/Roster");
        assert_eq!(a.live().await.unwrap(), None, "a set that never answered");
        a.set_live("inst:set:s/guid-1/Roster#01").await.unwrap();
        a.set_live("inst:set:s/guid-1/Roster#02").await.unwrap();
        assert_eq!(a.live().await.unwrap().as_deref(), Some("inst:set:s/guid-1/Roster#02"), "the last one");
        assert_eq!(Held::new(l.store.clone(), "inst:set:s/guid-2/Roster").live().await.unwrap(), None, "another set's");
        a.forget_live().await.unwrap();
        assert_eq!(a.live().await.unwrap(), None);

        assert_eq!(a.prior("inst:set:s/guid-1/Roster#02").await.unwrap(), None);
        a.set_prior("inst:set:s/guid-1/Roster#02", "inst:set:s/guid-1/Roster#01", "d1").await.unwrap();
        assert_eq!(
            a.prior("inst:set:s/guid-1/Roster#02").await.unwrap(),
            Some(("inst:set:s/guid-1/Roster#01".to_string(), "d1".to_string()))
        );

        a.record("u-1", "ana", Hold::Created, Some(7)).await.unwrap();
        let r = a.all().await.unwrap().remove(0);
        a.mark(&r, true).await.unwrap();
        let leaving = a.all().await.unwrap();
        assert_eq!(leaving, vec![Record { leaving: true, ..r.clone() }], "kept exact, and leaving");
        a.mark(&leaving[0], false).await.unwrap();
        assert_eq!(a.all().await.unwrap(), vec![r], "wanted again");
        // Neither the live id nor the prior ids are users.
        a.set_live("inst:set:s/guid-1/Roster#02").await.unwrap();
        assert_eq!(a.all().await.unwrap().len(), 1);
    }
}

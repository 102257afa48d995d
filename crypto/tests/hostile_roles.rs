//! A member who is not an admin, running modified software (mallory, driving OpenMLS
//! directly), commits what Parley lets only admins commit: removing someone, adding someone,
//! making herself an admin. Every honest member refuses each and stays where it was. Once the
//! admin promotes her, the same removal, made the same way, goes through, so the refusals are
//! for who sent the commits, not for how they were made; and even as an admin she cannot
//! name a non-member as admin nor drop the group's admins.

#![cfg(feature = "mls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use openmls::prelude::{
    Extension, ExtensionType, Extensions, GroupContext, RequiredCapabilitiesExtension,
    UnknownExtension,
};
use parley_crypto::mls::{GroupId, Incoming, MlsError};
use parley_crypto::retention::{Retention, RETENTION_EXTENSION_TYPE};
use parley_crypto::roles::{GroupRoles, ROLES_EXTENSION_TYPE};
use support::{handle, honest, key_package_of, validated, Mallory};

const GROUP: GroupId = [7u8; 32];

/// Asserts that `member` refuses `commit` with one of `refusals` and stays at its epoch.
fn refused(
    member: &mut parley_crypto::mls::Mls,
    commit: &[u8],
    what: &str,
    refusal: fn(&MlsError) -> bool,
) {
    support::refused_in(&GROUP, member, commit, what, refusal);
}

/// The group context Parley writes for a group with admins.
fn context(roles: Option<&GroupRoles>) -> Extensions<GroupContext> {
    let mut required = vec![ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)];
    let mut extensions = Vec::new();
    if let Some(roles) = roles {
        required.push(ExtensionType::Unknown(ROLES_EXTENSION_TYPE));
        extensions.push(Extension::Unknown(
            ROLES_EXTENSION_TYPE,
            UnknownExtension(roles.encode()),
        ));
    }
    extensions.insert(
        0,
        Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(&required, &[], &[])),
    );
    Extensions::from_vec(extensions).unwrap()
}

#[test]
fn only_an_admin_changes_the_room_and_every_member_refuses_anyone_else() {
    let mut alice = honest("alice", 1);
    let mut bob = honest("bob", 2);
    let mut carol = honest("carol", 3);
    let mut dave = honest("dave", 4);
    let mut mallory = Mallory::new();
    alice.create_group(GROUP, Retention::Off).unwrap();
    assert_eq!(alice.admins(&GROUP).unwrap(), Some(vec![handle("alice")]));
    let packages = vec![
        key_package_of(&mut bob),
        key_package_of(&mut carol),
        mallory.key_package(),
    ];
    let _ = bob.take_changes();
    let _ = carol.take_changes();
    let out = alice.add_members(&GROUP, &packages).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    // What a client stores; a refused commit's changes are discarded back to it.
    let _ = alice.take_changes();
    let welcome = out.welcome.unwrap();
    for member in [&mut bob, &mut carol] {
        let staged = member.stage_welcome(&welcome).unwrap();
        member.join(staged).unwrap();
        let _ = member.take_changes();
    }
    mallory.join(&welcome);

    // Parley's own engine refuses a non-admin's change before it is made.
    let daves = key_package_of(&mut dave);
    assert!(matches!(
        bob.add_members(&GROUP, std::slice::from_ref(&daves)),
        Err(MlsError::NotAdmin(who)) if who == handle("bob")
    ));
    assert!(matches!(
        bob.remove_members(&GROUP, &[handle("carol")]),
        Err(MlsError::NotAdmin(_))
    ));
    assert!(matches!(
        bob.promote(&GROUP, &handle("bob")),
        Err(MlsError::NotAdmin(_))
    ));
    bob.discard_changes();

    // mallory's software makes them anyway; every honest member refuses them.
    let carol_leaf = mallory.leaf_of("carol");
    let remove_carol = mallory.commit(vec![carol_leaf], vec![], None);
    let add_dave = mallory.commit(vec![], vec![validated(&daves, &mallory.provider)], None);
    let mallory_roles = GroupRoles::created_by(handle("alice"))
        .with_admin(handle("mallory"))
        .unwrap();
    let self_promotion = mallory.commit(vec![], vec![], Some(context(Some(&mallory_roles))));
    for member in [&mut alice, &mut bob, &mut carol] {
        for (what, commit) in [
            ("removal by a non-admin", &remove_carol),
            ("addition by a non-admin", &add_dave),
            ("self-promotion", &self_promotion),
        ] {
            refused(
                member,
                commit,
                what,
                |e| matches!(e, MlsError::NotAdmin(who) if *who == handle("mallory")),
            );
        }
    }

    // The admin promotes her; everyone (her software too) takes it.
    let promotion = alice.promote(&GROUP, &handle("mallory")).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    for member in [&mut bob, &mut carol] {
        let Incoming::Commit(commit) = member.process(&GROUP, &promotion.commit).unwrap() else {
            panic!("not a commit")
        };
        assert_eq!(commit.promoted(), [handle("mallory")]);
        member.merge_incoming_commit(&GROUP, commit).unwrap();
        let _ = member.take_changes();
    }
    mallory.apply(&promotion.commit);

    // As an admin she still cannot name a non-member admin, nor drop the group's roles.
    let outsider_roles = mallory_roles.with_admin(handle("zed")).unwrap();
    let outsider = mallory.commit(vec![], vec![], Some(context(Some(&outsider_roles))));
    let no_roles = mallory.commit(vec![], vec![], Some(context(None)));
    let without_alice = mallory.commit(
        vec![],
        vec![],
        Some(context(Some(&GroupRoles::created_by(handle("mallory"))))),
    );
    // Removing an admin while keeping her listed would leave a non-member admin.
    let alice_leaf = mallory.leaf_of("alice");
    let stale_admin = mallory.commit(vec![alice_leaf], vec![], None);
    for member in [&mut bob, &mut carol] {
        refused(member, &outsider, "a non-member admin", |e| {
            matches!(e, MlsError::AdminsNotMembers)
        });
        refused(member, &no_roles, "dropping the roles", |e| {
            matches!(e, MlsError::UnsupportedProposal)
        });
        refused(member, &stale_admin, "a removed admin kept", |e| {
            matches!(e, MlsError::AdminsNotMembers)
        });
    }

    // Demoting another admin is an admin's right; the same removal of carol now goes through.
    let Incoming::Commit(commit) = bob.process(&GROUP, &without_alice).unwrap() else {
        panic!("not a commit")
    };
    assert!(commit.promoted().is_empty());
    bob.discard_changes();
    let carol_leaf = mallory.leaf_of("carol");
    let remove_carol = mallory.commit(vec![carol_leaf], vec![], None);
    let Incoming::Commit(commit) = bob.process(&GROUP, &remove_carol).unwrap() else {
        panic!("not a commit")
    };
    assert_eq!(commit.removed().len(), 1);
    assert_eq!(commit.removed()[0].handle, handle("carol"));
    bob.merge_incoming_commit(&GROUP, commit).unwrap();
}

#[test]
fn an_admin_removed_stops_being_one_in_the_same_commit() {
    let mut alice = honest("alice", 11);
    let mut bob = honest("bob", 12);
    let mut carol = honest("carol", 13);
    alice.create_group(GROUP, Retention::Off).unwrap();
    let packages = vec![key_package_of(&mut bob), key_package_of(&mut carol)];
    let out = alice.add_members(&GROUP, &packages).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    for member in [&mut bob, &mut carol] {
        let staged = member.stage_welcome(out.welcome.as_ref().unwrap()).unwrap();
        member.join(staged).unwrap();
    }
    let promote = alice.promote(&GROUP, &handle("bob")).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    for member in [&mut bob, &mut carol] {
        let Incoming::Commit(commit) = member.process(&GROUP, &promote.commit).unwrap() else {
            panic!("not a commit")
        };
        member.merge_incoming_commit(&GROUP, commit).unwrap();
    }
    assert_eq!(
        carol.admins(&GROUP).unwrap(),
        Some(vec![handle("alice"), handle("bob")])
    );

    let removal = alice.remove_members(&GROUP, &[handle("bob")]).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    let Incoming::Commit(commit) = carol.process(&GROUP, &removal.commit).unwrap() else {
        panic!("not a commit")
    };
    carol.merge_incoming_commit(&GROUP, commit).unwrap();
    assert_eq!(carol.admins(&GROUP).unwrap(), Some(vec![handle("alice")]));
    assert_eq!(alice.admins(&GROUP).unwrap(), Some(vec![handle("alice")]));
}

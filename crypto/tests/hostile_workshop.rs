//! A workshop's rooms against a member running modified software (mallory, driving OpenMLS
//! directly). As a participant she commits what only facilitators may: adding someone,
//! removing someone, making herself a facilitator, changing the retention. Every honest
//! member refuses each and stays where it was. As a facilitator she still cannot bring into
//! a room someone the roster does not put there, nor turn a caucus into another room or
//! another workshop's; the same change made by the rules (the roster first, in the same
//! commit) goes through, so the refusals are for what the commits do, not how they were made.

#![cfg(feature = "mls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use openmls::prelude::{
    Extension, ExtensionType, Extensions, GroupContext, RequiredCapabilitiesExtension,
    UnknownExtension,
};
use parley_crypto::handle::Handle;
use parley_crypto::mls::{GroupId, Incoming, Mls, MlsError};
use parley_crypto::retention::{Retention, RETENTION_EXTENSION_TYPE};
use parley_crypto::roles::{GroupRoles, ROLES_EXTENSION_TYPE};
use parley_crypto::workshop::{
    Attribution, Role, Room, SideName, WorkshopSpec, WORKSHOP_EXTENSION_TYPE,
};
use support::{handle, honest, key_package_of, refused_in, validated, Mallory};

const PLENARY: GroupId = [1u8; 32];
const NORTH: GroupId = [3u8; 32];

fn side(name: &str) -> SideName {
    SideName::parse(name).unwrap()
}

/// ann facilitates; carol and mallory speak for north, fay for south; gil observes. With
/// `mallory_facilitates`, mallory is a second facilitator instead.
fn workshop(room: Room, mallory_facilitates: bool) -> WorkshopSpec {
    let mallory = if mallory_facilitates {
        Role::Facilitator
    } else {
        Role::Side(side("north"))
    };
    WorkshopSpec::new(
        [9; 16],
        room,
        vec![side("north"), side("south")],
        vec![PLENARY, [2; 32], NORTH, [4; 32]],
        vec![
            (handle("ann"), Role::Facilitator),
            (handle("carol"), Role::Side(side("north"))),
            (handle("mallory"), mallory),
            (handle("fay"), Role::Side(side("south"))),
            (handle("gil"), Role::Observer),
        ],
        Attribution::Side,
    )
    .unwrap()
}

/// The group context Parley writes for a workshop's room (with `retention` if given, and
/// `roles` beside the workshop, which Parley never writes).
fn context(
    spec: &WorkshopSpec,
    retention: Option<Retention>,
    roles: Option<&GroupRoles>,
) -> Extensions<GroupContext> {
    let mut required = vec![
        ExtensionType::Unknown(RETENTION_EXTENSION_TYPE),
        ExtensionType::Unknown(WORKSHOP_EXTENSION_TYPE),
    ];
    if roles.is_some() {
        required.insert(1, ExtensionType::Unknown(ROLES_EXTENSION_TYPE));
    }
    let mut extensions = vec![Extension::RequiredCapabilities(
        RequiredCapabilitiesExtension::new(&required, &[], &[]),
    )];
    if let Some(retention) = retention {
        extensions.push(Extension::Unknown(
            RETENTION_EXTENSION_TYPE,
            UnknownExtension(retention.encode().to_vec()),
        ));
    }
    if let Some(roles) = roles {
        extensions.push(Extension::Unknown(
            ROLES_EXTENSION_TYPE,
            UnknownExtension(roles.encode()),
        ));
    }
    extensions.push(Extension::Unknown(
        WORKSHOP_EXTENSION_TYPE,
        UnknownExtension(spec.encode()),
    ));
    Extensions::from_vec(extensions).unwrap()
}

/// ann makes the room `spec` describes and adds `members` and mallory.
fn room_with(
    ann: &mut Mls,
    group: GroupId,
    spec: WorkshopSpec,
    members: &mut [&mut Mls],
    mallory: &mut Mallory,
) {
    ann.create_workshop_room(group, Retention::Off, spec)
        .unwrap();
    let mut packages: Vec<Vec<u8>> = members.iter_mut().map(|m| key_package_of(m)).collect();
    packages.push(mallory.key_package());
    for member in members.iter_mut() {
        let _ = member.take_changes();
    }
    let out = ann.add_members(&group, &packages).unwrap();
    ann.merge_own_commit(&group).unwrap();
    let _ = ann.take_changes();
    let welcome = out.welcome.unwrap();
    for member in members.iter_mut() {
        let staged = member.stage_welcome(&welcome).unwrap();
        assert!(
            staged.workshop().is_some(),
            "the Welcome carries the workshop"
        );
        member.join(staged).unwrap();
        let _ = member.take_changes();
    }
    mallory.join(&welcome);
}

#[test]
fn only_a_facilitator_changes_a_room_and_every_member_refuses_anyone_else() {
    let mut ann = honest("ann", 1);
    let mut carol = honest("carol", 2);
    let mut fay = honest("fay", 3);
    let mut gil = honest("gil", 4);
    let mut zed = honest("zed", 5);
    let mut mallory = Mallory::new();
    let spec = workshop(Room::Plenary, false);
    room_with(
        &mut ann,
        PLENARY,
        spec.clone(),
        &mut [&mut carol, &mut fay],
        &mut mallory,
    );
    assert_eq!(carol.workshop(&PLENARY).unwrap(), Some(spec.clone()));
    assert_eq!(carol.admins(&PLENARY).unwrap(), Some(vec![handle("ann")]));

    // Parley's own engine refuses a participant's change before it is made.
    let gils = key_package_of(&mut gil);
    let _ = gil.take_changes();
    assert!(matches!(
        carol.add_members(&PLENARY, std::slice::from_ref(&gils)),
        Err(MlsError::NotFacilitator(who)) if who == handle("carol")
    ));
    let promoted = spec
        .with_role(&handle("carol"), Some(Role::Facilitator))
        .unwrap();
    assert!(matches!(
        carol.change_workshop(&PLENARY, promoted, &[], &[]),
        Err(MlsError::NotFacilitator(_))
    ));
    assert!(matches!(
        carol.remove_members(&PLENARY, &[handle("fay")]),
        Err(MlsError::NotFacilitator(_))
    ));
    assert!(matches!(
        carol.set_retention(&PLENARY, Retention::from_secs(3600).unwrap()),
        Err(MlsError::NotFacilitator(_))
    ));
    assert!(matches!(
        carol.promote(&PLENARY, &handle("carol")),
        Err(MlsError::NotFacilitator(_) | MlsError::NoRoles)
    ));
    carol.discard_changes();

    // mallory's software makes them anyway; every honest member refuses them.
    let zeds = key_package_of(&mut zed);
    let add_gil = mallory.commit(vec![], vec![validated(&gils, &mallory.provider)], None);
    let add_zed = mallory.commit(vec![], vec![validated(&zeds, &mallory.provider)], None);
    let fay_leaf = mallory.leaf_of("fay");
    let remove_fay = mallory.commit(vec![fay_leaf], vec![], None);
    let self_made = spec
        .with_role(&handle("mallory"), Some(Role::Facilitator))
        .unwrap();
    let self_promotion = mallory.commit(vec![], vec![], Some(context(&self_made, None, None)));
    let silenced = spec.with_attribution(Attribution::Person);
    let policy = mallory.commit(vec![], vec![], Some(context(&silenced, None, None)));
    let hour = Retention::from_secs(3600).unwrap();
    let retention = mallory.commit(vec![], vec![], Some(context(&spec, Some(hour), None)));
    for member in [&mut ann, &mut carol, &mut fay] {
        for (what, commit) in [
            ("an observer added by a participant", &add_gil),
            ("a stranger added by a participant", &add_zed),
            ("a removal by a participant", &remove_fay),
            (
                "a participant making herself a facilitator",
                &self_promotion,
            ),
            ("a participant changing the attribution", &policy),
            ("a participant changing the retention", &retention),
        ] {
            refused_in(
                &PLENARY,
                member,
                commit,
                what,
                |e| matches!(e, MlsError::NotFacilitator(who) if *who == handle("mallory")),
            );
        }
    }

    // The facilitator's own change goes through and is announced as what it is.
    let out = ann
        .change_workshop(&PLENARY, spec.clone(), std::slice::from_ref(&gils), &[])
        .unwrap();
    ann.merge_own_commit(&PLENARY).unwrap();
    let Incoming::Commit(commit) = carol.process(&PLENARY, &out.commit).unwrap() else {
        panic!("not a commit")
    };
    assert_eq!(commit.added()[0].handle, handle("gil"));
    carol.merge_incoming_commit(&PLENARY, commit).unwrap();
    let moved = spec
        .with_role(&handle("fay"), Some(Role::Side(side("north"))))
        .unwrap();
    let out = ann
        .change_workshop(&PLENARY, moved.clone(), &[], &[])
        .unwrap();
    ann.merge_own_commit(&PLENARY).unwrap();
    let Incoming::Commit(commit) = carol.process(&PLENARY, &out.commit).unwrap() else {
        panic!("not a commit")
    };
    let said: Vec<String> = commit
        .roster_changes()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(said, ["fay moved from south to north"]);
    assert_eq!(commit.workshop(), Some(&moved));
    carol.merge_incoming_commit(&PLENARY, commit).unwrap();
    assert_eq!(carol.workshop(&PLENARY).unwrap(), Some(moved));
}

#[test]
fn a_facilitator_cannot_bring_in_anyone_the_roster_does_not_place_nor_turn_the_room() {
    let mut ann = honest("ann", 11);
    let mut carol = honest("carol", 12);
    let mut fay = honest("fay", 13);
    let mut mallory = Mallory::new();
    let spec = workshop(Room::Caucus(side("north")), true);
    room_with(
        &mut ann,
        NORTH,
        spec.clone(),
        &mut [&mut carol],
        &mut mallory,
    );

    // ann's engine refuses to put a southerner into the north caucus.
    let fays = key_package_of(&mut fay);
    let _ = fay.take_changes();
    assert!(matches!(
        ann.add_members(&NORTH, std::slice::from_ref(&fays)),
        Err(MlsError::NotInRoster(who)) if who == handle("fay")
    ));
    ann.discard_changes();

    // mallory, a facilitator, does it anyway, or turns the room into another.
    let fay_package = validated(&fays, &mallory.provider);
    let southerner = mallory.commit(vec![], vec![fay_package.clone()], None);
    let as_south = spec.for_room(&Room::Caucus(side("south"))).unwrap();
    let turned = mallory.commit(vec![], vec![], Some(context(&as_south, None, None)));
    let elsewhere = WorkshopSpec::new(
        [8; 16],
        Room::Caucus(side("north")),
        spec.sides().to_vec(),
        spec.rooms().iter().map(|(_, id)| *id).collect(),
        spec.members().to_vec(),
        Attribution::Side,
    )
    .unwrap();
    let moved_away = mallory.commit(vec![], vec![], Some(context(&elsewhere, None, None)));
    let admins = GroupRoles::created_by(handle("mallory"));
    let with_admins = mallory.commit(vec![], vec![], Some(context(&spec, None, Some(&admins))));
    for member in [&mut ann, &mut carol] {
        refused_in(
            &NORTH,
            member,
            &southerner,
            "a southerner in the north caucus",
            |e| matches!(e, MlsError::NotInRoster(who) if *who == handle("fay")),
        );
        refused_in(
            &NORTH,
            member,
            &turned,
            "the caucus turned into another",
            |e| matches!(e, MlsError::UnsupportedProposal),
        );
        refused_in(
            &NORTH,
            member,
            &moved_away,
            "the caucus moved to another workshop",
            |e| matches!(e, MlsError::UnsupportedProposal),
        );
        refused_in(
            &NORTH,
            member,
            &with_admins,
            "admins beside the facilitators",
            |e| matches!(e, MlsError::InvalidWorkshop | MlsError::UnsupportedProposal),
        );
    }

    // By the rules: fay moved to north in the roster and added, in one commit.
    let moved = spec
        .with_role(&handle("fay"), Some(Role::Side(side("north"))))
        .unwrap();
    let by_the_rules = mallory.commit(vec![], vec![fay_package], Some(context(&moved, None, None)));
    let Incoming::Commit(commit) = carol.process(&NORTH, &by_the_rules).unwrap() else {
        panic!("not a commit")
    };
    assert_eq!(commit.added()[0].handle, handle("fay"));
    carol.merge_incoming_commit(&NORTH, commit).unwrap();
    let members: Vec<Handle> = carol
        .members(&NORTH)
        .unwrap()
        .into_iter()
        .map(|m| m.handle)
        .collect();
    assert!(members.contains(&handle("fay")), "{members:?}");
}

//! A Track II workshop: its sides, rooms, roster and attribution policy, named in the MLS
//! group context of each of its rooms.
//!
//! A workshop is several MLS groups: the plenary, a room for the facilitators and one caucus
//! per side. Each group's context carries the whole workshop (extension
//! [`WORKSHOP_EXTENSION_TYPE`], from the private-use range of RFC 9420) and says which of its
//! rooms that group is, so every member of every room holds the same roster and only a commit
//! that every member processes can change it; the relay sees none of it. The roster says who
//! belongs in which room ([`WorkshopSpec::members_of`]), and the attribution policy how the
//! plenary shows who said what ([`WorkshopSpec::label_for`]).
//!
//! Encoding (lengths `u8` unless said, integers big-endian): `u8 version` (1), `[16] id`, the
//! room (`u8 tag`: 0 plenary, 1 facilitators, 2 caucus followed by `u8 side index`),
//! `u8 attribution` (0 person, 1 side, 2 none), `u8 side count` then per side, in strictly
//! ascending order, `u8 length` and its bytes; then the `2 + side count` room ids of 32 bytes
//! each in canonical order (plenary, facilitators, one caucus per side in side order; the
//! count is implied); `u16 member count` then per member, in strictly ascending order of
//! handle, `u8 length`, the handle's bytes and `u8 role` (0 facilitator, 1 observer, 2 side
//! followed by `u8 side index`). Nothing may follow. Every spec has exactly one encoding.

use std::fmt;

use crate::handle::Handle;

/// The MLS extension type carrying the workshop in the group context of each of its rooms
/// (RFC 9420 section 17.3 reserves 0xF000..=0xFFFF for private use).
pub const WORKSHOP_EXTENSION_TYPE: u16 = 0xF0A3;

/// Version byte of the encoding.
pub const WORKSHOP_VERSION: u8 = 1;
/// Fewest sides a workshop has: a single side would have no one to talk to.
pub const MIN_SIDES: usize = 2;
/// Most sides a workshop has.
pub const MAX_SIDES: usize = 16;
/// Most members a workshop has, every role counted.
pub const MAX_MEMBERS: usize = 1000;
/// Longest side name, in bytes.
pub const MAX_SIDE_NAME_LEN: usize = 24;

// Words the interface shows in place of a name: a side so named could pass for a role, a
// room or the reader.
const RESERVED_SIDE_NAMES: [&str; 8] = [
    "facilitator",
    "facilitators",
    "observer",
    "observers",
    "participant",
    "participants",
    "plenary",
    "you",
];

const ROOM_PLENARY: u8 = 0;
const ROOM_FACILITATORS: u8 = 1;
const ROOM_CAUCUS: u8 = 2;

const ROLE_FACILITATOR: u8 = 0;
const ROLE_OBSERVER: u8 = 1;
const ROLE_SIDE: u8 = 2;

/// Why a workshop, or a piece of one, is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkshopError {
    /// The bytes end before the workshop does, or go on after it.
    #[error("the workshop description is cut short or has bytes after it")]
    BadLength,
    /// A version of the encoding this code does not know.
    #[error("the workshop description is in a version this Parley does not know")]
    BadVersion,
    /// A side name that is empty, too long, has other characters than a-z, 0-9 and '-',
    /// does not start with a letter, or is a reserved word.
    #[error(
        "a side name is 1 to 24 characters of a-z, 0-9 and '-', starts with a letter and is \
         not a reserved word (facilitator, observer, participant, plenary, you)"
    )]
    BadSideName,
    /// An attribution policy other than `person`, `side` or `none`.
    #[error("the attribution policy is one of person, side or none")]
    BadAttribution,
    /// A member's handle is not valid.
    #[error("a member's handle is not valid")]
    BadHandle,
    /// Sides or members out of order or repeated (one encoding per workshop).
    #[error("sides and members are listed once each, in order")]
    NotCanonical,
    /// No facilitator: a workshop keeps at least one.
    #[error("a workshop keeps at least one facilitator")]
    NoFacilitator,
    /// A member's side is not one of the workshop's sides.
    #[error("a member is on a side the workshop does not have")]
    UnknownSide,
    /// More sides than a workshop has (16).
    #[error("a workshop has at most 16 sides")]
    TooManySides,
    /// Fewer sides than a workshop has (2).
    #[error("a workshop has at least 2 sides")]
    TooFewSides,
    /// More members than a workshop has (1000).
    #[error("a workshop has at most 1000 members")]
    TooManyMembers,
    /// A room that is not one of the workshop's (a caucus of a side it does not have).
    #[error("the room is not one of the workshop's")]
    UnknownRoom,
    /// Not one room id per room: the plenary, the facilitators' room and a caucus per side.
    #[error(
        "a workshop has one room id for the plenary, one for the facilitators and one per side"
    )]
    RoomCount,
    /// Two rooms with the same id.
    #[error("each room of a workshop has its own id")]
    DuplicateRoomId,
    /// A room, attribution or role byte with no meaning.
    #[error("the workshop description has a room, attribution or role this Parley does not know")]
    BadTag,
}

/// The name of one side of a workshop: 1 to 24 bytes of `[a-z0-9-]`, starting with a letter,
/// and not a word the interface uses for roles or rooms.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SideName(String);

impl SideName {
    /// Validates `s` as a side name.
    pub fn parse(s: &str) -> Result<SideName, WorkshopError> {
        let bytes = s.as_bytes();
        if bytes.is_empty() || bytes.len() > MAX_SIDE_NAME_LEN {
            return Err(WorkshopError::BadSideName);
        }
        if !bytes.first().is_some_and(u8::is_ascii_lowercase) {
            return Err(WorkshopError::BadSideName);
        }
        if !bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(WorkshopError::BadSideName);
        }
        if RESERVED_SIDE_NAMES.contains(&s) {
            return Err(WorkshopError::BadSideName);
        }
        Ok(SideName(s.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SideName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the plenary shows who said what (the Chatham House rule, in three strengths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// By the speaker's handle.
    Person,
    /// By the speaker's side only.
    Side,
    /// Not at all, beyond telling facilitators from participants.
    None,
}

impl Attribution {
    /// Reads a policy as people write it: `person`, `side` or `none`.
    pub fn parse(s: &str) -> Result<Attribution, WorkshopError> {
        match s {
            "person" => Ok(Attribution::Person),
            "side" => Ok(Attribution::Side),
            "none" => Ok(Attribution::None),
            _ => Err(WorkshopError::BadAttribution),
        }
    }

    /// The policy as [`Attribution::parse`] reads it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Attribution::Person => "person",
            Attribution::Side => "side",
            Attribution::None => "none",
        }
    }

    fn tag(self) -> u8 {
        match self {
            Attribution::Person => 0,
            Attribution::Side => 1,
            Attribution::None => 2,
        }
    }

    fn from_tag(tag: u8) -> Result<Attribution, WorkshopError> {
        match tag {
            0 => Ok(Attribution::Person),
            1 => Ok(Attribution::Side),
            2 => Ok(Attribution::None),
            _ => Err(WorkshopError::BadTag),
        }
    }
}

impl fmt::Display for Attribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a member is in a workshop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Runs the workshop: in the plenary, the facilitators' room and every caucus.
    Facilitator,
    /// A participant for this side: in the plenary and the side's caucus.
    Side(SideName),
    /// Follows the plenary only.
    Observer,
}

impl Role {
    /// Reads a role as people write it: `facilitator`, `observer` or a side's name.
    pub fn parse(s: &str) -> Result<Role, WorkshopError> {
        match s {
            "facilitator" => Ok(Role::Facilitator),
            "observer" => Ok(Role::Observer),
            side => SideName::parse(side).map(Role::Side),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Facilitator => f.write_str("facilitator"),
            Role::Side(side) => f.write_str(side.as_str()),
            Role::Observer => f.write_str("observer"),
        }
    }
}

/// One of a workshop's rooms (each its own MLS group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Room {
    /// Everyone, observers too.
    Plenary,
    /// The facilitators alone.
    Facilitators,
    /// One side with the facilitators.
    Caucus(SideName),
}

impl Room {
    /// Reads a room as [`Room`]'s `Display` writes it: `plenary`, `facilitators` or
    /// `caucus <side>`.
    pub fn parse(s: &str) -> Result<Room, WorkshopError> {
        match s {
            "plenary" => Ok(Room::Plenary),
            "facilitators" => Ok(Room::Facilitators),
            other => match other.strip_prefix("caucus ") {
                Some(side) => SideName::parse(side).map(Room::Caucus),
                None => Err(WorkshopError::UnknownRoom),
            },
        }
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Room::Plenary => f.write_str("plenary"),
            Room::Facilitators => f.write_str("facilitators"),
            Room::Caucus(side) => write!(f, "caucus {side}"),
        }
    }
}

/// Serde as the words people read and write (`north`, `facilitator`, `caucus north`, `side`);
/// deserializing validates them.
#[cfg(feature = "serde")]
mod words {
    use super::{Attribution, Role, Room, SideName};

    macro_rules! as_words {
        ($type:ty, $parse:expr) => {
            impl serde::Serialize for $type {
                fn serialize<S: serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> Result<S::Ok, S::Error> {
                    serializer.collect_str(self)
                }
            }

            impl<'de> serde::Deserialize<'de> for $type {
                fn deserialize<D: serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> Result<$type, D::Error> {
                    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                    $parse(&text).map_err(serde::de::Error::custom)
                }
            }
        };
    }

    as_words!(SideName, SideName::parse);
    as_words!(Attribution, Attribution::parse);
    as_words!(Role, Role::parse);
    as_words!(Room, Room::parse);
}

/// A change to a workshop's roster or policy, as announced to its rooms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterChange {
    /// Someone new to the workshop.
    Joined {
        /// Who.
        handle: Handle,
        /// As what.
        role: Role,
    },
    /// Someone no longer in the workshop.
    Left {
        /// Who.
        handle: Handle,
        /// What they were.
        role: Role,
    },
    /// Someone who stays, in another role.
    RoleChanged {
        /// Who.
        handle: Handle,
        /// The role before.
        from: Role,
        /// The role now.
        to: Role,
    },
    /// The plenary's attribution policy changed.
    Attribution {
        /// The policy before.
        from: Attribution,
        /// The policy now.
        to: Attribution,
    },
}

impl fmt::Display for RosterChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RosterChange::Joined { handle, role } => write!(f, "{handle} joined as {role}"),
            RosterChange::Left { handle, role } => write!(f, "{handle} left (was {role})"),
            RosterChange::RoleChanged { handle, from, to } => {
                write!(f, "{handle} moved from {from} to {to}")
            }
            RosterChange::Attribution { from, to } => {
                write!(f, "attribution changed from {from} to {to}")
            }
        }
    }
}

/// A workshop as one of its rooms sees it: valid by construction, and encoded one way only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkshopSpec {
    id: [u8; 16],
    room: Room,
    sides: Vec<SideName>,
    rooms: Vec<[u8; 32]>,
    members: Vec<(Handle, Role)>,
    attribution: Attribution,
}

impl WorkshopSpec {
    /// A workshop seen from `room`.
    ///
    /// The sides are sorted and repeats dropped, so their order does not matter; there are 2
    /// to 16. `room_ids` holds one id per room in the canonical order: the plenary, the
    /// facilitators' room, then one caucus per side in the sorted order of the sides; each id
    /// is different. Each handle appears once among `members` (a repeat is
    /// [`WorkshopError::NotCanonical`]), in any order; every side named by a role is one of
    /// the sides, at least one member is a facilitator and there are at most 1000. `room` is
    /// one of the workshop's rooms.
    pub fn new(
        id: [u8; 16],
        room: Room,
        mut sides: Vec<SideName>,
        room_ids: Vec<[u8; 32]>,
        mut members: Vec<(Handle, Role)>,
        attribution: Attribution,
    ) -> Result<WorkshopSpec, WorkshopError> {
        sides.sort();
        sides.dedup();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        WorkshopSpec::checked(WorkshopSpec {
            id,
            room,
            sides,
            rooms: room_ids,
            members,
            attribution,
        })
    }

    // Every rule of a valid spec, for a spec whose sides and members are already sorted (by
    // `new`, or found in order by `decode`).
    fn checked(spec: WorkshopSpec) -> Result<WorkshopSpec, WorkshopError> {
        if spec.sides.len() < MIN_SIDES {
            return Err(WorkshopError::TooFewSides);
        }
        if spec.sides.len() > MAX_SIDES {
            return Err(WorkshopError::TooManySides);
        }
        if spec.sides.windows(2).any(|w| w[0] >= w[1]) {
            return Err(WorkshopError::NotCanonical);
        }
        if spec.rooms.len() != 2 + spec.sides.len() {
            return Err(WorkshopError::RoomCount);
        }
        let mut ids = spec.rooms.clone();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(WorkshopError::DuplicateRoomId);
        }
        if spec.members.len() > MAX_MEMBERS {
            return Err(WorkshopError::TooManyMembers);
        }
        if spec.members.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(WorkshopError::NotCanonical);
        }
        for (_, role) in &spec.members {
            if let Role::Side(side) = role {
                if spec.sides.binary_search(side).is_err() {
                    return Err(WorkshopError::UnknownSide);
                }
            }
        }
        if !spec
            .members
            .iter()
            .any(|(_, role)| *role == Role::Facilitator)
        {
            return Err(WorkshopError::NoFacilitator);
        }
        if spec.room_id(&spec.room).is_none() {
            return Err(WorkshopError::UnknownRoom);
        }
        Ok(spec)
    }

    /// The workshop's id, the same in all its rooms.
    pub fn id(&self) -> [u8; 16] {
        self.id
    }

    /// The room whose group context holds this spec.
    pub fn room(&self) -> &Room {
        &self.room
    }

    /// The sides, in order.
    pub fn sides(&self) -> &[SideName] {
        &self.sides
    }

    /// Every room with its id: the plenary, the facilitators' room, then a caucus per side in
    /// the order of the sides.
    pub fn rooms(&self) -> Vec<(Room, [u8; 32])> {
        let names = [Room::Plenary, Room::Facilitators]
            .into_iter()
            .chain(self.sides.iter().cloned().map(Room::Caucus));
        names.zip(self.rooms.iter().copied()).collect()
    }

    /// The id of `room`, if it is one of the workshop's.
    pub fn room_id(&self, room: &Room) -> Option<[u8; 32]> {
        let index = match room {
            Room::Plenary => 0,
            Room::Facilitators => 1,
            Room::Caucus(side) => 2 + self.sides.binary_search(side).ok()?,
        };
        self.rooms.get(index).copied()
    }

    /// Every member with their role, in order of handle.
    pub fn members(&self) -> &[(Handle, Role)] {
        &self.members
    }

    /// How the plenary attributes what is said.
    pub fn attribution(&self) -> Attribution {
        self.attribution
    }

    /// The role of `handle`, if a member.
    pub fn role_of(&self, handle: &Handle) -> Option<&Role> {
        self.members
            .binary_search_by(|(h, _)| h.cmp(handle))
            .ok()
            .and_then(|at| self.members.get(at))
            .map(|(_, role)| role)
    }

    /// The facilitators, in order of handle.
    pub fn facilitators(&self) -> Vec<Handle> {
        self.handles_where(|role| *role == Role::Facilitator)
    }

    /// The members on `side`, in order of handle.
    pub fn side_members(&self, side: &SideName) -> Vec<Handle> {
        self.handles_where(|role| matches!(role, Role::Side(s) if s == side))
    }

    /// The observers, in order of handle.
    pub fn observers(&self) -> Vec<Handle> {
        self.handles_where(|role| *role == Role::Observer)
    }

    /// Who belongs in `room` by this spec, in order of handle: everyone in the plenary
    /// (observers too), the facilitators in theirs, and the facilitators with the side's
    /// members in a caucus. No one belongs in a room the workshop does not have.
    pub fn members_of(&self, room: &Room) -> Vec<Handle> {
        if self.room_id(room).is_none() {
            return Vec::new();
        }
        match room {
            Room::Plenary => self.handles_where(|_| true),
            Room::Facilitators => self.facilitators(),
            Room::Caucus(side) => self.handles_where(|role| {
                matches!(role, Role::Facilitator) || matches!(role, Role::Side(s) if s == side)
            }),
        }
    }

    /// Who belongs in this spec's own room ([`WorkshopSpec::members_of`] its room).
    pub fn expected_members(&self) -> Vec<Handle> {
        self.members_of(&self.room)
    }

    /// The same workshop as `room` sees it.
    pub fn for_room(&self, room: &Room) -> Result<WorkshopSpec, WorkshopError> {
        if self.room_id(room).is_none() {
            return Err(WorkshopError::UnknownRoom);
        }
        Ok(WorkshopSpec {
            room: room.clone(),
            ..self.clone()
        })
    }

    /// Whether `other` is the same workshop with the same sides, rooms, roster and policy,
    /// whichever of its rooms it is seen from.
    pub fn same_workshop(&self, other: &WorkshopSpec) -> bool {
        self.id == other.id
            && self.sides == other.sides
            && self.rooms == other.rooms
            && self.members == other.members
            && self.attribution == other.attribution
    }

    /// This spec with `handle` in `role` (added if not a member), or without `handle` when
    /// `role` is `None`; refused if the result is not a valid workshop (no facilitator left,
    /// say).
    pub fn with_role(
        &self,
        handle: &Handle,
        role: Option<Role>,
    ) -> Result<WorkshopSpec, WorkshopError> {
        let mut members = self.members.clone();
        let found = members.binary_search_by(|(h, _)| h.cmp(handle));
        match (found, role) {
            (Ok(at), Some(role)) => {
                if let Some(entry) = members.get_mut(at) {
                    entry.1 = role;
                }
            }
            (Ok(at), None) => {
                members.remove(at);
            }
            (Err(at), Some(role)) => members.insert(at, (handle.clone(), role)),
            (Err(_), None) => {}
        }
        WorkshopSpec::checked(WorkshopSpec {
            members,
            ..self.clone()
        })
    }

    /// This spec under another attribution policy.
    pub fn with_attribution(&self, attribution: Attribution) -> WorkshopSpec {
        WorkshopSpec {
            attribution,
            ..self.clone()
        }
    }

    /// How the plenary names the sender of a message by `handle`: by handle under
    /// [`Attribution::Person`]; by side (or "facilitator", "observer") under
    /// [`Attribution::Side`]; as "facilitator" or "participant" (side members and observers
    /// alike) under [`Attribution::None`]. `None` if `handle` is not a member.
    pub fn label_for(&self, handle: &Handle) -> Option<String> {
        let role = self.role_of(handle)?;
        let label = match (self.attribution, role) {
            (Attribution::Person, _) => handle.to_string(),
            (Attribution::Side, role) => role.to_string(),
            (Attribution::None, Role::Facilitator) => "facilitator".to_owned(),
            (Attribution::None, Role::Side(_) | Role::Observer) => "participant".to_owned(),
        };
        Some(label)
    }

    /// What changed since `earlier` (the same workshop, before): who joined, left or changed
    /// role, in order of handle, then the attribution policy if it changed.
    pub fn changes_since(&self, earlier: &WorkshopSpec) -> Vec<RosterChange> {
        let mut changes = Vec::new();
        let mut now = self.members.iter().peekable();
        let mut then = earlier.members.iter().peekable();
        // Both rosters are sorted by handle: one merge pass pairs them up.
        loop {
            let change = match (now.peek(), then.peek()) {
                (None, None) => break,
                (Some((handle, role)), None) => {
                    now.next();
                    Some(joined(handle, role))
                }
                (None, Some((handle, role))) => {
                    then.next();
                    Some(left(handle, role))
                }
                (Some((h_now, r_now)), Some((h_then, r_then))) => match h_now.cmp(h_then) {
                    std::cmp::Ordering::Less => {
                        now.next();
                        Some(joined(h_now, r_now))
                    }
                    std::cmp::Ordering::Greater => {
                        then.next();
                        Some(left(h_then, r_then))
                    }
                    std::cmp::Ordering::Equal => {
                        let change = (r_now != r_then).then(|| RosterChange::RoleChanged {
                            handle: h_now.clone(),
                            from: r_then.clone(),
                            to: r_now.clone(),
                        });
                        now.next();
                        then.next();
                        change
                    }
                },
            };
            changes.extend(change);
        }
        if self.attribution != earlier.attribution {
            changes.push(RosterChange::Attribution {
                from: earlier.attribution,
                to: self.attribution,
            });
        }
        changes
    }

    /// The extension's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            21 + self.sides.len() * 9 + self.rooms.len() * 32 + 2 + self.members.len() * 12,
        );
        out.push(WORKSHOP_VERSION);
        out.extend_from_slice(&self.id);
        match &self.room {
            Room::Plenary => out.push(ROOM_PLENARY),
            Room::Facilitators => out.push(ROOM_FACILITATORS),
            Room::Caucus(side) => {
                out.push(ROOM_CAUCUS);
                out.push(self.side_index(side));
            }
        }
        out.push(self.attribution.tag());
        // Counts and lengths are bounded by the constructor (16 sides of at most 24 bytes,
        // 1000 members, handles of at most 32 bytes), so none of these saturate.
        out.push(u8::try_from(self.sides.len()).unwrap_or(u8::MAX));
        for side in &self.sides {
            out.push(u8::try_from(side.0.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(side.0.as_bytes());
        }
        for id in &self.rooms {
            out.extend_from_slice(id);
        }
        out.extend_from_slice(
            &u16::try_from(self.members.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        for (handle, role) in &self.members {
            out.push(handle.len_u8());
            out.extend_from_slice(handle.as_bytes());
            match role {
                Role::Facilitator => out.push(ROLE_FACILITATOR),
                Role::Observer => out.push(ROLE_OBSERVER),
                Role::Side(side) => {
                    out.push(ROLE_SIDE);
                    out.push(self.side_index(side));
                }
            }
        }
        out
    }

    /// Reads the extension's bytes; anything but the one canonical encoding of a valid spec
    /// is refused.
    pub fn decode(bytes: &[u8]) -> Result<WorkshopSpec, WorkshopError> {
        let mut r = Reader(bytes);
        if r.byte()? != WORKSHOP_VERSION {
            return Err(WorkshopError::BadVersion);
        }
        let id = r.array::<16>()?;
        // The room names its side by index, and the sides come later: kept raw until then.
        let room_tag = r.byte()?;
        let room_side = match room_tag {
            ROOM_PLENARY | ROOM_FACILITATORS => None,
            ROOM_CAUCUS => Some(r.byte()?),
            _ => return Err(WorkshopError::BadTag),
        };
        let attribution = Attribution::from_tag(r.byte()?)?;
        let side_count = usize::from(r.byte()?);
        if side_count < MIN_SIDES {
            return Err(WorkshopError::TooFewSides);
        }
        if side_count > MAX_SIDES {
            return Err(WorkshopError::TooManySides);
        }
        let mut sides: Vec<SideName> = Vec::with_capacity(side_count);
        for _ in 0..side_count {
            let len = usize::from(r.byte()?);
            let name = std::str::from_utf8(r.take(len)?).map_err(|_| WorkshopError::BadSideName)?;
            let side = SideName::parse(name)?;
            if sides.last().is_some_and(|last| *last >= side) {
                return Err(WorkshopError::NotCanonical);
            }
            sides.push(side);
        }
        let mut rooms = Vec::with_capacity(2 + side_count);
        for _ in 0..2 + side_count {
            rooms.push(r.array::<32>()?);
        }
        let member_count = usize::from(u16::from_be_bytes(r.array::<2>()?));
        if member_count > MAX_MEMBERS {
            return Err(WorkshopError::TooManyMembers);
        }
        let mut members: Vec<(Handle, Role)> = Vec::with_capacity(member_count);
        for _ in 0..member_count {
            let len = usize::from(r.byte()?);
            let name = std::str::from_utf8(r.take(len)?).map_err(|_| WorkshopError::BadHandle)?;
            let handle = Handle::parse(name).map_err(|_| WorkshopError::BadHandle)?;
            if handle.as_str() != name {
                return Err(WorkshopError::NotCanonical);
            }
            if members.last().is_some_and(|(last, _)| *last >= handle) {
                return Err(WorkshopError::NotCanonical);
            }
            let role = match r.byte()? {
                ROLE_FACILITATOR => Role::Facilitator,
                ROLE_OBSERVER => Role::Observer,
                ROLE_SIDE => {
                    let index = usize::from(r.byte()?);
                    Role::Side(
                        sides
                            .get(index)
                            .cloned()
                            .ok_or(WorkshopError::UnknownSide)?,
                    )
                }
                _ => return Err(WorkshopError::BadTag),
            };
            members.push((handle, role));
        }
        if !r.0.is_empty() {
            return Err(WorkshopError::BadLength);
        }
        let room = match room_side {
            None if room_tag == ROOM_PLENARY => Room::Plenary,
            None => Room::Facilitators,
            Some(index) => Room::Caucus(
                sides
                    .get(usize::from(index))
                    .cloned()
                    .ok_or(WorkshopError::UnknownRoom)?,
            ),
        };
        WorkshopSpec::checked(WorkshopSpec {
            id,
            room,
            sides,
            rooms,
            members,
            attribution,
        })
    }

    fn handles_where(&self, keep: impl Fn(&Role) -> bool) -> Vec<Handle> {
        self.members
            .iter()
            .filter(|(_, role)| keep(role))
            .map(|(handle, _)| handle.clone())
            .collect()
    }

    fn side_index(&self, side: &SideName) -> u8 {
        // Every side a valid spec names is one of its (at most 16) sides.
        self.sides
            .binary_search(side)
            .ok()
            .and_then(|at| u8::try_from(at).ok())
            .unwrap_or(u8::MAX)
    }
}

fn joined(handle: &Handle, role: &Role) -> RosterChange {
    RosterChange::Joined {
        handle: handle.clone(),
        role: role.clone(),
    }
}

fn left(handle: &Handle, role: &Role) -> RosterChange {
    RosterChange::Left {
        handle: handle.clone(),
        role: role.clone(),
    }
}

// Reads the encoding front to back; running out of bytes is always BadLength.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, WorkshopError> {
        let (&b, rest) = self.0.split_first().ok_or(WorkshopError::BadLength)?;
        self.0 = rest;
        Ok(b)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], WorkshopError> {
        let (taken, rest) = self
            .0
            .split_at_checked(len)
            .ok_or(WorkshopError::BadLength)?;
        self.0 = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WorkshopError> {
        let (taken, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(WorkshopError::BadLength)?;
        self.0 = rest;
        Ok(*taken)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn handle(name: &str) -> Handle {
        Handle::parse(name).unwrap()
    }

    fn side(name: &str) -> SideName {
        SideName::parse(name).unwrap()
    }

    fn ids(count: usize) -> Vec<[u8; 32]> {
        (0..count)
            .map(|i| [0xa0 + u8::try_from(i).unwrap(); 32])
            .collect()
    }

    // alice facilitates, bob is north, carol observes, dave is south; seen from south's
    // caucus, attributed by side.
    fn spec() -> WorkshopSpec {
        WorkshopSpec::new(
            [0x11; 16],
            Room::Caucus(side("south")),
            vec![side("south"), side("north"), side("south")],
            ids(4),
            vec![
                (handle("dave"), Role::Side(side("south"))),
                (handle("carol"), Role::Observer),
                (handle("alice"), Role::Facilitator),
                (handle("bob"), Role::Side(side("north"))),
            ],
            Attribution::Side,
        )
        .unwrap()
    }

    // The encoding of a workshop with raw parts, ids as `ids` gives them.
    fn raw(room: &[u8], attribution: u8, sides: &[&str], members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = vec![1];
        out.extend_from_slice(&[0x11; 16]);
        out.extend_from_slice(room);
        out.push(attribution);
        out.push(u8::try_from(sides.len()).unwrap());
        for s in sides {
            out.push(u8::try_from(s.len()).unwrap());
            out.extend_from_slice(s.as_bytes());
        }
        for id in ids(2 + sides.len()) {
            out.extend_from_slice(&id);
        }
        out.extend_from_slice(&u16::try_from(members.len()).unwrap().to_be_bytes());
        for (name, role) in members {
            out.push(u8::try_from(name.len()).unwrap());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(role);
        }
        out
    }

    fn small() -> Vec<u8> {
        raw(
            &[2, 1],
            1,
            &["north", "south"],
            &[
                ("alice", &[0]),
                ("bob", &[2, 0]),
                ("carol", &[1]),
                ("dave", &[2, 1]),
            ],
        )
    }

    #[test]
    fn a_workshop_round_trips_in_one_encoding() {
        let spec = spec();
        let bytes = spec.encode();
        let mut expected = b"\x01".to_vec();
        expected.extend_from_slice(&[0x11; 16]);
        expected.extend_from_slice(b"\x02\x01\x01\x02\x05north\x05south");
        for byte in [0xa0, 0xa1, 0xa2, 0xa3] {
            expected.extend_from_slice(&[byte; 32]);
        }
        expected.extend_from_slice(
            b"\x00\x04\x05alice\x00\x03bob\x02\x00\x05carol\x01\x04dave\x02\x01",
        );
        assert_eq!(bytes, expected);
        assert_eq!(bytes, small());
        assert_eq!(WorkshopSpec::decode(&bytes).unwrap(), spec);
        for room in [
            Room::Plenary,
            Room::Facilitators,
            Room::Caucus(side("north")),
        ] {
            let other = spec.for_room(&room).unwrap();
            assert_eq!(WorkshopSpec::decode(&other.encode()).unwrap(), other);
        }
    }

    #[test]
    fn accessors_follow_the_canonical_order() {
        let spec = spec();
        assert_eq!(spec.id(), [0x11; 16]);
        assert_eq!(spec.room(), &Room::Caucus(side("south")));
        assert_eq!(spec.sides(), [side("north"), side("south")]);
        assert_eq!(
            spec.rooms(),
            vec![
                (Room::Plenary, [0xa0; 32]),
                (Room::Facilitators, [0xa1; 32]),
                (Room::Caucus(side("north")), [0xa2; 32]),
                (Room::Caucus(side("south")), [0xa3; 32]),
            ]
        );
        assert_eq!(spec.room_id(&Room::Caucus(side("south"))), Some([0xa3; 32]));
        assert_eq!(spec.room_id(&Room::Caucus(side("east"))), None);
        let handles: Vec<_> = spec.members().iter().map(|(h, _)| h.clone()).collect();
        assert_eq!(
            handles,
            [
                handle("alice"),
                handle("bob"),
                handle("carol"),
                handle("dave")
            ]
        );
        assert_eq!(spec.attribution(), Attribution::Side);
        assert_eq!(spec.role_of(&handle("carol")), Some(&Role::Observer));
        assert_eq!(spec.role_of(&handle("erin")), None);
        assert_eq!(spec.facilitators(), [handle("alice")]);
        assert_eq!(spec.side_members(&side("north")), [handle("bob")]);
        assert_eq!(spec.side_members(&side("east")), Vec::<Handle>::new());
        assert_eq!(spec.observers(), [handle("carol")]);
    }

    #[test]
    fn each_room_has_its_members() {
        let spec = spec()
            .with_role(&handle("fay"), Some(Role::Facilitator))
            .unwrap();
        assert_eq!(
            spec.members_of(&Room::Plenary),
            [
                handle("alice"),
                handle("bob"),
                handle("carol"),
                handle("dave"),
                handle("fay")
            ]
        );
        assert_eq!(
            spec.members_of(&Room::Facilitators),
            [handle("alice"), handle("fay")]
        );
        assert_eq!(
            spec.members_of(&Room::Caucus(side("north"))),
            [handle("alice"), handle("bob"), handle("fay")]
        );
        assert_eq!(
            spec.members_of(&Room::Caucus(side("south"))),
            [handle("alice"), handle("dave"), handle("fay")]
        );
        assert_eq!(
            spec.expected_members(),
            spec.members_of(&Room::Caucus(side("south")))
        );
        assert_eq!(
            spec.members_of(&Room::Caucus(side("east"))),
            Vec::<Handle>::new()
        );
    }

    #[test]
    fn other_rooms_see_the_same_workshop() {
        let spec = spec();
        let plenary = spec.for_room(&Room::Plenary).unwrap();
        assert_eq!(plenary.room(), &Room::Plenary);
        assert!(plenary.same_workshop(&spec));
        assert_ne!(plenary, spec);
        assert_eq!(plenary.expected_members().len(), 4);
        assert_eq!(
            spec.for_room(&Room::Caucus(side("east"))),
            Err(WorkshopError::UnknownRoom)
        );
        assert!(!spec.same_workshop(&spec.with_attribution(Attribution::None)));
        let moved = spec
            .with_role(&handle("carol"), Some(Role::Facilitator))
            .unwrap();
        assert!(!spec.same_workshop(&moved));
    }

    #[test]
    fn labels_follow_the_attribution_policy() {
        let by_side = spec();
        let by_person = by_side.with_attribution(Attribution::Person);
        let anonymous = by_side.with_attribution(Attribution::None);
        let cases = [
            ("alice", "alice", "facilitator", "facilitator"),
            ("bob", "bob", "north", "participant"),
            ("carol", "carol", "observer", "participant"),
            ("dave", "dave", "south", "participant"),
        ];
        for (who, person, side, none) in cases {
            let who = handle(who);
            assert_eq!(by_person.label_for(&who).as_deref(), Some(person));
            assert_eq!(by_side.label_for(&who).as_deref(), Some(side));
            assert_eq!(anonymous.label_for(&who).as_deref(), Some(none));
        }
        assert_eq!(by_person.label_for(&handle("erin")), None);
    }

    #[test]
    fn roles_change_only_into_valid_workshops() {
        let spec = spec();
        let added = spec
            .with_role(&handle("erin"), Some(Role::Observer))
            .unwrap();
        assert_eq!(added.observers(), [handle("carol"), handle("erin")]);
        assert_eq!(added.members().len(), 5);
        let moved = spec
            .with_role(&handle("bob"), Some(Role::Side(side("south"))))
            .unwrap();
        assert_eq!(
            moved.side_members(&side("south")),
            [handle("bob"), handle("dave")]
        );
        let removed = spec.with_role(&handle("carol"), None).unwrap();
        assert_eq!(removed.observers(), Vec::<Handle>::new());
        assert_eq!(spec.with_role(&handle("erin"), None).unwrap(), spec);
        assert_eq!(
            spec.with_role(&handle("alice"), None),
            Err(WorkshopError::NoFacilitator)
        );
        assert_eq!(
            spec.with_role(&handle("alice"), Some(Role::Observer)),
            Err(WorkshopError::NoFacilitator)
        );
        assert_eq!(
            spec.with_role(&handle("erin"), Some(Role::Side(side("east")))),
            Err(WorkshopError::UnknownSide)
        );
        assert_eq!(
            spec.with_attribution(Attribution::Person).attribution(),
            Attribution::Person
        );
    }

    #[test]
    fn changes_are_announced_in_order() {
        let earlier = spec();
        let later = earlier
            .with_role(&handle("bob"), Some(Role::Side(side("south"))))
            .unwrap()
            .with_role(&handle("carol"), None)
            .unwrap()
            .with_role(&handle("aaron"), Some(Role::Side(side("north"))))
            .unwrap()
            .with_attribution(Attribution::None);
        let changes = later.changes_since(&earlier);
        let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "aaron joined as north",
                "bob moved from north to south",
                "carol left (was observer)",
                "attribution changed from side to none",
            ]
        );
        assert_eq!(
            changes[1],
            RosterChange::RoleChanged {
                handle: handle("bob"),
                from: Role::Side(side("north")),
                to: Role::Side(side("south")),
            }
        );
        assert_eq!(earlier.changes_since(&earlier), []);
        let back: Vec<String> = earlier
            .changes_since(&later)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            back,
            [
                "aaron left (was north)",
                "bob moved from south to north",
                "carol joined as observer",
                "attribution changed from none to side",
            ]
        );
    }

    #[test]
    fn names_policies_and_rooms_read_and_show() {
        for ok in ["north", "a", "n0rth-2", &"a".repeat(24)] {
            assert_eq!(SideName::parse(ok).unwrap().as_str(), ok);
            assert_eq!(SideName::parse(ok).unwrap().to_string(), ok);
        }
        let reserved = [
            "facilitator",
            "facilitators",
            "observer",
            "observers",
            "participant",
            "participants",
            "plenary",
            "you",
        ];
        let long = "a".repeat(25);
        for bad in ["", "North", "1st", "-a", "a_b", "a b", "sü", &long]
            .into_iter()
            .chain(reserved)
        {
            assert_eq!(
                SideName::parse(bad),
                Err(WorkshopError::BadSideName),
                "{bad}"
            );
        }
        for policy in [Attribution::Person, Attribution::Side, Attribution::None] {
            assert_eq!(Attribution::parse(policy.as_str()), Ok(policy));
            assert_eq!(policy.to_string(), policy.as_str());
        }
        assert_eq!(
            Attribution::parse("Person"),
            Err(WorkshopError::BadAttribution)
        );
        assert_eq!(Role::Facilitator.to_string(), "facilitator");
        assert_eq!(Role::Side(side("north")).to_string(), "north");
        assert_eq!(Role::Observer.to_string(), "observer");
        assert_eq!(Room::Plenary.to_string(), "plenary");
        assert_eq!(Room::Facilitators.to_string(), "facilitators");
        assert_eq!(Room::Caucus(side("north")).to_string(), "caucus north");
    }

    #[test]
    fn the_constructor_refuses_invalid_workshops() {
        let sides = || vec![side("north"), side("south")];
        let members = || {
            vec![
                (handle("alice"), Role::Facilitator),
                (handle("bob"), Role::Side(side("north"))),
            ]
        };
        let make = |room: Room, sides: Vec<SideName>, ids: Vec<[u8; 32]>, members| {
            WorkshopSpec::new([0; 16], room, sides, ids, members, Attribution::Person)
        };
        assert!(make(Room::Plenary, sides(), ids(4), members()).is_ok());
        assert_eq!(
            make(
                Room::Plenary,
                vec![side("north"), side("north")],
                ids(3),
                members()
            ),
            Err(WorkshopError::TooFewSides)
        );
        let many: Vec<SideName> = (0..17).map(|i| side(&format!("s{i}"))).collect();
        assert_eq!(
            make(Room::Plenary, many.clone(), ids(19), members()),
            Err(WorkshopError::TooManySides)
        );
        let facilitator = vec![(handle("alice"), Role::Facilitator)];
        assert!(make(Room::Plenary, many[..16].to_vec(), ids(18), facilitator).is_ok());
        assert_eq!(
            make(Room::Plenary, sides(), ids(3), members()),
            Err(WorkshopError::RoomCount)
        );
        assert_eq!(
            make(Room::Plenary, sides(), ids(5), members()),
            Err(WorkshopError::RoomCount)
        );
        let mut same = ids(4);
        same[3] = same[0];
        assert_eq!(
            make(Room::Plenary, sides(), same, members()),
            Err(WorkshopError::DuplicateRoomId)
        );
        let mut twice = members();
        twice.push((handle("bob"), Role::Side(side("north"))));
        assert_eq!(
            make(Room::Plenary, sides(), ids(4), twice),
            Err(WorkshopError::NotCanonical)
        );
        let mut stranger = members();
        stranger.push((handle("carol"), Role::Side(side("east"))));
        assert_eq!(
            make(Room::Plenary, sides(), ids(4), stranger),
            Err(WorkshopError::UnknownSide)
        );
        assert_eq!(
            make(
                Room::Plenary,
                sides(),
                ids(4),
                vec![(handle("bob"), Role::Observer)]
            ),
            Err(WorkshopError::NoFacilitator)
        );
        let crowd: Vec<(Handle, Role)> = (0..=MAX_MEMBERS)
            .map(|i| (handle(&format!("m{i:04}")), Role::Facilitator))
            .collect();
        assert_eq!(
            make(Room::Plenary, sides(), ids(4), crowd[1..].to_vec())
                .unwrap()
                .members()
                .len(),
            MAX_MEMBERS
        );
        assert_eq!(
            make(Room::Plenary, sides(), ids(4), crowd),
            Err(WorkshopError::TooManyMembers)
        );
        assert_eq!(
            make(Room::Caucus(side("east")), sides(), ids(4), members()),
            Err(WorkshopError::UnknownRoom)
        );
    }

    #[test]
    fn a_full_workshop_round_trips() {
        let sides: Vec<SideName> = (0..16)
            .map(|i| side(&format!("s{i:02}-{}", "x".repeat(20))))
            .collect();
        let members: Vec<(Handle, Role)> = (0..MAX_MEMBERS)
            .map(|i| {
                let role = match i % 3 {
                    0 => Role::Facilitator,
                    1 => Role::Observer,
                    _ => Role::Side(sides[i % 16].clone()),
                };
                (handle(&format!("{i:04}{}", "y".repeat(28))), role)
            })
            .collect();
        let spec = WorkshopSpec::new(
            [7; 16],
            Room::Caucus(sides[15].clone()),
            sides,
            ids(18),
            members,
            Attribution::None,
        )
        .unwrap();
        let bytes = spec.encode();
        assert_eq!(WorkshopSpec::decode(&bytes).unwrap(), spec);
    }

    #[test]
    fn every_other_encoding_is_refused() {
        let good = small();
        let decode = |bytes: &[u8]| WorkshopSpec::decode(bytes);
        assert!(decode(&good).is_ok());
        for len in 0..good.len() {
            assert_eq!(decode(&good[..len]), Err(WorkshopError::BadLength), "{len}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing), Err(WorkshopError::BadLength));

        let mut version = good.clone();
        version[0] = 2;
        assert_eq!(decode(&version), Err(WorkshopError::BadVersion));

        let fac: &[u8] = &[0];
        let north: &[u8] = &[2, 0];
        let pair = ["north", "south"];
        let one = [("alice", fac)];
        // The room, attribution and role tags.
        assert_eq!(
            decode(&raw(&[3], 0, &pair, &one)),
            Err(WorkshopError::BadTag)
        );
        assert_eq!(
            decode(&raw(&[0], 3, &pair, &one)),
            Err(WorkshopError::BadTag)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[("alice", &[3])])),
            Err(WorkshopError::BadTag)
        );
        assert!(decode(&raw(&[1], 2, &pair, &one)).is_ok());
        // Side indexes past the sides.
        assert_eq!(
            decode(&raw(&[2, 2], 0, &pair, &one)),
            Err(WorkshopError::UnknownRoom)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[("alice", fac), ("bob", &[2, 2])])),
            Err(WorkshopError::UnknownSide)
        );
        // Sides: out of order, repeated, invalid, too few or too many.
        assert_eq!(
            decode(&raw(&[0], 0, &["south", "north"], &one)),
            Err(WorkshopError::NotCanonical)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &["north", "north"], &one)),
            Err(WorkshopError::NotCanonical)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &["north", "you"], &one)),
            Err(WorkshopError::BadSideName)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &["north", ""], &one)),
            Err(WorkshopError::BadSideName)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &["north", "s\u{fc}d"], &one)),
            Err(WorkshopError::BadSideName)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &["north"], &one)),
            Err(WorkshopError::TooFewSides)
        );
        let many: Vec<String> = (0..17).map(|i| format!("s{i:02}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            decode(&raw(&[0], 0, &many, &one)),
            Err(WorkshopError::TooManySides)
        );
        assert!(decode(&raw(&[0], 0, &many[..16], &one)).is_ok());
        // Members: out of order, repeated, invalid, none, too many, no facilitator.
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[("bob", north), ("alice", fac)])),
            Err(WorkshopError::NotCanonical)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[("alice", fac), ("alice", north)])),
            Err(WorkshopError::NotCanonical)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[("Alice", fac)])),
            Err(WorkshopError::BadHandle)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[("al", fac)])),
            Err(WorkshopError::BadHandle)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[("al\u{e9}", fac)])),
            Err(WorkshopError::BadHandle)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[])),
            Err(WorkshopError::NoFacilitator)
        );
        assert_eq!(
            decode(&raw(&[0], 0, &pair, &[("alice", &[1]), ("bob", north)])),
            Err(WorkshopError::NoFacilitator)
        );
        let mut crowd = raw(&[0], 0, &pair, &one);
        let count_at = crowd.len() - 2 - 1 - 5 - 1;
        crowd[count_at..count_at + 2].copy_from_slice(&1001u16.to_be_bytes());
        assert_eq!(decode(&crowd), Err(WorkshopError::TooManyMembers));
        // Two rooms with one id.
        let mut same = good.clone();
        let rooms_at = 1 + 16 + 2 + 1 + 1 + 6 + 6;
        same.copy_within(rooms_at..rooms_at + 32, rooms_at + 32);
        assert_eq!(decode(&same), Err(WorkshopError::DuplicateRoomId));
    }
}

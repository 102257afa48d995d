//! Workshops as the application sees them: the plan a facilitator creates one from, and a
//! workshop's rooms, roster and policies as this member's software holds them.

use parley_crypto::handle::Handle;
use parley_crypto::retention::Retention;
pub use parley_crypto::workshop::{Attribution, Role, Room, SideName as Side};

use crate::api::conversation::ConversationId;
use crate::api::verification::Verification;

/// What a facilitator creates a workshop from: who facilitates, the sides and who speaks
/// for each, who observes, and its policies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct WorkshopPlan {
    /// The facilitators; the creator must be one of them.
    pub facilitators: Vec<Handle>,
    /// The sides (at least two), each with its participants.
    pub sides: Vec<(Side, Vec<Handle>)>,
    /// Who reads the plenary, and nothing else.
    pub observers: Vec<Handle>,
    /// How the plenary shows who said what (the Chatham House rule: `side` or `none`).
    pub attribution: Attribution,
    /// How long every room keeps messages.
    pub retention: Retention,
}

impl WorkshopPlan {
    /// A plan with these facilitators and sides, no observers, attribution by person and no
    /// retention limit.
    pub fn new(facilitators: Vec<Handle>, sides: Vec<(Side, Vec<Handle>)>) -> WorkshopPlan {
        WorkshopPlan {
            facilitators,
            sides,
            observers: Vec::new(),
            attribution: Attribution::Person,
            retention: Retention::Off,
        }
    }

    /// The same plan with these observers.
    pub fn observers(mut self, observers: Vec<Handle>) -> WorkshopPlan {
        self.observers = observers;
        self
    }

    /// The same plan with this attribution policy.
    pub fn attribution(mut self, attribution: Attribution) -> WorkshopPlan {
        self.attribution = attribution;
        self
    }

    /// The same plan with this retention in every room.
    pub fn retention(mut self, retention: Retention) -> WorkshopPlan {
        self.retention = retention;
        self
    }
}

/// A workshop, as the plenary's MLS state (which every member agreed on) describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Workshop {
    /// The plenary's local name (the workshop is addressed by it).
    pub name: String,
    /// The plenary.
    pub plenary: ConversationId,
    /// Every room: the plenary, the facilitators' room, one caucus per side.
    pub rooms: Vec<WorkshopRoom>,
    /// Everyone in the workshop, by handle, with their role.
    pub roster: Vec<Participant>,
    /// The sides, in order of name.
    pub sides: Vec<Side>,
    /// How the plenary shows who said what.
    pub attribution: Attribution,
    /// How long the plenary keeps messages.
    pub retention: Retention,
    /// Our role.
    pub my_role: Role,
    /// The latest version of the negotiating text we hold, if any.
    pub text_version: Option<u32>,
    /// Disagreements this member's software found between the rooms and the roster (a
    /// change a facilitator did not finish, a room we are missing); empty when all agree.
    pub problems: Vec<String>,
}

/// One room of a workshop.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct WorkshopRoom {
    /// Which room.
    pub room: Room,
    /// The conversation, if we are in it.
    pub conversation: Option<ConversationId>,
    /// Its local name, if we are in it.
    pub name: Option<String>,
    /// Who is in it now (as its MLS state says), if we are in it.
    pub members: Vec<Handle>,
}

/// A member of a workshop's roster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Participant {
    /// Their handle.
    pub handle: Handle,
    /// Their role.
    pub role: Role,
    /// How far their key is trusted here.
    pub status: Verification,
    /// Whether they are in the plenary now (false for someone who left, or was not added
    /// yet).
    pub present: bool,
}

/// A version of a workshop's negotiating text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TextVersionInfo {
    /// Its number, from 1.
    pub number: u32,
    /// Its SHA-256 hash, hex (covering the number, the previous hash and the text).
    pub hash: String,
    /// The previous version's hash, hex (zeros for the first).
    pub previous: String,
    /// The text.
    pub text: String,
    /// Who published it, as the attribution policy shows them.
    pub published_by: String,
    /// When (the publisher's clock, milliseconds since the Unix epoch).
    pub published_at_ms: u64,
}

/// A comment on a paragraph of the negotiating text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TextCommentInfo {
    /// The version commented on.
    pub version: u32,
    /// The paragraph, from 1.
    pub para: u32,
    /// Who wrote it, as the attribution policy shows them.
    pub author: String,
    /// The comment.
    pub text: String,
    /// When (the author's clock).
    pub at_ms: u64,
}

/// A change of the workshop's roster or policies a facilitator asks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum RosterEdit {
    /// Adds someone with a role (into the rooms the role opens).
    Add {
        /// Who.
        handle: Handle,
        /// As what.
        role: Role,
    },
    /// Takes someone out of every room.
    Remove {
        /// Who.
        handle: Handle,
    },
    /// Gives a member another role (moving them between sides, making them an observer or
    /// a facilitator): they leave the rooms of the old role and join those of the new.
    SetRole {
        /// Who.
        handle: Handle,
        /// The new role.
        role: Role,
    },
    /// Changes how the plenary shows who said what.
    Attribution(Attribution),
}

/// What an attribution policy does and does not promise, in plain words (shown by
/// `workshop show` and written into the exported record).
pub fn attribution_promise(attribution: Attribution) -> &'static str {
    match attribution {
        Attribution::Person => "Plenary messages are shown and kept under each person's handle.",
        Attribution::Side => {
            "Plenary messages are shown and kept under the speaker's side (facilitators as \
             'facilitator', observers as 'observer'); honest Parley clients keep no record of \
             who said them. MLS still tells every member's software who sent each message, so \
             a modified client, or a member taking notes, can attribute them: the rule binds \
             people and honest software, not cryptography."
        }
        Attribution::None => {
            "Plenary messages are shown and kept as from 'participant' (facilitators as \
             'facilitator'); honest Parley clients keep no record of who said them. MLS still \
             tells every member's software who sent each message, so a modified client, or a \
             member taking notes, can attribute them: the rule binds people and honest \
             software, not cryptography."
        }
    }
}

//! Workshops as the chat shows them: the rooms of one workshop listed together under its
//! name, and each member's role beside their name. Only what the list and the members pane
//! need is kept, so the rules can be tested with workshops a test writes by hand.

use parley_client::{ConversationId, Room as RoomKind, Workshop};

/// A workshop as the chat shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// Its name (the plenary's local name: `talks` for its creator, `ann/talks` for others).
    pub(crate) name: String,
    /// The plenary, which the workshop's calls are addressed to.
    pub(crate) plenary: ConversationId,
    /// The rooms we are in, in list order (plenary, facilitators' room, caucuses by side),
    /// each with the label it is listed under.
    pub(crate) rooms: Vec<(ConversationId, String)>,
    /// Everyone on the roster, by handle, with their role in words (`facilitator`, `north`).
    pub(crate) roles: Vec<(String, String)>,
}

impl From<&Workshop> for Group {
    fn from(workshop: &Workshop) -> Group {
        let mut rooms: Vec<(&RoomKind, &ConversationId)> = workshop
            .rooms
            .iter()
            .filter_map(|r| r.conversation.as_ref().map(|id| (&r.room, id)))
            .collect();
        rooms.sort_by_key(|(kind, _)| rank(kind));
        Group {
            name: workshop.name.clone(),
            plenary: workshop.plenary.clone(),
            rooms: rooms
                .into_iter()
                .map(|(kind, id)| (id.clone(), kind.to_string()))
                .collect(),
            roles: workshop
                .roster
                .iter()
                .map(|p| (p.handle.to_string(), p.role.to_string()))
                .collect(),
        }
    }
}

impl Group {
    /// The label of room `id` in this workshop, if it is one of its rooms.
    pub(crate) fn room_label(&self, id: &ConversationId) -> Option<&str> {
        self.rooms
            .iter()
            .find(|(room, _)| room == id)
            .map(|(_, label)| label.as_str())
    }

    /// The role of `handle` in words, if the roster has them.
    pub(crate) fn role_of(&self, handle: &str) -> Option<&str> {
        self.roles
            .iter()
            .find(|(h, _)| h == handle)
            .map(|(_, role)| role.as_str())
    }
}

/// Where a room goes within its workshop: the plenary everyone shares first, then the
/// facilitators' room, then the caucuses by side.
fn rank(kind: &RoomKind) -> (u8, String) {
    match kind {
        RoomKind::Plenary => (0, String::new()),
        RoomKind::Facilitators => (1, String::new()),
        RoomKind::Caucus(side) => (2, side.as_str().to_owned()),
    }
}

/// The conversations `ids` (in list order) with the rooms of each workshop brought together
/// where its first room was, in the workshop's own order. Conversations of no workshop keep
/// their place; a room the list does not hold is not added.
pub(crate) fn arrange(ids: &[ConversationId], groups: &[Group]) -> Vec<ConversationId> {
    let mut order = Vec::with_capacity(ids.len());
    let mut placed = vec![false; groups.len()];
    for id in ids {
        let group = groups.iter().position(|g| g.room_label(id).is_some());
        match group {
            None => order.push(id.clone()),
            Some(index) => {
                if placed.get(index).copied().unwrap_or(true) {
                    continue;
                }
                if let Some(flag) = placed.get_mut(index) {
                    *flag = true;
                }
                let rooms = groups.get(index).map_or(&[][..], |g| &g.rooms[..]);
                order.extend(
                    rooms
                        .iter()
                        .map(|(room, _)| room)
                        .filter(|room| ids.contains(room))
                        .cloned(),
                );
            }
        }
    }
    order
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chat::app::tests::id;
    use parley_client::GroupId;

    /// A conversation id for a test room called `name`.
    pub(crate) fn room(name: &str) -> ConversationId {
        let tag = name
            .bytes()
            .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
        ConversationId::Group(GroupId::from_bytes([tag; 32]))
    }

    /// The workshop "ann/talks" as carol (north) sees it: the plenary and her caucus.
    pub(crate) fn talks() -> Group {
        Group {
            name: "ann/talks".to_owned(),
            plenary: room("plenary"),
            rooms: vec![
                (room("plenary"), "plenary".to_owned()),
                (room("north"), "caucus north".to_owned()),
            ],
            roles: vec![
                ("ann".to_owned(), "facilitator".to_owned()),
                ("carol".to_owned(), "north".to_owned()),
                ("dave".to_owned(), "south".to_owned()),
            ],
        }
    }

    #[test]
    fn rooms_of_a_workshop_come_together_in_its_order() {
        let ids = [id("bob"), room("north"), id("team"), room("plenary")];
        assert_eq!(
            arrange(&ids, &[talks()]),
            [id("bob"), room("plenary"), room("north"), id("team")]
        );
        // A room not in the list is not added; no workshops, no change.
        let ids = [room("north"), id("bob")];
        assert_eq!(arrange(&ids, &[talks()]), [room("north"), id("bob")]);
        assert_eq!(arrange(&ids, &[]), ids);
    }

    #[test]
    fn labels_and_roles() {
        let talks = talks();
        assert_eq!(talks.room_label(&room("north")), Some("caucus north"));
        assert_eq!(talks.room_label(&id("bob")), None);
        assert_eq!(talks.role_of("ann"), Some("facilitator"));
        assert_eq!(talks.role_of("zed"), None);
    }
}

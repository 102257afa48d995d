//! Names at the edge: how conversations are shown, and the one rule that turns what a person
//! typed into a conversation.
//!
//! - A 1:1 is named by the other person's handle and by nothing else. `@handle` always means
//!   the person.
//! - A group we created is named by the name we gave it; a group someone added us to is named
//!   `inviter/name`, where `inviter` is the authenticated sender of the Welcome (so the same
//!   group may be `alice/team` for one member and `bob/team` for another whom bob added).
//!   Handles have no `/`, so nobody can name a group after a person, and nobody but `inviter`
//!   can make a name that starts with `inviter/`. Our own groups also answer to `me/name`.
//! - A bare name means whichever of "the 1:1 with that handle" and "our group of that name"
//!   exists. If both exist, or if it is a handle we have no 1:1 with while a group someone
//!   else created carries that name, the name could mean two things and is refused
//!   ([`ClientError::AmbiguousName`]), never resolved silently. Otherwise a handle we have no
//!   conversation with starts a new 1:1.

use parley_crypto::handle::Handle;

use crate::api::error::ClientError;
use crate::state::store::records::{Conversation, StoredKind};

/// Longest group name, in bytes (the limit of the Welcome's name field).
pub(crate) const MAX_NAME_LEN: usize = 64;

/// What a typed name refers to.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// The 1:1 with this person: the live one if there is one, else a new one.
    Person(Handle),
    /// One conversation record: a group, or a 1:1 retired after a key change.
    Record(Box<Conversation>),
}

/// Every conversation record and who we are: enough to show and resolve names.
pub(crate) struct Names<'a> {
    me: &'a Handle,
    records: Vec<Conversation>,
}

impl Conversation {
    /// A 1:1 that is the conversation with its peer (not retired after a key change).
    pub(crate) fn is_direct(&self) -> bool {
        self.kind == StoredKind::Direct && !self.retired
    }

    /// A live 1:1: not retired, and we are still in it.
    pub(crate) fn is_live_direct(&self) -> bool {
        self.is_direct() && self.active
    }

    /// The other person of a 1:1.
    pub(crate) fn peer(&self) -> &str {
        self.peer.as_deref().unwrap_or(&self.named_by)
    }
}

impl<'a> Names<'a> {
    pub(crate) fn new(me: &'a Handle, records: Vec<Conversation>) -> Names<'a> {
        Names { me, records }
    }

    /// All records.
    pub(crate) fn records(&self) -> &[Conversation] {
        &self.records
    }

    /// Takes a record written in the same batch into account (for [`Names::unique`]).
    pub(crate) fn add(&mut self, record: Conversation) {
        self.records.push(record);
    }

    /// Whether a live 1:1 with `handle` exists.
    fn has_live_direct(&self, handle: &str) -> bool {
        self.records
            .iter()
            .any(|r| r.is_live_direct() && r.peer() == handle)
    }

    fn is_own_group(&self, record: &Conversation) -> bool {
        record.kind == StoredKind::Group && record.named_by == self.me.as_str()
    }

    /// How a conversation is shown: the peer's handle for a 1:1; our group's name (as
    /// `me/name` while a 1:1 with a person of that handle exists, so that no two shown
    /// names are equal); the stored name otherwise.
    pub(crate) fn display(&self, record: &Conversation) -> String {
        if record.is_direct() {
            return record.peer().to_owned();
        }
        if self.is_own_group(record) && self.has_live_direct(&record.title) {
            return format!("{}/{}", self.me, record.title);
        }
        record.name.clone()
    }

    /// Resolves what a person typed; see the module documentation for the rule.
    pub(crate) fn resolve(&self, text: &str) -> Result<Target, ClientError> {
        if let Some(handle) = text.strip_prefix('@') {
            let handle =
                Handle::parse(handle).map_err(|_| ClientError::InvalidHandle(handle.to_owned()))?;
            return Ok(Target::Person(handle));
        }
        let handle = Handle::parse(text).ok();
        let mut found: Vec<Target> = Vec::new();
        let mut options: Vec<String> = Vec::new();
        if let Some(handle) = &handle {
            if self.has_live_direct(handle.as_str()) {
                found.push(Target::Person(handle.clone()));
                options.push(format!(
                    "@{handle} (your private conversation with {handle})"
                ));
            }
        }
        for record in self.records.iter().filter(|r| !r.is_direct()) {
            let own_full = self.is_own_group(record)
                && (record.title == text || format!("{}/{}", self.me, record.title) == text);
            if record.name == text || own_full {
                options.push(format!("{} (the group)", self.full_name(record)));
                found.push(Target::Record(Box::new(record.clone())));
            }
        }
        if found.len() > 1 {
            return Err(ClientError::AmbiguousName {
                name: text.to_owned(),
                options,
            });
        }
        if let Some(target) = found.pop() {
            return Ok(target);
        }
        let Some(handle) = handle else {
            return Err(ClientError::UnknownConversation(text.to_owned()));
        };
        // A new 1:1 with `handle`: unless a group someone else named `text` exists, which the
        // person may have meant (the way a group could capture a 1:1).
        let groups: Vec<String> = self
            .records
            .iter()
            .filter(|r| r.kind == StoredKind::Group && r.title == text)
            .map(|r| format!("{} (the group)", self.full_name(r)))
            .collect();
        if !groups.is_empty() {
            let mut options = vec![format!(
                "@{handle} (a new private conversation with {handle})"
            )];
            options.extend(groups);
            return Err(ClientError::AmbiguousName {
                name: text.to_owned(),
                options,
            });
        }
        Ok(Target::Person(handle))
    }

    /// The name that always means this record: `inviter/name` for a group, the stored name
    /// for a retired 1:1.
    fn full_name(&self, record: &Conversation) -> String {
        if self.is_own_group(record) {
            format!("{}/{}", self.me, record.title)
        } else {
            record.name.clone()
        }
    }

    /// `base`, or `base (2)`, `base (3)`, ... whichever no record that is not a 1:1 has.
    pub(crate) fn unique(&self, base: &str) -> String {
        let taken = |name: &str| {
            self.records
                .iter()
                .any(|r| !r.is_direct() && r.name == name)
        };
        if !taken(base) {
            return base.to_owned();
        }
        (2u64..)
            .map(|n| format!("{base} ({n})"))
            .find(|candidate| !taken(candidate))
            .unwrap_or_else(|| base.to_owned())
    }
}

/// Checks a name for a group we create: 1 to 64 bytes, no `/` (the mark of `inviter/name`),
/// no leading `@` (the mark of a person), no control or direction-override characters (a
/// name is printed on every member's screen).
pub(crate) fn check_own_group_name(name: &str) -> Result<(), ClientError> {
    let bad_char = name.chars().any(|c| c == '/' || is_unprintable(c));
    if name.trim().is_empty()
        || name.trim() != name
        || name.len() > MAX_NAME_LEN
        || name.starts_with('@')
        || bad_char
    {
        return Err(ClientError::InvalidConversationName);
    }
    Ok(())
}

/// A group name from a Welcome, made safe to show and to use in `inviter/name`: unprintable
/// characters replaced, surrounding space trimmed, never empty.
pub(crate) fn sanitize_title(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| if is_unprintable(c) { '\u{FFFD}' } else { c })
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "unnamed".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// Control characters (line breaks included), bidirectional overrides and line separators.
fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(name: &str) -> Handle {
        Handle::parse(name).unwrap()
    }

    fn record(kind: StoredKind, named_by: &str, title: &str, name: &str, id: u8) -> Conversation {
        Conversation {
            group_id: [id; 32],
            kind,
            named_by: named_by.to_owned(),
            peer: (kind == StoredKind::Direct).then(|| named_by.to_owned()),
            title: title.to_owned(),
            name: name.to_owned(),
            active: true,
            retired: false,
            close_pending: false,
        }
    }

    fn direct(peer: &str, id: u8) -> Conversation {
        record(StoredKind::Direct, peer, peer, peer, id)
    }

    fn group(named_by: &str, title: &str, name: &str, id: u8) -> Conversation {
        record(StoredKind::Group, named_by, title, name, id)
    }

    fn is_person(target: Result<Target, ClientError>, who: &str) -> bool {
        matches!(target, Ok(Target::Person(h)) if h.as_str() == who)
    }

    fn is_group(target: Result<Target, ClientError>, id: u8) -> bool {
        matches!(target, Ok(Target::Record(r)) if r.group_id == [id; 32])
    }

    fn is_ambiguous(target: Result<Target, ClientError>) -> bool {
        matches!(target, Err(ClientError::AmbiguousName { .. }))
    }

    #[test]
    fn a_group_named_after_a_handle_never_captures_a_new_1to1() {
        let me = handle("alice");
        let names = Names::new(&me, vec![group("mallory", "dave", "mallory/dave", 1)]);
        assert!(is_ambiguous(names.resolve("dave")));
        assert!(is_person(names.resolve("@dave"), "dave"));
        assert!(is_group(names.resolve("mallory/dave"), 1));
    }

    #[test]
    fn an_existing_1to1_wins_over_someone_elses_group_of_that_name() {
        let me = handle("alice");
        let names = Names::new(
            &me,
            vec![
                direct("dave", 2),
                group("mallory", "dave", "mallory/dave", 1),
            ],
        );
        assert!(is_person(names.resolve("dave"), "dave"));
    }

    #[test]
    fn our_group_and_a_1to1_of_the_same_name_are_ambiguous() {
        let me = handle("alice");
        let names = Names::new(&me, vec![group("alice", "summit", "summit", 1)]);
        // Before anyone called summit writes: the group.
        assert!(is_group(names.resolve("summit"), 1));
        let names = Names::new(
            &me,
            vec![group("alice", "summit", "summit", 1), direct("summit", 2)],
        );
        assert!(is_ambiguous(names.resolve("summit")));
        assert!(is_group(names.resolve("alice/summit"), 1));
        assert!(is_person(names.resolve("@summit"), "summit"));
        let shown: Vec<String> = names.records().iter().map(|r| names.display(r)).collect();
        assert_eq!(shown, ["alice/summit", "summit"]);
    }

    #[test]
    fn unknown_handles_start_a_1to1_and_other_text_is_unknown() {
        let me = handle("alice");
        let names = Names::new(&me, Vec::new());
        assert!(is_person(names.resolve("bob"), "bob"));
        assert!(matches!(
            names.resolve("Bob's room"),
            Err(ClientError::UnknownConversation(_))
        ));
        assert!(matches!(
            names.resolve("@Bob"),
            Err(ClientError::InvalidHandle(_))
        ));
    }

    #[test]
    fn own_group_names_cannot_look_like_other_names() {
        for bad in [
            "",
            " x",
            "a/b",
            "@bob",
            "line\nbreak",
            "x\u{202E}y",
            &"x".repeat(65),
        ] {
            assert!(check_own_group_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_own_group_name("Peace talks 2027").is_ok());
        assert_eq!(sanitize_title(" a\nb "), "a\u{FFFD}b");
        assert_eq!(sanitize_title("\n"), "\u{FFFD}");
        assert_eq!(sanitize_title("  "), "unnamed");
    }

    #[test]
    fn unique_names_skip_taken_ones() {
        let me = handle("alice");
        let names = Names::new(
            &me,
            vec![
                group("bob", "x", "bob/x", 1),
                group("bob", "x", "bob/x (2)", 2),
            ],
        );
        assert_eq!(names.unique("bob/x"), "bob/x (3)");
        assert_eq!(names.unique("bob/y"), "bob/y");
    }
}

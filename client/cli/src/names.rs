//! What people type for handles and conversations, turned into the library's types; and,
//! when a name matches nothing, which of the person's own conversations or contacts they
//! probably meant ("did you mean bob?").

use parley_client::{ClientError, ConversationId, ConversationKind, Handle};

use crate::daemon::folder::{Folder, Problem};
use crate::failure::Failure;
use crate::home::{shell_quote, Home};

/// A handle as typed (`bob` or `@bob`).
pub(crate) fn handle(text: &str) -> Result<Handle, ClientError> {
    let bare = text.strip_prefix('@').unwrap_or(text);
    bare.parse()
        .map_err(|_| ClientError::InvalidHandle(text.to_owned()))
}

/// The handles of a comma-separated list as typed, each checked.
pub(crate) fn handles(list: &[String]) -> Result<Vec<Handle>, ClientError> {
    list.iter().map(|h| handle(h)).collect()
}

/// The conversation a name means, by the library's one rule (`Client::resolve`).
pub(crate) async fn conversation(client: &Folder, text: &str) -> Result<ConversationId, Problem> {
    client.resolve(text).await
}

/// What a typed name was meant to name, which decides where a near miss is looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Meant {
    /// A person or a group (`send`, `read`, `history`): conversations and contacts.
    Conversation,
    /// A person (`verify`, `safety-number`, a member of a group): contacts only.
    Person,
}

/// A name as the person typed it on the command line, and what it was meant to name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Typed<'a> {
    /// The text as typed, `@` included.
    pub(crate) text: &'a str,
    /// What it names.
    pub(crate) meant: Meant,
}

impl<'a> Typed<'a> {
    /// A name of a conversation: a person's handle or a group's name.
    pub(crate) fn conversation(text: &'a str) -> Typed<'a> {
        Typed {
            text,
            meant: Meant::Conversation,
        }
    }

    /// A person's handle.
    pub(crate) fn person(text: &'a str) -> Typed<'a> {
        Typed {
            text,
            meant: Meant::Person,
        }
    }

    /// Whether `error` says that this name matched nothing: no such conversation, nobody
    /// with this handle, or not even a valid handle.
    fn missed_by(&self, error: &ClientError) -> bool {
        let bare = self.text.strip_prefix('@').unwrap_or(self.text);
        match error {
            ClientError::UnknownConversation(name) => {
                self.meant == Meant::Conversation && (name == self.text || name == bare)
            }
            ClientError::InvalidHandle(text) => text == self.text || text == bare,
            ClientError::UnknownContact(handle) => handle.as_str() == bare,
            _ => false,
        }
    }
}

/// `result` as it is, unless it failed because one of the `typed` names matched nothing
/// while it is a near miss of the person's own conversations or contacts: then the same
/// failure, worded as usual, with a hint naming what they probably meant.
pub(crate) async fn or_near_miss<T>(
    result: anyhow::Result<T>,
    folder: &Folder,
    home: &Home,
    typed: &[Typed<'_>],
) -> anyhow::Result<T> {
    let error = match result {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let Some(client_error) = error.chain().find_map(|e| e.downcast_ref::<ClientError>()) else {
        return Err(error);
    };
    let Some(missed) = typed.iter().find(|t| t.missed_by(client_error)) else {
        return Err(error);
    };
    match near_miss(folder, missed).await {
        Some(hint) => Err(Failure::of_client(client_error, home).hint(hint).into()),
        None => Err(error),
    }
}

/// The hint for a name that matched nothing ("did you mean bob?"), if it is a near miss of
/// one of the person's own conversations or contacts. Nothing else is ever suggested: a
/// handle the person has never dealt with could belong to anyone.
pub(crate) async fn near_miss(folder: &Folder, typed: &Typed<'_>) -> Option<String> {
    let mut known: Vec<Known> = Vec::new();
    // The hint is a courtesy: if the lists cannot be read, the failure goes out without it.
    if let Ok(contacts) = folder.contacts().await {
        known.extend(contacts.iter().map(|c| Known::handle(c.handle.as_str())));
    }
    if typed.meant == Meant::Conversation {
        if let Ok(conversations) = folder.conversations().await {
            known.extend(conversations.iter().map(|c| match c.kind {
                // A retired 1:1 ("bob (old key)") is named, not a handle.
                ConversationKind::Direct if Handle::parse(&c.name).is_ok() => {
                    Known::handle(&c.name)
                }
                _ => Known::group(&c.name),
            }));
        }
    }
    let (prefix, bare) = match typed.text.strip_prefix('@') {
        Some(bare) => ("@", bare),
        None => ("", typed.text),
    };
    Suggestion::find(bare, &known).map(|suggestion| suggestion.hint(prefix))
}

/// A conversation's or contact's name that a typed name may be a near miss of.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Known {
    /// The name that works on the command line.
    name: String,
    /// Whether it is a handle (handles are lowercase; group names need not be).
    handle: bool,
}

impl Known {
    /// A person's handle.
    fn handle(name: &str) -> Known {
        Known {
            name: name.to_owned(),
            handle: true,
        }
    }

    /// The name of a group (or of a retired 1:1).
    fn group(name: &str) -> Known {
        Known {
            name: name.to_owned(),
            handle: false,
        }
    }
}

/// At most this many names are offered, so the hint stays one readable line.
const MAX_SUGGESTIONS: usize = 3;

/// What a typed name was probably meant to be.
#[derive(Debug, PartialEq, Eq)]
struct Suggestion {
    /// The names, best first.
    names: Vec<String>,
    /// Why they were chosen.
    why: Why,
}

/// How a typed name differs from the names suggested.
#[derive(Debug, PartialEq, Eq)]
enum Why {
    /// Only in upper and lower case, and every name suggested is a handle.
    CaseOfHandle,
    /// Only in upper and lower case (a group's name is matched exactly as written).
    CaseOfName,
    /// By a few typing slips.
    Typo,
}

impl Suggestion {
    /// The names of `known` that `typed` is a near miss of: the same letters in another case
    /// first; else those a few slips away (one for names of up to 4 characters, where two
    /// would leave little of the name, else two), the closest ones.
    fn find(typed: &str, known: &[Known]) -> Option<Suggestion> {
        let lowered = typed.to_lowercase();
        let mut candidates: Vec<&Known> = known.iter().filter(|k| k.name != typed).collect();
        candidates.sort_by(|a, b| a.name.cmp(&b.name));
        candidates.dedup_by(|a, b| a.name == b.name);

        let same_letters: Vec<&Known> = candidates
            .iter()
            .copied()
            .filter(|k| k.name.to_lowercase() == lowered)
            .collect();
        if !same_letters.is_empty() {
            let why = if same_letters.iter().all(|k| k.handle) {
                Why::CaseOfHandle
            } else {
                Why::CaseOfName
            };
            return Some(Suggestion::of(&same_letters, why));
        }

        let scored: Vec<(usize, &Known)> = candidates
            .iter()
            .map(|k| (distance(&lowered, &k.name.to_lowercase()), *k))
            .filter(|(d, k)| *d <= allowed_slips(&k.name))
            .collect();
        let best = scored.iter().map(|(d, _)| *d).min()?;
        let closest: Vec<&Known> = scored
            .iter()
            .filter(|(d, _)| *d == best)
            .map(|(_, k)| *k)
            .collect();
        Some(Suggestion::of(&closest, Why::Typo))
    }

    fn of(known: &[&Known], why: Why) -> Suggestion {
        Suggestion {
            names: known
                .iter()
                .take(MAX_SUGGESTIONS)
                .map(|k| k.name.clone())
                .collect(),
            why,
        }
    }

    /// The `hint:` text, each name as it can be typed (`prefix` is `@` when the person
    /// wrote one).
    fn hint(&self, prefix: &str) -> String {
        let names: Vec<String> = self
            .names
            .iter()
            .map(|name| shell_quote(&format!("{prefix}{name}")))
            .collect();
        let listed = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        match self.why {
            Why::CaseOfHandle => format!("did you mean {listed}? handles are lowercase"),
            Why::CaseOfName => format!("did you mean {listed}? names are case-sensitive"),
            Why::Typo => format!("did you mean {listed}?"),
        }
    }
}

/// How many slips may separate a typed name from `name` for it to be suggested.
fn allowed_slips(name: &str) -> usize {
    if name.chars().count() <= 4 {
        1
    } else {
        2
    }
}

/// The number of slips (a character inserted, left out or mistyped, or two neighbours
/// swapped) that turn `a` into `b`: the optimal string alignment distance.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: slips between the first i characters of a and the first j of b.
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let mistyped = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + mistyped);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Handles in lowercase, group names otherwise.
    fn known(names: &[&str]) -> Vec<Known> {
        names
            .iter()
            .map(|n| match Handle::parse(n) {
                Ok(_) => Known::handle(n),
                Err(_) => Known::group(n),
            })
            .collect()
    }

    fn hint(typed: &str, names: &[&str]) -> Option<String> {
        Suggestion::find(typed, &known(names)).map(|s| s.hint(""))
    }

    #[test]
    fn distance_counts_slips() {
        assert_eq!(distance("bob", "bob"), 0);
        assert_eq!(distance("bbo", "bob"), 1);
        assert_eq!(distance("bo", "bob"), 1);
        assert_eq!(distance("carl", "carol"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("ünï", "uni"), 2);
    }

    #[test]
    fn another_case_of_a_handle_says_handles_are_lowercase() {
        assert_eq!(
            hint("Bob", &["bob", "carol", "buyers"]).as_deref(),
            Some("did you mean bob? handles are lowercase")
        );
        assert_eq!(
            hint("buyers", &["Buyers", "bob"]).as_deref(),
            Some("did you mean Buyers? names are case-sensitive")
        );
        let group = [Known::group("buyers")];
        assert_eq!(
            Suggestion::find("Buyers", &group).map(|s| s.hint("")),
            Some("did you mean buyers? names are case-sensitive".to_owned())
        );
    }

    #[test]
    fn typos_suggest_the_closest_names() {
        assert_eq!(
            hint("caorl", &["carol", "bob"]).as_deref(),
            Some("did you mean carol?")
        );
        assert_eq!(
            hint("buyrs", &["buyers", "sellers"]).as_deref(),
            Some("did you mean buyers?")
        );
        assert_eq!(
            hint("rob", &["bob", "rod", "carol"]).as_deref(),
            Some("did you mean bob or rod?")
        );
        assert_eq!(
            hint("alice/talk", &["alice/talks"]).as_deref(),
            Some("did you mean alice/talks?")
        );
        assert_eq!(
            hint("my grop", &["my group"]).as_deref(),
            Some("did you mean 'my group'?")
        );
    }

    #[test]
    fn far_names_and_the_name_itself_are_not_suggested() {
        assert_eq!(hint("nowhere", &["bob", "carol", "buyers"]), None);
        // Two slips in a short name leave too little of it.
        assert_eq!(hint("tom", &["bob"]), None);
        assert_eq!(hint("bob", &["bob"]), None);
        assert_eq!(hint("bob", &[]), None);
    }

    #[test]
    fn a_person_written_with_at_is_suggested_with_at() {
        let suggestion = Suggestion::find("Bob", &known(&["bob"])).unwrap();
        assert_eq!(
            suggestion.hint("@"),
            "did you mean @bob? handles are lowercase"
        );
    }

    #[test]
    fn only_the_name_the_error_is_about_gets_a_hint() {
        let bob: Handle = "bob".parse().unwrap();
        let person = Typed::person("@bob");
        assert!(person.missed_by(&ClientError::UnknownContact(bob.clone())));
        assert!(person.missed_by(&ClientError::InvalidHandle("bob".into())));
        // A person is never looked for among groups.
        assert!(!person.missed_by(&ClientError::UnknownConversation("bob".into())));
        let group = Typed::conversation("buyrs");
        assert!(group.missed_by(&ClientError::UnknownConversation("buyrs".into())));
        assert!(!group.missed_by(&ClientError::UnknownContact(bob)));
        assert!(!group.missed_by(&ClientError::WrongPassphrase));
    }
}

//! Several people playing a scenario: registering them, what `read` shows each, and checks
//! on the lines printed.

use super::{Person, TestRelay};

/// People registered on `relay`, in the order of `handles`.
pub(crate) fn people<const N: usize>(relay: &TestRelay, handles: [&str; N]) -> [Person; N] {
    handles.map(|handle| {
        let person = Person::new();
        person.init(relay, handle);
        person
    })
}

/// [`people`] in a group `name` that the first created with all the others, who have read
/// their invitation.
pub(crate) fn in_a_group<const N: usize>(
    relay: &TestRelay,
    name: &str,
    handles: [&str; N],
) -> [Person; N] {
    let everyone = people(relay, handles);
    let members = handles[1..].join(",");
    everyone[0]
        .run(&["group", "create", name, "--members", &members])
        .ok();
    for other in &everyone[1..] {
        read(other);
    }
    everyone
}

/// The lines `read` printed.
pub(crate) fn read(person: &Person) -> Vec<String> {
    person
        .run(&["read"])
        .ok()
        .stdout
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Fails unless `line` is one of `lines`.
#[track_caller]
pub(crate) fn assert_has(lines: &[String], line: &str) {
    assert!(
        lines.iter().any(|l| l == line),
        "{line:?} is missing from {lines:#?}"
    );
}

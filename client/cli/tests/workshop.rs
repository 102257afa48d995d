//! A Track II workshop played with the real `parley` binary by ten people on a real relay:
//! two facilitators, two sides of three, an observer (and someone outside). What a caucus says
//! never reaches the other side nor the observer; a participant cannot add anyone or change a
//! role; the plenary is shown under the attribution policy in `read`, `history` and the
//! export; the text goes through three versions with comments and a diff; a facilitator moves
//! someone between sides, and the old caucus is closed to them from then on.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::scenario::{assert_has, people, read};
use support::{Person, TestRelay};

const VERSION_1: &str = "Article 1. The parties agree to meet again.\n\n\
Article 2. A ceasefire holds along the line of contact.\n\n\
Article 3. Prisoners are exchanged within a month.\n";
const VERSION_2: &str = "Article 1. The parties agree to meet again.\n\n\
Article 2. A ceasefire holds along the whole line of contact, monitored jointly.\n\n\
Article 3. Prisoners are exchanged within a month.\n";
const VERSION_3: &str = "Article 1. The parties agree to meet again.\n\n\
Article 2. A ceasefire holds along the whole line of contact, monitored jointly.\n\n\
Article 3. Prisoners are exchanged within two weeks.\n\n\
Article 4. A working group reports by the next round.\n";

fn shown(person: &Person, args: &[&str]) -> String {
    person.run(args).ok().stdout
}

#[test]
fn a_two_side_workshop_runs_from_creation_to_the_record() {
    let relay = TestRelay::plaintext();
    let [ann, ben, carol, dave, erin, fay, gus, hal, ivy, zed] = people(
        &relay,
        [
            "ann", "ben", "carol", "dave", "erin", "fay", "gus", "hal", "ivy", "zed",
        ],
    );
    let created = ann
        .run(&[
            "workshop",
            "create",
            "talks",
            "--facilitators",
            "ann,ben",
            "--side",
            "north:carol,dave,erin",
            "--side",
            "south:fay,gus,hal",
            "--observers",
            "ivy",
            "--attribution",
            "side",
            "--retention",
            "30d",
        ])
        .ok();
    assert!(
        created.stderr.contains("Created the workshop 'talks'"),
        "{}",
        created.stderr
    );
    let everyone = [&ben, &carol, &dave, &erin, &fay, &gus, &hal, &ivy];
    for person in everyone {
        read(person);
    }

    // Everyone sees the same roster; a participant addresses the workshop by its name.
    let carols_view = shown(&carol, &["workshop", "show", "talks"]);
    for line in [
        "Workshop ann/talks",
        "Your role: north",
        "Attribution in the plenary: side",
        "Retention: 30 days",
        "Facilitators:",
        "Side north:",
        "Side south:",
        "Observers:",
    ] {
        assert!(carols_view.contains(line), "{line:?} in {carols_view}");
    }
    assert!(
        carols_view.contains("caucus south     (you are not in it)"),
        "{carols_view}"
    );
    assert!(
        carols_view.contains("a modified client"),
        "the policy says what it does not protect: {carols_view}"
    );
    let listed = shown(&fay, &["workshops"]);
    assert!(
        listed.starts_with("ann/talks  you: south  9 people"),
        "{listed}"
    );

    // A caucus stays with its side and the facilitators.
    carol
        .run(&["send", "ann/talks:north", "we can live with article 2"])
        .ok();
    assert_has(
        &read(&dave),
        "[ann/talks:north] carol: we can live with article 2",
    );
    assert_has(
        &read(&ben),
        "[ann/talks:north] carol: we can live with article 2",
    );
    for outsider in [&fay, &ivy, &zed] {
        let seen = outsider.run(&["read"]).ok().stdout;
        assert!(!seen.contains("article 2"), "{seen}");
    }

    // The plenary under the side policy: nobody's handle is shown or kept.
    carol
        .run(&["send", "ann/talks", "we propose a ceasefire"])
        .ok();
    fay.run(&["send", "ann/talks", "we accept in principle"])
        .ok();
    let fays = read(&fay);
    assert_has(&fays, "[ann/talks] north: we propose a ceasefire");
    let ivys = read(&ivy);
    assert_has(&ivys, "north: we propose a ceasefire");
    assert_has(&ivys, "south: we accept in principle");
    let history = shown(&ivy, &["history", "ann/talks"]);
    assert!(
        history.contains("north [unattributed]: we propose a ceasefire"),
        "{history}"
    );
    // Who is in the room is visible to everyone in it; who said what is not.
    assert!(!history.contains("carol ["), "{history}");
    assert!(!history.contains("fay ["), "{history}");
    // Even the author's own record keeps the side, not the person.
    let own = shown(&carol, &["history", "ann/talks"]);
    assert!(
        own.contains("north [unattributed]: we propose a ceasefire"),
        "{own}"
    );

    // The observer reads the plenary; she does not speak in it.
    let silent = ivy.run(&["send", "ann/talks", "may I?"]).fails_with(1);
    assert!(
        silent
            .stderr
            .contains("observers read the plenary of ann/talks; they do not write in it"),
        "{}",
        silent.stderr
    );

    // A participant cannot add anyone nor change a role.
    for attempt in [
        vec!["workshop", "add", "talks", "zed", "north"],
        vec!["workshop", "move", "talks", "dave", "south"],
        vec!["workshop", "role", "talks", "carol", "facilitator"],
        vec!["workshop", "attribution", "talks", "person"],
    ] {
        let refused = carol.run(&attempt).fails_with(1);
        assert!(
            refused
                .stderr
                .contains("only a facilitator of ann/talks can do this; ask ann or ben"),
            "{attempt:?}: {}",
            refused.stderr
        );
    }

    // Three versions of the text, with comments and a diff.
    let v1 = ann.file("v1.txt", VERSION_1);
    let published = ann
        .run(&["text", "propose", "talks", v1.to_str().unwrap()])
        .ok();
    assert!(
        published.stderr.contains("Published version 1"),
        "{}",
        published.stderr
    );
    let refused = carol
        .run(&["text", "propose", "talks", v1.to_str().unwrap()])
        .fails_with(1);
    assert!(
        refused.stderr.contains("only a facilitator"),
        "{}",
        refused.stderr
    );
    read(&dave);
    dave.run(&["text", "comment", "talks", "--para", "2", "which line?"])
        .ok();
    let v2 = ben.file("v2.txt", VERSION_2);
    read(&ben);
    ben.run(&["text", "propose", "talks", v2.to_str().unwrap()])
        .ok();
    fay.run(&[
        "text",
        "comment",
        "talks",
        "--para",
        "3",
        "two weeks, not a month",
    ])
    .ok();
    let v3 = ann.file("v3.txt", VERSION_3);
    ann.run(&["text", "propose", "talks", v3.to_str().unwrap()])
        .ok();

    let latest = shown(&hal, &["text", "show", "talks"]);
    assert!(latest.contains("Version 3 of the text"), "{latest}");
    assert!(latest.contains("[4] Article 4."), "{latest}");
    let diff = shown(&hal, &["text", "diff", "talks", "1", "3"]);
    assert!(
        diff.contains("Changes from version 1 to version 3:"),
        "{diff}"
    );
    assert!(diff.contains("¶2 changed"), "{diff}");
    assert!(diff.contains("+ Article 4. A working group"), "{diff}");
    let comments = shown(&gus, &["text", "comments", "talks"]);
    assert!(comments.contains("v1 ¶2  north: which line?"), "{comments}");
    assert!(
        comments.contains("v2 ¶3  south: two weeks, not a month"),
        "{comments}"
    );
    let out_of_range = gus
        .run(&["text", "comment", "talks", "--para", "9", "?"])
        .fails_with(1);
    assert!(
        out_of_range
            .stderr
            .contains("version 3 of the text has 4 paragraphs; there is no paragraph 9"),
        "{}",
        out_of_range.stderr
    );

    // A facilitator moves dave to the other side: told in every room, the north caucus is
    // closed to him and the south caucus open.
    ben.run(&["workshop", "move", "talks", "dave", "south"])
        .ok();
    let daves = read(&dave);
    assert!(
        daves
            .iter()
            .any(|l| l.contains("dave moved from north to south")),
        "{daves:#?}"
    );
    carol
        .run(&["send", "ann/talks:north", "after dave left"])
        .ok();
    fay.run(&["send", "ann/talks:south", "welcome dave"]).ok();
    let daves = dave.run(&["read"]).ok().stdout;
    assert!(!daves.contains("after dave left"), "{daves}");
    assert!(daves.contains("fay: welcome dave"), "{daves}");
    let roster = shown(&erin, &["workshop", "show", "talks"]);
    let south = roster.split("Side south:").nth(1).unwrap();
    assert!(south.contains("dave"), "{roster}");
    assert!(roster.contains("Negotiating text: version 3"), "{roster}");
    // `workshop show` fetched what was new for erin: `read` still shows it to her, once.
    let erins = read(&erin);
    assert_has(&erins, "[ann/talks] south: we accept in principle");
    assert!(
        erins
            .iter()
            .any(|l| l.contains("published version 3 of the negotiating text")),
        "{erins:#?}"
    );
    assert!(
        erins
            .iter()
            .any(|l| l.contains("dave moved from north to south")),
        "{erins:#?}"
    );
    assert!(read(&erin).is_empty());

    // The record: the final text, its chain, the plenary under the policy; the room is told.
    let record_path = ann.path().join("record.md");
    ann.run(&[
        "workshop",
        "export",
        "talks",
        "--out",
        record_path.to_str().unwrap(),
    ])
    .ok();
    let record = std::fs::read_to_string(&record_path).unwrap();
    assert!(record.contains("Final text (version 3)"), "{record}");
    assert!(record.contains("Article 4. A working group"), "{record}");
    assert!(record.contains("we propose a ceasefire"), "{record}");
    assert!(!record.contains("carol:"), "{record}");
    assert_has(
        &read(&ivy),
        "* facilitator exported the record of ann/talks (the text, its versions and the plenary)",
    );
    let again = ann
        .run(&[
            "workshop",
            "export",
            "talks",
            "--out",
            record_path.to_str().unwrap(),
        ])
        .fails_with(1);
    assert!(
        again.stderr.contains("cannot write the record"),
        "{}",
        again.stderr
    );
}

/// A plan that cannot be a workshop is refused in words a facilitator can act on, before
/// anything is made: no room, no conversation, nothing for anyone to join.
#[test]
fn a_plan_that_cannot_be_a_workshop_is_refused_in_words_and_nothing_is_made() {
    let relay = TestRelay::plaintext();
    let [ann, bob, carol] = people(&relay, ["ann", "bob", "carol"]);
    let create = |extra: &[&str]| {
        let mut args = vec!["workshop", "create", "talks"];
        args.extend_from_slice(extra);
        ann.run(&args).fails_with(1).stderr
    };
    for (extra, expected) in [
        (
            vec![
                "--facilitators",
                "bob",
                "--side",
                "north:carol",
                "--side",
                "south:bob",
            ],
            "you must be one of the facilitators of a workshop you create",
        ),
        (
            vec![
                "--facilitators",
                "ann",
                "--side",
                "north:carol",
                "--side",
                "south:carol",
            ],
            "carol is listed twice, as north and as south; give each person one role",
        ),
        (
            vec!["--facilitators", "ann", "--side", "north:carol"],
            "a workshop has at least 2 sides",
        ),
        (
            vec![
                "--facilitators",
                "ann",
                "--side",
                "north",
                "--side",
                "south:bob",
            ],
            "--side north does not say who is on the side",
        ),
        (
            vec![
                "--facilitators",
                "ann",
                "--side",
                "plenary:carol",
                "--side",
                "south:bob",
            ],
            "\"plenary\" cannot be a side's name",
        ),
        (
            vec![
                "--facilitators",
                "ann",
                "--side",
                "north:carol",
                "--side",
                "south:bob",
                "--attribution",
                "anonymous",
            ],
            "\"anonymous\" is not an attribution policy",
        ),
        (
            vec![
                "--facilitators",
                "ann",
                "--side",
                "north:carol",
                "--side",
                "south:nobody",
            ],
            "nobody with the handle 'nobody' is registered on your relay",
        ),
    ] {
        let said = create(&extra);
        assert!(said.contains(expected), "{extra:?}: {said}");
    }
    let none = ann.run(&["workshops"]).ok();
    assert!(none.stdout.is_empty(), "{}", none.stdout);
    assert!(
        ann.run(&["conversations"]).ok().stdout.is_empty(),
        "no room was made"
    );
    assert!(read(&bob).is_empty());
    assert!(read(&carol).is_empty());

    // Made properly, a move to a side the workshop does not have is refused in words too.
    ann.run(&[
        "workshop",
        "create",
        "talks",
        "--facilitators",
        "ann",
        "--side",
        "north:carol",
        "--side",
        "south:bob",
    ])
    .ok();
    let refused = ann
        .run(&["workshop", "move", "talks", "carol", "east"])
        .fails_with(1);
    assert!(
        refused
            .stderr
            .contains("the workshop has no side east; its sides are north, south"),
        "{}",
        refused.stderr
    );
    let refused = ann
        .run(&["workshop", "move", "talks", "ann", "south"])
        .fails_with(1);
    assert!(
        refused
            .stderr
            .contains("you cannot change your own place in the workshop; ask another facilitator"),
        "{}",
        refused.stderr
    );
}

/// The same commands through a folder's daemon (as while `parley chat` runs): a facilitator
/// creates and changes the workshop and publishes the text, a participant reads, compares and
/// comments, and a refusal crosses the socket in the same words.
#[test]
fn a_workshop_runs_the_same_through_the_daemon() {
    let relay = TestRelay::plaintext();
    let [ann, carol, fay, gil] = people(&relay, ["ann", "carol", "fay", "gil"]);
    for person in [&ann, &carol] {
        person.run(&["daemon", "start"]).ok();
    }
    ann.run(&[
        "workshop",
        "create",
        "talks",
        "--facilitators",
        "ann",
        "--side",
        "north:carol",
        "--side",
        "south:fay",
        "--attribution",
        "none",
    ])
    .ok();
    read(&fay);
    let v1 = ann.file("v1.txt", VERSION_1);
    ann.run(&["text", "propose", "talks", v1.to_str().unwrap()])
        .ok();
    let v2 = ann.file("v2.txt", VERSION_2);
    ann.run(&["text", "propose", "talks", v2.to_str().unwrap()])
        .ok();
    ann.run(&["workshop", "add", "talks", "gil", "observer"])
        .ok();
    // A text too long to go inline is shared as a document, and read like any other.
    let long: String = (1..=1500)
        .map(|k| format!("Paragraph {k}. The parties note the points agreed in round {k}.\n\n"))
        .collect();
    assert!(long.len() > 64 * 1024);
    let v3 = ann.file("v3.txt", &long);
    ann.run(&["text", "propose", "talks", v3.to_str().unwrap()])
        .ok();
    for reader in [&carol, &fay] {
        let shown = reader
            .run(&["text", "show", "talks", "--version", "3"])
            .ok()
            .stdout;
        assert!(shown.contains("Version 3 of the text"), "{shown}");
        assert!(
            shown.contains("[1500] Paragraph 1500. The parties note"),
            "{}",
            &shown[shown.len().saturating_sub(300)..]
        );
    }
    let diff = fay.run(&["text", "diff", "talks", "2", "3"]).ok().stdout;
    assert!(
        diff.contains("added as ¶1500"),
        "{}",
        &diff[diff.len().saturating_sub(300)..]
    );

    let shown = carol.run(&["workshop", "show", "talks"]).ok().stdout;
    assert!(shown.contains("Negotiating text: version 3"), "{shown}");
    assert!(shown.contains("Observers:\n  gil"), "{shown}");
    let diff = carol.run(&["text", "diff", "talks", "1", "2"]).ok().stdout;
    assert!(diff.contains("¶2 changed"), "{diff}");
    carol
        .run(&["text", "comment", "talks", "--para", "1500", "agreed"])
        .ok();
    carol.run(&["send", "ann/talks", "a plenary remark"]).ok();
    let refused = carol
        .run(&["workshop", "remove", "talks", "fay"])
        .fails_with(1);
    assert!(
        refused
            .stderr
            .contains("only a facilitator of ann/talks can do this; ask ann"),
        "{}",
        refused.stderr
    );
    let comments = fay.run(&["text", "comments", "talks"]).ok().stdout;
    assert_eq!(comments, "v3 ¶1500  participant: agreed\n");
    assert_has(&read(&fay), "[ann/talks] participant: a plenary remark");
    assert_has(&read(&gil), "participant: a plenary remark");
    for person in [&ann, &carol] {
        person.run(&["daemon", "stop"]).ok();
    }
}

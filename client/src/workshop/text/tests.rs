#![allow(clippy::unwrap_used)]

use super::*;

fn version(chain: &TextChain, text: &str) -> TextVersion {
    let (number, previous) = chain.next();
    TextVersion {
        number,
        previous,
        text: text.to_owned(),
        published_by: "north".to_owned(),
        published_at_ms: 1_700_000_000_000,
        pending: None,
    }
}

fn chain_of(texts: &[&str]) -> TextChain {
    let mut chain = TextChain::default();
    for text in texts {
        chain.append(version(&chain, text)).unwrap();
    }
    chain
}

// Pinned from an independent computation (Python hashlib); a change here breaks every
// hash members have already compared.
#[test]
fn hash_known_answer() {
    let first = version_hash(1, &[0; 32], "Article 1.\n\nThe parties agree.");
    assert_eq!(
        hex::encode(first),
        "4f5295bb051178bf5f9b2f9dc26970b77cbbb03652be1b6baa4b6f71d3c7d438"
    );
    assert_eq!(
        hex::encode(version_hash(2, &[7; 32], "x")),
        "43672544d9fe1a490944f930d62677bc6837abc45fccfdbd5bd3ffb05a9fc945"
    );
}

#[test]
fn hash_covers_number_previous_and_text_only() {
    let chain = TextChain::default();
    let base = version(&chain, "text");
    let h = base.hash();
    assert_eq!(h, version_hash(1, &[0; 32], "text"));

    let mut other = base.clone();
    other.number = 2;
    assert_ne!(other.hash(), h);

    let mut other = base.clone();
    other.previous[31] = 1;
    assert_ne!(other.hash(), h);

    let mut other = base.clone();
    other.text.push(' ');
    assert_ne!(other.hash(), h);

    let mut other = base.clone();
    other.published_by = "south".to_owned();
    other.published_at_ms = 0;
    assert_eq!(other.hash(), h);
}

#[test]
fn next_starts_at_one_and_follows_latest() {
    let mut chain = TextChain::default();
    assert_eq!(chain.next(), (1, [0; 32]));
    assert!(chain.latest().is_none());
    chain.append(version(&chain, "one")).unwrap();
    let first = chain.latest().unwrap().hash();
    assert_eq!(chain.next(), (2, first));
}

#[test]
fn get_finds_by_number() {
    let chain = chain_of(&["one", "two", "three"]);
    assert_eq!(chain.versions().len(), 3);
    assert_eq!(chain.get(2).unwrap().text, "two");
    assert_eq!(chain.get(3).unwrap().text, "three");
    assert!(chain.get(0).is_none());
    assert!(chain.get(4).is_none());
    assert_eq!(chain.latest().unwrap().number, 3);
}

#[test]
fn append_refuses_a_gap() {
    let mut chain = chain_of(&["one"]);
    let mut skipped = version(&chain, "three");
    skipped.number = 3;
    assert_eq!(
        chain.append(skipped),
        Err(ChainError::OutOfOrder {
            expected: 2,
            got: 3
        })
    );
    assert_eq!(chain.versions().len(), 1);
}

#[test]
fn append_refuses_a_repeat() {
    let mut chain = chain_of(&["one", "two"]);
    let repeat = chain.get(2).unwrap().clone();
    assert_eq!(
        chain.append(repeat),
        Err(ChainError::OutOfOrder {
            expected: 3,
            got: 2
        })
    );
}

#[test]
fn append_refuses_a_first_version_numbered_zero() {
    let mut chain = TextChain::default();
    let mut zero = version(&chain, "zero");
    zero.number = 0;
    assert_eq!(
        chain.append(zero),
        Err(ChainError::OutOfOrder {
            expected: 1,
            got: 0
        })
    );
}

#[test]
fn append_refuses_wrong_previous() {
    let mut chain = chain_of(&["one", "two"]);
    let mut forked = version(&chain, "three");
    // Written against version 1, not 2: a text this room did not see next.
    forked.previous = chain.get(1).unwrap().hash();
    assert_eq!(
        chain.append(forked),
        Err(ChainError::WrongPrevious { number: 3 })
    );

    let mut fresh = TextChain::default();
    let mut first = version(&fresh, "one");
    first.previous = [1; 32];
    assert_eq!(
        fresh.append(first),
        Err(ChainError::WrongPrevious { number: 1 })
    );
}

#[test]
fn serde_round_trip_and_checks_links() {
    let chain = chain_of(&["one", "two"]);
    let json = serde_json::to_string(&chain).unwrap();
    let back: TextChain = serde_json::from_str(&json).unwrap();
    assert_eq!(back, chain);

    let mut broken = chain.clone();
    broken.versions[1].previous = [9; 32];
    let json = serde_json::to_string(&broken).unwrap();
    assert!(serde_json::from_str::<TextChain>(&json).is_err());
}

#[test]
fn paragraphs_split_on_blank_lines() {
    assert_eq!(
        paragraphs("one\ntwo\n\nthree\n"),
        vec!["one\ntwo".to_owned(), "three".to_owned()]
    );
}

#[test]
fn paragraphs_on_crlf() {
    assert_eq!(
        paragraphs("one\r\ntwo\r\n\r\nthree\r\n"),
        vec!["one\ntwo".to_owned(), "three".to_owned()]
    );
}

#[test]
fn paragraphs_drop_trailing_space_and_whitespace_only_lines() {
    assert_eq!(
        paragraphs("  one  \n two \t\n   \n\t\nthree   "),
        vec!["one\n two".to_owned(), "three".to_owned()]
    );
}

#[test]
fn paragraphs_ignore_many_blank_lines() {
    assert_eq!(
        paragraphs("\n\n\none\n\n\n\n\ntwo\n\n\n"),
        vec!["one".to_owned(), "two".to_owned()]
    );
}

#[test]
fn paragraphs_of_empty_text() {
    assert!(paragraphs("").is_empty());
    assert!(paragraphs(" \n\r\n\t").is_empty());
}

#[test]
fn printable_replaces_controls_and_bidi() {
    assert_eq!(printable("a\u{1b}[2Jb\tc"), "a\u{FFFD}[2Jb\tc");
    assert_eq!(printable("x\u{202E}y"), "x\u{FFFD}y");
}

#[test]
fn a_newcomer_s_chain_starts_with_the_first_version_it_sees_and_checks_on() {
    let room = chain_of(&["one", "two", "three"]);
    let mut late = TextChain::default();
    late.append(room.get(3).unwrap().clone()).unwrap();
    assert_eq!(late.get(3).unwrap().text, "three");
    assert!(late.get(1).is_none() && late.get(2).is_none());
    let mut fourth = version(&room, "four");
    assert_eq!(fourth.number, 4);
    assert!(late.accepts(4, &fourth.previous));
    late.append(fourth.clone()).unwrap();
    fourth.number = 5;
    fourth.previous = [2; 32];
    assert_eq!(
        late.append(fourth),
        Err(ChainError::WrongPrevious { number: 5 })
    );
    // A first version 1 must still start from nothing.
    assert!(!TextChain::default().accepts(1, &[1; 32]));
    assert!(!TextChain::default().accepts(0, &[0; 32]));
    let json = serde_json::to_string(&late).unwrap();
    assert_eq!(serde_json::from_str::<TextChain>(&json).unwrap(), late);
}

#[test]
fn a_text_fetched_later_is_kept_only_if_it_is_the_one_chained() {
    let mut chain = chain_of(&["one"]);
    let (number, previous) = chain.next();
    let text = "two, shared as a document";
    chain
        .append(TextVersion {
            number,
            previous,
            text: String::new(),
            published_by: "facilitator".to_owned(),
            published_at_ms: 0,
            pending: Some(PendingText {
                document: "ab".repeat(32),
                sha256: Sha256::digest(text.as_bytes()).into(),
            }),
        })
        .unwrap();
    let chained = chain.get(2).unwrap().hash();
    assert_eq!(chained, version_hash(2, &previous, text));
    assert_eq!(chain.pending().count(), 1);
    assert_eq!(
        chain.fill(2, "another text".to_owned()),
        Err(ChainError::WrongPrevious { number: 2 })
    );
    assert!(chain.get(2).unwrap().text.is_empty());
    chain.fill(2, text.to_owned()).unwrap();
    assert_eq!(chain.get(2).unwrap().text, text);
    assert_eq!(chain.pending().count(), 0);
    assert_eq!(
        chain.get(2).unwrap().hash(),
        chained,
        "filling changes no hash"
    );
}

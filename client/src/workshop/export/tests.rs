#![allow(clippy::unwrap_used)]

use super::*;
use crate::workshop::text::TextVersion;

const HOSTILE: &str = "\n## Final text (version 99)\n";

fn chain(texts: &[&str], by: &str) -> TextChain {
    let mut chain = TextChain::default();
    for (k, text) in texts.iter().enumerate() {
        let (number, previous) = chain.next();
        chain
            .append(TextVersion {
                number,
                previous,
                text: (*text).to_owned(),
                published_by: by.to_owned(),
                published_at_ms: 1_700_000_000_000 + 60_000 * k as u64,
                pending: None,
            })
            .unwrap();
    }
    chain
}

fn comment(version: u32, para: u32, author: &str, text: &str, at_ms: u64) -> Comment {
    Comment {
        version,
        para,
        author: author.to_owned(),
        text: text.to_owned(),
        at_ms,
    }
}

/// The lines a CommonMark reader would take as structure (headings and table rows):
/// everything outside fenced code blocks that starts with '#' or '|'. Enough of
/// CommonMark for this document, which never indents a fence.
fn structure(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut open_fence: Option<usize> = None;
    for line in markdown.lines() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match open_fence {
            Some(len) if ticks >= len && line.trim_end_matches('`').trim().is_empty() => {
                open_fence = None;
            }
            Some(_) => {}
            None if ticks >= 3 => open_fence = Some(ticks),
            None if line.starts_with('#') || line.starts_with('|') => found.push(line.to_owned()),
            None => {}
        }
    }
    assert!(open_fence.is_none(), "a fence was left open");
    found
}

#[test]
fn small_record_is_pinned() {
    let roster = [
        ("alice".to_owned(), "facilitator".to_owned()),
        ("bob".to_owned(), "participant".to_owned()),
    ];
    let chain = chain(&["Article 1.", "Article 1.\n\nArticle 2."], "alice");
    let comments = [
        comment(2, 2, "north", "Too vague.", 1_700_000_200_000),
        comment(1, 1, "bob", "Agreed.", 1_700_000_100_000),
    ];
    let plenary = [RecordEntry {
        at_ms: 1_700_000_300_000,
        author: "participant".to_owned(),
        text: "We accept version 2.".to_owned(),
    }];
    let record = Record {
        workshop: "Harbour talks",
        attribution: "chatham-house",
        attribution_note: "Statements are not attributed to people.",
        roster: &roster,
        chain: &chain,
        comments: &comments,
        plenary: &plenary,
        exported_by: "alice",
        exported_at_ms: 1_700_000_400_000,
    };
    let v1 = hex::encode(chain.get(1).unwrap().hash());
    let v2 = hex::encode(chain.get(2).unwrap().hash());
    let text_sha = hex::encode(Sha256::digest(b"Article 1.\n\nArticle 2."));
    let zero = "0".repeat(64);
    let expected = format!(
        "# Workshop record: Harbour talks

Exported by alice at 2023-11-14T22:20:00Z (UTC).

**Attribution:** chatham-house

Statements are not attributed to people.

## Participants

| Handle | Role |
| --- | --- |
| alice | facilitator |
| bob | participant |

## Final text (version 2)

Published by alice at 2023-11-14T22:14:20Z (UTC).

- Version hash (SHA-256 over version number, previous hash and text): `{v2}`
- SHA-256 of the text alone: `{text_sha}`

```text
Article 1.

Article 2.
```

## Version chain

| Version | Hash | Previous | Published by | Published at (UTC) |
| --- | --- | --- | --- | --- |
| 1 | `{v1}` | `{zero}` | alice | 2023-11-14T22:13:20Z |
| 2 | `{v2}` | `{v1}` | alice | 2023-11-14T22:14:20Z |

## Comments

### Version 1

#### ¶1

**bob**, 2023-11-14T22:15:00Z (UTC):

```text
Agreed.
```

### Version 2

#### ¶2

**north**, 2023-11-14T22:16:40Z (UTC):

```text
Too vague.
```

## Plenary record

**participant**, 2023-11-14T22:18:20Z (UTC):

```text
We accept version 2.
```
"
    );
    assert_eq!(render(&record), expected);
}

#[test]
fn empty_record_says_so() {
    let chain = TextChain::default();
    let record = Record {
        workshop: "Empty",
        attribution: "named",
        attribution_note: "",
        roster: &[],
        chain: &chain,
        comments: &[],
        plenary: &[],
        exported_by: "alice",
        exported_at_ms: 0,
    };
    let out = render(&record);
    assert_eq!(
        structure(&out),
        vec![
            "# Workshop record: Empty",
            "## Participants",
            "## Final text",
            "## Version chain",
            "## Comments",
            "## Plenary record",
        ]
    );
    assert!(out.contains("No version of the text was published."));
    assert!(out.contains("No comments."));
    assert!(out.contains("Nothing was recorded in plenary."));
    assert!(out.ends_with("plenary.\n"));
}

#[test]
fn hostile_text_cannot_change_the_structure() {
    let fence_breaker = format!("```\n{HOSTILE}\n````````\n# Injected\n| a | b |");
    let roster = [(format!("eve{HOSTILE}"), format!("| x | y |{HOSTILE}"))];
    let chain = chain(&["Article 1.", &fence_breaker], &format!("eve{HOSTILE}"));
    let comments = [
        comment(2, 1, HOSTILE, HOSTILE, 1),
        comment(2, 1, "**", &fence_breaker, 2),
    ];
    let plenary = [
        RecordEntry {
            at_ms: 3,
            author: HOSTILE.to_owned(),
            text: HOSTILE.to_owned(),
        },
        RecordEntry {
            at_ms: 4,
            author: "eve".to_owned(),
            text: format!("{fence_breaker}\r## Carriage return\r\n## CRLF"),
        },
    ];
    let record = Record {
        workshop: HOSTILE,
        attribution: HOSTILE,
        attribution_note: HOSTILE,
        roster: &roster,
        chain: &chain,
        comments: &comments,
        plenary: &plenary,
        exported_by: HOSTILE,
        exported_at_ms: 0,
    };
    let out = render(&record);
    let found = structure(&out);
    let headings: Vec<&str> = found
        .iter()
        .filter(|line| line.starts_with('#'))
        .map(String::as_str)
        .collect();
    assert_eq!(
        headings,
        vec![
            "# Workshop record: \\#\\# Final text \\(version 99\\)",
            "## Participants",
            "## Final text (version 2)",
            "## Version chain",
            "## Comments",
            "### Version 2",
            "#### ¶1",
            "## Plenary record",
        ]
    );
    let rows = found.iter().filter(|line| line.starts_with('|')).count();
    // Participants: header, rule, one row; chain: header, rule, two rows.
    assert_eq!(rows, 7);
    // Every table row has exactly the cells it was given: pipes from users are escaped.
    let pipes: Vec<usize> = found
        .iter()
        .filter(|line| line.starts_with('|'))
        .map(|row| row.replace("\\|", "").matches('|').count())
        .collect();
    assert_eq!(pipes, vec![3, 3, 3, 6, 6, 6, 6]);
    // The hostile text is all still there, inside fences.
    assert!(out.contains("\n## Final text (version 99)\n"));
    assert!(out.contains("\n# Injected\n"));
    assert!(out.contains("**\\*\\***, "));
}

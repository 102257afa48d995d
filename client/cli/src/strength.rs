//! How hard a new passphrase would be to guess, estimated by zxcvbn. The passphrase guards
//! every key on a laptop that may be seized: Argon2id slows each guess, but a passphrase
//! found in the first million guesses falls anyway.

use zxcvbn::{zxcvbn, Score};

/// What a new passphrase is worth.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Found within about a million guesses: not accepted.
    Refused(String),
    /// Found within about a hundred million guesses: accepted, with a warning.
    Weak(String),
    /// Good enough.
    Fine,
}

/// Judges `passphrase`; `context` holds words an attacker would try first (the handle, the
/// program's name).
pub(crate) fn judge(passphrase: &str, context: &[&str]) -> Verdict {
    let mut words: Vec<&str> = vec!["parley"];
    words.extend_from_slice(context);
    let estimate = zxcvbn(passphrase, &words);
    let advice = estimate
        .feedback()
        .map(|feedback| {
            let mut parts: Vec<String> = feedback
                .warning()
                .map(|w| w.to_string())
                .into_iter()
                .collect();
            parts.extend(feedback.suggestions().iter().map(|s| s.to_string()));
            parts.join(" ")
        })
        .filter(|advice| !advice.is_empty())
        .unwrap_or_else(|| "Use several unrelated words.".to_owned());
    match estimate.score() {
        Score::Zero | Score::One => Verdict::Refused(advice),
        Score::Two => Verdict::Weak(advice),
        _ => Verdict::Fine,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn very_weak_passphrases_are_refused() {
        for weak in [
            "abc",
            "password",
            "12345678",
            "alice",
            "parley2024",
            "qwertyuiop",
        ] {
            assert!(
                matches!(judge(weak, &["alice"]), Verdict::Refused(_)),
                "{weak} should be refused"
            );
        }
    }

    #[test]
    fn the_handle_counts_against_a_passphrase() {
        assert!(matches!(
            judge("negotiator77", &["negotiator77"]),
            Verdict::Refused(_)
        ));
    }

    #[test]
    fn several_unrelated_words_are_fine() {
        for strong in [
            "correct horse battery staple",
            "a long passphrase for tests",
            "orchid tram seventeen lantern",
        ] {
            assert_eq!(judge(strong, &["alice"]), Verdict::Fine, "{strong}");
        }
    }

    #[test]
    fn a_refusal_says_why() {
        let Verdict::Refused(advice) = judge("password", &[]) else {
            panic!("password must be refused");
        };
        assert!(!advice.is_empty());
    }
}

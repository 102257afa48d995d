//! `parley man`: the manual page parley(1), generated from the same clap definitions as
//! `--help`.
//!
//! One self-contained page: every command has its own subsection under COMMANDS. clap_mangen
//! alone would list `parley-init(1)` and the like, pages that are never generated or
//! installed. The prose after each option list (`help.rs`) is written for a terminal, with
//! hand-aligned examples and tables; those lines are set in no-fill mode (`.nf`/`.fi`) so the
//! formatter shows them as written instead of running them together into a paragraph.

use anyhow::Result;
use clap::{Command, CommandFactory};
use clap_mangen::Man;

use crate::args::Cli;

/// Writes the roff source of parley(1) to stdout.
pub(super) fn run() -> Result<()> {
    crate::output::write_stdout(page()?.as_bytes())?;
    Ok(())
}

/// One section renderer of clap_mangen.
type Render = fn(&Man, &mut dyn std::io::Write) -> std::io::Result<()>;

/// The whole page, as roff source.
fn page() -> Result<String> {
    // No `help` command in the page: `parley help CMD` only repeats `--help`.
    let mut root = Cli::command().disable_help_subcommand(true);
    // Built once, so every subcommand knows its full name ("parley group add") and carries
    // the global options, which are then left out of its own list.
    root.build();
    let man = Man::new(root.clone());
    let mut page = String::from(PREAMBLE);
    let head: [Render; 5] = [
        Man::render_title,
        Man::render_name_section,
        Man::render_synopsis_section,
        Man::render_description_section,
        Man::render_options_section,
    ];
    for render in head {
        page.push_str(&mangen_section(&man, render)?);
    }
    page.push_str(".SH COMMANDS\n");
    command_sections(&root, &mut page)?;
    if let Some(after) = root.get_after_help() {
        page.push_str(&prose(&after.to_string(), Level::Page));
    }
    page.push_str(&mangen_section(&man, Man::render_version_section)?);
    Ok(page)
}

/// What clap_mangen writes before every rendering: defines the `Aq` string (a straight
/// apostrophe, on groff and elsewhere) that its output and [`escape`] use. Written once at the
/// top of the page and removed from each section.
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// One section as rendered by clap_mangen, without the preamble it repeats each time.
fn mangen_section(man: &Man, render: Render) -> Result<String> {
    let mut buffer = Vec::new();
    render(man, &mut buffer)?;
    let text = String::from_utf8(buffer)?;
    Ok(text
        .strip_prefix(PREAMBLE)
        .map_or_else(|| text.clone(), str::to_owned))
}

/// A subsection for each visible subcommand of `parent`, and after it those of its own
/// subcommands: usage, description, options and arguments, and its examples.
fn command_sections(parent: &Command, page: &mut String) -> Result<()> {
    for command in parent.get_subcommands().filter(|c| !c.is_hide_set()) {
        let mut command = command.clone();
        let name = command
            .get_bin_name()
            .unwrap_or_else(|| command.get_name())
            .to_owned();
        page.push_str(&format!(".SS \"{}\"\n", escape(&name)));

        // clap's own usage line honours `override_usage` (verify has two forms).
        let usage = command.render_usage().to_string();
        page.push_str(".nf\n");
        for line in usage.lines() {
            let line = line.strip_prefix("Usage:").unwrap_or(line).trim();
            page.push_str(&format!("\\fB{}\\fR\n", escape(line)));
        }
        page.push_str(".fi\n");

        if let Some(about) = command.get_long_about().or_else(|| command.get_about()) {
            for paragraph in about.to_string().split("\n\n") {
                page.push_str(".PP\n");
                for line in paragraph.lines() {
                    page.push_str(&escape(line.trim()));
                    page.push('\n');
                }
            }
        }

        // The global options are described once, under OPTIONS, and -h is everywhere.
        let own_options = command.clone().mut_args(|arg| {
            if arg.is_global_set() || arg.get_id() == "help" {
                arg.hide(true)
            } else {
                arg
            }
        });
        let label = options_label(&own_options);
        let options = mangen_section(&Man::new(own_options), Man::render_options_section)?;
        for line in options.lines() {
            if line.starts_with(".SH ") {
                // clap_mangen's section heading becomes a label inside this subsection.
                page.push_str(&format!(".PP\n\\fB{label}:\\fR\n"));
            } else {
                page.push_str(line);
                page.push('\n');
            }
        }

        if let Some(after) = command.get_after_help() {
            page.push_str(&prose(&after.to_string(), Level::Command));
        }
        command_sections(&command, page)?;
    }
    Ok(())
}

/// Where a text after an option list ends up, which decides what its headings become.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The top-level text: its headings ("Examples:", "Exit codes:") are sections of the
    /// page.
    Page,
    /// A command's text, inside its subsection: headings are bold labels.
    Command,
}

/// Roff for a text written for `--help` (see `help.rs`): unindented lines ending in ':' are
/// headings; other unindented lines are prose, filled; indented lines are set as written
/// when they hold commands or aligned columns, and filled otherwise.
fn prose(text: &str, level: Level) -> String {
    let mut roff = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut rest = lines.as_slice();
    // Right after a heading a block needs no paragraph break of its own.
    let mut after_heading = false;
    while let Some(first) = rest.first() {
        let indented = first.starts_with(' ');
        let length = rest
            .iter()
            .position(|line| {
                line.starts_with(' ') != indented || is_heading(line) || line.trim().is_empty()
            })
            .map_or(rest.len(), |end| end.max(1));
        let (block, after) = rest.split_at(length);
        rest = after;
        if first.trim().is_empty() {
            after_heading = false;
            continue;
        }
        if !indented && is_heading(first) {
            after_heading = true;
            let heading = first.trim_end_matches(':');
            match level {
                Level::Page => {
                    roff.push_str(&format!(".SH \"{}\"\n", escape(&heading.to_uppercase())));
                }
                Level::Command => {
                    roff.push_str(&format!(".PP\n\\fB{}:\\fR\n.br\n", escape(heading)));
                }
            }
            continue;
        }
        if indented && laid_out(block) {
            roff.push_str(".nf\n");
            for line in block {
                roff.push_str(&escape(line));
                roff.push('\n');
            }
            roff.push_str(".fi\n");
        } else {
            if !after_heading {
                roff.push_str(".PP\n");
            }
            // Leading spaces would break the line in fill mode.
            for line in block {
                roff.push_str(&escape(line.trim()));
                roff.push('\n');
            }
        }
        after_heading = false;
    }
    roff
}

/// Whether an unindented line is a heading such as "Examples:" or "Status is one of:".
fn is_heading(line: &str) -> bool {
    !line.starts_with(' ') && line.trim_end().ends_with(':')
}

/// Whether indented lines were laid out by hand: command lines, continuation lines indented
/// further, or columns lined up with runs of spaces. Filled, they would run together.
fn laid_out(block: &[&str]) -> bool {
    block.iter().any(|line| {
        let body = line.trim_start();
        body == "parley"
            || body.starts_with("parley ")
            || body.contains("  ")
            || line.len() - body.len() > 2
    })
}

/// What clap_mangen's option list of `command` holds: flags, positional arguments or both.
fn options_label(command: &Command) -> &'static str {
    let visible: Vec<_> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .collect();
    let positionals = visible.iter().any(|a| a.is_positional());
    let flags = visible.iter().any(|a| !a.is_positional());
    match (flags, positionals) {
        (true, true) => "Options and arguments",
        (false, true) => "Arguments",
        _ => "Options",
    }
}

/// `text` as roff text that prints as written: a backslash, a hyphen-minus, apostrophes,
/// backquotes, tildes and carets would otherwise become escapes, dashes or typographic
/// characters (groff prints `'` as a closing quote, so a copied command would break), and a
/// leading `.` or `'` would be read as a request.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    if text.starts_with('.') || text.starts_with('\'') {
        escaped.push_str("\\&");
    }
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\e"),
            '-' => escaped.push_str("\\-"),
            '\'' => escaped.push_str("\\*(Aq"),
            '`' => escaped.push_str("\\(ga"),
            '~' => escaped.push_str("\\(ti"),
            '^' => escaped.push_str("\\(ha"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_commands_copyable() {
        assert_eq!(
            escape("parley send bob 'hi' `x` ~/a \\ ^"),
            "parley send bob \\*(Aqhi\\*(Aq \\(gax\\(ga \\(ti/a \\e \\(ha"
        );
        assert_eq!(escape(".hidden"), "\\&.hidden");
        assert_eq!(escape("--json"), "\\-\\-json");
    }

    #[test]
    fn examples_are_set_as_written_and_prose_is_filled() {
        let text = "Examples:\n  parley read            (new)\n  parley read bob\n\
                    Each line is one message.\nYour data:\n  Kept in the folder,\n  encrypted.";
        let roff = prose(text, Level::Command);
        assert_eq!(
            roff,
            ".PP\n\\fBExamples:\\fR\n.br\n.nf\n  parley read            (new)\n  parley read bob\n\
             .fi\n.PP\nEach line is one message.\n.PP\n\\fBYour data:\\fR\n.br\n\
             Kept in the folder,\nencrypted.\n"
        );
        let page = prose("Exit codes:\n  0  fine", Level::Page);
        assert_eq!(page, ".SH \"EXIT CODES\"\n.nf\n  0  fine\n.fi\n");
    }

    #[test]
    fn the_page_refers_to_no_other_page() {
        let page = page().unwrap();
        assert!(!page.contains("(1)"), "{page}");
        assert!(page.contains(".SS \"parley group add\""), "{page}");
    }
}

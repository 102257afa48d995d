//! The library's module graph has no cycles, and only the bottom layer gives the context
//! type methods: every call between layers names the module it goes to, so this graph is
//! the call graph between files.
//!
//! The graph is read from the sources: each file is a module (`lib.rs` the root, `a/mod.rs`
//! and `a.rs` the module `a`, `a/b.rs` the module `a::b`); an edge goes from a module to the
//! module a path in it names (`crate::a::b::Item`, `super::x`, `self::x`, in `use` trees and
//! in expressions), taken to the longest known module prefix. `mod` declarations are not
//! edges; test modules (`#[cfg(test)] mod ... { }`) are left out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// The source of every module under `src`, by module path.
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut found = BTreeMap::new();
    let mut todo = vec![src.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.insert(
                    module_of(src, &path),
                    std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
    }
    found
}

fn module_of(src: &Path, file: &Path) -> Module {
    let relative: PathBuf = file.strip_prefix(src).unwrap().to_path_buf();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "main.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    parts
}

/// The code without comments, string and char literals, and `#[cfg(test)]` items.
fn code_of(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            while i < chars.len() && !(chars[i] == '\'' && i > 0 && chars[i - 1] != '\\') {
                i += 1;
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    strip_test_items(&out)
}

/// Removes every item annotated `#[cfg(test)]` (a `mod tests { ... }` or a single item).
fn strip_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let open = after.find(['{', ';']).unwrap_or(after.len() - 1);
        if after.as_bytes()[open] == b';' {
            rest = &after[open + 1..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after.char_indices().skip(open) {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every path the code names, expanded from `use` trees: each as its segments.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let after = &rest[at + 3..];
        let end = after.find(';').unwrap_or(after.len());
        expand_tree(after[..end].trim(), &[], &mut paths);
        rest = &after[end..];
    }
    // Paths in expressions and types: `crate::x::y`, `super::x`, `self::x`.
    let tokens: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < tokens.len() {
        let starts_word = i == 0 || !(tokens[i - 1].is_alphanumeric() || tokens[i - 1] == '_');
        let head = ["crate::", "super::", "self::"]
            .into_iter()
            .find(|h| starts_word && code_at(&tokens, i).starts_with(h));
        if let Some(_head) = head {
            let mut j = i;
            while j < tokens.len()
                && (tokens[j].is_alphanumeric() || tokens[j] == '_' || tokens[j] == ':')
            {
                j += 1;
            }
            let text: String = tokens[i..j].iter().collect();
            let segments: Vec<String> = text
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            paths.push(segments);
            i = j;
        } else {
            i += 1;
        }
    }
    paths
}

fn code_at(tokens: &[char], i: usize) -> String {
    tokens[i..tokens.len().min(i + 8)].iter().collect()
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(rel) = text[from..].find(word) {
        let at = from + rel;
        let before = at.checked_sub(1).map(|b| bytes[b] as char);
        let after = bytes.get(at + word.len()).map(|b| *b as char);
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if boundary(before) && after.is_some_and(char::is_whitespace) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// Expands a `use` tree (`crate::a::{b, c::{d, e as f}}`) into full paths.
fn expand_tree(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let mut base = prefix.to_vec();
        base.extend(head);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_tree(&inner[start..i], &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_tree(&inner[start..], &base, out);
    } else if !tree.is_empty() {
        let tree = tree.split(" as ").next().unwrap_or(tree);
        let mut path = prefix.to_vec();
        path.extend(
            tree.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "self")
                .map(str::to_owned),
        );
        out.push(path);
    }
}

/// The module a path names from `from`, if it is one of ours: its longest known prefix.
fn target(path: &[String], from: &Module, known: &BTreeSet<Module>) -> Option<Module> {
    let mut resolved: Module = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("super") | Some("self") => {
            let mut base = from.clone();
            for segment in path.iter().take_while(|s| *s == "super" || *s == "self") {
                if segment == "super" {
                    base.pop()?;
                }
            }
            base
        }
        _ => return None,
    };
    let rest = path
        .iter()
        .skip_while(|s| *s == "crate" || *s == "super" || *s == "self");
    let mut best = resolved.clone();
    for segment in rest {
        resolved.push(segment.clone());
        if known.contains(&resolved) {
            best = resolved.clone();
        } else {
            break;
        }
    }
    Some(best)
}

/// The edges of the module graph of a set of sources.
fn graph(sources: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let known: BTreeSet<Module> = sources.keys().cloned().collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, source) in sources {
        let targets = edges.entry(module.clone()).or_default();
        for path in paths_in(&code_of(source)) {
            if let Some(to) = target(&path, module, &known) {
                if to != *module {
                    targets.insert(to);
                }
            }
        }
    }
    edges
}

/// A cycle of the graph, if there is one, as the modules along it.
fn cycle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        marks: &mut BTreeMap<Module, Mark>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|m| m == node).unwrap_or(0);
                let mut found = stack[from..].to_vec();
                found.push(node.clone());
                return Some(found);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, marks, stack) {
                return Some(found);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in edges.keys() {
        let mut stack = Vec::new();
        if let Some(found) = visit(node, edges, &mut marks, &mut stack) {
            return Some(found);
        }
    }
    None
}

fn show(modules: &[Module]) -> String {
    modules
        .iter()
        .map(|m| {
            if m.is_empty() {
                "crate".to_owned()
            } else {
                m.join("::")
            }
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn library() -> BTreeMap<Module, String> {
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn the_library_module_graph_has_no_cycle() {
    let sources = library();
    assert!(sources.len() > 30, "found only {} modules", sources.len());
    let edges = graph(&sources);
    if let Some(found) = cycle(&edges) {
        panic!("the module graph has a cycle: {}", show(&found));
    }
}

#[test]
fn only_the_state_layer_gives_the_context_methods() {
    for (module, source) in library() {
        let code = code_of(&source);
        let in_state = module.first().is_some_and(|m| m == "state");
        assert!(
            in_state || !code.contains("impl Ctx"),
            "{} gives Ctx methods; layers above state call free functions by module path",
            show(&[module])
        );
    }
}

#[test]
fn layers_call_only_downwards() {
    // Each layer may name the ones after it in this list, never the ones before it.
    let order = [
        vec!["client", "builder"],
        vec!["events"],
        vec!["sync"],
        vec!["registration"],
        vec!["send"],
        vec!["receive"],
        vec!["pending"],
        vec!["keypackages"],
        vec!["trust"],
        vec!["state"],
        vec!["api"],
    ];
    let rank = |m: &Module| {
        order
            .iter()
            .position(|layer| m.first().is_some_and(|top| layer.contains(&top.as_str())))
    };
    let edges = graph(&library());
    for (from, targets) in &edges {
        for to in targets {
            if let (Some(a), Some(b)) = (rank(from), rank(to)) {
                assert!(
                    a <= b,
                    "{} calls up into {}",
                    show(std::slice::from_ref(from)),
                    show(std::slice::from_ref(to))
                );
            }
        }
    }
}

#[test]
fn a_cycle_is_found_and_named() {
    let sources: BTreeMap<Module, String> = [
        (vec![], "mod a; mod b;".to_owned()),
        (
            vec!["a".to_owned()],
            "use crate::b::{helper, other::{x, y as z}};\nfn f() { helper() }".to_owned(),
        ),
        (
            vec!["b".to_owned()],
            "// crate::a in a comment is no edge\nfn g() { crate::a::f() }".to_owned(),
        ),
        (
            vec!["c".to_owned()],
            "#[cfg(test)]\nmod tests { use crate::a::f; }".to_owned(),
        ),
    ]
    .into_iter()
    .collect();
    let edges = graph(&sources);
    assert!(
        edges[&vec!["c".to_owned()]].is_empty(),
        "test code is no edge"
    );
    let found = cycle(&edges).expect("a -> b -> a");
    assert_eq!(show(&found), "a -> b -> a");

    let mut acyclic = sources.clone();
    acyclic.insert(vec!["b".to_owned()], "fn g() {}".to_owned());
    assert!(cycle(&graph(&acyclic)).is_none());
}

//! The server's modules depend on each other in one direction only: routes on the domain, the
//! domain on storage, storage on the states. A module that imports one that imports it back (as
//! the device and login routes once did) fails here, and so does one that reaches into the
//! crate root, which only wires the modules together.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module of `src/` (a folder such as `store/` counts as one) and the source of its files,
/// without comment lines (doc links name modules without depending on them).
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::<String, String>::new();
    let mut add = |name: String, path: &Path| {
        let text = std::fs::read_to_string(path).unwrap();
        let code: Vec<&str> =
            text.lines().filter(|line| !line.trim_start().starts_with("//")).collect();
        modules.entry(name).or_default().push_str(&code.join("\n"));
    };
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if path.is_dir() {
            for file in std::fs::read_dir(&path).unwrap() {
                add(stem.clone(), &file.unwrap().path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") && stem != "main" {
            add(stem, &path);
        }
    }
    modules
}

/// The first path segment of every `crate::…` path in `code`, grouped imports included.
fn crate_paths(code: &str) -> BTreeSet<String> {
    fn ident(text: &str) -> String {
        text.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
    }
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item) = (0usize, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            found.insert(ident(&item));
        } else {
            found.insert(ident(rest));
        }
    }
    found.remove("");
    found.remove("self");
    found
}

#[test]
fn the_modules_form_no_cycle() {
    let modules = modules();
    let mut edges = BTreeMap::<&str, BTreeSet<String>>::new();
    let mut into_root = Vec::new();
    for (name, code) in &modules {
        if name == "lib" {
            continue;
        }
        for target in crate_paths(code) {
            if target == *name {
                continue;
            }
            if modules.contains_key(&target) {
                edges.entry(name).or_default().insert(target);
            } else {
                into_root.push(format!("{name} uses crate::{target}"));
            }
        }
    }
    assert!(
        into_root.is_empty(),
        "modules import from the crate root instead of the defining module: {into_root:?}"
    );
    assert!(edges.get("device").is_some_and(|e| e.contains("push")), "the scan finds imports");

    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit<'a>(
        module: &'a str,
        edges: &'a BTreeMap<&str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|m| *m == module) {
            panic!("import cycle: {} -> {module}", path[at..].join(" -> "));
        }
        if !done.insert(module) {
            return;
        }
        path.push(module);
        for next in edges.get(module).into_iter().flatten() {
            visit(next, edges, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in modules.keys() {
        visit(module, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_scan_sees_grouped_and_nested_imports() {
    let paths =
        crate_paths("use crate::{a, b::{C, D}, e::f};\nuse crate::g::H;\nlet x = crate::i::j();\n");
    assert_eq!(paths.into_iter().collect::<Vec<_>>(), ["a", "b", "e", "g", "i"]);
}

//! The layers stay straight. Every top-level module of `src/` has a place in
//! [`LAYERS`], bottom first; a module's files may name its own module and
//! those of lower layers, never one of its own layer or above. A few pairs
//! the ranks would allow are kept apart as well ([`ALSO_FORBIDDEN`]). A
//! forbidden module named anywhere in a file (a `use` line, a group such as
//! `use crate::{a, b}`, or a full path) fails this test, and so does a module
//! of `src/` that has no layer, so a new one cannot slip past.

use std::path::{Path, PathBuf};

/// The layers, bottom first. Names are top-level modules of `src/`, except
/// `AppState` and the items of the crate root's own layer, which live in
/// `lib.rs`.
const LAYERS: &[&[&str]] = &[
    // Ids, statuses, URLs, strict JSON: the vocabulary. Uses nothing.
    &["domain"],
    // Leaves on the domain, used by the features and using none of them:
    // keys for data at rest, the guarded HTTP client for addresses others
    // choose, the presentation protocol (JOSE, X.509, SD-JWT VC, DCQL).
    &["vault", "outbound", "oid4vp"],
    // All SQL.
    &["store"],
    // Built on the store: the settings (the store's connection settings
    // among them, defined by the store), what background jobs share (a store
    // error counts as a failure), the CSV export, and status changes.
    &["config", "background", "export", "lifecycle"],
    // What the handlers share (client addresses from the accept loop, body
    // reading, headers, address limits, the document head), and the
    // background jobs, which no handler's code runs.
    &[
        "connections",
        "http_common",
        "pages",
        "maintenance",
        "webhooks",
    ],
    // The state every handler takes (axum's `State`). It is defined at the
    // crate root, but the handlers name it, so it ranks just below them.
    &["AppState"],
    // The features, none of which imports another.
    &["api", "mypage", "verifier", "wallet"],
    // A public link opens MyPage.
    &["public_link"],
    // The dashboard edits proofmes (checking their links as a public link
    // does), sends test webhooks and exports.
    &["dashboard"],
    // The crate root: `app()` puts every router together, `serve()` runs it.
    &["lib", "app", "serve", "AppParts", "StartError"],
    // The command line, which serves the app or runs a tool.
    &["cli"],
    &["main"],
];

/// Pairs kept apart although the first ranks above the second.
const ALSO_FORBIDDEN: &[(&str, &[&str])] = &[
    // The verifier fetches status lists through `outbound`, never through
    // the webhooks that also use it.
    ("verifier", &["webhooks"]),
    // Settings read the store's own (its connection settings); every other
    // feature reads its settings from `config`, never the other way.
    ("config", &["vault", "outbound", "oid4vp"]),
];

/// The layer `name` is in, if it has one.
fn rank(name: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&name))
}

/// Names that `module`'s files may not use: every other name of its layer
/// and of the layers above, and its pairs in [`ALSO_FORBIDDEN`].
fn forbidden_for(module: &str) -> Vec<&'static str> {
    let own = rank(module).unwrap_or_else(|| panic!("{module} has no layer"));
    let mut forbidden: Vec<&'static str> = LAYERS[own..]
        .iter()
        .flat_map(|layer| layer.iter().copied())
        // The crate root's items are all `lib`'s own.
        .filter(|name| *name != module && !(module == "lib" && rank(name) == Some(own)))
        .collect();
    for (who, names) in ALSO_FORBIDDEN {
        if *who == module {
            forbidden.extend_from_slice(names);
        }
    }
    forbidden
}

/// Every `crate::<name>` in `source` whose `<name>` is forbidden, with its
/// line. Comments are skipped; a `crate::{…}` group may span lines.
fn violations(source: &str, forbidden: &[&str]) -> Vec<String> {
    let code: Vec<&str> = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect();
    let code = code.join("\n");
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{api, store::{Store, StoreError}}`: the first
            // segment of each item at the group's own level.
            for item in top_level_items(group) {
                let name = first_segment(item);
                if forbidden.contains(&name) {
                    found.push(format!("line {}: crate::{{{name}}}", line_of(at)));
                }
            }
        } else {
            let name = first_segment(rest);
            if forbidden.contains(&name) {
                found.push(format!("line {}: crate::{name}", line_of(at)));
            }
        }
    }
    found
}

/// The path segment `text` starts with.
fn first_segment(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The comma-separated items of a group whose `{` comes just before `group`,
/// up to its matching `}`.
fn top_level_items(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules of `src/` (`lib` and `main` for the two roots),
/// each with its files.
fn modules() -> Vec<(String, Vec<PathBuf>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = Vec::new();
    for entry in std::fs::read_dir(&src).expect("read src") {
        let path = entry.expect("src entry").path();
        let name = path.file_stem().expect("a name").to_string_lossy();
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path.clone());
        } else {
            continue;
        }
        modules.push((name.into_owned(), files));
    }
    modules.sort();
    modules
}

#[test]
fn every_module_has_a_layer() {
    let modules = modules();
    let missing: Vec<&str> = modules
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| rank(name).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "give these modules of src/ a place in LAYERS: {missing:?}"
    );
    // And every name in the table is still a module, or an item of the
    // crate root: a renamed module must not leave a stale rule behind.
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("read lib.rs");
    for name in LAYERS.iter().flat_map(|layer| layer.iter()) {
        let is_module = modules.iter().any(|(m, _)| m == name);
        let is_root_item = ["fn", "async fn", "struct", "enum"]
            .iter()
            .any(|kind| lib.contains(&format!("pub {kind} {name}")));
        assert!(
            is_module || is_root_item,
            "{name} is in LAYERS but not in src/"
        );
    }
}

#[test]
fn no_layer_imports_upward_or_sideways() {
    let mut problems = Vec::new();
    for (module, files) in modules() {
        assert!(!files.is_empty(), "src/{module}/ has no Rust files");
        let forbidden = forbidden_for(&module);
        for file in files {
            let source = std::fs::read_to_string(&file).expect("read source");
            for v in violations(&source, &forbidden) {
                problems.push(format!("{}: {v}", file.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_finds_forbidden_paths_in_every_form() {
    let forbidden = forbidden_for("store");
    assert_eq!(
        violations("use crate::webhooks::signing::new_message_id;", &forbidden).len(),
        1
    );
    assert_eq!(
        violations("let x = crate::api::input::BODY_LIMIT;", &forbidden).len(),
        1
    );
    assert_eq!(
        violations("use crate::{domain::Status, mypage};", &forbidden).len(),
        1
    );
    assert_eq!(
        violations(
            "use crate::{\n    domain::{Identification, Status},\n    lifecycle::Lifecycle,\n};",
            &forbidden
        ),
        vec!["line 1: crate::{lifecycle}"]
    );
    assert!(violations("use crate::domain::{Identification, Status};", &forbidden).is_empty());
    assert!(violations("// crate::api is only mentioned here", &forbidden).is_empty());
    assert_eq!(
        violations("use crate::api::input::Fields;", &forbidden_for("mypage")).len(),
        1
    );
}

#[test]
fn ranks_forbid_upward_and_sideways_names_but_not_downward_ones() {
    // Upward.
    assert!(forbidden_for("store").contains(&"lifecycle"));
    assert!(forbidden_for("api").contains(&"AppParts"));
    // Sideways, in one layer.
    assert!(forbidden_for("mypage").contains(&"api"));
    assert!(forbidden_for("api").contains(&"verifier"));
    // Downward, and a module's own name.
    assert!(!forbidden_for("api").contains(&"store"));
    assert!(!forbidden_for("api").contains(&"AppState"));
    assert!(!forbidden_for("api").contains(&"api"));
    // Kept apart beyond the ranks.
    assert!(forbidden_for("verifier").contains(&"webhooks"));
    assert!(!forbidden_for("dashboard").contains(&"webhooks"));
}

/// Where the program may read the system clock itself. Everything else
/// asks its `Clock`, so that tests move time instead of waiting for it.
const READS_THE_SYSTEM_CLOCK: &[(&str, &str)] = &[
    ("domain/time.rs", "the clock itself"),
    ("domain/ids.rs", "id ordering, which no deadline depends on"),
    (
        "wallet.rs",
        "the test wallet, a client with a clock of its own",
    ),
    (
        "verifier/identity.rs",
        "the verifier certificate's validity, which wallets judge by their own clocks",
    ),
];

#[test]
fn the_service_reads_the_time_from_its_clock() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        if READS_THE_SYSTEM_CLOCK.iter().any(|(f, _)| *f == relative) {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("read source");
        // Unit tests may read the real time.
        let program = source.split("#[cfg(test)]").next().unwrap_or_default();
        for call in [
            "Timestamp::now()",
            "Utc::now()",
            "SystemTime::now()",
            "OffsetDateTime::now_utc()",
        ] {
            if program.contains(call) {
                problems.push(format!("src/{relative}: {call}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "read the time from the Clock instead:\n{}",
        problems.join("\n")
    );
}

//! The layers stay straight: `domain/` uses nothing else of the program,
//! `store/` only the domain (and the vault's sealed type), MyPage and the
//! verifier never reach into the API, and `outbound/` (the guarded HTTP
//! client) uses none of the features that use it. A use of a forbidden module anywhere
//! in a file (a `use` line or a full path) fails this test.

use std::path::{Path, PathBuf};

/// Top-level modules of the crate that `module`'s files may not name.
fn forbidden_for(module: &str) -> &'static [&'static str] {
    match module {
        "domain" => &[
            "api",
            "cli",
            "config",
            "connections",
            "http_common",
            "lifecycle",
            "maintenance",
            "mypage",
            "oid4vp",
            "store",
            "vault",
            "verifier",
            "wallet",
            "webhooks",
            "AppState",
        ],
        "store" => &[
            "api",
            "cli",
            "config",
            "connections",
            "http_common",
            "lifecycle",
            "maintenance",
            "mypage",
            "verifier",
            "wallet",
            "webhooks",
            "AppState",
        ],
        // Settings and their defaults: the features read them, never the
        // other way (the store's connection settings are the one exception).
        "config" => &[
            "api",
            "cli",
            "connections",
            "dashboard",
            "http_common",
            "lifecycle",
            "maintenance",
            "mypage",
            "oid4vp",
            "outbound",
            "public_link",
            "vault",
            "verifier",
            "wallet",
            "webhooks",
            "AppState",
        ],
        // Background work and what it shares: below every handler.
        "maintenance" | "webhooks" | "background" => &[
            "api",
            "cli",
            "connections",
            "dashboard",
            "http_common",
            "maintenance",
            "mypage",
            "public_link",
            "verifier",
            "wallet",
            "AppState",
        ],
        "mypage" | "public_link" => &["api", "dashboard"],
        // What pages share sits below both kinds of page.
        "pages" => &["api", "dashboard", "mypage", "verifier", "webhooks"],
        // The verifier fetches status lists through `outbound`, never
        // through the webhooks that also use it.
        "verifier" => &["api", "webhooks", "dashboard"],
        // A leaf beside the domain: the features use it, not it them.
        "outbound" => &[
            "api",
            "cli",
            "dashboard",
            "lifecycle",
            "maintenance",
            "mypage",
            "store",
            "verifier",
            "webhooks",
            "AppState",
        ],
        _ => &[],
    }
}

/// Every `crate::<name>` in `source` whose `<name>` is forbidden.
fn violations(source: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (line_no, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if forbidden.contains(&name.as_str()) {
                found.push(format!("line {}: crate::{name}", line_no + 1));
            }
            // `use crate::{api, …}` names several at once.
            if let Some(group) = rest.strip_prefix('{') {
                for item in group.split([',', '}']) {
                    let item = item.trim().split("::").next().unwrap_or("").trim();
                    if forbidden.contains(&item) {
                        found.push(format!("line {}: crate::{{{item}}}", line_no + 1));
                    }
                }
            }
        }
    }
    found
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

#[test]
fn no_layer_imports_upward_or_sideways() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    for module in [
        "domain", "store", "mypage", "verifier", "outbound", "config",
    ] {
        let mut files = Vec::new();
        let single = src.join(format!("{module}.rs"));
        if single.is_file() {
            files.push(single);
        } else {
            rust_files(&src.join(module), &mut files);
        }
        assert!(!files.is_empty(), "src/{module}/ has no Rust files");
        for file in files {
            let source = std::fs::read_to_string(&file).expect("read source");
            for v in violations(&source, forbidden_for(module)) {
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
        violations("use crate::webhooks::signing::new_message_id;", forbidden).len(),
        1
    );
    assert_eq!(
        violations("let x = crate::api::input::BODY_LIMIT;", forbidden).len(),
        1
    );
    assert_eq!(
        violations("use crate::{domain::Status, mypage};", forbidden).len(),
        1
    );
    assert!(violations("use crate::domain::{Identification, Status};", forbidden).is_empty());
    assert!(violations("// crate::api is only mentioned here", forbidden).is_empty());
    assert_eq!(
        violations("use crate::api::input::Fields;", forbidden_for("mypage")).len(),
        1
    );
}

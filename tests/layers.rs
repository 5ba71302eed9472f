//! The pipeline's import table (README "Layout"): each top-level module of `src/` may use only
//! the modules listed for it, so data flows one way and there is no import cycle. The test
//! reads every `src/**/*.rs`, collects the `crate::<module>` paths outside comments and
//! `#[cfg(test)]` code, and fails on any edge the table does not allow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::root;

/// Module → the modules it may import. A module may always use its own submodules.
/// `cli` may name `model` (the diagnosis thresholds are one clap-filled struct there).
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("util", &[]),
    ("error", &["model"]),
    ("input", &["model", "util", "error"]),
    ("parse", &["input", "model", "util", "error"]),
    ("correlate", &["model", "util"]),
    ("classify", &["model", "util", "error"]),
    ("aggregate", &["correlate", "classify", "model", "util"]),
    ("diagnose", &["aggregate", "classify", "model", "util"]),
    (
        "report",
        &[
            "diagnose",
            "aggregate",
            "classify",
            "parse",
            "model",
            "util",
        ],
    ),
    ("trace", &["correlate", "classify", "model", "util"]),
    ("alert", &["correlate", "classify", "model", "util"]),
    ("cli", &["model"]),
    (
        "cmd",
        &[
            "cli",
            "error",
            "input",
            "parse",
            "correlate",
            "classify",
            "aggregate",
            "diagnose",
            "report",
            "trace",
            "alert",
            "model",
            "util",
        ],
    ),
    ("lib", &[]),
    ("main", &[]),
];

/// Source without `//` comments (doc comments mention modules they do not import) and
/// without everything from the first `#[cfg(test)]` on (test modules end their files here).
fn code_of(src: &str) -> String {
    let src = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    src.lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string literal is rare in these files; cutting there only
            // hides an import, never invents one.
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `crate::<name>` paths used in `code`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + 7..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `mycrate::x`
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// The top-level module a file under `src/` belongs to.
fn top_module(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every forbidden edge: (module, imported module, file).
fn violations(files: &[(String, String)]) -> Vec<(String, String, String)> {
    let table: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut bad = Vec::new();
    for (rel, src) in files {
        if rel.ends_with("/tests.rs") || rel.contains("/tests/") {
            continue;
        }
        let top = top_module(Path::new(rel));
        let Some(allowed) = table.get(top.as_str()) else {
            bad.push((
                top.clone(),
                "(module missing from the table)".into(),
                rel.clone(),
            ));
            continue;
        };
        for used in crate_paths(&code_of(src)) {
            if used != top && !allowed.contains(&used.as_str()) {
                bad.push((top.clone(), used, rel.clone()));
            }
        }
    }
    bad
}

#[test]
fn imports_follow_the_pipeline_table() {
    let src = root().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    assert!(files.len() > 30, "found only {} source files", files.len());
    let bad = violations(&files);
    assert!(
        bad.is_empty(),
        "imports the table in tests/layers.rs does not allow:\n{}",
        bad.iter()
            .map(|(m, u, f)| format!("  {m} -> {u}   (src/{f})"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_checker_catches_a_forbidden_edge() {
    let files = vec![
        (
            "parse/x.rs".to_string(),
            "use crate::report::Report;\nuse crate::model::event::Event;\n".to_string(),
        ),
        (
            "model/y.rs".to_string(),
            "//! See [`crate::report`].\nuse crate::model::hour::Hour;\n#[cfg(test)]\nmod t { use crate::cmd; }\n"
                .to_string(),
        ),
        ("newstage.rs".to_string(), String::new()),
        ("util/z.rs".to_string(), "let s = \"mycrate::report\";\n".to_string()),
    ];
    let bad = violations(&files);
    assert_eq!(
        bad,
        vec![
            ("parse".into(), "report".into(), "parse/x.rs".into()),
            (
                "newstage".into(),
                "(module missing from the table)".into(),
                "newstage.rs".into()
            ),
        ]
    );
}

//! Failure causes: which of a fixed set of [`Cause`]s explains a failed, deferred or rejected
//! delivery, from the SMTP reply code, the enhanced status code and the reply text.
//!
//! # Algorithm
//!
//! 1. **Normalise** the text (see [`normalise`]): literal two-character `\n` joins (Exim
//!    multi-line replies) and real line breaks become spaces, everything is lower-cased, a
//!    leading diagnostic type (`smtp;`) is dropped, and reply-code tokens (`550`, `550-`,
//!    `550-5.1.1`) and enhanced status tokens (`5.1.1`, `#5.1.1`) are removed wherever they are
//!    clearly codes. The first code and status seen are kept: they stand in for the `code` and
//!    `enhanced` arguments when the caller passes `None`.
//! 2. **Text rules.** Every rule of every pattern file is one entry of a single
//!    [`RegexSet`], so one pass over the text finds every matching rule. Rules are ordered by
//!    [`Cause::PRECEDENCE`] (the pattern file's priority), then by origin (a `--patterns`
//!    file before the built-in file of the same cause), then by line. The first matching rule
//!    whose conditions hold decides the cause.
//! 3. **Enhanced status** (RFC 3463 / IANA registry, plus a few Microsoft private codes) when
//!    no rule matched.
//! 4. **Basic reply code** (RFC 5321), weak evidence, when there is no usable status.
//! 5. Otherwise [`Cause::Other`].
//!
//! Permanence comes from the class of the enhanced status (`4` temporary, `5` permanent), else
//! from the first digit of the reply code, else it is unknown. It never depends on the cause:
//! an expired message whose last reply was `4.4.7` is reported as temporary, as the code says.
//!
//! The pattern-file format is described in `patterns/README.md` and in [`Classifier::load`].
//!
//! This file holds the [`Classifier`] and its results; `cause.rs` the table of causes,
//! `normalise.rs` step 1, `rules.rs` the pattern-line grammar, `fallback.rs` steps 3–4 and
//! permanence, `cache.rs` the [`CachedClassifier`].

mod cache;
mod cause;
mod fallback;
mod normalise;
mod rules;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use regex::bytes::RegexSet;
use serde::Serialize;

use crate::model::smtp::Status;
use cause::BUILTIN;
use fallback::{cause_from_code, cause_from_status, permanence};
use normalise::normalise_full;
use rules::{Cond, parse_line, regex_builder, regex_message, set_builder};

pub use cache::{CACHE_LIMIT, CachedClassifier};
pub use cause::Cause;
pub use normalise::normalise;

/// Whether retrying can succeed, as the reply codes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permanence {
    Temporary,
    Permanent,
    Unknown,
}

impl Permanence {
    pub fn as_str(self) -> &'static str {
        match self {
            Permanence::Temporary => "temporary",
            Permanence::Permanent => "permanent",
            Permanence::Unknown => "unknown",
        }
    }
}

/// The classification of one failure text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Classification {
    pub cause: Cause,
    pub permanence: Permanence,
}

/// What decided a classification (for `--explain`-style output and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis<'a> {
    /// A text rule: the pattern file (e.g. `patterns/user_unknown.txt`) and its 1-based line.
    Rule { file: &'a str, line: usize },
    /// The enhanced status code.
    EnhancedStatus,
    /// The basic reply code.
    ReplyCode,
    /// Nothing matched.
    Nothing,
}

/// A classification and what decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation<'a> {
    pub verdict: Classification,
    pub basis: Basis<'a>,
}

/// An invalid pattern file or line. Displays as `file:line: message` (or `file: message` when
/// the problem is not on one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The file as given: `patterns/<cause>.txt` for built-in files, the path for loaded ones.
    pub file: String,
    /// 1-based line number, if the error is on one line.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for PatternError {}

#[derive(Debug, Clone)]
struct Rule {
    cause: Cause,
    conds: Vec<Cond>,
    file: usize,
    line: usize,
}

/// Classifies failure texts. Build it once ([`Classifier::builtin`] or [`Classifier::load`])
/// and share it; wrap it in a [`CachedClassifier`] when the same texts recur.
#[derive(Debug, Clone)]
pub struct Classifier {
    set: RegexSet,
    rules: Vec<Rule>,
    files: Vec<String>,
}

/// One source file of rules.
struct Source {
    cause: Cause,
    name: String,
    text: String,
    user: bool,
}

impl Classifier {
    /// The compiled-in patterns (`patterns/*.txt`).
    pub fn builtin() -> Classifier {
        Classifier::from_sources(builtin_sources(&[]))
            .unwrap_or_else(|e| panic!("built-in pattern error: {e}"))
    }

    /// The built-in patterns plus (or, with `replace`, instead of) the pattern files in `dir`.
    ///
    /// Every `*.txt` file in `dir` must be named `<cause>.txt` for one of the [`Cause`] ids;
    /// an unknown name is an error. Other files (a README, say) are ignored. Without
    /// `replace`, a file's rules are added to the built-in rules of its cause (before them).
    /// With `replace`, a file replaces the built-in file of its cause, and the causes without
    /// a file keep their built-in rules; an empty file switches a cause's text rules off.
    pub fn load(dir: &Path, replace: bool) -> Result<Classifier, PatternError> {
        let dir_err = |e: std::io::Error| PatternError {
            file: dir.display().to_string(),
            line: None,
            message: format!("cannot read pattern folder: {e}"),
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(dir_err)? {
            let path = entry.map_err(dir_err)?.path();
            if path.extension().is_some_and(|e| e == "txt") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut user = Vec::new();
        for path in paths {
            let name = path.display().to_string();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let Some(cause) = Cause::from_name(stem) else {
                let known: Vec<&str> = Cause::ALL.iter().map(|c| c.as_str()).collect();
                return Err(PatternError {
                    file: name,
                    line: None,
                    message: format!(
                        "unknown cause `{stem}`; pattern files are named <cause>.txt, cause one of: {}",
                        known.join(", ")
                    ),
                });
            };
            let text = std::fs::read_to_string(&path).map_err(|e| PatternError {
                file: name.clone(),
                line: None,
                message: format!("cannot read: {e}"),
            })?;
            user.push(Source {
                cause,
                name,
                text,
                user: true,
            });
        }
        let replaced: Vec<Cause> = if replace {
            user.iter().map(|s| s.cause).collect()
        } else {
            Vec::new()
        };
        let mut sources = user;
        sources.extend(builtin_sources(&replaced));
        Classifier::from_sources(sources)
    }

    fn from_sources(mut sources: Vec<Source>) -> Result<Classifier, PatternError> {
        let rank = |c: Cause| Cause::PRECEDENCE.iter().position(|&p| p == c).unwrap_or(99);
        // Stable: within a cause, user files (listed first) stay before the built-in one.
        sources.sort_by_key(|s| (rank(s.cause), !s.user));
        let mut rules = Vec::new();
        let mut regexes: Vec<&str> = Vec::new();
        let mut files = Vec::new();
        for (fi, src) in sources.iter().enumerate() {
            files.push(src.name.clone());
            for (li, line) in src.text.lines().enumerate() {
                let parsed = parse_line(line).map_err(|message| PatternError {
                    file: src.name.clone(),
                    line: Some(li + 1),
                    message,
                })?;
                if let Some((conds, regex)) = parsed {
                    rules.push(Rule {
                        cause: src.cause,
                        conds,
                        file: fi,
                        line: li + 1,
                    });
                    regexes.push(regex);
                }
            }
        }
        let set = match set_builder(&regexes).build() {
            Ok(set) => set,
            Err(set_err) => {
                // Find the culprit to report file and line.
                for (rule, regex) in rules.iter().zip(&regexes) {
                    if let Err(e) = regex_builder(regex).build() {
                        return Err(PatternError {
                            file: files[rule.file].clone(),
                            line: Some(rule.line),
                            message: regex_message(&e),
                        });
                    }
                }
                return Err(PatternError {
                    file: "patterns".to_string(),
                    line: None,
                    message: regex_message(&set_err),
                });
            }
        };
        Ok(Classifier { set, rules, files })
    }

    /// Number of text rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Classifies one failure: the basic reply code, the enhanced status (`"5.1.1"`) and the
    /// reply or reason text. `None` code or status are taken from the text when it starts
    /// with them (or carries them as `NNN X.Y.Z`).
    pub fn classify(
        &self,
        code: Option<u16>,
        enhanced: Option<&str>,
        text: &str,
    ) -> Classification {
        self.explain(code, enhanced, text).verdict
    }

    /// Like [`Classifier::classify`], and says which rule or code decided.
    pub fn explain(
        &self,
        code: Option<u16>,
        enhanced: Option<&str>,
        text: &str,
    ) -> Explanation<'_> {
        let n = normalise_full(text);
        let code = code.or(n.code);
        let status = enhanced.and_then(Status::parse).or(n.status);
        self.decide(code, status, &n.text)
    }

    fn decide(&self, code: Option<u16>, status: Option<Status>, text: &str) -> Explanation<'_> {
        let (cause, basis) = self.cause(code, status, text);
        Explanation {
            verdict: Classification {
                cause,
                permanence: permanence(code, status),
            },
            basis,
        }
    }

    fn cause(&self, code: Option<u16>, status: Option<Status>, text: &str) -> (Cause, Basis<'_>) {
        if !text.is_empty() {
            for i in self.set.matches(text.as_bytes()).iter() {
                let rule = &self.rules[i];
                if rule.conds.iter().all(|c| c.holds(code, status)) {
                    let basis = Basis::Rule {
                        file: &self.files[rule.file],
                        line: rule.line,
                    };
                    return (rule.cause, basis);
                }
            }
        }
        if let Some(c) = status.and_then(cause_from_status) {
            return (c, Basis::EnhancedStatus);
        }
        if let Some(c) = code.and_then(cause_from_code) {
            return (c, Basis::ReplyCode);
        }
        (Cause::Other, Basis::Nothing)
    }
}

fn builtin_sources(skip: &[Cause]) -> Vec<Source> {
    BUILTIN
        .iter()
        .filter(|(c, _)| !skip.contains(c))
        .map(|&(cause, text)| Source {
            cause,
            name: format!("patterns/{}.txt", cause.as_str()),
            text: text.to_string(),
            user: false,
        })
        .collect()
}

//! Rotated log sets: one naming rule (`NAME.N[.gz]`, `NAME-YYYYMMDD[.gz]`, with `.xz`,
//! `.bz2` or `.zst` in place of `.gz` too)
//! for putting a set in reading order ([`order_rotated`]) and for finding the file a live
//! log was last rotated into ([`previous_rotated`]).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Input;
use super::compress::SUFFIXES;

/// Puts inputs in reading order: the files of one rotated set (same base name after removing
/// a compression suffix, a numeric `.N` suffix or a `-YYYYMMDD` date) oldest first, sets in the order they
/// were first named. Standard input stays where it was given.
pub fn order_rotated(inputs: Vec<Input>) -> Vec<Input> {
    let mut groups: Vec<(String, Vec<(RotationAge, Input)>)> = Vec::new();
    for input in inputs {
        let (base, age) = match &input {
            Input::Stdin => (String::from("\0stdin"), RotationAge::Current),
            Input::Path(p) => rotation_key(&p.to_string_lossy()),
        };
        if input == Input::Stdin {
            groups.push((base, vec![(age, input)]));
            continue;
        }
        match groups.iter_mut().find(|(b, _)| *b == base) {
            Some((_, members)) => members.push((age, input)),
            None => groups.push((base, vec![(age, input)])),
        }
    }
    let mut out = Vec::new();
    for (_, mut members) in groups {
        members.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(members.into_iter().map(|(_, i)| i));
    }
    out
}

/// How old a member of a rotated set is; sorts oldest first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum RotationAge {
    /// `-YYYYMMDD` (or other digits): older dates first.
    Dated(String),
    /// `.N`: a larger N is older, so it is stored negated.
    Numbered(i64),
    /// The live file.
    Current,
}

/// The rotated set a file name belongs to (the name without a compression suffix such as
/// `.gz` (see [`SUFFIXES`]), a numeric `.N` suffix of
/// up to four digits or a `-YYYYMMDD` date of eight or more digits) and its age in the set.
fn rotation_key(name: &str) -> (String, RotationAge) {
    let name = SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    if let Some((base, n)) = name.rsplit_once('.')
        && !n.is_empty()
        && n.len() <= 4
        && n.bytes().all(|c| c.is_ascii_digit())
    {
        return (
            base.to_string(),
            RotationAge::Numbered(-n.parse::<i64>().unwrap_or(0)),
        );
    }
    if let Some((base, d)) = name.rsplit_once('-')
        && d.len() >= 8
        && d.bytes().all(|c| c.is_ascii_digit())
    {
        return (base.to_string(), RotationAge::Dated(d.to_string()));
    }
    (name.to_string(), RotationAge::Current)
}

/// The previous rotated file of a live log: the member of its rotated set (same folder)
/// named `NAME.1` or `NAME.0` or `NAME-YYYYMMDD` (compressed or not), whichever was
/// written last.
pub fn previous_rotated(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut best: Option<(SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(&dir).ok()?.flatten() {
        let n = entry.file_name();
        let Some(n) = n.to_str() else { continue };
        let (base, age) = rotation_key(n);
        let newest = match age {
            RotationAge::Numbered(n) => n == 0 || n == -1,
            RotationAge::Dated(_) => true,
            RotationAge::Current => false,
        };
        if base != name || !newest {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let m = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if best.as_ref().is_none_or(|(b, _)| m > *b) {
            best = Some((m, dir.join(n)));
        }
    }
    best.map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::time::Duration;

    #[test]
    fn rotated_sets_are_read_oldest_first() {
        let names = |v: Vec<Input>| -> Vec<String> { v.iter().map(|i| i.display_name()).collect() };
        let i = |s: &str| Input::from_arg(s);
        assert_eq!(
            names(order_rotated(vec![
                i("exim_mainlog"),
                i("exim_mainlog-20261126.gz"),
                i("exim_mainlog-20261120.gz")
            ])),
            [
                "exim_mainlog-20261120.gz",
                "exim_mainlog-20261126.gz",
                "exim_mainlog"
            ]
        );
        assert_eq!(
            names(order_rotated(vec![
                i("mail.log"),
                i("mail.log.1"),
                i("other.log"),
                i("mail.log.2.gz"),
                i("mail.log.10.gz")
            ])),
            [
                "mail.log.10.gz",
                "mail.log.2.gz",
                "mail.log.1",
                "mail.log",
                "other.log"
            ]
        );
    }

    #[test]
    fn every_compression_suffix_orders_like_gz() {
        let names = |v: Vec<Input>| -> Vec<String> { v.iter().map(|i| i.display_name()).collect() };
        let i = |s: &str| Input::from_arg(s);
        assert_eq!(
            names(order_rotated(vec![
                i("mail.log"),
                i("mail.log.1"),
                i("mail.log.2.zst"),
                i("mail.log.3.bz2"),
                i("mail.log.5.gz"),
                i("mail.log.4.xz"),
            ])),
            [
                "mail.log.5.gz",
                "mail.log.4.xz",
                "mail.log.3.bz2",
                "mail.log.2.zst",
                "mail.log.1",
                "mail.log"
            ]
        );
        assert_eq!(
            names(order_rotated(vec![
                i("exim_mainlog"),
                i("exim_mainlog-20261201.xz"),
                i("exim_mainlog-20261130.zst"),
                i("exim_mainlog-20261129.bz2"),
            ])),
            [
                "exim_mainlog-20261129.bz2",
                "exim_mainlog-20261130.zst",
                "exim_mainlog-20261201.xz",
                "exim_mainlog"
            ]
        );
    }

    #[test]
    fn previous_rotated_file_is_the_newest_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let touch = |name: &str, secs_ago: u64| {
            let f = File::create(d.join(name)).unwrap();
            f.set_modified(std::time::SystemTime::now() - Duration::from_secs(secs_ago))
                .unwrap();
        };
        touch("mail.log", 0);
        assert_eq!(previous_rotated(&d.join("mail.log")), None);
        touch("mail.log.2.gz", 2 * 86400);
        touch("mail.log.1", 86400);
        touch("mail.log.old", 10);
        touch("mail.logx.1", 10);
        assert_eq!(
            previous_rotated(&d.join("mail.log")),
            Some(d.join("mail.log.1"))
        );
        touch("exim_mainlog", 0);
        touch("exim_mainlog-20261124.gz", 2 * 86400);
        touch("exim_mainlog-20261125", 86400);
        assert_eq!(
            previous_rotated(&d.join("exim_mainlog")),
            Some(d.join("exim_mainlog-20261125"))
        );
        touch("mainlog", 0);
        touch("mainlog.1.gz", 86400);
        assert_eq!(
            previous_rotated(&d.join("mainlog")),
            Some(d.join("mainlog.1.gz"))
        );
    }
}

//! Deterministic tests of the follower's state machine: each step is one `check_all`, driven
//! by hand and without the scanner thread, so no timing is involved. The threaded,
//! event-driven behaviour is tested in `tests/tail.rs`.

use std::fs::{self, OpenOptions};
use std::io::{Cursor, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::input::{LineReader, MAX_LINE};

struct Bench {
    dir: tempfile::TempDir,
    f: Follower,
}

#[derive(Debug, Default, PartialEq)]
struct Step {
    lines: Vec<String>,
    notices: Vec<Notice>,
}

impl Bench {
    /// Follows the named files, created empty first.
    fn new(names: &[(&str, StartAt)]) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        for (n, _) in names {
            fs::write(dir.path().join(n), "").unwrap();
        }
        Bench::in_dir(dir, names)
    }

    fn in_dir(dir: tempfile::TempDir, names: &[(&str, StartAt)]) -> Bench {
        let files = names
            .iter()
            .map(|(n, s)| (dir.path().join(n), *s))
            .collect();
        let f = Follower::with_scanner(files, opts(), false).unwrap();
        Bench { dir, f }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn append(&self, name: &str, data: &[u8]) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(name))
            .unwrap();
        f.write_all(data).unwrap();
    }

    /// One check of every file; lines are prefixed with their file name when more than one
    /// file is followed.
    fn step(&mut self) -> Step {
        let mut out = Step::default();
        let multi = self.f.tails.len() > 1;
        let stop = AtomicBool::new(false);
        let mut on_line = |l: TailLine<'_>| {
            if multi {
                let name = l.path.file_name().unwrap().to_string_lossy();
                out.lines.push(format!("{name}:{}", l.text));
            } else {
                out.lines.push(l.text.to_string());
            }
            ControlFlow::Continue(())
        };
        let mut notices = Vec::new();
        let mut on_notice = |n: Notice| notices.push(n);
        let flow = self.f.check_all(&stop, &mut on_line, &mut on_notice);
        assert!(flow.is_continue());
        for n in self.f.pending.drain(..) {
            notices.insert(0, n);
        }
        out.notices = notices;
        out
    }

    fn lines(&mut self) -> Vec<String> {
        let s = self.step();
        assert_eq!(s.notices, [], "unexpected notices");
        s.lines
    }
}

fn truncate(path: &Path) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}

fn opts() -> FollowOptions {
    FollowOptions {
        poll: false,
        poll_interval: Duration::from_millis(20),
        // Old handles are let go after 5 × recheck of quiet: 100 ms here.
        recheck: Duration::from_millis(20),
        count_lines: false,
    }
}

#[test]
fn existing_content_is_read_from_the_beginning_then_appends() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("mail.log"), "one\ntwo\n").unwrap();
    let mut b = Bench::in_dir(dir, &[("mail.log", StartAt::Beginning)]);
    assert_eq!(b.lines(), ["one", "two"]);
    assert_eq!(b.lines(), Vec::<String>::new());
    b.append("mail.log", b"three\n");
    assert_eq!(b.lines(), ["three"]);
}

#[test]
fn partial_line_is_held_until_its_newline() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    b.append("mail.log", b"");
    b.append("mail.log", b"a complete line\nhalf a");
    let s = b.step();
    assert_eq!(s.lines, ["a complete line"]);
    b.append("mail.log", b" line");
    assert_eq!(b.lines(), Vec::<String>::new());
    b.append("mail.log", b"\r\nnext\n");
    assert_eq!(b.lines(), ["half a line", "next"]);
}

#[test]
fn start_at_end_skips_old_lines_but_keeps_an_unfinished_one_whole() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.log"), "old\nold too\n").unwrap();
    fs::write(dir.path().join("b.log"), "old\nbeing writ").unwrap();
    let mut b = Bench::in_dir(dir, &[("a.log", StartAt::End), ("b.log", StartAt::End)]);
    assert_eq!(b.lines(), Vec::<String>::new());
    b.append("a.log", b"new\n");
    b.append("b.log", b"ten\n");
    assert_eq!(b.lines(), ["a.log:new", "b.log:being written"]);
}

#[test]
fn start_at_offset_resumes_there_or_restarts_when_the_file_shrank() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.log"), "one\ntwo\n").unwrap();
    fs::write(dir.path().join("b.log"), "short\n").unwrap();
    let mut b = Bench::in_dir(
        dir,
        &[
            ("a.log", StartAt::Offset(4)),
            ("b.log", StartAt::Offset(100)),
        ],
    );
    let s = b.step();
    assert_eq!(s.notices, [Notice::Truncated(b.path("b.log"))]);
    assert_eq!(s.lines, ["a.log:two", "b.log:short"]);
}

#[test]
fn rotation_drains_the_old_file_before_reading_the_new_one() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    b.append("mail.log", b"1\n");
    assert_eq!(b.lines(), ["1"]);
    // Written just before the rename, not yet read.
    b.append("mail.log", b"2\n3\n");
    fs::rename(b.path("mail.log"), b.path("mail.log.1")).unwrap();
    b.append("mail.log", b"4\n");
    let s = b.step();
    assert_eq!(s.lines, ["2", "3", "4"]);
    assert_eq!(s.notices, [Notice::Replaced(b.path("mail.log"))]);
    b.append("mail.log", b"5\n");
    assert_eq!(b.lines(), ["5"]);
}

/// What the scanner thread does on a file-system event: look at every path once.
fn scan_now(b: &Bench) {
    for t in &b.f.tails {
        scan::lock(&t.watched).scan();
    }
}

#[test]
fn every_file_the_scanner_saw_is_read_to_its_end_in_order() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    b.append("mail.log", b"a1\n");
    assert_eq!(b.lines(), ["a1"]);
    // Three rotations while the reader is busy elsewhere: rename and create, delete and
    // create, rename and create; the scanner looks after each.
    b.append("mail.log", b"a2\n");
    fs::rename(b.path("mail.log"), b.path("mail.log.1")).unwrap();
    b.append("mail.log", b"b1\nb2\n");
    scan_now(&b);
    b.append("mail.log", b"b3\n");
    fs::remove_file(b.path("mail.log")).unwrap();
    b.append("mail.log", b"c1\n");
    scan_now(&b);
    fs::rename(b.path("mail.log"), b.path("mail.log.2")).unwrap();
    b.append("mail.log", b"d1\n");
    scan_now(&b);
    b.append("mail.log", b"d2\n");
    let s = b.step();
    assert_eq!(s.lines, ["a2", "b1", "b2", "b3", "c1", "d1", "d2"]);
    let replaced = Notice::Replaced(b.path("mail.log"));
    assert_eq!(s.notices, [replaced.clone(), replaced.clone(), replaced]);
    b.append("mail.log", b"d3\n");
    assert_eq!(b.lines(), ["d3"]);
}

#[test]
fn a_truncation_the_scanner_saw_restarts_at_zero_even_once_the_file_regrew() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    b.append("mail.log", b"1\n2\n");
    assert_eq!(b.lines(), ["1", "2"]);
    truncate(&b.path("mail.log"));
    scan_now(&b);
    // Longer than before by the time the reader looks: only the scanner can tell.
    b.append("mail.log", b"three\nfour\n");
    let s = b.step();
    assert_eq!(s.notices, [Notice::Truncated(b.path("mail.log"))]);
    assert_eq!(s.lines, ["three", "four"]);
    assert_eq!(b.lines(), Vec::<String>::new());
}

#[test]
fn lines_are_numbered_in_their_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.log"), "1\n2\n3\n").unwrap();
    fs::write(dir.path().join("b.log"), "1\n2\n3\n").unwrap();
    let files = vec![
        (dir.path().join("a.log"), StartAt::End),
        (dir.path().join("b.log"), StartAt::Offset(2)),
    ];
    let numbered = |count_lines| {
        let o = FollowOptions {
            count_lines,
            ..opts()
        };
        let mut f = Follower::with_scanner(files.clone(), o, false).unwrap();
        fs::write(dir.path().join("a.log"), "1\n2\n3\n4\n").unwrap();
        let stop = AtomicBool::new(false);
        let mut got = Vec::new();
        let flow = f.check_all(
            &stop,
            &mut |l: TailLine<'_>| {
                got.push((l.text.to_string(), l.number));
                ControlFlow::Continue(())
            },
            &mut |_| {},
        );
        assert!(flow.is_continue());
        got
    };
    let s = |t: &str, n| (t.to_string(), n);
    assert_eq!(
        numbered(true),
        [s("4", Some(4)), s("2", Some(2)), s("3", Some(3))]
    );
    fs::write(dir.path().join("a.log"), "1\n2\n3\n").unwrap();
    assert_eq!(numbered(false), [s("4", None), s("2", None), s("3", None)]);
}

#[test]
fn lines_written_to_the_rotated_file_are_read_until_it_is_quiet() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    // A writer that keeps its descriptor across the rotation, as syslog does until HUP.
    let mut writer = OpenOptions::new()
        .create(true)
        .append(true)
        .open(b.path("mail.log"))
        .unwrap();
    writer.write_all(b"1\nunfin").unwrap();
    assert_eq!(b.lines(), ["1"]);
    fs::rename(b.path("mail.log"), b.path("mail.log.1")).unwrap();
    b.append("mail.log", b"new 1\n");
    let s = b.step();
    assert_eq!(s.lines, ["new 1"]);
    assert_eq!(s.notices, [Notice::Replaced(b.path("mail.log"))]);
    writer.write_all(b"ished\nlate\n").unwrap();
    assert_eq!(b.lines(), ["unfinished", "late"]);
    // Once quiet for 5 × recheck, the old file is let go.
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(b.lines(), Vec::<String>::new());
    assert!(b.f.tails[0].retired.is_empty());
    writer.write_all(b"too late\n").unwrap();
    assert_eq!(b.lines(), Vec::<String>::new());
}

#[test]
fn copytruncate_restarts_at_zero_and_drops_the_unfinished_line() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    b.append("mail.log", b"1\n2\nunfinished");
    assert_eq!(b.lines(), ["1", "2"]);
    fs::copy(b.path("mail.log"), b.path("mail.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(b.path("mail.log"))
        .unwrap()
        .set_len(0)
        .unwrap();
    let s = b.step();
    assert_eq!(s.notices, [Notice::Truncated(b.path("mail.log"))]);
    assert_eq!(s.lines, Vec::<String>::new());
    b.append("mail.log", b"3\n");
    assert_eq!(b.lines(), ["3"]);
}

#[test]
fn a_deleted_file_is_drained_and_a_recreated_one_read_from_zero() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    let mut writer = OpenOptions::new()
        .create(true)
        .append(true)
        .open(b.path("mail.log"))
        .unwrap();
    writer.write_all(b"1\n").unwrap();
    assert_eq!(b.lines(), ["1"]);
    fs::remove_file(b.path("mail.log")).unwrap();
    writer.write_all(b"2\n").unwrap();
    let s = b.step();
    assert_eq!(s.lines, ["2"]);
    assert_eq!(s.notices, [Notice::Disappeared(b.path("mail.log"))]);
    // Reported once only.
    writer.write_all(b"3\n").unwrap();
    assert_eq!(b.lines(), ["3"]);
    b.append("mail.log", b"new\n");
    let s = b.step();
    assert_eq!(s.lines, ["new"]);
    assert_eq!(s.notices, [Notice::Appeared(b.path("mail.log"))]);
}

#[test]
fn a_file_renamed_away_and_back_is_resumed_not_reread() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    b.append("mail.log", b"1\n");
    assert_eq!(b.lines(), ["1"]);
    fs::rename(b.path("mail.log"), b.path("elsewhere")).unwrap();
    assert_eq!(b.step().notices, [Notice::Disappeared(b.path("mail.log"))]);
    fs::rename(b.path("elsewhere"), b.path("mail.log")).unwrap();
    b.append("mail.log", b"2\n");
    assert_eq!(b.lines(), ["2"]);
}

#[test]
fn a_missing_file_is_waited_for() {
    let mut b = Bench::in_dir(tempfile::tempdir().unwrap(), &[("mail.log", StartAt::End)]);
    assert_eq!(b.step().notices, [Notice::Disappeared(b.path("mail.log"))]);
    assert_eq!(b.lines(), Vec::<String>::new());
    b.append("mail.log", b"first\n");
    let s = b.step();
    assert_eq!(s.notices, [Notice::Appeared(b.path("mail.log"))]);
    assert_eq!(s.lines, ["first"]);
}

#[test]
fn long_lines_are_cut_across_reads_and_the_next_line_is_intact() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    let mut data = vec![b'x'; 3 * MAX_LINE + 17];
    data.extend_from_slice(b"\nshort\n");
    // A multi-byte character straddling the cut is dropped, not replaced.
    let mut straddle = vec![b'y'; MAX_LINE - 1];
    straddle.extend_from_slice("é and more\n".as_bytes());
    data.extend_from_slice(&straddle);
    b.append("mail.log", &data[..100]);
    assert_eq!(b.lines(), Vec::<String>::new());
    b.append("mail.log", &data[100..]);
    let lines = b.lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], "x".repeat(MAX_LINE));
    assert_eq!(lines[1], "short");
    assert_eq!(lines[2], "y".repeat(MAX_LINE - 1));
}

#[test]
fn invalid_utf8_is_replaced() {
    let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
    b.append("mail.log", b"ok\n\xff\xfebad\n");
    assert_eq!(b.lines(), ["ok", "\u{fffd}\u{fffd}bad"]);
}

#[test]
fn a_break_leaves_the_follower_at_the_next_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.log");
    fs::write(&path, "1\n2\n3\n").unwrap();
    let mut f = Follower::new(vec![(path.clone(), StartAt::Beginning)], opts()).unwrap();
    let stop = AtomicBool::new(false);
    let mut seen = Vec::new();
    f.run(
        &stop,
        |l| {
            seen.push(l.text.to_string());
            if l.text == "2" {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
        |n| panic!("unexpected notice {n}"),
    )
    .unwrap();
    assert_eq!(seen, ["1", "2"]);
    assert_eq!(f.offset(&path), Some(4));
    f.run(
        &stop,
        |l| {
            seen.push(l.text.to_string());
            ControlFlow::Break(())
        },
        |n| panic!("unexpected notice {n}"),
    )
    .unwrap();
    assert_eq!(seen, ["1", "2", "3"]);
    assert_eq!(f.offset(&path), Some(6));
}

#[test]
fn a_set_stop_flag_returns_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.log");
    fs::write(&path, "1\n").unwrap();
    let mut f = Follower::new(vec![(path, StartAt::Beginning)], opts()).unwrap();
    let stop = AtomicBool::new(true);
    f.run(&stop, |l| panic!("line {} after stop", l.text), |_| {})
        .unwrap();
}

#[test]
fn setup_errors_name_the_path() {
    let err = Follower::new(
        vec![(PathBuf::from("/nonexistent/folder/mail.log"), StartAt::End)],
        opts(),
    )
    .err()
    .unwrap();
    assert!(matches!(err, FollowError::Folder { .. }));
    assert!(
        err.to_string()
            .starts_with("/nonexistent/folder/mail.log: cannot watch its folder: ")
    );
    let dir = tempfile::tempdir().unwrap();
    let err = Follower::new(vec![(dir.path().to_path_buf(), StartAt::End)], opts())
        .err()
        .unwrap();
    assert!(matches!(err, FollowError::Open { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{}: is a directory", dir.path().display())
    );
    let err = Follower::new(vec![(PathBuf::from("/dev/null"), StartAt::End)], opts())
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "/dev/null: not a regular file or FIFO");
}

#[test]
fn a_file_named_twice_is_followed_once() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("mail.log"), "1\n").unwrap();
    let twice = dir.path().join(".").join("mail.log");
    let files = vec![
        (dir.path().join("mail.log"), StartAt::Beginning),
        (twice, StartAt::Beginning),
    ];
    let f = Follower::with_scanner(files, opts(), false).unwrap();
    let mut b = Bench { dir, f };
    assert_eq!(b.lines(), ["1"]);
}

#[test]
fn notices_use_gnu_tail_wording() {
    let p = || PathBuf::from("mail.log");
    let cases = [
        (Notice::Truncated(p()), "mail.log: file truncated"),
        (
            Notice::Replaced(p()),
            "mail.log has been replaced; following new file",
        ),
        (
            Notice::Disappeared(p()),
            "mail.log has become inaccessible: No such file or directory",
        ),
        (
            Notice::Appeared(p()),
            "mail.log has appeared; following new file",
        ),
        (
            Notice::PollingFallback("too many open files".into()),
            "using polling: too many open files",
        ),
        (
            Notice::ReadError(p(), "Permission denied (os error 13)".into()),
            "mail.log: Permission denied (os error 13)",
        ),
    ];
    for (n, want) in cases {
        assert_eq!(n.to_string(), want);
    }
}

#[test]
fn forced_polling_is_not_reported_as_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let o = FollowOptions {
        poll: true,
        ..opts()
    };
    let f = Follower::new(vec![(dir.path().join("x"), StartAt::End)], o).unwrap();
    assert!(f.is_polling());
    assert_eq!(f.pending, [Notice::Disappeared(dir.path().join("x"))]);
}

/// The complete lines `input::LineReader` finds in `data` (its last, unterminated line is
/// left out: a follower waits for its newline).
fn reference_lines(data: &[u8]) -> Vec<String> {
    let complete = match memchr::memrchr(b'\n', data) {
        Some(i) => &data[..=i],
        None => &[],
    };
    let mut r = LineReader::new(Cursor::new(complete.to_vec()));
    let mut out = Vec::new();
    while let Some(l) = r.next_line().unwrap() {
        out.push(l.text.to_string());
    }
    out
}

fn line_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => "[a-z ]{0,12}".prop_map(String::into_bytes),
        2 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just("é€".as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..4),
        1 => (1usize..3).prop_map(|n| vec![b'L'; n * MAX_LINE / 2 + 1]),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// However the bytes arrive, the follower delivers exactly the lines `LineReader` reads.
    #[test]
    fn lines_match_the_batch_reader_whatever_the_write_boundaries(
        data in line_bytes(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut b = Bench::new(&[("mail.log", StartAt::Beginning)]);
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        at.push(0);
        at.push(data.len());
        at.sort_unstable();
        let mut got = Vec::new();
        for w in at.windows(2) {
            b.append("mail.log", &data[w[0]..w[1]]);
            got.extend(b.lines());
        }
        prop_assert_eq!(got, reference_lines(&data));
    }
}

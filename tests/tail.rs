//! The `tail -F` engine (`input::tail::Follower`) on a thread against real files, in both
//! watch modes.
//!
//! The re-check interval is a minute, so in notify mode everything below is driven by
//! inotify events alone, and in poll mode by the 20 ms poll. Nothing asserts on a fixed
//! sleep: tests wait for what they expect with a generous deadline, and use a barrier
//! (`sync`) to know the follower has read and delivered everything written so far.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mailtrace::input::tail::{FollowError, FollowOptions, Follower, Notice, StartAt};
use proptest::prelude::*;
use tempfile::TempDir;

/// How long to wait for anything before failing.
const DEADLINE: Duration = Duration::from_secs(30);

/// The files the barrier writes to, followed first and last. Each wake-up checks every file
/// in order. So once a line written to `FIRST` is delivered, that same pass checks every
/// other file after anything written to it before; and a line then written to `LAST` is
/// delivered after that pass has delivered the other files' lines.
const FIRST: &str = "sync-first.log";
const LAST: &str = "sync-last.log";

#[derive(Debug, Clone, Copy)]
enum Mode {
    Notify,
    Poll,
}

fn opts(mode: Mode) -> FollowOptions {
    FollowOptions {
        poll: matches!(mode, Mode::Poll),
        poll_interval: Duration::from_millis(20),
        recheck: Duration::from_secs(60),
        ..FollowOptions::default()
    }
}

enum Msg {
    Line(String, String),
    Notice(Notice),
}

/// A follower running on its own thread, and what it has delivered so far.
struct Follow {
    dir: TempDir,
    rx: Receiver<Msg>,
    /// (name relative to the folder, line), sync lines left out.
    lines: Vec<(String, String)>,
    notices: Vec<Notice>,
    syncs_sent: u64,
    /// Barrier lines seen in `FIRST` and `LAST`.
    syncs_seen: [u64; 2],
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), FollowError>>>,
}

impl Follow {
    /// Follows `files`, created empty first.
    fn start(mode: Mode, files: &[(&str, StartAt)]) -> Follow {
        let dir = tempfile::tempdir().unwrap();
        for (n, _) in files {
            fs::write(dir.path().join(n), "").unwrap();
        }
        Follow::start_in(dir, mode, files)
    }

    /// Follows `files` (names relative to `dir`) between [`FIRST`] and [`LAST`].
    fn start_in(dir: TempDir, mode: Mode, files: &[(&str, StartAt)]) -> Follow {
        fs::write(dir.path().join(FIRST), "").unwrap();
        fs::write(dir.path().join(LAST), "").unwrap();
        let mut list = vec![(dir.path().join(FIRST), StartAt::End)];
        list.extend(files.iter().map(|(n, s)| (dir.path().join(n), *s)));
        list.push((dir.path().join(LAST), StartAt::End));
        let mut follower = Follower::new(list, opts(mode)).unwrap();
        assert_eq!(follower.is_polling(), matches!(mode, Mode::Poll));
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let root = dir.path().to_path_buf();
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let notices = tx.clone();
                follower.run(
                    &stop,
                    |l| {
                        let name = l.path.strip_prefix(&root).unwrap().to_string_lossy();
                        let _ = tx.send(Msg::Line(name.into_owned(), l.text.to_string()));
                        ControlFlow::Continue(())
                    },
                    |n| {
                        let _ = notices.send(Msg::Notice(n));
                    },
                )
            })
        };
        Follow {
            dir,
            rx,
            lines: Vec::new(),
            notices: Vec::new(),
            syncs_sent: 0,
            syncs_seen: [0, 0],
            stop,
            thread: Some(thread),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn append(&self, name: &str, data: &str) {
        append(&self.path(name), data);
    }

    /// Receives until `done` holds, failing after [`DEADLINE`].
    fn wait_for(&mut self, what: &str, done: impl Fn(&Follow) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(self) {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Msg::Line(name, line)) if name == FIRST || name == LAST => {
                    let seen = &mut self.syncs_seen[usize::from(name == LAST)];
                    *seen += 1;
                    assert_eq!(line, format!("sync {seen}"), "in {name}");
                }
                Ok(Msg::Line(name, line)) => self.lines.push((name, line)),
                Ok(Msg::Notice(n)) => self.notices.push(n),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "timed out waiting for {what}; lines {:?}; notices {:?}",
                    self.lines, self.notices
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let res = self.thread.take().unwrap().join();
                    panic!("follower ended while waiting for {what}: {res:?}")
                }
            }
        }
    }

    /// Returns once the follower has read, and we have received, everything written so far.
    fn sync(&mut self) {
        self.syncs_sent += 1;
        let n = self.syncs_sent;
        self.append(FIRST, &format!("sync {n}\n"));
        self.wait_for("the first barrier", |f| f.syncs_seen[0] >= n);
        self.append(LAST, &format!("sync {n}\n"));
        self.wait_for("the last barrier", |f| f.syncs_seen[1] >= n);
    }

    fn lines_of(&self, name: &str) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, l)| l.as_str())
            .collect()
    }

    /// Waits for `want` from `name`, then checks that exactly those lines came, in order,
    /// and nothing more once the follower has caught up.
    fn expect_lines(&mut self, name: &str, want: &[&str]) {
        self.wait_for(&format!("{} lines of {name}", want.len()), |f| {
            f.lines_of(name).len() >= want.len()
        });
        self.sync();
        assert_eq!(self.lines_of(name), want, "lines of {name}");
    }

    fn wait_notice(&mut self, want: &Notice) {
        self.wait_for(&format!("notice {want}"), |f| f.notices.contains(want));
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the follower so it sees the flag now, not at the next re-check.
        append(&self.path(FIRST), "bye\n");
        let Some(thread) = self.thread.take() else {
            return;
        };
        let end = Instant::now() + DEADLINE;
        while !thread.is_finished() && Instant::now() < end {
            thread::sleep(Duration::from_millis(5));
        }
        if !thread::panicking() {
            assert!(thread.is_finished(), "the follower did not stop");
            thread.join().unwrap().unwrap();
        }
    }
}

fn append(path: &Path, data: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(data.as_bytes()).unwrap();
}

fn truncate(path: &Path) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}

/// Either notice sequence a rotation can give, depending on whether the follower looked
/// between the rename and the create.
fn saw_new_file(f: &Follow, path: &Path) -> bool {
    let p = path.to_path_buf();
    f.notices.contains(&Notice::Replaced(p.clone())) || f.notices.contains(&Notice::Appeared(p))
}

macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {
        mod notify_mode {
            $(#[test] fn $name() { super::$name(super::Mode::Notify) })*
        }
        mod poll_mode {
            $(#[test] fn $name() { super::$name(super::Mode::Poll) })*
        }
    };
}

both_modes!(
    appended_lines_arrive_and_old_ones_are_skipped,
    beginning_reads_existing_lines_first,
    a_partial_line_is_delivered_once_finished,
    rename_and_create_rotation_loses_no_line,
    lines_written_to_the_old_file_after_rotation_still_arrive,
    copytruncate_restarts_from_zero,
    delete_then_recreate,
    a_file_missing_at_start_is_waited_for,
    two_folders_three_files_at_once,
);

fn appended_lines_arrive_and_old_ones_are_skipped(mode: Mode) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("mail.log"), "old 1\nold 2\n").unwrap();
    let mut f = Follow::start_in(dir, mode, &[("mail.log", StartAt::End)]);
    f.append("mail.log", "new 1\n");
    f.expect_lines("mail.log", &["new 1"]);
    f.append("mail.log", "new 2\nnew 3\r\n");
    f.expect_lines("mail.log", &["new 1", "new 2", "new 3"]);
    assert_eq!(f.notices, []);
}

fn beginning_reads_existing_lines_first(mode: Mode) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("mail.log"), "old 1\nold 2\n").unwrap();
    let mut f = Follow::start_in(dir, mode, &[("mail.log", StartAt::Beginning)]);
    f.append("mail.log", "new\n");
    f.expect_lines("mail.log", &["old 1", "old 2", "new"]);
}

fn a_partial_line_is_delivered_once_finished(mode: Mode) {
    let mut f = Follow::start(mode, &[("mail.log", StartAt::End)]);
    f.append("mail.log", "first\nhalf of");
    f.expect_lines("mail.log", &["first"]);
    // The follower has read "half of" by now (the barrier in expect_lines).
    f.append("mail.log", " a line\n");
    f.expect_lines("mail.log", &["first", "half of a line"]);
}

fn rename_and_create_rotation_loses_no_line(mode: Mode) {
    let mut f = Follow::start(mode, &[("mail.log", StartAt::End)]);
    f.append("mail.log", "1\n");
    f.expect_lines("mail.log", &["1"]);
    // Written just before the rotation: still unread when the rename happens.
    f.append("mail.log", "2\n3\n");
    fs::rename(f.path("mail.log"), f.path("mail.log.1")).unwrap();
    f.append("mail.log", "4\n");
    f.expect_lines("mail.log", &["1", "2", "3", "4"]);
    let p = f.path("mail.log");
    assert!(saw_new_file(&f, &p), "{:?}", f.notices);
    // A second rotation, onto the same old name.
    f.append("mail.log", "5\n");
    fs::rename(f.path("mail.log"), f.path("mail.log.1")).unwrap();
    f.append("mail.log", "6\n");
    f.expect_lines("mail.log", &["1", "2", "3", "4", "5", "6"]);
}

fn lines_written_to_the_old_file_after_rotation_still_arrive(mode: Mode) {
    let mut f = Follow::start(mode, &[("mail.log", StartAt::End)]);
    // A writer that keeps its descriptor across the rotation, as syslog does until HUP.
    let mut writer = OpenOptions::new()
        .append(true)
        .open(f.path("mail.log"))
        .unwrap();
    writer.write_all(b"1\n").unwrap();
    f.expect_lines("mail.log", &["1"]);
    fs::rename(f.path("mail.log"), f.path("mail.log.1")).unwrap();
    fs::write(f.path("mail.log"), "").unwrap();
    let p = f.path("mail.log");
    f.wait_for("the new file to be opened", |f| saw_new_file(f, &p));
    writer.write_all(b"2 (late, old file)\n").unwrap();
    // The old file's folder entry is not ours, so no event names it: the next check of any
    // file, here caused by a write to the new file, drains the old one first.
    f.append("mail.log", "3 (new file)\n");
    f.expect_lines("mail.log", &["1", "2 (late, old file)", "3 (new file)"]);
}

fn copytruncate_restarts_from_zero(mode: Mode) {
    let mut f = Follow::start(mode, &[("mail.log", StartAt::End)]);
    f.append("mail.log", "1\n2\n");
    f.expect_lines("mail.log", &["1", "2"]);
    fs::copy(f.path("mail.log"), f.path("mail.log.1")).unwrap();
    truncate(&f.path("mail.log"));
    f.wait_notice(&Notice::Truncated(f.path("mail.log")));
    f.append("mail.log", "3\n");
    f.expect_lines("mail.log", &["1", "2", "3"]);
}

fn delete_then_recreate(mode: Mode) {
    let mut f = Follow::start(mode, &[("mail.log", StartAt::End)]);
    f.append("mail.log", "1\n");
    f.expect_lines("mail.log", &["1"]);
    fs::remove_file(f.path("mail.log")).unwrap();
    f.wait_notice(&Notice::Disappeared(f.path("mail.log")));
    f.append("mail.log", "2\n");
    f.wait_notice(&Notice::Appeared(f.path("mail.log")));
    f.expect_lines("mail.log", &["1", "2"]);
    let disappeared = f
        .notices
        .iter()
        .filter(|n| matches!(n, Notice::Disappeared(_)))
        .count();
    assert_eq!(disappeared, 1, "{:?}", f.notices);
}

fn a_file_missing_at_start_is_waited_for(mode: Mode) {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follow::start_in(dir, mode, &[("later.log", StartAt::End)]);
    f.wait_notice(&Notice::Disappeared(f.path("later.log")));
    f.append("later.log", "hello\n");
    f.wait_notice(&Notice::Appeared(f.path("later.log")));
    f.expect_lines("later.log", &["hello"]);
}

fn two_folders_three_files_at_once(mode: Mode) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    for n in ["a.log", "b.log", "sub/c.log"] {
        fs::write(dir.path().join(n), "").unwrap();
    }
    let files = [
        ("a.log", StartAt::End),
        ("b.log", StartAt::End),
        ("sub/c.log", StartAt::End),
    ];
    let mut f = Follow::start_in(dir, mode, &files);
    let numbered = |n: &str| -> Vec<String> { (0..20).map(|i| format!("{n} {i}")).collect() };
    for i in 0..20 {
        for (n, _) in files {
            f.append(n, &format!("{n} {i}\n"));
        }
    }
    for (n, _) in files {
        let want = numbered(n);
        f.expect_lines(n, &want.iter().map(String::as_str).collect::<Vec<_>>());
    }
    // Rotating one file leaves the others alone.
    fs::rename(f.path("b.log"), f.path("b.log.1")).unwrap();
    f.append("b.log", "b.log new\n");
    f.append("a.log", "a.log more\n");
    let mut want = numbered("a.log");
    want.push("a.log more".to_string());
    f.expect_lines(
        "a.log",
        &want.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let mut want = numbered("b.log");
    want.push("b.log new".to_string());
    f.expect_lines(
        "b.log",
        &want.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(f.lines_of("sub/c.log").len(), 20);
}

#[test]
fn ticks_come_while_idle_and_stop_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.log");
    fs::write(&path, "").unwrap();
    let o = FollowOptions {
        recheck: Duration::from_millis(20),
        ..opts(Mode::Notify)
    };
    let mut follower = Follower::new(vec![(path, StartAt::End)], o).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let ticks = Arc::new(AtomicU64::new(0));
    let thread = {
        let (stop, ticks) = (Arc::clone(&stop), Arc::clone(&ticks));
        thread::spawn(move || {
            follower.run_with_tick(
                &stop,
                |l| panic!("unexpected line {}", l.text),
                |n| panic!("unexpected notice {n}"),
                || {
                    ticks.fetch_add(1, Ordering::Relaxed);
                    ControlFlow::Continue(())
                },
            )
        })
    };
    let end = Instant::now() + DEADLINE;
    while ticks.load(Ordering::Relaxed) < 3 {
        assert!(Instant::now() < end, "no ticks");
        thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    while !thread.is_finished() {
        assert!(Instant::now() < end, "stop flag ignored");
        thread::sleep(Duration::from_millis(5));
    }
    thread.join().unwrap().unwrap();
}

/// One step of the property test's writer.
#[derive(Debug, Clone)]
enum Action {
    /// Append this many complete lines (completing a pending partial line first).
    Lines(usize),
    /// Append part of a line, no newline.
    Partial,
    /// Rename the file away after appending this many lines, and create an empty one.
    Rotate(usize),
    /// Copy the file, then truncate it.
    CopyTruncate,
    /// Delete the file after appending this many lines.
    Delete(usize),
    /// Create the file empty if it is missing.
    Recreate,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (1usize..6).prop_map(Action::Lines),
        2 => Just(Action::Partial),
        2 => (0usize..4).prop_map(Action::Rotate),
        1 => Just(Action::CopyTruncate),
        1 => (0usize..3).prop_map(Action::Delete),
        1 => Just(Action::Recreate),
    ]
}

/// What the writer has done, and so what the follower must deliver.
struct Model {
    expected: Vec<String>,
    /// The unfinished line at the end of the current file.
    partial: String,
    exists: bool,
    seq: usize,
    rotated: usize,
}

impl Model {
    fn lines(&mut self, f: &Follow, n: usize) {
        let mut data = String::new();
        for _ in 0..n {
            self.seq += 1;
            let tail = format!("line {}", self.seq);
            data.push_str(&tail);
            data.push('\n');
            self.expected
                .push(std::mem::take(&mut self.partial) + &tail);
        }
        f.append("mail.log", &data);
        self.exists = true;
    }
}

/// Plays `actions` against a follower. Before anything that can lose data for a `tail` that
/// falls behind (a rotation or deletion of a file it may not have opened yet, a truncation
/// of lines it has not read yet), the writer waits for the follower to catch up, as a
/// follower that keeps up would be; the lines written just before a rotation or deletion
/// are not waited for.
fn play(mode: Mode, actions: &[Action]) -> Result<(), TestCaseError> {
    let mut f = Follow::start(mode, &[("mail.log", StartAt::Beginning)]);
    let path = f.path("mail.log");
    let mut m = Model {
        expected: Vec::new(),
        partial: String::new(),
        exists: true,
        seq: 0,
        rotated: 0,
    };
    for a in actions {
        match *a {
            Action::Lines(n) => m.lines(&f, n),
            Action::Partial => {
                m.seq += 1;
                let part = format!("part {} ", m.seq);
                f.append("mail.log", &part);
                m.partial.push_str(&part);
                m.exists = true;
            }
            Action::Rotate(n) if m.exists => {
                f.sync();
                m.lines(&f, n);
                m.rotated += 1;
                fs::rename(&path, f.path(&format!("mail.log.{}", m.rotated))).unwrap();
                fs::write(&path, "").unwrap();
                // The old file's unfinished line can never be finished now.
                m.partial.clear();
            }
            Action::Delete(n) if m.exists => {
                f.sync();
                m.lines(&f, n);
                fs::remove_file(&path).unwrap();
                m.partial.clear();
                m.exists = false;
            }
            Action::CopyTruncate if m.exists => {
                f.sync();
                fs::copy(&path, f.path("mail.log.copy")).unwrap();
                let had_data = fs::metadata(&path).unwrap().len() > 0;
                let before = f.notices.len();
                truncate(&path);
                m.partial.clear();
                if had_data {
                    // Wait until the follower has seen the truncation, or new lines could
                    // reach its old position first and look like an append.
                    let want = Notice::Truncated(path.clone());
                    f.wait_for("the truncation", |f| f.notices[before..].contains(&want));
                }
            }
            Action::Recreate if !m.exists => {
                fs::write(&path, "").unwrap();
                m.exists = true;
            }
            Action::Rotate(_) | Action::Delete(_) | Action::CopyTruncate | Action::Recreate => {}
        }
    }
    f.sync();
    let got = f.lines_of("mail.log");
    prop_assert_eq!(&got, &m.expected, "notices: {:?}", f.notices);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    /// Every complete line written is delivered exactly once and in order, whatever mix
    /// of appends, partial lines, rotations, truncations and deletions happens.
    #[test]
    fn every_complete_line_arrives_once_in_order(
        poll in any::<bool>(),
        actions in prop::collection::vec(action(), 1..16),
    ) {
        play(if poll { Mode::Poll } else { Mode::Notify }, &actions)?;
    }
}

/// CPU time (user + system) of this process so far, from `/proc/self/stat`.
fn process_cpu() -> Duration {
    let stat = fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split(' ')
        .skip(11)
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    // Clock ticks; 100 per second on Linux.
    Duration::from_millis((f[0] + f[1]) * 10)
}

/// Not a test: prints the append-to-callback latency and the idle CPU use with the default
/// options. Run with
/// `cargo test --test integration measure_ -- --ignored --nocapture --test-threads=1`.
#[test]
#[ignore = "a measurement, not a test"]
fn measure_latency_and_idle_cpu() {
    for poll in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.log");
        fs::write(&path, "").unwrap();
        let o = FollowOptions {
            poll,
            ..FollowOptions::default()
        };
        let mut follower = Follower::new(vec![(path.clone(), StartAt::End)], o).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                follower.run(
                    &stop,
                    |_| {
                        let _ = tx.send(Instant::now());
                        ControlFlow::Continue(())
                    },
                    |_| {},
                )
            })
        };
        let mode = if poll { "poll (1 s)" } else { "notify" };

        // Idle: nothing is written for 10 s.
        thread::sleep(Duration::from_millis(500));
        let (cpu0, t0) = (process_cpu(), Instant::now());
        thread::sleep(Duration::from_secs(10));
        let (cpu, wall) = (process_cpu() - cpu0, t0.elapsed());
        println!(
            "{mode}: idle CPU {:?} over {:?} = {:.3} %",
            cpu,
            wall,
            100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
        );

        // Latency: one line at a time, at irregular moments.
        let n = if poll { 20 } else { 200 };
        let mut lat = Vec::with_capacity(n);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        for i in 0..n {
            thread::sleep(Duration::from_millis(3 + (i as u64 * 7) % 20));
            let sent = Instant::now();
            file.write_all(format!("line {i}\n").as_bytes()).unwrap();
            let got = rx.recv_timeout(DEADLINE).unwrap();
            lat.push(got - sent);
        }
        lat.sort();
        println!(
            "{mode}: latency over {n} appends: median {:?}, p99 {:?}, max {:?}",
            lat[n / 2],
            lat[n * 99 / 100],
            lat[n - 1]
        );
        stop.store(true, Ordering::Relaxed);
        file.write_all(b"bye\n").unwrap();
        thread.join().unwrap().unwrap();
    }
}

/// A small deterministic random number generator (xorshift64*), so a failing stress run can
/// be replayed from the seed it prints.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// From `$MAILTRACE_STRESS_SEED`, or the clock.
    pub(crate) fn from_env() -> (Rng, u64) {
        let seed = std::env::var("MAILTRACE_STRESS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        (Rng(seed | 1), seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// How the stress writer rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rotation {
    RenameCreate,
    DeleteRecreate,
}

/// What the stress writer did: the lines written to each file (file `k` holds lines
/// `f{k} 0`, `f{k} 1`, … in order), and the rotations of each kind.
struct Written {
    per_file: Vec<u64>,
    renames: u32,
    deletes: u32,
}

/// Writes lines at about `rate` lines a second into `path`, rotating `rotations` times
/// after `gap` milliseconds each (a random number in the range), by rename-and-create or
/// delete-and-create at random. After a rotation the writer sometimes adds a few lines to
/// the old file through its open descriptor before switching, as a syslog daemon does
/// until it is told to reopen its log.
fn stress_writer(
    path: &Path,
    rotations: u32,
    gap: (u64, u64),
    rate: u64,
    rng: &mut Rng,
) -> Written {
    let open = |p: &Path| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap()
    };
    let mut w = Written {
        per_file: vec![0],
        renames: 0,
        deletes: 0,
    };
    let mut file = open(path);
    let pad = "x".repeat(60);
    let write_lines = |f: &mut fs::File, k: usize, n: u64, w: &mut Written| {
        let mut data = String::new();
        for _ in 0..n {
            data.push_str(&format!("f{k} {} {pad}\n", w.per_file[k]));
            w.per_file[k] += 1;
        }
        f.write_all(data.as_bytes()).unwrap();
    };
    // Lines are written in batches every millisecond.
    let batch = (rate / 1000).max(1);
    for r in 0..=rotations {
        let k = r as usize;
        let end = Instant::now() + Duration::from_millis(rng.range(gap.0, gap.1));
        while Instant::now() < end {
            write_lines(&mut file, k, batch, &mut w);
            thread::sleep(Duration::from_millis(1));
        }
        if r == rotations {
            break;
        }
        let how = if rng.range(0, 1) == 0 {
            w.renames += 1;
            fs::rename(path, path.with_extension("log.1")).unwrap();
            Rotation::RenameCreate
        } else {
            w.deletes += 1;
            fs::remove_file(path).unwrap();
            Rotation::DeleteRecreate
        };
        let mut old = std::mem::replace(&mut file, open(path));
        w.per_file.push(0);
        let late = rng.range(0, 3);
        if how == Rotation::RenameCreate && late > 0 {
            write_lines(&mut old, k, late, &mut w);
        }
    }
    w
}

/// Every line seen, checked against what was written: lines lost, seen twice, out of order
/// within their file.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
}

fn tally(per_file: &[u64], seen: &[(usize, u64)]) -> Tally {
    let mut t = Tally::default();
    let mut by_file: Vec<Vec<u64>> = vec![Vec::new(); per_file.len()];
    for &(k, n) in seen {
        by_file[k].push(n);
    }
    for (k, got) in by_file.iter().enumerate() {
        let mut once = vec![false; per_file[k] as usize];
        for (i, &n) in got.iter().enumerate() {
            if i > 0 && n <= got[i - 1] {
                t.out_of_order += 1;
            }
            match once.get_mut(n as usize) {
                Some(s) if *s => t.duplicated += 1,
                Some(s) => *s = true,
                None => t.duplicated += 1,
            }
        }
        t.lost += once.iter().filter(|s| !**s).count() as u64;
    }
    t
}

/// Parses a stress line `f{k} {n} …`.
fn stress_line(text: &str) -> (usize, u64) {
    let mut it = text.split(' ');
    let k = it.next().and_then(|f| f.strip_prefix('f')).unwrap();
    let n = it.next().unwrap();
    (k.parse().unwrap(), n.parse().unwrap())
}

/// 100 rotations, rename-and-create and delete-and-create mixed, while lines are written at
/// about 10,000 a second and the consumer stalls for 100–300 ms at random points: every line
/// must be seen exactly once, in order within its file.
fn rotations_during_consumer_stalls_lose_nothing(mode: Mode) {
    let (mut rng, seed) = Rng::from_env();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.log");
    fs::write(&path, "").unwrap();
    let o = FollowOptions {
        recheck: Duration::from_millis(100),
        poll_interval: Duration::from_millis(10),
        ..opts(mode)
    };
    let mut follower = Follower::new(vec![(path.clone(), StartAt::Beginning)], o).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let stalls = Arc::new(AtomicU64::new(0));
    let mut consumer_rng = Rng(rng.next() | 1);
    let reader = {
        let (stop, count, stalls) = (Arc::clone(&stop), Arc::clone(&count), Arc::clone(&stalls));
        thread::spawn(move || {
            let mut seen = Vec::new();
            follower
                .run(
                    &stop,
                    |l| {
                        seen.push(stress_line(l.text));
                        count.fetch_add(1, Ordering::Relaxed);
                        // About three stalls a second at 10,000 lines a second.
                        if consumer_rng.range(0, 2999) == 0 {
                            stalls.fetch_add(1, Ordering::Relaxed);
                            thread::sleep(Duration::from_millis(consumer_rng.range(100, 300)));
                        }
                        ControlFlow::Continue(())
                    },
                    |_| {},
                )
                .unwrap();
            seen
        })
    };
    // Polling sees a file only if it stays at the path for a poll or more.
    let gap = match mode {
        Mode::Notify => (20, 60),
        Mode::Poll => (50, 100),
    };
    let started = Instant::now();
    let w = stress_writer(&path, 100, gap, 10_000, &mut rng);
    let total: u64 = w.per_file.iter().sum();
    let end = Instant::now() + DEADLINE;
    while count.load(Ordering::Relaxed) < total && Instant::now() < end {
        thread::sleep(Duration::from_millis(10));
    }
    // Anything late or duplicated would show up now.
    thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let seen = reader.join().unwrap();
    let t = tally(&w.per_file, &seen);
    println!(
        "tail stress ({mode:?}, seed {seed}): {} rotations ({} rename+create, {} delete+recreate), \
         {total} lines written, {} seen, {} consumer stalls, {:.1} s; lost {}, duplicated {}, out of order {}",
        w.renames + w.deletes,
        w.renames,
        w.deletes,
        seen.len(),
        stalls.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        t.lost,
        t.duplicated,
        t.out_of_order,
    );
    assert_eq!(t, Tally::default(), "seed {seed}");
}

#[test]
fn stress_notify_rotations_during_consumer_stalls_lose_nothing() {
    rotations_during_consumer_stalls_lose_nothing(Mode::Notify);
}

#[test]
fn stress_poll_rotations_during_consumer_stalls_lose_nothing() {
    rotations_during_consumer_stalls_lose_nothing(Mode::Poll);
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A FIFO is read as writers come and go: nothing blocks while there is no writer (a
/// notice says what is awaited, and the stop flag ends the run), every line of each writer
/// arrives, and a closed writer is followed by the next one.
#[test]
fn a_fifo_is_read_writer_after_writer_and_never_blocks_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let o = FollowOptions {
        recheck: Duration::from_millis(50),
        ..FollowOptions::default()
    };
    let mut follower = Follower::new(vec![(fifo.clone(), StartAt::End)], o).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let thread = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let notices = tx.clone();
            follower.run(
                &stop,
                |l| {
                    let _ = tx.send(Msg::Line(l.number.unwrap().to_string(), l.text.into()));
                    ControlFlow::Continue(())
                },
                |n| {
                    let _ = notices.send(Msg::Notice(n));
                },
            )
        })
    };
    let recv = || rx.recv_timeout(DEADLINE).expect("a message in time");
    // No writer for a second: the follower says so.
    match recv() {
        Msg::Notice(n) => assert_eq!(
            n.to_string(),
            format!("waiting for a writer on {}", fifo.display())
        ),
        Msg::Line(_, l) => panic!("unexpected line {l}"),
    }
    let mut lines = Vec::new();
    for writer in 0..3 {
        let mut w = OpenOptions::new().write(true).open(&fifo).unwrap();
        for i in 0..500 {
            writeln!(w, "writer {writer} line {i}").unwrap();
        }
        write!(w, "unfinished by writer {writer}").unwrap();
        drop(w);
        while lines.len() < 501 * (writer + 1) {
            match recv() {
                Msg::Line(n, l) => lines.push((n, l)),
                Msg::Notice(n) => assert!(matches!(n, Notice::Waiting(_)), "{n:?}"),
            }
        }
    }
    assert_eq!(lines.len(), 1503);
    for (i, (n, l)) in lines.iter().enumerate() {
        assert_eq!(*n, (i + 1).to_string());
        let (writer, line) = (i / 501, i % 501);
        // A line left unfinished by a writer ends when it closes.
        let want = match line {
            500 => format!("unfinished by writer {writer}"),
            _ => format!("writer {writer} line {line}"),
        };
        assert_eq!(*l, want);
    }
    let asked = Instant::now();
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
}

/// Copytruncate against a writer that never pauses (its own thread, ~10,000 lines a second)
/// and a consumer that stalls: the scanner reads ahead of the consumer, so a truncation
/// loses only the lines written since the scanner's last read, just before it. Checks that
/// nothing is repeated or out of order and that every lost line was written shortly before
/// a truncation (within 50 ms and the copy), and prints how many each truncation lost.
fn copytruncate_loses_only_the_last_moment(mode: Mode) {
    let (mut rng, seed) = Rng::from_env();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.log");
    fs::write(&path, "").unwrap();
    let o = FollowOptions {
        recheck: Duration::from_millis(100),
        poll_interval: Duration::from_millis(10),
        ..opts(mode)
    };
    let mut follower = Follower::new(vec![(path.clone(), StartAt::Beginning)], o).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let last = Arc::new(AtomicU64::new(0));
    let mut consumer_rng = Rng(rng.next() | 1);
    let reader = {
        let (stop, last) = (Arc::clone(&stop), Arc::clone(&last));
        thread::spawn(move || {
            let mut seen = Vec::new();
            follower
                .run(
                    &stop,
                    |l| {
                        let n = stress_line(l.text).1;
                        seen.push(n);
                        last.store(n, Ordering::Relaxed);
                        if consumer_rng.range(0, 2999) == 0 {
                            thread::sleep(Duration::from_millis(consumer_rng.range(100, 300)));
                        }
                        ControlFlow::Continue(())
                    },
                    |_| {},
                )
                .unwrap();
            seen
        })
    };
    let written = Arc::new(AtomicU64::new(0));
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (path, written, writing) = (path.clone(), Arc::clone(&written), Arc::clone(&writing));
        thread::spawn(move || {
            let mut f = OpenOptions::new().append(true).open(&path).unwrap();
            let pad = "x".repeat(60);
            while writing.load(Ordering::Relaxed) {
                let mut data = String::new();
                for _ in 0..10 {
                    let n = written.load(Ordering::Relaxed);
                    data.push_str(&format!("f0 {n} {pad}\n"));
                    written.store(n + 1, Ordering::Relaxed);
                }
                f.write_all(data.as_bytes()).unwrap();
                thread::sleep(Duration::from_millis(1));
            }
        })
    };
    // (lines written 50 ms before the copy began, lines written once truncated)
    let mut windows = Vec::new();
    for _ in 0..50 {
        thread::sleep(Duration::from_millis(rng.range(20, 80)));
        let before = written.load(Ordering::Relaxed);
        thread::sleep(Duration::from_millis(50));
        fs::copy(&path, dir.path().join("mail.log.1")).unwrap();
        truncate(&path);
        windows.push((before, written.load(Ordering::Relaxed)));
    }
    thread::sleep(Duration::from_millis(50));
    writing.store(false, Ordering::Relaxed);
    writer.join().unwrap();
    let total = written.load(Ordering::Relaxed);
    // The last line, written well after the last truncation, tells the consumer is done.
    let end = Instant::now() + DEADLINE;
    while last.load(Ordering::Relaxed) + 1 < total && Instant::now() < end {
        thread::sleep(Duration::from_millis(10));
    }
    thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let seen = reader.join().unwrap();
    let repeated_or_backwards = seen.windows(2).filter(|w| w[1] <= w[0]).count();
    let mut got = vec![false; total as usize];
    for &n in &seen {
        got[n as usize] = true;
    }
    let lost: Vec<u64> = (0..total).filter(|&n| !got[n as usize]).collect();
    let outside = lost
        .iter()
        .filter(|&&n| !windows.iter().any(|&(a, b)| n >= a && n < b))
        .count();
    let per: Vec<usize> = windows
        .iter()
        .map(|&(a, b)| lost.iter().filter(|&&n| n >= a && n < b).count())
        .collect();
    println!(
        "copytruncate ({mode:?}, seed {seed}): {} truncations, {total} lines written, {} seen; \
         lost {} (per truncation: mean {:.1}, max {}), {outside} of them outside the last 50 ms \
         before a truncation; repeated or out of order {repeated_or_backwards}",
        windows.len(),
        seen.len(),
        lost.len(),
        lost.len() as f64 / windows.len() as f64,
        per.iter().max().unwrap(),
    );
    assert_eq!(repeated_or_backwards, 0, "seed {seed}");
    assert_eq!(outside, 0, "seed {seed}: lost {lost:?}");
}

#[test]
fn stress_notify_copytruncate_loses_only_the_last_moment() {
    copytruncate_loses_only_the_last_moment(Mode::Notify);
}

#[test]
fn stress_poll_copytruncate_loses_only_the_last_moment() {
    copytruncate_loses_only_the_last_moment(Mode::Poll);
}

//! `mailtrace follow` end to end, through the real binary:
//!
//! - alerts: a cPanel-style Exim log is written line by line; the warning alert must come
//!   after the 4th failure and before the trip, the trip alert right after the 5th, and
//!   cPanel's own block after its discard line, each exactly once;
//! - chaos: lines appended at a high rate through 100 random rotations (rename and create,
//!   copytruncate, delete and recreate, rename and gzip) while the reader of the output
//!   stalls, checked line by line through `--format events`;
//! - FIFOs, `--max-age`, and the start-up messages for paths that cannot be followed.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::tail::Rng;
use crate::util::mailtrace;

const ARRIVAL: &str = "2026-11-26 14:05:11 1tWx9Q-00000000Aq3-4kZ1 <= info@shop.example H=(pc) [203.0.113.77]:52144 P=esmtpsa A=dovecot_login:info@shop.example S=4312 for a@gmail.com";

fn failure(n: u32) -> String {
    format!(
        "2026-11-26 14:05:1{n} 1tWx9Q-00000000Aq3-4kZ1 ** dead{n}@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<dead{n}@gmail.com>: 550 5.1.1 The email account that you tried to reach does not exist."
    )
}

const DISCARD: &str = "2026-11-26 14:07:00 1tWx9Q-00000000Aq3-5kZ2 ** y@yahoo.com R=enforce_mail_permissions: Domain shop.example has exceeded the max defers and failures per hour (5/5 (100%)) allowed. Message discarded.";

#[test]
fn warning_fires_before_the_trip_and_the_trip_right_after_it_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exim_mainlog");
    std::fs::write(&log, "").unwrap();
    let mut child = mailtrace()
        .args([
            "follow",
            "--format",
            "json",
            "--poll",
            "--poll-interval",
            "50",
            "--now",
            "2026-11-26 14:00:00",
        ])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<serde_json::Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line)
                && tx.send(v).is_err()
            {
                break;
            }
        }
    });
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let mut write = |line: &str| {
        writeln!(file, "{line}").unwrap();
        file.flush().unwrap();
    };
    // No alert may come while nothing crosses a threshold; a generous wait for the next one.
    let next = |what: &str| -> serde_json::Value {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no alert after {what}"))
    };
    let quiet = |what: &str| {
        if let Ok(v) = rx.recv_timeout(Duration::from_millis(600)) {
            panic!("unexpected alert after {what}: {v}");
        }
    };

    write(ARRIVAL);
    for n in 1..=3 {
        write(&failure(n));
    }
    quiet("3 failures");
    write(&failure(4));
    let warning = next("the 4th failure");
    assert_eq!(warning["kind"], "warning", "{warning}");
    assert_eq!(warning["subject"], "shop.example");
    assert_eq!(warning["defer_fail"], 4);
    quiet("the warning");
    write(&failure(5));
    let trip = next("the 5th failure");
    assert_eq!(trip["kind"], "tripped", "{trip}");
    assert_eq!(trip["subject"], "shop.example");
    assert_eq!(trip["defer_fail"], 5);
    assert_eq!(trip["time"], "2026-11-26T14:05:15");
    write(&failure(6));
    quiet("a 6th failure (each alert fires once per hour)");
    write(DISCARD);
    let blocked = next("cPanel's discard line");
    assert_eq!(blocked["kind"], "blocked", "{blocked}");
    assert_eq!(blocked["logged_count"], 5);
    write(DISCARD);
    quiet("a second discard line");
    child.kill().unwrap();
    let _ = child.wait();
}

/// How the chaos writer rotates the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rotation {
    RenameCreate,
    CopyTruncate,
    DeleteRecreate,
    /// Rename and create, then compress the old file (`mail.log.1` → `mail.log.1.gz`).
    RenameGzip,
}

const ROTATIONS: [Rotation; 4] = [
    Rotation::RenameCreate,
    Rotation::CopyTruncate,
    Rotation::DeleteRecreate,
    Rotation::RenameGzip,
];

/// One stretch of the log between two rotations: the lines written to it, and the rotation
/// that ended it.
#[derive(Debug)]
struct Segment {
    lines: u64,
    ended_by: Option<Rotation>,
}

/// An Exim arrival line whose sender says which segment it belongs to and its number there.
fn chaos_line(segment: usize, n: u64) -> String {
    format!(
        "2026-11-26 14:05:11 1tWx9Q-00000000Aq3-4kZ1 <= f{segment}.{n}@chaos.example H=(pc) \
         [203.0.113.77]:52144 P=esmtpsa S=4312 for a@gmail.com\n"
    )
}

/// The (segment, number) of a chaos event's sender, or `None` for the final marker.
fn chaos_sender(sender: &str) -> Option<(usize, u64)> {
    let local = sender.strip_suffix("@chaos.example")?;
    let (k, n) = local.strip_prefix('f')?.split_once('.')?;
    Some((k.parse().ok()?, n.parse().ok()?))
}

fn open_append(p: &Path) -> fs::File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap()
}

fn gzip(from: &Path, to: &Path) {
    let data = fs::read(from).unwrap();
    let mut e =
        flate2::write::GzEncoder::new(fs::File::create(to).unwrap(), flate2::Compression::fast());
    e.write_all(&data).unwrap();
    e.finish().unwrap();
    fs::remove_file(from).unwrap();
}

/// Writes batches of `batch` lines about every millisecond into `path`, rotating 100 times
/// after 30–130 ms each, each time in one of the four ways at random. After a rename the
/// writer sometimes adds a few lines to the old file before switching, as syslog does until
/// it reopens its log. Starts once the first line has been seen (`ready`: the follower has
/// opened the file); ends with the marker line `done@chaos.example`.
fn chaos_writer(path: &Path, batch: u64, ready: &AtomicBool, rng: &mut Rng) -> Vec<Segment> {
    let old = path.with_extension("log.1");
    let mut segments = vec![Segment {
        lines: 0,
        ended_by: None,
    }];
    let mut file = open_append(path);
    let write = |f: &mut fs::File, segments: &mut Vec<Segment>, k: usize, n: u64| {
        let mut data = String::new();
        for _ in 0..n {
            data.push_str(&chaos_line(k, segments[k].lines));
            segments[k].lines += 1;
        }
        f.write_all(data.as_bytes()).unwrap();
    };
    write(&mut file, &mut segments, 0, 1);
    let end = Instant::now() + Duration::from_secs(10);
    while !ready.load(Ordering::Relaxed) {
        assert!(Instant::now() < end, "follow did not start");
        thread::sleep(Duration::from_millis(5));
    }
    for r in 0..=100usize {
        let end = Instant::now() + Duration::from_millis(rng.range(30, 130));
        while Instant::now() < end {
            write(&mut file, &mut segments, r, batch);
            thread::sleep(Duration::from_millis(1));
        }
        if r == 100 {
            break;
        }
        let how = ROTATIONS[rng.range(0, 3) as usize];
        segments[r].ended_by = Some(how);
        segments.push(Segment {
            lines: 0,
            ended_by: None,
        });
        match how {
            Rotation::RenameCreate | Rotation::RenameGzip => {
                fs::rename(path, &old).unwrap();
                let mut was = std::mem::replace(&mut file, open_append(path));
                if how == Rotation::RenameCreate {
                    let late = rng.range(0, 3);
                    write(&mut was, &mut segments, r, late);
                } else {
                    gzip(&old, &old.with_extension("1.gz"));
                }
            }
            Rotation::DeleteRecreate => {
                fs::remove_file(path).unwrap();
                file = open_append(path);
            }
            Rotation::CopyTruncate => {
                // A new copy, as logrotate makes after moving the older ones along
                // (copying onto the file renamed away before would rewrite it in place).
                let _ = fs::remove_file(&old);
                fs::copy(path, &old).unwrap();
                file.set_len(0).unwrap();
            }
        }
    }
    file.write_all(
        b"2026-11-26 14:05:12 1tWx9Q-00000000Aq3-4kZ2 <= done@chaos.example H=(pc) [203.0.113.77]:52144 P=esmtpsa S=1 for a@gmail.com\n",
    )
    .unwrap();
    segments
}

/// What the chaos run's output held, checked against what was written.
#[derive(Debug, Default)]
struct ChaosTally {
    seen: u64,
    /// Lines never seen, outside what copytruncate may lose.
    lost: u64,
    /// Lines of copytruncated segments never seen: those written after the follower's last
    /// read before the truncation (the documented limit), always the segment's last lines.
    lost_to_copytruncate: u64,
    /// The most lines one copytruncate lost.
    worst_copytruncate: u64,
    duplicated: u64,
    out_of_order: u64,
}

fn chaos_tally(segments: &[Segment], seen: &[(usize, u64)]) -> ChaosTally {
    let mut t = ChaosTally {
        seen: seen.len() as u64,
        ..ChaosTally::default()
    };
    let mut by_segment: Vec<Vec<u64>> = vec![Vec::new(); segments.len()];
    for &(k, n) in seen {
        by_segment[k].push(n);
    }
    for (k, (seg, got)) in segments.iter().zip(&by_segment).enumerate() {
        let mut once = vec![false; seg.lines as usize];
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
        // Copytruncate may lose the segment's last lines, never others.
        let read = once.iter().rposition(|s| *s).map_or(0, |i| i + 1);
        let missing_inside = once[..read].iter().filter(|s| !**s).count() as u64;
        let missing_tail = seg.lines - read as u64;
        let dups = got.len() as u64 - (once.iter().filter(|s| **s).count() as u64);
        if missing_inside > 0
            || dups > 0
            || (missing_tail > 0 && seg.ended_by != Some(Rotation::CopyTruncate))
        {
            println!(
                "segment {k} ({:?}): {} lines, {} seen, {missing_inside} missing inside, {missing_tail} at the end, {dups} repeated; first seen {:?}",
                seg.ended_by,
                seg.lines,
                got.len(),
                &got[..got.len().min(8)]
            );
        }
        if seg.ended_by == Some(Rotation::CopyTruncate) {
            t.lost += missing_inside;
            t.lost_to_copytruncate += missing_tail;
            t.worst_copytruncate = t.worst_copytruncate.max(missing_tail);
        } else {
            t.lost += missing_inside + missing_tail;
        }
    }
    t
}

/// Sends SIGINT to `child`, as Ctrl-C would.
pub(crate) fn interrupt(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for `child` to exit, failing after `limit`.
pub(crate) fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let end = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("follow did not exit within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Collects a child's stderr on a thread.
fn collect(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// 100 random rotations of all four kinds at ~3,000 lines a second, while the test reads
/// the events slowly at times (stalls of 100–300 ms: the pipe fills and `follow` blocks in
/// its writes): every line is seen exactly once and in order within its file, except the
/// lines copytruncate loses by design, counted apart.
#[test]
fn follow_under_chaos_sees_every_line_once_in_order() {
    chaos(&[]);
}

/// [`follow_under_chaos_sees_every_line_once_in_order`] polling every 10 ms.
#[test]
fn follow_under_chaos_polling_sees_every_line_once_in_order() {
    chaos(&["--poll", "--poll-interval", "10"]);
}

fn chaos(flags: &[&str]) {
    let (mut rng, seed) = Rng::from_env();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    fs::write(&log, "").unwrap();
    let mut child = mailtrace()
        .args(["follow", "--format", "events", "--from-start"])
        .args(flags)
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = collect(child.stderr.take().unwrap());
    let stdout = child.stdout.take().unwrap();
    let ready = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let stalls = Arc::new(AtomicU64::new(0));
    let mut reader_rng = Rng(rng.next() | 1);
    let reader = {
        let (ready, done, stalls) = (Arc::clone(&ready), Arc::clone(&done), Arc::clone(&stalls));
        thread::spawn(move || {
            let mut seen = Vec::new();
            let mut lines_ok = true;
            for line in BufReader::new(stdout).lines() {
                let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
                let sender = v["sender"].as_str().unwrap_or_default();
                match chaos_sender(sender) {
                    Some((0, 0)) if !ready.load(Ordering::Relaxed) => {
                        ready.store(true, Ordering::Relaxed);
                        seen.push((0, 0));
                    }
                    Some(at) => seen.push(at),
                    None if sender == "done@chaos.example" => done.store(true, Ordering::Relaxed),
                    None => panic!("unexpected event {v}"),
                }
                lines_ok &= v["line"].as_u64().is_some_and(|n| n > 0);
                if reader_rng.range(0, 999) == 0 {
                    stalls.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(reader_rng.range(100, 300)));
                }
            }
            (seen, lines_ok)
        })
    };
    let started = Instant::now();
    let segments = chaos_writer(&log, 3, &ready, &mut rng);
    let end = Instant::now() + Duration::from_secs(15);
    while !done.load(Ordering::Relaxed) {
        assert!(Instant::now() < end, "the final line never came");
        thread::sleep(Duration::from_millis(10));
    }
    // Anything late or repeated would come now.
    thread::sleep(Duration::from_millis(300));
    interrupt(&child);
    let status = wait_exit(&mut child, Duration::from_secs(5));
    let (seen, lines_ok) = reader.join().unwrap();
    let notices = stderr.join().unwrap();
    let t = chaos_tally(&segments, &seen);
    let count = |r| segments.iter().filter(|s| s.ended_by == Some(r)).count();
    let written: u64 = segments.iter().map(|s| s.lines).sum();
    println!(
        "follow chaos ({flags:?}, seed {seed}): 100 rotations ({} rename+create, {} copytruncate, {} delete+recreate, \
         {} rename+gzip), {written} lines written, {} seen, {} reader stalls, {:.1} s; lost {}, \
         duplicated {}, out of order {}; lost to copytruncate {} (at most {} in one)",
        count(Rotation::RenameCreate),
        count(Rotation::CopyTruncate),
        count(Rotation::DeleteRecreate),
        count(Rotation::RenameGzip),
        t.seen,
        stalls.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        t.lost,
        t.duplicated,
        t.out_of_order,
        t.lost_to_copytruncate,
        t.worst_copytruncate,
    );
    assert!(status.success(), "{status:?}; stderr: {notices}");
    assert!(lines_ok, "an event without its line number");
    assert_eq!(
        (t.lost, t.duplicated, t.out_of_order),
        (0, 0, 0),
        "seed {seed}; stderr: {notices}"
    );
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

/// Reads a child's stdout lines on a thread, as JSON values on a channel.
pub(crate) fn json_lines(r: impl Read + Send + 'static) -> mpsc::Receiver<serde_json::Value> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            let v = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn follow_on_a_fifo_without_a_writer_says_so_and_ctrl_c_ends_it_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("mail.pipe");
    mkfifo(&fifo);
    for format in ["events", "json"] {
        let mut child = mailtrace()
            .args(["follow", "--format", format])
            .arg(&fifo)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = collect(child.stderr.take().unwrap());
        thread::sleep(Duration::from_millis(1500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "follow ended by itself"
        );
        let asked = Instant::now();
        interrupt(&child);
        let status = wait_exit(&mut child, Duration::from_secs(3));
        let took = asked.elapsed();
        let err = stderr.join().unwrap();
        assert!(status.success(), "{format}: {status:?}: {err}");
        assert!(
            took < Duration::from_millis(1500),
            "{format}: took {took:?}"
        );
        let waiting = format!("mailtrace: waiting for a writer on {}\n", fifo.display());
        assert_eq!(err.matches(&waiting).count(), 1, "{format}: {err}");
        assert!(!err.contains("Illegal seek"), "{err}");
    }
}

#[test]
fn follow_reads_a_fifo_writer_after_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("mail.pipe");
    mkfifo(&fifo);
    // Events: every line of every writer, numbered on.
    let mut child = mailtrace()
        .args(["follow", "--format", "events"])
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = collect(child.stderr.take().unwrap());
    let rx = json_lines(child.stdout.take().unwrap());
    let next = || rx.recv_timeout(Duration::from_secs(10)).expect("an event");
    for writer in 0..2 {
        let mut w = OpenOptions::new().write(true).open(&fifo).unwrap();
        for i in 0..3 {
            w.write_all(chaos_line(writer, i).as_bytes()).unwrap();
        }
        drop(w);
        for i in 0..3 {
            let v = next();
            let sender = v["sender"].as_str().unwrap();
            assert_eq!(chaos_sender(sender), Some((writer, i)), "{v}");
            assert_eq!(v["line"], writer as u64 * 3 + i + 1, "{v}");
            assert_eq!(v["file"], fifo.display().to_string());
        }
    }
    interrupt(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(3)).success());
    let err = stderr.join().unwrap();
    assert!(!err.contains("Illegal seek"), "{err}");

    // Alerts: a trip raised from lines that came through the FIFO.
    let mut child = mailtrace()
        .args(["follow", "--format", "json", "--now", "2026-11-26 14:00:00"])
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = json_lines(child.stdout.take().unwrap());
    let mut w = OpenOptions::new().write(true).open(&fifo).unwrap();
    writeln!(w, "{ARRIVAL}").unwrap();
    for n in 1..=5 {
        writeln!(w, "{}", failure(n)).unwrap();
    }
    drop(w);
    let mut kinds = Vec::new();
    while kinds.last() != Some(&"tripped".to_string()) {
        let v = rx.recv_timeout(Duration::from_secs(10)).expect("an alert");
        kinds.push(v["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(kinds, ["warning", "tripped"]);
    interrupt(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(3)).success());
    let summary = rx
        .recv_timeout(Duration::from_secs(3))
        .expect("the summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["lines"], 6);
}

/// What `follow PATH` prints on stderr and its status, for a path it cannot follow.
fn refused(path: &Path, format: &str) -> (String, Option<i32>) {
    let mut child = mailtrace()
        .args(["follow", "--format", format])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = collect(child.stderr.take().unwrap());
    let status = wait_exit(&mut child, Duration::from_secs(5));
    (stderr.join().unwrap(), status.code())
}

#[test]
fn paths_that_cannot_be_followed_are_named_once_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let missing_folder = dir.path().join("no such folder").join("mail.log");
    let gz = dir.path().join("mail.log.1.gz");
    fs::write(&gz, [0x1f, 0x8b, 8, 0]).unwrap();
    let cases = [
        (dir.path().to_path_buf(), "is a directory".to_string()),
        (
            Path::new("/dev/null").to_path_buf(),
            "not a regular file or FIFO".to_string(),
        ),
        (
            missing_folder.clone(),
            "cannot watch its folder: No such file or directory (os error 2)".to_string(),
        ),
        (
            gz.clone(),
            "a compressed file cannot be followed: name the live log".to_string(),
        ),
    ];
    for format in ["text", "events"] {
        for (path, why) in &cases {
            let (err, code) = refused(path, format);
            assert_eq!(code, Some(2), "{}: {err}", path.display());
            assert_eq!(
                err,
                format!("mailtrace: {}: {why}\n", path.display()),
                "{format}"
            );
        }
    }
}

/// An Exim `Completed` line of a message never seen open: an event that opens nothing.
fn filler(t: chrono::NaiveDateTime) -> String {
    format!(
        "{} 1tWx9Q-00000000Aq3-9kZ9 Completed\n",
        t.format("%Y-%m-%d %H:%M:%S")
    )
}

/// `--max-age` folds a message silent for longer as incomplete, so its later failures are
/// no longer charged to its sender's domain: no trip. The correlator folds every 65,536
/// lines, so 70,000 lines pass between the arrival and the failures.
#[test]
fn max_age_folds_messages_silent_for_longer() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exim_mainlog");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    // Arrived at 11:00; the 65,536th line is at 12:44, so the message is then 1 h 44 min
    // silent.
    let mut data = ARRIVAL.replace("14:05:11", "11:00:00") + "\n";
    for i in 0..70_000i64 {
        data.push_str(&filler(start + chrono::Duration::milliseconds(i * 40)));
    }
    for n in 1..=5 {
        data.push_str(&failure(n));
        data.push('\n');
    }
    fs::write(&log, data).unwrap();
    let run = |max_age: &str| -> Vec<String> {
        let mut child = mailtrace()
            .args([
                "follow",
                "--format",
                "json",
                "--from-start",
                "--max-age",
                max_age,
            ])
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rx = json_lines(child.stdout.take().unwrap());
        // Everything is read back at start-up, which ends with a notice on stderr.
        let err = BufReader::new(child.stderr.take().unwrap());
        let said = err.lines().map_while(Result::ok).next().unwrap_or_default();
        assert!(said.starts_with("mailtrace: read 70,006 lines"), "{said}");
        interrupt(&child);
        assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
        rx.iter()
            .filter(|v| v["type"] != "summary")
            .map(|v| format!("{} {}", v["kind"].as_str().unwrap(), v["subject"]))
            .collect()
    };
    let kept = run("48");
    assert!(
        kept.contains(&"tripped \"shop.example\"".to_string()),
        "{kept:?}"
    );
    let folded = run("1");
    assert!(
        !folded.iter().any(|a| a.contains("shop.example")),
        "{folded:?}"
    );
}

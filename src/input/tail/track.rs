//! The reader's side of one followed path: the file read now, the files rotated away and
//! still drained, the scanner's events not acted on yet, and what has been reported.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::Notice;
use super::assemble::OnLine;
use super::handle::{Drained, Handle};
use super::scan::{self, Event, Shared};

/// What a check needs besides the path's own state.
pub(super) struct Cx<'a, 'b> {
    pub(super) buf: &'a mut [u8],
    pub(super) text: &'a mut String,
    pub(super) stop: &'a AtomicBool,
    pub(super) on_line: &'a mut OnLine<'b>,
    pub(super) on_notice: &'a mut dyn FnMut(Notice),
    pub(super) rotate_wait: Duration,
}

impl Cx<'_, '_> {
    /// Reads `h` to its end, restarting it at 0 on each truncation the scanner saw (with a
    /// [`Notice::Truncated`]); a read error becomes a notice (once per distinct error).
    fn drain(
        &mut self,
        path: &Path,
        h: &mut Handle,
        last_error: &mut Option<String>,
    ) -> ControlFlow<()> {
        loop {
            match h.drain(path, self.buf, self.text, self.stop, self.on_line) {
                Ok(Drained::End) => return ControlFlow::Continue(()),
                Ok(Drained::Break) => return ControlFlow::Break(()),
                Ok(Drained::Truncated) => {
                    (self.on_notice)(Notice::Truncated(path.to_path_buf()));
                }
                Err(e) => {
                    self.report(path, last_error, e.to_string());
                    return ControlFlow::Continue(());
                }
            }
        }
    }

    fn report(&mut self, path: &Path, last_error: &mut Option<String>, msg: String) {
        if last_error.as_deref() != Some(msg.as_str()) {
            (self.on_notice)(Notice::ReadError(path.to_path_buf(), msg.clone()));
            *last_error = Some(msg);
        }
    }
}

/// One followed path, as the reader sees it.
#[derive(Debug)]
pub(super) struct Tail {
    /// The path as given, used in callbacks and notices.
    pub(super) path: PathBuf,
    /// What the scanner knows of the path.
    pub(super) watched: Shared,
    pub(super) current: Option<Handle>,
    /// Handles of files rotated away, drained until quiet for `rotate_wait`.
    pub(super) retired: Vec<Handle>,
    /// The scanner's events taken but not acted on yet (a break can stop in the middle).
    pending: VecDeque<Event>,
    /// [`Notice::Disappeared`] was delivered and no file is at the path since.
    missing: bool,
    /// The last [`Notice::ReadError`] message, so it is not repeated.
    last_error: Option<String>,
}

impl Tail {
    pub(super) fn new(path: PathBuf, current: Option<Handle>, missing: bool) -> Tail {
        let watched = std::sync::Arc::new(std::sync::Mutex::new(scan::Watched::new(
            path.clone(),
            current.as_ref(),
        )));
        Tail {
            path,
            watched,
            current,
            retired: Vec::new(),
            pending: VecDeque::new(),
            missing,
            last_error: None,
        }
    }

    /// Looks at the path (as the scanner does), acts on the scanner's events in order, then
    /// drains the rotated files and the current one.
    pub(super) fn check(&mut self, cx: &mut Cx<'_, '_>) -> ControlFlow<()> {
        {
            let mut w = scan::lock(&self.watched);
            w.scan();
            w.take_events(&mut self.pending);
        }
        while let Some(ev) = self.pending.pop_front() {
            self.act(ev, cx)?;
        }

        // Old files first: their lines were most likely written before the new file's. One
        // that shrank was rewritten under its new name: what it holds now is not ours.
        let mut i = 0;
        while i < self.retired.len() {
            let h = &self.retired[i];
            if h.len().is_ok_and(|len| len < h.pos()) {
                self.retired.swap_remove(i);
                continue;
            }
            cx.drain(&self.path, &mut self.retired[i], &mut self.last_error)?;
            if self.retired[i].last_data().elapsed() >= cx.rotate_wait {
                self.retired.swap_remove(i);
            } else {
                i += 1;
            }
        }

        if let Some(h) = &mut self.current {
            cx.drain(&self.path, h, &mut self.last_error)?;
        }
        ControlFlow::Continue(())
    }

    /// Acts on one event of the scanner. On a break the event is put back, to be acted on
    /// again (draining is resumable).
    fn act(&mut self, ev: Event, cx: &mut Cx<'_, '_>) -> ControlFlow<()> {
        match ev {
            Event::Missing => {
                // Replaced in one go (gone, then a new file): reported as a replacement.
                let replaced = matches!(self.pending.front(), Some(Event::Opened(_)));
                if !self.missing && !replaced {
                    self.missing = true;
                    (cx.on_notice)(Notice::Disappeared(self.path.clone()));
                }
            }
            Event::Error(msg) => cx.report(&self.path, &mut self.last_error, msg),
            Event::Opened(h) => {
                if let Some(old) = &mut self.current
                    && cx.drain(&self.path, old, &mut self.last_error).is_break()
                {
                    self.pending.push_front(Event::Opened(h));
                    return ControlFlow::Break(());
                }
                self.switch_to(h, cx);
            }
            Event::Returned(id) => {
                self.last_error = None;
                self.missing = false;
                if self.current.as_ref().is_some_and(|h| h.id() == id) {
                    return ControlFlow::Continue(());
                }
                let Some(i) = self.retired.iter().position(|h| h.id() == id) else {
                    return ControlFlow::Continue(());
                };
                if let Some(old) = &mut self.current
                    && cx.drain(&self.path, old, &mut self.last_error).is_break()
                {
                    self.pending.push_front(Event::Returned(id));
                    return ControlFlow::Break(());
                }
                let back = self.retired.swap_remove(i);
                self.retire_current(back);
            }
        }
        ControlFlow::Continue(())
    }

    /// Makes the new file `h` the current one, the old one retired.
    fn switch_to(&mut self, h: Handle, cx: &mut Cx<'_, '_>) {
        self.last_error = None;
        let notice = if std::mem::replace(&mut self.missing, false) || self.current.is_none() {
            Notice::Appeared(self.path.clone())
        } else {
            Notice::Replaced(self.path.clone())
        };
        self.retire_current(h);
        (cx.on_notice)(notice);
    }

    /// Makes `h` current and moves the current handle, if any, to the retired ones.
    fn retire_current(&mut self, h: Handle) {
        if let Some(mut old) = self.current.replace(h) {
            old.retire();
            self.retired.push(old);
        }
    }
}

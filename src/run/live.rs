//! The terminal while a run goes on: each result line printed whole when its case ends, a
//! status line updated in place on a terminal (`RUNNING 1.59 … 23 s`), cleared before
//! anything else is printed, and without a terminal a whole line each time a case has run
//! another [`output::SLOW_AFTER`] (`uspcheck: 1.59 still running after 30 s`), so a CI log
//! shows what hangs. The run's other messages (the agent started, restarted, given up on)
//! go through [`notice`], and so do the harness's diagnostics ([`Diagnostics`], the writer of
//! its `tracing` events), so nothing lands in the middle of a line.

use std::io::{IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::output::{self, ColorChoice};
use crate::report::CaseOutcome;

/// Where a status line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn write(self, text: &str) {
        // A closed terminal or pipe is no reason to stop a run.
        let _ = match self {
            Stream::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(text.as_bytes()).and_then(|()| o.flush())
            }
            Stream::Stderr => {
                let mut e = std::io::stderr().lock();
                e.write_all(text.as_bytes()).and_then(|()| e.flush())
            }
        };
    }

    /// The terminal's width in columns (80 when it cannot be told).
    fn width(self) -> usize {
        let fd = match self {
            Stream::Stdout => std::io::stdout().as_raw_fd(),
            Stream::Stderr => std::io::stderr().as_raw_fd(),
        };
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ fills the winsize it is given; nothing else is touched.
        let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
        if ok && ws.ws_col > 0 {
            usize::from(ws.ws_col)
        } else {
            80
        }
    }
}

/// What is on the screen: the one lock every line of a run is printed under. Nothing may
/// emit a `tracing` event while holding it: the event's own line would wait for it.
struct Screen {
    /// The stream a status line is drawn on now, if one is.
    drawn: Option<Stream>,
    /// In tests: every write, in order, instead of the terminal.
    #[cfg(test)]
    captured: Option<Vec<(Stream, String)>>,
}

static SCREEN: Mutex<Screen> = Mutex::new(Screen {
    drawn: None,
    #[cfg(test)]
    captured: None,
});

fn screen() -> std::sync::MutexGuard<'static, Screen> {
    SCREEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Screen {
    fn write(&mut self, stream: Stream, text: &str) {
        #[cfg(test)]
        if let Some(c) = &mut self.captured {
            c.push((stream, text.to_string()));
            return;
        }
        stream.write(text);
    }

    fn clear(&mut self) {
        if let Some(s) = self.drawn.take() {
            self.write(s, "\r\x1b[2K");
        }
    }

    /// Whole lines (`text` ends with a newline), with the status line cleared first.
    fn lines(&mut self, stream: Stream, text: &str) {
        self.clear();
        self.write(stream, text);
    }
}

/// A whole line on standard error (the agent started, restarted or given up on; the
/// preflight; a signal), with the status line cleared first and drawn again at the next tick.
pub fn notice(line: &str) {
    screen().lines(Stream::Stderr, &format!("{line}\n"));
}

/// A whole line on standard output, under the same lock.
pub fn say(line: &str) {
    screen().lines(Stream::Stdout, &format!("{line}\n"));
}

/// Where the harness's diagnostics (its `tracing` events) are written: standard error, each
/// event whole under the lock of [`notice`], so one never lands in the middle of a result line
/// and the status line is cleared before it (and drawn again at the next tick).
#[derive(Debug, Clone, Copy, Default)]
pub struct Diagnostics;

/// One event as it is formatted; printed whole when the formatter lets it go.
pub struct DiagnosticLine(Vec<u8>);

impl Write for DiagnosticLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for DiagnosticLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let mut text = String::from_utf8_lossy(&self.0).into_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        screen().lines(Stream::Stderr, &text);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Diagnostics {
    type Writer = DiagnosticLine;

    fn make_writer(&'a self) -> DiagnosticLine {
        DiagnosticLine(Vec::new())
    }
}

/// The cases running now, for the status line and the still-running lines.
#[derive(Default)]
struct Running {
    cases: Vec<Case>,
    ended: usize,
    total: usize,
}

struct Case {
    id: String,
    name: String,
    since: Instant,
    /// The still-running lines printed for it so far.
    told: u32,
}

/// A run's console.
pub struct Live {
    color: bool,
    slow_after: Duration,
    /// The terminal a status line is drawn on; none: still-running lines instead.
    status: Option<Stream>,
    running: Mutex<Running>,
}

impl Live {
    /// A console for `total` cases; the status line goes to standard error if it is a
    /// terminal, else to standard output if that is one.
    pub fn new(color: ColorChoice, slow_after: Duration, total: usize) -> Live {
        let status = if std::io::stderr().is_terminal() {
            Some(Stream::Stderr)
        } else if std::io::stdout().is_terminal() {
            Some(Stream::Stdout)
        } else {
            None
        };
        Live {
            color: color.enabled(),
            slow_after,
            status,
            running: Mutex::new(Running {
                total,
                ..Running::default()
            }),
        }
    }

    pub fn color(&self) -> bool {
        self.color
    }

    pub fn slow_after(&self) -> Duration {
        self.slow_after
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Running> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A case began (nothing is printed now: its line comes whole when it ends).
    pub fn start(&self, id: &str, name: &str) {
        self.running().cases.push(Case {
            id: id.into(),
            name: name.into(),
            since: Instant::now(),
            told: 0,
        });
    }

    /// A case ended: its result line, whole, with the status line cleared first.
    pub fn result(&self, name: &str, o: &CaseOutcome) {
        let line = output::result_line(name, o, self.slow_after, self.color);
        let mut s = screen();
        {
            let mut r = self.running();
            r.cases.retain(|c| c.id != o.id);
            r.ended += 1;
        }
        s.lines(Stream::Stdout, &format!("{line}\n"));
    }

    /// Once a second or so while cases run: the status line drawn again, or the
    /// still-running lines of the cases that have run another `slow_after`.
    pub fn tick(&self) {
        let mut s = screen();
        let mut r = self.running();
        let counts = (r.cases.len(), r.ended, r.total);
        match self.status {
            Some(stream) => {
                s.clear();
                if let Some(c) = r.cases.iter().min_by_key(|c| c.since) {
                    let line = output::status_line(
                        &c.name,
                        c.since.elapsed(),
                        counts,
                        stream.width().saturating_sub(1),
                        self.color,
                    );
                    s.write(stream, &line);
                    s.drawn = Some(stream);
                }
            }
            None => {
                for c in &mut r.cases {
                    let next = self.slow_after * (c.told + 1);
                    if c.since.elapsed() >= next {
                        c.told += 1;
                        let line = output::still_running(&c.id, next);
                        s.write(Stream::Stdout, &format!("{line}\n"));
                    }
                }
            }
        }
    }

    /// The run is over: no status line stays behind.
    pub fn finish(&self) {
        screen().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Capture is global: one capturing test at a time.
    static CAPTURING: Mutex<()> = Mutex::new(());

    /// Runs `f` with every write of the screen captured, and returns the writes.
    fn captured(f: impl FnOnce()) -> Vec<(Stream, String)> {
        let _one = CAPTURING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        screen().captured = Some(Vec::new());
        f();
        let mut s = screen();
        s.drawn = None;
        s.captured.take().unwrap_or_default()
    }

    /// A console drawing its status line on standard error, as on a terminal.
    fn on_a_terminal() -> Live {
        Live {
            color: false,
            slow_after: Duration::from_secs(30),
            status: Some(Stream::Stderr),
            running: Mutex::new(Running {
                total: 2,
                ..Running::default()
            }),
        }
    }

    const CLEAR: &str = "\r\x1b[2K";

    /// The writes never corrupt a line: a status line (it has no newline) is followed by its
    /// clearing before anything else is written, and everything else is whole lines.
    fn assert_whole(writes: &[(Stream, String)]) {
        for (i, (stream, text)) in writes.iter().enumerate() {
            if text.starts_with("RUNNING") {
                assert_eq!(
                    writes.get(i + 1).map(|(s, t)| (*s, t.as_str())),
                    Some((*stream, CLEAR)),
                    "a status line not cleared first: {writes:?}"
                );
            } else if text != CLEAR {
                assert!(text.ends_with('\n'), "not a whole line: {text:?}");
            }
        }
    }

    #[test]
    fn a_diagnostic_clears_the_status_line_and_is_printed_whole() {
        let live = on_a_terminal();
        let subscriber = super::super::diag::subscriber("uspcheck=debug").unwrap();
        let writes = captured(|| {
            live.start("9.1", "9.1 slow case");
            live.tick();
            tracing::subscriber::with_default(subscriber, || {
                tracing::debug!(case = "9.1", peer = "127.0.0.1:5", "a diagnostic");
            });
            live.tick();
            live.finish();
        });
        let status = writes
            .iter()
            .position(|(_, t)| t.starts_with("RUNNING 9.1 slow case"))
            .expect("the status line was drawn");
        let event = writes
            .iter()
            .position(|(_, t)| t.contains("a diagnostic"))
            .expect("the event was printed");
        assert!(status < event);
        assert_eq!(writes[status + 1], (Stream::Stderr, CLEAR.to_string()));
        let (stream, line) = &writes[event];
        assert_eq!(*stream, Stream::Stderr);
        assert_eq!(line.matches('\n').count(), 1, "one line: {line:?}");
        assert!(line.ends_with('\n'));
        assert!(line.contains("DEBUG"), "{line:?}");
        assert!(
            line.contains(r#"case="9.1" peer="127.0.0.1:5""#),
            "{line:?}"
        );
        assert!(!line.contains('\x1b'), "no colour: {line:?}");
        assert_whole(&writes);
    }

    #[test]
    fn diagnostics_from_many_threads_never_land_inside_another_line() {
        let live = on_a_terminal();
        let dispatch =
            tracing::Dispatch::new(super::super::diag::subscriber("uspcheck=info").unwrap());
        let writes = captured(|| {
            live.start("9.2", "9.2 long case");
            std::thread::scope(|s| {
                for t in 0..4 {
                    let dispatch = dispatch.clone();
                    s.spawn(move || {
                        tracing::dispatcher::with_default(&dispatch, || {
                            for i in 0..50 {
                                tracing::info!(thread = t, i, "event {t}/{i} of a long text");
                                std::thread::sleep(Duration::from_micros(200));
                            }
                        });
                    });
                }
                s.spawn(|| {
                    for _ in 0..100 {
                        live.tick();
                        std::thread::sleep(Duration::from_micros(100));
                    }
                });
            });
            live.finish();
        });
        let events = writes
            .iter()
            .filter(|(_, t)| t.contains("of a long text"))
            .count();
        assert_eq!(events, 200);
        assert_whole(&writes);
    }
}

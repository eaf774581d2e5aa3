//! The terminal while a run goes on: each result line printed whole when its case ends, a
//! status line updated in place on a terminal (`RUNNING 1.59 … 23 s`), cleared before
//! anything else is printed, and without a terminal a whole line each time a case has run
//! another [`output::SLOW_AFTER`] (`uspcheck: 1.59 still running after 30 s`), so a CI log
//! shows what hangs. The run's other messages (the agent started, restarted, given up on)
//! go through [`notice`], so nothing lands in the middle of a line.

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

/// What is on the screen: the one lock every line of a run is printed under.
struct Screen {
    /// The stream a status line is drawn on now, if one is.
    drawn: Option<Stream>,
}

static SCREEN: Mutex<Screen> = Mutex::new(Screen { drawn: None });

fn screen() -> std::sync::MutexGuard<'static, Screen> {
    SCREEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Screen {
    fn clear(&mut self) {
        if let Some(s) = self.drawn.take() {
            s.write("\r\x1b[2K");
        }
    }
}

/// A whole line on standard error (the agent started, restarted or given up on; the
/// preflight; a signal), with the status line cleared first and drawn again at the next tick.
pub fn notice(line: &str) {
    let mut s = screen();
    s.clear();
    Stream::Stderr.write(&format!("{line}\n"));
}

/// A whole line on standard output, under the same lock.
pub fn say(line: &str) {
    let mut s = screen();
    s.clear();
    Stream::Stdout.write(&format!("{line}\n"));
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
        s.clear();
        Stream::Stdout.write(&format!("{line}\n"));
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
                    stream.write(&line);
                    s.drawn = Some(stream);
                }
            }
            None => {
                for c in &mut r.cases {
                    let next = self.slow_after * (c.told + 1);
                    if c.since.elapsed() >= next {
                        c.told += 1;
                        Stream::Stdout.write(&format!("{}\n", output::still_running(&c.id, next)));
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

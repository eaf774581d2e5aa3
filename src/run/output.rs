//! The text a run prints, as pure functions of the outcomes (so it can be compared with the
//! snapshots in `tests/snapshots/`): the result lines, the failures' texts, the list of
//! failures and errors again at the end, one line each, and the colours of the verdict words.
//! [`super::live`] writes them to the terminal.

use std::io::IsTerminal;
use std::time::Duration;

use crate::report::{CaseOutcome, Verdict};

/// `--color`: whether the verdict words are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Colour, even into a pipe or a file.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour, for this process's standard output.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// A case running at least this long is marked `[SLOW 64.2 s]` on its result line, and,
/// without a terminal, said to be still running each time this much more has passed.
pub const SLOW_AFTER: Duration = Duration::from_secs(30);

/// ANSI styles of the words that carry a verdict.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    Green,
    Red,
    Magenta,
    Yellow,
    Cyan,
    Dim,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Green => "32",
            Style::Red => "1;31",
            Style::Magenta => "1;35",
            Style::Yellow => "33",
            Style::Cyan => "1;36",
            Style::Dim => "2",
        }
    }
}

/// `text` in `style` when `color`, as it is otherwise.
pub fn paint(text: &str, style: Style, color: bool) -> String {
    if color {
        format!("\x1b[{}m{text}\x1b[0m", style.code())
    } else {
        text.to_string()
    }
}

/// The word a verdict has on its result line.
pub fn result_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "ok",
        Verdict::Fail => "FAILED",
        Verdict::Error => "ERROR",
        Verdict::NotApplicable => "not applicable",
        Verdict::Skipped => "skipped",
    }
}

fn verdict_style(v: Verdict) -> Style {
    match v {
        Verdict::Pass => Style::Green,
        Verdict::Fail => Style::Red,
        Verdict::Error => Style::Magenta,
        Verdict::NotApplicable | Verdict::Skipped => Style::Dim,
    }
}

/// `running 3 tests (118 skipped)`: the cases that get a result line, and those that do not.
pub fn header(running: usize, skipped: usize) -> String {
    let mut s = format!(
        "running {running} test{}",
        if running == 1 { "" } else { "s" }
    );
    if skipped > 0 {
        s.push_str(&format!(" ({skipped} skipped)"));
    }
    s
}

/// `test 1.20 Title ... ok`, `... not applicable (why)`, `... FAILED [SLOW 64.2 s]`: printed
/// whole when the case ends. `name` is the case's id and title as [`super::runner`] shows it.
pub fn result_line(name: &str, o: &CaseOutcome, slow_after: Duration, color: bool) -> String {
    let v = o.verdict();
    let mut s = format!(
        "test {name} ... {}",
        paint(result_word(v), verdict_style(v), color)
    );
    if let Some(reason) = o.reason() {
        s.push_str(&format!(" ({reason})"));
    }
    let took = Duration::from_millis(o.duration_ms);
    if took >= slow_after {
        let slow = format!("[SLOW {:.1} s]", took.as_secs_f64());
        s.push_str(&format!(" {}", paint(&slow, Style::Yellow, color)));
    }
    s
}

/// `uspcheck: 1.59 still running after 60 s`: a whole line, for logs without a status line.
pub fn still_running(id: &str, after: Duration) -> String {
    format!("uspcheck: {id} still running after {} s", after.as_secs())
}

/// `RUNNING 1.59 Title 23 s (8 running, 42/121 ended)`, cut to `width` characters: the
/// status line a terminal shows while cases run.
pub fn status_line(
    name: &str,
    running_for: Duration,
    (running, ended, total): (usize, usize, usize),
    width: usize,
    color: bool,
) -> String {
    let rest = format!(
        " {name} {} s ({running} running, {ended}/{total} ended)",
        running_for.as_secs()
    );
    let room = width.saturating_sub("RUNNING".len());
    let rest: String = rest.chars().take(room).collect();
    format!("{}{rest}", paint("RUNNING", Style::Cyan, color))
}

/// `the run took 141.2 s; its longest case, 1.59, 120.1 s`: how close the run came to its
/// floor (no run can end before its longest case).
pub fn timing(took: Duration, ended: &[CaseOutcome]) -> String {
    let mut s = format!("the run took {:.2} s", took.as_secs_f64());
    if let Some(o) = ended.iter().max_by_key(|o| o.duration_ms) {
        s.push_str(&format!(
            "; its longest case, {}, {:.2} s",
            o.id,
            o.duration_ms as f64 / 1000.0
        ));
    }
    s
}

/// Every failure's and error's whole text (step, metric, expected, actual, decoded, hex), in
/// id order; empty when there is none.
pub fn details(ended: &[CaseOutcome]) -> String {
    let bad = failures_by_id(ended);
    if bad.is_empty() {
        return String::new();
    }
    let mut s = String::from("\nfailures and errors:\n\n");
    for o in bad {
        s.push_str(&format!("---- {} {} ----\n", o.id, o.title));
        if let Some(text) = o.failure_text() {
            s.push_str(&format!("{}: {text}\n\n", result_word(o.verdict())));
        }
    }
    s
}

/// The failures and errors again, one line each (`FAILED 1.41 Title: step: message`), in id
/// order: what the end of a run shows just above its summary line. Empty when there is none.
pub fn recap(cases: &[CaseOutcome], color: bool) -> String {
    let bad = failures_by_id(cases);
    if bad.is_empty() {
        return String::new();
    }
    let mut s = format!("\nfailures and errors ({}):\n", bad.len());
    for o in bad {
        let v = o.verdict();
        let word = format!("{:<6}", result_word(v));
        s.push_str(&format!(
            "    {} {} {}: {}\n",
            paint(&word, verdict_style(v), color),
            o.id,
            o.title,
            one_line(o)
        ));
    }
    s
}

/// The most characters of a failure's message the recap shows.
pub const REASON_CHARS: usize = 160;

/// The failure's step and message on one line: its first line, cut to [`REASON_CHARS`].
pub fn one_line(o: &CaseOutcome) -> String {
    let Some(f) = o.failure() else {
        return o.reason().unwrap_or_default().to_string();
    };
    let full = format!("{}: {}", f.step, f.message);
    let first = full.lines().next().unwrap_or_default();
    let mut cut: String = first.chars().take(REASON_CHARS).collect();
    if cut.len() < full.len() {
        cut.push('…');
    }
    cut
}

fn failures_by_id(cases: &[CaseOutcome]) -> Vec<&CaseOutcome> {
    let mut bad: Vec<&CaseOutcome> = cases
        .iter()
        .filter(|o| matches!(o.verdict(), Verdict::Fail | Verdict::Error))
        .collect();
    bad.sort_by_key(|o| crate::suite::case::id_key(&o.id));
    bad
}

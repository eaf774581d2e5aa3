//! Runs the selected cases, some at a time (with the built-in agent the longest first, see
//! [`schedule`]), printing one whole line per case as it ends, the way `cargo test` does,
//! with the verdict's own word (`ok`, `FAILED`, `ERROR`, `not applicable`; [`live`] and
//! [`output`]), and stops them on SIGINT or SIGTERM so the reports can still be written for
//! the cases that ended.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::Instrument;

use super::live::{self, Live};
use super::preflight::{self, Preflight};
use super::{Options, Target, not_applicable, output, process, run_one, schedule};
use crate::report::model::{Outcome, PartitionReport};
use crate::report::{CaseOutcome, Failure, RunReport};
use crate::suite::{Case, select};

/// How often the status line is drawn again (and still-running cases looked at).
const TICK: Duration = Duration::from_secs(1);

/// The signal that stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// The exit code of a run it stopped: 128 + the signal's number, as shells report it.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// A run's machinery: its runtime, its target, and the signal that stopped it, if one did.
pub struct Runner {
    runtime: tokio::runtime::Runtime,
    target: Arc<Target>,
    stopped: watch::Receiver<Option<Signal>>,
}

impl Runner {
    /// A runner for `target`, listening for SIGINT and SIGTERM from now on: the first stops
    /// the running cases (see [`Runner::run`]); a second exits at once, killing whatever a
    /// start command launched.
    pub fn new(target: Arc<Target>) -> std::io::Result<Runner> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (tx, stopped) = watch::channel(None);
        let (mut int, mut term) = {
            let _in = runtime.enter();
            (
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            )
        };
        runtime.spawn(async move {
            let first = tokio::select! {
                _ = int.recv() => Signal::Interrupt,
                _ = term.recv() => Signal::Terminate,
            };
            live::notice(&format!(
                "uspcheck: {} received: stopping the running cases, then writing the reports \
                 (a second signal exits at once)",
                first.name()
            ));
            tx.send_replace(Some(first));
            let second = tokio::select! {
                _ = int.recv() => Signal::Interrupt,
                _ = term.recv() => Signal::Terminate,
            };
            process::kill_all_started();
            live::notice(&format!(
                "uspcheck: {} received again: exiting now; the reports may be incomplete",
                second.name()
            ));
            std::process::exit(second.exit_code().into());
        });
        Ok(Runner {
            runtime,
            target,
            stopped,
        })
    }

    /// Before the first case against a profile's agent: connects once and compares the
    /// Endpoint IDs it presents with the profile's ([`preflight::check`]), saying what it
    /// found. `Err` is the configuration error that must stop the run; a signal ends it too,
    /// and the run then reports every case as not run.
    pub fn preflight(&self) -> Result<(), String> {
        if self.target.parallel() {
            return Ok(());
        }
        live::notice(
            "uspcheck: preflight: connecting to the agent to compare its Endpoint IDs with the \
             profile's",
        );
        let mut stopped = self.stopped.clone();
        let found = self.runtime.block_on(async {
            tokio::select! {
                p = preflight::check(&self.target) => Some(p),
                _ = stopped.wait_for(Option::is_some) => None,
            }
        });
        match found {
            Some(Preflight::Mismatch(text)) => Err(format!(
                "the EUT profile does not name the agent's Endpoint IDs (found by the \
                 preflight; --no-preflight skips it):\n{text}"
            )),
            Some(Preflight::Matches(what)) => {
                live::notice(&format!("uspcheck: preflight: {what}, as the profile says"));
                Ok(())
            }
            Some(Preflight::Unchecked(why)) => {
                live::notice(&format!("uspcheck: preflight: nothing compared: {why}"));
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The signal that stopped the run, if one did.
    pub fn interrupted(&self) -> Option<Signal> {
        *self.stopped.borrow()
    }

    /// Runs the cases, `opts.test_threads` at a time, and returns the report of the run. After
    /// a signal the running cases end as errors saying so, and those not begun are skipped.
    pub fn run(&self, cases: Vec<Case>, opts: &Options) -> RunReport {
        let target = &self.target;
        let mtp = target.describe_mtp();
        let mut outcomes = Vec::new();
        let mut queue = VecDeque::new();
        let n = opts.partition.map_or(1, |p| p.n);
        let holders = select::holders(&cases, &opts.filters, n);
        let partition = opts.partition.map(|p| PartitionReport {
            k: p.k,
            n: p.n,
            selection: select::selection(&cases, &opts.filters)
                .into_iter()
                .map(|i| cases[i].id.clone())
                .collect(),
        });
        for (case, holder) in cases.into_iter().zip(holders) {
            let reason = match (holder, opts.partition) {
                (None, _) => "not selected by the filters".to_string(),
                (Some(j), Some(p)) if j != p.k => {
                    format!("in partition {j}/{n}, which another run holds (this is {p})")
                }
                _ => {
                    queue.push_back(case);
                    continue;
                }
            };
            outcomes.push(CaseOutcome::new(&case, &mtp, Outcome::Skipped { reason }));
        }
        if let (Some(p), Some(r)) = (opts.partition, &partition) {
            live::say(&p.describe(r.selection.len()));
        }
        let threads = opts
            .test_threads
            .unwrap_or(if target.parallel() { 8 } else { 1 })
            .max(1);
        if threads > 1 {
            schedule::longest_first(queue.make_contiguous());
        }
        let live = Live::new(opts.color, opts.slow_after, queue.len());
        live::say(&format!(
            "\n{}",
            output::header(queue.len(), outcomes.len())
        ));
        let began = Instant::now();
        let (queue, ended) = (Mutex::new(queue), Mutex::new(Vec::new()));
        let (tick, ticks) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads
                .min(queue.lock().expect("not poisoned").len().max(1)))
                .map(|_| {
                    s.spawn(|| {
                        loop {
                            // The queue's lock is let go before the case runs (a `while let`
                            // would hold it through the loop's body: one case at a time).
                            let next = queue.lock().expect("not poisoned").pop_front();
                            let Some(case) = next else { break };
                            let o = self.run_case(&case, &live);
                            ended.lock().expect("not poisoned").push(o);
                        }
                    })
                })
                .collect();
            // The status line (or the still-running lines) until the last case ends: the
            // ticker stops when the sender below goes.
            let live = &live;
            s.spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = ticks.recv_timeout(TICK)
                {
                    live.tick();
                }
            });
            for w in workers {
                if let Err(panic) = w.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            drop(tick);
        });
        live.finish();
        let mut ended = ended.into_inner().expect("not poisoned");
        if !opts.quiet {
            print!("{}", output::details(&ended));
        }
        println!("\n{}", output::timing(began.elapsed(), &ended));
        outcomes.append(&mut ended);
        outcomes.sort_by_key(|o| crate::suite::case::id_key(&o.id));
        RunReport {
            tool: format!("uspcheck {}", env!("CARGO_PKG_VERSION")),
            tp469: crate::TP469_VERSION.into(),
            eut: target.describe(),
            eut_endpoint_id: target.eut_id(),
            extended_suite: target.is_extended().then(|| {
                "extended suite: TP-469 cases run over the UDS MTP, which TP-469 1.4.0 does not \
                 cover; these are not certification results"
                    .to_string()
            }),
            interrupted: self.interrupted().map(|s| {
                format!(
                    "the run was stopped by {}: only the cases that ended before it have \
                     verdicts",
                    s.name()
                )
            }),
            started: super::started_at(began),
            partition,
            cases: outcomes,
        }
    }

    /// One case, printed as it ends; stopped where it stands when a signal comes. Its
    /// diagnostics, and those of the links and the built-in agent it opens, are in a `case`
    /// span with its id.
    fn run_case(&self, case: &Case, live: &Live) -> CaseOutcome {
        let span = tracing::info_span!("case", id = %case.id);
        let o = self.run_case_in(case, live, &span);
        let why = output::one_line(&o);
        span.in_scope(|| {
            tracing::info!(
                verdict = %o.verdict().as_str(),
                duration_ms = o.duration_ms,
                why = (!why.is_empty()).then_some(why.as_str()),
                "case ended"
            );
        });
        o
    }

    fn run_case_in(&self, case: &Case, live: &Live, span: &tracing::Span) -> CaseOutcome {
        let mtp = self.target.describe_mtp();
        let name = case_line_name(case);
        if let Some(sig) = self.interrupted() {
            let reason = format!("not run: the run was stopped by {}", sig.name());
            return CaseOutcome::new(case, &mtp, Outcome::Skipped { reason });
        }
        if let Some(reason) = not_applicable(case, &self.target) {
            let o = CaseOutcome::new(case, &mtp, Outcome::NotApplicable { reason });
            live.result(&name, &o);
            return o;
        }
        span.in_scope(|| {
            tracing::info!(
                title = case.title.as_str(),
                mtp = mtp.as_str(),
                "case started"
            )
        });
        live.start(&case.id, &name);
        let began = Instant::now();
        let mut stopped = self.stopped.clone();
        let o = self.runtime.block_on(async {
            tokio::select! {
                o = run_one(case, &self.target) => o,
                sig = stopped.wait_for(Option::is_some) => {
                    let sig = sig.ok().and_then(|s| *s).map_or("a signal", Signal::name);
                    let failure = Failure {
                        step: "interrupted".into(),
                        message: format!(
                            "the run was stopped by {sig} while this case ran: it has no verdict"
                        ),
                        ..Default::default()
                    };
                    CaseOutcome {
                        duration_ms: began.elapsed().as_millis() as u64,
                        ..CaseOutcome::new(case, &mtp, Outcome::Error { failure })
                    }
                }
            }
        }.instrument(span.clone()));
        live.result(&name, &o);
        o
    }

    /// Stops the agent the run started and what it needs, in order (see
    /// [`Target::shutdown`]); the runtime goes last.
    pub fn shutdown(self) {
        self.runtime.block_on(self.target.shutdown());
    }
}

/// The name a case has on its result line; a deliberate departure from the plan shows there.
fn case_line_name(case: &Case) -> String {
    if case.deviations.is_empty() {
        format!("{} {}", case.id, case.title)
    } else {
        format!(
            "{} {} [deviates from TP-469: see the report]",
            case.id, case.title
        )
    }
}

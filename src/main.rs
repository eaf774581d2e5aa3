//! The `uspcheck` command: run the TP-469 suite, list or check cases, or start the
//! reference agent.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use uspcheck::agent::run::{Dial, Listener, MqttDial};
use uspcheck::agent::{self, AgentConfig, Fault};
use uspcheck::mtp::mqtt::Version;
use uspcheck::mtp::{uds, websocket};
use uspcheck::report::{self, RunReport, exit};
use uspcheck::run::{self, Target, target};
use uspcheck::suite::select::{self, Filter};
use uspcheck::suite::{self, Case, LoadError, profile::Profile};

#[derive(Parser)]
#[command(
    name = "uspcheck",
    version = uspcheck::VERSION,
    about = "Conformance test harness for USP Agents (TR-369), running the TP-469 test plan",
    after_help = "Exit codes: 0 all passed, 1 failures, 2 usage error, 3 bad case or profile file (or a profile whose Endpoint IDs the agent contradicts), 4 errors only (environment), 130 stopped by SIGINT, 143 stopped by SIGTERM (the reports of the cases that ended are written)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Diagnostics on standard error: -v what the harness does case by case, -vv its
    /// connections and handshakes, -vvv every record. RUST_LOG, when set, decides instead
    /// (`RUST_LOG=uspcheck::mtp=debug`). `agent` starts one level up.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Run TP-469 cases (all, or those matching the filters) against an agent.
    Run {
        /// Case ids (`1.20`), ranges (`1.1-1.58`), sections (`1`) or words of titles;
        /// none runs everything. A filter that selects no case is a usage error.
        filters: Vec<Filter>,
        /// The EUT profile; without it the built-in reference agent is tested.
        #[arg(long)]
        eut: Option<PathBuf>,
        /// A folder of case files instead of the cases built into the binary.
        #[arg(long)]
        cases: Option<PathBuf>,
        /// Where reports go (junit.xml, uspcheck.json, index.html).
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
        /// List the selected cases without running them.
        #[arg(long)]
        list: bool,
        /// Cases run at once (the built-in agent allows many; a profile's agent one).
        #[arg(long)]
        test_threads: Option<usize>,
        /// With the built-in agent: give it this fault (repeatable), to see cases fail.
        #[arg(long = "fault")]
        faults: Vec<String>,
        /// With the built-in agent: the MTP to test over (uds runs are an extended suite:
        /// TP-469 has no UDS section; mqtt and mqtt311 go through the embedded broker).
        #[arg(long, value_enum)]
        mtp: Option<MtpArg>,
        /// No failure texts: the result lines, the failures and errors again one line each,
        /// and the summary.
        #[arg(short, long)]
        quiet: bool,
        /// Colour the verdict words: auto colours when standard output is a terminal and
        /// NO_COLOR is unset. Reports are never coloured.
        #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
        color: run::output::ColorChoice,
        /// A case running this long is marked `[SLOW 64.2 s]` on its result line and, without
        /// a terminal, said to be still running each time this much more has passed.
        #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = slow_after)]
        slow_after: std::time::Duration,
        /// With --eut: do not connect once before the first case to compare the Endpoint IDs
        /// the agent presents with the profile's.
        #[arg(long)]
        no_preflight: bool,
        /// Run only share K of N of the selection, for CI's parallel jobs: case i of the
        /// selection (in id order, from 0) is in partition i mod N + 1. Join the parts'
        /// reports with `uspcheck merge`.
        #[arg(long, value_name = "K/N")]
        partition: Option<select::Partition>,
    },
    /// Join the JSON reports of a run's partitions (`run --partition K/N`) into one
    /// junit.xml, uspcheck.json and index.html; exits as `run` would on the joined verdicts.
    Merge {
        /// Where the joined reports go.
        #[arg(long)]
        out: PathBuf,
        /// The partitions' uspcheck.json files.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
    /// Write the results page (Markdown) from runs' JSON reports: verdict per case per run
    /// and every failure's reason.
    Results {
        /// A run as LABEL=FILE (FILE is a run's uspcheck.json); repeatable, one column each.
        #[arg(long = "run", required = true)]
        runs: Vec<String>,
        /// The page title.
        #[arg(long, default_value = "uspcheck results")]
        title: String,
        /// Where to write the page (stdout if absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a commented starter EUT profile: every field, TP-469's feature table to tick,
    /// and what the agent must be provisioned with.
    Init {
        /// The MTP the agent is tested over.
        #[arg(long, value_enum, default_value = "websocket")]
        mtp: MtpArg,
        /// listen: uspcheck listens and the agent connects (over MQTT: uspcheck's embedded
        /// broker); connect: uspcheck connects to the agent (over MQTT: to your broker).
        #[arg(long, visible_alias = "role", value_enum, default_value = "listen")]
        mode: ModeArg,
        /// Where to write it (`-`: standard output).
        #[arg(long, default_value = "eut.yaml")]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Check that case files load (file:line:column for every problem).
    Check {
        #[arg(long)]
        cases: Option<PathBuf>,
    },
    /// Start the reference agent (by default a WebSocket server on 127.0.0.1:8081).
    Agent {
        /// Connect to a controller's WebSocket server at this URL (ws://host:port/path).
        #[arg(long, group = "role")]
        connect: Option<String>,
        /// Be the WebSocket server, listening on this address (127.0.0.1:8081).
        #[arg(long, group = "role")]
        listen: Option<String>,
        /// Connect to a controller's Unix domain socket at this path.
        #[arg(long, group = "role")]
        connect_uds: Option<PathBuf>,
        /// Be the UDS server at this path.
        #[arg(long, group = "role")]
        listen_uds: Option<PathBuf>,
        /// Connect to the MQTT broker at host:port as an MQTT client (the agent's
        /// Device.MQTT.Client.1.; a profile with `mqtt:` reaches it through that broker).
        #[arg(long, group = "role")]
        mqtt: Option<String>,
        /// With --mqtt: the MQTT version, 5.0 or 3.1.1.
        #[arg(long, default_value = "5.0", value_parser = ["5.0", "3.1.1"])]
        mqtt_version: String,
        /// With --mqtt: the agent's own Topic (ResponseTopicConfigured).
        #[arg(long, default_value = "usp/agent/uspcheck-ref")]
        agent_topic: String,
        /// With --mqtt: the Controller's Topic.
        #[arg(long, default_value = "usp/controller/uspcheck")]
        controller_topic: String,
        /// With --mqtt: the ClientId (empty lets a 5.0 broker assign one).
        #[arg(long, default_value = "uspcheck-ref-agent")]
        client_id: String,
        #[arg(long, default_value = target::BUILTIN_AGENT_ID)]
        endpoint_id: String,
        /// The controller it trusts.
        #[arg(long, default_value = target::DEFAULT_CONTROLLER_ID)]
        controller_id: String,
        /// A named fault (repeatable); `--fault list` lists them.
        #[arg(long = "fault")]
        faults: Vec<String>,
    },
}

/// The built-in agent's MTP.
#[derive(Clone, Copy, clap::ValueEnum)]
enum MtpArg {
    Websocket,
    Uds,
    /// MQTT 5.0 through the embedded broker.
    Mqtt,
    /// MQTT 3.1.1 through the embedded broker.
    Mqtt311,
}

/// Who opens the connection, for `init`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Listen,
    Connect,
}

/// One glibc malloc arena for the whole process instead of one per thread that allocates.
/// A decoded answer of megabytes is built on one tokio worker and freed on another; with
/// arenas per thread, each keeps the pages it once held and the resident size grows to
/// about twice the heap (measured with `cargo bench --bench hostile -- --fault
/// bulky-answers`: 127 MB against 84 MB for TP-469 section 1). uspcheck's threads wait on
/// the network far more than they allocate, so sharing one arena costs nothing measurable.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter, before any thread has been started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn main() -> ExitCode {
    one_malloc_arena();
    let cli = Cli::parse();
    // The reference agent is a server: what it does is all it shows, so it logs its
    // connections (info) without being asked.
    let agent = matches!(cli.command, Command::Agent { .. });
    run::diag::init(cli.verbose.saturating_add(u8::from(agent)));
    match cli.command {
        Command::Init {
            mtp,
            mode,
            out,
            force,
        } => init(mtp, mode, &out, force),
        Command::Run {
            filters,
            eut,
            cases,
            report_dir,
            list,
            test_threads,
            faults,
            mtp,
            quiet,
            color,
            slow_after,
            partition,
            no_preflight,
        } => {
            if test_threads == Some(0) {
                eprintln!("error: --test-threads must be at least 1");
                return ExitCode::from(exit::USAGE);
            }
            let cases = match load_cases(cases) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let none = select::unmatched(&cases, &filters);
            if !none.is_empty() {
                let none: Vec<String> = none.iter().map(|f| format!("`{f}`")).collect();
                eprintln!(
                    "error: no case matches {} (give case ids like 1.20, ranges like 1.1-1.58, \
                     sections like 1, or words of titles; `--list` shows the cases)",
                    none.join(", ")
                );
                return ExitCode::from(exit::USAGE);
            }
            let target = match (eut, faults) {
                (Some(path), f) => {
                    if !f.is_empty() {
                        eprintln!(
                            "error: --fault applies to the built-in agent only, not to --eut"
                        );
                        return ExitCode::from(exit::USAGE);
                    }
                    if mtp.is_some() {
                        eprintln!(
                            "error: --mtp applies to the built-in agent only; with --eut the \
                             profile says how to reach the agent"
                        );
                        return ExitCode::from(exit::USAGE);
                    }
                    match Profile::load(&path) {
                        Ok(p) => Target::from_profile(p),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return ExitCode::from(exit::BAD_INPUT);
                        }
                    }
                }
                (None, f) => match parse_faults(&f) {
                    Ok(faults) => Target::BuiltIn {
                        faults,
                        mtp: match mtp.unwrap_or(MtpArg::Websocket) {
                            MtpArg::Websocket => target::BuiltinMtp::WebSocket,
                            MtpArg::Uds => target::BuiltinMtp::Uds,
                            MtpArg::Mqtt => target::BuiltinMtp::Mqtt(Version::V5),
                            MtpArg::Mqtt311 => target::BuiltinMtp::Mqtt(Version::V311),
                        },
                    },
                    Err(code) => return code,
                },
            };
            let opts = run::Options {
                filters,
                partition,
                test_threads,
                list,
                quiet,
                color,
                slow_after,
            };
            if list {
                print!("{}", run::listing(&cases, &target, &opts));
                return ExitCode::from(exit::OK);
            }
            if let Err(e) = report::prepare_dir(&report_dir) {
                eprintln!("error: {e} (give a folder you can write with --report-dir)");
                return ExitCode::from(exit::USAGE);
            }
            let log = report_dir.join(run::agent_log::FILE);
            let target = match target.with_agent_log(&log) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", log.display());
                    return ExitCode::from(exit::USAGE);
                }
            };
            let runner = match run::Runner::new(Arc::new(target)) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the run: {e}");
                    return ExitCode::from(exit::ERRORS);
                }
            };
            if !no_preflight && let Err(e) = runner.preflight() {
                eprintln!("error: {e}");
                runner.shutdown();
                return ExitCode::from(exit::BAD_INPUT);
            }
            let report = runner.run(cases, &opts);
            let code = finish(&report, &report_dir, color.enabled());
            // The reports are out; now the agent a start command launched is stopped (and
            // waited for), then the servers and broker it used.
            let stopped_by = runner.interrupted();
            runner.shutdown();
            match stopped_by {
                Some(signal) => ExitCode::from(signal.exit_code()),
                None => code,
            }
        }
        Command::Results { runs, title, out } => results_page(&runs, &title, out.as_deref()),
        Command::Merge { out, reports } => merge(&out, &reports),
        Command::Check { cases } => match load_cases(cases) {
            Ok(c) => {
                println!("{} case files load", c.len());
                ExitCode::from(exit::OK)
            }
            Err(code) => code,
        },
        Command::Agent {
            connect,
            listen,
            connect_uds,
            listen_uds,
            mqtt,
            mqtt_version,
            agent_topic,
            controller_topic,
            client_id,
            endpoint_id,
            controller_id,
            faults,
        } => {
            let faults = match parse_faults(&faults) {
                Ok(f) => f,
                Err(code) => return code,
            };
            let cfg = AgentConfig {
                endpoint_id,
                controller_id,
                faults,
                software_version: env!("CARGO_PKG_VERSION").into(),
            };
            let rt = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
            if let Some(broker) = mqtt {
                let dial = MqttDial {
                    broker,
                    version: if mqtt_version == "3.1.1" {
                        Version::V311
                    } else {
                        Version::V5
                    },
                    agent_topic,
                    controller_topic,
                    client_id,
                    credentials: None,
                };
                eprintln!(
                    "uspcheck agent {} is an MQTT client of {}",
                    cfg.endpoint_id, dial.broker
                );
                rt.block_on(agent::run::client(Dial::Mqtt(dial), cfg));
                return ExitCode::from(exit::OK);
            }
            rt.block_on(run_agent(connect, listen, connect_uds, listen_uds, cfg))
        }
    }
}

/// Runs the reference agent in the role the command line chose, until it is stopped.
async fn run_agent(
    connect: Option<String>,
    listen: Option<String>,
    connect_uds: Option<PathBuf>,
    listen_uds: Option<PathBuf>,
    cfg: AgentConfig,
) -> ExitCode {
    let listener = match (connect, connect_uds, listen_uds) {
        (Some(url), _, _) => {
            agent::run::client(Dial::WebSocket(url), cfg).await;
            return ExitCode::from(exit::OK);
        }
        (_, Some(path), _) => {
            agent::run::client(Dial::Uds(path), cfg).await;
            return ExitCode::from(exit::OK);
        }
        (_, _, Some(path)) => uds::Server::bind(&path, &cfg.endpoint_id)
            .map(Listener::Uds)
            .map_err(|e| format!("cannot listen on {}: {e}", path.display())),
        _ => {
            let addr = listen.unwrap_or_else(|| "127.0.0.1:8081".into());
            websocket::Server::bind(&addr, &cfg.endpoint_id)
                .await
                .map(Listener::WebSocket)
                .map_err(|e| format!("cannot listen on {addr}: {e}"))
        }
    };
    match listener {
        Ok(l) => {
            eprintln!("uspcheck agent {} is serving", cfg.endpoint_id);
            agent::run::server(l, cfg).await;
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::ERRORS)
        }
    }
}

fn results_page(runs: &[String], title: &str, out: Option<&std::path::Path>) -> ExitCode {
    let mut loaded = Vec::new();
    for r in runs {
        let Some((label, file)) = r.split_once('=') else {
            eprintln!("error: --run takes LABEL=FILE, got {r:?}");
            return ExitCode::from(exit::USAGE);
        };
        match report::json::read(std::path::Path::new(file)) {
            Ok(rep) => loaded.push((label.to_string(), rep)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::BAD_INPUT);
            }
        }
    }
    let page = report::markdown::render(title, &loaded);
    match out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, page) {
                eprintln!("error: cannot write {}: {e}", p.display());
                return ExitCode::from(exit::ERRORS);
            }
        }
        None => print!("{page}"),
    }
    ExitCode::from(exit::OK)
}

/// `uspcheck merge`: reads the parts, refuses parts of different runs (usage error), writes
/// the joined reports and exits by their verdicts.
fn merge(out: &std::path::Path, files: &[PathBuf]) -> ExitCode {
    let mut parts = Vec::new();
    for f in files {
        match report::json::read(f) {
            Ok(r) => parts.push((f.display().to_string(), r)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::BAD_INPUT);
            }
        }
    }
    let merged = match report::merge::merge(&parts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    if let Err(e) = report::prepare_dir(out) {
        eprintln!("error: {e} (give a folder you can write with --out)");
        return ExitCode::from(exit::USAGE);
    }
    for n in &merged.notes {
        println!("{n}");
    }
    // A merge prints no result lines: the cases that did not apply are listed here.
    for o in &merged.report.cases {
        if o.verdict() == report::Verdict::NotApplicable {
            println!("not applicable: {} — {}", o.id, o.reason().unwrap_or(""));
        }
    }
    finish(
        &merged.report,
        out,
        run::output::ColorChoice::Auto.enabled(),
    )
}

fn init(mtp: MtpArg, mode: ModeArg, out: &std::path::Path, force: bool) -> ExitCode {
    use uspcheck::init::{self, InitError, Mode, Mtp};
    let mtp = match mtp {
        MtpArg::Websocket => Mtp::WebSocket,
        MtpArg::Uds => Mtp::Uds,
        MtpArg::Mqtt => Mtp::Mqtt(Version::V5),
        MtpArg::Mqtt311 => Mtp::Mqtt(Version::V311),
    };
    let mode = match mode {
        ModeArg::Listen => Mode::Listen,
        ModeArg::Connect => Mode::Connect,
    };
    let cases = match load_cases(None) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match init::command(mtp, mode, &cases, out, force) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                InitError::Exists(_) => exit::USAGE,
                InitError::Io(_) => exit::ERRORS,
            })
        }
    }
}

fn load_cases(dir: Option<PathBuf>) -> Result<Vec<Case>, ExitCode> {
    let loaded = match &dir {
        Some(d) => suite::load_dir(d),
        None => suite::load_embedded(),
    };
    let cases = loaded.map_err(|errors: Vec<LoadError>| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!(
            "{} case file(s) could not be loaded; nothing was run",
            errors.len()
        );
        ExitCode::from(exit::BAD_INPUT)
    })?;
    if cases.is_empty() {
        let from = dir.map_or("the built-in suite".into(), |d| d.display().to_string());
        eprintln!("error: {from} holds no case file (*.yaml); nothing was run");
        return Err(ExitCode::from(exit::BAD_INPUT));
    }
    Ok(cases)
}

fn parse_faults(names: &[String]) -> Result<Vec<Fault>, ExitCode> {
    if names.iter().any(|n| n == "list") {
        for f in Fault::ALL {
            println!("{:<32} {}", f.name(), f.description());
        }
        return Err(ExitCode::from(exit::OK));
    }
    names
        .iter()
        .map(|n| {
            n.parse::<Fault>().map_err(|_| {
                eprintln!("error: unknown fault {n:?}; `--fault list` lists them");
                ExitCode::from(exit::USAGE)
            })
        })
        .collect()
}

/// The end of `run` and `merge`: the reports written, clean-up problems, the failures and
/// errors again (one line each), and the one summary line; the exit code of the verdicts.
fn finish(report: &RunReport, dir: &std::path::Path, color: bool) -> ExitCode {
    let written = match report::write_all(report, dir) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::ERRORS);
        }
    };
    for o in &report.cases {
        for p in &o.cleanup_problems {
            println!("clean-up problem in {}: {p}", o.id);
        }
    }
    let written: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    println!("reports: {}", written.join(", "));
    print!("{}", run::output::recap(&report.cases, color));
    println!("\n{}", report::summary_line(report));
    ExitCode::from(report::exit_code(report))
}

/// `--slow-after`: a duration (`30s`, `500ms`, `2m`) of at least a second.
fn slow_after(s: &str) -> Result<std::time::Duration, String> {
    let d = suite::duration::parse(s)?;
    if d < std::time::Duration::from_secs(1) {
        return Err(format!("{s} is shorter than a second"));
    }
    Ok(d)
}

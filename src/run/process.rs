//! The agent process an EUT profile's `start` command runs: started in its own process group
//! before the first connection, started again when it exits (OB-USP-Agent exits on Reboot()
//! and FactoryReset(), expecting a supervisor to restart it), given up on when it keeps
//! exiting without the agent ever connecting, and stopped with the run: SIGTERM to its group,
//! a short bounded wait, then SIGKILL.
//!
//! Watching the process itself, not the connection, matters over MQTT: there the harness's
//! side of the broker stays up while the agent is gone.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::agent_log::AgentLog;

/// How long a stopped agent's process group is given to exit after SIGTERM before SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// Exits in a row, without the agent connecting in between, after which the command is no
/// longer restarted: it is failing, not rebooting.
pub const GIVE_UP_AFTER: u32 = 3;

/// Where a start command runs, and where its output goes (inherited when there is no log).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub dir: Option<PathBuf>,
    pub log: Option<Arc<AgentLog>>,
}

impl Launch {
    /// `` (its output: reports/agent.log)``, for messages about the command; or nothing.
    fn output_note(&self) -> String {
        self.log
            .as_ref()
            .map(|l| format!(" (its output: {})", l.path().display()))
            .unwrap_or_default()
    }
}

/// The start command of a profile, kept running across cases.
#[derive(Default)]
pub struct Process {
    supervisor: Mutex<Option<Supervisor>>,
}

struct Supervisor {
    cmd: String,
    launch: Launch,
    task: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    /// Set to ask the supervising task to stop the command.
    stop: watch::Sender<bool>,
}

/// What the supervising task and the cases share.
struct Shared {
    state: Mutex<State>,
    /// Becomes `Some(why)` when the command is given up on.
    gave_up: watch::Sender<Option<String>>,
}

#[derive(Default)]
struct State {
    /// The process group of the running command.
    pgid: Option<u32>,
    /// Exits since the agent last connected.
    exits_without_link: u32,
    /// How the command last ended (`exited with status 127`).
    last_exit: Option<String>,
}

impl Process {
    /// Starts `cmd` and keeps it running, unless that is already so. A command that cannot
    /// be spawned at all is an error now.
    pub fn supervise(&self, cmd: &str, launch: Launch) -> Result<(), String> {
        let mut sup = self.lock();
        if sup.is_some() {
            return Ok(());
        }
        let child = spawn_group(cmd, &launch)?;
        super::live::notice(&format!(
            "uspcheck: started the agent: {cmd}{}",
            launch.output_note()
        ));
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pgid: child.id(),
                ..State::default()
            }),
            gave_up: watch::Sender::new(None),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(keep_running(
            (cmd.to_string(), launch.clone()),
            child,
            shared.clone(),
            stop_rx,
        ));
        *sup = Some(Supervisor {
            cmd: cmd.to_string(),
            launch,
            task: Some(task),
            shared,
            stop,
        });
        Ok(())
    }

    /// The agent connected: its earlier exits were restarts, not failures.
    pub fn linked(&self) {
        if let Some(s) = self.lock().as_ref() {
            let exits = std::mem::take(&mut s.shared.state().exits_without_link);
            if exits > 0 {
                tracing::debug!(exits, "the agent connected: its exits were restarts");
            }
        }
    }

    /// Resolves, with the reason, once the command has been given up on; never while it is
    /// running or when there is no command.
    pub async fn given_up(&self) -> String {
        let rx = self.lock().as_ref().map(|s| s.shared.gave_up.subscribe());
        let Some(mut rx) = rx else {
            return std::future::pending().await;
        };
        let why = rx
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|w| w.clone());
        match why {
            Some(why) => why,
            // The supervisor is gone without giving up: the run is ending.
            None => std::future::pending().await,
        }
    }

    /// How the command last ended, for an "agent not reachable" error: `None` when it has not
    /// exited since the agent last connected.
    pub fn exit_note(&self) -> Option<String> {
        let sup = self.lock();
        let s = sup.as_ref()?;
        let st = s.shared.state();
        let last = st
            .last_exit
            .as_ref()
            .filter(|_| st.exits_without_link > 0)?;
        Some(format!(
            "the profile's start command {:?} {last} ({} time(s) since the agent last \
             connected){}",
            s.cmd,
            st.exits_without_link,
            s.launch.output_note()
        ))
    }

    /// Stops the command and everything it started: SIGTERM to its process group, up to
    /// [`GRACE`] for the group to exit, then SIGKILL. Returns once the group is gone.
    pub async fn stop(&self) {
        let Some((task, stop)) = self
            .lock()
            .as_mut()
            .map(|s| (s.task.take(), s.stop.clone()))
        else {
            return;
        };
        stop.send_replace(true);
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Supervisor>> {
        self.supervisor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Dropped without [`Process::stop`] (a test's target, a panic): the command is still
/// stopped, with the same escalation, on a thread of its own.
impl Drop for Process {
    fn drop(&mut self) {
        let Some(mut s) = self.lock().take() else {
            return;
        };
        if let Some(task) = s.task.take() {
            task.abort();
        }
        if let Some(pgid) = s.shared.state().pgid.take() {
            std::thread::spawn(move || {
                signal_group(pgid, libc::SIGTERM);
                let deadline = Instant::now() + GRACE;
                while group_alive(pgid) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                forget_group(pgid, libc::SIGKILL);
            });
        }
    }
}

/// Restarts the command whenever it exits, until asked to stop or until it has exited
/// [`GIVE_UP_AFTER`] times without the agent connecting.
async fn keep_running(
    (cmd, launch): (String, Launch),
    mut child: Child,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let status = tokio::select! {
            s = child.wait() => s,
            _ = asked_to_stop(&mut stop) => {
                if let Some(log) = &launch.log {
                    log.note("stopping the agent: the run is over");
                }
                let pgid = shared.state().pgid.take();
                if let Some(pgid) = pgid {
                    tracing::debug!(pgid, "stopping the agent process group");
                    stop_group(pgid, &mut child).await;
                    tracing::debug!(pgid, "the agent process group has stopped");
                }
                return;
            }
        };
        // Whatever else the command started goes with it.
        if let Some(old) = shared.state().pgid.take() {
            forget_group(old, libc::SIGTERM);
        }
        let how = status.map_or_else(|e| format!("could not be waited for: {e}"), |s| ended(&s));
        if let Some(log) = &launch.log {
            log.note(&format!("the agent {how}"));
        }
        let exits = {
            let mut st = shared.state();
            st.exits_without_link += 1;
            st.last_exit = Some(how.clone());
            st.exits_without_link
        };
        tracing::debug!(status = %how, exits_without_link = exits, "the agent process ended");
        if exits >= GIVE_UP_AFTER {
            let why = format!(
                "the profile's start command {cmd:?} {how}; it ended {exits} times in a row \
                 without the agent connecting, so uspcheck stopped restarting it{}",
                launch.output_note()
            );
            super::live::notice(&format!("uspcheck: {why}"));
            shared.gave_up.send_replace(Some(why));
            return;
        }
        super::live::notice(&format!(
            "uspcheck: the agent {how}; starting it again: {cmd}"
        ));
        // A pause, not a wait for an event: a command that fails at once must not spin the
        // CPU. A stop request ends it.
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = asked_to_stop(&mut stop) => return,
        }
        match spawn_group(&cmd, &launch) {
            Ok(c) => {
                shared.state().pgid = c.id();
                child = c;
            }
            Err(e) => {
                super::live::notice(&format!("uspcheck: {e}; the agent stays stopped"));
                shared.gave_up.send_replace(Some(e));
                return;
            }
        }
    }
}

async fn asked_to_stop(stop: &mut watch::Receiver<bool>) {
    // A supervisor whose sender is gone was dropped: that is a stop too.
    let _ = stop.wait_for(|s| *s).await;
}

/// How a process ended, in words: `exited with status 127`, `was killed by signal 9`.
pub fn ended(status: &ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => format!("ended ({status})"),
    }
}

/// SIGTERM to the group, the shell's exit awaited for up to [`GRACE`], then whatever is left
/// of the group (a child that ignores SIGTERM) is killed.
async fn stop_group(pgid: u32, child: &mut Child) {
    signal_group(pgid, libc::SIGTERM);
    let deadline = tokio::time::Instant::now() + GRACE;
    let _ = tokio::time::timeout_at(deadline, child.wait()).await;
    // The shell has gone (or the grace is over); other members of its group may not have:
    // nothing signals their exit to us, so the group is looked at until the same deadline.
    while group_alive(pgid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if group_alive(pgid) {
        tracing::debug!(pgid, grace = ?GRACE, "the agent outlived SIGTERM: SIGKILL");
    }
    forget_group(pgid, libc::SIGKILL);
    let _ = child.wait().await;
    // SIGKILL is delivered at once but acted on a moment later, and orphans are reaped by
    // whoever adopted them; the stop is over when the group is (bounded, in case nobody
    // reaps them).
    let reaped = tokio::time::Instant::now() + Duration::from_secs(1);
    while group_alive(pgid) && tokio::time::Instant::now() < reaped {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs `cmd` in a shell in its own process group, so stopping the group stops whatever the
/// shell started too; in `launch`'s folder, its output to `launch`'s log.
fn spawn_group(cmd: &str, launch: &Launch) -> Result<Child, String> {
    let cannot = |e: std::io::Error| {
        format!(
            "the profile's start command {cmd:?} could not be started: {e}{}",
            launch.output_note()
        )
    };
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &launch.dir {
        command.current_dir(dir);
    }
    if let Some(log) = &launch.log {
        let (out, err) = log.pipe().map_err(cannot)?;
        command.stdout(out).stderr(err);
        log.note(&format!("starting: {cmd}"));
    }
    let child = command.spawn().map_err(cannot)?;
    if let Some(pid) = child.id() {
        groups().push(pid);
    }
    tracing::debug!(pgid = child.id(), %cmd, dir = ?launch.dir, "agent process started");
    Ok(child)
}

/// Process groups of running start commands, so a second signal can kill them at once.
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn groups() -> std::sync::MutexGuard<'static, Vec<u32>> {
    GROUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends `sig` to the group a start command runs in and forgets it.
fn forget_group(pgid: u32, sig: libc::c_int) {
    signal_group(pgid, sig);
    groups().retain(|p| *p != pgid);
}

fn signal_group(pgid: u32, sig: libc::c_int) {
    // SAFETY: killpg only sends a signal; the group id is one this process created.
    unsafe {
        libc::killpg(pgid as libc::pid_t, sig);
    }
}

/// Whether any process of the group is left running. A zombie does not count: it is dead,
/// only not yet reaped by whoever adopted it (in a container that can take seconds).
fn group_alive(pgid: u32) -> bool {
    // SAFETY: signal 0 sends nothing; it only asks whether the group exists.
    if unsafe { libc::killpg(pgid as libc::pid_t, 0) } != 0 {
        return false;
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return true;
    };
    procs.flatten().any(|p| {
        // /proc/PID/stat: `pid (comm) state ppid pgrp …`; comm may hold spaces and parens.
        let Ok(stat) = std::fs::read_to_string(p.path().join("stat")) else {
            return false;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let f: Vec<&str> = rest.split_whitespace().take(3).collect();
        f.len() == 3 && f[0] != "Z" && f[2].parse() == Ok(pgid)
    })
}

/// Kills every agent a start command launched, at once: for a second signal, when the user
/// wants out now and no destructor will run.
pub fn kill_all_started() {
    for pgid in groups().iter() {
        signal_group(*pgid, libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO the command under test writes to once it is ready, and a wait for that.
    fn ready_fifo(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("uspcheck-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string; mkfifo only creates the file.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        p
    }

    async fn wait_ready(fifo: &std::path::Path) {
        let f = fifo.to_path_buf();
        let read = tokio::task::spawn_blocking(move || std::fs::read_to_string(f));
        let text = tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("the command got ready in bounded time")
            .unwrap()
            .unwrap();
        assert_eq!(text.trim(), "ready");
        let _ = std::fs::remove_file(fifo);
    }

    #[tokio::test]
    async fn a_group_that_ignores_sigterm_is_killed_after_the_grace() {
        // The shell and its child both ignore SIGTERM; then a shell that goes at SIGTERM but
        // leaves a child behind that ignores it.
        for (name, script) in [
            ("both", "trap '' TERM; echo ready > {F}; sleep 1000"),
            (
                "orphan",
                "trap '' TERM; sleep 1000 & trap - TERM; echo ready > {F}; wait",
            ),
        ] {
            let fifo = ready_fifo(name);
            let p = Process::default();
            p.supervise(
                &script.replace("{F}", &fifo.display().to_string()),
                Launch::default(),
            )
            .unwrap();
            let pgid = p
                .lock()
                .as_ref()
                .and_then(|s| s.shared.state().pgid)
                .unwrap();
            wait_ready(&fifo).await;
            let began = Instant::now();
            p.stop().await;
            let took = began.elapsed();
            assert!(!group_alive(pgid), "{name}: the group outlived the stop");
            assert!(
                took >= GRACE && took < GRACE + Duration::from_secs(2),
                "{name}: {took:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_agent_that_stops_on_sigterm_is_not_waited_for() {
        let p = Process::default();
        p.supervise("sleep 1000", Launch::default()).unwrap();
        let began = Instant::now();
        p.stop().await;
        assert!(began.elapsed() < GRACE, "{:?}", began.elapsed());
    }

    #[tokio::test]
    async fn a_command_that_keeps_exiting_is_given_up_on_with_its_status() {
        let p = Process::default();
        p.supervise("exit 127", Launch::default()).unwrap();
        let why = tokio::time::timeout(Duration::from_secs(10), p.given_up())
            .await
            .expect("given up in bounded time");
        assert!(why.contains("\"exit 127\" exited with status 127"), "{why}");
        assert!(why.contains("3 times in a row"), "{why}");
        let note = p.exit_note().unwrap();
        assert!(note.contains("exited with status 127"), "{note}");
        // Once the agent connects, its exits are restarts again.
        p.linked();
        assert_eq!(p.exit_note(), None);
    }
}

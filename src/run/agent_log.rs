//! Where the output of the agent a profile's `start` command runs goes: `agent.log` in the
//! report folder, not the terminal, bounded. When the file reaches [`CAP`] it becomes
//! `agent.log.1` (replacing an older one) and a fresh `agent.log` begins, so the newest
//! output, where the end of a run is, is always kept, and at most twice the cap.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

/// The file name in the report folder.
pub const FILE: &str = "agent.log";

/// Bytes one file holds before it is rotated.
pub const CAP: u64 = 4 * 1024 * 1024;

/// The agent's log, shared by every start of its command.
#[derive(Debug)]
pub struct AgentLog {
    path: PathBuf,
    cap: u64,
    file: Mutex<Option<(File, u64)>>,
}

impl AgentLog {
    /// Begins the log at `path` (an earlier run's, and its older part, are removed).
    pub fn create(path: &Path) -> std::io::Result<Arc<AgentLog>> {
        AgentLog::with_cap(path, CAP)
    }

    /// Removes an earlier run's log at `path` (a run with no start command writes none, and
    /// must not leave an old one looking like its own).
    pub fn clear(path: &Path) {
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(older(path));
    }

    fn with_cap(path: &Path, cap: u64) -> std::io::Result<Arc<AgentLog>> {
        let _ = std::fs::remove_file(older(path));
        let file = File::create(path)?;
        Ok(Arc::new(AgentLog {
            path: path.to_path_buf(),
            cap,
            file: Mutex::new(Some((file, 0))),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A line of uspcheck's own in the log (`started …`, `exited …`).
    pub fn note(&self, text: &str) {
        self.write(format!("=== uspcheck: {text} ===\n").as_bytes());
    }

    /// The standard output and error for one start of the command: both ends of one pipe,
    /// so the log keeps their order, read by a thread that ends when every process holding
    /// the pipe has exited.
    pub fn pipe(self: &Arc<Self>) -> std::io::Result<(Stdio, Stdio)> {
        let (mut reader, writer) = std::io::pipe()?;
        let out = writer.try_clone()?;
        let log = self.clone();
        std::thread::Builder::new()
            .name("agent-log".into())
            .spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n @ 1..) = reader.read(&mut buf) {
                    log.write(&buf[..n]);
                }
            })?;
        Ok((Stdio::from(out), Stdio::from(writer)))
    }

    /// Appends, rotating at the cap. A failed write loses that output, never the run.
    fn write(&self, bytes: &[u8]) {
        let mut slot = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if slot
            .as_ref()
            .is_some_and(|(_, n)| n + bytes.len() as u64 > self.cap && *n > 0)
        {
            *slot = None;
            let _ = std::fs::rename(&self.path, older(&self.path));
            *slot = File::create(&self.path).ok().map(|f| (f, 0));
        }
        if let Some((f, n)) = slot.as_mut()
            && f.write_all(bytes).is_ok()
        {
            *n += bytes.len() as u64;
        }
    }
}

/// Where the older part goes: `agent.log.1`.
fn older(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_newest_output_within_twice_its_cap() {
        let dir = std::env::temp_dir().join(format!("uspcheck-agentlog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE);
        std::fs::write(&path, "an earlier run's").unwrap();
        std::fs::write(older(&path), "an earlier run's").unwrap();
        AgentLog::clear(&path);
        assert!(!path.exists() && !older(&path).exists());
        std::fs::write(older(&path), "an earlier run's").unwrap();
        let log = AgentLog::with_cap(&path, 100).unwrap();
        assert!(!older(&path).exists(), "an earlier run's log is gone");
        for i in 0..50 {
            log.write(format!("line {i:02}\n").as_bytes());
        }
        let now = std::fs::read_to_string(&path).unwrap();
        let before = std::fs::read_to_string(older(&path)).unwrap();
        assert!(now.ends_with("line 49\n"), "{now}");
        assert!(now.len() <= 100 && before.len() <= 100);
        assert!(before.ends_with(&format!("line {:02}\n", 49 - now.lines().count())));
        // A child's stdout and stderr both reach it, and the reader ends with the child.
        let log = AgentLog::create(&path).unwrap();
        let (out, err) = log.pipe().unwrap();
        let status = std::process::Command::new("sh")
            .args(["-c", "echo to-out; echo to-err >&2"])
            .stdout(out)
            .stderr(err)
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let text = loop {
            let t = std::fs::read_to_string(&path).unwrap();
            if t.contains("to-err") || std::time::Instant::now() > deadline {
                break t;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(text, "to-out\nto-err\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! What the integration tests share: a free port and a scratch directory on this machine.
//! Each test binary uses some of it.
#![allow(dead_code)]

use std::path::PathBuf;

/// A port on 127.0.0.1 that was free a moment ago (the OS picked it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// An empty directory of this test process's own under the system's temp directory.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uspcheck-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The TP-469 case `id`, from the project's `testcases/`.
pub fn case(id: &str) -> uspcheck::suite::Case {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testcases");
    uspcheck::suite::load_dir(&dir)
        .unwrap()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id} in testcases/"))
}

/// Runs this build's `uspcheck` with `args` in `cwd`: its exit code, and stdout then stderr.
/// A `RUST_LOG` of the environment is not passed on: its diagnostics would be in the output.
pub fn uspcheck(args: &[&str], cwd: &std::path::Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_uspcheck"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

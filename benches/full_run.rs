//! How close a full run comes to its floor: `cargo bench --bench full_run` runs the whole
//! suite (or the cases of the filters given: `cargo bench --bench full_run -- 1.5`) against
//! the built-in reference agent, as `uspcheck run --quiet` does, and prints the run's wall
//! time, its longest case's duration (the JSON report's `duration_ms`: no run can end before
//! it), and their ratio. With the longest cases started first (src/run/schedule.rs) the
//! ratio should stay within 1.05.

use std::process::Command;
use std::time::Instant;

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = std::env::temp_dir().join(format!("uspcheck-bench-full-run-{}", std::process::id()));
    let began = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_uspcheck"))
        .args(["run", "--quiet", "--color", "never", "--report-dir"])
        .arg(&dir)
        .args(&filters)
        .output()
        .expect("uspcheck runs");
    let wall = began.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let summary = stdout
        .lines()
        .rfind(|l| l.starts_with("uspcheck"))
        .unwrap_or("(no summary line)");
    let json = std::fs::read_to_string(dir.join("uspcheck.json")).expect("the JSON report");
    let report: serde_json::Value = serde_json::from_str(&json).expect("a JSON report");
    let longest = report["cases"]
        .as_array()
        .expect("the report's cases")
        .iter()
        .filter_map(|c| Some((c["duration_ms"].as_u64()?, c["id"].as_str()?.to_string())))
        .max()
        .expect("a case ran");
    let _ = std::fs::remove_dir_all(&dir);
    let floor = longest.0 as f64 / 1000.0;
    println!("full run: {summary}");
    println!("wall time:    {wall:.1} s");
    println!("longest case: {floor:.1} s ({})", longest.1);
    println!(
        "ratio:        {:.3} (wall time / longest case; the target is 1.05 or less)",
        wall / floor
    );
    if !run.status.success() {
        eprintln!("{stdout}{}", String::from_utf8_lossy(&run.stderr));
        panic!("the run did not pass: {}", run.status);
    }
}

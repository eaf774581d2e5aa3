//! The CI examples in `ci/` are checked two ways.
//!
//! - Against the published schemas: `check-jsonschema` (a PyPI package that ships the GitHub
//!   Actions workflow and GitLab CI JSON schemas, so no network is needed) validates
//!   `ci/github-actions.yml` and `ci/gitlab-ci.yml`. `scripts/ensure-check-jsonschema.sh`
//!   installs it into `target/tools/`; without it that trial is reported ignored, never passed,
//!   except under CI (`CI` set), where it must run. No Rust crate was used for this: the
//!   registry's workflow validators are GPL tools or cover GitHub only.
//! - Structurally, here: the YAML parses, the jobs are the partition matrix and a merge job
//!   that runs also after a red partition, the partition count in `--partition` is the
//!   matrix's, the merge reads the `uspcheck.json` the runs write and publishes the
//!   `junit.xml` it writes, the agent is started where `ci/eut.yaml` says it is, and every
//!   `uspcheck` command line in the files is accepted by this build of uspcheck.

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("ci").join(name)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("ci/{name}: {e}"))
}

/// Every line of a job's steps (`run:`) or `script:` that runs uspcheck, joined to one string
/// per line.
fn commands(lines: impl IntoIterator<Item = String>) -> Vec<String> {
    lines
        .into_iter()
        .flat_map(|s| {
            s.lines()
                .map(str::trim)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.contains("uspcheck ") && !l.starts_with("cargo install"))
        .collect()
}

/// The word after `flag` in `line`, without quotes.
fn arg<'a>(line: &'a str, flag: &str) -> &'a str {
    let at = line
        .find(flag)
        .unwrap_or_else(|| panic!("{flag} in {line:?}"));
    line[at + flag.len()..]
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches('"')
}

fn one<'a>(cmds: &'a [String], what: &str) -> &'a String {
    let hits: Vec<&String> = cmds.iter().filter(|c| c.contains(what)).collect();
    assert_eq!(hits.len(), 1, "one {what:?} in {cmds:#?}");
    hits[0]
}

/// The profile's WebSocket URL is where the example starts the agent.
fn agent_matches_profile(cmds: &[String]) {
    let listen = arg(one(cmds, "uspcheck agent"), "--listen ");
    let profile = uspcheck::suite::profile::Profile::load(&root().join("ci/eut.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(root().join("ci/eut.yaml")).unwrap();
    assert!(
        text.contains(&format!("url: \"ws://{listen}/")),
        "ci/eut.yaml connects to the agent the example starts on {listen}"
    );
    assert_eq!(
        profile.eut.endpoint_id,
        uspcheck::run::target::BUILTIN_AGENT_ID
    );
}

/// `merge` reads what the runs wrote: its inputs end in `<--report-dir>/uspcheck.json`.
fn merge_reads_what_run_writes(run: &str, merge: &str, report_dir_in_merge: &str) {
    assert!(uspcheck::report::FILES.contains(&"uspcheck.json"));
    let inputs = merge.split(['|', '>']).next().unwrap();
    let inputs = inputs.split_whitespace().last().unwrap();
    assert!(
        inputs.ends_with(&format!("{report_dir_in_merge}/uspcheck.json")),
        "{merge} reads the reports {run} writes"
    );
}

fn github_actions() -> Result<(), Failed> {
    let wf = yaml("github-actions.yml");
    assert!(wf.get("on").is_some(), "the workflow has triggers");
    let jobs = &wf["jobs"];
    let steps = |job: &str| -> Vec<String> {
        jobs[job]["steps"]
            .as_array()
            .unwrap_or_else(|| panic!("job {job} has steps"))
            .iter()
            .filter_map(|s| s["run"].as_str().map(String::from))
            .collect()
    };
    let matrix: Vec<u64> = jobs["conformance"]["strategy"]["matrix"]["partition"]
        .as_array()
        .expect("a matrix of partitions")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let n = matrix.len() as u64;
    assert!(n >= 2);
    assert_eq!(matrix, (1..=n).collect::<Vec<_>>(), "partitions 1..=N");
    assert_eq!(jobs["conformance"]["strategy"]["fail-fast"], false);
    let cmds = commands(steps("conformance"));
    let run = one(&cmds, "uspcheck run");
    assert!(
        run.contains(&format!("--partition ${{{{ matrix.partition }}}}/{n} ")),
        "{run}"
    );
    agent_matches_profile(&cmds);
    let report = &jobs["report"];
    assert_eq!(report["needs"], "conformance");
    assert!(report["if"].as_str().unwrap().contains("!cancelled()"));
    let merge_cmds = commands(steps("report"));
    let merge = one(&merge_cmds, "uspcheck merge");
    // upload-artifact keeps the paths under the artifact's folder: parts/reports-K/reports/.
    merge_reads_what_run_writes(run, merge, arg(run, "--report-dir "));
    let out = arg(merge, "--out ");
    let published: Vec<&Value> = jobs["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            s["with"]["report_paths"]
                .as_str()
                .map(|_| &s["with"]["report_paths"])
        })
        .collect();
    assert_eq!(published, [&Value::from(format!("{out}/junit.xml"))]);
    try_commands(cmds.iter().chain(&merge_cmds))
}

fn gitlab_ci() -> Result<(), Failed> {
    let ci = yaml("gitlab-ci.yml");
    let script = |job: &str| -> Vec<String> {
        ci[job]["script"]
            .as_array()
            .unwrap_or_else(|| panic!("job {job} has a script"))
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    assert!(ci["conformance"]["parallel"].as_u64().unwrap() >= 2);
    let cmds = commands(script("conformance"));
    let run = one(&cmds, "uspcheck run");
    assert_eq!(arg(run, "--partition "), "$CI_NODE_INDEX/$CI_NODE_TOTAL");
    let report_dir = arg(run, "--report-dir ");
    assert_eq!(report_dir, "reports/part-$CI_NODE_INDEX");
    assert_eq!(ci["conformance"]["artifacts"]["when"], "always");
    agent_matches_profile(&cmds);
    let job = &ci["uspcheck-report"];
    assert_eq!(job["when"], "always");
    assert!(
        job["needs"]
            .as_array()
            .unwrap()
            .contains(&Value::from("conformance"))
    );
    let merge_cmds = commands(script("uspcheck-report"));
    let merge = one(&merge_cmds, "uspcheck merge");
    merge_reads_what_run_writes(run, merge, "reports/part-*");
    let out = arg(merge, "--out ");
    assert_eq!(
        job["artifacts"]["reports"]["junit"],
        format!("{out}/junit.xml")
    );
    try_commands(cmds.iter().chain(&merge_cmds))
}

/// Runs each uspcheck command line of an example far enough to show this build accepts it:
/// `run` with `--list` (the profile loads, the partition parses), `agent` with `--help`,
/// `merge` on inputs that do not exist (it must get past the command line to the files).
fn try_commands<'a>(cmds: impl Iterator<Item = &'a String>) -> Result<(), Failed> {
    for line in cmds {
        // The CI's variables as partition 1 of 3 has them.
        let line = line
            .replace("${{ matrix.partition }}", "1")
            .replace("$CI_NODE_INDEX", "1")
            .replace("$CI_NODE_TOTAL", "3");
        let words: Vec<String> = line
            .split(['>', '|'])
            .next()
            .unwrap()
            .split_whitespace()
            .skip_while(|w| !w.ends_with("uspcheck"))
            .skip(1)
            .map(|w| w.trim_matches('"').to_string())
            .collect();
        let mut args = words.clone();
        let expect = match words[0].as_str() {
            "run" => {
                args.push("--list".into());
                0
            }
            "agent" => {
                args.push("--help".into());
                0
            }
            "merge" => 3,
            other => return Err(format!("unknown uspcheck command {other:?} in {line:?}").into()),
        };
        let scratch = std::env::temp_dir().join(format!("uspcheck-ci-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_uspcheck"))
            .args(&args)
            .current_dir(if words[0] == "merge" {
                &scratch
            } else {
                Path::new(env!("CARGO_MANIFEST_DIR"))
            })
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(expect) {
            return Err(format!(
                "`uspcheck {}` exited {:?}: {text}",
                args.join(" "),
                out.status.code()
            )
            .into());
        }
        if expect == 3 && !text.contains("No such file") {
            return Err(format!("`uspcheck {}`: {text}", args.join(" ")).into());
        }
    }
    Ok(())
}

fn schemas(validator: &Path) -> Result<(), Failed> {
    for (file, schema) in [
        ("github-actions.yml", "vendor.github-workflows"),
        ("gitlab-ci.yml", "vendor.gitlab-ci"),
    ] {
        let out = Command::new(validator)
            .args(["--builtin-schema", schema])
            .arg(root().join("ci").join(file))
            .output()
            .map_err(|e| format!("{}: {e}", validator.display()))?;
        if !out.status.success() {
            return Err(format!(
                "ci/{file} does not validate against {schema}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let validator = root().join("target/tools/check-jsonschema/bin/check-jsonschema");
    let missing = !validator.exists();
    let under_ci = std::env::var_os("CI").is_some();
    let trials = vec![
        Trial::test("github_actions_example_runs_partitions_and_merges", github_actions),
        Trial::test("gitlab_ci_example_runs_partitions_and_merges", gitlab_ci),
        Trial::test(
            "ci_examples_validate_against_their_schemas (needs scripts/ensure-check-jsonschema.sh)",
            move || {
                if missing {
                    return Err("check-jsonschema is not installed (scripts/ensure-check-jsonschema.sh), and under CI this test must run".into());
                }
                schemas(&validator)
            },
        )
        .with_ignored_flag(missing && !under_ci),
    ];
    libtest_mimic::run(&args, trials).exit();
}

//! Every TR-369 requirement id cited in `src/`, `testcases/`, `docs/` and the README exists
//! in TR-369 1.4.1: `docs/tr369-requirement-ids.txt` keeps the spec's ids, so a clone without
//! the spec can check. Where `../shared/reference/tr-369` is beside the clone, the kept list
//! is checked against the spec itself; elsewhere that trial is reported ignored, not passed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use regex::Regex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kept_ids() -> BTreeSet<String> {
    std::fs::read_to_string(root().join("docs/tr369-requirement-ids.txt"))
        .expect("docs/tr369-requirement-ids.txt is in the repository")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "rs" || x == "yaml" || x == "md")
        {
            out.push(p);
        }
    }
}

fn cited_ids_exist() -> Result<(), Failed> {
    let known = kept_ids();
    let id = Regex::new(r"\bR-[A-Z0-9]+\.[0-9]+[a-z]?\b").unwrap();
    let mut all = Vec::new();
    for d in ["src", "testcases", "docs"] {
        files(&root().join(d), &mut all);
    }
    all.push(root().join("README.md"));
    let mut unknown = Vec::new();
    for f in &all {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            for m in id.find_iter(line) {
                if !known.contains(m.as_str()) {
                    let rel = f.strip_prefix(root()).unwrap_or(f);
                    unknown.push(format!("{}:{}: {}", rel.display(), n + 1, m.as_str()));
                }
            }
        }
    }
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "requirement ids that TR-369 1.4.1 does not have:\n{}",
            unknown.join("\n")
        )
        .into())
    }
}

fn the_kept_list_is_the_specs(spec: &Path) -> Result<(), Failed> {
    let id = Regex::new(r"\[(R-[A-Z0-9]+\.[0-9]+[a-z]?)\]\{\}").unwrap();
    let mut ids = BTreeSet::new();
    let mut md = Vec::new();
    files(spec, &mut md);
    for f in md {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        ids.extend(id.captures_iter(&text).map(|c| c[1].to_string()));
    }
    let kept = kept_ids();
    if ids == kept {
        Ok(())
    } else {
        Err(format!(
            "docs/tr369-requirement-ids.txt differs from the spec: missing {:?}, extra {:?}",
            ids.difference(&kept).collect::<Vec<_>>(),
            kept.difference(&ids).collect::<Vec<_>>()
        )
        .into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let spec = root().join("../shared/reference/tr-369");
    let have_spec = spec.join("messages.md").exists();
    if !have_spec {
        println!(
            "skipped: the_kept_id_list_is_the_specs: the TR-369 1.4.1 text is not in {}; \
             docs/tr369-requirement-ids.txt is used as it is",
            spec.display()
        );
    }
    let trials = vec![
        Trial::test("cited_requirement_ids_exist_in_tr369", cited_ids_exist),
        Trial::test(
            "the_kept_id_list_is_the_specs (needs ../shared)",
            move || the_kept_list_is_the_specs(&spec),
        )
        .with_ignored_flag(!have_spec),
    ];
    libtest_mimic::run(&args, trials).exit();
}

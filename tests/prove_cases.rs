//! Every TP-469 case is proven both ways: it passes against the reference agent, and it
//! fails against the reference agent with each fault its file names, *at the metrics that
//! fault names* (not just somewhere). A case that cannot be made to fail is not a test. Each trial gets its own agent on its own port (and, over MQTT, its
//! own embedded broker), so they run in parallel. MTP-independent cases pass over WebSocket,
//! UDS and MQTT 5.0 and 3.1.1; the MQTT cases (section 11) over MQTT.

use std::path::Path;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use uspcheck::agent::Fault;
use uspcheck::mtp::mqtt::Version;
use uspcheck::report::model::MetricVerdict;
use uspcheck::report::{CaseOutcome, Verdict};
use uspcheck::run::target::BuiltinMtp;
use uspcheck::run::{Target, run_one};
use uspcheck::suite::case::{MtpNeed, ProofMtp};
use uspcheck::suite::{self, Case};

fn main() {
    let mut args = Arguments::from_args();
    // The trials wait on sockets far more than they compute.
    args.test_threads.get_or_insert(16);
    let cases = suite::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("testcases"))
        .unwrap_or_else(|errors| {
            for e in errors {
                eprintln!("{e}");
            }
            panic!("the case files load");
        });
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    );
    let mut trials = Vec::new();
    for case in cases.into_iter().map(Arc::new) {
        let mqtt_only = case.mtp == MtpNeed::Mqtt;
        // Where the case is proven: MTP-independent cases over WebSocket, UDS and MQTT (both
        // versions); MQTT cases over MQTT 5.0 and, unless 5.0-only, 3.1.1.
        let mut passes: Vec<(&str, BuiltinMtp)> = Vec::new();
        if !mqtt_only {
            passes.push(("passes", BuiltinMtp::WebSocket));
            // The UDS MTP carries the same cases (an extended suite: TP-469 has no UDS section).
            passes.push(("passes_over_uds", BuiltinMtp::Uds));
        }
        passes.push(("passes_over_mqtt", BuiltinMtp::Mqtt(Version::V5)));
        if !case.features.contains(&36) {
            passes.push(("passes_over_mqtt311", BuiltinMtp::Mqtt(Version::V311)));
        }
        for (label, mtp) in passes {
            let (c, r) = (case.clone(), rt.clone());
            trials.push(Trial::test(format!("{}::{label}", case.id), move || {
                expect(&c, &r, vec![], mtp, Verdict::Pass).map(|_| ())
            }));
        }
        let fails_over = if mqtt_only {
            BuiltinMtp::Mqtt(Version::V5)
        } else {
            BuiltinMtp::WebSocket
        };
        // Conforming variations (a retry just inside its window) must pass.
        for variation in case.passes_with.clone() {
            let (c, r) = (case.clone(), rt.clone());
            trials.push(Trial::test(
                format!("{}::passes_with::{variation}", case.id),
                move || {
                    let v: Fault = variation
                        .parse()
                        .map_err(|e| Failed::from(format!("{}: passes_with: {e}", c.file)))?;
                    expect(&c, &r, vec![v], fails_over, Verdict::Pass).map(|_| ())
                },
            ));
        }
        if case.faults.is_empty() {
            let c = case.clone();
            trials.push(Trial::test(
                format!("{}::names_a_fault", case.id),
                move || {
                    Err(format!("{} names no reference-agent fault in `faults:`", c.file).into())
                },
            ));
        }
        for proof in case.faults.clone() {
            let fault_name = proof.name.clone();
            let (c, r) = (case.clone(), rt.clone());
            let over = proof
                .over
                .map(|o| format!("::over_{}", format!("{o:?}").to_lowercase()))
                .unwrap_or_default();
            trials.push(Trial::test(
                format!("{}::fails_with::{fault_name}{over}", case.id),
                move || {
                    let fault: Fault = fault_name.parse().map_err(|_| {
                        Failed::from(format!(
                            "{} must name known reference-agent faults in `faults:` (got {fault_name:?})",
                            c.file
                        ))
                    })?;
                    let over = match proof.over {
                        None => fails_over,
                        Some(ProofMtp::Websocket) => BuiltinMtp::WebSocket,
                        Some(ProofMtp::Uds) => BuiltinMtp::Uds,
                        Some(ProofMtp::Mqtt) => BuiltinMtp::Mqtt(Version::V5),
                        Some(ProofMtp::Mqtt311) => BuiltinMtp::Mqtt(Version::V311),
                    };
                    let o = expect(&c, &r, vec![fault], over, Verdict::Fail)?;
                    // The fault must break the metrics it names, not just something, and
                    // no others.
                    let failed: Vec<u32> = o
                        .metrics
                        .iter()
                        .filter(|m| m.verdict == MetricVerdict::Fail)
                        .map(|m| m.number)
                        .collect();
                    let universal = o
                        .failure()
                        .is_some_and(|f| f.metrics.iter().any(|m| m.starts_with("Universal")));
                    // Exactly those: a metric the fault does not break must not fail with it.
                    let mut named = proof.metrics.clone();
                    named.sort_unstable();
                    if failed == named && (!proof.universal || universal)
                    {
                        Ok(())
                    } else {
                        Err(format!(
                            "{fault_name} should fail {} at metric(s) {:?}{}; it failed at {failed:?}{}\n{}",
                            c.id,
                            proof.metrics,
                            if proof.universal { " and a universal metric" } else { "" },
                            if universal { " and a universal metric" } else { "" },
                            o.failure_text().unwrap_or_default()
                        )
                        .into())
                    }
                },
            ));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn expect(
    case: &Case,
    rt: &tokio::runtime::Runtime,
    faults: Vec<Fault>,
    mtp: BuiltinMtp,
    want: Verdict,
) -> Result<CaseOutcome, Failed> {
    let target = Target::BuiltIn { faults, mtp };
    let o = rt.block_on(run_one(case, &target));
    if o.verdict() == want {
        if want == Verdict::Fail {
            let f = o.failure().ok_or("a failure carries its text")?;
            // The failure must explain itself: step and message at least.
            if f.step.is_empty() || f.message.is_empty() {
                return Err(format!("failure text is incomplete: {f:?}").into());
            }
        }
        if let Some(p) = o.cleanup_problems.first().filter(|_| want == Verdict::Pass) {
            return Err(format!("clean-up failed against the conforming agent: {p}").into());
        }
        return Ok(o);
    }
    let detail = o.failure().as_ref().map(|f| f.text()).unwrap_or_default();
    Err(format!(
        "expected {} against {}, got {}\n{detail}\nlog:\n{}",
        want.as_str(),
        target.describe(),
        o.verdict().as_str(),
        o.log
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    )
    .into())
}

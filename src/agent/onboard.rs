//! Onboarding (R-NOT.5, R-NOT.6, TR-181 Controller.{i}.OnBoardingComplete and
//! OnBoardingRestartTime): an enabled Controller whose OnBoardingComplete is false is owed an
//! OnBoardRequest, sent when it becomes so (Add, Set, boot) or when SendOnBoardRequest() runs
//! (which clears OnBoardingComplete). Each OnBoardRequest is retried until a NotifyResp
//! arrives; then, while OnBoardingComplete stays false and OnBoardingRestartTime is not 0, a
//! new one follows OnBoardingRestartTime seconds later. Setting OnBoardingComplete to true
//! ends it. Every OnBoardRequest to a Controller gets a sequence number, so only the answer
//! to the latest one starts the restart timer.

use std::collections::BTreeSet;
use std::time::Duration;

use super::dm::Loc;
use super::{Agent, Fault, Outgoing, Timer};

/// How long the `onboarding-restart-when-disabled` fault waits when OnBoardingRestartTime
/// is 0.
pub const RESTART_WHEN_DISABLED: Duration = Duration::from_secs(30);

fn controller_loc(c: u32) -> Loc {
    Loc::root().child("LocalAgent").child("Controller").inst(c)
}

impl Agent {
    /// True if Controller instance `c` exists, is enabled and has an Endpoint ID.
    pub(super) fn controller_enabled(&self, c: u32) -> bool {
        self.dm
            .node(&controller_loc(c))
            .is_some_and(|n| n.get("Enable") == "true" && !n.get("EndpointID").is_empty())
    }

    /// True if Controller instance `c` is enabled and has not completed its onboarding.
    fn owed_onboarding(&self, c: u32) -> bool {
        self.controller_enabled(c)
            && self
                .dm
                .node(&controller_loc(c))
                .is_some_and(|n| n.get("OnBoardingComplete") != "true")
    }

    /// Sends an OnBoardRequest to every Controller that has just become owed one (R-NOT.5
    /// item 3).
    pub(super) fn sync_onboarding(&mut self) -> Vec<Outgoing> {
        let table = Loc::root().child("LocalAgent").child("Controller");
        let owed: BTreeSet<u32> = self
            .dm
            .rows(&table)
            .iter()
            .filter_map(Loc::last_inst)
            .filter(|c| self.owed_onboarding(*c))
            .collect();
        let mut intents = Vec::new();
        for c in owed.difference(&self.onboarding) {
            let loc = controller_loc(*c);
            if let Some(to) = self.dm.node(&loc).map(|n| n.get("EndpointID").to_string()) {
                intents.push(self.onboard_intent(&to, &loc));
            }
        }
        self.onboarding = owed;
        self.emit(intents)
    }

    /// A NotifyResp (or Error) answered Notify `msg_id`: stop retrying it, and if it was the
    /// latest OnBoardRequest of a Controller still onboarding, start OnBoardingRestartTime.
    pub(super) fn answered(&mut self, msg_id: &str) -> Vec<Outgoing> {
        let Some(p) = self.pending.remove(msg_id) else {
            return Vec::new();
        };
        let Some((c, seq)) = p.onboard else {
            return Vec::new();
        };
        if self.onboard_seq.get(&c) != Some(&seq)
            || !self.owed_onboarding(c)
            || self.has_fault(Fault::OnboardingNoRestart)
        {
            return Vec::new();
        }
        let secs: u64 = self
            .dm
            .node(&controller_loc(c))
            .and_then(|n| n.get("OnBoardingRestartTime").parse().ok())
            .unwrap_or(0);
        let fixed = self.faults.iter().find_map(|f| match f {
            Fault::OnboardingRestartAfter(ms) => Some(Duration::from_millis(u64::from(*ms))),
            _ => None,
        });
        let after = match (secs, fixed) {
            (0, _) if self.has_fault(Fault::OnboardingRestartWhenDisabled) => RESTART_WHEN_DISABLED,
            (0, _) => return Vec::new(),
            (_, Some(d)) => d,
            (s, None) => Duration::from_secs(s),
        };
        let timer = self.new_timer(Timer::Onboard {
            controller: c,
            generation: seq,
        });
        vec![Outgoing::Wake { after, timer }]
    }

    /// OnBoardingRestartTime ran out: a new OnBoardRequest unless the onboarding completed
    /// (or another OnBoardRequest went out meanwhile).
    pub(super) fn onboard_due(&mut self, c: u32, generation: u64) -> Vec<Outgoing> {
        if self.onboard_seq.get(&c) != Some(&generation)
            || !(self.owed_onboarding(c) || self.has_fault(Fault::OnboardingIgnoresComplete))
        {
            return Vec::new();
        }
        let loc = controller_loc(c);
        let to = self
            .dm
            .node(&loc)
            .map(|n| n.get("EndpointID").to_string())
            .unwrap_or_default();
        let intent = self.onboard_intent(&to, &loc);
        self.emit(vec![intent])
    }
}

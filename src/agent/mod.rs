//! The reference agent: a conforming USP Agent with a TR-181 subset data model, used as the
//! harness's embedded default EUT and, with named [`Fault`]s, to prove each TP-469 case can
//! fail. This module is the agent's logic without I/O: the I/O loop feeds it decoded
//! messages ([`Agent::handle`]), sends what it returns ([`Outgoing`]), and calls it back when
//! a requested timer expires ([`Agent::wake`]).
//!
//! Layout: `tr181` (the supported model's contents) on `schema` (its types and value
//! checks); `dm` (the instantiated model and path resolution); `read` (Get, GetInstances,
//! GetSupportedDM, GetSupportedProtocol), `write` (Add, Set, Delete), `operate` (commands and
//! their timers), `notify` (subscriptions, Notify, retries, TriggerAction), `periodic`
//! (`Device.LocalAgent.Periodic!`) and `onboard` (OnBoardRequest, OnBoardingComplete,
//! OnBoardingRestartTime) on top; `handler` dispatches and applies the message-level faults.
//! `run` is the I/O loop around it; `sessions` serves several Controllers at once when the
//! agent listens.
//!
//! Time: the agent never sleeps. Everything timed (command completion, Notify retries,
//! TimeToLive, Periodic!, OnBoardRequest restarts) is an [`Outgoing::Wake`] the I/O loop
//! turns into a call of [`Agent::wake`]; the clock is read through [`Agent::set_clock`]'s
//! function so tests can move it.

pub mod codes;
pub mod dm;
pub mod fault;
mod handler;
mod mqtt;
mod notify;
mod onboard;
mod operate;
mod periodic;
mod read;
pub mod run;
pub mod schema;
mod sessions;
pub mod tr181;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_tp469;
#[cfg(test)]
mod tests_tp469_52;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

pub use fault::Fault;

use crate::usp::pb;
use dm::{Dm, Loc, Quirks};

/// What the I/O loop tells the agent about itself and the Controller it serves.
#[derive(Clone, Debug, Default)]
pub struct AgentConfig {
    /// The agent's Endpoint ID (`Device.LocalAgent.EndpointID`).
    pub endpoint_id: String,
    /// The harness Controller's Endpoint ID; `Device.LocalAgent.Controller.1.` is created for it.
    pub controller_id: String,
    /// Faults to inject (the I/O-level ones are only recorded here).
    pub faults: Vec<Fault>,
    /// Reported as `Device.DeviceInfo.SoftwareVersion` and `Device.LocalAgent.SoftwareVersion`.
    pub software_version: String,
}

/// Work the agent asks the I/O loop to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    /// Send `msg` to the Controller whose Endpoint ID is `to`, now.
    Send {
        /// Destination Endpoint ID.
        to: String,
        /// The message (its header carries msg_id and msg_type already).
        msg: pb::Msg,
    },
    /// Call [`Agent::wake`] with `timer` once `after` has elapsed (asynchronous command
    /// completion, Notify retry, Subscription TimeToLive).
    Wake {
        /// Delay from now.
        after: Duration,
        /// Opaque token to hand back.
        timer: u64,
    },
    /// `Device.Reboot()` was operated: after sending everything before this item, close the
    /// connections, call [`Agent::reboot`], reconnect and send what [`Agent::boot`] returns.
    Reboot,
}

/// Pending timed work, by token.
#[derive(Clone, Debug)]
enum Timer {
    /// An asynchronous command tracked by `Device.LocalAgent.Request.{request}.` completes
    /// with these output arguments.
    Complete {
        request: u32,
        obj: Loc,
        command: &'static str,
        output: BTreeMap<String, String>,
    },
    /// Retransmit a Notify that has not been answered (R-NOT.1).
    Retry { msg_id: String },
    /// A Subscription's TimeToLive ran out.
    Expire { sub: u32, generation: u64 },
    /// `Device.LocalAgent.Periodic!` falls due for Controller instance `controller`.
    Periodic { controller: u32, generation: u64 },
    /// OnBoardingRestartTime ran out for Controller instance `controller`.
    Onboard { controller: u32, generation: u64 },
}

/// A Notify sent with `send_resp=true` and not yet answered.
#[derive(Clone, Debug)]
struct Pending {
    to: String,
    msg: pb::Msg,
    attempt: u32,
    elapsed: f64,
    next_delay: f64,
    expiration: u64,
    m: u32,
    k: u32,
    /// For an OnBoardRequest: the Controller instance and the request's sequence number.
    onboard: Option<(u32, u64)>,
}

/// Bookkeeping for a Subscription's TimeToLive.
#[derive(Clone, Debug)]
struct Ttl {
    created: SystemTime,
    ttl: u64,
    generation: u64,
}

/// The reference USP Agent's state.
pub struct Agent {
    cfg: AgentConfig,
    faults: BTreeSet<Fault>,
    dm: Dm,
    clock: fn() -> SystemTime,
    next_msg: u64,
    next_timer: u64,
    timers: BTreeMap<u64, Timer>,
    pending: BTreeMap<String, Pending>,
    ttl: BTreeMap<u32, Ttl>,
    /// Cause, CommandKey and Reason of the next `Device.Boot!`.
    boot_cause: (String, String, String),
    /// Subscriptions deleted while the `notify-after-unsubscribe` fault is on, still notified.
    ghosts: Vec<dm::Node>,
    /// Periodic! schedule per Controller instance.
    periodic: BTreeMap<u32, periodic::Schedule>,
    /// Controller instances whose onboarding is under way (Enable, OnBoardingComplete false).
    onboarding: BTreeSet<u32>,
    /// Sequence number of the last OnBoardRequest sent to each Controller instance.
    onboard_seq: BTreeMap<u32, u64>,
    next_generation: u64,
}

impl Agent {
    /// A freshly booted agent: defaults, one MTP, one Role, and Controller.1 for
    /// `cfg.controller_id` (enabled, so it receives notifications).
    pub fn new(cfg: AgentConfig) -> Agent {
        let clock: fn() -> SystemTime = SystemTime::now;
        let now = clock();
        let mut agent = Agent {
            faults: cfg.faults.iter().copied().collect(),
            cfg,
            dm: Dm::new(now),
            clock,
            next_msg: 0,
            next_timer: 0,
            timers: BTreeMap::new(),
            pending: BTreeMap::new(),
            ttl: BTreeMap::new(),
            boot_cause: ("LocalReboot".into(), String::new(), String::new()),
            ghosts: Vec::new(),
            periodic: BTreeMap::new(),
            onboarding: BTreeSet::new(),
            onboard_seq: BTreeMap::new(),
            next_generation: 0,
        };
        agent.populate();
        agent
    }

    fn populate(&mut self) {
        let dev = Loc::root();
        let la = dev.child("LocalAgent");
        let version = self.cfg.software_version.clone();
        self.dm.store(
            &dev.child("DeviceInfo"),
            &[],
            "SoftwareVersion",
            version.clone(),
        );
        self.dm.store(&la, &[], "SoftwareVersion", version);
        self.dm
            .store(&la, &[], "EndpointID", self.cfg.endpoint_id.clone());
        let controller = self.cfg.controller_id.clone();
        let rows: [(Loc, Vec<(&'static str, String)>); 4] = [
            (
                la.child("MTP"),
                vec![("Enable", "true".into()), ("Status", "Up".into())],
            ),
            (
                la.child("ControllerTrust").child("Role"),
                vec![("Enable", "true".into()), ("Name", "Full Access".into())],
            ),
            (
                la.child("Controller"),
                vec![
                    ("EndpointID", controller),
                    ("Enable", "true".into()),
                    (
                        "AssignedRole",
                        "Device.LocalAgent.ControllerTrust.Role.1".into(),
                    ),
                    // The pre-provisioned Controller is onboarded already; otherwise the
                    // agent would owe it an OnBoardRequest at every boot (R-NOT.5).
                    ("OnBoardingComplete", "true".into()),
                ],
            ),
            (
                la.child("Controller").inst(1).child("MTP"),
                vec![("Enable", "true".into())],
            ),
        ];
        for (table, values) in rows {
            let Some(def) = Dm::def_of(&table) else {
                continue;
            };
            if let Ok(n) = self.dm.add_row(&table, def) {
                let row = table.inst(n);
                self.dm.store(&row, &[], "Alias", format!("cpe-{n}"));
                for (name, v) in values {
                    if let Some(p) = def.param(name) {
                        self.dm.store(&row, &[], p.name, v);
                    }
                }
            }
        }
    }

    /// Replaces the wall clock (for deterministic `UpTime` and `CreationDate` in tests).
    pub fn set_clock(&mut self, clock: fn() -> SystemTime) {
        self.clock = clock;
        let now = clock();
        self.dm.now = now;
        self.dm.booted = now;
    }

    /// The configuration the agent was built with.
    pub fn config(&self) -> &AgentConfig {
        &self.cfg
    }

    /// True if fault `f` is injected.
    pub fn has_fault(&self, f: Fault) -> bool {
        self.faults.contains(&f)
    }

    fn quirks(&self) -> Quirks {
        Quirks {
            ignore_expression: self.has_fault(Fault::SearchIgnoresExpression),
            off_by_one: self.has_fault(Fault::SearchOffByOne),
            no_key_addressing: self.has_fault(Fault::NoUniqueKeyAddressing),
        }
    }

    /// Called once the agent is up (initially and after [`Agent::reboot`]): emits `Device.Boot!`
    /// to every subscribed Controller.
    pub fn boot(&mut self) -> Vec<Outgoing> {
        self.dm.now = (self.clock)();
        let intents = self.boot_intents();
        let out = self.emit(intents);
        self.finish(out)
    }

    /// Processes one message from Controller `from_controller` and returns the response (with
    /// the request's msg_id) followed by any notifications and timers. Responses and Errors
    /// from the Controller (NotifyResp) are consumed and produce nothing.
    pub fn handle(&mut self, from_controller: &str, msg: pb::Msg) -> Vec<Outgoing> {
        self.dm.now = (self.clock)();
        // A TimeToLive that has run out removes its Subscription before the request is
        // answered, however late the I/O loop's timer wakes (a busy machine): a Get or
        // GetInstances sent after the expiry never sees it.
        let mut out = self.expire_overdue();
        out.extend(self.dispatch(from_controller, msg));
        self.finish(out)
    }

    /// Performs the timed work scheduled as [`Outgoing::Wake`] with this `timer`; unknown or
    /// stale tokens (after a reboot, an answered Notify, a cancelled command) do nothing.
    pub fn wake(&mut self, timer: u64) -> Vec<Outgoing> {
        self.dm.now = (self.clock)();
        let Some(t) = self.timers.remove(&timer) else {
            return Vec::new();
        };
        let out = match t {
            Timer::Complete {
                request,
                obj,
                command,
                output,
            } => self.complete(request, &obj, command, output),
            Timer::Retry { msg_id } => self.retry(&msg_id),
            Timer::Expire { sub, generation } => self.expire(sub, generation),
            Timer::Periodic {
                controller,
                generation,
            } => self.periodic_due(controller, generation),
            Timer::Onboard {
                controller,
                generation,
            } => self.onboard_due(controller, generation),
        };
        self.finish(out)
    }

    /// Restarts the agent's volatile state as a reboot would: non-persistent Subscriptions and
    /// the Request table are removed, pending retries and timers are dropped (R-NOT.4), UpTime
    /// restarts. Configuration and instance numbers survive (R-ARC.8); so does an unfinished
    /// onboarding, which [`Agent::boot`] restarts (R-NOT.5). Call [`Agent::boot`] next.
    pub fn reboot(&mut self) {
        let now = (self.clock)();
        self.dm.now = now;
        self.dm.booted = now;
        let la = Loc::root().child("LocalAgent");
        for row in self.dm.rows(&la.child("Request")) {
            self.dm.remove(&row);
        }
        for row in self.dm.rows(&la.child("Subscription")) {
            let persistent = self
                .dm
                .node(&row)
                .is_some_and(|n| n.get("Persistent") == "true");
            if !persistent {
                self.dm.remove(&row);
            }
        }
        self.timers.clear();
        self.pending.clear();
        self.ttl.clear();
        self.ghosts.clear();
        self.periodic.clear();
        self.onboarding.clear();
    }

    fn new_timer(&mut self, t: Timer) -> u64 {
        self.next_timer += 1;
        self.timers.insert(self.next_timer, t);
        self.next_timer
    }

    fn new_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    fn new_msg_id(&mut self) -> String {
        self.next_msg += 1;
        format!("notify-{}", self.next_msg)
    }

    /// Common tail of every entry point: the timed state that follows the data model
    /// (TimeToLive, Periodic!, onboarding) and output-level faults.
    fn finish(&mut self, mut out: Vec<Outgoing>) -> Vec<Outgoing> {
        out.extend(self.sync_ttl());
        out.extend(self.sync_periodic());
        out.extend(self.sync_onboarding());
        if self.has_fault(Fault::WrongErrorCode) {
            for o in &mut out {
                if let Outgoing::Send { msg, .. } = o {
                    handler::rewrite_error_codes(msg);
                }
            }
        }
        out
    }

    /// Schedules (or reschedules) the expiry of every Subscription with a TimeToLive, counting
    /// from when the agent first saw the instance (its creation).
    fn sync_ttl(&mut self) -> Vec<Outgoing> {
        if self.has_fault(Fault::IgnoreTimeToLive) {
            return Vec::new();
        }
        let table = Loc::root().child("LocalAgent").child("Subscription");
        let now = self.dm.now;
        let rows: Vec<(u32, u64)> = self
            .dm
            .rows(&table)
            .iter()
            .filter_map(|l| {
                let ttl = self.dm.node(l)?.get("TimeToLive").parse().unwrap_or(0);
                Some((l.last_inst()?, ttl))
            })
            .collect();
        self.ttl.retain(|k, _| rows.iter().any(|(n, _)| n == k));
        let mut out = Vec::new();
        for (inst, ttl) in rows {
            let entry = self.ttl.entry(inst).or_insert(Ttl {
                created: now,
                ttl: 0,
                generation: 0,
            });
            if entry.ttl == ttl {
                continue;
            }
            entry.ttl = ttl;
            let age = now.duration_since(entry.created).unwrap_or_default();
            let remaining = Duration::from_secs(ttl).saturating_sub(age);
            if ttl == 0 {
                entry.generation = 0;
                continue;
            }
            let generation = self.new_generation();
            if let Some(e) = self.ttl.get_mut(&inst) {
                e.generation = generation;
            }
            let timer = self.new_timer(Timer::Expire {
                sub: inst,
                generation,
            });
            out.push(Outgoing::Wake {
                after: remaining,
                timer,
            });
        }
        out
    }

    /// Expires, now, every Subscription whose TimeToLive has run out (its timer may not have
    /// woken yet).
    fn expire_overdue(&mut self) -> Vec<Outgoing> {
        let now = self.dm.now;
        let due: Vec<(u32, u64)> = self
            .ttl
            .iter()
            .filter(|(_, t)| t.ttl > 0 && t.generation != 0)
            .filter(|(_, t)| {
                now.duration_since(t.created)
                    .is_ok_and(|age| age >= Duration::from_secs(t.ttl))
            })
            .map(|(sub, t)| (*sub, t.generation))
            .collect();
        due.into_iter()
            .flat_map(|(sub, generation)| self.expire(sub, generation))
            .collect()
    }

    fn expire(&mut self, sub: u32, generation: u64) -> Vec<Outgoing> {
        if self.ttl.get(&sub).map(|t| t.generation) != Some(generation) {
            return Vec::new();
        }
        let loc = Loc::root()
            .child("LocalAgent")
            .child("Subscription")
            .inst(sub);
        if self.dm.node(&loc).is_none() {
            return Vec::new();
        }
        let intents = self.deleted(&loc);
        let removed = self.dm.remove(&loc);
        if self.has_fault(Fault::NotifyAfterExpiry)
            && let Some(node) = removed
        {
            self.ghosts.push(node);
        }
        self.ttl.remove(&sub);
        self.emit(intents)
    }
}

//! Subscriptions and notifications: which `Device.LocalAgent.Subscription.{i}.` instances a
//! data model event concerns (Enable, NotifType, ReferenceList with partial and search paths,
//! Recipient), what they do about it (TriggerAction: Notify, Config with
//! TriggerConfigSettings, or both), the Notify messages that follow (subscription_id = the
//! Subscription's ID, send_resp = NotifRetry, R-NOT.7), and the retry schedule of
//! R-NOT.1/R-NOT.2 for those that want a NotifyResp.

use std::collections::BTreeMap;
use std::time::Duration;

use super::dm::{Dm, Leaf, Loc, Node, Step, reference_loc};
use super::handler::msg;
use super::schema::config_setting;
use super::tr181::{MANUFACTURER_OUI, PRODUCT_CLASS, SERIAL_NUMBER};
use super::{Agent, Fault, Outgoing, Pending, Timer};
use crate::usp::path::{self, Path, PathKind, Segment};
use crate::usp::pb::{self, body::MsgBody, header::MsgType, notify::Notification};

/// A notification decided but not yet sent; sent only once the change that caused it is
/// committed, so a rolled-back request notifies nobody.
#[derive(Clone, Debug)]
pub(super) struct Intent {
    subscription_id: String,
    to: String,
    retry: bool,
    expiration: u64,
    m: u32,
    k: u32,
    notification: Notification,
    /// Send the Notify (TriggerAction Notify or NotifyAndConfig).
    notify: bool,
    /// TriggerConfigSettings to apply (TriggerAction Config or NotifyAndConfig).
    config: Vec<(String, String)>,
    /// For an OnBoardRequest: the Controller instance it is for.
    onboard: Option<u32>,
}

/// An enabled Subscription that wants the event, with its delivery parameters.
pub(super) struct Sub {
    id: String,
    to: String,
    /// The Subscription instance (None for a `notify-after-unsubscribe` ghost).
    loc: Option<Loc>,
    pub(super) controller: Loc,
    retry: bool,
    expiration: u64,
    m: u32,
    k: u32,
    notify: bool,
    config: Vec<(String, String)>,
}

impl Sub {
    pub(super) fn intent(&self, notification: Notification) -> Intent {
        Intent {
            subscription_id: self.id.clone(),
            to: self.to.clone(),
            retry: self.retry,
            expiration: self.expiration,
            m: self.m,
            k: self.k,
            notification,
            notify: self.notify,
            config: self.config.clone(),
            onboard: None,
        }
    }
}

/// The retry algorithm's wait before retry `n` (1-based): the middle of
/// `[m·(k/1000)^(n-1), m·(k/1000)^n]`, with the tenth range repeated from then on (R-NOT.2).
/// The middle keeps clear of both edges TP-469 1.54 measures.
pub(super) fn retry_delay(m: u32, k: u32, n: u32) -> f64 {
    let e = n.clamp(1, 10) as i32;
    let ratio = f64::from(k) / 1000.0;
    let lo = f64::from(m) * ratio.powi(e - 1);
    let hi = lo * ratio;
    ((lo + hi) / 2.0).clamp(0.0, 1.0e9)
}

impl Agent {
    /// Enabled Subscriptions of `notif_type` whose ReferenceList has an entry `wants` accepts,
    /// with what each does: notify its Recipient (if that is an enabled Controller) and/or
    /// apply its TriggerConfigSettings.
    pub(super) fn subscribers(&self, notif_type: &str, wants: impl Fn(&Path) -> bool) -> Vec<Sub> {
        let table = Loc::root().child("LocalAgent").child("Subscription");
        let rows = self.dm.rows(&table);
        let live = rows
            .iter()
            .filter_map(|r| Some((Some(r.clone()), self.dm.node(r)?)));
        let ghosts = self.ghosts.iter().map(|n| (None, n));
        let nodes: Vec<(Option<Loc>, &Node)> = live.chain(ghosts).collect();
        let mut out = Vec::new();
        for (loc, n) in nodes {
            if n.get("Enable") != "true" || n.get("NotifType") != notif_type {
                continue;
            }
            let matched = n
                .get("ReferenceList")
                .split(',')
                .filter_map(|r| path::parse(r.trim()).ok())
                .any(|p| wants(&p));
            if !matched {
                continue;
            }
            let action = if self.has_fault(Fault::IgnoreTriggerAction) {
                "Notify"
            } else {
                n.get("TriggerAction")
            };
            let (mut notify, configure) = match action {
                "Config" => (false, true),
                "NotifyAndConfig" => (true, true),
                _ => (true, false),
            };
            let config: Vec<(String, String)> = if configure {
                n.get("TriggerConfigSettings")
                    .split(',')
                    .filter_map(|item| config_setting(item.trim()))
                    .collect()
            } else {
                Vec::new()
            };
            let controller = reference_loc(n.get("Recipient"));
            let recipient = controller.as_ref().and_then(|l| self.dm.node(l));
            let enabled = recipient
                .is_some_and(|c| c.get("Enable") == "true" && !c.get("EndpointID").is_empty());
            notify &= enabled;
            if !notify && config.is_empty() {
                continue;
            }
            let get = |name: &str, default: u32| {
                recipient
                    .and_then(|c| c.get(name).parse().ok())
                    .unwrap_or(default)
            };
            out.push(Sub {
                loc,
                id: n.get("ID").to_string(),
                to: recipient
                    .map(|c| c.get("EndpointID").to_string())
                    .unwrap_or_default(),
                controller: controller.unwrap_or_else(Loc::root),
                retry: n.get("NotifRetry") == "true",
                expiration: n.get("NotifExpiration").parse().unwrap_or(0),
                m: get("USPNotifRetryMinimumWaitInterval", 5),
                k: get("USPNotifRetryIntervalMultiplier", 2000),
                notify,
                config,
            });
        }
        out
    }

    /// Applies TriggerConfigSettings as the Agent's own Set: each `<path>=<value>` is written
    /// where it resolves, with the usual checks; what cannot be written is skipped. Returns
    /// the ValueChange intents of what changed.
    fn apply_config(&mut self, settings: &[(String, String)]) -> Vec<Intent> {
        let mut intents = Vec::new();
        for (p, v) in settings {
            let Ok(parsed) = path::parse(p) else { continue };
            let Ok(r) = self.dm.resolve(&parsed, Default::default()) else {
                continue;
            };
            let Leaf::Param(pd) = r.leaf else { continue };
            for loc in &r.locs {
                if let Ok(w) = self.write_param(loc, r.def, pd.name, v, super::write::Mode::Update)
                    && w.changed
                {
                    intents.extend(self.value_changed(&w.obj, w.name, &w.value));
                }
            }
        }
        intents
    }

    /// True if pattern segments `segs` match `loc` step by step (same length).
    pub(super) fn matches_exact(&self, segs: &[Segment], loc: &Loc) -> bool {
        segs.len() == loc.0.len() && self.matches_prefix(segs, loc)
    }

    /// True if pattern segments `segs` match the first `segs.len()` steps of `loc`.
    pub(super) fn matches_prefix(&self, segs: &[Segment], loc: &Loc) -> bool {
        if segs.len() > loc.0.len() {
            return false;
        }
        segs.iter()
            .zip(&loc.0)
            .enumerate()
            .all(|(i, (seg, step))| match (seg, step) {
                (Segment::Name(a), Step::Name(b)) => a == b,
                (Segment::Instance(a), Step::Inst(b)) => a == b,
                (Segment::Wildcard, Step::Inst(_)) => true,
                (Segment::Search(conds), Step::Inst(_)) => {
                    let here = Loc(loc.0[..=i].to_vec());
                    match (self.dm.node(&here), Dm::def_of(&here)) {
                        (Some(node), Some(def)) => self.dm.matches(node, def, conds, false),
                        _ => false,
                    }
                }
                _ => false,
            })
    }

    /// ValueChange: a Parameter Path matching the parameter, or an Object Path above it.
    pub(super) fn value_changed(&self, obj: &Loc, param: &str, value: &str) -> Vec<Intent> {
        let subs = self.subscribers("ValueChange", |p| match p.kind {
            PathKind::Parameter => {
                p.leaf_name() == Some(param) && self.matches_exact(p.object_segments(), obj)
            }
            PathKind::Object => self.matches_prefix(&p.segments, obj),
            _ => false,
        });
        subs.iter()
            .map(|s| {
                s.intent(Notification::ValueChange(pb::notify::ValueChange {
                    param_path: obj.leaf(param),
                    param_value: value.to_string(),
                }))
            })
            .collect()
    }

    /// ObjectCreation: the table's Object Path, or an instance pattern matching the instance.
    /// A Subscription is not told about its own creation.
    pub(super) fn created(&self, loc: &Loc) -> Vec<Intent> {
        let mut subs = self.subscribers("ObjectCreation", |p| {
            p.kind == PathKind::Object
                && (self.matches_exact(&p.segments, loc)
                    || self.matches_exact(&p.segments, &loc.parent()))
        });
        subs.retain(|s| s.loc.as_ref() != Some(loc));
        let keys: BTreeMap<String, String> = if self.has_fault(Fault::NoUniqueKeys) {
            BTreeMap::new()
        } else {
            self.dm.unique_keys(loc).into_iter().collect()
        };
        subs.iter()
            .map(|s| {
                s.intent(Notification::ObjCreation(pb::notify::ObjectCreation {
                    obj_path: loc.to_string(),
                    unique_keys: keys.clone(),
                }))
            })
            .collect()
    }

    /// ObjectDeletion for the instance at `loc` and every instance below it; call before
    /// removing them, so search expressions in ReferenceLists still see their values.
    pub(super) fn deleted(&self, loc: &Loc) -> Vec<Intent> {
        let Some(def) = Dm::def_of(loc) else {
            return Vec::new();
        };
        let mut objects = Vec::new();
        self.dm.walk(loc, def, 0, &mut objects);
        let mut out = Vec::new();
        for (l, d) in objects {
            if !d.multi || l.last_inst().is_none() {
                continue;
            }
            let mut subs = self.subscribers("ObjectDeletion", |p| {
                p.kind == PathKind::Object
                    && (self.matches_exact(&p.segments, &l)
                        || self.matches_exact(&p.segments, &l.parent()))
            });
            // Nor about its own deletion.
            subs.retain(|s| s.loc.as_ref().is_none_or(|own| !own.0.starts_with(&l.0)));
            out.extend(subs.iter().map(|s| {
                s.intent(Notification::ObjDeletion(pb::notify::ObjectDeletion {
                    obj_path: l.to_string(),
                }))
            }));
        }
        out
    }

    /// OperationComplete for `command` (with `()`) of the object at `obj`.
    pub(super) fn completed(
        &self,
        obj: &Loc,
        command: &str,
        command_key: &str,
        resp: pb::notify::operation_complete::OperationResp,
    ) -> Vec<Intent> {
        let subs = self.subscribers("OperationComplete", |p| match p.kind {
            PathKind::Command => {
                p.leaf_name().map(|n| format!("{n}()")).as_deref() == Some(command)
                    && self.matches_exact(p.object_segments(), obj)
            }
            PathKind::Object => self.matches_prefix(&p.segments, obj),
            _ => false,
        });
        subs.iter()
            .map(|s| {
                s.intent(Notification::OperComplete(pb::notify::OperationComplete {
                    obj_path: obj.to_string(),
                    command_name: command.to_string(),
                    command_key: command_key.to_string(),
                    operation_resp: Some(resp.clone()),
                }))
            })
            .collect()
    }

    /// `Device.Boot!` for every Event subscription, with the recipient's BootParameters in
    /// ParameterMap.
    pub(super) fn boot_intents(&self) -> Vec<Intent> {
        let root = Loc::root();
        let subs = self.subscribers("Event", |p| match p.kind {
            PathKind::Event => {
                p.leaf_name() == Some("Boot") && self.matches_exact(p.object_segments(), &root)
            }
            PathKind::Object => self.matches_prefix(&p.segments, &root),
            _ => false,
        });
        let (cause, key, reason) = self.boot_cause.clone();
        subs.iter()
            .map(|s| {
                let params = BTreeMap::from([
                    ("Cause".to_string(), cause.clone()),
                    ("CommandKey".to_string(), key.clone()),
                    ("Reason".to_string(), reason.clone()),
                    ("FirmwareUpdated".to_string(), "false".to_string()),
                    (
                        "ParameterMap".to_string(),
                        self.parameter_map(&s.controller),
                    ),
                ]);
                s.intent(Notification::Event(pb::notify::Event {
                    obj_path: root.to_string(),
                    event_name: "Boot!".to_string(),
                    params,
                }))
            })
            .collect()
    }

    /// The JSON object of the enabled BootParameters' values for Controller `controller`.
    fn parameter_map(&self, controller: &Loc) -> String {
        let mut values = BTreeMap::new();
        for bp in self.dm.rows(&controller.child("BootParameter")) {
            let Some(n) = self.dm.node(&bp) else { continue };
            if n.get("Enable") != "true" {
                continue;
            }
            let Ok(p) = path::parse(n.get("ParameterName")) else {
                continue;
            };
            let Ok(r) = self.dm.resolve(&p, Default::default()) else {
                continue;
            };
            if let super::dm::Leaf::Param(pd) = r.leaf {
                for loc in &r.locs {
                    if let Some(node) = self.dm.node(loc) {
                        values.insert(loc.leaf(pd.name), self.dm.value(node, pd));
                    }
                }
            }
        }
        let body: Vec<String> = values
            .iter()
            .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    /// An OnBoardRequest for the Controller with Endpoint ID `to` (R-NOT.5, R-NOT.6: always
    /// send_resp=true, retried until answered, no subscription_id, never expires).
    pub(super) fn onboard_intent(&self, to: &str, controller: &Loc) -> Intent {
        let node = self.dm.node(controller);
        let get = |n: &str, d: u32| node.and_then(|c| c.get(n).parse().ok()).unwrap_or(d);
        Intent {
            subscription_id: String::new(),
            to: to.to_string(),
            retry: true,
            expiration: 0,
            m: get("USPNotifRetryMinimumWaitInterval", 5),
            k: get("USPNotifRetryIntervalMultiplier", 2000),
            notification: Notification::OnBoardReq(pb::notify::OnBoardRequest {
                oui: MANUFACTURER_OUI.to_string(),
                product_class: if self.has_fault(Fault::OnboardNoProductClass) {
                    String::new()
                } else {
                    PRODUCT_CLASS.to_string()
                },
                serial_number: SERIAL_NUMBER.to_string(),
                agent_supported_protocol_versions: super::read::PROTOCOL_VERSIONS.to_string(),
            }),
            notify: true,
            config: Vec::new(),
            onboard: controller.last_inst(),
        }
    }

    /// Carries out intents: applies TriggerConfigSettings, then turns the notifying ones into
    /// Notify messages (and retry timers for those with send_resp). Changes made by
    /// TriggerConfigSettings notify in turn, but trigger no further configuration.
    pub(super) fn emit(&mut self, intents: Vec<Intent>) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let mut follow = Vec::new();
        for it in intents {
            if !it.config.is_empty() {
                follow.extend(self.apply_config(&it.config));
            }
            if !it.notify || self.has_fault(Fault::DropNotification) {
                continue;
            }
            let onboard = it.onboard.map(|c| {
                let seq = self.onboard_seq.entry(c).or_default();
                *seq += 1;
                (c, *seq)
            });
            let msg_id = self.new_msg_id();
            let notify = pb::Notify {
                subscription_id: it.subscription_id,
                send_resp: it.retry,
                notification: Some(it.notification),
            };
            let m = msg(
                &msg_id,
                MsgType::Notify,
                MsgBody::Request(pb::Request {
                    req_type: Some(pb::request::ReqType::Notify(notify)),
                }),
            );
            out.push(Outgoing::Send {
                to: it.to.clone(),
                msg: m.clone(),
            });
            if it.retry {
                self.pending.insert(
                    msg_id.clone(),
                    Pending {
                        to: it.to,
                        msg: m,
                        attempt: 0,
                        elapsed: 0.0,
                        next_delay: 0.0,
                        expiration: it.expiration,
                        m: it.m,
                        k: it.k,
                        onboard,
                    },
                );
                if !self.has_fault(Fault::NoNotifRetry) {
                    out.extend(self.schedule_retry(&msg_id));
                }
            }
        }
        if !follow.is_empty() {
            for f in &mut follow {
                f.config.clear();
            }
            out.extend(self.emit(follow));
        }
        out
    }

    /// Schedules the next retry of pending Notify `msg_id`, unless NotifExpiration would have
    /// passed by then (R-NOT.2), in which case it is given up.
    fn schedule_retry(&mut self, msg_id: &str) -> Vec<Outgoing> {
        let Some(p) = self.pending.get_mut(msg_id) else {
            return Vec::new();
        };
        let fixed = self.faults.iter().find_map(|f| match f {
            Fault::NotifRetryDelays(first, then) => {
                Some(if p.attempt == 0 { *first } else { *then })
            }
            _ => None,
        });
        let delay = if let Some(ms) = fixed {
            f64::from(ms) / 1000.0
        } else if self.faults.contains(&Fault::NotifRetryTooSoon) {
            1.0
        } else {
            retry_delay(p.m, p.k, p.attempt + 1)
        };
        let expires = !self.faults.contains(&Fault::IgnoreNotifExpiration) && p.expiration > 0;
        if expires && p.elapsed + delay > p.expiration as f64 {
            self.pending.remove(msg_id);
            return Vec::new();
        }
        p.next_delay = delay;
        let timer = self.new_timer(Timer::Retry {
            msg_id: msg_id.to_string(),
        });
        vec![Outgoing::Wake {
            after: Duration::from_secs_f64(delay),
            timer,
        }]
    }

    /// A retry timer fired: resend the same Notify (same msg_id) if still unanswered. An
    /// OnBoardRequest stops when its Controller is gone or disabled.
    pub(super) fn retry(&mut self, msg_id: &str) -> Vec<Outgoing> {
        if let Some((c, _)) = self.pending.get(msg_id).and_then(|p| p.onboard)
            && !self.controller_enabled(c)
        {
            self.pending.remove(msg_id);
            return Vec::new();
        }
        let Some(p) = self.pending.get_mut(msg_id) else {
            return Vec::new();
        };
        p.elapsed += p.next_delay;
        p.attempt += 1;
        let mut out = vec![Outgoing::Send {
            to: p.to.clone(),
            msg: p.msg.clone(),
        }];
        out.extend(self.schedule_retry(msg_id));
        out
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_fall_in_tr369_ranges() {
        // Defaults m=5, k=2000: #1 in 5-10 s, #2 in 10-20 s, #10 and later in 2560-5120 s.
        assert!((5.0..=10.0).contains(&retry_delay(5, 2000, 1)));
        assert!((10.0..=20.0).contains(&retry_delay(5, 2000, 2)));
        assert!((2560.0..=5120.0).contains(&retry_delay(5, 2000, 10)));
        assert_eq!(retry_delay(5, 2000, 10), retry_delay(5, 2000, 42));
        assert!(retry_delay(65535, 65535, 10) <= 1.0e9);
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}

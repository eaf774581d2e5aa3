//! `Device.LocalAgent.Periodic!`: for each enabled Controller that some enabled Event
//! Subscription (Recipient = that Controller) subscribes to it, the agent emits the event at
//! `PeriodicNotifTime` plus integer multiples of `PeriodicNotifInterval` (TR-181
//! Controller.{i}.PeriodicNotifInterval/PeriodicNotifTime). With the Unknown Time
//! (`0001-01-01T00:00:00Z`) the phase is the moment the schedule starts. The schedule is
//! recomputed whenever the Controller's two parameters change, and dropped when nobody
//! subscribes any more; timers of an outdated schedule are recognised by their generation.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::dm::Loc;
use super::notify::Intent;
use super::{Agent, Fault, Outgoing, Timer};
use crate::usp::path::PathKind;
use crate::usp::pb::{self, notify::Notification};

/// How many seconds the `periodic-wrong-interval` fault adds to every interval.
pub const WRONG_BY: u64 = 10;

/// The TR-106 Unknown Time.
const UNKNOWN_TIME: &str = "0001-01-01T00:00:00Z";

/// One Controller's Periodic! schedule.
#[derive(Clone, Debug)]
pub(super) struct Schedule {
    interval: u64,
    time: String,
    next_at: SystemTime,
    generation: u64,
}

impl Agent {
    /// Periodic! notifications (and TriggerAction configs) for the Subscriptions whose
    /// Recipient is `controller`.
    fn periodic_intents(&self, controller: &Loc) -> Vec<Intent> {
        let la = Loc::root().child("LocalAgent");
        let subs = self.subscribers("Event", |p| match p.kind {
            PathKind::Event => {
                p.leaf_name() == Some("Periodic") && self.matches_exact(p.object_segments(), &la)
            }
            PathKind::Object => self.matches_prefix(&p.segments, &la),
            _ => false,
        });
        subs.iter()
            .filter(|s| s.controller == *controller)
            .map(|s| {
                s.intent(Notification::Event(pb::notify::Event {
                    obj_path: la.to_string(),
                    event_name: "Periodic!".to_string(),
                    params: BTreeMap::new(),
                }))
            })
            .collect()
    }

    /// Starts, restarts or stops each Controller's schedule to match the data model.
    pub(super) fn sync_periodic(&mut self) -> Vec<Outgoing> {
        let table = Loc::root().child("LocalAgent").child("Controller");
        let mut wanted = BTreeMap::new();
        for row in self.dm.rows(&table) {
            let (Some(n), Some(node)) = (row.last_inst(), self.dm.node(&row)) else {
                continue;
            };
            if node.get("Enable") != "true" || self.periodic_intents(&row).is_empty() {
                continue;
            }
            let interval: u64 = node
                .get("PeriodicNotifInterval")
                .parse()
                .unwrap_or(86_400)
                .max(1);
            wanted.insert(n, (interval, node.get("PeriodicNotifTime").to_string()));
        }
        self.periodic.retain(|c, _| wanted.contains_key(c));
        let now = self.dm.now;
        let mut out = Vec::new();
        for (c, (interval, time)) in wanted {
            if self
                .periodic
                .get(&c)
                .is_some_and(|s| s.interval == interval && s.time == time)
            {
                continue;
            }
            let next_at = next_time(now, interval, &time);
            let generation = self.new_generation();
            self.periodic.insert(
                c,
                Schedule {
                    interval,
                    time,
                    next_at,
                    generation,
                },
            );
            let timer = self.new_timer(Timer::Periodic {
                controller: c,
                generation,
            });
            out.push(Outgoing::Wake {
                after: next_at.duration_since(now).unwrap_or_default(),
                timer,
            });
        }
        out
    }

    /// A Periodic! falls due: notify, then schedule the next one.
    pub(super) fn periodic_due(&mut self, controller: u32, generation: u64) -> Vec<Outgoing> {
        let Some(s) = self.periodic.get(&controller).cloned() else {
            return Vec::new();
        };
        if s.generation != generation {
            return Vec::new();
        }
        let loc = Loc::root()
            .child("LocalAgent")
            .child("Controller")
            .inst(controller);
        let intents = self.periodic_intents(&loc);
        let mut out = self.emit(intents);
        let now = self.dm.now;
        let every = self.faults.iter().find_map(|f| match f {
            Fault::PeriodicEvery(ms) => Some(Duration::from_millis(u64::from(*ms))),
            _ => None,
        });
        let step = if let Some(d) = every {
            d
        } else if self.has_fault(Fault::PeriodicWrongInterval) {
            Duration::from_secs(s.interval + WRONG_BY)
        } else {
            Duration::from_secs(s.interval)
        };
        let mut next_at = s.next_at + step;
        if next_at <= now {
            // Woken late (a suspended host): skip the missed ones, keep the phase.
            next_at = next_time(now, s.interval, &s.time);
        }
        if let Some(e) = self.periodic.get_mut(&controller) {
            e.next_at = next_at;
        }
        let timer = self.new_timer(Timer::Periodic {
            controller,
            generation,
        });
        out.push(Outgoing::Wake {
            after: next_at.duration_since(now).unwrap_or_default(),
            timer,
        });
        out
    }
}

/// The first time after `now` that is `time` plus a multiple of `interval` seconds; with the
/// Unknown Time (or an unreadable one), `now + interval`.
pub(super) fn next_time(now: SystemTime, interval: u64, time: &str) -> SystemTime {
    let interval = interval.max(1);
    let now_s = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let reference = if time == UNKNOWN_TIME {
        None
    } else {
        parse_date_time(time)
    };
    let Some(reference) = reference else {
        return now + Duration::from_secs(interval);
    };
    let i = interval as f64;
    let mut next = reference + (((now_s - reference) / i).floor() + 1.0) * i;
    if next <= now_s {
        next += i;
    }
    UNIX_EPOCH + Duration::from_secs_f64(next.max(0.0))
}

/// Seconds since the Unix epoch of a TR-106 dateTime (no zone = UTC here), or None if it is
/// not one.
pub(super) fn parse_date_time(v: &str) -> Option<f64> {
    if !super::schema::is_date_time(v) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| v.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &v[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        frac = format!("0.{}", &r[..digits]).parse().unwrap_or(0.0);
        rest = &r[digits..];
    }
    let offset = match rest.as_bytes().first() {
        Some(b'+' | b'-') => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
        _ => 0,
    };
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset) as f64 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_parse_to_epoch_seconds() {
        assert_eq!(parse_date_time("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_date_time("2019-01-01T00:00:00Z"),
            Some(1_546_300_800.0)
        );
        assert_eq!(
            parse_date_time("2019-01-01T01:00:00+01:00"),
            Some(1_546_300_800.0)
        );
        assert_eq!(
            parse_date_time("2000-02-29T12:00:00.5Z"),
            Some(951_825_600.5)
        );
        assert!(parse_date_time("0001-01-01T00:00:00Z").unwrap() < 0.0);
        assert_eq!(parse_date_time("2019-13-01T00:00:00Z"), None);
        assert_eq!(parse_date_time("nope"), None);
    }

    #[test]
    fn next_time_keeps_the_phase() {
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        // 1_700_000_000 is 20 s past a whole minute.
        let now = at(1_700_000_000);
        assert_eq!(
            next_time(now, 60, "2019-01-01T00:00:00Z"),
            at(1_700_000_040)
        );
        // A reference in the future works the same way.
        assert_eq!(
            next_time(now, 60, "2099-01-01T00:00:00Z"),
            at(1_700_000_040)
        );
        // Exactly on a boundary: the next one.
        assert_eq!(
            next_time(at(1_700_000_040), 60, "2019-01-01T00:00:00Z"),
            at(1_700_000_100)
        );
        // Unknown Time: one interval from now.
        assert_eq!(next_time(now, 60, UNKNOWN_TIME), at(1_700_000_060));
        assert_eq!(next_time(now, 86_400, "garbage"), at(1_700_086_400));
    }
}

//! The read-only messages: Get (R-GET.*), GetInstances (R-GIN.*), GetSupportedDM (R-GSP.*)
//! and the GetSupportedProtocol answer. None of them changes the data model.

use std::collections::BTreeMap;

use super::codes::{
    Failure, INVALID_PATH, INVALID_PATH_SYNTAX, NOT_A_TABLE, OBJECT_DOES_NOT_EXIST, fail,
};
use super::dm::{Leaf, Loc};
use super::fault::GsdmPart;
use super::handler::{Reply, error_reply};
use super::schema::{Access, CmdDef, EventDef, ObjDef, ParamDef, Type};
use super::tr181::{DATA_MODEL_URI, DEVICE};
use super::{Agent, Fault};
use crate::usp::path::{self, Path, PathKind, Segment};
use crate::usp::pb::{self, response::RespType};

/// The USP versions the agent answers GetSupportedProtocol with.
pub const PROTOCOL_VERSIONS: &str = "1.3,1.4";

/// What the `wrong-protocol-versions` fault answers instead.
pub const WRONG_PROTOCOL_VERSIONS: &str = "0.9";

use pb::get_supported_dm_resp as gsdm;

impl Agent {
    /// Get: one RequestedPathResult per requested path, errors reported inside it (R-GET.0).
    pub(super) fn get(&self, g: &pb::Get) -> Reply {
        let mut results = Vec::new();
        let max_depth = if self.has_fault(Fault::IgnoreMaxDepth) {
            0
        } else if g.max_depth == 0 && self.has_fault(Fault::MaxDepthZeroIsOne) {
            1
        } else if g.max_depth > 1 && self.has_fault(Fault::MaxDepthOffByOne) {
            g.max_depth - 1
        } else {
            g.max_depth
        };
        if self.has_fault(Fault::GetSearchIsError)
            && let Some(searched) = g.param_paths.iter().find(|p| p.contains('['))
        {
            return error_reply(fail(
                INVALID_PATH_SYNTAX,
                format!("{searched}: search expressions are not supported"),
            ));
        }
        for requested in &g.param_paths {
            let r = match self.get_one(requested, max_depth) {
                Ok(resolved) => pb::get_resp::RequestedPathResult {
                    requested_path: requested.clone(),
                    resolved_path_results: resolved,
                    ..Default::default()
                },
                Err(f) if self.has_fault(Fault::GetInvalidParamError) => return error_reply(f),
                Err(f) => pb::get_resp::RequestedPathResult {
                    requested_path: requested.clone(),
                    err_code: f.code,
                    err_msg: f.msg,
                    ..Default::default()
                },
            };
            results.push(r);
        }
        Ok(RespType::GetResp(pb::GetResp {
            req_path_results: results,
        }))
    }

    fn get_one(
        &self,
        requested: &str,
        max_depth: u32,
    ) -> Result<Vec<pb::get_resp::ResolvedPathResult>, Failure> {
        let p = path::parse(requested).map_err(|e| fail(INVALID_PATH_SYNTAX, e.to_string()))?;
        let r = self.dm.resolve(&p, self.quirks())?;
        if !r.search && r.locs.is_empty() {
            // R-GET.0: a non-search path that matches nothing in the instantiated model.
            return Err(fail(INVALID_PATH, format!("{requested} does not exist")));
        }
        if self.has_fault(Fault::NoMatchIsError) && self.matches_nothing(&r) {
            return Err(fail(
                OBJECT_DOES_NOT_EXIST,
                format!("{requested} matches no object"),
            ));
        }
        let absolute = self.has_fault(Fault::GetAbsoluteKeys);
        let key = |loc: &Loc, name: &str| {
            if absolute {
                loc.leaf(name)
            } else {
                name.to_string()
            }
        };
        let mut out = Vec::new();
        match r.leaf {
            Leaf::Param(p) => {
                // R-GET.2 / R-GET.3: the parent object, with only the requested parameter.
                for loc in &r.locs {
                    let Some(node) = self.dm.node(loc) else {
                        continue;
                    };
                    let resolved_path = if self.has_fault(Fault::GetResolvedPathIsParam) {
                        loc.leaf(p.name)
                    } else {
                        loc.to_string()
                    };
                    out.push(pb::get_resp::ResolvedPathResult {
                        resolved_path,
                        result_params: BTreeMap::from([(key(loc, p.name), self.dm.value(node, p))]),
                    });
                }
            }
            Leaf::Object => {
                // Each object and sub-object gets its own resolved_path with relative keys;
                // max_depth limits the levels (R-GET.5). Objects without parameters are
                // omitted (R-GET.1b).
                let starts: Vec<Loc> = if r.table {
                    r.locs.iter().flat_map(|t| self.dm.rows(t)).collect()
                } else {
                    r.locs.clone()
                };
                let mut objects = Vec::new();
                for loc in &starts {
                    self.dm.walk(loc, r.def, max_depth, &mut objects);
                }
                for (loc, def) in objects {
                    let Some(node) = self.dm.node(&loc) else {
                        continue;
                    };
                    if def.params.is_empty() {
                        continue;
                    }
                    let mut result_params: BTreeMap<_, _> = def
                        .params
                        .iter()
                        .map(|p| (key(&loc, p.name), self.dm.value(node, p)))
                        .collect();
                    if self.has_fault(Fault::SetUnknownParamKept) {
                        // What the fault stored under names the object does not define.
                        let unknown = node.params.iter().filter(|(n, _)| def.param(n).is_none());
                        result_params.extend(unknown.map(|(n, v)| (key(&loc, n), v.clone())));
                    }
                    out.push(pb::get_resp::ResolvedPathResult {
                        resolved_path: loc.to_string(),
                        result_params,
                    });
                }
            }
            Leaf::Command(_) | Leaf::Event(_) => {
                return Err(fail(
                    INVALID_PATH,
                    format!("{requested} is a command or event; Get reads objects and parameters"),
                ));
            }
        }
        Ok(out)
    }

    /// True if `r` reaches no instance: a search that matched nothing, or a table path to an
    /// empty table (what the `no-match-is-error` fault turns into 7016).
    fn matches_nothing(&self, r: &super::dm::Resolved) -> bool {
        if r.table {
            r.locs.iter().all(|t| self.dm.rows(t).is_empty())
        } else {
            r.locs.is_empty()
        }
    }

    /// GetInstances: the instances (and with `first_level_only=false` every instance below
    /// them) with their unique keys (R-GIN.1).
    pub(super) fn get_instances(&self, g: &pb::GetInstances) -> Reply {
        let mut results = Vec::new();
        let first_level_only = if self.has_fault(Fault::GetInstancesIgnoresFirstLevel) {
            false
        } else {
            g.first_level_only || self.has_fault(Fault::GetInstancesFirstLevelOnly)
        };
        for (i, requested) in g.obj_paths.iter().enumerate() {
            let mut r = pb::get_instances_resp::RequestedPathResult {
                requested_path: requested.clone(),
                ..Default::default()
            };
            if i > 0 && self.has_fault(Fault::GetInstancesFirstPathOnly) {
                results.push(r);
                continue;
            }
            match self.instances_of(requested, first_level_only) {
                Ok(insts) => r.curr_insts = insts,
                Err(f) => {
                    r.err_code = f.code;
                    r.err_msg = f.msg;
                }
            }
            results.push(r);
        }
        Ok(RespType::GetInstancesResp(pb::GetInstancesResp {
            req_path_results: results,
        }))
    }

    fn instances_of(
        &self,
        requested: &str,
        first_level_only: bool,
    ) -> Result<Vec<pb::get_instances_resp::CurrInstance>, Failure> {
        let p = path::parse(requested).map_err(|e| fail(INVALID_PATH_SYNTAX, e.to_string()))?;
        if p.kind != PathKind::Object {
            return Err(fail(
                INVALID_PATH,
                format!("{requested} is not an Object Path"),
            ));
        }
        if self.has_fault(Fault::GetInstancesRejectsWildcard)
            && p.segments.iter().any(|s| matches!(s, Segment::Wildcard))
        {
            return Err(fail(
                INVALID_PATH_SYNTAX,
                format!("{requested}: wildcards are not supported in GetInstances"),
            ));
        }
        let r = self.dm.resolve(&p, self.quirks())?;
        if !r.def.multi {
            return Err(fail(
                NOT_A_TABLE,
                format!("{requested} is not a multi-instance object"),
            ));
        }
        if !r.search && r.locs.is_empty() {
            return Err(fail(
                OBJECT_DOES_NOT_EXIST,
                format!("{requested} does not exist"),
            ));
        }
        let instances: Vec<Loc> = if r.table {
            r.locs.iter().flat_map(|t| self.dm.rows(t)).collect()
        } else {
            r.locs.clone()
        };
        if instances.is_empty() && self.has_fault(Fault::NoMatchIsError) {
            return Err(fail(
                OBJECT_DOES_NOT_EXIST,
                format!("{requested} matches no instance"),
            ));
        }
        let mut out = Vec::new();
        for loc in instances {
            let depth = if first_level_only { 1 } else { 0 };
            let mut objects = Vec::new();
            self.dm.walk(&loc, r.def, depth, &mut objects);
            for (l, def) in objects {
                if def.multi && l.last_inst().is_some() {
                    out.push(pb::get_instances_resp::CurrInstance {
                        instantiated_obj_path: l.to_string(),
                        unique_keys: self.dm.unique_keys(&l).into_iter().collect(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// GetSupportedDM: the Supported Data Model below each path, in `{i}` notation.
    pub(super) fn get_supported_dm(&self, g: &pb::GetSupportedDm) -> Reply {
        let mut results = Vec::new();
        let mut g = g.clone();
        if self.has_fault(Fault::GsdmIgnoresFirstLevel) {
            g.first_level_only = false;
        }
        for requested in &g.obj_paths {
            let mut r = gsdm::RequestedObjectResult {
                req_obj_path: requested.clone(),
                ..Default::default()
            };
            match self.supported(requested, &g) {
                Ok(mut objs) => {
                    r.data_model_inst_uri = DATA_MODEL_URI.to_string();
                    for part in GsdmPart::ALL {
                        if self.has_fault(Fault::GsdmMalformed(part)) {
                            objs.iter_mut().for_each(|o| malform(o, part));
                        }
                    }
                    if self.has_fault(Fault::GsdmAsyncAsSync) {
                        let commands = objs.iter_mut().flat_map(|o| &mut o.supported_commands);
                        commands.for_each(|c| c.command_type = gsdm::CmdType::CmdSync as i32);
                    }
                    if self.has_fault(Fault::GsdmKeysOnSingleInstance) && g.return_unique_key_sets {
                        for o in objs.iter_mut().filter(|o| !o.is_multi_instance) {
                            if let Some(p) = o.supported_params.first() {
                                o.unique_key_sets = vec![gsdm::SupportedUniqueKeySet {
                                    key_names: vec![p.param_name.clone()],
                                }];
                            }
                        }
                    }
                    r.supported_objs = objs;
                }
                Err(f) if self.has_fault(Fault::GsdmUnsupportedIsError) => {
                    let detail = pb::error::ParamError {
                        param_path: requested.clone(),
                        err_code: f.code,
                        err_msg: f.msg.clone(),
                    };
                    return Err((f, vec![detail]));
                }
                Err(f) => {
                    r.err_code = f.code;
                    r.err_msg = f.msg;
                }
            }
            results.push(r);
        }
        Ok(RespType::GetSupportedDmResp(pb::GetSupportedDmResp {
            req_obj_results: results,
        }))
    }

    fn supported(
        &self,
        requested: &str,
        g: &pb::GetSupportedDm,
    ) -> Result<Vec<gsdm::SupportedObjectResult>, Failure> {
        let p = path::parse_supported(requested)
            .map_err(|e| fail(INVALID_PATH_SYNTAX, e.to_string()))?;
        let (def, sup, mut leaf) = self.supported_walk(&p, requested)?;
        if self.has_fault(Fault::GsdmLeafReturnsObject) {
            leaf = SupportedLeaf::Object;
        }
        let details = !self.has_fault(Fault::GsdmOmitsDetails);
        let read_only = self.has_fault(Fault::GsdmParamsReadOnly);
        let param_result = |p: &ParamDef| {
            let mut r = param_result(p);
            if read_only {
                r.access = gsdm::ParamAccessType::ParamReadOnly as i32;
            }
            r
        };
        let no_reference = self.has_fault(Fault::NoMqttControllerReference);
        let listed = move |sup: &str, p: &ParamDef| {
            !(no_reference
                && p.name == "Reference"
                && sup.starts_with("Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT."))
        };
        let keys = g.return_unique_key_sets && !self.has_fault(Fault::GsdmNoUniqueKeys);
        let header = |def: &ObjDef, sup: &str| gsdm::SupportedObjectResult {
            supported_obj_path: sup.to_string(),
            access: obj_access(def) as i32,
            is_multi_instance: def.multi,
            ..Default::default()
        };
        match leaf {
            SupportedLeaf::Param(pd) => {
                let mut o = header(def, &sup);
                if listed(&sup, pd) {
                    o.supported_params = vec![param_result(pd)];
                }
                Ok(vec![o])
            }
            SupportedLeaf::Command(c) => {
                let mut o = header(def, &sup);
                o.supported_commands = vec![command_result(c)];
                Ok(vec![o])
            }
            SupportedLeaf::Event(e) => {
                let mut o = header(def, &sup);
                o.supported_events = vec![event_result(e)];
                Ok(vec![o])
            }
            SupportedLeaf::Object => {
                let mut out = Vec::new();
                let detailed = |def: &ObjDef, sup: &str| {
                    let mut o = header(def, sup);
                    if g.return_params && details {
                        o.supported_params = def
                            .params
                            .iter()
                            .filter(|p| listed(sup, p))
                            .map(param_result)
                            .collect();
                    }
                    if g.return_commands && details {
                        o.supported_commands = def.commands.iter().map(command_result).collect();
                    }
                    if g.return_events && details {
                        o.supported_events = def.events.iter().map(event_result).collect();
                    }
                    if keys {
                        o.unique_key_sets = key_sets(def);
                    }
                    o
                };
                if g.first_level_only {
                    // The object in detail, its immediate children by name (and unique keys).
                    out.push(detailed(def, &sup));
                    for c in &def.objects {
                        let mut o = header(c, &child_sup(&sup, c));
                        if keys {
                            o.unique_key_sets = key_sets(c);
                        }
                        out.push(o);
                    }
                } else {
                    let mut stack = vec![(def, sup)];
                    while let Some((d, s)) = stack.pop() {
                        out.push(detailed(d, &s));
                        for c in d.objects.iter().rev() {
                            stack.push((c, child_sup(&s, c)));
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// Walks the supported model along `p` (instance numbers must exist; a name may follow a
    /// table directly, as the supported notation may omit `{i}`), returning the object reached,
    /// its supported path and what the path ends with.
    fn supported_walk(
        &self,
        p: &Path,
        requested: &str,
    ) -> Result<(&'static ObjDef, String, SupportedLeaf), Failure> {
        if !p.starts_with_device() {
            return Err(fail(
                INVALID_PATH,
                format!("{requested}: paths begin with 'Device.'"),
            ));
        }
        let invalid = |why: String| fail(INVALID_PATH, format!("{requested}: {why}"));
        let mut def: &'static ObjDef = &DEVICE;
        let mut sup = String::from("Device.");
        let mut table = false;
        let mut concrete = Some(Loc::root());
        for seg in &p.object_segments()[1..] {
            match seg {
                Segment::Name(n) => {
                    let child = def
                        .object(n)
                        .ok_or_else(|| invalid(format!("{sup} has no object {n}")))?;
                    if table {
                        concrete = None;
                    }
                    concrete = concrete.map(|l| l.child(child.name));
                    sup = child_sup(&sup, child);
                    def = child;
                    table = child.multi;
                }
                other => {
                    if !table {
                        return Err(invalid(format!("{sup} is not a multi-instance object")));
                    }
                    table = false;
                    concrete = match (other, concrete) {
                        (Segment::Instance(i), Some(l)) => {
                            let inst = l.inst(*i);
                            if self.dm.node(&inst).is_none() {
                                return Err(fail(
                                    OBJECT_DOES_NOT_EXIST,
                                    format!("{inst} does not exist"),
                                ));
                            }
                            Some(inst)
                        }
                        _ => None,
                    };
                }
            }
        }
        let name = p.leaf_name().unwrap_or_default();
        let leaf = match p.kind {
            PathKind::Object => SupportedLeaf::Object,
            PathKind::Parameter => {
                if let Some(pd) = def.param(name) {
                    SupportedLeaf::Param(pd)
                } else if let Some(child) = def.object(name) {
                    // An object path without its trailing '.' (TP-469 1.99 asks for it).
                    sup = child_sup(&sup, child);
                    def = child;
                    SupportedLeaf::Object
                } else {
                    return Err(invalid(format!("{sup} has no parameter or object {name}")));
                }
            }
            PathKind::Command => SupportedLeaf::Command(
                def.command(&format!("{name}()"))
                    .ok_or_else(|| invalid(format!("{sup} has no command {name}()")))?,
            ),
            PathKind::Event => SupportedLeaf::Event(
                def.event(&format!("{name}!"))
                    .ok_or_else(|| invalid(format!("{sup} has no event {name}!")))?,
            ),
        };
        Ok((def, sup, leaf))
    }
}

enum SupportedLeaf {
    Object,
    Param(&'static ParamDef),
    Command(&'static CmdDef),
    Event(&'static EventDef),
}

/// `Device.LocalAgent.` + `Subscription` = `Device.LocalAgent.Subscription.{i}.`
fn child_sup(sup: &str, child: &ObjDef) -> String {
    if child.multi {
        format!("{sup}{}.{{i}}.", child.name)
    } else {
        format!("{sup}{}.", child.name)
    }
}

fn obj_access(def: &ObjDef) -> gsdm::ObjAccessType {
    if def.multi && def.writable {
        gsdm::ObjAccessType::ObjAddDelete
    } else {
        gsdm::ObjAccessType::ObjReadOnly
    }
}

/// Under `gsdm-malformed=PART`: one kind of element of a supported object carries
/// information no Agent may give (unknown types, absolute names).
fn malform(o: &mut gsdm::SupportedObjectResult, part: GsdmPart) {
    let absolute = |name: &mut String| *name = format!("{}{name}", o.supported_obj_path);
    match part {
        GsdmPart::Params => o.supported_params.iter_mut().for_each(|p| {
            p.value_type = gsdm::ParamValueType::ParamUnknown as i32;
            p.value_change = gsdm::ValueChangeType::ValueChangeUnknown as i32;
        }),
        GsdmPart::Commands => o
            .supported_commands
            .iter_mut()
            .for_each(|c| c.command_type = gsdm::CmdType::CmdUnknown as i32),
        GsdmPart::Events => o
            .supported_events
            .iter_mut()
            .for_each(|e| absolute(&mut e.event_name)),
        GsdmPart::Arguments => {
            for c in &mut o.supported_commands {
                c.input_arg_names.iter_mut().for_each(absolute);
                c.output_arg_names.iter_mut().for_each(absolute);
            }
            for e in &mut o.supported_events {
                e.arg_names.iter_mut().for_each(absolute);
            }
        }
        GsdmPart::Keys => o
            .unique_key_sets
            .iter_mut()
            .for_each(|k| k.key_names.iter_mut().for_each(absolute)),
    }
}

fn param_result(p: &ParamDef) -> gsdm::SupportedParamResult {
    let value_type = match p.ty {
        Type::Str | Type::List => gsdm::ParamValueType::ParamString,
        Type::Bool => gsdm::ParamValueType::ParamBoolean,
        Type::UInt => gsdm::ParamValueType::ParamUnsignedInt,
        Type::Int => gsdm::ParamValueType::ParamInt,
        Type::DateTime => gsdm::ParamValueType::ParamDateTime,
    };
    // The agent notifies value changes made by Set, i.e. of writable parameters only.
    let (access, value_change) = match p.access {
        Access::ReadOnly => (
            gsdm::ParamAccessType::ParamReadOnly,
            gsdm::ValueChangeType::ValueChangeWillIgnore,
        ),
        Access::ReadWrite | Access::WriteOnceReadOnly => (
            gsdm::ParamAccessType::ParamReadWrite,
            gsdm::ValueChangeType::ValueChangeAllowed,
        ),
    };
    gsdm::SupportedParamResult {
        param_name: p.name.to_string(),
        access: access as i32,
        value_type: value_type as i32,
        value_change: value_change as i32,
    }
}

fn command_result(c: &CmdDef) -> gsdm::SupportedCommandResult {
    gsdm::SupportedCommandResult {
        command_name: c.name.to_string(),
        input_arg_names: c.inputs.iter().map(|(p, _)| p.name.to_string()).collect(),
        output_arg_names: c.outputs.iter().map(|s| s.to_string()).collect(),
        command_type: if c.asynchronous {
            gsdm::CmdType::CmdAsync as i32
        } else {
            gsdm::CmdType::CmdSync as i32
        },
    }
}

fn event_result(e: &EventDef) -> gsdm::SupportedEventResult {
    gsdm::SupportedEventResult {
        event_name: e.name.to_string(),
        arg_names: e.args.iter().map(|s| s.to_string()).collect(),
    }
}

fn key_sets(def: &ObjDef) -> Vec<gsdm::SupportedUniqueKeySet> {
    def.keys
        .iter()
        .map(|k| gsdm::SupportedUniqueKeySet {
            key_names: k.params.iter().map(|s| s.to_string()).collect(),
        })
        .collect()
}

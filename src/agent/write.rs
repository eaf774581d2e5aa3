//! The messages that change the data model: Add (R-ADD.*), Set (R-SET.*) and Delete
//! (R-DEL.*), with the allow_partial / required semantics of "Using Allow Partial and
//! Required Parameters": parameter errors fail their object when required, object failures
//! fail the whole message when allow_partial is false, and a failed message leaves the data
//! model as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use super::codes::{
    DELETE_FAILURE, DUPLICATE_KEY, Failure, INVALID_PATH, INVALID_PATH_SYNTAX, INVALID_VALUE,
    NOT_A_TABLE, NOT_CREATABLE, NOT_WRITABLE, OBJECT_DOES_NOT_EXIST, REQUIRED_PARAM_FAILED,
    UNSUPPORTED_PARAM, fail,
};
use super::dm::{Dm, Loc, Resolved, reference_loc};
use super::handler::Reply;
use super::notify::Intent;
use super::schema::{Access, ObjDef, Syntax};
use super::{Agent, Fault};
use crate::usp::path::{self, PathKind};
use crate::usp::pb::{self, response::RespType};

use pb::add_resp::created_object_result::{
    OperationStatus as AddStatus, operation_status as add_os,
};
use pb::delete_resp::deleted_object_result::{
    OperationStatus as DelStatus, operation_status as del_os,
};
use pb::set_resp::updated_object_result::{
    OperationStatus as SetStatus, operation_status as set_os,
};

/// Whether a parameter is written while creating its object (Add) or afterwards (Set).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Create,
    Update,
}

/// A parameter successfully written.
pub(super) struct Written {
    /// The object holding the parameter.
    pub(super) obj: Loc,
    /// The parameter's name.
    pub(super) name: &'static str,
    /// The value stored (canonical form).
    pub(super) value: String,
    /// The value differs from the previous one.
    pub(super) changed: bool,
}

/// One parameter that failed, with whether it fails its object.
struct ParamFailure {
    param: String,
    failure: Failure,
    fatal: bool,
}

/// The result of creating one instance.
enum Created {
    Ok {
        path: String,
        keys: BTreeMap<String, String>,
        param_errs: Vec<ParamFailure>,
        intents: Vec<Intent>,
        /// Only with the `create-despite-required-failure` fault: kept although it failed.
        failed: Option<Failure>,
        table: String,
    },
    Failed {
        failure: Failure,
        params: Vec<pb::error::ParamError>,
    },
    NoMatch,
}

fn parse_object_path(requested: &str) -> Result<path::Path, Failure> {
    let p = path::parse(requested).map_err(|e| fail(INVALID_PATH_SYNTAX, e.to_string()))?;
    if p.kind != PathKind::Object {
        return Err(fail(
            INVALID_PATH,
            format!("{requested} is not an Object Path"),
        ));
    }
    Ok(p)
}

/// A name that could be a parameter's: what `set-unknown-param-kept` stores.
fn is_param_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn param_error(path: String, f: &Failure) -> pb::error::ParamError {
    pb::error::ParamError {
        param_path: path,
        err_code: f.code,
        err_msg: f.msg.clone(),
    }
}

impl Agent {
    fn allow_partial(&self, requested: bool) -> bool {
        requested || self.has_fault(Fault::IgnoreAllowPartial)
    }

    /// Add: one CreatedObjectResult per created instance (several when the parent path is a
    /// search, R-ADD.2 being deprecated).
    pub(super) fn add(&mut self, from: &str, a: &pb::Add) -> (Reply, Vec<Intent>) {
        let allow_partial = self.allow_partial(a.allow_partial);
        let snapshot = self.dm.root.clone();
        let mut results = Vec::new();
        let mut intents = Vec::new();
        let mut error: Option<(Failure, Vec<pb::error::ParamError>)> = None;
        for (i, co) in a.create_objs.iter().enumerate() {
            // `add-settings-first-object-only`: later objects get only their unique keys.
            let keys_only = i > 0 && self.has_fault(Fault::AddSettingsFirstObjectOnly);
            for outcome in self.add_one(from, co, keys_only) {
                let status = match outcome {
                    Created::NoMatch => add_os::OperStatus::OperSuccess(Default::default()),
                    Created::Failed { failure, params } => {
                        if !allow_partial {
                            let params = if params.is_empty() {
                                vec![param_error(co.obj_path.clone(), &failure)]
                            } else {
                                params
                            };
                            let e = error.get_or_insert((failure, Vec::new()));
                            e.1.extend(params);
                            continue;
                        }
                        add_os::OperStatus::OperFailure(add_os::OperationFailure {
                            err_code: failure.code,
                            err_msg: failure.msg,
                        })
                    }
                    Created::Ok {
                        path,
                        keys,
                        param_errs,
                        intents: its,
                        failed,
                        table,
                    } => {
                        if let (Some(f), false) = (failed, allow_partial) {
                            let params = param_errs
                                .iter()
                                .map(|e| param_error(format!("{table}{}", e.param), &e.failure));
                            error.get_or_insert((f, Vec::new())).1.extend(params);
                            continue;
                        }
                        intents.extend(its);
                        add_os::OperStatus::OperSuccess(add_os::OperationSuccess {
                            instantiated_path: path,
                            param_errs: param_errs
                                .into_iter()
                                .map(|e| pb::add_resp::ParameterError {
                                    param: e.param,
                                    err_code: e.failure.code,
                                    err_msg: e.failure.msg,
                                })
                                .collect(),
                            unique_keys: keys,
                        })
                    }
                };
                results.push(pb::add_resp::CreatedObjectResult {
                    requested_path: co.obj_path.clone(),
                    oper_status: Some(AddStatus {
                        oper_status: Some(status),
                    }),
                });
            }
        }
        if let Some((f, params)) = error {
            // R-ADD.1 / R-ADD.2a: one failure fails the message and nothing changes.
            if !self.has_fault(Fault::CreateDespiteRequiredFailure)
                && !self.has_fault(Fault::AddFailureKept)
            {
                self.dm.root = snapshot;
            }
            if self.has_fault(Fault::AddErrorLeaksSubscription) {
                self.leak_subscription();
            }
            return (Err((f, params)), Vec::new());
        }
        if self.has_fault(Fault::AddNotCreated) {
            self.dm.root = snapshot;
            intents.clear();
        }
        (
            Ok(RespType::AddResp(pb::AddResp {
                created_obj_results: results,
            })),
            intents,
        )
    }

    /// `add-error-leaks-subscription`: a Subscription row with its defaults and keys, left
    /// behind by a failed Add.
    fn leak_subscription(&mut self) {
        let table = Loc::root().child("LocalAgent").child("Subscription");
        if let Some(def) = Dm::def_of(&table)
            && let Ok(n) = self.dm.add_row(&table, def)
        {
            self.assign_keys(&table.inst(n), def, n);
        }
    }

    fn add_one(&mut self, from: &str, co: &pb::add::CreateObject, keys_only: bool) -> Vec<Created> {
        let failed = |failure| {
            vec![Created::Failed {
                failure,
                params: Vec::new(),
            }]
        };
        let requested = &co.obj_path;
        let r: Resolved =
            match parse_object_path(requested).and_then(|p| self.dm.resolve(&p, self.quirks())) {
                Ok(r) => r,
                Err(f) => return failed(f),
            };
        if !r.table {
            return failed(fail(
                NOT_A_TABLE,
                format!("{requested} is not a multi-instance object's Object Path"),
            ));
        }
        if self.has_fault(Fault::AddRejectsSearchPath) && is_search_not_key(requested) {
            return failed(fail(
                INVALID_PATH_SYNTAX,
                format!("{requested}: search paths are not supported in Add"),
            ));
        }
        if !r.def.writable {
            return failed(fail(NOT_CREATABLE, format!("{requested} is not creatable")));
        }
        if r.locs.is_empty() {
            return if r.search && !self.has_fault(Fault::NoMatchIsError) {
                vec![Created::NoMatch] // R-MSG.4a
            } else {
                failed(fail(
                    OBJECT_DOES_NOT_EXIST,
                    format!("{requested}: parent does not exist"),
                ))
            };
        }
        r.locs
            .iter()
            .map(|t| self.create(from, t, r.def, co, keys_only))
            .collect()
    }

    fn create(
        &mut self,
        from: &str,
        table: &Loc,
        def: &'static ObjDef,
        co: &pb::add::CreateObject,
        keys_only: bool,
    ) -> Created {
        let before = self.dm.root.clone();
        let n = match self.dm.add_row(table, def) {
            Ok(n) => n,
            Err(failure) => {
                return Created::Failed {
                    failure,
                    params: Vec::new(),
                };
            }
        };
        let loc = table.inst(n);
        if def.name == "Subscription" && table.0.len() == 3 {
            // Agent-populated (Recipient: the requesting Controller, per TR-181).
            self.dm
                .store(&loc, &[], "Recipient", self.controller_path(from));
            self.dm
                .store(&loc, &[], "CreationDate", date_time(self.dm.now));
        }
        let strict = self.has_fault(Fault::NonRequiredFailsObject);
        let mut errs = Vec::new();
        let defaults = self.has_fault(Fault::AddDefaultValues);
        for ps in &co.param_settings {
            let optional = !ps.required && !def.is_key_param(&ps.param);
            if (defaults && optional) || (keys_only && !def.is_key_param(&ps.param)) {
                continue; // `add-default-values`, `add-settings-first-object-only`: not configured
            }
            if let Err(failure) = self.write_param(&loc, def, &ps.param, &ps.value, Mode::Create) {
                // Unique keys are required whatever the request says (TR-369 1.4.1, Messages,
                // "The Add Message").
                let fatal = ps.required || def.is_key_param(&ps.param) || strict;
                errs.push(ParamFailure {
                    param: ps.param.clone(),
                    failure,
                    fatal,
                });
            }
        }
        self.assign_keys(&loc, def, n);
        if let Err((param, failure)) = self.check_unique(&loc, def) {
            errs.push(ParamFailure {
                param,
                failure,
                fatal: true,
            });
        }
        let table_path = table.to_string();
        let failed = errs.iter().find(|e| e.fatal).map(|e| {
            fail(
                REQUIRED_PARAM_FAILED,
                format!(
                    "{table_path}: required parameter {} failed: {}",
                    e.param, e.failure.msg
                ),
            )
        });
        if let Some(failure) = &failed
            && !self.has_fault(Fault::CreateDespiteRequiredFailure)
        {
            if !self.has_fault(Fault::AddFailureKept) {
                self.dm.root = before; // R-ADD.3
            }
            let params = errs
                .iter()
                .map(|e| param_error(format!("{table_path}{}", e.param), &e.failure))
                .collect();
            return Created::Failed {
                failure: failure.clone(),
                params,
            };
        }
        let keys = if self.has_fault(Fault::NoUniqueKeys) {
            BTreeMap::new()
        } else {
            self.dm.unique_keys(&loc).into_iter().collect() // R-ADD.5
        };
        Created::Ok {
            path: loc.to_string(),
            keys,
            param_errs: errs, // R-ADD.4
            intents: self.created(&loc),
            failed,
            table: table_path,
        }
    }

    /// The Path Name of the Controller instance for Endpoint ID `from`, or "" if unknown.
    pub(super) fn controller_path(&self, from: &str) -> String {
        let table = Loc::root().child("LocalAgent").child("Controller");
        self.dm
            .rows(&table)
            .into_iter()
            .find(|l| self.dm.node(l).is_some_and(|n| n.get("EndpointID") == from))
            .map(|l| l.to_string())
            .unwrap_or_default()
    }

    /// Validates and stores one parameter given by relative path `rel`.
    pub(super) fn write_param(
        &mut self,
        loc: &Loc,
        def: &ObjDef,
        rel: &str,
        value: &str,
        mode: Mode,
    ) -> Result<Written, Failure> {
        let Some((via, p)) = def.rel_param(rel) else {
            return Err(fail(
                UNSUPPORTED_PARAM,
                format!("{loc}{rel} is not a supported parameter"),
            ));
        };
        let current = self
            .dm
            .node(loc)
            .and_then(|n| n.descend(&via))
            .map(|n| n.get(p.name).to_string())
            .unwrap_or_default();
        let write_once = p.access == Access::WriteOnceReadOnly;
        let rewritable = write_once && self.has_fault(Fault::WriteOnceRewritable);
        match p.access {
            Access::ReadOnly => {
                return Err(fail(NOT_WRITABLE, format!("{loc}{rel} is read-only")));
            }
            Access::WriteOnceReadOnly
                if mode == Mode::Update && !current.is_empty() && !rewritable =>
            {
                return Err(fail(
                    NOT_WRITABLE,
                    format!("{loc}{rel} is writeOnceReadOnly and already set"),
                ));
            }
            _ => {}
        }
        let v = p.check_with(value, !self.has_fault(Fault::AcceptInvalidAlias))?;
        if p.syntax == Syntax::PathList && self.has_fault(Fault::ReferenceInstancesOnly) {
            self.refuse_broad_references(&format!("{loc}{rel}"), &v)?;
        }
        // The faults that let a key change: an Alias through `write-once-rewritable`, any
        // other non-functional key through `unique-key-mutable`.
        let key_mutable = rewritable || (!write_once && self.has_fault(Fault::UniqueKeyMutable));
        if mode == Mode::Update && v != current {
            if via.is_empty() && def.is_nonfunctional_key(p.name) && !key_mutable {
                return Err(fail(
                    NOT_WRITABLE,
                    format!(
                        "{loc}{rel} is a non-functional unique key and cannot change (R-KEY.1)"
                    ),
                ));
            }
            if p.syntax == Syntax::PathList && !current.is_empty() {
                return Err(fail(
                    NOT_WRITABLE,
                    format!("{loc}{rel} cannot change once set (TR-181 ReferenceList)"),
                ));
            }
        }
        let mut obj = loc.clone();
        for name in &via {
            obj = obj.child(name);
        }
        self.dm.store(loc, &via, p.name, v.clone());
        Ok(Written {
            obj,
            name: p.name,
            changed: v != current,
            value: v,
        })
    }

    /// Gives values to unique keys the Controller left empty (R-ADD.5): `cpe-` Aliases
    /// (TR-181 AliasUSP) and Subscription IDs.
    fn assign_keys(&mut self, loc: &Loc, def: &ObjDef, n: u32) {
        if self.has_fault(Fault::NoAutoUniqueKeys) {
            return;
        }
        for (name, prefix) in [("Alias", "cpe-"), ("ID", "cpe-sub-"), ("Name", "cpe-")] {
            // A Name is the agent's to choose only where it is a non-functional key
            // (Device.MQTT.Client.{i}.), not where it is the functional one (Role).
            let ours = match name {
                "Name" => def.is_nonfunctional_key(name),
                _ => def.is_key_param(name),
            };
            if def.param(name).is_none() || !ours {
                continue;
            }
            if self
                .dm
                .node(loc)
                .is_some_and(|node| !node.get(name).is_empty())
            {
                continue;
            }
            let table = loc.parent();
            let taken = |v: &str| {
                self.dm
                    .rows(&table)
                    .iter()
                    .any(|r| self.dm.node(r).is_some_and(|node| node.get(name) == v))
            };
            let mut candidate = format!("{prefix}{n}");
            let mut k = 1;
            while taken(&candidate) {
                k += 1;
                candidate = format!("{prefix}{n}-{k}");
            }
            if let Some(p) = def.param(name) {
                self.dm.store(loc, &[], p.name, candidate);
            }
        }
    }

    /// 7025 if another instance of the table has the same values for one of the unique keys.
    fn check_unique(&self, loc: &Loc, def: &ObjDef) -> Result<(), (String, Failure)> {
        let Some(me) = self.dm.node(loc) else {
            return Ok(());
        };
        for key in &def.keys {
            let mine: Vec<&str> = key.params.iter().map(|p| me.get(p)).collect();
            let clash = self.dm.rows(&loc.parent()).into_iter().any(|other| {
                other != *loc
                    && self.dm.node(&other).is_some_and(|o| {
                        key.params.iter().map(|p| o.get(p)).eq(mine.iter().copied())
                    })
            });
            if clash {
                let names = key.params.join(", ");
                return Err((
                    key.params
                        .first()
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    fail(
                        DUPLICATE_KEY,
                        format!("{loc}: another instance has the same {names}"),
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Set: one UpdatedObjectResult per UpdateObject.
    pub(super) fn set(&mut self, s: &pb::Set) -> (Reply, Vec<Intent>) {
        let allow_partial = self.allow_partial(s.allow_partial);
        let snapshot = self.dm.root.clone();
        let mut results = Vec::new();
        let mut intents = Vec::new();
        let mut error: Option<(Failure, Vec<pb::error::ParamError>)> = None;
        for uo in &s.update_objs {
            let status = match self.set_one(uo) {
                Ok((updated_inst_results, its)) => {
                    intents.extend(its);
                    set_os::OperStatus::OperSuccess(set_os::OperationSuccess {
                        updated_inst_results,
                    })
                }
                Err((failure, updated_inst_failures))
                    if allow_partial && !self.search_failure_is_error(&uo.obj_path) =>
                {
                    set_os::OperStatus::OperFailure(set_os::OperationFailure {
                        err_code: failure.code,
                        err_msg: failure.msg,
                        updated_inst_failures,
                    })
                }
                Err((failure, inst_failures)) => {
                    let mut params: Vec<pb::error::ParamError> = inst_failures
                        .iter()
                        .flat_map(|i| {
                            i.param_errs.iter().map(|p| pb::error::ParamError {
                                param_path: format!("{}{}", i.affected_path, p.param),
                                err_code: p.err_code,
                                err_msg: p.err_msg.clone(),
                            })
                        })
                        .collect();
                    if params.is_empty() {
                        params.push(param_error(uo.obj_path.clone(), &failure));
                    }
                    error.get_or_insert((failure, Vec::new())).1.extend(params);
                    continue;
                }
            };
            results.push(pb::set_resp::UpdatedObjectResult {
                requested_path: uo.obj_path.clone(),
                oper_status: Some(SetStatus {
                    oper_status: Some(status),
                }),
            });
        }
        if let Some((f, params)) = error {
            self.dm.root = snapshot; // R-SET.1: the message fails as a whole
            if self.has_fault(Fault::SetUnknownParamKept) {
                self.keep_unknown_params(&s.update_objs);
            }
            return (Err((f, params)), Vec::new());
        }
        if self.has_fault(Fault::SetNotPersisted) {
            self.dm.root = snapshot;
            intents.clear();
        }
        (
            Ok(RespType::SetResp(pb::SetResp {
                updated_obj_results: results,
            })),
            intents,
        )
    }

    /// Under `set-search-failure-is-error`, a failing Search Path is answered with an Error
    /// whatever allow_partial says (R-SET.2a allows it; TP-469 1.21 asks for the SetResp).
    fn search_failure_is_error(&self, obj_path: &str) -> bool {
        self.has_fault(Fault::SetSearchFailureIsError) && is_search_not_key(obj_path)
    }

    #[allow(clippy::type_complexity)]
    fn set_one(
        &mut self,
        uo: &pb::set::UpdateObject,
    ) -> Result<
        (Vec<pb::set_resp::UpdatedInstanceResult>, Vec<Intent>),
        (Failure, Vec<pb::set_resp::UpdatedInstanceFailure>),
    > {
        let requested = &uo.obj_path;
        let r = parse_object_path(requested)
            .and_then(|p| self.dm.resolve(&p, self.quirks()))
            .map_err(|f| (f, Vec::new()))?;
        if r.table {
            return Err((
                fail(
                    INVALID_PATH,
                    format!("{requested} is a table; Set addresses objects and instances"),
                ),
                Vec::new(),
            ));
        }
        if r.locs.is_empty() {
            return if r.search && !self.has_fault(Fault::NoMatchIsError) {
                Ok((Vec::new(), Vec::new())) // R-MSG.4a: oper_success {}
            } else {
                Err((
                    fail(OBJECT_DOES_NOT_EXIST, format!("{requested} does not exist")),
                    Vec::new(),
                ))
            };
        }
        let strict = self.has_fault(Fault::NonRequiredFailsObject);
        let before = self.dm.root.clone();
        let mut results = Vec::new();
        let mut failures = Vec::new();
        let mut intents = Vec::new();
        // Under `set-failure-kept`: the invalid values, written after the undo.
        let mut kept = Vec::new();
        for loc in &r.locs {
            let mut updated = BTreeMap::new();
            let mut errs = Vec::new();
            let mut failed = false;
            let mut its = Vec::new();
            for ps in &uo.param_settings {
                match self.write_param(loc, r.def, &ps.param, &ps.value, Mode::Update) {
                    Ok(w) => {
                        if w.changed {
                            its.extend(self.value_changed(&w.obj, w.name, &w.value));
                        }
                        if !self.has_fault(Fault::SetRespNoUpdatedParams) {
                            updated.insert(ps.param.clone(), w.value); // R-SET.3 note: even if unchanged
                        }
                    }
                    Err(f) => {
                        failed |= ps.required || strict; // R-SET.2
                        if self.has_fault(Fault::SetFailureKept)
                            && let Some((via, p)) = r.def.rel_param(&ps.param)
                        {
                            kept.push((loc.clone(), via, p.name, ps.value.clone()));
                        }
                        errs.push(pb::set_resp::ParameterError {
                            param: ps.param.clone(),
                            err_code: f.code,
                            err_msg: f.msg,
                        });
                    }
                }
            }
            if !failed && let Err((param, f)) = self.check_unique(loc, r.def) {
                failed = true;
                errs.push(pb::set_resp::ParameterError {
                    param,
                    err_code: f.code,
                    err_msg: f.msg,
                });
            }
            if failed {
                failures.push(pb::set_resp::UpdatedInstanceFailure {
                    affected_path: loc.to_string(),
                    param_errs: errs,
                });
            } else {
                intents.extend(its);
                results.push(pb::set_resp::UpdatedInstanceResult {
                    affected_path: loc.to_string(),
                    param_errs: errs,
                    updated_params: updated,
                });
            }
        }
        if !failures.is_empty() {
            // R-SET.2a: a failure anywhere undoes this obj_path for every matched object.
            self.dm.root = before;
            for (loc, via, name, value) in kept {
                self.dm.store(&loc, &via, name, value);
            }
            let f = fail(
                REQUIRED_PARAM_FAILED,
                format!("{requested}: a required parameter failed to update"),
            );
            return Err((f, failures));
        }
        Ok((results, intents))
    }

    /// `set-unknown-param-kept`: the settings of parameters the objects do not define, stored
    /// under their own names after the undo. The names are leaked, as the store is keyed by
    /// static names; only this fault stores names the schema does not hold.
    fn keep_unknown_params(&mut self, objs: &[pb::set::UpdateObject]) {
        for uo in objs {
            let Ok(r) =
                parse_object_path(&uo.obj_path).and_then(|p| self.dm.resolve(&p, self.quirks()))
            else {
                continue;
            };
            let unknown = uo
                .param_settings
                .iter()
                .filter(|ps| r.def.rel_param(&ps.param).is_none() && is_param_name(&ps.param));
            for ps in unknown {
                let name: &'static str = ps.param.clone().leak();
                for loc in &r.locs {
                    self.dm.store(loc, &[], name, ps.value.clone());
                }
            }
        }
    }

    /// Delete: one DeletedObjectResult per requested path.
    pub(super) fn delete(&mut self, d: &pb::Delete) -> (Reply, Vec<Intent>) {
        let allow_partial = self.allow_partial(d.allow_partial);
        let snapshot = self.dm.root.clone();
        let mut results = Vec::new();
        let mut intents = Vec::new();
        let mut error: Option<(Failure, Vec<pb::error::ParamError>)> = None;
        for requested in &d.obj_paths {
            let status = match self.delete_one(requested, allow_partial) {
                Ok((affected_paths, its)) => {
                    intents.extend(its);
                    let affected_paths = if self.has_fault(Fault::DeleteRespNoAffectedPaths) {
                        Vec::new()
                    } else {
                        affected_paths
                    };
                    del_os::OperStatus::OperSuccess(del_os::OperationSuccess {
                        affected_paths,
                        unaffected_path_errs: Vec::new(),
                    })
                }
                Err(f) if allow_partial => {
                    del_os::OperStatus::OperFailure(del_os::OperationFailure {
                        err_code: f.code,
                        err_msg: f.msg,
                    })
                }
                Err(f) => {
                    let p = param_error(requested.clone(), &f);
                    error.get_or_insert((f, Vec::new())).1.push(p);
                    continue;
                }
            };
            results.push(pb::delete_resp::DeletedObjectResult {
                requested_path: requested.clone(),
                oper_status: Some(DelStatus {
                    oper_status: Some(status),
                }),
            });
        }
        if let Some((f, params)) = error {
            self.dm.root = snapshot; // R-DEL.1
            return (Err((f, params)), Vec::new());
        }
        (
            Ok(RespType::DeleteResp(pb::DeleteResp {
                deleted_obj_results: results,
            })),
            intents,
        )
    }

    fn delete_one(
        &mut self,
        requested: &str,
        allow_partial: bool,
    ) -> Result<(Vec<String>, Vec<Intent>), Failure> {
        let r = parse_object_path(requested).and_then(|p| self.dm.resolve(&p, self.quirks()))?;
        if !r.def.multi {
            return Err(fail(
                NOT_A_TABLE,
                format!("{requested} is not a multi-instance object"),
            ));
        }
        if r.table {
            return Err(fail(
                INVALID_PATH,
                format!("{requested} is a table; Delete needs Object Instance Paths"),
            ));
        }
        if !r.def.writable {
            return Err(fail(
                DELETE_FAILURE,
                format!("instances of {requested} cannot be deleted"),
            ));
        }
        if r.locs.is_empty() {
            let fault = if r.search {
                Fault::NoMatchIsError
            } else {
                Fault::DeleteMissingIsError
            };
            if self.has_fault(fault) {
                return Err(fail(
                    OBJECT_DOES_NOT_EXIST,
                    format!("{requested} does not exist"),
                ));
            }
            return Ok((Vec::new(), Vec::new())); // R-DEL.2a
        }
        let paths = r.locs.iter().map(|l| l.to_string()).collect();
        if self.has_fault(Fault::DeleteNotDone)
            || (allow_partial && self.has_fault(Fault::DeletePartialNotDone))
        {
            return Ok((paths, Vec::new()));
        }
        let doomed = if r.search && self.has_fault(Fault::DeleteSearchDeletesAll) {
            // Every row of each table the matches belong to.
            let tables: BTreeSet<Loc> = r.locs.iter().map(Loc::parent).collect();
            tables.iter().flat_map(|t| self.dm.rows(t)).collect()
        } else {
            r.locs
        };
        let mut intents = Vec::new();
        for loc in &doomed {
            intents.extend(self.remove_instance(loc));
        }
        Ok((paths, intents))
    }

    /// Removes an instance and everything below it; a Controller takes its Subscriptions with
    /// it (Subscription.Recipient is a strong reference whose target's deletion deletes it).
    pub(super) fn remove_instance(&mut self, loc: &Loc) -> Vec<Intent> {
        if self.dm.node(loc).is_none() {
            return Vec::new();
        }
        let mut intents = self.deleted(loc);
        let removed = self.dm.remove(loc);
        let la = Loc::root().child("LocalAgent");
        if loc.parent() == la.child("Subscription")
            && self.has_fault(Fault::NotifyAfterUnsubscribe)
            && let Some(node) = removed
        {
            self.ghosts.push(node);
        }
        if loc.parent() == la.child("Controller") && !self.has_fault(Fault::KeepOrphanSubscriptions)
        {
            let target = loc.to_string();
            for sub in self.dm.rows(&la.child("Subscription")) {
                let recipient = self.dm.node(&sub).map(|n| n.get("Recipient").to_string());
                if recipient
                    .and_then(|r| reference_loc(&r))
                    .is_some_and(|r| r.to_string() == target)
                {
                    intents.extend(self.remove_instance(&sub));
                }
            }
        }
        intents
    }
}

/// True if the Object Path `requested` has a wildcard, or a search expression that is not
/// unique-key addressing (only `==` on unique-key parameters).
fn is_search_not_key(requested: &str) -> bool {
    use crate::usp::path::{Op, Segment};
    let Ok(p) = path::parse(requested) else {
        return false;
    };
    let mut def: Option<&ObjDef> = Some(&super::tr181::DEVICE);
    for seg in p.segments.iter().skip(1) {
        match seg {
            Segment::Name(n) => def = def.and_then(|d| d.object(n)),
            Segment::Wildcard => return true,
            Segment::Search(conds) => {
                let key = def.is_some_and(|d| {
                    conds
                        .iter()
                        .all(|c| c.op == Op::Eq && d.is_key_param(&c.param))
                });
                if !key {
                    return true;
                }
            }
            Segment::Instance(_) => {}
        }
    }
    false
}

/// Formats a time as a TR-106 dateTime in UTC (`2024-01-31T12:00:00Z`).
pub(super) fn date_time(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Agent {
    /// The `reference-instances-only` fault: a ReferenceList entry that is a Search Path or
    /// names a whole table (a multi-instance Object Path) is refused.
    fn refuse_broad_references(&self, name: &str, list: &str) -> Result<(), Failure> {
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let broad = path::parse(item)
                .ok()
                .and_then(|p| self.dm.resolve(&p, self.quirks()).ok())
                .is_some_and(|r| r.search || r.table);
            if broad {
                return Err(fail(
                    INVALID_VALUE,
                    format!("{name}: {item} is not a single object or parameter"),
                ));
            }
        }
        Ok(())
    }
}

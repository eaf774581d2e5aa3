//! Message dispatch: turns a received Msg into the handler call for its body, wraps results
//! into responses or Error messages carrying the request's msg_id (R-MSG.9) and the matching
//! msg_type, and implements the `wrong-error-code` fault by rewriting every code on the way
//! out.

use super::codes::{Failure, MESSAGE_FAILED, MESSAGE_NOT_SUPPORTED, fail};
use super::{Agent, Fault, Outgoing};
use crate::usp::pb::{self, body::MsgBody, header::MsgType, request::ReqType, response::RespType};

/// A handler's answer: a response body, or an Error (code, message, per-path details).
pub(super) type Reply = Result<RespType, (Failure, Vec<pb::error::ParamError>)>;

/// The Error form of a [`Reply`] with no per-path details.
pub(super) fn error_reply(f: Failure) -> Reply {
    Err((f, Vec::new()))
}

/// Builds a message with a header.
pub(super) fn msg(msg_id: &str, msg_type: MsgType, body: MsgBody) -> pb::Msg {
    pb::Msg {
        header: Some(pb::Header {
            msg_id: msg_id.to_string(),
            msg_type: msg_type as i32,
        }),
        body: Some(pb::Body {
            msg_body: Some(body),
        }),
    }
}

/// The message answering request `msg_id` with `reply`.
pub(super) fn reply_msg(msg_id: &str, reply: Reply) -> pb::Msg {
    match reply {
        // The shared builders keep header and body in agreement (R-MSG.10).
        Ok(r) => crate::usp::msg::response(msg_id, r),
        Err((f, param_errs)) => crate::usp::msg::error(
            msg_id,
            pb::Error {
                err_code: f.code,
                err_msg: f.msg,
                param_errs,
            },
        ),
    }
}

impl Agent {
    pub(super) fn dispatch(&mut self, from: &str, m: pb::Msg) -> Vec<Outgoing> {
        let msg_id = m
            .header
            .as_ref()
            .map(|h| h.msg_id.clone())
            .unwrap_or_default();
        let send = |reply: Reply| {
            vec![Outgoing::Send {
                to: from.to_string(),
                msg: reply_msg(&msg_id, reply),
            }]
        };
        if m.header.is_none() {
            return send(error_reply(fail(
                MESSAGE_FAILED,
                "the message has no header (R-MSG.6)",
            )));
        }
        let Some(body) = m.body.and_then(|b| b.msg_body) else {
            return send(error_reply(fail(
                MESSAGE_FAILED,
                "the message has no body (R-MSG.7)",
            )));
        };
        let req = match body {
            MsgBody::Request(r) => r,
            MsgBody::Response(r) => {
                // NotifyResp (and any other response) only settles a pending Notify.
                if matches!(r.resp_type, Some(RespType::NotifyResp(_))) {
                    return self.answered(&msg_id);
                }
                return Vec::new();
            }
            MsgBody::Error(_) => {
                // An Error answering a Notify still proves delivery; stop retrying it.
                return self.answered(&msg_id);
            }
        };
        let Some(req) = req.req_type else {
            return send(error_reply(fail(
                MESSAGE_NOT_SUPPORTED,
                "the request type is not understood (R-MSG.1)",
            )));
        };
        if let Some(kind) = request_kind(&req)
            && self.has_fault(Fault::ErrorFor(kind))
        {
            return send(error_reply(fail(
                MESSAGE_FAILED,
                "the request is refused (fault error-for)",
            )));
        }
        match req {
            ReqType::Get(g) => send(self.get(&g)),
            ReqType::GetInstances(g) => send(self.get_instances(&g)),
            ReqType::GetSupportedDm(g) => send(self.get_supported_dm(&g)),
            ReqType::GetSupportedProtocol(_) => {
                let versions = if self.has_fault(Fault::WrongProtocolVersions) {
                    super::read::WRONG_PROTOCOL_VERSIONS
                } else {
                    super::read::PROTOCOL_VERSIONS
                };
                send(Ok(RespType::GetSupportedProtocolResp(
                    pb::GetSupportedProtocolResp {
                        agent_supported_protocol_versions: versions.into(),
                    },
                )))
            }
            ReqType::Add(a) => {
                let (reply, intents) = self.add(from, &a);
                let mut out = send(reply);
                out.extend(self.emit(intents));
                out
            }
            ReqType::Set(s) => {
                let (reply, intents) = self.set(&s);
                let mut out = send(reply);
                out.extend(self.emit(intents));
                out
            }
            ReqType::Delete(d) => {
                let (reply, intents) = self.delete(&d);
                let mut out = send(reply);
                out.extend(self.emit(intents));
                out
            }
            ReqType::Operate(o) => self.operate(from, &msg_id, &o),
            ReqType::Notify(_) | ReqType::Register(_) | ReqType::Deregister(_) => {
                send(error_reply(fail(
                    MESSAGE_NOT_SUPPORTED,
                    "Notify, Register and Deregister are sent by Agents, not to them",
                )))
            }
        }
    }
}

/// The `wrong-error-code` fault: every non-zero err_code in `m` becomes 7003.
pub(super) fn rewrite_error_codes(m: &mut pb::Msg) {
    use pb::request::ReqType as Q;
    const BAD: u32 = super::codes::INTERNAL_ERROR;
    let fix = |c: &mut u32| {
        if *c != 0 {
            *c = BAD;
        }
    };
    let Some(body) = m.body.as_mut().and_then(|b| b.msg_body.as_mut()) else {
        return;
    };
    match body {
        MsgBody::Error(e) => {
            fix(&mut e.err_code);
            e.param_errs.iter_mut().for_each(|p| fix(&mut p.err_code));
        }
        MsgBody::Request(r) => {
            if let Some(Q::Notify(n)) = r.req_type.as_mut() {
                use pb::notify::{Notification, operation_complete::OperationResp};
                if let Some(Notification::OperComplete(oc)) = n.notification.as_mut()
                    && let Some(OperationResp::CmdFailure(f)) = oc.operation_resp.as_mut()
                {
                    fix(&mut f.err_code);
                }
            }
        }
        MsgBody::Response(r) => match r.resp_type.as_mut() {
            Some(RespType::GetResp(g)) => g
                .req_path_results
                .iter_mut()
                .for_each(|r| fix(&mut r.err_code)),
            Some(RespType::GetInstancesResp(g)) => g
                .req_path_results
                .iter_mut()
                .for_each(|r| fix(&mut r.err_code)),
            Some(RespType::GetSupportedDmResp(g)) => g
                .req_obj_results
                .iter_mut()
                .for_each(|r| fix(&mut r.err_code)),
            Some(RespType::AddResp(a)) => {
                use pb::add_resp::created_object_result::operation_status::OperStatus;
                for r in &mut a.created_obj_results {
                    match r.oper_status.as_mut().and_then(|s| s.oper_status.as_mut()) {
                        Some(OperStatus::OperFailure(f)) => fix(&mut f.err_code),
                        Some(OperStatus::OperSuccess(s)) => {
                            s.param_errs.iter_mut().for_each(|p| fix(&mut p.err_code))
                        }
                        None => {}
                    }
                }
            }
            Some(RespType::SetResp(s)) => {
                use pb::set_resp::updated_object_result::operation_status::OperStatus;
                for r in &mut s.updated_obj_results {
                    match r.oper_status.as_mut().and_then(|s| s.oper_status.as_mut()) {
                        Some(OperStatus::OperFailure(f)) => {
                            fix(&mut f.err_code);
                            for i in &mut f.updated_inst_failures {
                                i.param_errs.iter_mut().for_each(|p| fix(&mut p.err_code));
                            }
                        }
                        Some(OperStatus::OperSuccess(s)) => {
                            for i in &mut s.updated_inst_results {
                                i.param_errs.iter_mut().for_each(|p| fix(&mut p.err_code));
                            }
                        }
                        None => {}
                    }
                }
            }
            Some(RespType::DeleteResp(d)) => {
                use pb::delete_resp::deleted_object_result::operation_status::OperStatus;
                for r in &mut d.deleted_obj_results {
                    match r.oper_status.as_mut().and_then(|s| s.oper_status.as_mut()) {
                        Some(OperStatus::OperFailure(f)) => fix(&mut f.err_code),
                        Some(OperStatus::OperSuccess(s)) => s
                            .unaffected_path_errs
                            .iter_mut()
                            .for_each(|p| fix(&mut p.err_code)),
                        None => {}
                    }
                }
            }
            Some(RespType::OperateResp(o)) => {
                use pb::operate_resp::operation_result::OperationResp;
                for r in &mut o.operation_results {
                    if let Some(OperationResp::CmdFailure(f)) = r.operation_resp.as_mut() {
                        fix(&mut f.err_code);
                    }
                }
            }
            _ => {}
        },
    }
}

/// The kind of a request, as the `error-for` fault names it.
fn request_kind(req: &ReqType) -> Option<super::fault::Request> {
    use super::fault::Request;
    Some(match req {
        ReqType::Get(_) => Request::Get,
        ReqType::Set(_) => Request::Set,
        ReqType::Add(_) => Request::Add,
        ReqType::Delete(_) => Request::Delete,
        ReqType::Operate(_) => Request::Operate,
        ReqType::GetInstances(_) => Request::GetInstances,
        ReqType::GetSupportedDm(_) => Request::GetSupportedDm,
        ReqType::GetSupportedProtocol(_) => Request::GetSupportedProtocol,
        _ => return None,
    })
}

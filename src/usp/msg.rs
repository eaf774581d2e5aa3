//! USP Msg builders and accessors (TR-369 "Messages"): a header with a msg_id and the
//! msg_type that fits the body (R-MSG.8, R-MSG.10), and the pairing of requests with the
//! response type that answers them.

use super::pb::{self, body::MsgBody, header::MsgType, request::ReqType, response::RespType};

/// The msg_type a request body must carry.
pub fn request_type(req: &ReqType) -> MsgType {
    match req {
        ReqType::Get(_) => MsgType::Get,
        ReqType::GetSupportedDm(_) => MsgType::GetSupportedDm,
        ReqType::GetInstances(_) => MsgType::GetInstances,
        ReqType::Set(_) => MsgType::Set,
        ReqType::Add(_) => MsgType::Add,
        ReqType::Delete(_) => MsgType::Delete,
        ReqType::Operate(_) => MsgType::Operate,
        ReqType::Notify(_) => MsgType::Notify,
        ReqType::GetSupportedProtocol(_) => MsgType::GetSupportedProto,
        ReqType::Register(_) => MsgType::Register,
        ReqType::Deregister(_) => MsgType::Deregister,
    }
}

/// The msg_type a response body must carry.
pub fn response_type(resp: &RespType) -> MsgType {
    match resp {
        RespType::GetResp(_) => MsgType::GetResp,
        RespType::GetSupportedDmResp(_) => MsgType::GetSupportedDmResp,
        RespType::GetInstancesResp(_) => MsgType::GetInstancesResp,
        RespType::SetResp(_) => MsgType::SetResp,
        RespType::AddResp(_) => MsgType::AddResp,
        RespType::DeleteResp(_) => MsgType::DeleteResp,
        RespType::OperateResp(_) => MsgType::OperateResp,
        RespType::NotifyResp(_) => MsgType::NotifyResp,
        RespType::GetSupportedProtocolResp(_) => MsgType::GetSupportedProtoResp,
        RespType::RegisterResp(_) => MsgType::RegisterResp,
        RespType::DeregisterResp(_) => MsgType::DeregisterResp,
    }
}

/// The response msg_type that answers a request msg_type.
pub fn answering_type(req: MsgType) -> Option<MsgType> {
    Some(match req {
        MsgType::Get => MsgType::GetResp,
        MsgType::GetSupportedDm => MsgType::GetSupportedDmResp,
        MsgType::GetInstances => MsgType::GetInstancesResp,
        MsgType::Set => MsgType::SetResp,
        MsgType::Add => MsgType::AddResp,
        MsgType::Delete => MsgType::DeleteResp,
        MsgType::Operate => MsgType::OperateResp,
        MsgType::Notify => MsgType::NotifyResp,
        MsgType::GetSupportedProto => MsgType::GetSupportedProtoResp,
        MsgType::Register => MsgType::RegisterResp,
        MsgType::Deregister => MsgType::DeregisterResp,
        _ => return None,
    })
}

/// The msg_type the body of `msg` requires, if it has a body.
pub fn body_type(msg: &pb::Msg) -> Option<MsgType> {
    match msg.body.as_ref()?.msg_body.as_ref()? {
        MsgBody::Request(r) => r.req_type.as_ref().map(request_type),
        MsgBody::Response(r) => r.resp_type.as_ref().map(response_type),
        MsgBody::Error(_) => Some(MsgType::Error),
    }
}

/// A request Msg with the given msg_id.
pub fn request(msg_id: impl Into<String>, req: ReqType) -> pb::Msg {
    let ty = request_type(&req);
    wrap(
        msg_id,
        ty,
        MsgBody::Request(pb::Request {
            req_type: Some(req),
        }),
    )
}

/// A response Msg answering `msg_id`.
pub fn response(msg_id: impl Into<String>, resp: RespType) -> pb::Msg {
    let ty = response_type(&resp);
    wrap(
        msg_id,
        ty,
        MsgBody::Response(pb::Response {
            resp_type: Some(resp),
        }),
    )
}

/// An Error Msg answering `msg_id`.
pub fn error(msg_id: impl Into<String>, err: pb::Error) -> pb::Msg {
    wrap(msg_id, MsgType::Error, MsgBody::Error(err))
}

fn wrap(msg_id: impl Into<String>, ty: MsgType, body: MsgBody) -> pb::Msg {
    pb::Msg {
        header: Some(pb::Header {
            msg_id: msg_id.into(),
            msg_type: ty as i32,
        }),
        body: Some(pb::Body {
            msg_body: Some(body),
        }),
    }
}

/// The msg_id of a Msg ("" when the header is missing).
pub fn msg_id(msg: &pb::Msg) -> &str {
    msg.header.as_ref().map_or("", |h| h.msg_id.as_str())
}

/// The msg_type in the header, if it is a known value.
pub fn header_type(msg: &pb::Msg) -> Option<MsgType> {
    msg.header
        .as_ref()
        .and_then(|h| MsgType::try_from(h.msg_type).ok())
}

/// The `.proto` name of the body's one field (`get_resp`, `error`, `notify`…), the name
/// test cases use in expectations.
pub fn body_name(msg: &pb::Msg) -> &'static str {
    let Some(body) = msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) else {
        return "(no body)";
    };
    match body {
        MsgBody::Error(_) => "error",
        MsgBody::Request(r) => match &r.req_type {
            Some(ReqType::Get(_)) => "get",
            Some(ReqType::GetSupportedDm(_)) => "get_supported_dm",
            Some(ReqType::GetInstances(_)) => "get_instances",
            Some(ReqType::Set(_)) => "set",
            Some(ReqType::Add(_)) => "add",
            Some(ReqType::Delete(_)) => "delete",
            Some(ReqType::Operate(_)) => "operate",
            Some(ReqType::Notify(_)) => "notify",
            Some(ReqType::GetSupportedProtocol(_)) => "get_supported_protocol",
            Some(ReqType::Register(_)) => "register",
            Some(ReqType::Deregister(_)) => "deregister",
            None => "(empty request)",
        },
        MsgBody::Response(r) => match &r.resp_type {
            Some(RespType::GetResp(_)) => "get_resp",
            Some(RespType::GetSupportedDmResp(_)) => "get_supported_dm_resp",
            Some(RespType::GetInstancesResp(_)) => "get_instances_resp",
            Some(RespType::SetResp(_)) => "set_resp",
            Some(RespType::AddResp(_)) => "add_resp",
            Some(RespType::DeleteResp(_)) => "delete_resp",
            Some(RespType::OperateResp(_)) => "operate_resp",
            Some(RespType::NotifyResp(_)) => "notify_resp",
            Some(RespType::GetSupportedProtocolResp(_)) => "get_supported_protocol_resp",
            Some(RespType::RegisterResp(_)) => "register_resp",
            Some(RespType::DeregisterResp(_)) => "deregister_resp",
            None => "(empty response)",
        },
    }
}

/// Whether the body is a response or an Error (as opposed to a request such as Notify).
pub fn is_answer(msg: &pb::Msg) -> bool {
    matches!(
        msg.body.as_ref().and_then(|b| b.msg_body.as_ref()),
        Some(MsgBody::Response(_) | MsgBody::Error(_))
    )
}

/// The Notify carried by a Msg, if it is one.
pub fn notify(msg: &pb::Msg) -> Option<&pb::Notify> {
    match msg.body.as_ref()?.msg_body.as_ref()? {
        MsgBody::Request(pb::Request {
            req_type: Some(ReqType::Notify(n)),
        }) => Some(n),
        _ => None,
    }
}

/// The message's body as the tree test cases match against: `{ "<body field>": {…} }`,
/// e.g. `{ "add_resp": { "created_obj_results": [...] } }` or `{ "error": {...} }`.
pub fn body_tree(msg: &pb::Msg) -> serde_json::Value {
    let mut full = super::reflect::to_value(msg, "usp.Msg");
    // Taken out of the whole message's tree, not copied: an answer's tree can be megabytes.
    let body = full["body"].take();
    let serde_json::Value::Object(mut body) = body else {
        return serde_json::json!({});
    };
    for wrapper in ["request", "response"] {
        if let Some(inner) = body.remove(wrapper) {
            return inner;
        }
    }
    match body.remove("error") {
        Some(e) => serde_json::json!({ "error": e }),
        None => serde_json::json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_types_pair() {
        let m = request("7", ReqType::Get(pb::Get::default()));
        assert_eq!(header_type(&m), Some(MsgType::Get));
        assert_eq!(body_type(&m), Some(MsgType::Get));
        assert_eq!(answering_type(MsgType::Get), Some(MsgType::GetResp));
        let r = response("7", RespType::GetResp(pb::GetResp::default()));
        assert_eq!(body_name(&r), "get_resp");
        assert!(is_answer(&r));
        assert_eq!(msg_id(&r), "7");
        let tree = body_tree(&r);
        assert!(tree.get("get_resp").is_some(), "{tree}");
    }
}

//! Named fault injections: each makes the reference agent break one TR-369 requirement on
//! purpose, so the project can prove that the TP-469 case guarding that requirement fails.
//! The message-level faults are implemented by the agent's handlers; the record/transport
//! faults (`wrong-msg-id`, `late-response`, `malformed-record`, `wrong-to-id`) are only named
//! here and implemented by the I/O loop that wraps the agent.

use std::fmt;
use std::str::FromStr;

/// One deliberate deviation from TR-369.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Treat `allow_partial=false` as `true` in Add, Set and Delete.
    IgnoreAllowPartial,
    /// Add keeps an object whose required parameter failed.
    CreateDespiteRequiredFailure,
    /// AddResp and ObjectCreation report no unique keys.
    NoUniqueKeys,
    /// SetResp reports success but nothing is stored.
    SetNotPersisted,
    /// A failing non-required parameter fails its whole object in Set and Add.
    NonRequiredFailsObject,
    /// Unique-key addressing (only `==` on unique-key parameters) is rejected with 7008.
    NoUniqueKeyAddressing,
    /// A `[expression]` matches every instance.
    SearchIgnoresExpression,
    /// `>` behaves as `>=`, `<` as `<=`, and the other way round.
    SearchOffByOne,
    /// DeleteResp reports success but nothing is deleted.
    DeleteNotDone,
    /// Deleting a non-existent instance is an error (7016) instead of an empty success.
    DeleteMissingIsError,
    /// Get `result_params` are keyed by full path instead of relative to `resolved_path`.
    GetAbsoluteKeys,
    /// A Get of a parameter reports the parameter's path as `resolved_path`.
    GetResolvedPathIsParam,
    /// A Get with an invalid path answers with an Error message instead of a GetResp.
    GetInvalidParamError,
    /// Every error code is 7003 Internal error.
    WrongErrorCode,
    /// No Notify is ever sent.
    DropNotification,
    /// (I/O loop) responses carry a msg_id other than the request's.
    WrongMsgId,
    /// (I/O loop) responses are delayed beyond the harness's timeout.
    LateResponse,
    /// (I/O loop) records sent are not valid protobuf.
    MalformedRecord,
    /// (I/O loop) records are addressed to the wrong `to_id`.
    WrongToId,
}

/// Every fault, in a stable order (for listings and tests); also [`Fault::ALL`].
pub const ALL: [Fault; 19] = Fault::ALL;

impl Fault {
    /// Every fault, in a stable order (for listings and tests).
    pub const ALL: [Fault; 19] = [
        Fault::IgnoreAllowPartial,
        Fault::CreateDespiteRequiredFailure,
        Fault::NoUniqueKeys,
        Fault::SetNotPersisted,
        Fault::NonRequiredFailsObject,
        Fault::NoUniqueKeyAddressing,
        Fault::SearchIgnoresExpression,
        Fault::SearchOffByOne,
        Fault::DeleteNotDone,
        Fault::DeleteMissingIsError,
        Fault::GetAbsoluteKeys,
        Fault::GetResolvedPathIsParam,
        Fault::GetInvalidParamError,
        Fault::WrongErrorCode,
        Fault::DropNotification,
        Fault::WrongMsgId,
        Fault::LateResponse,
        Fault::MalformedRecord,
        Fault::WrongToId,
    ];

    /// The kebab-case name used on the command line and in test files.
    pub fn name(self) -> &'static str {
        match self {
            Fault::IgnoreAllowPartial => "ignore-allow-partial",
            Fault::CreateDespiteRequiredFailure => "create-despite-required-failure",
            Fault::NoUniqueKeys => "no-unique-keys",
            Fault::SetNotPersisted => "set-not-persisted",
            Fault::NonRequiredFailsObject => "non-required-fails-object",
            Fault::NoUniqueKeyAddressing => "no-unique-key-addressing",
            Fault::SearchIgnoresExpression => "search-ignores-expression",
            Fault::SearchOffByOne => "search-off-by-one",
            Fault::DeleteNotDone => "delete-not-done",
            Fault::DeleteMissingIsError => "delete-missing-is-error",
            Fault::GetAbsoluteKeys => "get-absolute-keys",
            Fault::GetResolvedPathIsParam => "get-resolved-path-is-param",
            Fault::GetInvalidParamError => "get-invalid-param-error",
            Fault::WrongErrorCode => "wrong-error-code",
            Fault::DropNotification => "drop-notification",
            Fault::WrongMsgId => "wrong-msg-id",
            Fault::LateResponse => "late-response",
            Fault::MalformedRecord => "malformed-record",
            Fault::WrongToId => "wrong-to-id",
        }
    }

    /// What the fault does and which TR-369 requirement or behaviour it violates.
    pub fn description(self) -> &'static str {
        match self {
            Fault::IgnoreAllowPartial => {
                "Treats allow_partial=false as true in Add, Set and Delete, so failures come back \
                 as oper_failure in a response instead of an Error message and the other \
                 objects are still changed (violates R-ADD.1, R-SET.1, R-DEL.1)."
            }
            Fault::CreateDespiteRequiredFailure => {
                "Add creates the object with its valid parameters even when a required \
                 parameter failed; with allow_partial=true it reports oper_success, with \
                 allow_partial=false it sends the Error but keeps the object (violates R-ADD.3 \
                 and R-ADD.1's all-or-nothing rule)."
            }
            Fault::NoUniqueKeys => {
                "AddResp oper_success and ObjectCreation notifications carry an empty unique_keys \
                 map (violates R-ADD.5 and the ObjectCreation definition in TR-369 'Notify')."
            }
            Fault::SetNotPersisted => {
                "SetResp reports oper_success with the updated_params, but the values are not \
                 stored: a later Get returns the old values (violates R-SET.0/R-SET.1: the \
                 Agent must update the Objects it reports as updated)."
            }
            Fault::NonRequiredFailsObject => {
                "A failing parameter with required=false fails its whole object in Set and Add, \
                 as if it were required (violates the allow_partial/required table in TR-369 \
                 'Using Allow Partial and Required Parameters', R-SET.2, R-ADD.3, R-ADD.4)."
            }
            Fault::NoUniqueKeyAddressing => {
                "Rejects paths that address an instance by unique key (an expression made only \
                 of == on unique-key parameters, e.g. [Alias==\"a\"]) with 7008 Invalid path \
                 syntax (violates R-ARC.7 and TR-369 'Addressing by Unique Key')."
            }
            Fault::SearchIgnoresExpression => {
                "A [expression] instance identifier matches every instance of the table \
                 (violates R-ARC.9: only instances meeting the criteria may be returned)."
            }
            Fault::SearchOffByOne => {
                "Search operators are off by one: '>' acts as '>=', '<' as '<=', '>=' as '>' \
                 and '<=' as '<' (violates R-ARC.9, 'Searching with Expressions')."
            }
            Fault::DeleteNotDone => {
                "DeleteResp reports the instances in affected_paths but nothing is deleted \
                 (violates R-DEL.0/R-DEL.1: reported deletions must happen)."
            }
            Fault::DeleteMissingIsError => {
                "Deleting a non-existent instance fails with 7016 (an Error message, or \
                 oper_failure with allow_partial=true) instead of oper_success with empty \
                 affected_paths (violates R-DEL.2a as tested by TP-469 1.25/1.29)."
            }
            Fault::GetAbsoluteKeys => {
                "GetResp result_params are keyed by full Path Name instead of the Relative Path \
                 to resolved_path (violates the GetResp result_params definition and TP-469's \
                 'keys are relative paths' metrics)."
            }
            Fault::GetResolvedPathIsParam => {
                "For a Get of a Parameter Path, resolved_path is the parameter's own path \
                 instead of its parent object (violates R-GET.2)."
            }
            Fault::GetInvalidParamError => {
                "A Get containing an invalid path is answered with an Error message instead of \
                 a GetResp whose RequestedPathResult carries the err_code (violates R-GET.0)."
            }
            Fault::WrongErrorCode => {
                "Every err_code the agent emits (Error, param_errs, oper_failure, \
                 req_path_results, cmd_failure) is 7003 Internal error instead of the specific \
                 code (violates R-GET.0 and the per-message supported error codes)."
            }
            Fault::DropNotification => {
                "Never sends Notify messages, whatever the subscriptions say (violates R-NOT.0 \
                 and the Device.LocalAgent.Subscription.{i}. requirements)."
            }
            Fault::WrongMsgId => {
                "(I/O loop) Responses and Errors carry a msg_id different from the request's \
                 (violates R-MSG.9)."
            }
            Fault::LateResponse => {
                "(I/O loop) Responses are held back beyond the harness's response timeout \
                 (violates R-MSG.0 in practice: the request is never answered in time)."
            }
            Fault::MalformedRecord => {
                "(I/O loop) Records are sent as bytes that do not decode as a USP Record \
                 (violates R-MSG.5 and the Record encoding of TR-369 'USP Record Encapsulation')."
            }
            Fault::WrongToId => {
                "(I/O loop) Records are addressed to a to_id other than the Controller's \
                 Endpoint ID, so the Controller must ignore them (R-E2E.1)."
            }
        }
    }

    /// True for the faults the I/O loop implements (records and transport, not messages).
    pub fn is_io_fault(self) -> bool {
        matches!(
            self,
            Fault::WrongMsgId | Fault::LateResponse | Fault::MalformedRecord | Fault::WrongToId
        )
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name that is not one of [`ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFault(pub String);

impl fmt::Display for UnknownFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = ALL.iter().map(|f| f.name()).collect();
        write!(
            f,
            "unknown fault {:?}; known faults: {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownFault {}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .copied()
            .find(|f| f.name() == s.trim())
            .ok_or_else(|| UnknownFault(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for f in ALL {
            assert_eq!(f.name().parse::<Fault>().unwrap(), f);
            assert_eq!(f.to_string(), f.name());
            assert!(seen.insert(f.name()), "duplicate {}", f.name());
            assert!(f.description().len() > 40);
        }
        assert_eq!(ALL.iter().filter(|f| f.is_io_fault()).count(), 4);
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let e = "no-such-fault".parse::<Fault>().unwrap_err();
        assert!(e.to_string().contains("ignore-allow-partial"));
    }
}

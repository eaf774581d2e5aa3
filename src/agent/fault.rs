//! Named fault injections: each makes the reference agent break one TR-369 requirement on
//! purpose, so the project can prove that the TP-469 case guarding that requirement fails.
//! The message-level faults are implemented by the agent's handlers; the record/transport
//! faults (`wrong-msg-id`, `late-response`, `malformed-record`, `wrong-to-id`) and the MQTT
//! client's `mqtt-…` faults (TP-469 section 11) are only named here and implemented by the
//! I/O loops that wrap the agent (`run`, `mqtt`).

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
    /// A deleted Subscription keeps producing notifications.
    NotifyAfterUnsubscribe,
    /// A Subscription removed when its TimeToLive expired keeps notifying.
    NotifyAfterExpiry,
    /// Subscription ReferenceList refuses Search Paths and table Object Paths.
    ReferenceInstancesOnly,
    /// Notify with send_resp=true is never retried.
    NoNotifRetry,
    /// Notify retries come every second.
    NotifRetryTooSoon,
    /// Subscription.TimeToLive never removes the Subscription.
    IgnoreTimeToLive,
    /// Retries continue past NotifExpiration.
    IgnoreNotifExpiration,
    /// Periodic! comes every PeriodicNotifInterval + 10 s.
    PeriodicWrongInterval,
    /// Notify retries at set delays (ms): the first this long after the Notify, every later
    /// one the second delay after the one before. Edges of timing windows are proven with it
    /// (`notif-retry-delays=4500,15000`).
    NotifRetryDelays(u32, u32),
    /// Periodic! every this many ms, whatever PeriodicNotifInterval says
    /// (`periodic-every=55500`).
    PeriodicEvery(u32),
    /// The OnBoardRequest comes again this many ms after the NotifyResp, whatever
    /// OnBoardingRestartTime says (when it is not 0; `onboarding-restart-after=55500`).
    OnboardingRestartAfter(u32),
    /// MQTT reconnection attempts at set delays (ms): the first retry this long after the
    /// failure, every later one the second delay after the one before
    /// (`mqtt-retry-delays=4500,15000`).
    MqttRetryDelays(u32, u32),
    /// Every request of this kind is answered with an Error message instead of its response
    /// (`error-for=set`).
    ErrorFor(Request),
    /// One kind of GetSupportedDM element carries information no Agent may give
    /// (`gsdm-malformed=params`).
    GsdmMalformed(GsdmPart),
    /// Device.Reboot() is answered but the agent does not reboot.
    RebootIgnored,
    /// GetInstances treats first_level_only=true as false.
    GetInstancesIgnoresFirstLevel,
    /// GetInstances treats first_level_only=false as true.
    GetInstancesFirstLevelOnly,
    /// GetSupportedDM treats first_level_only=true as false.
    GsdmIgnoresFirstLevel,
    /// GetSupportedDM never lists parameters, commands or events.
    GsdmOmitsDetails,
    /// GetSupportedDM never lists unique_key_sets.
    GsdmNoUniqueKeys,
    /// GetSupportedDM of an unsupported path answers with an Error message.
    GsdmUnsupportedIsError,
    /// GetSupportedDM of a command, event or parameter returns its whole object.
    GsdmLeafReturnsObject,
    /// Deleting a Controller leaves its Subscriptions behind.
    KeepOrphanSubscriptions,
    /// GetSupportedProtocolResp claims USP version 0.9.
    WrongProtocolVersions,
    /// Add leaves unique keys the Controller omitted empty.
    NoAutoUniqueKeys,
    /// A search or table path that matches nothing is an error (7016).
    NoMatchIsError,
    /// An Alias that does not start with a letter is accepted.
    AcceptInvalidAlias,
    /// Get ignores max_depth.
    IgnoreMaxDepth,
    /// Get with max_depth N returns N-1 levels (at least 1).
    MaxDepthOffByOne,
    /// Get with max_depth 0 (or none) returns the requested object's own level only.
    MaxDepthZeroIsOne,
    /// Operate with an unknown input argument fails with 7027.
    RejectUnknownArguments,
    /// Omitted command arguments do not get their data-model defaults.
    IgnoreDefaultArguments,
    /// Subscription.TriggerAction is treated as Notify.
    IgnoreTriggerAction,
    /// Add with a search expression in obj_path fails with 7008.
    AddRejectsSearchPath,
    /// Set may change a non-functional unique key.
    UniqueKeyMutable,
    /// Operate without a mandatory input argument runs the command.
    MissingArgsAccepted,
    /// Operate with send_resp=false is answered with an OperateResp all the same.
    OperateIgnoresSendResp,
    /// An asynchronous command that failed in the OperateResp is still notified complete.
    FailedCommandCompletes,
    /// SendOnBoardRequest() leaves OnBoardingComplete as it was.
    OnboardingCompleteNotCleared,
    /// OnBoardingRestartTime never restarts the OnBoardRequest.
    OnboardingNoRestart,
    /// OnBoardingRestartTime 0 restarts after 30 s.
    OnboardingRestartWhenDisabled,
    /// A pending OnBoardingRestartTime restart fires even after OnBoardingComplete became true.
    OnboardingIgnoresComplete,
    /// OnBoardRequest notifications carry an empty product_class.
    OnboardNoProductClass,
    /// A set writeOnceReadOnly parameter can be changed.
    WriteOnceRewritable,
    /// GetInstances with a wildcard fails with 7008.
    GetInstancesRejectsWildcard,
    /// Get with a search expression in a path is answered with an Error message.
    GetSearchIsError,
    /// GetInstances with several obj_paths lists instances for the first one only.
    GetInstancesFirstPathOnly,
    /// Set with allow_partial=true answers a failing Search Path with an Error, not a SetResp.
    SetSearchFailureIsError,
    /// AddResp reports every object as created, not created.
    AddNotCreated,
    /// Add leaves optional param_settings at their defaults.
    AddDefaultValues,
    /// Only the first create_obj of an Add gets its values.
    AddSettingsFirstObjectOnly,
    /// A failed Add object is reported as failed but kept.
    AddFailureKept,
    /// A Set whose parameter fails validation reports the failure but stores the value.
    SetFailureKept,
    /// SetResp updated_params is always empty.
    SetRespNoUpdatedParams,
    /// DeleteResp affected_paths is always empty.
    DeleteRespNoAffectedPaths,
    /// An Add answered with an Error leaves a new Subscription instance behind.
    AddErrorLeaksSubscription,
    /// A failed Set stores the parameters the object does not define.
    SetUnknownParamKept,
    /// With allow_partial=true, Delete reports its deletions but does none.
    DeletePartialNotDone,
    /// A Delete with a search expression deletes every instance of the table.
    DeleteSearchDeletesAll,
    /// GetSupportedDM lists unique key sets on single-instance objects.
    GsdmKeysOnSingleInstance,
    /// GetSupportedDM reports every command as CMD_SYNC.
    GsdmAsyncAsSync,
    /// (MQTT) After a reboot the CONNECT names MQTT 3.1.
    Mqtt31AfterReboot,
    /// GetSupportedDM reports every parameter as PARAM_READ_ONLY.
    GsdmParamsReadOnly,
    /// GetSupportedDM leaves out Controller.{i}.MTP.{i}.MQTT.Reference (MQTTController:1).
    NoMqttControllerReference,
    /// (I/O loop) responses carry a msg_id other than the request's.
    WrongMsgId,
    /// (I/O loop) responses are delayed beyond the harness's timeout.
    LateResponse,
    /// (I/O loop) records sent are not valid protobuf.
    MalformedRecord,
    /// (I/O loop) records are addressed to the wrong `to_id`.
    WrongToId,
    /// (I/O loop, hostile) unsolicited Notify records without pause, 10,000 a second, over
    /// every MTP.
    Flood,
    /// (I/O loop, hostile) every answer padded to 17 MiB, past the record size uspcheck reads.
    OversizedRecord,
    /// (I/O loop, hostile) every GetResp carries about 1.8 MB more of small parameters.
    BulkyAnswers,
    /// (I/O loop, hostile) a frame of garbage before every answer.
    GarbageRecords,
    /// (I/O loop, hostile) nothing is sent but the Connect record.
    Silent,
    /// (I/O loop, hostile) the connection is dropped at the first request it carries.
    DropMidCase,
    /// (WebSocket client, hostile) a stalled TCP connection to the server before the real one.
    StallBeforeHandshake,
    /// (WebSocket) The opening handshake has no Sec-WebSocket-Protocol: v1.usp, as client
    /// or as server.
    WsNoSubprotocol,
    /// (WebSocket) As client, the request URI has no `eid` query parameter.
    WsNoEidQuery,
    /// (MQTT) The 5.0 CONNECT carries no usp-endpoint-id User Property.
    MqttNoEndpointIdProperty,
    /// (MQTT) CONNECT leaves out the configured User Name and Password.
    MqttNoCredentials,
    /// (MQTT) A 5.0 Assigned Client Identifier is not stored in ClientID.
    MqttIgnoreAssignedClientId,
    /// (MQTT) An empty configured ClientID is replaced by a made-up one.
    MqttMadeUpClientId,
    /// (MQTT) Every reboot picks a new ClientID.
    MqttNewClientIdEachBoot,
    /// (MQTT) CONNECT Keep Alive is always 120, whatever KeepAliveTime says.
    MqttIgnoreKeepAliveTime,
    /// (MQTT) Never sends PINGREQ.
    MqttNoPingreq,
    /// (MQTT) Pings per KeepAliveTime, ignoring the CONNACK Server Keep Alive.
    MqttIgnoreServerKeepAlive,
    /// (MQTT) The 5.0 CONNECT does not set Request Response Information to 1.
    MqttNoRequestResponseInfo,
    /// (MQTT) CONNACK subscribe-topic User Properties are not subscribed to.
    MqttIgnoreSubscribeTopic,
    /// (MQTT) CONNACK Response Information is neither subscribed to nor used as reply-to.
    MqttIgnoreResponseInformation,
    /// (MQTT) A new or enabled Subscription sends no SUBSCRIBE until reconnection.
    MqttNoSubscribeOnAdd,
    /// (MQTT) A disabled or deleted Subscription sends no UNSUBSCRIBE.
    MqttNoUnsubscribe,
    /// (MQTT) Stays connected with no subscribe-topic and no configured Subscription.
    MqttStayConnectedWithoutTopic,
    /// (MQTT) Stays connected and publishes after every subscription failed.
    MqttIgnoreSubackFailure,
    /// (MQTT) 5.0 PUBLISHes carry Content Type application/octet-stream.
    MqttWrongContentType,
    /// (MQTT) PUBLISHes carry no reply-to Topic.
    MqttNoReplyTo,
    /// (MQTT) The 3.1.1 reply-to suffix keeps its '/' unencoded.
    MqttReplyToNotEncoded,
    /// (MQTT) Answers go to the configured Controller Topic, not the request's reply-to.
    MqttAnswerConfiguredTopic,
    /// (MQTT) PUBLISHes with Content Type application/vnd.bbf.usp.msg are dropped.
    MqttRejectMimeContentType,
    /// (MQTT) QoS 1 PUBLISHes outside its own Topic are dropped without PUBACK.
    MqttDropQos1,
    /// QoS 0 PUBLISHes on Topics other than the agent's "reply to" are dropped.
    MqttDropQos0,
    /// With every subscription refused, the Connect Record is published before DISCONNECT.
    MqttPublishDespiteSubackFailure,
    /// (MQTT) Reconnects after half a second, whatever ConnectRetryTime says.
    MqttRetryAtOnce,
    /// (MQTT) Never reconnects after the broker ends the connection.
    MqttNoReconnect,
    /// (MQTT) No MQTTConnectRecord after subscribing.
    MqttNoConnectRecord,
    /// (MQTT) The MQTTConnectRecord names the other MQTT version.
    MqttConnectRecordWrongVersion,
    /// (MQTT) The MQTTConnectRecord's subscribed_topic is one it is not subscribed to.
    MqttConnectRecordWrongTopic,
    /// (MQTT) TransportProtocol TLS is ignored: the agent speaks plain MQTT.
    MqttNoTls,
    /// (MQTT) The Topic Filters of R-MQTT.15 go out in one SUBSCRIBE packet each.
    MqttSplitSubscribe,
    /// (MQTT) A new Subscription is UNSUBSCRIBEd (and SUBSCRIBEd again) at once; disabling it
    /// later sends no UNSUBSCRIBE.
    MqttUnsubscribeBeforeDisable,
}

/// Every fault, in a stable order (for listings and tests); also [`Fault::ALL`].
pub const ALL: [Fault; 123] = Fault::ALL;

impl Fault {
    /// Every fault, in a stable order (for listings and tests).
    pub const ALL: [Fault; 123] = [
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
        Fault::NotifyAfterUnsubscribe,
        Fault::NotifyAfterExpiry,
        Fault::ReferenceInstancesOnly,
        Fault::NoNotifRetry,
        Fault::NotifRetryTooSoon,
        Fault::IgnoreTimeToLive,
        Fault::IgnoreNotifExpiration,
        Fault::PeriodicWrongInterval,
        Fault::NotifRetryDelays(4500, 15000),
        Fault::PeriodicEvery(55500),
        Fault::OnboardingRestartAfter(55500),
        Fault::MqttRetryDelays(4500, 15000),
        Fault::ErrorFor(Request::Set),
        Fault::GsdmMalformed(GsdmPart::Params),
        Fault::RebootIgnored,
        Fault::GetInstancesIgnoresFirstLevel,
        Fault::GetInstancesFirstLevelOnly,
        Fault::GsdmIgnoresFirstLevel,
        Fault::GsdmOmitsDetails,
        Fault::GsdmNoUniqueKeys,
        Fault::GsdmUnsupportedIsError,
        Fault::GsdmLeafReturnsObject,
        Fault::KeepOrphanSubscriptions,
        Fault::WrongProtocolVersions,
        Fault::NoAutoUniqueKeys,
        Fault::NoMatchIsError,
        Fault::AcceptInvalidAlias,
        Fault::IgnoreMaxDepth,
        Fault::MaxDepthOffByOne,
        Fault::MaxDepthZeroIsOne,
        Fault::RejectUnknownArguments,
        Fault::IgnoreDefaultArguments,
        Fault::IgnoreTriggerAction,
        Fault::AddRejectsSearchPath,
        Fault::UniqueKeyMutable,
        Fault::MissingArgsAccepted,
        Fault::OperateIgnoresSendResp,
        Fault::FailedCommandCompletes,
        Fault::OnboardingCompleteNotCleared,
        Fault::OnboardingNoRestart,
        Fault::OnboardingRestartWhenDisabled,
        Fault::OnboardingIgnoresComplete,
        Fault::OnboardNoProductClass,
        Fault::WriteOnceRewritable,
        Fault::GetInstancesRejectsWildcard,
        Fault::GetSearchIsError,
        Fault::GetInstancesFirstPathOnly,
        Fault::SetSearchFailureIsError,
        Fault::AddNotCreated,
        Fault::AddDefaultValues,
        Fault::AddSettingsFirstObjectOnly,
        Fault::AddFailureKept,
        Fault::SetRespNoUpdatedParams,
        Fault::SetFailureKept,
        Fault::DeleteRespNoAffectedPaths,
        Fault::AddErrorLeaksSubscription,
        Fault::SetUnknownParamKept,
        Fault::DeletePartialNotDone,
        Fault::DeleteSearchDeletesAll,
        Fault::GsdmKeysOnSingleInstance,
        Fault::GsdmAsyncAsSync,
        Fault::Mqtt31AfterReboot,
        Fault::GsdmParamsReadOnly,
        Fault::NoMqttControllerReference,
        Fault::WrongMsgId,
        Fault::LateResponse,
        Fault::MalformedRecord,
        Fault::WrongToId,
        Fault::Flood,
        Fault::OversizedRecord,
        Fault::BulkyAnswers,
        Fault::GarbageRecords,
        Fault::Silent,
        Fault::DropMidCase,
        Fault::StallBeforeHandshake,
        Fault::WsNoSubprotocol,
        Fault::WsNoEidQuery,
        Fault::MqttNoEndpointIdProperty,
        Fault::MqttNoCredentials,
        Fault::MqttIgnoreAssignedClientId,
        Fault::MqttMadeUpClientId,
        Fault::MqttNewClientIdEachBoot,
        Fault::MqttIgnoreKeepAliveTime,
        Fault::MqttNoPingreq,
        Fault::MqttIgnoreServerKeepAlive,
        Fault::MqttNoRequestResponseInfo,
        Fault::MqttIgnoreSubscribeTopic,
        Fault::MqttIgnoreResponseInformation,
        Fault::MqttNoSubscribeOnAdd,
        Fault::MqttNoUnsubscribe,
        Fault::MqttStayConnectedWithoutTopic,
        Fault::MqttIgnoreSubackFailure,
        Fault::MqttWrongContentType,
        Fault::MqttNoReplyTo,
        Fault::MqttReplyToNotEncoded,
        Fault::MqttAnswerConfiguredTopic,
        Fault::MqttRejectMimeContentType,
        Fault::MqttDropQos1,
        Fault::MqttDropQos0,
        Fault::MqttPublishDespiteSubackFailure,
        Fault::MqttRetryAtOnce,
        Fault::MqttNoReconnect,
        Fault::MqttNoConnectRecord,
        Fault::MqttConnectRecordWrongVersion,
        Fault::MqttConnectRecordWrongTopic,
        Fault::MqttNoTls,
        Fault::MqttSplitSubscribe,
        Fault::MqttUnsubscribeBeforeDisable,
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
            Fault::NotifyAfterUnsubscribe => "notify-after-unsubscribe",
            Fault::NotifyAfterExpiry => "notify-after-expiry",
            Fault::ReferenceInstancesOnly => "reference-instances-only",
            Fault::NoNotifRetry => "no-notif-retry",
            Fault::NotifRetryTooSoon => "notif-retry-too-soon",
            Fault::IgnoreTimeToLive => "ignore-time-to-live",
            Fault::IgnoreNotifExpiration => "ignore-notif-expiration",
            Fault::PeriodicWrongInterval => "periodic-wrong-interval",
            Fault::NotifRetryDelays(..) => "notif-retry-delays",
            Fault::PeriodicEvery(_) => "periodic-every",
            Fault::OnboardingRestartAfter(_) => "onboarding-restart-after",
            Fault::MqttRetryDelays(..) => "mqtt-retry-delays",
            Fault::ErrorFor(_) => "error-for",
            Fault::GsdmMalformed(_) => "gsdm-malformed",
            Fault::RebootIgnored => "reboot-ignored",
            Fault::GetInstancesIgnoresFirstLevel => "get-instances-ignores-first-level",
            Fault::GetInstancesFirstLevelOnly => "get-instances-first-level-only",
            Fault::GsdmIgnoresFirstLevel => "gsdm-ignores-first-level",
            Fault::GsdmOmitsDetails => "gsdm-omits-details",
            Fault::GsdmNoUniqueKeys => "gsdm-no-unique-keys",
            Fault::GsdmUnsupportedIsError => "gsdm-unsupported-is-error",
            Fault::GsdmLeafReturnsObject => "gsdm-leaf-returns-object",
            Fault::KeepOrphanSubscriptions => "keep-orphan-subscriptions",
            Fault::WrongProtocolVersions => "wrong-protocol-versions",
            Fault::NoAutoUniqueKeys => "no-auto-unique-keys",
            Fault::NoMatchIsError => "no-match-is-error",
            Fault::AcceptInvalidAlias => "accept-invalid-alias",
            Fault::IgnoreMaxDepth => "ignore-max-depth",
            Fault::MaxDepthOffByOne => "max-depth-off-by-one",
            Fault::MaxDepthZeroIsOne => "max-depth-zero-is-one",
            Fault::RejectUnknownArguments => "reject-unknown-arguments",
            Fault::IgnoreDefaultArguments => "ignore-default-arguments",
            Fault::IgnoreTriggerAction => "ignore-trigger-action",
            Fault::AddRejectsSearchPath => "add-rejects-search-path",
            Fault::UniqueKeyMutable => "unique-key-mutable",
            Fault::MissingArgsAccepted => "missing-args-accepted",
            Fault::OperateIgnoresSendResp => "operate-ignores-send-resp",
            Fault::FailedCommandCompletes => "failed-command-completes",
            Fault::OnboardingCompleteNotCleared => "onboarding-complete-not-cleared",
            Fault::OnboardingNoRestart => "onboarding-no-restart",
            Fault::OnboardingRestartWhenDisabled => "onboarding-restart-when-disabled",
            Fault::OnboardingIgnoresComplete => "onboarding-ignores-complete",
            Fault::OnboardNoProductClass => "onboard-no-product-class",
            Fault::WriteOnceRewritable => "write-once-rewritable",
            Fault::GetInstancesRejectsWildcard => "get-instances-rejects-wildcard",
            Fault::GetSearchIsError => "get-search-is-error",
            Fault::GetInstancesFirstPathOnly => "get-instances-first-path-only",
            Fault::SetSearchFailureIsError => "set-search-failure-is-error",
            Fault::AddNotCreated => "add-not-created",
            Fault::AddDefaultValues => "add-default-values",
            Fault::AddSettingsFirstObjectOnly => "add-settings-first-object-only",
            Fault::AddFailureKept => "add-failure-kept",
            Fault::SetRespNoUpdatedParams => "set-resp-no-updated-params",
            Fault::SetFailureKept => "set-failure-kept",
            Fault::DeleteRespNoAffectedPaths => "delete-resp-no-affected-paths",
            Fault::AddErrorLeaksSubscription => "add-error-leaks-subscription",
            Fault::SetUnknownParamKept => "set-unknown-param-kept",
            Fault::DeletePartialNotDone => "delete-partial-not-done",
            Fault::DeleteSearchDeletesAll => "delete-search-deletes-all",
            Fault::GsdmKeysOnSingleInstance => "gsdm-keys-on-single-instance",
            Fault::GsdmAsyncAsSync => "gsdm-async-as-sync",
            Fault::Mqtt31AfterReboot => "mqtt-3.1-after-reboot",
            Fault::GsdmParamsReadOnly => "gsdm-params-read-only",
            Fault::NoMqttControllerReference => "no-mqtt-controller-reference",
            Fault::WrongMsgId => "wrong-msg-id",
            Fault::LateResponse => "late-response",
            Fault::MalformedRecord => "malformed-record",
            Fault::WrongToId => "wrong-to-id",
            Fault::Flood => "flood",
            Fault::OversizedRecord => "oversized-record",
            Fault::BulkyAnswers => "bulky-answers",
            Fault::GarbageRecords => "garbage-records",
            Fault::Silent => "silent",
            Fault::DropMidCase => "drop-mid-case",
            Fault::StallBeforeHandshake => "stall-before-handshake",
            Fault::WsNoSubprotocol => "ws-no-subprotocol",
            Fault::WsNoEidQuery => "ws-no-eid-query",
            Fault::MqttNoEndpointIdProperty => "mqtt-no-endpoint-id-property",
            Fault::MqttNoCredentials => "mqtt-no-credentials",
            Fault::MqttIgnoreAssignedClientId => "mqtt-ignore-assigned-client-id",
            Fault::MqttMadeUpClientId => "mqtt-made-up-client-id",
            Fault::MqttNewClientIdEachBoot => "mqtt-new-client-id-each-boot",
            Fault::MqttIgnoreKeepAliveTime => "mqtt-ignore-keep-alive-time",
            Fault::MqttNoPingreq => "mqtt-no-pingreq",
            Fault::MqttIgnoreServerKeepAlive => "mqtt-ignore-server-keep-alive",
            Fault::MqttNoRequestResponseInfo => "mqtt-no-request-response-info",
            Fault::MqttIgnoreSubscribeTopic => "mqtt-ignore-subscribe-topic",
            Fault::MqttIgnoreResponseInformation => "mqtt-ignore-response-information",
            Fault::MqttNoSubscribeOnAdd => "mqtt-no-subscribe-on-add",
            Fault::MqttNoUnsubscribe => "mqtt-no-unsubscribe",
            Fault::MqttStayConnectedWithoutTopic => "mqtt-stay-connected-without-topic",
            Fault::MqttIgnoreSubackFailure => "mqtt-ignore-suback-failure",
            Fault::MqttWrongContentType => "mqtt-wrong-content-type",
            Fault::MqttNoReplyTo => "mqtt-no-reply-to",
            Fault::MqttReplyToNotEncoded => "mqtt-reply-to-not-encoded",
            Fault::MqttAnswerConfiguredTopic => "mqtt-answer-configured-topic",
            Fault::MqttRejectMimeContentType => "mqtt-reject-mime-content-type",
            Fault::MqttDropQos1 => "mqtt-drop-qos1",
            Fault::MqttDropQos0 => "mqtt-drop-qos0",
            Fault::MqttPublishDespiteSubackFailure => "mqtt-publish-despite-suback-failure",
            Fault::MqttRetryAtOnce => "mqtt-retry-at-once",
            Fault::MqttNoReconnect => "mqtt-no-reconnect",
            Fault::MqttNoConnectRecord => "mqtt-no-connect-record",
            Fault::MqttConnectRecordWrongVersion => "mqtt-connect-record-wrong-version",
            Fault::MqttConnectRecordWrongTopic => "mqtt-connect-record-wrong-topic",
            Fault::MqttNoTls => "mqtt-no-tls",
            Fault::MqttSplitSubscribe => "mqtt-split-subscribe",
            Fault::MqttUnsubscribeBeforeDisable => "mqtt-unsubscribe-before-disable",
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
            Fault::NotifyAfterExpiry => {
                "A Subscription removed from the table when its TimeToLive expired keeps matching \
                 events, so its Notify messages still arrive although GetInstances no longer lists \
                 it (violates R-NOT.0 and Device.LocalAgent.Subscription.{i}.TimeToLive: an \
                 expired Subscription is removed, and one that no longer exists must not notify)."
            }
            Fault::ReferenceInstancesOnly => {
                "A Subscription's ReferenceList accepts only Path Names of single objects, \
                 parameters, commands and events: an entry with a wildcard or search expression, \
                 or the Object Path of a whole table (as ObjectCreation and ObjectDeletion \
                 subscriptions use), fails the Add or Set with 7012 Invalid value (violates \
                 TR-369 'ReferenceList Parameter': entries are Path Names or Search Paths)."
            }
            Fault::NotifyAfterUnsubscribe => {
                "A Subscription deleted by a Delete message keeps matching events, so its Notify messages \
                 still arrive after the DeleteResp (violates R-NOT.0: a Subscription that no longer \
                 exists must not trigger notifications)."
            }
            Fault::NoNotifRetry => {
                "A Notify sent with send_resp=true (NotifRetry=true) is never retransmitted when no \
                 NotifyResp arrives (violates R-NOT.1 and the retry algorithm of R-NOT.2)."
            }
            Fault::NotifRetryTooSoon => {
                "Unanswered Notify messages are retried every second instead of after \
                 m*(k/1000)^(n-1) to m*(k/1000)^n seconds (violates R-NOT.2 with the Controller's \
                 USPNotifRetryMinimumWaitInterval and USPNotifRetryIntervalMultiplier)."
            }
            Fault::IgnoreTimeToLive => {
                "Subscriptions are never removed when their TimeToLive expires, so they keep \
                 notifying (violates Device.LocalAgent.Subscription.{i}.TimeToLive: the instance \
                 MUST be removed by the Agent after it expires)."
            }
            Fault::IgnoreNotifExpiration => {
                "Notify retries go on after the Subscription's NotifExpiration has passed (violates \
                 R-NOT.2 and Device.LocalAgent.Subscription.{i}.NotifExpiration: the Agent MUST stop \
                 re-delivering once it expires)."
            }
            Fault::PeriodicWrongInterval => {
                "Device.LocalAgent.Periodic! events are sent every PeriodicNotifInterval + 10 seconds \
                 instead of at PeriodicNotifTime plus integer multiples of PeriodicNotifInterval \
                 (violates Device.LocalAgent.Controller.{i}.PeriodicNotifInterval/PeriodicNotifTime)."
            }
            Fault::NotifRetryDelays(..) => {
                "(parameters: FIRST,THEN in ms) Unanswered Notify messages are retried FIRST ms \
                 after the Notify and then every THEN ms, whatever the retry algorithm of R-NOT.2 \
                 says. Values just outside a timing window prove that its edge fails (1.54: \
                 notif-retry-delays=4500,15000), values just inside that it passes."
            }
            Fault::PeriodicEvery(_) => {
                "(parameter: MS) Device.LocalAgent.Periodic! events come every MS ms instead of \
                 every PeriodicNotifInterval seconds. Values just outside a timing window prove \
                 that its edge fails (1.59: periodic-every=55500), values just inside that it \
                 passes."
            }
            Fault::OnboardingRestartAfter(_) => {
                "(parameter: MS) After the NotifyResp to an OnBoardRequest, the next one comes MS \
                 ms later instead of OnBoardingRestartTime seconds (when that is not 0). Values \
                 just outside a timing window prove that its edge fails (1.102: \
                 onboarding-restart-after=55500), values just inside that it passes."
            }
            Fault::MqttRetryDelays(..) => {
                "(MQTT I/O; parameters: FIRST,THEN in ms) After a failed or lost connection the \
                 agent tries again FIRST ms later, then every THEN ms, whatever \
                 ConnectRetryTime and ConnectRetryIntervalMultiplier say (R-MQTT.10, R-MQTT.33). \
                 Values just outside a window prove that its edge fails (11.16: \
                 mqtt-retry-delays=4500,15000), values just inside that it passes."
            }
            Fault::GsdmMalformed(_) => {
                "(parameter: params, commands, events, arguments or keys) In GetSupportedDMResp, \
                 every element of that kind is malformed: params have value_type PARAM_UNKNOWN \
                 and value_change VALUE_CHANGE_UNKNOWN, commands command_type CMD_UNKNOWN; events \
                 give their event_name, commands and events their argument names, unique key \
                 sets their key_names as absolute paths instead of names \
                 relative to the object (violates the SupportedParamResult, \
                 SupportedCommandResult, SupportedEventResult and SupportedUniqueKeySet \
                 definitions in TR-369 'The GetSupportedDM Message')."
            }
            Fault::ErrorFor(_) => {
                "(parameter: get, set, add, delete, operate, get-instances, get-supported-dm or \
                 get-supported-protocol) Every request of that kind is answered with an Error \
                 message (7000 Message failed) instead of its response and is not carried out \
                 (violates R-MSG.0 and the request's own requirements: R-GET.0, R-SET.0, R-ADD.0, \
                 R-DEL.0, R-OPR.0…; the plan's 'The EUT sends a …Resp' metrics)."
            }
            Fault::RebootIgnored => {
                "Device.Reboot() is answered (OperateResp when send_resp is true) but the agent never \
                 reboots: the connection stays up and no Boot! follows (violates R-OPR.0 and the \
                 Device.Reboot() definition: the command MUST be carried out)."
            }
            Fault::GetInstancesIgnoresFirstLevel => {
                "GetInstances with first_level_only=true also lists the instances of nested \
                 Multi-Instance Objects (violates the GetInstances first_level_only definition in TR-369 \
                 'The GetInstances Message': only the Object specified is returned)."
            }
            Fault::GetInstancesFirstLevelOnly => {
                "GetInstances with first_level_only=false omits the instances of nested \
                 Multi-Instance Objects (violates the GetInstances first_level_only definition: all \
                 Sub-Objects are resolved and returned)."
            }
            Fault::GsdmIgnoresFirstLevel => {
                "GetSupportedDM with first_level_only=true reports the whole subtree in detail instead \
                 of the object and its immediate children by name (violates the GetSupportedDM \
                 first_level_only definition in TR-369 'The GetSupportedDM Message')."
            }
            Fault::GsdmOmitsDetails => {
                "GetSupportedDM of an Object Path reports no supported_params, supported_commands or \
                 supported_events even when return_params/return_commands/return_events are true \
                 (violates the GetSupportedDM request field definitions)."
            }
            Fault::GsdmNoUniqueKeys => {
                "GetSupportedDM never reports unique_key_sets, even with return_unique_key_sets=true \
                 on a Multi-Instance Object (violates the return_unique_key_sets and \
                 SupportedUniqueKeySet definitions)."
            }
            Fault::GsdmUnsupportedIsError => {
                "A GetSupportedDM naming a path outside the Supported Data Model is answered with an \
                 Error message instead of a GetSupportedDMResp whose RequestedObjectResult carries \
                 the err_code (violates the RequestedObjectResult err_code definition)."
            }
            Fault::GsdmLeafReturnsObject => {
                "GetSupportedDM of a Command, Event or Parameter Path reports everything its object \
                 supports instead of that element alone (violates the RequestedObjectResult note: \
                 only information related to the Path Name in req_obj_path)."
            }
            Fault::KeepOrphanSubscriptions => {
                "Deleting a Device.LocalAgent.Controller.{i}. instance leaves the Subscriptions whose \
                 Recipient it is in place (violates Device.LocalAgent.Subscription.{i}.Recipient: if \
                 the referenced object is deleted, this instance MUST also be deleted)."
            }
            Fault::WrongProtocolVersions => {
                "GetSupportedProtocolResp reports agent_supported_protocol_versions \"0.9\", a version \
                 that does not exist, instead of the USP versions the Agent implements (violates the \
                 GetSupportedProtocolResponse definition: USP Protocol Versions, major.minor)."
            }
            Fault::NoAutoUniqueKeys => {
                "Add does not assign values to unique-key parameters (Alias, Subscription ID) that the \
                 Controller left out, so a second such object clashes with the first (violates \
                 R-ADD.5 and TR-369 'Unique Key' handling: the Agent assigns unique values)."
            }
            Fault::NoMatchIsError => {
                "A Search Path or table Object Path that matches no instance is answered with 7016 \
                 Object does not exist (in GetResp, GetInstancesResp, or as an Error for Set, Add \
                 and Delete) instead of an empty success (violates R-MSG.4a and R-DEL.2a)."
            }
            Fault::AcceptInvalidAlias => {
                "Add and Set accept Alias values that do not start with a letter, e.g. \
                 '88InvalidAlias' (violates the TR-181 AliasUSP data type and TR-369's unique key \
                 checks: the Add MUST fail)."
            }
            Fault::IgnoreMaxDepth => {
                "Get returns every level below the requested object whatever max_depth says \
                 (violates R-GET.5: max_depth limits the depth of the returned sub-objects)."
            }
            Fault::MaxDepthOffByOne => {
                "Get counts the requested object as level 0, so max_depth N returns one level \
                 fewer than asked (at least the object itself): max_depth 2 leaves out the \
                 immediate sub-objects (violates R-GET.5 and TR-369's max_depth table, where 2 \
                 returns the object and its first-level sub-objects)."
            }
            Fault::MaxDepthZeroIsOne => {
                "Get with max_depth 0 (or none) returns the requested object's own parameters \
                 only, as if max_depth were 1, instead of the complete tree (violates the Get \
                 max_depth definition in TR-369: 0 returns all Objects and Sub-Objects)."
            }
            Fault::RejectUnknownArguments => {
                "An Operate naming an input argument the command does not define fails with \
                 cmd_failure 7027 instead of ignoring the argument (violates R-OPR.6: unrecognized \
                 input arguments are ignored)."
            }
            Fault::IgnoreDefaultArguments => {
                "Input arguments the Operate leaves out do not take the defaults the data model \
                 defines (TraceRoute() runs 1 try with a 1000 ms timeout instead of 3 tries of \
                 5000 ms) (violates R-OPR.7 and the TR-181 argument defaults)."
            }
            Fault::IgnoreTriggerAction => {
                "Subscription.{i}.TriggerAction Config and NotifyAndConfig behave like Notify: \
                 TriggerConfigSettings are never applied and Config still notifies (violates \
                 Device.LocalAgent.Subscription.{i}.TriggerAction/TriggerConfigSettings)."
            }
            Fault::AddRejectsSearchPath => {
                "Add whose obj_path contains a wildcard or a search expression (other than unique-key \
                 addressing) fails with 7008 Invalid path syntax instead of creating an instance \
                 under each matching parent (violates the Add obj_path definition, R-ADD.2a)."
            }
            Fault::UniqueKeyMutable => {
                "Set changes the value of a non-functional unique-key parameter (e.g. Subscription \
                 ID) instead of failing (violates R-KEY.1: non-functional unique keys MUST NOT \
                 change once assigned)."
            }
            Fault::MissingArgsAccepted => {
                "An Operate that leaves out a mandatory input argument runs the command with a value \
                 of the Agent's choosing instead of failing with 7027 (violates R-OPR.5)."
            }
            Fault::OperateIgnoresSendResp => {
                "An Operate with send_resp=false is answered with an OperateResp as if send_resp \
                 were true (violates R-OPR.4: with send_resp false the Agent SHOULD NOT send an \
                 OperateResp; TP-469 1.65 metric 1)."
            }
            Fault::FailedCommandCompletes => {
                "An asynchronous command that failed at once (its OperateResp carries cmd_failure, \
                 no Request object was created) is still notified with an OperationComplete \
                 event (violates R-OPR.0: OperationComplete reports the end of a Request object's \
                 operation, and a command that never started has none; TP-469 1.100 metric 2)."
            }
            Fault::OnboardingCompleteNotCleared => {
                "SendOnBoardRequest() sends the OnBoardRequest but does not set the Controller's \
                 OnBoardingComplete to false (violates R-NOT.5 item 1 and the TR-181 \
                 SendOnBoardRequest() definition: executing it sets OnBoardingComplete to false)."
            }
            Fault::OnboardingNoRestart => {
                "After the NotifyResp to an OnBoardRequest the Agent never sends another one, \
                 whatever OnBoardingRestartTime says while OnBoardingComplete is false (violates R-NOT.5 \
                 and Device.LocalAgent.Controller.{i}.OnBoardingRestartTime)."
            }
            Fault::OnboardingIgnoresComplete => {
                "OnBoardingComplete is looked at when the OnBoardingRestartTime timer starts, not \
                 when it runs out: a Controller that sets OnBoardingComplete to true meanwhile \
                 still gets one more OnBoardRequest (violates R-NOT.5 and \
                 Device.LocalAgent.Controller.{i}.OnBoardingRestartTime: no OnBoardRequest once \
                 the onboarding is complete)."
            }
            Fault::OnboardNoProductClass => {
                "OnBoardRequest notifications carry an empty product_class, as firmware that never \
                 fills in Device.DeviceInfo.ProductClass would send (violates the OnBoardRequest \
                 product_class definition required by R-NOT.5; TP-469 1.60 asks for appropriate \
                 oui, product_class, serial_number and protocol versions)."
            }
            Fault::OnboardingRestartWhenDisabled => {
                "With OnBoardingRestartTime 0 the Agent still resends the OnBoardRequest 30 seconds \
                 after its NotifyResp (violates OnBoardingRestartTime: when 0, the OnBoardRequest \
                 is not retried after the notification retry mechanism has completed)."
            }
            Fault::WriteOnceRewritable => {
                "Set changes a writeOnceReadOnly parameter that already has a value, such as an \
                 Alias (violates the TR-106 writeOnceReadOnly access and TR-369 'writeOnceReadOnly \
                 Parameter Access')."
            }
            Fault::GetInstancesRejectsWildcard => {
                "GetInstances whose obj_path contains a wildcard '*' reports 7008 Invalid path syntax \
                 instead of the matching instances (violates the GetInstances obj_paths definition and \
                 'Searching with Wildcards')."
            }
            Fault::GetSearchIsError => {
                "A Get whose path contains a search expression ([...], unique-key addressing \
                 included) is answered with an Error message 7008 Invalid path syntax instead of \
                 a GetResp (violates R-ARC.7 and R-ARC.9: Search Paths are part of the Path Name \
                 syntax every Agent supports, and return the instances that meet them)."
            }
            Fault::GetInstancesFirstPathOnly => {
                "GetInstances with several obj_paths lists the instances of the first one only; \
                 the others come back with err_code 0 and no curr_insts (violates the GetInstances \
                 obj_paths definition: each path gets its RequestedPathResult with its instances)."
            }
            Fault::SetSearchFailureIsError => {
                "A Set with allow_partial=true whose Search Path (wildcard or search expression) \
                 fails on a required parameter is answered with an Error message carrying the \
                 param_errs, instead of a SetResp with an OperationFailure. R-SET.2a lets an Agent \
                 choose either; TP-469 1.21 asks for the SetResp (metrics 1 to 3)."
            }
            Fault::AddNotCreated => {
                "AddResp reports oper_success with an instantiated_path and unique_keys, but the object is not \
                 created: a later Get finds no such instance (violates R-ADD.0 and R-ADD.1: the \
                 Agent MUST complete the creation of the Objects it reports; TP-469 'The EUT creates \
                 the object' metrics)."
            }
            Fault::AddDefaultValues => {
                "Add stores only the param_settings that are required or unique keys; the others keep \
                 the data model's defaults although the AddResp reports no param_errs (violates \
                 R-ADD.4: a value that is not configured must be reported as failed; TP-469 'the \
                 object's values match param_settings' metrics)."
            }
            Fault::AddSettingsFirstObjectOnly => {
                "An Add with several create_objs configures the param_settings of the first object only; \
                 the later objects get their unique keys and the data model's defaults otherwise, and \
                 the AddResp reports no param_errs (violates R-ADD.0 and R-ADD.4; TP-469 1.5 metric 5)."
            }
            Fault::AddFailureKept => {
                "An object whose Add failed on a required parameter is reported as failed (oper_failure, \
                 or the Error with allow_partial=false) but the instance is kept with the parameters \
                 that were valid (violates R-ADD.3: a failure to configure a required Parameter MUST \
                 result in a failure to create the Object)."
            }
            Fault::SetFailureKept => {
                "With allow_partial=true, a Set parameter that fails validation (a value of the \
                 wrong type) is reported in the OperationFailure but its value is stored anyway, so \
                 a Get returns it (violates R-SET.2a: the Agent MUST undo the changes of a failed \
                 obj_path)."
            }
            Fault::SetRespNoUpdatedParams => {
                "SetResp UpdatedInstanceResults carry no updated_params, although the values were stored \
                 (violates the SetResp updated_params definition: each Parameter updated by the Set \
                 and its value after the update, even when unchanged; TP-469 SetResp content metrics)."
            }
            Fault::DeleteRespNoAffectedPaths => {
                "DeleteResp oper_success carries no affected_paths although the instances were deleted \
                 (violates the DeleteResp OperationSuccess affected_paths definition and R-DEL.2a's \
                 distinction between a deletion and a path that matched nothing; TP-469 DeleteResp \
                 content metrics)."
            }
            Fault::AddErrorLeaksSubscription => {
                "An Add answered with an Error leaves a new Subscription instance behind, a row the \
                 rollback misses, whatever the Add asked for (violates R-ADD.1: a failed Add with \
                 allow_partial=false changes nothing)."
            }
            Fault::SetUnknownParamKept => {
                "A Set naming a parameter the object does not define answers with the Error, but \
                 the value was already stored under that name and is not undone, so a Get returns \
                 the parameter (violates R-SET.1: a failed Set with allow_partial=false changes \
                 nothing; TP-469 1.20 metric 3)."
            }
            Fault::DeletePartialNotDone => {
                "With allow_partial=true, DeleteResp reports the instances it deleted in \
                 affected_paths but none is deleted; allow_partial=false deletes as it should \
                 (violates R-DEL.0: the Agent MUST complete the deletion of valid Objects)."
            }
            Fault::DeleteSearchDeletesAll => {
                "A Delete whose path has a search expression reports only the matching instances in \
                 affected_paths, but deletes every instance of the table (violates R-ARC.9: only \
                 the instances meeting the criteria are addressed; TP-469 1.35 metric 3)."
            }
            Fault::GsdmKeysOnSingleInstance => {
                "GetSupportedDM lists a unique key set on single-instance objects too, made of \
                 their first parameter (violates the SupportedObjectResult unique_key_sets \
                 definition: an Object without unique keys, such as a single-instance object, has \
                 an empty list; TP-469 1.73 metric 6)."
            }
            Fault::GsdmAsyncAsSync => {
                "GetSupportedDM reports every command as CMD_SYNC, asynchronous ones too (violates \
                 the SupportedCommandResult command_type definition; TP-469 1.97 metric 3)."
            }
            Fault::Mqtt31AfterReboot => {
                "After a reboot the agent reconnects speaking MQTT 3.1: its CONNECT names the \
                 protocol \"MQIsdp\" at level 3 (violates R-MQTT.1 and R-MQTT.2: an Agent speaks \
                 MQTT 5.0, and may speak 3.1.1; TP-469 11.2 metric 2)."
            }
            Fault::Flood => {
                "A hostile agent: while connected it sends unsolicited Notify records without \
                 pause, about 10,000 a second, besides answering (uspcheck must keep its waits \
                 and memory bounded; docs/limits.md)."
            }
            Fault::OversizedRecord => {
                "A hostile agent: every answer is padded with an unknown field to 17 MiB, over \
                 the record size uspcheck reads (2 MiB unless a profile raises it; \
                 docs/limits.md)."
            }
            Fault::BulkyAnswers => {
                "A heavy agent: every GetResp carries one more resolved path with 40,000 small \
                 parameters, about 1.8 MB, as a whole-model Get of a big device can (valid \
                 records just within uspcheck's default 2 MiB limit; what they cost is measured \
                 by `cargo bench --bench hostile -- --fault bulky-answers`)."
            }
            Fault::GarbageRecords => {
                "A hostile agent: before every answer it sends a frame of bytes that are no USP \
                 Record (violates R-ENC.0)."
            }
            Fault::Silent => {
                "A hostile agent: after its Connect record it sends nothing at all, neither \
                 answers nor notifications."
            }
            Fault::DropMidCase => {
                "A hostile agent: each connection is dropped, unanswered, at the first request \
                 it carries (the agent reconnects as after a failure)."
            }
            Fault::StallBeforeHandshake => {
                "A hostile agent (WebSocket client): before its real connection it opens a TCP \
                 connection to the Controller's port and never sends a handshake on it."
            }
            Fault::GsdmParamsReadOnly => {
                "GetSupportedDM reports every parameter's access as PARAM_READ_ONLY, the writable \
                 ones included (violates the GetSupportedDM access definition in TR-369 'The \
                 GetSupportedDM Message': the access the Supported Data Model specifies; TP-469 \
                 11.1 metric 2, whose profiles require readWrite parameters)."
            }
            Fault::NoMqttControllerReference => {
                "GetSupportedDM does not list Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.Reference, \
                 as an agent built on TR-181 2.18 or later (MQTTController:1 deleted, \
                 MQTTController:2 only) would not (violates the MQTTController:1 profile that \
                 TP-469 1.4.0 11.1 metric 2 names)."
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
            Fault::WsNoSubprotocol => {
                "(WebSocket I/O) The opening handshake leaves out Sec-WebSocket-Protocol: v1.usp: \
                 as client the agent does not offer it (violates R-WS.10), as server it answers \
                 without it (violates R-WS.11). A harness must then fail the case, not report \
                 the agent unreachable."
            }
            Fault::WsNoEidQuery => {
                "(WebSocket I/O) As client the agent's request URI carries no eid query \
                 parameter with its Endpoint ID (violates R-WS.10b)."
            }
            Fault::MqttNoEndpointIdProperty => {
                "(MQTT I/O) The MQTT 5.0 CONNECT carries no \"usp-endpoint-id\" User Property (violates R-MQTT.13; TP-469 11.2 metric 3)."
            }
            Fault::MqttNoCredentials => {
                "(MQTT I/O) CONNECT leaves out the User Name and Password configured in Device.MQTT.Client.{i}.Username/Password (violates R-MQTT.7; TP-469 11.2 metric 4)."
            }
            Fault::MqttIgnoreAssignedClientId => {
                "(MQTT I/O) A 5.0 CONNACK Assigned Client Identifier is used for the session but not saved in Device.MQTT.Client.{i}.ClientID, so the next CONNECT asks for a new one (violates R-MQTT.9 and R-MQTT.11; TP-469 11.4 metric 2, 11.5)."
            }
            Fault::MqttMadeUpClientId => {
                "(MQTT I/O) With Device.MQTT.Client.{i}.ClientID empty, a 5.0 CONNECT carries a ClientId the agent made up instead of an empty one (violates R-MQTT.8; TP-469 11.4 metric 1)."
            }
            Fault::MqttNewClientIdEachBoot => {
                "(MQTT I/O) Every reboot replaces Device.MQTT.Client.{i}.ClientID with a new value, so the CONNECT after a reboot carries another ClientId (violates R-MQTT.11; TP-469 11.5)."
            }
            Fault::MqttIgnoreKeepAliveTime => {
                "(MQTT I/O) The CONNECT Keep Alive is always 120 seconds instead of Device.MQTT.Client.{i}.KeepAliveTime (violates R-MQTT.14; TP-469 11.7 metric 1)."
            }
            Fault::MqttNoPingreq => {
                "(MQTT I/O) The agent never sends PINGREQ, so an idle connection outlives no Keep Alive (violates MQTT's Keep Alive rules required by R-MQTT.1/R-MQTT.2; TP-469 11.7 metric 2)."
            }
            Fault::MqttIgnoreServerKeepAlive => {
                "(MQTT I/O) PINGREQs follow Device.MQTT.Client.{i}.KeepAliveTime even when the 5.0 CONNACK carries a shorter Server Keep Alive (violates MQTT 5.0 3.2.2.3.14 as required by R-MQTT.1; TP-469 11.7 metric 2)."
            }
            Fault::MqttNoRequestResponseInfo => {
                "(MQTT I/O) The 5.0 CONNECT leaves out Request Response Information = 1, so the broker sends no Response Information (violates R-MQTT.12; TP-469 11.8 metrics 1 and 3, 11.12 metric 2)."
            }
            Fault::MqttIgnoreSubscribeTopic => {
                "(MQTT I/O) The Topics in CONNACK \"subscribe-topic\" User Properties are left out of the SUBSCRIBE, and do not count as something to subscribe to (violates R-MQTT.15; TP-469 11.8 metric 2)."
            }
            Fault::MqttIgnoreResponseInformation => {
                "(MQTT I/O) A 5.0 CONNACK Response Information is not subscribed to and not used as the \"reply to\" Topic; ResponseTopicConfigured is used instead (violates R-MQTT.15 and R-MQTT.21; TP-469 11.8 metric 3, 11.12 metric 2)."
            }
            Fault::MqttNoSubscribeOnAdd => {
                "(MQTT I/O) Adding or enabling a Device.MQTT.Client.{i}.Subscription.{i}. while connected sends no SUBSCRIBE; only the next connection would subscribe (violates R-MQTT.15; TP-469 11.9 metric 1, 11.13)."
            }
            Fault::MqttNoUnsubscribe => {
                "(MQTT I/O) Disabling or deleting a Device.MQTT.Client.{i}.Subscription.{i}. while connected sends no UNSUBSCRIBE (violates R-MQTT.34 and the MQTT binding's UNSUBSCRIBE note; TP-469 11.9 metric 3)."
            }
            Fault::MqttStayConnectedWithoutTopic => {
                "(MQTT I/O) With no CONNACK subscribe-topic and no enabled Device.MQTT.Client.{i}.Subscription.{i}.Topic the agent subscribes to its own Topic and stays connected instead of sending DISCONNECT (violates R-MQTT.16; TP-469 11.10)."
            }
            Fault::MqttIgnoreSubackFailure => {
                "(MQTT I/O) When the SUBACK fails every Topic Filter the agent stays connected and publishes its Connect Record and notifications anyway (violates R-MQTT.17; TP-469 11.11 metrics 1 and 2)."
            }
            Fault::MqttWrongContentType => {
                "(MQTT I/O) 5.0 PUBLISHes carrying USP Records have Content Type \"application/octet-stream\" instead of \"usp.msg\" (violates R-MQTT.27; TP-469 11.12 metric 4)."
            }
            Fault::MqttNoReplyTo => {
                "(MQTT I/O) PUBLISHes carry no \"reply to\" Topic: no Response Topic on 5.0, no /reply-to= suffix on 3.1.1 (violates R-MQTT.22, R-MQTT.23, R-MQTT.24; TP-469 11.12 metrics 2 and 3, 11.14)."
            }
            Fault::MqttReplyToNotEncoded => {
                "(MQTT I/O) On 3.1.1 the \"reply to\" Topic after /reply-to= keeps its '/' characters instead of writing them %2F (violates R-MQTT.24; TP-469 11.12 metric 3, 11.14 metric 2)."
            }
            Fault::MqttAnswerConfiguredTopic => {
                "(MQTT I/O) Responses are published to Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.Topic instead of the \"reply to\" Topic of the request they answer (violates R-MQTT.25 and R-MQTT.26; TP-469 11.14)."
            }
            Fault::MqttRejectMimeContentType => {
                "(MQTT I/O) A 5.0 PUBLISH whose Content Type is \"application/vnd.bbf.usp.msg\" is dropped instead of being processed as a USP Record (violates R-MQTT.27a; TP-469 11.15)."
            }
            Fault::MqttDropQos1 => {
                "(MQTT I/O) QoS 1 PUBLISHes arriving on any Topic other than the agent's \"reply to\" Topic (e.g. through a Device.MQTT.Client.{i}.Subscription.{i}. with QoS 1) get no PUBACK and are not processed (violates R-MQTT.20; TP-469 11.13 metric 2)."
            }
            Fault::MqttDropQos0 => {
                "(MQTT I/O) QoS 0 PUBLISHes arriving on any Topic other than the agent's \"reply \
                 to\" Topic (e.g. through a Device.MQTT.Client.{i}.Subscription.{i}. with QoS 0) \
                 are not processed (violates R-MQTT.20; TP-469 11.13 metric 1)."
            }
            Fault::MqttPublishDespiteSubackFailure => {
                "(MQTT I/O) When the SUBACK fails every Topic Filter the agent publishes its \
                 MQTTConnectRecord and only then sends DISCONNECT (violates R-MQTT.17: it MUST NOT \
                 publish a USP Record; TP-469 11.11 metric 2)."
            }
            Fault::MqttRetryAtOnce => {
                "(MQTT I/O) After a failed or lost connection the agent tries again after 0.5 s instead of waiting ConnectRetryTime*(ConnectRetryIntervalMultiplier/1000)^(n-1) to ConnectRetryTime*(ConnectRetryIntervalMultiplier/1000)^n seconds (violates R-MQTT.10 and R-MQTT.33; TP-469 11.6, 11.16)."
            }
            Fault::MqttNoReconnect => {
                "(MQTT I/O) Once the broker refuses or ends the connection (DISCONNECT, closed socket) the agent never tries again until rebooted (violates R-MQTT.10 and R-MQTT.33; TP-469 11.6, 11.16)."
            }
            Fault::MqttNoConnectRecord => {
                "(MQTT I/O) The agent sends no MQTTConnectRecord once subscribed (violates R-MTP.6 and R-MQTT's Connect Record use; TP-469 11.17)."
            }
            Fault::MqttConnectRecordWrongVersion => {
                "(MQTT I/O) The MQTTConnectRecord's version names the MQTT version the agent is not using (violates the MQTTConnectRecord definition and R-MQTT.26a; TP-469 11.17)."
            }
            Fault::MqttConnectRecordWrongTopic => {
                "(MQTT I/O) The MQTTConnectRecord's subscribed_topic is a Topic the agent did not subscribe to (violates the MQTTConnectRecord subscribed_topic definition; TP-469 11.17)."
            }
            Fault::MqttNoTls => {
                "(MQTT I/O) With Device.MQTT.Client.{i}.TransportProtocol TLS the agent still speaks \
                 plain MQTT over TCP, to whatever port is configured (violates R-MQTT.48 and \
                 R-MTP.1; TP-469 11.3)."
            }
            Fault::MqttSplitSubscribe => {
                "(MQTT I/O) After connecting, the agent subscribes to each Topic Filter of \
                 R-MQTT.15 (configured Subscriptions, CONNACK subscribe-topics, Response \
                 Information) in a SUBSCRIBE packet of its own, waiting for each SUBACK, instead of \
                 one SUBSCRIBE packet with all of them (violates R-MQTT.15; TP-469 11.8 metric 3)."
            }
            Fault::MqttUnsubscribeBeforeDisable => {
                "(MQTT I/O) A Device.MQTT.Client.{i}.Subscription.{i}. added while connected is \
                 SUBSCRIBEd, UNSUBSCRIBEd and SUBSCRIBEd again at once, and disabling or deleting it \
                 later sends no UNSUBSCRIBE: the only UNSUBSCRIBE comes before the Subscription is \
                 disabled (violates R-MQTT.34; TP-469 11.9 metric 3)."
            }
        }
    }

    /// True for the faults the I/O loop implements (records and transport, not messages).
    pub fn is_io_fault(self) -> bool {
        self.is_mqtt_fault()
            || matches!(
                self,
                Fault::WrongMsgId
                    | Fault::LateResponse
                    | Fault::MalformedRecord
                    | Fault::WrongToId
                    | Fault::Flood
                    | Fault::OversizedRecord
                    | Fault::BulkyAnswers
                    | Fault::GarbageRecords
                    | Fault::Silent
                    | Fault::DropMidCase
                    | Fault::StallBeforeHandshake
                    | Fault::WsNoSubprotocol
                    | Fault::WsNoEidQuery
            )
    }

    /// True for the faults of the agent's MQTT client (`mqtt-…`, TP-469 section 11); they
    /// only act when the agent runs over MQTT.
    pub fn is_mqtt_fault(self) -> bool {
        self.name().starts_with("mqtt-")
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::NotifRetryDelays(a, b) => write!(f, "{}={a},{b}", self.name()),
            Fault::PeriodicEvery(ms) | Fault::OnboardingRestartAfter(ms) => {
                write!(f, "{}={ms}", self.name())
            }
            Fault::MqttRetryDelays(a, b) => write!(f, "{}={a},{b}", self.name()),
            Fault::ErrorFor(r) => write!(f, "{}={}", self.name(), r.name()),
            Fault::GsdmMalformed(p) => write!(f, "{}={}", self.name(), p.name()),
            _ => f.write_str(self.name()),
        }
    }
}

/// A kind of request, as a fault's parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Request {
    Get,
    Set,
    Add,
    Delete,
    Operate,
    GetInstances,
    GetSupportedDm,
    GetSupportedProtocol,
}

impl Request {
    pub const ALL: [Request; 8] = [
        Request::Get,
        Request::Set,
        Request::Add,
        Request::Delete,
        Request::Operate,
        Request::GetInstances,
        Request::GetSupportedDm,
        Request::GetSupportedProtocol,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Request::Get => "get",
            Request::Set => "set",
            Request::Add => "add",
            Request::Delete => "delete",
            Request::Operate => "operate",
            Request::GetInstances => "get-instances",
            Request::GetSupportedDm => "get-supported-dm",
            Request::GetSupportedProtocol => "get-supported-protocol",
        }
    }
}

/// A kind of GetSupportedDM element, as a fault's parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GsdmPart {
    Params,
    Commands,
    Events,
    Arguments,
    Keys,
}

impl GsdmPart {
    pub const ALL: [GsdmPart; 5] = [
        GsdmPart::Params,
        GsdmPart::Commands,
        GsdmPart::Events,
        GsdmPart::Arguments,
        GsdmPart::Keys,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GsdmPart::Params => "params",
            GsdmPart::Commands => "commands",
            GsdmPart::Events => "events",
            GsdmPart::Arguments => "arguments",
            GsdmPart::Keys => "keys",
        }
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

    /// A name, or for a fault with parameters `name=N` / `name=N,M` (milliseconds).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownFault(s.to_string());
        let (name, params) = match s.trim().split_once('=') {
            Some((n, p)) => (n, Some(p)),
            None => (s.trim(), None),
        };
        let f = ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(unknown)?;
        let Some(params) = params else {
            return Ok(f);
        };
        match f {
            Fault::ErrorFor(_) => {
                return Request::ALL
                    .into_iter()
                    .find(|r| r.name() == params.trim())
                    .map(Fault::ErrorFor)
                    .ok_or_else(unknown);
            }
            Fault::GsdmMalformed(_) => {
                return GsdmPart::ALL
                    .into_iter()
                    .find(|p| p.name() == params.trim())
                    .map(Fault::GsdmMalformed)
                    .ok_or_else(unknown);
            }
            _ => {}
        }
        let ms: Vec<u32> = params
            .split(',')
            .map(|x| x.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|_| unknown())?;
        match (f, ms.as_slice()) {
            (Fault::NotifRetryDelays(..), [a, b]) => Ok(Fault::NotifRetryDelays(*a, *b)),
            (Fault::PeriodicEvery(_), [a]) => Ok(Fault::PeriodicEvery(*a)),
            (Fault::OnboardingRestartAfter(_), [a]) => Ok(Fault::OnboardingRestartAfter(*a)),
            (Fault::MqttRetryDelays(..), [a, b]) => Ok(Fault::MqttRetryDelays(*a, *b)),
            _ => Err(unknown()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for f in ALL {
            assert_eq!(f.to_string().parse::<Fault>().unwrap(), f);
            assert!(f.to_string().starts_with(f.name()));
            assert!(seen.insert(f.name()), "duplicate {}", f.name());
            assert!(f.description().len() > 40);
        }
        assert_eq!(ALL.iter().filter(|f| f.is_mqtt_fault()).count(), 33);
        assert_eq!(ALL.iter().filter(|f| f.is_io_fault()).count(), 46);
    }

    #[test]
    fn timing_faults_take_their_parameters() {
        assert_eq!(
            "notif-retry-delays=5500,10500".parse::<Fault>().unwrap(),
            Fault::NotifRetryDelays(5500, 10500)
        );
        assert_eq!(
            "periodic-every=64500".parse::<Fault>().unwrap(),
            Fault::PeriodicEvery(64500)
        );
        assert!("periodic-every=1,2".parse::<Fault>().is_err());
        assert!("periodic-every=x".parse::<Fault>().is_err());
        assert!("ignore-allow-partial=1".parse::<Fault>().is_err());
        assert_eq!(
            "error-for=get-instances".parse::<Fault>().unwrap(),
            Fault::ErrorFor(Request::GetInstances)
        );
        assert!("error-for=notify".parse::<Fault>().is_err());
        assert_eq!(
            "gsdm-malformed=keys".parse::<Fault>().unwrap(),
            Fault::GsdmMalformed(GsdmPart::Keys)
        );
        assert!("gsdm-malformed=objects".parse::<Fault>().is_err());
        assert!("error-for".parse::<Fault>().unwrap() == Fault::ErrorFor(Request::Set));
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let e = "no-such-fault".parse::<Fault>().unwrap_err();
        assert!(e.to_string().contains("ignore-allow-partial"));
    }
}

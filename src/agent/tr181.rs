//! The TR-181 (Device:2.19) subset the reference agent supports, with attributes taken from
//! TR-181 2.19.1 (the Device:2.19 data model): Device.DeviceInfo., Device.LocalAgent. (MTP, Controller
//! with MTP and BootParameter, Subscription, Request, ControllerTrust.Role), the commands
//! Reboot(), ScheduleTimer(), SendOnBoardRequest(), Request.{i}.Cancel() and
//! IP.Diagnostics.TraceRoute() (simulated), and the Boot! and LocalAgent.Periodic! events.
//! Device.MQTT. (Capabilities, Client.{i}. with Stats and Subscription.{i}.) and the MQTT
//! objects of LocalAgent.MTP.{i}. and LocalAgent.Controller.{i}.MTP.{i}. cover the MQTT
//! profiles TP-469 11.1 names (MQTTClientCon:1, MQTTClientSubscribe:1, MQTTAgent:1,
//! MQTTController:1 as MQTTController:2, its 2.16+ replacement; R-MQTT.4).
//! Only what TP-469 exercises is here, so that unsupported features are honestly absent from
//! GetSupportedDM rather than present and broken.

use std::sync::LazyLock;

use super::schema::Access::{ReadOnly as RO, ReadWrite as RW, WriteOnceReadOnly as WO};
use super::schema::Type::{Bool, DateTime, List, Str, UInt};
use super::schema::{Action, CmdDef, EventDef, KeyDef, ObjDef, ParamDef, Source, Syntax, param};

/// The URI reported as `data_model_inst_uri` by GetSupportedDM.
pub const DATA_MODEL_URI: &str = "urn:broadband-forum-org:tr-181-2-19-1-usp";

/// The MTP protocols named in `SupportedProtocols` and accepted as `Protocol` values.
pub const PROTOCOLS: &[&str] = &["WebSocket", "STOMP", "MQTT", "UDS"];

/// Values of `Device.DeviceInfo.` that identify the device (also used by OnBoardRequest).
pub const MANUFACTURER_OUI: &str = "000000";
/// `Device.DeviceInfo.ProductClass`.
pub const PRODUCT_CLASS: &str = "uspcheck-reference-agent";
/// `Device.DeviceInfo.SerialNumber`.
pub const SERIAL_NUMBER: &str = "0000000001";

/// The supported data model, built once.
pub static DEVICE: LazyLock<ObjDef> = LazyLock::new(device);

fn obj(name: &'static str) -> ObjDef {
    ObjDef {
        name,
        ..Default::default()
    }
}

fn table(name: &'static str, writable: bool, keys: Vec<KeyDef>) -> ObjDef {
    ObjDef {
        name,
        multi: true,
        writable,
        keys,
        ..Default::default()
    }
}

fn key(params: &[&'static str], functional: bool) -> KeyDef {
    KeyDef {
        params: params.to_vec(),
        functional,
    }
}

fn alias() -> ParamDef {
    param("Alias", Str, WO).len(1, 64).syntax(Syntax::Alias)
}

fn count(name: &'static str, table: &'static str) -> ParamDef {
    param(name, UInt, RO).source(Source::CountOf(table))
}

fn cmd(name: &'static str, asynchronous: bool, action: Action) -> CmdDef {
    CmdDef {
        name,
        asynchronous,
        inputs: Vec::new(),
        outputs: Vec::new(),
        action,
    }
}

fn device() -> ObjDef {
    // Command argument defaults are the values TR-181 tells the Device to use when the
    // argument is omitted (R-OPR.7).
    let mut reboot = cmd("Reboot()", false, Action::Reboot);
    reboot.inputs = vec![
        (
            param("Cause", Str, RW)
                .enums(&["LocalReboot", "RemoteReboot"])
                .default("RemoteReboot"),
            false,
        ),
        (param("Reason", Str, RW).default("Unknown"), false),
    ];
    let mut timer = cmd("ScheduleTimer()", true, Action::ScheduleTimer);
    timer.inputs = vec![(
        param("DelaySeconds", UInt, RW).range(1, u32::MAX as i64),
        true,
    )];
    ObjDef {
        params: vec![param("RootDataModelVersion", Str, RO).default("2.19")],
        objects: vec![device_info(), local_agent(), ip(), mqtt()],
        commands: vec![reboot, timer],
        events: vec![EventDef {
            name: "Boot!",
            args: vec![
                "CommandKey",
                "Cause",
                "Reason",
                "FirmwareUpdated",
                "ParameterMap",
            ],
        }],
        ..obj("Device")
    }
}

fn device_info() -> ObjDef {
    ObjDef {
        params: vec![
            param("Manufacturer", Str, RO).default("uspcheck"),
            param("ManufacturerOUI", Str, RO).default(MANUFACTURER_OUI),
            param("ModelName", Str, RO).default("uspcheck reference agent"),
            param("Description", Str, RO).default("Conforming USP Agent built into uspcheck"),
            param("ProductClass", Str, RO).default(PRODUCT_CLASS),
            param("SerialNumber", Str, RO).default(SERIAL_NUMBER),
            param("HardwareVersion", Str, RO).default("1.0"),
            param("SoftwareVersion", Str, RO),
            param("ProvisioningCode", Str, RW).len(0, 64),
            param("UpTime", UInt, RO).source(Source::UpTime),
            param("FriendlyName", Str, RW).len(0, 32),
        ],
        ..obj("DeviceInfo")
    }
}

/// `Device.IP.Diagnostics.` with the asynchronous `TraceRoute()` only (TP-469 1.92 uses it to
/// check argument defaults: NumberOfTries 3, Timeout 5000 ms).
fn ip() -> ObjDef {
    let mut trace = cmd("TraceRoute()", true, Action::TraceRoute);
    trace.inputs = vec![
        (param("Interface", Str, RW).len(0, 256), false),
        (
            param("ProtocolVersion", Str, RW).enums(&["Any", "IPv4", "IPv6"]),
            true,
        ),
        (param("Host", Str, RW).len(0, 256), true),
        (
            param("NumberOfTries", UInt, RW).range(1, 3).default("3"),
            false,
        ),
        (
            param("Timeout", UInt, RW)
                .range(1, u32::MAX as i64)
                .default("5000"),
            false,
        ),
        (
            param("DataBlockSize", UInt, RW)
                .range(1, 65535)
                .default("38"),
            false,
        ),
        (param("DSCP", UInt, RW).range(0, 63).default("0"), false),
        (
            param("MaxHopCount", UInt, RW).range(1, 64).default("30"),
            false,
        ),
    ];
    trace.outputs = vec![
        "Status",
        "IPAddressUsed",
        "ResponseTime",
        "RouteHops.{i}.Host",
        "RouteHops.{i}.HostAddress",
        "RouteHops.{i}.ErrorCode",
        "RouteHops.{i}.RTTimes",
    ];
    let diagnostics = ObjDef {
        params: vec![
            param("IPv4TraceRouteSupported", Bool, RO).default("true"),
            param("IPv6TraceRouteSupported", Bool, RO).default("true"),
        ],
        commands: vec![trace],
        ..obj("Diagnostics")
    };
    ObjDef {
        objects: vec![diagnostics],
        ..obj("IP")
    }
}

fn local_agent() -> ObjDef {
    ObjDef {
        params: vec![
            param("EndpointID", Str, RO),
            param("AdvertisedDeviceSubtypes", List, RW),
            param("SoftwareVersion", Str, RO).len(0, 64),
            param("UpTime", UInt, RO).source(Source::UpTime),
            param("SupportedProtocols", List, RO)
                .enums(PROTOCOLS)
                .default("WebSocket,STOMP,MQTT,UDS"),
            count("MTPNumberOfEntries", "MTP"),
            count("ControllerNumberOfEntries", "Controller"),
            count("SubscriptionNumberOfEntries", "Subscription"),
            count("RequestNumberOfEntries", "Request"),
        ],
        objects: vec![
            mtp(),
            controller(),
            subscription(),
            request(),
            controller_trust(),
        ],
        events: vec![EventDef {
            name: "Periodic!",
            args: Vec::new(),
        }],
        ..obj("LocalAgent")
    }
}

fn mtp() -> ObjDef {
    ObjDef {
        params: vec![
            alias(),
            param("Enable", Bool, RW).default("false"),
            param("Status", Str, RO)
                .enums(&["Up", "Down", "Error"])
                .default("Down"),
            param("Protocol", Str, RW)
                .enums(PROTOCOLS)
                .default("WebSocket"),
            param("EnableMDNS", Bool, RW).default("true"),
        ],
        objects: vec![
            ObjDef {
                params: vec![
                    param("Interfaces", List, RW),
                    param("Port", UInt, RW).range(1, 65535).default("8443"),
                    param("Path", Str, RW),
                    param("EnableEncryption", Bool, RW).default("true"),
                    param("KeepAliveInterval", UInt, RW)
                        .range(1, u32::MAX as i64)
                        .default("60"),
                ],
                ..obj("WebSocket")
            },
            ObjDef {
                // MQTTAgent:1. Reference points at the Device.MQTT.Client.{i}. the MTP uses.
                params: vec![
                    param("Reference", Str, RW),
                    param("ResponseTopicConfigured", Str, RW).len(0, 65535),
                    param("ResponseTopicDiscovered", Str, RO).len(0, 65535),
                ],
                ..obj("MQTT")
            },
        ],
        ..table("MTP", true, vec![key(&["Alias"], false)])
    }
}

fn controller() -> ObjDef {
    let controller_mtp = ObjDef {
        params: vec![
            alias(),
            param("Enable", Bool, RW).default("false"),
            param("Protocol", Str, RW)
                .enums(PROTOCOLS)
                .default("WebSocket"),
        ],
        objects: vec![
            ObjDef {
                params: vec![
                    param("Host", Str, RW).len(0, 256),
                    param("Port", UInt, RW).range(1, 65535).default("443"),
                    param("Path", Str, RW),
                    param("EnableEncryption", Bool, RW).default("true"),
                    param("KeepAliveInterval", UInt, RW)
                        .range(1, u32::MAX as i64)
                        .default("60"),
                ],
                ..obj("WebSocket")
            },
            ObjDef {
                // MQTTController:2 and MQTTController:1: TP-469 1.4.0 11.1 names the latter,
                // deleted in TR-181 2.18 along with its Reference (AgentMTPReference replaces
                // it), so the agent keeps Reference too.
                params: vec![
                    param("Topic", Str, RW).len(0, 65535),
                    param("AgentMTPReference", Str, RW),
                    param("Reference", Str, RW),
                ],
                ..obj("MQTT")
            },
        ],
        ..table(
            "MTP",
            true,
            vec![key(&["Protocol"], true), key(&["Alias"], false)],
        )
    };
    let boot_parameter = ObjDef {
        params: vec![
            alias(),
            param("Enable", Bool, RW).default("false"),
            param("ParameterName", Str, RW).len(0, 256),
        ],
        ..table(
            "BootParameter",
            true,
            vec![key(&["ParameterName"], true), key(&["Alias"], false)],
        )
    };
    ObjDef {
        params: vec![
            alias(),
            param("EndpointID", Str, RW),
            param("ControllerCode", Str, RW).len(0, 128),
            param("ProvisioningCode", Str, RW).len(0, 64),
            param("Enable", Bool, RW).default("false"),
            param("AssignedRole", List, RW),
            param("InheritedRole", List, RO),
            param("PeriodicNotifInterval", UInt, RW)
                .range(1, u32::MAX as i64)
                .default("86400"),
            param("PeriodicNotifTime", DateTime, RW).default("0001-01-01T00:00:00Z"),
            param("USPNotifRetryMinimumWaitInterval", UInt, RW)
                .range(1, 65535)
                .default("5"),
            param("USPNotifRetryIntervalMultiplier", UInt, RW)
                .range(1000, 65535)
                .default("2000"),
            count("MTPNumberOfEntries", "MTP"),
            count("BootParameterNumberOfEntries", "BootParameter"),
            param("OnBoardingComplete", Bool, RW).default("false"),
            param("OnBoardingRestartTime", UInt, RW).default("0"),
        ],
        objects: vec![controller_mtp, boot_parameter],
        commands: vec![cmd(
            "SendOnBoardRequest()",
            false,
            Action::SendOnBoardRequest,
        )],
        ..table(
            "Controller",
            true,
            vec![key(&["EndpointID"], true), key(&["Alias"], false)],
        )
    }
}

fn subscription() -> ObjDef {
    ObjDef {
        params: vec![
            alias(),
            param("Enable", Bool, RW).default("false"),
            param("Recipient", Str, RO).syntax(Syntax::Reference),
            param("TriggerAction", Str, RW)
                .enums(&["Notify", "Config", "NotifyAndConfig"])
                .default("Notify"),
            param("TriggerConfigSettings", List, RW).syntax(Syntax::ConfigSettings),
            param("ID", Str, RW).len(1, 64),
            param("CreationDate", DateTime, RO).default("0001-01-01T00:00:00Z"),
            param("NotifType", Str, RW).enums(&[
                "ValueChange",
                "ObjectCreation",
                "ObjectDeletion",
                "OperationComplete",
                "Event",
            ]),
            param("ReferenceList", List, RW)
                .len(0, 256)
                .syntax(Syntax::PathList),
            param("Persistent", Bool, RW).default("false"),
            param("TimeToLive", UInt, RW).default("0"),
            param("NotifRetry", Bool, RW).default("false"),
            param("NotifExpiration", UInt, RW).default("0"),
        ],
        ..table(
            "Subscription",
            true,
            vec![key(&["Alias"], false), key(&["Recipient", "ID"], false)],
        )
    }
}

fn request() -> ObjDef {
    ObjDef {
        params: vec![
            alias(),
            param("Originator", Str, RO),
            param("Command", Str, RO),
            param("CommandKey", Str, RO),
            param("Status", Str, RO).enums(&[
                "Requested",
                "Active",
                "Canceling",
                "Canceled",
                "Success",
                "Error",
            ]),
        ],
        commands: vec![cmd("Cancel()", false, Action::CancelRequest)],
        ..table(
            "Request",
            false,
            vec![
                key(&["Originator", "Command", "CommandKey"], true),
                key(&["Alias"], false),
            ],
        )
    }
}

fn controller_trust() -> ObjDef {
    let role = ObjDef {
        params: vec![
            alias(),
            param("Enable", Bool, RW).default("false"),
            param("Name", Str, RW),
        ],
        ..table(
            "Role",
            true,
            vec![key(&["Name"], true), key(&["Alias"], false)],
        )
    };
    ObjDef {
        params: vec![
            param("TOFUAllowed", Bool, RW).default("false"),
            param("TOFUInactivityTimer", UInt, RW).default("0"),
            count("RoleNumberOfEntries", "Role"),
        ],
        objects: vec![role],
        ..obj("ControllerTrust")
    }
}

/// `Device.MQTT.`: the MQTT client the agent's MQTT MTP uses (MQTTClientCon:1,
/// MQTTClientSubscribe:1). The values are read at each connection (R-MQTT.7, R-MQTT.8,
/// R-MQTT.10, R-MQTT.14); Subscription changes act at once (R-MQTT.15, R-MQTT.34).
fn mqtt() -> ObjDef {
    let capabilities = ObjDef {
        params: vec![
            param("ProtocolVersionsSupported", List, RO)
                .enums(&["3.1", "3.1.1", "5.0"])
                .default("3.1.1,5.0"),
            param("TransportProtocolSupported", List, RO)
                .enums(&["TCP/IP", "TLS", "WebSocket", "WebSocketTLS"])
                .default("TCP/IP,TLS"),
        ],
        ..obj("Capabilities")
    };
    let stats = ObjDef {
        params: vec![
            param("BrokerConnectionEstablished", DateTime, RO).default("0001-01-01T00:00:00Z"),
            param("MQTTMessagesSent", UInt, RO).default("0"),
            param("MQTTMessagesReceived", UInt, RO).default("0"),
            param("ConnectionErrors", UInt, RO).default("0"),
        ],
        ..obj("Stats")
    };
    let subscription = ObjDef {
        params: vec![
            alias(),
            param("Enable", Bool, RW).default("false"),
            param("Status", Str, RO)
                .enums(&[
                    "Unsubscribed",
                    "Subscribed",
                    "Subscribing",
                    "Unsubscribing",
                    "Error",
                ])
                .default("Unsubscribed"),
            param("Topic", Str, RW).len(0, 65535),
            param("QoS", UInt, RW).range(0, 2).default("1"),
        ],
        ..table(
            "Subscription",
            true,
            vec![key(&["Alias"], false), key(&["Topic"], true)],
        )
    };
    let client = ObjDef {
        params: vec![
            alias(),
            param("Name", Str, RW).len(0, 64),
            param("Enable", Bool, RW).default("false"),
            param("Status", Str, RO)
                .enums(&[
                    "Disabled",
                    "Connecting",
                    "Connected",
                    "Error_Misconfigured",
                    "Error_BrokerUnreachable",
                    "Error",
                ])
                .default("Disabled"),
            // Only the versions the agent speaks (enumerationRef to the Capabilities).
            param("ProtocolVersion", Str, RW)
                .enums(&["3.1.1", "5.0"])
                .default("5.0"),
            param("BrokerAddress", Str, RW).len(0, 256),
            param("BrokerPort", UInt, RW)
                .range(1, 65535)
                .default("1883"),
            param("TransportProtocol", Str, RW)
                .enums(&["TCP/IP", "TLS"])
                .default("TCP/IP"),
            param("CleanSession", Bool, RW).default("true"),
            param("CleanStart", Bool, RW).default("true"),
            param("KeepAliveTime", UInt, RW)
                .range(0, 65535)
                .default("60"),
            param("ClientID", Str, RW).len(0, 65535),
            param("Username", Str, RW).len(0, 256),
            param("Password", Str, RW)
                .len(0, 256)
                .syntax(Syntax::Secured),
            param("MessageRetryTime", UInt, RW)
                .range(1, u32::MAX as i64)
                .default("5"),
            param("ConnectRetryTime", UInt, RW)
                .range(1, u32::MAX as i64)
                .default("5"),
            param("ConnectRetryIntervalMultiplier", UInt, RW)
                .range(1000, 65535)
                .default("2000"),
            param("ConnectRetryMaxInterval", UInt, RW)
                .range(1, u32::MAX as i64)
                .default("30720"),
            param("ResponseInformation", Str, RO).len(0, 65535),
            count("SubscriptionNumberOfEntries", "Subscription"),
        ],
        objects: vec![stats, subscription],
        ..table(
            "Client",
            true,
            vec![key(&["Alias"], false), key(&["Name"], false)],
        )
    };
    ObjDef {
        params: vec![count("ClientNumberOfEntries", "Client")],
        objects: vec![capabilities, client],
        ..obj("MQTT")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every default must pass the parameter's own validation, and every table must have
    /// unique keys whose parameters exist, or the agent would contradict itself.
    #[test]
    fn schema_is_self_consistent() {
        fn walk(def: &ObjDef, path: String) {
            for p in &def.params {
                if p.source == Source::Stored && !p.default.is_empty() {
                    assert!(p.check(p.default).is_ok(), "{path}{}", p.name);
                }
            }
            if def.multi {
                assert!(!def.keys.is_empty(), "{path} has no unique key");
                for k in def.key_params() {
                    assert!(def.param(k).is_some(), "{path} key {k}");
                }
            }
            for c in &def.objects {
                let sub = if c.multi { ".{i}." } else { "." };
                walk(c, format!("{path}{}{sub}", c.name));
            }
        }
        walk(&DEVICE, "Device.".into());
    }
}

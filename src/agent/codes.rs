//! The TR-369 error codes the reference agent emits (TR-369 1.4.1, Messages, "Error Codes"), and the
//! [`Failure`] value that carries one through the handlers until it becomes a response field
//! or an Error message. Kept local so the agent does not depend on the harness's tables.

/// 7000 Message failed.
pub const MESSAGE_FAILED: u32 = 7000;
/// 7001 Message not supported.
pub const MESSAGE_NOT_SUPPORTED: u32 = 7001;
/// 7003 Internal error (what the `wrong-error-code` fault reports everywhere).
pub const INTERNAL_ERROR: u32 = 7003;
/// 7005 Resources exceeded.
pub const RESOURCES_EXCEEDED: u32 = 7005;
/// 7008 Invalid path syntax.
pub const INVALID_PATH_SYNTAX: u32 = 7008;
/// 7010 Unsupported parameter.
pub const UNSUPPORTED_PARAM: u32 = 7010;
/// 7011 Invalid type.
pub const INVALID_TYPE: u32 = 7011;
/// 7012 Invalid value.
pub const INVALID_VALUE: u32 = 7012;
/// 7013 Attempt to update non-writeable parameter.
pub const NOT_WRITABLE: u32 = 7013;
/// 7016 Object does not exist.
pub const OBJECT_DOES_NOT_EXIST: u32 = 7016;
/// 7018 Object is not a table.
pub const NOT_A_TABLE: u32 = 7018;
/// 7019 Attempt to create non-creatable object.
pub const NOT_CREATABLE: u32 = 7019;
/// 7021 Required parameter failed.
pub const REQUIRED_PARAM_FAILED: u32 = 7021;
/// 7022 Command failure.
pub const COMMAND_FAILURE: u32 = 7022;
/// 7023 Command canceled.
pub const COMMAND_CANCELED: u32 = 7023;
/// 7024 Delete failure.
pub const DELETE_FAILURE: u32 = 7024;
/// 7025 Object exists with duplicate key.
pub const DUPLICATE_KEY: u32 = 7025;
/// 7026 Invalid path.
pub const INVALID_PATH: u32 = 7026;
/// 7027 Invalid command arguments.
pub const INVALID_COMMAND_ARGS: u32 = 7027;

/// An error code with its human-readable explanation (the `err_msg` of the response).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// A TR-369 error code.
    pub code: u32,
    /// Why, in words, naming the path or value at fault.
    pub msg: String,
}

/// Shorthand for building a [`Failure`].
pub fn fail(code: u32, msg: impl Into<String>) -> Failure {
    Failure {
        code,
        msg: msg.into(),
    }
}

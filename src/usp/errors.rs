//! The USP error-code table (TR-369 "Error Codes"), so every code the harness prints
//! carries its name: `7016 (Object does not exist)` reads better than `7016`.

/// Codes 7000–7031 and 7100–7106 with their TR-369 names.
const TABLE: &[(u32, &str)] = &[
    (7000, "Message failed"),
    (7001, "Message not supported"),
    (7002, "Request denied"),
    (7003, "Internal error"),
    (7004, "Invalid arguments"),
    (7005, "Resources exceeded"),
    (7006, "Permission denied"),
    (7007, "Invalid configuration"),
    (7008, "Invalid path syntax"),
    (7009, "Parameter action failed"),
    (7010, "Unsupported parameter"),
    (7011, "Invalid type"),
    (7012, "Invalid value"),
    (7013, "Attempt to update non-writeable parameter"),
    (7014, "Value conflict"),
    (7015, "Operation error"),
    (7016, "Object does not exist"),
    (7017, "Object could not be created"),
    (7018, "Object is not a table"),
    (7019, "Attempt to create non-creatable object"),
    (7020, "Object could not be updated"),
    (7021, "Required parameter failed"),
    (7022, "Command failure"),
    (7023, "Command canceled"),
    (7024, "Delete failure"),
    (7025, "Object exists with duplicate key"),
    (7026, "Invalid path"),
    (7027, "Invalid command arguments"),
    (7028, "Register failure"),
    (7029, "Already in use"),
    (7030, "Deregister failure"),
    (7031, "Path already registered"),
    (7100, "Record could not be parsed"),
    (7101, "Secure session required"),
    (7102, "Secure session not supported"),
    (7103, "Segmentation and reassembly not supported"),
    (7104, "Invalid Record value"),
    (7105, "Session Context terminated"),
    (7106, "Session Context not allowed"),
];

/// The TR-369 name of an error code, including the vendor-specific and reserved ranges.
pub fn name(code: u32) -> &'static str {
    if let Some((_, n)) = TABLE.iter().find(|(c, _)| *c == code) {
        return n;
    }
    match code {
        7200..=7299 => "Data-model defined error",
        7800..=7999 => "Vendor defined error",
        7000..=7999 => "Reserved error code",
        _ => "Not a USP error code",
    }
}

/// `7016 (Object does not exist)`: the form every report uses.
pub fn describe(code: u32) -> String {
    format!("{code} ({})", name(code))
}

/// Whether `code` is a code an Agent may send (TR-369 allows 7000–7999 only).
pub fn is_usp_code(code: u32) -> bool {
    (7000..=7999).contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_the_table_and_ranges() {
        assert_eq!(name(7016), "Object does not exist");
        assert_eq!(name(7106), "Session Context not allowed");
        assert_eq!(name(7250), "Data-model defined error");
        assert_eq!(name(7900), "Vendor defined error");
        assert_eq!(name(7500), "Reserved error code");
        assert_eq!(name(42), "Not a USP error code");
        assert_eq!(describe(7004), "7004 (Invalid arguments)");
        assert!(is_usp_code(7000) && !is_usp_code(8000));
    }
}

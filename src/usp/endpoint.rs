//! The Endpoint ID grammar (TR-369 "Endpoint Identifier", R-ARC.2a, R-ARC.5, R-ARC.6).
//! TP-469's first universal metric: the EUT's Endpoint ID is valid.

/// Checks an Endpoint ID in its Record form `authority-scheme:[authority-id]:instance-id`.
/// Returns the first rule broken, as a sentence citing the requirement.
pub fn check(id: &str) -> Result<(), String> {
    let mut parts = id.splitn(3, ':');
    let (scheme, authority, instance) = match (parts.next(), parts.next(), parts.next()) {
        (Some(s), Some(a), Some(i)) => (s, a, i),
        _ => {
            return Err(format!(
                "Endpoint ID {id:?} is not of the form authority-scheme:[authority-id]:instance-id (R-ARC.2a)"
            ));
        }
    };
    if instance.is_empty() {
        return Err(format!(
            "Endpoint ID {id:?} has an empty instance-id (R-ARC.2a)"
        ));
    }
    if instance.len() > 50 {
        return Err(format!(
            "Endpoint ID {id:?} has an instance-id of {} characters; at most 50 are allowed (R-ARC.6)",
            instance.len()
        ));
    }
    if let Some(bad) = first_bad_instance_char(instance) {
        return Err(format!(
            "Endpoint ID {id:?}: instance-id character {bad:?} is not unreserved or pct-encoded (R-ARC.5)"
        ));
    }
    let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
    let non_reserved = |s: &str| s.chars().all(|c| !matches!(c, ':' | '/' | '?' | '#'));
    let rule = match scheme {
        "oui" => (matches!(authority.len(), 6 | 7 | 9) && hex(authority))
            .then_some(())
            .ok_or("authority-id of scheme oui must be 6, 7 or 9 hex digits"),
        "cid" => (authority.len() == 6 && hex(authority))
            .then_some(())
            .ok_or("authority-id of scheme cid must be 6 hex digits"),
        "pen" => (!authority.is_empty() && authority.chars().all(|c| c.is_ascii_digit()))
            .then_some(())
            .ok_or("authority-id of scheme pen must be a decimal number"),
        "self" => (authority.len() <= 6 && non_reserved(authority))
            .then_some(())
            .ok_or("authority-id of scheme self must be at most 6 non-reserved characters"),
        "user" | "doc" => (authority.len() <= 6 && non_reserved(authority))
            .then_some(())
            .ok_or("authority-id must be at most 6 non-reserved characters"),
        "proto" => (authority.len() <= 6 && non_reserved(authority) && !authority.contains('.'))
            .then_some(())
            .ok_or(
                "authority-id of scheme proto must be at most 6 non-reserved characters, no '.'",
            ),
        "os" | "ops" | "uuid" | "imei" | "fqdn" => authority
            .is_empty()
            .then_some(())
            .ok_or("authority-id must be empty for this scheme"),
        _ => Err("unknown authority-scheme"),
    };
    rule.map_err(|why| format!("Endpoint ID {id:?}: {why} (R-ARC.2a)"))?;
    let inst_rule = match scheme {
        "os" => os_like(instance, 2),
        "ops" => os_like(instance, 3),
        _ => true,
    };
    if !inst_rule {
        return Err(format!(
            "Endpoint ID {id:?}: instance-id of scheme {scheme} must be <OUI>-{}<SerialNumber> (R-ARC.2a)",
            if scheme == "ops" {
                "<ProductClass>-"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

/// `os` and `ops` instance-ids start with a 6-hex-digit OUI and have `parts` dash-separated parts
/// (the serial number may itself contain dashes, so "at least").
fn os_like(instance: &str, parts: usize) -> bool {
    let mut it = instance.splitn(parts, '-');
    let oui = it.next().unwrap_or("");
    oui.len() == 6
        && oui.chars().all(|c| c.is_ascii_hexdigit())
        && it.filter(|p| !p.is_empty()).count() == parts - 1
}

fn first_bad_instance_char(s: &str) -> Option<char> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_') {
            i += 1;
        } else if c == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            i += 3;
        } else {
            return s[i..].chars().next();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn spec_examples_are_valid() {
        for id in [
            "oui:00256D:my-unique-bbf-id-42",
            "cid:3AA3F8:my-unique-usp-id-42",
            "pen:3561:my-unique-bbf-id-42",
            "self::my-Agent",
            "os::00256D-0123456789",
            "ops::00256D-STB-0123456789",
            "uuid::f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
            "imei::990000862471854",
            "proto::my-Agent",
            "fqdn::www.example.org",
            "proto::a%20b",
        ] {
            assert_eq!(check(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn broken_ids_name_the_rule() {
        assert!(check("nocolons").unwrap_err().contains("R-ARC.2a"));
        assert!(check("oui:XYZ:abc").unwrap_err().contains("hex"));
        assert!(check("os:abc:x").unwrap_err().contains("empty"));
        assert!(check("proto::has space").unwrap_err().contains("R-ARC.5"));
        assert!(check("proto::bad%2").unwrap_err().contains("R-ARC.5"));
        assert!(
            check(&format!("proto::{}", "a".repeat(51)))
                .unwrap_err()
                .contains("R-ARC.6")
        );
        assert!(check("weird::x").unwrap_err().contains("unknown"));
        assert!(check("os::00256D").is_err());
        assert!(check("proto::").unwrap_err().contains("empty instance-id"));
    }
}

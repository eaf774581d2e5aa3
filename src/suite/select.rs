//! Which cases run: filters from the command line, and applicability by the EUT's
//! features. A filtered-out case is "skipped"; a case needing a feature the EUT lacks is
//! "not applicable", with the missing feature named.

use super::case::Case;

/// Whether `case` is selected by `filters` (none selects all). A filter selects a case
/// when it is its id (`1.20`), a section prefix (`1` or `1.`), or a word of its title.
pub fn selected(case: &Case, filters: &[String]) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| {
            let f = f.trim();
            let section = f.trim_end_matches('.');
            let is_word = !f.chars().next().is_some_and(|c| c.is_ascii_digit());
            case.id == f
                || (!section.contains('.') && case.id.starts_with(&format!("{section}.")))
                || (is_word && case.title.to_lowercase().contains(&f.to_lowercase()))
        })
}

/// `None` when the EUT has every feature the case needs; otherwise why it is not applicable.
pub fn not_applicable(case: &Case, eut_features: &[u32]) -> Option<String> {
    let missing: Vec<String> = case
        .features
        .iter()
        .filter(|f| !eut_features.contains(f))
        .map(|f| f.to_string())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "the EUT profile does not declare TP-469 feature(s) {} that this case requires",
            missing.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::load_str;

    fn case(id: &str) -> Case {
        load_str(
            &format!(
                "id: \"{id}\"\ntitle: Get message with object path\ntp469: '1.4.0'\ntag: conditional\nfeatures: [31]\nsteps:\n  - send: {{ get: {{}} }}\n"
            ),
            "c.yaml",
        )
        .unwrap()
    }

    #[test]
    fn filters() {
        let c = case("1.20");
        assert!(selected(&c, &[]));
        assert!(selected(&c, &["1.20".into()]));
        assert!(!selected(&c, &["1.2".into()]));
        assert!(selected(&c, &["1".into()]));
        assert!(selected(&c, &["1.".into()]));
        assert!(!selected(&c, &["2".into()]));
        assert!(selected(&c, &["object path".into()]));
    }

    #[test]
    fn features() {
        let c = case("1.10");
        assert!(not_applicable(&c, &[31]).is_none());
        assert!(not_applicable(&c, &[1]).unwrap().contains("31"));
    }
}

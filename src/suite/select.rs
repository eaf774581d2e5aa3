//! Which cases run: filters from the command line, and applicability by the EUT's
//! features. A filtered-out case is "skipped"; a case needing a feature the EUT lacks is
//! "not applicable", with the missing feature named.

use super::case::Case;

/// One command-line filter, parsed when the command line is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// A case id: `1.20`.
    Id(String),
    /// Ids of one section from `lo` to `hi`, both included: `1.1-1.58`.
    Range { section: u32, lo: u32, hi: u32 },
    /// A whole section: `1` or `1.`.
    Section(u32),
    /// A word (or words) of titles, case-insensitive: `periodic`.
    Word(String),
}

impl std::str::FromStr for Filter {
    type Err = String;

    fn from_str(s: &str) -> Result<Filter, String> {
        let f = s.trim();
        let id = |t: &str| -> Option<(u32, u32)> {
            let (a, b) = t.trim().split_once('.')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        if f.is_empty() {
            return Err("an empty filter selects nothing".into());
        }
        if !f.starts_with(|c: char| c.is_ascii_digit()) {
            return Ok(Filter::Word(f.to_lowercase()));
        }
        if let Some((a, b)) = f.split_once('-') {
            return match (id(a), id(b)) {
                (Some((sa, lo)), Some((sb, hi))) if sa == sb && lo <= hi => Ok(Filter::Range {
                    section: sa,
                    lo,
                    hi,
                }),
                (Some((sa, _)), Some((sb, _))) if sa != sb => Err(format!(
                    "the range `{f}` spans sections {sa} and {sb}; give one range per section"
                )),
                (Some(_), Some(_)) => Err(format!("the range `{f}` ends before it starts")),
                _ => Err(format!(
                    "`{f}` is not a range of case ids (write it like 1.1-1.58)"
                )),
            };
        }
        if let Ok(section) = f.trim_end_matches('.').parse() {
            return Ok(Filter::Section(section));
        }
        match id(f) {
            Some(_) => Ok(Filter::Id(f.to_string())),
            None => Err(format!(
                "`{f}` is not a case id (1.20), a range (1.1-1.58), a section (1) or a word"
            )),
        }
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::Id(id) => f.write_str(id),
            Filter::Range { section, lo, hi } => write!(f, "{section}.{lo}-{section}.{hi}"),
            Filter::Section(s) => write!(f, "{s}"),
            Filter::Word(w) => f.write_str(w),
        }
    }
}

impl Filter {
    /// Whether this filter selects `case`.
    pub fn selects(&self, case: &Case) -> bool {
        let numbers = case
            .id
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
        match self {
            Filter::Id(id) => case.id == *id,
            Filter::Range { section, lo, hi } => {
                numbers.is_some_and(|(s, n)| s == *section && (*lo..=*hi).contains(&n))
            }
            Filter::Section(section) => numbers.is_some_and(|(s, _)| s == *section),
            Filter::Word(w) => case.title.to_lowercase().contains(w.as_str()),
        }
    }
}

/// Whether `case` is selected by `filters` (none selects all).
pub fn selected(case: &Case, filters: &[Filter]) -> bool {
    filters.is_empty() || filters.iter().any(|f| f.selects(case))
}

/// The filters that select none of `cases`: a typo must not run nothing and pass.
pub fn unmatched<'a>(cases: &[Case], filters: &'a [Filter]) -> Vec<&'a Filter> {
    filters
        .iter()
        .filter(|f| !cases.iter().any(|c| f.selects(c)))
        .collect()
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

    fn f(s: &str) -> Filter {
        s.parse().unwrap()
    }

    #[test]
    fn filters() {
        let c = case("1.20");
        assert!(selected(&c, &[]));
        assert!(selected(&c, &[f("1.20")]));
        assert!(!selected(&c, &[f("1.2")]));
        assert!(selected(&c, &[f("1")]));
        assert!(selected(&c, &[f("1.")]));
        assert!(!selected(&c, &[f("2")]));
        assert!(selected(&c, &[f("object path")]));
        assert!(selected(&c, &[f("1.1-1.58")]));
        assert!(selected(&c, &[f("1.20-1.20")]));
        assert!(!selected(&c, &[f("1.21-1.58")]));
        assert!(!selected(&c, &[f("1.1-1.19")]));
    }

    #[test]
    fn bad_filters_are_refused_and_unmatched_ones_named() {
        assert!(
            "1.58-1.1"
                .parse::<Filter>()
                .unwrap_err()
                .contains("ends before")
        );
        assert!(
            "1.1-11.3"
                .parse::<Filter>()
                .unwrap_err()
                .contains("sections 1 and 11")
        );
        assert!("1.x".parse::<Filter>().is_err());
        assert!("".parse::<Filter>().is_err());
        let cases = [case("1.20"), case("11.3")];
        let filters = [f("99.99"), f("1.20"), f("1.21-1.30"), f("bulk data")];
        let none: Vec<String> = unmatched(&cases, &filters)
            .iter()
            .map(|f| f.to_string())
            .collect();
        assert_eq!(none, ["99.99", "1.21-1.30", "bulk data"]);
    }

    #[test]
    fn features() {
        let c = case("1.10");
        assert!(not_applicable(&c, &[31]).is_none());
        assert!(not_applicable(&c, &[1]).unwrap().contains("31"));
    }
}

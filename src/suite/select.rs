//! Which cases run: filters from the command line, the partition of a run sharded over CI's
//! parallel jobs, and applicability by the EUT's features. A filtered-out case (or one of
//! another partition) is "skipped"; a case needing a feature the EUT lacks is "not
//! applicable", with the missing feature named.

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

/// `--partition k/n`: the k-th of n shares of a run's selection, so CI's parallel jobs can
/// each run one. The selection (the cases the filters select, in id order) is dealt like
/// cards: the case at position `i` (from 0) goes to partition `i mod n + 1`. So every selected
/// case is in exactly one partition, the shares differ by at most one case, and the slow
/// cases of one section are spread over the jobs rather than left to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Which share, from 1.
    pub k: usize,
    /// How many shares.
    pub n: usize,
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Partition, String> {
        let bad = || format!("`{s}` is not a partition: write k/n with 1 <= k <= n, like 2/4");
        let (k, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Partition { k, n })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl Partition {
    /// The partition (from 1) of `n` that holds the case at position `pos` of the
    /// selection in id order.
    pub fn holder(pos: usize, n: usize) -> usize {
        pos % n + 1
    }

    /// What a partitioned run says about its share: how many of the selected cases it holds,
    /// and, when it holds none, that this is because the selection is smaller than `n`.
    pub fn describe(self, selected: usize) -> String {
        let held = (0..selected)
            .filter(|&p| Partition::holder(p, self.n) == self.k)
            .count();
        let mut s = format!(
            "partition {self}: {held} of the {selected} selected cases (case i of the selection, \
             in id order, is in partition i mod {} + 1)",
            self.n
        );
        if held == 0 {
            s.push_str(&format!(
                "; this partition is empty because the selection has fewer than {} cases, \
                 which is not an error",
                self.n
            ));
        }
        s
    }
}

/// The indices into `cases` of the cases `filters` select, in id order: the order
/// [`Partition`]s are dealt from.
pub fn selection(cases: &[Case], filters: &[Filter]) -> Vec<usize> {
    let mut sel: Vec<usize> = (0..cases.len())
        .filter(|&i| selected(&cases[i], filters))
        .collect();
    sel.sort_by_key(|&i| super::case::id_key(&cases[i].id));
    sel
}

/// For each of `cases`, the partition of `n` that holds it, or `None` when the filters do not
/// select it (with `n` = 1, `Some(1)` is simply "selected").
pub fn holders(cases: &[Case], filters: &[Filter], n: usize) -> Vec<Option<usize>> {
    let mut out = vec![None; cases.len()];
    for (pos, i) in selection(cases, filters).into_iter().enumerate() {
        out[i] = Some(Partition::holder(pos, n));
    }
    out
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
    fn partitions_are_parsed_and_bad_ones_refused() {
        let p: Partition = "2/4".parse().unwrap();
        assert_eq!((p.k, p.n), (2, 4));
        assert_eq!(p.to_string(), "2/4");
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "1/", "-1/3", ""] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    /// Every selected case is in exactly one partition, dealt by position in id order (not
    /// by the order the files came in), and a case the filters leave out is in none.
    #[test]
    fn every_selected_case_is_in_exactly_one_partition() {
        let cases: Vec<Case> = ["1.10", "1.2", "11.1", "1.1", "1.9", "2.1", "1.3"]
            .into_iter()
            .map(case)
            .collect();
        let filters = [f("1"), f("11")];
        let held = holders(&cases, &filters, 3);
        let of = |id: &str| held[cases.iter().position(|c| c.id == id).unwrap()];
        // In id order: 1.1 1.2 1.3 1.9 1.10 11.1 -> 1 2 3 1 2 3.
        assert_eq!(
            ["1.1", "1.2", "1.3", "1.9", "1.10", "11.1", "2.1"].map(of),
            [Some(1), Some(2), Some(3), Some(1), Some(2), Some(3), None]
        );
        for n in 1..=8 {
            let held = holders(&cases, &filters, n);
            let total: usize = (1..=n)
                .map(|k| held.iter().filter(|h| **h == Some(k)).count())
                .sum();
            assert_eq!(total, 6, "n = {n}");
        }
    }

    #[test]
    fn an_empty_partition_says_why() {
        let p = Partition { k: 3, n: 3 };
        assert!(
            p.describe(2)
                .starts_with("partition 3/3: 0 of the 2 selected")
        );
        assert!(
            p.describe(2)
                .contains("fewer than 3 cases, which is not an error")
        );
        assert!(!p.describe(7).contains("empty"), "{}", p.describe(7));
        assert!(p.describe(7).starts_with("partition 3/3: 2 of the 7"));
    }

    #[test]
    fn features() {
        let c = case("1.10");
        assert!(not_applicable(&c, &[31]).is_none());
        assert!(not_applicable(&c, &[1]).unwrap().contains("31"));
    }
}

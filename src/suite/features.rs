//! TP-469's feature table ("Test Cases Required by Profile and Option Support"): the feature
//! IDs an EUT profile declares, with their names as the plan gives them, copied into
//! `tp469-features.tsv` so that no copy of the plan is needed at run time.

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub id: u32,
    /// As the plan writes it (`Reboot:1 profile`; `(Removed)` for a withdrawn ID).
    pub name: &'static str,
    /// The plan's test cases for it (`1.61, 1.62`, `11.*`).
    pub cases: &'static str,
    /// The plan's note, or empty.
    pub note: &'static str,
}

impl Feature {
    /// Whether the plan has withdrawn the ID (its name is `(Removed)`).
    pub fn removed(&self) -> bool {
        self.name.eq_ignore_ascii_case("(removed)")
    }
}

const TABLE: &str = include_str!("tp469-features.tsv");

/// Every feature ID of TP-469 1.4.0, in order.
pub fn all() -> Vec<Feature> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cells = l.split('\t');
            let mut next = || cells.next().unwrap_or("").trim();
            Feature {
                id: next().parse().expect("tp469-features.tsv: a numeric ID"),
                name: next(),
                cases: next(),
                note: next(),
            }
        })
        .collect()
}

/// The plan's name of feature `id`.
pub fn name(id: u32) -> Option<&'static str> {
    all().into_iter().find(|f| f.id == id).map(|f| f.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_every_id_of_the_plan_once_in_order() {
        let ids: Vec<u32> = all().iter().map(|f| f.id).collect();
        assert_eq!(ids, (1..=42).collect::<Vec<_>>());
        assert_eq!(name(10), Some("Reboot:1 profile"));
        assert_eq!(name(36), Some("MQTT MTP, version 5.0"));
        let removed: Vec<u32> = all().iter().filter(|f| f.removed()).map(|f| f.id).collect();
        assert_eq!(removed, [11, 14, 20, 29]);
        assert!(all().iter().all(|f| !f.name.is_empty()));
        assert_eq!(
            all()[34].note,
            "Excludes 11.4, 11.7, 11.8, 11.10, & 11.15, MQTT 5.0 only tests"
        );
    }
}

//! A line diff of a failure's expected and actual, for the HTML page: the longest common
//! subsequence of their lines, the rest marked as only expected or only actual. Both sides are
//! a few hundred lines at most (failure texts are bounded), so the quadratic table is small;
//! past [`MAX_CELLS`] the sides are shown whole, one after the other, as different.

/// Where a line of the diff comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Both,
    Expected,
    Actual,
}

/// The most cells (lines of one side times lines of the other) the diff table may have.
pub const MAX_CELLS: usize = 1_000_000;

/// The lines of `expected` and `actual` in order, each marked with where it comes from.
pub fn lines<'a>(expected: &'a str, actual: &'a str) -> Vec<(Side, &'a str)> {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        let mut out: Vec<(Side, &str)> = a.iter().map(|l| (Side::Expected, *l)).collect();
        out.extend(b.iter().map(|l| (Side::Actual, *l)));
        return out;
    }
    // common[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut common = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len() + b.len()));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push((Side::Both, a[i]));
            (i, j) = (i + 1, j + 1);
        } else if j == b.len() || (i < a.len() && common[i + 1][j] >= common[i][j + 1]) {
            out.push((Side::Expected, a[i]));
            i += 1;
        } else {
            out.push((Side::Actual, b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_that_differ_are_marked_and_the_rest_shared() {
        let d = lines("a\nb\nc\nd", "a\nx\nc\nd\ne");
        assert_eq!(
            d,
            [
                (Side::Both, "a"),
                (Side::Expected, "b"),
                (Side::Actual, "x"),
                (Side::Both, "c"),
                (Side::Both, "d"),
                (Side::Actual, "e"),
            ]
        );
        assert_eq!(lines("same", "same"), [(Side::Both, "same")]);
        assert_eq!(lines("", "new"), [(Side::Actual, "new")]);
    }

    #[test]
    fn sides_too_big_to_compare_are_shown_whole() {
        let big = "l\n".repeat(1001);
        let d = lines(&big, &big);
        assert_eq!(d.len(), 2002);
        assert!(d[..1001].iter().all(|(s, _)| *s == Side::Expected));
        assert!(d[1001..].iter().all(|(s, _)| *s == Side::Actual));
    }
}

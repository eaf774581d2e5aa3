//! Test cases as data: the YAML schema of a TP-469 case, loading with file:line:column
//! errors, the matchers expectations are written in, the EUT profile, and selection of
//! cases by feature profile and filters. See `docs/case-format.md`.

pub mod case;
pub mod compile;
pub mod duration;
pub mod expr;
pub mod features;
pub mod load;
pub mod matcher;
pub mod node;
pub mod profile;
pub mod profile_start;
pub mod select;
pub mod shape;
pub mod vars;

pub use case::{Action, Case, Step, Tag};
pub use load::{LoadError, load_dir, load_embedded, load_file, load_str};

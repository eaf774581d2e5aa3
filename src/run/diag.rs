//! The harness's own diagnostics: `tracing` events on standard error, chosen by `RUST_LOG`
//! when it is set, else by `-v` (none: warnings only; `-v`: uspcheck's info events, case by
//! case; `-vv`: its debug events, connections and handshakes; `-vvv`: everything, every record
//! sent and received). They are printed through [`live::Diagnostics`], so a diagnostic never
//! lands in the middle of a result line or of the status line.
//!
//! They are not the product's output: result lines, reports, usage errors and the notices a
//! user must see (the agent exited, the preflight's finding) are printed whatever the level.

use tracing_subscriber::EnvFilter;

use super::live;

/// The filter directives for `-v` given `verbose` times, unless `rust_log` (the `RUST_LOG`
/// variable) is set and not empty: then it decides alone.
pub fn directives(verbose: u8, rust_log: Option<&str>) -> String {
    if let Some(r) = rust_log.map(str::trim).filter(|r| !r.is_empty()) {
        return r.to_string();
    }
    match verbose {
        0 => "warn".into(),
        1 => "warn,uspcheck=info".into(),
        2 => "warn,uspcheck=debug".into(),
        _ => "trace".into(),
    }
}

/// The subscriber for `directives`: formatted events, without colour, each printed whole on
/// standard error through [`live::Diagnostics`].
pub fn subscriber(
    directives: &str,
) -> Result<impl tracing::Subscriber + Send + Sync + 'static, String> {
    let filter = EnvFilter::builder()
        .parse(directives)
        .map_err(|e| format!("{directives:?} is not a filter: {e}"))?;
    Ok(tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(live::Diagnostics)
        .with_ansi(false)
        .finish())
}

/// Installs the subscriber for the process: `RUST_LOG` when set, else `verbose`. A `RUST_LOG`
/// that is not a filter is said so, and `verbose` decides.
pub fn init(verbose: u8) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let chosen = directives(verbose, rust_log.as_deref());
    let installed = match subscriber(&chosen) {
        Ok(s) => tracing::subscriber::set_global_default(s),
        Err(e) => {
            live::notice(&format!(
                "uspcheck: RUST_LOG {e}; using the -v level instead"
            ));
            match subscriber(&directives(verbose, None)) {
                Ok(s) => tracing::subscriber::set_global_default(s),
                Err(_) => return,
            }
        }
    };
    // Only a second call fails, and the first subscriber then stays: nothing to do.
    let _ = installed;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    /// Which of warn, info, debug and trace pass the subscriber for `directives`, for an
    /// event of uspcheck's and for one of another crate.
    fn passes(directives: &str) -> ([bool; 4], [bool; 4]) {
        let s = subscriber(directives).expect("a valid filter");
        // `enabled!` needs its level and target as constants: one call each.
        tracing::subscriber::with_default(s, || {
            (
                [
                    tracing::enabled!(target: "uspcheck::run", Level::WARN),
                    tracing::enabled!(target: "uspcheck::run", Level::INFO),
                    tracing::enabled!(target: "uspcheck::mtp", Level::DEBUG),
                    tracing::enabled!(target: "uspcheck::mtp", Level::TRACE),
                ],
                [
                    tracing::enabled!(target: "rumqttc", Level::WARN),
                    tracing::enabled!(target: "rumqttc", Level::INFO),
                    tracing::enabled!(target: "rumqttc", Level::DEBUG),
                    tracing::enabled!(target: "rumqttc", Level::TRACE),
                ],
            )
        })
    }

    #[test]
    fn each_v_shows_one_level_more_of_uspcheck() {
        let (t, f) = (true, false);
        let expect = [
            // -v given n times: uspcheck's warn, info, debug, trace; then another crate's.
            (0, [t, f, f, f], [t, f, f, f]),
            (1, [t, t, f, f], [t, f, f, f]),
            (2, [t, t, t, f], [t, f, f, f]),
            (3, [t, t, t, t], [t, t, t, t]),
            (7, [t, t, t, t], [t, t, t, t]),
        ];
        for (v, ours, theirs) in expect {
            let d = directives(v, None);
            assert_eq!(passes(&d), (ours, theirs), "-v given {v} times: {d}");
        }
    }

    #[test]
    fn rust_log_decides_when_set_whatever_v_says() {
        let (t, f) = (true, false);
        assert_eq!(
            directives(0, Some("uspcheck::mtp=debug")),
            "uspcheck::mtp=debug"
        );
        assert_eq!(passes(&directives(3, Some("error"))), ([f; 4], [f; 4]));
        assert_eq!(
            passes(&directives(0, Some("uspcheck=trace"))),
            ([t; 4], [f; 4])
        );
        assert_eq!(
            passes(&directives(0, Some("uspcheck::mtp=debug"))).0,
            [f, f, t, f]
        );
        // An empty RUST_LOG is no choice at all.
        assert_eq!(directives(1, Some("  ")), directives(1, None));
        assert!(subscriber("uspcheck=loud").is_err());
    }
}

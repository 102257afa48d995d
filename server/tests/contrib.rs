//! The shipped systemd unit (contrib/parley-relay.service) is hardened: systemd's own offline
//! audit rates its exposure at 2.0 or better (0 is fully locked down, 10 fully exposed).
//!
//! Needs `systemd-analyze`; where it is missing the test says so and checks nothing.

// A test binary: failures should be loud.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

/// Highest accepted exposure, in tenths as `--threshold` takes it.
const MAX_EXPOSURE_TENTHS: &str = "20";

#[test]
fn the_systemd_unit_passes_systemds_security_audit() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/parley-relay.service");
    let audit = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(format!("--threshold={MAX_EXPOSURE_TENTHS}"))
        .arg(&unit)
        .output();
    let Ok(audit) = audit else {
        eprintln!("skipped: systemd-analyze is not installed here");
        return;
    };
    let report = String::from_utf8_lossy(&audit.stdout);
    assert!(
        audit.status.success(),
        "exposure above 2.0:\n{report}\n{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    assert!(report.contains("Overall exposure level"), "{report}");
}

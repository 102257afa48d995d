//! Telling the person what happened to messages that waited in the outbox, whenever a
//! command sends them.

use parley_client::OutboxReport;

use crate::daemon::folder::Folder;
use crate::output::{note, to_stderr};
use crate::sanitize::{for_terminal, one_line};

/// Sends what waits in the outbox (if anything does) and says what became of it. A daemon
/// does this by itself, so through one nothing is done here.
pub(crate) async fn send_waiting(folder: &Folder) {
    if folder.is_daemon() || !matches!(folder.outbox().await, Ok(w) if !w.is_empty()) {
        return;
    }
    match folder.flush_outbox().await {
        Ok(report) => tell(&report),
        Err(error) => to_stderr(&format!(
            "warning: the messages waiting in the outbox were not sent: {}",
            one_line(&error.to_string())
        )),
    }
}

/// The remarks about one flush: sent ones are a note, failed ones a warning.
pub(crate) fn tell(report: &OutboxReport) {
    if !report.sent.is_empty() {
        note(&format!(
            "Sent {} message(s) that waited in the outbox.",
            report.sent.len()
        ));
    }
    for failed in &report.failed {
        to_stderr(&format!(
            "warning: a message to {} that waited in the outbox could not be sent: {}; it stays \
             there (see parley outbox)",
            for_terminal(&failed.conversation_name),
            one_line(failed.failed.as_deref().unwrap_or("unknown reason"))
        ));
    }
    if report.waiting > 0 {
        note(&format!(
            "{} message(s) still wait in the outbox: the relay cannot be reached.",
            report.waiting
        ));
    }
}

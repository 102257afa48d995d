//! A `parley read --follow` running beside the other commands of a test, its lines read as
//! they come.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::Person;

/// A `parley read --follow` whose lines arrive on a channel.
pub(crate) struct Follower {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Follower {
    pub(crate) fn start(person: &Person, args: &[&str]) -> Follower {
        let mut command = person.command(&[&["read", "--follow"], args].concat());
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    return;
                }
            }
        });
        Follower { child, lines }
    }

    pub(crate) fn next(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the follower printed nothing within 30 s")
    }

    /// Asserts that the follower prints nothing more for `wait`.
    #[track_caller]
    pub(crate) fn assert_quiet_for(&self, wait: Duration) {
        if let Ok(line) = self.lines.recv_timeout(wait) {
            panic!("the follower printed one line too many: {line}");
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

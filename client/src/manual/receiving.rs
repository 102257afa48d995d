//! # Receiving: sync, events, unread
//!
//! Nothing arrives by itself. [`Client::sync`](crate::Client::sync) fetches and processes
//! everything new and returns a [`SyncReport`](crate::SyncReport): the new entries (messages
//! and changes of members, in processing order), the conversations whose members changed,
//! and the alerts raised. [`Client::events`](crate::Client::events) does the same whenever
//! the relay pushes a notice (and every 30 seconds), as a stream; a notice of a room's
//! small entry carries the entry, which is then processed without reading the log, with
//! the same checks as a read one. Each entry is reported once by one of them.
//!
//! Other calls process incoming entries too: a send posts first and then reads what others
//! posted ahead of it, so that its message follows theirs in the history as in the group's
//! log (and a send the relay refuses because the group moved on reads the group, checks
//! again that the message may go, and tries again). Those entries wait for the next sync
//! or event, and, whatever reported them, every entry someone
//! else caused keeps an unread mark until the application calls
//! [`Client::mark_read`](crate::Client::mark_read). [`Client::unread`](crate::Client::unread)
//! lists them in arrival order: an application that shows messages from `unread` and marks
//! what it showed never loses one and never shows one twice.
//!
//! Processing is atomic: one entry changes the MLS state, the history, the unread mark and
//! the read position in one write, so a crash at any point leaves a state from which the
//! conversation continues. The writes of a group's entries go to disk together, once per
//! sync of that group and before a sync reports them: a crash before that loses only what
//! the relay still holds, and the next sync brings it again. The event stream reports the
//! written messages the relay pushed without waiting for the disk (it has them within half
//! a second, or with the next write that waits, such as `mark_read`): a crash in between
//! loses nothing either, the next sync brings them again, once in the history, and the
//! stream reports them a second time. What `unread` lists is unaffected: a message is
//! shown again after a crash only if it was not yet marked read, as before.
//! Input that fails to process is set aside once
//! ([`Client::quarantined`](crate::Client::quarantined)), reported as an
//! [`Alert`](crate::Alert), and never blocks what comes after it.

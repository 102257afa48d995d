//! The examples and explanations shown after the option lists in `--help`. Kept apart from
//! the argument definitions so the prose can be read (and reviewed) as prose.

/// After the top-level command list: a first session, where data lives, and exit codes.
pub(crate) const TOP_LEVEL: &str = "\
Examples:
  parley init                      (first run: asks for the relay, your handle and a passphrase)
  parley whoami
  parley send bob 'Can we meet at ten?'
  parley send bob - < offer.txt
  parley read
  parley read --follow             (keep showing new messages until Ctrl-C)
  parley chat                      (the interactive chat screen)
  parley history bob --limit 20
  parley send-file buyers offer.pdf  (share a document)
  parley files                       (the documents shared with you)
  parley get-file 7f3c1a2b           (save one, by the id files or read shows)
  parley contacts
  parley conversations
  parley group create buyers --members bob,carol
  parley workshop create talks --facilitators me,ann --side north:bob --side south:eve
  parley verify bob
  parley alerts                    (security alerts and messages set aside)
  parley daemon start              (several windows at once; commands start instantly)
Each command explains itself: parley <command> --help

Your data:
  Your keys and messages are kept, encrypted, in the folder given by --home, else in the one
  named by the PARLEY_HOME environment variable, else in $HOME/.parley.

Your passphrase:
  It unlocks that folder. parley reads it from the file named by PARLEY_PASSPHRASE_FILE, else
  from the output of --passphrase-command CMD, else it asks you (nothing is shown as you
  type). It is never given as an option value. Change it with: parley passphrase change

Hiding where you are (Tor):
  With --proxy socks5h://127.0.0.1:9050 (or PARLEY_PROXY set to it) every connection to the
  relay goes through Tor, each on a circuit of its own: the relay never sees this computer's
  address. The folder remembers it (give it to `parley init`): later commands go through it
  without the flag, so forgetting it once does not give you away; --no-proxy goes directly
  again and forgets it. A daemon that reaches the relay another way than a command was told
  to is not used by that command.

For scripts:
  --json prints data as one JSON object per line on stdout; other remarks go to stderr.
  Messages have conversation, sender, text, sent_at (milliseconds since 1970, UTC),
  verified (true or false) and status (verified, unverified or CHANGED); a shared document
  also has document (id, name, size in bytes, media_type).
  `parley read NAME` prints exactly \"sender: text\" per message; `parley read` puts the
  conversation first, \"[name] sender: text\", unless you have only one conversation. The
  sender's status is shown by `parley history` and `parley chat`, and a CHANGED sender is
  pointed out on stderr. Remarks such as \"Sent to bob.\" go to stderr on a terminal only;
  --quiet leaves them out.

Exit codes:
  0  everything worked
  1  something went wrong (including a wrong passphrase); the error line says what
  2  the command was not typed correctly (see parley <command> --help)
  3  a contact's identity key changed, or verification is required: compare safety
     numbers (parley verify HANDLE) before going on
  4  the relay could not be reached: check the network and the relay address. A message
     given to `parley send` was kept in the outbox and is sent later (see parley outbox)";

/// `parley init --help`.
pub(crate) const INIT: &str = "\
Examples:
  parley init       (asks for everything, and shows the relay's fingerprint to confirm)
  parley init --relay https://relay.example.org:7443 --handle alice --relay-fingerprint 3f9a…c41e
      (copy the whole 64-character fingerprint from the relay's operator)
  parley --home /media/usb/parley init --relay https://relay.example.org:7443 --handle alice
  parley init --relay http://127.0.0.1:7443 --handle alice     (a test relay on this computer)
The passphrase that will protect your folder is asked twice, or read from the file named by
PARLEY_PASSPHRASE_FILE, or from --passphrase-command CMD.
Exit code 4 when the relay cannot be reached.";

/// `parley whoami --help`.
pub(crate) const WHOAMI: &str = "\
Example:
  parley whoami";

/// `parley rotate-keys --help`.
pub(crate) const ROTATE_KEYS: &str = "\
Example:
  parley rotate-keys
Prints your old and new identity keys and how many conversations moved. Anyone who compares
safety numbers with you from now on sees the new key's.";

/// `parley send --help`.
pub(crate) const SEND: &str = "\
Examples:
  parley send bob 'Can we meet at ten?'
  parley send buyers 'Our offer stands until Friday.'     (buyers is a group you created)
  parley send alice/talks 'Agreed.'                         (the group alice added you to)
  parley send @bob 'Just to you.'                           (@ always means the person)
  parley send bob - < offer.txt                             (the message is the file's text)
A name that could mean a person and a group is refused (exit code 2): use @handle or
inviter/name. When the relay cannot be reached the message is kept, encrypted, in the outbox
and sent by your next `parley send` or `parley read` (or by the daemon); send says \"queued,
not yet sent\" and exits with code 4. See parley outbox. A text may be up to 64 KiB.";

/// `parley read --help`.
pub(crate) const READ: &str = "\
Examples:
  parley read            (new messages from everyone)
  parley read bob        (only new messages from your conversation with bob)
  parley read buyers     (only new messages in the group buyers)
  parley read --follow   (keep showing new messages as they arrive, until Ctrl-C)
  parley read --json     (one object per message: conversation, sender, text, sent_at, verified)
Messages are shown in the order they were sent. With a conversation name each line is exactly
\"sender: text\"; without one, each line starts with the conversation, \"[buyers] bob: text\"
(unless you have only one conversation). Further lines of a message are indented. Changes of
members are lines starting with \"* \": someone added you (with the members), added,
removed or left. Every message is shown once, whichever command fetched it. A sender whose
identity key CHANGED is pointed out on stderr; `parley history` shows every sender's status.
A shared document is one line, \"alice: [document] budget.pdf (2.4 MB) id 7f3c1a2b\": save it
with `parley get-file 7f3c1a2b`.";

/// `parley send-file --help`.
pub(crate) const SEND_FILE: &str = "\
Examples:
  parley send-file buyers offer.pdf
  parley send-file bob ~/Documents/budget.xlsx
  parley send-file alice/talks draft.docx --name 'draft v3.docx'   (the name the others see)
TO is written as for `parley send`. The file is encrypted here and uploaded in pieces; the
relay never sees its name or content. Its type (PDF, text, image, office document, zip) is
told from its extension. On a terminal the progress is shown as a percentage. Relays limit the
size of documents (256 MiB unless their operator chose otherwise). Unlike a message, a
document is not kept in the outbox when the relay cannot be reached: send it again later
(exit code 4).";

/// `parley files --help`.
pub(crate) const FILES: &str = "\
Examples:
  parley files           (every document shared in your conversations)
  parley files buyers    (only those of the group buyers)
  parley files --json    (one object per line: id, name, size, media_type, sender,
                          conversation, sent_at in milliseconds since 1970 UTC)
Each line is \"id  name  size  sender  conversation  time\", e.g.
  7f3c1a2b  budget.pdf  2.4 MB  alice  buyers  2026-12-04 10:31
Sizes are in decimal units (1 MB = 1,000,000 bytes); times are in UTC. --json gives the whole
id and the size in bytes.";

/// `parley get-file --help`.
pub(crate) const GET_FILE: &str = "\
Examples:
  parley get-file 7f3c1a2b                     (saves it in this folder under its name)
  parley get-file 7f3c1a2b --out offer.pdf
  parley get-file 7f3c1a2b --out ~/Documents   (into that folder, under its name)
  parley get-file 7f3c1a2b --force             (replaces a file of the same name)
The id is the one `parley read` and `parley files` show; its first 8 characters are enough
while no other document starts with them. The name comes from the sender: only its last part
is used, without control characters or leading dots, so it can never point outside the folder.
The document is written to a hidden temporary file next to it and takes its name only once
it was checked whole; if anything fails, nothing is left behind.";

/// `parley chat --help`.
pub(crate) const CHAT: &str = "\
Examples:
  parley chat            (opens on your first conversation)
  parley chat bob        (opens on your conversation with bob, or starts one)
  parley chat buyers     (opens on the group buyers)
Keys:
  Enter                send          Tab, Down / Shift-Tab, Up   next / previous conversation
  PageUp, PageDown     scroll        ?                           help
  Esc, Ctrl-C          quit          Ctrl-S                      save a document
Ctrl-S lists the documents of the conversation on screen, newest first; Enter saves the one
chosen in the folder the chat was started in, under its name made safe as get-file does, and
as NAME (2).EXT rather than over a file that is there. The line at the bottom says where.
Times are shown in UTC. A CHANGED status means that person's identity key changed: sending to
them is blocked until you compare safety numbers again (parley verify HANDLE).";

/// `parley group --help`.
pub(crate) const GROUP: &str = "\
Examples:
  parley group create buyers --members bob,carol,dave
  parley group add buyers erin
  parley group remove buyers dave
  parley group members buyers";

/// `parley group create --help`.
pub(crate) const GROUP_CREATE: &str = "\
Examples:
  parley group create buyers --members bob,carol,dave
  parley group create caucus --members bob,carol --retention 7d

With --retention, messages and documents disappear that long after they are sent, on every
member's device and at the relay. Every member's software holds the same setting; anyone in
the group can change it with `parley group retention`, and everyone is told.";

/// `parley group retention --help`.
pub(crate) const GROUP_RETENTION: &str = "\
Examples:
  parley group retention buyers 24h
  parley group retention buyers off

DURATION is a number followed by m (minutes), h (hours), d (days) or w (weeks), from one
minute to ten years, or off. Every member sees who changed it, in `parley read`. What a member
saved with get-file somewhere else stays until they delete it.";

/// `parley retention --help`.
pub(crate) const RETENTION: &str = "\
Examples:
  parley retention bob 7d
  parley retention bob off

bob sees that you changed it. `parley conversations` shows each conversation's setting.";

/// `parley group add --help`.
pub(crate) const GROUP_ADD: &str = "\
Example:
  parley group add buyers erin";

/// `parley group remove --help`.
pub(crate) const GROUP_REMOVE: &str = "\
Example:
  parley group remove buyers dave";

/// `parley group promote --help`.
pub(crate) const GROUP_PROMOTE: &str = "\
Example:
  parley group promote buyers carol

A group starts with its creator as its only admin. Every member is told who was made an
admin, and by whom.";

/// `parley group leave --help`.
pub(crate) const GROUP_LEAVE: &str = "\
Example:
  parley group leave buyers

The others see that you left; the next admin to sync removes you from the group.";

/// `parley group recreate --help`.
pub(crate) const GROUP_RECREATE: &str = "\
Example:
  parley group recreate buyers --without dave

Everyone else in 'buyers' is invited to the new group, which is told what it replaces
and who was left out. Nothing of the old group is sent to the new one.";

/// `parley group members --help`.
pub(crate) const GROUP_MEMBERS: &str = "\
Example:
  parley group members buyers";

/// `parley safety-number --help`.
pub(crate) const SAFETY_NUMBER: &str = "\
Example:
  parley safety-number bob
If the digits differ from what bob sees, do not send anything sensitive: someone may be
in the middle.";

/// `parley history --help`.
pub(crate) const HISTORY: &str = "\
Examples:
  parley history bob
  parley history buyers --limit 20
  parley history bob --json        (one object per line: conversation, sender, text,
                                    sent_at in milliseconds since 1970 UTC, verified, status)
Times are shown in UTC.";

/// `parley contacts --help`.
pub(crate) const CONTACTS: &str = "\
Example:
  parley contacts
Status is one of:
  verified    you compared safety numbers and confirmed them (parley verify HANDLE --confirm)
  unverified  not compared yet
  CHANGED     their identity key changed since you first saw it: sending to them is blocked
              (exit code 3) until you compare again, or accept the new key with
              parley contact accept-new-key HANDLE";

/// `parley conversations --help`.
pub(crate) const CONVERSATIONS: &str = "\
Examples:
  parley conversations
  parley conversations --json";

/// `parley passphrase --help`.
pub(crate) const PASSPHRASE: &str = "\
Examples:
  parley passphrase change                 (asks for the current one, then twice for the new one)
  PARLEY_PASSPHRASE_FILE=old.txt PARLEY_NEW_PASSPHRASE_FILE=new.txt parley passphrase change
A wrong current passphrase changes nothing.";

/// `parley completions --help`.
pub(crate) const COMPLETIONS: &str = "\
Examples:
  parley completions bash > ~/.local/share/bash-completion/completions/parley
  parley completions zsh > ~/.zfunc/_parley
  parley completions fish > ~/.config/fish/completions/parley.fish";

/// `parley verify --help`.
pub(crate) const VERIFY: &str = "\
Examples:
  parley verify bob              (the safety number with bob, as digits and a QR code)
  parley verify bob --confirm    (after every digit matched: bob becomes verified)
  parley verify --group buyers   (one code for the whole group, with each member's status)
  parley verify bob --json       (handle, status, verified, safety_number, digits)
How to compare: sit together (or call), each runs `parley verify` for the other and reads the
digits out loud, or scans the other's QR code with a phone: both codes are the same. Never
compare through a Parley message: an impersonator would simply change it.
For a group: everyone runs `parley read`, then `parley verify --group NAME`; the same code
(and epoch) on every screen means everyone sees the same members with the same keys.
If a key CHANGED, the number shown is for the new key; confirming adopts it.
The QR code is drawn for light-on-dark terminals; the digits are what counts.";

/// `parley contact --help`.
pub(crate) const CONTACT: &str = "\
Example:
  parley contact accept-new-key bob
Accept a changed key only if you trust the change (e.g. bob told you he reinstalled Parley);
better, compare safety numbers first and use parley verify bob --confirm.";

/// `parley alerts --help`.
pub(crate) const ALERTS: &str = "\
Examples:
  parley alerts
  parley alerts --json   (one object per alert or set-aside message)
Alerts are listed oldest first with their time (UTC); messages set aside follow, with the
conversation they arrived in and why they could not be read.";

/// `parley outbox --help`.
pub(crate) const OUTBOX: &str = "\
Examples:
  parley outbox              (what waits, oldest first, with a number each)
  parley outbox --cancel 3   (drop message 3 without sending it)
A message waits when the relay could not be reached; your next `parley send` or `parley read`
(or the daemon) sends it, in the order written. A message that could not be sent for another
reason (a key changed, you left the group) is kept with the reason and is not retried: send it
again yourself once the cause is fixed, then cancel it here.";

/// `parley daemon --help`.
pub(crate) const DAEMON: &str = "\
Examples:
  parley daemon start                      (asks your passphrase once)
  parley daemon start --idle-timeout 30m   (stops by itself after 30 minutes unused)
  parley daemon status
  parley daemon stop
While it runs, every parley command of this folder goes through it: none asks the passphrase,
and all can run at the same time. `parley chat` and `parley read --follow` start it when it
is not running (it then stops after 10 minutes unused); set PARLEY_NO_DAEMON=1 to keep every
command on its own instead. It listens on a socket inside your Parley folder that only your
user can open, and logs (without message text or names) to daemon/daemon.log there.";

/// `parley workshop --help`.
pub(crate) const WORKSHOP: &str = "\
Examples:
  parley workshop create talks --facilitators ann,ben --side north:carol,dave --side south:eve,fay
  parley workshop show talks
  parley workshop move talks dave south
  parley text propose talks draft.txt
  parley workshop export talks --out record.md

A workshop is a set of linked conversations: the plenary (everyone), one caucus per side (that
side and the facilitators) and the facilitators' room. Who is in which room, and the policies,
are part of every room's encrypted state: every member's software refuses a change made by
anyone but a facilitator, and tells the room about every change it accepts. The relay sees
only ordinary groups. A facilitator's guide: docs/WORKSHOPS.md.";

/// `parley workshops --help`.
pub(crate) const WORKSHOPS: &str = "\
Example:
  parley workshops

One line per workshop: its name, your role, how many people are in it and the latest version
of its text.";

/// `parley workshop create --help`.
pub(crate) const WORKSHOP_CREATE: &str = "\
Example:
  parley workshop create talks --facilitators ann,ben --side north:carol,dave \\
      --side south:eve,fay --observers gil --attribution side --retention 30d

Everyone must have opened Parley recently (the relay hands out their keys to add them). Each
person has one role. With --attribution side the plenary shows \"north: text\"; with none,
\"participant: text\". That binds honest software and the record it keeps: MLS still tells
every member's software who sent each message (see parley workshop show).";

/// `parley workshop show --help`.
pub(crate) const WORKSHOP_SHOW: &str = "\
Example:
  parley workshop show talks

Lists the rooms, everyone by side and role with their verification status (compare safety
numbers with parley verify HANDLE), the policies, and any disagreement your software found
between the rooms (a change a facilitator did not finish).";

/// `parley workshop add --help`.
pub(crate) const WORKSHOP_ADD: &str = "\
Example:
  parley workshop add talks hal north";

/// `parley workshop remove --help`.
pub(crate) const WORKSHOP_REMOVE: &str = "\
Example:
  parley workshop remove talks hal

They cannot read anything sent in any room afterwards.";

/// `parley workshop move --help`.
pub(crate) const WORKSHOP_MOVE: &str = "\
Example:
  parley workshop move talks dave south

Dave leaves the north caucus (and cannot read it any more) and joins the south caucus.";

/// `parley workshop role --help`.
pub(crate) const WORKSHOP_ROLE: &str = "\
Example:
  parley workshop role talks gil facilitator";

/// `parley workshop attribution --help`.
pub(crate) const WORKSHOP_ATTRIBUTION: &str = "\
Example:
  parley workshop attribution talks side";

/// `parley workshop export --help`.
pub(crate) const WORKSHOP_EXPORT: &str = "\
Example:
  parley workshop export talks --out record.md

The record holds the final text with its hash, every version with the hash of the one before
(so anyone can check which text the room saw), the comments, and the plenary as kept under
the attribution policy.";

/// `parley text --help`.
pub(crate) const TEXT: &str = "\
Examples:
  parley text propose talks draft.txt
  parley text show talks
  parley text diff talks 1 2
  parley text comment talks --para 3 'We cannot accept the second sentence.'
  parley text comments talks --version 2";

/// `parley text propose --help`.
pub(crate) const TEXT_PROPOSE: &str = "\
Example:
  parley text propose talks draft-v2.txt

Each version carries the hash of the one before, so a member can prove which text the room
saw. Texts up to 8 MiB: over 64 KiB a version is uploaded as an encrypted document first.";

/// `parley text show --help`.
pub(crate) const TEXT_SHOW: &str = "\
Example:
  parley text show talks --version 2";

/// `parley text diff --help`.
pub(crate) const TEXT_DIFF: &str = "\
Example:
  parley text diff talks 1 3";

/// `parley text comment --help`.
pub(crate) const TEXT_COMMENT: &str = "\
Example:
  parley text comment talks --para 3 'Replace \"shall\" by \"may\".'";

/// `parley text comments --help`.
pub(crate) const TEXT_COMMENTS: &str = "\
Example:
  parley text comments talks --version 2";

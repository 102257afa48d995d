//! The examples and explanations shown after the option lists in `--help`. Kept apart from
//! the argument definitions so the prose can be read (and reviewed) as prose.

/// After the top-level command list: a first session, where data lives, and exit codes.
pub(crate) const TOP_LEVEL: &str = "\
Examples:
  parley init --relay https://relay.example.org:7443 --handle alice --relay-fingerprint 3f9a…
  parley whoami
  parley send bob 'Can we meet at ten?'
  parley send bob - < offer.txt
  parley read
  parley group create buyers --members bob,carol
  parley group members buyers
  parley safety-number bob
Each command explains itself: parley <command> --help

Your data:
  Your keys and messages are kept in the folder given by --home, else in the one named by
  the PARLEY_HOME environment variable, else in $HOME/.parley.

Exit codes:
  0  everything worked
  1  something went wrong; the error line says what
  2  the command was not typed correctly (see parley <command> --help)
  3  a contact's identity key changed, or a group member is not verified: compare safety
     numbers (parley safety-number HANDLE) before going on
  4  the relay could not be reached: check the network and the relay address";

/// `parley init --help`.
pub(crate) const INIT: &str = "\
Examples:
  parley init --relay https://relay.example.org:7443 --handle alice --relay-fingerprint 3f9a…c41e
      (copy the whole 64-character fingerprint from the relay's operator)
  parley --home /media/usb/parley init --relay https://relay.example.org:7443 --handle alice
  parley init --relay http://127.0.0.1:7443 --handle alice     (a test relay on this computer)";

/// `parley whoami --help`.
pub(crate) const WHOAMI: &str = "\
Example:
  parley whoami";

/// `parley send --help`.
pub(crate) const SEND: &str = "\
Examples:
  parley send bob 'Can we meet at ten?'
  parley send buyers 'Our offer stands until Friday.'     (buyers is a group)
  parley send bob - < offer.txt                             (the message is the file's text)";

/// `parley read --help`.
pub(crate) const READ: &str = "\
Examples:
  parley read            (new messages from everyone)
  parley read bob        (only new messages from your conversation with bob)
  parley read buyers     (only new messages in the group buyers)";

/// `parley group --help`.
pub(crate) const GROUP: &str = "\
Examples:
  parley group create buyers --members bob,carol,dave
  parley group add buyers erin
  parley group remove buyers dave
  parley group members buyers";

/// `parley group create --help`.
pub(crate) const GROUP_CREATE: &str = "\
Example:
  parley group create buyers --members bob,carol,dave";

/// `parley group add --help`.
pub(crate) const GROUP_ADD: &str = "\
Example:
  parley group add buyers erin";

/// `parley group remove --help`.
pub(crate) const GROUP_REMOVE: &str = "\
Example:
  parley group remove buyers dave";

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

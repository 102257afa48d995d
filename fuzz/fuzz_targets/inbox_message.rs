//! Inbox messages: decoding must not panic, and the format is canonical (exact lengths, no
//! trailing bytes), so whatever decodes encodes back to the very same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::inbox_message::InboxMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = InboxMessage::decode(data) {
        let bytes = message.encode().expect("a decoded inbox message encodes");
        assert_eq!(bytes, data);
        assert_eq!(InboxMessage::decode(&bytes).as_ref(), Ok(&message));
    }
});

//! A group's admins, as a group context extension body (from other members): decoding must
//! not panic, and whatever decodes is the one encoding of a non-empty, ordered list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::roles::GroupRoles;

fuzz_target!(|data: &[u8]| {
    if let Ok(roles) = GroupRoles::decode(data) {
        assert_eq!(roles.encode(), data);
        assert!(!roles.admins().is_empty());
        assert!(roles.admins().windows(2).all(|w| w[0] < w[1]));
    }
});

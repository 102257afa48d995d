//! A Track II workshop, as a group context extension body (from other members): decoding
//! must not panic, and whatever decodes is the one encoding of a valid workshop: members in
//! order, at least one facilitator, one room id per room, and its own room among them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::workshop::{Role, WorkshopSpec};

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = WorkshopSpec::decode(data) {
        assert_eq!(spec.encode(), data);
        assert!(spec.members().windows(2).all(|w| w[0].0 < w[1].0));
        assert!(spec
            .members()
            .iter()
            .any(|(_, role)| *role == Role::Facilitator));
        assert!(!spec.facilitators().is_empty());
        assert_eq!(spec.rooms().len(), 2 + spec.sides().len());
        assert!(spec.room_id(spec.room()).is_some());
        // Seen from any of its rooms, it is the same workshop and encodes canonically too.
        for (room, _) in spec.rooms() {
            let other = spec.for_room(&room).expect("each of its rooms");
            assert!(other.same_workshop(&spec));
            assert_eq!(WorkshopSpec::decode(&other.encode()).as_ref(), Ok(&other));
        }
    }
});

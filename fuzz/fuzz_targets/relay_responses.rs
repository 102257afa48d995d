//! What the relay returns to a client, as a hostile relay could send it: the first byte picks
//! the check (a page of a group's log, a pushed group notice, an inbox delivery), the next
//! two the parameters (the epoch and position read, or the two subscribed groups' epochs),
//! the rest is decoded with prost. A check must refuse or keep its promise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_client::fuzzing;
use parley_proto::v1 as proto;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let [pick, first, second, body @ ..] = data else {
        return;
    };
    // Small parameters, so that the inputs can meet them.
    let (first, second) = (u64::from(*first), u64::from(*second));
    let outcome = match pick % 3 {
        0 => match proto::ReadResponse::decode(body) {
            Ok(response) => fuzzing::read_page(response, first, second),
            Err(_) => return,
        },
        1 => match proto::GroupNotice::decode(body) {
            Ok(notice) => fuzzing::group_notice(notice, &[([0; 32], first), ([1; 32], second)]),
            Err(_) => return,
        },
        _ => match proto::Delivery::decode(body) {
            Ok(delivery) => fuzzing::delivery(delivery),
            Err(_) => return,
        },
    };
    if let Err(broken) = outcome {
        panic!("{broken}");
    }
});

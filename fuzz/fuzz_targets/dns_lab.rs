//! The lab's DNS server answering arbitrary bytes, and its answer read back the way a
//! resolver reads it.
#![no_main]
use hickory_proto::op::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(reply) = m365mon::lab::answer_dns_query(data) {
        Message::from_vec(&reply).expect("the lab answers with a message a resolver can read");
    }
    let _ = Message::from_vec(data);
});

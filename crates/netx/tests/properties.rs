//! Properties over hostile input: DNS parsing never panics and stays
//! bounded; scrubbing never leaves an address behind.

use canary_netx::dns::{build_query, parse_reply};
use canary_netx::{QueryType, Scrubber};
use hickory_proto::op::{Message, OpCode};
use hickory_proto::rr::{rdata, RData, Record};
use proptest::prelude::*;

fn valid_reply() -> (Message, Vec<u8>) {
    let (_, query) = build_query("example.org", QueryType::A).unwrap();
    let mut reply = Message::response(query.metadata.id, OpCode::Query);
    reply.add_queries(query.queries.clone());
    for i in 0..4u8 {
        reply.add_answer(Record::from_rdata(
            query.queries[0].name.clone(),
            60,
            RData::A(rdata::A([192, 0, 2, i].into())),
        ));
    }
    (query, reply.to_vec().unwrap())
}

proptest! {
    #[test]
    fn random_datagrams_are_rejected_or_parsed_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (query, _) = valid_reply();
        if let Ok(parsed) = parse_reply(&data, &query, 8) {
            prop_assert!(parsed.answers.len() <= 8);
        }
    }

    #[test]
    fn mutated_replies_never_panic_and_respect_the_answer_cap(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..12),
        cut in any::<usize>(),
    ) {
        let (query, mut bytes) = valid_reply();
        for (pos, val) in flips {
            let n = bytes.len();
            bytes[pos % n] = val;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if let Ok(parsed) = parse_reply(&bytes, &query, 2) {
            prop_assert!(parsed.answers.len() <= 2);
        }
    }

    #[test]
    fn scrubbed_text_never_contains_the_addresses(
        a in any::<[u8; 4]>(),
        b in any::<[u16; 8]>(),
        parts in proptest::collection::vec(0usize..5, 0..20),
    ) {
        let v4 = std::net::Ipv4Addr::from(a).to_string();
        let v6 = std::net::Ipv6Addr::from(b).to_string();
        let fragments = [v4.as_str(), v6.as_str(), ".", ":", " via 10.0.0.1 "];
        let text: String = parts.iter().map(|i| fragments[*i]).collect();
        let scrubber = Scrubber::new([v4.clone(), v6.clone()]);
        let out = scrubber.scrub(&text);
        prop_assert!(!out.contains(&v4), "{} in {}", v4, out);
        prop_assert!(!out.contains(&v6), "{} in {}", v6, out);
        let bytes = scrubber.scrub_bytes(text.as_bytes());
        prop_assert_eq!(String::from_utf8(bytes).unwrap(), out.into_owned());
    }
}

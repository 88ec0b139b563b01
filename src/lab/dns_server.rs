//! The lab's DNS server: answers for the lab's hosts on UDP and TCP, one port.
//!
//! It is authoritative for every name it knows and says "no such name" for the rest, so a
//! monitor pointed at it never leaks a lookup to the real internet. DNS faults act here:
//! NXDOMAIN, SERVFAIL, or silence (the client's timeout). Answers carry a one-second TTL
//! (and a one-second negative TTL in the SOA) so that a caching resolver sees a fault that
//! starts mid-run within a second.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::scenario::{FaultMode, Layer};
use super::timeline::Timeline;
use super::LabError;
use crate::model::IpFamily;

/// TTL of every answer, in seconds.
const TTL: u32 = 1;
/// How long a TCP client may stay idle before the server hangs up.
const TCP_IDLE: Duration = Duration::from_secs(30);
/// Windows' connectivity indicator resolves this name and expects this address
/// (it is data only: nothing connects to it).
pub const NCSI_DNS_HOST: &str = "dns.msftncsi.com";
pub const NCSI_DNS_ADDR: Ipv4Addr = Ipv4Addr::new(131, 107, 255, 255);

/// The names the lab answers for.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    /// Each name's addresses: one IPv4, and one IPv6 with `lab serve --ipv6`.
    names: HashMap<String, Vec<IpAddr>>,
    /// CNAME records: name to target.
    cnames: HashMap<String, String>,
}

impl Zone {
    /// The zone of these (name, address) entries; a name may come with one address of
    /// each family.
    pub fn new(entries: impl IntoIterator<Item = (String, IpAddr)>) -> Self {
        let mut names: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (h, a) in entries {
            let list = names.entry(normalise(&h)).or_default();
            if !list.contains(&a) {
                list.push(a);
            }
        }
        names
            .entry(NCSI_DNS_HOST.to_string())
            .or_insert_with(|| vec![IpAddr::V4(NCSI_DNS_ADDR)]);
        Self {
            names,
            cnames: HashMap::new(),
        }
    }

    /// Adds CNAME records (name, target); they are answered to any query for the name.
    pub fn with_cnames(mut self, cnames: impl IntoIterator<Item = (String, String)>) -> Self {
        self.cnames
            .extend(cnames.into_iter().map(|(n, t)| (normalise(&n), normalise(&t))));
        self
    }

    fn lookup(&self, name: &str) -> Option<&[IpAddr]> {
        self.names.get(name).map(Vec::as_slice)
    }
}

/// Lower case, no trailing dot: how names are compared.
fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// What the server does with one query.
#[derive(Debug, PartialEq)]
pub enum Reply {
    Send(Vec<u8>),
    /// Stay silent (dns-timeout, or bytes that are not a DNS query at all).
    Silent,
}

/// Answers one query message.
pub fn answer(query: &[u8], zone: &Zone, timeline: &Timeline) -> Reply {
    let request = match Message::from_vec(query) {
        Ok(m) => m,
        Err(_) if query.len() >= 12 && query[2] & 0x80 == 0 => {
            let id = u16::from_be_bytes([query[0], query[1]]);
            return encode(Message::error_msg(id, OpCode::Query, ResponseCode::FormErr));
        }
        Err(_) => return Reply::Silent,
    };
    if request.metadata.message_type != MessageType::Query {
        return Reply::Silent;
    }
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.checking_disabled = request.metadata.checking_disabled;
    // Stub resolvers expect a recursive server; the lab is one as far as they can tell.
    response.metadata.recursion_available = true;
    if request.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        response.set_edns(edns);
    }
    if request.metadata.op_code != OpCode::Query {
        response.metadata.response_code = ResponseCode::NotImp;
        return encode(response);
    }
    let Some(question) = request.queries.first().cloned() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return encode(response);
    };
    let qname = question.name().clone();
    let qtype = question.query_type();
    let host = normalise(&qname.to_ascii());
    response.add_query(question);

    // A fault for one family acts on that family's record type only.
    let family = match qtype {
        RecordType::A => Some(IpFamily::Ipv4),
        RecordType::AAAA => Some(IpFamily::Ipv6),
        _ => None,
    };
    match timeline.fault(&host, Layer::Dns, family).map(|f| f.mode) {
        Some(FaultMode::DnsTimeout) => return Reply::Silent,
        Some(FaultMode::DnsServfail) => {
            response.metadata.response_code = ResponseCode::ServFail;
            return encode(response);
        }
        Some(FaultMode::DnsNxdomain) => return encode(negative(response, ResponseCode::NXDomain)),
        _ => {}
    }
    // Follow the CNAME chain inside the zone, as a recursive server does: every CNAME,
    // then the records of the last name. A target outside the lab (as msoid's is) ends the
    // answer at its CNAME.
    let mut name = qname;
    let mut current = host;
    for _ in 0..8 {
        let Some(target) = zone.cnames.get(&current) else {
            break;
        };
        let Ok(target_name) = Name::from_ascii(format!("{target}.")) else {
            break;
        };
        response.metadata.authoritative = true;
        response.add_answer(Record::from_rdata(
            name,
            TTL,
            RData::CNAME(CNAME(target_name.clone())),
        ));
        if qtype == RecordType::CNAME {
            return encode(response);
        }
        name = target_name;
        current = target.clone();
    }
    let Some(addrs) = zone.lookup(&current) else {
        if !response.answers.is_empty() {
            return encode(response);
        }
        return encode(negative(response, ResponseCode::NXDomain));
    };
    response.metadata.authoritative = true;
    let rdata: Vec<RData> = addrs
        .iter()
        .filter_map(|addr| match (qtype, addr) {
            (RecordType::A, IpAddr::V4(v4)) => Some(RData::A(A(*v4))),
            (RecordType::AAAA, IpAddr::V6(v6)) => Some(RData::AAAA(AAAA(*v6))),
            _ => None,
        })
        .collect();
    if rdata.is_empty() {
        // The name exists but has no record of that type (AAAA for an IPv4-only host).
        return encode(negative(response, ResponseCode::NoError));
    }
    for r in rdata {
        response.add_answer(Record::from_rdata(name.clone(), TTL, r));
    }
    encode(response)
}

/// A negative answer with the SOA that tells caches to forget it after a second.
fn negative(mut response: Message, code: ResponseCode) -> Message {
    response.metadata.response_code = code;
    response.metadata.authoritative = true;
    let lab = |s: &str| Name::from_ascii(s).unwrap_or_else(|_| Name::root());
    let soa = SOA::new(
        lab("ns.lab.invalid."),
        lab("hostmaster.lab.invalid."),
        1,
        60,
        60,
        600,
        TTL,
    );
    response.add_authority(Record::from_rdata(Name::root(), TTL, RData::SOA(soa)));
    response
}

fn encode(message: Message) -> Reply {
    message.to_vec().map(Reply::Send).unwrap_or(Reply::Silent)
}

/// Binds UDP and TCP on the same free port of 127.0.0.1.
pub async fn bind() -> Result<(UdpSocket, TcpListener), LabError> {
    let mut last_err = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(("127.0.0.1", 0))
            .await
            .map_err(|error| LabError::Bind {
                what: "DNS (UDP)".into(),
                addr: "127.0.0.1:0".into(),
                error,
            })?;
        let addr = udp.local_addr().map_err(|error| LabError::Bind {
            what: "DNS (UDP)".into(),
            addr: "127.0.0.1:0".into(),
            error,
        })?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last_err = Some((addr, e)),
        }
    }
    let (addr, error) = last_err.expect("at least one attempt");
    Err(LabError::Bind {
        what: "DNS (TCP, same port as UDP)".into(),
        addr: addr.to_string(),
        error,
    })
}

/// Shared by the UDP and TCP loops.
pub struct DnsContext {
    pub zone: Zone,
    pub timeline: Timeline,
}

/// Answers UDP queries until shutdown.
pub async fn serve_udp(socket: UdpSocket, ctx: Arc<DnsContext>, mut shutdown: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 4096];
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            received = socket.recv_from(&mut buf) => {
                let Ok((len, peer)) = received else { continue };
                if let Reply::Send(bytes) = answer(&buf[..len], &ctx.zone, &ctx.timeline) {
                    let _ = socket.send_to(&bytes, peer).await;
                }
            }
        }
    }
}

/// Answers TCP queries (two-byte length prefix, several per connection) until shutdown.
pub async fn serve_tcp(listener: TcpListener, ctx: Arc<DnsContext>, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    conns.spawn(serve_tcp_conn(stream, Arc::clone(&ctx)));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve_tcp_conn(mut stream: TcpStream, ctx: Arc<DnsContext>) {
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if !matches!(
            tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut query)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        if let Reply::Send(bytes) = answer(&query, &ctx.zone, &ctx.timeline) {
            let Ok(len) = u16::try_from(bytes.len()) else {
                return;
            };
            let mut framed = len.to_be_bytes().to_vec();
            framed.extend_from_slice(&bytes);
            if stream.write_all(&framed).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::scenario::{Fault, Scenario};
    use hickory_proto::op::Query;
    use tokio::time::Instant;

    fn timeline(faults: Vec<Fault>) -> Timeline {
        let s = Scenario {
            name: "t".into(),
            faults,
            ..Default::default()
        };
        Timeline::new(s, Instant::now())
    }

    fn zone() -> Zone {
        Zone::new([(
            "login.microsoftonline.com".to_string(),
            "127.77.0.3".parse().unwrap(),
        )])
    }

    fn ask(name: &str, qtype: RecordType, t: &Timeline) -> Option<Message> {
        let mut q = Message::query();
        q.metadata.recursion_desired = true;
        q.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        match answer(&q.to_vec().unwrap(), &zone(), t) {
            Reply::Send(bytes) => {
                let m = Message::from_vec(&bytes).unwrap();
                assert_eq!(m.metadata.id, q.metadata.id);
                Some(m)
            }
            Reply::Silent => None,
        }
    }

    #[test]
    fn answers_lab_hosts_case_insensitively() {
        let t = timeline(vec![]);
        for name in ["login.microsoftonline.com.", "LOGIN.MicrosoftOnline.com"] {
            let m = ask(name, RecordType::A, &t).unwrap();
            assert_eq!(m.metadata.response_code, ResponseCode::NoError);
            assert_eq!(m.answers.len(), 1);
            assert_eq!(m.answers[0].data, RData::A(A("127.77.0.3".parse().unwrap())));
            assert!(m.metadata.recursion_desired && m.metadata.recursion_available);
        }
    }

    #[test]
    fn aaaa_is_nodata_and_unknown_is_nxdomain() {
        let t = timeline(vec![]);
        let m = ask("login.microsoftonline.com.", RecordType::AAAA, &t).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.answers.is_empty());
        assert_eq!(m.authorities.len(), 1, "SOA for negative caching");
        let m = ask("example.org.", RecordType::A, &t).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    }

    #[test]
    fn ncsi_name_resolves_to_the_expected_address() {
        let m = ask("dns.msftncsi.com.", RecordType::A, &timeline(vec![])).unwrap();
        assert_eq!(m.answers[0].data, RData::A(A(NCSI_DNS_ADDR)));
    }

    #[test]
    fn cname_records_answer_any_query_for_their_name() {
        let t = timeline(vec![]);
        let z = zone().with_cnames([(
            "msoid.contoso.lab".to_string(),
            "clientconfig.partner.microsoftonline-p.net.cn".to_string(),
        )]);
        for qtype in [RecordType::CNAME, RecordType::A] {
            let mut q = Message::query();
            q.add_query(Query::query(
                Name::from_ascii("MSOID.contoso.lab.").unwrap(),
                qtype,
            ));
            let Reply::Send(bytes) = answer(&q.to_vec().unwrap(), &z, &t) else {
                panic!("silent")
            };
            let m = Message::from_vec(&bytes).unwrap();
            assert_eq!(m.metadata.response_code, ResponseCode::NoError);
            let RData::CNAME(target) = &m.answers[0].data else {
                panic!("{:?}", m.answers)
            };
            assert_eq!(
                target.0.to_ascii(),
                "clientconfig.partner.microsoftonline-p.net.cn."
            );
        }
        let m = ask("msoid.contoso.lab.", RecordType::CNAME, &t).unwrap();
        assert_eq!(
            m.metadata.response_code,
            ResponseCode::NXDomain,
            "absent without the record"
        );
    }

    #[test]
    fn dual_stack_names_answer_a_and_aaaa_and_chains_are_followed_in_the_zone() {
        let t = timeline(vec![Fault::new(
            "login.microsoftonline.com",
            FaultMode::DnsServfail,
        )
        .on_family(IpFamily::Ipv6)]);
        let z = Zone::new([
            ("front.example".to_string(), "127.77.0.3".parse().unwrap()),
            ("front.example".to_string(), "fd00:6d36::3".parse().unwrap()),
        ])
        .with_cnames([
            ("login.microsoftonline.com".to_string(), "mid.example".to_string()),
            ("mid.example".to_string(), "front.example".to_string()),
        ]);
        let ask_z = |qtype| {
            let mut q = Message::query();
            q.add_query(Query::query(
                Name::from_ascii("login.microsoftonline.com.").unwrap(),
                qtype,
            ));
            match answer(&q.to_vec().unwrap(), &z, &t) {
                Reply::Send(bytes) => Message::from_vec(&bytes).unwrap(),
                Reply::Silent => panic!("silent"),
            }
        };
        let m = ask_z(RecordType::A);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        let kinds: Vec<String> = m
            .answers
            .iter()
            .map(|r| format!("{} {}", r.name, r.record_type()))
            .collect();
        assert_eq!(
            kinds,
            [
                "login.microsoftonline.com. CNAME",
                "mid.example. CNAME",
                "front.example. A"
            ]
        );
        assert_eq!(m.answers[2].data, RData::A(A("127.77.0.3".parse().unwrap())));
        // The fault is for IPv6 only: AAAA fails, A (above) does not.
        assert_eq!(
            ask_z(RecordType::AAAA).metadata.response_code,
            ResponseCode::ServFail
        );
        let t = timeline(vec![]);
        let mut q = Message::query();
        q.add_query(Query::query(
            Name::from_ascii("front.example.").unwrap(),
            RecordType::AAAA,
        ));
        let Reply::Send(bytes) = answer(&q.to_vec().unwrap(), &z, &t) else {
            panic!()
        };
        let m = Message::from_vec(&bytes).unwrap();
        assert_eq!(
            m.answers[0].data,
            RData::AAAA(AAAA("fd00:6d36::3".parse().unwrap()))
        );
    }

    #[test]
    fn dns_faults() {
        let t = timeline(vec![
            Fault::new("login.microsoftonline.com", FaultMode::DnsNxdomain),
            Fault::new("*.example", FaultMode::DnsTimeout),
            Fault::new("*", FaultMode::DnsServfail),
        ]);
        let code = |name| ask(name, RecordType::A, &t).map(|m| m.metadata.response_code);
        assert_eq!(code("login.microsoftonline.com."), Some(ResponseCode::NXDomain));
        assert_eq!(code("a.example."), None);
        assert_eq!(code("dns.msftncsi.com."), Some(ResponseCode::ServFail));
    }

    #[test]
    fn garbage_gets_formerr_or_silence() {
        let t = timeline(vec![]);
        assert_eq!(answer(b"xy", &zone(), &t), Reply::Silent);
        let mut junk = vec![0x12, 0x34, 0x01, 0x00, 0, 9, 0, 0, 0, 0, 0, 0];
        junk.extend_from_slice(b"\xff\xff");
        match answer(&junk, &zone(), &t) {
            Reply::Send(bytes) => {
                let m = Message::from_vec(&bytes).unwrap();
                assert_eq!(m.metadata.id, 0x1234);
                assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
            }
            Reply::Silent => panic!("a malformed query deserves FORMERR"),
        }
    }
}

//! A deterministic corpus of OSC datagrams a stranger might send: good light messages, wrong
//! type tags, NaN/Inf and absurd numbers, unknown addresses, truncated datagrams, trailing
//! bytes, random bytes, bundles nested 1,000 deep and bundles near the UDP size limit. Each
//! datagram comes with what the plugin's counters must say about it, so a test can account
//! for every one. Shared by `tests/osc_flood.rs` and `benches/flood.rs`.

#![allow(dead_code)]

use mood_noir::light::osc::OscConfig;
use mood_noir::light::{LightLink, Monitor};
use mood_noir::watched::Watched;
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::collections::VecDeque;
use std::sync::Arc;

/// A live light input on an ephemeral port of 127.0.0.1: its monitor, its link (to drain into
/// an engine) and the port.
pub fn server() -> (Arc<Monitor>, LightLink, u16) {
    let monitor = Arc::new(Monitor::new());
    let config = Watched::new(OscConfig {
        port: 0,
        ..OscConfig::default()
    });
    let (link, _) = LightLink::start(config, Watched::new(None), monitor.clone());
    let port = link.port().expect("server bound");
    (monitor, link, port)
}

/// Paces a sender by what the server has handled, so the kernel never drops a datagram before
/// the server sees it: each datagram in flight is charged its length plus the kernel's
/// bookkeeping (about 1 KiB on Linux, which is what overflows the buffer with small ones), and
/// at most `WINDOW_BYTES` may wait (the default receive buffer is 208 KiB).
#[derive(Default)]
pub struct Window {
    in_flight: VecDeque<(u64, usize)>,
    bytes: usize,
}

impl Window {
    pub const BYTES: usize = 128 * 1024;
    pub const OVERHEAD: usize = 1280;

    /// Whether `len` more bytes fit, once the datagrams before number `handled` are retired.
    pub fn fits(&mut self, handled: u64, len: usize) -> bool {
        while self.in_flight.front().is_some_and(|&(k, _)| k < handled) {
            self.bytes -= self.in_flight.pop_front().unwrap().1;
        }
        self.bytes + len + Self::OVERHEAD <= Self::BYTES
    }

    /// Datagram number `i` of `len` bytes went out.
    pub fn sent(&mut self, i: u64, len: usize) {
        self.in_flight.push_back((i, len + Self::OVERHEAD));
        self.bytes += len + Self::OVERHEAD;
    }
}

/// What the server's counters must add for one datagram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    pub malformed: u64,
    pub accepted: u64,
    pub unknown: u64,
    pub bad_args: u64,
    pub out_of_range: u64,
}

impl Expect {
    pub fn add(&mut self, o: Expect) {
        self.malformed += o.malformed;
        self.accepted += o.accepted;
        self.unknown += o.unknown;
        self.bad_args += o.bad_args;
        self.out_of_range += o.out_of_range;
    }
}

/// xorshift64*: a fixed sequence for a fixed seed (the corpus is the same on every run).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Addresses that take one value in 0..1.
const UNIT_ADDRESSES: [&str; 5] = [
    "/light/intensity",
    "/light/contrast",
    "/light/flicker",
    "/mood/arousal",
    "/mood/tension",
];

fn msg(addr: &str, args: Vec<OscType>) -> OscPacket {
    OscPacket::Message(OscMessage {
        addr: addr.into(),
        args,
    })
}

fn enc(p: &OscPacket) -> Vec<u8> {
    rosc::encoder::encode(p).expect("encodable")
}

fn bundle(content: Vec<OscPacket>) -> OscPacket {
    OscPacket::Bundle(OscBundle {
        timetag: OscTime {
            seconds: 0,
            fractional: 1,
        },
        content,
    })
}

fn good_message(rng: &mut Rng) -> OscPacket {
    let addr = UNIT_ADDRESSES[rng.below(UNIT_ADDRESSES.len() as u64) as usize];
    msg(addr, vec![OscType::Float(rng.unit())])
}

/// Raw bytes of a bundle holding `elements` (already encoded), nested as given.
fn raw_bundle(elements: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"#bundle\0\0\0\0\0\0\0\0\x01".to_vec();
    for e in elements {
        out.extend_from_slice(&(e.len() as u32).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// The `i`-th datagram of the corpus and what it must count as.
pub fn datagram(rng: &mut Rng) -> (Vec<u8>, Expect) {
    let one = |field: &str| -> Expect {
        let mut e = Expect::default();
        match field {
            "malformed" => e.malformed = 1,
            "accepted" => e.accepted = 1,
            "unknown" => e.unknown = 1,
            "bad_args" => e.bad_args = 1,
            _ => e.out_of_range = 1,
        }
        e
    };
    match rng.below(1000) {
        // Well-formed light values (the flood a desk sends).
        0..=299 => (enc(&good_message(rng)), one("accepted")),
        // Wrong argument types: a string, a blob, nothing, too many.
        300..=379 => {
            let addr = UNIT_ADDRESSES[rng.below(UNIT_ADDRESSES.len() as u64) as usize];
            let args = match rng.below(4) {
                0 => vec![OscType::String("bright".into())],
                1 => vec![OscType::Blob(vec![1, 2, 3])],
                2 => vec![],
                _ => vec![OscType::Float(0.5); 3],
            };
            (enc(&msg(addr, args)), one("bad_args"))
        }
        // NaN, infinities and absurd numbers.
        380..=459 => {
            let addr = UNIT_ADDRESSES[rng.below(UNIT_ADDRESSES.len() as u64) as usize];
            let v = match rng.below(5) {
                0 => OscType::Float(f32::NAN),
                1 => OscType::Float(f32::INFINITY),
                2 => OscType::Float(f32::NEG_INFINITY),
                3 => OscType::Double(1e300),
                _ => OscType::Float(-1e30),
            };
            (enc(&msg(addr, vec![v])), one("out_of_range"))
        }
        // Addresses nobody understands.
        460..=539 => {
            let addr = format!("/nobody/{}", rng.below(1 << 20));
            (enc(&msg(&addr, vec![OscType::Float(0.5)])), one("unknown"))
        }
        // Truncated at a length that is not a multiple of 4.
        540..=639 => {
            let mut b = enc(&good_message(rng));
            let mut n = 1 + rng.below(b.len() as u64 - 1) as usize;
            if n.is_multiple_of(4) {
                n -= 1;
            }
            b.truncate(n);
            (b, one("malformed"))
        }
        // Trailing bytes after a complete message.
        640..=699 => {
            let mut b = enc(&good_message(rng));
            b.extend_from_slice(&[0u8; 4]);
            (b, one("malformed"))
        }
        // Random bytes that are neither a message nor a bundle.
        700..=799 => {
            let n = 4 * (1 + rng.below(64) as usize);
            let mut b: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            if b[0] == b'/' || b[0] == b'#' {
                b[0] = 0;
            }
            (b, one("malformed"))
        }
        // A type-tag string that promises more arguments than the datagram holds.
        800..=859 => {
            let mut b = enc(&msg(UNIT_ADDRESSES[0], vec![OscType::Float(0.5)]));
            // "/light/intensity" is 16 chars + 4 NUL; ",f\0\0" follows; make it ",ff\0".
            let tag = 20;
            assert_eq!(&b[tag..tag + 4], b",f\0\0");
            b[tag + 2] = b'f';
            (b, one("malformed"))
        }
        // Bundles of good messages, nested a few levels (unpacked, each message counted).
        860..=939 => {
            let n = 1 + rng.below(8) as usize;
            let content: Vec<OscPacket> = (0..n).map(|_| good_message(rng)).collect();
            let inner = bundle(content);
            (
                enc(&bundle(vec![inner])),
                Expect {
                    accepted: n as u64,
                    ..Expect::default()
                },
            )
        }
        // Bundles nested 1,000 deep.
        940..=987 => {
            let mut b = enc(&good_message(rng));
            for _ in 0..1000 {
                b = raw_bundle(&[b]);
            }
            (b, one("malformed"))
        }
        // A bundle near the UDP size limit: 1,800 good messages (57,616 bytes).
        988..=989 => {
            let content: Vec<OscPacket> = (0..1800).map(|_| good_message(rng)).collect();
            (
                enc(&bundle(content)),
                Expect {
                    accepted: 1800,
                    ..Expect::default()
                },
            )
        }
        // A bundle whose element claims more bytes than the bundle holds.
        _ => {
            let mut b = raw_bundle(&[enc(&good_message(rng))]);
            b[16..20].copy_from_slice(&(1_000_000u32).to_be_bytes());
            (b, one("malformed"))
        }
    }
}

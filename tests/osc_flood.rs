//! 100,000 garbage and edge-case datagrams over real UDP (127.0.0.1) to a live light input
//! while an engine renders on its own thread, as the plugin runs it: no panic, no NaN or
//! subnormal sample, the audio keeps flowing, and the server's counters account for every
//! datagram and every message inside one. Sends are paced by what the server has handled
//! (a local socket buffer that overflows would drop datagrams before the server sees them,
//! which would make exact accounting impossible; `benches/flood.rs` measures that case).

#[path = "common/flood.rs"]
mod flood;

use flood::{Expect, Rng};
use mood_noir::engine::{Engine, HostTransport, MoodSource, Settings, TempoMode};
use mood_noir::light::LightSettings;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SR: f32 = 48_000.0;
const BLOCK: usize = 256;

fn datagrams() -> u64 {
    std::env::var("MOOD_NOIR_FLOOD")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

#[derive(Default)]
struct AudioReport {
    blocks: u64,
    non_finite: u64,
    subnormal: u64,
    peak: f32,
}

#[test]
fn a_hundred_thousand_bad_datagrams_are_counted_and_the_audio_keeps_flowing() {
    let (monitor, mut link, port) = flood::server();
    let mut engine = Engine::new(
        SR,
        Settings {
            source: MoodSource::Light,
            follow: 1.0,
            tempo_mode: TempoMode::Mood,
            ..Settings::default()
        },
    );
    engine.set_light_settings(LightSettings {
        smooth_s: 0.0,
        ..LightSettings::default()
    });

    // The audio thread: renders without pause until told to stop.
    let done = Arc::new(AtomicBool::new(false));
    let blocks = Arc::new(AtomicU64::new(0));
    let audio = {
        let (done, blocks) = (done.clone(), blocks.clone());
        std::thread::spawn(move || {
            let mut rep = AudioReport::default();
            let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
            while !done.load(Ordering::Acquire) {
                link.drain_into(&mut engine);
                engine.process(&HostTransport::default(), &mut l, &mut r);
                for &x in l.iter().chain(&r) {
                    if !x.is_finite() {
                        rep.non_finite += 1;
                    } else if x != 0.0 && !x.is_normal() {
                        rep.subnormal += 1;
                    }
                    rep.peak = rep.peak.max(x.abs());
                }
                rep.blocks += 1;
                blocks.store(rep.blocks, Ordering::Release);
                // About twice real time: a busy audio thread, with the network thread and
                // the sender left a core on a 2-core machine.
                std::thread::sleep(Duration::from_micros(2500));
            }
            (rep, link, engine)
        })
    };

    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let handled = || monitor.counts.handled.load(Ordering::Acquire);
    let wait_until = |n: u64| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while handled() < n {
            assert!(
                Instant::now() < deadline,
                "the server stopped handling datagrams at {} of {n}: {:?}",
                handled(),
                monitor.counts()
            );
            std::thread::sleep(Duration::from_micros(200));
        }
    };
    let n = datagrams();
    let mut rng = Rng::new(0x6e6f6972);
    let mut want = Expect::default();
    let mut window = flood::Window::default();
    let (mut total_bytes, mut blocks_during) = (0usize, 0u64);
    let started = Instant::now();
    let blocks_at_start = blocks.load(Ordering::Acquire);
    for i in 0..n {
        let (bytes, expect) = flood::datagram(&mut rng);
        want.add(expect);
        // Pace: retire what the server has handled, wait while the window is full.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !window.fits(handled(), bytes.len()) {
            assert!(
                Instant::now() < deadline,
                "the server stopped handling datagrams at {} of {i}: {:?}",
                handled(),
                monitor.counts()
            );
            std::thread::sleep(Duration::from_micros(50));
        }
        tx.send_to(&bytes, ("127.0.0.1", port)).expect("send");
        window.sent(i, bytes.len());
        total_bytes += bytes.len();
    }
    wait_until(n);
    let elapsed = started.elapsed();
    blocks_during += blocks.load(Ordering::Acquire) - blocks_at_start;

    // The server is still alive: a good value after the flood reaches the engine.
    let probe = rosc::encoder::encode(&rosc::OscPacket::Message(rosc::OscMessage {
        addr: "/light/intensity".into(),
        args: vec![rosc::OscType::Float(0.123)],
    }))
    .unwrap();
    tx.send_to(&probe, ("127.0.0.1", port)).unwrap();
    wait_until(n + 1);
    // Values that waited for room in a full queue go out on the server's next wake-up
    // (every 25 ms at most); give the audio thread time to drain them.
    std::thread::sleep(Duration::from_millis(300));
    let b = blocks.load(Ordering::Acquire);
    while blocks.load(Ordering::Acquire) < b + 4 {
        std::thread::sleep(Duration::from_millis(1));
    }
    done.store(true, Ordering::Release);
    let (rep, _link, engine) = audio.join().expect("the audio thread did not panic");

    let c = monitor.counts();
    println!(
        "{n} datagrams ({:.1} MB) in {:.2} s: {:.0} datagrams/s handled; {} audio blocks \
         rendered meanwhile ({:.1} s of audio), peak {:.3}; counters {c:?}",
        total_bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        blocks_during,
        blocks_during as f64 * BLOCK as f64 / SR as f64,
        rep.peak
    );
    // Every datagram reached the server and was handled.
    assert_eq!(c.datagrams, n + 1, "{c:?}");
    assert_eq!(c.handled, n + 1, "{c:?}");
    // Every datagram and every message inside one is accounted for, each the way it must be.
    assert_eq!(
        c.malformed, want.malformed,
        "malformed: {c:?} want {want:?}"
    );
    assert_eq!(
        c.bad_args, want.bad_args,
        "bad arguments: {c:?} want {want:?}"
    );
    assert_eq!(
        c.out_of_range, want.out_of_range,
        "out of range: {c:?} want {want:?}"
    );
    assert_eq!(c.unknown, want.unknown, "unknown: {c:?} want {want:?}");
    assert_eq!(
        c.accepted,
        want.accepted + 1,
        "accepted: {c:?} want {want:?}"
    );
    assert_eq!(c.refused_sender, 0);
    assert!(want.malformed > n / 3 && want.accepted > n / 4, "{want:?}");
    // The audio kept flowing and stayed clean.
    assert_eq!(rep.non_finite, 0, "NaN/Inf samples");
    assert_eq!(rep.subnormal, 0, "subnormal samples");
    assert!(rep.peak > 0.0 && rep.peak <= 1.0, "peak {}", rep.peak);
    assert!(
        blocks_during >= 100,
        "only {blocks_during} blocks rendered during the flood"
    );
    // Accepted values reached the engine (coalesced when its queue was full), the last one too.
    assert!(engine.light().events_applied() > 0);
    assert_eq!(engine.light().look().expect("a look").intensity, 0.123);
}

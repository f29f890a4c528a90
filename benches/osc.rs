//! `cargo bench --bench osc`: the OSC light input, measured over real UDP on 127.0.0.1 with the
//! plugin's own plumbing (`OscServer` -> `LightLink` -> `Engine`) and an audio loop paced in
//! real time (256-sample blocks at 48 kHz, 5.33 ms each). Figures only; nothing here passes or
//! fails.
//!
//! 1. Arrival-to-audio latency in blocks: the sender stamps each `/light/intensity` value with
//!    the audio block counter at send time; the audio loop notes the block in which the engine
//!    shows that value.
//! 2. Sustained rate: bursts at increasing message rates; loss = sent - applied by the engine.
//!
//! Run:
//!
//!     cargo bench --bench osc            # default: 2 s per rate
//!     cargo bench --bench osc -- 5       # 5 s per rate

use mood_noir::engine::{Engine, HostTransport, MoodSource, Settings};
use mood_noir::light::osc::OscConfig;
use mood_noir::light::{LightLink, LightSettings, Monitor};
use mood_noir::watched::Watched;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SR: f32 = 48_000.0;
const BLOCK: usize = 256;

struct Rig {
    link: LightLink,
    engine: Engine,
    port: u16,
    monitor: Arc<Monitor>,
}

fn rig() -> Rig {
    let config = Watched::new(OscConfig {
        port: 0,
        ..OscConfig::default()
    });
    let monitor = Arc::new(Monitor::new());
    let (link, _) = LightLink::start(config, Watched::new(None), monitor.clone());
    let port = link.port().expect("bound");
    let mut engine = Engine::new(
        SR,
        Settings {
            source: MoodSource::Light,
            ..Settings::default()
        },
    );
    engine.set_light_settings(LightSettings {
        smooth_s: 0.0,
        ..Default::default()
    });
    Rig {
        link,
        engine,
        port,
        monitor,
    }
}

fn msg(addr: &str, v: f32) -> Vec<u8> {
    rosc::encoder::encode(&rosc::OscPacket::Message(rosc::OscMessage {
        addr: addr.into(),
        args: vec![rosc::OscType::Float(v)],
    }))
    .unwrap()
}

/// Runs the paced audio loop for `seconds`, calling `each(engine, block)` after every block.
fn audio_loop(r: &mut Rig, seconds: f64, blocks: &AtomicU64, mut each: impl FnMut(&Engine, u64)) {
    let period = Duration::from_secs_f64(BLOCK as f64 / SR as f64);
    let n = (seconds * SR as f64 / BLOCK as f64) as u64;
    let (mut l, mut rr) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    let start = Instant::now();
    for b in 0..n {
        blocks.store(b, SeqCst);
        r.link.drain_into(&mut r.engine);
        r.engine.process(&HostTransport::default(), &mut l, &mut rr);
        each(&r.engine, b);
        let due = start + period * (b as u32 + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

fn latency(seconds: f64) {
    let mut r = rig();
    let port = r.port;
    let blocks = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    // (value, block at send)
    let sent: Arc<Mutex<Vec<(f32, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    let sender = {
        let (blocks, done, sent) = (blocks.clone(), done.clone(), sent.clone());
        std::thread::spawn(move || {
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut k = 1u32;
            let mut rng = 0x1234_5678u32;
            while !done.load(SeqCst) {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                // Distinct values, sent at irregular moments (3-23 ms apart).
                let v = (k % 1000) as f32 / 1000.0 + 0.0005;
                let b = blocks.load(SeqCst);
                tx.send_to(&msg("/light/intensity", v), ("127.0.0.1", port))
                    .unwrap();
                sent.lock().unwrap().push((v, b));
                k += 1;
                std::thread::sleep(Duration::from_micros(3000 + (rng % 20000) as u64));
            }
        })
    };
    let mut seen: Vec<(f32, u64)> = Vec::new();
    let mut last = None;
    audio_loop(&mut r, seconds, &blocks, |e, b| {
        // Control ticks run at the block start, right after the drain.
        if let Some(i) = e.light().look().map(|l| l.intensity) {
            if last != Some(i) {
                last = Some(i);
                seen.push((i, b));
            }
        }
    });
    done.store(true, SeqCst);
    sender.join().unwrap();
    let sent = sent.lock().unwrap();
    let mut lat: Vec<u64> = Vec::new();
    for (v, b_sent) in sent.iter() {
        if let Some((_, b_seen)) = seen.iter().find(|(x, _)| x == v) {
            lat.push(b_seen - b_sent);
        }
    }
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    let hist = |k: u64| lat.iter().filter(|&&x| x == k).count();
    println!(
        "latency over {} messages (block = {BLOCK} samples = {:.2} ms): median {} blocks, p99 {}, max {}; \
         0 blocks {} / 1 block {} / 2+ blocks {}",
        lat.len(),
        BLOCK as f64 / SR as f64 * 1e3,
        pct(0.5),
        pct(0.99),
        lat.last().unwrap(),
        hist(0),
        hist(1),
        lat.iter().filter(|&&x| x >= 2).count()
    );
    println!(
        "  (a value sent during block b is applied at the start of block b+1: latency 1 means \
         'within one block of arrival'; {} of {} sent were seen, the rest overwritten within a block)",
        lat.len(),
        sent.len()
    );
}

fn rate(seconds: f64, per_s: u64) -> (u64, u64, u64) {
    let mut r = rig();
    let port = r.port;
    let blocks = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let sender = {
        let sent = sent.clone();
        std::thread::spawn(move || {
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let bytes = msg("/light/flicker", 0.5);
            let start = Instant::now();
            let total = (per_s as f64 * seconds) as u64;
            // Send in 1 ms slices.
            let per_ms = (per_s / 1000).max(1);
            let mut k = 0;
            while k < total {
                let due = start + Duration::from_micros(k * 1000 / per_ms);
                if let Some(w) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(w);
                }
                for _ in 0..per_ms.min(total - k) {
                    tx.send_to(&bytes, ("127.0.0.1", port)).unwrap();
                    k += 1;
                }
            }
            sent.store(k, SeqCst);
        })
    };
    audio_loop(&mut r, seconds + 0.5, &blocks, |_, _| {});
    sender.join().unwrap();
    let applied = r.engine.light().events_applied();
    let c = r.monitor.counts();
    (sent.load(SeqCst), applied, c.queue_full)
}

fn main() {
    let seconds: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2.0);
    latency(seconds.max(2.0) * 2.0);
    println!(
        "sustained rate ({seconds} s per rate, audio loop draining at most 256 events per block):"
    );
    let mut best = 0;
    for per_s in [1_000, 5_000, 10_000, 20_000, 40_000, 80_000] {
        let (sent, applied, full) = rate(seconds, per_s);
        let lost = sent.saturating_sub(applied);
        println!(
            "  {per_s:>6} msg/s: sent {sent}, applied {applied}, lost {lost} ({:.3} %), queue full {full}",
            100.0 * lost as f64 / sent.max(1) as f64
        );
        if lost == 0 {
            best = per_s;
        }
    }
    println!("highest tested rate without loss: {best} msg/s");
}

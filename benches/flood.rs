//! `cargo bench --bench flood`: 10^6 datagrams of the fuzz corpus (`tests/common/flood.rs`:
//! good values, garbage, NaN, nesting 1,000 deep, near-64 KiB bundles) sent over real UDP on
//! 127.0.0.1 to a live light input whose events an engine drains and renders on its own thread.
//! Two runs: flat out (the sender never waits, so the kernel drops what the server cannot
//! take) and paced (at most 128 KiB in flight, counting ~1 KiB of kernel bookkeeping a datagram). Prints datagrams/s handled and dropped; nothing
//! passes or fails here (the test `osc_flood` asserts the accounting at 10^5).
//!
//!     cargo bench --bench flood               # 1,000,000 datagrams per run
//!     cargo bench --bench flood -- 200000     # fewer

#[path = "../tests/common/flood.rs"]
mod flood;

use mood_noir::engine::{Engine, HostTransport, MoodSource, Settings};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn run(n: u64, paced: bool) {
    let (monitor, mut link, port) = flood::server();
    let mut engine = Engine::new(
        48_000.0,
        Settings {
            source: MoodSource::Light,
            ..Settings::default()
        },
    );
    let done = Arc::new(AtomicBool::new(false));
    let audio = {
        let done = done.clone();
        std::thread::spawn(move || {
            let (mut l, mut r) = ([0.0f32; 256], [0.0f32; 256]);
            let mut bad = 0u64;
            while !done.load(Ordering::Acquire) {
                link.drain_into(&mut engine);
                engine.process(&HostTransport::default(), &mut l, &mut r);
                bad += l.iter().chain(&r).filter(|x| !x.is_finite()).count() as u64;
                std::thread::yield_now();
            }
            bad
        })
    };
    // The corpus is built first so the sender measures sending, not building.
    let mut rng = flood::Rng::new(0x6e6f6972);
    let corpus: Vec<Vec<u8>> = (0..n.min(50_000))
        .map(|_| flood::datagram(&mut rng).0)
        .collect();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let handled = || monitor.counts.handled.load(Ordering::Acquire);
    let mut window = flood::Window::default();
    let mut bytes = 0usize;
    let start = Instant::now();
    for i in 0..n {
        let d = &corpus[(i % corpus.len() as u64) as usize];
        if paced {
            while !window.fits(handled(), d.len()) {
                std::thread::yield_now();
            }
            window.sent(i, d.len());
        }
        let _ = tx.send_to(d, ("127.0.0.1", port));
        bytes += d.len();
    }
    let sent_in = start.elapsed();
    // Let the server finish what reached it.
    let mut last = u64::MAX;
    while handled() != last {
        last = handled();
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = start.elapsed() - Duration::from_millis(100);
    done.store(true, Ordering::Release);
    let non_finite = audio.join().unwrap();
    let c = monitor.counts();
    println!(
        "{:>6}: {n} datagrams ({:.0} MB) sent in {:.2} s; handled {} ({:.0}/s), dropped before \
         the server {} ({:.2}%); malformed {} unknown {} bad-args {} out-of-range {} accepted \
         {} superseded {}; NaN samples {non_finite}",
        if paced { "paced" } else { "flat" },
        bytes as f64 / 1e6,
        sent_in.as_secs_f64(),
        c.handled,
        c.handled as f64 / took.as_secs_f64(),
        n - c.datagrams.min(n),
        100.0 * (n - c.datagrams.min(n)) as f64 / n as f64,
        c.malformed,
        c.unknown,
        c.bad_args,
        c.out_of_range,
        c.accepted,
        c.queue_full,
    );
}

fn main() {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<u64>().ok())
        .unwrap_or(1_000_000);
    run(n, false);
    run(n, true);
}

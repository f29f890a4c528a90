//! `cargo bench --bench engine`: the whole engine's real-time factor at 48 kHz stereo and its
//! block-time distribution at 64-sample blocks (worst, p99.9, p99, median), over moods from
//! ballad to chase, and each score style. Figures only; nothing here passes or fails.

use mood_noir::engine::{Engine, HostTransport, Settings, StyleId, TempoMode};
use mood_noir::mood::Mood;
use std::time::Instant;

const SR: f32 = 48_000.0;

fn run(name: &str, mood: Mood, style: StyleId, seconds: f64, block: usize) {
    let settings = Settings {
        mood,
        style: style.into(),
        tempo_mode: TempoMode::Mood,
        ..Settings::default()
    };
    let mut engine = Engine::new(SR, settings);
    let host = HostTransport::default();
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    // Warm-up: 2 s, not measured.
    for _ in 0..(2.0 * SR as f64 / block as f64) as usize {
        engine.process(&host, &mut l, &mut r);
    }
    let blocks = (seconds * SR as f64 / block as f64) as usize;
    let mut times = Vec::with_capacity(blocks);
    let start = Instant::now();
    for _ in 0..blocks {
        let t = Instant::now();
        engine.process(&host, &mut l, &mut r);
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box((&l, &r));
    }
    let wall = start.elapsed().as_secs_f64();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize] * 1e6;
    let budget_us = block as f64 / SR as f64 * 1e6;
    println!(
        "{name:<10} {:<9} block {block:>4}: real-time factor {:>6.1}x | block time us: median {:>6.1}  p99 {:>6.1}  p99.9 {:>6.1}  worst {:>7.1}  (budget {budget_us:.0})",
        style.id(),
        blocks as f64 * block as f64 / SR as f64 / wall,
        pct(0.5),
        pct(0.99),
        pct(0.999),
        times.last().unwrap() * 1e6,
    );
}

fn main() {
    // `cargo bench` passes "--bench"; a number sets the seconds per case.
    let seconds = std::env::args()
        .filter_map(|a| a.parse::<f64>().ok())
        .next()
        .unwrap_or(30.0);
    println!("Mood Noir engine, 48 kHz stereo, {seconds} s of music per case");
    let cases = [
        (
            "ballad",
            Mood {
                valence: -0.5,
                arousal: 0.15,
                tension: 0.3,
            },
        ),
        ("neutral", Mood::NEUTRAL),
        (
            "chase",
            Mood {
                valence: -0.5,
                arousal: 0.95,
                tension: 0.9,
            },
        ),
    ];
    for style in StyleId::ALL {
        for (name, mood) in cases {
            run(name, mood, style, seconds, 64);
        }
    }
    run("neutral", Mood::NEUTRAL, StyleId::Combo, seconds, 512);
}

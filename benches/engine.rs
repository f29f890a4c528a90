//! `cargo bench --bench engine`: what the band costs, printed as the figures issue 13 asks
//! for (never asserted: timing on a shared machine is for people to read, not for CI to gate).
//!
//! 1. The reference: a plain fundsp patch (16 saw voices through Moog filters into
//!    `reverb_stereo`) measured in the same run, so ratios survive a noisy machine.
//! 2. Every style at three moods (ballad, neutral, chase): real-time factor at 48 kHz stereo
//!    in 64-sample blocks, block-time percentiles, and the ratio to the reference.
//! 3. The program: ten minutes of music with mood sweeps, style switches every 40 s, quantized
//!    transitions, stingers and a blackout: p50 / p99 / p99.9 / max and a histogram of the
//!    64-sample block times against the 1333 us deadline.
//! 4. Cost follows what plays: a blackout, the band with all but the bass muted, against the
//!    full band.
//! 5. Instances: how many engines run in 50 % of one core at 64-sample blocks with no missed
//!    deadline (a VoiceMark-style capacity figure), and the plugin's instantiate + activate
//!    time and resident memory per instance through its CLAP entry.
//!
//! ```text
//! cargo bench --bench engine                 # 20 s per case, the 10-minute program
//! cargo bench --bench engine -- 5 quick      # 5 s per case, a 2-minute program
//! cargo bench --bench engine -- portable     # the engine's kernels without AVX2
//! ```

#[path = "../tests/common/clap_host/mod.rs"]
mod clap_host;

use fundsp::prelude32::*;
use mood_noir::engine::{Engine, HostTransport, Levels, Settings, StyleId, StylePick, TempoMode};
use mood_noir::mood::Mood;
use std::time::Instant;

const SR: f32 = 48_000.0;
const BLOCK: usize = 64;
/// One 64-sample block's deadline at 48 kHz, microseconds.
const DEADLINE_US: f64 = BLOCK as f64 / SR as f64 * 1e6;

/// Block-time statistics of one run.
struct Run {
    /// Seconds of audio per second of wall time.
    rtf: f64,
    /// Sorted block times, microseconds.
    times: Vec<f64>,
    /// Where the slowest block started, seconds into the run.
    worst_at_s: f64,
}

impl Run {
    fn pct(&self, p: f64) -> f64 {
        self.times[((self.times.len() - 1) as f64 * p).round() as usize]
    }
    fn max(&self) -> f64 {
        *self.times.last().unwrap_or(&0.0)
    }
    fn line(&self) -> String {
        format!(
            "RTF {:>7.1}x | block us: p50 {:>6.1}  p99 {:>6.1}  p99.9 {:>6.1}  max {:>7.1}",
            self.rtf,
            self.pct(0.5),
            self.pct(0.99),
            self.pct(0.999),
            self.max()
        )
    }
}

/// Times `blocks` calls of `f` (one 64-sample block each).
fn time_blocks(blocks: usize, mut f: impl FnMut(usize)) -> Run {
    let mut times = Vec::with_capacity(blocks);
    let start = Instant::now();
    for k in 0..blocks {
        let t = Instant::now();
        f(k);
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let wall = start.elapsed().as_secs_f64();
    let worst = (0..times.len()).max_by(|&a, &b| times[a].total_cmp(&times[b]));
    let worst_at_s = worst.unwrap_or(0) as f64 * BLOCK as f64 / SR as f64;
    times.sort_by(|a, b| a.total_cmp(b));
    Run {
        worst_at_s,
        rtf: blocks as f64 * BLOCK as f64 / SR as f64 / wall,
        times,
    }
}

/// The reference patch: 16 band-limited saws (a two-octave spread) through resonant Moog
/// ladders, summed, into fundsp's stereo reverb.
fn reference_patch() -> Box<dyn AudioUnit> {
    let voices = busi::<U16, _, _>(|i| {
        let f = 55.0 * 2.0f32.powf(i as f32 / 8.0);
        (saw_hz(f) >> moog_hz(400.0 + 150.0 * i as f32, 0.6)) * 0.06
    });
    let mut patch: Box<dyn AudioUnit> =
        Box::new(voices >> split::<U2>() >> reverb_stereo(10.0, 1.3, 0.6));
    patch.set_sample_rate(SR as f64);
    patch.allocate();
    patch
}

fn run_reference(seconds: f64) -> Run {
    let mut patch = reference_patch();
    let mut out = BufferArray::<U2>::new();
    let input = BufferRef::empty();
    for _ in 0..(SR as usize / BLOCK) {
        patch.process(BLOCK, &input, &mut out.buffer_mut());
    }
    let blocks = (seconds * SR as f64 / BLOCK as f64) as usize;
    time_blocks(blocks, |_| {
        patch.process(BLOCK, &input, &mut out.buffer_mut());
        std::hint::black_box(out.channel_f32(0)[0]);
    })
}

fn settings(mood: Mood, style: StylePick) -> Settings {
    Settings {
        mood,
        style,
        tempo_mode: TempoMode::Mood,
        ..Settings::default()
    }
}

/// The engine with `s` for `seconds` after a 2 s warm-up.
fn run_engine(s: Settings, seconds: f64) -> Run {
    let mut engine = Engine::new(SR, s);
    let host = HostTransport::default();
    let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    for _ in 0..(2.0 * SR as f64 / BLOCK as f64) as usize {
        engine.process(&host, &mut l, &mut r);
    }
    let blocks = (seconds * SR as f64 / BLOCK as f64) as usize;
    time_blocks(blocks, |_| {
        engine.process(&host, &mut l, &mut r);
        std::hint::black_box((&l, &r));
    })
}

const BALLAD: Mood = Mood {
    valence: -0.5,
    arousal: 0.15,
    tension: 0.3,
};
const CHASE: Mood = Mood {
    valence: -0.5,
    arousal: 0.95,
    tension: 0.9,
};

/// Ten minutes (or `seconds`) of a session: the mood sweeps (three incommensurate sines), the
/// style changes every 40 s (through every style, then Auto), quantize changes, a stinger every
/// 13 s and a 20 s blackout in the middle.
fn run_program(seconds: f64) -> Run {
    let mut s = settings(Mood::NEUTRAL, StylePick::Fixed(StyleId::Combo));
    s.stinger_cooldown_s = 0.0;
    let mut engine = Engine::new(SR, s);
    let host = HostTransport::default();
    let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    let blocks = (seconds * SR as f64 / BLOCK as f64) as usize;
    let picks: Vec<StylePick> = StyleId::ALL
        .iter()
        .map(|&x| StylePick::Fixed(x))
        .chain([StylePick::Auto])
        .collect();
    let quantize = [
        mood_noir::engine::Quantize::Bar,
        mood_noir::engine::Quantize::Beat,
        mood_noir::engine::Quantize::TwoBars,
    ];
    let half = seconds / 2.0;
    time_blocks(blocks, |k| {
        let t = k as f64 * BLOCK as f64 / SR as f64;
        if k % 75 == 0 {
            // Automation at 10 Hz.
            s.mood = Mood {
                valence: (0.8 * (t * 0.031).sin()) as f32,
                arousal: (0.5 + 0.45 * (t * 0.047).sin()) as f32,
                tension: (0.5 + 0.45 * (t * 0.023 + 1.0).sin()) as f32,
            };
            s.style = picks[(t / 40.0) as usize % picks.len()];
            s.quantize = quantize[(t / 55.0) as usize % quantize.len()];
            s.scene_intensity = (t > half && t < half + 20.0).then_some(0.0);
            engine.set_settings(&s);
        }
        if k % ((13.0 * SR as f64) as usize / BLOCK) == 0 {
            engine.trigger_hit(1.0);
        }
        engine.process(&host, &mut l, &mut r);
        std::hint::black_box((&l, &r));
    })
}

/// A log-spaced histogram of block times (us).
fn histogram(run: &Run) -> String {
    let edges = [
        10.0,
        20.0,
        40.0,
        80.0,
        133.0,
        250.0,
        500.0,
        DEADLINE_US,
        f64::INFINITY,
    ];
    let mut counts = [0usize; 9];
    for &t in &run.times {
        let i = edges.iter().position(|&e| t < e).unwrap_or(8);
        counts[i] += 1;
    }
    let total = Ord::max(run.times.len(), 1) as f64;
    let mut out = String::new();
    let mut lo = 0.0;
    for (i, &e) in edges.iter().enumerate() {
        let share = counts[i] as f64 / total;
        let bar = "#".repeat((share * 60.0).ceil() as usize);
        let hi = if e.is_finite() {
            format!("{e:.0}")
        } else {
            "inf".into()
        };
        out.push_str(&format!(
            "    {lo:>6.0}..{hi:<6} us {:>8} {:>7.3}%  {bar}\n",
            counts[i],
            share * 100.0
        ));
        lo = e;
    }
    out
}

/// The most engines that render 64-sample blocks round-robin within half of one block's
/// deadline, every round, for `seconds` of audio (VoiceMark-style: no missed deadline).
fn instance_mark(seconds: f64) -> (usize, f64) {
    let fits = |n: usize| -> (bool, f64) {
        let mut engines: Vec<Engine> = (0..n)
            .map(|i| {
                let style = StyleId::ALL[i % StyleId::ALL.len()];
                let mut s = settings(Mood::NEUTRAL, style.into());
                s.seed = i as u32;
                Engine::new(SR, s)
            })
            .collect();
        let host = HostTransport::default();
        let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
        for _ in 0..(SR as usize / BLOCK) {
            for e in engines.iter_mut() {
                e.process(&host, &mut l, &mut r);
            }
        }
        let rounds = (seconds * SR as f64 / BLOCK as f64) as usize;
        let mut worst: f64 = 0.0;
        for _ in 0..rounds {
            let t = Instant::now();
            for e in engines.iter_mut() {
                e.process(&host, &mut l, &mut r);
            }
            let us = t.elapsed().as_secs_f64() * 1e6;
            worst = worst.max(us);
            if us > DEADLINE_US * 0.5 {
                return (false, us);
            }
        }
        (true, worst)
    };
    let mut n = 1;
    let mut last_ok = (0, 0.0);
    loop {
        let (ok, worst) = fits(n);
        if !ok {
            break;
        }
        last_ok = (n, worst);
        n = if n < 4 { n + 1 } else { n + n / 4 };
        if n > 4096 {
            break;
        }
    }
    // Step back up one at a time from the last size that fitted.
    let mut k = last_ok.0 + 1;
    while k < n {
        let (ok, worst) = fits(k);
        if !ok {
            break;
        }
        last_ok = (k, worst);
        k += 1;
    }
    last_ok
}

/// Resident set size of this process, kB.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

/// Instantiate + activate through the CLAP entry (median and worst of `n`), and the resident
/// memory each of 16 activated, processing instances adds.
fn plugin_instances(n: usize) -> (f64, f64, f64) {
    use clap_host::Plugin;
    let id = c"com.mood-noir.mood-noir";
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let mut p = Plugin::create(&mood_noir::clap_entry, id);
        assert!(p.activate(SR as f64, 1, 4096));
        times.push(t.elapsed().as_secs_f64() * 1e3);
        drop(p);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let before = rss_kb();
    let plugins: Vec<Plugin> = (0..16)
        .map(|_| {
            let mut p = Plugin::create(&mood_noir::clap_entry, id);
            assert!(p.activate(SR as f64, 1, 4096));
            p
        })
        .collect();
    let after = rss_kb();
    drop(plugins);
    (
        times[times.len() / 2],
        *times.last().unwrap(),
        (after.saturating_sub(before)) as f64 / 16.0 / 1024.0,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args
        .iter()
        .filter_map(|a| a.parse::<f64>().ok())
        .next()
        .unwrap_or(20.0);
    let quick = args.iter().any(|a| a == "quick");
    // `portable`: the engine's kernels as SSE2 only, as on a CPU without AVX2 (the plugin
    // instances of part 5 load their own copy of the engine and choose for themselves).
    if args.iter().any(|a| a == "portable") {
        mood_noir::dsp::simd::force_portable(true);
    }
    println!(
        "Mood Noir engine, 48 kHz stereo, {BLOCK}-sample blocks (deadline {DEADLINE_US:.0} us), {seconds} s per case, kernels: {}",
        if mood_noir::dsp::simd::avx2() { "AVX2" } else { "portable" }
    );

    println!("\n1. Reference: 16 saws -> Moog -> reverb_stereo (fundsp)");
    let reference = run_reference(seconds);
    println!("   reference            {}", reference.line());

    println!("\n2. The band, per style and mood (ratio: RTF over the reference's)");
    let mut worst_ratio = f64::INFINITY;
    for style in StyleId::ALL {
        for (name, mood) in [
            ("ballad", BALLAD),
            ("neutral", Mood::NEUTRAL),
            ("chase", CHASE),
        ] {
            let run = run_engine(settings(mood, style.into()), seconds);
            let ratio = run.rtf / reference.rtf;
            worst_ratio = worst_ratio.min(ratio);
            println!(
                "   {:<11} {name:<8} {}  ratio {ratio:>5.2}",
                style.id(),
                run.line()
            );
        }
    }
    println!("   lowest ratio to the reference: {worst_ratio:.2} (target >= 4.5; whole band target >= 100x)");

    let program_s = if quick { 120.0 } else { 600.0 };
    println!("\n3. The program: {program_s:.0} s with mood sweeps, style switches, transitions, stingers, a blackout");
    let program = run_program(program_s);
    println!("   program              {}", program.line());
    println!(
        "   p99.9 is {:.1} % of the deadline (target <= 10 %); the slowest block at {:.2} s",
        program.pct(0.999) / DEADLINE_US * 100.0,
        program.worst_at_s
    );
    print!("{}", histogram(&program));

    println!("\n4. Cost follows what plays (neutral mood, combo)");
    let full = run_engine(settings(Mood::NEUTRAL, StyleId::Combo.into()), seconds);
    let mut dark = settings(Mood::NEUTRAL, StyleId::Combo.into());
    dark.scene_intensity = Some(0.0);
    let blackout = run_engine(dark, seconds);
    let mut bass_only = settings(Mood::NEUTRAL, StyleId::Combo.into());
    bass_only.levels = Levels {
        drums_db: -80.0,
        keys_db: -80.0,
        lead_db: -80.0,
        pad_db: -80.0,
        ambience_db: -80.0,
        ..Levels::default()
    };
    let muted = run_engine(bass_only, seconds);
    for (name, run) in [
        ("full band", &full),
        ("blackout", &blackout),
        ("bass only (rest muted)", &muted),
    ] {
        println!(
            "   {name:<24} {}  cost {:>5.1} % of the full band's",
            run.line(),
            full.rtf / run.rtf * 100.0
        );
    }

    println!("\n5. Instances");
    let (n, worst) = instance_mark(if quick { 2.0 } else { 5.0 });
    println!(
        "   instance mark: {n} engines in 50 % of one core at {BLOCK}-sample blocks (worst round {worst:.0} us of {:.0} us allowed)",
        DEADLINE_US * 0.5
    );
    let (median_ms, worst_ms, rss_mb) = plugin_instances(if quick { 5 } else { 20 });
    println!(
        "   CLAP instantiate + activate: median {median_ms:.1} ms, worst {worst_ms:.1} ms (target <= 50 ms)"
    );
    println!("   resident memory per activated instance: {rss_mb:.1} MB (target <= 10 MB)");
}

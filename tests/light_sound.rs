//! The light colours the sound (issue 10, item 5): brighter light raises the band's register
//! and timbral brightness, darker light lowers them, the rain follows the darkness without
//! brightening the mix, and a blackout is the light going out (at or below 2 %), not a dim
//! scene. Measured on the engine's own output: the mean pitch of the notes it plays and the
//! spectral centroid of the band (ambience muted) or of the ambience alone.

use mood_noir::composer::events::EventKind;
use mood_noir::composer::BLACKOUT_INTENSITY;
use mood_noir::engine::settings::SILENT_DB;
use mood_noir::engine::{Engine, HostTransport, Levels, Settings, TempoMode};
use mood_noir::mood::Mood;
use realfft::RealFftPlanner;

const SR: f32 = 48_000.0;

fn scene(intensity: f32, levels: Levels) -> Settings {
    Settings {
        mood: Mood {
            valence: -0.2,
            arousal: 0.55,
            tension: 0.45,
        },
        tempo_mode: TempoMode::Fixed,
        fixed_tempo_bpm: 120.0,
        scene_intensity: Some(intensity),
        levels,
        ..Settings::default()
    }
}

struct Heard {
    mono: Vec<f32>,
    /// MIDI notes of the pitched parts (bass, keys, lead), each with its onset beat.
    notes: Vec<(f64, u8, &'static str)>,
}

fn play(s: Settings, seconds: f32) -> Heard {
    let mut e = Engine::new(SR, s);
    let n = (seconds * SR) as usize;
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    let mut heard = Heard {
        mono: Vec::with_capacity(n),
        notes: Vec::new(),
    };
    let mut done = 0;
    while done < n {
        e.process(&HostTransport::default(), &mut l, &mut r);
        heard
            .mono
            .extend(l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)));
        for p in e.played_events() {
            let (note, part) = match p.event.kind {
                EventKind::BassOn { note, .. } => (note, "bass"),
                EventKind::KeysOn { note, .. } => (note, "keys"),
                EventKind::LeadOn { note, .. } => (note, "lead"),
                _ => continue,
            };
            heard.notes.push((p.event.beat, note, part));
        }
        done += 512;
    }
    heard
}

/// Spectral centroid (Hz) over 4096-sample Hann frames past the first `skip_s` seconds.
fn centroid(x: &[f32], skip_s: f32) -> f64 {
    let n = 4096;
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut spec = fft.make_output_vec();
    let (mut num, mut den) = (0.0f64, 0.0f64);
    let start = (skip_s * SR) as usize;
    let mut i = start;
    while i + n <= x.len() {
        let mut frame: Vec<f32> = x[i..i + n]
            .iter()
            .enumerate()
            .map(|(k, &v)| v * (0.5 - 0.5 * (std::f32::consts::TAU * k as f32 / n as f32).cos()))
            .collect();
        fft.process(&mut frame, &mut spec).unwrap();
        for (k, c) in spec.iter().enumerate() {
            let p = c.norm_sqr() as f64;
            num += p * k as f64 * SR as f64 / n as f64;
            den += p;
        }
        i += n;
    }
    num / den.max(1e-30)
}

fn mean_pitch(h: &Heard, part: Option<&str>) -> f64 {
    let v: Vec<f64> = h
        .notes
        .iter()
        .filter(|(beat, _, p)| *beat >= 16.0 && part.is_none_or(|want| want == *p))
        .map(|&(_, n, _)| n as f64)
        .collect();
    assert!(!v.is_empty(), "no notes of {part:?}");
    v.iter().sum::<f64>() / v.len() as f64
}

fn band_only() -> Levels {
    Levels {
        ambience_db: SILENT_DB,
        ..Levels::default()
    }
}

#[test]
fn brighter_light_plays_higher_and_brighter() {
    let dark = play(scene(0.12, band_only()), 48.0);
    let bright = play(scene(0.92, band_only()), 48.0);
    let (pd, pb) = (mean_pitch(&dark, None), mean_pitch(&bright, None));
    let (kd, kb) = (
        mean_pitch(&dark, Some("keys")),
        mean_pitch(&bright, Some("keys")),
    );
    let (cd, cb) = (centroid(&dark.mono, 8.0), centroid(&bright.mono, 8.0));
    println!(
        "dark (12 %): mean pitch {pd:.1} (keys {kd:.1}), centroid {cd:.0} Hz; \
         bright (92 %): mean pitch {pb:.1} (keys {kb:.1}), centroid {cb:.0} Hz"
    );
    assert!(pb > pd + 1.5, "register: {pd:.1} -> {pb:.1}");
    assert!(kb > kd + 2.0, "keys register: {kd:.1} -> {kb:.1}");
    assert!(cb > cd * 1.08, "brightness: {cd:.0} -> {cb:.0} Hz");
}

#[test]
fn the_dark_scene_with_its_rain_is_darker_than_the_bright_one() {
    // The whole mix, rain and room included: a dark scene has more rain, but a darker one
    // (lower droplets, a lower cutoff), so it never sounds brighter than a bright scene.
    let dark = play(scene(0.1, Levels::default()), 40.0);
    let bright = play(scene(0.9, Levels::default()), 40.0);
    let (cd, cb) = (centroid(&dark.mono, 8.0), centroid(&bright.mono, 8.0));
    let rms = |x: &[f32]| (x.iter().map(|v| (v * v) as f64).sum::<f64>() / x.len() as f64).sqrt();
    println!(
        "full mix: dark (10 %) centroid {cd:.0} Hz rms {:.4}; bright (90 %) centroid {cb:.0} Hz \
         rms {:.4}",
        rms(&dark.mono),
        rms(&bright.mono)
    );
    assert!(cd < cb * 0.95, "dark {cd:.0} Hz vs bright {cb:.0} Hz");
}

#[test]
fn a_blackout_needs_the_light_out_not_a_dim_scene() {
    const { assert!(BLACKOUT_INTENSITY <= 0.021) };
    let parts = |h: &Heard| {
        let mut p: Vec<&str> = h
            .notes
            .iter()
            .filter(|n| n.0 >= 16.0)
            .map(|n| n.2)
            .collect();
        p.sort();
        p.dedup();
        p
    };
    // A night scene dimmed to 5 % keeps its band.
    let dim = play(scene(0.05, Levels::default()), 40.0);
    assert!(parts(&dim).contains(&"keys"), "dim: {:?}", parts(&dim));
    // The light out: only the bass is left.
    let out = play(scene(0.015, Levels::default()), 40.0);
    assert_eq!(parts(&out), vec!["bass"]);
}

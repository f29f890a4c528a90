//! The "Light sidechain" input in the real engine (Mood source = Sidechain): in Analyze mode
//! loud, bright sine bursts against quiet low hum move the mood and fire hits; in CV mode DC
//! levels (left = intensity, right = colour temperature) set the light.

use mood_noir::engine::{Engine, HostTransport, MoodSource, Settings, TempoMode};
use mood_noir::light::{LightSettings, SidechainMode};
use mood_noir::mood::Mood;

const SR: f32 = 48_000.0;
const BLOCK: usize = 256;

fn engine(mode: SidechainMode) -> Engine {
    let mut e = Engine::new(
        SR,
        Settings {
            source: MoodSource::Sidechain,
            follow: 1.0,
            tempo_mode: TempoMode::Mood,
            ..Settings::default()
        },
    );
    e.set_light_settings(LightSettings {
        smooth_s: 0.3,
        sc_mode: mode,
    });
    e
}

/// Runs `seconds` with the sidechain signal `sc(sample) -> (l, r)`; returns the light mood
/// and the main output's RMS.
fn run(e: &mut Engine, seconds: f32, sc: impl Fn(usize) -> (f32, f32)) -> (Mood, f64) {
    let n = (seconds * SR) as usize;
    let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    let (mut sl, mut sr) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    let mut sum = 0.0f64;
    let mut i = 0;
    while i < n {
        for k in 0..BLOCK {
            (sl[k], sr[k]) = sc(i + k);
        }
        e.process_sidechain(&sl, &sr);
        e.process(&HostTransport::default(), &mut l, &mut r);
        sum += l.iter().map(|x| (*x as f64).powi(2)).sum::<f64>();
        i += BLOCK;
    }
    (e.light().mood().unwrap(), (sum / n as f64).sqrt())
}

fn sine(i: usize, hz: f32, amp: f32) -> f32 {
    amp * (2.0 * std::f32::consts::PI * hz * i as f32 / SR).sin()
}

#[test]
fn analyze_mode_hears_loudness_brightness_and_onsets() {
    let mut calm = engine(SidechainMode::Analyze);
    let (calm_mood, _) = run(&mut calm, 6.0, |i| {
        let x = sine(i, 110.0, 0.02);
        (x, x)
    });
    let mut hot = engine(SidechainMode::Analyze);
    // 3 kHz bursts at -6 dBFS, 100 ms on every 400 ms: onsets, flux, brightness, loudness.
    let (hot_mood, _) = run(&mut hot, 6.0, |i| {
        let on = (i % 19200) < 4800;
        let x = if on {
            sine(i, 3000.0, 0.5) + sine(i, 5100.0, 0.2)
        } else {
            0.0
        };
        (x, x)
    });
    println!(
        "calm {calm_mood:?}, hot {hot_mood:?}, hot onsets {}, features {:?}",
        hot.light().sidechain().onsets(),
        hot.light().sidechain().features()
    );
    assert!(hot_mood.arousal > calm_mood.arousal + 0.2);
    assert!(hot_mood.tension > calm_mood.tension);
    assert!(hot.light().sidechain().onsets() >= 10);
    assert!(
        hot.light().hits() >= 10,
        "onsets become lighting hits (stingers)"
    );
    assert_eq!(calm.light().hits(), 0);
    // The engine mood follows the sidechain's.
    assert!(hot.mood().arousal > calm.mood().arousal + 0.1);
}

#[test]
fn cv_mode_reads_dc_as_intensity_and_colour_temperature() {
    let mut bright_warm = engine(SidechainMode::Cv);
    let (bw, _) = run(&mut bright_warm, 3.0, |_| (0.9, 0.1));
    assert!((bright_warm.light_intensity().unwrap() - 0.9).abs() < 0.01);
    let cct = bright_warm.light().look().unwrap().cct_k;
    // 0.1 of 2000..10000 K = 2800 K.
    assert!((cct - 2800.0).abs() < 20.0, "{cct}");
    let mut dark_cold = engine(SidechainMode::Cv);
    let (dc, _) = run(&mut dark_cold, 3.0, |_| (0.1, 1.0));
    assert!((dark_cold.light_intensity().unwrap() - 0.1).abs() < 0.01);
    assert!(dc.valence < bw.valence - 0.5, "{bw:?} {dc:?}");
    assert!(dc.tension > bw.tension + 0.2, "{bw:?} {dc:?}");
}

#[test]
fn the_sidechain_is_ignored_unless_it_is_the_source() {
    let mut e = engine(SidechainMode::Cv);
    e.set_settings(&Settings {
        source: MoodSource::Light,
        ..*e.settings()
    });
    let n = (SR as usize) / BLOCK;
    let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    for _ in 0..n {
        e.process_sidechain(&[0.5; BLOCK], &[0.5; BLOCK]);
        e.process(&HostTransport::default(), &mut l, &mut r);
    }
    assert_eq!(e.light().mood(), None);
    assert_eq!(e.light_intensity(), None);
}

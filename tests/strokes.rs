//! Brushes are strokes (issue 10, item 1): a sweep has a start and an end — it swells in,
//! moves, and lifts off to silence — and the groove has no continuous bed of brush noise
//! under the strokes (which reads as electronic percussion).

use mood_noir::composer::events::EventKind;
use mood_noir::engine::{Engine, HostTransport, Settings, TempoMode};
use mood_noir::mood::Mood;
use mood_noir::voices::{DrumHit, Drums};

const SR: f32 = 48_000.0;

/// RMS per 10 ms window.
fn envelope(x: &[f32]) -> Vec<f32> {
    x.chunks(480)
        .map(|c| (c.iter().map(|v| v * v).sum::<f32>() / c.len() as f32).sqrt())
        .collect()
}

#[test]
fn a_brush_sweep_has_a_start_and_an_end() {
    let mut d = Drums::new(SR);
    let n = (1.6 * SR) as usize;
    let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
    for (i, (cl, cr)) in l.chunks_mut(256).zip(r.chunks_mut(256)).enumerate() {
        if i == 0 || i * 256 == n / 2 {
            d.hit(DrumHit::BrushSweep { length_s: 0.5 }, 0.8);
        }
        d.render(cl, cr);
    }
    let env = envelope(&l);
    let peak = env.iter().cloned().fold(0.0f32, f32::max);
    let db = |x: f32| 20.0 * (x / peak).max(1e-9).log10();
    // Windows of 10 ms: the stroke rises over its first fifth, holds, lifts off by 0.5 s.
    let start = db(env[0]);
    let body = db(env[20]);
    let after = db(*env[56..78].iter().max_by(|a, b| a.total_cmp(b)).unwrap());
    println!("sweep: first 10 ms {start:.1} dB, at 200 ms {body:.1} dB, 560-780 ms {after:.1} dB");
    assert!(
        start < body - 6.0,
        "it swells in: {start:.1} vs {body:.1} dB"
    );
    assert!(body > -10.0, "the stroke sounds: {body:.1} dB");
    assert!(after < -40.0, "it lifts off to silence: {after:.1} dB");
    // The second stroke starts again from the start.
    assert!(db(env[80 + 20]) > -10.0);
    // Grainy, not a smooth swell: the bristles' friction moves the level window to window.
    let body_env = &env[15..40];
    let mean = body_env.iter().sum::<f32>() / body_env.len() as f32;
    let var = body_env.iter().map(|e| (e - mean).powi(2)).sum::<f32>() / body_env.len() as f32;
    assert!(
        var.sqrt() / mean > 0.05,
        "friction grain {:.3}",
        var.sqrt() / mean
    );
}

#[test]
fn the_brush_groove_has_no_continuous_stir() {
    let mut e = Engine::new(
        SR,
        Settings {
            // A brushes mood (the ride takes over only when the band is hot).
            mood: Mood {
                valence: -0.3,
                arousal: 0.4,
                tension: 0.4,
            },
            tempo_mode: TempoMode::Fixed,
            fixed_tempo_bpm: 100.0,
            ..Settings::default()
        },
    );
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    let (mut sweeps, mut stir) = (0, 0.0f32);
    while e.beat_position() < 48.0 {
        e.process(&HostTransport::default(), &mut l, &mut r);
        for p in e.played_events() {
            match p.event.kind {
                EventKind::Drum {
                    hit: DrumHit::BrushSweep { .. },
                    ..
                } => sweeps += 1,
                EventKind::Swirl { level, .. } => stir = stir.max(level),
                _ => {}
            }
        }
    }
    assert!(sweeps >= 10, "{sweeps} sweeps");
    assert_eq!(stir, 0.0, "a continuous stir under the strokes");
}

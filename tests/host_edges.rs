//! Host edge cases in the real engine (issue 9, item 3): every sample rate from 1 kHz to
//! 768 kHz, block sizes from 1 to 16384 changing every call, zero-length blocks, a transport
//! that is missing, jumps, loops, runs backwards or goes negative, and a host block rendered in
//! pieces (the plugin's mono path). The output is always finite, free of subnormals and under
//! 0 dBFS, and audible from 22.05 kHz up.

use mood_noir::dsp::Rng;
use mood_noir::engine::{Engine, HostTransport, Settings, TempoMode};
use mood_noir::mood::Mood;

fn check(x: &[f32], what: &str) {
    for (i, &v) in x.iter().enumerate() {
        assert!(v.is_finite(), "{what}: sample {i} is {v}");
        assert!(
            v == 0.0 || v.abs() >= f32::MIN_POSITIVE,
            "{what}: subnormal {v:e} at {i}"
        );
        assert!(v.abs() < 1.0, "{what}: {v} at {i}");
    }
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// Plays `seconds` at `sr` with block sizes drawn from 0..=16384 (zero-length blocks included)
/// and a host transport that sometimes is missing, stops, jumps, loops or goes backwards.
fn play_rough(sr: f32, seconds: f64, seed: u64) -> (Vec<f32>, u64) {
    let mut e = Engine::new(
        sr,
        Settings {
            tempo_mode: TempoMode::Host,
            mood: Mood {
                valence: -0.2,
                arousal: 0.6,
                tension: 0.5,
            },
            ..Settings::default()
        },
    );
    let mut rng = Rng::new(seed);
    let total = (seconds * sr as f64) as usize;
    let mut out = Vec::with_capacity(total);
    let mut l = vec![0.0f32; 16384];
    let mut r = vec![0.0f32; 16384];
    let mut pos: i64 = -(sr as i64); // a one-second pre-roll
    let mut done = 0;
    let tempo = 132.0;
    while done < total {
        let n = match rng.range(0.0, 1.0) {
            x if x < 0.05 => 0,
            x if x < 0.3 => 1 + (rng.range(0.0, 8.0) as usize),
            x if x < 0.9 => 1 + (rng.range(0.0, 1024.0) as usize),
            _ => 1 + (rng.range(0.0, 16383.0) as usize),
        }
        .min(total - done);
        let host = match rng.range(0.0, 1.0) {
            x if x < 0.02 => HostTransport::default(),
            x if x < 0.04 => HostTransport {
                playing: false,
                tempo_bpm: Some(tempo),
                ..HostTransport::default()
            },
            x => {
                if x > 0.995 {
                    // A loop back, a jump ahead, or the host running backwards.
                    // (Never back into the pre-roll, where silence is right.)
                    let d =
                        [-(sr as i64) * 4, sr as i64 * 7, -(n as i64) * 2][(x * 1e4) as usize % 3];
                    pos = (pos + d).max(pos.min(0));
                }
                HostTransport {
                    playing: true,
                    tempo_bpm: Some(tempo),
                    pos_beats: Some(pos as f64 / sr as f64 * tempo / 60.0),
                    pos_samples: Some(pos),
                }
            }
        };
        e.process(&host, &mut l[..n], &mut r[..n]);
        check(&l[..n], "left");
        check(&r[..n], "right");
        out.extend_from_slice(&l[..n]);
        pos += n as i64;
        done += n;
    }
    assert_eq!(e.dropped_events(), 0);
    (out, e.events_played())
}

#[test]
fn every_rate_from_1_khz_to_768_khz_is_clean_and_audible_from_22_khz() {
    for (sr, seconds) in [
        (1_000.0, 30.0),
        (8_000.0, 20.0),
        (22_050.0, 20.0),
        (44_100.0, 20.0),
        (48_000.0, 20.0),
        (96_000.0, 10.0),
        (192_000.0, 6.0),
        (384_000.0, 4.0),
        (768_000.0, 3.0),
    ] {
        let (out, events) = play_rough(sr, seconds, sr as u64);
        let level = rms(&out[out.len() / 3..]);
        println!(
            "{sr} Hz: rms {:.1} dBFS, {events} notes",
            20.0 * level.max(1e-12).log10()
        );
        if sr >= 22_050.0 {
            assert!(level > 1e-3, "{sr} Hz: inaudible ({level:e})");
            assert!(events > 5, "{sr} Hz: the band does not play");
        }
    }
}

#[test]
fn a_host_block_rendered_in_pieces_is_steady_music_not_relocations() {
    let sr = 48_000.0;
    let settings = Settings {
        tempo_mode: TempoMode::Host,
        ..Settings::default()
    };
    // What the plugin's mono path does: one host block rendered in 64-sample chunks, each told
    // where it is.
    let mut pieces = Engine::new(sr, settings);
    let mut whole = Engine::new(sr, settings);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut pos = 0i64;
    for _ in 0..200 {
        let n = 512;
        let host = HostTransport {
            playing: true,
            tempo_bpm: Some(120.0),
            pos_beats: Some(pos as f64 / sr as f64 * 2.0),
            pos_samples: Some(pos),
        };
        let mut i = 0;
        let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
        while i < n {
            let k = (n - i).min(64);
            pieces.process(&host.advanced(i, sr), &mut l[i..i + k], &mut r[i..i + k]);
            i += k;
        }
        a.extend_from_slice(&l);
        let (mut l2, mut r2) = (vec![0.0; n], vec![0.0; n]);
        whole.process(&host, &mut l2, &mut r2);
        b.extend_from_slice(&l2);
        pos += n as i64;
    }
    assert_eq!(pieces.jumps(), 1, "chunks were taken for jumps");
    assert!(a == b, "pieces and whole blocks must play the same");
}

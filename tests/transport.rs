//! Timeline and transport regressions (issue 14, items 1-3): a host's pre-roll and tempi
//! outside the band's range lock without relocating every block; a burst of lighting hits
//! never runs the plan ahead; the first render after a settings change plays those settings.

use mood_noir::composer::events::EventKind;
use mood_noir::engine::{Engine, HostTransport, Settings, StingerTiming, TempoMode};
use mood_noir::mood::Mood;
use mood_noir::voices::DrumHit;

const SR: f32 = 48_000.0;

fn host_settings() -> Settings {
    Settings {
        tempo_mode: TempoMode::Host,
        ..Settings::default()
    }
}

/// One block of a playing host at sample `pos` (may be negative) and `tempo`.
fn host_block(e: &mut Engine, pos: i64, tempo: f64, n: usize) -> Vec<f32> {
    let host = HostTransport {
        playing: true,
        tempo_bpm: Some(tempo),
        pos_beats: Some(pos as f64 / SR as f64 * tempo / 60.0),
        pos_samples: Some(pos),
    };
    let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
    e.process(&host, &mut l, &mut r);
    l
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[test]
fn pre_roll_plays_silence_and_locks_cleanly_at_zero() {
    let tempo = 120.0;
    let mut e = Engine::new(SR, host_settings());
    // Two bars of count-in: the host starts at -4 s.
    let start = -(4.0 * SR as f64) as i64;
    let n = 512;
    let mut pos = start;
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut first_beat_marks = Vec::new();
    while pos < (6.0 * SR as f64) as i64 {
        let out = host_block(&mut e, pos, tempo, n);
        for m in e.beat_marks() {
            first_beat_marks.push((pos + m.offset as i64, m.beat));
        }
        if pos + (n as i64) <= 0 {
            before.extend(out);
        } else if pos >= 0 {
            after.extend(out);
        }
        pos += n as i64;
    }
    assert_eq!(
        e.jumps(),
        1,
        "the pre-roll must not relocate the band every block"
    );
    assert!(
        rms(&before) < 1e-4,
        "silence before zero, got rms {}",
        rms(&before)
    );
    assert!(rms(&after) > 1e-3, "the band plays after zero");
    // Beat 0 starts exactly at timeline sample 0; beat 4 exactly two seconds later.
    let (at0, b0) = first_beat_marks[0];
    assert_eq!((at0, b0), (0, 0));
    let b4 = first_beat_marks.iter().find(|m| m.1 == 4).unwrap();
    assert_eq!(b4.0, (2.0 * SR as f64) as i64);
}

#[test]
fn host_tempi_outside_the_band_range_follow_without_relocating() {
    for tempo in [7.5, 12.0, 480.0, 999.0, 3000.0] {
        let mut e = Engine::new(SR, host_settings());
        let mut pos = 0;
        // 20 s: at least ten beats at the slowest folded tempo.
        for _ in 0..2000 {
            host_block(&mut e, pos, tempo, 480);
            pos += 480;
        }
        assert_eq!(e.jumps(), 1, "tempo {tempo}: relocated {} times", e.jumps());
        let t = e.tempo_bpm();
        assert!((20.0..=400.0).contains(&t), "tempo {tempo} played at {t}");
        // Halved or doubled exactly: the band's beats are the host's beats times a power of 2.
        let ratio = t / tempo;
        assert!(
            (ratio.log2() - ratio.log2().round()).abs() < 1e-9,
            "{tempo} -> {t}"
        );
        assert!(e.events_played() > 10, "tempo {tempo}: the band must play");
    }
}

#[test]
fn a_burst_of_hits_plays_one_stinger_per_beat_and_never_runs_ahead() {
    for timing in [StingerTiming::NextBeat, StingerTiming::Immediate] {
        // No cooldown: the beat spacing alone limits the stingers.
        let s = Settings {
            tempo_mode: TempoMode::Fixed,
            fixed_tempo_bpm: 120.0,
            stinger: timing,
            stinger_cooldown_s: 0.0,
            ..Settings::default()
        };
        let mut e = Engine::new(SR, s);
        let host = HostTransport::default();
        let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 64]);
        let mut crashes = Vec::new();
        // A strobe: a hit in every 64-sample block for 20 s (15,000 hits).
        for _ in 0..15_000 {
            e.trigger_hit(1.0);
            e.process(&host, &mut l, &mut r);
            for p in e.played_events() {
                if let EventKind::Drum {
                    hit: DrumHit::Crash,
                    ..
                } = p.event.kind
                {
                    crashes.push(p.event.beat);
                }
            }
        }
        assert_eq!(
            e.dropped_events(),
            0,
            "{timing:?}: the event queue overflowed"
        );
        // 20 s at 120 BPM = 40 beats: at most one stinger per beat.
        assert!(
            (20..=41).contains(&crashes.len()),
            "{timing:?}: {} stingers",
            crashes.len()
        );
        assert!(crashes.windows(2).all(|w| w[1] - w[0] >= 1.0 - 1e-9));
        // The beat marks keep coming (the plan is not ahead of the playhead).
        let mut marks = 0;
        for _ in 0..800 {
            e.process(&host, &mut l, &mut r);
            marks += e.beat_marks().len();
        }
        assert!(marks >= 1, "{timing:?}: beat marks stopped");
    }
}

/// Renders `seconds` from a fresh engine built with `built`, told `set` before the first block.
fn render_after_change(built: Settings, set: Settings, seconds: f32) -> Vec<f32> {
    let mut e = Engine::new(SR, built);
    e.reset();
    let host = HostTransport::default();
    let total = (seconds * SR) as usize;
    let mut out = Vec::with_capacity(total);
    let (mut l, mut r) = (vec![0.0; 480], vec![0.0; 480]);
    while out.len() < total {
        e.set_settings(&set);
        e.process(&host, &mut l, &mut r);
        out.extend_from_slice(&l);
    }
    out
}

#[test]
fn the_first_render_after_a_change_plays_the_new_settings() {
    let old = Settings {
        tempo_mode: TempoMode::Mood,
        ..Settings::default()
    };
    let changes = [
        Settings { seed: 7, ..old },
        Settings {
            mood: Mood {
                valence: -0.8,
                arousal: 0.7,
                tension: 0.9,
            },
            ..old
        },
        Settings {
            tempo_mode: TempoMode::Fixed,
            fixed_tempo_bpm: 150.0,
            ..old
        },
    ];
    for new in changes {
        let changed = render_after_change(old, new, 6.0);
        let fresh = render_after_change(new, new, 6.0);
        let diff = changed.iter().zip(&fresh).position(|(a, b)| a != b);
        assert_eq!(diff, None, "{new:?}: differs from a fresh render");
    }
}

/// Crash beats of the stingers a strobe fires: a hit in every 64-sample block for `seconds`.
fn strobe_stingers(cooldown_s: f32, seconds: f32) -> Vec<f64> {
    let s = Settings {
        tempo_mode: TempoMode::Fixed,
        fixed_tempo_bpm: 120.0,
        stinger_cooldown_s: cooldown_s,
        ..Settings::default()
    };
    let mut e = Engine::new(SR, s);
    let host = HostTransport::default();
    let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 64]);
    let mut crashes = Vec::new();
    let blocks = (seconds * SR / 64.0) as usize;
    for k in 0..blocks + 200 {
        if k < blocks {
            e.trigger_hit(1.0);
        }
        e.process(&host, &mut l, &mut r);
        for p in e.played_events() {
            if let EventKind::Drum {
                hit: DrumHit::Crash,
                ..
            } = p.event.kind
            {
                crashes.push(p.event.beat);
            }
        }
    }
    crashes
}

#[test]
fn the_stinger_cooldown_turns_a_strobe_burst_into_one_stinger() {
    // A 1.5 s strobe with the default 2 s cooldown: one stinger.
    assert_eq!(strobe_stingers(2.0, 1.5).len(), 1);
    // 20 s of strobe with a 2 s cooldown at 120 BPM: a stinger every 4 beats (2 s), the
    // first at once: 10 (one more if the last lands on the 20 s edge).
    let c = strobe_stingers(2.0, 20.0);
    assert!((10..=11).contains(&c.len()), "{} stingers: {c:?}", c.len());
    assert!(c.windows(2).all(|w| w[1] - w[0] >= 4.0 - 1e-6), "{c:?}");
    // Without a cooldown the same strobe fires one a beat.
    assert!(strobe_stingers(0.0, 20.0).len() >= 35);
}

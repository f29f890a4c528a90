//! Orchestration that leaves space (issue 10, item 3): the strings are a section that enters
//! for dread, on section changes and under the horn's long notes, and rests otherwise — never
//! a bed under every chord, and silent when the mood is calm.

use mood_noir::composer::events::EventKind;
use mood_noir::composer::{Section, STRINGS};
use mood_noir::engine::{Engine, HostTransport, Settings, TempoMode};
use mood_noir::mood::Mood;

const SR: f32 = 48_000.0;

/// Bars (from 0) in which the strings are given a chord, over `bars` bars at 120 BPM.
fn string_bars(mood: Mood, bars: u64, seed: u32) -> Vec<u64> {
    let mut e = Engine::new(
        SR,
        Settings {
            mood,
            seed,
            tempo_mode: TempoMode::Fixed,
            fixed_tempo_bpm: 120.0,
            ..Settings::default()
        },
    );
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    let mut out = Vec::new();
    while e.beat_position() < (bars * 4) as f64 {
        e.process(&HostTransport::default(), &mut l, &mut r);
        for p in e.played_events() {
            if let EventKind::PadChord { len, .. } = p.event.kind {
                if len > 0 {
                    out.push((p.event.beat / 4.0).floor() as u64);
                }
            }
        }
    }
    out.dedup();
    out
}

#[test]
fn strings_rest_when_the_mood_is_calm() {
    let calm = Mood {
        valence: 0.2,
        arousal: 0.3,
        tension: 0.15,
    };
    for seed in [1, 7, 42] {
        let bars = string_bars(calm, 40, seed);
        assert!(bars.is_empty(), "seed {seed}: strings in bars {bars:?}");
    }
}

#[test]
fn strings_play_through_dread() {
    let dread = Mood {
        valence: -0.7,
        arousal: 0.5,
        tension: 0.85,
    };
    let bars = string_bars(dread, 24, 3);
    assert!(bars.len() >= 5, "strings in bars {bars:?}");
    assert!(
        bars.contains(&0) && bars.iter().any(|&b| b > 12),
        "{bars:?}"
    );
}

#[test]
fn in_between_the_strings_mark_the_section_changes_and_rest_otherwise() {
    let uneasy = Mood {
        valence: -0.2,
        arousal: 0.65,
        tension: 0.4,
    };
    assert!(uneasy.tension < STRINGS.dread_tension && uneasy.tension >= STRINGS.entry_tension);
    let bars = string_bars(uneasy, 40, 5);
    println!("strings in bars {bars:?}");
    // Every bar with strings is within the first bars of a section; every section change
    // after the intro has them.
    let entry = |bar: u64| {
        let s = Section::of_bar(bar);
        s != Section::Intro
            && (1..=STRINGS.entry_bars).any(|k| bar < k || Section::of_bar(bar - k) != s)
    };
    for &b in &bars {
        assert!(entry(b), "strings in bar {b}, not a section change");
    }
    for bar in 4..40u64 {
        if entry(bar) && Section::of_bar(bar - 1) != Section::of_bar(bar) {
            assert!(
                bars.contains(&bar),
                "no strings at the section change in bar {bar}"
            );
        }
    }
    assert!(bars.len() < 40 / 3, "strings in {} of 40 bars", bars.len());
}

//! Score styles (issue 11): each style's rules read from the composer's events, and style
//! switches landing on phrase boundaries with the drummer handing over.

use mood_noir::composer::events::{Event, EventKind};
use mood_noir::composer::harmony::{Chord, Form, Quality};
use mood_noir::composer::{BeatContext, Composer, KeysVoice, StyleId};
use mood_noir::engine::{Engine, HostTransport, Settings, TempoMode};
use mood_noir::mood::Mood;
use mood_noir::voices::DrumHit;

const SMOKY: Mood = Mood {
    valence: -0.25,
    arousal: 0.4,
    tension: 0.3,
};

fn ctx(mood: Mood, style: StyleId) -> BeatContext {
    BeatContext {
        mood,
        tempo_bpm: 100.0,
        swing: 0.8,
        quantize_beats: 4,
        intensity: None,
        keys: KeysVoice::Auto,
        style: style.into(),
    }
}

/// Plans `beats` beats with the style `style_at(beat)`; returns every event and, per bar,
/// its first chord, the style playing and the form.
fn play(
    seed: u64,
    mood: Mood,
    beats: u64,
    style_at: impl Fn(u64) -> StyleId,
) -> (Vec<Event>, Vec<(Chord, StyleId, Form)>) {
    let mut c = Composer::new(seed);
    let mut events = Vec::new();
    let mut bars = Vec::new();
    for beat in 0..beats {
        c.plan_beat(beat, &ctx(mood, style_at(beat)));
        if beat % 4 == 0 {
            let chord = c.chord_at(beat);
            bars.push((chord, c.now.style, c.now.form));
        }
        while let Some(e) = c.queue.pop_due(beat as f64 + 0.999) {
            events.push(e);
        }
    }
    (events, bars)
}

#[test]
fn elevator_holds_a_modal_vamp_for_at_least_eight_bars() {
    for seed in [0, 3, 11] {
        for mood in [
            SMOKY,
            Mood {
                valence: -0.7,
                arousal: 0.7,
                tension: 0.8,
            },
        ] {
            let (_, bars) = play(seed, mood, 4 * 64, |_| StyleId::Elevator);
            // Runs of bars on one chord: every run (but the last, cut off by the render) is at
            // least 8 bars long, and the chords are minor sevenths (Dorian vamps).
            let mut runs = vec![(bars[0].0, 0usize)];
            for (chord, style, form) in &bars {
                assert_eq!(*style, StyleId::Elevator);
                assert!(
                    matches!(form, Form::DorianVamp | Form::DorianLift),
                    "{form:?}"
                );
                assert_eq!(chord.quality, Quality::Min7, "{chord:?}");
                if runs.last().unwrap().0 == *chord {
                    runs.last_mut().unwrap().1 += 1;
                } else {
                    runs.push((*chord, 1));
                }
            }
            assert!(runs.len() >= 3, "the vamp lifts for the bridge: {runs:?}");
            for (chord, n) in &runs[..runs.len() - 1] {
                assert!(
                    *n >= 8,
                    "seed {seed}: {chord:?} for only {n} bars: {runs:?}"
                );
            }
        }
    }
}

#[test]
fn combo_changes_chords_within_eight_bars() {
    // The control: the combo's functional harmony moves at least every two bars.
    let (_, bars) = play(3, SMOKY, 4 * 16, |_| StyleId::Combo);
    let mut distinct: Vec<Chord> = Vec::new();
    for (chord, _, _) in &bars {
        if !distinct.contains(chord) {
            distinct.push(*chord);
        }
    }
    assert!(distinct.len() >= 4, "{distinct:?}");
}

#[test]
fn elevator_bass_plays_its_ostinato_every_bar() {
    let (events, bars) = play(5, SMOKY, 4 * 24, |_| StyleId::Elevator);
    // Per bar: the bass notes in order (their shape: intervals above the bar's first note).
    let mut per_bar: Vec<Vec<i32>> = vec![Vec::new(); bars.len()];
    for e in &events {
        if let EventKind::BassOn { note, .. } = e.kind {
            let bar = (e.beat / 4.0).floor() as usize;
            per_bar[bar].push(note as i32);
        }
    }
    let shape = |notes: &Vec<i32>| notes.iter().map(|n| n - notes[0]).collect::<Vec<_>>();
    let first = shape(&per_bar[0]);
    assert_eq!(first.len(), 4, "{per_bar:?}");
    assert_eq!(first, vec![0, 7, 12, 10]);
    for (bar, notes) in per_bar.iter().enumerate() {
        assert_eq!(shape(notes), first, "bar {bar}: {notes:?}");
    }
    // The walking combo bass does not repeat one figure bar after bar.
    let (events, _) = play(5, SMOKY, 4 * 8, |_| StyleId::Combo);
    let walk: Vec<_> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::BassOn { note, .. } => Some(note),
            _ => None,
        })
        .collect();
    assert!(
        walk.windows(4)
            .step_by(4)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 2
    );
}

#[test]
fn elevator_lead_is_the_muted_trumpet_with_space() {
    let mut c = Composer::new(2);
    c.plan_beat(0, &ctx(SMOKY, StyleId::Elevator));
    assert_eq!(c.horn_character(SMOKY), 1.0);
    let mut combo = Composer::new(2);
    combo.plan_beat(0, &ctx(SMOKY, StyleId::Combo));
    assert!(combo.horn_character(SMOKY) < 0.2);
    // Space: the horn plays fewer notes than the combo's over the same bars, and no phrase
    // of the trumpet's is busier than 8 beats of 16.
    let lead_notes = |style| {
        let (events, _) = play(2, SMOKY, 4 * 48, move |_| style);
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::LeadOn { .. }))
            .map(|e| e.beat)
            .collect::<Vec<_>>()
    };
    let elevator = lead_notes(StyleId::Elevator);
    let combo = lead_notes(StyleId::Combo);
    assert!(!elevator.is_empty(), "the trumpet plays");
    assert!(
        (elevator.len() as f32) < combo.len() as f32 * 0.8,
        "elevator {} combo {}",
        elevator.len(),
        combo.len()
    );
    for b in &elevator {
        assert!(b.rem_euclid(16.0) < 8.5, "a note at beat {b}");
    }
}

#[test]
fn elevator_keys_are_a_sparse_piano() {
    let keys = |style| {
        let (events, _) = play(4, SMOKY, 4 * 32, move |_| style);
        let ons: Vec<_> = events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::KeysOn { keyboard, .. } => Some(keyboard.is_piano()),
                _ => None,
            })
            .collect();
        ons
    };
    let elevator = keys(StyleId::Elevator);
    let combo = keys(StyleId::Combo);
    assert!(!elevator.is_empty());
    assert!(elevator.iter().all(|&p| p), "the grand, not the Rhodes");
    assert!(
        (elevator.len() as f32) < combo.len() as f32 * 0.75,
        "elevator {} combo {}",
        elevator.len(),
        combo.len()
    );
}

#[test]
fn a_style_switch_lands_on_the_next_phrase_with_a_fill() {
    for switch_at in [21u64, 30, 47, 63, 64] {
        let (events, bars) = play(7, SMOKY, 4 * 40, |beat| {
            if beat >= switch_at {
                StyleId::Elevator
            } else {
                StyleId::Combo
            }
        });
        let first = bars
            .iter()
            .position(|b| b.1 == StyleId::Elevator)
            .expect("the switch happens") as u64;
        let boundary = switch_at.div_ceil(16) * 16;
        assert_eq!(first * 4, boundary, "asked at beat {switch_at}");
        assert!(bars[first as usize..]
            .iter()
            .all(|b| b.1 == StyleId::Elevator));
        // The drummer fills into the new style: brush triplets on the phrase's last beat (a
        // switch asked on the boundary itself lands there at once: that beat was already
        // played).
        if switch_at == boundary {
            continue;
        }
        let fill = events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Drum {
                        hit: DrumHit::BrushTap,
                        ..
                    }
                ) && e.beat >= (boundary - 1) as f64
                    && e.beat < boundary as f64
            })
            .count();
        assert!(
            fill >= 3,
            "asked at {switch_at}: {fill} strokes before {boundary}"
        );
    }
}

#[test]
fn the_engine_plays_the_style_it_is_given_and_renders_it_differently() {
    let render = |style: StyleId| {
        let mut e = Engine::new(
            48_000.0,
            Settings {
                mood: SMOKY,
                tempo_mode: TempoMode::Fixed,
                fixed_tempo_bpm: 100.0,
                style: style.into(),
                ..Settings::default()
            },
        );
        let (mut l, mut r) = (vec![0.0f32; 480], vec![0.0f32; 480]);
        let mut out = Vec::new();
        for _ in 0..(48_000 * 12 / 480) {
            e.process(&HostTransport::default(), &mut l, &mut r);
            out.extend_from_slice(&l);
            assert_eq!(e.now_playing().style, style);
        }
        out
    };
    let a = render(StyleId::Combo);
    let b = render(StyleId::Elevator);
    assert!(a.iter().chain(&b).all(|x| x.is_finite()));
    let diff: f32 = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum();
    assert!(diff > 1.0, "the styles sound different ({diff})");
}

#[test]
fn a_cue_names_a_style_and_the_score_switches_on_the_next_phrase() {
    use mood_noir::engine::MoodSource;
    use mood_noir::light::{CueFormat, CueSheet};
    // 120 BPM: a phrase (16 beats) is 8 s. The cue at 10 s (beat 20) asks for Night cab:
    // the band switches at beat 32, the next phrase, and holds it past the later cue.
    let sheet = CueSheet::parse(
        r#"{"cues": [
            {"at": 0, "intensity": 0.6},
            {"at": 10, "style": "night-cab"},
            {"at": 14, "intensity": 0.4}
        ]}"#,
        CueFormat::Json,
    )
    .unwrap();
    let run = |source: MoodSource| {
        let mut e = Engine::new(
            48_000.0,
            Settings {
                mood: SMOKY,
                source,
                tempo_mode: TempoMode::Fixed,
                fixed_tempo_bpm: 120.0,
                ..Settings::default()
            },
        );
        drop(e.swap_cue_sheet(Some(Box::new(sheet.clone()))));
        let (mut l, mut r) = (vec![0.0f32; 480], vec![0.0f32; 480]);
        let mut styles = Vec::new();
        for _ in 0..(48_000 * 24 / 480) {
            e.process(&HostTransport::default(), &mut l, &mut r);
            styles.push((e.beat_position(), e.now_playing().style));
        }
        styles
    };
    let styles = run(MoodSource::Light);
    let first = styles
        .iter()
        .find(|(_, s)| *s == StyleId::NightCab)
        .expect("the cue switches the style")
        .0;
    assert!(
        (32.0..32.2).contains(&first),
        "night cab from beat {first}, not the phrase at 32"
    );
    assert!(styles
        .iter()
        .filter(|(b, _)| *b >= 32.2)
        .all(|(_, s)| *s == StyleId::NightCab));
    // With the mood source Manual the sheet does not drive the score.
    assert!(run(MoodSource::Manual)
        .iter()
        .all(|(_, s)| *s == StyleId::Combo));
}

//! Score styles (issue 11): each style's rules read from the composer's events, and style
//! switches landing on phrase boundaries with the drummer handing over.

use mood_noir::composer::events::{Event, EventKind, Keyboard};
use mood_noir::composer::harmony::{Chord, Form, Quality};
use mood_noir::composer::{BeatContext, Composer, KeysVoice, StyleId};
use mood_noir::engine::{Engine, HostTransport, Settings, TempoMode};
use mood_noir::mood::Mood;
use mood_noir::voices::{BrassArt, DrumHit, PercHit};

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

const DREAD: Mood = Mood {
    valence: -0.7,
    arousal: 0.5,
    tension: 0.85,
};
const HOT: Mood = Mood {
    valence: 0.0,
    arousal: 0.85,
    tension: 0.4,
};

fn perc_at(events: &[Event], want: PercHit) -> Vec<f64> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Perc { hit, .. } if hit == want => Some(e.beat),
            _ => None,
        })
        .collect()
}

/// Glissandi: runs of at least eight harp strings plucked in one direction within a beat.
fn glissandi(events: &[Event]) -> Vec<f64> {
    let harp: Vec<(f64, u8)> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::HarpOn { note, .. } => Some((e.beat, note)),
            _ => None,
        })
        .collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < harp.len() {
        let mut j = i + 1;
        while j < harp.len()
            && harp[j].0 - harp[i].0 < 1.0
            && (harp[j].1 as i32 - harp[j - 1].1 as i32).signum()
                == (harp[i + 1].1 as i32 - harp[i].1 as i32).signum()
            && harp[j].1 != harp[j - 1].1
        {
            j += 1;
        }
        if j - i >= 8 {
            found.push(harp[i].0);
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

#[test]
fn border_town_percussion_follows_the_son_clave() {
    use mood_noir::composer::SON_CLAVE_3_2;
    for seed in [1, 8] {
        let (events, _) = play(seed, HOT, 4 * 24, |_| StyleId::BorderTown);
        let clave = perc_at(&events, PercHit::Clave);
        // After the intro's first two bars every two-bar cycle plays the 3-2 clave: five
        // strokes on 1, the and of 2, 4 | 2, 3 (humanised by at most a few ms: < 0.01 beat).
        assert!(clave.len() >= 5 * 10, "{} clave strokes", clave.len());
        for b in &clave {
            let pos = b.rem_euclid(8.0);
            assert!(
                SON_CLAVE_3_2.iter().any(|c| (pos - c).abs() < 0.01),
                "clave off the pattern at beat {b} ({pos} in the cycle)"
            );
        }
        // The conga's slap sits on 2 (the tumbao), the open tones on 4; the bongos are on.
        let slaps = perc_at(&events, PercHit::CongaSlap);
        assert!(!slaps.is_empty());
        assert!(slaps.iter().all(|b| (b.rem_euclid(4.0) - 1.0).abs() < 0.01));
        assert!(!perc_at(&events, PercHit::BongoHigh).is_empty());
        // Brass stabs, the honky-tonk piano, no walking bass: straight Latin eighths.
        let stabs = events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::BrassOn {
                        art: BrassArt::Stab,
                        ..
                    }
                )
            })
            .count();
        assert!(stabs > 10, "{stabs} brass stab notes");
        assert!(events.iter().any(|e| matches!(
            e.kind,
            EventKind::KeysOn {
                keyboard: Keyboard::HonkyTonk,
                ..
            }
        )));
    }
}

#[test]
fn night_cab_dread_has_harp_glissandi_snare_and_low_brass_on_its_figure() {
    let (events, bars) = play(4, DREAD, 4 * 24, |_| StyleId::NightCab);
    // The A section (bars 4-19) plays the figure; the bridge (from bar 20) has its own.
    assert!(bars[4..20].iter().all(|b| b.2 == Form::DreadFigure));
    // The figure: two chords a half step apart, alternating bar by bar.
    for w in bars[4..20].windows(2) {
        assert_ne!(w[0].0, w[1].0, "the figure moves every bar");
    }
    let glisses = glissandi(&events);
    assert!(glisses.len() >= 4, "glissandi at {glisses:?}");
    // The snare snaps on the figure's downbeats, with the buzz roll into each.
    let snaps = perc_at(&events, PercHit::SnareSnap);
    assert!(snaps.len() >= 15, "{} snaps", snaps.len());
    assert!(snaps.iter().all(|b| b.rem_euclid(4.0) < 0.01));
    assert!(!perc_at(&events, PercHit::SnareBuzz).is_empty());
    let swells = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::BrassOn {
                    art: BrassArt::Swell { .. },
                    note,
                    ..
                } if note < 60
            )
        })
        .count();
    assert!(swells >= 10, "{swells} low brass swell notes");
    // The ballad (low tension) has neither snare nor brass.
    let (calm, _) = play(4, SMOKY, 4 * 16, |_| StyleId::NightCab);
    assert!(perc_at(&calm, PercHit::SnareSnap).is_empty());
    assert!(!calm
        .iter()
        .any(|e| matches!(e.kind, EventKind::BrassOn { .. })));
}

#[test]
fn reservoir_lead_is_the_open_trumpet_over_strings_with_harp_and_prepared_piano() {
    let reservoir = StyleId::Reservoir.style();
    assert!(reservoir.lead.open && reservoir.lead.trumpet == Some(1.0));
    let mood = Mood {
        valence: -0.3,
        arousal: 0.3,
        tension: 0.45,
    };
    let (events, _) = play(2, mood, 4 * 32, |_| StyleId::Reservoir);
    // Whenever the trumpet starts a note, the strings are holding a chord.
    let mut strings = false;
    let mut lead_notes = 0;
    for e in &events {
        match e.kind {
            EventKind::PadChord { len, .. } => strings = len > 0,
            EventKind::LeadOn { .. } => {
                lead_notes += 1;
                assert!(strings, "the trumpet alone at beat {}", e.beat);
            }
            _ => {}
        }
    }
    assert!(lead_notes > 10, "{lead_notes} trumpet notes");
    // No kit; harp arpeggios and glissandi; the prepared piano.
    assert!(!events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Drum { .. })));
    let harp = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::HarpOn { .. }))
        .count();
    assert!(harp > 30, "{harp} harp notes");
    assert!(!glissandi(&events).is_empty());
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::KeysOn {
            keyboard: Keyboard::Prepared,
            ..
        }
    )));
}

#[test]
fn each_style_has_its_own_stinger() {
    let stinger = |style: StyleId| {
        let mut c = Composer::new(3);
        for beat in 0..40 {
            c.plan_beat(beat, &ctx(SMOKY, style));
            while c.queue.pop_due(beat as f64 + 0.999).is_some() {}
        }
        c.stinger(40.0, 1.0);
        let mut out = Vec::new();
        while let Some(e) = c.queue.pop_due(50.0) {
            if e.beat >= 40.0 && e.beat < 40.1 {
                out.push(e.kind);
            }
        }
        out
    };
    let has = |v: &[EventKind], f: &dyn Fn(&EventKind) -> bool| v.iter().any(f);
    let combo = stinger(StyleId::Combo);
    assert!(has(&combo, &|k| matches!(k, EventKind::LeadOn { .. })));
    let border = stinger(StyleId::BorderTown);
    assert!(has(&border, &|k| matches!(
        k,
        EventKind::BrassOn {
            art: BrassArt::Stab,
            ..
        }
    )));
    assert!(has(&border, &|k| matches!(
        k,
        EventKind::Perc {
            hit: PercHit::TimbaleRim,
            ..
        }
    )));
    let reservoir = stinger(StyleId::Reservoir);
    assert!(has(&reservoir, &|k| matches!(
        k,
        EventKind::Perc {
            hit: PercHit::TamTam,
            ..
        }
    )));
    assert!(has(&reservoir, &|k| matches!(k, EventKind::HarpOn { .. })));
    let cab = stinger(StyleId::NightCab);
    assert!(has(&cab, &|k| matches!(
        k,
        EventKind::Perc {
            hit: PercHit::SnareSnap,
            ..
        }
    )));
    assert!(has(&cab, &|k| matches!(
        k,
        EventKind::BrassOn {
            art: BrassArt::Swell { .. },
            ..
        }
    )));
}

#[test]
fn a_style_without_a_kit_hands_over_with_a_harp_glissando() {
    // Reservoir has no drummer to fill: the harp sweeps into the new style's downbeat.
    let switch_at = 40u64;
    let (events, bars) = play(5, SMOKY, 4 * 20, |beat| {
        if beat >= switch_at {
            StyleId::Combo
        } else {
            StyleId::Reservoir
        }
    });
    let first = bars.iter().position(|b| b.1 == StyleId::Combo).unwrap() as u64;
    assert_eq!(first * 4, 48);
    let g = glissandi(&events);
    assert!(
        g.iter().any(|&b| (47.0..48.0).contains(&b)),
        "no glissando into beat 48: {g:?}"
    );
}

fn render_style(style: StyleId, grain: f32, split: &[usize], seconds: usize) -> Vec<f32> {
    let mut e = Engine::new(
        48_000.0,
        Settings {
            mood: DREAD,
            tempo_mode: TempoMode::Fixed,
            fixed_tempo_bpm: 100.0,
            style: style.into(),
            grain,
            ..Settings::default()
        },
    );
    let total = 48_000 * seconds;
    let mut out = Vec::with_capacity(total * 2);
    let mut k = 0;
    let mut hit = false;
    while out.len() < total * 2 {
        let n = split[k % split.len()].min(total - out.len() / 2);
        k += 1;
        let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
        // A lighting hit somewhere in the third beat (100 BPM: beats every 28800 samples);
        // its stinger lands on the next beat whatever the block split.
        if !hit && out.len() / 2 >= 60_000 {
            hit = true;
            e.trigger_hit(1.0);
        }
        e.process(&HostTransport::default(), &mut l, &mut r);
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
    }
    out
}

#[test]
fn film_styles_with_grain_are_deterministic_and_block_size_independent() {
    for style in [StyleId::BorderTown, StyleId::Reservoir, StyleId::NightCab] {
        let a = render_style(style, 0.6, &[512], 6);
        let b = render_style(style, 0.6, &[7, 64, 333, 1, 129], 6);
        assert!(a.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
        assert!(
            a == b,
            "{style:?}: the block split changed the output (first at {:?})",
            a.iter().zip(&b).position(|(x, y)| x != y)
        );
        assert!(a.iter().any(|x| x.abs() > 1e-3), "{style:?} is silent");
    }
}

#[test]
fn grain_zero_is_the_clean_sound_and_grain_wears_it() {
    let clean = render_style(StyleId::NightCab, 0.0, &[256], 6);
    // Grain 0 with every kind of wear weighted differently is still the clean sound.
    let mut e = Engine::new(
        48_000.0,
        Settings {
            mood: DREAD,
            tempo_mode: TempoMode::Fixed,
            fixed_tempo_bpm: 100.0,
            style: StyleId::NightCab.into(),
            grain: 0.0,
            grain_detail: mood_noir::dsp::grain::GrainDetail {
                wow: 0.2,
                flutter: 0.0,
                saturation: 0.9,
                hiss: 0.5,
                crackle: 0.1,
                optical: 1.0,
                dropouts: 0.3,
            },
            ..Settings::default()
        },
    );
    let mut again = Vec::new();
    let mut hit = false;
    while again.len() < clean.len() {
        let (mut l, mut r) = (vec![0.0f32; 256], vec![0.0f32; 256]);
        if !hit && again.len() / 2 >= 60_000 {
            hit = true;
            e.trigger_hit(1.0);
        }
        e.process(&HostTransport::default(), &mut l, &mut r);
        for i in 0..256 {
            again.push(l[i]);
            again.push(r[i]);
        }
    }
    again.truncate(clean.len());
    assert!(
        clean == again,
        "grain 0 must be bit for bit the clean sound"
    );
    let worn = render_style(StyleId::NightCab, 0.8, &[256], 6);
    let diff = clean
        .iter()
        .zip(&worn)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f32>()
        / clean.iter().map(|a| a * a).sum::<f32>();
    assert!(diff > 1e-3, "grain 0.8 changes the sound ({diff})");
}

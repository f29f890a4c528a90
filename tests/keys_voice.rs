//! The keys player's two instruments (issue 10, item 2): the acoustic grand for calm,
//! unhurried scenes (pedalled through each chord in slow ones), the Rhodes for tense or driving
//! scenes; a scene or the Keys parameter can choose. Checked from the engine's played events,
//! its audio and the MIDI it writes.

use mood_noir::composer::events::{EventKind, Keyboard};
use mood_noir::composer::KEYS_RULE;
use mood_noir::engine::{Engine, HostTransport, KeysVoice, Settings, TempoMode};
use mood_noir::mood::Mood;

const SR: f32 = 48_000.0;

#[derive(Default, Debug)]
struct Keys {
    piano_notes: usize,
    rhodes_notes: usize,
    pedal_downs: usize,
    pedal_ups: usize,
    /// The pedal state after every pedal event, in order.
    pedal_states: Vec<bool>,
    /// Notes struck while the pedal was down / up (piano only).
    piano_pedalled: usize,
}

fn keys(mood: Mood, voice: KeysVoice, bars: u64) -> (Keys, Vec<f32>) {
    let mut e = Engine::new(
        SR,
        Settings {
            mood,
            keys: voice,
            tempo_mode: TempoMode::Fixed,
            fixed_tempo_bpm: 90.0,
            ..Settings::default()
        },
    );
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    let mut k = Keys::default();
    let mut pedal = false;
    let mut audio = Vec::new();
    while e.beat_position() < (bars * 4) as f64 {
        e.process(&HostTransport::default(), &mut l, &mut r);
        audio.extend_from_slice(&l);
        for p in e.played_events() {
            match p.event.kind {
                EventKind::KeysOn { keyboard, .. } if keyboard.is_piano() => {
                    k.piano_notes += 1;
                    if pedal {
                        k.piano_pedalled += 1;
                    }
                }
                EventKind::KeysOn {
                    keyboard: Keyboard::Rhodes,
                    ..
                } => k.rhodes_notes += 1,
                EventKind::KeysPedal { down } => {
                    if down {
                        k.pedal_downs += 1;
                    } else {
                        k.pedal_ups += 1;
                    }
                    pedal = down;
                    k.pedal_states.push(down);
                }
                _ => {}
            }
        }
    }
    (k, audio)
}

const BALLAD: Mood = Mood {
    valence: 0.2,
    arousal: 0.25,
    tension: 0.2,
};
const CHASE: Mood = Mood {
    valence: -0.5,
    arousal: 0.85,
    tension: 0.75,
};

#[test]
fn auto_plays_the_piano_for_a_ballad_and_the_rhodes_for_a_chase() {
    const {
        assert!(BALLAD.tension < KEYS_RULE.piano_tension_below);
        assert!(CHASE.tension > KEYS_RULE.piano_tension_below + KEYS_RULE.margin);
    }
    let (ballad, _) = keys(BALLAD, KeysVoice::Auto, 16);
    assert!(ballad.piano_notes > 20, "{ballad:?}");
    assert_eq!(ballad.rhodes_notes, 0, "{ballad:?}");
    let (chase, _) = keys(CHASE, KeysVoice::Auto, 16);
    assert!(chase.rhodes_notes > 20, "{chase:?}");
    assert_eq!(chase.piano_notes, 0, "{chase:?}");
    assert_eq!(
        chase.pedal_downs, 0,
        "the Rhodes has no pedal here: {chase:?}"
    );
}

#[test]
fn a_chosen_keyboard_wins_over_the_mood() {
    let (k, _) = keys(BALLAD, KeysVoice::Rhodes, 8);
    assert!(k.rhodes_notes > 0 && k.piano_notes == 0, "{k:?}");
    let (k, _) = keys(CHASE, KeysVoice::Piano, 8);
    assert!(k.piano_notes > 0 && k.rhodes_notes == 0, "{k:?}");
    // At tempo the piano is played dry: no pedal.
    const { assert!(CHASE.arousal >= KEYS_RULE.pedal_arousal_below) };
    assert_eq!(k.pedal_downs, 0, "{k:?}");
}

#[test]
fn the_ballad_piano_is_pedalled_chord_by_chord() {
    let (k, audio) = keys(BALLAD, KeysVoice::Piano, 24);
    // Pedal events alternate (never down twice), and it is lifted about as often as pressed.
    assert!(k.pedal_downs >= 8, "{k:?}");
    assert!(
        k.pedal_states.windows(2).all(|w| w[0] != w[1]),
        "pedal events do not alternate: {:?}",
        k.pedal_states
    );
    assert!(k.pedal_ups + 1 >= k.pedal_downs, "{k:?}");
    // Most chords are struck into a caught pedal or just before it catches; at least some
    // sound with the pedal down.
    assert!(k.piano_pedalled > 0, "{k:?}");
    assert!(audio.iter().all(|x| x.is_finite()));
}

#[test]
fn the_keys_stem_sounds_different_on_each_keyboard() {
    // Same notes (same seed and mood), two instruments: the stems differ and both sound.
    let (_, piano) = keys(BALLAD, KeysVoice::Piano, 8);
    let (_, rhodes) = keys(BALLAD, KeysVoice::Rhodes, 8);
    let energy = |x: &[f32]| x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
    let diff: f64 = piano
        .iter()
        .zip(&rhodes)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum();
    assert!(energy(&piano) > 0.0 && energy(&rhodes) > 0.0);
    assert!(diff > 0.05 * energy(&rhodes), "the keyboards sound alike");
}

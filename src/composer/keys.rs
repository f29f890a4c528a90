//! The keys player's rules: which keyboard (Rhodes or grand), comping rhythms and rootless
//! voicings led smoothly, and the grand's sustain pedal. Runs on the audio thread (planned per
//! beat by the `Composer`); no allocation.

use super::style::{Comping, PianoKind};
use super::*;

/// The pedal comes up this long before a chord change (beats) and goes down again this long
/// after it, once the new chord's keys are down (legato pedalling).
const PEDAL_LIFT_BEATS: f64 = 0.04;
const PEDAL_CATCH_BEATS: f64 = 0.12;

/// Which keyboard the keys player plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeysVoice {
    /// The mood chooses at each phrase (`KEYS_RULE`).
    #[default]
    Auto,
    /// The Rhodes electric piano.
    Rhodes,
    /// The acoustic grand piano.
    Piano,
}

/// The instrument a keys event plays: the Rhodes or one of the pianos (the grand, the
/// honky-tonk upright, the prepared grand; one piano voice with per-note preparations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyboard {
    /// The Rhodes electric piano.
    Rhodes,
    /// The concert grand.
    Grand,
    /// The honky-tonk upright.
    HonkyTonk,
    /// The prepared grand.
    Prepared,
}

impl Keyboard {
    /// Whether this is one of the pianos (the sustain pedal, the piano voice).
    pub fn is_piano(self) -> bool {
        self != Keyboard::Rhodes
    }
}

/// When *Auto* keys choose the acoustic piano: the late-night club ballad (calm, unhurried)
/// gets the grand and its pedal; tense or driving scenes get the Rhodes, whose bark and
/// tremolo cut through. Decided at phrase boundaries, with a margin so a mood on the edge
/// does not flip every phrase.
#[derive(Clone, Copy, Debug)]
pub struct KeysRule {
    /// The piano plays while the tension is below this...
    pub piano_tension_below: f32,
    /// ...and the arousal below this.
    pub piano_arousal_below: f32,
    /// Once chosen, an instrument keeps playing until the mood is this far past the line.
    pub margin: f32,
    /// The piano's player pedals through each chord (lifting at the change) below this
    /// arousal; above it the chords are dry, as comping at tempo is.
    pub pedal_arousal_below: f32,
}

/// The keys' instrument choice (tunable by a composer; see `KeysRule`).
pub const KEYS_RULE: KeysRule = KeysRule {
    piano_tension_below: 0.45,
    piano_arousal_below: 0.55,
    margin: 0.08,
    pedal_arousal_below: 0.45,
};

impl KeysVoice {
    /// Whether the piano plays, given the mood and what played in the last phrase.
    pub fn plays_piano(self, m: Mood, was_piano: bool) -> bool {
        match self {
            KeysVoice::Rhodes => false,
            KeysVoice::Piano => true,
            KeysVoice::Auto => {
                let r = KEYS_RULE;
                let slack = if was_piano { r.margin } else { 0.0 };
                m.tension < r.piano_tension_below + slack
                    && m.arousal < r.piano_arousal_below + slack
            }
        }
    }
}

/// A comping rhythm: (start beat in bar, held beats); starts at x.5 are swung off-beats.
type Comp = &'static [(f64, f64)];
const COMP_SPARSE: [Comp; 4] = [
    &[(0.0, 3.6)],
    &[(0.0, 1.8), (2.0, 1.7)],
    &[(1.5, 2.3)],
    &[(0.0, 2.6), (3.5, 0.4)],
];
const COMP_MEDIUM: [Comp; 5] = [
    &[(0.0, 1.3), (1.5, 0.4)],
    &[(1.5, 0.8), (3.5, 0.4)],
    &[(0.0, 0.6), (2.5, 1.2)],
    &[(0.5, 0.4), (2.0, 1.2)],
    &[(1.5, 0.3), (2.5, 1.3)],
];
const COMP_BUSY: [Comp; 4] = [
    &[(0.0, 0.3), (1.5, 0.3), (2.5, 0.3), (3.5, 0.4)],
    &[(0.5, 0.3), (1.5, 0.3), (3.0, 0.8)],
    &[(0.0, 0.4), (1.0, 0.3), (2.5, 0.4), (3.5, 0.4)],
    &[(0.0, 0.6), (1.5, 0.4), (3.0, 0.3), (3.5, 0.4)],
];

/// The montuno's two bars: (start beat in the bar, chord tone index into
/// `Quality::bass_tones` (root, third, fifth, seventh), taken on the next bar's chord).
const MONTUNO: [&[(f64, usize, bool)]; 2] = [
    &[
        (0.0, 2, false),
        (0.5, 1, false),
        (1.5, 0, false),
        (2.0, 2, false),
        (2.5, 1, false),
        (3.5, 1, true),
    ],
    &[
        (0.5, 2, false),
        (1.0, 0, false),
        (1.5, 1, false),
        (2.5, 2, false),
        (3.0, 1, false),
        (3.5, 0, true),
    ],
];

impl Composer {
    /// The keyboard the keys player is at: the Rhodes, or the style's piano.
    pub(super) fn keyboard(&self) -> Keyboard {
        if !self.piano {
            return Keyboard::Rhodes;
        }
        match self.style.keys.piano {
            PianoKind::Grand => Keyboard::Grand,
            PianoKind::HonkyTonk => Keyboard::HonkyTonk,
            PianoKind::Prepared => Keyboard::Prepared,
        }
    }

    /// The keys player moves to the piano (`piano`) or the Rhodes at `beat`: notes already
    /// struck ring out on the old instrument, and the pedal comes up.
    pub(super) fn switch_keys(&mut self, beat: u64, piano: bool) {
        if piano != self.piano {
            if self.pedal {
                self.push(beat as f64, EventKind::KeysPedal { down: false });
                self.pedal = false;
            }
            self.piano = piano;
        }
    }

    /// The piano's pedal at `beat`: in a slow scene the player pedals through each chord,
    /// lifting just before the change and catching the new chord just after it strikes
    /// (legato pedalling); at tempo, or on the Rhodes, the pedal stays up. Beats are planned
    /// as the clock reaches them, so the lift before a change is planned a beat ahead (and
    /// before every phrase, where the form may change).
    pub(super) fn plan_pedal(&mut self, beat: u64) {
        let want = self.piano && self.committed.arousal < KEYS_RULE.pedal_arousal_below;
        let t = beat as f64;
        let change = beat == 0 || self.chord_at(beat) != self.chord_at(beat.saturating_sub(1));
        if self.pedal && (!want || change) {
            // A change the last beat could not foresee (a new mood on the grid).
            self.push(t, EventKind::KeysPedal { down: false });
            self.pedal = false;
        }
        if want && !self.pedal && (change || beat.is_multiple_of(PHRASE_BEATS)) {
            self.push(t + PEDAL_CATCH_BEATS, EventKind::KeysPedal { down: true });
            self.pedal = true;
        }
        let next = beat + 1;
        if self.pedal
            && (next.is_multiple_of(PHRASE_BEATS) || self.chord_at(next) != self.chord_at(beat))
        {
            self.push(
                next as f64 - PEDAL_LIFT_BEATS,
                EventKind::KeysPedal { down: false },
            );
            self.pedal = false;
        }
    }

    pub(super) fn plan_keys(&mut self, beat: u64, sw: f64, ms: f64) {
        self.plan_pedal(beat);
        match self.style.keys.comping {
            Comping::Swing => self.plan_swing_comping(beat, sw, ms),
            Comping::Montuno => self.plan_montuno(beat, sw, ms),
            Comping::Colours => self.plan_colours(beat, ms),
        }
    }

    /// A Latin montuno (guajeo): a two-bar syncopated figure of chord tones, each doubled at
    /// the octave, that anticipates the next bar's chord on the last off-beat (`MONTUNO`).
    /// Detached notes; the accents on the anticipations; thinner when the scene is calm.
    fn plan_montuno(&mut self, beat: u64, sw: f64, ms: f64) {
        let m = self.committed;
        let bar = beat / BEATS_PER_BAR;
        let b = (beat % BEATS_PER_BAR) as f64;
        let mut bar_rng = Rng::from_parts(self.seed, bar, S_KEYS_BAR);
        if bar_rng.chance(self.style.keys.rest * (1.0 - m.arousal)) {
            return;
        }
        let figure = MONTUNO[(bar % 2) as usize];
        let mut rng = Rng::from_parts(self.seed, beat, S_KEYS);
        let keyboard = self.keyboard();
        for &(start, tone, next) in figure {
            if start < b || start >= b + 1.0 {
                continue;
            }
            // A calm scene drops the weaker notes of the figure.
            if !next && start.fract() == 0.0 && rng.chance(0.5 * (1.0 - m.arousal)) {
                continue;
            }
            let whole = start.floor();
            let off = if start - whole > 0.25 { sw } else { 0.0 };
            let t = bar as f64 * 4.0 + whole + off + rng.range(0.0, 6.0) as f64 * ms;
            let chord = if next {
                self.chord_at((bar + 1) * BEATS_PER_BAR)
            } else {
                self.chord_at(bar * BEATS_PER_BAR + whole as u64)
            };
            let pc = chord.root + chord.quality.bass_tones()[tone];
            // The figure sits in the octave above middle C, the light lifting it.
            let centre = 67.0 + self.register + 3.0 * m.valence;
            let mut n = 60 + (pc - 60).rem_euclid(12);
            while (n as f32) < centre - 6.0 {
                n += 12;
            }
            while (n as f32) > centre + 6.0 {
                n -= 12;
            }
            let vel = (0.42 + 0.3 * m.arousal + if next { 0.12 } else { 0.0 } + rng.gauss(0.03))
                .clamp(0.1, 1.0);
            let end = t + 0.4;
            for (k, note) in [n, n - 12].into_iter().enumerate() {
                let note = note.clamp(36, 96) as u8;
                let tn = t + k as f64 * rng.range(0.0, 4.0) as f64 * ms;
                self.push(
                    tn,
                    EventKind::KeysOn {
                        note,
                        velocity: vel * if k == 0 { 1.0 } else { 0.85 },
                        keyboard,
                    },
                );
                self.push(end, EventKind::KeysOff { note, keyboard });
            }
        }
    }

    /// The prepared piano's colours: sparse single notes high in the chord (soft, ringing)
    /// and, at the head of a section or in dread, a low cluster held under the harmony.
    fn plan_colours(&mut self, beat: u64, ms: f64) {
        let m = self.committed;
        let bar = beat / BEATS_PER_BAR;
        let b = beat % BEATS_PER_BAR;
        let mut bar_rng = Rng::from_parts(self.seed, bar, S_KEYS_BAR);
        if bar_rng.chance(self.style.keys.rest * (1.0 - m.arousal)) {
            return;
        }
        let keyboard = self.keyboard();
        let mut rng = Rng::from_parts(self.seed, beat, S_KEYS);
        let chord = self.chord_at(beat);
        let head = b == 0 && Section::of_bar(bar) != Section::of_bar(bar.saturating_sub(1));
        if b == 0 && (head || bar_rng.chance(0.6 * m.tension)) {
            // A cluster of three or four adjacent semitones low in the piano, on the root.
            let base = 40 + (chord.root - 40).rem_euclid(12);
            let width = 3 + (m.tension > 0.6) as i32;
            let vel = (0.3 + 0.45 * m.tension + rng.gauss(0.03)).clamp(0.1, 1.0);
            for k in 0..width {
                let note = (base + k) as u8;
                let t = beat as f64 + k as f64 * rng.range(1.0, 4.0) as f64 * ms;
                self.push(
                    t,
                    EventKind::KeysOn {
                        note,
                        velocity: vel,
                        keyboard,
                    },
                );
                self.push(beat as f64 + 2.5, EventKind::KeysOff { note, keyboard });
            }
        }
        // Single notes: up to one a beat, more as the scene moves.
        if rng.chance(0.15 + 0.35 * m.arousal) {
            let tones = chord.quality.rootless_tones();
            let iv = tones[rng.below(4) as usize];
            let centre = 74.0 + self.register;
            let mut n = 60 + (chord.root + iv - 60).rem_euclid(12);
            while (n as f32) < centre - 6.0 {
                n += 12;
            }
            let at = if rng.chance(0.5) { 0.0 } else { 0.5 };
            let t = beat as f64 + at + rng.range(0.0, 10.0) as f64 * ms;
            let note = n.clamp(36, 96) as u8;
            self.push(
                t,
                EventKind::KeysOn {
                    note,
                    velocity: (0.3 + 0.25 * m.arousal + rng.gauss(0.04)).clamp(0.1, 1.0),
                    keyboard,
                },
            );
            self.push(t + 1.5, EventKind::KeysOff { note, keyboard });
        }
    }

    /// Swing comping: rootless voicings in the comping rhythms, call and response with the
    /// horn.
    fn plan_swing_comping(&mut self, beat: u64, sw: f64, ms: f64) {
        let m = self.committed;
        let bar = beat / BEATS_PER_BAR;
        let b = (beat % BEATS_PER_BAR) as f64;
        // The bar's rhythm is chosen once per bar (keyed by bar), so every beat agrees.
        let mut bar_rng = Rng::from_parts(self.seed, bar, S_KEYS_BAR);
        let rest_p = self.style.keys.rest * (1.0 - m.arousal);
        if bar_rng.chance(rest_p) {
            return;
        }
        // Call and response: busier while the lead rests, sparser under its phrase.
        let lead_rests = !self.lead_plays(beat);
        let a = m.arousal + if lead_rests { 0.25 } else { -0.1 } + self.style.keys.density;
        let pattern: Comp = if a < 0.3 {
            COMP_SPARSE[bar_rng.below(COMP_SPARSE.len() as u32) as usize]
        } else if a < 0.65 {
            COMP_MEDIUM[bar_rng.below(COMP_MEDIUM.len() as u32) as usize]
        } else {
            COMP_BUSY[bar_rng.below(COMP_BUSY.len() as u32) as usize]
        };
        let mut rng = Rng::from_parts(self.seed, beat, S_KEYS);
        for &(start, dur) in pattern {
            if start < b || start >= b + 1.0 {
                continue;
            }
            let whole = start.floor();
            let offbeat = start - whole > 0.25;
            let t = bar as f64 * 4.0 + whole + if offbeat { sw } else { 0.0 };
            let t = t + rng.range(0.0, 8.0) as f64 * ms;
            // An anticipation on the last off-beat pushes the next bar's chord.
            let chord_beat = if start >= 3.5 {
                (bar + 1) * 4
            } else {
                bar * 4 + whole as u64
            };
            let chord = self.chord_at(chord_beat);
            let target = 60.0 + 5.0 * m.valence + self.register + 0.35 * (self.keys_centre - 60.0);
            let v = rootless_voicing(chord, target, m.tension);
            self.keys_centre = v.centre();
            let base_vel = 0.35 + 0.35 * m.arousal + if offbeat { 0.08 } else { 0.0 };
            // Keep each hit's release before the bar line so it never cuts the next strike.
            let end = (t + dur).min(bar as f64 * 4.0 + 3.95);
            for (i, &n) in v.as_slice().iter().enumerate() {
                // Roll the voicing a few milliseconds, top voice a little louder.
                let tn =
                    t + i as f64 * rng.range(2.0, 6.0) as f64 * ms * (1.0 - m.arousal as f64 * 0.7);
                let vel = (base_vel + rng.gauss(0.03) + if i + 1 == v.len { 0.06 } else { 0.0 })
                    .clamp(0.1, 1.0);
                let keyboard = self.keyboard();
                self.push(
                    tn,
                    EventKind::KeysOn {
                        note: n,
                        velocity: vel,
                        keyboard,
                    },
                );
                self.push(end.max(tn + 0.05), EventKind::KeysOff { note: n, keyboard });
            }
        }
    }
}

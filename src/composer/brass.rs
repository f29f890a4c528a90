//! The brass section's rules: off-beat stabs of the chord (trumpets over trombones), shakes
//! and falls at a phrase's end, the low brass swelling into chord changes under tension.
//! Runs on the audio thread (planned per beat by the `Composer`); no allocation.

use super::*;
use crate::voices::BrassArt;

/// Stab rhythms a section leader calls (beats within the bar); one is chosen per bar.
pub const STAB_FIGURES: [&[f64]; 4] = [&[1.5, 3.5], &[0.5, 2.5], &[3.5], &[1.5, 2.0, 3.5]];
/// How long a stab is held, beats.
pub const STAB_BEATS: f64 = 0.3;
/// Where the section voices its chords: the top trumpet near this (MIDI, A4).
pub const SECTION_TOP: i32 = 69;
/// The low brass swell's register: the root placed at or above this (MIDI, E2).
pub const LOW_BRASS: i32 = 40;
/// Chance per phrase end that the section's long note is shaken (else it falls).
pub const SHAKE_CHANCE: f32 = 0.6;

impl Composer {
    /// The section's close voicing of `chord` under `top` (trumpets) with the root an octave
    /// and more below (trombones): five notes, low to high.
    fn section_voicing(chord: Chord, top: i32) -> [u8; 5] {
        let t = chord.quality.rootless_tones();
        let base = top - 12 + (chord.root - (top - 12)).rem_euclid(12);
        let mut v = [
            base - 12,
            base + t[0],
            base + t[2],
            base + t[1] + 12,
            base + t[3] + 12,
        ];
        for n in v.iter_mut() {
            *n = (*n).clamp(36, 88);
        }
        v.sort_unstable();
        v.map(|n| n as u8)
    }

    /// A dissonant stab (dim7 with a minor ninth on top) that falls off: the stinger's.
    pub(super) fn brass_stab_fall(&mut self, at: f64, chord: Chord, v: f32) {
        let base = 60 + (chord.root - 60).rem_euclid(12) - 12;
        for iv in [0, 3, 6, 9, 13] {
            let n = (base + iv) as u8;
            self.push(
                at,
                EventKind::BrassOn {
                    note: n,
                    velocity: v,
                    art: BrassArt::Stab,
                },
            );
            self.push(
                at + 0.6,
                EventKind::BrassFall {
                    note: n,
                    time_s: 0.4,
                },
            );
        }
    }

    /// The low brass's cluster (root, fifth and the minor ninth's rub) swelling over `beats`.
    pub(super) fn low_brass_swell(
        &mut self,
        at: f64,
        chord: Chord,
        v: f32,
        seconds: f32,
        beats: f64,
    ) {
        let root = LOW_BRASS + (chord.root - LOW_BRASS).rem_euclid(12);
        for iv in [0, 7, 13] {
            let n = (root + iv) as u8;
            self.push(
                at,
                EventKind::BrassOn {
                    note: n,
                    velocity: v,
                    art: BrassArt::Swell { seconds },
                },
            );
            self.push(at + beats, EventKind::BrassOff { note: n });
        }
    }

    /// The brass section's notes for `beat` (see `BrassRules`).
    pub(super) fn plan_brass(&mut self, beat: u64, chord: Chord, sw: f64, ms: f64) {
        let rules = self.style.brass;
        if rules.stabs <= 0.0 && rules.swell_tension > 1.0 {
            return;
        }
        let m = self.committed;
        let mut rng = Rng::from_parts(self.seed, beat / BEATS_PER_BAR, S_BRASS);
        let b = beat % BEATS_PER_BAR;
        let bar = beat / BEATS_PER_BAR;
        let t0 = (beat - b) as f64;
        // The bar's stab figure (drawn once per bar: the same stream for every beat of it).
        let stab_bar = rng.chance((rules.stabs * m.arousal).clamp(0.0, 1.0));
        let figure = STAB_FIGURES[rng.below(STAB_FIGURES.len() as u32) as usize];
        let phrase_end = bar % 4 == 3;
        if stab_bar && !phrase_end {
            for &at in figure {
                if at < b as f64 || at >= b as f64 + 1.0 {
                    continue;
                }
                let whole = at.floor();
                let at = whole + if at - whole == 0.5 { sw } else { at - whole };
                let v = (0.55 + 0.4 * m.arousal).clamp(0.05, 1.0);
                let c = self.chord_at(beat);
                for n in Self::section_voicing(c, SECTION_TOP) {
                    let t = t0 + at + rng.range(0.0, 6.0) as f64 * ms;
                    self.push(
                        t,
                        EventKind::BrassOn {
                            note: n,
                            velocity: v,
                            art: BrassArt::Stab,
                        },
                    );
                    self.push(t + STAB_BEATS, EventKind::BrassOff { note: n });
                }
            }
        }
        // A phrase's end: the section holds the chord from beat 2 and shakes it, or lets it
        // fall off.
        if rules.shakes && phrase_end && b == 1 && m.arousal > 0.35 {
            let shake = rng.chance(SHAKE_CHANCE);
            let v = (0.6 + 0.35 * m.arousal).clamp(0.05, 1.0);
            for n in Self::section_voicing(chord, SECTION_TOP) {
                let t = beat as f64;
                self.push(
                    t,
                    EventKind::BrassOn {
                        note: n,
                        velocity: v,
                        art: if shake {
                            BrassArt::Shake
                        } else {
                            BrassArt::Sustain
                        },
                    },
                );
                if shake {
                    self.push(t + 2.0, EventKind::BrassOff { note: n });
                } else {
                    self.push(
                        t + 1.5,
                        EventKind::BrassFall {
                            note: n,
                            time_s: 0.35,
                        },
                    );
                }
            }
        }
        // Under tension the low brass swells into each change of chord (two beats before it).
        if m.tension >= rules.swell_tension && b == 2 {
            let next = self.chord_at(beat + 2);
            if next != chord || bar % 2 == 1 {
                let beats = 2.0;
                let seconds = (beats * 60.0 / (ms * 60_000.0).max(1e-6)) as f32;
                let seconds = seconds * 0.9;
                let v = (0.5 + 0.4 * m.tension).clamp(0.05, 1.0);
                self.low_brass_swell(beat as f64, chord, v, seconds, beats + 0.25);
            }
        }
    }
}

//! The harpist's rules: rising arpeggios of the chord, glissandi into the head of a section
//! and (with tension) into chord changes, strings damped when the harmony moves. Runs on the
//! audio thread (planned per beat by the `Composer`); no allocation.

use super::*;

/// Lowest and highest string the harpist reaches for (MIDI): G2 .. C7.
pub const HARP_RANGE: (i32, i32) = (43, 96);
/// Arpeggio: the lowest note (the chord's root placed at or above this), notes in the rise
/// and the rise's length in beats.
pub const ARPEGGIO: (i32, usize, f64) = (48, 8, 2.0);
/// Glissando: range (MIDI, low to high), length in beats.
pub const GLISS: (i32, i32, f64) = (43, 91, 1.0);
/// Beats the strings ring before the harpist's hand damps them (unless the chord holds).
pub const HARP_RING_BEATS: f64 = 3.5;

impl Composer {
    /// The chord's pitch classes as the harpist sets the pedals: root and the four guide and
    /// colour tones, as semitones above the root, sorted.
    fn harp_pedals(chord: Chord) -> [i32; 5] {
        let t = chord.quality.rootless_tones();
        let mut pcs = [0, t[0] % 12, t[1] % 12, t[2] % 12, t[3] % 12];
        pcs.sort_unstable();
        pcs
    }

    /// A glissando over `chord`'s pedals from `from` to `to` (MIDI; down when `to < from`),
    /// starting at `at` and lasting `len` beats; the strings are damped `ring` beats after.
    pub(super) fn harp_gliss(
        &mut self,
        at: f64,
        chord: Chord,
        (from, to): (i32, i32),
        len: f64,
        vel: f32,
        ring: f64,
    ) {
        let pcs = Self::harp_pedals(chord);
        let (lo, hi) = (from.min(to), from.max(to));
        let mut notes = [0u8; 40];
        let mut count = 0;
        for n in lo..=hi {
            let pc = (n - chord.root).rem_euclid(12);
            if pcs.contains(&pc) && count < notes.len() {
                notes[count] = n as u8;
                count += 1;
            }
        }
        if count == 0 {
            return;
        }
        let down = to < from;
        for i in 0..count {
            let n = if down { notes[count - 1 - i] } else { notes[i] };
            let x = i as f32 / count as f32;
            // A glissando swells toward its goal.
            let v = (vel * (0.55 + 0.45 * x)).clamp(0.05, 1.0);
            let t = at + len * i as f64 / count as f64;
            self.push(
                t,
                EventKind::HarpOn {
                    note: n,
                    velocity: v,
                },
            );
            self.push(t + ring, EventKind::HarpOff { note: n });
        }
    }

    /// The harp's notes for `beat` (see `HarpRules`).
    pub(super) fn plan_harp(&mut self, beat: u64, chord: Chord) {
        let rules = self.style.harp;
        if rules.arpeggio <= 0.0 && !rules.gliss_sections && rules.gliss_tension > 1.0 {
            return;
        }
        let m = self.committed;
        let mut rng = Rng::from_parts(self.seed, beat, S_HARP);
        let b = beat % BEATS_PER_BAR;
        let bar = beat / BEATS_PER_BAR;
        let t0 = beat as f64;
        let reg = self.register.round() as i32;
        // Into a new section (or, when handing over to another style, into its downbeat).
        let next = bar + 1;
        let head = next >= 1 && Section::of_bar(next) != Section::of_bar(bar)
            || (next > 4 && (next - 4).is_multiple_of(8));
        let into_change = m.tension >= rules.gliss_tension
            && self.chord_at(beat + 1) != chord
            && (beat + 1).is_multiple_of(2);
        let handing_over = self.pending_style.is_some() && bar % 4 == 3;
        if b == 3 && ((rules.gliss_sections && head) || handing_over) || into_change && b % 2 == 1 {
            let target = self.chord_at(beat + 1);
            let v = 0.45 + 0.35 * m.arousal + 0.2 * m.tension;
            let (lo, hi, len) = GLISS;
            self.harp_gliss(t0, target, (lo + reg, hi + reg), len, v, HARP_RING_BEATS);
            return;
        }
        // An arpeggio on the bar's first beat, rising in sixteenths over two beats.
        if b == 0 && rules.arpeggio > 0.0 {
            let chance = (rules.arpeggio * (0.6 + 0.8 * m.arousal)).clamp(0.0, 1.0);
            if rng.chance(chance) {
                let (low, count, len) = ARPEGGIO;
                let root = low + reg + (chord.root - low - reg).rem_euclid(12);
                let t = chord.quality.rootless_tones();
                let shape = [0, 7, 12, t[0] + 12, t[2] + 12, 19, 24, t[3] + 12];
                for (i, iv) in shape.iter().take(count).enumerate() {
                    let n = (root + iv).clamp(HARP_RANGE.0, HARP_RANGE.1) as u8;
                    let at = t0 + i as f64 * len / count as f64 + rng.range(0.0, 0.01) as f64;
                    let v = (0.35
                        + 0.3 * m.arousal
                        + 0.15 * (i as f32 / count as f32)
                        + rng.gauss(0.04))
                    .clamp(0.05, 1.0);
                    self.push(
                        at,
                        EventKind::HarpOn {
                            note: n,
                            velocity: v,
                        },
                    );
                    self.push(t0 + HARP_RING_BEATS, EventKind::HarpOff { note: n });
                }
            }
        }
    }
}

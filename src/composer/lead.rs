//! The horn player's rules: when the horn plays (calls and rests), its character (tenor to
//! muted trumpet), motifs from rhythm and contour tables, chord tones on strong beats, glides and
//! falls. Runs on the audio thread (planned per beat by the `Composer`); no allocation.

use super::*;

/// A lead rhythm for a two-bar call: (start beat 0..8, held beats); x.5 starts are swung.
type Line = &'static [(f64, f64)];
const LEAD_SPARSE: [Line; 3] = [
    &[(0.0, 1.5), (1.5, 0.5), (2.0, 4.0)],
    &[(0.5, 1.0), (1.5, 2.5), (4.0, 3.0)],
    &[(1.0, 3.0), (4.5, 3.0)],
];
const LEAD_MEDIUM: [Line; 3] = [
    &[(0.0, 0.5), (0.5, 0.5), (1.0, 1.0), (2.5, 0.5), (3.0, 2.5)],
    &[(0.5, 0.5), (1.0, 0.5), (1.5, 1.5), (3.5, 0.5), (4.0, 2.5)],
    &[
        (0.0, 1.0),
        (1.0, 0.5),
        (1.5, 0.5),
        (2.0, 0.5),
        (2.5, 1.5),
        (4.5, 2.0),
    ],
];
const LEAD_BUSY: [Line; 3] = [
    &[
        (0.0, 0.5),
        (0.5, 0.5),
        (1.0, 0.5),
        (1.5, 0.5),
        (2.0, 0.5),
        (2.5, 0.5),
        (3.0, 1.0),
        (4.5, 0.5),
        (5.0, 0.5),
        (5.5, 1.5),
    ],
    &[
        (0.5, 0.5),
        (1.0, 0.5),
        (1.5, 0.5),
        (2.0, 1.0),
        (3.5, 0.5),
        (4.0, 0.5),
        (4.5, 0.5),
        (5.0, 2.0),
    ],
    &[
        (0.0, 0.25),
        (0.25, 0.25),
        (0.5, 0.5),
        (1.0, 0.5),
        (1.5, 1.0),
        (3.0, 0.5),
        (3.5, 0.5),
        (4.0, 2.5),
    ],
];
/// Melodic contour steps (scale steps between successive notes) a motif may use.
const CONTOURS: [[i32; 10]; 4] = [
    [2, -1, -1, 3, -2, -1, 1, -2, 2, -3],
    [-1, -1, 2, 1, 1, -3, 2, -1, -1, 1],
    [3, -1, -2, 1, 2, -1, -1, -2, 4, -2],
    [1, 1, 1, -2, -1, 3, -4, 2, -1, -1],
];

impl Composer {
    /// How "trumpet" the lead is: tension and heat turn the breathy tenor into a muted horn.
    pub fn lead_character(m: Mood) -> f32 {
        ((m.tension - 0.45) * 2.2 + (m.arousal - 0.7) * 1.5).clamp(0.0, 1.0)
    }

    /// Whether the lead plays at `beat` (call windows of phrases it does not sit out).
    pub(super) fn lead_plays(&self, beat: u64) -> bool {
        let bar = beat / BEATS_PER_BAR;
        if Section::of_bar(bar) == Section::Intro || self.blackout {
            return false;
        }
        let m = self.committed;
        let phrase = bar / 4;
        let pb = beat % 16;
        let mut rng = Rng::from_parts(self.seed, phrase, S_LEAD);
        // Dialogue-dense scenes (quiet, untroubled) leave the most space; the bridge's
        // first phrase belongs to the piano.
        let mut rest_p = self.style.lead.rest * (1.0 - m.arousal) * (1.0 - m.tension);
        if self.style.lead.tension_rest > 0.0 {
            // A ballad's horn gives way to the dread.
            rest_p += self.style.lead.tension_rest * m.tension;
        }
        if Section::of_bar(bar) == Section::B && phrase.is_multiple_of(2) {
            rest_p += 0.5;
        }
        if rng.chance(rest_p) {
            return false;
        }
        let (usual, hot) = self.style.lead.window;
        let window = if m.arousal > 0.7 { hot } else { usual };
        pb < window
    }

    /// The pitch classes a lead note may use: chord tones on strong beats, the mood's mode
    /// (Wallis et al.: mode index = round(3 - 3v), Lydian .. Locrian) on weak ones.
    pub(super) fn lead_pitch_classes(&self, chord: Chord, strong: bool, out: &mut [bool; 12]) {
        *out = [false; 12];
        if strong {
            out[chord.root.rem_euclid(12) as usize] = true;
            for iv in chord.quality.rootless_tones() {
                out[(chord.root + iv).rem_euclid(12) as usize] = true;
            }
            return;
        }
        const MODES: [[i32; 7]; 7] = [
            [0, 2, 4, 6, 7, 9, 11],
            [0, 2, 4, 5, 7, 9, 11],
            [0, 2, 4, 5, 7, 9, 10],
            [0, 2, 3, 5, 7, 9, 10],
            [0, 2, 3, 5, 7, 8, 10],
            [0, 1, 3, 5, 7, 8, 10],
            [0, 1, 3, 5, 6, 8, 10],
        ];
        // A modal style plays its mode on the vamp's root; otherwise the mood picks the mode
        // on the key (the major modes on the relative major).
        let (idx, tonic) = match self.style.harmony.lead_mode {
            Some(mode) => (mode.min(6), chord.root),
            None => {
                let idx = (3.0 - 3.0 * self.committed.valence).round().clamp(0.0, 6.0) as usize;
                (idx, self.key + if idx <= 2 { 3 } else { 0 })
            }
        };
        for iv in MODES[idx] {
            out[(tonic + iv).rem_euclid(12) as usize] = true;
        }
        // Chord tones are always available.
        for iv in chord.quality.bass_tones() {
            out[(chord.root + iv).rem_euclid(12) as usize] = true;
        }
    }

    pub(super) fn plan_lead(&mut self, beat: u64, sw: f64, ms: f64) {
        if !self.lead_plays(beat) {
            if self.lead_sounding && beat % 16 >= 8 {
                self.push(beat as f64, EventKind::LeadOff);
                self.lead_sounding = false;
            }
            return;
        }
        let m = self.committed;
        let bar = beat / BEATS_PER_BAR;
        let phrase = bar / 4;
        let pb = (beat % 16) as f64;
        // A motif serves two phrases: stated, then restated over the new chords.
        let mut motif = Rng::from_parts(self.seed, phrase / 2, S_LEAD_MOTIF);
        let la = m.arousal + self.style.lead.density;
        let line: Line = if la < 0.3 || Section::of_bar(bar) == Section::B {
            LEAD_SPARSE[motif.below(3) as usize]
        } else if la < 0.65 {
            LEAD_MEDIUM[motif.below(3) as usize]
        } else {
            LEAD_BUSY[motif.below(3) as usize]
        };
        let contour = CONTOURS[motif.below(4) as usize];
        let mut rng = Rng::from_parts(self.seed, beat, S_LEAD);
        let trumpet = self.horn_character(m);
        let centre = 62.0 + 4.0 * m.valence + 7.0 * trumpet + self.register;
        let (lo, hi) = ((centre - 10.0) as i32, (centre + 10.0) as i32);
        let phrase_start = (beat - beat % 16) as f64;
        for k in 0..line.len() {
            // The call is the line; past beat 8 (hot moods) the line answers itself.
            let offset = if pb >= 8.0 { 8.0 } else { 0.0 };
            let (start, dur) = line[k];
            let start = start + offset;
            if start < pb || start >= pb + 1.0 || start >= 16.0 {
                continue;
            }
            let whole = start.floor();
            let frac = start - whole;
            let strong = frac < 0.01;
            let swung = if (frac - 0.5).abs() < 0.01 { sw } else { frac };
            // Lay back on downbeats, line up on off-beats.
            let lay = if strong {
                rng.range(12.0, 28.0) as f64 * ms
            } else {
                0.0
            };
            let t = phrase_start + whole + swung + lay;
            let chord = self.chord_at(beat);
            let mut allowed = [false; 12];
            self.lead_pitch_classes(chord, strong, &mut allowed);
            let from = if self.last_lead == 0 {
                centre as i32
            } else {
                self.last_lead
            };
            let step = contour[k % contour.len()];
            let target = from + step * 2;
            let mut best = from;
            let mut best_d = i32::MAX;
            for n in lo..=hi {
                if !allowed[n.rem_euclid(12) as usize] || (n == from && step != 0) {
                    continue;
                }
                let d = (n - target).abs() * 4 + rng.below(3) as i32;
                if d < best_d {
                    best_d = d;
                    best = n;
                }
            }
            let note = best.clamp(40, 90) as u8;
            let vel = (0.5 + 0.35 * m.arousal + rng.gauss(0.04) + if strong { 0.05 } else { 0.0 })
                .clamp(0.15, 1.0);
            let next_start = line.get(k + 1).map(|&(s, _)| s + offset);
            let legato = self.lead_sounding && k > 0 && {
                let (ps, pd) = line[k - 1];
                (ps + offset + pd - start).abs() < 0.05
            };
            self.push(
                t,
                EventKind::LeadOn {
                    note,
                    velocity: vel,
                    legato,
                },
            );
            self.last_lead = note as i32;
            self.lead_sounding = true;
            let end = phrase_start + start + dur;
            let gap_follows = match next_start {
                Some(ns) => ns > start + dur + 0.05,
                None => true,
            };
            if gap_follows {
                let off = (end - 0.08).max(t + 0.05);
                if next_start.is_none() && m.tension > 0.55 {
                    self.push(
                        off,
                        EventKind::LeadFall {
                            time_s: 0.25 + 0.2 * m.tension,
                        },
                    );
                } else {
                    self.push(off, EventKind::LeadOff);
                }
                self.lead_sounding = false;
            }
        }
    }
}

//! The string section's rules: when the strings play (dread, section entries, under the
//! horn's long notes) and the chord they hold. Runs on the audio thread (planned per beat by the
//! `Composer`); no allocation.

use super::*;

/// When the strings play (a section, not a bed under every chord): for dread, on a section
/// change (its first bars), and under the horn's long notes in a tense, slow scene; they rest
/// otherwise, and always when the mood is calm. Decided per bar.
#[derive(Clone, Copy, Debug)]
pub struct StringsRules {
    /// Tension at or above which the strings play throughout (dread).
    pub dread_tension: f32,
    /// Bars at the head of a new section (A, B) the strings mark...
    pub entry_bars: u64,
    /// ...when the tension is at least this.
    pub entry_tension: f32,
    /// Under the lead's long notes: tension at least this, arousal below `long_arousal`.
    pub long_tension: f32,
    /// See `long_tension`.
    pub long_arousal: f32,
}

/// The strings' orchestration (tunable by a composer; see `StringsRules`).
pub const STRINGS: StringsRules = StringsRules {
    dread_tension: 0.62,
    entry_bars: 2,
    entry_tension: 0.3,
    long_tension: 0.45,
    long_arousal: 0.4,
};

impl Composer {
    /// Whether the strings play in `bar` (see `StringsRules`).
    pub(super) fn strings_play(&self, bar: u64) -> bool {
        let m = self.committed;
        let r = self.style.strings;
        if m.tension >= r.dread_tension {
            return true;
        }
        let section = Section::of_bar(bar);
        // Bars since the section began, counted up to `entry_bars`.
        let mut into = 0;
        while into < r.entry_bars && bar > into && Section::of_bar(bar - into - 1) == section {
            into += 1;
        }
        let entry = section != Section::Intro && into < r.entry_bars;
        if entry && m.tension >= r.entry_tension {
            return true;
        }
        m.tension >= r.long_tension
            && m.arousal < r.long_arousal
            && self.lead_plays(bar * BEATS_PER_BAR)
    }

    pub(super) fn plan_pad(&mut self, beat: u64, chord: Chord) {
        let b = beat % BEATS_PER_BAR;
        if b == 0 || !self.pad_sent {
            let on = self.strings_play(beat / BEATS_PER_BAR);
            if !on {
                if self.strings_on || !self.pad_sent {
                    // The section rests: the bows lift (the pad fades out).
                    self.push(
                        beat as f64,
                        EventKind::PadChord {
                            notes: [0; 6],
                            len: 0,
                        },
                    );
                }
                self.strings_on = false;
                self.pad_sent = true;
                return;
            }
            if !self.strings_on {
                self.strings_on = true;
                self.pad_sent = false;
            }
        }
        if !self.strings_on {
            return;
        }
        if self.pad_sent && b != 0 && beat > 0 && self.chord_at(beat - 1) == chord {
            return;
        }
        self.pad_sent = true;
        let m = self.committed;
        let root = 48 + (chord.root - 48).rem_euclid(12);
        let t = chord.quality.rootless_tones();
        let mut notes = [0u8; 6];
        let mut len = 0;
        for iv in [0, t[0], t[2], t[1] + 12, t[3] + 12] {
            notes[len] = (root + iv).clamp(36, 84) as u8;
            len += 1;
        }
        if m.tension > 0.6 {
            // The minor-ninth rub: strings clustering against the root.
            notes[len] = (root + 13).clamp(36, 84) as u8;
            len += 1;
        }
        notes[..len].sort_unstable();
        self.push(
            beat as f64,
            EventKind::PadChord {
                notes,
                len: len as u8,
            },
        );
    }
}

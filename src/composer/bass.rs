//! The bass player's rules: a walking line that lands on chord roots at the changes, with
//! approach notes, two-feel and pedal points by mood; or the style's figure (an ostinato, a
//! tumbao), or long roots. Runs on the audio thread (planned per beat by the `Composer`); no
//! allocation.

use super::style::BassFeel;
use super::*;

impl Composer {
    /// Nearest MIDI note of pitch class `pc` to `near`, kept inside the upright's range.
    pub(super) fn bass_note(pc: i32, near: i32) -> i32 {
        let mut n = 36 + (pc - 36).rem_euclid(12); // C2..B2
        while n + 6 < near {
            n += 12;
        }
        while n - 6 > near {
            n -= 12;
        }
        while n < 31 {
            n += 12;
        }
        while n > 55 {
            n -= 12;
        }
        n
    }

    pub(super) fn plan_bass(&mut self, beat: u64, chord: Chord, sw: f64, ms: f64) {
        let m = self.committed;
        let mut rng = Rng::from_parts(self.seed, beat, S_BASS);
        let b = beat % BEATS_PER_BAR;
        let t0 = beat as f64 + rng.range(0.0, 6.0) as f64 * ms;
        let near = if self.last_bass == 0 {
            40
        } else {
            self.last_bass
        };
        let accent = if b == 0 { 0.12 } else { 0.0 };
        let vel = (0.55 + 0.3 * m.arousal + accent + rng.gauss(0.03)).clamp(0.2, 1.0);
        match self.style.bass.feel {
            BassFeel::Walking => {}
            BassFeel::Figure(figure) => {
                // The style's one-bar figure on the chord's root, kept low; the same notes
                // every bar, the player's time and touch varying. A note marked `next` takes
                // the next bar's chord (the tumbao anticipates the change).
                let bf = b as f64;
                for note in figure {
                    if note.at < bf || note.at >= bf + 1.0 {
                        continue;
                    }
                    let offbeat = note.at - note.at.floor() > 0.25;
                    let t = if offbeat {
                        beat as f64 + sw + rng.range(0.0, 6.0) as f64 * ms
                    } else {
                        t0
                    };
                    let root = if note.next {
                        self.chord_at((beat / BEATS_PER_BAR + 1) * BEATS_PER_BAR)
                            .root
                    } else {
                        chord.root
                    };
                    let mut n = Self::bass_note(root, 38) + note.interval;
                    if n > 55 {
                        n -= 12;
                    }
                    self.push(
                        t,
                        EventKind::BassOn {
                            note: n as u8,
                            velocity: (vel * note.vel).clamp(0.1, 1.0),
                        },
                    );
                    self.last_bass = n;
                }
                return;
            }
            BassFeel::Roots => {
                // Long notes under strings and harp: the root at the bar and at a change,
                // now and then the fifth on 3 when the scene moves.
                let starts = b == 0 || (b == 2 && self.chord_at(beat - 1) != chord);
                let fifth = b == 2 && !starts && m.arousal > 0.3 && rng.chance(0.3);
                if starts || fifth {
                    let mut n = Self::bass_note(chord.root, 36);
                    if fifth {
                        n += 7;
                        if n > 55 {
                            n -= 12;
                        }
                    }
                    self.push(
                        t0,
                        EventKind::BassOn {
                            note: n as u8,
                            velocity: (vel * if fifth { 0.8 } else { 1.0 }).clamp(0.1, 1.0),
                        },
                    );
                    self.last_bass = n;
                }
                return;
            }
        }
        let next = self.chord_at(beat + 1);
        let chord_starts = b.is_multiple_of(2) && (b == 0 || self.chord_at(beat - 1) != chord);
        let change_next = next != chord;

        if self.form.pedal() {
            // Pedal point on the key's fifth: a dotted, throbbing figure.
            let pedal = Self::bass_note(self.key + 7, 40);
            if b.is_multiple_of(2) || m.tension > 0.85 {
                self.push(
                    t0,
                    EventKind::BassOn {
                        note: pedal as u8,
                        velocity: vel,
                    },
                );
                self.last_bass = pedal;
                if m.tension > 0.6 && rng.chance(0.5) {
                    self.push(
                        beat as f64 + sw + 1.0,
                        EventKind::BassOn {
                            note: pedal as u8,
                            velocity: vel * 0.6,
                        },
                    );
                }
            }
            return;
        }

        let two_feel = m.arousal < 0.3;
        if two_feel && b % 2 == 1 {
            return;
        }
        let note = if b == 0 || chord_starts {
            Self::bass_note(chord.root, near)
        } else if change_next || (two_feel && b == 2) {
            // Approach the next root chromatically (from above or below) or from its fifth.
            let target = Self::bass_note(next.root, near);
            match rng.below(3) {
                0 => target + 7 - 12 * ((target + 7 > 55) as i32),
                1 => target - 1,
                _ => target + 1,
            }
        } else {
            // A chord tone in the line's direction, close to the last note.
            let tones = chord.quality.bass_tones();
            let mut best = near;
            let mut best_score = f32::MAX;
            for &iv in tones.iter().skip(1) {
                for oct in [-12, 0, 12] {
                    let n = Self::bass_note(chord.root + iv, near) + oct;
                    if !(31..=55).contains(&n) || n == near {
                        continue;
                    }
                    let step = (n - near) as f32;
                    let wrong_way = if step.signum() as i32 != self.bass_dir {
                        4.0
                    } else {
                        0.0
                    };
                    let score = step.abs() + wrong_way + rng.range(0.0, 3.0);
                    if score < best_score {
                        best_score = score;
                        best = n;
                    }
                }
            }
            best
        };
        let note = note.clamp(28, 60);
        if note > 50 {
            self.bass_dir = -1;
        } else if note < 36 {
            self.bass_dir = 1;
        } else if note != near && rng.chance(0.2) {
            self.bass_dir = -self.bass_dir;
        }
        self.push(
            t0,
            EventKind::BassOn {
                note: note as u8,
                velocity: vel,
            },
        );
        self.last_bass = note;
        // A ghosted "skip" note on the swung off-beat, more often when the band is hot.
        if !two_feel && b % 2 == 1 && rng.chance(0.25 * m.arousal) {
            self.push(
                beat as f64 + sw,
                EventKind::BassOn {
                    note: note as u8,
                    velocity: vel * 0.45,
                },
            );
        }
        // Tense, agitated moods clip the notes short.
        if m.tension > 0.65 && m.arousal > 0.5 && rng.chance(0.5) {
            self.push(beat as f64 + 0.55, EventKind::BassOff);
        }
    }
}

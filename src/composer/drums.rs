//! The drummer's rules: brush sweeps and taps, the slap on 2 and 4, ride pattern and bell,
//! hat foot, feathered kick and fills, by mood and section. Runs on the audio thread (planned per
//! beat by the `Composer`); no allocation.

use super::*;

/// Level of the continuous brush stir under the strokes, per unit of arousal (0: none; a
/// continuous stir reads as electronic noise, issue 10).
pub const BRUSH_STIR: f32 = 0.0;

impl Composer {
    pub(super) fn plan_drums(&mut self, beat: u64, ctx: &BeatContext, sw: f64, ms: f64) {
        let m = self.committed;
        let mut rng = Rng::from_parts(self.seed, beat, S_DRUMS);
        let b = beat % BEATS_PER_BAR;
        let t0 = beat as f64;
        let dyn_ = (0.45 + 0.45 * m.arousal) * self.style.drums.dynamics;
        let ride = m.arousal >= self.style.drums.ride_arousal;
        let backbeat = b % 2 == 1;
        let late = |rng: &mut Rng| rng.range(0.0, 5.0) as f64 * ms;
        let jit = |rng: &mut Rng| rng.gauss(0.04);

        if b == 0 {
            // Brushes are strokes, not a bed of noise: the continuous stir stays off in the
            // groove (`BRUSH_STIR`); the sweeps on 1 and 3 and the slaps on 2 and 4 carry it.
            let level = if ride { 0.0 } else { BRUSH_STIR * m.arousal };
            let rate = ctx.tempo_bpm as f32 / 60.0;
            self.push(
                t0,
                EventKind::Swirl {
                    level,
                    rate_hz: rate,
                },
            );
        }
        if ride {
            // The ride rings long and bright: it sits well under the brushes' level.
            let v = dyn_ * if backbeat { 0.55 } else { 0.45 };
            self.push(
                t0 + late(&mut rng),
                EventKind::Drum {
                    hit: DrumHit::Ride,
                    velocity: (v + jit(&mut rng)).clamp(0.1, 1.0),
                },
            );
            if backbeat {
                // The skip note of "ding, ding-a ding": lines up with the swung off-beat.
                self.push(
                    t0 + sw,
                    EventKind::Drum {
                        hit: DrumHit::Ride,
                        velocity: (dyn_ * 0.32 + jit(&mut rng)).clamp(0.1, 1.0),
                    },
                );
            }
        } else {
            if backbeat {
                self.push(
                    t0 + late(&mut rng),
                    EventKind::Drum {
                        hit: DrumHit::BrushTap,
                        velocity: (dyn_ * 0.75 + jit(&mut rng)).clamp(0.1, 1.0),
                    },
                );
                self.push(
                    t0 + sw,
                    EventKind::Drum {
                        hit: DrumHit::BrushTap,
                        velocity: (dyn_ * 0.35 + jit(&mut rng)).clamp(0.05, 1.0),
                    },
                );
            } else {
                let beat_s = 60.0 / ctx.tempo_bpm as f32;
                self.push(
                    t0,
                    EventKind::Drum {
                        hit: DrumHit::BrushSweep {
                            length_s: beat_s * 0.9,
                        },
                        velocity: (dyn_ * 0.6).clamp(0.1, 1.0),
                    },
                );
            }
        }
        if backbeat && m.arousal > 0.12 {
            self.push(
                t0 + late(&mut rng),
                EventKind::Drum {
                    hit: DrumHit::HatFoot,
                    velocity: (0.35 + 0.4 * m.arousal + jit(&mut rng)).clamp(0.1, 1.0),
                },
            );
        }
        // Feathered kick: all four beats, barely heard, once the band is moving.
        if m.arousal > 0.35 || b == 0 {
            let v = if m.arousal > 0.35 {
                0.2 + 0.25 * m.arousal
            } else {
                0.25
            };
            self.push(
                t0,
                EventKind::Drum {
                    hit: DrumHit::Kick,
                    velocity: v + jit(&mut rng).abs(),
                },
            );
        }
        // Snare chatter on the off-beats; cross-stick more with tension.
        if rng.chance(0.06 + 0.3 * m.arousal) {
            let hit = if rng.chance(m.tension * 0.8) {
                DrumHit::CrossStick
            } else {
                DrumHit::BrushTap
            };
            self.push(
                t0 + sw,
                EventKind::Drum {
                    hit,
                    velocity: (0.2 + 0.3 * m.arousal + jit(&mut rng)).clamp(0.05, 1.0),
                },
            );
        }
        // Phrase-end fill: brush triplets into the next phrase; always when the band hands
        // over to another style there.
        let bar = beat / BEATS_PER_BAR;
        if bar % 4 == 3
            && b == 3
            && (self.pending_style.is_some() || rng.chance(0.3 + 0.6 * m.arousal))
        {
            for i in 0..3 {
                let v = (0.3 + 0.15 * i as f32) * dyn_;
                self.push(
                    t0 + i as f64 / 3.0,
                    EventKind::Drum {
                        hit: DrumHit::BrushTap,
                        velocity: v.clamp(0.05, 1.0),
                    },
                );
            }
        }
        // Top of the form: a crash with the kick when the band is hot.
        if b == 0 && bar.is_multiple_of(self.form.bars()) && m.arousal > 0.6 {
            self.push(
                t0,
                EventKind::Drum {
                    hit: DrumHit::Crash,
                    velocity: 0.25 + 0.2 * m.arousal,
                },
            );
            self.push(
                t0,
                EventKind::Drum {
                    hit: DrumHit::Kick,
                    velocity: 0.5 + 0.3 * m.arousal,
                },
            );
        }
    }
}

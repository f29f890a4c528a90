//! The percussion section's rules: the Afro-Cuban groove locked to a son clave, the stick
//! snare on the dread figure, sparse colours. Grooves are tables of strokes over a two-bar
//! cycle. Runs on the audio thread (planned per beat by the `Composer`); no allocation.

use super::style::PercGroove;
use super::*;
use crate::voices::PercHit;

/// One stroke of a groove: where in the two-bar cycle (beats 0..8; `.5` is the off-beat
/// eighth, swung with the band), what, how loud (0..1 before dynamics), and the arousal the
/// band needs before this stroke plays (the groove thickens as the scene heats up).
#[derive(Clone, Copy, Debug)]
pub struct PercStroke {
    /// Beats from the top of the two-bar cycle.
    pub at: f64,
    /// The instrument and stroke.
    pub hit: PercHit,
    /// Velocity before dynamics and humanising.
    pub vel: f32,
    /// Arousal at or above which it plays.
    pub min_arousal: f32,
}

const fn s(at: f64, hit: PercHit, vel: f32, min_arousal: f32) -> PercStroke {
    PercStroke {
        at,
        hit,
        vel,
        min_arousal,
    }
}

/// Son clave, 3-2 (the three side first): 1, the "and" of 2, 4 | 2, 3. Every other part of the
/// Afro-Cuban groove is written against it.
pub const SON_CLAVE_3_2: [f64; 5] = [0.0, 1.5, 3.0, 5.0, 6.0];

/// The Afro-Cuban groove over two bars (a composer tunes it here): the clave always; the
/// conga's tumbao (heel-toe, the slap on 2, open tones on 4 and its "and"); the bongo's
/// martillo in eighths; the cowbell on the beat once the band is warm; the timbale's cascara
/// pattern on the shell when it is hot.
pub const AFRO_CUBAN: &[PercStroke] = &[
    // Clave (3-2).
    s(0.0, PercHit::Clave, 0.75, 0.0),
    s(1.5, PercHit::Clave, 0.7, 0.0),
    s(3.0, PercHit::Clave, 0.75, 0.0),
    s(5.0, PercHit::Clave, 0.7, 0.0),
    s(6.0, PercHit::Clave, 0.75, 0.0),
    // Conga tumbao, both bars.
    s(0.0, PercHit::CongaHeel, 0.35, 0.0),
    s(0.5, PercHit::CongaMute, 0.3, 0.0),
    s(1.0, PercHit::CongaSlap, 0.75, 0.0),
    s(1.5, PercHit::CongaMute, 0.3, 0.0),
    s(2.0, PercHit::CongaHeel, 0.35, 0.0),
    s(2.5, PercHit::CongaMute, 0.3, 0.0),
    s(3.0, PercHit::CongaOpen, 0.7, 0.0),
    s(3.5, PercHit::Tumba, 0.65, 0.0),
    s(4.0, PercHit::CongaHeel, 0.35, 0.0),
    s(4.5, PercHit::CongaMute, 0.3, 0.0),
    s(5.0, PercHit::CongaSlap, 0.75, 0.0),
    s(5.5, PercHit::CongaMute, 0.3, 0.0),
    s(6.0, PercHit::CongaHeel, 0.35, 0.0),
    s(6.5, PercHit::CongaMute, 0.3, 0.0),
    s(7.0, PercHit::CongaOpen, 0.7, 0.0),
    s(7.5, PercHit::Tumba, 0.65, 0.0),
    // Bongo martillo (from a little warmth).
    s(0.0, PercHit::BongoHigh, 0.6, 0.3),
    s(0.5, PercHit::BongoHigh, 0.35, 0.3),
    s(1.0, PercHit::BongoSlap, 0.55, 0.3),
    s(1.5, PercHit::BongoHigh, 0.35, 0.3),
    s(2.0, PercHit::BongoHigh, 0.6, 0.3),
    s(2.5, PercHit::BongoHigh, 0.35, 0.3),
    s(3.0, PercHit::BongoSlap, 0.55, 0.3),
    s(3.5, PercHit::BongoLow, 0.5, 0.3),
    s(4.0, PercHit::BongoHigh, 0.6, 0.3),
    s(4.5, PercHit::BongoHigh, 0.35, 0.3),
    s(5.0, PercHit::BongoSlap, 0.55, 0.3),
    s(5.5, PercHit::BongoHigh, 0.35, 0.3),
    s(6.0, PercHit::BongoHigh, 0.6, 0.3),
    s(6.5, PercHit::BongoHigh, 0.35, 0.3),
    s(7.0, PercHit::BongoSlap, 0.55, 0.3),
    s(7.5, PercHit::BongoLow, 0.5, 0.3),
    // Cowbell on the beat (the bongocero's bell in the montuno).
    s(0.0, PercHit::Cowbell, 0.55, 0.55),
    s(1.0, PercHit::Cowbell, 0.4, 0.55),
    s(2.0, PercHit::Cowbell, 0.5, 0.55),
    s(3.0, PercHit::Cowbell, 0.4, 0.55),
    s(4.0, PercHit::Cowbell, 0.55, 0.55),
    s(5.0, PercHit::Cowbell, 0.4, 0.55),
    s(6.0, PercHit::Cowbell, 0.5, 0.55),
    s(7.0, PercHit::Cowbell, 0.4, 0.55),
    // Cascara on the timbale shells when it is hot.
    s(0.0, PercHit::Cascara, 0.5, 0.7),
    s(0.5, PercHit::Cascara, 0.3, 0.7),
    s(1.5, PercHit::Cascara, 0.4, 0.7),
    s(2.0, PercHit::Cascara, 0.45, 0.7),
    s(3.0, PercHit::Cascara, 0.5, 0.7),
    s(3.5, PercHit::Cascara, 0.3, 0.7),
    s(4.5, PercHit::Cascara, 0.4, 0.7),
    s(5.0, PercHit::Cascara, 0.45, 0.7),
    s(6.0, PercHit::Cascara, 0.5, 0.7),
    s(7.0, PercHit::Cascara, 0.4, 0.7),
];

/// The timbale fill into a new phrase (beat 4 of its last bar, sixteenths): high, high, low,
/// low, then the rim shot on the downbeat.
pub const TIMBALE_FILL: [(f64, PercHit, f32); 5] = [
    (0.0, PercHit::TimbaleHigh, 0.6),
    (0.25, PercHit::TimbaleHigh, 0.55),
    (0.5, PercHit::TimbaleLow, 0.65),
    (0.75, PercHit::TimbaleLow, 0.75),
    (1.0, PercHit::TimbaleRim, 0.85),
];

/// The stick snare into a change of the dread figure: a buzz roll swelling over the bar's last
/// beat, the snap with a rim shot on the downbeat.
pub const DREAD_ROLL: [(f64, PercHit, f32); 6] = [
    (0.0, PercHit::SnareBuzz, 0.25),
    (0.25, PercHit::SnareBuzz, 0.35),
    (0.5, PercHit::SnareBuzz, 0.45),
    (0.75, PercHit::SnareBuzz, 0.6),
    (1.0, PercHit::SnareSnap, 0.9),
    (1.0, PercHit::SnareRim, 0.5),
];

/// Sparse colours (per bar, chance at tension 0 and 1): the guiro's long scrape on 1, the
/// wood block on the "and" of 2, the shaker's eighths under tension.
pub const SPARSE: [(f64, PercHit, f32, f32, f32); 3] = [
    (0.0, PercHit::GuiroLong, 0.5, 0.2, 0.35),
    (1.5, PercHit::WoodBlock, 0.45, 0.15, 0.3),
    (2.0, PercHit::GuiroShort, 0.4, 0.1, 0.25),
];

/// Tension at or above which the tam-tam marks the head of a section (Sparse and DreadSnare).
pub const TAM_TAM_TENSION: f32 = 0.5;
/// Tension at or above which the shaker plays eighths (Sparse).
pub const SHAKER_TENSION: f32 = 0.6;

impl Composer {
    /// The percussion section's strokes for `beat` (see the module docs).
    pub(super) fn plan_percussion(&mut self, beat: u64, sw: f64, ms: f64) {
        let rules = self.style.percussion;
        if rules.groove == PercGroove::None {
            return;
        }
        let m = self.committed;
        let mut rng = Rng::from_parts(self.seed, beat, S_PERC);
        let b = beat % BEATS_PER_BAR;
        let bar = beat / BEATS_PER_BAR;
        let t0 = beat as f64;
        let dyn_ = (0.55 + 0.45 * m.arousal) * rules.dynamics;
        // An off-beat eighth lands where the band swings it.
        let place = |at: f64| {
            let whole = at.floor();
            let f = at - whole;
            whole + if (f - 0.5).abs() < 1e-9 { sw } else { f }
        };
        let section_head = |bar: u64| {
            bar >= 1 && Section::of_bar(bar) != Section::of_bar(bar - 1)
                || (bar > 4 && (bar - 4).is_multiple_of(8))
        };
        match rules.groove {
            PercGroove::None => {}
            PercGroove::AfroCuban => {
                let cycle_beat = (beat % (2 * BEATS_PER_BAR)) as f64;
                for st in AFRO_CUBAN {
                    if st.at < cycle_beat || st.at >= cycle_beat + 1.0 || m.arousal < st.min_arousal
                    {
                        continue;
                    }
                    let at = t0 + place(st.at - cycle_beat) + rng.range(0.0, 4.0) as f64 * ms;
                    let v = (st.vel * dyn_ + rng.gauss(0.04)).clamp(0.05, 1.0);
                    self.push(
                        at,
                        EventKind::Perc {
                            hit: st.hit,
                            velocity: v,
                        },
                    );
                }
                // A timbale fill into each new phrase when the band is warm, and always
                // when the band hands over to another style there.
                if bar % 4 == 3
                    && b == 3
                    && (self.pending_style.is_some() || rng.chance(0.25 + 0.6 * m.arousal))
                {
                    for (at, hit, vel) in TIMBALE_FILL {
                        self.push(
                            t0 + at,
                            EventKind::Perc {
                                hit,
                                velocity: (vel * dyn_).clamp(0.05, 1.0),
                            },
                        );
                    }
                }
            }
            PercGroove::DreadSnare => {
                // The snare lives on the dread figure: a roll into each of its changes.
                let next_bar = bar + 1;
                let (form, _) = self.form_at(next_bar);
                if b == 3 && form == Form::DreadFigure {
                    let v = (0.6 + 0.4 * m.tension) * rules.dynamics;
                    for (at, hit, vel) in DREAD_ROLL {
                        self.push(
                            t0 + at,
                            EventKind::Perc {
                                hit,
                                velocity: (vel * v).clamp(0.05, 1.0),
                            },
                        );
                    }
                }
                if b == 0 && m.tension >= TAM_TAM_TENSION && section_head(bar) {
                    self.push(
                        t0,
                        EventKind::Perc {
                            hit: PercHit::TamTam,
                            velocity: (0.4 + 0.4 * m.tension) * rules.dynamics,
                        },
                    );
                }
            }
            PercGroove::Sparse => {
                for (at, hit, vel, calm, tense) in SPARSE {
                    if at < b as f64 || at >= b as f64 + 1.0 {
                        continue;
                    }
                    let chance = calm + (tense - calm) * m.tension;
                    if rng.chance(chance) {
                        self.push(
                            t0 + place(at - b as f64) + rng.range(0.0, 8.0) as f64 * ms,
                            EventKind::Perc {
                                hit,
                                velocity: (vel * dyn_ + rng.gauss(0.05)).clamp(0.05, 1.0),
                            },
                        );
                    }
                }
                if m.tension >= SHAKER_TENSION {
                    for (k, at) in [0.0, sw].into_iter().enumerate() {
                        let v = (if k == 0 { 0.3 } else { 0.2 }) * dyn_ * m.tension;
                        self.push(
                            t0 + at + rng.range(0.0, 6.0) as f64 * ms,
                            EventKind::Perc {
                                hit: PercHit::Shaker,
                                velocity: (v + rng.gauss(0.03)).clamp(0.05, 1.0),
                            },
                        );
                    }
                }
                if b == 0 && m.tension >= TAM_TAM_TENSION && section_head(bar) {
                    self.push(
                        t0,
                        EventKind::Perc {
                            hit: PercHit::TamTam,
                            velocity: (0.3 + 0.4 * m.tension) * rules.dynamics,
                        },
                    );
                }
            }
        }
    }
}

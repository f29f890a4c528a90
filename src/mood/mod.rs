//! The mood: valence, arousal and tension, how manual and incoming moods blend, and how the
//! mood drives tempo. Plain `Copy` data used on every thread; no allocation.

/// A point in the product's mood space. Valence follows Russell's circumplex (-1 unpleasant ..
/// +1 pleasant); arousal (0 calm .. 1 agitated) and tension (0 relaxed .. 1 menacing) are
/// unipolar, as the plugin's parameters are.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mood {
    /// -1..1.
    pub valence: f32,
    /// 0..1.
    pub arousal: f32,
    /// 0..1.
    pub tension: f32,
}

impl Default for Mood {
    fn default() -> Self {
        Self::NEUTRAL
    }
}

impl Mood {
    /// The plugin's default: a melancholy, medium-slow noir.
    pub const NEUTRAL: Mood = Mood {
        valence: -0.3,
        arousal: 0.35,
        tension: 0.3,
    };

    /// A mood with every component clamped to its range; NaN becomes the neutral value.
    pub fn sanitized(self) -> Mood {
        fn fix(x: f32, lo: f32, hi: f32, default: f32) -> f32 {
            if x.is_finite() {
                x.clamp(lo, hi)
            } else {
                default
            }
        }
        Mood {
            valence: fix(self.valence, -1.0, 1.0, Self::NEUTRAL.valence),
            arousal: fix(self.arousal, 0.0, 1.0, Self::NEUTRAL.arousal),
            tension: fix(self.tension, 0.0, 1.0, Self::NEUTRAL.tension),
        }
    }

    /// Linear blend: `t` = 0 gives `self`, 1 gives `other`.
    pub fn lerp(self, other: Mood, t: f32) -> Mood {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Mood {
            valence: self.valence + (other.valence - self.valence) * t,
            arousal: self.arousal + (other.arousal - self.arousal) * t,
            tension: self.tension + (other.tension - self.tension) * t,
        }
    }

    /// The tempo this mood asks for when the tempo mode is mood-driven, in BPM. A Wallis-style
    /// additive rule (tempo = t0 + t1 a + t2 v; Wallis et al. 2011; Eerola et al. 2013 rank
    /// tempo second only to mode): arousal 0 gives a ~55 BPM ballad, 0.5 a ~115 BPM medium
    /// swing, 1 a ~175 BPM chase. Valence adds a little lift; tension a little drag.
    pub fn tempo_bpm(self) -> f64 {
        let m = self.sanitized();
        (55.0 + 120.0 * m.arousal as f64 + 8.0 * m.valence as f64 - 6.0 * m.tension as f64)
            .clamp(45.0, 200.0)
    }
}

/// Follows a target mood with a one-pole glide so timbre and mix move continuously.
#[derive(Clone, Copy, Debug)]
pub struct MoodGlide {
    /// Current (smoothed) mood.
    pub current: Mood,
    /// Per-update coefficient.
    coef: f32,
}

impl MoodGlide {
    /// A glide with time constant `tau_s`, updated every `update_samples` at `sample_rate`.
    pub fn new(start: Mood, tau_s: f32, update_samples: usize, sample_rate: f32) -> Self {
        let coef = crate::dsp::util::one_pole_coef(tau_s, sample_rate / update_samples as f32);
        Self {
            current: start,
            coef,
        }
    }

    /// Jump straight to `m` (on reset).
    pub fn snap(&mut self, m: Mood) {
        self.current = m.sanitized();
    }

    /// One update toward `target`.
    pub fn step(&mut self, target: Mood) -> Mood {
        self.current = self.current.lerp(target.sanitized(), self.coef);
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tempo_spans_ballad_to_chase() {
        let ballad = Mood {
            valence: -0.5,
            arousal: 0.0,
            tension: 0.2,
        }
        .tempo_bpm();
        let chase = Mood {
            valence: -0.5,
            arousal: 1.0,
            tension: 0.8,
        }
        .tempo_bpm();
        // 55 - 4 - 1.2 = 49.8 and 55 + 120 - 4 - 4.8 = 166.2
        assert!((ballad - 49.8).abs() < 1e-3, "{ballad}");
        assert!((chase - 166.2).abs() < 1e-3, "{chase}");
    }

    #[test]
    fn nan_and_absurd_values_are_sanitized() {
        let m = Mood {
            valence: f32::NAN,
            arousal: 7.0,
            tension: -3.0,
        }
        .sanitized();
        assert_eq!(m.valence, Mood::NEUTRAL.valence);
        assert_eq!(m.arousal, 1.0);
        assert_eq!(m.tension, 0.0);
        assert!(Mood {
            valence: f32::INFINITY,
            ..Mood::NEUTRAL
        }
        .tempo_bpm()
        .is_finite());
    }

    #[test]
    fn glide_converges_monotonically() {
        let mut g = MoodGlide::new(Mood::NEUTRAL, 0.5, 32, 48000.0);
        let target = Mood {
            valence: 1.0,
            arousal: 1.0,
            tension: 1.0,
        };
        let mut last = g.current.valence;
        // 3 s of updates: 3 time constants = 95 % of the way.
        for _ in 0..(3 * 48000 / 32) {
            let v = g.step(target).valence;
            assert!(v >= last);
            last = v;
        }
        assert!(last > 0.9, "{last}");
    }
}

//! Light → mood: the one documented mapping table. `LightLook` is what a scene's light looks
//! like (plain `Copy` data); `MappingTable::mood` turns it into valence, arousal and tension.
//! Pure functions, no allocation: called on the audio thread at control rate, and by the CLI,
//! the monitor and tests.
//!
//! Sources (see `shared/mood-model.md`):
//! - Valdez & Mehrabian (1994), "Effects of color on emotions", J. Exp. Psych.: General 123(4):
//!   standardized regressions on brightness B and saturation S (normalised here to 0..1):
//!   Pleasure = 0.69 B + 0.22 S, Arousal = -0.31 B + 0.60 S, Dominance = -0.76 B + 0.32 S.
//!   Hue: blue, blue-green, green, red-purple, purple and purple-blue most pleasant; yellow
//!   and green-yellow least; green-yellow, blue-green and green most arousing.
//! - Palmer et al. (2013, PNAS): darker, desaturated, bluer colours go with slower minor music
//!   (small "yellow lifts arousal" term below).
//! - Colour temperature: warm (2000-3500 K) reads intimate/nostalgic, cool (5500 K+) clinical
//!   and slightly more alerting (6000-6500 K raised alertness a little, rated less pleasant).
//! - Tension for this product: high contrast (chiaroscuro), low brightness, flicker, and low
//!   dominance of the viewer.
//!
//! Every constant lives in `MappingTable::DEFAULT`; nothing else in the crate holds one.

use super::event::{clamp01, Palette};
use crate::mood::Mood;

/// What the light looks like at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LightLook {
    /// Overall level 0..1.
    pub intensity: f32,
    /// Key light colour, 0..1 each.
    pub rgb: [f32; 3],
    /// Colour temperature of the white light, kelvin.
    pub cct_k: f32,
    /// Key-to-fill contrast 0..1.
    pub contrast: f32,
    /// Unsteadiness 0..1.
    pub flicker: f32,
    /// The scene palette (may be empty).
    pub palette: Palette,
}

impl Default for LightLook {
    fn default() -> Self {
        Self::NEUTRAL
    }
}

impl LightLook {
    /// A plain, medium, neutral-white look: the state before any light arrives.
    pub const NEUTRAL: LightLook = LightLook {
        intensity: 0.6,
        rgb: [1.0, 1.0, 1.0],
        cct_k: 4500.0,
        contrast: 0.3,
        flicker: 0.0,
        palette: Palette::EMPTY,
    };

    /// Linear blend toward `to` by `t` (0..1); hue-free (RGB), so fades look like a desk's.
    pub fn lerp(&self, to: &LightLook, t: f32) -> LightLook {
        let t = clamp01(t);
        // Exact ends: a finished fade shows exactly the cue's values.
        if t >= 1.0 {
            return *to;
        }
        if t <= 0.0 {
            return *self;
        }
        let l = |a: f32, b: f32| a + (b - a) * t;
        let mut palette = if t < 0.5 { self.palette } else { to.palette };
        if self.palette.len == to.palette.len {
            for i in 0..self.palette.len as usize {
                for k in 0..4 {
                    palette.colors[i][k] = l(self.palette.colors[i][k], to.palette.colors[i][k]);
                }
            }
        }
        LightLook {
            intensity: l(self.intensity, to.intensity),
            rgb: [
                l(self.rgb[0], to.rgb[0]),
                l(self.rgb[1], to.rgb[1]),
                l(self.rgb[2], to.rgb[2]),
            ],
            cct_k: l(self.cct_k, to.cct_k),
            contrast: l(self.contrast, to.contrast),
            flicker: l(self.flicker, to.flicker),
            palette,
        }
    }
}

/// RGB (0..1) to hue (degrees 0..360), saturation and value (0..1).
pub fn rgb_to_hsv(rgb: [f32; 3]) -> (f32, f32, f32) {
    let [r, g, b] = rgb.map(clamp01);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let s = if max > 0.0 { d / max } else { 0.0 };
    let h = if d <= 1e-6 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    (h, s, max)
}

/// Hue (degrees), saturation and value (0..1) to RGB 0..1.
pub fn hsv_to_rgb(h_deg: f32, s: f32, v: f32) -> [f32; 3] {
    let h = if h_deg.is_finite() {
        h_deg.rem_euclid(360.0)
    } else {
        0.0
    };
    let (s, v) = (clamp01(s), clamp01(v));
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = v - c;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [r + m, g + m, b + m]
}

/// Piecewise-linear curve over hue in degrees: `(hue, value)` anchors from 0 to 360.
fn hue_curve(anchors: &[(f32, f32)], h: f32) -> f32 {
    let h = h.rem_euclid(360.0);
    for w in anchors.windows(2) {
        let ((h0, v0), (h1, v1)) = (w[0], w[1]);
        if h >= h0 && h <= h1 {
            let t = if h1 > h0 { (h - h0) / (h1 - h0) } else { 0.0 };
            return v0 + (v1 - v0) * t;
        }
    }
    anchors.last().map(|a| a.1).unwrap_or(0.0)
}

/// The colour features the table reads, before weighting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColorFeatures {
    /// Brightness B 0..1 (intensity times the colour's value).
    pub brightness: f32,
    /// Saturation S 0..1.
    pub saturation: f32,
    /// Hue pleasantness -1..1 (Valdez & Mehrabian's hue ranking).
    pub hue_pleasure: f32,
    /// Hue arousal -0.5..0.5 (green-yellow, blue-green, green most arousing).
    pub hue_arousal: f32,
    /// Warmth -1 (cool, 7000 K+) .. 1 (warm, 2000 K).
    pub warmth: f32,
}

/// All the constants of light → mood in one place. See the module docs for the sources.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MappingTable {
    /// Valdez & Mehrabian pleasure regression: (B coefficient, S coefficient).
    pub vm_pleasure: (f32, f32),
    /// Valdez & Mehrabian arousal regression: (B, S).
    pub vm_arousal: (f32, f32),
    /// Valdez & Mehrabian dominance regression: (B, S).
    pub vm_dominance: (f32, f32),
    /// Hue pleasantness anchors (degrees, -1..1): yellow/green-yellow lowest, blues highest.
    pub hue_pleasure: [(f32, f32); 10],
    /// Hue arousal anchors (degrees, -0.5..0.5): green-yellow, green, blue-green highest.
    pub hue_arousal: [(f32, f32); 9],
    /// How much the palette counts against the key colour when both are set (0..1).
    pub palette_weight: f32,
    /// Neutral colour temperature (no warm/cool effect), kelvin.
    pub cct_neutral_k: f32,
    /// Kelvin from neutral to full warm/cool.
    pub cct_span_k: f32,
    /// Valence: base (noir sits in the low-valence half), gain on (P - pleasure_mid),
    /// pleasure midpoint, hue term gain (times S), warmth gain.
    pub valence_base: f32,
    /// See `valence_base`.
    pub valence_gain: f32,
    /// See `valence_base`.
    pub pleasure_mid: f32,
    /// See `valence_base`.
    pub valence_hue: f32,
    /// See `valence_base`.
    pub valence_warm: f32,
    /// Arousal: base, gain on V&M arousal, hue term (times S), flicker, coolness (-warmth),
    /// and the lift from a lighting hit.
    pub arousal_base: f32,
    /// See `arousal_base`.
    pub arousal_gain: f32,
    /// See `arousal_base`.
    pub arousal_hue: f32,
    /// See `arousal_base`.
    pub arousal_flicker: f32,
    /// See `arousal_base`.
    pub arousal_cool: f32,
    /// See `arousal_base`.
    pub arousal_hit: f32,
    /// Tension: base, contrast, flicker, darkness (1 - B), low dominance (-D), coolness and
    /// hit gains.
    pub tension_base: f32,
    /// See `tension_base`.
    pub tension_contrast: f32,
    /// See `tension_base`.
    pub tension_flicker: f32,
    /// See `tension_base`.
    pub tension_dark: f32,
    /// See `tension_base`.
    pub tension_low_dominance: f32,
    /// See `tension_base`.
    pub tension_cool: f32,
    /// See `tension_base`.
    pub tension_hit: f32,
    /// A lighting hit's decay time constant, seconds.
    pub hit_decay_s: f32,
    /// Sidechain analysis: arousal gain on loudness (0..1, centred at 0.5); the spectral
    /// centroid acts as brightness B and the flux as flicker in the table above.
    pub sidechain_loud_arousal: f32,
    /// Sidechain analysis: tension gain on loudness.
    pub sidechain_loud_tension: f32,
}

impl Default for MappingTable {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl MappingTable {
    /// The shipped table.
    pub const DEFAULT: MappingTable = MappingTable {
        vm_pleasure: (0.69, 0.22),
        vm_arousal: (-0.31, 0.60),
        vm_dominance: (-0.76, 0.32),
        // red 0, yellow 60 and green-yellow 90 least pleasant, green 120, blue-green 180,
        // blue 240, purple-blue 260, purple 280, red-purple 320 pleasant.
        hue_pleasure: [
            (0.0, 0.0),
            (60.0, -1.0),
            (90.0, -1.0),
            (120.0, 0.5),
            (180.0, 0.8),
            (240.0, 1.0),
            (260.0, 0.9),
            (280.0, 0.7),
            (320.0, 0.6),
            (360.0, 0.0),
        ],
        // green-yellow 90 most arousing, green 120 and blue-green 180 next; blues and purples
        // calm; yellow a little lift (Palmer et al. 2013).
        hue_arousal: [
            (0.0, 0.1),
            (60.0, 0.2),
            (90.0, 0.5),
            (120.0, 0.4),
            (180.0, 0.35),
            (240.0, -0.3),
            (280.0, -0.3),
            (320.0, 0.0),
            (360.0, 0.1),
        ],
        palette_weight: 0.5,
        cct_neutral_k: 4500.0,
        cct_span_k: 2500.0,
        valence_base: -0.3,
        valence_gain: 1.6,
        pleasure_mid: 0.45,
        valence_hue: 0.3,
        valence_warm: 0.15,
        arousal_base: 0.3,
        arousal_gain: 0.9,
        arousal_hue: 0.3,
        arousal_flicker: 0.25,
        arousal_cool: 0.08,
        arousal_hit: 0.35,
        tension_base: 0.05,
        tension_contrast: 0.4,
        tension_flicker: 0.3,
        tension_dark: 0.3,
        tension_low_dominance: 0.1,
        tension_cool: 0.08,
        tension_hit: 0.4,
        hit_decay_s: 1.5,
        sidechain_loud_arousal: 0.5,
        sidechain_loud_tension: 0.1,
    };

    /// The colour features of `look`: key colour and palette (weighted by `palette_weight`).
    pub fn features(&self, look: &LightLook) -> ColorFeatures {
        // Weighted HSV statistics; hue averaged on the circle, weighted by saturation.
        let mut acc = HueAcc::default();
        let (h, s, v) = rgb_to_hsv(look.rgb);
        let pal = look.palette.colors();
        let pal_total: f32 = pal.iter().map(|c| clamp01(c[3])).sum();
        let key_w = if pal_total > 0.0 {
            1.0 - self.palette_weight
        } else {
            1.0
        };
        acc.add(self, h, s, v, key_w);
        if pal_total > 0.0 {
            for c in pal {
                let (h, s, v) = rgb_to_hsv([c[0], c[1], c[2]]);
                acc.add(
                    self,
                    h,
                    s,
                    v,
                    self.palette_weight * clamp01(c[3]) / pal_total,
                );
            }
        }
        let cct = if look.cct_k.is_finite() {
            look.cct_k
        } else {
            self.cct_neutral_k
        };
        ColorFeatures {
            brightness: clamp01(look.intensity) * clamp01(acc.v),
            saturation: clamp01(acc.s),
            hue_pleasure: acc.hp,
            hue_arousal: acc.ha,
            warmth: ((self.cct_neutral_k - cct) / self.cct_span_k).clamp(-1.0, 1.0),
        }
    }

    /// The mood of `look`, with a lighting hit envelope `hit` (0..1) on top.
    pub fn mood(&self, look: &LightLook, hit: f32) -> Mood {
        let f = self.features(look);
        let (b, s) = (f.brightness, f.saturation);
        let p = self.vm_pleasure.0 * b + self.vm_pleasure.1 * s;
        let a = self.vm_arousal.0 * b + self.vm_arousal.1 * s;
        let d = self.vm_dominance.0 * b + self.vm_dominance.1 * s;
        let hit = clamp01(hit);
        let flicker = clamp01(look.flicker);
        let cool = (-f.warmth).max(0.0);
        let valence = self.valence_base
            + self.valence_gain * (p - self.pleasure_mid)
            + self.valence_hue * f.hue_pleasure * s
            + self.valence_warm * f.warmth;
        let arousal = self.arousal_base
            + self.arousal_gain * a
            + self.arousal_hue * f.hue_arousal * s
            + self.arousal_flicker * flicker
            + self.arousal_cool * cool
            + self.arousal_hit * hit;
        let tension = self.tension_base
            + self.tension_contrast * clamp01(look.contrast)
            + self.tension_flicker * flicker
            + self.tension_dark * (1.0 - b)
            + self.tension_low_dominance * (-d).max(0.0)
            + self.tension_cool * cool
            + self.tension_hit * hit;
        Mood {
            valence,
            arousal,
            tension,
        }
        .sanitized()
    }
}

impl MappingTable {
    /// A mood given outright (a cue sheet's) with a lighting hit's lift on top, as `mood`
    /// adds it to a look's.
    pub fn lift(&self, m: Mood, hit: f32) -> Mood {
        let hit = clamp01(hit);
        Mood {
            valence: m.valence,
            arousal: m.arousal + self.arousal_hit * hit,
            tension: m.tension + self.tension_hit * hit,
        }
        .sanitized()
    }

    /// The look the sidechain analysis stands for: spectral centroid as brightness (a white
    /// light at that level), flux as flicker.
    pub fn sidechain_look(&self, brightness: f32, agitation: f32) -> LightLook {
        LightLook {
            intensity: clamp01(brightness),
            rgb: [1.0, 1.0, 1.0],
            flicker: clamp01(agitation),
            ..LightLook::NEUTRAL
        }
    }

    /// The mood of sidechain analysis features: `sidechain_look` through the table, with
    /// loudness lifting arousal (Gabrielsson & Lindstrom: loudness is an arousal cue).
    pub fn sidechain_mood(&self, brightness: f32, agitation: f32, loudness: f32, hit: f32) -> Mood {
        let mut m = self.mood(&self.sidechain_look(brightness, agitation), hit);
        let l = clamp01(loudness) - 0.5;
        m.arousal += self.sidechain_loud_arousal * l;
        m.tension += self.sidechain_loud_tension * l;
        m.sanitized()
    }
}

/// Weighted accumulator of HSV features.
#[derive(Default)]
struct HueAcc {
    s: f32,
    v: f32,
    hp: f32,
    ha: f32,
}

impl HueAcc {
    fn add(&mut self, t: &MappingTable, h: f32, s: f32, v: f32, w: f32) {
        self.s += w * s;
        self.v += w * v;
        // Hue terms only mean something for a coloured light: weight them by saturation.
        self.hp += w * s * hue_curve(&t.hue_pleasure, h);
        self.ha += w * s * hue_curve(&t.hue_arousal, h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(intensity: f32, rgb: [f32; 3]) -> LightLook {
        LightLook {
            intensity,
            rgb,
            ..LightLook::NEUTRAL
        }
    }

    #[test]
    fn hsv_round_trips() {
        for rgb in [
            [1.0, 0.0, 0.0],
            [0.2, 0.4, 0.9],
            [0.5, 0.5, 0.5],
            [0.1, 0.8, 0.3],
        ] {
            let (h, s, v) = rgb_to_hsv(rgb);
            let back = hsv_to_rgb(h, s, v);
            for k in 0..3 {
                assert!((back[k] - rgb[k]).abs() < 1e-5, "{rgb:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn brighter_is_more_pleasant_and_darker_is_tenser() {
        let t = MappingTable::DEFAULT;
        let dim = t.mood(&look(0.1, [1.0, 1.0, 1.0]), 0.0);
        let bright = t.mood(&look(1.0, [1.0, 1.0, 1.0]), 0.0);
        // White: S = 0, so P = 0.69 B: 0.069 vs 0.69 -> valence rises by 1.6 * 0.621 = 0.99.
        assert!((bright.valence - dim.valence - 1.6 * 0.69 * 0.9).abs() < 1e-4);
        assert!(dim.tension > bright.tension);
        // Brightness lowers V&M arousal (-0.31 B).
        assert!(bright.arousal < dim.arousal);
    }

    #[test]
    fn saturation_raises_arousal_and_blue_beats_yellow() {
        let t = MappingTable::DEFAULT;
        let grey = t.mood(&look(0.7, [0.8, 0.8, 0.8]), 0.0);
        let blue = t.mood(&look(0.7, [0.0, 0.0, 0.8]), 0.0);
        let yellow = t.mood(&look(0.7, [0.8, 0.8, 0.0]), 0.0);
        assert!(blue.arousal > grey.arousal);
        assert!(blue.valence > yellow.valence);
    }

    #[test]
    fn contrast_flicker_and_hits_raise_tension() {
        let t = MappingTable::DEFAULT;
        let base = LightLook::NEUTRAL;
        let m0 = t.mood(&base, 0.0);
        let m1 = t.mood(
            &LightLook {
                contrast: 1.0,
                flicker: 1.0,
                ..base
            },
            0.0,
        );
        assert!(m1.tension > m0.tension + 0.3);
        assert!(m1.arousal > m0.arousal);
        assert!(t.mood(&base, 1.0).tension > m0.tension);
    }

    #[test]
    fn warm_light_is_warmer_than_cool() {
        let t = MappingTable::DEFAULT;
        let warm = t.mood(
            &LightLook {
                cct_k: 2200.0,
                ..LightLook::NEUTRAL
            },
            0.0,
        );
        let cool = t.mood(
            &LightLook {
                cct_k: 8000.0,
                ..LightLook::NEUTRAL
            },
            0.0,
        );
        assert!(warm.valence > cool.valence);
        assert!(cool.tension > warm.tension);
    }

    #[test]
    fn palette_counts_and_nan_is_safe() {
        let t = MappingTable::DEFAULT;
        let white = LightLook::NEUTRAL;
        let blue_pal = LightLook {
            palette: Palette::from_quads(&[[0.0, 0.1, 0.9, 1.0], [0.1, 0.0, 0.6, 0.5]]),
            ..white
        };
        assert_ne!(t.mood(&white, 0.0), t.mood(&blue_pal, 0.0));
        let nan = LightLook {
            intensity: f32::NAN,
            rgb: [f32::NAN; 3],
            cct_k: f32::NAN,
            contrast: f32::INFINITY,
            flicker: -5.0,
            palette: Palette::EMPTY,
        };
        let m = t.mood(&nan, f32::NAN);
        assert!(m.valence.is_finite() && m.arousal.is_finite() && m.tension.is_finite());
    }
}

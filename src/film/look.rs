//! The look of a frame: dominant colours with weights (k-means in CIELAB through the
//! `kmeans_colors` crate, Hamerly's accelerated Lloyd iteration, k-means++ seeding, the best of
//! a few seeded runs), key-light brightness, contrast, saturation and the correlated colour
//! temperature, and the `LightLook` a cue sheet carries. Main thread (CLI, editor file load).
//!
//! Definitions (all on sRGB frames, D65):
//! - lightness L* (CIE 1976) of every pixel from its relative luminance Y (BT.709 weights on
//!   linear RGB); **key brightness** = the 90th percentile of L* / 100 (the lit side of the
//!   frame); **intensity** = mean L* / 100 (the frame's overall level); **contrast** =
//!   (95th - 5th percentile of L*) / 100, the luminance spread (0 flat, 1 chiaroscuro);
//!   **saturation** = mean HSV saturation of the pixels.
//! - **CCT** by McCamy's cubic (C. S. McCamy, "Correlated color temperature as an explicit
//!   function of chromaticity coordinates", Color Res. Appl. 17(2), 1992) from the chromaticity
//!   (x, y) of the frame's mean linear colour. When that chromaticity lies near the Planckian
//!   locus (|Duv| <= `WHITE_DUV`, measured against Kim et al.'s 2002 cubic fit of the locus)
//!   the frame is lit by white light of that temperature and the key colour is white;
//!   otherwise the cast is a coloured light and becomes the key colour.

use crate::light::event::MAX_PALETTE;
use crate::light::mapping::LightLook;
use crate::light::Palette;
use kmeans_colors::{get_kmeans_hamerly, Sort};
use palette::{FromColor, IntoColor, Lab, Srgb};
use std::path::Path;

/// Largest |Duv| at which a frame's cast counts as white light of some temperature.
pub const WHITE_DUV: f32 = 0.02;
/// Longest edge of the frame the k-means runs on (pixels are area-averaged down to it).
pub const KMEANS_EDGE: u32 = 200;
/// Colours closer than this (CIE76 ΔE) are merged after clustering.
pub const MERGE_DELTA_E: f32 = 6.0;
/// Clusters smaller than this share of the frame are dropped.
pub const MIN_WEIGHT: f32 = 0.01;

/// One dominant colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Swatch {
    /// sRGB, 8 bits a channel.
    pub rgb: [u8; 3],
    /// CIELAB (D65): L*, a*, b*.
    pub lab: [f32; 3],
    /// Share of the frame, 0..1 (the swatches sum to 1).
    pub weight: f32,
}

impl Swatch {
    /// `#rrggbb`.
    pub fn hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.rgb[0], self.rgb[1], self.rgb[2])
    }
}

/// What a frame looks like.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameLook {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Dominant colours, heaviest first.
    pub swatches: Vec<Swatch>,
    /// Key-light brightness 0..1 (90th percentile of L*).
    pub key_brightness: f32,
    /// Overall level 0..1 (mean L*).
    pub intensity: f32,
    /// Luminance spread 0..1.
    pub contrast: f32,
    /// Mean HSV saturation 0..1.
    pub saturation: f32,
    /// Chromaticity (x, y) of the mean colour.
    pub xy: [f32; 2],
    /// Correlated colour temperature (McCamy), kelvin.
    pub cct_k: f32,
    /// Distance from the Planckian locus in CIE 1960 uv (positive above it, toward green).
    pub duv: f32,
    /// The mean colour, normalised to its largest channel (sRGB-encoded 0..1).
    pub cast_rgb: [f32; 3],
}

/// sRGB transfer: 8-bit code → linear.
fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear → sRGB-encoded 0..1.
pub fn linear_to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.0031308 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// CIE L* (0..100) of relative luminance Y (0..1).
pub fn lightness(y: f32) -> f32 {
    let e = 216.0 / 24389.0;
    let f = if y > e {
        y.cbrt()
    } else {
        (24389.0 / 27.0 * y + 16.0) / 116.0
    };
    116.0 * f - 16.0
}

/// Linear sRGB → XYZ (D65).
pub fn rgb_to_xyz(c: [f32; 3]) -> [f32; 3] {
    [
        0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2],
        0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2],
        0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2],
    ]
}

/// XYZ (D65) → linear sRGB.
pub fn xyz_to_rgb(c: [f32; 3]) -> [f32; 3] {
    [
        3.2406 * c[0] - 1.5372 * c[1] - 0.4986 * c[2],
        -0.9689 * c[0] + 1.8758 * c[1] + 0.0415 * c[2],
        0.0557 * c[0] - 0.2040 * c[1] + 1.0570 * c[2],
    ]
}

/// McCamy's CCT (kelvin) from chromaticity (x, y).
pub fn mccamy_cct(x: f32, y: f32) -> f32 {
    let n = (x - 0.3320) / (0.1858 - y);
    449.0 * n * n * n + 3525.0 * n * n + 6823.3 * n + 5520.33
}

/// The Planckian locus (x, y) at `t_k` kelvin, 1667..25000 K (Kim et al. 2002, "Design of
/// advanced color temperature control system for HDTV applications", J. Korean Phys. Soc.
/// 41(6)).
pub fn planckian_xy(t_k: f32) -> [f32; 2] {
    let t = t_k.clamp(1667.0, 25000.0) as f64;
    let x = if t <= 4000.0 {
        -0.2661239e9 / (t * t * t) - 0.2343589e6 / (t * t) + 0.8776956e3 / t + 0.179910
    } else {
        -3.0258469e9 / (t * t * t) + 2.1070379e6 / (t * t) + 0.2226347e3 / t + 0.240390
    };
    let y = if t <= 2222.0 {
        -1.1063814 * x * x * x - 1.34811020 * x * x + 2.18555832 * x - 0.20219683
    } else if t <= 4000.0 {
        -0.9549476 * x * x * x - 1.37418593 * x * x + 2.09137015 * x - 0.16748867
    } else {
        3.0817580 * x * x * x - 5.87338670 * x * x + 3.75112997 * x - 0.37001483
    };
    [x as f32, y as f32]
}

fn uv(xy: [f32; 2]) -> [f32; 2] {
    let d = -2.0 * xy[0] + 12.0 * xy[1] + 3.0;
    [4.0 * xy[0] / d, 6.0 * xy[1] / d]
}

/// Why a frame could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct LookError(pub String);

impl std::fmt::Display for LookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LookError {}

/// Reads an image file (PNG or JPEG) as 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<image::RgbImage, LookError> {
    let bytes = std::fs::read(path).map_err(|e| LookError(format!("{}: {e}", path.display())))?;
    let format = image::guess_format(&bytes)
        .ok()
        .filter(|f| matches!(f, image::ImageFormat::Png | image::ImageFormat::Jpeg))
        .ok_or_else(|| LookError(format!("{}: not a PNG or JPEG image", path.display())))?;
    let img = image::load_from_memory_with_format(&bytes, format)
        .map_err(|e| LookError(format!("{}: cannot decode the image: {e}", path.display())))?;
    if img.width() == 0 || img.height() == 0 {
        return Err(LookError(format!("{}: the image is empty", path.display())));
    }
    Ok(img.to_rgb8())
}

/// Clusters `pixels` (sRGB 8-bit) into at most `k` weighted colours.
pub fn dominant_colours(pixels: &[[u8; 3]], k: usize) -> Vec<Swatch> {
    if pixels.is_empty() || k == 0 {
        return Vec::new();
    }
    let lab: Vec<Lab> = pixels
        .iter()
        .map(|p| {
            Lab::from_color(
                Srgb::new(p[0], p[1], p[2])
                    .into_format::<f32>()
                    .into_linear(),
            )
        })
        .collect();
    let k = k.min(lab.len());
    // The best (lowest score) of three seeded runs; fixed seeds keep the result reproducible.
    let mut best: Option<kmeans_colors::Kmeans<Lab>> = None;
    for seed in 0..3u64 {
        let run = get_kmeans_hamerly(k, 40, 0.0025, false, &lab, 0x6e6f6972 + seed);
        if best.as_ref().is_none_or(|b| run.score < b.score) {
            best = Some(run);
        }
    }
    let best = best.expect("ran at least once");
    let data = Lab::sort_indexed_colors(&best.centroids, &best.indices);
    // Merge near-duplicates (weighted means), drop slivers, heaviest first.
    let mut merged: Vec<(Lab, f32)> = Vec::new();
    let mut sorted: Vec<_> = data.iter().filter(|d| d.percentage > 0.0).collect();
    sorted.sort_by(|a, b| b.percentage.total_cmp(&a.percentage));
    for d in sorted {
        let c = d.centroid;
        if let Some(m) = merged.iter_mut().find(|(m, _)| {
            let (dl, da, db) = (m.l - c.l, m.a - c.a, m.b - c.b);
            (dl * dl + da * da + db * db).sqrt() < MERGE_DELTA_E
        }) {
            let w = m.1 + d.percentage;
            let t = d.percentage / w;
            m.0 = Lab::new(
                m.0.l + (c.l - m.0.l) * t,
                m.0.a + (c.a - m.0.a) * t,
                m.0.b + (c.b - m.0.b) * t,
            );
            m.1 = w;
        } else {
            merged.push((c, d.percentage));
        }
    }
    merged.retain(|(_, w)| *w >= MIN_WEIGHT);
    merged.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f32 = merged.iter().map(|m| m.1).sum::<f32>().max(1e-9);
    merged
        .into_iter()
        .map(|(lab, w)| {
            let lin: palette::LinSrgb<f32> = lab.into_color();
            let rgb: Srgb<u8> = Srgb::<f32>::from_linear(lin).into_format();
            Swatch {
                rgb: [rgb.red, rgb.green, rgb.blue],
                lab: [lab.l, lab.a, lab.b],
                weight: w / total,
            }
        })
        .collect()
}

/// Analyses an RGB frame; `k` dominant colours at most.
pub fn analyze(img: &image::RgbImage, k: usize) -> FrameLook {
    let (w, h) = img.dimensions();
    let lut: Vec<f32> = (0..256).map(|i| srgb_to_linear(i as f32 / 255.0)).collect();
    const BINS: usize = 4096;
    let mut hist = vec![0u64; BINS];
    let mut sum_lin = [0.0f64; 3];
    let mut sum_l = 0.0f64;
    let mut sum_sat = 0.0f64;
    // L* per luminance bin (the histogram is over Y).
    let l_of_bin: Vec<f32> = (0..BINS)
        .map(|b| lightness((b as f32 + 0.5) / BINS as f32))
        .collect();
    for p in img.pixels() {
        let [r, g, b] = p.0;
        let (lr, lg, lb) = (lut[r as usize], lut[g as usize], lut[b as usize]);
        sum_lin[0] += lr as f64;
        sum_lin[1] += lg as f64;
        sum_lin[2] += lb as f64;
        let y = 0.2126 * lr + 0.7152 * lg + 0.0722 * lb;
        let bin = ((y * BINS as f32) as usize).min(BINS - 1);
        hist[bin] += 1;
        sum_l += l_of_bin[bin] as f64;
        let max = r.max(g).max(b);
        if max > 0 {
            sum_sat += (max - r.min(g).min(b)) as f64 / max as f64;
        }
    }
    let n = (w as u64 * h as u64).max(1);
    let percentile = |q: f64| -> f32 {
        let target = (q * n as f64).ceil().max(1.0) as u64;
        let mut acc = 0;
        for (b, &c) in hist.iter().enumerate() {
            acc += c;
            if acc >= target {
                return l_of_bin[b];
            }
        }
        100.0
    };
    let (p5, p90, p95) = (percentile(0.05), percentile(0.90), percentile(0.95));
    let mean = sum_lin.map(|s| (s / n as f64) as f32);
    let xyz = rgb_to_xyz(mean);
    let s = xyz[0] + xyz[1] + xyz[2];
    let xy = if s > 1e-6 {
        [xyz[0] / s, xyz[1] / s]
    } else {
        [0.3127, 0.3290]
    };
    let cct_k = mccamy_cct(xy[0], xy[1]).clamp(1000.0, 25000.0);
    let [u, v] = uv(xy);
    let [pu, pv] = uv(planckian_xy(cct_k));
    let duv = ((u - pu).powi(2) + (v - pv).powi(2)).sqrt() * if v >= pv { 1.0 } else { -1.0 };
    let mx = mean[0].max(mean[1]).max(mean[2]);
    let cast_rgb = if mx > 1e-6 {
        mean.map(|c| linear_to_srgb(c / mx))
    } else {
        [1.0, 1.0, 1.0]
    };
    let small = if w.max(h) > KMEANS_EDGE {
        let scale = KMEANS_EDGE as f32 / w.max(h) as f32;
        image::imageops::thumbnail(
            img,
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
        )
    } else {
        img.clone()
    };
    let pixels: Vec<[u8; 3]> = small.pixels().map(|p| p.0).collect();
    FrameLook {
        width: w,
        height: h,
        swatches: dominant_colours(&pixels, k),
        key_brightness: p90 / 100.0,
        intensity: (sum_l / n as f64 / 100.0) as f32,
        contrast: ((p95 - p5) / 100.0).clamp(0.0, 1.0),
        saturation: (sum_sat / n as f64) as f32,
        xy,
        cct_k,
        duv,
        cast_rgb,
    }
}

impl FrameLook {
    /// Whether the cast reads as white light of `cct_k` (near the Planckian locus).
    pub fn is_white_light(&self) -> bool {
        self.duv.abs() <= WHITE_DUV
    }

    /// The light look a cue carries: level, key colour (white at the measured temperature,
    /// or the coloured cast), contrast and the palette.
    pub fn light_look(&self) -> LightLook {
        let white = self.is_white_light();
        let quads: Vec<[f32; 4]> = self
            .swatches
            .iter()
            .take(MAX_PALETTE)
            .map(|s| {
                [
                    s.rgb[0] as f32 / 255.0,
                    s.rgb[1] as f32 / 255.0,
                    s.rgb[2] as f32 / 255.0,
                    s.weight,
                ]
            })
            .collect();
        LightLook {
            intensity: self.intensity.clamp(0.0, 1.0),
            rgb: if white {
                [1.0, 1.0, 1.0]
            } else {
                self.cast_rgb
            },
            cct_k: if white {
                self.cct_k.clamp(1000.0, 20000.0)
            } else {
                LightLook::NEUTRAL.cct_k
            },
            contrast: self.contrast,
            flicker: 0.0,
            palette: Palette::from_quads(&quads),
        }
    }

    /// A multi-line report for people.
    pub fn report(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "size: {} x {}", self.width, self.height);
        let _ = writeln!(s, "key brightness: {:.3}", self.key_brightness);
        let _ = writeln!(s, "intensity (mean L*): {:.3}", self.intensity);
        let _ = writeln!(s, "contrast (L* spread): {:.3}", self.contrast);
        let _ = writeln!(s, "saturation: {:.3}", self.saturation);
        let _ = writeln!(
            s,
            "colour temperature: {:.0} K (McCamy; x {:.4} y {:.4}, Duv {:+.4}{})",
            self.cct_k,
            self.xy[0],
            self.xy[1],
            self.duv,
            if self.is_white_light() {
                ", white light"
            } else {
                ", a coloured light"
            }
        );
        let _ = writeln!(s, "dominant colours:");
        for sw in &self.swatches {
            let _ = writeln!(s, "  {}  {:5.1}%", sw.hex(), sw.weight * 100.0);
        }
        s
    }

    /// The JSON form: `{"colors": [{"hex": "#rrggbb", "weight": 0.41}, ...], ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        let r3 = |v: f32| (v as f64 * 1000.0).round() / 1000.0;
        serde_json::json!({
            "width": self.width,
            "height": self.height,
            "colors": self.swatches.iter().map(|s| serde_json::json!({
                "hex": s.hex(),
                "weight": r3(s.weight),
                "lab": s.lab.map(|v| (v as f64 * 10.0).round() / 10.0),
            })).collect::<Vec<_>>(),
            "key_brightness": r3(self.key_brightness),
            "intensity": r3(self.intensity),
            "contrast": r3(self.contrast),
            "saturation": r3(self.saturation),
            "cct": self.cct_k.round(),
            "xy": self.xy.map(|v| (v as f64 * 10000.0).round() / 10000.0),
            "duv": (self.duv as f64 * 10000.0).round() / 10000.0,
            "white_light": self.is_white_light(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab_of(rgb: [u8; 3]) -> [f32; 3] {
        let l = Lab::from_color(
            Srgb::new(rgb[0], rgb[1], rgb[2])
                .into_format::<f32>()
                .into_linear(),
        );
        [l.l, l.a, l.b]
    }

    fn delta_e(a: [f32; 3], b: [f32; 3]) -> f32 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    }

    /// Vertical bands of `colours` covering the given shares of a 640 x 360 frame, with a
    /// little noise so no colour is a single point.
    fn bands(colours: &[([u8; 3], f32)]) -> image::RgbImage {
        let (w, h) = (640u32, 360u32);
        let mut img = image::RgbImage::new(w, h);
        let mut rng = 12345u32;
        for x in 0..w {
            let mut acc = 0.0;
            let mut c = colours[colours.len() - 1].0;
            for (col, share) in colours {
                acc += share;
                if (x as f32 + 0.5) / w as f32 <= acc {
                    c = *col;
                    break;
                }
            }
            for y in 0..h {
                rng = rng.wrapping_mul(1664525).wrapping_add(1013904223);
                let n = ((rng >> 24) % 5) as i32 - 2;
                let px = c.map(|v| (v as i32 + n).clamp(0, 255) as u8);
                img.put_pixel(x, y, image::Rgb(px));
            }
        }
        img
    }

    #[test]
    fn palettes_come_back_within_delta_e_3() {
        let cases: [&[([u8; 3], f32)]; 3] = [
            &[
                ([20, 28, 60], 0.6),
                ([232, 160, 64], 0.3),
                ([208, 32, 106], 0.1),
            ],
            &[([200, 30, 40], 0.5), ([30, 50, 200], 0.5)],
            &[
                ([240, 220, 192], 0.4),
                ([106, 64, 40], 0.25),
                ([60, 120, 80], 0.2),
                ([12, 12, 14], 0.15),
            ],
        ];
        for colours in cases {
            let look = analyze(&bands(colours), 5);
            assert_eq!(look.swatches.len(), colours.len(), "{:?}", look.swatches);
            for (c, share) in colours {
                let want = lab_of(*c);
                let best = look
                    .swatches
                    .iter()
                    .min_by(|a, b| delta_e(a.lab, want).total_cmp(&delta_e(b.lab, want)))
                    .unwrap();
                let de = delta_e(best.lab, want);
                assert!(de < 3.0, "{c:?}: ΔE {de} ({:?})", best);
                assert!(
                    (best.weight - share).abs() < 0.03,
                    "{c:?}: weight {}",
                    best.weight
                );
            }
            let sum: f32 = look.swatches.iter().map(|s| s.weight).sum();
            assert!((sum - 1.0).abs() < 1e-4);
        }
    }

    /// A frame lit by a blackbody at `t_k`: the locus colour at levels from 0.25 to 1.
    fn blackbody_frame(t_k: f32) -> image::RgbImage {
        let [x, y] = planckian_xy(t_k);
        let xyz = [x / y, 1.0, (1.0 - x - y) / y];
        let lin = xyz_to_rgb(xyz);
        let m = lin[0].max(lin[1]).max(lin[2]);
        let mut img = image::RgbImage::new(320, 180);
        for (px, _, p) in img.enumerate_pixels_mut() {
            let level = 0.25 + 0.75 * px as f32 / 319.0;
            p.0 = lin.map(|c| (linear_to_srgb((c / m).max(0.0) * level) * 255.0).round() as u8);
        }
        img
    }

    #[test]
    fn temperature_within_300_k_of_blackbody_tints() {
        for t in [2500.0f32, 3200.0, 4300.0, 5600.0, 6500.0, 8000.0] {
            let look = analyze(&blackbody_frame(t), 3);
            assert!(
                (look.cct_k - t).abs() < 300.0,
                "{t} K read as {} K",
                look.cct_k
            );
            assert!(look.is_white_light(), "{t} K: Duv {}", look.duv);
            assert_eq!(look.light_look().rgb, [1.0, 1.0, 1.0]);
        }
        // A saturated green is no white light: its cast keys the look.
        let green = analyze(&bands(&[([30, 200, 60], 1.0)]), 3);
        assert!(!green.is_white_light());
        assert!(green.light_look().rgb[1] > 0.9 && green.light_look().rgb[0] < 0.5);
    }

    #[test]
    fn brightness_contrast_and_saturation() {
        // Uniform mid grey: L* of sRGB 119 is about 50; no spread; no saturation.
        let grey = analyze(&bands(&[([119, 119, 119], 1.0)]), 3);
        assert!(
            (grey.key_brightness - 0.5).abs() < 0.02,
            "{}",
            grey.key_brightness
        );
        assert!(grey.contrast < 0.03);
        assert!(grey.saturation < 0.03);
        // Half black, half white: full spread; the key is the white half.
        let split = analyze(&bands(&[([0, 0, 0], 0.5), ([255, 255, 255], 0.5)]), 3);
        assert!(split.contrast > 0.95, "{}", split.contrast);
        assert!(split.key_brightness > 0.97);
        assert!((split.intensity - 0.5).abs() < 0.03);
        // Pure red is fully saturated.
        assert!(analyze(&bands(&[([255, 0, 0], 1.0)]), 3).saturation > 0.97);
    }

    #[test]
    fn mccamy_at_known_points() {
        // D65 (0.3127, 0.3290) is about 6504 K; illuminant A (0.4476, 0.4074) about 2856 K.
        assert!((mccamy_cct(0.3127, 0.3290) - 6504.0).abs() < 20.0);
        assert!((mccamy_cct(0.4476, 0.4074) - 2856.0).abs() < 20.0);
    }

    #[test]
    fn corrupt_images_say_so() {
        let dir = std::env::temp_dir().join(format!("mood-noir-look-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("broken.png");
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(&[0x13; 64]);
        std::fs::write(&bad, &bytes).unwrap();
        let e = load_rgb(&bad).unwrap_err().0;
        assert!(e.contains("cannot decode"), "{e}");
        let text = dir.join("notes.png");
        std::fs::write(&text, "just text").unwrap();
        assert!(load_rgb(&text).unwrap_err().0.contains("not a PNG or JPEG"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Analog grain: the wear of an old tape and an old optical print laid over the score — wow
//! and flutter, tape saturation with its head bump and top loss, hiss, vinyl crackle and
//! rumble, the print's band limit, presence and flicker, and oxide dropouts.
//! Audio thread (`Grain::process`); every buffer is allocated in `Grain::new`.
//!
//! Signal path per stem channel (all channels share one modulation, so the processed stems
//! still sum to the processed mix, except for the per-stem saturation):
//! delay line read by wow + flutter -> saturation (record) -> head bump / low cut ->
//! top loss (tape gap, print, dropout dulling) -> print low-pass with its presence peak ->
//! dropout dip x print flicker. Hiss enters the noise stem before the colour (it is on the
//! tape); crackle and rumble are added to the noise stem last (the record it is played from).
//!
//! Lanes: the stem channels are processed side by side, `LANES` at a time, so the recursive
//! filters run as SIMD across channels instead of serially in time (AVX2 where the CPU has
//! it). A group whose channels have been silent for the whole delay line, with its filters at
//! rest, would put out exact zeros and is skipped.

use crate::dsp::rng::Rng;
use crate::dsp::util::{flush, DENORMAL_FLOOR};
use crate::dsp::MAX_BLOCK;
use crate::voices::common::{sin_turns, wrap01, Mode, OnePole};
use core::f32::consts::{PI, TAU};

// ------------------------------------------------------------------------------------------
// The sound designer's table. Figures are "at full grain" (amount 1, detail weight 1).
// ------------------------------------------------------------------------------------------

/// Control grid, samples: modulators, coefficients and events are updated every `CTRL`
/// samples counted from reset, so how the host splits blocks never matters.
const CTRL: usize = 32;
/// Stem channels processed together (one AVX2 group: four stereo stems).
const LANES: usize = 8;
/// The amount and each detail weight cross their whole range in this time, s.
const GLIDE_S: f32 = 0.05;
/// The wow/flutter depth crosses its whole range in this time, s: slow, so the moving centre
/// of the delay bends the pitch by under 0.1 % while the grain is turned up or down.
const DEPTH_SLEW_S: f32 = 1.0;
/// Below this amount the coloured signal crossfades to the (delayed) dry one, so the last step
/// into bypass is exact and click-free.
const ENGAGE_AMOUNT: f32 = 0.02;
/// Input samples are clamped to this magnitude (hostile input; NaN counts as silence).
const INPUT_LIMIT: f32 = 8.0;

/// Main periodic wow (capstan / reel eccentricity): rate range, Hz (the seed picks one).
const WOW_HZ: (f32, f32) = (0.45, 0.8);
/// Its peak pitch deviation (0.0013 = 0.13 %).
const WOW_PITCH: f32 = 0.0013;
/// A second, faster wow component: rate range, Hz.
const WOW2_HZ: (f32, f32) = (1.0, 1.5);
/// Its peak pitch deviation.
const WOW2_PITCH: f32 = 0.0004;
/// Random speed drift (tape tension): corner of its low-pass, Hz.
const WOW_DRIFT_HZ: f32 = 0.7;
/// Its rms pitch deviation.
const WOW_DRIFT_PITCH: f32 = 0.00035;
/// Periodic flutter (capstan, pinch roller): rate range, Hz.
const FLUTTER_HZ: (f32, f32) = (7.0, 10.5);
/// Its peak pitch deviation (before its random amplitude wander, 0.5..1).
const FLUTTER_PITCH: f32 = 0.0003;
/// Random flutter: centre of its band, Hz, and the band's Q (about 6-14 Hz).
const FLUTTER_NOISE_HZ: (f32, f32) = (10.0, 1.3);
/// Its rms pitch deviation.
const FLUTTER_NOISE_PITCH: f32 = 0.0001;
/// Random modulators are soft-limited to this many standard deviations.
const NOISE_LIMIT_SD: f32 = 2.5;

/// Record drive: the small-signal gain into the tape curve at full saturation.
const SAT_DRIVE: f32 = 2.5;
/// Asymmetry of the tape curve (bias offset into it), full saturation: even harmonics.
const SAT_BIAS: f32 = 0.12;
/// Tape low cut: its corner at no and at full saturation, Hz (the head bump sits above it).
const HEAD_HP_HZ: (f32, f32) = (20.0, 58.0);
/// Resonance of that corner (the head bump): Q at no and at full saturation.
const HEAD_BUMP_Q: (f32, f32) = (0.707, 1.25);
/// Tape top loss (gap / spacing loss): one-pole corner at full saturation, Hz.
const TAPE_TOP_HZ: f32 = 12_000.0;

/// Tape hiss: rms level at full hiss (-50 dBFS, white at 48 kHz before the colour).
const HISS_RMS: f32 = 0.0032;
/// Hiss low cut (one pole), Hz: hiss is a hush, not a rumble.
const HISS_HP_HZ: f32 = 300.0;

/// Surface "frying": tiny ticks per second, their peak level and resonance range (Hz).
const TICK_RATE: f32 = 140.0;
const TICK_AMP: f32 = 0.0025;
const TICK_HZ: (f32, f32) = (2500.0, 9000.0);
/// Clicks (dust): per second, peak level and resonance range (Hz).
const CLICK_RATE: f32 = 4.0;
const CLICK_AMP: f32 = 0.02;
const CLICK_HZ: (f32, f32) = (1200.0, 5000.0);
/// Pops (a deeper scratch): per second, peak level and resonance range (Hz).
const POP_RATE: f32 = 0.3;
const POP_AMP: f32 = 0.06;
const POP_HZ: (f32, f32) = (300.0, 900.0);
/// Scratches that tick once per turn of a 33 1/3 record: how many, their peak level.
const SCRATCHES: usize = 2;
const SCRATCH_AMP: f32 = 0.02;
/// Turns per second of the record (33 1/3 rpm).
const RECORD_HZ: f32 = 33.333_332 / 60.0;
/// Turntable rumble: rms level at full crackle, and its band, Hz (>= 18 Hz, no DC).
const RUMBLE_RMS: f32 = 0.004;
const RUMBLE_BAND_HZ: (f32, f32) = (24.0, 40.0);

/// Print low cut (2nd order), Hz, at full optical.
const OPTICAL_HP_HZ: f32 = 90.0;
/// Print band limit (2nd order, resonant), Hz, at full optical.
const OPTICAL_LP_HZ: f32 = 5800.0;
/// Extra Q of that band limit at full optical: its resonance is the presence peak (~4 kHz).
const PRESENCE_Q: f32 = 0.5;
/// Print top loss (one pole, shared with the tape's), Hz, at full optical.
const OPTICAL_TOP_HZ: f32 = 9000.0;
/// Print level flicker: its corner (Hz) and rms depth (0.04 = about 0.35 dB).
const FLICKER_HZ: f32 = 4.0;
const FLICKER_DEPTH: f32 = 0.04;

/// Dropouts per minute at full grain (a Poisson process on the seed).
const DROPOUTS_PER_MIN: f32 = 4.0;
/// Dropout length range, ms (short ones are likelier).
const DROPOUT_MS: (f32, f32) = (30.0, 250.0);
/// Dropout depth range, dB, at full grain (shallow ones are likelier).
const DROPOUT_DB: (f32, f32) = (6.0, 20.0);
/// A dropout's deepest dulling: the top-loss corner at 20 dB of dip, Hz.
const DROPOUT_DULL_HZ: f32 = 1800.0;

// Seed streams (one per kind of randomness, so changing one weight never moves another
// kind's events).
const STREAM_MOD: u64 = 1;
const STREAM_DROP: u64 = 2;
const STREAM_CRACKLE: u64 = 3;
const STREAM_HISS: u64 = 4;
const STREAM_SETUP: u64 = 5;
/// Crackle resonators sounding at once.
const CLICK_SLOTS: usize = 8;
/// Second coefficient of the tape curve `f(u) = u - C u^3` on |u| <= 1.5 (flat beyond).
const CURVE_C: f32 = 4.0 / 27.0;
/// Where the tape curve flattens out.
const CURVE_EDGE: f32 = 1.5;

/// How much of each kind of wear, 0..1 each (scaled by the amount).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrainDetail {
    /// Tape wow: slow pitch drift (~0.3-1.5 Hz), up to about +-0.25 % at full grain.
    pub wow: f32,
    /// Tape flutter: fast, irregular pitch jitter (~6-14 Hz), smaller.
    pub flutter: f32,
    /// Tape saturation (soft, slightly asymmetric, level-dependent) with the head bump (a
    /// low-frequency resonance ~60-110 Hz) and a soft top-end loss.
    pub saturation: f32,
    /// Tape hiss: shaped broadband noise.
    pub hiss: f32,
    /// Vinyl crackle (sparse clicks and pops, varied) and rumble (very low, >= 18 Hz, no DC).
    pub crackle: f32,
    /// The band-limited colour of an old optical print: ~100 Hz .. 6-7 kHz, a little
    /// "presence" hump, slight level flicker.
    pub optical: f32,
    /// Occasional dropouts: brief (30-250 ms) dips of 6-20 dB with a dulled top, a few per
    /// minute at full grain, placed by the seed.
    pub dropouts: f32,
}

impl Default for GrainDetail {
    fn default() -> Self {
        Self {
            wow: 1.0,
            flutter: 1.0,
            saturation: 1.0,
            hiss: 1.0,
            crackle: 1.0,
            optical: 1.0,
            dropouts: 1.0,
        }
    }
}

impl GrainDetail {
    /// A copy with every weight made safe (NaN -> 0, clamped to 0..1).
    pub fn sanitized(self) -> Self {
        let [wow, flutter, saturation, hiss, crackle, optical, dropouts] = self.weights();
        Self {
            wow,
            flutter,
            saturation,
            hiss,
            crackle,
            optical,
            dropouts,
        }
    }

    /// The weights in a fixed order (wow, flutter, saturation, hiss, crackle, optical,
    /// dropouts), each made safe: NaN -> 0, clamped to 0..1.
    fn weights(&self) -> [f32; 7] {
        [
            self.wow,
            self.flutter,
            self.saturation,
            self.hiss,
            self.crackle,
            self.optical,
            self.dropouts,
        ]
        .map(unit)
    }
}

/// Indices into the weight arrays.
const W_WOW: usize = 0;
const W_FLUTTER: usize = 1;
const W_SAT: usize = 2;
const W_HISS: usize = 3;
const W_CRACKLE: usize = 4;
const W_OPTICAL: usize = 5;
const W_DROPOUTS: usize = 6;

/// NaN -> 0, else clamped to 0..1.
#[inline]
fn unit(x: f32) -> f32 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(0.0, 1.0)
    }
}

/// A value that moves linearly across one control period and lands exactly on its target at
/// the next grid point.
#[derive(Clone, Copy, Debug, Default)]
struct Ramp {
    /// The value at the current sample.
    value: f32,
    /// Where it lands at the end of this control period.
    target: f32,
    /// Per-sample increment.
    step: f32,
}

impl Ramp {
    /// At a grid point: land on the old target, then head for `target` (or jump there).
    #[inline]
    fn retarget(&mut self, target: f32, snap: bool) {
        self.value = if snap { target } else { self.target };
        self.target = target;
        self.step = (target - self.value) * (1.0 / CTRL as f32);
    }
    #[inline]
    fn tick(&mut self) -> f32 {
        self.value += self.step;
        self.value
    }
}

/// A state-variable filter (topology-preserving transform, Zavalishin's form) for one
/// control-rate or noise signal.
#[derive(Clone, Copy, Debug, Default)]
struct Svf {
    /// tan(pi f / rate).
    g: f32,
    /// 2R + g (R = 1 / 2Q).
    c1: f32,
    /// 1 / (1 + 2Rg + g^2).
    c0: f32,
    /// First integrator state.
    s1: f32,
    /// Second integrator state.
    s2: f32,
}

/// (g, c1, c0) of a TPT state-variable filter at `hz`, `q` (hz clamped below Nyquist).
#[inline]
fn svf_coefs(rate: f32, hz: f32, q: f32) -> (f32, f32, f32) {
    let g = (PI * hz.clamp(1.0e-3, 0.45 * rate) / rate).tan();
    let r2 = 1.0 / q.max(0.5);
    (g, r2 + g, 1.0 / (1.0 + r2 * g + g * g))
}

impl Svf {
    fn new(rate: f32, hz: f32, q: f32) -> Self {
        let (g, c1, c0) = svf_coefs(rate, hz, q);
        Self {
            g,
            c1,
            c0,
            s1: 0.0,
            s2: 0.0,
        }
    }
    /// One sample; returns (high, low).
    #[inline]
    fn tick(&mut self, x: f32) -> (f32, f32) {
        let hp = (x - self.c1 * self.s1 - self.s2) * self.c0;
        let v = self.g * hp;
        let bp = v + self.s1;
        self.s1 = flush(bp + v);
        let v2 = self.g * bp;
        let lp = v2 + self.s2;
        self.s2 = flush(lp + v2);
        (hp, lp)
    }
    fn reset(&mut self) {
        self.s1 = 0.0;
        self.s2 = 0.0;
    }
}

/// A one-pole low-pass at control rate, unflushed-safe for noise (flushes its state).
#[derive(Clone, Copy, Debug, Default)]
struct Lp1 {
    /// Coefficient 1 - exp(-2 pi f / rate).
    a: f32,
    /// State.
    z: f32,
}

impl Lp1 {
    fn new(rate: f32, hz: f32) -> Self {
        Self {
            a: 1.0 - (-TAU * hz / rate).exp(),
            z: 0.0,
        }
    }
    #[inline]
    fn tick(&mut self, x: f32) -> f32 {
        self.z = flush(self.z + self.a * (x - self.z));
        self.z
    }
}

/// Impulse-response statistics of a control-rate noise filter fed with unit-variance white
/// noise: (rms of the output, rms of its time derivative in 1/s). Used once in `new` to
/// normalise the random modulators and to turn a pitch depth into a delay depth.
fn noise_stats(mut filter: impl FnMut(f32) -> f32, rate: f32, len: usize) -> (f32, f32) {
    let (mut e, mut ed, mut prev) = (0.0f64, 0.0f64, 0.0f64);
    for k in 0..len {
        let h = filter(if k == 0 { 1.0 } else { 0.0 }) as f64;
        e += h * h;
        ed += (h - prev) * (h - prev);
        prev = h;
    }
    (e.sqrt() as f32, (ed.sqrt() * rate as f64) as f32)
}

/// A smooth limiter for random modulators: linear near 0, never beyond `lim`.
#[inline]
fn soft_limit(x: f32, lim: f32) -> f32 {
    let u = x / lim;
    lim * u / (1.0 + u * u).sqrt()
}

/// Smoothstep 0..1.
#[inline]
fn smoothstep(x: f32) -> f32 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// Coefficients every lane uses during one control period.
#[derive(Clone, Copy, Debug)]
struct Coefs {
    /// Input clamp of the tape curve (where the curve flattens), low side.
    sat_lo: f32,
    /// High side of that clamp.
    sat_hi: f32,
    /// x^2 coefficient of the normalised tape curve (asymmetry).
    sat_a2: f32,
    /// x^3 coefficient (compression).
    sat_a3: f32,
    /// Low cut / head bump SVF: g.
    hp_g: f32,
    /// Its c1.
    hp_c1: f32,
    /// Its c0.
    hp_c0: f32,
    /// Top-loss one-pole coefficient.
    top_a: f32,
    /// Print band-limit SVF: g.
    lp_g: f32,
    /// Its c1.
    lp_c1: f32,
    /// Its c0.
    lp_c0: f32,
}

impl Coefs {
    /// Near-transparent settings (used before the first control point).
    fn clear(sr: f32) -> Self {
        let (hp_g, hp_c1, hp_c0) = svf_coefs(sr, HEAD_HP_HZ.0, HEAD_BUMP_Q.0);
        let (lp_g, lp_c1, lp_c0) = svf_coefs(sr, sr, core::f32::consts::FRAC_1_SQRT_2);
        Self {
            sat_lo: -INPUT_LIMIT,
            sat_hi: INPUT_LIMIT,
            sat_a2: 0.0,
            sat_a3: 0.0,
            hp_g,
            hp_c1,
            hp_c0,
            top_a: 1.0,
            lp_g,
            lp_c1,
            lp_c0,
        }
    }
}

/// Filter states of one group of `LANES` stem channels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct LaneState {
    /// Low cut / head bump SVF, first integrator.
    hp1: [f32; LANES],
    /// Its second integrator.
    hp2: [f32; LANES],
    /// Top-loss one-pole state.
    top: [f32; LANES],
    /// Print band-limit SVF, first integrator.
    lp1: [f32; LANES],
    /// Its second integrator.
    lp2: [f32; LANES],
}

impl LaneState {
    /// Zeroes states that have decayed below the denormal floor (once per control period:
    /// every filter here decays by at most ~0.3 per sample, so nothing reaches the
    /// subnormals between two control points).
    #[inline]
    fn flush(&mut self) {
        for a in [
            &mut self.hp1,
            &mut self.hp2,
            &mut self.top,
            &mut self.lp1,
            &mut self.lp2,
        ] {
            for v in a.iter_mut() {
                if v.abs() < DENORMAL_FLOOR {
                    *v = 0.0;
                }
            }
        }
    }
}

/// One crackle event sounding: a doublet (so it carries no DC) into a small resonator.
#[derive(Clone, Copy, Debug, Default)]
struct Click {
    /// The resonance that colours it (a tick is bright and short, a pop low and longer).
    mode: Mode,
    /// Samples until the doublet starts; counts down to -2 (then only rings).
    countdown: i32,
    /// Doublet amplitude (normalised so the ring peaks near the intended level).
    kick: f32,
    /// Left gain (pan).
    gl: f32,
    /// Right gain (pan).
    gr: f32,
    /// Sounding or waiting to sound.
    live: bool,
}

/// The analog grain over every stem. See the module docs.
pub struct Grain {
    /// Sample rate, Hz.
    sr: f32,
    /// The seed every random choice comes from.
    seed: u64,
    /// Stems allocated in `new`.
    stems: usize,
    /// Delay-line length in frames per group (a power of two).
    ring_len: usize,
    /// The delay lines of every group: `groups * ring_len` frames of `LANES` channels.
    ring: Vec<[f32; LANES]>,
    /// Filter states per group.
    lanes: Vec<LaneState>,
    /// Per channel (group by group, padding included): how many samples in a row it has put
    /// only zeros into its delay line (at least `ring_len`: the line is all zeros).
    quiet: Vec<usize>,
    /// Tests: process every group, asleep or not, and count the group-blocks skipped.
    #[cfg(test)]
    never_skip: bool,
    #[cfg(test)]
    skipped: usize,
    /// Write position in the delay lines (same for every group).
    pos: usize,
    /// Longest delay the reads may use, samples (clamp; keeps every tap inside the line and
    /// clear of the samples of the current block written ahead of it).
    max_delay: f32,
    /// Longest delay used since reset (tests check it against `max_delay`).
    peak_delay: f32,
    /// Samples processed while awake since reset (the control grid counts on it).
    t: u64,
    /// Processing (false: bypassed; states are clear).
    awake: bool,
    /// Jump every ramp to its target at the next control point (after `reset`).
    snap: bool,
    /// The amount, gliding.
    amount: f32,
    /// Where the amount glides to.
    amount_target: f32,
    /// Detail weights, gliding (wow, flutter, saturation, hiss, crackle, optical, dropouts).
    detail: [f32; 7],
    /// Where the detail weights glide to.
    detail_target: [f32; 7],
    /// Coefficients of the current control period.
    coefs: Coefs,
    /// Delay of the read, samples.
    delay: Ramp,
    /// Dropout dip x print flicker.
    gain: Ramp,
    /// Wet share (1 except at the last 2 % of the amount).
    mix: Ramp,
    /// Hiss level.
    hiss: Ramp,
    /// Crackle level.
    crackle: Ramp,
    /// Rumble, left (the control-rate rumble signal, interpolated).
    rumble_l: Ramp,
    /// Rumble, right.
    rumble_r: Ramp,
    /// Centre of the delay (0..1 of `depth_s`), slewing slowly.
    centre: f32,
    /// Wow depth, slewing slowly.
    wow_depth: f32,
    /// Flutter depth, slewing slowly.
    flutter_depth: f32,
    /// Largest wow excursion, s (its components' bounds added).
    wow_span_s: f32,
    /// Largest flutter excursion, s.
    flutter_span_s: f32,
    /// Modulator randomness (drift, flutter, flicker, rumble): one draw set per control step.
    rng_mod: Rng,
    /// Dropout placement.
    rng_drop: Rng,
    /// Crackle placement and colour.
    rng_crackle: Rng,
    /// Hiss samples.
    rng_hiss: Rng,
    /// Wow phases (turns) of the two periodic components.
    wow_ph: [f32; 2],
    /// Their increments per control step.
    wow_inc: [f32; 2],
    /// Their delay amplitudes, s.
    wow_amp_s: [f32; 2],
    /// Drift low-pass (two one-poles).
    drift: [Lp1; 2],
    /// Drift normalisation (unit variance) and delay per unit, s.
    drift_scale: (f32, f32),
    /// Flutter phase (turns) and increment per control step.
    flutter_ph: (f32, f32),
    /// Flutter delay amplitude, s.
    flutter_amp_s: f32,
    /// Slow wander of the flutter's amplitude.
    flutter_wander: Lp1,
    /// Wander normalisation.
    flutter_wander_scale: f32,
    /// Random flutter band-pass.
    flutter_noise: Mode,
    /// Its normalisation (unit variance) and delay per unit, s.
    flutter_noise_scale: (f32, f32),
    /// Print flicker low-pass (two one-poles).
    flicker: [Lp1; 2],
    /// Flicker normalisation.
    flicker_scale: f32,
    /// Rumble band-pass: (high-pass, low-pass) for the lateral and the vertical component.
    rumble_f: [(Svf, Svf); 2],
    /// Rumble normalisation.
    rumble_scale: f32,
    /// Dropout in progress: control steps done, its length in steps, its depth in dB.
    dropout: Option<(u32, u32, f32)>,
    /// Record turn phase (turns), for the once-per-turn scratches and the warp of the rumble.
    record_ph: f32,
    /// Where the scratches sit on the record (turns) and how loud each is.
    scratches: [(f32, f32); SCRATCHES],
    /// Crackle resonators.
    clicks: [Click; CLICK_SLOTS],
    /// Next crackle slot to take when all are sounding.
    next_click: usize,
    /// Hiss low cut state, left and right.
    hiss_lp: [OnePole; 2],
    /// Noise level scale for white noise (constant spectral density at any sample rate).
    nscale: f32,
}

/// What a control point decided.
enum Control {
    /// Keep processing.
    Run,
    /// Everything is at exactly zero: go to sleep here.
    Sleep,
}

impl Grain {
    /// `stems`: how many stereo stems `process` will be given (allocate per stem here).
    pub fn new(sample_rate: f32, stems: usize, seed: u64) -> Self {
        let sr = if sample_rate.is_finite() {
            sample_rate.clamp(8000.0, 768_000.0)
        } else {
            48_000.0
        };
        let rate = sr / CTRL as f32;
        let mut setup = Rng::from_parts(seed, STREAM_SETUP, 0);
        let wow_hz = [
            setup.range(WOW_HZ.0, WOW_HZ.1),
            setup.range(WOW2_HZ.0, WOW2_HZ.1),
        ];
        let flutter_hz = setup.range(FLUTTER_HZ.0, FLUTTER_HZ.1);
        // A periodic delay A sin(2 pi f t) bends the pitch by at most 2 pi f A.
        let wow_amp_s = [
            WOW_PITCH / (TAU * wow_hz[0]),
            WOW2_PITCH / (TAU * wow_hz[1]),
        ];
        let flutter_amp_s = FLUTTER_PITCH / (TAU * flutter_hz);
        let len = (rate * 30.0) as usize;
        let drift = [Lp1::new(rate, WOW_DRIFT_HZ); 2];
        let (d_rms, d_drms) = {
            let mut f = drift;
            noise_stats(
                |x| {
                    let y = f[0].tick(x);
                    f[1].tick(y)
                },
                rate,
                len,
            )
        };
        // Unit variance after `drift_scale.0`; the delay per unit gives the rms pitch.
        let drift_scale = (1.0 / d_rms, WOW_DRIFT_PITCH / (d_drms / d_rms));
        let flutter_noise = Mode::new(
            rate,
            FLUTTER_NOISE_HZ.0,
            6.907_755 * FLUTTER_NOISE_HZ.1 / (PI * FLUTTER_NOISE_HZ.0),
        );
        let (n_rms, n_drms) = {
            let mut m = flutter_noise;
            noise_stats(|x| m.tick(x), rate, len)
        };
        let flutter_noise_scale = (1.0 / n_rms, FLUTTER_NOISE_PITCH / (n_drms / n_rms));
        let flutter_wander = Lp1::new(rate, 0.3);
        let flutter_wander_scale = {
            let mut f = flutter_wander;
            1.0 / noise_stats(|x| f.tick(x), rate, len).0
        };
        let flicker = [Lp1::new(rate, FLICKER_HZ); 2];
        let flicker_scale = {
            let mut f = flicker;
            1.0 / noise_stats(
                |x| {
                    let y = f[0].tick(x);
                    f[1].tick(y)
                },
                rate,
                len,
            )
            .0
        };
        let rumble_pair = (
            Svf::new(rate, RUMBLE_BAND_HZ.0, 0.7),
            Svf::new(rate, RUMBLE_BAND_HZ.1, 0.7),
        );
        let rumble_scale = {
            let (mut h, mut l) = rumble_pair;
            1.0 / noise_stats(|x| l.tick(h.tick(x).0).1, rate, len).0
        };
        let wow_span_s = wow_amp_s[0] + wow_amp_s[1] + NOISE_LIMIT_SD * drift_scale.1;
        let flutter_span_s = flutter_amp_s + NOISE_LIMIT_SD * flutter_noise_scale.1;
        // The read moves between 0 and twice the span (centre + excursion).
        let span = 2.0 * (wow_span_s + flutter_span_s) * sr;
        // A whole block is written before it is read: the line holds the longest delay plus
        // one block (and the interpolator's two extra taps).
        let ring_len = ((span as usize) + MAX_BLOCK + 8).next_power_of_two();
        let groups = (2 * stems).div_ceil(LANES);
        let mut scratches = [(0.0, 0.0); SCRATCHES];
        for s in scratches.iter_mut() {
            *s = (setup.f32(), setup.range(0.5, 1.0));
        }
        let mut g = Self {
            sr,
            seed,
            stems,
            ring_len,
            ring: vec![[0.0; LANES]; groups * ring_len],
            lanes: vec![LaneState::default(); groups],
            quiet: vec![ring_len; groups * LANES],
            #[cfg(test)]
            never_skip: false,
            #[cfg(test)]
            skipped: 0,
            pos: 0,
            max_delay: (ring_len - MAX_BLOCK - 4) as f32,
            peak_delay: 0.0,
            t: 0,
            awake: false,
            snap: false,
            amount: 0.0,
            amount_target: 0.0,
            detail: [1.0; 7],
            detail_target: [1.0; 7],
            coefs: Coefs::clear(sr),
            delay: Ramp::default(),
            gain: Ramp::default(),
            mix: Ramp::default(),
            hiss: Ramp::default(),
            crackle: Ramp::default(),
            rumble_l: Ramp::default(),
            rumble_r: Ramp::default(),
            centre: 0.0,
            wow_depth: 0.0,
            flutter_depth: 0.0,
            wow_span_s,
            flutter_span_s,
            rng_mod: Rng::from_parts(seed, STREAM_MOD, 0),
            rng_drop: Rng::from_parts(seed, STREAM_DROP, 0),
            rng_crackle: Rng::from_parts(seed, STREAM_CRACKLE, 0),
            rng_hiss: Rng::from_parts(seed, STREAM_HISS, 0),
            wow_ph: [0.0; 2],
            wow_inc: [wow_hz[0] / rate, wow_hz[1] / rate],
            wow_amp_s,
            drift,
            drift_scale,
            flutter_ph: (0.0, flutter_hz / rate),
            flutter_amp_s,
            flutter_wander,
            flutter_wander_scale,
            flutter_noise,
            flutter_noise_scale,
            flicker,
            flicker_scale,
            rumble_f: [rumble_pair; 2],
            rumble_scale,
            dropout: None,
            record_ph: 0.0,
            scratches,
            clicks: [Click::default(); CLICK_SLOTS],
            next_click: 0,
            hiss_lp: [OnePole::new(sr, HISS_HP_HZ); 2],
            nscale: (sr / 48_000.0).sqrt(),
        };
        g.reset();
        g
    }

    /// Back to the state after `new` (same seed: a bounce repeats exactly). The settings
    /// (amount, detail) are kept and their glides jump to them, like the mixer's gains.
    pub fn reset(&mut self) {
        self.clear_state();
        self.t = 0;
        self.rng_mod = Rng::from_parts(self.seed, STREAM_MOD, 0);
        self.rng_drop = Rng::from_parts(self.seed, STREAM_DROP, 0);
        self.rng_crackle = Rng::from_parts(self.seed, STREAM_CRACKLE, 0);
        self.rng_hiss = Rng::from_parts(self.seed, STREAM_HISS, 0);
        self.wow_ph = [0.0, 0.37];
        self.flutter_ph.0 = 0.0;
        self.record_ph = 0.0;
        self.peak_delay = 0.0;
        self.amount = self.amount_target;
        self.detail = self.detail_target;
        self.awake = self.amount_target > 0.0;
        self.snap = self.awake;
        let w = self.weights();
        self.wow_depth = w[W_WOW];
        self.flutter_depth = w[W_FLUTTER];
        self.centre = w[W_WOW].max(w[W_FLUTTER]);
    }

    /// Clears every signal state (delay lines, filters, ramps, events); modulator phases and
    /// random streams are left as they are.
    fn clear_state(&mut self) {
        self.ring.iter_mut().for_each(|f| *f = [0.0; LANES]);
        self.lanes
            .iter_mut()
            .for_each(|l| *l = LaneState::default());
        self.quiet.fill(self.ring_len);
        self.pos = 0;
        self.coefs = Coefs::clear(self.sr);
        for r in [
            &mut self.delay,
            &mut self.gain,
            &mut self.mix,
            &mut self.hiss,
            &mut self.crackle,
            &mut self.rumble_l,
            &mut self.rumble_r,
        ] {
            *r = Ramp::default();
        }
        self.centre = 0.0;
        self.wow_depth = 0.0;
        self.flutter_depth = 0.0;
        for d in self.drift.iter_mut().chain(self.flicker.iter_mut()) {
            d.z = 0.0;
        }
        self.flutter_wander.z = 0.0;
        self.flutter_noise.reset();
        for (h, l) in self.rumble_f.iter_mut() {
            h.reset();
            l.reset();
        }
        self.dropout = None;
        self.clicks = [Click::default(); CLICK_SLOTS];
        self.next_click = 0;
        self.hiss_lp.iter_mut().for_each(|f| f.reset());
    }

    /// The amount 0..1 (glides over ~50 ms; NaN -> 0).
    pub fn set_amount(&mut self, amount: f32) {
        self.amount_target = unit(amount);
    }

    /// The weight of each kind of wear (each glides like the amount; NaN -> 0).
    pub fn set_detail(&mut self, detail: GrainDetail) {
        self.detail_target = detail.weights();
        if !self.awake {
            self.detail = self.detail_target;
        }
    }

    /// Whether `process` would change anything (amount and its glide at exactly 0).
    pub fn is_bypassed(&self) -> bool {
        !self.awake && self.amount_target == 0.0
    }

    /// The effective weights: amount x detail.
    fn weights(&self) -> [f32; 7] {
        self.detail.map(|d| d * self.amount)
    }

    crate::dsp::simd::wide_method! {
        /// Processes `n` (<= MAX_BLOCK) samples of every stem in place: `stems[s][0]` left,
        /// `stems[s][1]` right. Time modulation (wow, flutter), the tape's and the print's
        /// colour and the dropouts apply to every stem alike (the same modulation for all
        /// stems, so a linear sum of the processed stems is the processed sum, except for
        /// saturation, which is per stem); the added noise (hiss, crackle, rumble) goes into
        /// `noise_stem` only, so the stems still sum to the main mix.
        pub fn process(
            &mut self,
            stems: &mut [[[f32; MAX_BLOCK]; 2]],
            n: usize,
            noise_stem: usize,
        ) = process_avx2 / process_portable
    }

    #[inline(always)]
    fn process_portable(
        &mut self,
        stems: &mut [[[f32; MAX_BLOCK]; 2]],
        n: usize,
        noise_stem: usize,
    ) {
        let n = n.min(MAX_BLOCK);
        if n == 0 {
            return;
        }
        if !self.awake {
            if self.amount_target == 0.0 {
                return;
            }
            // Waking: the states were cleared on the way to sleep; the clock stands on a
            // control point, and the glides start from zero.
            self.awake = true;
            self.detail = self.detail_target;
        }

        // ---- control pass: per-sample taps, weights, gains and the noise ----
        let mut taps = [[0u32; 4]; MAX_BLOCK];
        let mut wts = [[0.0f32; 4]; MAX_BLOCK];
        let mut wpos = [0u32; MAX_BLOCK];
        let mut gain = [0.0f32; MAX_BLOCK];
        let mut mix = [0.0f32; MAX_BLOCK];
        let mut hiss = [[0.0f32; 2]; MAX_BLOCK];
        let mut vinyl = [[0.0f32; 2]; MAX_BLOCK];
        // Segments of constant coefficients: (first sample, coefficients, starts on the grid).
        let mut segs = [(0usize, self.coefs, false); MAX_BLOCK / CTRL + 2];
        let mut nseg = 0;
        let mask = self.ring_len - 1;
        let mut active = n;
        for i in 0..n {
            if self.t.is_multiple_of(CTRL as u64) {
                if let Control::Sleep = self.control() {
                    active = i;
                    break;
                }
                segs[nseg] = (i, self.coefs, true);
                nseg += 1;
            } else if i == 0 {
                segs[0] = (0, self.coefs, false);
                nseg = 1;
            }
            self.pos = (self.pos + 1) & mask;
            wpos[i] = self.pos as u32;
            let d = self.delay.tick().clamp(0.0, self.max_delay);
            let k = d as usize;
            let f = d - k as f32;
            let p = self.pos;
            let km1 = k.saturating_sub(1);
            taps[i] = [
                (p.wrapping_sub(km1) & mask) as u32,
                (p.wrapping_sub(k) & mask) as u32,
                (p.wrapping_sub(k + 1) & mask) as u32,
                (p.wrapping_sub(k + 2) & mask) as u32,
            ];
            // Third-order Lagrange through the taps at delays k-1, k, k+1, k+2.
            let x = 1.0 + f;
            let (a, b, c) = (f, f - 1.0, f - 2.0);
            wts[i] = [
                -a * b * c * (1.0 / 6.0),
                x * b * c * 0.5,
                -x * a * c * 0.5,
                x * a * b * (1.0 / 6.0),
            ];
            gain[i] = self.gain.tick();
            mix[i] = self.mix.tick();
            // Hiss: two uniform samples from one draw, a one-pole low cut.
            let h = self.hiss.tick();
            let r = self.rng_hiss.next_u64();
            let nl = ((r >> 40) as f32 * (1.0 / 8_388_608.0) - 1.0) * 1.732;
            let nr = (((r >> 8) & 0xFF_FFFF) as f32 * (1.0 / 8_388_608.0) - 1.0) * 1.732;
            hiss[i] = [
                (nl - self.hiss_lp[0].tick(nl)) * h,
                (nr - self.hiss_lp[1].tick(nr)) * h,
            ];
            // Crackle resonators.
            let (mut cl, mut cr) = (0.0f32, 0.0f32);
            for c in self.clicks.iter_mut() {
                if !c.live {
                    continue;
                }
                let x = match c.countdown {
                    0 => c.kick,
                    -1 => -c.kick,
                    _ => 0.0,
                };
                if c.countdown > -2 {
                    c.countdown -= 1;
                }
                let y = c.mode.tick(x);
                cl += y * c.gl;
                cr += y * c.gr;
                if c.countdown <= -2 && c.mode.is_silent() {
                    c.live = false;
                }
            }
            let cg = self.crackle.tick();
            vinyl[i] = [
                cl * cg + self.rumble_l.tick(),
                cr * cg + self.rumble_r.tick(),
            ];
            self.t += 1;
        }

        // ---- lane pass: every stem channel through the tape and the print ----
        let present = stems.len().min(self.stems);
        let noise = (noise_stem < present).then_some(noise_stem);
        let rl = self.ring_len;
        for (g, st) in self.lanes.iter_mut().enumerate() {
            let ring = &mut self.ring[g * rl..(g + 1) * rl];
            // A group whose lines hold only zeros (this block's too) and whose filters are at
            // rest puts out exact zeros: its channels are cleared and the rest skipped.
            let mut asleep = *st == LaneState::default();
            for k in 0..LANES {
                let (s, c) = lane_channel(g, k);
                let silent = s >= present
                    || (noise != Some(s) && !stems[s][c][..active].iter().any(|&x| audible(x)));
                let q = &mut self.quiet[g * LANES + k];
                *q = if silent { q.saturating_add(active) } else { 0 };
                asleep &= *q >= rl;
            }
            #[cfg(test)]
            {
                asleep &= !self.never_skip;
                self.skipped += asleep as usize;
            }
            if asleep {
                for k in 0..LANES {
                    let (s, c) = lane_channel(g, k);
                    if s < present {
                        stems[s][c][..active].fill(0.0);
                    }
                }
                continue;
            }
            // In: each lane's samples into its column of the delay line.
            for k in 0..LANES {
                let (s, c) = lane_channel(g, k);
                if s >= present {
                    break;
                }
                let src = &stems[s][c];
                let add_hiss = noise == Some(s);
                for i in 0..active {
                    let x = src[i];
                    let mut x = if audible(x) {
                        x.clamp(-INPUT_LIMIT, INPUT_LIMIT)
                    } else {
                        0.0
                    };
                    if add_hiss {
                        x += hiss[i][c];
                    }
                    ring[wpos[i] as usize][k] = x;
                }
            }
            let mut out = [[0.0f32; LANES]; MAX_BLOCK];
            for (si, seg) in segs[..nseg].iter().enumerate() {
                let (start, cf, on_grid) = *seg;
                let end = if si + 1 < nseg {
                    segs[si + 1].0
                } else {
                    active
                };
                if on_grid {
                    st.flush();
                }
                process_lanes(
                    st,
                    ring,
                    &cf,
                    start..end,
                    &taps,
                    &wts,
                    &gain,
                    &mix,
                    &mut out,
                );
            }
            // Out.
            for k in 0..LANES {
                let (s, c) = lane_channel(g, k);
                if s >= present {
                    break;
                }
                let dst = &mut stems[s][c];
                for i in 0..active {
                    dst[i] = out[i][k];
                }
            }
        }
        if let Some(s) = noise {
            for c in 0..2 {
                for (y, v) in stems[s][c][..active].iter_mut().zip(vinyl.iter()) {
                    *y += v[c];
                }
            }
        }
        for st in stems[..present].iter_mut() {
            for ch in st.iter_mut() {
                for y in ch[..active].iter_mut() {
                    if y.abs() < DENORMAL_FLOOR {
                        *y = 0.0;
                    }
                }
            }
        }
        if active < n {
            // Asleep from here: exact bypass.
            self.awake = false;
            self.clear_state();
        }
    }

    /// One control point: glides, modulators, events, and the coefficients and ramp targets
    /// of the next `CTRL` samples.
    fn control(&mut self) -> Control {
        let sr = self.sr;
        let snap = std::mem::take(&mut self.snap);
        // Glides (linear, the whole range in GLIDE_S).
        let step = CTRL as f32 / (GLIDE_S * sr);
        self.amount = approach(self.amount, self.amount_target, step);
        for (d, t) in self.detail.iter_mut().zip(self.detail_target) {
            *d = approach(*d, t, step);
        }
        let w = self.weights();
        // The pitch modulation's depths slew slowly; the centre of the delay follows the
        // larger of them, so the read never needs a negative delay.
        let slew = CTRL as f32 / (DEPTH_SLEW_S * sr);
        self.wow_depth = approach(self.wow_depth, w[W_WOW], slew);
        self.flutter_depth = approach(self.flutter_depth, w[W_FLUTTER], slew);
        self.centre = approach(self.centre, w[W_WOW].max(w[W_FLUTTER]), slew);
        if self.amount == 0.0
            && self.amount_target == 0.0
            && self.centre == 0.0
            && self.wow_depth == 0.0
            && self.flutter_depth == 0.0
            && self.delay.target == 0.0
            && self.mix.target == 0.0
            && self.hiss.target == 0.0
            && self.crackle.target == 0.0
            && self.rumble_l.target == 0.0
            && self.rumble_r.target == 0.0
        {
            return Control::Sleep;
        }

        // ---- modulators (every draw happens whatever the weights, so the streams stay
        // aligned) ----
        let m = &mut self.rng_mod;
        let drift_in = m.bipolar() * 1.732 * self.drift_scale.0;
        let wander_in = m.bipolar() * 1.732 * self.flutter_wander_scale;
        let fn_in = m.bipolar() * 1.732 * self.flutter_noise_scale.0;
        let flick_in = m.bipolar() * 1.732 * self.flicker_scale;
        let rum_in = [
            m.bipolar() * 1.732 * self.rumble_scale,
            m.bipolar() * 1.732 * self.rumble_scale,
        ];
        let jitter = m.bipolar();
        for (p, inc) in self.wow_ph.iter_mut().zip(self.wow_inc) {
            *p = wrap01(*p + inc * (1.0 + 0.08 * jitter));
        }
        self.flutter_ph.0 = wrap01(self.flutter_ph.0 + self.flutter_ph.1 * (1.0 + 0.1 * jitter));
        let drift = soft_limit(
            {
                let y = self.drift[0].tick(drift_in);
                self.drift[1].tick(y)
            },
            NOISE_LIMIT_SD,
        );
        let wow_s = self.wow_amp_s[0] * sin_turns(self.wow_ph[0])
            + self.wow_amp_s[1] * sin_turns(self.wow_ph[1])
            + self.drift_scale.1 * drift;
        let wander = soft_limit(self.flutter_wander.tick(wander_in), 2.0);
        let fnoise = soft_limit(self.flutter_noise.tick(fn_in), NOISE_LIMIT_SD);
        let flutter_s = self.flutter_amp_s * (0.75 + 0.125 * wander) * sin_turns(self.flutter_ph.0)
            + self.flutter_noise_scale.1 * fnoise;
        let flick = self.flicker[0].tick(flick_in);
        let flick = soft_limit(self.flicker[1].tick(flick), 3.0);
        let mut rumble = [0.0f32; 2];
        for (r, ((h, l), x)) in rumble.iter_mut().zip(self.rumble_f.iter_mut().zip(rum_in)) {
            *r = l.tick(h.tick(x).0).1;
        }
        let rec_inc = RECORD_HZ * CTRL as f32 / sr;
        let rec_prev = self.record_ph;
        self.record_ph = wrap01(self.record_ph + rec_inc);

        // ---- dropouts ----
        let d = &mut self.rng_drop;
        let start = d.f32() < w[W_DROPOUTS] * DROPOUTS_PER_MIN / 60.0 * CTRL as f32 / sr;
        if self.dropout.is_none() && start {
            let len_s = (DROPOUT_MS.0 + (DROPOUT_MS.1 - DROPOUT_MS.0) * d.f32().powi(2)) * 1e-3;
            let depth = DROPOUT_DB.0 + (DROPOUT_DB.1 - DROPOUT_DB.0) * d.f32().powf(1.5);
            let depth = depth * (0.5 + 0.5 * w[W_DROPOUTS]);
            let steps = ((len_s * sr / CTRL as f32) as u32).max(2);
            self.dropout = Some((0, steps, depth));
        }
        let mut dip_db = 0.0;
        if let Some((i, len, depth)) = self.dropout.as_mut() {
            let x = *i as f32 / *len as f32;
            // Quick loss of contact, a slower recovery.
            let env = smoothstep(x / 0.2) * smoothstep((1.0 - x) / 0.45);
            dip_db = *depth * env;
            *i += 1;
            if *i > *len {
                self.dropout = None;
            }
        }

        // ---- crackle events for the next CTRL samples ----
        self.schedule_crackle(w[W_CRACKLE], rec_prev, rec_inc);

        // ---- coefficients ----
        let k = w[W_SAT];
        let o = w[W_OPTICAL];
        let drive = SAT_DRIVE * k;
        let bias = SAT_BIAS * k;
        let den = 1.0 - 3.0 * CURVE_C * bias * bias;
        let (sat_lo, sat_hi) = if drive > 0.0 {
            (
                ((-CURVE_EDGE - bias) / drive).max(-INPUT_LIMIT),
                ((CURVE_EDGE - bias) / drive).min(INPUT_LIMIT),
            )
        } else {
            (-INPUT_LIMIT, INPUT_LIMIT)
        };
        let head_hz = HEAD_HP_HZ.0 + (HEAD_HP_HZ.1 - HEAD_HP_HZ.0) * k;
        let hp_hz = (head_hz * head_hz + (OPTICAL_HP_HZ * o).powi(2)).sqrt();
        let hp_q = HEAD_BUMP_Q.0 + (HEAD_BUMP_Q.1 - HEAD_BUMP_Q.0) * k;
        let (hp_g, hp_c1, hp_c0) = svf_coefs(sr, hp_hz, hp_q);
        let inv2 = k / (TAPE_TOP_HZ * TAPE_TOP_HZ)
            + o / (OPTICAL_TOP_HZ * OPTICAL_TOP_HZ)
            + (dip_db / 20.0) / (DROPOUT_DULL_HZ * DROPOUT_DULL_HZ);
        let top_a = if inv2 > 0.0 {
            1.0 - (-TAU / (inv2.sqrt() * sr)).exp()
        } else {
            1.0
        };
        let lp_hz = if o > 0.0 {
            OPTICAL_LP_HZ / o.sqrt()
        } else {
            sr
        };
        let (lp_g, lp_c1, lp_c0) =
            svf_coefs(sr, lp_hz, core::f32::consts::FRAC_1_SQRT_2 + PRESENCE_Q * o);
        self.coefs = Coefs {
            sat_lo,
            sat_hi,
            sat_a2: -3.0 * CURVE_C * drive * bias / den,
            sat_a3: -CURVE_C * drive * drive / den,
            hp_g,
            hp_c1,
            hp_c0,
            top_a,
            lp_g,
            lp_c1,
            lp_c0,
        };

        // ---- ramp targets ----
        let delay_s = self.centre * (self.wow_span_s + self.flutter_span_s)
            + self.wow_depth * wow_s
            + self.flutter_depth * flutter_s;
        let delay = (delay_s * sr).clamp(0.0, self.max_delay);
        self.peak_delay = self.peak_delay.max(delay);
        let dip = if dip_db > 0.0 {
            (-dip_db * (core::f32::consts::LN_10 / 20.0)).exp()
        } else {
            1.0
        };
        let warp = 1.0 + 0.4 * sin_turns(self.record_ph);
        let rumble_level = RUMBLE_RMS * w[W_CRACKLE] * warp;
        self.delay.retarget(delay, snap);
        self.gain
            .retarget(dip * (1.0 + FLICKER_DEPTH * o * flick), snap);
        self.mix
            .retarget((self.amount / ENGAGE_AMOUNT).min(1.0), snap);
        self.hiss
            .retarget(HISS_RMS * self.nscale * w[W_HISS] * w[W_HISS].sqrt(), snap);
        self.crackle.retarget(w[W_CRACKLE], snap);
        self.rumble_l
            .retarget(rumble_level * (rumble[0] + 0.5 * rumble[1]), snap);
        self.rumble_r
            .retarget(rumble_level * (rumble[0] - 0.5 * rumble[1]), snap);
        Control::Run
    }

    /// Decides the crackle events of the next control period (ticks, clicks, pops and the
    /// scratches that come round once per turn) and arms resonators for them.
    fn schedule_crackle(&mut self, weight: f32, rec_prev: f32, rec_inc: f32) {
        let per = CTRL as f32 / self.sr;
        let kinds = [
            (TICK_RATE, TICK_AMP, TICK_HZ, (0.00015, 0.0005), 0.6),
            (CLICK_RATE, CLICK_AMP, CLICK_HZ, (0.0004, 0.0015), 0.8),
            (POP_RATE, POP_AMP, POP_HZ, (0.002, 0.005), 0.3),
        ];
        for (rate, amp, hz, t60, spread) in kinds {
            let u = self.rng_crackle.f32();
            if u < rate * weight * per {
                let r = &mut self.rng_crackle;
                let offset = r.below(CTRL as u32) as i32;
                // Mostly small, now and then a big one.
                let a = amp * (0.15 + 0.85 * r.f32().powi(3));
                let a = if r.chance(0.5) { a } else { -a };
                let f = hz.0 * (hz.1 / hz.0).powf(r.f32());
                let t = r.range(t60.0, t60.1);
                let pan = r.bipolar() * spread;
                self.arm_click(offset, a, f, t, pan);
            }
        }
        for s in 0..SCRATCHES {
            let (at, loud) = self.scratches[s];
            // Turns from the previous phase to the scratch, within this period?
            let ahead = wrap01(at - rec_prev);
            if ahead < rec_inc {
                let r = &mut self.rng_crackle;
                let offset = ((ahead / rec_inc) * CTRL as f32) as i32;
                let a = SCRATCH_AMP * loud * r.range(0.6, 1.0);
                let f = r.range(1500.0, 3000.0);
                let pan = if s % 2 == 0 { -0.3 } else { 0.4 };
                self.arm_click(offset.min(CTRL as i32 - 1), a, f, 0.001, pan);
            }
        }
    }

    /// Arms a crackle resonator: a doublet of amplitude `amp` in `offset` samples, ringing at
    /// `hz` for `t60` seconds, panned by `pan`.
    fn arm_click(&mut self, offset: i32, amp: f32, hz: f32, t60: f32, pan: f32) {
        let slot = match self.clicks.iter().position(|c| !c.live) {
            Some(i) => i,
            None => {
                self.next_click = (self.next_click + 1) % CLICK_SLOTS;
                self.next_click
            }
        };
        let hz = hz.min(0.45 * self.sr);
        let c = &mut self.clicks[slot];
        c.mode.reset();
        c.mode.set(self.sr, hz, t60);
        // The doublet's ring peaks near 2 sin(pi f / sr) times an impulse's.
        c.kick = amp / (2.0 * (PI * hz / self.sr).sin()).max(1e-3);
        c.countdown = offset;
        let (gl, gr) = crate::voices::common::pan_gains(pan);
        c.gl = gl;
        c.gr = gr;
        c.live = true;
    }
}

/// Moves `x` toward `target` by at most `step`, landing on it exactly.
#[inline]
fn approach(x: f32, target: f32, step: f32) -> f32 {
    if (target - x).abs() <= step {
        target
    } else if target > x {
        x + step
    } else {
        x - step
    }
}

/// Group `g`'s lane `k`: (stem, side).
#[inline(always)]
fn lane_channel(g: usize, k: usize) -> (usize, usize) {
    let lane = g * LANES + k;
    (lane / 2, lane % 2)
}

/// An input sample the delay line takes as it is: at or over the denormal floor (NaN is
/// not, and goes in as silence).
#[inline(always)]
fn audible(x: f32) -> bool {
    x.abs() >= DENORMAL_FLOOR
}

/// The per-lane chain over `range` of one control period: delay-line read, tape curve, low
/// cut with the head bump, top loss, print band limit, gain, and the wet/dry share.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn process_lanes(
    st: &mut LaneState,
    ring: &[[f32; LANES]],
    cf: &Coefs,
    range: core::ops::Range<usize>,
    taps: &[[u32; 4]; MAX_BLOCK],
    wts: &[[f32; 4]; MAX_BLOCK],
    gain: &[f32; MAX_BLOCK],
    mix: &[f32; MAX_BLOCK],
    out: &mut [[f32; LANES]; MAX_BLOCK],
) {
    let mut s = *st;
    for i in range {
        let t = taps[i];
        let w = wts[i];
        let f0 = ring[t[0] as usize];
        let f1 = ring[t[1] as usize];
        let f2 = ring[t[2] as usize];
        let f3 = ring[t[3] as usize];
        let (g, e) = (gain[i], mix[i]);
        let mut y = [0.0f32; LANES];
        for k in 0..LANES {
            // Wow and flutter: the read from the moving tape.
            let dry = w[0] * f0[k] + w[1] * f1[k] + w[2] * f2[k] + w[3] * f3[k];
            // Record: the tape curve, normalised to unity small-signal gain.
            let x = if dry < cf.sat_lo { cf.sat_lo } else { dry };
            let x = if x > cf.sat_hi { cf.sat_hi } else { x };
            let x = x * (1.0 + x * (cf.sat_a2 + cf.sat_a3 * x));
            // Playback: low cut with the head bump (SVF high-pass).
            let hp = (x - cf.hp_c1 * s.hp1[k] - s.hp2[k]) * cf.hp_c0;
            let v = cf.hp_g * hp;
            let bp = v + s.hp1[k];
            s.hp1[k] = bp + v;
            let v2 = cf.hp_g * bp;
            let lp = v2 + s.hp2[k];
            s.hp2[k] = lp + v2;
            // Top loss (tape gap, print, dropout dulling); the bias pair keeps the state out
            // of the subnormals however fast it decays.
            let z = s.top[k] + cf.top_a * (hp - s.top[k]);
            s.top[k] = (z + 1.0e-18) - 1.0e-18;
            // Print band limit with its presence peak (SVF low-pass).
            let h2 = (z - cf.lp_c1 * s.lp1[k] - s.lp2[k]) * cf.lp_c0;
            let u = cf.lp_g * h2;
            let b2 = u + s.lp1[k];
            s.lp1[k] = b2 + u;
            let u2 = cf.lp_g * b2;
            let l2 = u2 + s.lp2[k];
            s.lp2[k] = l2 + u2;
            y[k] = dry + e * (g * l2 - dry);
        }
        out[i] = y;
    }
    *st = s;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voices::common::testutil::{assert_clean, power_spectrum, rms, RATES};

    type Block = [[f32; MAX_BLOCK]; 2];

    /// Runs `g` over `input` (per stem: left, right), in blocks whose sizes cycle through
    /// `sizes`, with `noise_stem`. Returns the processed stems.
    fn run(
        g: &mut Grain,
        input: &[(Vec<f32>, Vec<f32>)],
        sizes: &[usize],
        noise_stem: usize,
    ) -> Vec<(Vec<f32>, Vec<f32>)> {
        let len = input[0].0.len();
        let mut out: Vec<(Vec<f32>, Vec<f32>)> = input
            .iter()
            .map(|_| (vec![0.0; len], vec![0.0; len]))
            .collect();
        let mut buf: Vec<Block> = vec![[[0.0; MAX_BLOCK]; 2]; input.len()];
        let (mut i, mut j) = (0, 0);
        while i < len {
            let n = sizes[j % sizes.len()].min(MAX_BLOCK).min(len - i);
            j += 1;
            for (b, x) in buf.iter_mut().zip(input) {
                b[0][..n].copy_from_slice(&x.0[i..i + n]);
                b[1][..n].copy_from_slice(&x.1[i..i + n]);
            }
            g.process(&mut buf, n, noise_stem);
            for (b, y) in buf.iter().zip(out.iter_mut()) {
                y.0[i..i + n].copy_from_slice(&b[0][..n]);
                y.1[i..i + n].copy_from_slice(&b[1][..n]);
            }
            i += n;
        }
        out
    }

    fn sine(sr: f32, hz: f32, amp: f32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| amp * (TAU as f64 * hz as f64 * i as f64 / sr as f64).sin() as f32)
            .collect()
    }

    /// Music-like test material: a sine chord with a few noise bursts, different per stem.
    fn material(sr: f32, stems: usize, len: usize) -> Vec<(Vec<f32>, Vec<f32>)> {
        let mut rng = Rng::new(99);
        (0..stems)
            .map(|s| {
                let f = 110.0 * (1.0 + s as f32 * 0.37);
                let mut l = sine(sr, f, 0.15, len);
                let r2 = sine(sr, f * 1.5, 0.1, len);
                for (i, (a, b)) in l.iter_mut().zip(&r2).enumerate() {
                    let burst = ((i / (sr as usize / 4)) % 3 == s % 3) as u8 as f32;
                    *a += b + burst * 0.05 * rng.bipolar();
                }
                let r = l.iter().map(|x| x * 0.8).collect();
                (l, r)
            })
            .collect()
    }

    fn only(field: usize) -> GrainDetail {
        let mut w = [0.0; 7];
        w[field] = 1.0;
        GrainDetail {
            wow: w[0],
            flutter: w[1],
            saturation: w[2],
            hiss: w[3],
            crackle: w[4],
            optical: w[5],
            dropouts: w[6],
        }
    }

    fn grain(sr: f32, stems: usize, amount: f32, detail: GrainDetail) -> Grain {
        let mut g = Grain::new(sr, stems, 7);
        g.set_amount(amount);
        g.set_detail(detail);
        g.reset();
        g
    }

    #[test]
    fn detail_defaults_to_all_ones_and_round_trips_through_serde() {
        let d = GrainDetail::default();
        assert_eq!(d.weights(), [1.0; 7]);
        let json = serde_json::to_string(&d).unwrap();
        let back: GrainDetail = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        // Missing fields take the default; unknown ones are refused.
        let partial: GrainDetail = serde_json::from_str(r#"{"wow":0.5}"#).unwrap();
        assert_eq!(partial.wow, 0.5);
        assert_eq!(partial.hiss, 1.0);
        assert!(serde_json::from_str::<GrainDetail>(r#"{"warp":1}"#).is_err());
    }

    #[test]
    fn amount_zero_leaves_every_sample_bit_identical() {
        let sr = 48_000.0;
        let input = material(sr, 3, 4800);
        let mut g = Grain::new(sr, 3, 1);
        assert!(g.is_bypassed());
        let out = run(&mut g, &input, &[64], 0);
        for (a, b) in out.iter().zip(&input) {
            assert!(a
                .0
                .iter()
                .zip(&b.0)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            assert!(a
                .1
                .iter()
                .zip(&b.1)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }

    #[test]
    fn turning_the_grain_off_glides_into_an_exact_bypass_without_a_click() {
        let sr = 48_000.0;
        let len = 48_000 * 3;
        let input: Vec<_> = (0..2)
            .map(|_| (sine(sr, 220.0, 0.3, len), sine(sr, 220.0, 0.3, len)))
            .collect();
        let mut g = grain(sr, 2, 1.0, GrainDetail::default());
        let mut out = run(&mut g, &input[..], &[64], 1);
        // Off at 1 s: the amount glides out in 50 ms, the wow depth in about 1 s.
        g.set_amount(f32::NAN);
        let tail: Vec<_> = input.iter().map(|(l, r)| (l.clone(), r.clone())).collect();
        let t2 = run(&mut g, &tail, &[64], 1);
        assert!(g.is_bypassed(), "still processing after 3 s");
        // Once bypassed the output is the input, bit for bit.
        let last = &t2[0].0[len - 4800..];
        assert!(last
            .iter()
            .zip(&tail[0].0[len - 4800..])
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        // No step anywhere in the transition on stem 0 (no noise there): a 220 Hz sine at 0.3
        // moves by at most 0.3 * 2 pi 220 / 48000 = 0.0086 per sample; allow the dropouts'
        // and the saturation's small extra.
        out[0].0.extend_from_slice(&t2[0].0);
        let max_step = out[0]
            .0
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(max_step < 0.02, "step {max_step}");
    }

    #[test]
    fn a_silent_group_is_skipped_and_changes_no_sample() {
        // Ten stems (three groups of four); the last two stems and the padding make the third
        // group. They are silent, then play, then fall silent longer than the delay line: the
        // group sleeps, wakes on the first sample and goes back to sleep, with the samples of
        // a grain that runs every group throughout. The other stems play (stem 5 takes the
        // noise) all along.
        let sr = 48_000.0;
        let len = 48_000 * 3;
        let mut input = material(sr, 10, len);
        for (l, r) in input[8..].iter_mut() {
            for i in (0..24_000).chain(48_000 + 333..len) {
                l[i] = 0.0;
                r[i] = 0.0;
            }
        }
        let run_with = |never_skip: bool| {
            let mut g = grain(sr, 10, 0.9, GrainDetail::default());
            g.never_skip = never_skip;
            let out = run(&mut g, &input, &[64, 17, 5], 5);
            (out, g.skipped)
        };
        let (all, none) = run_with(true);
        let (skipping, skipped) = run_with(false);
        assert_eq!(none, 0);
        // Asleep for most of the first half second and of the last 1.9 s (the line is ~0.1 s).
        let blocks = len / ((64 + 17 + 5) / 3);
        assert!(skipped > blocks / 3, "{skipped} of {blocks} blocks skipped");
        for (s, (x, y)) in all.iter().zip(&skipping).enumerate() {
            assert!(x == y, "stem {s} differs when its group is skipped");
        }
        assert!(
            rms(&skipping[8].0[24_000..48_000]) > 1.0e-3,
            "the woken stem plays"
        );
    }

    #[test]
    fn block_size_does_not_matter() {
        let sr = 44_100.0;
        let input = material(sr, 3, 4800 * 4);
        let script = |sizes: &[usize]| {
            let mut g = grain(sr, 3, 0.8, GrainDetail::default());
            let mut all = run(&mut g, &input, sizes, 2);
            // Change settings mid-way (events at the same sample positions).
            g.set_amount(0.3);
            g.set_detail(GrainDetail {
                wow: 0.2,
                ..GrainDetail::default()
            });
            let more = run(&mut g, &input, sizes, 2);
            for (a, b) in all.iter_mut().zip(more) {
                a.0.extend(b.0);
                a.1.extend(b.1);
            }
            all
        };
        let a = script(&[64]);
        for sizes in [&[7, 13, 31, 64, 1][..], &[32, 3, 60]] {
            let b = script(sizes);
            for (s, (x, y)) in a.iter().zip(&b).enumerate() {
                let first = (0..x.0.len()).find(|&i| x.0[i] != y.0[i] || x.1[i] != y.1[i]);
                assert!(
                    first.is_none(),
                    "stem {s} differs from sample {first:?} with {sizes:?}"
                );
            }
        }
    }

    #[test]
    fn deterministic_for_a_seed_and_reset_reproduces() {
        let sr = 48_000.0;
        let input = material(sr, 2, 48_000);
        let mut g = grain(sr, 2, 1.0, GrainDetail::default());
        let a = run(&mut g, &input, &[64], 1);
        g.reset();
        let b = run(&mut g, &input, &[64], 1);
        assert_eq!(a, b);
        let mut h = grain(sr, 2, 1.0, GrainDetail::default());
        assert_eq!(a, run(&mut h, &input, &[64], 1));
        // Another seed wears differently.
        let mut other = Grain::new(sr, 2, 8);
        other.set_amount(1.0);
        other.reset();
        assert_ne!(a, run(&mut other, &input, &[64], 1));
    }

    #[test]
    fn clean_and_without_dc_at_every_rate() {
        for sr in RATES {
            let len = (sr * 4.0) as usize;
            // Silence in, full grain: only the noise stem sounds.
            let silent = vec![(vec![0.0; len], vec![0.0; len]); 2];
            let mut g = grain(sr, 2, 1.0, GrainDetail::default());
            let out = run(&mut g, &silent, &[64, 17], 1);
            for (l, r) in &out {
                assert_clean(l, "grain l");
                assert_clean(r, "grain r");
            }
            let noise = &out[1].0[len / 4..];
            let mean = noise.iter().map(|&x| x as f64).sum::<f64>() / noise.len() as f64;
            let level = rms(noise) as f64;
            assert!(level > 1e-4, "no noise at {sr}: {level}");
            // The mean is a tiny fraction of the noise (rumble included): no DC.
            assert!(
                mean.abs() < 0.02 * level,
                "DC {mean} vs rms {level} at {sr}"
            );
            // Music in.
            let input = material(sr, 2, len);
            let mut g = grain(sr, 2, 1.0, GrainDetail::default());
            let out = run(&mut g, &input, &[64, 5], 0);
            for (l, r) in &out {
                assert_clean(l, "grain l");
                assert_clean(r, "grain r");
                assert!(rms(l) > 0.05, "lost the music at {sr}");
            }
        }
    }

    #[test]
    fn noise_lands_only_in_the_noise_stem() {
        let sr = 48_000.0;
        let len = 48_000;
        let silent = vec![(vec![0.0; len], vec![0.0; len]); 4];
        let mut g = grain(sr, 4, 0.5, GrainDetail::default());
        let out = run(&mut g, &silent, &[64], 2);
        for (s, (l, r)) in out.iter().enumerate() {
            if s == 2 {
                assert!(rms(l) > 1e-5 && rms(r) > 1e-5, "no noise");
            } else {
                assert!(l.iter().chain(r).all(|&x| x == 0.0), "noise in stem {s}");
            }
        }
    }

    #[test]
    fn without_saturation_the_processed_stems_sum_to_the_processed_sum() {
        let sr = 48_000.0;
        let len = 24_000;
        let input = material(sr, 3, len);
        let detail = GrainDetail {
            saturation: 0.0,
            hiss: 0.0,
            crackle: 0.0,
            ..GrainDetail::default()
        };
        let mut g = grain(sr, 3, 1.0, detail);
        let each = run(&mut g, &input, &[64], 0);
        let sum_in: Vec<f32> = (0..len)
            .map(|i| input.iter().map(|s| s.0[i]).sum())
            .collect();
        let mut g = grain(sr, 1, 1.0, detail);
        let whole = run(&mut g, &[(sum_in.clone(), sum_in)], &[64], 0);
        let worst = (0..len)
            .map(|i| (each.iter().map(|s| s.0[i]).sum::<f32>() - whole[0].0[i]).abs())
            .fold(0.0f32, f32::max);
        // Linear and shared: equal up to float rounding.
        assert!(worst < 1e-5, "sum differs by {worst}");
    }

    /// Instantaneous frequency of a sine, one value per period (interpolated zero crossings).
    fn inst_freq(x: &[f32], sr: f32) -> Vec<f32> {
        let mut ups = Vec::new();
        for i in 1..x.len() {
            if x[i - 1] < 0.0 && x[i] >= 0.0 {
                let f = x[i - 1] / (x[i - 1] - x[i]);
                ups.push((i - 1) as f64 + f as f64);
            }
        }
        ups.windows(2)
            .map(|w| (sr as f64 / (w[1] - w[0])) as f32)
            .collect()
    }

    /// The strongest rate in a modulation sampled at `rate` (Hz), searched between lo and hi.
    fn dominant_rate(m: &[f32], rate: f32, lo: f32, hi: f32) -> (f32, f64) {
        let mean = m.iter().sum::<f32>() / m.len() as f32;
        let c: Vec<f32> = m.iter().map(|v| v - mean).collect();
        let p = power_spectrum(&c);
        let bin = rate / c.len() as f32;
        let total: f64 = p.iter().skip(1).sum();
        let (mut best, mut bp) = (0, 0.0);
        let mut inside = 0.0;
        for (k, v) in p.iter().enumerate() {
            let f = k as f32 * bin;
            if f >= lo && f <= hi {
                inside += v;
                if *v > bp {
                    bp = *v;
                    best = k;
                }
            }
        }
        (best as f32 * bin, inside / total)
    }

    /// The instantaneous frequency of a 1 kHz sine through `detail` at full grain: per
    /// period, and averaged over `avg` periods (a modulation sampled at 1000 / avg Hz).
    fn modulation_of(detail: GrainDetail, secs: f32, avg: usize) -> (Vec<f32>, Vec<f32>) {
        let sr = 48_000.0;
        let len = (sr * secs) as usize;
        let x = sine(sr, 1000.0, 0.2, len);
        let mut g = grain(sr, 1, 1.0, detail);
        let out = run(&mut g, &[(x.clone(), x)], &[64], 5);
        let f = inst_freq(&out[0].0[4800..], sr);
        let m = f
            .chunks_exact(avg)
            .map(|c| c.iter().sum::<f32>() / avg as f32)
            .collect();
        (f, m)
    }

    #[test]
    fn wow_bends_a_1khz_sine_slowly_by_about_a_quarter_percent() {
        let (f, m) = modulation_of(only(W_WOW), 40.0, 20);
        let dev = f
            .iter()
            .map(|v| (v / 1000.0 - 1.0).abs())
            .fold(0.0f32, f32::max);
        // Designed: 0.13 % + 0.04 % periodic + drift of 0.035 % rms: a peak near 0.2-0.25 %.
        assert!((0.0012..0.0035).contains(&dev), "peak deviation {dev}");
        // Averaged over 20 periods: the modulation sampled at 50 Hz.
        let (rate, share) = dominant_rate(&m, 50.0, 0.2, 2.0);
        assert!((0.3..1.6).contains(&rate), "wow rate {rate}");
        assert!(share > 0.8, "only {share} of the modulation is wow-slow");
    }

    #[test]
    fn flutter_is_faster_and_smaller() {
        let (f, m) = modulation_of(only(W_FLUTTER), 20.0, 10);
        let dev = f
            .iter()
            .map(|v| (v / 1000.0 - 1.0).abs())
            .fold(0.0f32, f32::max);
        // 0.03 % periodic (wandering 0.5..1) + 0.01 % rms random: a peak near 0.04-0.06 %.
        assert!((0.0002..0.0009).contains(&dev), "peak deviation {dev}");
        // Averaged over 10 periods: sampled at 100 Hz.
        let (rate, share) = dominant_rate(&m, 100.0, 5.0, 16.0);
        assert!((6.0..14.0).contains(&rate), "flutter rate {rate}");
        assert!(
            share > 0.7,
            "only {share} of the modulation is flutter-fast"
        );
    }

    #[test]
    fn the_delay_read_stays_inside_its_line() {
        for sr in RATES {
            let len = (sr * 20.0) as usize;
            let x = sine(sr, 300.0, 0.5, len);
            let mut g = grain(sr, 1, 1.0, GrainDetail::default());
            let out = run(&mut g, &[(x.clone(), x)], &[64], 3);
            assert_clean(&out[0].0, "wow");
            // The largest excursion used is inside the line, with the design's margin.
            assert!(
                g.peak_delay <= g.max_delay,
                "{} > {}",
                g.peak_delay,
                g.max_delay
            );
            assert!(g.peak_delay > 0.0);
            let design = 2.0 * (g.wow_span_s + g.flutter_span_s) * sr;
            assert!(g.peak_delay <= design + 1.0, "{} > {design}", g.peak_delay);
        }
    }

    /// Level of `hz` in `x` (Goertzel-like single-bin DFT over whole periods), linear.
    fn tone_level(x: &[f32], sr: f32, hz: f32) -> f32 {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, v) in x.iter().enumerate() {
            let ph = TAU as f64 * hz as f64 * i as f64 / sr as f64;
            re += *v as f64 * ph.cos();
            im += *v as f64 * ph.sin();
        }
        (2.0 * (re * re + im * im).sqrt() / x.len() as f64) as f32
    }

    /// Gain (dB) of a steady sine at `hz` through `detail` at full grain.
    fn gain_db(detail: GrainDetail, hz: f32) -> f32 {
        let sr = 48_000.0;
        let len = 48_000;
        let x = sine(sr, hz, 0.05, len);
        let mut g = grain(sr, 1, 1.0, detail);
        let out = run(&mut g, &[(x.clone(), x)], &[64], 3);
        // Whole seconds from 0.5 s on: an integer number of periods for these tones.
        let seg = &out[0].0[24_000..];
        20.0 * (tone_level(seg, sr, hz) / 0.05).log10()
    }

    #[test]
    fn saturation_adds_harmonics_that_grow_with_level() {
        let sr = 48_000.0;
        let thd = |amp: f32| {
            let x = sine(sr, 200.0, amp, 48_000);
            let mut g = grain(sr, 1, 1.0, only(W_SAT));
            let out = run(&mut g, &[(x.clone(), x)], &[64], 3);
            let seg = &out[0].0[24_000..];
            let f = tone_level(seg, sr, 200.0);
            let h: f32 = (2..6)
                .map(|k| tone_level(seg, sr, 200.0 * k as f32).powi(2))
                .sum();
            (h.sqrt() / f, tone_level(seg, sr, 400.0) / f)
        };
        let (quiet, _) = thd(0.05);
        let (mid, _) = thd(0.2);
        let (loud, h2) = thd(0.5);
        // The cubic term's 3rd harmonic grows with level squared: (0.2/0.05)^2 = 16x.
        assert!(quiet < 0.005, "quiet THD {quiet}");
        assert!(
            mid > 4.0 * quiet && loud > 2.0 * mid,
            "{quiet} {mid} {loud}"
        );
        assert!(loud > 0.03, "loud THD {loud}");
        // Slightly asymmetric: some 2nd harmonic.
        assert!(h2 > 0.003, "no even harmonics: {h2}");
    }

    #[test]
    fn the_head_bump_lifts_80_hz_over_1_khz() {
        let bump = gain_db(only(W_SAT), 80.0) - gain_db(only(W_SAT), 1000.0);
        // A resonant low cut at 58 Hz, Q 1.25: about +2.5 dB near 72-80 Hz.
        assert!((1.5..4.0).contains(&bump), "head bump {bump} dB");
        // Below the bump the tape rolls off (no sub-bass boost).
        assert!(gain_db(only(W_SAT), 25.0) < -3.0);
    }

    #[test]
    fn the_print_is_band_limited_with_a_little_presence() {
        let o = only(W_OPTICAL);
        let ref_db = gain_db(o, 1000.0);
        let top = gain_db(o, 10_000.0) - ref_db;
        assert!(top < -12.0, "10 kHz only {top} dB down");
        let low = gain_db(o, 50.0) - ref_db;
        assert!(low < -6.0, "50 Hz only {low} dB down");
        // The presence hump: a little lift at 3.5 kHz, the band still open at 6 kHz.
        let pres = gain_db(o, 3500.0) - ref_db;
        assert!((0.3..3.0).contains(&pres), "presence {pres} dB");
        assert!(gain_db(o, 6000.0) - ref_db > -6.0);
    }

    /// Dips of a steady tone's level (5 ms windows) at least 3 dB under its median: (start,
    /// length) in windows.
    fn dips(x: &[f32], win: usize) -> (Vec<(usize, usize)>, f32) {
        let lv: Vec<f32> = x.chunks(win).map(rms).collect();
        let mut sorted = lv.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = sorted[sorted.len() / 2];
        let mut out = Vec::new();
        let mut start = None;
        let mut deepest = 1.0f32;
        for (i, v) in lv.iter().enumerate() {
            let low = *v < median * 0.708;
            deepest = deepest.min(v / median);
            match (low, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    out.push((s, i - s));
                    start = None;
                }
                _ => {}
            }
        }
        (out, deepest)
    }

    #[test]
    fn dropouts_come_a_few_a_minute_and_recover() {
        let sr = 48_000.0;
        let len = 48_000 * 120;
        let x = sine(sr, 1000.0, 0.2, len);
        let mut g = grain(sr, 1, 1.0, only(W_DROPOUTS));
        let out = run(&mut g, &[(x.clone(), x.clone())], &[64], 3);
        let win = 240; // 5 ms
        let (found, deepest) = dips(&out[0].0, win);
        // 4 a minute on average: about 8 in two minutes.
        assert!((2..=20).contains(&found.len()), "{} dropouts", found.len());
        for (start, n) in &found {
            // Each recovers within 300 ms (60 windows), and is a dip (> 3 dB) to begin with.
            assert!(
                n * win < (0.3 * sr) as usize,
                "dropout at {start} lasts {n} windows"
            );
        }
        // The deepest one reaches at least 6 dB.
        assert!(deepest < 0.5, "deepest {deepest}");
        // With the dropouts weighted out, none.
        let mut g = grain(
            sr,
            1,
            1.0,
            GrainDetail {
                dropouts: 0.0,
                ..only(W_OPTICAL)
            },
        );
        let out = run(&mut g, &[(x.clone(), x)], &[64], 3);
        assert!(dips(&out[0].0[4800..], win).0.is_empty());
    }

    #[test]
    fn hiss_is_a_quiet_bright_hush() {
        let sr = 48_000.0;
        let len = 48_000 * 2;
        let silent = vec![(vec![0.0; len], vec![0.0; len])];
        let mut g = grain(sr, 1, 1.0, only(W_HISS));
        let out = run(&mut g, &silent, &[64], 0);
        let seg = &out[0].0[4800..4800 + 4096];
        let db = 20.0 * rms(seg).log10();
        // -50 dBFS white, less what the 300 Hz low cut takes: about -50 dB.
        assert!((-56.0..-45.0).contains(&db), "hiss at {db} dBFS");
        let above = crate::voices::common::testutil::power_fraction_above(seg, sr, 1000.0);
        assert!(above > 0.8, "hiss above 1 kHz: {above}");
        // Left and right are separate tracks: uncorrelated.
        let r = &out[0].1[4800..4800 + 4096];
        let dot: f64 = seg.iter().zip(r).map(|(a, b)| (*a * *b) as f64).sum();
        let corr = dot / (rms(seg) as f64 * rms(r) as f64 * seg.len() as f64);
        assert!(corr.abs() < 0.1, "hiss correlation {corr}");
    }

    #[test]
    fn crackle_is_sparse_and_rumble_is_low() {
        let sr = 48_000.0;
        let len = 48_000 * 8;
        let silent = vec![(vec![0.0; len], vec![0.0; len])];
        let mut g = grain(sr, 1, 1.0, only(W_CRACKLE));
        let out = run(&mut g, &silent, &[64], 0);
        let x = &out[0].0[4800..];
        // Split into the rumble (below 100 Hz) and the crackle (the rest) by a crude
        // moving-average crossover.
        let w = 240;
        let low: Vec<f32> = (0..x.len() - w)
            .map(|i| x[i..i + w].iter().sum::<f32>() / w as f32)
            .collect();
        let high: Vec<f32> = (0..low.len()).map(|i| x[i + w / 2] - low[i]).collect();
        let crest = high.iter().fold(0.0f32, |m, v| m.max(v.abs())) / rms(&high);
        assert!(crest > 8.0, "crackle crest factor {crest}");
        // The rumble: some, but little below 15 Hz (no DC, no sub-audio warp). Averaged in
        // groups of 32 samples: 1500 Hz, plenty for a rumble.
        let seg: Vec<f32> = x
            .chunks_exact(32)
            .take(8192)
            .map(|c| c.iter().sum::<f32>() / 32.0)
            .collect();
        let p = power_spectrum(&seg);
        let bin = sr / 32.0 / seg.len() as f32;
        let band = |lo: f32, hi: f32| -> f64 {
            p.iter()
                .enumerate()
                .filter(|(k, _)| (*k as f32 * bin) >= lo && (*k as f32 * bin) < hi)
                .map(|(_, v)| v)
                .sum()
        };
        let rumble = band(18.0, 60.0);
        assert!(rumble > 10.0 * band(1.0, 12.0), "rumble below 18 Hz");
        assert!(rumble > 0.0);
    }

    #[test]
    fn hostile_input_and_settings_are_survived() {
        let sr = 22_050.0;
        let mut g = Grain::new(sr, 2, 3);
        g.set_amount(f32::INFINITY);
        g.set_detail(GrainDetail {
            wow: f32::NAN,
            flutter: -3.0,
            saturation: 1e30,
            ..GrainDetail::default()
        });
        let mut buf = vec![[[0.0f32; MAX_BLOCK]; 2]; 3];
        for k in 0..400 {
            for (s, b) in buf.iter_mut().enumerate() {
                for (i, v) in b[0].iter_mut().enumerate() {
                    *v = match (k + i + s) % 7 {
                        0 => f32::NAN,
                        1 => f32::INFINITY,
                        2 => -1e30,
                        3 => 1e-40,
                        _ => 0.3,
                    };
                }
                b[1] = b[0];
            }
            // More stems than allocated, an out-of-range noise stem, oversized blocks.
            g.process(&mut buf, 1000, 9);
            g.process(&mut buf[..1], 13, 0);
            for b in &buf[..2] {
                assert_clean(&b[0], "hostile");
                assert!(b[0].iter().all(|v| v.abs() < 16.0));
            }
        }
        // An empty call does nothing.
        g.process(&mut [], 64, 0);
    }

    /// Cost: 10 stereo stems at full grain, ms per second of audio. Run with
    /// `cargo test --release --lib dsp::grain::tests::cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn cost() {
        let sr = 48_000.0;
        let stems = 10;
        let mut g = Grain::new(sr, stems, 1);
        g.set_amount(1.0);
        g.reset();
        let mut buf = vec![[[0.0f32; MAX_BLOCK]; 2]; stems];
        let mut rng = Rng::new(5);
        for b in buf.iter_mut() {
            for ch in b.iter_mut() {
                ch.iter_mut().for_each(|v| *v = rng.bipolar() * 0.2);
            }
        }
        let blocks = 48_000 / 64;
        let secs = 20;
        let mut times = Vec::new();
        let mut worst = 0.0f64;
        for _ in 0..secs {
            let mut total = 0.0f64;
            for _ in 0..blocks {
                let t1 = std::time::Instant::now();
                g.process(&mut buf, 64, 9);
                let dt = t1.elapsed().as_secs_f64();
                total += dt;
                worst = worst.max(dt);
                // Keep the levels musical (the output feeds back as the next input).
                for b in buf.iter_mut() {
                    for ch in b.iter_mut() {
                        ch.iter_mut()
                            .for_each(|v| *v = (*v * 0.9).clamp(-0.5, 0.5) + rng.bipolar() * 0.02);
                    }
                }
            }
            times.push(total * 1e3);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "grain, {stems} stereo stems at full grain, 48 kHz: median {:.3} ms per second of audio (min {:.3}, max {:.3}); worst 64-sample block {:.1} us",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            worst * 1e6
        );
    }
}

//! Small building blocks shared by the instrument models: gated fundsp filters, a Lagrange
//! delay line, a modal (two-pole) resonator, smoothers, a fast sine and pan/limit helpers.
//!
//! Real-time rules: everything allocates in `new` only; `tick`/`reset` never allocate. Every
//! recursive state is flushed (or the whole unit zeroed once it is inaudibly quiet) so that
//! decaying tails never become subnormal and silence becomes exactly 0.0.

use crate::dsp::util::flush;
use fundsp::audionode::AudioNode;
use fundsp::prelude32::{
    bandpass_hz, highpass_hz, lowpass_hz, An, BandpassMode, FixedSvf, HighpassMode, LowpassMode,
    SvfMode,
};

/// Levels below this (on both input and output of a filter for `QUIET_RUN` samples) zero
/// the filter state. -240 dB: far below audibility, far above subnormals.
const QUIET: f32 = 1.0e-12;
const QUIET_RUN: u32 = 48;

/// The "quiet gate" both gated filters share: a mono fundsp node whose state is cleared once
/// its input and output have both stayed below -240 dB for a few dozen samples, so the output
/// falls to exactly 0.0 and the internal state can never become subnormal.
#[derive(Clone)]
struct Gated<X: AudioNode> {
    node: An<X>,
    quiet: u32,
}

impl<X: AudioNode> Gated<X> {
    fn new(mut node: An<X>, sample_rate: f32) -> Self {
        node.set_sample_rate(sample_rate as f64);
        node.allocate();
        Self { node, quiet: 0 }
    }

    #[inline]
    fn tick(&mut self, x: f32) -> f32 {
        if self.quiet >= QUIET_RUN && x.abs() < QUIET {
            // Gated, state at zero and the input below the gate: the filter's first output
            // from rest is no larger than its input, so ticking would gate again to exact
            // zero and leave the state at zero. Skip the arithmetic.
            return 0.0;
        }
        let y = self.node.filter_mono(x);
        if x.abs() < QUIET && y.abs() < QUIET {
            self.quiet += 1;
            if self.quiet >= QUIET_RUN {
                self.node.reset();
                self.quiet = QUIET_RUN;
                return 0.0;
            }
        } else {
            self.quiet = 0;
        }
        y
    }

    fn reset(&mut self) {
        self.node.reset();
        self.quiet = 0;
    }

    #[inline]
    fn asleep(&self) -> bool {
        self.quiet >= QUIET_RUN
    }
}

/// A fundsp Simper state-variable filter behind the quiet gate ([`Gated`]).
#[derive(Clone)]
pub struct Svf<M: SvfMode<f32>> {
    gate: Gated<FixedSvf<f32, M>>,
    nyquist_guard: f32,
}

impl<M: SvfMode<f32>> Svf<M> {
    fn wrap(node: An<FixedSvf<f32, M>>, sample_rate: f32, f: f32, q: f32) -> Self {
        let mut s = Self {
            gate: Gated::new(node, sample_rate),
            nyquist_guard: 0.45 * sample_rate,
        };
        s.set(f, q);
        s.reset();
        s
    }

    /// Retune (centre/cutoff in Hz is clamped below Nyquist so any sample rate works).
    #[inline]
    pub fn set(&mut self, f: f32, q: f32) {
        self.gate
            .node
            .set_cutoff_q(f.clamp(5.0, self.nyquist_guard), q.max(0.05));
    }

    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        self.gate.tick(x)
    }

    pub fn reset(&mut self) {
        self.gate.reset();
    }

    /// Gated and at rest: fed zeros it returns exact zeros and stays as it is, so a caller
    /// may skip ticking it with zeros.
    #[inline]
    pub fn asleep(&self) -> bool {
        self.gate.asleep()
    }
}

pub type Lowpass = Svf<LowpassMode<f32>>;
pub type Bandpass = Svf<BandpassMode<f32>>;
pub type Highpass = Svf<HighpassMode<f32>>;

pub fn lowpass(sample_rate: f32, f: f32, q: f32) -> Lowpass {
    Svf::wrap(lowpass_hz(f, q), sample_rate, f, q)
}
pub fn bandpass(sample_rate: f32, f: f32, q: f32) -> Bandpass {
    Svf::wrap(bandpass_hz(f, q), sample_rate, f, q)
}
pub fn highpass(sample_rate: f32, f: f32, q: f32) -> Highpass {
    Svf::wrap(highpass_hz(f, q), sample_rate, f, q)
}

/// Which of fundsp's Simper responses a lane of an [`SvfBank`] takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SvfKind {
    /// `lowpass_hz`, as [`Lowpass`].
    Lowpass,
    /// `bandpass_hz`, as [`Bandpass`].
    Bandpass,
    /// `highpass_hz`, as [`Highpass`].
    Highpass,
}

/// `N` state-variable filters side by side, each on its own input: fundsp's Simper filter
/// (`lowpass_hz`, `bandpass_hz`, `highpass_hz`: the same coefficients and arithmetic, the
/// output mixed from the same three taps) with each lane behind its own quiet gate as in
/// [`Gated`], so the same samples as `N` [`Svf`]s, bit for bit; stored as structure of
/// arrays, the gates as selects, so the lanes vectorise. Fixed tunings; built once, run on
/// the audio thread.
#[derive(Clone)]
pub struct SvfBank<const N: usize> {
    a1: [f32; N],
    a2: [f32; N],
    a3: [f32; N],
    /// The output taps: input, band and low (fundsp's `m0`, `m1`, `m2`).
    m0: [f32; N],
    m1: [f32; N],
    m2: [f32; N],
    ic1: [f32; N],
    ic2: [f32; N],
    /// Each lane's quiet run (see [`Gated`]).
    quiet: [u32; N],
}

impl<const N: usize> SvfBank<N> {
    /// Each lane's response, centre or cutoff (Hz) and Q, clamped as [`Svf::set`] clamps them.
    pub fn new(sample_rate: f32, lanes: [(SvfKind, f32, f32); N]) -> Self {
        let mut b = Self {
            a1: [0.0; N],
            a2: [0.0; N],
            a3: [0.0; N],
            m0: [0.0; N],
            m1: [0.0; N],
            m2: [0.0; N],
            ic1: [0.0; N],
            ic2: [0.0; N],
            quiet: [0; N],
        };
        for (i, (kind, f, q)) in lanes.into_iter().enumerate() {
            let (f, q) = (f.clamp(5.0, 0.45 * sample_rate), q.max(0.05));
            // fundsp's `SvfCoefs::lowpass` / `bandpass` / `highpass`, operation for operation
            // (its `tan` is libm's `tanf`, which can differ from the platform's by an ulp).
            let g = fundsp::math::tan(core::f32::consts::PI * f / sample_rate);
            let k = 1.0 / q;
            b.a1[i] = 1.0 / (1.0 + g * (g + k));
            b.a2[i] = g * b.a1[i];
            b.a3[i] = g * b.a2[i];
            (b.m0[i], b.m1[i], b.m2[i]) = match kind {
                SvfKind::Lowpass => (0.0, 0.0, 1.0),
                SvfKind::Bandpass => (0.0, 1.0, 0.0),
                SvfKind::Highpass => (1.0, -k, -1.0),
            };
        }
        b
    }

    /// Band-passes only: centres (Hz) and Qs.
    pub fn bandpass(sample_rate: f32, bands: [(f32, f32); N]) -> Self {
        Self::new(sample_rate, bands.map(|(f, q)| (SvfKind::Bandpass, f, q)))
    }

    /// One sample of every lane: lane `i` filters `x[i]`.
    #[inline(always)]
    pub fn tick(&mut self, x: [f32; N]) -> [f32; N] {
        if self.asleep() && x.iter().all(|v| v.abs() < QUIET) {
            return [0.0; N];
        }
        let mut y = [0.0f32; N];
        for i in 0..N {
            let v3 = x[i] - self.ic2[i];
            let v1 = self.a1[i] * self.ic1[i] + self.a2[i] * v3;
            let v2 = self.ic2[i] + self.a2[i] * self.ic1[i] + self.a3[i] * v3;
            let out = self.m0[i] * x[i] + self.m1[i] * v1 + self.m2[i] * v2;
            // The gate: a quiet input and output extend the lane's run; a run of
            // `QUIET_RUN` zeroes it. (A gated lane fed a quiet input gives a quiet output
            // from its zero state, every response's gain from rest being below 1, so it
            // stays gated at zero, as `Gated` skips it.) All in integer arithmetic and bit
            // masks, no branch and no select, so the lanes stay in vector registers; a
            // masked-out value is +0.0, as the gate's zero is.
            let quiet = ((x[i].abs() < QUIET) & (out.abs() < QUIET)) as u32;
            let run = (self.quiet[i] + 1) * quiet;
            let keep = ((run >= QUIET_RUN) as u32).wrapping_sub(1);
            let masked = |v: f32| f32::from_bits(v.to_bits() & keep);
            self.quiet[i] = run.min(QUIET_RUN);
            self.ic1[i] = masked(2.0 * v1 - self.ic1[i]);
            self.ic2[i] = masked(2.0 * v2 - self.ic2[i]);
            y[i] = masked(out);
        }
        y
    }

    /// Clears the state; like [`Svf::reset`], each gate then counts quiet samples afresh.
    pub fn reset(&mut self) {
        self.ic1 = [0.0; N];
        self.ic2 = [0.0; N];
        self.quiet = [0; N];
    }

    /// Every lane gated and at rest (see [`Svf::asleep`]).
    #[inline]
    pub fn asleep(&self) -> bool {
        self.quiet.iter().all(|&q| q >= QUIET_RUN)
    }
}

/// fundsp's DC blocker behind the same quiet gate as [`Svf`].
#[derive(Clone)]
pub struct DcBlock {
    gate: Gated<fundsp::prelude32::DCBlock<f32>>,
}

impl DcBlock {
    pub fn new(sample_rate: f32, cutoff: f32) -> Self {
        Self {
            gate: Gated::new(fundsp::prelude32::dcblock_hz(cutoff), sample_rate),
        }
    }
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        self.gate.tick(x)
    }
    pub fn reset(&mut self) {
        self.gate.reset();
    }

    /// Gated and at rest (see [`Svf::asleep`]).
    #[inline]
    pub fn asleep(&self) -> bool {
        self.gate.asleep()
    }
}

/// One-pole lowpass with flushed state (cheap, for excitations and control signals).
#[derive(Clone, Copy, Debug, Default)]
pub struct OnePole {
    pub a: f32,
    pub z: f32,
}

impl OnePole {
    /// Lowpass with -3 dB point near `hz`.
    pub fn new(sample_rate: f32, hz: f32) -> Self {
        let mut s = Self { a: 0.0, z: 0.0 };
        s.set_hz(sample_rate, hz);
        s
    }
    #[inline]
    pub fn set_hz(&mut self, sample_rate: f32, hz: f32) {
        let hz = hz.clamp(1.0, 0.49 * sample_rate);
        self.a = 1.0 - (-core::f32::consts::TAU * hz / sample_rate).exp();
    }
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        self.z = flush(self.z + self.a * (x - self.z));
        self.z
    }
    pub fn reset(&mut self) {
        self.z = 0.0;
    }
}

/// Per-sample exponential parameter smoother (gliding controls, never clicks).
#[derive(Clone, Copy, Debug)]
pub struct Smooth {
    pub value: f32,
    pub target: f32,
    coef: f32,
}

impl Smooth {
    pub fn new(sample_rate: f32, tau_s: f32, value: f32) -> Self {
        Self {
            value,
            target: value,
            coef: crate::dsp::util::one_pole_coef(tau_s, sample_rate),
        }
    }
    #[inline]
    pub fn tick(&mut self) -> f32 {
        let d = self.target - self.value;
        if d.abs() < 1.0e-6 {
            self.value = self.target;
        } else {
            self.value += self.coef * d;
        }
        self.value
    }
    pub fn set_now(&mut self, v: f32) {
        self.value = v;
        self.target = v;
    }

    /// At its target: `tick` returns the same value and changes nothing.
    #[inline]
    pub fn settled(&self) -> bool {
        self.value == self.target
    }
}

/// Circular delay line (power-of-two length, allocated once) with 3rd-order Lagrange
/// fractional reads. Reads are stateless, so the delay may be modulated freely.
#[derive(Clone)]
pub struct DelayLine {
    buf: Vec<f32>,
    mask: usize,
    pos: usize,
}

impl DelayLine {
    /// A line that can delay by at least `max_delay` samples (plus interpolation margin).
    pub fn new(max_delay: usize) -> Self {
        let len = (max_delay + 8).next_power_of_two();
        Self {
            buf: vec![0.0; len],
            mask: len - 1,
            pos: 0,
        }
    }
    pub fn max_delay(&self) -> f32 {
        (self.buf.len() - 4) as f32
    }
    pub fn clear(&mut self) {
        self.buf.iter_mut().for_each(|x| *x = 0.0);
        self.pos = 0;
    }
    /// Push the newest sample.
    #[inline]
    pub fn write(&mut self, x: f32) {
        self.pos = (self.pos + 1) & self.mask;
        self.buf[self.pos] = x;
    }
    /// Sample written `n` writes ago (n = 0 is the newest).
    #[inline]
    pub fn tap(&self, n: usize) -> f32 {
        self.buf[(self.pos.wrapping_sub(n)) & self.mask]
    }
    /// Fractional read `d` samples back from the *next* sample to be written, i.e. a delay of
    /// exactly `d` samples when called before `write` in the same tick. Requires d >= 2.
    #[inline]
    pub fn read(&self, d: f32) -> f32 {
        // delay d relative to the sample about to be written = d - 1 relative to the newest.
        let dd = d - 1.0;
        let k = crate::dsp::util::floor(dd);
        let f = dd - k; // 0..1
        let k = k as usize;
        // points at k-1, k, k+1, k+2 back; fractional position (1 + f) in that window.
        let y0 = self.tap(k.wrapping_sub(1));
        let y1 = self.tap(k);
        let y2 = self.tap(k + 1);
        let y3 = self.tap(k + 2);
        let x = 1.0 + f;
        // Lagrange weights for nodes 0,1,2,3 at x.
        let c0 = -(x - 1.0) * (x - 2.0) * (x - 3.0) / 6.0;
        let c1 = x * (x - 2.0) * (x - 3.0) / 2.0;
        let c2 = -x * (x - 1.0) * (x - 3.0) / 2.0;
        let c3 = x * (x - 1.0) * (x - 2.0) / 6.0;
        c0 * y0 + c1 * y1 + c2 * y2 + c3 * y3
    }
}

/// Two-pole modal resonator `y = 2 r cos(w) y1 - r^2 y2 + g x`: one decaying mode of a body,
/// bar, head or plate. Normalised so an impulse of 1 rings with peak amplitude about 1.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mode {
    b1: f32,
    b2: f32,
    g: f32,
    y1: f32,
    y2: f32,
    quiet: u32,
}

impl Mode {
    pub fn new(sample_rate: f32, hz: f32, t60_s: f32) -> Self {
        let mut m = Self::default();
        m.set(sample_rate, hz, t60_s);
        m
    }
    /// Frequency and 60 dB decay time.
    pub fn set(&mut self, sample_rate: f32, hz: f32, t60_s: f32) {
        let hz = hz.clamp(1.0, 0.47 * sample_rate);
        let w = core::f32::consts::TAU * hz / sample_rate;
        let r = (-6.907_755 / (t60_s.max(1.0e-4) * sample_rate)).exp();
        self.b1 = 2.0 * r * w.cos();
        self.b2 = -r * r;
        self.g = w.sin();
    }
    /// The coefficients (b1, b2, g): for banks that run many modes as arrays.
    pub fn coefs(&self) -> (f32, f32, f32) {
        (self.b1, self.b2, self.g)
    }
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let y = self.b1 * self.y1 + self.b2 * self.y2 + self.g * x;
        self.y2 = self.y1;
        self.y1 = y;
        // Quiet gate: once the mode has rung down below -200 dB (and is not being driven)
        // for a stretch of samples, stop it exactly (no endless subnormal-bound tails).
        if y.abs() < 1.0e-10 && x == 0.0 {
            self.quiet += 1;
            if self.quiet >= 64 {
                self.y1 = 0.0;
                self.y2 = 0.0;
                self.quiet = 64;
                return 0.0;
            }
        } else {
            self.quiet = 0;
        }
        y
    }
    #[inline]
    pub fn is_silent(&self) -> bool {
        self.y1 == 0.0 && self.y2 == 0.0
    }
    pub fn reset(&mut self) {
        self.y1 = 0.0;
        self.y2 = 0.0;
        self.quiet = 0;
    }
}

/// A note's velocity as 0..1: NaN and infinities count as 0 (a release), the rest is clamped.
pub fn unit_velocity(velocity: f32) -> f32 {
    if velocity.is_finite() {
        velocity.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// sin(2 pi t) for t in turns (any real), max error about 1e-6.
#[inline]
pub fn sin_turns(t: f32) -> f32 {
    // reduce to [-0.5, 0.5)
    let t = t - crate::dsp::util::floor(t + 0.5);
    // fold to [-0.25, 0.25]
    let t = if t > 0.25 {
        0.5 - t
    } else if t < -0.25 {
        -0.5 - t
    } else {
        t
    };
    let x = t * core::f32::consts::TAU; // [-pi/2, pi/2]
    let x2 = x * x;
    // Taylor to x^11 (error < 6e-8 on the quarter wave, float rounding dominates).
    x * (1.0
        + x2 * (-1.0 / 6.0
            + x2 * (1.0 / 120.0
                + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362_880.0 + x2 * (-1.0 / 39_916_800.0))))))
}

/// PolyBLEP residual for band-limiting a unit step at phase wrap (t, dt in turns).
#[inline]
pub fn poly_blep(t: f32, dt: f32) -> f32 {
    if t < dt {
        let x = t / dt;
        x + x - x * x - 1.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt;
        x * x + x + x + 1.0
    } else {
        0.0
    }
}

/// Band-limited (PolyBLEP) sawtooth in -1..1 at phase `t` (turns, 0..1), increment `dt`.
#[inline]
pub fn saw_blep(t: f32, dt: f32) -> f32 {
    2.0 * t - 1.0 - poly_blep(t, dt)
}

/// Wrap a phase in turns into [0, 1).
#[inline]
pub fn wrap01(p: f32) -> f32 {
    p - crate::dsp::util::floor(p)
}

/// Equal-power pan gains for `pan` in -1 (left) .. 1 (right).
#[inline]
pub fn pan_gains(pan: f32) -> (f32, f32) {
    let a = (pan.clamp(-1.0, 1.0) + 1.0) * 0.125; // turns: 0..0.25
    (sin_turns(a + 0.25), sin_turns(a))
}

/// Transparent below 0.5, then a soft knee that can never reach 1.0: a last-resort safety
/// stage on every instrument output ("never anything near or above 1.0").
#[inline]
pub fn safety(x: f32) -> f32 {
    const K: f32 = 0.5;
    let a = x.abs();
    if a <= K {
        x
    } else {
        let over = (a - K) / (0.98 - K);
        let y = K + (0.98 - K) * (over / (1.0 + over * over).sqrt());
        y.copysign(x)
    }
}

/// Peak-following level meter used to decide when a voice has become inaudible.
#[derive(Clone, Copy, Debug, Default)]
pub struct Level {
    pub value: f32,
    fall: f32,
}

impl Level {
    pub fn new(sample_rate: f32) -> Self {
        Self {
            value: 0.0,
            fall: (-1.0 / (0.05 * sample_rate)).exp(),
        }
    }
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let a = x.abs();
        self.value = if a > self.value {
            a
        } else {
            flush(self.value * self.fall)
        };
        self.value
    }
    pub fn reset(&mut self) {
        self.value = 0.0;
    }
}

/// What the keyboards' voice stealing needs to know of one voice.
pub trait KeySlot {
    fn sounding(&self) -> bool;
    fn note(&self) -> u8;
    /// The key is still down.
    fn held(&self) -> bool;
    fn loudness(&self) -> f32;
    /// When it was struck (a counter; higher is newer).
    fn struck(&self) -> u64;
}

/// The voice a new strike of `note` takes: the same key if it still sounds (a restrike), else a
/// free voice, else the quietest released one, else the oldest.
pub fn pick_key_slot<S: KeySlot>(voices: &[S], note: u8) -> usize {
    if let Some(i) = voices.iter().position(|v| v.sounding() && v.note() == note) {
        return i;
    }
    if let Some(i) = voices.iter().position(|v| !v.sounding()) {
        return i;
    }
    let released = (0..voices.len())
        .filter(|&i| !voices[i].held())
        .min_by(|&a, &b| {
            voices[a]
                .loudness()
                .partial_cmp(&voices[b].loudness())
                .unwrap_or(core::cmp::Ordering::Equal)
        });
    if let Some(i) = released {
        return i;
    }
    (0..voices.len())
        .min_by_key(|&i| voices[i].struck())
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the instrument tests.
    use crate::dsp::MAX_BLOCK;

    pub const RATES: [f32; 5] = [22050.0, 44100.0, 48000.0, 96000.0, 192000.0];

    /// Render `n` samples in blocks whose sizes cycle through `sizes`.
    pub fn render_with<F: FnMut(&mut [f32], &mut [f32])>(
        n: usize,
        sizes: &[usize],
        mut f: F,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut l = vec![0.0f32; n];
        let mut r = vec![0.0f32; n];
        let mut i = 0;
        let mut k = 0;
        while i < n {
            let s = sizes[k % sizes.len()].min(MAX_BLOCK).min(n - i);
            f(&mut l[i..i + s], &mut r[i..i + s]);
            i += s;
            k += 1;
        }
        (l, r)
    }

    /// Plays a script: `total` samples in blocks whose sizes cycle through `sizes`, every block
    /// also ending at the next event position. `apply(voice, i)` runs event `i` (positions in
    /// ascending order) at the start of the block that begins at its position. Returns
    /// interleaved stereo.
    pub fn play_script<V>(
        voice: &mut V,
        total: usize,
        sizes: &[usize],
        positions: &[usize],
        mut apply: impl FnMut(&mut V, usize),
        mut render: impl FnMut(&mut V, &mut [f32], &mut [f32]),
    ) -> Vec<f32> {
        let (mut pos, mut ev, mut j) = (0, 0, 0);
        let mut out = Vec::new();
        while pos < total {
            while ev < positions.len() && positions[ev] == pos {
                apply(voice, ev);
                ev += 1;
            }
            let next = positions.get(ev).copied().unwrap_or(total);
            let s = sizes[j % sizes.len()].min(next - pos).min(total - pos);
            j += 1;
            let (mut l, mut r) = (vec![0.0; s], vec![0.0; s]);
            render(voice, &mut l, &mut r);
            out.extend(l.iter().zip(r.iter()).flat_map(|(a, b)| [*a, *b]));
            pos += s;
        }
        out
    }

    pub fn assert_clean(x: &[f32], what: &str) {
        for (i, v) in x.iter().enumerate() {
            assert!(v.is_finite(), "{what}: non-finite sample {v} at {i}");
            assert!(
                *v == 0.0 || v.is_normal(),
                "{what}: subnormal sample {v:e} at {i}"
            );
        }
    }

    pub fn peak(x: &[f32]) -> f32 {
        x.iter().fold(0.0f32, |m, v| m.max(v.abs()))
    }

    pub fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>() / x.len().max(1) as f64).sqrt()
            as f32
    }

    /// Naive DFT power spectrum magnitude at bins 0..n/2 (test-only, small n).
    pub fn power_spectrum(x: &[f32]) -> Vec<f64> {
        let n = x.len();
        let mut out = vec![0.0f64; n / 2];
        // Hann window
        let w: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
            .collect();
        for (k, o) in out.iter_mut().enumerate() {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            let dw = std::f64::consts::TAU * k as f64 / n as f64;
            // rotate incrementally
            let (c, s) = (dw.cos(), dw.sin());
            let (mut cr, mut ci) = (1.0f64, 0.0f64);
            for i in 0..n {
                let v = x[i] as f64 * w[i];
                re += v * cr;
                im -= v * ci;
                let ncr = cr * c - ci * s;
                ci = cr * s + ci * c;
                cr = ncr;
            }
            *o = re * re + im * im;
        }
        out
    }

    /// Fundamental via normalised autocorrelation (immune to the decay envelope), with
    /// parabolic interpolation of the peak near the expected period.
    pub fn measure_hz(x: &[f32], sr: f32, expect_hz: f32) -> f32 {
        let p0 = sr / expect_hz;
        let w = (p0 * 8.0) as usize;
        let lo = (p0 * 0.9) as usize;
        let hi = (p0 * 1.1) as usize + 2;
        assert!(x.len() > w + hi + 2);
        let nsdf = |lag: usize| -> f64 {
            let (mut r, mut e1, mut e2) = (0.0f64, 0.0f64, 0.0f64);
            for i in 0..w {
                let a = x[i] as f64;
                let b = x[i + lag] as f64;
                r += a * b;
                e1 += a * a;
                e2 += b * b;
            }
            r / (e1 * e2).sqrt().max(1e-30)
        };
        let vals: Vec<f64> = (lo - 1..=hi + 1).map(nsdf).collect();
        let mut best = 1;
        for i in 1..vals.len() - 1 {
            if vals[i] > vals[best] {
                best = i;
            }
        }
        let (a, b, c) = (vals[best - 1], vals[best], vals[best + 1]);
        let off = 0.5 * (a - c) / (a - 2.0 * b + c);
        let lag = (lo - 1 + best) as f64 + off;
        (sr as f64 / lag) as f32
    }
    /// Fraction of spectral power above `hz`.
    pub fn power_fraction_above(x: &[f32], sample_rate: f32, hz: f32) -> f64 {
        let p = power_spectrum(x);
        let bin_hz = sample_rate as f64 / x.len() as f64;
        let total: f64 = p.iter().sum();
        let above: f64 = p
            .iter()
            .enumerate()
            .filter(|(k, _)| *k as f64 * bin_hz >= hz as f64)
            .map(|(_, v)| v)
            .sum();
        above / total.max(1e-30)
    }

    /// Fraction of the power between `lo` and `hi` Hz, rectangular window: for a stroke that
    /// starts and dies away inside `x` (a Hann window would weigh its attack down to nothing).
    pub fn band_fraction(x: &[f32], sample_rate: f32, lo: f32, hi: f32) -> f64 {
        let fft = realfft::RealFftPlanner::<f64>::new().plan_fft_forward(x.len());
        let mut input: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let mut spec = fft.make_output_vec();
        fft.process(&mut input, &mut spec).expect("fft sizes");
        let bin_hz = sample_rate as f64 / x.len() as f64;
        let (mut band, mut total) = (0.0f64, 0.0f64);
        for (k, c) in spec.iter().enumerate() {
            let (f, p) = (k as f64 * bin_hz, c.norm_sqr());
            total += p;
            if f >= lo as f64 && f < hi as f64 {
                band += p;
            }
        }
        band / total.max(1e-30)
    }

    /// Spectral centroid in Hz.
    pub fn centroid(x: &[f32], sample_rate: f32) -> f64 {
        let p = power_spectrum(x);
        let bin_hz = sample_rate as f64 / x.len() as f64;
        let total: f64 = p.iter().sum();
        p.iter()
            .enumerate()
            .map(|(k, v)| k as f64 * bin_hz * v)
            .sum::<f64>()
            / total.max(1e-30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::Rng;

    /// The bank is fundsp's filters behind the quiet gate, lane for lane: bit for bit the
    /// samples of four `Svf`s of every response on noise bursts, each lane ringing out and
    /// gating on its own while others sound, and asleep exactly when they all are.
    #[test]
    fn svf_bank_matches_fundsp_svfs() {
        use SvfKind::*;
        for (sr, lanes) in [
            (
                48000.0,
                [
                    (Bandpass, 285.0, 2.5),
                    (Lowpass, 455.0, 2.0),
                    (Highpass, 1050.0, 1.8),
                    (Bandpass, 30000.0, 0.01),
                ],
            ),
            (
                48000.0,
                [
                    (Highpass, 2700.0, 0.5),
                    (Bandpass, 300.0, 2.5),
                    (Lowpass, 7000.0, 0.5),
                    (Lowpass, 35.0, 0.6),
                ],
            ),
            (
                44100.0,
                [
                    (Lowpass, 3050.0, 1.4),
                    (Highpass, 285.0, 0.7),
                    (Bandpass, 455.0, 2.0),
                    (Highpass, 30000.0, 0.01),
                ],
            ),
            (
                96000.0,
                [
                    (Bandpass, 3050.0, 1.4),
                    (Highpass, 300.0, 2.5),
                    (Lowpass, 1050.0, 1.8),
                    (Bandpass, 520.0, 2.0),
                ],
            ),
        ] {
            bank_matches(sr, lanes);
        }
    }

    /// A lane's twin: the gated fundsp filter of the lane's response.
    enum One {
        L(Lowpass),
        B(Bandpass),
        H(Highpass),
    }
    impl One {
        fn tick(&mut self, x: f32) -> f32 {
            match self {
                One::L(f) => f.tick(x),
                One::B(f) => f.tick(x),
                One::H(f) => f.tick(x),
            }
        }
        fn asleep(&self) -> bool {
            match self {
                One::L(f) => f.asleep(),
                One::B(f) => f.asleep(),
                One::H(f) => f.asleep(),
            }
        }
    }

    fn bank_matches(sr: f32, lanes: [(SvfKind, f32, f32); 4]) {
        let mut bank = SvfBank::new(sr, lanes);
        let mut single = lanes.map(|(kind, f, q)| match kind {
            SvfKind::Lowpass => One::L(lowpass(sr, f, q)),
            SvfKind::Bandpass => One::B(bandpass(sr, f, q)),
            SvfKind::Highpass => One::H(highpass(sr, f, q)),
        });
        let mut rng = Rng::new(7);
        let (mut woke, mut slept) = (false, false);
        for n in 0..96_000 {
            // Bursts a lane at a time, then silence long enough for every lane to gate.
            let x: [f32; 4] = core::array::from_fn(|i| {
                if (n / 3000) % 8 == i && n % 3000 < 600 {
                    rng.bipolar()
                } else {
                    0.0
                }
            });
            let y = bank.tick(x);
            for i in 0..4 {
                let want = single[i].tick(x[i]);
                assert_eq!(
                    y[i].to_bits(),
                    want.to_bits(),
                    "{sr} Hz, lane {i}, sample {n}"
                );
            }
            assert_eq!(
                bank.asleep(),
                single.iter().all(|f| f.asleep()),
                "sample {n}"
            );
            woke |= !bank.asleep();
            slept |= woke && bank.asleep();
        }
        assert!(woke && slept, "the bank rang and then went to sleep");
        assert!(bank.asleep() && bank.tick([0.0; 4]) == [0.0; 4]);
    }
}

//! Upright (double) bass, pizzicato: a Karplus-Strong / single-delay-loop waveguide string.
//!
//! Per voice: a Lagrange-interpolated delay loop tuned exactly (the phase delay of the loss
//! filter at the fundamental is subtracted from the loop length), a one-pole loss filter
//! designed from two decay times (at the fundamental and at ~1.5 kHz, depending on pitch and
//! tone), a finger-pluck excitation (raised-cosine pulse + lowpassed noise, comb-filtered by
//! the pluck position so it carries no DC), a short pitch "thump" (the loop starts slightly
//! short and relaxes, like tension modulation) and a soft fingerboard "growl" nonlinearity.
//! The two-voice pool lets a previous note be damped by the left hand (-20 dB in ~30 ms)
//! while the next one starts. The finger's side of the string: a wide, round pluck and a
//! bloom of 15-30 ms (the flesh rolls off the string; the body fills in), the string slapping
//! the fingerboard only when played hard, the left hand's finger noise between notes.
//! On the bus: a small modal body (bandpass peaks 60-420 Hz), finger noise, a tone lowpass
//! and a DC blocker.
//!
//! Real time: all buffers are allocated in `new`; `render` and the event methods only touch
//! preallocated state.

use super::common::{
    bandpass, lowpass, pan_gains, safety, unit_velocity, Bandpass, DcBlock, DelayLine, Level,
    Lowpass, OnePole, Smooth,
};
use crate::dsp::util::{flush, midi_hz};
use crate::dsp::Rng;

const SEED: u64 = 0xB055_0001;
const LOWEST_NOTE: u8 = 28;
const HIGHEST_NOTE: u8 = 67;
/// Stereo position: slightly left of centre.
const PAN: f32 = -0.18;
/// Overall output gain (calibrated so velocity 0.8 peaks around 0.35-0.45).
const OUT_GAIN: f32 = 1.6;

/// Body modes: (Hz, Q, gain at peak).
const BODY: [(f32, f32, f32); 5] = [
    (56.0, 2.0, 0.70),
    (98.0, 3.0, 0.50),
    (150.0, 4.0, 0.35),
    (232.0, 4.0, 0.25),
    (410.0, 3.0, 0.12),
];
/// Direct (unfiltered) string level in the body mix.
const BODY_DIRECT: f32 = 0.6;

// --- The string and the player's hands (register pairs: [lowest note, highest note]) ---
/// 60 dB time of the fundamental at tone 0.5, seconds: a gut-strung pizzicato; -20 dB comes
/// at about a third of it (~0.6 s low, ~0.45 s high), like the GM reference's 0.54 s.
const T60_F0_S: [f32; 2] = [1.9, 1.35];
/// How the tone control stretches the fundamental's decay: multiplier at tone 0 and 1.
const T60_TONE: [f32; 2] = [0.85, 1.15];
/// The finger's bloom: the note rises over this time, [soft, hard] seconds (10-90 % is
/// about 0.6 of it: ~14 ms at medium velocity; a plectrum-like 5 ms reads as a click).
const BLOOM_S: [f32; 2] = [0.032, 0.017];
/// The string's upper partials (~1.5 kHz): 60 dB time at tone 0, seconds. With 0.14 s a
/// note was its fundamental and two harmonics within a quarter second, 10-30 dB under the
/// GM upright's 5th-12th harmonics: a sub-bass, not a string's growl.
const UPPER_T60_S: f32 = 0.3;
/// The pluck's brightness: the excitation lowpass corner in multiples of f0 at velocity 0.
const EXC_CORNER: f32 = 1.8;
/// Width of the finger's pluck pulse, [soft, hard] seconds (wider = rounder; 3.2-6.8 ms
/// left nothing above ~400 Hz, the string's growl with it).
const PULSE_S: [f32; 2] = [0.0045, 0.0020];
/// Finger lifts (note_off): 60 dB time of the damped string, seconds.
const RELEASE_T60_S: f32 = 0.085;
/// The left hand stops a note when the next one comes: 60 dB time of the loop, seconds, and
/// the output fade's time constant, seconds (-20 dB in ~28 ms).
const STEAL_T60_S: f32 = 0.03;
const STEAL_FADE_S: f32 = 0.012;
/// Skin noise of the plucking finger (output units at full velocity), band centre, Hz.
const SKIN_LEVEL: f32 = 0.035;
const SKIN_HZ: f32 = 1100.0;
/// Above this velocity the string slaps the fingerboard: a bright click that grows to
/// `SLAP_LEVEL` at full velocity, band centre `SLAP_HZ`.
const SLAP_VEL: f32 = 0.72;
const SLAP_LEVEL: f32 = 0.09;
const SLAP_HZ: f32 = 2600.0;
/// The top of the finger and left-hand noise as it reaches the microphone through the
/// instrument (a second-order lowpass, Hz): an upright's pluck noise lives below ~5 kHz; the
/// noise bands alone (bandpass skirts at 6 dB/octave) reached 20 kHz, a click in the picture.
const NOISE_TOP_HZ: f32 = 4500.0;
/// Pluck noise decay time constant, seconds.
const PLUCK_NOISE_S: f32 = 0.010;
/// Left-hand noise between notes (the finger leaving the string, a short slide): level per
/// semitone of the interval (capped at a fifth), band centre Hz, decay time constant s.
const SLIDE_LEVEL_PER_ST: f32 = 0.0035;
const SLIDE_HZ: f32 = 700.0;
const SLIDE_S: f32 = 0.02;
/// The string loop's read position (the pitch thump) steps on this grid, samples.
const READ_GRID: u32 = 16;
/// A noise band is run this many samples past its envelope's end, then cleared (its filter
/// has rung out by then).
const NOISE_TAIL_SAMPLES: u32 = 256;
/// After this long without a sounding string the body and bus filters have rung out
/// (the slowest, the 56 Hz body mode, by ~40 time constants), seconds.
const QUIET_S: f32 = 0.5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Idle,
    /// Finger on the string, ringing.
    Held,
    /// Finger lifted: string damped over ~80 ms.
    Released,
    /// Replaced by a newer note: damped and faded over ~30 ms.
    Stolen,
}

struct StringVoice {
    sr: f32,
    line: DelayLine,
    exc_line: DelayLine,
    state: State,
    note: u8,
    f0: f32,
    vel: f32,
    /// Samples since the pluck.
    t: u32,
    // --- loop ---
    /// Exactly tuned loop delay (samples), before the thump modulation.
    delay: f32,
    loss_g: f32,
    loss_p: f32,
    loss_z: f32,
    /// Tone value the loss filter was designed for.
    designed_tone: f32,
    /// Extra loop loss when damped: per-loop gain multiplier target and smoothed value.
    damp_target: f32,
    damp: f32,
    damp_coef: f32,
    /// Extra darkening while damped (the finger mutes highs first).
    damp_lp: f32,
    /// Output fade when stolen.
    fade: f32,
    fade_coef: f32,
    /// The finger's bloom: ramp 0 -> 1 (smoothstep on the output) and its step per sample.
    bloom: f32,
    bloom_step: f32,
    // --- pluck ---
    thump: f32,
    thump_decay: f32,
    /// The loop read: newest-relative tap index and 3rd-order Lagrange weights, recomputed
    /// every `READ_GRID` samples from the pluck.
    read_k: usize,
    read_c: [f32; 4],
    /// The excitation lowpass runs this many samples past the excitation, then rests.
    exc_ring: u32,
    exc_len: u32,
    pulse_w: f32,
    pulse_amp: f32,
    noise_amp: f32,
    noise_decay: f32,
    noise_env: f32,
    noise_lp: OnePole,
    /// Two-pole lowpass on the excitation: a finger's soft, wide contact gives the
    /// ~1/h^2 harmonic roll-off of a real pluck (corner rises with velocity and tone).
    exc_lp: Lowpass,
    exc_shelf: f32,
    pluck_tap: usize,
    growl: f32,
    level: Level,
    /// Keeps filtered-noise loudness independent of the sample rate.
    nscale: f32,
}

impl StringVoice {
    fn new(sr: f32) -> Self {
        let max_period = (sr / midi_hz(LOWEST_NOTE as f32)).ceil() as usize + 8;
        Self {
            sr,
            line: DelayLine::new(max_period),
            exc_line: DelayLine::new(max_period / 2 + 8),
            state: State::Idle,
            note: 40,
            f0: 82.4,
            vel: 0.0,
            t: 0,
            delay: 100.0,
            loss_g: 0.0,
            loss_p: 0.0,
            loss_z: 0.0,
            designed_tone: -1.0,
            damp_target: 1.0,
            damp: 1.0,
            damp_coef: crate::dsp::util::one_pole_coef(0.006, sr),
            damp_lp: 0.0,
            fade: 1.0,
            fade_coef: 1.0,
            bloom: 1.0,
            bloom_step: 0.0,
            thump: 0.0,
            thump_decay: 1.0,
            read_k: 1,
            read_c: [0.0; 4],
            exc_ring: (0.02 * sr) as u32,
            exc_len: 0,
            pulse_w: 1.0,
            pulse_amp: 0.0,
            noise_amp: 0.0,
            noise_decay: 0.0,
            noise_env: 0.0,
            noise_lp: OnePole::new(sr, 1000.0),
            exc_lp: lowpass(sr, 200.0, 0.6),
            exc_shelf: 0.1,
            pluck_tap: 1,
            growl: 0.0,
            level: Level::new(sr),
            nscale: (sr / 44100.0).sqrt(),
        }
    }

    fn reset(&mut self) {
        self.line.clear();
        self.exc_line.clear();
        self.state = State::Idle;
        self.t = 0;
        self.loss_z = 0.0;
        self.designed_tone = -1.0;
        self.damp_target = 1.0;
        self.damp = 1.0;
        self.damp_lp = 0.0;
        self.fade = 1.0;
        self.fade_coef = 1.0;
        self.bloom = 1.0;
        self.bloom_step = 0.0;
        self.thump = 0.0;
        self.exc_len = 0;
        self.noise_env = 0.0;
        self.noise_lp.reset();
        self.exc_lp.reset();
        self.level.reset();
    }

    /// Designs the loss filter and the exactly tuned loop length for the current note and tone.
    fn design(&mut self, tone: f32) {
        let sr = self.sr;
        let f0 = self.f0;
        let pitch01 = ((self.note as f32 - LOWEST_NOTE as f32)
            / (HIGHEST_NOTE - LOWEST_NOTE) as f32)
            .clamp(0.0, 1.0);
        // Decay of the fundamental: low strings ring longer.
        let t60_f0 = lerp(T60_F0_S, pitch01) * lerp(T60_TONE, tone);
        // Decay of the upper partials (~1.5 kHz): dark = quick, bright = lingering.
        let f_hi = (1500.0f32).min(0.4 * sr).max(3.0 * f0);
        let t60_hi = UPPER_T60_S + 0.4 * tone * tone + 0.15 * tone;
        let (g, p) = design_loss(sr, f0, t60_f0, f_hi, t60_hi.min(t60_f0 * 0.9));
        self.loss_g = g;
        self.loss_p = p;
        let w0 = core::f32::consts::TAU * f0 / sr;
        let tau_loss = (p * w0.sin()).atan2(1.0 - p * w0.cos()) / w0;
        self.delay = (sr / f0 - tau_loss).clamp(2.5, self.line.max_delay() - 4.0);
        self.designed_tone = tone;
    }

    fn pluck(&mut self, note: u8, vel: f32, tone: f32, rng: &mut Rng) {
        let sr = self.sr;
        if self.state != State::Idle {
            self.line.clear();
            self.exc_line.clear();
            self.exc_lp.reset();
            self.loss_z = 0.0;
        }
        self.note = note;
        self.f0 = midi_hz(note as f32);
        self.vel = vel;
        self.t = 0;
        self.state = State::Held;
        self.damp_target = 1.0;
        self.damp = 1.0;
        self.damp_lp = 0.0;
        self.fade = 1.0;
        self.fade_coef = 1.0;
        self.bloom = 0.0;
        self.bloom_step = 1.0 / (lerp(BLOOM_S, vel) * sr).max(1.0);
        self.design(tone);

        // Pitch thump: the loop starts a little short (sharp) and relaxes within ~40 ms.
        self.thump = (0.003 + 0.011 * vel * vel) * (1.0 + 0.1 * rng.bipolar());
        self.thump_decay = (-1.0 / (0.035 * sr)).exp();

        // Finger: wider (softer) pulse for soft, dark plucks; noise for the flesh/nail.
        let width_s = lerp(PULSE_S, vel) * (1.15 - 0.35 * tone);
        self.pulse_w = (width_s * sr).max(2.0);
        // Smaller per-period energy at high notes: compensate so the line stays even.
        let pitch_comp = (110.0 / self.f0).powf(0.1);
        self.pulse_amp = 0.55 * vel.powf(1.3) * pitch_comp;
        self.noise_amp = self.pulse_amp * (0.10 + 0.30 * vel) * (0.6 + 0.8 * tone);
        self.noise_decay = (-1.0 / (0.0015 * sr)).exp();
        self.noise_env = 1.0;
        self.noise_lp
            .set_hz(sr, 500.0 + 2500.0 * vel + 1500.0 * tone);
        self.exc_lp.set(
            self.f0 * (EXC_CORNER + 1.5 * vel * vel + 1.2 * tone) + 120.0 * vel + 150.0 * tone,
            0.6,
        );
        let beta = 0.27 - 0.07 * tone + 0.015 * rng.bipolar();
        self.pluck_tap =
            ((beta * self.delay) as usize).clamp(1, self.exc_line.max_delay() as usize - 2);
        self.exc_len = self.pulse_w as u32 + self.pluck_tap as u32 + 2;
        self.exc_shelf = 0.04 + 0.08 * vel + 0.08 * tone;
        self.growl = 0.15 + 0.6 * tone;
        self.level.reset();
    }

    fn release(&mut self) {
        if self.state == State::Held {
            self.state = State::Released;
            // Per-loop gain giving a ~80 ms decay (shorter for low strings' long periods).
            self.damp_target = loop_gain_for_t60(self.f0, RELEASE_T60_S) / self.loss_g.max(1e-3);
            self.damp_target = self.damp_target.min(1.0);
        }
    }

    fn steal(&mut self) {
        if self.state != State::Idle {
            self.state = State::Stolen;
            self.damp_target =
                (loop_gain_for_t60(self.f0, STEAL_T60_S) / self.loss_g.max(1e-3)).min(1.0);
            self.fade_coef = (-1.0 / (STEAL_FADE_S * self.sr)).exp();
        }
    }

    #[inline(always)]
    fn tick(&mut self, tone: f32, rng: &mut Rng) -> f32 {
        if self.state == State::Idle {
            return 0.0;
        }
        if (tone - self.designed_tone).abs() > 0.002 {
            self.design(tone);
        }
        // Excitation.
        let mut e = 0.0;
        if self.t < self.exc_len {
            let t = self.t as f32;
            let pulse = if t < self.pulse_w {
                let s = super::common::sin_turns(0.5 * t / self.pulse_w);
                s * s
            } else {
                0.0
            };
            let n = self.noise_lp.tick(rng.bipolar() * self.nscale) * self.noise_env;
            self.noise_env *= self.noise_decay;
            let s = self.pulse_amp * pulse + self.noise_amp * n;
            // Pluck position comb: removes DC and shapes the spectrum like plucking at beta.
            e = s - self.exc_line.tap(self.pluck_tap - 1);
            self.exc_line.write(s);
        }
        // Finger roll-off as a high shelf: 1/h^2 above the corner, then a floor of
        // `exc_shelf` so the upper harmonics keep a little "string" edge. The lowpass runs
        // until it has rung out after the pluck, then rests (cleared).
        if self.t < self.exc_len + self.exc_ring {
            let el = self.exc_lp.tick(e);
            e = el + self.exc_shelf * (e - el);
        } else if self.t == self.exc_len + self.exc_ring {
            self.exc_lp.reset();
        }

        // Damping (finger lift / steal).
        self.damp += self.damp_coef * (self.damp_target - self.damp);
        let damping = self.damp < 0.999;

        // Loop.
        let v = if self.t < self.exc_len + self.exc_ring {
            // During the pluck the thump relaxes fastest: the loop is read per sample.
            self.line.read(self.delay * (1.0 - self.thump))
        } else {
            if self.t.is_multiple_of(READ_GRID) || self.t == self.exc_len + self.exc_ring {
                // Then the loop length steps on a grid counted from the pluck: the Lagrange
                // weights are computed once per step.
                (self.read_k, self.read_c) = lagrange(self.delay * (1.0 - self.thump));
            }
            let (k, c) = (self.read_k, self.read_c);
            c[0] * self.line.tap(k.wrapping_sub(1))
                + c[1] * self.line.tap(k)
                + c[2] * self.line.tap(k + 1)
                + c[3] * self.line.tap(k + 2)
        };
        self.thump = flush(self.thump * self.thump_decay);
        self.loss_z = flush(self.loss_z + (1.0 - self.loss_p) * (v - self.loss_z));
        let mut y = self.loss_g * self.damp * self.loss_z;
        if damping {
            // The muting finger takes the highs first.
            self.damp_lp = flush(self.damp_lp + 0.35 * (y - self.damp_lp));
            let m = (1.0 - self.damp) * 1.5;
            y += m.min(1.0) * (self.damp_lp - y);
        }
        // Fingerboard growl: a soft, slightly asymmetric limiting of large excursions.
        y = crate::dsp::util::soft_clip(self.growl * y) / self.growl;
        y = flush(y + e);
        self.line.write(y);

        let mut out = y;
        if self.bloom < 1.0 {
            self.bloom = (self.bloom + self.bloom_step).min(1.0);
            let b = self.bloom;
            out *= b * b * (3.0 - 2.0 * b);
        }
        if self.state == State::Stolen {
            self.fade = flush(self.fade * self.fade_coef);
            out *= self.fade;
        }
        self.t = self.t.saturating_add(1);
        let lvl = self.level.tick(out);
        let done = match self.state {
            State::Stolen => self.fade < 1e-4,
            State::Released => lvl < 2e-6 && self.t > self.exc_len,
            _ => lvl < 1e-6 && self.t > self.exc_len + (0.5 * self.sr) as u32,
        };
        if done {
            self.state = State::Idle;
            self.line.clear();
            self.exc_line.clear();
            self.loss_z = 0.0;
            self.damp_lp = 0.0;
            self.noise_lp.reset();
            self.exc_lp.reset();
            return 0.0;
        }
        out
    }
}

/// Tap index (newest-relative) and 3rd-order Lagrange weights for a delay of `d` samples
/// counted from the sample about to be written (`d >= 2`); as `DelayLine::read`.
fn lagrange(d: f32) -> (usize, [f32; 4]) {
    let dd = d - 1.0;
    let k = crate::dsp::util::floor(dd);
    let x = 1.0 + (dd - k);
    (
        k as usize,
        [
            -(x - 1.0) * (x - 2.0) * (x - 3.0) / 6.0,
            x * (x - 2.0) * (x - 3.0) / 2.0,
            -x * (x - 1.0) * (x - 3.0) / 2.0,
            x * (x - 1.0) * (x - 2.0) / 6.0,
        ],
    )
}

/// Linear interpolation of a `[at 0, at 1]` pair.
fn lerp(pair: [f32; 2], x: f32) -> f32 {
    pair[0] + (pair[1] - pair[0]) * x
}

/// Per-loop gain that makes a loop of fundamental `f0` decay by 60 dB in `t60` seconds.
fn loop_gain_for_t60(f0: f32, t60: f32) -> f32 {
    10f32.powf(-3.0 / (t60 * f0))
}

/// One-pole loss filter `H(z) = g (1-p) / (1 - p z^-1)` of a string loop with fundamental
/// `f0` such that partials near `f0` decay with `t60_f0` and those near `f_hi` with `t60_hi`.
fn design_loss(sr: f32, f0: f32, t60_f0: f32, f_hi: f32, t60_hi: f32) -> (f32, f32) {
    let g0 = loop_gain_for_t60(f0, t60_f0);
    let gh = loop_gain_for_t60(f0, t60_hi);
    let r2 = (gh / g0).powi(2);
    let w0 = core::f32::consts::TAU * f0 / sr;
    let wh = core::f32::consts::TAU * f_hi / sr;
    let (c0, ch) = (w0.cos(), wh.cos());
    let a = 1.0 - r2;
    let b = c0 - r2 * ch;
    let p = if a > 1e-9 && b / a > 1.0 {
        let q = b / a;
        (q - (q * q - 1.0).sqrt()).clamp(0.0, 0.995)
    } else {
        0.0
    };
    let mag0 = (1.0 - p) / (1.0 - 2.0 * p * c0 + p * p).sqrt();
    let g = (g0 / mag0).min(0.9995);
    (g, p)
}

/// One body mode: a Simper state-variable bandpass (the band output, peak gain Q) scaled by
/// `gain / Q`. Its state is cleared with the bus after a silence (`UprightBass::quiet`).
#[derive(Clone, Copy)]
struct BodyMode {
    /// Simper's coefficients a1, a2, a3.
    a: [f32; 3],
    /// The two integrator states.
    ic: [f32; 2],
    /// Output scale: the mode's peak gain over its Q.
    gain: f32,
}

impl BodyMode {
    fn new(sr: f32, hz: f32, q: f32, peak_gain: f32) -> Self {
        let g = (core::f32::consts::PI * hz.min(0.45 * sr) / sr).tan();
        let k = 1.0 / q;
        let a1 = 1.0 / (1.0 + g * (g + k));
        Self {
            a: [a1, g * a1, g * g * a1],
            ic: [0.0; 2],
            gain: peak_gain / q,
        }
    }

    fn reset(&mut self) {
        self.ic = [0.0; 2];
    }

    #[inline]
    fn tick(&mut self, x: f32) -> f32 {
        let [a1, a2, a3] = self.a;
        let v3 = x - self.ic[1];
        let v1 = a1 * self.ic[0] + a2 * v3;
        let v2 = self.ic[1] + a2 * self.ic[0] + a3 * v3;
        self.ic = [flush(2.0 * v1 - self.ic[0]), flush(2.0 * v2 - self.ic[1])];
        v1 * self.gain
    }
}

/// A burst of band-passed noise (the fingers on the string): runs only while it sounds.
struct NoiseBand {
    /// The band (an SVF bandpass; its centre is set per burst).
    bp: Bandpass,
    /// Envelope (1 at the burst's start), its level and per-sample decay.
    env: f32,
    amp: f32,
    decay: f32,
    /// Samples left to run the filter after the envelope ended (it rings out, then clears).
    tail: u32,
}

impl NoiseBand {
    fn new(sr: f32, hz: f32, tau_s: f32) -> Self {
        Self {
            bp: bandpass(sr, hz, 1.2),
            env: 0.0,
            amp: 0.0,
            decay: (-1.0 / (tau_s * sr)).exp(),
            tail: 0,
        }
    }

    fn reset(&mut self) {
        self.bp.reset();
        self.env = 0.0;
        self.amp = 0.0;
        self.tail = 0;
    }

    /// Starts a burst of `amp` (output units) centred on `hz`.
    fn start(&mut self, hz: f32, amp: f32) {
        self.bp.set(hz, 1.2);
        self.env = 1.0;
        self.amp = amp;
        self.tail = NOISE_TAIL_SAMPLES;
    }

    #[inline(always)]
    fn tick(&mut self, rng: &mut Rng, nscale: f32) -> f32 {
        if self.tail == 0 {
            return 0.0;
        }
        let x = if self.env > 1e-3 {
            let x = rng.bipolar() * self.env * self.amp * nscale;
            self.env *= self.decay;
            x
        } else {
            self.env = 0.0;
            self.tail -= 1;
            if self.tail == 0 {
                self.bp.reset();
                return 0.0;
            }
            0.0
        };
        self.bp.tick(x)
    }
}

/// Upright bass. See the module docs.
pub struct UprightBass {
    sr: f32,
    voices: [StringVoice; 2],
    /// Index of the voice holding the current note.
    current: usize,
    tone: Smooth,
    rng: Rng,
    /// The wooden body's modes (see `BODY`).
    body: [BodyMode; BODY.len()],
    tone_lp: Lowpass,
    tone_lp_at: f32,
    /// The plucking finger: skin noise, and the fingerboard slap when played hard.
    finger: NoiseBand,
    /// The left hand leaving the string / sliding to the next note.
    slide: NoiseBand,
    /// Both noises' top end (`NOISE_TOP_HZ`).
    noise_lp: Lowpass,
    dc: DcBlock,
    /// Samples since the strings and the noise fell silent (saturating); at `quiet_after` the
    /// bus filters are cleared and render returns at once until the next note.
    quiet: u32,
    quiet_after: u32,
    gains: (f32, f32),
    nscale: f32,
}

impl UprightBass {
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate;
        let mut s = Self {
            sr,
            voices: [StringVoice::new(sr), StringVoice::new(sr)],
            current: 0,
            tone: Smooth::new(sr, 0.05, 0.4),
            rng: Rng::new(SEED),
            body: BODY.map(|(f, q, g)| BodyMode::new(sr, f, q, g)),
            tone_lp: lowpass(sr, 2500.0, 0.6),
            tone_lp_at: -1.0,
            finger: NoiseBand::new(sr, SKIN_HZ, PLUCK_NOISE_S),
            slide: NoiseBand::new(sr, SLIDE_HZ, SLIDE_S),
            noise_lp: lowpass(sr, NOISE_TOP_HZ, 0.707),
            quiet: 0,
            quiet_after: (QUIET_S * sr) as u32,
            dc: DcBlock::new(sr, 12.0),
            gains: pan_gains(PAN),
            nscale: (sr / 44100.0).sqrt(),
        };
        s.reset();
        s
    }

    pub fn reset(&mut self) {
        for v in &mut self.voices {
            v.reset();
        }
        self.current = 0;
        self.tone.set_now(0.4);
        self.rng = Rng::new(SEED);
        for b in &mut self.body {
            b.reset();
        }
        self.tone_lp.reset();
        self.tone_lp_at = -1.0;
        self.finger.reset();
        self.slide.reset();
        self.noise_lp.reset();
        self.dc.reset();
        self.quiet = self.quiet_after;
    }

    /// Pluck `note` (MIDI, 28..=67) at `velocity` 0..1. A ringing previous note is damped
    /// quickly (finger lifts) while the new one starts in the other voice.
    pub fn note_on(&mut self, note: u8, velocity: f32) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        let vel = unit_velocity(velocity);
        // The left hand: the finger leaving the sounding note (and sliding to the new one)
        // is heard a little, more for a wider move.
        let prev = &self.voices[self.current];
        if prev.state != State::Idle && prev.note != note {
            let st = (prev.note as f32 - note as f32).abs().min(7.0);
            self.slide
                .start(SLIDE_HZ, SLIDE_LEVEL_PER_ST * st * (0.4 + 0.6 * vel));
        }
        self.voices[self.current].steal();
        self.quiet = 0;
        let next = 1 - self.current;
        // The other voice may still hold a (stolen) tail; prefer the quieter one.
        let pick = if self.voices[next].state == State::Idle
            || self.voices[next].level.value <= self.voices[self.current].level.value
        {
            next
        } else {
            self.current
        };
        self.current = pick;
        let tone = self.tone.value;
        self.voices[pick].pluck(note, vel, tone, &mut self.rng);
        // Skin on the string; above SLAP_VEL the string also hits the fingerboard.
        let slap = ((vel - SLAP_VEL) / (1.0 - SLAP_VEL)).max(0.0);
        let amp = SKIN_LEVEL * vel * (0.5 + tone) + SLAP_LEVEL * slap * slap;
        self.finger.start(SKIN_HZ + (SLAP_HZ - SKIN_HZ) * slap, amp);
    }

    /// Lift the finger: the string damps over ~60-100 ms.
    pub fn note_off(&mut self) {
        self.voices[self.current].release();
    }

    /// 0..1: dark/round (0) to bright/growly (1). Glides, never clicks.
    pub fn set_tone(&mut self, brightness: f32) {
        if brightness.is_finite() {
            self.tone.target = brightness.clamp(0.0, 1.0);
        }
    }

    crate::dsp::simd::wide_method! {
        /// ADDS the instrument into `l` and `r` (len <= MAX_BLOCK). Panned slightly left.
        pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) = render_avx2 / render_portable
    }

    #[inline(always)]
    fn render_portable(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        if self.quiet >= self.quiet_after && self.tone.value == self.tone.target {
            return;
        }
        for i in 0..n {
            let tone = self.tone.tick();
            if (tone - self.tone_lp_at).abs() > 0.002 {
                self.tone_lp
                    .set(1000.0 + 4500.0 * tone * tone + 900.0 * tone, 0.65);
                self.tone_lp_at = tone;
            }
            let mut s = 0.0;
            for v in &mut self.voices {
                s += v.tick(tone, &mut self.rng);
            }
            // Modal body on top of the direct string.
            let mut body = BODY_DIRECT * s;
            for m in &mut self.body {
                body += m.tick(s);
            }
            let mut x = self.tone_lp.tick(body);
            // Finger noise: a short breath of band-passed noise at the pluck, the left hand's
            // between notes.
            let noise = self.finger.tick(&mut self.rng, self.nscale)
                + self.slide.tick(&mut self.rng, self.nscale);
            x += self.noise_lp.tick(noise);
            let y = safety(self.dc.tick(x) * OUT_GAIN);
            let silent = self.voices[0].state == State::Idle
                && self.voices[1].state == State::Idle
                && self.finger.tail == 0
                && self.slide.tail == 0;
            if !silent {
                self.quiet = 0;
            } else if self.quiet < self.quiet_after {
                self.quiet += 1;
                if self.quiet == self.quiet_after {
                    for b in &mut self.body {
                        b.reset();
                    }
                    self.tone_lp.reset();
                    self.noise_lp.reset();
                    self.dc.reset();
                }
            }
            l[i] += y * self.gains.0;
            r[i] += y * self.gains.1;
        }
    }

    #[allow(dead_code)]
    pub(crate) fn sample_rate(&self) -> f32 {
        self.sr
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    fn play(b: &mut UprightBass, sizes: &[usize], n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, sizes, |l, r| b.render(l, r))
    }

    /// A short line with events at fixed sample positions, rendered with the given block sizes.
    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut b = UprightBass::new(sr);
        let events: [(usize, Option<u8>, f32); 6] = [
            (0, Some(28), 0.9),
            (3000, Some(40), 0.6),
            (7001, None, 0.0),
            (9000, Some(55), 1.0),
            (9500, Some(67), 0.3),
            (15000, None, 0.0),
        ];
        let at = events.map(|e| e.0);
        let apply = |b: &mut UprightBass, i: usize| {
            match events[i].1 {
                Some(n) => b.note_on(n, events[i].2),
                None => b.note_off(),
            }
            if i == 3 {
                b.set_tone(0.9);
            }
        };
        play_script(&mut b, 24000, sizes, &at, apply, |b, l, r| b.render(l, r))
    }

    #[test]
    fn bass_finite_no_subnormals_all_rates() {
        for sr in RATES {
            let mut b = UprightBass::new(sr);
            b.note_on(28, 1.0);
            let (l, r) = play(&mut b, &[64], (sr * 0.7) as usize);
            assert_clean(&l, "bass l");
            assert_clean(&r, "bass r");
            assert!(peak(&l) > 0.05, "bass silent at {sr}");
            b.set_tone(1.0);
            b.note_on(67, 0.8);
            b.note_off();
            let (l, r) = play(&mut b, &[64], (sr * 3.0) as usize);
            assert_clean(&l, "bass l tail");
            assert_clean(&r, "bass r tail");
        }
    }

    #[test]
    fn bass_reset_reproduces_output() {
        let mut b = UprightBass::new(48000.0);
        let run = |b: &mut UprightBass| {
            b.set_tone(0.7);
            b.note_on(33, 0.8);
            let (mut l, _) = play(b, &[64], 6000);
            b.note_on(45, 0.5);
            let (l2, _) = play(b, &[64], 6000);
            l.extend(l2);
            l
        };
        let a = run(&mut b);
        b.reset();
        let c = run(&mut b);
        assert_eq!(a, c);
    }

    #[test]
    fn bass_block_size_independent() {
        let a = scripted(44100.0, &[64]);
        let b = scripted(44100.0, &[1, 7, 33]);
        let c = scripted(44100.0, &[13, 64, 2]);
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn bass_peak_below_one_when_hammered() {
        for sr in [44100.0, 96000.0] {
            let mut b = UprightBass::new(sr);
            b.set_tone(1.0);
            let mut pk = 0.0f32;
            for i in 0..40u32 {
                b.note_on(28 + (i * 7 % 40) as u8, 1.0);
                let (l, r) = play(&mut b, &[64], (sr * 0.05) as usize);
                pk = pk.max(peak(&l)).max(peak(&r));
            }
            assert!(pk < 1.0, "peak {pk}");
            assert!(pk > 0.1, "too quiet: {pk}");
        }
    }

    #[test]
    fn bass_level_at_velocity_08_is_moderate() {
        let mut pk = 0.0f32;
        for note in [28u8, 36, 43, 50, 57, 64] {
            let mut b = UprightBass::new(48000.0);
            b.note_on(note, 0.8);
            let (l, _) = play(&mut b, &[64], 24000);
            pk = pk.max(peak(&l));
            assert!(peak(&l) > 0.08, "note {note} too quiet: {}", peak(&l));
        }
        assert!(pk < 0.7, "velocity 0.8 peak {pk}");
    }

    #[test]
    fn bass_decays_to_exact_silence() {
        let mut b = UprightBass::new(44100.0);
        b.note_on(28, 1.0);
        play(&mut b, &[64], 20000);
        b.note_off();
        let (l, r) = play(&mut b, &[64], 44100 * 3);
        let tail = &l[l.len() - 4410..];
        assert!(tail.iter().all(|x| *x == 0.0), "not silent: {}", peak(tail));
        assert!(r[r.len() - 4410..].iter().all(|x| *x == 0.0));
        // And without note_off it still rings out to exact zero eventually.
        b.note_on(40, 1.0);
        let (l, _) = play(&mut b, &[64], 44100 * 14);
        assert!(l[l.len() - 100..].iter().all(|x| *x == 0.0));
    }

    #[test]
    fn bass_pitch_within_5_cents() {
        for sr in [22050.0f32, 44100.0, 48000.0, 96000.0, 192000.0] {
            for (note, tone) in [
                (28u8, 0.2f32),
                (33, 0.8),
                (40, 0.5),
                (45, 0.0),
                (52, 1.0),
                (55, 0.4),
                (62, 0.6),
                (67, 0.3),
            ] {
                let mut b = UprightBass::new(sr);
                b.set_tone(tone);
                // let the tone glide settle before plucking
                play(&mut b, &[64], (sr * 0.4) as usize);
                b.note_on(note, 0.7);
                let (l, _) = play(&mut b, &[64], (sr * 0.9) as usize);
                let start = (sr * 0.25) as usize;
                let f = measure_hz(&l[start..], sr, midi_hz(note as f32));
                let cents = 1200.0 * (f / midi_hz(note as f32)).log2();
                assert!(
                    cents.abs() < 5.0,
                    "note {note} tone {tone} at {sr}: {f} Hz, {cents:.2} cents"
                );
            }
        }
    }

    #[test]
    fn bass_note_off_damps_quickly() {
        let sr = 48000.0;
        let mut b = UprightBass::new(sr);
        b.note_on(36, 0.8);
        let (l, _) = play(&mut b, &[64], 9600);
        let before = peak(&l[4800..]);
        b.note_off();
        let (l, _) = play(&mut b, &[64], 14400);
        // ~150 ms after lifting the finger the string is > 30 dB down.
        let after = peak(&l[7200..]);
        assert!(after < before * 0.03, "before {before} after {after}");
    }

    /// One note at `vel` after 0.2 s of silence, held `secs` (left channel, 48 kHz, tone 0.45).
    fn pluck_alone(note: u8, vel: f32, secs: f32) -> Vec<f32> {
        let mut b = UprightBass::new(48000.0);
        b.set_tone(0.45);
        let (mut l, _) = play(&mut b, &[64], 9600);
        b.note_on(note, vel);
        l.extend(play(&mut b, &[64], (secs * 48000.0) as usize).0);
        l
    }

    /// The 10-90 % rise time of a 5 ms RMS envelope with a 1 ms hop (as `mood-noir measure`
    /// reads a note) from `x`'s start, and the time from the peak of a 50 ms RMS envelope (two
    /// periods of the lowest string: a 5 ms window ripples with a low note's waveform) to
    /// 20 dB below it; both in ms.
    fn attack_and_decay_ms(x: &[f32], sr: f32) -> (f32, f32) {
        let env = |win_s: f32| -> Vec<f32> {
            let (win, hop) = ((win_s * sr) as usize, (0.001 * sr) as usize);
            (0..(x.len() - win) / hop)
                .map(|k| rms(&x[k * hop..k * hop + win]))
                .collect()
        };
        let peak_of = |e: &[f32]| {
            e[..300.min(e.len())]
                .iter()
                .enumerate()
                .fold((0, 0.0f32), |m, (i, v)| if *v > m.1 { (i, *v) } else { m })
        };
        let fast = env(0.005);
        let (_, pk) = peak_of(&fast);
        let t10 = fast.iter().position(|v| *v >= 0.1 * pk).unwrap_or(0);
        let t90 = fast.iter().position(|v| *v >= 0.9 * pk).unwrap_or(0);
        let slow = env(0.05);
        let (ipk, pk) = peak_of(&slow);
        let t20 = slow[ipk..]
            .iter()
            .position(|v| *v < 0.1 * pk)
            .map_or(f32::INFINITY, |i| i as f32);
        ((t90 - t10) as f32, t20)
    }

    #[test]
    fn bass_attack_is_a_finger_bloom() {
        // The finger rolls off the string and the body fills in: the 10-90 % rise of a 5 ms
        // RMS envelope is at least 12 ms at medium velocity (smoothstep bloom of ~25 ms: its
        // 10-90 % is 0.6 of that, ~15 ms; GM's upright reads 31 ms), and under 40 ms (no swell).
        for note in [33u8, 40, 45, 52] {
            let x = pluck_alone(note, 0.6, 1.0);
            let (a, _) = attack_and_decay_ms(&x[9600..], 48000.0);
            assert!((12.0..40.0).contains(&a), "note {note}: attack {a:.1} ms");
        }
    }

    #[test]
    fn bass_held_note_falls_20_db_in_04_to_08_s() {
        // Pizzicato on gut: the fundamental's T60 is 1.35-1.9 s and the upper partials go
        // sooner, so a held note is 20 dB under its peak after 0.4-0.8 s (GM's upright: 0.54 s).
        for note in [31u8, 38, 45, 55] {
            let x = pluck_alone(note, 0.6, 2.0);
            let (_, t) = attack_and_decay_ms(&x[9600..], 48000.0);
            assert!(
                (400.0..800.0).contains(&t),
                "note {note}: -20 dB after {t:.0} ms"
            );
        }
    }

    /// Power of the component at `hz` in `x` (Hann-windowed single DFT bin).
    fn tone_power(x: &[f32], sr: f32, hz: f32) -> f64 {
        let n = x.len();
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, v) in x.iter().enumerate() {
            let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos();
            let ph = std::f64::consts::TAU * hz as f64 * i as f64 / sr as f64;
            re += *v as f64 * w * ph.cos();
            im += *v as f64 * w * ph.sin();
        }
        re * re + im * im
    }

    #[test]
    fn bass_next_note_stops_the_previous() {
        // The left hand stops C2 (65.4 Hz) when G2 (98 Hz) comes 0.5 s later: 0.15 s after
        // the new note, C2's fundamental is at least 20 dB under where it was just before.
        let sr = 48000.0;
        let mut b = UprightBass::new(sr);
        b.set_tone(0.45);
        b.note_on(36, 0.7);
        let (mut x, _) = play(&mut b, &[64], 24000);
        b.note_on(43, 0.7);
        x.extend(play(&mut b, &[64], 24000).0);
        let f = midi_hz(36.0);
        let before = tone_power(&x[24000 - 8192..24000], sr, f);
        let after = tone_power(&x[24000 + 7200..24000 + 7200 + 8192], sr, f);
        let drop = 10.0 * (before / after.max(1e-30)).log10();
        assert!(
            drop > 20.0,
            "C2 only {drop:.1} dB down 150 ms after the next note"
        );
    }

    #[test]
    fn bass_slaps_the_fingerboard_only_when_hard() {
        // Above velocity 0.72 the string hits the fingerboard: the first 30 ms of a hard
        // pluck carry at least twice the share of power above 2 kHz of a medium one.
        let frac = |vel: f32| {
            let x = pluck_alone(40, vel, 0.05);
            power_fraction_above(&x[9600..9600 + 1440], 48000.0, 2000.0)
        };
        let (mid, hard) = (frac(0.55), frac(1.0));
        assert!(
            hard > 2.0 * mid,
            "above 2 kHz: medium {mid:.4} hard {hard:.4}"
        );
    }

    #[test]
    fn bass_note_has_a_strings_growl_not_a_sub() {
        // A held note carries its upper harmonics (the string's growl) rather than being a
        // fundamental alone: 50-300 ms after a medium pluck, the share of its power between
        // 500 Hz and 2 kHz is above 5e-6 on every string from E1 to E3 and above 5e-5 on
        // average (the wide 6.8 ms pluck with a 0.14 s upper decay gave 1.7e-7 on E1 and
        // 9e-6 on average; now 1.2e-5 and 1.2e-4; smoky office's bass stem 0.5-2 kHz band
        // -36.5 -> -25.2 dB of its energy, the General MIDI upright's -23.6 dB).
        let shares: Vec<f64> = [28u8, 33, 40, 45, 52]
            .iter()
            .map(|&note| {
                let x = pluck_alone(note, 0.6, 0.5);
                let seg = &x[9600 + 2400..9600 + 14400];
                power_fraction_above(seg, 48000.0, 500.0)
                    - power_fraction_above(seg, 48000.0, 2000.0)
            })
            .collect();
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        assert!(
            shares.iter().all(|&m| m > 5e-6) && mean > 5e-5,
            "0.5-2 kHz shares {shares:?}, mean {mean:.2e}"
        );
    }

    #[test]
    fn bass_pluck_noise_stays_below_the_top_octaves() {
        // The finger's noise reaches the microphone through the instrument: the first 30 ms
        // of even a hard pluck keep less than 1e-5 of their power above 8 kHz (the bare noise
        // bands reached 20 kHz, a click on every note in the spectrogram).
        for vel in [0.55, 1.0] {
            let x = pluck_alone(40, vel, 0.05);
            let top = power_fraction_above(&x[9600..9600 + 1440], 48000.0, 8000.0);
            assert!(top < 1e-5, "vel {vel}: above 8 kHz {top:.2e}");
        }
    }

    #[test]
    fn bass_idle_returns_at_once_and_restarts_cleanly() {
        // After a note has rung out and the bus has settled, render adds nothing (exact 0.0)
        // and a new note afterwards sounds the same as on a fresh instrument.
        let mut b = UprightBass::new(48000.0);
        b.note_on(40, 0.8);
        b.note_off();
        play(&mut b, &[64], 96000);
        assert!(b.quiet >= b.quiet_after);
        let (l, r) = play(&mut b, &[64], 4800);
        assert!(l.iter().chain(&r).all(|x| *x == 0.0));
        let rng = b.rng;
        b.note_on(45, 0.7);
        let (again, _) = play(&mut b, &[64], 4800);
        let mut fresh = UprightBass::new(48000.0);
        play(&mut fresh, &[64], 4800);
        fresh.rng = rng;
        fresh.note_on(45, 0.7);
        let (first, _) = play(&mut fresh, &[64], 4800);
        assert!(peak(&again) > 0.05);
        assert_eq!(again, first);
    }

    /// Writes `/tmp/bass-listen.wav` (48 kHz): A1 mf and f, E2 mf, A2 mf, E3 f held 2.5 s,
    /// 3 s apart, then a walking line of 16 quarter notes at 120 bpm without note-offs (as the
    /// composer plays it); the same notes as the General MIDI reference render.
    #[test]
    #[ignore]
    fn bass_listen_wav() {
        let sr = 48000.0;
        let mut b = UprightBass::new(sr);
        b.set_tone(0.45);
        let mut at: Vec<(usize, Option<u8>, f32)> = Vec::new();
        for (t, n, v) in [
            (0.0, 33u8, 75.0f32),
            (3.0, 33, 115.0),
            (6.0, 40, 75.0),
            (9.0, 45, 75.0),
            (12.0, 52, 115.0),
        ] {
            at.push(((t * sr) as usize, Some(n), v / 127.0));
            at.push((((t + 2.5) * sr) as usize, None, 0.0));
        }
        let walk = [
            36u8, 40, 43, 45, 47, 45, 43, 40, 38, 41, 45, 48, 43, 47, 50, 53,
        ];
        for (i, n) in walk.iter().enumerate() {
            at.push((
                ((15.0 + 0.5 * i as f32) * sr) as usize,
                Some(*n),
                80.0 / 127.0,
            ));
        }
        at.sort_by_key(|e| e.0);
        let pos: Vec<usize> = at.iter().map(|e| e.0).collect();
        let out = play_script(
            &mut b,
            (25.0 * sr) as usize,
            &[64],
            &pos,
            |b, i| match at[i].1 {
                Some(n) => b.note_on(n, at[i].2),
                None => b.note_off(),
            },
            |b, l, r| b.render(l, r),
        );
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: sr as u32,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create("/tmp/bass-listen.wav", spec).unwrap();
        for x in out {
            w.write_sample(x).unwrap();
        }
        w.finalize().unwrap();
    }

    /// Cost of a busy walking line (release build): a quarter note every 0.4 s, no note-offs,
    /// a ghosted skip note every other beat, 48 kHz. Prints ms of CPU per second of audio.
    #[test]
    #[ignore]
    fn bass_timing() {
        let sr = 48000.0;
        let mut b = UprightBass::new(sr);
        b.set_tone(0.5);
        let line = [
            36u8, 40, 43, 45, 47, 45, 43, 40, 38, 41, 45, 48, 43, 47, 50, 53,
        ];
        let seconds = 20usize;
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        let start = std::time::Instant::now();
        let mut n = 0usize;
        let mut i = 0usize;
        while n < seconds * 48000 {
            let beat = n % 19200;
            if beat == 0 {
                b.note_on(line[i % line.len()], 0.7);
                i += 1;
            } else if beat == 12800 && i.is_multiple_of(2) {
                b.note_on(line[i % line.len()], 0.3);
            }
            b.render(&mut l, &mut r);
            n += 64;
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / seconds as f64;
        println!(
            "bass: {ms:.3} ms per second of audio ({:.0}x real time), out {}",
            1000.0 / ms,
            l[3] + r[5]
        );
    }
}

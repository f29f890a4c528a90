//! Upright (double) bass, pizzicato: a Karplus-Strong / single-delay-loop waveguide string.
//!
//! Per voice: a Lagrange-interpolated delay loop tuned exactly (the phase delay of the loss
//! filter at the fundamental is subtracted from the loop length), a one-pole loss filter
//! designed from two decay times (at the fundamental and at ~1.5 kHz, depending on pitch and
//! tone), a finger-pluck excitation (raised-cosine pulse + lowpassed noise, comb-filtered by
//! the pluck position so it carries no DC), a short pitch "thump" (the loop starts slightly
//! short and relaxes, like tension modulation) and a soft fingerboard "growl" nonlinearity.
//! The two-voice pool lets a previous note be damped over ~30 ms while the next one starts.
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
    // --- pluck ---
    thump: f32,
    thump_decay: f32,
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
            thump: 0.0,
            thump_decay: 1.0,
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
        let t60_f0 = (5.0 - 2.6 * pitch01) * (0.8 + 0.4 * tone);
        // Decay of the upper partials (~1.5 kHz): dark = quick, bright = lingering.
        let f_hi = (1500.0f32).min(0.4 * sr).max(3.0 * f0);
        let t60_hi = 0.14 + 0.4 * tone * tone + 0.15 * tone;
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
        self.design(tone);

        // Pitch thump: the loop starts a little short (sharp) and relaxes within ~40 ms.
        self.thump = (0.003 + 0.011 * vel * vel) * (1.0 + 0.1 * rng.bipolar());
        self.thump_decay = (-1.0 / (0.035 * sr)).exp();

        // Finger: wider (softer) pulse for soft, dark plucks; noise for the flesh/nail.
        let width_s = (0.0050 - 0.0030 * vel) * (1.15 - 0.35 * tone);
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
            self.f0 * (0.9 + 1.5 * vel * vel + 1.2 * tone) + 120.0 * vel + 150.0 * tone,
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
            self.damp_target = loop_gain_for_t60(self.f0, 0.085) / self.loss_g.max(1e-3);
            self.damp_target = self.damp_target.min(1.0);
        }
    }

    fn steal(&mut self) {
        if self.state != State::Idle {
            self.state = State::Stolen;
            self.damp_target = (loop_gain_for_t60(self.f0, 0.03) / self.loss_g.max(1e-3)).min(1.0);
            self.fade_coef = (-1.0 / (0.012 * self.sr)).exp();
        }
    }

    #[inline]
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
        // `exc_shelf` so the upper harmonics keep a little "string" edge.
        let el = self.exc_lp.tick(e);
        e = el + self.exc_shelf * (e - el);

        // Damping (finger lift / steal).
        self.damp += self.damp_coef * (self.damp_target - self.damp);
        let damping = self.damp < 0.999;

        // Loop.
        let d = self.delay * (1.0 - self.thump);
        self.thump = flush(self.thump * self.thump_decay);
        let v = self.line.read(d);
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
        if self.state == State::Stolen {
            self.fade = flush(self.fade * self.fade_coef);
            out *= self.fade;
        }
        self.t = self.t.saturating_add(1);
        let lvl = self.level.tick(out);
        let done = match self.state {
            State::Stolen => self.fade < 1e-5,
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

/// Upright bass. See the module docs.
pub struct UprightBass {
    sr: f32,
    voices: [StringVoice; 2],
    /// Index of the voice holding the current note.
    current: usize,
    tone: Smooth,
    rng: Rng,
    body: [Bandpass; BODY.len()],
    tone_lp: Lowpass,
    tone_lp_at: f32,
    finger_bp: Bandpass,
    finger_env: f32,
    finger_amp: f32,
    finger_decay: f32,
    dc: DcBlock,
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
            body: BODY.map(|(f, q, _)| bandpass(sr, f, q)),
            tone_lp: lowpass(sr, 2500.0, 0.6),
            tone_lp_at: -1.0,
            finger_bp: bandpass(sr, 1800.0, 1.2),
            finger_env: 0.0,
            finger_amp: 0.0,
            finger_decay: (-1.0 / (0.010 * sr)).exp(),
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
        self.finger_bp.reset();
        self.finger_env = 0.0;
        self.finger_amp = 0.0;
        self.dc.reset();
    }

    /// Pluck `note` (MIDI, 28..=67) at `velocity` 0..1. A ringing previous note is damped
    /// quickly (finger lifts) while the new one starts in the other voice.
    pub fn note_on(&mut self, note: u8, velocity: f32) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        let vel = unit_velocity(velocity);
        self.voices[self.current].steal();
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
        self.finger_amp = 0.05 * vel * (0.5 + tone);
        self.finger_env = 1.0;
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

    /// ADDS the instrument into `l` and `r` (len <= MAX_BLOCK). Panned slightly left.
    pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
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
            for (bp, (_, q, g)) in self.body.iter_mut().zip(BODY.iter()) {
                body += bp.tick(s) * (g / q);
            }
            let mut x = self.tone_lp.tick(body);
            // Finger noise: a short breath of band-passed noise at the pluck.
            if self.finger_env > 1e-4 {
                let nz = self.rng.bipolar() * self.finger_env * self.finger_amp * self.nscale;
                self.finger_env *= self.finger_decay;
                x += self.finger_bp.tick(nz);
            } else {
                self.finger_env = 0.0;
                x += self.finger_bp.tick(0.0);
            }
            let y = safety(self.dc.tick(x) * OUT_GAIN);
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
}

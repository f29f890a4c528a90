//! The band's bus: per-instrument gain, the room (fundsp's 32-line FDN reverb), a DC blocker,
//! a look-ahead peak limiter with a -1 dBFS ceiling and a declicker for timeline jumps.
//! Audio thread; everything is allocated in `Mixer::new`.

use crate::dsp::limiter::Limiter;
use crate::dsp::util::{db_to_gain, flush, one_pole_coef};
use fundsp::audiounit::AudioUnit;
use fundsp::prelude32::{dcblock_hz, reverb_stereo};

/// The limiter's look-ahead: the plugin's reported latency.
pub const LIMITER_LOOKAHEAD_S: f32 = 0.004;
/// Output ceiling: -1 dBFS.
const CEILING: f32 = 0.891;
/// Anti-denormal bias fed to the reverb (-180 dBFS; the DC blocker removes it).
const REVERB_BIAS: f32 = 1.0e-9;

/// Number of instrument channels the mixer sums.
pub const CHANNELS: usize = 3;

/// The mix bus.
pub struct Mixer {
    /// Room reverb (stereo in, stereo out).
    reverb: Box<dyn AudioUnit>,
    /// DC blockers, left and right.
    dc: [Box<dyn AudioUnit>; 2],
    /// Peak limiter.
    limiter: Limiter,
    /// Smoothed linear gains per instrument.
    gain: [f32; CHANNELS],
    /// Targets for `gain`.
    gain_target: [f32; CHANNELS],
    /// Smoothed reverb send.
    send: f32,
    /// Target send.
    send_target: f32,
    /// Smoothed master gain.
    master: f32,
    /// Target master gain.
    master_target: f32,
    /// Per-sample smoothing coefficient (about 20 ms).
    coef: f32,
    /// Declicker offsets (left, right) added to the output and decaying to zero.
    declick: [f32; 2],
    /// Declicker decay per sample (about 3 ms).
    declick_decay: f32,
    /// The last output frame (for the declicker).
    last_out: [f32; 2],
    /// Latency in samples (the limiter look-ahead).
    latency: usize,
}

impl Mixer {
    /// A mixer for `sample_rate`; allocates the reverb and limiter buffers.
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate as f64;
        let mut reverb: Box<dyn AudioUnit> = Box::new(reverb_stereo(12.0, 1.9, 0.55));
        let mut dc: [Box<dyn AudioUnit>; 2] =
            [Box::new(dcblock_hz(8.0)), Box::new(dcblock_hz(8.0))];
        for u in std::iter::once(&mut reverb).chain(dc.iter_mut()) {
            u.set_sample_rate(sr);
            u.allocate();
        }
        let limiter = Limiter::new(sample_rate, LIMITER_LOOKAHEAD_S, 0.25, CEILING);
        let latency = limiter.latency();
        let mut m = Self {
            reverb,
            dc,
            limiter,
            gain: [1.0; CHANNELS],
            gain_target: [1.0; CHANNELS],
            send: 0.3,
            send_target: 0.3,
            master: 1.0,
            master_target: 1.0,
            coef: one_pole_coef(0.02, sample_rate),
            declick: [0.0; 2],
            declick_decay: (-1.0 / (0.003 * sample_rate)).exp(),
            last_out: [0.0; 2],
            latency,
        };
        m.reset();
        m
    }

    /// Clears every buffer; gains jump to their targets.
    pub fn reset(&mut self) {
        self.reverb.reset();
        self.limiter.reset();
        for d in self.dc.iter_mut() {
            d.reset();
        }
        self.gain = self.gain_target;
        self.send = self.send_target;
        self.master = self.master_target;
        self.declick = [0.0; 2];
        self.last_out = [0.0; 2];
    }

    /// Latency in samples introduced by the limiter's look-ahead.
    pub fn latency_samples(&self) -> usize {
        self.latency
    }

    /// Sets instrument levels (dB), the reverb send (0..1) and master (dB); they glide.
    pub fn set_levels(&mut self, levels_db: [f32; CHANNELS], reverb: f32, master_db: f32) {
        for (t, db) in self.gain_target.iter_mut().zip(levels_db) {
            *t = if db <= -79.0 { 0.0 } else { db_to_gain(db) };
        }
        // The send is shaped so the knob's middle is a modest room.
        self.send_target = reverb.clamp(0.0, 1.0).powf(1.5) * 1.2;
        self.master_target = if master_db <= -79.0 {
            0.0
        } else {
            db_to_gain(master_db)
        };
    }

    /// Jumps the gains to their targets (after a reset or a preset load).
    pub fn snap(&mut self) {
        self.gain = self.gain_target;
        self.send = self.send_target;
        self.master = self.master_target;
    }

    /// Arms the declicker before the band is reset on a timeline jump: the old output's last
    /// value fades out over ~3 ms instead of stepping to the new signal.
    pub fn begin_jump(&mut self) {
        self.declick = self.last_out;
        self.reverb.reset();
        self.limiter.reset();
        for d in self.dc.iter_mut() {
            d.reset();
        }
    }

    /// Mixes `n` samples of the instrument buffers (`inputs[c] = (left, right)`) into
    /// `out_l`/`out_r` (overwritten).
    pub fn process(
        &mut self,
        inputs: &[(&[f32], &[f32]); CHANNELS],
        out_l: &mut [f32],
        out_r: &mut [f32],
    ) {
        let n = out_l.len();
        for i in 0..n {
            let mut dl = 0.0;
            let mut dr = 0.0;
            for c in 0..CHANNELS {
                self.gain[c] += (self.gain_target[c] - self.gain[c]) * self.coef;
                dl += inputs[c].0[i] * self.gain[c];
                dr += inputs[c].1[i] * self.gain[c];
            }
            self.send += (self.send_target - self.send) * self.coef;
            self.master += (self.master_target - self.master) * self.coef;
            let (wl, wr) = self
                .reverb
                .filter_stereo(dl * self.send + REVERB_BIAS, dr * self.send + REVERB_BIAS);
            let l = self.dc[0].filter_mono(dl + wl) * self.master;
            let r = self.dc[1].filter_mono(dr + wr) * self.master;
            let (l, r) = self.limiter.tick(l, r);
            let mut l = flush((l + self.declick[0]).clamp(-CEILING, CEILING));
            let mut r = flush((r + self.declick[1]).clamp(-CEILING, CEILING));
            self.declick[0] = flush(self.declick[0] * self.declick_decay);
            self.declick[1] = flush(self.declick[1] * self.declick_decay);
            if !l.is_finite() {
                l = 0.0;
            }
            if !r.is_finite() {
                r = 0.0;
            }
            out_l[i] = l;
            out_r[i] = r;
            self.last_out = [l, r];
        }
    }
}

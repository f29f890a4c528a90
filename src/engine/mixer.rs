//! The band's bus: per-instrument gain and gentle tape saturation, the room (fundsp's 32-line
//! FDN reverb, computed a block at a time by `dsp::room`), DC blocking, a look-ahead peak
//! limiter with a -1 dBFS ceiling and a declicker for timeline jumps. It also produces the
//! stems: each instrument and the room return, after the same limiter gain and delay, so that
//! the stems sum to the main mix. Analog grain
//! (`dsp::grain`) wears every stem alike before the limiter; at grain 0 it is bypassed and the
//! mix is bit for bit the mix without it.
//! Audio thread; everything is allocated in `Mixer::new`.

use super::settings::is_silent_db;
use crate::dsp::grain::{Grain, GrainDetail};
use crate::dsp::limiter::Limiter;
use crate::dsp::room::Room;
use crate::dsp::util::{db_to_gain, flush, one_pole_coef, soft_clip};
use crate::dsp::MAX_BLOCK;

/// The limiter's look-ahead: the plugin's reported latency.
pub const LIMITER_LOOKAHEAD_S: f32 = 0.004;
/// Output ceiling: -1 dBFS, a hard clamp on samples (a last guard, rarely reached).
pub const CEILING: f32 = 0.891;
/// The limiter's true-peak ceiling: -1.2 dBTP, so true peaks measured 4x oversampled (ITU-R
/// BS.1770, EBU R 128's -1 dBTP for delivery) stay under -1 dBTP with a margin for meters
/// whose interpolators differ from ours.
pub const TRUE_PEAK_CEILING: f32 = 0.871;
/// Anti-denormal bias fed to the reverb (-180 dBFS; the DC blocker removes it).
const REVERB_BIAS: f32 = 1.0e-9;
/// The room (fundsp `reverb_stereo` settings): size (m), decay to -60 dB (s), damping 0..1.
const ROOM_SIZE_M: f64 = 10.0;
const ROOM_TIME_S: f64 = 1.3;
const ROOM_DAMPING: f64 = 0.6;

/// Instrument channels: bass, drums, keys, lead, pad, ambience, harp, brass, percussion.
pub const CHANNELS: usize = 9;
/// Stems: the instruments plus the room (reverb return).
pub const STEMS: usize = CHANNELS + 1;
/// The room's stem index (kept where it was before the harp, brass and percussion stems were
/// appended, so aux ports and stem files keep their numbers).
pub const ROOM: usize = 6;
/// The stem index of each instrument channel.
pub const STEM_OF: [usize; CHANNELS] = [0, 1, 2, 3, 4, 5, 7, 8, 9];
/// Stem names, in order (the plugin's aux output names).
pub const STEM_NAMES: [&str; STEMS] = [
    "Bass",
    "Drums",
    "Keys",
    "Lead",
    "Pad",
    "Ambience",
    "Room",
    "Harp",
    "Brass",
    "Percussion",
];
/// The stem the grain's own noise (hiss, crackle, rumble) goes to: the ambience's.
const GRAIN_NOISE_STEM: usize = 5;
/// Seed of the grain's random wear (fixed: the same position renders the same wear).
const GRAIN_SEED: u64 = 0x6e6f_6972;
/// How much of each instrument goes to the room (times the Reverb setting).
const SEND: [f32; CHANNELS] = [0.45, 0.8, 1.0, 1.0, 1.0, 0.3, 1.0, 0.7, 0.6];
/// Gain staging per instrument (dB), balanced by loudness-measuring the stems of the factory
/// scenes: the horn sits on top, bass and keys under it, the kit and strings behind (bass and
/// keys raised 3 and 4 dB when their notes were given real damping and shorter decays, so the
/// neutral mood stays at about -18 LUFS: tests/host/test_loudness.py; the bass 1.5 dB more
/// when its pluck was narrowed, putting its energy into the harmonics that carry its growl).
const STAGE_DB: [f32; CHANNELS] = [1.5, 5.0, 2.0, -5.5, 0.5, -6.0, -3.0, -6.0, -2.0];
/// Tape drive per instrument: how hard peaks are rounded (0 = clean).
const DRIVE: [f32; CHANNELS] = [0.5, 0.35, 0.3, 0.4, 0.2, 0.0, 0.15, 0.4, 0.3];

/// The DC blockers' corner, Hz.
const DC_CUTOFF_HZ: f32 = 8.0;

/// A one-pole DC blocker, `y = x - x1 + coeff * y1`: fundsp's `DCBlock` inline (the same
/// arithmetic in the same order, so the output is bit for bit what `dcblock_hz` gave),
/// without a virtual call per sample.
#[derive(Clone, Copy, Debug, Default)]
struct DcBlock {
    /// The previous input.
    x1: f32,
    /// The previous output.
    y1: f32,
}

impl DcBlock {
    #[inline]
    fn tick(&mut self, x: f32, coeff: f32) -> f32 {
        let y = x - self.x1 + coeff * self.y1;
        self.x1 = x;
        self.y1 = y;
        y
    }
}

/// One step of a one-pole glide toward `target` that lands on it exactly (a gain gliding to
/// zero must not creep through the subnormals: muted stems and a dry room would cost CPU in
/// hosts that do not flush them).
#[inline]
fn glide(x: f32, target: f32, coef: f32) -> f32 {
    let y = x + (target - x) * coef;
    if (target - y).abs() < 1.0e-6 {
        target
    } else {
        y
    }
}

/// A fixed delay line for one stereo stem (the limiter's look-ahead).
struct StemDelay {
    /// Interleaved frames.
    line: Vec<[f32; 2]>,
    /// Read/write position.
    pos: usize,
    /// How many zero frames were written last in a row (at least the line's length: the
    /// whole line is zeros, it delays silence into silence and need not be stepped).
    zeros: usize,
}

impl StemDelay {
    fn new(len: usize) -> Self {
        Self {
            line: vec![[0.0; 2]; len],
            pos: 0,
            zeros: len,
        }
    }
    fn reset(&mut self) {
        self.line.iter_mut().for_each(|f| *f = [0.0; 2]);
        self.pos = 0;
        self.zeros = self.line.len();
    }
    /// Holds nothing but zeros.
    #[inline]
    fn is_clear(&self) -> bool {
        self.zeros >= self.line.len()
    }
    /// Delays `n` frames of `input` (left, right) into `out`: each output frame is the one
    /// written the line's length before it, a run of the line at a time.
    fn process(
        &mut self,
        input: [&[f32; MAX_BLOCK]; 2],
        out: &mut [[f32; MAX_BLOCK]; 2],
        n: usize,
    ) {
        let len = self.line.len();
        let mut i = 0;
        while i < n {
            let run = (n - i).min(len - self.pos);
            let seg = &mut self.line[self.pos..self.pos + run];
            for (j, frame) in seg.iter_mut().enumerate() {
                out[0][i + j] = frame[0];
                out[1][i + j] = frame[1];
                *frame = [input[0][i + j], input[1][i + j]];
            }
            i += run;
            self.pos += run;
            if self.pos == len {
                self.pos = 0;
            }
        }
        let trailing = (0..n)
            .rev()
            .take_while(|&i| input[0][i] == 0.0 && input[1][i] == 0.0)
            .count();
        self.zeros = if trailing == n {
            self.zeros.saturating_add(n)
        } else {
            trailing
        };
    }
}

/// Where the mixer writes: the main pair and, optionally, stem pairs (sub-slices of the
/// caller's buffers for this chunk).
pub struct MixTarget<'a> {
    /// Main left.
    pub left: &'a mut [f32],
    /// Main right.
    pub right: &'a mut [f32],
    /// Stems as (left, right); `None` where the host does not want that stem.
    pub stems: [Option<(&'a mut [f32], &'a mut [f32])>; STEMS],
}

/// Everything the engine sets on the mixer, in the setters' own terms: the engine compares
/// what it wants with what the mixer has, and mixes the samples the old controls apply to
/// before it hands over the new ones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MixControls {
    /// Instrument levels, dB (`set_levels`).
    pub levels_db: [f32; CHANNELS],
    /// The Reverb setting, 0..1 (`set_levels`).
    pub reverb: f32,
    /// Master level, dB (`set_levels`).
    pub master_db: f32,
    /// The style's room scale (`set_room`).
    pub room: f32,
    /// The analog grain's amount (`set_grain`).
    pub grain: f32,
    /// The grain's kinds of wear (`set_grain`).
    pub grain_detail: GrainDetail,
}

impl Default for MixControls {
    /// What a new mixer starts from (its room at the Reverb setting's own size).
    fn default() -> Self {
        Self {
            levels_db: [0.0; CHANNELS],
            reverb: 0.0,
            master_db: 0.0,
            room: 1.0,
            grain: 0.0,
            grain_detail: GrainDetail::default(),
        }
    }
}

/// The mix bus.
pub struct Mixer {
    /// Room reverb (stereo in, stereo out): fundsp's `reverb_stereo`, a block at a time.
    reverb: Room,
    /// DC blockers per stem, left and right.
    dc: [[DcBlock; 2]; STEMS],
    /// The DC blockers' pole (`DcBlock`).
    dc_coeff: f32,
    /// Peak limiter (gain computed on the main mix, delays each stem identically).
    limiter: Limiter,
    /// Analog wear over every stem (bypassed at amount 0).
    grain: Grain,
    /// This chunk's stems before the limiter: `[stem][left/right][sample]`.
    block: [[[f32; MAX_BLOCK]; 2]; STEMS],
    /// Delay lines matching the limiter's look-ahead, one per stem.
    delays: Vec<StemDelay>,
    /// This chunk's stems after the delay, limiter and declicker (a sounding stem's `..n`
    /// is written before it is read; kept here so no block zeroes 5 KB of stack for it).
    delayed: [[[f32; MAX_BLOCK]; 2]; STEMS],
    /// Smoothed linear gains per instrument.
    gain: [f32; CHANNELS],
    /// Targets for `gain`.
    gain_target: [f32; CHANNELS],
    /// Smoothed reverb send.
    send: f32,
    /// Target send.
    send_target: f32,
    /// The send the Reverb setting asks for, before the style's room scale.
    send_knob: f32,
    /// The style's room scale (`set_room`).
    room_scale: f32,
    /// Smoothed master gain.
    master: f32,
    /// Target master gain.
    master_target: f32,
    /// Per-sample smoothing coefficient (about 20 ms).
    coef: f32,
    /// Declicker offsets (left, right) added to the output and decaying to zero.
    declick: [[f32; 2]; STEMS],
    /// Declicker decay per sample (about 3 ms).
    declick_decay: f32,
    /// The last output frame per stem (for the declicker).
    last_out: [[f32; 2]; STEMS],
    /// Peak of the main output since the meter was last read (left, right).
    pub peak: [f32; 2],
}

impl Mixer {
    /// A mixer for `sample_rate`; allocates the reverb, limiter and delay buffers.
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate as f64;
        let reverb = Room::new(sr, ROOM_SIZE_M, ROOM_TIME_S, ROOM_DAMPING);
        let dc = [[DcBlock::default(); 2]; STEMS];
        // fundsp's `dcblock_hz(8.0)` pole, computed as it does (f32: 1 - tau / sr * cutoff).
        let dc_coeff = 1.0 - core::f32::consts::TAU / sample_rate * DC_CUTOFF_HZ;
        let limiter = Limiter::new(sample_rate, LIMITER_LOOKAHEAD_S, 0.25, TRUE_PEAK_CEILING);
        let delays = (0..STEMS)
            .map(|_| StemDelay::new(limiter.latency()))
            .collect();
        let mut m = Self {
            reverb,
            dc,
            dc_coeff,
            limiter,
            grain: Grain::new(sample_rate, STEMS, GRAIN_SEED),
            block: [[[0.0; MAX_BLOCK]; 2]; STEMS],
            delays,
            delayed: [[[0.0; MAX_BLOCK]; 2]; STEMS],
            gain: [1.0; CHANNELS],
            gain_target: [1.0; CHANNELS],
            send: 0.3,
            send_target: 0.3,
            send_knob: 0.3,
            room_scale: MixControls::default().room,
            master: 1.0,
            master_target: 1.0,
            coef: one_pole_coef(0.02, sample_rate),
            declick: [[0.0; 2]; STEMS],
            declick_decay: (-1.0 / (0.003 * sample_rate)).exp(),
            last_out: [[0.0; 2]; STEMS],
            peak: [0.0; 2],
        };
        m.reset();
        m
    }

    /// Clears every buffer; gains jump to their targets.
    pub fn reset(&mut self) {
        self.clear_buffers();
        self.gain = self.gain_target;
        self.send = self.send_target;
        self.master = self.master_target;
        self.declick = [[0.0; 2]; STEMS];
        self.last_out = [[0.0; 2]; STEMS];
    }

    fn clear_buffers(&mut self) {
        self.reverb.reset();
        self.limiter.reset();
        self.grain.reset();
        for d in self.delays.iter_mut() {
            d.reset();
        }
        self.dc = [[DcBlock::default(); 2]; STEMS];
    }

    /// Latency in samples introduced by the limiter's look-ahead.
    pub fn latency_samples(&self) -> usize {
        self.limiter.latency()
    }

    /// Sets instrument levels (dB), the reverb send (0..1) and master (dB); they glide.
    pub fn set_levels(&mut self, levels_db: [f32; CHANNELS], reverb: f32, master_db: f32) {
        for ((t, db), stage) in self.gain_target.iter_mut().zip(levels_db).zip(STAGE_DB) {
            *t = if is_silent_db(db) {
                0.0
            } else {
                db_to_gain(db + stage)
            };
        }
        // The send is shaped so the knob's middle is a modest room.
        self.send_knob = reverb.clamp(0.0, 1.0).powf(1.5) * 3.0;
        self.send_target = self.send_knob * self.room_scale;
        self.master_target = if is_silent_db(master_db) {
            0.0
        } else {
            db_to_gain(master_db)
        };
    }

    /// Which instrument channels can be heard: false for one whose gain, or the master, has
    /// glided all the way to its target of exactly zero (its input is then scaled by zero:
    /// the mix is the same whatever it plays, so it need not be played).
    pub fn heard(&self) -> [bool; CHANNELS] {
        let master_off = self.master == 0.0 && self.master_target == 0.0;
        core::array::from_fn(|c| !(master_off || self.gain[c] == 0.0 && self.gain_target[c] == 0.0))
    }

    /// Sets every control at once (each setter in turn; setting a value the mixer already
    /// has changes nothing).
    pub fn set_controls(&mut self, c: &MixControls) {
        self.set_levels(c.levels_db, c.reverb, c.master_db);
        self.set_room(c.room);
        self.set_grain(c.grain, c.grain_detail);
    }

    /// Scales the room's send for the score style (1 = as the Reverb setting says); glides.
    pub fn set_room(&mut self, scale: f32) {
        let scale = if scale.is_finite() {
            scale.clamp(0.0, 3.0)
        } else {
            1.0
        };
        if scale != self.room_scale {
            self.room_scale = scale;
            self.send_target = self.send_knob * scale;
        }
    }

    /// Sets the analog grain (0..1; 0 bypasses it exactly) and the weight of each kind of wear.
    pub fn set_grain(&mut self, amount: f32, detail: GrainDetail) {
        self.grain.set_amount(amount);
        self.grain.set_detail(detail);
    }

    /// Arms the declicker before the band is reset on a timeline jump: the old output's last
    /// value fades out over ~3 ms instead of stepping to the new signal.
    pub fn begin_jump(&mut self) {
        self.declick = self.last_out;
        self.clear_buffers();
    }

    crate::dsp::simd::wide_method! {
        /// Mixes `n` samples of the instrument buffers (`inputs[c] = (left, right)`) into the
        /// target (overwritten); `n` is at most `MAX_BLOCK`.
        pub fn process(
            &mut self,
            inputs: &[(&[f32], &[f32]); CHANNELS],
            out: &mut MixTarget,
        ) = process_avx2 / process_portable
    }

    #[inline(always)]
    fn process_portable(&mut self, inputs: &[(&[f32], &[f32]); CHANNELS], out: &mut MixTarget) {
        let n = out.left.len().min(MAX_BLOCK);
        // Stage 1: gain, tape drive and DC blocking per instrument (a channel at a time; a
        // silent channel whose filter is at rest is skipped: it would add exact zeros), the
        // sends summed per sample in channel order, then the room.
        let mut master = [0.0f32; MAX_BLOCK];
        let mut send_gain = [0.0f32; MAX_BLOCK];
        // A settled glide stays put (`glide(t, t)` is exactly `t`), so it is not stepped.
        if self.send == self.send_target && self.master == self.master_target {
            master[..n].fill(self.master);
            send_gain[..n].fill(self.send);
        } else {
            for i in 0..n {
                self.send = glide(self.send, self.send_target, self.coef);
                self.master = glide(self.master, self.master_target, self.coef);
                master[i] = self.master;
                send_gain[i] = self.send;
            }
        }
        let mut send = [[REVERB_BIAS; MAX_BLOCK]; 2];
        let coeff = self.dc_coeff;
        for c in 0..CHANNELS {
            let s = STEM_OF[c];
            let silent = inputs[c].0[..n].iter().all(|&x| x == 0.0)
                && inputs[c].1[..n].iter().all(|&x| x == 0.0)
                && self.dc[s].iter().all(|f| f.x1 == 0.0 && f.y1 == 0.0);
            let settled = self.gain[c] == self.gain_target[c];
            if silent {
                if !settled {
                    for _ in 0..n {
                        self.gain[c] = glide(self.gain[c], self.gain_target[c], self.coef);
                    }
                }
                self.block[s][0][..n].fill(0.0);
                self.block[s][1][..n].fill(0.0);
                continue;
            }
            let d = DRIVE[c];
            let (dn, dk) = (1.0 + d, 1.0 + 0.5 * d);
            // The gain per sample (a glide is a recurrence), then the drive over the whole
            // block (no recurrence: it runs as vector arithmetic), then each side's DC blocker.
            let mut g = [0.0f32; MAX_BLOCK];
            for (gi, &m) in g[..n].iter_mut().zip(&master[..n]) {
                if !settled {
                    self.gain[c] = glide(self.gain[c], self.gain_target[c], self.coef);
                }
                *gi = self.gain[c] * m;
            }
            for (k, x) in [inputs[c].0, inputs[c].1].into_iter().enumerate() {
                let mut v = [0.0f32; MAX_BLOCK];
                if d > 0.0 {
                    for i in 0..n {
                        v[i] = soft_clip(x[i] * dn) / dn * dk * g[i];
                    }
                } else {
                    for i in 0..n {
                        v[i] = x[i] * g[i];
                    }
                }
                let f = &mut self.dc[s][k];
                for i in 0..n {
                    let y = f.tick(v[i], coeff);
                    self.block[s][k][i] = y;
                    send[k][i] += y * SEND[c];
                }
            }
        }
        for i in 0..n {
            send[0][i] *= send_gain[i];
            send[1][i] *= send_gain[i];
        }
        let mut wet = [[0.0f32; MAX_BLOCK]; 2];
        let [wet_l, wet_r] = &mut wet;
        self.reverb.process(&send[0], &send[1], wet_l, wet_r, n);
        for i in 0..n {
            self.block[ROOM][0][i] = self.dc[ROOM][0].tick(wet[0][i], coeff);
            self.block[ROOM][1][i] = self.dc[ROOM][1].tick(wet[1][i], coeff);
        }
        // Stage 2: the analog grain wears every stem alike (nothing at all when bypassed).
        if !self.grain.is_bypassed() {
            self.grain.process(&mut self.block, n, GRAIN_NOISE_STEM);
        }
        // Stage 3: the limiter, its look-ahead delay and the declicker, a stem at a time.
        // The limiter's gain follows the whole mix (instruments in channel order, then the
        // room, summed per sample in that order); a silent stem adds nothing and is skipped.
        let mut quiet = [false; STEMS];
        for (s, q) in quiet.iter_mut().enumerate() {
            *q = self.block[s][0][..n].iter().all(|&x| x == 0.0)
                && self.block[s][1][..n].iter().all(|&x| x == 0.0);
        }
        let mut sum = [[0.0f32; MAX_BLOCK]; 2];
        for s in STEM_OF.into_iter().chain([ROOM]) {
            if quiet[s] {
                continue;
            }
            for k in 0..2 {
                for (acc, &x) in sum[k][..n].iter_mut().zip(&self.block[s][k][..n]) {
                    *acc += x;
                }
            }
        }
        let mut gain = [0.0f32; MAX_BLOCK];
        self.limiter
            .gain_block(&sum[0][..n], &sum[1][..n], &mut gain[..n]);
        // Each stem delayed, limited and declicked; the main mix sums them in stem order. A
        // stem that is silent, with silence in its delay and no declick tail, is all zeros.
        let mut main = [[0.0f32; MAX_BLOCK]; 2];
        let delayed = &mut self.delayed;
        let mut sounding = [false; STEMS];
        for s in 0..STEMS {
            if quiet[s] && self.delays[s].is_clear() && self.declick[s] == [0.0; 2] {
                continue;
            }
            sounding[s] = true;
            let mut line = [[0.0f32; MAX_BLOCK]; 2];
            let [bl, br] = &self.block[s];
            self.delays[s].process([bl, br], &mut line, n);
            let dc = &mut self.declick[s];
            for i in 0..n {
                // After a jump each stem's old tail fades out over ~3 ms (per stem, so the
                // stems still sum to the main mix).
                let d = [line[0][i] * gain[i] + dc[0], line[1][i] * gain[i] + dc[1]];
                dc[0] = flush(dc[0] * self.declick_decay);
                dc[1] = flush(dc[1] * self.declick_decay);
                delayed[s][0][i] = d[0];
                delayed[s][1][i] = d[1];
                main[0][i] += d[0];
                main[1][i] += d[1];
            }
        }
        // The safety clamp (rarely engaged: the limiter's gain lags a sudden peak by a
        // little) scales the stems too, so they always sum to the main mix.
        let scale = |x: f32| {
            if x.abs() > CEILING {
                CEILING / x.abs()
            } else {
                1.0
            }
        };
        let mut clamp = [[1.0f32; MAX_BLOCK]; 2];
        for i in 0..n {
            clamp[0][i] = scale(main[0][i]);
            clamp[1][i] = scale(main[1][i]);
            let mut l = flush((main[0][i] * clamp[0][i]).clamp(-CEILING, CEILING));
            let mut r = flush((main[1][i] * clamp[1][i]).clamp(-CEILING, CEILING));
            if !l.is_finite() {
                l = 0.0;
            }
            if !r.is_finite() {
                r = 0.0;
            }
            self.peak[0] = self.peak[0].max(l.abs());
            self.peak[1] = self.peak[1].max(r.abs());
            out.left[i] = l;
            out.right[i] = r;
        }
        for s in 0..STEMS {
            if !sounding[s] {
                if n > 0 {
                    self.last_out[s] = [0.0; 2];
                }
                if let Some((sl, sr)) = out.stems[s].as_mut() {
                    sl[..n].fill(0.0);
                    sr[..n].fill(0.0);
                }
                continue;
            }
            let mut last = [0.0f32; 2];
            for k in 0..2 {
                for i in 0..n {
                    last[k] = flush(delayed[s][k][i] * clamp[k][i]);
                    delayed[s][k][i] = last[k];
                }
            }
            if n > 0 {
                self.last_out[s] = last;
            }
            if let Some((sl, sr)) = out.stems[s].as_mut() {
                sl[..n].copy_from_slice(&delayed[s][0][..n]);
                sr[..n].copy_from_slice(&delayed[s][1][..n]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inline_dc_blocker_is_fundsps_bit_for_bit() {
        use fundsp::audiounit::AudioUnit;
        use fundsp::prelude32::dcblock_hz;
        for sr in [44_100.0f32, 48_000.0, 96_000.0] {
            let mut theirs: Box<dyn AudioUnit> = Box::new(dcblock_hz(DC_CUTOFF_HZ));
            theirs.set_sample_rate(sr as f64);
            let coeff = 1.0 - core::f32::consts::TAU / sr * DC_CUTOFF_HZ;
            let mut ours = DcBlock::default();
            let mut rng = crate::dsp::Rng::new(7);
            for i in 0..20_000 {
                let x = rng.bipolar() * 0.5 + if i % 3000 < 1500 { 0.3 } else { -0.2 };
                assert_eq!(
                    theirs.filter_mono(x).to_bits(),
                    ours.tick(x, coeff).to_bits()
                );
            }
        }
    }

    #[test]
    fn gains_gliding_to_zero_land_on_zero_not_in_the_subnormals() {
        let mut m = Mixer::new(48_000.0);
        m.set_levels([0.0; CHANNELS], 0.5, 0.0);
        m.reset();
        // Mute everything and dry the room: every gain glides to 0.
        m.set_levels([-80.0; CHANNELS], 0.0, 0.0);
        let x = [0.1f32; 64];
        let inputs: [(&[f32], &[f32]); CHANNELS] = [(&x, &x); CHANNELS];
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        for _ in 0..(48_000 / 64) {
            let mut out = MixTarget {
                left: &mut l,
                right: &mut r,
                stems: Default::default(),
            };
            m.process(&inputs, &mut out);
        }
        assert!(m.gain.iter().all(|&g| g == 0.0), "{:?}", m.gain);
        assert_eq!(m.send, 0.0);
        for v in l.iter().chain(&r) {
            assert!(
                *v == 0.0 || v.abs() >= f32::MIN_POSITIVE,
                "subnormal output {v:e}"
            );
        }
    }
}

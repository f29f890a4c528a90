//! The strings: a small section (three players per chord note: left, right and centre desks),
//! not a synth bed.
//!
//! Each player bows a band-limited sawtooth (the Helmholtz motion of a bowed string) with its
//! own tuning, slow pitch wander and vibrato (its own rate and depth, coming in a moment after
//! the bow starts, as a player's does), and bow noise: rosin hiss shaped by the string's own
//! motion (noise gated by the sawtooth's slip), loudest as the bow bites. Under tension the
//! section plays tremolo as bowed strokes, each player on their own: every stroke starts with
//! a bite (a fast rise and a noise burst), then relaxes until the bow turns; players' stroke
//! rates drift apart, so it shimmers as a section rather than pumping like an LFO. Through a
//! small body (a few irregular resonances, different per side, like different instruments).
//!
//! Chords live in three banks: `set_chord` moves the new chord in over ~0.5 s (a bow change)
//! in a free bank while the old one fades out (a bank still sounding is first faded out
//! quickly, so nothing ever jumps). When the section enters from silence it swells in (a
//! crescendo over ~1.6 s into the phrase), and every held chord eases back a little after
//! its peak (the bow slowing). `set_level` glides slowly; `set_tension` brings the tremolo
//! and widens the tuning into a queasy cluster.
//!
//! Real time: no heap at all; each player runs a block at a time over stack arrays; everything
//! allocated in `new`.

use super::common::{
    lowpass, safety, saw_blep, sin_turns, wrap01, DcBlock, Lowpass, Smooth, SvfBank,
};
use crate::dsp::util::midi_hz;
use crate::dsp::{Rng, MAX_BLOCK};

const SEED: u64 = 0x9AD0_0005;
const MAX_NOTES: usize = 6;
const BANKS: usize = 3;
const SECTION: usize = 3;
const OUT_GAIN: f32 = 0.075;
/// Chord crossfade time (s) and the quick fade used to free a still-sounding bank.
const XFADE_S: f32 = 0.5;
const QUICK_S: f32 = 0.03;
/// The entrance from silence: a crescendo this long (s).
const SWELL_S: f32 = 1.6;
/// After its peak a held chord eases back to this share of its level...
const SETTLE_TO: f32 = 0.8;
/// ...with this time constant (s).
const SETTLE_S: f32 = 2.5;
/// Vibrato: rate range (Hz), depth range (cents) and how long after the bow starts it is full.
const VIB_HZ: (f32, f32) = (4.8, 6.2);
const VIB_CENTS: (f32, f32) = (5.0, 11.0);
const VIB_ONSET_S: f32 = 0.45;
/// Bow noise: its level under a sustained stroke and at the bite of a stroke.
const BOW_NOISE: f32 = 0.06;
const BOW_BITE: f32 = 1.0;
/// Share of a tremolo stroke spent biting (rising), then relaxing until the bow turns.
const STROKE_BITE: f32 = 0.14;
/// The section's tone, a lowpass ahead of the body: its corner (Hz) at rest, and what the
/// level and the tension (each 0..1) add to it. Darker when soft, more open with tension.
/// (1400 + 1800 + 1200 left the section 6-8 dB under FluidR3's strings at 2-8 kHz.)
const TONE_HZ: (f32, f32, f32) = (2200.0, 3000.0, 400.0);
/// Body resonances per side (Hz, Q, gain): a few irregular peaks like wooden instruments.
const BODY: [[(f32, f32, f32); 4]; 2] = [
    [
        (285.0, 2.5, 0.3),
        (455.0, 2.0, 0.35),
        (1050.0, 1.8, 0.18),
        (2700.0, 1.2, 0.8),
    ],
    [
        (300.0, 2.5, 0.3),
        (520.0, 2.0, 0.3),
        (1200.0, 1.8, 0.2),
        (3050.0, 1.2, 0.7),
    ],
];
/// The body's resonances as one bank's lanes, both sides.
const BODY_LANES: usize = BODY.len() * BODY_SIDE;
/// Resonances per side: lane `i` is side `i / BODY_SIDE`'s resonance `i % BODY_SIDE`.
const BODY_SIDE: usize = BODY[0].len();

/// `BODY` seen flat, as the bank's lanes.
const fn body_lane(i: usize) -> (f32, f32, f32) {
    BODY[i / BODY_SIDE][i % BODY_SIDE]
}

/// A player's pitch state, kept at control rate (the bow's per-sample state is in `Bows`).
#[derive(Clone, Copy, Debug)]
struct Player {
    /// Slow pitch wander (phase, rate in turns per sample).
    wander: f32,
    wander_rate: f32,
    /// Vibrato (phase, rate in turns per sample, depth in cents).
    vib: f32,
    vib_rate: f32,
    vib_cents: f32,
    /// The phase increment (turns per sample) the next control point lands on.
    dt_next: f32,
}

impl Player {
    const IDLE: Player = Player {
        wander: 0.0,
        wander_rate: 0.0,
        vib: 0.0,
        vib_rate: 0.0,
        vib_cents: 0.0,
        dt_next: 0.0,
    };
}

/// Players side by side in lanes of eight (player `k * SECTION + j` is note `k`'s desk `j`),
/// so each step of a bow runs on eight players at once.
const LANES: usize = 8;
const GROUPS: usize = (MAX_NOTES * SECTION).div_ceil(LANES);
type Lane = [f32; LANES];

/// Where note `k`'s desk `j` sits: (lane group, lane).
#[inline]
fn lane_of(k: usize, j: usize) -> (usize, usize) {
    let p = k * SECTION + j;
    (p / LANES, p % LANES)
}

/// Every player's per-sample bow state, lane by lane.
#[derive(Clone, Copy, Debug)]
struct Bows {
    /// Sawtooth phase (turns).
    ph: [Lane; GROUPS],
    /// Phase increment now and its step per sample (pitch is ramped between control points).
    dt: [Lane; GROUPS],
    dt_step: [Lane; GROUPS],
    /// Tremolo stroke (phase 0..1 per stroke) and the player's own stroke-rate scale.
    stroke: [Lane; GROUPS],
    stroke_scale: [Lane; GROUPS],
    /// One-pole state of the bow noise, and each player's own noise source (xorshift32,
    /// seeded when the note starts).
    hiss: [Lane; GROUPS],
    noise: [[u32; LANES]; GROUPS],
    /// Gains into the left and right sides (desk placement times the note's balance; zero
    /// in unused lanes).
    gl: [Lane; GROUPS],
    gr: [Lane; GROUPS],
}

impl Bows {
    const IDLE: Bows = Bows {
        ph: [[0.0; LANES]; GROUPS],
        // (An unused lane runs a harmless slow sawtooth into zero gains.)
        dt: [[0.01; LANES]; GROUPS],
        dt_step: [[0.0; LANES]; GROUPS],
        stroke: [[0.0; LANES]; GROUPS],
        stroke_scale: [[1.0; LANES]; GROUPS],
        hiss: [[0.0; LANES]; GROUPS],
        noise: [[1; LANES]; GROUPS],
        gl: [[0.0; LANES]; GROUPS],
        gr: [[0.0; LANES]; GROUPS],
    };
}

#[derive(Clone, Copy, Debug)]
struct Bank {
    notes: [u8; MAX_NOTES],
    /// The notes' frequencies (Hz).
    hz: [f32; MAX_NOTES],
    count: usize,
    players: [[Player; SECTION]; MAX_NOTES],
    bows: Bows,
    gain: f32,
    target: f32,
    step: f32,
    /// The entrance is a swell (crescendo shape) rather than a crossfade.
    swell: bool,
    /// Eases from 1 toward `SETTLE_TO` once the chord has peaked.
    settle: f32,
    /// Seconds since the notes started (vibrato and bite onsets), capped.
    age: f32,
    /// A chord waiting for this bank to fade out first.
    pending: [u8; MAX_NOTES],
    pending_count: usize,
    has_pending: bool,
}

impl Bank {
    const EMPTY: Bank = Bank {
        notes: [0; MAX_NOTES],
        hz: [0.0; MAX_NOTES],
        count: 0,
        players: [[Player::IDLE; SECTION]; MAX_NOTES],
        bows: Bows::IDLE,
        gain: 0.0,
        target: 0.0,
        step: 0.0,
        swell: false,
        settle: 1.0,
        age: 0.0,
        pending: [0; MAX_NOTES],
        pending_count: 0,
        has_pending: false,
    };
}

/// The strings section. See the module docs.
pub struct Pad {
    sr: f32,
    rng: Rng,
    banks: [Bank; BANKS],
    /// Bank holding the newest chord.
    current: usize,
    level: Smooth,
    tension: Smooth,
    lp: [Lowpass; 2],
    /// The body's resonances, both sides, laid out as `body_lane` says.
    body: SvfBank<BODY_LANES>,
    /// Each lane's gain (`BODY`'s gain over its Q).
    body_gain: [f32; BODY_LANES],
    dc: [DcBlock; 2],
    lp_at: f32,
    settle_k: f32,
    hiss_a: f32,
    /// Samples since the last pitch control point (0..CTRL), counted on the timeline, so
    /// the control points fall on the same samples whatever the block size.
    clock: u32,
    /// `render`'s per-sample working arrays (7 KB), kept here so a block clears only the
    /// samples it renders instead of zeroing them all on the stack on every call. Taken out
    /// while `render` runs (a pointer move) and put back.
    work: Option<Box<Work>>,
}

/// `Pad::render`'s working arrays (see `Pad::work`).
struct Work {
    ctl: [Controls; MAX_BLOCK],
    bowed: [bool; MAX_BLOCK],
    gain: [[f32; MAX_BLOCK]; BANKS],
    bite: [[f32; MAX_BLOCK]; BANKS],
    vib_on: [[f32; MAX_BLOCK]; BANKS],
    acc: [[Lane; MAX_BLOCK]; 2],
}

/// Pitch (detune, wander, vibrato) is computed every this many samples and ramped linearly
/// in between: a 5-6 Hz vibrato sampled at 3 kHz is within a thousandth of a cent.
const CTRL: u32 = 16;

/// Depth of each player's slow pitch wander (cents).
const WANDER_CENTS: f32 = 3.0;
/// Per-player detune in cents at zero tension (left, right, centre).
const DETUNE: [f32; SECTION] = [-6.0, 5.0, 0.8];

/// 2^(cents/1200) for the small offsets players make (|cents| < 100): a quadratic is exact to
/// a few thousandths of a cent and much cheaper than `exp2` per player per sample.
#[inline]
fn cents_ratio(cents: f32) -> f32 {
    let x = cents * (core::f32::consts::LN_2 / 1200.0);
    1.0 + x * (1.0 + 0.5 * x)
}

/// A player's phase increment (turns per sample) for the note `f_note` at the player's
/// current wander and vibrato phases.
#[inline]
fn player_dt(
    pl: &Player,
    j: usize,
    f_note: f32,
    detune_scale: f32,
    vib_on: f32,
    inv_sr: f32,
) -> f32 {
    let cents = DETUNE[j] * detune_scale
        + WANDER_CENTS * sin_turns(pl.wander)
        + pl.vib_cents * vib_on * sin_turns(pl.vib);
    (f_note * cents_ratio(cents) * inv_sr).min(0.45)
}

impl Pad {
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate;
        let mut p = Self {
            sr,
            rng: Rng::new(SEED),
            banks: [Bank::EMPTY; BANKS],
            current: 0,
            level: Smooth::new(sr, 0.4, 0.0),
            tension: Smooth::new(sr, 0.5, 0.0),
            lp: [lowpass(sr, TONE_HZ.0, 0.55), lowpass(sr, TONE_HZ.0, 0.55)],
            body: SvfBank::bandpass(
                sr,
                core::array::from_fn(|i| (body_lane(i).0, body_lane(i).1)),
            ),
            body_gain: core::array::from_fn(|i| body_lane(i).2 / body_lane(i).1),
            work: Some(Box::new(Work {
                ctl: [Controls::ZERO; MAX_BLOCK],
                bowed: [false; MAX_BLOCK],
                gain: [[0.0; MAX_BLOCK]; BANKS],
                bite: [[0.0; MAX_BLOCK]; BANKS],
                vib_on: [[0.0; MAX_BLOCK]; BANKS],
                acc: [[[0.0; LANES]; MAX_BLOCK]; 2],
            })),
            dc: [DcBlock::new(sr, 12.0), DcBlock::new(sr, 12.0)],
            lp_at: -1.0,
            settle_k: 1.0 - (-1.0 / (SETTLE_S * sr)).exp(),
            hiss_a: super::common::OnePole::new(sr, 5000.0).a,
            clock: 0,
        };
        p.reset();
        p
    }

    pub fn reset(&mut self) {
        self.rng = Rng::new(SEED);
        self.banks = [Bank::EMPTY; BANKS];
        self.current = 0;
        self.level.set_now(0.0);
        self.tension.set_now(0.0);
        for k in 0..2 {
            self.lp[k].reset();
            self.dc[k].reset();
        }
        self.body.reset();
        self.lp_at = -1.0;
        self.clock = 0;
    }

    /// Up to 6 notes (extra notes are ignored); crossfades from the previous chord. An empty
    /// slice fades the section out (the bows lift).
    pub fn set_chord(&mut self, notes: &[u8]) {
        let count = notes.len().min(MAX_NOTES);
        let mut new = [0u8; MAX_NOTES];
        for (d, s) in new.iter_mut().zip(notes.iter()) {
            *d = (*s).clamp(24, 108);
        }
        // Same chord as the one sounding: nothing to do.
        let cur = &self.banks[self.current];
        if cur.target > 0.0
            && !cur.has_pending
            && cur.count == count
            && cur.notes[..count] == new[..count]
        {
            return;
        }
        // From silence (nothing sounding or on its way in): the section swells in.
        let silent = self
            .banks
            .iter()
            .all(|b| b.gain <= 0.0 && (b.target <= 0.0 || b.has_pending));
        let xf_step = 1.0 / (XFADE_S * self.sr);
        // Fade every bank out; the new chord goes into the quietest one.
        for b in self.banks.iter_mut() {
            b.target = 0.0;
            b.step = xf_step;
            b.has_pending = false;
        }
        if count == 0 {
            return;
        }
        let mut pick = 0;
        for i in 1..BANKS {
            if self.banks[i].gain < self.banks[pick].gain {
                pick = i;
            }
        }
        self.current = pick;
        let b = &mut self.banks[pick];
        b.pending = new;
        b.pending_count = count;
        b.has_pending = true;
        b.swell = silent;
        if b.gain > 0.0 {
            // Still audible: fade it out quickly before the notes change.
            b.step = 1.0 / (QUICK_S * self.sr);
        }
    }

    /// 0..1 overall level (glides slowly, like bows settling on the strings).
    pub fn set_level(&mut self, level: f32) {
        if level.is_finite() {
            self.level.target = level.clamp(0.0, 1.0);
        }
    }

    /// 0..1: bowed tremolo (6-8 strokes a second) and a wider cluster as tension rises.
    pub fn set_tension(&mut self, tension: f32) {
        if tension.is_finite() {
            self.tension.target = tension.clamp(0.0, 1.0);
        }
    }

    /// The section's output stage, per side: the tone lowpass, the body's resonances, DC
    /// block and safety. Fed zeros once nothing is bowed, so the tails ring out the same way.
    #[inline(always)]
    fn finish(&mut self, input: [f32; 2]) -> [f32; 2] {
        let x = [self.lp[0].tick(input[0]), self.lp[1].tick(input[1])];
        let bands = self.body.tick(core::array::from_fn(|i| x[i / BODY_SIDE]));
        let mut out = [0.0f32; 2];
        for c in 0..2 {
            let mut y = x[c];
            for j in c * BODY_SIDE..(c + 1) * BODY_SIDE {
                y += self.body_gain[j] * bands[j];
            }
            out[c] = safety(self.dc[c].tick(y));
        }
        out
    }

    /// Silent and at rest: no bank sounding or waiting and every output filter gated to zero,
    /// so a block would add exact zeros and change nothing but the level and tension glides.
    fn asleep(&self) -> bool {
        self.banks
            .iter()
            .all(|b| b.gain <= 0.0 && !b.has_pending && b.target <= 0.0)
            && self.lp.iter().all(|f| f.asleep())
            && self.body.asleep()
            && self.dc.iter().all(|f| f.asleep())
    }

    crate::dsp::simd::wide_method! {
        /// ADDS the section (wide stereo) into `l`, `r` (len <= MAX_BLOCK).
        ///
        /// Three passes over the block: the section's controls and each bank's gain per sample;
        /// then each player's whole run of samples at once (its state stays in registers, its
        /// hiss comes from its own noise stream); then the output stage per sample.
        pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) = render_avx2 / render_portable
    }

    #[inline(always)]
    fn render_portable(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len()).min(MAX_BLOCK);
        let sr = self.sr;
        let inv_sr = 1.0 / sr;
        // The pitch control points are counted on the timeline, asleep or not (block-size
        // independence): this block's sample `i` is one when `clock0 + i` is a multiple of `CTRL`.
        let clock0 = self.clock;
        self.clock = (clock0 + (n as u32 % CTRL)) % CTRL;
        if self.asleep() {
            // Nothing bowed, nothing ringing: the block is exact zeros. The level and tension
            // glide on as they would have, so the next note starts from the same place.
            for _ in 0..n {
                self.level.tick();
                self.tension.tick();
            }
            return;
        }
        let Some(mut work) = self.work.take() else {
            return;
        };
        let Work {
            ctl,
            bowed,
            gain,
            bite,
            vib_on,
            acc,
        } = &mut *work;
        // Pass 1: per sample, the section's controls and each bank's gain, bite and vibrato
        // (`ctl` and `bowed` are written at every sample below; the rest start from zero).
        for b in 0..BANKS {
            gain[b][..n].fill(0.0);
            bite[b][..n].fill(0.0);
            vib_on[b][..n].fill(0.0);
        }
        // Where a bank's new chord starts (n: none this block), and whether its old notes
        // sound at any sample before that.
        let mut swap_at = [n; BANKS];
        let mut heard = [false; BANKS];
        for i in 0..n {
            let level = self.level.tick();
            let tension = self.tension.tick();
            ctl[i] = Controls {
                level,
                tension,
                detune_scale: 1.0 + 3.5 * tension * tension,
                trem_rate: (6.0 + 2.0 * tension) * inv_sr,
                trem_depth: 0.6 * tension * tension,
            };
            bowed[i] = self
                .banks
                .iter()
                .any(|b| b.gain > 0.0 || b.has_pending || b.target > 0.0);
            if !bowed[i] {
                continue;
            }
            for (bi, b) in self.banks.iter_mut().enumerate() {
                // Gain ramps (linear, per sample).
                if b.gain < b.target {
                    b.gain = (b.gain + b.step).min(b.target);
                } else if b.gain > b.target {
                    b.gain = (b.gain - b.step).max(b.target);
                }
                if b.has_pending && b.gain <= 0.0 {
                    // The new chord starts here; its players are set up in pass 2, once the
                    // old notes have played up to this sample.
                    b.has_pending = false;
                    b.target = 1.0;
                    b.step = 1.0 / (if b.swell { SWELL_S } else { XFADE_S } * sr);
                    b.settle = 1.0;
                    b.age = 0.0;
                    swap_at[bi] = i;
                }
                if b.gain <= 0.0 {
                    continue;
                }
                if swap_at[bi] == n {
                    heard[bi] = true;
                }
                if b.age < 4.0 {
                    b.age += inv_sr;
                }
                if b.gain >= b.target && b.target > 0.0 {
                    b.settle += (SETTLE_TO - b.settle) * self.settle_k;
                }
                // Entrance: a swell grows like a crescendo (slow, then opening up); a bow
                // change crossfades equal-power-ish.
                gain[bi][i] = if b.swell && b.target > 0.0 {
                    b.gain * b.gain
                } else {
                    b.gain * b.gain * (3.0 - 2.0 * b.gain)
                } * b.settle;
                vib_on[bi][i] = (b.age / VIB_ONSET_S).min(1.0);
                // The bow bites as the notes start: a burst of rosin that settles.
                bite[bi][i] = BOW_BITE * (1.0 - (b.age * 6.0).min(1.0));
            }
        }
        // Pass 2: each player's run of samples, summed into the two sides.
        acc[0][..n].fill([0.0; LANES]);
        acc[1][..n].fill([0.0; LANES]);
        for bi in 0..BANKS {
            let swap = swap_at[bi];
            let lanes = BankLanes {
                gain: &gain[bi],
                bite: &bite[bi],
                vib_on: &vib_on[bi],
            };
            if heard[bi] && swap > 0 {
                self.play_bank(bi, 0..swap.min(n), ctl, &lanes, clock0, acc);
            }
            if swap < n {
                self.start_chord(bi, ctl[swap].detune_scale);
                self.play_bank(bi, swap + 1..n, ctl, &lanes, clock0, acc);
            }
        }
        // Pass 3: the output stage.
        for i in 0..n {
            if !bowed[i] {
                // Nothing bowed: only the filters' tails remain.
                let out = self.finish([0.0, 0.0]);
                l[i] += out[0];
                r[i] += out[1];
                continue;
            }
            let c = &ctl[i];
            let cutoff = TONE_HZ.0 + TONE_HZ.1 * c.level + TONE_HZ.2 * c.tension;
            if (cutoff - self.lp_at).abs() > 10.0 {
                for f in &mut self.lp {
                    f.set(cutoff, 0.55);
                }
                self.lp_at = cutoff;
            }
            let amp = c.level * OUT_GAIN;
            let (sl, sr_) = (lane_sum(&acc[0][i]), lane_sum(&acc[1][i]));
            let out = self.finish([sl * amp, sr_ * amp]);
            l[i] += out[0];
            r[i] += out[1];
        }
        self.work = Some(work);
    }

    /// The pending chord moves into bank `bi`: its notes, and each player's own tuning,
    /// wander, vibrato, stroke and noise drawn afresh.
    fn start_chord(&mut self, bi: usize, detune_scale: f32) {
        let inv_sr = 1.0 / self.sr;
        let b = &mut self.banks[bi];
        b.notes = b.pending;
        b.count = b.pending_count;
        b.bows = Bows::IDLE;
        let w = &mut b.bows;
        for k in 0..b.count {
            b.hz[k] = midi_hz(b.notes[k] as f32);
            // Higher notes a little softer (sections balance to the bass).
            let note_gain = 1.0 - 0.006 * (b.notes[k] as f32 - 48.0).max(0.0);
            for (j, pl) in b.players[k].iter_mut().enumerate() {
                let (g, l) = lane_of(k, j);
                w.ph[g][l] = self.rng.f32();
                pl.wander = self.rng.f32();
                pl.wander_rate = self.rng.range(0.07, 0.23) * inv_sr;
                pl.vib = self.rng.f32();
                pl.vib_rate = self.rng.range(VIB_HZ.0, VIB_HZ.1) * inv_sr;
                pl.vib_cents = self.rng.range(VIB_CENTS.0, VIB_CENTS.1);
                w.stroke[g][l] = self.rng.f32();
                w.stroke_scale[g][l] = self.rng.range(0.9, 1.1);
                w.hiss[g][l] = 0.0;
                // (xorshift32 needs a non-zero state.)
                w.noise[g][l] = (self.rng.next_u64() >> 32) as u32 | 1;
                let dt = player_dt(pl, j, b.hz[k], detune_scale, 0.0, inv_sr);
                w.dt[g][l] = dt;
                w.dt_step[g][l] = 0.0;
                pl.dt_next = dt;
                w.gl[g][l] = DESK_PAN[j].0 * note_gain;
                w.gr[g][l] = DESK_PAN[j].1 * note_gain;
            }
        }
    }

    /// Bank `bi`'s players over the samples `range` of this block, added lane by lane into
    /// `acc` (left, right; summed across lanes by the caller). Inlined into `render`, so its
    /// eight lanes are one AVX2 register where `render` runs wide (`dsp::simd`).
    #[inline(always)]
    fn play_bank(
        &mut self,
        bi: usize,
        range: core::ops::Range<usize>,
        ctl: &[Controls; MAX_BLOCK],
        lanes: &BankLanes,
        clock0: u32,
        acc: &mut [[Lane; MAX_BLOCK]; 2],
    ) {
        let inv_sr = 1.0 / self.sr;
        let hiss_a = self.hiss_a;
        let b = &mut self.banks[bi];
        let groups = (b.count * SECTION).div_ceil(LANES);
        let mut at = range.start;
        while at < range.end {
            if (clock0 + at as u32).is_multiple_of(CTRL) {
                // A control point: every player lands on its last target and aims at the
                // next control point's pitch.
                let c = &ctl[at];
                for k in 0..b.count {
                    for (j, pl) in b.players[k].iter_mut().enumerate() {
                        let (g, l) = lane_of(k, j);
                        let dt = pl.dt_next;
                        pl.wander = wrap01(pl.wander + pl.wander_rate * CTRL as f32);
                        pl.vib = wrap01(pl.vib + pl.vib_rate * CTRL as f32);
                        pl.dt_next =
                            player_dt(pl, j, b.hz[k], c.detune_scale, lanes.vib_on[at], inv_sr);
                        b.bows.dt[g][l] = dt;
                        b.bows.dt_step[g][l] = (pl.dt_next - dt) * (1.0 / CTRL as f32);
                    }
                }
            }
            // Up to the next control point (or the end of the range).
            let to_ctrl = CTRL - (clock0 + at as u32) % CTRL;
            let end = range.end.min(at + to_ctrl as usize);
            for g in 0..groups {
                bow_lanes(&mut b.bows, g, at..end, ctl, lanes, hiss_a, acc);
            }
            at = end;
        }
    }
}

/// Eight players' bows (lane group `g`) over the samples `range`: sawtooth, tremolo strokes
/// and bow noise, added into `acc` per lane. Written without branches, so it runs as vector
/// arithmetic across the lanes.
#[inline(always)]
fn bow_lanes(
    w: &mut Bows,
    g: usize,
    range: core::ops::Range<usize>,
    ctl: &[Controls; MAX_BLOCK],
    lanes: &BankLanes,
    hiss_a: f32,
    acc: &mut [[Lane; MAX_BLOCK]; 2],
) {
    let (mut ph, mut dt, dt_step) = (w.ph[g], w.dt[g], w.dt_step[g]);
    let (mut stroke, stroke_scale) = (w.stroke[g], w.stroke_scale[g]);
    let (mut hiss, mut noise) = (w.hiss[g], w.noise[g]);
    let (gl, gr) = (w.gl[g], w.gr[g]);
    let [acc_l, acc_r] = acc;
    for i in range {
        let c = &ctl[i];
        let (gain, bite) = (lanes.gain[i], lanes.bite[i]);
        let trem = c.trem_depth > 0.0;
        for l in 0..LANES {
            let d = dt[l];
            dt[l] += dt_step[l];
            let t = ph[l];
            let saw = saw_blep(t, d);
            let p = t + d;
            ph[l] = if p >= 1.0 { p - 1.0 } else { p };
            // Tremolo: this player's own strokes. A stroke's loudness over its phase: the
            // bite rises fast, then the bow relaxes until it turns.
            let s_next = stroke[l] + c.trem_rate * stroke_scale[l];
            let s_next = if s_next >= 1.0 { s_next - 1.0 } else { s_next };
            stroke[l] = if trem { s_next } else { stroke[l] };
            let sp = stroke[l];
            let xb = sp * (1.0 / STROKE_BITE);
            let rising = 0.35 + 0.65 * xb * xb * (3.0 - 2.0 * xb);
            let relaxing = 1.0 - 0.3 * (sp - STROKE_BITE) * (1.0 / (1.0 - STROKE_BITE));
            let biting = sp < STROKE_BITE;
            let shape = if biting { rising } else { relaxing };
            let stroke_gain = if trem {
                1.0 - c.trem_depth + c.trem_depth * shape
            } else {
                1.0
            };
            let stroke_bite = if trem && biting {
                c.trem_depth * (1.0 - xb)
            } else {
                0.0
            };
            // Bow noise: hiss gated by the string's slip (the saw's fast edge end).
            let mut z = noise[l];
            z ^= z << 13;
            z ^= z >> 17;
            z ^= z << 5;
            noise[l] = z;
            let n = ((z >> 8) as i32) as f32 * (2.0 / (1u32 << 24) as f32) - 1.0;
            hiss[l] += hiss_a * (n - hiss[l]);
            let slip = 0.55 + 0.45 * saw;
            let h = hiss[l] * slip * (BOW_NOISE + bite + 0.6 * stroke_bite);
            let s = (saw + h) * stroke_gain * gain;
            acc_l[i][l] += gl[l] * s;
            acc_r[i][l] += gr[l] * s;
        }
    }
    w.ph[g] = ph;
    w.dt[g] = dt;
    w.stroke[g] = stroke;
    w.hiss[g] = hiss;
    w.noise[g] = noise;
}

/// The section's controls at one sample of the block.
#[derive(Clone, Copy)]
struct Controls {
    level: f32,
    tension: f32,
    detune_scale: f32,
    trem_rate: f32,
    trem_depth: f32,
}

impl Controls {
    const ZERO: Controls = Controls {
        level: 0.0,
        tension: 0.0,
        detune_scale: 1.0,
        trem_rate: 0.0,
        trem_depth: 0.0,
    };
}

/// One bank's per-sample gain, bite and vibrato onset over the block.
struct BankLanes<'a> {
    gain: &'a [f32; MAX_BLOCK],
    bite: &'a [f32; MAX_BLOCK],
    vib_on: &'a [f32; MAX_BLOCK],
}

/// The lanes of one sample summed (pairwise, as vector code reduces).
#[inline]
fn lane_sum(x: &Lane) -> f32 {
    let a = [x[0] + x[4], x[1] + x[5], x[2] + x[6], x[3] + x[7]];
    (a[0] + a[2]) + (a[1] + a[3])
}

/// Where each desk sits (left, right gains): left, right, and the centre desk in both.
const DESK_PAN: [(f32, f32); SECTION] = [(1.0, 0.0), (0.0, 1.0), (0.6, 0.6)];

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    fn play(p: &mut Pad, sizes: &[usize], n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, sizes, |l, r| p.render(l, r))
    }

    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut p = Pad::new(sr);
        let at = [0, 0, 9001, 20000, 20500, 40000];
        let apply = |p: &mut Pad, i: usize| match i {
            0 => p.set_level(0.8),
            1 => p.set_chord(&[50, 53, 57, 60]),
            2 => p.set_chord(&[55, 59, 62, 65, 68]),
            3 => p.set_tension(1.0),
            4 => p.set_chord(&[48, 51, 55, 57, 62, 67]),
            _ => p.set_level(0.0),
        };
        play_script(&mut p, 60000, sizes, &at, apply, |p, l, r| p.render(l, r))
    }

    #[test]
    fn pad_finite_no_subnormals_all_rates() {
        for sr in RATES {
            let mut p = Pad::new(sr);
            p.set_level(1.0);
            p.set_tension(1.0);
            p.set_chord(&[24, 36, 60, 84, 96, 108]);
            let (l, r) = play(&mut p, &[64], (sr * 2.0) as usize);
            assert_clean(&l, "pad l");
            assert_clean(&r, "pad r");
            assert!(peak(&l) > 0.05, "pad silent at {sr}");
            p.set_level(0.0);
            let (l, r) = play(&mut p, &[64], (sr * 4.0) as usize);
            assert_clean(&l, "pad l tail");
            assert_clean(&r, "pad r tail");
        }
    }

    #[test]
    fn pad_reset_reproduces_output() {
        let mut p = Pad::new(48000.0);
        let run = |p: &mut Pad| {
            p.set_level(0.7);
            p.set_chord(&[48, 52, 55, 59]);
            let (mut l, r) = play(p, &[64], 30000);
            p.set_tension(0.8);
            p.set_chord(&[50, 53, 57]);
            let (l2, _) = play(p, &[64], 30000);
            l.extend(l2);
            l.extend(r);
            l
        };
        let a = run(&mut p);
        p.reset();
        assert_eq!(a, run(&mut p));
    }

    /// The section falls asleep between phrases; waking, it must be where it would have been
    /// whatever the block sizes (the pitch control points are counted on the timeline).
    #[test]
    fn pad_block_size_independent_across_a_rest() {
        let run = |sizes: &[usize]| {
            let mut p = Pad::new(48000.0);
            let at = [0, 0, 12000, 12001, 150_007];
            let apply = |p: &mut Pad, i: usize| match i {
                0 => p.set_level(0.8),
                1 => p.set_chord(&[50, 53, 57, 60]),
                2 => p.set_chord(&[]),
                3 => p.set_level(0.0),
                _ => {
                    p.set_level(0.8);
                    p.set_chord(&[55, 59, 62]);
                }
            };
            play_script(&mut p, 200_000, sizes, &at, apply, |p, l, r| p.render(l, r))
        };
        let a = run(&[64]);
        assert!(a[2 * 150_007..].iter().any(|&x| x != 0.0));
        assert_eq!(a, run(&[1, 7, 33]));
        assert_eq!(a, run(&[64, 5]));
    }

    #[test]
    fn pad_block_size_independent() {
        let a = scripted(44100.0, &[64]);
        assert_eq!(a, scripted(44100.0, &[1, 7, 33]));
        assert_eq!(a, scripted(44100.0, &[64, 5]));
    }

    #[test]
    fn pad_peak_below_one_and_level_moderate() {
        let mut p = Pad::new(48000.0);
        p.set_level(1.0);
        p.set_tension(1.0);
        let mut pk = 0.0f32;
        for chord in [
            [36u8, 43, 48, 55, 60, 67],
            [60, 61, 62, 63, 64, 65],
            [84, 86, 88, 90, 92, 94],
        ] {
            p.set_chord(&chord);
            let (l, r) = play(&mut p, &[64], 96000);
            pk = pk.max(peak(&l)).max(peak(&r));
        }
        assert!(pk < 1.0, "peak {pk}");
        let mut p = Pad::new(48000.0);
        p.set_level(0.8);
        p.set_chord(&[50, 53, 57, 60]);
        let (l, r) = play(&mut p, &[64], 144000);
        let m = peak(&l[96000..]).max(peak(&r[96000..]));
        assert!(m > 0.1 && m < 0.7, "level 0.8 peak {m}");
    }

    #[test]
    fn pad_is_wide_stereo() {
        let mut p = Pad::new(48000.0);
        p.set_level(0.8);
        p.set_chord(&[50, 53, 57, 60]);
        let (l, r) = play(&mut p, &[64], 96000);
        let (l, r) = (&l[48000..], &r[48000..]);
        let dot: f64 = l
            .iter()
            .zip(r)
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum();
        let el: f64 = l.iter().map(|a| (*a as f64).powi(2)).sum();
        let er: f64 = r.iter().map(|a| (*a as f64).powi(2)).sum();
        let corr = dot / (el * er).sqrt();
        assert!(corr < 0.8, "L/R correlation {corr}");
        assert!(
            (el / er).sqrt() > 0.7 && (el / er).sqrt() < 1.4,
            "unbalanced"
        );
    }

    #[test]
    fn pad_crossfade_has_no_jumps() {
        let sr = 48000.0;
        let chord = |k: u8| [48 + k % 5, 52 + k % 3, 55, 59 + k % 4];
        let roughest = |l: &[f32]| l.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
        // Typical roughness: the same chords changing at an ordinary pace (every 0.6 s, each
        // crossfading in with its bows' bite, whose rosin noise is the roughest thing in it).
        let mut p = Pad::new(sr);
        p.set_level(0.8);
        p.set_chord(&[50, 53, 57, 60]);
        play(&mut p, &[64], 48000);
        let mut typical = 0.0f32;
        for k in 0..20u8 {
            p.set_chord(&chord(k));
            let (l, _) = play(&mut p, &[64], 28800);
            typical = typical.max(roughest(&l));
        }
        // Rapid chord changes: every 50 ms, so banks still sounding are faded out quickly
        // and reused. (The bows' bite is the roughest thing here either way, so this bounds
        // the sound as a whole; the fade itself is held in the test below.)
        let mut p = Pad::new(sr);
        p.set_level(0.8);
        p.set_chord(&[50, 53, 57, 60]);
        let (l0, _) = play(&mut p, &[64], 48000);
        let mut worst = 0.0f32;
        let mut last = l0[l0.len() - 1];
        for k in 0..20u8 {
            p.set_chord(&chord(k));
            let (l, _) = play(&mut p, &[64], 2400);
            worst = worst.max((l[0] - last).abs());
            worst = worst.max(roughest(&l));
            last = l[l.len() - 1];
        }
        assert!(
            worst < typical * 2.0 + 1e-3,
            "jump {worst} vs typical {typical}"
        );
    }

    #[test]
    fn pad_bank_changes_notes_only_after_a_smooth_fade() {
        // The quick fade itself, sample by sample: however fast the chords come, a bank still
        // sounding fades out no faster than a bow lifting (10 ms; quicker is heard as a click,
        // and the bow's rosin noise in the rendered sound would hide it) and takes its new
        // notes only once silent.
        let sr = 48000.0;
        let slowest_ok = 1.0 / (0.010 * sr);
        let mut p = Pad::new(sr);
        p.set_level(0.8);
        p.set_chord(&[50, 53, 57, 60]);
        play(&mut p, &[64], 24000);
        let mut worst_step = 0.0f32;
        let (mut swaps, mut reused) = (0, 0);
        for (k, every) in [2400usize, 1200, 700, 300, 100, 2400, 40]
            .iter()
            .cycle()
            .take(40)
            .enumerate()
        {
            let k = k as u8;
            p.set_chord(&[48 + k % 5, 52 + k % 3, 55, 59 + k % 4]);
            for _ in 0..*every {
                let before: [(f32, [u8; MAX_NOTES]); BANKS] =
                    core::array::from_fn(|b| (p.banks[b].gain, p.banks[b].notes));
                play(&mut p, &[1], 1);
                for (b, &(g0, n0)) in before.iter().enumerate() {
                    let bank = &p.banks[b];
                    worst_step = worst_step.max((bank.gain - g0).abs());
                    if bank.notes != n0 {
                        swaps += 1;
                        // (The fade reaches silence on the sample the notes change.)
                        assert!(
                            bank.gain == 0.0,
                            "bank {b} changed notes while sounding (gain {})",
                            bank.gain
                        );
                        assert!(
                            g0 <= slowest_ok,
                            "bank {b} was cut from gain {g0} to silence in one sample"
                        );
                        if n0[0] != 0 {
                            reused += 1;
                        }
                    }
                }
            }
        }
        assert!(
            swaps >= 20 && reused >= 10,
            "swaps {swaps}, reused {reused}"
        );
        assert!(
            worst_step <= slowest_ok,
            "a bank's gain moved {worst_step} in one sample (a 10 ms fade moves {slowest_ok})"
        );
    }

    #[test]
    fn pad_fades_to_exact_silence() {
        let mut p = Pad::new(44100.0);
        p.set_level(1.0);
        p.set_tension(0.5);
        p.set_chord(&[40, 47, 52, 56]);
        play(&mut p, &[64], 44100 * 2);
        p.set_chord(&[]);
        let (l, r) = play(&mut p, &[64], 44100 * 3);
        assert!(l[l.len() - 2000..].iter().all(|v| *v == 0.0));
        assert!(r[r.len() - 2000..].iter().all(|v| *v == 0.0));
        p.set_chord(&[40, 47, 52, 56]);
        play(&mut p, &[64], 44100 * 2);
        p.set_level(0.0);
        let (l, _) = play(&mut p, &[64], 44100 * 8);
        assert!(l[l.len() - 2000..].iter().all(|v| *v == 0.0));
    }

    fn window_rms(x: &[f32], sr: f32, from_s: f32, len_s: f32) -> f32 {
        let a = (from_s * sr) as usize;
        let b = a + (len_s * sr) as usize;
        rms(&x[a..b])
    }

    #[test]
    fn pad_enters_with_a_swell() {
        let sr = 48000.0;
        let mut p = Pad::new(sr);
        p.level.set_now(0.8);
        p.set_level(0.8);
        p.set_chord(&[50, 53, 57, 60]);
        let (l, _) = play(&mut p, &[64], (sr * 3.0) as usize);
        let w = |t: f32| window_rms(&l, sr, t, 0.2);
        let (a, b, c, d) = (w(0.2), w(0.7), w(1.2), w(2.2));
        assert!(
            a < b && b < c && c <= d * 1.05,
            "no crescendo: {a} {b} {c} {d}"
        );
        assert!(a < d * 0.25, "the entrance is not soft: {a} vs {d}");
        // A chord change while playing is a bow change: full again within ~0.6 s.
        p.set_chord(&[48, 51, 55, 58]);
        let (l, _) = play(&mut p, &[64], (sr * 1.0) as usize);
        let after = window_rms(&l, sr, 0.7, 0.2);
        assert!(after > d * 0.6, "bow change too slow: {after} vs {d}");
    }

    #[test]
    fn pad_bow_bites_with_noise() {
        // The start of a note has more rosin (power above 3 kHz) than its sustain.
        let sr = 48000.0;
        let mut p = Pad::new(sr);
        p.level.set_now(1.0);
        p.set_level(1.0);
        p.set_chord(&[45]);
        let (l, _) = play(&mut p, &[64], (sr * 3.0) as usize);
        let at = |t: f32| {
            let a = (t * sr) as usize;
            power_fraction_above(&l[a..a + 4096], sr, 3000.0)
        };
        let (bite, sustain) = (at(0.0), at(2.5));
        assert!(bite > sustain * 1.5, "bite {bite} vs sustain {sustain}");
        assert!(sustain > 0.0, "no bow noise at all");
    }

    #[test]
    fn pad_tremolo_is_bowed_under_tension_only() {
        let sr = 48000.0;
        let fluctuation = |tension: f32| {
            let mut p = Pad::new(sr);
            p.level.set_now(0.8);
            p.set_level(0.8);
            p.tension.set_now(tension);
            p.set_tension(tension);
            p.set_chord(&[50]);
            let (l, _) = play(&mut p, &[64], (sr * 4.0) as usize);
            // 20 ms RMS envelope over the last two seconds, less its 140 ms moving average
            // (the slow beating of the detuned desks): the fast, stroke-rate fluctuation.
            let env: Vec<f32> = (0..100)
                .map(|k| window_rms(&l, sr, 1.9 + k as f32 * 0.02, 0.02))
                .collect();
            let mean = env.iter().sum::<f32>() / env.len() as f32;
            let fast: f32 = (3..env.len() - 3)
                .map(|k| {
                    let avg = env[k - 3..=k + 3].iter().sum::<f32>() / 7.0;
                    (env[k] - avg).powi(2)
                })
                .sum::<f32>()
                / (env.len() - 6) as f32;
            fast.sqrt() / mean
        };
        let (calm, tense) = (fluctuation(0.0), fluctuation(1.0));
        assert!(tense > 0.05, "no tremolo under tension: {tense}");
        assert!(calm < tense * 0.6, "calm strings pump: {calm} vs {tense}");
    }
}

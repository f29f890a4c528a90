//! Concert pedal harp for the film-score styles (Chinatown's harps, Taxi Driver's glissandi):
//! a modal model of finger-plucked gut, nylon and wire-wound strings on a resonant soundbox.
//! Audio thread: one fixed pool of damped phasors (allocated in `new`), rendered in 8-lane chunks.
//!
//! Per pluck: the string's partials `f_k = k f0 sqrt(1 + B k^2)` as damped phasors starting in
//! cosine phase (a string released from rest), amplitudes `|sin(k pi p)| / k` for a pluck near
//! the middle (`p` about 0.47: weak even partials) under the fingertip's low-pass (a firmer
//! pluck or a brighter tone is brighter), the soundbox's steady response (broad 100-400 Hz
//! bumps) and its weak radiation of the lowest fundamentals. Losses grow with the partial
//! number and frequency, so the upper partials die first; the fundamental rings 7 s at C1 and
//! under 1 s at G7, with its second polarisation (a slightly detuned, slower lane) for the
//! two-stage decay. Wound bass strings are stiffer (audible inharmonicity), lose less at high
//! frequencies and carry a sparse sample of their upper series: the "zing". The release of
//! the string's static pull (its static bridge force, which the box does not radiate) starts
//! every pluck from zero; the release also knocks the box's own modes (short lanes). On the
//! bus: fingertip-pad, nail and winding-scrape noise. Stereo as the audience hears it: bass
//! left, treble right, each partial placed by the box's directivity (so the body is not mono).

use super::common::{bandpass, safety, unit_velocity, Bandpass};
use crate::dsp::rng::mix64;
use crate::dsp::util::midi_hz;
use crate::dsp::{Rng, MAX_BLOCK};
use core::f32::consts::{FRAC_1_SQRT_2, PI, TAU};

const SEED: u64 = 0x4841_5250_0000_0001;
/// Strings that can ring at once (a glissando leaves a wash); beyond, the quietest is stolen.
const VOICES: usize = 40;
/// The harp's compass: C1 .. G7 (47 strings with the pedals' sharps and flats).
const LOWEST_NOTE: u8 = 24;
const HIGHEST_NOTE: u8 = 103;
/// Wire-wound bass strings: C1 up to G2.
const WOUND_UP_TO: u8 = 43;

// --- The string -------------------------------------------------------------------------
/// Fundamental's 60 dB decay at C1 and at G7 (s); geometric in between.
const T60_LOW_S: f32 = 7.0;
const T60_HIGH_S: f32 = 0.9;
/// Loss growth per partial number, gut/nylon and wound (t60_k = t60_1 / (1 + L (k-1) + ..)).
const LOSS_PER_PARTIAL_GUT: f32 = 0.22;
const LOSS_PER_PARTIAL_WOUND: f32 = 0.07;
/// Loss growth with frequency: t60 halves where (f / corner)^2 reaches 1.
const LOSS_CORNER_GUT_HZ: f32 = 2500.0;
const LOSS_CORNER_WOUND_HZ: f32 = 5000.0;
/// Inharmonicity B: wound strings; gut/nylon at C4 and its growth per octave (thicker, shorter).
const B_WOUND: f32 = 1.2e-4;
const B_GUT_C4: f32 = 1.5e-5;
const B_GUT_OCTAVE_GROWTH: f32 = 1.6;
/// Fixed tuning error of each string, at most this many cents (a harp is tuned by hand).
const STRING_DETUNE_CENTS: f32 = 1.5;
/// Second polarisation of the fundamental: its share of the amplitude, its decay relative to
/// the first and its detuning range (Hz): the slow tail and a gentle beat.
const TWIN_SHARE: f32 = 0.3;
const TWIN_T60_RATIO: f32 = 1.5;
const TWIN_DETUNE_HZ: (f32, f32) = (0.05, 0.3);
/// String partials per pluck (fewer where they would pass the ceiling).
const PARTIALS: usize = 16;
/// No partial above this (or 0.45 of the sample rate).
const PARTIAL_CEILING_HZ: f32 = 9000.0;
/// Partial numbers of a wound string and how many harmonics each stands for: the first ten,
/// then a sparse sample of the upper series (the windings' "zing").
const WOUND_SERIES: [(u8, f32); PARTIALS] = [
    (1, 1.0),
    (2, 1.0),
    (3, 1.0),
    (4, 1.0),
    (5, 1.0),
    (6, 1.0),
    (7, 1.0),
    (8, 1.0),
    (9, 1.0),
    (10, 1.0),
    (12, 2.0),
    (15, 3.0),
    (19, 4.0),
    (24, 5.0),
    (30, 6.5),
    (38, 8.0),
];

// --- The finger ---------------------------------------------------------------------------
/// Pluck point as a fraction of the string (harpists pluck near the middle) and its jitter.
const PLUCK_POINT: f32 = 0.47;
const PLUCK_JITTER: f32 = 0.025;
/// Fingertip low-pass corner: soft pad (dark) .. firm pluck (bright), geometric in between.
const FINGER_SOFT_HZ: f32 = 650.0;
const FINGER_FIRM_HZ: f32 = 5000.0;
/// How velocity and the tone setting make the pluck firm (they add).
const FIRM_FROM_VELOCITY: f32 = 0.6;
const FIRM_FROM_TONE: f32 = 0.4;
/// Time constant of the released static pull (s): a soft pad rolls off slowly, a firm one snaps.
const RELEASE_SOFT_S: f32 = 0.0022;
const RELEASE_FIRM_S: f32 = 0.0008;
/// The release's slower undershoot, in multiples of its time constant (the box's high-pass).
const RELEASE_UNDERSHOOT: f32 = 4.0;
/// Loudness: floor at the softest touch and the velocity curve's exponent.
const VELOCITY_FLOOR: f32 = 0.1;
const VELOCITY_CURVE: f32 = 1.4;
/// Level at the top of the compass relative to the middle (dB): thinner, shorter strings.
const TOP_DB: f32 = -3.0;

// --- The hand damping ---------------------------------------------------------------------
/// 60 dB decay of a string under the palm: lowest and highest string (s); upper partials
/// faster (the hand absorbs the highs first), halving at `DAMP_CORNER_HZ`.
const DAMP_LOW_S: f32 = 0.15;
const DAMP_HIGH_S: f32 = 0.07;
const DAMP_CORNER_HZ: f32 = 1500.0;
/// Both hands flat on the strings.
const ALL_OFF_S: f32 = 0.1;
/// The finger stopping a ringing string before plucking it again.
const REPLUCK_STOP_S: f32 = 0.04;
/// A stolen string's fade.
const STEAL_S: f32 = 0.025;

// --- The soundbox -------------------------------------------------------------------------
/// Soundbox modes: (Hz, Q, level, pan). The level shapes the steady response under the strings
/// (over a flat floor of 1) and how hard the pluck's release knocks the mode; the pan is
/// where that mode radiates most (the box is wide, so each mode sits elsewhere).
const BODY: [(f32, f32, f32, f32); 4] = [
    (110.0, 3.0, 0.9, -0.25),
    (190.0, 3.5, 0.7, 0.3),
    (285.0, 4.0, 0.55, -0.35),
    (410.0, 4.5, 0.4, 0.25),
];
/// The knock of the box at the release, relative to the released pull.
const BODY_KNOCK: f32 = 0.35;
/// Below this the soundbox radiates a string's fundamental weakly (a first-order roll-off).
const RADIATION_HZ: f32 = 70.0;
/// How far the box's directivity moves a partial from its string's position.
const BODY_SPREAD: f32 = 0.8;
/// Upper partials scatter across the image (the board radiates them in lobes): at most this
/// much, reached at `SCATTER_FULL_HZ`.
const HF_SCATTER: f32 = 0.35;
const SCATTER_FULL_HZ: f32 = 2500.0;

// --- Stereo and level ---------------------------------------------------------------------
/// Strings' positions as the audience hears the harp: bass left, treble right.
const PAN_LOW: f32 = -0.35;
const PAN_HIGH: f32 = 0.35;
/// Output gain (a 20-note glissando at velocity 0.6 peaks about 0.3-0.5).
const OUT_GAIN: f32 = 0.107;

// --- Finger noise -------------------------------------------------------------------------
/// Noise colours: fingertip pad, nail, winding scrape: (centre Hz, Q, decay time constant s).
const NOISE: [(f32, f32, f32); 3] = [
    (1100.0, 0.7, 0.006),
    (4500.0, 0.9, 0.0025),
    (2800.0, 2.5, 0.04),
];
/// Their levels relative to the pluck's loudness.
const NOISE_PAD: f32 = 0.05;
const NOISE_NAIL: f32 = 0.06;
const NOISE_ZING: f32 = 0.035;

// --- The engine ---------------------------------------------------------------------------
/// Lanes of the phasor pool processed together (what the compiler vectorises).
const CHUNK: usize = 8;
/// Lanes one pluck takes: its partials, the fundamental's twin, the box modes and the release
/// (two offsets per channel).
const LANES_PER_PLUCK: usize = PARTIALS + 1 + BODY.len() + 4;
/// Pool size: every string's pluck plus as many again fading out (re-plucked or stolen).
const CAP: usize = 2 * VOICES * LANES_PER_PLUCK;
const CHUNKS: usize = CAP / CHUNK;
const _: () = assert!(CAP.is_multiple_of(CHUNK));
/// A lane below this amplitude (about -96 dBFS) is stopped and its slot reused.
const PRUNE_AMP: f32 = 1.6e-5;
/// Samples between pruning passes (a fixed grid counted from reset).
const CONTROL_SAMPLES: u64 = 256;
/// Owner of a lane that no longer belongs to a string (being stopped or stolen).
const ORPHAN: u8 = u8::MAX;
/// ln(1000): a 60 dB decay.
const LN_1000: f32 = 6.907_755;

/// The phasor pool: every sounding partial, twin, release and box mode of every string, as
/// flat 8-lane chunks (structure of arrays). Live lanes are a prefix; the rest are zero.
struct Lanes {
    /// Phasor state: quadrature (real) part.
    re: [[f32; CHUNK]; CHUNKS],
    /// Phasor state: the output (imaginary) part.
    im: [[f32; CHUNK]; CHUNKS],
    /// Per-sample rotation with the decay folded in: r cos w.
    c: [[f32; CHUNK]; CHUNKS],
    /// Per-sample rotation with the decay folded in: r sin w.
    s: [[f32; CHUNK]; CHUNKS],
    /// Stereo position -1 (left) .. 1 (right), as a side-signal weight.
    pan: [[f32; CHUNK]; CHUNKS],
    /// Angular frequency (rad/sample), to know how hard the hand damps this lane.
    w: [[f32; CHUNK]; CHUNKS],
    /// The string slot that owns each lane, or `ORPHAN`.
    owner: [u8; CAP],
    /// Lanes in use.
    live: usize,
}

impl Lanes {
    fn clear(&mut self) {
        for a in [
            &mut self.re,
            &mut self.im,
            &mut self.c,
            &mut self.s,
            &mut self.pan,
            &mut self.w,
        ] {
            a.iter_mut().for_each(|x| *x = [0.0; CHUNK]);
        }
        self.owner = [ORPHAN; CAP];
        self.live = 0;
    }

    /// Appends a lane (the caller made room).
    fn push(&mut self, re: f32, im: f32, w: f32, r: f32, pan: f32, owner: u8) {
        if self.live >= CAP {
            return;
        }
        let (k, j) = (self.live / CHUNK, self.live % CHUNK);
        self.re[k][j] = re;
        self.im[k][j] = im;
        self.c[k][j] = r * w.cos();
        self.s[k][j] = r * w.sin();
        self.pan[k][j] = pan;
        self.w[k][j] = w;
        self.owner[self.live] = owner;
        self.live += 1;
    }

    /// Removes lane `i` by moving the last live lane into its place.
    fn remove(&mut self, i: usize) {
        let last = self.live - 1;
        let (k, j) = (i / CHUNK, i % CHUNK);
        let (lk, lj) = (last / CHUNK, last % CHUNK);
        for a in [
            &mut self.re,
            &mut self.im,
            &mut self.c,
            &mut self.s,
            &mut self.pan,
            &mut self.w,
        ] {
            a[k][j] = a[lk][lj];
            a[lk][lj] = 0.0;
        }
        self.owner[i] = self.owner[last];
        self.owner[last] = ORPHAN;
        self.live = last;
    }

    /// Squared amplitude of lane `i`.
    #[inline]
    fn energy(&self, i: usize) -> f32 {
        let (k, j) = (i / CHUNK, i % CHUNK);
        self.re[k][j] * self.re[k][j] + self.im[k][j] * self.im[k][j]
    }

    /// Makes lane `i` decay at least as fast as a 60 dB decay in `t60_s` (never slower).
    fn damp(&mut self, i: usize, t60_s: f32, sr: f32) {
        let (k, j) = (i / CHUNK, i % CHUNK);
        let (c, s) = (self.c[k][j], self.s[k][j]);
        let r_old = (c * c + s * s).sqrt();
        let r_new = (-LN_1000 / (t60_s.max(1.0e-3) * sr)).exp();
        if r_new < r_old && r_old > 0.0 {
            let g = r_new / r_old;
            self.c[k][j] = c * g;
            self.s[k][j] = s * g;
        }
    }

    /// Rings every live lane for `m` samples, adding each sample's mid (sum) and side
    /// (pan-weighted sum) per lane position into `mid`/`side`.
    #[inline(always)]
    fn ring_portable(
        &mut self,
        mid: &mut [[f32; CHUNK]; MAX_BLOCK],
        side: &mut [[f32; CHUNK]; MAX_BLOCK],
        m: usize,
    ) {
        let chunks = self.live.div_ceil(CHUNK);
        let m = m.min(MAX_BLOCK);
        for k in 0..chunks {
            let mut re = self.re[k];
            let mut im = self.im[k];
            let c = self.c[k];
            let s = self.s[k];
            let p = self.pan[k];
            for (am, asd) in mid[..m].iter_mut().zip(side[..m].iter_mut()) {
                for j in 0..CHUNK {
                    let x = re[j] * c[j] - im[j] * s[j];
                    let y = re[j] * s[j] + im[j] * c[j];
                    re[j] = x;
                    im[j] = y;
                    am[j] += y;
                    asd[j] += y * p[j];
                }
            }
            self.re[k] = re;
            self.im[k] = im;
        }
    }

    crate::dsp::simd::wide_method! {
        /// `ring_portable`, compiled for AVX2 where the CPU has it (bit-identical: no fused
        /// multiply-adds, same order).
        fn ring(
            &mut self,
            mid: &mut [[f32; CHUNK]; MAX_BLOCK],
            side: &mut [[f32; CHUNK]; MAX_BLOCK],
            m: usize,
        ) = ring_avx2 / ring_portable
    }
}

/// One string of the harp (a voice slot) while anything of its last pluck sounds.
#[derive(Clone, Copy, Debug)]
struct StringSlot {
    /// Its lanes still ring.
    active: bool,
    /// The string (folded MIDI note).
    note: u8,
    /// 60 dB decay of its fundamental under the palm (s).
    damp_s: f32,
}

impl StringSlot {
    const IDLE: StringSlot = StringSlot {
        active: false,
        note: 0,
        damp_s: DAMP_HIGH_S,
    };
}

/// The finger on the string: fingertip-pad and nail noise at each pluck and the scrape of a
/// wound string's windings. One noise source through three filters, each colour with a
/// decaying level per channel (so each pluck's noise sits where its string is).
struct FingerNoise {
    /// xorshift32 state (restored by reset).
    state: u32,
    /// Level of each colour, left and right (decays every sample).
    env: [[f32; 2]; 3],
    /// Per-sample decay of each colour's level.
    fall: [f32; 3],
    /// The colours' band-pass filters.
    band: [Bandpass; 3],
    /// 1/Q of each band-pass (unit gain at its centre).
    norm: [f32; 3],
    /// Some level is above zero (otherwise the noise costs nothing).
    busy: bool,
}

impl FingerNoise {
    fn new(sr: f32) -> Self {
        Self {
            state: NOISE_SEED,
            env: [[0.0; 2]; 3],
            fall: NOISE.map(|(_, _, tau)| (-1.0 / (tau * sr)).exp()),
            band: NOISE.map(|(hz, q, _)| bandpass(sr, hz, q)),
            norm: NOISE.map(|(_, q, _)| 1.0 / q),
            busy: false,
        }
    }

    fn reset(&mut self) {
        self.state = NOISE_SEED;
        self.env = [[0.0; 2]; 3];
        for b in &mut self.band {
            b.reset();
        }
        self.busy = false;
    }

    /// A pluck adds `levels` of each colour at the gains `gl`, `gr`.
    fn excite(&mut self, levels: [f32; 3], gl: f32, gr: f32) {
        for (e, a) in self.env.iter_mut().zip(levels) {
            // Bounded however many plucks land at once.
            e[0] = (e[0] + a * gl).min(1.0);
            e[1] = (e[1] + a * gr).min(1.0);
        }
        self.busy = self.env.iter().any(|e| e[0] > 0.0 || e[1] > 0.0);
    }

    #[inline]
    fn tick(&mut self) -> (f32, f32) {
        if !self.busy {
            return (0.0, 0.0);
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        let n = self.state as f32 * (2.0 / 4_294_967_296.0) - 1.0;
        let (mut l, mut r) = (0.0, 0.0);
        let mut busy = false;
        for c in 0..3 {
            let [el, er] = self.env[c];
            if el == 0.0 && er == 0.0 {
                continue;
            }
            let y = self.band[c].tick(n) * self.norm[c];
            l += y * el;
            r += y * er;
            let (nl, nr) = (el * self.fall[c], er * self.fall[c]);
            let (nl, nr) = (
                if nl < 1.0e-7 { 0.0 } else { nl },
                if nr < 1.0e-7 { 0.0 } else { nr },
            );
            self.env[c] = [nl, nr];
            if nl == 0.0 && nr == 0.0 {
                self.band[c].reset();
            } else {
                busy = true;
            }
        }
        self.busy = busy;
        (l, r)
    }
}

const NOISE_SEED: u32 = 0x4841_5250;

/// Concert pedal harp. See the module docs.
pub struct Harp {
    /// Sample rate (Hz).
    sr: f32,
    /// The phasor pool (boxed: ~45 kB, allocated once in `new`).
    lanes: Box<Lanes>,
    /// The string slots (which note each holds).
    strings: [StringSlot; VOICES],
    /// Plucking randomness (pluck point, twin detune); restored by reset.
    rng: Rng,
    /// The player's touch from the mood: 0 soft pad .. 1 firm and bright (taken at each pluck).
    tone: f32,
    /// Finger and winding noise on the bus.
    noise: FingerNoise,
    /// Samples rendered since reset: the clock of the pruning grid.
    clock: u64,
}

impl Harp {
    pub fn new(sample_rate: f32) -> Self {
        let sr = if sample_rate.is_finite() {
            sample_rate.clamp(8000.0, 768_000.0)
        } else {
            48000.0
        };
        let lanes = Box::new(Lanes {
            re: [[0.0; CHUNK]; CHUNKS],
            im: [[0.0; CHUNK]; CHUNKS],
            c: [[0.0; CHUNK]; CHUNKS],
            s: [[0.0; CHUNK]; CHUNKS],
            pan: [[0.0; CHUNK]; CHUNKS],
            w: [[0.0; CHUNK]; CHUNKS],
            owner: [ORPHAN; CAP],
            live: 0,
        });
        let mut h = Self {
            sr,
            lanes,
            strings: [StringSlot::IDLE; VOICES],
            rng: Rng::new(SEED),
            tone: 0.5,
            noise: FingerNoise::new(sr),
            clock: 0,
        };
        h.reset();
        h
    }

    pub fn reset(&mut self) {
        self.lanes.clear();
        self.strings = [StringSlot::IDLE; VOICES];
        self.rng = Rng::new(SEED);
        self.tone = 0.5;
        self.noise.reset();
        self.clock = 0;
    }

    /// Plucks the string for `note` (MIDI; the harp's range C1 (24) .. G7 (103), notes
    /// outside folded by octaves into it), velocity 0..1. A string plucked again while it
    /// still rings is re-excited (the finger stops it for an instant, then it sounds anew).
    pub fn note_on(&mut self, note: u8, velocity: f32) {
        let note = fold(note);
        let vel = unit_velocity(velocity);
        if vel <= 0.0 {
            self.note_off(note);
            return;
        }
        let slot = match self.strings.iter().position(|v| v.active && v.note == note) {
            Some(i) => {
                // The finger stops the ringing string, then plucks it anew.
                self.release(i, REPLUCK_STOP_S);
                i
            }
            None => match self.strings.iter().position(|v| !v.active) {
                Some(i) => i,
                None => {
                    let i = self.quietest();
                    self.release(i, STEAL_S);
                    i
                }
            },
        };
        if self.lanes.live + LANES_PER_PLUCK > CAP {
            // Only reachable with dozens of plucks in a few milliseconds: the strings being
            // stopped are cut at once to make room.
            let mut i = 0;
            while i < self.lanes.live {
                if self.lanes.owner[i] == ORPHAN {
                    self.lanes.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        self.pluck(slot, note, vel);
    }

    /// The harpist's hand damps that string (it stops within ~50-150 ms).
    pub fn note_off(&mut self, note: u8) {
        let note = fold(note);
        for slot in 0..VOICES {
            let v = self.strings[slot];
            if v.active && v.note == note {
                let sr = self.sr;
                let lanes = &mut *self.lanes;
                for i in 0..lanes.live {
                    if lanes.owner[i] as usize == slot {
                        let hz = lanes.w[i / CHUNK][i % CHUNK] * sr / TAU;
                        lanes.damp(i, v.damp_s / (1.0 + hz / DAMP_CORNER_HZ), sr);
                    }
                }
            }
        }
    }

    /// Both hands flat on the strings: everything stops within ~150 ms.
    pub fn all_notes_off(&mut self) {
        let sr = self.sr;
        let lanes = &mut *self.lanes;
        for i in 0..lanes.live {
            lanes.damp(i, ALL_OFF_S, sr);
        }
    }

    /// 0 (soft finger pad, dark) .. 1 (firm pluck, bright); from the mood and the light.
    pub fn set_tone(&mut self, brightness: f32) {
        if brightness.is_finite() {
            self.tone = brightness.clamp(0.0, 1.0);
        }
    }

    /// ADDS up to MAX_BLOCK samples.
    pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        if self.lanes.live == 0 && !self.noise.busy {
            // Nothing sounds: the grid clock still runs, so pruning stays on the same samples
            // however the host splits its blocks.
            self.clock += n as u64;
            return;
        }
        let mut pos = 0;
        while pos < n {
            let to_grid = (CONTROL_SAMPLES - self.clock % CONTROL_SAMPLES) as usize;
            let m = (n - pos).min(MAX_BLOCK).min(to_grid);
            self.render_segment(&mut l[pos..pos + m], &mut r[pos..pos + m]);
            pos += m;
            self.clock += m as u64;
            if self.clock.is_multiple_of(CONTROL_SAMPLES) {
                self.prune();
            }
        }
    }

    /// Renders `l.len()` (<= MAX_BLOCK) samples.
    fn render_segment(&mut self, l: &mut [f32], r: &mut [f32]) {
        let m = l.len();
        let mut mid = [[0.0f32; CHUNK]; MAX_BLOCK];
        let mut side = [[0.0f32; CHUNK]; MAX_BLOCK];
        if self.lanes.live > 0 {
            self.lanes.ring(&mut mid, &mut side, m);
        }
        for t in 0..m {
            let ms = mid[t].iter().sum::<f32>();
            let sd = side[t].iter().sum::<f32>();
            let (nl, nr) = self.noise.tick();
            l[t] += safety((ms - sd) * FRAC_1_SQRT_2 + nl);
            r[t] += safety((ms + sd) * FRAC_1_SQRT_2 + nr);
        }
    }

    /// Stops lanes that have rung down and frees the strings that have nothing left.
    fn prune(&mut self) {
        let lanes = &mut *self.lanes;
        let mut count = [0u16; VOICES];
        let mut i = 0;
        while i < lanes.live {
            if lanes.energy(i) < PRUNE_AMP * PRUNE_AMP {
                lanes.remove(i);
                continue;
            }
            if let Some(c) = count.get_mut(lanes.owner[i] as usize) {
                *c += 1;
            }
            i += 1;
        }
        for (v, c) in self.strings.iter_mut().zip(count) {
            if c == 0 {
                v.active = false;
            }
        }
    }

    /// The sounding string with the least energy left (to be stolen).
    fn quietest(&self) -> usize {
        let mut energy = [0.0f32; VOICES];
        for i in 0..self.lanes.live {
            if let Some(e) = energy.get_mut(self.lanes.owner[i] as usize) {
                *e += self.lanes.energy(i);
            }
        }
        let mut best = 0;
        for i in 1..VOICES {
            if energy[i] < energy[best] {
                best = i;
            }
        }
        best
    }

    /// Detaches string `slot`'s lanes (they die away within `t60_s`) and frees the slot.
    fn release(&mut self, slot: usize, t60_s: f32) {
        let sr = self.sr;
        let lanes = &mut *self.lanes;
        for i in 0..lanes.live {
            if lanes.owner[i] as usize == slot {
                lanes.damp(i, t60_s, sr);
                lanes.owner[i] = ORPHAN;
            }
        }
        self.strings[slot].active = false;
    }

    /// Lays out one pluck of `note` (folded) at `vel` (0..1] in slot `slot`.
    fn pluck(&mut self, slot: usize, note: u8, vel: f32) {
        let sr = self.sr;
        let pitch01 = (note - LOWEST_NOTE) as f32 / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
        let wound = note <= WOUND_UP_TO;
        // The string's own (fixed) tuning error.
        let detune = STRING_DETUNE_CENTS * unit_hash(note as u64);
        let f0 = midi_hz(note as f32 + 0.01 * detune);
        let b = if wound {
            B_WOUND
        } else {
            B_GUT_C4 * B_GUT_OCTAVE_GROWTH.powf((note as f32 - 60.0) / 12.0)
        };
        let (loss_k, loss_hz) = if wound {
            (LOSS_PER_PARTIAL_WOUND, LOSS_CORNER_WOUND_HZ)
        } else {
            (LOSS_PER_PARTIAL_GUT, LOSS_CORNER_GUT_HZ)
        };
        let t60_1 = T60_LOW_S * (T60_HIGH_S / T60_LOW_S).powf(pitch01);
        let firm = (FIRM_FROM_VELOCITY * vel + FIRM_FROM_TONE * self.tone).clamp(0.0, 1.0);
        let corner = FINGER_SOFT_HZ * (FINGER_FIRM_HZ / FINGER_SOFT_HZ).powf(firm);
        let point = PLUCK_POINT + PLUCK_JITTER * self.rng.bipolar();
        let twin_hz = self.rng.range(TWIN_DETUNE_HZ.0, TWIN_DETUNE_HZ.1);
        let ceiling = PARTIAL_CEILING_HZ.min(0.45 * sr);
        let pan = PAN_LOW + (PAN_HIGH - PAN_LOW) * pitch01;
        let loud = (VELOCITY_FLOOR + (1.0 - VELOCITY_FLOOR) * vel.powf(VELOCITY_CURVE))
            * db_gain(TOP_DB * pitch01)
            * OUT_GAIN;

        // The partials' amplitudes (before normalising), frequencies, decays and positions.
        let mut amp = [0.0f32; PARTIALS];
        let mut hz = [0.0f32; PARTIALS];
        let mut t60 = [0.0f32; PARTIALS];
        let mut pans = [0.0f32; PARTIALS];
        let mut norm = 0.0f32;
        for i in 0..PARTIALS {
            let (k, gap) = if wound {
                (WOUND_SERIES[i].0 as f32, WOUND_SERIES[i].1)
            } else {
                ((i + 1) as f32, 1.0)
            };
            // The pluck's shape: a triangle pulled at `point` gives a bridge force with
            // partials sin(k pi p) / k; a sparse partial carries the mean power of its gap.
            let shape = if gap > 1.0 {
                (0.5 * gap).sqrt() / k
            } else {
                (PI * k * point).sin().abs() / k
            };
            norm += shape * shape;
            let f = k * f0 * (1.0 + b * k * k).sqrt();
            if f >= ceiling {
                continue;
            }
            let finger = 1.0 / (1.0 + (f / corner) * (f / corner));
            let radiation = f / (f * f + RADIATION_HZ * RADIATION_HZ).sqrt();
            let (body, body_pan) = body_response(f);
            amp[i] = shape * finger * radiation * body;
            hz[i] = f;
            t60[i] = t60_1 / (1.0 + loss_k * (k - 1.0) + (f / loss_hz) * (f / loss_hz));
            let scatter = if i == 0 { 0.0 } else { HF_SCATTER }
                * (f / SCATTER_FULL_HZ).min(1.0)
                * unit_hash(mix64(note as u64) ^ i as u64);
            pans[i] = (pan + BODY_SPREAD * body_pan + scatter).clamp(-1.0, 1.0);
        }
        let gain = loud / norm.sqrt().max(1.0e-6);

        // Every lane of this pluck: (re, im, w rad/sample, r per sample, pan).
        let mut plan = [(0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32); LANES_PER_PLUCK];
        let mut planned = 0;
        let rad = |hz: f32| TAU * hz / sr;
        let per_sample = |t60: f32| (-LN_1000 / (t60 * sr)).exp();
        let mut pull = 0.0f32;
        for i in 0..PARTIALS {
            let a = amp[i] * gain;
            if a < PRUNE_AMP {
                continue;
            }
            if i == 0 {
                // Two polarisations: the one across the board speaks and decays first, the
                // other lingers a fraction of a hertz away.
                let (w0, w1) = (rad(hz[0]), rad(hz[0] + twin_hz));
                plan[planned] = (0.0, a * (1.0 - TWIN_SHARE), w0, per_sample(t60[0]), pans[0]);
                let twin_r = per_sample(t60[0] * TWIN_T60_RATIO);
                plan[planned + 1] = (0.0, a * TWIN_SHARE, w1, twin_r, pans[0]);
                planned += 2;
            } else {
                plan[planned] = (0.0, a, rad(hz[i]), per_sample(t60[i]), pans[i]);
                planned += 1;
            }
            pull += a;
        }
        // The release knocks the box's own modes (from rest: sine phase).
        for (mhz, q, level, mpan) in BODY {
            let a = BODY_KNOCK * level * pull;
            if a >= PRUNE_AMP {
                let t60 = LN_1000 * q / (PI * mhz);
                let p = (0.5 * pan + mpan).clamp(-1.0, 1.0);
                plan[planned] = (a, 0.0, rad(mhz), per_sample(t60), p);
                planned += 1;
            }
        }
        // The static pull the finger held is let go. The board radiates neither it nor any
        // net displacement: per channel, two decaying offsets (a fast one and its slower
        // undershoot) make the pluck start from zero and carry no DC.
        let release_s = RELEASE_SOFT_S + (RELEASE_FIRM_S - RELEASE_SOFT_S) * firm;
        let r1 = (-1.0 / (release_s * sr)).exp();
        let r2 = (-1.0 / (RELEASE_UNDERSHOOT * release_s * sr)).exp();
        let (r1, r2) = (r1 as f64, r2 as f64);
        let (sum1, sum2) = (r1 / (1.0 - r1), r2 / (1.0 - r2));
        for side in [-1.0f32, 1.0] {
            // This channel's first output sample and its sum over all samples (the DC).
            let (mut first, mut area) = (0.0f64, 0.0f64);
            for &(re, im, w, r, p) in &plan[..planned] {
                let g = (1.0 + side * p) as f64;
                // Output n is Im(z0 l^n), l = r e^(jw); summed over n >= 1: Im(z0 l / (1 - l)).
                let (lr, li) = ((r * w.cos()) as f64, (r * w.sin()) as f64);
                let (nr, ni) = (
                    re as f64 * lr - im as f64 * li,
                    re as f64 * li + im as f64 * lr,
                );
                let (dr, di) = (1.0 - lr, -li);
                first += g * ni;
                area += g * (ni * dr - nr * di) / (dr * dr + di * di);
            }
            // x1 r1 + x2 r2 = -first and x1 r1/(1-r1) + x2 r2/(1-r2) = -area.
            let det = r1 * sum2 - r2 * sum1;
            let x1 = (area * r2 - first * sum2) / det;
            let x2 = (first * sum1 - area * r1) / det;
            // A lane panned hard to one side reaches it with gain 2 (mid/side), the other 0.
            plan[planned] = (0.0, 0.5 * x1 as f32, 0.0, r1 as f32, side);
            plan[planned + 1] = (0.0, 0.5 * x2 as f32, 0.0, r2 as f32, side);
            planned += 2;
        }
        let lanes = &mut *self.lanes;
        for &(re, im, w, r, p) in &plan[..planned] {
            lanes.push(re, im, w, r, p, slot as u8);
        }
        // The finger's noise, where the string is.
        let (gl, gr) = ((1.0 - pan) * FRAC_1_SQRT_2, (1.0 + pan) * FRAC_1_SQRT_2);
        let levels = [
            NOISE_PAD * loud * (1.0 - 0.6 * firm),
            NOISE_NAIL * loud * firm * firm,
            if wound { NOISE_ZING * loud } else { 0.0 },
        ];
        self.noise.excite(levels, gl, gr);

        let damp_s = DAMP_LOW_S + (DAMP_HIGH_S - DAMP_LOW_S) * pitch01;
        self.strings[slot] = StringSlot {
            active: true,
            note,
            damp_s,
        };
    }
}

/// Folds any MIDI note by octaves into the harp's compass.
fn fold(note: u8) -> u8 {
    let mut n = note;
    while n < LOWEST_NOTE {
        n += 12;
    }
    while n > HIGHEST_NOTE {
        n -= 12;
    }
    n
}

/// A fixed pseudo-random value in -1..1 for `x` (per-string tuning, per-partial scatter).
fn unit_hash(x: u64) -> f32 {
    (mix64(x ^ SEED) >> 40) as f32 * (2.0 / (1u64 << 24) as f32) - 1.0
}

fn db_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// The soundbox's steady response at `hz` (flat floor 1 plus the modes' bumps) and where it
/// radiates that frequency (-1..1, the modes' pans weighted by their response).
fn body_response(hz: f32) -> (f32, f32) {
    let (mut sum, mut pan) = (1.0f32, 0.0f32);
    for (mhz, q, level, mpan) in BODY {
        let d = q * (hz / mhz - mhz / hz);
        let g = level / (1.0 + d * d).sqrt();
        sum += g;
        pan += g * mpan;
    }
    (sum, pan / sum)
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    fn play(h: &mut Harp, n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, &[64], |l, r| h.render(l, r))
    }

    /// Seconds until the 10 ms RMS of `x` stays below its maximum minus `db`.
    fn decay_time(x: &[f32], sr: f32, db: f32) -> f32 {
        let w = (0.01 * sr) as usize;
        let env: Vec<f32> = x.chunks(w).map(rms).collect();
        let top = env.iter().fold(0.0f32, |m, v| m.max(*v));
        let floor = top * 10f32.powf(-db / 20.0);
        let last = env.iter().rposition(|v| *v > floor).unwrap_or(0);
        (last + 1) as f32 * 0.01
    }

    /// Power of `x` at `hz` (Hann-windowed single-bin DFT).
    fn power_at(x: &[f32], sr: f32, hz: f64) -> f64 {
        let n = x.len();
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, v) in x.iter().enumerate() {
            let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos();
            let ph = std::f64::consts::TAU * hz * i as f64 / sr as f64;
            re += *v as f64 * w * ph.cos();
            im += *v as f64 * w * ph.sin();
        }
        re * re + im * im
    }

    /// The largest sample-to-sample step of either channel.
    fn max_step(l: &[f32]) -> f32 {
        l.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()))
    }

    /// A scale run: the white keys from `from` upwards, `count` notes.
    fn white_keys(from: u8, count: usize) -> Vec<u8> {
        (from..=127)
            .filter(|n| [0, 2, 4, 5, 7, 9, 11].contains(&(n % 12)))
            .take(count)
            .collect()
    }

    /// A glissando of `notes`, `per_s` plucks a second, at `vel`; renders `total_s` seconds.
    fn glissando(
        sr: f32,
        notes: &[u8],
        per_s: f32,
        vel: f32,
        total_s: f32,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut h = Harp::new(sr);
        let step = (sr / per_s) as usize;
        let at: Vec<usize> = (0..notes.len()).map(|i| i * step).collect();
        let out = play_script(
            &mut h,
            (total_s * sr) as usize,
            &[64],
            &at,
            |h, i| h.note_on(notes[i], vel),
            |h, l, r| h.render(l, r),
        );
        let l = out.iter().step_by(2).copied().collect();
        let r = out.iter().skip(1).step_by(2).copied().collect();
        (l, r)
    }

    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut h = Harp::new(sr);
        // (position, note, velocity; 0 = note_off, -1 = all off, -2 = tone change)
        let events: [(usize, u8, f32); 14] = [
            (0, 36, 0.7),
            (0, 55, 0.6),
            (7, 64, 0.8),
            (1500, 67, 0.5),
            (2001, 72, 0.9),
            (2001, 0, -2.0),
            (3000, 76, 0.6),
            (4000, 55, 0.0),
            (4500, 64, 0.7),
            (6003, 96, 1.0),
            (9000, 36, 0.0),
            (9001, 28, 0.5),
            (15000, 0, -1.0),
            (15100, 100, 0.4),
        ];
        let at = events.map(|e| e.0);
        let apply = |h: &mut Harp, i: usize| {
            let (_, n, v) = events[i];
            if v == -1.0 {
                h.all_notes_off();
            } else if v == -2.0 {
                h.set_tone(0.9);
            } else if v > 0.0 {
                h.note_on(n, v)
            } else {
                h.note_off(n)
            }
        };
        play_script(&mut h, 30000, sizes, &at, apply, |h, l, r| h.render(l, r))
    }

    #[test]
    fn harp_block_size_independent() {
        // Pruning runs on a grid counted from reset, so any split gives the same samples.
        let a = scripted(44100.0, &[64]);
        assert!(peak(&a) > 0.01);
        assert_eq!(a, scripted(44100.0, &[1, 7, 33]));
        assert_eq!(a, scripted(44100.0, &[64, 5, 13, 64, 2]));
    }

    #[test]
    fn harp_deterministic_and_reset_reproduces() {
        assert_eq!(scripted(48000.0, &[64]), scripted(48000.0, &[64]));
        let mut h = Harp::new(48000.0);
        h.set_tone(0.8);
        for n in [40u8, 52, 59, 64] {
            h.note_on(n, 0.7);
        }
        let (x, _) = play(&mut h, 20000);
        h.reset();
        h.set_tone(0.8);
        for n in [40u8, 52, 59, 64] {
            h.note_on(n, 0.7);
        }
        let (y, _) = play(&mut h, 20000);
        assert_eq!(x, y);
    }

    #[test]
    fn harp_clean_at_all_rates_and_odd_blocks_then_exact_silence() {
        for sr in RATES {
            let mut h = Harp::new(sr);
            for (i, n) in [24u8, 31, 36, 43, 48, 60, 67, 79, 91, 103]
                .iter()
                .enumerate()
            {
                h.note_on(*n, 0.3 + 0.07 * i as f32);
            }
            let (l, r) = render_with((sr * 0.5) as usize, &[1, 7, 33, 64], |a, b| h.render(a, b));
            assert_clean(&l, "harp l");
            assert_clean(&r, "harp r");
            assert!(peak(&l) > 0.02, "silent at {sr}");
            assert!(peak(&l) < 0.9 && peak(&r) < 0.9, "too loud at {sr}");
            // Left alone, even the lowest string (t60 7 s, twin 10.5 s) has rung out by 25 s:
            // -96 dBFS from about -20 dBFS is 76 dB = 1.3 t60.
            let (l, r) = render_with((sr * 25.0) as usize, &[64, 5], |a, b| h.render(a, b));
            assert_clean(&l, "harp tail l");
            assert_clean(&r, "harp tail r");
            assert!(
                h.strings.iter().all(|v| !v.active),
                "strings not freed at {sr}"
            );
            assert_eq!(h.lanes.live, 0, "lanes left at {sr}");
            assert!(
                l[l.len() - 1000..]
                    .iter()
                    .chain(&r[r.len() - 1000..])
                    .all(|v| *v == 0.0),
                "tail not silent at {sr}"
            );
        }
    }

    #[test]
    fn harp_idle_returns_at_once_and_adds_nothing() {
        let mut h = Harp::new(48000.0);
        let mut l = [0.25f32; 64];
        let mut r = [-0.5f32; 64];
        h.render(&mut l, &mut r);
        assert!(l.iter().all(|v| *v == 0.25) && r.iter().all(|v| *v == -0.5));
        // A high string rings out and the harp is idle again.
        h.note_on(100, 0.8);
        play(&mut h, 48000 * 6);
        assert_eq!(h.lanes.live, 0);
        assert!(!h.noise.busy);
        h.render(&mut l, &mut r);
        assert!(l.iter().all(|v| *v == 0.25));
    }

    #[test]
    fn harp_hostile_input_is_safe() {
        let sr = 48000.0;
        let mut h = Harp::new(sr);
        h.set_tone(f32::NAN);
        h.set_tone(f32::INFINITY);
        h.set_tone(-3.0);
        for n in 0..=255u8 {
            h.note_off(n);
        }
        for (i, v) in [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -1.0,
            0.0,
            1.0e-30,
            7.0,
            1.0,
        ]
        .iter()
        .enumerate()
        {
            h.note_on((i * 37 % 256) as u8, *v);
        }
        // Hundreds of plucks in one block, every string several times over.
        for i in 0..400u32 {
            h.note_on((i * 7 % 256) as u8, 1.0);
        }
        let (l, r) = render_with(48000, &[64, 1, 17], |a, b| h.render(a, b));
        assert_clean(&l, "hostile l");
        assert_clean(&r, "hostile r");
        assert!(peak(&l) < 1.0 && peak(&r) < 1.0);
        assert!(h.strings.iter().filter(|v| v.active).count() <= VOICES);
        // Zero-length and mismatched blocks.
        h.render(&mut [], &mut []);
        let mut a = [0.0f32; 64];
        let mut b = [0.0f32; 10];
        h.render(&mut a, &mut b);
        assert!(a[10..].iter().all(|v| *v == 0.0));
        // Absurd sample rates fall back to something sane.
        for sr in [f32::NAN, 0.0, -1.0, 1.0e9] {
            let mut h = Harp::new(sr);
            h.note_on(60, 0.8);
            let (l, _) = play(&mut h, 4096);
            assert_clean(&l, "odd rate");
        }
    }

    #[test]
    fn harp_compass_folds_by_octaves() {
        // Note 12 (C0) is the harp's C1 (24); 115 (G8) is G7 (103).
        let render = |n: u8| {
            let mut h = Harp::new(48000.0);
            h.note_on(n, 0.7);
            play(&mut h, 4800).0
        };
        assert_eq!(render(12), render(24));
        assert_eq!(render(0), render(24));
        assert_eq!(render(115), render(103));
        assert_eq!(render(127), render(103));
    }

    #[test]
    fn harp_pitch_is_in_tune() {
        // Each string's own tuning error is at most 1.5 cents (0.087 %).
        let sr = 48000.0;
        for n in [45u8, 57, 69, 81] {
            let mut h = Harp::new(sr);
            h.note_on(n, 0.7);
            let (l, _) = play(&mut h, 24000);
            let want = midi_hz(n as f32);
            let got = measure_hz(&l[4800..], sr, want);
            let cents = 1200.0 * (got / want).log2();
            assert!(
                cents.abs() < 2.0,
                "note {n}: {got} Hz vs {want} ({cents} cents)"
            );
        }
    }

    #[test]
    fn harp_decay_by_register() {
        // Fundamental t60 = 7 s at C1 .. 0.9 s at G7. To -40 dB: C2 (t60 ~5.4 s, twin 8 s) takes
        // several seconds; C7 (t60 ~1.1 s) about a second.
        let sr = 48000.0;
        let t40 = |n: u8| {
            let mut h = Harp::new(sr);
            h.note_on(n, 0.7);
            let (l, r) = play(&mut h, (sr * 12.0) as usize);
            let m: Vec<f32> = l.iter().zip(&r).map(|(a, b)| a + b).collect();
            decay_time(&m, sr, 40.0)
        };
        let (low, mid, high) = (t40(36), t40(60), t40(96));
        assert!(low > 3.0 * high, "low {low} s vs high {high} s");
        assert!(low > mid && mid > high, "{low} {mid} {high}");
        assert!((3.0..9.0).contains(&low), "low string to -40 dB in {low} s");
        assert!(
            (0.4..1.5).contains(&high),
            "high string to -40 dB in {high} s"
        );
    }

    #[test]
    fn harp_fundamental_dominates_after_the_attack() {
        // 0.3 s after plucking G3 the fundamental carries more power than all of partials 2..12.
        let sr = 48000.0;
        let mut h = Harp::new(sr);
        h.note_on(55, 0.8);
        let (l, r) = play(&mut h, (sr * 0.5) as usize);
        let m: Vec<f32> = l.iter().zip(&r).map(|(a, b)| a + b).collect();
        let x = &m[(0.3 * sr) as usize..(0.3 * sr) as usize + 8192];
        let f0 = midi_hz(55.0) as f64;
        let fund = power_at(x, sr, f0);
        let upper: f64 = (2..=12).map(|k| power_at(x, sr, f0 * k as f64)).sum();
        assert!(fund > upper, "fundamental {fund:e} vs partials {upper:e}");
    }

    #[test]
    fn harp_even_partials_weak_at_the_attack() {
        // Plucked near the middle (p ~ 0.47): |sin(2 pi p)|/2 ~ 0.09 against |sin(3 pi p)|/3 ~
        // 0.33, so the 2nd partial is well under the 3rd (and the 4th under the 5th).
        let sr = 48000.0;
        for seed_note in [50u8, 57, 62] {
            let mut h = Harp::new(sr);
            h.note_on(seed_note, 0.9);
            h.set_tone(1.0);
            let (l, r) = play(&mut h, 8192 + 480);
            let m: Vec<f32> = l.iter().zip(&r).map(|(a, b)| a + b).collect();
            let x = &m[480..];
            let f0 = midi_hz(seed_note as f32) as f64;
            let p = |k: f64| power_at(x, sr, f0 * k);
            assert!(
                p(2.0) < 0.5 * p(3.0),
                "note {seed_note}: 2nd {:e} vs 3rd {:e}",
                p(2.0),
                p(3.0)
            );
        }
    }

    #[test]
    fn harp_wound_strings_are_inharmonic() {
        // B = 1.2e-4 on the wound C2: the 10th partial sits at 10 f0 sqrt(1 + 0.012), 10 cents
        // sharp; the gut C4 (B ~ 1.5e-5) stays within 2 cents of 10 f0.
        let sr = 48000.0;
        let tenth = |n: u8| {
            let mut h = Harp::new(sr);
            h.note_on(n, 1.0);
            h.set_tone(1.0);
            let (l, r) = play(&mut h, 2400 + 32768);
            let m: Vec<f32> = l.iter().zip(&r).map(|(a, b)| a + b).collect();
            let x = &m[2400..];
            let harm = 10.0 * midi_hz(n as f32) as f64;
            let best = (0..81)
                .map(|k| harm * (0.996 + 0.0002 * k as f64))
                .max_by(|a, b| power_at(x, sr, *a).total_cmp(&power_at(x, sr, *b)))
                .unwrap();
            1200.0 * (best / harm).log2()
        };
        let wound = tenth(36);
        let gut = tenth(60);
        assert!(
            wound > 5.0 && wound < 16.0,
            "wound 10th partial {wound} cents"
        );
        assert!(gut.abs() < 3.5, "gut 10th partial {gut} cents");
    }

    #[test]
    fn harp_repluck_restarts_without_a_click() {
        // A ringing A3 plucked again: one string (not two), and no step larger than the
        // first pluck's own attack makes (the old vibration is stopped within 40 ms).
        let sr = 48000.0;
        let mut h = Harp::new(sr);
        h.note_on(57, 0.8);
        let (first, _) = play(&mut h, (sr * 0.4) as usize);
        h.note_on(57, 0.8);
        assert_eq!(
            h.strings
                .iter()
                .filter(|v| v.active && v.note == 57)
                .count(),
            1
        );
        let (again, _) = play(&mut h, (sr * 0.4) as usize);
        let attack = max_step(&first[..4800]);
        let re = max_step(&again[..4800]);
        assert!(
            re < 1.3 * attack,
            "re-pluck step {re} vs first attack {attack}"
        );
        // And it really sounds anew: as loud as the first pluck, not 0.4 s decayed.
        assert!(peak(&again[..4800]) > 0.8 * peak(&first[..4800]));
        // The first sample of the re-pluck continues the old ringing (no jump).
        let last = first[first.len() - 1];
        assert!((again[0] - last).abs() <= 1.3 * attack);
    }

    #[test]
    fn harp_note_off_damps_within_0_2_s() {
        // The palm's t60 is 0.07-0.15 s: 0.2 s later even the bass string is 40 dB down.
        let sr = 48000.0;
        for n in [26u8, 48, 72, 96] {
            let mut h = Harp::new(sr);
            h.note_on(n, 0.8);
            let (l, _) = play(&mut h, (sr * 0.5) as usize);
            let before = rms(&l[l.len() - 2400..]);
            h.note_off(n);
            let (l, _) = play(&mut h, (sr * 0.25) as usize);
            let after = rms(&l[(0.2 * sr) as usize..]);
            assert!(after < before * 0.01, "note {n}: {after} vs {before}");
            // Damped, not cut: the first 10 ms still carry sound.
            assert!(rms(&l[..480]) > before * 0.3, "note {n} cut off");
        }
    }

    #[test]
    fn harp_all_notes_off_within_150_ms() {
        let sr = 48000.0;
        let (l, _) = {
            let mut h = Harp::new(sr);
            for n in white_keys(29, 20) {
                h.note_on(n, 0.8);
            }
            play(&mut h, 9600);
            h.all_notes_off();
            play(&mut h, (sr * 0.2) as usize)
        };
        let start = rms(&l[..480]);
        let end = rms(&l[(0.15 * sr) as usize..]);
        // t60 0.1 s: at 0.15 s some 90 dB down; assert 50.
        assert!(end < start * 0.003, "{end} vs {start}");
    }

    #[test]
    fn harp_glissando_peaks_in_range() {
        // 20 notes up a scale at velocity 0.6, 30 plucks a second: the mixer expects 0.3-0.5.
        let sr = 48000.0;
        let (l, r) = glissando(sr, &white_keys(48, 20), 30.0, 0.6, 2.0);
        let pk = peak(&l).max(peak(&r));
        assert!(pk > 0.3 && pk < 0.5, "glissando peak {pk}");
    }

    #[test]
    fn harp_fast_glissando_is_clean_and_36_strings_ring() {
        // 30 plucks in one second over 2.5 octaves, then down again: all clean, within range,
        // the wash keeps at least 30 strings ringing.
        let sr = 48000.0;
        let mut notes = white_keys(41, 30);
        let down: Vec<u8> = notes.iter().rev().skip(1).copied().collect();
        notes.extend(down);
        let (l, r) = glissando(sr, &notes, 30.0, 0.8, 3.0);
        assert_clean(&l, "gliss l");
        assert_clean(&r, "gliss r");
        let pk = peak(&l).max(peak(&r));
        assert!(pk > 0.3 && pk < 0.8, "glissando peak {pk}");
        let mut h = Harp::new(sr);
        for (i, n) in white_keys(24, 38).iter().enumerate() {
            h.note_on(*n, 0.6);
            play(&mut h, if i % 2 == 0 { 64 } else { 1600 });
        }
        let ringing = h.strings.iter().filter(|v| v.active).count();
        assert!(ringing >= 36, "{ringing} strings ring");
    }

    #[test]
    fn harp_steals_the_quietest_without_a_click() {
        // 40 strings ring; a 41st pluck takes the quietest one and fades it in 25 ms.
        let sr = 48000.0;
        let mut h = Harp::new(sr);
        let notes: Vec<u8> = (40..80).collect();
        for (i, n) in notes.iter().enumerate() {
            // The top note softest: it will be the quietest.
            let vel = if *n == 79 {
                0.1
            } else {
                0.5 + 0.01 * (i % 10) as f32
            };
            h.note_on(*n, vel);
            play(&mut h, 64);
        }
        let (pre, _) = play(&mut h, 4800);
        assert_eq!(h.strings.iter().filter(|v| v.active).count(), VOICES);
        h.note_on(84, 0.5);
        assert!(
            !h.strings.iter().any(|v| v.active && v.note == 79),
            "quietest not stolen"
        );
        assert!(h.strings.iter().any(|v| v.active && v.note == 60));
        let (post, _) = play(&mut h, 4800);
        let pre_step = max_step(&pre);
        let step = max_step(&post[..2400]);
        assert!(step < 2.0 * pre_step, "steal step {step} vs {pre_step}");
        assert_clean(&post, "stolen");
    }

    #[test]
    fn harp_brightness_grows_with_velocity_and_tone() {
        // Power above 2 kHz in the first 170 ms of a D4: the fingertip corner rises with a
        // firmer pluck (velocity) and with the tone setting.
        let sr = 48000.0;
        let share = |vel: f32, tone: f32| {
            let mut h = Harp::new(sr);
            h.set_tone(tone);
            h.note_on(62, vel);
            let (l, r) = play(&mut h, 8192);
            let m: Vec<f32> = l.iter().zip(&r).map(|(a, b)| a + b).collect();
            power_fraction_above(&m, sr, 2000.0)
        };
        let (soft, hard) = (share(0.25, 0.5), share(1.0, 0.5));
        assert!(hard > 2.0 * soft, "velocity: hard {hard} vs soft {soft}");
        let (dark, bright) = (share(0.6, 0.0), share(0.6, 1.0));
        assert!(bright > 2.0 * dark, "tone: bright {bright} vs dark {dark}");
    }

    #[test]
    fn harp_stereo_bass_left_treble_right_and_body_not_mono() {
        let sr = 48000.0;
        let sides = |n: u8| {
            let mut h = Harp::new(sr);
            h.note_on(n, 0.7);
            let (l, r) = play(&mut h, 24000);
            (l, r)
        };
        let (l, r) = sides(31);
        assert!(rms(&l) > 1.2 * rms(&r), "bass not left");
        let (l, r) = sides(96);
        assert!(rms(&r) > 1.2 * rms(&l), "treble not right");
        // A middle string is not one signal panned: after the best gain match the channels
        // still differ by more than 5 % (the box radiates each partial elsewhere).
        let (l, r) = sides(60);
        let lr: f64 = l
            .iter()
            .zip(&r)
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum();
        let rr: f64 = r.iter().map(|b| (*b as f64).powi(2)).sum();
        let g = (lr / rr) as f32;
        let resid: Vec<f32> = l.iter().zip(&r).map(|(a, b)| a - g * b).collect();
        assert!(
            rms(&resid) > 0.05 * rms(&l),
            "mono body: {} vs {}",
            rms(&resid),
            rms(&l)
        );
    }

    #[test]
    fn harp_has_no_dc() {
        // The released pull is a transient; over a glissando and its ring the mean is tiny.
        let sr = 48000.0;
        let (l, r) = glissando(sr, &white_keys(29, 30), 20.0, 0.9, 4.0);
        for x in [&l, &r] {
            let mean = x.iter().map(|v| *v as f64).sum::<f64>() / x.len() as f64;
            assert!(
                mean.abs() < 1.0e-3 * rms(x) as f64 + 1.0e-6,
                "DC {mean} vs rms {}",
                rms(x)
            );
        }
    }

    #[test]
    fn harp_attack_starts_from_zero_and_is_soft() {
        // The released pull cancels the partials' sum at the first sample; the attack rises
        // over ~a millisecond, not in one step.
        let sr = 48000.0;
        let mut h = Harp::new(sr);
        h.note_on(67, 1.0);
        let (l, _) = play(&mut h, 4800);
        let pk = peak(&l);
        assert!(l[0].abs() < 0.1 * pk, "first sample {} of peak {pk}", l[0]);
        assert!(max_step(&l[..48]) < 0.5 * pk, "attack jumps");
    }

    /// Listening aid: writes /tmp/harp_*.wav (run with --ignored).
    #[test]
    #[ignore]
    fn harp_write_wavs() {
        let sr = 48000.0;
        let write = |name: &str, l: &[f32], r: &[f32]| {
            let spec = hound::WavSpec {
                channels: 2,
                sample_rate: sr as u32,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::create(format!("/tmp/harp_{name}.wav"), spec).unwrap();
            for (a, b) in l.iter().zip(r) {
                w.write_sample((a.clamp(-1.0, 1.0) * 32767.0) as i16)
                    .unwrap();
                w.write_sample((b.clamp(-1.0, 1.0) * 32767.0) as i16)
                    .unwrap();
            }
            w.finalize().unwrap();
        };
        // Single notes C1, C2, C3, C4, C5, C6, G7, each 5 s apart.
        let notes = [24u8, 36, 48, 60, 72, 84, 103];
        let mut h = Harp::new(sr);
        let at: Vec<usize> = (0..notes.len()).map(|i| i * 5 * 48000).collect();
        let out = play_script(
            &mut h,
            36 * 48000,
            &[64],
            &at,
            |h, i| h.note_on(notes[i], 0.7),
            |h, l, r| h.render(l, r),
        );
        let (l, r): (Vec<f32>, Vec<f32>) = out.chunks(2).map(|f| (f[0], f[1])).unzip();
        write("notes", &l, &r);
        // A Chinatown-like glissando up and down a minor-ish scale, then an arpeggio.
        let mut run: Vec<u8> = (0..22)
            .map(|i| [38u8, 40, 41, 43, 45, 46, 49][i % 7] + 12 * (i / 7) as u8)
            .collect();
        let down: Vec<u8> = run.iter().rev().skip(1).copied().collect();
        run.extend(down);
        let (l, r) = glissando(sr, &run, 28.0, 0.6, 6.0);
        write("gliss", &l, &r);
        let arp = [38u8, 45, 50, 53, 57, 62, 65, 69, 74, 69, 65, 62];
        let mut h = Harp::new(sr);
        h.set_tone(0.4);
        let at: Vec<usize> = (0..arp.len()).map(|i| i * 12000).collect();
        let out = play_script(
            &mut h,
            8 * 48000,
            &[64],
            &at,
            |h, i| h.note_on(arp[i], 0.55),
            |h, l, r| h.render(l, r),
        );
        let (l, r): (Vec<f32>, Vec<f32>) = out.chunks(2).map(|f| (f[0], f[1])).unzip();
        write("arp", &l, &r);
    }

    /// Cost of a busy glissando with 36+ strings ringing (run with --release --ignored).
    #[test]
    #[ignore]
    fn harp_timing_busy_glissando() {
        let sr = 48000.0;
        let mut h = Harp::new(sr);
        // Up and down 3 octaves of a scale at 30 plucks/s for 10 s, velocity 0.5-0.8.
        let scale = white_keys(36, 22);
        let mut seq: Vec<u8> = scale.clone();
        seq.extend(scale.iter().rev().skip(1).copied());
        let secs = 10usize;
        let step = 1600usize;
        let total = secs * 48000;
        let (mut l, mut r) = (vec![0.0f32; 64], vec![0.0f32; 64]);
        let mut times = Vec::new();
        let (mut lanes_sum, mut lanes_max, mut strings_min_late) = (0usize, 0usize, VOICES);
        let t0 = std::time::Instant::now();
        let mut i = 0;
        let mut k = 0;
        while i < total {
            if i % step == 0 {
                let vel = 0.5 + 0.3 * ((k * 7 % 10) as f32 / 10.0);
                h.note_on(seq[k % seq.len()], vel);
                k += 1;
            }
            let b = std::time::Instant::now();
            h.render(&mut l, &mut r);
            times.push(b.elapsed().as_nanos() as u64);
            lanes_sum += h.lanes.live;
            lanes_max = lanes_max.max(h.lanes.live);
            if i > 48000 {
                strings_min_late =
                    strings_min_late.min(h.strings.iter().filter(|v| v.active).count());
            }
            i += 64;
        }
        let el = t0.elapsed().as_secs_f64();
        times.sort_unstable();
        let pct = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0;
        println!(
            "harp busy glissando: {:.3} ms per second of audio ({:.0}x real time); lanes mean {:.0} max {}; strings ringing >= {} after 1 s; block p50 {:.1} us p99 {:.1} us p99.9 {:.1} us max {:.1} us",
            el * 1000.0 / secs as f64,
            secs as f64 / el,
            lanes_sum as f64 / times.len() as f64,
            lanes_max,
            strings_min_late,
            pct(0.5),
            pct(0.99),
            pct(0.999),
            pct(1.0)
        );
        assert!(l.iter().all(|v| v.is_finite()));
    }
}

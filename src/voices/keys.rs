//! Rhodes electric piano (a Mark I's tine, tone bar and electromagnetic pickup) for comping;
//! every note is rendered on the audio thread, into a buffer the caller owns.
//! Physical model: felt-tipped hammer -> tine modes -> pickup flux -> speaker.
//!
//! Per voice a neoprene hammer strikes the tine (a contact of 1.2-3.5 ms: the attack is a soft
//! strike and a low thump, never a pick's click). The tine swings at its fundamental, with the
//! tone bar's slightly detuned coupled mode beating under it; the tine's cantilever modes
//! (~7x and ~18x, inharmonic) give the brief bell "ping". The motion decays in two stages (the
//! struck tine sheds energy fast for a few hundred ms, then the tone bar sustains it for
//! seconds in the bass). The pickup sees the tine tip move past its pole piece off centre: the
//! flux is a bell curve of the tip's position and the coil's voltage its time derivative, so a
//! soft note is an almost pure bell tone and a hard one "barks" (2nd and 3rd harmonics that
//! grow with the swing and fade as the tine settles; no plucked-string comb). Felt dampers
//! stop a lifted key in 0.12-0.24 s. On the bus: the suitcase speaker's roll-off and a stereo
//! auto-pan tremolo. 12 voices; a stolen voice is finished by a 5 ms fade of itself.
//! All memory is inline; nothing allocates after `new`.

use super::common::{
    pan_gains, pick_key_slot, safety, sin_turns, unit_velocity, KeySlot, OnePole, Smooth,
};
use crate::dsp::util::midi_hz;
use crate::dsp::{Rng, MAX_BLOCK};

const SEED: u64 = 0x4B45_5953_0003;
const VOICES: usize = 12;
const LOWEST_NOTE: u8 = 36;
const HIGHEST_NOTE: u8 = 96;
/// Centre of the tremolo auto-pan: slightly right.
const PAN: f32 = 0.15;
/// Suitcase tremolo rate.
const TREMOLO_HZ: f32 = 4.6;
/// Output gain (one note at velocity 0.8 peaks ~0.15, a four-note voicing ~0.3-0.45).
const OUT_GAIN: f32 = 0.30;
/// Fixed per-slot tuning error in cents (a real instrument is never perfectly in tune).
const SLOT_DETUNE_CENTS: [f32; VOICES] = [
    -1.6, 1.2, -0.6, 2.0, -1.1, 0.4, 1.6, -2.0, 0.7, -0.3, 1.9, -1.4,
];

// --- The tine and the pickup (register values: [lowest note, highest note]) ---
/// Tine swing at the pickup for a full-velocity strike, in pickup widths: bass tines are long
/// and swing wide, treble tines are short and stiff.
const SWING_WIDTHS: [f32; 2] = [1.0, 0.55];
/// Exponent of velocity -> swing (a harder strike swings the tine disproportionately wider).
const SWING_CURVE: f32 = 1.3;
/// How brightness (the tone control) moves the swing: closer voicing, more bark.
const SWING_BRIGHT: [f32; 2] = [0.75, 1.25];
/// Rest position of the tine tip below the pole piece's centre, in pickup widths (the
/// "voicing"): off centre, so the fundamental passes and the 2nd harmonic grows with swing.
const PICKUP_OFFSET_WIDTHS: [f32; 2] = [0.30, 0.40];
/// Level tilt by register so the treble's smaller swing still speaks (linear, x at the top).
const TREBLE_LIFT: f32 = 1.5;

// --- Decay ---
/// Share of the tine's amplitude in the first (fast) stage of the decay.
const FIRST_STAGE_SHARE: f32 = 0.55;
/// 60 dB time of the first stage, seconds.
const FIRST_STAGE_T60_S: [f32; 2] = [0.8, 0.35];
/// 60 dB time of the sustain (the tone bar's long ring), seconds.
const SUSTAIN_T60_S: [f32; 2] = [22.0, 4.0];
/// Amplitude share of the tone bar's coupled mode (beats slowly against the tine).
const TONEBAR_SHARE: f32 = 0.08;
/// The tone bar mode's beat against the tine, Hz (each note somewhere in this range).
const TONEBAR_BEAT_HZ: [f32; 2] = [0.3, 0.8];
/// Damper (felt on the tine) 60 dB time once the key lifts, seconds.
const DAMPER_T60_S: [f32; 2] = [0.24, 0.12];

// --- The hammer ---
/// Hammer contact time: soft strike, hard strike, seconds (the attack ramp of the tine).
const CONTACT_S: [f32; 2] = [0.0035, 0.0012];
/// The tine's cantilever modes: ratio to the fundamental [low register, high register],
/// displacement at full velocity (relative to the fundamental's), 60 dB time [low, high] s.
const BELL_MODES: [([f32; 2], f32, [f32; 2]); 2] = [
    ([7.6, 6.3], 0.045, [0.30, 0.10]),
    ([19.0, 17.2], 0.006, [0.10, 0.04]),
];
/// Bell modes fade out from 3/4 of this frequency up (and above 0.42 of the sample rate).
const BELL_MAX_HZ: f32 = 12000.0;
/// Velocity exponent of the bell (a hard, short contact excites the high modes much more).
const BELL_CURVE: f32 = 1.6;
/// The key and hammer's mechanical thump: frequency [low, high], 60 dB time, level at full
/// velocity (relative to a full-velocity note's output).
const THUMP_HZ: [f32; 2] = [110.0, 190.0];
const THUMP_T60_S: f32 = 0.06;
const THUMP_LEVEL: f32 = 0.10;

// --- Bus ---
/// Speaker roll-off (12 dB/octave) from dark to bright tone, Hz.
const SPEAKER_HZ: [f32; 2] = [3200.0, 7000.0];
/// Control grid (samples, counted from reset): the tone control, the speaker, the tremolo's
/// pan and the voices' housekeeping (freeing, phasor renormalisation) step on it.
const CONTROL_GRID: u64 = 32;
/// A stolen voice fades out over this time, seconds.
const GHOST_FADE_S: f32 = 0.005;
/// Below this amplitude (re a full-velocity note) a voice is freed: -80 dB.
const FREE_LEVEL: f32 = 1.0e-4;

/// Linear interpolation of a `[low, high]` register pair at `p` (0 = lowest note, 1 = highest).
fn reg(pair: [f32; 2], p: f32) -> f32 {
    pair[0] + (pair[1] - pair[0]) * p
}

/// Per-sample multiplier that makes an amplitude fall 60 dB in `t60_s` seconds.
fn decay_per_sample(t60_s: f32, sr: f32) -> f32 {
    (-6.907_755 / (t60_s.max(1.0e-4) * sr)).exp()
}

/// A unit phasor (cos, sin) and its per-sample rotation for `hz`.
fn rotation(hz: f32, sr: f32) -> [f32; 2] {
    let w = core::f64::consts::TAU * hz as f64 / sr as f64;
    [w.cos() as f32, w.sin() as f32]
}

/// One struck tine with its tone bar, pickup and damper.
#[derive(Clone, Copy, Debug)]
struct Voice {
    /// Sounding (rendered); false once it has rung out or faded.
    active: bool,
    /// The key is down (no damper).
    held: bool,
    /// MIDI note, for note-off and restrikes.
    note: u8,
    /// Order of the note-on (for stealing the oldest).
    age: u64,
    /// Tine fundamental phasor (cos, sin) and its rotation per sample.
    tine: [f32; 2],
    tine_rot: [f32; 2],
    /// Tone bar's coupled mode phasor and rotation (a hair sharp: slow beats).
    bar: [f32; 2],
    bar_rot: [f32; 2],
    /// Amplitudes of the first (fast) stage, the sustain and the tone bar mode.
    first: f32,
    sustain: f32,
    bar_amp: f32,
    /// Their per-sample decay multipliers.
    first_k: f32,
    sustain_k: f32,
    bar_k: f32,
    /// Cantilever (bell) modes: phasors, rotations, amplitudes, decays.
    bell: [[f32; 2]; 2],
    bell_rot: [[f32; 2]; 2],
    bell_amp: [f32; 2],
    bell_k: [f32; 2],
    /// Mechanical thump: phasor, rotation, level (output units), decay.
    thump: [f32; 2],
    thump_rot: [f32; 2],
    thump_amp: f32,
    thump_k: f32,
    /// Hammer contact ramp 0 -> 1 and its step per sample.
    contact: f32,
    contact_step: f32,
    /// Tine swing at the pickup for this strike, in pickup widths (before the tone control).
    swing: f32,
    /// Rest position of the tine tip relative to the pole centre, pickup widths.
    offset: f32,
    /// Turns the flux difference per sample into the note's level: 1 / (2 sin(pi f/sr)
    /// |flux'(offset)|), times the register's level tilt.
    out_scale: f32,
    /// Flux at the previous sample (the coil's voltage is the flux's derivative).
    flux_prev: f32,
    /// Damper: amplitude multiplier, and its per-sample decay (1 while the key is down).
    damper: f32,
    damper_k: f32,
    /// Per-sample decay applied once the key lifts.
    release_k: f32,
    /// Output fade of a stolen voice's ghost (1 -> 0 over 5 ms); 1 for a normal voice.
    fade: f32,
    fade_step: f32,
}

impl KeySlot for Voice {
    fn sounding(&self) -> bool {
        self.active
    }
    fn note(&self) -> u8 {
        self.note
    }
    fn held(&self) -> bool {
        self.held
    }
    fn loudness(&self) -> f32 {
        Voice::loudness(self)
    }
    fn struck(&self) -> u64 {
        self.age
    }
}

/// Flux through the pickup coil for a tine tip at `u` pickup widths from the pole's centre.
#[inline]
fn flux(u: f32) -> f32 {
    1.0 / (1.0 + u * u)
}

impl Voice {
    const IDLE: Voice = Voice {
        active: false,
        held: false,
        note: 60,
        age: 0,
        tine: [1.0, 0.0],
        tine_rot: [1.0, 0.0],
        bar: [1.0, 0.0],
        bar_rot: [1.0, 0.0],
        first: 0.0,
        sustain: 0.0,
        bar_amp: 0.0,
        first_k: 0.0,
        sustain_k: 0.0,
        bar_k: 0.0,
        bell: [[1.0, 0.0]; 2],
        bell_rot: [[1.0, 0.0]; 2],
        bell_amp: [0.0; 2],
        bell_k: [0.0; 2],
        thump: [1.0, 0.0],
        thump_rot: [1.0, 0.0],
        thump_amp: 0.0,
        thump_k: 0.0,
        contact: 1.0,
        contact_step: 0.0,
        swing: 0.0,
        offset: 0.3,
        out_scale: 0.0,
        flux_prev: 0.0,
        damper: 1.0,
        damper_k: 1.0,
        release_k: 1.0,
        fade: 1.0,
        fade_step: 0.0,
    };

    /// Current loudness estimate (for stealing the quietest and for freeing).
    fn loudness(&self) -> f32 {
        ((self.first + self.sustain + self.bar_amp) * self.damper * self.swing
            + self.bell_amp[0]
            + self.bell_amp[1]
            + self.thump_amp)
            * self.fade
    }

    /// Lift the key: the damper comes down.
    fn lift(&mut self) {
        self.held = false;
        self.damper_k = self.release_k;
    }

    /// Control-grid housekeeping: ends components that have died away, frees the voice once
    /// it is inaudible, keeps the phasors on the unit circle (rounding drifts them slowly).
    fn control(&mut self) {
        let gone = |a: &mut f32, below: f32| {
            if *a < below {
                *a = 0.0;
            }
        };
        gone(&mut self.first, 1.0e-7);
        gone(&mut self.bell_amp[0], 1.0e-5);
        gone(&mut self.bell_amp[1], 1.0e-5);
        gone(&mut self.thump_amp, 1.0e-4);
        if self.contact >= 1.0 && self.loudness() < FREE_LEVEL {
            self.active = false;
            return;
        }
        let norm = |z: &mut [f32; 2]| {
            let g = 1.5 - 0.5 * (z[0] * z[0] + z[1] * z[1]);
            z[0] *= g;
            z[1] *= g;
        };
        norm(&mut self.tine);
        norm(&mut self.bar);
        norm(&mut self.bell[0]);
        norm(&mut self.bell[1]);
        norm(&mut self.thump);
    }

    /// Adds one control segment of this voice into `out`. `swing_mul` and `level_mul` carry
    /// the tone control (a closer voicing, and the level compensation for it). The loop is
    /// chosen by what still sounds: the strike (contact, thump, a ghost's fade), the bell
    /// modes, or the sustaining tine alone (where a voice spends most of its life).
    #[inline(always)]
    fn render(&mut self, swing_mul: f32, level_mul: f32, out: &mut [f32]) {
        let swing = self.swing * swing_mul;
        let scale = self.out_scale * level_mul;
        if self.contact < 1.0 || self.fade_step > 0.0 || self.thump_amp > 0.0 {
            self.run::<true, true>(swing, scale, out);
        } else if self.bell_amp[0] > 0.0 || self.bell_amp[1] > 0.0 {
            self.run::<false, true>(swing, scale, out);
        } else {
            self.run::<false, false>(swing, scale, out);
        }
        if self.fade <= 0.0 {
            self.active = false;
        }
    }

    /// The model's sample loop; `STRIKE` adds the hammer contact, the thump and the ghost's
    /// fade, `BELLS` the cantilever modes (compile-time switches: three lean loops).
    #[inline(always)]
    fn run<const STRIKE: bool, const BELLS: bool>(
        &mut self,
        swing: f32,
        scale: f32,
        out: &mut [f32],
    ) {
        let (mut tine, mut bar, mut bell, mut thump) = (self.tine, self.bar, self.bell, self.thump);
        let (mut first, mut sustain, mut bar_amp, mut damper) =
            (self.first, self.sustain, self.bar_amp, self.damper);
        let (mut bell_amp, mut thump_amp) = (self.bell_amp, self.thump_amp);
        let (mut contact, mut fade, mut prev) = (self.contact, self.fade, self.flux_prev);
        for o in out.iter_mut() {
            // Hammer contact: the tine is pushed from rest over the contact time.
            let mut ramp = 1.0;
            if STRIKE {
                contact = (contact + self.contact_step).min(1.0);
                ramp = contact * contact * (3.0 - 2.0 * contact);
            }
            // Tine displacement: fundamental (two decay stages), tone bar mode, bell modes.
            tine = rot(tine, self.tine_rot);
            bar = rot(bar, self.bar_rot);
            let mut x = (first + sustain) * tine[1] + bar_amp * bar[1];
            if BELLS {
                bell[0] = rot(bell[0], self.bell_rot[0]);
                bell[1] = rot(bell[1], self.bell_rot[1]);
                x += bell_amp[0] * bell[0][1] + bell_amp[1] * bell[1][1];
                bell_amp[0] *= self.bell_k[0];
                bell_amp[1] *= self.bell_k[1];
            }
            // Pickup: flux of the tip off the pole's centre; the coil gives its derivative.
            let f = flux(swing * ramp * damper * x + self.offset);
            let mut y = (prev - f) * scale;
            prev = f;
            if STRIKE {
                thump = rot(thump, self.thump_rot);
                y = (y + thump_amp * ramp * thump[1]) * fade;
                thump_amp *= self.thump_k;
                fade = (fade - self.fade_step).max(0.0);
            }
            *o += y;
            first *= self.first_k;
            sustain *= self.sustain_k;
            bar_amp *= self.bar_k;
            damper *= self.damper_k;
        }
        (self.tine, self.bar, self.bell, self.thump) = (tine, bar, bell, thump);
        (self.first, self.sustain, self.bar_amp, self.damper) = (first, sustain, bar_amp, damper);
        (self.bell_amp, self.thump_amp) = (bell_amp, thump_amp);
        (self.contact, self.fade, self.flux_prev) = (contact, fade, prev);
    }
}

/// One step of a phasor `z` by the rotation `r` (complex multiply).
#[inline(always)]
fn rot(z: [f32; 2], r: [f32; 2]) -> [f32; 2] {
    [z[0] * r[0] - z[1] * r[1], z[0] * r[1] + z[1] * r[0]]
}

/// Rhodes electric piano. See the module docs.
pub struct Keys {
    /// Sample rate, Hz.
    sr: f32,
    /// The voice pool.
    voices: [Voice; VOICES],
    /// Faded copies of stolen voices (one slot per voice).
    ghosts: [Voice; VOICES],
    /// Note-on counter (voice age for stealing).
    counter: u64,
    /// Seeded randomness for per-note tuning jitter.
    rng: Rng,
    /// Tone control 0..1 (voicing: bark and speaker brightness), smoothed on the control grid.
    bright: Smooth,
    /// Tremolo (auto-pan) depth 0..1, smoothed on the control grid.
    trem_depth: Smooth,
    /// Samples since reset: the control grid and the tremolo's phase come from it, so they do
    /// not depend on how the host splits blocks or on idle stretches being skipped.
    clock: u64,
    /// The tremolo's phase increment per sample (turns).
    trem_dph: f64,
    /// The control segment whose values are below (u64::MAX: none yet).
    seg: u64,
    /// The tone control's voicing multiplier for the segment (and its level compensation).
    swing_mul: f32,
    level_mul: f32,
    /// Pan gains (left, right) at the start of the segment and their step per sample.
    pan: (f32, f32),
    pan_step: (f32, f32),
    /// Speaker roll-off: two one-pole lowpasses (12 dB/octave).
    speaker: [OnePole; 2],
}

impl Keys {
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate;
        let grid_rate = sr / CONTROL_GRID as f32;
        let mut k = Self {
            sr,
            voices: [Voice::IDLE; VOICES],
            ghosts: [Voice::IDLE; VOICES],
            counter: 0,
            rng: Rng::new(SEED),
            bright: Smooth::new(grid_rate, 0.05, 0.5),
            trem_depth: Smooth::new(grid_rate, 0.08, 0.0),
            clock: 0,
            trem_dph: TREMOLO_HZ as f64 / sr as f64,
            seg: u64::MAX,
            swing_mul: 1.0,
            level_mul: 1.0,
            pan: (0.0, 0.0),
            pan_step: (0.0, 0.0),
            speaker: [OnePole::new(sr, reg(SPEAKER_HZ, 0.5)); 2],
        };
        k.reset();
        k
    }

    pub fn reset(&mut self) {
        self.voices = [Voice::IDLE; VOICES];
        self.ghosts = [Voice::IDLE; VOICES];
        self.counter = 0;
        self.rng = Rng::new(SEED);
        self.bright.set_now(0.5);
        self.trem_depth.set_now(0.0);
        self.clock = 0;
        self.seg = u64::MAX;
        for s in &mut self.speaker {
            s.reset();
        }
    }

    /// Strike `note` (36..=96) at `velocity` 0..1.
    pub fn note_on(&mut self, note: u8, velocity: f32) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        let vel = unit_velocity(velocity);
        if vel <= 0.0 {
            self.note_off(note);
            return;
        }
        // Slot: the same key if it still sounds, else a free voice, else the quietest
        // released one, else the oldest.
        let slot = pick_key_slot(&self.voices, note);
        if self.voices[slot].active {
            let mut g = self.voices[slot];
            g.fade_step = 1.0 / (GHOST_FADE_S * self.sr);
            self.ghosts[slot] = g;
        }
        self.counter += 1;
        let sr = self.sr;
        let rng = &mut self.rng;
        let p = (note - LOWEST_NOTE) as f32 / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
        let cents = SLOT_DETUNE_CENTS[slot] + rng.gauss(0.5);
        let f = midi_hz(note as f32 + cents * 0.01);
        let v = &mut self.voices[slot];
        *v = Voice::IDLE;
        v.active = true;
        v.held = true;
        v.note = note;
        v.age = self.counter;
        // Every mode starts from rest (phase 0): the hammer pushes the tine off its rest
        // position over the contact time.
        v.tine_rot = rotation(f, sr);
        v.bar_rot = rotation(f + reg(TONEBAR_BEAT_HZ, rng.f32()), sr);
        v.first = FIRST_STAGE_SHARE;
        v.sustain = 1.0 - FIRST_STAGE_SHARE - TONEBAR_SHARE;
        v.bar_amp = TONEBAR_SHARE;
        v.first_k = decay_per_sample(reg(FIRST_STAGE_T60_S, p), sr);
        let t_sus = reg(SUSTAIN_T60_S, p);
        v.sustain_k = decay_per_sample(t_sus, sr);
        v.bar_k = decay_per_sample(1.1 * t_sus, sr);
        // The bell modes, faded out towards the top of the band.
        let top = BELL_MAX_HZ.min(0.42 * sr);
        for (m, (ratio, amp, t60)) in BELL_MODES.iter().enumerate() {
            let hz = f * reg(*ratio, p) * (1.0 + 0.01 * rng.bipolar());
            let room = ((top - hz) / (0.25 * top)).clamp(0.0, 1.0);
            v.bell_rot[m] = rotation(hz, sr);
            v.bell_amp[m] = amp * vel.powf(BELL_CURVE) * room;
            v.bell_k[m] = decay_per_sample(reg(*t60, p), sr);
        }
        v.thump_rot = rotation(reg(THUMP_HZ, p), sr);
        v.thump_amp = THUMP_LEVEL * vel;
        v.thump_k = decay_per_sample(THUMP_T60_S, sr);
        v.contact = 0.0;
        v.contact_step = 1.0 / (reg(CONTACT_S, vel) * sr).max(1.0);
        v.swing = reg(SWING_WIDTHS, p) * vel.powf(SWING_CURVE);
        v.offset = reg(PICKUP_OFFSET_WIDTHS, p);
        let o = v.offset;
        let slope = 2.0 * o / ((1.0 + o * o) * (1.0 + o * o));
        let diff = 2.0 * (core::f32::consts::PI * f / sr).sin();
        v.out_scale = (1.0 + (TREBLE_LIFT - 1.0) * p) / (diff * slope);
        v.flux_prev = flux(o);
        v.damper = 1.0;
        v.damper_k = 1.0;
        v.release_k = decay_per_sample(reg(DAMPER_T60_S, p), sr);
        v.fade = 1.0;
        v.fade_step = 0.0;
    }

    /// Damper on: the note stops over 0.12-0.24 s (60 dB).
    pub fn note_off(&mut self, note: u8) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        for v in self.voices.iter_mut() {
            if v.active && v.held && v.note == note {
                v.lift();
            }
        }
    }

    pub fn all_notes_off(&mut self) {
        for v in self.voices.iter_mut() {
            if v.held {
                v.lift();
            }
        }
    }

    /// brightness 0..1 (voicing: bark and speaker), tremolo 0..1 (stereo auto-pan depth).
    pub fn set_tone(&mut self, brightness: f32, tremolo: f32) {
        if brightness.is_finite() {
            self.bright.target = brightness.clamp(0.0, 1.0);
        }
        if tremolo.is_finite() {
            self.trem_depth.target = tremolo.clamp(0.0, 1.0);
        }
    }

    /// The control values of segment `seg` (grid points are `seg * CONTROL_GRID` samples
    /// after reset). `tick` advances the smoothers (false when recomputing a segment after an
    /// idle skip, where they have settled).
    fn control(&mut self, seg: u64, tick: bool) {
        let (b, depth) = if tick {
            (self.bright.tick(), self.trem_depth.tick())
        } else {
            (self.bright.value, self.trem_depth.value)
        };
        self.swing_mul = reg(SWING_BRIGHT, b);
        self.level_mul = 1.0 / self.swing_mul;
        let hz = reg(SPEAKER_HZ, b);
        for s in &mut self.speaker {
            s.set_hz(self.sr, hz);
        }
        let gains = |k: u64| {
            let ph = ((k * CONTROL_GRID) as f64 * self.trem_dph).fract() as f32;
            pan_gains(PAN + 0.8 * depth * sin_turns(ph))
        };
        let (a, z) = (gains(seg), gains(seg + 1));
        let inv = 1.0 / CONTROL_GRID as f32;
        self.pan = a;
        self.pan_step = ((z.0 - a.0) * inv, (z.1 - a.1) * inv);
        self.seg = seg;
    }

    crate::dsp::simd::wide_method! {
        /// ADDS into `l`, `r` (len <= MAX_BLOCK): slightly right of centre, tremolo auto-pans.
        pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) = render_avx2 / render_portable
    }

    #[inline(always)]
    fn render_portable(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len()).min(MAX_BLOCK);
        let sounding = self
            .voices
            .iter()
            .chain(self.ghosts.iter())
            .any(|v| v.active);
        if !sounding
            && self.speaker[0].z == 0.0
            && self.speaker[1].z == 0.0
            && self.bright.value == self.bright.target
            && self.trem_depth.value == self.trem_depth.target
        {
            // Nothing sounds, the bus is at rest and the controls have settled: only the
            // clock moves (the next segment's pan is recomputed from it).
            self.clock += n as u64;
            return;
        }
        let mut i = 0;
        while i < n {
            let c = self.clock + i as u64;
            let seg = c / CONTROL_GRID;
            if c.is_multiple_of(CONTROL_GRID) {
                self.control(seg, true);
                for v in self.voices.iter_mut().chain(self.ghosts.iter_mut()) {
                    if v.active {
                        v.control();
                    }
                }
            } else if seg != self.seg {
                self.control(seg, false);
            }
            let end = n.min(i + (CONTROL_GRID - c % CONTROL_GRID) as usize);
            let mut mono = [0.0f32; CONTROL_GRID as usize];
            let m = &mut mono[..end - i];
            for v in self.voices.iter_mut().chain(self.ghosts.iter_mut()) {
                if v.active {
                    v.render(self.swing_mul, self.level_mul, m);
                }
            }
            let w0 = (c % CONTROL_GRID) as f32;
            for (j, x) in m.iter().enumerate() {
                let s0 = self.speaker[0].tick(*x);
                let s = self.speaker[1].tick(s0);
                let y = safety(s * OUT_GAIN);
                let w = w0 + j as f32;
                l[i + j] += y * (self.pan.0 + w * self.pan_step.0);
                r[i + j] += y * (self.pan.1 + w * self.pan_step.1);
            }
            i = end;
        }
        self.clock += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    fn play(k: &mut Keys, sizes: &[usize], n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, sizes, |l, r| k.render(l, r))
    }

    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut k = Keys::new(sr);
        // (position, note, velocity; 0 velocity = note_off)
        let events: [(usize, u8, f32); 9] = [
            (0, 50, 0.7),
            (0, 53, 0.6),
            (5, 57, 0.8),
            (2001, 60, 0.9),
            (4000, 50, 0.0),
            (4000, 53, 0.0),
            (6003, 67, 1.0),
            (9000, 60, 0.0),
            (9001, 96, 0.5),
        ];
        let at = events.map(|e| e.0);
        let apply = |k: &mut Keys, i: usize| {
            let (_, n, v) = events[i];
            if v > 0.0 {
                k.note_on(n, v)
            } else {
                k.note_off(n)
            }
            if i == 3 {
                k.set_tone(0.9, 0.8);
            }
        };
        play_script(&mut k, 16000, sizes, &at, apply, |k, l, r| k.render(l, r))
    }

    #[test]
    fn keys_finite_no_subnormals_all_rates() {
        for sr in RATES {
            let mut k = Keys::new(sr);
            k.set_tone(1.0, 1.0);
            for n in [36u8, 48, 60, 72, 84, 96] {
                k.note_on(n, 1.0);
            }
            let (l, r) = play(&mut k, &[64], (sr * 0.5) as usize);
            assert_clean(&l, "keys l");
            assert_clean(&r, "keys r");
            assert!(peak(&l) > 0.05);
            k.all_notes_off();
            let (l, r) = play(&mut k, &[64], (sr * 2.0) as usize);
            assert_clean(&l, "keys l tail");
            assert_clean(&r, "keys r tail");
        }
    }

    #[test]
    fn keys_reset_reproduces_output() {
        let mut k = Keys::new(44100.0);
        let run = |k: &mut Keys| {
            k.set_tone(0.6, 0.5);
            for n in [50u8, 53, 57, 60] {
                k.note_on(n, 0.7);
            }
            let (mut l, r) = play(k, &[64], 8000);
            k.note_off(53);
            let (l2, _) = play(k, &[64], 4000);
            l.extend(l2);
            l.extend(r);
            l
        };
        let a = run(&mut k);
        k.reset();
        let b = run(&mut k);
        assert_eq!(a, b);
    }

    #[test]
    fn keys_block_size_independent() {
        let a = scripted(48000.0, &[64]);
        assert_eq!(a, scripted(48000.0, &[1, 7, 33]));
        assert_eq!(a, scripted(48000.0, &[5, 64, 3, 17]));
    }

    #[test]
    fn keys_peak_below_one_with_many_notes() {
        let mut k = Keys::new(48000.0);
        k.set_tone(1.0, 1.0);
        let mut pk = 0.0f32;
        for round in 0..4u8 {
            for i in 0..16u8 {
                k.note_on(36 + (i * 5 + round * 3) % 61, 1.0);
            }
            let (l, r) = play(&mut k, &[64], 12000);
            pk = pk.max(peak(&l)).max(peak(&r));
        }
        assert!(pk < 1.0, "peak {pk}");
    }

    #[test]
    fn keys_voicing_level_moderate() {
        let mut k = Keys::new(48000.0);
        for n in [53u8, 57, 60, 64] {
            k.note_on(n, 0.8);
        }
        let (l, r) = play(&mut k, &[64], 24000);
        let pk = peak(&l).max(peak(&r));
        assert!(pk > 0.15 && pk < 0.7, "voicing peak {pk}");
    }

    #[test]
    fn keys_decay_to_exact_silence() {
        let mut k = Keys::new(44100.0);
        for n in [40u8, 52, 64, 76] {
            k.note_on(n, 1.0);
        }
        play(&mut k, &[64], 20000);
        k.all_notes_off();
        let (l, r) = play(&mut k, &[64], 44100 * 3);
        assert!(
            l[l.len() - 2000..].iter().all(|x| *x == 0.0),
            "l not silent"
        );
        assert!(
            r[r.len() - 2000..].iter().all(|x| *x == 0.0),
            "r not silent"
        );
        // Held notes ring out on their own too (long, but finite).
        k.note_on(36, 1.0);
        let (l, _) = play(&mut k, &[64], 44100 * 30);
        assert!(l[l.len() - 2000..].iter().all(|x| *x == 0.0));
    }

    #[test]
    fn keys_release_is_short() {
        let sr = 48000.0;
        let mut k = Keys::new(sr);
        k.note_on(48, 0.8);
        let (l, _) = play(&mut k, &[64], 24000);
        let before = rms(&l[19200..24000]);
        k.note_off(48);
        let (l, _) = play(&mut k, &[64], 24000);
        let after = rms(&l[19200..24000]); // 400-500 ms after the damper
        assert!(after < before * 0.05, "before {before} after {after}");
    }

    #[test]
    fn keys_velocity_brightens() {
        let sr = 48000.0;
        let centroid_at = |vel: f32| {
            let mut k = Keys::new(sr);
            k.set_tone(0.5, 0.0);
            k.note_on(57, vel);
            let (l, _) = play(&mut k, &[64], 4096 + 480);
            centroid(&l[480..480 + 4096], sr)
        };
        let soft = centroid_at(0.3);
        let hard = centroid_at(1.0);
        assert!(hard > soft * 1.3, "centroid soft {soft} hard {hard}");
    }

    #[test]
    fn keys_restrike_reuses_voice() {
        let mut k = Keys::new(48000.0);
        for _ in 0..20 {
            k.note_on(60, 0.7);
            play(&mut k, &[64], 960);
        }
        assert_eq!(k.voices.iter().filter(|v| v.active).count(), 1);
    }

    #[test]
    fn keys_steal_without_click() {
        // 13th note steals; the output must stay continuous (no jump bigger than normal motion).
        let sr = 48000.0;
        let mut k = Keys::new(sr);
        for i in 0..12u8 {
            k.note_on(40 + i * 3, 0.9);
        }
        let (l0, _) = play(&mut k, &[64], 4800);
        let max_step = l0[2400..]
            .windows(2)
            .fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
        k.note_on(90, 0.2);
        let (l1, _) = play(&mut k, &[64], 480);
        let jump = (l1[0] - l0[l0.len() - 1]).abs();
        assert!(
            jump <= max_step * 1.5 + 1e-4,
            "jump {jump} vs typical step {max_step}"
        );
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

    fn db(p: f64) -> f64 {
        10.0 * p.max(1e-30).log10()
    }

    /// One note struck at `vel` and held for `secs` (left channel, no tremolo).
    fn strike(note: u8, vel: f32, bright: f32, secs: f32) -> Vec<f32> {
        let sr = 48000.0;
        let mut k = Keys::new(sr);
        k.set_tone(bright, 0.0);
        play(&mut k, &[64], 4800); // let the tone settle
        k.note_on(note, vel);
        play(&mut k, &[64], (secs * sr) as usize).0
    }

    #[test]
    fn keys_bark_grows_with_velocity() {
        // The pickup's flux is a bell curve of the tine tip's position, off centre: the 2nd
        // harmonic grows with the swing (about 6 dB per doubling of velocity). Soft: a clean
        // bell (H2 at least 12 dB under H1); hard: a bark (H2 within 6 dB of H1).
        let sr = 48000.0;
        for note in [48u8, 57, 69] {
            let f = midi_hz(note as f32);
            let mut last = f64::MIN;
            let mut first = 0.0;
            for vel in [0.2f32, 0.4, 0.6, 0.8, 1.0] {
                let x = strike(note, vel, 0.5, 0.15);
                let w = &x[960..960 + 4096]; // 20-105 ms
                let ratio = db(tone_power(w, sr, 2.0 * f)) - db(tone_power(w, sr, f));
                assert!(
                    ratio > last + 1.5,
                    "note {note} vel {vel}: H2/H1 {ratio:.1} dB after {last:.1}"
                );
                if vel == 0.2 {
                    first = ratio;
                }
                last = ratio;
            }
            assert!(first < -12.0, "note {note}: soft H2/H1 {first:.1} dB");
            assert!(last > -6.0, "note {note}: hard H2/H1 {last:.1} dB");
        }
    }

    #[test]
    fn keys_bark_fades_into_a_bell() {
        // Harmonics made by the pickup go with the swing's square and cube, so as the tine
        // settles the tone clears: H2/H1 of a hard note falls by at least 8 dB from 50 ms to
        // 1.5 s (a plucked string keeps its harmonic comb much longer against its fundamental).
        let sr = 48000.0;
        let f = midi_hz(52.0);
        let x = strike(52, 1.0, 0.5, 1.6);
        let at = |t: f32| {
            let w = &x[(t * sr) as usize..(t * sr) as usize + 4096];
            db(tone_power(w, sr, 2.0 * f)) - db(tone_power(w, sr, f))
        };
        let (early, late) = (at(0.05), at(1.5));
        assert!(early - late > 8.0, "H2/H1 early {early:.1} late {late:.1}");
    }

    #[test]
    fn keys_decay_is_two_stage_and_long_in_the_bass() {
        // First stage: the struck tine sheds energy fast (~10 dB in the first half second);
        // then the tone bar sustains it: the late slope is at most a third of the early one,
        // and a low note held 4 s is still within 30 dB of its start.
        let sr = 48000.0;
        for note in [43u8, 60] {
            let x = strike(note, 0.7, 0.5, 4.2);
            let lvl = |t: f32| 20.0 * rms(&x[(t * sr) as usize..((t + 0.1) * sr) as usize]).log10();
            let early = (lvl(0.02) - lvl(0.5)) / 0.48; // dB per second
            let late = (lvl(2.0) - lvl(4.0)) / 2.0;
            assert!(
                early > 3.0 * late,
                "note {note}: early {early:.1} dB/s late {late:.1} dB/s"
            );
            assert!(late > 0.5, "note {note}: no decay at all ({late:.2} dB/s)");
            if note == 43 {
                assert!(
                    lvl(0.02) - lvl(4.0) < 30.0,
                    "bass note gone: {:.1} dB",
                    lvl(0.02) - lvl(4.0)
                );
            }
        }
    }

    #[test]
    fn keys_treble_decays_faster_than_bass() {
        let sr = 48000.0;
        let fall = |note: u8| {
            let x = strike(note, 0.7, 0.5, 2.1);
            let lvl = |t: f32| 20.0 * rms(&x[(t * sr) as usize..((t + 0.1) * sr) as usize]).log10();
            lvl(0.02) - lvl(2.0)
        };
        let (low, high) = (fall(40), fall(88));
        assert!(
            high > low + 6.0,
            "2 s fall: low {low:.1} dB high {high:.1} dB"
        );
    }

    #[test]
    fn keys_damper_stops_the_note_in_100_to_250_ms() {
        // Felt dampers: 60 dB in 0.12-0.24 s. 250 ms after the key lifts the note is at least
        // 45 dB down; 40 ms after, it is still audible (less than 30 dB down): a damper, not a
        // gate.
        let sr = 48000.0;
        for note in [40u8, 60, 84] {
            let mut k = Keys::new(sr);
            k.set_tone(0.5, 0.0);
            k.note_on(note, 0.8);
            let (l, _) = play(&mut k, &[64], 24000);
            let before = rms(&l[21600..24000]);
            k.note_off(note);
            let (l, _) = play(&mut k, &[64], 14400);
            let at40 = rms(&l[1920..2400]); // 40-50 ms
            let at250 = rms(&l[12000..12480]); // 250-260 ms
            let d40 = 20.0 * (before / at40).log10();
            let d250 = 20.0 * (before / at250.max(1e-12)).log10();
            assert!(
                d40 < 30.0,
                "note {note}: 40 ms after lift already {d40:.1} dB down"
            );
            assert!(
                d250 > 45.0,
                "note {note}: 250 ms after lift only {d250:.1} dB down"
            );
        }
    }

    #[test]
    fn keys_bell_ping_is_brief() {
        // The tine's first cantilever mode (~7x f0, inharmonic) rings at the attack and is
        // gone within a few hundred ms (60 dB in 0.1-0.3 s), while the note itself sustains.
        let sr = 48000.0;
        let note = 60u8;
        let f = midi_hz(note as f32);
        let p = (note - LOWEST_NOTE) as f32 / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
        let bell_hz = f * reg(BELL_MODES[0].0, p);
        let x = strike(note, 0.9, 0.5, 0.6);
        let w = |t: f32| &x[(t * sr) as usize..(t * sr) as usize + 2048];
        let bell_early = db(tone_power(w(0.005), sr, bell_hz));
        let bell_late = db(tone_power(w(0.4), sr, bell_hz));
        let f_early = db(tone_power(w(0.005), sr, f));
        let f_late = db(tone_power(w(0.4), sr, f));
        assert!(
            bell_early - f_early > -30.0,
            "no ping: {:.1} dB re f0",
            bell_early - f_early
        );
        assert!(
            bell_early - bell_late > 25.0,
            "ping lingers: {bell_early:.1} -> {bell_late:.1}"
        );
        assert!(
            f_early - f_late < 10.0,
            "fundamental fell {:.1} dB",
            f_early - f_late
        );
    }

    #[test]
    fn keys_attack_is_a_felt_strike_not_a_pick() {
        // A pick's attack is a broadband click; the felt hammer's contact (1.2-3.5 ms) keeps
        // the first 10 ms of even a hard strike below 4 % of its power above 4 kHz, and the
        // waveform starts from rest (no first-sample step).
        let sr = 48000.0;
        for note in [48u8, 72] {
            let x = strike(note, 1.0, 1.0, 0.05);
            let onset = &x[..480];
            let frac = power_fraction_above(onset, sr, 4000.0);
            assert!(
                frac < 0.04,
                "note {note}: {:.1} % above 4 kHz",
                100.0 * frac
            );
            let pk = peak(&x);
            assert!(
                x[0].abs() < 0.01 * pk && x[1].abs() < 0.02 * pk,
                "step at the onset"
            );
        }
    }

    #[test]
    fn keys_hostile_input_stays_clean() {
        let sr = 44100.0;
        let mut k = Keys::new(sr);
        k.set_tone(f32::NAN, f32::INFINITY);
        k.note_on(0, f32::NAN);
        k.note_on(127, f32::INFINITY);
        k.note_on(255, -3.0);
        k.note_off(17);
        k.note_off(60);
        for i in 0..500u32 {
            k.note_on((i * 37 % 128) as u8, (i % 7) as f32 / 6.0);
        }
        let (l, r) = play(&mut k, &[13, 64, 1], 22050);
        assert_clean(&l, "hostile l");
        assert_clean(&r, "hostile r");
        assert!(peak(&l) < 1.0 && peak(&r) < 1.0);
        k.all_notes_off();
        let (l, r) = play(&mut k, &[64], 44100);
        assert!(l[l.len() - 1000..]
            .iter()
            .chain(&r[r.len() - 1000..])
            .all(|x| *x == 0.0));
    }

    #[test]
    fn keys_idle_is_silent_and_frees_every_voice() {
        let mut k = Keys::new(48000.0);
        k.set_tone(0.8, 0.6);
        k.note_on(60, 0.8);
        k.note_off(60);
        play(&mut k, &[64], 48000);
        assert!(k.voices.iter().chain(k.ghosts.iter()).all(|v| !v.active));
        let (l, r) = play(&mut k, &[64], 4800);
        assert!(l.iter().chain(&r).all(|x| *x == 0.0));
    }

    #[test]
    fn keys_block_size_independent_across_idle_gaps() {
        // Notes after a silent stretch (the bus skips it): same samples for any block split,
        // the tremolo's phase carried by the clock.
        let run = |sizes: &[usize]| {
            let mut k = Keys::new(48000.0);
            k.set_tone(0.6, 0.9);
            let at = [0usize, 3000, 60_001, 61_000];
            let apply = |k: &mut Keys, i: usize| match i {
                0 => k.note_on(64, 0.6),
                1 => k.note_off(64),
                2 => k.note_on(55, 0.9),
                _ => k.set_tone(0.2, 0.3),
            };
            play_script(&mut k, 80_000, sizes, &at, apply, |k, l, r| k.render(l, r))
        };
        let a = run(&[64]);
        assert_eq!(a, run(&[1, 7, 33]));
        assert_eq!(a, run(&[63, 64, 5]));
    }

    /// Writes `/tmp/keys-listen.wav` (48 kHz): C3, C4, C5 held 3 s, each soft (40/127) then
    /// hard (120/127), 4.5 s apart; the same notes as the General MIDI reference render.
    #[test]
    #[ignore]
    fn keys_listen_wav() {
        let sr = 48000.0;
        let mut k = Keys::new(sr);
        k.set_tone(0.5, 0.0);
        let notes: [(f32, u8, f32); 6] = [
            (0.0, 48, 40.0),
            (4.5, 48, 120.0),
            (9.0, 60, 40.0),
            (13.5, 60, 120.0),
            (18.0, 72, 40.0),
            (22.5, 72, 120.0),
        ];
        let mut at = Vec::new();
        for (t, n, v) in notes {
            at.push(((t * sr) as usize, n, v / 127.0));
            at.push((((t + 3.0) * sr) as usize, n, 0.0));
        }
        at.sort_by_key(|e| e.0);
        let pos: Vec<usize> = at.iter().map(|e| e.0).collect();
        let out = play_script(
            &mut k,
            (27.0 * sr) as usize,
            &[64],
            &pos,
            |k, i| {
                let (_, n, v) = at[i];
                if v > 0.0 {
                    k.note_on(n, v)
                } else {
                    k.note_off(n)
                }
            },
            |k, l, r| k.render(l, r),
        );
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: sr as u32,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create("/tmp/keys-listen.wav", spec).unwrap();
        for x in out {
            w.write_sample(x).unwrap();
        }
        w.finalize().unwrap();
    }

    /// Cost of busy comping (release build): a four-note voicing every half second, each held
    /// 0.4 s, tremolo on, 48 kHz. Prints ms of CPU per second of audio.
    #[test]
    #[ignore]
    fn keys_timing() {
        let sr = 48000.0;
        let mut k = Keys::new(sr);
        k.set_tone(0.7, 0.5);
        let voicings: [[u8; 4]; 4] = [
            [50, 53, 57, 60],
            [55, 59, 62, 65],
            [48, 52, 55, 59],
            [53, 57, 60, 64],
        ];
        let seconds = 20usize;
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        let start = std::time::Instant::now();
        let mut n = 0usize;
        let mut chord = 0usize;
        while n < seconds * 48000 {
            let beat = n % 24000;
            if beat == 0 {
                for note in voicings[chord % 4] {
                    k.note_on(note, 0.55 + 0.1 * (chord % 3) as f32);
                }
            } else if beat == 19200 {
                for note in voicings[chord % 4] {
                    k.note_off(note);
                }
                chord += 1;
            }
            k.render(&mut l, &mut r);
            n += 64;
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / seconds as f64;
        println!(
            "keys: {ms:.3} ms per second of audio ({:.0}x real time), out {}",
            1000.0 / ms,
            l[3] + r[5]
        );
    }
}

//! Monophonic lead horn: a formant-shaped source model morphing from a breathy tenor sax to
//! a harmon-muted trumpet, or (with the mute out, `set_mute(0)`) to an open trumpet.
//!
//! Source: a band-limited (PolyBLEP) sawtooth plus a "subtone" sine, through a two-pole
//! lowpass whose corner follows the blowing envelope (horns get brighter as they get louder;
//! the tenor's presence formants open with it too),
//! then four parallel formant resonators (fixed body/bell/mute resonances, fundsp SVFs) and a
//! direct path. Breath noise goes through the same formants plus an airy band. The sax has a
//! strong fundamental and low formants; the harmon mute removes the bottom (high-pass ~650
//! Hz) and puts a nasal peak near 1.8 kHz. The open trumpet keeps its low end, has its
//! brassy formants at ~1.3 and ~2.7 kHz and a brighter bell.
//! Pitch: a scoop from ~1 semitone below at every fresh attack, legato glides (`glide_to`,
//! or a `note_on` while a note sounds), a delayed vibrato that starts ~200 ms into long notes,
//! slow random drift of a few cents, a fast unsteadiness of pitch and level (jitter and
//! shimmer: the reed is never an oscillator), and `fall` (a fall-off: pitch drops with
//! acceleration while the tone fades). The breath noise pulses with each cycle.
//!
//! Real time: no heap at all; per-sample processing; everything allocated in `new`.

use super::common::{
    bandpass, highpass, lowpass, safety, saw_blep, sin_turns, unit_velocity, wrap01, Bandpass,
    DcBlock, Highpass, Lowpass, OnePole, Smooth,
};
use crate::dsp::util::{flush, midi_hz};
use crate::dsp::Rng;

const SEED: u64 = 0x1EAD_0004;
const OUT_GAIN: f32 = 0.9;

/// The horn's top end: a tenor's bell carries little above ~6 kHz (a General MIDI tenor
/// rolls off there too); the muted trumpet's buzz reaches higher, the open bell higher still.
fn tone_corner(sax_to_trumpet: f32, mute: f32) -> f32 {
    let muted = 4800.0 + 3700.0 * sax_to_trumpet;
    if mute >= 1.0 {
        muted
    } else {
        muted + OPEN_EXTRA_TOP_HZ * sax_to_trumpet * (1.0 - mute)
    }
}
/// How much higher the open trumpet's bell reaches than the muted one's.
const OPEN_EXTRA_TOP_HZ: f32 = 1500.0;
/// Cycle-to-cycle unsteadiness of the reed (tenor) and the lips (trumpet): the pitch wanders
/// by this many cents rms, as noise under `JITTER_HZ` (two poles; a played note's period is
/// never exactly the last one's: without it the harmonics are lines as from an oscillator).
const JITTER_CENTS: (f32, f32) = (3.0, 1.5);
const JITTER_HZ: f32 = 60.0;
/// The level's shimmer, rms (tenor, trumpet), as noise under `SHIMMER_HZ`.
const SHIMMER: (f32, f32) = (0.03, 0.015);
const SHIMMER_HZ: f32 = 30.0;
/// The breath noise rides the reed's (or the lips') opening: its level swings by this much
/// either way over each cycle (mean unchanged), so the hiss is heard in the tone.
const BREATH_PULSE: f32 = 0.6;

/// Unit-rms noise under a corner: `Rng::bipolar` through two one-poles, scaled so its rms is
/// 1 (the cascade's impulse response is a^2 (n+1) b^n with b = 1 - a: its power sum is
/// a^4 (1 + b^2) / (1 - b^2)^3; the noise's own variance is 1/3). Two poles keep the wander
/// under its corner (one pole's tail falls only 6 dB an octave).
#[derive(Clone, Copy, Debug)]
struct Wander {
    lp: [OnePole; 2],
    gain: f32,
}

impl Wander {
    fn new(sample_rate: f32, hz: f32) -> Self {
        let lp = OnePole::new(sample_rate, hz);
        let (a, b) = (lp.a as f64, 1.0 - lp.a as f64);
        let var = a.powi(4) * (1.0 + b * b) / (1.0 - b * b).powi(3) / 3.0;
        Self {
            lp: [lp; 2],
            gain: (1.0 / var.sqrt()) as f32,
        }
    }

    #[inline]
    fn tick(&mut self, rng: &mut Rng) -> f32 {
        let [a, b] = &mut self.lp;
        b.tick(a.tick(rng.bipolar())) * self.gain
    }

    fn reset(&mut self) {
        self.lp.iter_mut().for_each(OnePole::reset);
    }
}
const LOWEST_NOTE: f32 = 34.0;
const HIGHEST_NOTE: f32 = 96.0;
/// Growl: from this velocity up the player hums into the horn (throat flutter at
/// `GROWL_HZ`, modulating the tone by up to `GROWL_DEPTH`).
const GROWL_FROM: f32 = 0.62;
const GROWL_HZ: f32 = 31.0;
const GROWL_DEPTH: f32 = 0.45;

/// Formants (Hz, Q, gain) of the two characters; morphing interpolates between them.
const SAX: [(f32, f32, f32); 4] = [
    (480.0, 2.0, 1.0),
    (1200.0, 3.0, 0.9),
    (2600.0, 4.0, 2.0),
    (3600.0, 5.0, 0.8),
];
const HARMON: [(f32, f32, f32); 4] = [
    (1050.0, 3.0, 0.35),
    (1850.0, 5.0, 1.0),
    (3100.0, 5.0, 0.6),
    (4400.0, 6.0, 0.35),
];
/// The open trumpet: broad brassy formants, a full low end, no mute's nasal peak.
const OPEN: [(f32, f32, f32); 4] = [
    (600.0, 1.6, 0.55),
    (1300.0, 2.2, 1.0),
    (2700.0, 3.0, 1.3),
    (4200.0, 4.0, 0.45),
];
/// The trumpet's formants for a mute amount (1: the harmon, exactly; 0: open).
fn trumpet_formants(mute: f32) -> [(f32, f32, f32); 4] {
    if mute >= 1.0 {
        return HARMON;
    }
    let m = mute.clamp(0.0, 1.0);
    std::array::from_fn(|i| {
        let (fo, qo, go) = OPEN[i];
        let (fh, qh, gh) = HARMON[i];
        (
            fo * (fh / fo).powf(m),
            qo + (qh - qo) * m,
            go + (gh - go) * m,
        )
    })
}

/// Monophonic lead (tenor sax <-> harmon-muted trumpet). See the module docs.
pub struct Lead {
    sr: f32,
    rng: Rng,
    active: bool,
    gate: bool,
    vel: Smooth,
    /// Growl flutter phase and its roughness (smoothed noise).
    growl_ph: f32,
    growl_lp: OnePole,
    /// The pitch's and the level's fast unsteadiness (`JITTER_CENTS`, `SHIMMER`).
    jitter: Wander,
    shimmer: Wander,
    /// Blowing envelope 0..1 and its per-sample coefficients.
    env: f32,
    // Pitch state (semitones).
    pitch: f32,
    glide_from: f32,
    glide_to: f32,
    glide_pos: f32,
    glide_step: f32,
    scoop: f32,
    scoop_k: f32,
    /// Samples since the last note start (vibrato delay).
    since: u32,
    vib_ph: f32,
    /// Slow random drift (-1..1): new targets every 0.15-0.4 s, smoothed. Moves the pitch by a
    /// few cents and the blowing pressure by a few percent.
    drift: f32,
    drift_target: f32,
    drift_timer: u32,
    drift_lp: OnePole,
    fall_pos: f32,
    fall_step: f32,
    /// Articulation dip for tongued legato notes.
    tongue: f32,
    tongue_k: f32,
    chiff: f32,
    chiff_k: f32,
    // Source.
    ph: f32,
    bright1: OnePole,
    bright2: OnePole,
    // Expression.
    character: Smooth,
    /// The trumpet's mute: 1 the harmon (the default), 0 open (glides).
    mute: Smooth,
    /// The mute amount the formants were last designed for.
    designed_mute: f32,
    breath: Smooth,
    vibrato: Smooth,
    // Resonators.
    formants: [Bandpass; 4],
    formant_gain: [f32; 4],
    direct: f32,
    designed: f32,
    air: Bandpass,
    /// An inactive tick has run since the horn last played (the filters' settings follow the
    /// settled controls), so while everything stays at rest a block can be skipped.
    rested: bool,
    mute_hp: Highpass,
    mute_hp_at: f32,
    tone_lp: Lowpass,
    /// Second stage: the bell's roll-off is steep (12 dB/octave left a comb to 12 kHz).
    tone_lp2: Lowpass,
    tone_lp_at: f32,
    dc: DcBlock,
    nscale: f32,
}

impl Lead {
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate;
        let mut s = Self {
            sr,
            rng: Rng::new(SEED),
            active: false,
            gate: false,
            vel: Smooth::new(sr, 0.03, 0.0),
            growl_ph: 0.0,
            growl_lp: OnePole::new(sr, 40.0),
            jitter: Wander::new(sr, JITTER_HZ),
            shimmer: Wander::new(sr, SHIMMER_HZ),
            env: 0.0,
            pitch: 60.0,
            glide_from: 60.0,
            glide_to: 60.0,
            glide_pos: 1.0,
            glide_step: 0.0,
            scoop: 0.0,
            scoop_k: 0.0,
            since: 0,
            vib_ph: 0.0,
            drift: 0.0,
            drift_target: 0.0,
            drift_timer: 0,
            drift_lp: OnePole::new(sr, 1.5),
            fall_pos: 0.0,
            fall_step: 0.0,
            tongue: 0.0,
            tongue_k: (-1.0 / (0.025 * sr)).exp(),
            chiff: 0.0,
            chiff_k: (-1.0 / (0.03 * sr)).exp(),
            ph: 0.0,
            bright1: OnePole::new(sr, 2000.0),
            bright2: OnePole::new(sr, 2000.0),
            character: Smooth::new(sr, 0.2, 0.0),
            mute: Smooth::new(sr, 0.2, 1.0),
            designed_mute: 1.0,
            breath: Smooth::new(sr, 0.1, 0.3),
            vibrato: Smooth::new(sr, 0.1, 0.4),
            formants: SAX.map(|(f, q, _)| bandpass(sr, f, q)),
            formant_gain: [0.0; 4],
            direct: 0.0,
            designed: -1.0,
            air: bandpass(sr, 2800.0, 0.8),
            rested: false,
            mute_hp: highpass(sr, 80.0, 0.7),
            mute_hp_at: -1.0,
            tone_lp: lowpass(sr, tone_corner(0.0, 1.0), 0.6),
            tone_lp2: lowpass(sr, tone_corner(0.0, 1.0), 0.6),
            tone_lp_at: -1.0,
            dc: DcBlock::new(sr, 15.0),
            nscale: (sr / 44100.0).sqrt(),
        };
        s.reset();
        s
    }

    pub fn reset(&mut self) {
        self.rng = Rng::new(SEED);
        self.active = false;
        self.rested = false;
        self.gate = false;
        self.vel.set_now(0.0);
        self.growl_ph = 0.0;
        self.growl_lp.reset();
        self.jitter.reset();
        self.shimmer.reset();
        self.env = 0.0;
        self.pitch = 60.0;
        self.glide_from = 60.0;
        self.glide_to = 60.0;
        self.glide_pos = 1.0;
        self.glide_step = 0.0;
        self.scoop = 0.0;
        self.since = 0;
        self.vib_ph = 0.0;
        self.drift = 0.0;
        self.drift_target = 0.0;
        self.drift_timer = 0;
        self.drift_lp.reset();
        self.fall_pos = 0.0;
        self.fall_step = 0.0;
        self.tongue = 0.0;
        self.chiff = 0.0;
        self.ph = 0.0;
        self.bright1.reset();
        self.bright2.reset();
        self.character.set_now(0.0);
        self.mute.set_now(1.0);
        self.designed_mute = 1.0;
        self.breath.set_now(0.3);
        self.vibrato.set_now(0.4);
        for f in &mut self.formants {
            f.reset();
        }
        self.designed = -1.0;
        self.air.reset();
        self.mute_hp.reset();
        self.mute_hp_at = -1.0;
        self.tone_lp.reset();
        self.tone_lp2.reset();
        self.tone_lp_at = -1.0;
        self.dc.reset();
    }

    /// Start `note` at `velocity` 0..1. While a note sounds this is a tongued legato step
    /// (short glide, small articulation dip); from silence it is a fresh attack with a scoop.
    pub fn note_on(&mut self, note: u8, velocity: f32) {
        let vel = unit_velocity(velocity);
        if vel <= 0.0 {
            self.note_off();
            return;
        }
        let target = (note as f32).clamp(LOWEST_NOTE, HIGHEST_NOTE);
        let c = self.character.target;
        self.vel.target = vel;
        self.since = 0;
        self.fall_step = 0.0;
        self.fall_pos = 0.0;
        if self.active && self.gate && self.env > 0.05 {
            self.start_glide(target, 0.035);
            self.tongue = 0.3;
            self.chiff = 0.4 * vel;
        } else {
            if !self.active {
                self.vel.set_now(vel);
            }
            self.pitch = target;
            self.glide_from = target;
            self.glide_to = target;
            self.glide_pos = 1.0;
            // Scoop from about a semitone below (a little less on hard trumpet attacks).
            self.scoop = -(0.7 + 0.4 * self.rng.f32()) * (1.0 - 0.3 * c * vel);
            self.scoop_k = (-1.0 / ((0.055 - 0.02 * c) * self.sr)).exp();
            self.chiff = 0.8 * vel;
            if !self.active {
                self.ph = self.rng.f32();
            }
        }
        self.active = true;
        self.gate = true;
    }

    /// Release the note (~80 ms).
    pub fn note_off(&mut self) {
        self.gate = false;
    }

    /// 0 = breathy tenor sax, 1 = harmon-muted trumpet (glides).
    pub fn set_character(&mut self, sax_to_trumpet: f32) {
        if sax_to_trumpet.is_finite() {
            self.character.target = sax_to_trumpet.clamp(0.0, 1.0);
        }
    }

    /// The trumpet's mute: 1 = the harmon mute (the default), 0 = open (a lyrical solo
    /// trumpet); glides. Only the trumpet side of the character hears it.
    pub fn set_mute(&mut self, mute: f32) {
        if mute.is_finite() {
            self.mute.target = mute.clamp(0.0, 1.0);
        }
    }

    /// breath 0..1 (breath-noise amount), vibrato 0..1 (depth of the delayed vibrato).
    pub fn set_expression(&mut self, breath: f32, vibrato: f32) {
        if breath.is_finite() {
            self.breath.target = breath.clamp(0.0, 1.0);
        }
        if vibrato.is_finite() {
            self.vibrato.target = vibrato.clamp(0.0, 1.0);
        }
    }

    /// Glide (legato, no re-attack) to `note` over `time_s`. From silence it starts a note
    /// that slides in from the last pitch.
    pub fn glide_to(&mut self, note: u8, time_s: f32) {
        let target = (note as f32).clamp(LOWEST_NOTE, HIGHEST_NOTE);
        let t = if time_s.is_finite() {
            time_s.clamp(0.0, 4.0)
        } else {
            0.0
        };
        if !(self.active && self.gate) {
            let from = self.pitch;
            let v = if self.vel.target > 0.0 {
                self.vel.target
            } else {
                0.7
            };
            self.note_on(note, v);
            self.scoop = 0.0;
            self.pitch = from;
        }
        self.since = 0;
        self.start_glide(target, t);
    }

    /// A fall-off: the pitch drops (accelerating, ~5 semitones) and the tone fades over
    /// `time_s`; the note ends with it.
    pub fn fall(&mut self, time_s: f32) {
        if !self.active {
            return;
        }
        let t = if time_s.is_finite() {
            time_s.clamp(0.05, 4.0)
        } else {
            0.4
        };
        self.fall_pos = 0.0;
        self.fall_step = 1.0 / (t * self.sr);
    }

    fn start_glide(&mut self, target: f32, time_s: f32) {
        self.glide_from = self.pitch;
        self.glide_to = target;
        if time_s <= 0.0 {
            self.pitch = target;
            self.glide_from = target;
            self.glide_pos = 1.0;
            self.glide_step = 0.0;
        } else {
            self.glide_pos = 0.0;
            self.glide_step = 1.0 / (time_s * self.sr);
        }
    }

    fn design(&mut self, c: f32, mute: f32) {
        let trumpet = trumpet_formants(mute);
        for i in 0..4 {
            let (fs, qs, gs) = SAX[i];
            let (ft, qt, gt) = trumpet[i];
            let f = fs * (ft / fs).powf(c);
            let q = qs + (qt - qs) * c;
            self.formants[i].set(f, q);
            self.formant_gain[i] = (gs + (gt - gs) * c) / q;
        }
        // The open trumpet's bell radiates its harmonics directly (the mute hides them).
        let trumpet_direct = if mute >= 1.0 {
            0.06
        } else {
            0.06 + 0.3 * (1.0 - mute)
        };
        self.direct = 0.55 + (trumpet_direct - 0.55) * c;
        self.designed = c;
        self.designed_mute = mute;
    }

    /// Silent and at rest: see `render`.
    fn asleep(&self) -> bool {
        !self.active
            && self.rested
            && self.character.settled()
            && self.mute.settled()
            && self.formants.iter().all(|f| f.asleep())
            && self.air.asleep()
            && self.mute_hp.asleep()
            && self.tone_lp.asleep()
            && self.tone_lp2.asleep()
            && self.dc.asleep()
    }

    crate::dsp::simd::wide_method! {
        /// ADDS the lead (centre) into `l`, `r` (len <= MAX_BLOCK).
        pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) = render_avx2 / render_portable
    }

    #[inline(always)]
    fn render_portable(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        let sr = self.sr;
        if self.asleep() {
            // Not playing, every filter gated to zero, the tone controls settled: exact zeros.
            // Breath, vibrato and velocity glide on as they would have.
            for _ in 0..n {
                self.breath.tick();
                self.vibrato.tick();
                self.vel.tick();
            }
            return;
        }
        for i in 0..n {
            let c = self.character.tick();
            let mu = self.mute.tick();
            let breath = self.breath.tick();
            let vib_amt = self.vibrato.tick();
            let vel = self.vel.tick();
            // The mute takes ~2 dB of loudness; the player blows harder into it.
            let out_gain = OUT_GAIN * (1.0 + 0.3 * c * mu);
            if (c - self.designed).abs() > 0.002 || (mu - self.designed_mute).abs() > 0.002 {
                self.design(c, mu);
            }
            let hp = 80.0 * (650.0f32 / 80.0).powf(c * mu);
            if (hp - self.mute_hp_at).abs() > 1.0 {
                self.mute_hp.set(hp, 0.7);
                self.mute_hp_at = hp;
            }
            let lp = tone_corner(c, mu);
            if (lp - self.tone_lp_at).abs() > 1.0 {
                self.tone_lp.set(lp, 0.6);
                self.tone_lp2.set(lp, 0.6);
                self.tone_lp_at = lp;
            }
            if !self.active {
                // Keep the filters running down to their exact-zero gates.
                let mut y = 0.0;
                for k in 0..4 {
                    y += self.formants[k].tick(0.0) * self.formant_gain[k];
                }
                y += self.air.tick(0.0);
                let y = self
                    .dc
                    .tick(self.tone_lp2.tick(self.tone_lp.tick(self.mute_hp.tick(y))))
                    * out_gain;
                let y = safety(y);
                l[i] += y * core::f32::consts::FRAC_1_SQRT_2;
                r[i] += y * core::f32::consts::FRAC_1_SQRT_2;
                self.rested = true;
                continue;
            }
            self.rested = false;

            // ---- envelope ----
            let mut fall_gain = 1.0;
            let mut fall_pitch = 0.0;
            if self.fall_step > 0.0 {
                self.fall_pos += self.fall_step;
                let u = self.fall_pos.min(1.0);
                fall_pitch = -5.0 * u * u;
                fall_gain = (1.0 - u) * (1.0 - u);
                if self.fall_pos >= 1.0 {
                    self.gate = false;
                    self.fall_step = 0.0;
                    self.env = 0.0;
                }
            }
            let (target, tau) = if self.gate {
                (1.0, 0.028 - 0.014 * c)
            } else {
                (0.0, 0.045)
            };
            let k = 1.0 - (-1.0 / (tau * sr)).exp();
            self.env = flush(self.env + k * (target - self.env));
            self.tongue = flush(self.tongue * self.tongue_k);
            self.chiff = flush(self.chiff * self.chiff_k);
            let shimmer = self.shimmer.tick(&mut self.rng);
            let shimmer = 1.0 + shimmer * (SHIMMER.0 + (SHIMMER.1 - SHIMMER.0) * c);
            let amp = self.env
                * (1.0 - self.tongue)
                * fall_gain
                * (1.0 + 0.06 * self.drift)
                * shimmer.max(0.0);

            // ---- pitch ----
            if self.glide_pos < 1.0 {
                self.glide_pos = (self.glide_pos + self.glide_step).min(1.0);
                let u = self.glide_pos;
                let s = u * u * (3.0 - 2.0 * u);
                self.pitch = self.glide_from + (self.glide_to - self.glide_from) * s;
            }
            self.scoop = flush(self.scoop * self.scoop_k);
            // Delayed vibrato: starts ~200 ms into the note, fades in over ~300 ms.
            self.since = self.since.saturating_add(1);
            let t = self.since as f32 / sr;
            let vib_in = ((t - 0.2) / 0.3).clamp(0.0, 1.0);
            let vib_rate = 5.2 + 0.7 * c;
            self.vib_ph = wrap01(self.vib_ph + vib_rate / sr);
            let vib = vib_amt * 0.32 * vib_in * sin_turns(self.vib_ph);
            // Slow drift of a few cents (a player is never a sine generator).
            if self.drift_timer == 0 {
                self.drift_target = self.rng.bipolar();
                self.drift_timer = (sr * self.rng.range(0.15, 0.4)) as u32;
            } else {
                self.drift_timer -= 1;
            }
            self.drift = self.drift_lp.tick(self.drift_target);
            let jitter = self.jitter.tick(&mut self.rng);
            let jitter = jitter * 0.01 * (JITTER_CENTS.0 + (JITTER_CENTS.1 - JITTER_CENTS.0) * c);
            let p = self.pitch + self.scoop + fall_pitch + vib + self.drift * 0.04 + jitter;
            let f = midi_hz(p);
            let dt = (f / sr).min(0.45);

            // ---- source ----
            let saw = saw_blep(self.ph, dt);
            let sub = sin_turns(self.ph);
            self.ph = wrap01(self.ph + dt);
            let src = saw * (0.6 + 0.4 * c) + sub * (0.5 - 0.45 * c);
            // Brightness follows the blowing: louder = brighter.
            let blow = amp * (0.35 + 0.65 * vel);
            // (A reed's upper partials grow faster than its level: the corner rises steeply
            // with the force of the blowing. The tenor's reed is open even when soft: its
            // presence band, 1-4 kHz, is where a General MIDI tenor has it; the muted
            // trumpet's corner starts lower.)
            let b2 = blow * blow;
            let reed = b2 * b2 + (b2 * blow.sqrt() - b2 * b2) * c;
            let corner = f * (1.6 - 0.4 * c + (24.0 - 6.0 * c) * reed) + 500.0 - 300.0 * c;
            self.bright1.set_hz(sr, corner);
            self.bright2.set_hz(sr, corner);
            let tone = self.bright2.tick(self.bright1.tick(src)) * amp;
            // ---- growl ----
            // Blown hard, the player hums into the horn: the throat's flutter (~30 Hz, rough)
            // modulates the tone and drives it into a little grit. The sax growls more than
            // the muted trumpet; soft playing never does (`GROWL_FROM` velocity and up).
            let g = ((vel - GROWL_FROM) / (1.0 - GROWL_FROM)).clamp(0.0, 1.0) * (1.0 - 0.6 * c);
            let tone = if g > 0.0 {
                self.growl_ph = wrap01(self.growl_ph + (GROWL_HZ + 6.0 * self.drift) / sr);
                let rough = self.growl_lp.tick(self.rng.bipolar());
                let flutter = 0.5 + 0.5 * sin_turns(self.growl_ph) + 0.8 * rough;
                let m = 1.0 - GROWL_DEPTH * g * flutter.clamp(0.0, 1.5);
                let t = tone * m;
                t + 0.35 * g * (t * 3.0).tanh() * amp
            } else {
                tone
            };
            // ---- breath ----
            let nz = self.rng.bipolar() * self.nscale;
            // (the breath dies with the tone: no hiss tail after the release)
            let breath_env = (0.3 + 0.7 * self.env) * (8.0 * self.env).min(1.0);
            let breath_amt = breath * (0.05 + 0.10 * (1.0 - c)) * breath_env
                + 0.12 * self.chiff
                + 0.08 * breath * (1.0 - fall_gain);
            let bn = nz * breath_amt * (1.0 - self.tongue) * (1.0 + BREATH_PULSE * sub);
            // ---- resonators ----
            let x = tone + bn * 0.5;
            let mut y = self.direct * tone;
            // The tenor's presence formants open with the blowing (a soft reed is round, a
            // hard one edgy); the muted trumpet's stay as they are.
            let presence = 1.0 + (0.2 + b2.min(1.0) - 1.0) * (1.0 - c);
            y += self.formants[0].tick(x) * self.formant_gain[0];
            for k in 1..4 {
                y += self.formants[k].tick(x) * self.formant_gain[k] * presence;
            }
            y += self.air.tick(bn) * (0.5 - 0.3 * c);
            let y = self
                .dc
                .tick(self.tone_lp2.tick(self.tone_lp.tick(self.mute_hp.tick(y))))
                * out_gain;
            let y = safety(y);
            l[i] += y * core::f32::consts::FRAC_1_SQRT_2;
            r[i] += y * core::f32::consts::FRAC_1_SQRT_2;

            // ---- end of note ----
            if !self.gate && self.env < 1e-5 && self.chiff == 0.0 {
                self.active = false;
                self.env = 0.0;
                self.tongue = 0.0;
                self.bright1.reset();
                self.bright2.reset();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    fn play(x: &mut Lead, sizes: &[usize], n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, sizes, |l, r| x.render(l, r))
    }

    #[derive(Clone, Copy)]
    enum Ev {
        On(u8, f32),
        Off,
        Glide(u8, f32),
        Fall(f32),
        Char(f32),
        Expr(f32, f32),
    }

    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut x = Lead::new(sr);
        let events = [
            (0, Ev::Expr(0.6, 0.8)),
            (0, Ev::On(62, 0.8)),
            (3001, Ev::On(65, 0.7)),
            (6000, Ev::Glide(69, 0.2)),
            (9000, Ev::Char(1.0)),
            (12000, Ev::Fall(0.3)),
            (30000, Ev::On(70, 0.9)),
            (33333, Ev::Off),
        ];
        let at = events.map(|e| e.0);
        let apply = |x: &mut Lead, i: usize| match events[i].1 {
            Ev::On(n, v) => x.note_on(n, v),
            Ev::Off => x.note_off(),
            Ev::Glide(n, t) => x.glide_to(n, t),
            Ev::Fall(t) => x.fall(t),
            Ev::Char(c) => x.set_character(c),
            Ev::Expr(b, v) => x.set_expression(b, v),
        };
        play_script(&mut x, 40000, sizes, &at, apply, |x, l, r| x.render(l, r))
    }

    #[test]
    fn lead_finite_no_subnormals_all_rates() {
        for sr in RATES {
            for c in [0.0, 1.0] {
                let mut x = Lead::new(sr);
                x.set_character(c);
                x.set_expression(1.0, 1.0);
                x.note_on(34, 1.0);
                let (l, r) = play(&mut x, &[64], (sr * 0.5) as usize);
                x.glide_to(96, 0.1);
                let (l2, r2) = play(&mut x, &[64], (sr * 0.5) as usize);
                x.note_off();
                let (l3, r3) = play(&mut x, &[64], (sr * 1.0) as usize);
                for v in [&l, &r, &l2, &r2, &l3, &r3] {
                    assert_clean(v, "lead");
                }
                assert!(peak(&l) > 0.05, "lead silent at {sr}");
            }
        }
    }

    #[test]
    fn the_open_trumpet_keeps_its_low_end_and_its_level() {
        // The harmon mute's high-pass (~650 Hz) takes the bottom away; the open bell keeps
        // it: the share of power below 700 Hz of a G4 (392 Hz fundamental) is higher open.
        let run = |mute: f32| {
            let mut x = Lead::new(48000.0);
            x.set_character(1.0);
            x.set_mute(mute);
            play(&mut x, &[64], 12000); // the character and mute settle
            x.note_on(67, 0.7);
            let (l, _) = play(&mut x, &[64], 24000);
            let tail = &l[8000..];
            (1.0 - power_fraction_above(tail, 48000.0, 700.0), peak(tail))
        };
        let (low_open, peak_open) = run(0.0);
        let (low_muted, peak_muted) = run(1.0);
        assert!(
            low_open > low_muted * 1.5,
            "below 700 Hz: open {low_open:.3}, muted {low_muted:.3}"
        );
        assert!(peak_open > 0.1 && peak_open < 0.8, "open peak {peak_open}");
        assert!(peak_muted > 0.1, "muted peak {peak_muted}");
    }

    /// Period estimates (samples), one per cycle of `x` near `t0` samples: the lag that best
    /// lines up two cycles with the next two (normalised correlation, parabolic peak).
    fn periods(x: &[f32], t0: f32) -> Vec<f64> {
        let w = (2.0 * t0) as usize;
        let (lo, hi) = ((0.9 * t0) as usize, (1.1 * t0) as usize + 1);
        let corr = |p: usize, lag: usize| {
            let (a, b) = (&x[p..p + w], &x[p + lag..p + lag + w]);
            let ab: f64 = a.iter().zip(b).map(|(u, v)| (*u * *v) as f64).sum();
            let aa: f64 = a.iter().map(|u| (*u * *u) as f64).sum();
            let bb: f64 = b.iter().map(|v| (*v * *v) as f64).sum();
            ab / (aa * bb).sqrt().max(1e-30)
        };
        let mut out = Vec::new();
        let mut p = 0;
        while p + hi + 1 + w < x.len() {
            let c: Vec<f64> = (lo - 1..=hi + 1).map(|lag| corr(p, lag)).collect();
            let k = (1..c.len() - 1)
                .max_by(|&i, &j| c[i].total_cmp(&c[j]))
                .unwrap();
            let (y0, y1, y2) = (c[k - 1], c[k], c[k + 1]);
            let shift = 0.5 * (y0 - y2) / (y0 - 2.0 * y1 + y2);
            out.push((lo - 1 + k) as f64 + shift);
            p += t0 as usize;
        }
        out
    }

    #[test]
    fn the_unsteadiness_has_the_rms_it_is_given() {
        for (sr, hz) in [
            (44100.0f32, JITTER_HZ),
            (48000.0, SHIMMER_HZ),
            (96000.0, JITTER_HZ),
        ] {
            let mut w = Wander::new(sr, hz);
            let mut rng = Rng::new(3);
            let n = (20.0 * sr) as usize;
            let sq: f64 = (0..n)
                .map(|_| {
                    let y = w.tick(&mut rng);
                    (y * y) as f64
                })
                .sum();
            let rms = (sq / n as f64).sqrt();
            assert!((rms - 1.0).abs() < 0.08, "{sr} Hz, {hz} Hz: rms {rms}");
        }
    }

    #[test]
    fn a_held_note_is_not_an_oscillator() {
        // Local jitter (mean |T[n+1] - T[n]| over mean T, as voice analysis measures it) of a
        // held note without vibrato: a played reed's or lips' period moves by a few tenths of
        // a percent from cycle to cycle; the drift alone (a few cents, 1.5 Hz) moved it by
        // about 0.01 %. The tenor's is the larger.
        let sr = 48000.0;
        let jitter = |c: f32| {
            let mut x = Lead::new(sr);
            x.set_character(c);
            x.set_mute(0.0);
            x.set_expression(0.3, 0.0);
            play(&mut x, &[64], 12000); // the character settles
            x.note_on(58, 0.6);
            let (l, _) = play(&mut x, &[64], 48000);
            let t = periods(&l[12000..], sr / midi_hz(58.0));
            let mean = t.iter().sum::<f64>() / t.len() as f64;
            let step =
                t.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (t.len() - 1) as f64;
            100.0 * step / mean
        };
        let (tenor, trumpet) = (jitter(0.0), jitter(1.0));
        assert!(
            (0.08..1.0).contains(&tenor),
            "tenor's local jitter {tenor:.3} %"
        );
        assert!(
            (0.03..tenor).contains(&trumpet),
            "trumpet's local jitter {trumpet:.3} % (tenor {tenor:.3} %)"
        );
    }

    #[test]
    fn lead_reset_reproduces_output() {
        let mut x = Lead::new(48000.0);
        let run = |x: &mut Lead| {
            x.set_expression(0.7, 0.6);
            x.note_on(60, 0.8);
            let (mut l, _) = play(x, &[64], 20000);
            x.glide_to(64, 0.1);
            x.fall(0.2);
            let (l2, _) = play(x, &[64], 20000);
            l.extend(l2);
            l
        };
        let a = run(&mut x);
        x.reset();
        assert_eq!(a, run(&mut x));
    }

    #[test]
    fn lead_block_size_independent() {
        let a = scripted(44100.0, &[64]);
        assert_eq!(a, scripted(44100.0, &[1, 7, 33]));
        assert_eq!(a, scripted(44100.0, &[63, 2, 19]));
    }

    #[test]
    fn lead_peak_below_one_and_moderate() {
        for c in [0.0, 0.5, 1.0] {
            let mut x = Lead::new(48000.0);
            x.set_character(c);
            x.set_expression(1.0, 1.0);
            let mut pk = 0.0f32;
            for n in [34u8, 46, 58, 70, 82, 94] {
                x.note_on(n, 1.0);
                let (l, _) = play(&mut x, &[64], 12000);
                pk = pk.max(peak(&l));
            }
            assert!(pk < 1.0, "peak {pk}");
            let mut x = Lead::new(48000.0);
            x.set_character(c);
            x.note_on(62, 0.8);
            let (l, _) = play(&mut x, &[64], 24000);
            let p = peak(&l);
            assert!(p > 0.1 && p < 0.7, "character {c}: velocity 0.8 peak {p}");
        }
    }

    #[test]
    fn lead_decays_to_exact_silence() {
        let mut x = Lead::new(44100.0);
        x.set_expression(1.0, 1.0);
        x.note_on(60, 1.0);
        play(&mut x, &[64], 20000);
        x.note_off();
        let (l, r) = play(&mut x, &[64], 44100 * 2);
        assert!(l[l.len() - 2000..].iter().all(|v| *v == 0.0));
        assert!(r[r.len() - 2000..].iter().all(|v| *v == 0.0));
        // A fall ends the note by itself.
        x.note_on(67, 0.9);
        play(&mut x, &[64], 10000);
        x.fall(0.3);
        let (l, _) = play(&mut x, &[64], 44100 * 2);
        assert!(l[l.len() - 2000..].iter().all(|v| *v == 0.0));
    }

    #[test]
    fn lead_pitch_settles_after_scoop_and_glide() {
        let sr = 48000.0;
        for c in [0.0f32, 1.0] {
            let mut x = Lead::new(sr);
            x.set_character(c);
            x.set_expression(0.0, 0.0);
            play(&mut x, &[64], 24000); // let the character settle
            x.note_on(57, 0.8);
            let (l, _) = play(&mut x, &[64], 24000);
            // Scoop: the first 20 ms are flat of the target.
            let early = measure_hz(&l[480..480 + 2600], sr, midi_hz(56.5));
            assert!(early < midi_hz(57.0) * 0.995, "no scoop: {early}");
            let f = measure_hz(&l[9600..], sr, midi_hz(57.0));
            let cents = 1200.0 * (f / midi_hz(57.0)).log2();
            assert!(cents.abs() < 8.0, "character {c}: settled at {cents} cents");
            x.glide_to(64, 0.1);
            let (l, _) = play(&mut x, &[64], 24000);
            let f = measure_hz(&l[9600..], sr, midi_hz(64.0));
            let cents = 1200.0 * (f / midi_hz(64.0)).log2();
            assert!(cents.abs() < 8.0, "glide target off by {cents} cents");
        }
    }

    #[test]
    fn lead_vibrato_is_delayed() {
        // Pitch deviation in the first 150 ms (after the scoop) vs. 600-900 ms in.
        let sr = 48000.0;
        let mut x = Lead::new(sr);
        x.set_expression(0.0, 1.0);
        x.note_on(69, 0.8);
        let (l, _) = play(&mut x, &[64], 48000);
        let spread = |a: usize, b: usize| {
            let mut lo = f32::MAX;
            let mut hi = 0.0f32;
            let step = 960; // 20 ms windows
            let mut s = a;
            while s + step <= b {
                let f = measure_hz(&l[s..s + 2 * step], sr, 440.0);
                lo = lo.min(f);
                hi = hi.max(f);
                s += step;
            }
            1200.0 * (hi / lo).log2()
        };
        let early = spread(4800, 9600);
        let late = spread(28800, 43200);
        assert!(late > 15.0, "no vibrato: {late} cents");
        assert!(
            early < late * 0.5,
            "vibrato not delayed: early {early}, late {late}"
        );
    }
}

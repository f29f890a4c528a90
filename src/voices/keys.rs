//! Rhodes-style electric piano for comping: a small spectral/modal model of a struck tine.
//!
//! Per voice: the tine's fundamental as a sine carrier phase-modulated by itself (ratio 1,
//! index rising with velocity and brightness and decaying fast: the "bark"), the tonebar as a
//! second, very slightly detuned partial with a longer decay (slow beating warmth), the tine's
//! inharmonic cantilever overtone (~7x) as a short bell "ping", a felt-hammer thunk (short
//! lowpassed noise) and the pickup's gentle asymmetric nonlinearity applied to the summed
//! displacement. Decay is two-stage (fast initial drop, then a long sustain of several seconds
//! for low notes, shorter for high ones); the damper releases in ~150-300 ms.
//! On the bus: a stereo auto-pan tremolo ("suitcase" vibrato) around slightly right of centre.
//!
//! 12 voices; a stolen voice is finished by a 5 ms faded copy of itself, so stealing never
//! clicks. All memory is inline (no heap at all), nothing allocates after `new`.

use super::common::{
    pan_gains, pick_key_slot, safety, sin_turns, unit_velocity, wrap01, DcBlock, KeySlot, Smooth,
};
use crate::dsp::util::{flush, midi_hz};
use crate::dsp::Rng;

const SEED: u64 = 0x4B45_5953_0002;
const VOICES: usize = 12;
const LOWEST_NOTE: u8 = 36;
const HIGHEST_NOTE: u8 = 96;
/// Centre of the tremolo auto-pan: slightly right.
const PAN: f32 = 0.15;
const TREMOLO_HZ: f32 = 4.6;
/// Output gain (one note at velocity 0.8 peaks ~0.15, a four-note voicing ~0.35-0.45).
const OUT_GAIN: f32 = 0.22;
/// Fixed per-slot detune in cents (voices are never perfectly in tune: warmth).
const SLOT_DETUNE: [f32; VOICES] = [
    -2.5, 1.8, -0.9, 3.1, -1.7, 0.6, 2.4, -3.0, 1.1, -0.4, 2.9, -2.1,
];
/// Scales the summed partials (tine 1 + tonebar 0.22 + ping 0.11) to at most 1.
const NORM: f32 = 0.8;
/// Where the tine "ping" partial is aimed (Hz) and its largest ratio to the fundamental.
const PING_TARGET_HZ: f32 = 4800.0;
const PING_MAX_RATIO: f32 = 18.0;

#[derive(Clone, Copy, Debug)]
struct Voice {
    active: bool,
    held: bool,
    note: u8,
    /// Order of the note-on (for stealing the oldest).
    age: u64,
    // Oscillators (phases in turns, increments per sample).
    ph: f32,
    dph: f32,
    ph_bar: f32,
    dph_bar: f32,
    ph_ping: f32,
    dph_ping: f32,
    // Envelopes (multiplicative per-sample decays).
    attack: f32,
    attack_step: f32,
    fast: f32,
    fast_k: f32,
    slow: f32,
    slow_k: f32,
    bar: f32,
    bar_k: f32,
    ping: f32,
    ping_k: f32,
    index: f32,
    index_k: f32,
    index_sus: f32,
    /// Tine displacement scale (velocity): drives the pickup nonlinearity harder when loud.
    drive: f32,
    release_k: f32,
    rel: f32,
    // Hammer thunk: decaying noise through two one-pole lowpasses.
    thunk: f32,
    thunk_k: f32,
    thunk_a: f32,
    thunk_z1: f32,
    thunk_z2: f32,
    /// Output fade of a stolen voice's ghost (1 -> 0 over 5 ms); 1 for a normal voice.
    fade: f32,
    fade_step: f32,
    /// Keeps the thunk's filtered-noise loudness independent of the sample rate.
    nscale: f32,
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

impl Voice {
    const IDLE: Voice = Voice {
        active: false,
        held: false,
        note: 60,
        age: 0,
        ph: 0.0,
        dph: 0.0,
        ph_bar: 0.0,
        dph_bar: 0.0,
        ph_ping: 0.0,
        dph_ping: 0.0,
        attack: 0.0,
        attack_step: 0.0,
        fast: 0.0,
        fast_k: 0.0,
        slow: 0.0,
        slow_k: 0.0,
        bar: 0.0,
        bar_k: 0.0,
        ping: 0.0,
        ping_k: 0.0,
        index: 0.0,
        index_k: 0.0,
        index_sus: 0.0,
        drive: 0.0,
        release_k: 1.0,
        rel: 1.0,
        thunk: 0.0,
        thunk_k: 0.0,
        thunk_a: 0.0,
        thunk_z1: 0.0,
        thunk_z2: 0.0,
        fade: 1.0,
        fade_step: 0.0,
        nscale: 1.0,
    };

    /// Current loudness estimate (for stealing the quietest).
    fn loudness(&self) -> f32 {
        (self.fast + self.slow + self.bar) * self.rel * self.drive * self.fade
    }

    /// One sample of tine + pickup.
    #[inline]
    fn tick(&mut self, bright: f32, rng: &mut Rng) -> f32 {
        // Hammer contact: a ~1.5 ms raised ramp.
        if self.attack < 1.0 {
            self.attack = (self.attack + self.attack_step).min(1.0);
        }
        let att = self.attack * self.attack * (3.0 - 2.0 * self.attack);
        let env = (self.fast + self.slow) * self.rel * att;
        let idx = (self.index + self.index_sus) * (0.35 + 0.9 * bright);
        // Tine: self-modulated sine (ratio 1). idx is in radians; phases in turns.
        let m = sin_turns(self.ph);
        let tine = sin_turns(self.ph + idx * m * (1.0 / core::f32::consts::TAU));
        let bar = sin_turns(self.ph_bar) * self.bar * self.rel * att;
        let ping = sin_turns(self.ph_ping) * self.ping * att;
        // Tine displacement at the pickup (normalised so |x| < drive <= 1).
        let x = self.drive * NORM * (env * tine + bar + ping);
        // Pickup: the flux through the coil goes like 1/(gap - x): an asymmetric curve that
        // adds a strong 2nd harmonic (and some 3rd) when the tine swings wide (hard hits).
        // Its mean for a sine of amplitude a is (1/b)(1/sqrt(1-(ab)^2) - 1): removed, so the
        // pickup adds no DC (the bus DC blocker only sees a tiny residual).
        let b = 0.62 + 0.18 * bright;
        let a = (self.drive * NORM * (env + self.bar * self.rel * att)).min(0.99);
        let ab = a * b;
        let mean = (1.0 / (1.0 - ab * ab).sqrt() - 1.0) / b;
        let y = (x / (1.0 - b * x) - mean) * (1.0 / NORM);
        // Hammer thunk (felt on metal: short, dull).
        let mut th = 0.0;
        if self.thunk > 1e-5 {
            let n = rng.bipolar() * self.thunk * self.nscale;
            self.thunk *= self.thunk_k;
            self.thunk_z1 += self.thunk_a * (n - self.thunk_z1);
            self.thunk_z2 += self.thunk_a * (self.thunk_z1 - self.thunk_z2);
            th = self.thunk_z2;
        } else if self.thunk != 0.0 {
            self.thunk = 0.0;
            self.thunk_z1 = 0.0;
            self.thunk_z2 = 0.0;
        }

        // Advance.
        self.ph = wrap01(self.ph + self.dph);
        self.ph_bar = wrap01(self.ph_bar + self.dph_bar);
        self.ph_ping = wrap01(self.ph_ping + self.dph_ping);
        self.fast = flush(self.fast * self.fast_k);
        self.slow = flush(self.slow * self.slow_k);
        self.bar = flush(self.bar * self.bar_k);
        self.ping = flush(self.ping * self.ping_k);
        self.index = flush(self.index * self.index_k);
        if !self.held {
            self.rel = flush(self.rel * self.release_k);
            self.index_sus = flush(self.index_sus * self.release_k);
        }
        let mut out = (y + th) * self.fade;
        if self.fade_step > 0.0 {
            self.fade -= self.fade_step;
            if self.fade <= 0.0 {
                self.active = false;
                self.fade = 0.0;
                out = 0.0;
            }
        }
        // Inaudible: free the voice.
        if self.loudness() < 2e-6 && self.thunk == 0.0 && self.attack >= 1.0 {
            self.active = false;
            return 0.0;
        }
        out
    }
}

/// Rhodes-style electric piano. See the module docs.
pub struct Keys {
    sr: f32,
    voices: [Voice; VOICES],
    /// Faded copies of stolen voices (one slot per voice).
    ghosts: [Voice; VOICES],
    counter: u64,
    rng: Rng,
    bright: Smooth,
    trem_depth: Smooth,
    trem_ph: f32,
    trem_dph: f32,
    dc: DcBlock,
}

impl Keys {
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate;
        let mut k = Self {
            sr,
            voices: [Voice::IDLE; VOICES],
            ghosts: [Voice::IDLE; VOICES],
            counter: 0,
            rng: Rng::new(SEED),
            bright: Smooth::new(sr, 0.05, 0.5),
            trem_depth: Smooth::new(sr, 0.08, 0.0),
            trem_ph: 0.0,
            trem_dph: TREMOLO_HZ / sr,
            dc: DcBlock::new(sr, 8.0),
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
        self.trem_ph = 0.0;
        self.dc.reset();
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
            g.fade_step = 1.0 / (0.005 * self.sr);
            self.ghosts[slot] = g;
        }
        self.counter += 1;
        let sr = self.sr;
        let rng = &mut self.rng;
        let pitch01 = (note - LOWEST_NOTE) as f32 / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
        let cents = SLOT_DETUNE[slot] + rng.gauss(0.6);
        let f = midi_hz(note as f32 + cents * 0.01);
        let per_s = |t60: f32| (-6.907_755 / (t60 * sr)).exp();
        let v = &mut self.voices[slot];
        *v = Voice::IDLE;
        v.active = true;
        v.held = true;
        v.note = note;
        v.age = self.counter;
        v.ph = rng.f32();
        v.dph = f / sr;
        v.ph_bar = rng.f32();
        // Tonebar a hair sharp: a slow beat of ~0.1-1 Hz against the tine.
        v.dph_bar = f * (1.0 + 0.0006 + 0.0003 * rng.f32()) / sr;
        v.ph_ping = rng.f32();
        // The tine's upper (cantilever) mode, placed inharmonically in the 1-5 kHz presence
        // region where the metallic "ping" of a real Rhodes sits.
        let ratio = (PING_TARGET_HZ / f).clamp(2.0, PING_MAX_RATIO).floor() + 0.41;
        let ping_hz = f * ratio * (1.0 + 0.01 * rng.bipolar());
        v.dph_ping = ping_hz / sr;
        v.attack = 0.0;
        v.attack_step = 1.0 / ((0.0025 - 0.0012 * vel) * sr).max(1.0);
        // Two-stage amplitude: fast initial drop, long tail (several seconds low, short high).
        let t_slow = 12.0 * (1.0 - 0.75 * pitch01);
        let t_fast = 1.2 * (1.0 - 0.5 * pitch01);
        v.fast = 0.35;
        v.fast_k = per_s(t_fast);
        v.slow = 0.65;
        v.slow_k = per_s(t_slow);
        v.bar = 0.22;
        v.bar_k = per_s(t_slow * 1.3);
        // Bell ping, faded out as it approaches Nyquist (and above ~12 kHz).
        let ny = (0.42 * sr).min(12000.0);
        let ping_ok = ((ny - ping_hz) / (0.25 * ny)).clamp(0.0, 1.0);
        v.ping = 0.11 * vel * vel * ping_ok;
        v.ping_k = per_s(0.12 + 0.1 * (1.0 - pitch01));
        // Bark: FM index with velocity, decaying fast; less for high notes (already bright).
        v.index = (0.2 + 2.0 * vel * vel) * (1.25 - 0.85 * pitch01);
        v.index_k = per_s(3.5 * (1.0 - 0.5 * pitch01));
        v.index_sus = (0.2 + 0.35 * vel) * (1.0 - 0.6 * pitch01);
        v.drive = 0.1 + 0.9 * vel.powf(1.3);
        v.release_k = per_s(0.28 - 0.13 * pitch01);
        v.rel = 1.0;
        v.thunk = 0.5 * vel * (0.6 + 0.4 * vel);
        v.thunk_k = per_s(0.045);
        v.thunk_a = super::common::OnePole::new(sr, 500.0 + 700.0 * vel).a;
        v.fade = 1.0;
        v.fade_step = 0.0;
        v.nscale = (sr / 44100.0).sqrt();
    }

    /// Damper on: release over ~150-300 ms.
    pub fn note_off(&mut self, note: u8) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        for v in self.voices.iter_mut() {
            if v.active && v.held && v.note == note {
                v.held = false;
            }
        }
    }

    pub fn all_notes_off(&mut self) {
        for v in self.voices.iter_mut() {
            v.held = false;
        }
    }

    /// brightness 0..1 (tine bark on top of velocity), tremolo 0..1 (stereo auto-pan depth).
    pub fn set_tone(&mut self, brightness: f32, tremolo: f32) {
        if brightness.is_finite() {
            self.bright.target = brightness.clamp(0.0, 1.0);
        }
        if tremolo.is_finite() {
            self.trem_depth.target = tremolo.clamp(0.0, 1.0);
        }
    }

    /// ADDS into `l`, `r` (len <= MAX_BLOCK): slightly right of centre, tremolo auto-pans.
    pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        for i in 0..n {
            let bright = self.bright.tick();
            let depth = self.trem_depth.tick();
            let mut s = 0.0;
            for k in 0..VOICES {
                if self.voices[k].active {
                    s += self.voices[k].tick(bright, &mut self.rng);
                }
                if self.ghosts[k].active {
                    s += self.ghosts[k].tick(bright, &mut self.rng);
                }
            }
            let y = safety(self.dc.tick(s * OUT_GAIN));
            let pan = PAN + 0.8 * depth * sin_turns(self.trem_ph);
            self.trem_ph = wrap01(self.trem_ph + self.trem_dph);
            let (gl, gr) = pan_gains(pan);
            l[i] += y * gl;
            r[i] += y * gr;
        }
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
}

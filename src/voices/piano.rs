//! Acoustic grand piano for comping and ballads: a modal model of hammered strings.
//!
//! Per voice (one key): up to 12 string partials at stretched frequencies
//! `f_n = n f0 sqrt(1 + B n^2)` (the stiffness coefficient B grows up the keyboard), each a
//! pair of damped phasors: the *prompt* sound (fast decay) and the *aftersound* (slow decay,
//! a fraction of a cent away: the unison strings beating), which gives the piano's two-stage
//! decay. The felt hammer sets the spectrum: the strike point at 1/8 of the string (its comb
//! of weak partials) and a corner that rises with velocity (a harder blow is brighter, not
//! only louder). At the attack a short knock (hammer and key on the keybed); the soundboard
//! as a few broad body modes under the strings. Dampers stop a note within 0.1-0.4 s of the
//! key lifting (the top notes have none and ring on); the sustain pedal holds every damper
//! off until it is lifted.
//!
//! Audio thread: 12 voices plus 12 fading copies for stealing, all inline (no heap); the
//! phasor banks are flat arrays the compiler vectorises. Idle voices cost nothing.

use super::common::{
    bandpass, pan_gains, pick_key_slot, safety, unit_velocity, Bandpass, DcBlock, KeySlot, OnePole,
    Smooth,
};
use crate::dsp::util::{flush, midi_hz};
use crate::dsp::Rng;

const SEED: u64 = 0x5049_414E_4F00_0001;
const VOICES: usize = 12;
/// String partials per key (fewer where they would pass `PARTIAL_CEILING_HZ`).
const PARTIALS: usize = 12;
/// Phasors per voice: a prompt and an aftersound phasor per partial.
const LANES: usize = 2 * PARTIALS;
const LOWEST_NOTE: u8 = 21;
const HIGHEST_NOTE: u8 = 108;
/// Keys from here up have no dampers (as on a grand: the top octave and a half).
const UNDAMPED_FROM: u8 = 89;
/// No partial above this (or 0.45 of the sample rate).
const PARTIAL_CEILING_HZ: f32 = 11_000.0;
/// Where the hammer strikes, as a fraction of the string's length.
const STRIKE_POINT: f32 = 0.125;
/// Share of each partial's energy in the slowly decaying aftersound.
const AFTERSOUND: f32 = 0.28;
/// The prompt sound decays this many times faster than the aftersound.
const PROMPT_RATIO: f32 = 7.0;
/// Output gain (a four-note voicing at velocity 0.7 peaks about 0.35-0.45, like the Rhodes).
const OUT_GAIN: f32 = 0.1;
/// Soundboard body resonances (Hz, Q, gain at the centre): broad, low bumps under the strings.
const BOARD: [(f32, f32, f32); 3] = [(110.0, 1.4, 0.3), (240.0, 1.6, 0.22), (520.0, 1.8, 0.12)];
/// Samples between checks for a voice that has rung down to silence.
const CHECK_EVERY: u32 = 256;

#[derive(Clone, Copy, Debug)]
struct Voice {
    active: bool,
    held: bool,
    has_damper: bool,
    note: u8,
    age: u64,
    /// Phasor state (amplitude folded in) and per-sample rotation (decay folded in).
    re: [f32; LANES],
    im: [f32; LANES],
    c: [f32; LANES],
    s: [f32; LANES],
    /// Damper gain (1 while the key or pedal holds it) and its per-sample decay.
    rel: f32,
    rel_k: f32,
    /// Hammer/key knock: decaying noise through two one-poles.
    knock: f32,
    knock_k: f32,
    knock_a: f32,
    kz1: f32,
    kz2: f32,
    noise: u32,
    gl: f32,
    gr: f32,
    /// Output fade of a stolen voice's copy (1 -> 0 over 5 ms).
    fade: f32,
    fade_step: f32,
    check: u32,
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
        self.energy()
    }
    fn struck(&self) -> u64 {
        self.age
    }
}

impl Voice {
    const IDLE: Voice = Voice {
        active: false,
        held: false,
        has_damper: true,
        note: 60,
        age: 0,
        re: [0.0; LANES],
        im: [0.0; LANES],
        c: [0.0; LANES],
        s: [0.0; LANES],
        rel: 1.0,
        rel_k: 1.0,
        knock: 0.0,
        knock_k: 0.0,
        knock_a: 0.0,
        kz1: 0.0,
        kz2: 0.0,
        noise: 1,
        gl: 0.7,
        gr: 0.7,
        fade: 1.0,
        fade_step: 0.0,
        check: 0,
    };

    /// Energy left in the strings (for stealing the quietest and freeing silent voices).
    fn energy(&self) -> f32 {
        let mut e = 0.0;
        for k in 0..LANES {
            e += self.re[k] * self.re[k] + self.im[k] * self.im[k];
        }
        e * self.rel * self.rel * self.fade * self.fade
    }

    /// ADDS this voice into `l`, `r`; `pedal` holds the damper off.
    fn render(&mut self, l: &mut [f32], r: &mut [f32], pedal: bool) {
        let damping = !self.held && !pedal && self.has_damper;
        for i in 0..l.len() {
            // Eight accumulators, lane k into acc[k % 8] in order of k; the inner loop over a
            // chunk of eight is what the compiler turns into SIMD (`acc[k & 7]` over all lanes
            // stayed scalar: 3.3x slower, same sums).
            let mut acc = [0.0f32; 8];
            for k0 in (0..LANES).step_by(8) {
                for j in 0..8 {
                    let k = k0 + j;
                    let (re, im) = (self.re[k], self.im[k]);
                    self.re[k] = re * self.c[k] - im * self.s[k];
                    let y = re * self.s[k] + im * self.c[k];
                    self.im[k] = y;
                    acc[j] += y;
                }
            }
            let strings = acc.iter().sum::<f32>() * self.rel;
            let mut knock = 0.0;
            if self.knock != 0.0 {
                self.noise ^= self.noise << 13;
                self.noise ^= self.noise >> 17;
                self.noise ^= self.noise << 5;
                let n = (self.noise as f32 * (1.0 / 2_147_483_648.0) - 1.0) * self.knock;
                self.kz1 += self.knock_a * (n - self.kz1);
                self.kz2 += self.knock_a * (self.kz1 - self.kz2);
                knock = self.kz2;
                self.knock = flush(self.knock * self.knock_k);
                if self.knock == 0.0 {
                    self.kz1 = 0.0;
                    self.kz2 = 0.0;
                }
            }
            if damping {
                self.rel = flush(self.rel * self.rel_k);
            }
            let mut y = (strings + knock) * self.fade;
            if self.fade_step > 0.0 {
                self.fade -= self.fade_step;
                if self.fade <= 0.0 {
                    self.fade = 0.0;
                    y = 0.0;
                    self.active = false;
                }
            }
            l[i] += y * self.gl;
            r[i] += y * self.gr;
            self.check += 1;
            if self.check >= CHECK_EVERY {
                self.check = 0;
                // Phasors rung down below -120 dB are stopped exactly (no subnormal tails);
                // a voice with nothing left is freed.
                for k in 0..LANES {
                    if self.re[k] * self.re[k] + self.im[k] * self.im[k] < 1.0e-12 {
                        self.re[k] = 0.0;
                        self.im[k] = 0.0;
                    }
                }
                if self.energy() < 1.0e-10 && self.knock == 0.0 {
                    self.active = false;
                }
            }
            if !self.active {
                *self = Voice::IDLE;
                return;
            }
        }
    }
}

/// Acoustic grand piano. See the module docs.
pub struct Piano {
    sr: f32,
    voices: [Voice; VOICES],
    ghosts: [Voice; VOICES],
    counter: u64,
    rng: Rng,
    bright: Smooth,
    pedal: bool,
    board: [Bandpass; 3],
    dc: [DcBlock; 2],
}

impl Piano {
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate;
        let mut p = Self {
            sr,
            voices: [Voice::IDLE; VOICES],
            ghosts: [Voice::IDLE; VOICES],
            counter: 0,
            rng: Rng::new(SEED),
            bright: Smooth::new(sr, 0.05, 0.5),
            pedal: false,
            board: BOARD.map(|(hz, q, _)| bandpass(sr, hz, q)),
            dc: [DcBlock::new(sr, 10.0), DcBlock::new(sr, 10.0)],
        };
        p.reset();
        p
    }

    pub fn reset(&mut self) {
        self.voices = [Voice::IDLE; VOICES];
        self.ghosts = [Voice::IDLE; VOICES];
        self.counter = 0;
        self.rng = Rng::new(SEED);
        self.bright.set_now(0.5);
        self.pedal = false;
        for m in &mut self.board {
            m.reset();
        }
        for d in &mut self.dc {
            d.reset();
        }
    }

    /// Strike `note` (21..=108) at `velocity` 0..1; velocity 0 is a key release.
    pub fn note_on(&mut self, note: u8, velocity: f32) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        let vel = unit_velocity(velocity);
        if vel <= 0.0 {
            self.note_off(note);
            return;
        }
        let slot = pick_key_slot(&self.voices, note);
        if self.voices[slot].active {
            let mut g = self.voices[slot];
            g.fade_step = 1.0 / (0.005 * self.sr);
            self.ghosts[slot] = g;
        }
        self.counter += 1;
        let sr = self.sr;
        // The hammer's tone at this moment (the smoother settles between notes).
        let bright = {
            let b = self.bright.target;
            self.bright.set_now(b);
            b
        };
        let rng = &mut self.rng;
        let pitch01 = (note - LOWEST_NOTE) as f32 / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
        let f0 = midi_hz(note as f32 + rng.gauss(0.4) * 0.01);
        // String stiffness: ~7e-5 in the bass, ~4e-4 at middle C, ~6e-3 at the top.
        let b_coef = 4.0e-4 * ((note as f32 - 60.0) / 12.0 * 1.3).exp2();
        // Aftersound decay of the fundamental: long in the bass, short at the top.
        let t_after = 15.0 * (-(note as f32 - 36.0) / 12.0 * 0.55).exp2();
        // Hammer corner: soft felt ~400 Hz, a hard blow several kHz; brightness voices it.
        let corner = (350.0 + 3600.0 * vel * vel) * (0.6 + 0.8 * bright);
        let ceiling = PARTIAL_CEILING_HZ.min(0.45 * sr);
        let v = &mut self.voices[slot];
        *v = Voice::IDLE;
        v.active = true;
        v.held = true;
        v.has_damper = note < UNDAMPED_FROM;
        v.note = note;
        v.age = self.counter;
        let mut amps = [0.0f32; PARTIALS];
        let mut freqs = [0.0f32; PARTIALS];
        let mut norm = 0.0f32;
        for n in 0..PARTIALS {
            let k = (n + 1) as f32;
            let f = k * f0 * (1.0 + b_coef * k * k).sqrt();
            if f >= ceiling {
                break;
            }
            let strike = (core::f32::consts::PI * k * STRIKE_POINT).sin().abs();
            let felt = 1.0 / (1.0 + (f / corner) * (f / corner));
            // The bass strings' fundamental is weak on the soundboard.
            let low = if n == 0 {
                0.55 + 0.45 * pitch01.min(0.4) / 0.4
            } else {
                1.0
            };
            let a = strike * felt * low / k.powf(0.8);
            amps[n] = a;
            freqs[n] = f;
            norm += a * a;
        }
        let loud = (0.08 + 0.92 * vel.powf(1.6)) / norm.sqrt().max(1.0e-6);
        for n in 0..PARTIALS {
            if amps[n] == 0.0 {
                continue;
            }
            let k = (n + 1) as f32;
            let f = freqs[n];
            // Upper partials die faster (losses grow with frequency).
            let t_slow = t_after / (1.0 + 0.3 * (k - 1.0) + (f / 3000.0) * (f / 3000.0));
            let t_fast = t_slow / PROMPT_RATIO;
            let a = amps[n] * loud;
            let detune =
                1.0 + (0.3 + 0.9 * rng.f32()) * 5.78e-4 * if rng.chance(0.5) { 1.0 } else { -1.0 };
            for (lane, amp, hz, t60) in [
                (2 * n, a * (1.0 - AFTERSOUND).sqrt(), f, t_fast),
                (2 * n + 1, a * AFTERSOUND.sqrt(), f * detune, t_slow),
            ] {
                let w = core::f32::consts::TAU * hz / sr;
                let rad = (-6.907_755 / (t60 * sr)).exp();
                v.c[lane] = rad * w.cos();
                v.s[lane] = rad * w.sin();
                // Every partial starts at zero displacement (the string at rest when hit).
                v.re[lane] = amp;
                v.im[lane] = 0.0;
            }
        }
        let rel_t = 0.35 - 0.25 * pitch01;
        v.rel = 1.0;
        v.rel_k = (-6.907_755 / (rel_t.max(0.08) * sr)).exp();
        v.knock = 0.06 * vel * vel * (1.0 + 0.6 * (1.0 - pitch01));
        v.knock_k = (-6.907_755 / (0.012 * sr)).exp();
        v.knock_a = OnePole::new(sr, 900.0 + 1600.0 * vel).a;
        v.noise = (rng.next_u64() as u32) | 1;
        // The player's view: bass to the left, treble to the right.
        let (gl, gr) = pan_gains(-0.35 + 0.7 * pitch01);
        v.gl = gl;
        v.gr = gr;
        v.fade = 1.0;
        v.fade_step = 0.0;
        v.check = 0;
    }

    /// The key lifts: its damper falls (unless the pedal holds it off or it has none).
    pub fn note_off(&mut self, note: u8) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        for v in self.voices.iter_mut() {
            if v.active && v.held && v.note == note {
                v.held = false;
            }
        }
    }

    /// Every key lifts and the pedal comes up (a blackout, a relocation).
    pub fn all_notes_off(&mut self) {
        self.pedal = false;
        for v in self.voices.iter_mut() {
            v.held = false;
        }
    }

    /// The sustain pedal: down holds every damper off; up lets the released keys' dampers fall.
    pub fn set_pedal(&mut self, down: bool) {
        self.pedal = down;
    }

    /// 0..1: the hammers' voicing (soft felt .. hard and bright), taken at each strike.
    pub fn set_tone(&mut self, brightness: f32) {
        if brightness.is_finite() {
            self.bright.target = brightness.clamp(0.0, 1.0);
        }
    }

    /// ADDS into `l`, `r` (len <= MAX_BLOCK).
    pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        let mut start = 0;
        while start < n {
            let m = (n - start).min(64);
            let mut bl = [0.0f32; 64];
            let mut br = [0.0f32; 64];
            let pedal = self.pedal;
            for v in self.voices.iter_mut().chain(self.ghosts.iter_mut()) {
                if v.active {
                    v.render(&mut bl[..m], &mut br[..m], pedal);
                }
            }
            for i in 0..m {
                let mono = 0.5 * (bl[i] + br[i]);
                let mut body = 0.0;
                for (band, &(_, q, g)) in self.board.iter_mut().zip(BOARD.iter()) {
                    body += g / q * band.tick(mono);
                }
                let yl = safety(self.dc[0].tick((bl[i] + body) * OUT_GAIN));
                let yr = safety(self.dc[1].tick((br[i] + body) * OUT_GAIN));
                l[start + i] += yl;
                r[start + i] += yr;
            }
            start += m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    fn play(p: &mut Piano, n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, &[64], |l, r| p.render(l, r))
    }

    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut p = Piano::new(sr);
        let events: [(usize, u8, f32); 10] = [
            (0, 48, 0.7),
            (0, 55, 0.6),
            (7, 64, 0.8),
            (2001, 70, 0.9),
            (4000, 48, 0.0),
            (4000, 55, 0.0),
            (6003, 96, 1.0),
            (9000, 70, 0.0),
            (9001, 33, 0.5),
            (20000, 33, 0.0),
        ];
        let at = events.map(|e| e.0);
        let apply = |p: &mut Piano, i: usize| {
            let (_, n, v) = events[i];
            if i == 5 {
                p.set_pedal(true);
            }
            if i == 8 {
                p.set_pedal(false);
            }
            if v > 0.0 {
                p.note_on(n, v)
            } else {
                p.note_off(n)
            }
        };
        play_script(&mut p, 40000, sizes, &at, apply, |p, l, r| p.render(l, r))
    }

    /// FNV-1a over the bits of a fixed grand-piano performance (restrikes, more notes than
    /// voices, pedal, tone changes, the undamped top, a full ring-out), rendered in odd blocks.
    fn grand_fingerprint(sr: f32) -> u64 {
        let mut p = Piano::new(sr);
        let mut at = Vec::new();
        let mut ev: Vec<(u8, f32, u8)> = Vec::new(); // (note, velocity, what: 0 key, 1 pedal, 2 tone)
        for i in 0..40usize {
            let t = i * 1500 + (i * 37) % 101;
            let note = 21 + ((i * 29) % 88) as u8;
            let vel = 0.15 + 0.85 * ((i * 7) % 11) as f32 / 10.0;
            at.push(t);
            ev.push((note, vel, 0));
            if i % 3 == 0 {
                at.push(t + 700);
                ev.push((note, 0.0, 0));
            }
            if i % 5 == 0 {
                at.push(t + 701);
                ev.push((0, (i % 2) as f32, 1));
            }
            if i % 7 == 0 {
                at.push(t + 702);
                ev.push((0, (i % 4) as f32 / 3.0, 2));
            }
        }
        // A restrike of a sounding key, and a cluster wider than the voice pool.
        at.push(61_000);
        ev.push((60, 0.8, 0));
        at.push(61_300);
        ev.push((60, 0.5, 0));
        for k in 0..16u8 {
            at.push(62_000);
            ev.push((48 + k, 0.6, 0));
        }
        at.push(70_000);
        ev.push((0, 0.0, 3));
        let apply = |p: &mut Piano, i: usize| {
            let (note, v, what) = ev[i];
            match what {
                0 if v > 0.0 => p.note_on(note, v),
                0 => p.note_off(note),
                1 => p.set_pedal(v > 0.5),
                2 => p.set_tone(v),
                _ => p.all_notes_off(),
            }
        };
        let out = play_script(&mut p, 110_000, &[64, 13, 50], &at, apply, |p, l, r| {
            p.render(l, r)
        });
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for x in out {
            for b in x.to_bits().to_le_bytes() {
                h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    }

    #[test]
    fn piano_unprepared_grand_is_bit_identical_to_before_preparations() {
        // Fingerprints taken from the grand as it was before `Preparation` existed (commit
        // 2c1f56c); the same in debug and release builds. Any change to the grand's
        // arithmetic, its random draws or its voice handling changes them.
        for (sr, expect) in [
            (44100.0f32, 0xe37f_7275_54a3_489bu64),
            (48000.0, 0x9fbd_28f6_0306_dd15),
            (96000.0, 0xfd00_fa9b_1b8b_60db),
        ] {
            let got = grand_fingerprint(sr);
            assert_eq!(got, expect, "grand changed at {sr} Hz: {got:#018x}");
        }
    }

    /// Renders `secs` of audio in 64-sample blocks, calling `events(p, block_index)` before
    /// each block; returns (ms per second of audio, p99 block us, max block us).
    fn time_it(
        p: &mut Piano,
        sr: f32,
        secs: f32,
        mut events: impl FnMut(&mut Piano, usize),
    ) -> (f64, f64, f64) {
        let blocks = (secs * sr / 64.0) as usize;
        let mut per = Vec::with_capacity(blocks);
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        let t0 = std::time::Instant::now();
        for b in 0..blocks {
            events(p, b);
            let t = std::time::Instant::now();
            p.render(&mut l, &mut r);
            per.push(t.elapsed().as_secs_f64() * 1.0e6);
        }
        let total = t0.elapsed().as_secs_f64();
        assert!(l.iter().chain(r.iter()).all(|v| v.is_finite()));
        per.sort_by(|a, b| a.total_cmp(b));
        let p99 = per[per.len() * 99 / 100];
        (total * 1000.0 / secs as f64, p99, per[per.len() - 1])
    }

    /// Busy comping: a four-note voicing every half second (the previous one released just
    /// before), a bass note every beat, pedal changes each bar. 48 kHz, 20 s.
    fn busy(p: &mut Piano, b: usize) {
        const VOICINGS: [[u8; 4]; 4] = [
            [50, 57, 60, 65],
            [55, 59, 62, 67],
            [48, 55, 58, 64],
            [53, 57, 60, 63],
        ];
        let half = 375; // 0.5 s in 64-sample blocks at 48 kHz
        if b % half == 0 {
            let k = (b / half) % 4;
            let prev = (k + 3) % 4;
            for n in VOICINGS[prev] {
                p.note_off(n);
            }
            for (j, n) in VOICINGS[k].iter().enumerate() {
                p.note_on(*n, 0.5 + 0.1 * j as f32);
            }
        }
        if b % (half / 2) == 0 {
            let bass = [36u8, 43, 41, 38][(b / (half / 2)) % 4];
            p.note_on(bass, 0.7);
        }
        if b % (half / 2) == half / 4 {
            p.note_off([36u8, 43, 41, 38][(b / (half / 2)) % 4]);
        }
        if b % (2 * half) == 0 {
            p.set_pedal(true);
        }
        if b % (2 * half) == 2 * half - 10 {
            p.set_pedal(false);
        }
    }

    #[test]
    #[ignore]
    fn piano_timing() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        let (ms, p99, max) = time_it(&mut p, sr, 20.0, busy);
        println!("busy grand: {ms:.3} ms per s of audio; block p99 {p99:.2} us, max {max:.2} us");
    }

    #[test]
    fn piano_block_size_independent_and_reset_reproduces() {
        let a = scripted(44100.0, &[64]);
        assert_eq!(a, scripted(44100.0, &[1, 7, 33]));
        assert_eq!(a, scripted(44100.0, &[64, 5, 200]));
        let mut p = Piano::new(48000.0);
        p.note_on(60, 0.8);
        let (x, _) = play(&mut p, 10000);
        p.reset();
        p.note_on(60, 0.8);
        let (y, _) = play(&mut p, 10000);
        assert_eq!(x, y);
    }

    #[test]
    fn piano_finite_no_subnormals_all_rates_and_frees_voices() {
        for sr in RATES {
            let mut p = Piano::new(sr);
            for (i, n) in [21u8, 36, 60, 64, 67, 84, 100, 108].iter().enumerate() {
                p.note_on(*n, 0.3 + 0.1 * i as f32);
            }
            let (l, r) = play(&mut p, (sr * 0.5) as usize);
            assert_clean(&l, "piano l");
            assert_clean(&r, "piano r");
            assert!(peak(&l) > 0.02, "silent at {sr}");
            assert!(peak(&l) < 1.0 && peak(&r) < 1.0, "too loud at {sr}");
            p.all_notes_off();
            let (l, _) = play(&mut p, (sr * 30.0) as usize);
            assert_clean(&l, "piano tail");
            assert!(
                p.voices.iter().all(|v| !v.active),
                "voices not freed at {sr}"
            );
            assert!(
                l[l.len() - 1000..].iter().all(|v| *v == 0.0),
                "tail not silent at {sr}"
            );
        }
    }

    #[test]
    fn piano_partials_are_stretched() {
        // A low note's 10th partial sits above 10 f0 (string stiffness): find its peak by a
        // fine scan of the windowed spectrum around the harmonic.
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.note_on(40, 0.9);
        let (l, _) = play(&mut p, 4096 + 32768);
        let x = &l[4096..];
        let n = x.len();
        let power = |hz: f64| {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for (i, v) in x.iter().enumerate() {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos();
                let ph = std::f64::consts::TAU * hz * i as f64 / sr as f64;
                re += *v as f64 * w * ph.cos();
                im += *v as f64 * w * ph.sin();
            }
            re * re + im * im
        };
        let harm = 10.0 * midi_hz(40.0) as f64;
        let best = (0..70)
            .map(|k| harm * (0.999 + 0.0002 * k as f64))
            .max_by(|a, b| power(*a).total_cmp(&power(*b)))
            .unwrap();
        assert!(
            best > harm * 1.002,
            "10th partial at {best} Hz vs harmonic {harm}"
        );
        assert!(
            best < harm * 1.01,
            "10th partial at {best} Hz: too far from {harm}"
        );
    }

    #[test]
    fn piano_two_stage_decay_and_damper() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.note_on(52, 0.7);
        let (l, _) = play(&mut p, (sr * 4.0) as usize);
        let win = |a: f32| {
            let i = (a * sr) as usize;
            rms(&l[i..i + 4800])
        };
        let (a0, a1, a3) = (win(0.01), win(1.0), win(3.0));
        // Fast drop first, then a long tail: the first second loses more dB than the next two.
        let db = |x: f32| 20.0 * x.log10();
        let first = db(a0) - db(a1);
        let later = (db(a1) - db(a3)) / 2.0;
        assert!(
            first > later * 1.5,
            "first {first} dB/s, later {later} dB/s"
        );
        assert!(a3 > a0 * 0.01, "held note died too soon");
        // Lifting the key stops it within half a second.
        p.note_off(52);
        let (l, _) = play(&mut p, (sr * 0.5) as usize);
        let end = rms(&l[l.len() - 2400..]);
        assert!(
            end < a3 * 0.05,
            "damper did not stop the note: {end} vs {a3}"
        );
    }

    #[test]
    fn piano_pedal_holds_released_notes() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.set_pedal(true);
        p.note_on(57, 0.7);
        play(&mut p, 4800);
        p.note_off(57);
        let (l, _) = play(&mut p, 48000);
        let held = rms(&l[40000..]);
        p.set_pedal(false);
        let (l2, _) = play(&mut p, 24000);
        let after = rms(&l2[20000..]);
        assert!(held > 1.0e-3, "pedal did not hold: {held}");
        assert!(
            after < held * 0.05,
            "pedal up did not damp: {after} vs {held}"
        );
    }

    #[test]
    fn piano_velocity_brightens() {
        let sr = 48000.0;
        let bright_share = |vel: f32| {
            let mut p = Piano::new(sr);
            p.note_on(55, vel);
            let (l, _) = play(&mut p, 8192);
            power_fraction_above(&l, sr, 1500.0)
        };
        let (soft, hard) = (bright_share(0.25), bright_share(1.0));
        assert!(hard > soft * 2.0, "hard {hard} vs soft {soft}");
    }

    #[test]
    fn piano_top_notes_ring_without_damper() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.note_on(96, 0.8);
        play(&mut p, 2400);
        p.note_off(96);
        let (l, _) = play(&mut p, 24000);
        assert!(rms(&l[19200..]) > 1.0e-4, "the top has no dampers");
    }

    #[test]
    fn piano_voicing_level_like_the_rhodes() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        for n in [50u8, 57, 60, 65] {
            p.note_on(n, 0.7);
        }
        let (l, r) = play(&mut p, 24000);
        let pk = peak(&l).max(peak(&r));
        assert!(pk > 0.15 && pk < 0.6, "voicing peak {pk}");
    }
}

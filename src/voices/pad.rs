//! Sustained strings / pad layer: detuned band-limited sawtooth ensembles through a gentle
//! lowpass and a small "string body" EQ, wide stereo.
//!
//! Each chord note is three PolyBLEP saws (one left, one right, one centre) detuned by a few
//! cents with slow independent pitch wander, like a small section. Chords live in three banks:
//! `set_chord` fades the new chord in over ~0.5 s (a bow change) in a free bank while the old one fades out
//! (a bank still sounding is first faded out quickly, so nothing ever jumps). `set_level`
//! glides slowly (bowed attack). `set_tension` raises a bowed 6-8 Hz amplitude tremolo and
//! widens the detune into a queasy cluster.
//!
//! Real time: no heap at all; per-sample processing; everything allocated in `new`.

use super::common::{
    bandpass, lowpass, safety, saw_blep, sin_turns, wrap01, Bandpass, DcBlock, Lowpass, Smooth,
};
use crate::dsp::util::midi_hz;
use crate::dsp::Rng;

const SEED: u64 = 0x9AD0_0005;
const MAX_NOTES: usize = 6;
const BANKS: usize = 3;
const SECTION: usize = 3;
const OUT_GAIN: f32 = 0.075;
/// Chord crossfade time (s) and the quick fade used to free a still-sounding bank.
const XFADE_S: f32 = 0.5;
const QUICK_S: f32 = 0.03;

#[derive(Clone, Copy, Debug)]
struct Bank {
    notes: [u8; MAX_NOTES],
    count: usize,
    /// Oscillator phases, and per-player pitch wander: a slow LFO (phase, rate in turns per
    /// sample) so each player drifts by a few cents on its own.
    ph: [[f32; SECTION]; MAX_NOTES],
    wander: [[f32; SECTION]; MAX_NOTES],
    wander_rate: [[f32; SECTION]; MAX_NOTES],
    gain: f32,
    target: f32,
    step: f32,
    /// A chord waiting for this bank to fade out first.
    pending: [u8; MAX_NOTES],
    pending_count: usize,
    has_pending: bool,
}

impl Bank {
    const EMPTY: Bank = Bank {
        notes: [0; MAX_NOTES],
        count: 0,
        ph: [[0.0; SECTION]; MAX_NOTES],
        wander: [[0.0; SECTION]; MAX_NOTES],
        wander_rate: [[0.0; SECTION]; MAX_NOTES],
        gain: 0.0,
        target: 0.0,
        step: 0.0,
        pending: [0; MAX_NOTES],
        pending_count: 0,
        has_pending: false,
    };
}

/// Sustained strings pad. See the module docs.
pub struct Pad {
    sr: f32,
    rng: Rng,
    banks: [Bank; BANKS],
    /// Bank holding the newest chord.
    current: usize,
    level: Smooth,
    tension: Smooth,
    trem_ph: f32,
    lp: [Lowpass; 2],
    body: [Bandpass; 2],
    air: [Bandpass; 2],
    dc: [DcBlock; 2],
    lp_at: f32,
}

/// Depth of each player's slow pitch wander (cents).
const WANDER_CENTS: f32 = 3.0;
/// Per-player detune in cents at zero tension (left, right, centre).
const DETUNE: [f32; SECTION] = [-6.0, 5.0, 0.8];

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
            trem_ph: 0.0,
            lp: [lowpass(sr, 2200.0, 0.55), lowpass(sr, 2200.0, 0.55)],
            body: [bandpass(sr, 450.0, 1.2), bandpass(sr, 470.0, 1.2)],
            air: [bandpass(sr, 2800.0, 1.0), bandpass(sr, 3000.0, 1.0)],
            dc: [DcBlock::new(sr, 12.0), DcBlock::new(sr, 12.0)],
            lp_at: -1.0,
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
        self.trem_ph = 0.0;
        for k in 0..2 {
            self.lp[k].reset();
            self.body[k].reset();
            self.air[k].reset();
            self.dc[k].reset();
        }
        self.lp_at = -1.0;
    }

    /// Up to 6 notes (extra notes are ignored); crossfades from the previous chord. An empty
    /// slice fades the pad out.
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

    /// 0..1: bowed amplitude tremolo (6-8 Hz) and wider cluster detune as tension rises.
    pub fn set_tension(&mut self, tension: f32) {
        if tension.is_finite() {
            self.tension.target = tension.clamp(0.0, 1.0);
        }
    }

    /// ADDS the pad (wide stereo) into `l`, `r` (len <= MAX_BLOCK).
    pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        let sr = self.sr;
        for i in 0..n {
            let level = self.level.tick();
            let tension = self.tension.tick();
            // Darker when soft, a little more open with tension.
            let cutoff = 1400.0 + 1800.0 * level + 1200.0 * tension;
            if (cutoff - self.lp_at).abs() > 10.0 {
                for f in &mut self.lp {
                    f.set(cutoff, 0.55);
                }
                self.lp_at = cutoff;
            }
            let detune_scale = 1.0 + 3.5 * tension * tension;
            let trem_rate = 6.0 + 2.0 * tension;
            self.trem_ph = wrap01(self.trem_ph + trem_rate / sr);
            let trem_depth = 0.45 * tension * tension;
            let trem = 1.0 - trem_depth * (0.5 + 0.5 * sin_turns(self.trem_ph));
            let (mut sl, mut sr_) = (0.0f32, 0.0f32);
            for b in self.banks.iter_mut() {
                // Gain ramps (linear, per sample).
                if b.gain < b.target {
                    b.gain = (b.gain + b.step).min(b.target);
                } else if b.gain > b.target {
                    b.gain = (b.gain - b.step).max(b.target);
                }
                if b.has_pending && b.gain <= 0.0 {
                    b.notes = b.pending;
                    b.count = b.pending_count;
                    b.has_pending = false;
                    b.target = 1.0;
                    b.step = 1.0 / (XFADE_S * sr);
                    for k in 0..b.count {
                        for j in 0..SECTION {
                            b.ph[k][j] = self.rng.f32();
                            b.wander[k][j] = self.rng.f32();
                            b.wander_rate[k][j] = self.rng.range(0.07, 0.23) / sr;
                        }
                    }
                }
                if b.gain <= 0.0 {
                    continue;
                }
                // Equal-power-ish fade shape.
                let g = b.gain * b.gain * (3.0 - 2.0 * b.gain);
                for k in 0..b.count {
                    let base = b.notes[k] as f32;
                    // Higher notes a little softer (sections balance to the bass).
                    let note_gain = 1.0 - 0.006 * (base - 48.0).max(0.0);
                    for j in 0..SECTION {
                        // Slow, independent pitch wander per player (a few cents).
                        let w = &mut b.wander[k][j];
                        *w = wrap01(*w + b.wander_rate[k][j]);
                        let cents = DETUNE[j] * detune_scale + WANDER_CENTS * sin_turns(*w);
                        let f = midi_hz(base + cents * 0.01);
                        let dt = (f / sr).min(0.45);
                        let ph = &mut b.ph[k][j];
                        let s = saw_blep(*ph, dt);
                        *ph = wrap01(*ph + dt);
                        let s = s * g * note_gain;
                        match j {
                            0 => sl += s,
                            1 => sr_ += s,
                            _ => {
                                sl += 0.6 * s;
                                sr_ += 0.6 * s;
                            }
                        }
                    }
                }
            }
            let amp = level * trem * OUT_GAIN;
            let mut out = [sl * amp, sr_ * amp];
            for c in 0..2 {
                let x = self.lp[c].tick(out[c]);
                let x = x + 0.35 * self.body[c].tick(x) / 1.2 + 0.15 * self.air[c].tick(x);
                out[c] = safety(self.dc[c].tick(x));
            }
            l[i] += out[0];
            r[i] += out[1];
        }
    }
}

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
        let mut p = Pad::new(sr);
        p.set_level(0.8);
        p.set_chord(&[50, 53, 57, 60]);
        let (l0, _) = play(&mut p, &[64], 48000);
        let typical = l0[24000..]
            .windows(2)
            .fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
        // Rapid chord changes: every 50 ms.
        let mut worst = 0.0f32;
        let mut last = l0[l0.len() - 1];
        for k in 0..20u8 {
            p.set_chord(&[48 + k % 5, 52 + k % 3, 55, 59 + k % 4]);
            let (l, _) = play(&mut p, &[64], 2400);
            worst = worst.max((l[0] - last).abs());
            worst = worst.max(l.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs())));
            last = l[l.len() - 1];
        }
        assert!(
            worst < typical * 2.0 + 1e-3,
            "jump {worst} vs typical {typical}"
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
}

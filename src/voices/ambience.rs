//! City-at-night ambience: rain, distant traffic and vinyl surface noise (wide stereo).
//!
//! * Rain: a filtered noise bed (decorrelated left/right) plus dense random droplets. Each
//!   droplet is a tiny modal "plink" (a two-pole resonator at a random 1.5-7 kHz pitch with a
//!   few ms of ring) plus a click, panned at random; drops arrive as a Poisson process.
//! * Traffic: low rumble (lowpassed noise, decorrelated per side) whose level swells slowly
//!   (a smoothed random walk), tyre hiss on the swells, and now and then a far-off two-tone
//!   horn: detuned band-limited saws, muffled by distance.
//! * Vinyl: sparse crackle (clicks with exponentially distributed amplitude, the odd big pop),
//!   a little hiss, and a faint rumble with a 0.55 Hz wow (one turn of a 33 1/3 rpm record).
//!
//! Amounts glide. When every amount is 0 the generators stop and the output becomes exactly
//! 0.0. Real time: no heap at all, per-sample processing.

use super::common::{
    lowpass, pan_gains, safety, saw_blep, sin_turns, wrap01, Lowpass, Mode, OnePole, Smooth,
    SvfBank, SvfKind,
};
use crate::dsp::util::flush;
use crate::dsp::Rng;

const SEED: u64 = 0xA3B1_0006;
const DROPS: usize = 24;
// (`Ambience::ringing` holds a bit per drop.)
const _: () = assert!(DROPS <= 32);
const RAIN_GAIN: f32 = 3.5;
/// The rain's tone cutoff in darkness and in full light, Hz (see `Ambience::set_light`).
const RAIN_TONE_HZ: (f32, f32) = (1800.0, 14000.0);
const TRAFFIC_GAIN: f32 = 4.5;
const VINYL_GAIN: f32 = 2.0;

/// The filters that take noise straight from the generators, as one bank's lanes (response,
/// Hz, Q), left then right: the rain bed's top, the traffic's rumble, the tyre hiss, the
/// vinyl's hiss.
const FRONT: [(SvfKind, f32, f32); 8] = [
    (SvfKind::Lowpass, 7000.0, 0.5),
    (SvfKind::Lowpass, 6500.0, 0.5),
    (SvfKind::Lowpass, 110.0, 0.7),
    (SvfKind::Lowpass, 100.0, 0.7),
    (SvfKind::Bandpass, 900.0, 0.7),
    (SvfKind::Bandpass, 1000.0, 0.7),
    (SvfKind::Highpass, 3500.0, 0.6),
    (SvfKind::Highpass, 3700.0, 0.6),
];
/// `FRONT`'s lanes.
const RAIN_BED_LP: usize = 0;
const RUMBLE_LP: usize = 2;
const TYRE_HISS_BP: usize = 4;
const VINYL_HISS_HP: usize = 6;

/// The second stage, one bank: the rain bed's bottom and the rumble's second lowpass (after
/// `FRONT`), the droplets' highpass, the crackle's highpass and the record's rumble.
const BACK: [(SvfKind, f32, f32); 8] = [
    (SvfKind::Highpass, 500.0, 0.5),
    (SvfKind::Highpass, 550.0, 0.5),
    (SvfKind::Lowpass, 160.0, 0.5),
    (SvfKind::Lowpass, 150.0, 0.5),
    (SvfKind::Highpass, 900.0, 0.7),
    (SvfKind::Highpass, 900.0, 0.7),
    (SvfKind::Highpass, 700.0, 0.7),
    (SvfKind::Lowpass, 35.0, 0.6),
];
/// `BACK`'s lanes.
const RAIN_BED_HP: usize = 0;
const RUMBLE_LP2: usize = 2;
const DROP_HP: usize = 4;
const CRACKLE_HP: usize = 6;
const VINYL_RUMBLE_LP: usize = 7;

#[derive(Clone, Copy, Debug, Default)]
struct Drop {
    mode: Mode,
    gl: f32,
    gr: f32,
    /// Impulse to feed on the next tick (the drop's hit).
    input: f32,
}

/// Rain, distant traffic and vinyl crackle. See the module docs.
pub struct Ambience {
    sr: f32,
    rng: Rng,
    nscale: f32,
    rain: Smooth,
    traffic: Smooth,
    vinyl: Smooth,
    /// The generators' filters, two stages of one bank each (`FRONT`, `BACK`).
    front: SvfBank<8>,
    back: SvfBank<8>,
    // --- rain ---
    /// The light's tone on the rain (two cascaded one-poles per side).
    rain_tone: [[OnePole; 2]; 2],
    /// Key light 0..1 (`set_light`).
    light: f32,
    drops: [Drop; DROPS],
    next_drop: usize,
    /// Bit `k` set while drop `k` is struck or ringing (a silent drop is not ticked).
    ringing: u32,
    click_l: f32,
    click_r: f32,
    // --- traffic ---
    swell: f32,
    swell_target: f32,
    swell_lp: OnePole,
    swell_timer: u32,
    horn_ph: [f32; 2],
    horn_f: [f32; 2],
    horn_env: f32,
    horn_t: u32,
    horn_len: u32,
    horn_lp: Lowpass,
    horn_pan: (f32, f32),
    // --- vinyl ---
    crackle_lp: OnePole,
    crackle: f32,
    hiss_lp: [OnePole; 2],
    wow_ph: f32,
    /// True while anything might still be sounding.
    awake: bool,
    quiet: u32,
}

impl Ambience {
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate;
        let mut a = Self {
            sr,
            rng: Rng::new(SEED),
            nscale: (sr / 44100.0).sqrt(),
            rain: Smooth::new(sr, 0.5, 0.0),
            traffic: Smooth::new(sr, 0.5, 0.0),
            vinyl: Smooth::new(sr, 0.3, 0.0),
            front: SvfBank::new(sr, FRONT),
            back: SvfBank::new(sr, BACK),
            rain_tone: [[OnePole::new(sr, 7900.0); 2]; 2],
            light: 0.5,
            drops: [Drop::default(); DROPS],
            next_drop: 0,
            ringing: 0,
            click_l: 0.0,
            click_r: 0.0,
            swell: 0.5,
            swell_target: 0.5,
            swell_lp: OnePole::new(sr, 0.08),
            swell_timer: 0,
            horn_ph: [0.0; 2],
            horn_f: [0.0; 2],
            horn_env: 0.0,
            horn_t: 0,
            horn_len: 0,
            horn_lp: lowpass(sr, 900.0, 0.6),
            horn_pan: (0.7, 0.7),
            crackle_lp: OnePole::new(sr, 6000.0),
            crackle: 0.0,
            hiss_lp: [OnePole::new(sr, 11000.0), OnePole::new(sr, 11000.0)],
            wow_ph: 0.0,
            awake: false,
            quiet: 0,
        };
        a.reset();
        a
    }

    pub fn reset(&mut self) {
        self.rng = Rng::new(SEED);
        self.rain.set_now(0.0);
        self.traffic.set_now(0.0);
        self.vinyl.set_now(0.0);
        self.front.reset();
        self.back.reset();
        for k in 0..2 {
            self.rain_tone[0][k].reset();
            self.rain_tone[1][k].reset();
            self.hiss_lp[k].reset();
        }
        self.drops = [Drop::default(); DROPS];
        self.next_drop = 0;
        self.ringing = 0;
        self.click_l = 0.0;
        self.click_r = 0.0;
        self.swell = 0.5;
        self.swell_target = 0.5;
        self.swell_lp.reset();
        self.swell_lp.z = 0.5;
        self.swell_timer = 0;
        self.horn_ph = [0.0; 2];
        self.horn_f = [0.0; 2];
        self.horn_env = 0.0;
        self.horn_t = 0;
        self.horn_len = 0;
        self.horn_lp.reset();
        self.crackle_lp.reset();
        self.crackle = 0.0;
        self.wow_ph = 0.0;
        self.awake = false;
        self.quiet = 0;
    }

    /// The key light 0..1 (0.5 without light): darker light, darker rain (lower droplets and
    /// a lower cutoff), so a dark scene's extra rain never brightens the mix. Control rate.
    pub fn set_light(&mut self, lightness: f32) {
        if !lightness.is_finite() {
            return;
        }
        self.light = lightness.clamp(0.0, 1.0);
        let hz = RAIN_TONE_HZ.0 + (RAIN_TONE_HZ.1 - RAIN_TONE_HZ.0) * self.light;
        for stage in self.rain_tone.iter_mut() {
            for f in stage.iter_mut() {
                f.set_hz(self.sr, hz);
            }
        }
    }

    /// Each 0..1, gliding (time constant ~0.5 s).
    pub fn set_amount(&mut self, rain: f32, traffic: f32, vinyl: f32) {
        if rain.is_finite() {
            self.rain.target = rain.clamp(0.0, 1.0);
        }
        if traffic.is_finite() {
            self.traffic.target = traffic.clamp(0.0, 1.0);
        }
        if vinyl.is_finite() {
            self.vinyl.target = vinyl.clamp(0.0, 1.0);
        }
        if self.rain.target > 0.0 || self.traffic.target > 0.0 || self.vinyl.target > 0.0 {
            self.awake = true;
            self.quiet = 0;
        }
    }

    crate::dsp::simd::wide_method! {
        /// ADDS the ambience (wide stereo) into `l`, `r` (len <= MAX_BLOCK).
        pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) = render_avx2 / render_portable
    }

    #[inline(always)]
    fn render_portable(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        if !self.awake {
            return;
        }
        let sr = self.sr;
        let ns = self.nscale;
        for i in 0..n {
            let rain = self.rain.tick();
            let traffic = self.traffic.tick();
            let vinyl = self.vinyl.tick();
            let (mut ol, mut or) = (0.0f32, 0.0f32);

            // ---------------- rain ----------------
            let bed = rain * rain * 0.16 * ns;
            let nl = if bed > 0.0 {
                self.rng.bipolar() * bed
            } else {
                0.0
            };
            let nr = if bed > 0.0 {
                self.rng.bipolar() * bed
            } else {
                0.0
            };
            // Droplets: Poisson arrivals, up to ~400 per second.
            let rate = 400.0 * rain * rain;
            if rate > 0.0 && self.rng.chance(rate / sr) {
                let d = &mut self.drops[self.next_drop];
                self.ringing |= 1 << self.next_drop;
                self.next_drop = (self.next_drop + 1) % DROPS;
                // Droplets ring lower in the dark (heard through the window, not under it).
                let top = 2500.0 + 4500.0 * self.light;
                let f = 1500.0 * (top / 1500.0).powf(self.rng.f32());
                d.mode.reset();
                d.mode.set(sr, f, self.rng.range(0.004, 0.03));
                let amp = 0.06 * (0.2 + 0.8 * self.rng.f32().powi(3)) * (0.4 + 0.6 * rain);
                let (gl, gr) = pan_gains(self.rng.bipolar() * 0.95);
                d.gl = gl * amp;
                d.gr = gr * amp;
                d.input = 1.0;
                // The hit itself: a click with the same pan.
                let c = amp * 0.6 * self.rng.bipolar();
                self.click_l += c * gl;
                self.click_r += c * gr;
            }
            let (mut dl, mut dr) = (self.click_l, self.click_r);
            self.click_l = 0.0;
            self.click_r = 0.0;
            // The ringing drops, in order; one that has rung out to exact silence drops out.
            let mut ringing = self.ringing;
            while ringing != 0 {
                let k = ringing.trailing_zeros() as usize;
                ringing &= ringing - 1;
                let d = &mut self.drops[k];
                let y = d.mode.tick(d.input);
                d.input = 0.0;
                dl += y * d.gl;
                dr += y * d.gr;
                if d.mode.is_silent() {
                    self.ringing &= !(1 << k);
                }
            }

            // ---------------- traffic ----------------
            // Swells: a new random target every 2-6 s, smoothed (cars passing far away).
            if traffic > 0.0 {
                if self.swell_timer == 0 {
                    self.swell_target = 0.25 + 0.75 * self.rng.f32();
                    self.swell_timer = (sr * self.rng.range(2.0, 6.0)) as u32;
                } else {
                    self.swell_timer -= 1;
                }
                // Rare far horn: on average one every ~25 s at full traffic.
                if self.horn_len == 0 && self.rng.chance(traffic / (25.0 * sr)) {
                    let base = self.rng.range(330.0, 440.0);
                    self.horn_f = [base, base * self.rng.range(1.19, 1.27)];
                    self.horn_len = (sr * self.rng.range(0.25, 1.1)) as u32;
                    self.horn_t = 0;
                    self.horn_pan = pan_gains(self.rng.bipolar() * 0.7);
                }
            }
            self.swell = self.swell_lp.tick(self.swell_target);
            let rum = traffic * (0.4 + 0.6 * self.swell) * 0.55 * ns;
            let (tnl, tnr) = if rum > 0.0 {
                (self.rng.bipolar() * rum, self.rng.bipolar() * rum)
            } else {
                (0.0, 0.0)
            };
            // Tyre hiss rises with the swell.
            let hs = self.swell * self.swell * 0.04;
            let mut horn = 0.0;
            if self.horn_len > 0 {
                let t = self.horn_t as f32 / self.horn_len as f32;
                let env = (t * 12.0).min(1.0) * ((1.0 - t) * 6.0).min(1.0);
                self.horn_env = env;
                for k in 0..2 {
                    let dt = self.horn_f[k] / sr;
                    horn += saw_blep(self.horn_ph[k], dt);
                    self.horn_ph[k] = wrap01(self.horn_ph[k] + dt);
                }
                horn *= env * 0.02 * traffic;
                self.horn_t += 1;
                if self.horn_t >= self.horn_len {
                    self.horn_len = 0;
                    self.horn_env = 0.0;
                }
            }

            // ---------------- vinyl ----------------
            let mut cr = 0.0;
            if vinyl > 0.0 {
                // Crackle: ~6-40 clicks/s, exponential amplitudes, the odd big pop.
                let rate = 6.0 + 34.0 * vinyl;
                if self.rng.chance(rate / sr) {
                    let u = self.rng.f32().max(1e-6);
                    let a = (-u.ln() * 0.25).min(1.5);
                    let sign = if self.rng.chance(0.5) { 1.0 } else { -1.0 };
                    self.crackle = sign * a * 0.12 * vinyl;
                }
            }
            if self.crackle != 0.0 {
                cr = self.crackle;
                self.crackle = flush(self.crackle * -0.35);
            }
            let hiss = vinyl * 0.006 * ns;
            let (vl, vr) = if hiss > 0.0 {
                (self.rng.bipolar() * hiss, self.rng.bipolar() * hiss)
            } else {
                (0.0, 0.0)
            };
            // Faint rumble with the once-per-turn wow of a 33 1/3 record (0.55 Hz).
            self.wow_ph = if vinyl > 0.0 {
                wrap01(self.wow_ph + 0.55 / sr)
            } else {
                self.wow_ph
            };
            let rn = if vinyl > 0.0 {
                let wow = 0.5 + 0.5 * sin_turns(self.wow_ph);
                self.rng.bipolar() * vinyl * 0.35 * ns * (0.3 + 0.7 * wow)
            } else {
                0.0
            };

            // ---------------- the filters, both stages, every lane at once ----------------
            let front = self
                .front
                .tick([nl, nr, tnl, tnr, tnl * hs, tnr * hs, vl, vr]);
            let crackle = self.crackle_lp.tick(cr);
            let back = self.back.tick([
                front[RAIN_BED_LP],
                front[RAIN_BED_LP + 1],
                front[RUMBLE_LP],
                front[RUMBLE_LP + 1],
                dl,
                dr,
                crackle,
                rn,
            ]);

            // Rain: the bed and the droplets, then the light's tone on it: two one-poles
            // (12 dB/octave), darker when dark.
            let rl = back[RAIN_BED_HP] + back[DROP_HP] * RAIN_GAIN;
            let rr = back[RAIN_BED_HP + 1] + back[DROP_HP + 1] * RAIN_GAIN;
            let (tl, tr) = (self.rain_tone[0][0].tick(rl), self.rain_tone[0][1].tick(rr));
            ol += self.rain_tone[1][0].tick(tl);
            or += self.rain_tone[1][1].tick(tr);
            // Traffic: the rumble, the tyre hiss and the far horn.
            let horn = self.horn_lp.tick(horn);
            let (tl, tr) = (back[RUMBLE_LP2], back[RUMBLE_LP2 + 1]);
            let (hl, hr) = (front[TYRE_HISS_BP], front[TYRE_HISS_BP + 1]);
            ol += (tl + hl) * TRAFFIC_GAIN + horn * self.horn_pan.0;
            or += (tr + hr) * TRAFFIC_GAIN + horn * self.horn_pan.1;
            // Vinyl: crackle, hiss and the record's rumble.
            let cr = back[CRACKLE_HP];
            let hl = self.hiss_lp[0].tick(front[VINYL_HISS_HP]);
            let hr = self.hiss_lp[1].tick(front[VINYL_HISS_HP + 1]);
            let rumble = back[VINYL_RUMBLE_LP];
            ol += (cr + hl + rumble) * VINYL_GAIN;
            or += (cr * 0.9 + hr + rumble) * VINYL_GAIN;

            let yl = safety(ol);
            let yr = safety(or);
            l[i] += yl;
            r[i] += yr;

            // Sleep once everything has faded to exact silence.
            if rain == 0.0
                && traffic == 0.0
                && vinyl == 0.0
                && yl == 0.0
                && yr == 0.0
                && self.horn_len == 0
            {
                self.quiet += 1;
                if self.quiet > 256 {
                    self.awake = false;
                    self.quiet = 0;
                    self.swell_timer = 0;
                    break;
                }
            } else {
                self.quiet = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    fn play(a: &mut Ambience, sizes: &[usize], n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, sizes, |l, r| a.render(l, r))
    }

    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut a = Ambience::new(sr);
        let evs: [(usize, f32, f32, f32); 4] = [
            (0, 1.0, 0.0, 0.5),
            (10001, 0.3, 1.0, 1.0),
            (30000, 0.0, 0.6, 0.0),
            (45000, 0.0, 0.0, 0.0),
        ];
        let at = evs.map(|e| e.0);
        let apply = |a: &mut Ambience, i: usize| a.set_amount(evs[i].1, evs[i].2, evs[i].3);
        play_script(&mut a, 60000, sizes, &at, apply, |a, l, r| a.render(l, r))
    }

    #[test]
    fn ambience_finite_no_subnormals_all_rates() {
        for sr in RATES {
            let mut a = Ambience::new(sr);
            a.set_amount(1.0, 1.0, 1.0);
            let (l, r) = play(&mut a, &[64], (sr * 3.0) as usize);
            assert_clean(&l, "ambience l");
            assert_clean(&r, "ambience r");
            assert!(peak(&l[(sr as usize)..]) > 0.02, "silent at {sr}");
            a.set_amount(0.0, 0.0, 0.0);
            let (l, r) = play(&mut a, &[64], (sr * 12.0) as usize);
            assert_clean(&l, "ambience l tail");
            assert_clean(&r, "ambience r tail");
            assert!(
                l[l.len() - 1000..].iter().all(|v| *v == 0.0),
                "not silent at {sr}"
            );
        }
    }

    #[test]
    fn ambience_reset_reproduces_output() {
        let mut a = Ambience::new(48000.0);
        let run = |a: &mut Ambience| {
            a.set_amount(0.8, 0.6, 0.7);
            let (mut l, r) = play(a, &[64], 48000);
            l.extend(r);
            l
        };
        let x = run(&mut a);
        a.reset();
        assert_eq!(x, run(&mut a));
    }

    #[test]
    fn ambience_block_size_independent() {
        let a = scripted(44100.0, &[64]);
        assert_eq!(a, scripted(44100.0, &[1, 7, 33]));
        assert_eq!(a, scripted(44100.0, &[64, 3, 20]));
    }

    #[test]
    fn ambience_peak_below_one_and_moderate() {
        let mut a = Ambience::new(48000.0);
        a.set_amount(1.0, 1.0, 1.0);
        let (l, r) = play(&mut a, &[64], 48000 * 30);
        let pk = peak(&l).max(peak(&r));
        assert!(pk < 0.8, "peak {pk}");
        assert!(rms(&l[48000 * 5..]) > 0.01, "too quiet");
    }

    #[test]
    fn rain_is_bright_traffic_is_dark() {
        let sr = 48000.0;
        let mut a = Ambience::new(sr);
        a.set_amount(1.0, 0.0, 0.0);
        let (l, _) = play(&mut a, &[64], 48000 * 4);
        let rain_hi = power_fraction_above(&l[48000 * 3..48000 * 3 + 8192], sr, 1000.0);
        assert!(rain_hi > 0.7, "rain above 1 kHz: {rain_hi}");
        let mut a = Ambience::new(sr);
        a.set_amount(0.0, 1.0, 0.0);
        let (l, _) = play(&mut a, &[64], 48000 * 4);
        let seg = &l[48000 * 3..48000 * 3 + 8192];
        let traffic_hi = power_fraction_above(seg, sr, 300.0);
        assert!(traffic_hi < 0.3, "traffic above 300 Hz: {traffic_hi}");
    }

    #[test]
    fn vinyl_crackles() {
        // Sparse clicks: the crest factor of the crackle band is high.
        let sr = 48000.0;
        let mut a = Ambience::new(sr);
        a.set_amount(0.0, 0.0, 1.0);
        let (l, _) = play(&mut a, &[64], 48000 * 4);
        let seg = &l[48000 * 2..];
        let crest = peak(seg) / rms(seg);
        assert!(crest > 6.0, "crest factor {crest}");
    }

    #[test]
    fn ambience_is_wide() {
        let mut a = Ambience::new(48000.0);
        a.set_amount(1.0, 1.0, 0.3);
        let (l, r) = play(&mut a, &[64], 48000 * 4);
        let (l, r) = (&l[96000..], &r[96000..]);
        let dot: f64 = l
            .iter()
            .zip(r)
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum();
        let el: f64 = l.iter().map(|a| (*a as f64).powi(2)).sum();
        let er: f64 = r.iter().map(|a| (*a as f64).powi(2)).sum();
        assert!(
            dot / (el * er).sqrt() < 0.6,
            "correlation {}",
            dot / (el * er).sqrt()
        );
    }
}

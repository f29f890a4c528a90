//! A stereo look-ahead true-peak limiter with a fixed ceiling, for broadcast delivery
//! (EBU R 128 / ITU-R BS.1770 ask for true peaks, measured 4x oversampled, at or below -1 dBTP).
//!
//! The detector estimates each sample's true peak by 4x polyphase interpolation (a windowed-sinc
//! prototype, 24 taps per phase), turns it into the gain that peak needs, lets that gain recover
//! toward unity with the release time, holds its minimum over the look-ahead window (plus a
//! little slack for the interpolator's alignment) and smooths it with a moving average as long
//! as the window. Because every average term is a minimum over a window containing the peak,
//! the gain applied to the delayed sample is never above the gain its peak needs, so the
//! limiter cannot overshoot; and the gain moves smoothly (no clicks), starting at unity after a
//! reset (fundsp's `Limiter` boosts the first samples after a reset). Audio thread: every
//! buffer is allocated in `new`, nothing allocates afterwards.

/// Oversampling factor of the true-peak estimate.
const OVERSAMPLE: usize = 4;
/// Taps per polyphase branch (flat within 0.01 dB to 18 kHz at 48 kHz).
const TAPS: usize = 24;
/// The interpolator's delay in input samples (the prototype's centre, rounded).
const INTERP_DELAY: usize = TAPS / 2;
/// Extra samples the minimum is held beyond the look-ahead, to cover the interpolator's
/// alignment (see the module docs).
const HOLD_SLACK: usize = 4;

/// The 4x interpolation prototype split into its phases, each normalised to unity DC gain.
fn polyphase() -> [[f32; TAPS]; OVERSAMPLE] {
    let n = OVERSAMPLE * TAPS;
    let centre = (n - 1) as f64 / 2.0;
    // Kaiser window, beta 7 (about 70 dB of stop band).
    let beta = 7.0f64;
    let bessel0 = |x: f64| {
        let (mut sum, mut term) = (1.0, 1.0);
        for k in 1..40 {
            term *= (x / 2.0) * (x / 2.0) / (k * k) as f64;
            sum += term;
        }
        sum
    };
    let mut h = [[0.0f32; TAPS]; OVERSAMPLE];
    for (i, phase) in h.iter_mut().enumerate() {
        let mut sum = 0.0;
        let mut taps = [0.0f64; TAPS];
        for (k, t) in taps.iter_mut().enumerate() {
            let idx = k * OVERSAMPLE + i;
            let x = (idx as f64 - centre) / OVERSAMPLE as f64;
            let sinc = if x.abs() < 1e-12 {
                1.0
            } else {
                (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
            };
            let r = (idx as f64 - centre) / (centre + 0.5);
            let w = bessel0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel0(beta);
            *t = sinc * w;
            sum += *t;
        }
        for (o, t) in phase.iter_mut().zip(taps) {
            *o = (t / sum) as f32;
        }
    }
    h
}

/// Sliding minimum over the last `window` values (a monotonic queue in a fixed ring).
struct SlidingMin {
    /// (index, value) pairs with increasing values, oldest first.
    ring: Vec<(u64, f32)>,
    /// Ring position of the oldest pair.
    head: usize,
    /// Pairs in use.
    len: usize,
    /// Window length in samples.
    window: u64,
}

impl SlidingMin {
    fn new(window: usize) -> Self {
        Self {
            ring: vec![(0, 1.0); window + 1],
            head: 0,
            len: 0,
            window: window as u64,
        }
    }

    fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Holds nothing under unity: pushing 1.0 would leave just that pair.
    fn at_unity(&self) -> bool {
        self.len == 0 || self.len == 1 && self.ring[self.head].1 == 1.0
    }

    /// What pushing 1.0 at every index up to `index` does to a queue `at_unity`: the one pair
    /// left is `(index, 1.0)`, at the head.
    fn rest_at(&mut self, index: u64) {
        self.ring[self.head] = (index, 1.0);
        self.len = 1;
    }

    #[inline]
    fn push(&mut self, index: u64, v: f32) -> f32 {
        let cap = self.ring.len();
        while self.len > 0 {
            let back = (self.head + self.len - 1) % cap;
            if self.ring[back].1 >= v {
                self.len -= 1;
            } else {
                break;
            }
        }
        let at = (self.head + self.len) % cap;
        self.ring[at] = (index, v);
        self.len += 1;
        while self.ring[self.head].0 + self.window <= index {
            self.head = (self.head + 1) % cap;
            self.len -= 1;
        }
        self.ring[self.head].1
    }
}

/// The limiter. See the module docs.
pub struct Limiter {
    /// Interpolation phases, tap-major (`phases[k][p]` is phase `p`'s tap `k`), so the four
    /// phases' sums run side by side (each still summed in tap order).
    phases: [[f32; OVERSAMPLE]; TAPS],
    /// The last `TAPS` input samples per channel (history for the interpolator), written twice
    /// (at `hpos` and `hpos + TAPS`) so that `hist[c][hpos + 1..][..TAPS]` is always the
    /// window, oldest first, without moving it every sample.
    hist: [[f32; 2 * TAPS]; 2],
    /// Ring position of the newest sample in `hist`.
    hpos: usize,
    /// Required gain after release smoothing.
    released: f32,
    /// Release: fraction of the distance to unity recovered per sample.
    release: f32,
    /// Minimum of the released gain over the hold window.
    hold: SlidingMin,
    /// The last `lookahead` held minima (for the moving average).
    avg_line: Vec<f32>,
    /// Write position in `avg_line`.
    avg_pos: usize,
    /// Running sum of `avg_line` (f64: no drift over hours).
    avg_sum: f64,
    /// Samples seen since the reset.
    index: u64,
    /// Delay line for `tick` (callers of `gain_for` delay their own signals).
    line: Vec<[f32; 2]>,
    /// Write position in `line`.
    pos: usize,
    /// The gain last computed.
    gain: f32,
    /// Output ceiling (linear, true peak).
    ceiling: f32,
    /// The most the interpolator can give for a window whose samples are all within +-1:
    /// the largest phase's sum of absolute taps, at least 1 (the window's own samples count).
    peak_gain: f32,
}

impl Limiter {
    /// A limiter with `lookahead_s` of look-ahead, `release_s` recovery and a true-peak
    /// `ceiling` (linear).
    pub fn new(sample_rate: f32, lookahead_s: f32, release_s: f32, ceiling: f32) -> Self {
        let look = (sample_rate * lookahead_s).round().max(2.0) as usize;
        let latency = look + 1 + INTERP_DELAY;
        let mut l = Self {
            phases: {
                let by_phase = polyphase();
                core::array::from_fn(|k| core::array::from_fn(|p| by_phase[p][k]))
            },
            hist: [[0.0; 2 * TAPS]; 2],
            hpos: 0,
            released: 1.0,
            release: 1.0 - (-1.0 / (release_s.max(1e-3) * sample_rate)).exp(),
            hold: SlidingMin::new(look + HOLD_SLACK),
            avg_line: vec![1.0; look],
            avg_pos: 0,
            avg_sum: look as f64,
            index: 0,
            line: vec![[0.0; 2]; latency],
            pos: 0,
            gain: 1.0,
            ceiling,
            peak_gain: 1.0,
        };
        l.peak_gain = (0..OVERSAMPLE)
            .map(|p| l.phases.iter().map(|t| t[p].abs()).sum::<f32>())
            .fold(1.0, f32::max);
        l.reset();
        l
    }

    /// Delay in samples between a sample given to `gain_for` and the gain meant for it.
    pub fn latency(&self) -> usize {
        self.line.len()
    }

    /// Silence and unity gain.
    pub fn reset(&mut self) {
        self.hist = [[0.0; 2 * TAPS]; 2];
        self.hpos = 0;
        self.released = 1.0;
        self.hold.reset();
        self.avg_line.iter_mut().for_each(|g| *g = 1.0);
        self.avg_pos = 0;
        self.avg_sum = self.avg_line.len() as f64;
        self.index = 0;
        self.line.iter_mut().for_each(|f| *f = [0.0; 2]);
        self.pos = 0;
        self.gain = 1.0;
    }

    /// Takes one stereo sample into the interpolator's history (non-finite samples as 0).
    #[inline]
    fn push(&mut self, l: f32, r: f32) {
        self.hpos = if self.hpos + 1 == TAPS {
            0
        } else {
            self.hpos + 1
        };
        let at = self.hpos;
        for (c, x) in [l, r].into_iter().enumerate() {
            let x = if x.is_finite() { x } else { 0.0 };
            let h = &mut self.hist[c];
            h[at] = x;
            h[at + TAPS] = x;
        }
    }

    /// The true peak (4x oversampled estimate) around the sample `INTERP_DELAY` back.
    #[inline]
    fn true_peak(&mut self, l: f32, r: f32) -> f32 {
        self.push(l, r);
        let mut peak = 0.0f32;
        let at = self.hpos;
        for c in 0..2 {
            let h = &self.hist[c];
            // The window, oldest first; the newest sample meets the first tap.
            let w: &[f32; TAPS] = h[at + 1..at + 1 + TAPS].try_into().unwrap();
            let mut y = [0.0f32; OVERSAMPLE];
            for (k, taps) in self.phases.iter().enumerate() {
                let v = w[TAPS - 1 - k];
                for p in 0..OVERSAMPLE {
                    y[p] += taps[p] * v;
                }
            }
            for v in y {
                peak = peak.max(v.abs());
            }
            peak = peak.max(w[TAPS - 1 - INTERP_DELAY].abs());
        }
        peak
    }

    /// Feeds one undelayed stereo sample to the detector and returns the gain to apply to
    /// the sample delayed by `latency()` (for callers that delay several signals themselves).
    #[inline]
    pub fn gain_for(&mut self, l: f32, r: f32) -> f32 {
        let peak = self.true_peak(l, r);
        self.gain_from_peak(peak)
    }

    /// `gain_for` over a block (`out[i]` for `l[i]`, `r[i]`), the same gains bit for bit.
    /// The gain only asks whether a true peak is over the ceiling, so when none can be (the
    /// largest sample in every window this block sees, times `peak_gain`, with a margin for
    /// rounding, is under it) the block skips the interpolation, and when the gain is also at
    /// rest at unity it skips the release, hold and average too.
    pub fn gain_block(&mut self, l: &[f32], r: &[f32], out: &mut [f32]) {
        let n = l.len().min(r.len()).min(out.len());
        let clean = |x: f32| if x.is_finite() { x.abs() } else { 0.0 };
        let mut m = 0.0f32;
        for h in &self.hist {
            for &x in &h[..TAPS] {
                m = m.max(x.abs());
            }
        }
        for i in 0..n {
            m = m.max(clean(l[i])).max(clean(r[i]));
        }
        if m * self.peak_gain * 1.001 >= self.ceiling {
            for i in 0..n {
                out[i] = self.gain_for(l[i], r[i]);
            }
            return;
        }
        for i in 0..n {
            self.push(l[i], r[i]);
        }
        let avg_len = self.avg_line.len();
        if n > 0 && self.released == 1.0 && self.avg_sum == avg_len as f64 && self.hold.at_unity() {
            // At rest (every held minimum in the average is 1: their sum, exact in f64, is
            // the count) and nothing to limit: every gain is 1, and each sample only moves
            // the bookkeeping on, as `gain_from_peak(0.0)` would.
            out[..n].fill(1.0);
            self.index += n as u64;
            self.hold.rest_at(self.index - 1);
            self.avg_pos = (self.avg_pos + n) % avg_len;
            self.gain = 1.0;
            return;
        }
        for o in out[..n].iter_mut() {
            *o = self.gain_from_peak(0.0);
        }
    }

    /// The rest of `gain_for`: the gain a sample whose true peak is `peak` asks for, released
    /// and held.
    #[inline]
    fn gain_from_peak(&mut self, peak: f32) -> f32 {
        let need = if peak > self.ceiling {
            self.ceiling / peak
        } else {
            1.0
        };
        // Down at once, back up with the release time. Near unity a step rounds away to
        // nothing in f32 (with a 0.25 s release from 0.99964 up: 0.003 dB under unity); the
        // gain would stay there for good, so a step that no longer moves it lands on unity.
        let up = self.released + (1.0 - self.released) * self.release;
        self.released = if up > 1.0 - 1e-7 || up == self.released {
            1.0
        } else {
            up
        };
        self.released = self.released.min(need);
        let held = self.hold.push(self.index, self.released);
        self.index += 1;
        let old = std::mem::replace(&mut self.avg_line[self.avg_pos], held);
        self.avg_pos += 1;
        if self.avg_pos == self.avg_line.len() {
            self.avg_pos = 0;
            // Re-sum once per window so rounding never accumulates.
            self.avg_sum = self.avg_line.iter().map(|&g| g as f64).sum();
        } else {
            self.avg_sum += held as f64 - old as f64;
        }
        let g = (self.avg_sum / self.avg_line.len() as f64) as f32;
        // The average of minima is never above any of them; rounding aside.
        self.gain = g.min(1.0);
        self.gain
    }

    /// One stereo sample in, one (delayed, limited) out.
    #[inline]
    pub fn tick(&mut self, l: f32, r: f32) -> (f32, f32) {
        let g = self.gain_for(l, r);
        let [dl, dr] = self.line[self.pos];
        self.line[self.pos] = [l, r];
        self.pos += 1;
        if self.pos == self.line.len() {
            self.pos = 0;
        }
        let c = self.ceiling;
        ((dl * g).clamp(-c, c), (dr * g).clamp(-c, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True peak of a signal measured the way a meter does it (`over` = 4 is ITU-R BS.1770's
    /// 4x oversampling; 16 is finer), by a long Kaiser-windowed sinc: an interpolator
    /// independent of the limiter's own short one.
    /// Only sample times in `range` are measured; the rest of `x` is context (a finite slice
    /// would ring at its edges).
    pub fn reference_true_peak(x: &[f32], range: std::ops::Range<usize>, over: usize) -> f32 {
        let half = 400i64;
        let beta = 12.0f64;
        let bessel0 = |v: f64| {
            let (mut sum, mut term) = (1.0, 1.0);
            for k in 1..60 {
                term *= (v / 2.0) * (v / 2.0) / (k * k) as f64;
                sum += term;
            }
            sum
        };
        let i0b = bessel0(beta);
        let mut peak = x[range.clone()].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for i in range.start as i64..range.end as i64 {
            for p in 1..over {
                let t = i as f64 + p as f64 / over as f64;
                let mut y = 0.0f64;
                for k in (i - half)..=(i + half + 1) {
                    if k < 0 || k >= x.len() as i64 {
                        continue;
                    }
                    let d = t - k as f64;
                    let r = d / (half as f64 + 1.0);
                    let w = bessel0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0b;
                    let s = (std::f64::consts::PI * d).sin() / (std::f64::consts::PI * d);
                    y += x[k as usize] as f64 * s * w;
                }
                peak = peak.max(y.abs() as f32);
            }
        }
        peak
    }

    #[test]
    fn the_reference_meter_reads_a_sine_right() {
        let x: Vec<f32> = (0..3000)
            .map(|i| (std::f32::consts::TAU * 11_000.0 * i as f32 / 48_000.0 + 0.785).sin())
            .collect();
        let tp = reference_true_peak(&x, 1000..2000, 16);
        assert!((tp - 1.0).abs() < 0.003, "{tp}");
    }

    /// A block's gains skip the interpolator only where it cannot matter: the same gains,
    /// bit for bit, as one `gain_for` a sample, through quiet passages, bursts well over the
    /// ceiling, inter-sample peaks just over it from samples just under it, and NaN; and, with
    /// a release short enough for the gain to come back to rest between bursts, through the
    /// skipped release, hold and average and the way out of them.
    #[test]
    fn block_gains_are_the_per_sample_gains() {
        let ceiling = 0.871;
        for release in [0.25, 0.002] {
            let (mut a, mut b) = (
                Limiter::new(48_000.0, 0.004, release, ceiling),
                Limiter::new(48_000.0, 0.004, release, ceiling),
            );
            let mut rng = crate::dsp::Rng::new(3);
            let (mut quiet, mut limited, mut rested) = (0, 0, 0);
            let mut was_limited = false;
            for block in 0..1000 {
                let n = [64, 1, 17, 64, 33][block % 5];
                // Quiet passages first (the skipped interpolation), then loud ones, then
                // loud bursts between quiet stretches.
                let level = if block < 200 {
                    [0.05, 0.5, 0.0][(block / 7) % 3]
                } else if block < 400 {
                    [3.0, 0.86, 0.05][(block / 7) % 3]
                } else {
                    [3.0, 0.05, 0.05, 0.05, 0.05, 0.05][(block / 20) % 6]
                };
                let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
                for i in 0..n {
                    // Near a quarter of the rate, so samples straddle the crests.
                    let t = (block * 64 + i) as f32;
                    l[i] = level * (t * 1.55 + 0.7).sin() + 0.01 * rng.bipolar();
                    r[i] = -l[i];
                }
                if block == 123 {
                    l[5] = f32::NAN;
                    r[0] = f32::INFINITY;
                }
                let mut g = [0.0f32; 64];
                a.gain_block(&l[..n], &r[..n], &mut g[..n]);
                for i in 0..n {
                    let want = b.gain_for(l[i], r[i]);
                    assert_eq!(
                        g[i].to_bits(),
                        want.to_bits(),
                        "release {release}, block {block}, sample {i}"
                    );
                }
                if block < 200 {
                    quiet += 1;
                    assert!(g[..n].iter().all(|&v| v == 1.0), "block {block}");
                } else if g[..n].iter().any(|&v| v < 1.0) {
                    limited += 1;
                    was_limited = true;
                } else if was_limited && a.released == 1.0 {
                    rested += 1;
                    was_limited = false;
                }
            }
            assert!(
                quiet == 200 && limited > 50,
                "{quiet} quiet, {limited} limited"
            );
            if release < 0.01 {
                assert!(rested >= 5, "the gain came back to rest {rested} times");
            }
        }
    }

    #[test]
    fn the_gain_comes_all_the_way_back_after_limiting() {
        // A step of the release near unity rounds away in f32: with 0.25 s the gain stopped
        // at 0.99964 (0.003 dB down) for good after the first limiting.
        let mut lim = Limiter::new(48_000.0, 0.004, 0.25, 0.871);
        let sine = |i: usize, a: f32| a * (i as f32 * 0.05).sin();
        for i in 0..4800 {
            lim.gain_for(sine(i, 3.0), sine(i, 3.0));
        }
        assert!(lim.gain < 0.5, "not limiting: {}", lim.gain);
        let mut g = 0.0;
        for i in 0..(6 * 48_000) {
            g = lim.gain_for(sine(i, 0.05), sine(i, 0.05));
        }
        assert_eq!(g, 1.0);
        assert_eq!(lim.released, 1.0);
    }

    #[test]
    fn quiet_signal_passes_delayed_and_unchanged() {
        let mut lim = Limiter::new(48_000.0, 0.004, 0.2, 0.89);
        let d = lim.latency();
        assert_eq!(d, 192 + 1 + INTERP_DELAY);
        let x: Vec<f32> = (0..2000).map(|i| 0.5 * (i as f32 * 0.01).sin()).collect();
        let y: Vec<f32> = x.iter().map(|&v| lim.tick(v, v).0).collect();
        for i in d..2000 {
            assert_eq!(y[i], x[i - d]);
        }
    }

    #[test]
    fn loud_signal_stays_under_the_ceiling_and_starts_without_a_boost() {
        let mut lim = Limiter::new(48_000.0, 0.004, 0.2, 0.89);
        let mut max_out = 0.0f32;
        for i in 0..48_000 {
            // A burst at 4x the ceiling after a quiet start.
            let a = if i < 10_000 { 0.01 } else { 3.5 };
            let x = a * (i as f32 * 0.05).sin();
            let (l, _) = lim.tick(x, -x);
            max_out = max_out.max(l.abs());
            if i < 10_000 + lim.latency() {
                // Before the burst arrives at the output nothing is amplified.
                assert!(l.abs() <= 0.01 + 1e-6, "boost at {i}: {l}");
            }
        }
        assert!(max_out <= 0.89 && max_out > 0.8, "{max_out}");
    }

    #[test]
    fn true_peaks_stay_under_the_ceiling_where_sample_peaks_would_not() {
        // Sines near a quarter of the rate, phased so the samples miss the crests: sample
        // peaks read about 3 dB below the true peak.
        let sr = 48_000.0f32;
        let ceiling = 10f32.powf(-1.0 / 20.0);
        let mut lim = Limiter::new(sr, 0.004, 0.25, ceiling);
        let mut out = Vec::new();
        for i in 0..24_000 {
            let t = i as f32 / sr;
            let f = 11_000.0 + 1000.0 * (t * 3.0).sin();
            // Bursts 5 dB over the ceiling with 1 ms raised-cosine edges (a fast accent:
            // quicker than the 4 ms look-ahead).
            let k = (i % 4000) as f32;
            let edge =
                |d: f32| 0.5 - 0.5 * (std::f32::consts::PI * (d / 48.0).clamp(0.0, 1.0)).cos();
            let a = 0.7 + 0.9 * edge(k) * edge(648.0 - k);
            let x = a * (std::f32::consts::TAU * f * t + 0.785).sin();
            let (l, _) = lim.tick(x, x);
            out.push(l);
        }
        // Measured as BS.1770 does (4x), and finer (16x): at the ceiling.
        let tp4 = 20.0 * reference_true_peak(&out, 2000..12000, 4).log10();
        let tp16 = 20.0 * reference_true_peak(&out, 2000..12000, 16).log10();
        let sp = 20.0
            * out[2000..]
                .iter()
                .fold(0.0f32, |m, v| m.max(v.abs()))
                .log10();
        println!("sample peak {sp:.2} dBFS, true peak {tp4:.2} dBTP (4x), {tp16:.2} (16x)");
        assert!(tp4 <= -0.97, "true peak {tp4:.2} dBTP");
        assert!(tp16 <= -0.95, "true peak at 16x {tp16:.2} dBTP");
    }
}

//! A stereo look-ahead peak limiter with a fixed ceiling. fundsp's `Limiter` boosts the first
//! samples after a reset (it seeds its follower with the look-ahead peak without the 1.0
//! floor), which clicks at start-up and on every timeline jump; this one starts at unity gain.
//! Audio thread; the delay line is allocated in `new`.

/// Peak limiter: envelope on the input, gain smoothed across the look-ahead window, applied to
/// the delayed signal, then a hard clamp at the ceiling as a last guard.
pub struct Limiter {
    /// Delay line, interleaved stereo.
    line: Vec<[f32; 2]>,
    /// Write position in `line`.
    pos: usize,
    /// Peak envelope of the input (instant attack).
    env: f32,
    /// Per-sample envelope release multiplier.
    release: f32,
    /// Gain smoothing coefficient (reaches ~98 % of a new target within the look-ahead).
    attack: f32,
    /// Current gain.
    gain: f32,
    /// Output ceiling (linear).
    ceiling: f32,
}

impl Limiter {
    /// A limiter with `lookahead_s` delay, `release_s` recovery and a `ceiling` (linear).
    pub fn new(sample_rate: f32, lookahead_s: f32, release_s: f32, ceiling: f32) -> Self {
        let len = (sample_rate * lookahead_s).round().max(1.0) as usize;
        Self {
            line: vec![[0.0; 2]; len],
            pos: 0,
            env: 0.0,
            release: (-1.0 / (release_s * sample_rate)).exp(),
            attack: 1.0 - (-4.0 / len as f32).exp(),
            gain: 1.0,
            ceiling,
        }
    }

    /// Delay in samples.
    pub fn latency(&self) -> usize {
        self.line.len()
    }

    /// Silence and unity gain.
    pub fn reset(&mut self) {
        self.line.iter_mut().for_each(|f| *f = [0.0; 2]);
        self.pos = 0;
        self.env = 0.0;
        self.gain = 1.0;
    }

    /// Feeds one undelayed stereo sample to the detector and returns the gain to apply to
    /// the sample delayed by `latency()` (for callers that delay several signals themselves).
    #[inline]
    pub fn gain_for(&mut self, l: f32, r: f32) -> f32 {
        let peak = l.abs().max(r.abs());
        self.env = if peak > self.env {
            peak
        } else {
            self.env * self.release
        };
        if self.env < 1e-12 {
            self.env = 0.0;
        }
        let target = if self.env > self.ceiling {
            self.ceiling / self.env
        } else {
            1.0
        };
        self.gain += (target - self.gain) * self.attack;
        self.gain
    }

    /// One stereo sample in, one (delayed, limited) out.
    #[inline]
    pub fn tick(&mut self, l: f32, r: f32) -> (f32, f32) {
        self.gain_for(l, r);
        let [dl, dr] = self.line[self.pos];
        self.line[self.pos] = [l, r];
        self.pos += 1;
        if self.pos == self.line.len() {
            self.pos = 0;
        }
        let c = self.ceiling;
        ((dl * self.gain).clamp(-c, c), (dr * self.gain).clamp(-c, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_signal_passes_delayed_and_unchanged() {
        let mut lim = Limiter::new(48_000.0, 0.004, 0.2, 0.89);
        let d = lim.latency();
        assert_eq!(d, 192);
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
        let mut max_in = 0.0f32;
        for i in 0..48_000 {
            // A burst at 4x the ceiling after a quiet start.
            let a = if i < 10_000 { 0.01 } else { 3.5 };
            let x = a * (i as f32 * 0.05).sin();
            max_in = max_in.max(x.abs());
            let (l, _) = lim.tick(x, -x);
            max_out = max_out.max(l.abs());
            if i < 10_000 + lim.latency() {
                // Before the burst arrives at the output nothing is amplified.
                assert!(l.abs() <= 0.01 + 1e-6, "boost at {i}: {l}");
            }
        }
        assert!(max_out <= 0.89 && max_out > 0.8, "{max_out} from {max_in}");
    }
}

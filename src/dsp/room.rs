//! The room: fundsp's `reverb_stereo` (a 32-line feedback delay network with a Hadamard
//! matrix, a 3-tap damping FIR per line and an S-shaped stereo spread), computed a block at a
//! time instead of one virtual `tick` per sample. Built on the audio thread's side by the
//! mixer: allocates its delay lines in `new`, never in `process`.
//!
//! Every line is longer than a block, so a whole block's delay outputs are already written
//! when the block starts: each stage then runs over the block's samples as one inner loop
//! (the matrix as butterflies over 32 rows of 64 samples). The arithmetic per sample is
//! fundsp's, in fundsp's order, so the output is bit-for-bit `reverb_stereo`'s (a test holds
//! it to that).

use super::MAX_BLOCK;
use fundsp::math::{lerp, smooth9};
use fundsp::prelude32::{db_amp, fir3, pan, pow};

/// Lines in the network.
const LINES: usize = 32;

/// fundsp's delay times (s) for a 10 m room (`reverb_stereo`); scaled by the room size.
const DELAYS: [f64; LINES] = [
    0.073904, 0.052918, 0.066238, 0.066387, 0.037783, 0.080073, 0.050961, 0.075900, 0.043646,
    0.072095, 0.056194, 0.045961, 0.058934, 0.068016, 0.047529, 0.058156, 0.072972, 0.036084,
    0.062715, 0.076377, 0.044339, 0.076725, 0.077884, 0.046126, 0.067741, 0.049800, 0.051709,
    0.082923, 0.070121, 0.079315, 0.055039, 0.081859,
];

/// One delay line: a power-of-two ring holding at least its delay plus a block.
struct Line {
    buf: Box<[f32]>,
    mask: usize,
    /// Delay in samples (at least 1).
    delay: usize,
    /// The damping FIR's last two inputs.
    v: [f32; 2],
}

/// The stereo room. See the module docs.
pub struct Room {
    lines: Vec<Line>,
    /// Where the next sample is written (the same for every line; each masks it).
    pos: usize,
    /// The damping FIR's weights (fundsp `fir3`, scaled by the loop gain).
    w: [f32; 3],
    /// The matrix output of the last sample, fed back into the next.
    value: [f32; LINES],
    /// Each line's left and right weight in the output spread.
    spread: [[f32; 2]; LINES],
    /// The shortest line (samples): blocks are cut to at most this.
    min_delay: usize,
    /// Work space for a stretch (kept here, so a block clears nothing it does not use).
    work: Box<Work>,
}

/// A stretch's intermediate signals.
struct Work {
    /// Each line's damped output.
    out: [[f32; MAX_BLOCK]; LINES],
    /// The matrix over `out`.
    fb: [[f32; MAX_BLOCK]; LINES],
    /// One line's samples: the FIR's two past inputs, then the stretch read from the ring
    /// (or, on the way back, the stretch to write).
    x: [f32; MAX_BLOCK + 2],
}

impl Room {
    /// `reverb_stereo(room_size, time, damping)` at `sample_rate`.
    pub fn new(sample_rate: f64, room_size: f64, time: f64, damping: f64) -> Self {
        let a = pow(db_amp(-60.0), 0.03 * room_size / 10.0 / time) as f32;
        let fw = fir3(1.0 - damping as f32).weights();
        let w = [fw[0] * a, fw[1] * a, fw[2] * a];
        let lines: Vec<Line> = DELAYS
            .iter()
            .map(|&t| {
                // fundsp's `Delay`: round(time * sr) samples, at least one.
                let delay = ((t * room_size / 10.0 * sample_rate).round() as usize).max(1);
                let len = (delay + MAX_BLOCK + 1).next_power_of_two();
                Line {
                    buf: vec![0.0; len].into_boxed_slice(),
                    mask: len - 1,
                    delay,
                    v: [0.0; 2],
                }
            })
            .collect();
        let min_delay = lines.iter().map(|l| l.delay).min().unwrap_or(1);
        // The spread as fundsp's `sumf` builds it: line i panned at smooth9(i / 31) across
        // the field. The weights are read off fundsp's own panner.
        let spread = core::array::from_fn(|i| {
            let x = (i as f64 / (LINES - 1) as f64) as f32;
            let mut p = pan(lerp(-1.0f32, 1.0, smooth9(x)));
            let g = p.tick(&[1.0f32].into());
            [g[0], g[1]]
        });
        Self {
            lines,
            pos: 0,
            w,
            value: [0.0; LINES],
            spread,
            min_delay,
            work: Box::new(Work {
                out: [[0.0; MAX_BLOCK]; LINES],
                fb: [[0.0; MAX_BLOCK]; LINES],
                x: [0.0; MAX_BLOCK + 2],
            }),
        }
    }

    pub fn reset(&mut self) {
        for l in &mut self.lines {
            l.buf.fill(0.0);
            l.v = [0.0; 2];
        }
        self.pos = 0;
        self.value = [0.0; LINES];
    }

    super::simd::wide_method! {
        /// Reverberates `n` samples of `in_l`, `in_r` into `out_l`, `out_r` (n <= MAX_BLOCK).
        pub fn process(
            &mut self,
            in_l: &[f32],
            in_r: &[f32],
            out_l: &mut [f32],
            out_r: &mut [f32],
            n: usize,
        ) = process_avx2 / process_portable
    }

    #[inline(always)]
    fn process_portable(
        &mut self,
        in_l: &[f32],
        in_r: &[f32],
        out_l: &mut [f32],
        out_r: &mut [f32],
        n: usize,
    ) {
        // As fundsp's feedback node does on every sample: flush denormals to zero.
        fundsp::denormal::prevent_denormals();
        let n = n.min(MAX_BLOCK);
        let mut at = 0;
        while at < n {
            let m = (n - at).min(self.min_delay);
            self.run(
                &in_l[at..at + m],
                &in_r[at..at + m],
                &mut out_l[at..at + m],
                &mut out_r[at..at + m],
            );
            at += m;
        }
    }

    /// One stretch no longer than the shortest line, so every delayed sample it reads was
    /// written before it starts. Each stage is an inner loop over the stretch's samples.
    #[inline(always)]
    fn run(&mut self, in_l: &[f32], in_r: &[f32], out_l: &mut [f32], out_r: &mut [f32]) {
        let n = in_l.len().min(MAX_BLOCK);
        let [w0, w1, w2] = self.w;
        // The lines' outputs over the stretch: delayed, then damped (the FIR reads the line's
        // last two samples, then the stretch: `x[t]`, `x[t + 1]`, `x[t + 2]`).
        let Work { out, fb, x } = &mut *self.work;
        for (line, o) in self.lines.iter_mut().zip(out.iter_mut()) {
            x[..2].copy_from_slice(&line.v);
            line.read(self.pos.wrapping_sub(line.delay), &mut x[2..n + 2]);
            for (t, y) in o[..n].iter_mut().enumerate() {
                let mut acc = 0.0f32;
                acc += w0 * x[t];
                acc += w1 * x[t + 1];
                acc += w2 * x[t + 2];
                *y = acc;
            }
            line.v = [x[n], x[n + 1]];
        }
        // The feedback: a normalised Hadamard matrix over the lines, per sample (its first
        // butterflies read the lines' outputs, the rest work in place).
        for j in (0..LINES).step_by(2) {
            let (a, b) = (&out[j], &out[j + 1]);
            let (lo, hi) = fb.split_at_mut(j + 1);
            for t in 0..n {
                lo[j][t] = a[t] + b[t];
                hi[0][t] = a[t] - b[t];
            }
        }
        let mut h = 2;
        while h < LINES {
            let mut i = 0;
            while i < LINES {
                for j in i..i + h {
                    let (lo, hi) = fb.split_at_mut(j + h);
                    for (a, b) in lo[j][..n].iter_mut().zip(hi[0][..n].iter_mut()) {
                        let (x, y) = (*a, *b);
                        *a = x + y;
                        *b = x - y;
                    }
                }
                i += h * 2;
            }
            h *= 2;
        }
        let norm = (1.0 / (LINES as f64).sqrt()) as f32;
        // Each line's input: the room's input (even lines left, odd right) plus the previous
        // sample's feedback.
        for (c, line) in self.lines.iter_mut().enumerate() {
            let input = if c % 2 == 0 { in_l } else { in_r };
            x[0] = input[0] + self.value[c];
            for t in 1..n {
                x[t] = input[t] + fb[c][t - 1] * norm;
            }
            self.value[c] = fb[c][n - 1] * norm;
            line.write(self.pos, &x[..n]);
        }
        self.pos = self.pos.wrapping_add(n);
        // The spread: lines summed in order, each at its own place in the field.
        let (mut l, mut r) = ([0.0f32; MAX_BLOCK], [0.0f32; MAX_BLOCK]);
        let [g0l, g0r] = self.spread[0];
        for t in 0..n {
            l[t] = g0l * out[0][t];
            r[t] = g0r * out[0][t];
        }
        for (o, &[gl, gr]) in out.iter().zip(self.spread.iter()).skip(1) {
            for t in 0..n {
                l[t] += gl * o[t];
                r[t] += gr * o[t];
            }
        }
        for t in 0..n {
            out_l[t] = l[t] * (1.0 / 16.0);
            out_r[t] = r[t] * (1.0 / 16.0);
        }
    }
}

impl Line {
    /// Copies the ring from position `from` (wrapping) into `dst`.
    fn read(&self, from: usize, dst: &mut [f32]) {
        let start = from & self.mask;
        let first = dst.len().min(self.buf.len() - start);
        dst[..first].copy_from_slice(&self.buf[start..start + first]);
        let rest = dst.len() - first;
        dst[first..].copy_from_slice(&self.buf[..rest]);
    }

    /// Copies `src` into the ring from position `at` (wrapping).
    fn write(&mut self, at: usize, src: &[f32]) {
        let start = at & self.mask;
        let first = src.len().min(self.buf.len() - start);
        self.buf[start..start + first].copy_from_slice(&src[..first]);
        let rest = src.len() - first;
        self.buf[..rest].copy_from_slice(&src[first..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::Rng;
    use fundsp::audiounit::AudioUnit;
    use fundsp::prelude32::reverb_stereo;

    /// Noise bursts and silences, then the tail, through both: every output sample is the
    /// same bits, whatever the block sizes.
    #[test]
    fn room_is_fundsps_reverb_stereo_bit_for_bit() {
        for sr in [44100.0, 48000.0, 96000.0] {
            let mut theirs: Box<dyn AudioUnit> = Box::new(reverb_stereo(10.0, 1.3, 0.6));
            theirs.set_sample_rate(sr);
            theirs.allocate();
            let mut ours = Room::new(sr, 10.0, 1.3, 0.6);
            let mut rng = Rng::new(11);
            let total = (sr * 1.5) as usize;
            let sizes = [64usize, 1, 17, 64, 33, 5, 64];
            let (mut at, mut k) = (0, 0);
            while at < total {
                let n = sizes[k % sizes.len()].min(total - at);
                k += 1;
                let burst = (at / 4000) % 3 != 2 && at < total / 2;
                let mut il = [0.0f32; MAX_BLOCK];
                let mut ir = [0.0f32; MAX_BLOCK];
                for t in 0..n {
                    if burst {
                        il[t] = rng.bipolar() * 0.5;
                        ir[t] = rng.bipolar() * 0.5;
                    }
                }
                let mut ol = [0.0f32; MAX_BLOCK];
                let mut or = [0.0f32; MAX_BLOCK];
                ours.process(&il, &ir, &mut ol, &mut or, n);
                for t in 0..n {
                    let (l, r) = theirs.filter_stereo(il[t], ir[t]);
                    assert_eq!(
                        (l.to_bits(), r.to_bits()),
                        (ol[t].to_bits(), or[t].to_bits()),
                        "sample {} at {sr} Hz: fundsp ({l}, {r}) ours ({}, {})",
                        at + t,
                        ol[t],
                        or[t]
                    );
                }
                at += n;
            }
            // And it did reverberate: the tail after the input stopped is not silent.
            let mut ol = [0.0f32; MAX_BLOCK];
            let mut or = [0.0f32; MAX_BLOCK];
            ours.process(&[0.0; MAX_BLOCK], &[0.0; MAX_BLOCK], &mut ol, &mut or, 64);
            assert!(ol.iter().any(|x| x.abs() > 1e-4), "no tail at {sr} Hz");
        }
    }

    #[test]
    fn room_reset_clears_the_tail() {
        let mut room = Room::new(48000.0, 10.0, 1.3, 0.6);
        let mut ol = [0.0f32; MAX_BLOCK];
        let mut or = [0.0f32; MAX_BLOCK];
        room.process(&[0.5; MAX_BLOCK], &[0.5; MAX_BLOCK], &mut ol, &mut or, 64);
        for _ in 0..100 {
            room.process(&[0.0; MAX_BLOCK], &[0.0; MAX_BLOCK], &mut ol, &mut or, 64);
        }
        assert!(ol.iter().any(|x| *x != 0.0));
        room.reset();
        for _ in 0..100 {
            room.process(&[0.0; MAX_BLOCK], &[0.0; MAX_BLOCK], &mut ol, &mut or, 64);
            assert!(ol.iter().chain(or.iter()).all(|x| *x == 0.0));
        }
    }
}

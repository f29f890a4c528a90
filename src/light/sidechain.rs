//! The "Light sidechain" input: `SidechainAnalyzer` turns the incoming stereo audio into light
//! features. Two modes (the `sc_mode` parameter):
//! - *Analyze*: `realfft` spectral analysis of the incoming audio (production sound, a temp
//!   track): loudness, spectral centroid (brightness) and positive spectral flux (agitation),
//!   with onsets counted as lighting hits.
//! - *CV*: DC control voltages as lighting-to-audio tools export them: left = intensity 0..1,
//!   right = colour temperature normalised (0 = 2000 K .. 1 = 10000 K, as the DMX profile).
//!
//! `new()` (main thread, from `Engine::new` in the plugin's `activate()`) plans the FFT and
//! allocates every buffer; `process()` runs on the audio thread and never allocates.

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Sidechain interpretation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SidechainMode {
    /// Spectral analysis of audio.
    #[default]
    Analyze,
    /// DC control voltages.
    Cv,
}

/// Lowest colour temperature of the normalised CCT scale (CV right channel, DMX profile), K.
pub const CCT_MIN_K: f32 = 2000.0;
/// Highest colour temperature of the normalised CCT scale, K.
pub const CCT_MAX_K: f32 = 10000.0;

/// What the analysis currently says (all 0..1).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SidechainFeatures {
    /// Loudness: -60 dBFS (0) .. -6 dBFS (1) RMS.
    pub loudness: f32,
    /// Spectral centroid on a log scale: 150 Hz (0) .. 6 kHz (1).
    pub brightness: f32,
    /// Positive spectral flux relative to its running level: steady (0) .. agitated (1).
    pub agitation: f32,
    /// CV left: intensity.
    pub cv_intensity: f32,
    /// CV right: normalised colour temperature.
    pub cv_cct: f32,
}

/// The analyzer. See the module docs.
pub struct SidechainAnalyzer {
    /// Sample rate, Hz.
    sample_rate: f32,
    /// The forward FFT plan (made in `new`).
    fft: Arc<dyn RealToComplex<f32>>,
    /// FFT size.
    size: usize,
    /// Samples between analyses.
    hop: usize,
    /// Ring of the last `size` mono samples.
    ring: Vec<f32>,
    /// Next write position in `ring`.
    ring_pos: usize,
    /// Samples since the last analysis.
    since_hop: usize,
    /// Hann window.
    window: Vec<f32>,
    /// FFT input (destroyed by each transform).
    input: Vec<f32>,
    /// FFT output.
    spectrum: Vec<Complex<f32>>,
    /// FFT scratch.
    scratch: Vec<Complex<f32>>,
    /// Previous frame's magnitudes (for flux).
    prev_mag: Vec<f32>,
    /// Running mean of the flux (onset threshold).
    flux_mean: f32,
    /// Frames since an onset (refractory period).
    since_onset: u32,
    /// Onsets detected since the last reset.
    onsets: u64,
    /// Onsets not yet taken by `take_onset`.
    pending_onset: f32,
    /// DC followers for CV (left, right).
    dc: [f32; 2],
    /// DC follower coefficient per sample.
    dc_coef: f32,
    /// The current features.
    features: SidechainFeatures,
}

impl SidechainAnalyzer {
    /// An analyzer for `sample_rate`; plans the FFT (1024 points up to 48 kHz, 2048 up to
    /// 96 kHz, 4096 above: ~21 ms frames) and allocates everything.
    pub fn new(sample_rate: f32) -> Self {
        let size = if sample_rate <= 48_000.0 {
            1024
        } else if sample_rate <= 96_000.0 {
            2048
        } else {
            4096
        };
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(size);
        let window = (0..size)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / size as f32).cos())
            .collect();
        let input = fft.make_input_vec();
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        let bins = spectrum.len();
        let mut a = Self {
            sample_rate,
            fft,
            size,
            hop: size / 2,
            ring: vec![0.0; size],
            ring_pos: 0,
            since_hop: 0,
            window,
            input,
            spectrum,
            scratch,
            prev_mag: vec![0.0; bins],
            flux_mean: 0.0,
            since_onset: 0,
            onsets: 0,
            pending_onset: 0.0,
            dc: [0.0; 2],
            dc_coef: crate::dsp::util::one_pole_coef(0.02, sample_rate),
            features: SidechainFeatures::default(),
        };
        a.reset();
        a
    }

    /// Silence and zeroed features; no allocation.
    pub fn reset(&mut self) {
        self.ring.fill(0.0);
        self.prev_mag.fill(0.0);
        self.ring_pos = 0;
        self.since_hop = 0;
        self.flux_mean = 0.0;
        self.since_onset = 0;
        self.onsets = 0;
        self.pending_onset = 0.0;
        self.dc = [0.0; 2];
        self.features = SidechainFeatures::default();
    }

    /// Feeds one block of the stereo sidechain (audio thread, no allocation).
    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        let n = left.len().min(right.len());
        for i in 0..n {
            let (l, r) = (finite(left[i]), finite(right[i]));
            self.dc[0] += (l - self.dc[0]) * self.dc_coef;
            self.dc[1] += (r - self.dc[1]) * self.dc_coef;
            self.ring[self.ring_pos] = 0.5 * (l + r);
            self.ring_pos = (self.ring_pos + 1) % self.size;
            self.since_hop += 1;
            if self.since_hop >= self.hop {
                self.since_hop = 0;
                self.analyze();
            }
        }
        self.dc[0] = crate::dsp::util::flush(self.dc[0]);
        self.dc[1] = crate::dsp::util::flush(self.dc[1]);
        self.features.cv_intensity = self.dc[0].clamp(0.0, 1.0);
        self.features.cv_cct = self.dc[1].clamp(0.0, 1.0);
    }

    fn analyze(&mut self) {
        let mut sum_sq = 0.0f32;
        for i in 0..self.size {
            let x = self.ring[(self.ring_pos + i) % self.size];
            sum_sq += x * x;
            self.input[i] = x * self.window[i];
        }
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .is_err()
        {
            return;
        }
        let rms = (sum_sq / self.size as f32).sqrt();
        let db = 20.0 * rms.max(1e-9).log10();
        let loudness = ((db + 60.0) / 54.0).clamp(0.0, 1.0);
        let hz_per_bin = self.sample_rate / self.size as f32;
        let (mut num, mut den, mut flux) = (0.0f32, 0.0f32, 0.0f32);
        for (k, c) in self.spectrum.iter().enumerate().skip(1) {
            let m = c.norm();
            num += m * k as f32 * hz_per_bin;
            den += m;
            flux += (m - self.prev_mag[k]).max(0.0);
            self.prev_mag[k] = m;
        }
        let centroid = if den > 1e-9 { num / den } else { 0.0 };
        let brightness = if centroid > 0.0 {
            ((centroid / 150.0).ln() / (6000.0f32 / 150.0).ln()).clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Flux relative to the spectrum's size, then to its own running level.
        let flux = if den > 1e-6 { flux / den } else { 0.0 };
        let mean_coef = 0.05;
        let agitation = (flux / (self.flux_mean + 0.05) * 0.5).clamp(0.0, 1.0);
        let onset = flux > 2.0 * self.flux_mean + 0.1 && loudness > 0.2 && self.since_onset > 4;
        self.flux_mean += (flux - self.flux_mean) * mean_coef;
        self.since_onset = self.since_onset.saturating_add(1);
        if onset {
            self.onsets += 1;
            self.since_onset = 0;
            self.pending_onset = self.pending_onset.max(loudness);
        }
        // Musical integration before the mood smoothing (`light_smooth`): loudness rises in
        // ~50 ms and falls over ~0.8 s (a burst keeps the scene loud between hits),
        // brightness only updates while there is signal, agitation holds its peaks for ~1 s.
        let hop_s = self.hop as f32 / self.sample_rate;
        let k = |tau: f32| 1.0 - (-hop_s / tau).exp();
        let f = &mut self.features;
        let lk = if loudness > f.loudness {
            k(0.05)
        } else {
            k(0.8)
        };
        f.loudness += (loudness - f.loudness) * lk;
        if loudness > 0.15 {
            f.brightness += (brightness - f.brightness) * k(0.3);
        }
        f.agitation = (f.agitation * (-hop_s / 1.0).exp()).max(agitation * loudness.min(1.0));
        f.loudness = crate::dsp::util::flush(f.loudness);
        f.agitation = crate::dsp::util::flush(f.agitation);
    }

    /// The current features.
    pub fn features(&self) -> SidechainFeatures {
        self.features
    }

    /// Onsets detected since the last reset.
    pub fn onsets(&self) -> u64 {
        self.onsets
    }

    /// The strength (0..1) of onsets since the last call, or 0.
    pub fn take_onset(&mut self) -> f32 {
        std::mem::take(&mut self.pending_onset)
    }

    /// FFT size in use.
    pub fn fft_size(&self) -> usize {
        self.size
    }
}

fn finite(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-4.0, 4.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(sr: f32, hz: f32, amp: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * hz * i as f32 / sr).sin())
            .collect()
    }

    #[test]
    fn loud_bright_audio_reads_louder_and_brighter() {
        let sr = 48000.0;
        let mut a = SidechainAnalyzer::new(sr);
        let quiet_low = sine(sr, 200.0, 0.01, 24000);
        a.process(&quiet_low, &quiet_low);
        let f0 = a.features();
        let loud_high = sine(sr, 4000.0, 0.5, 24000);
        a.process(&loud_high, &loud_high);
        let f1 = a.features();
        assert!(f1.loudness > f0.loudness + 0.3, "{f0:?} {f1:?}");
        assert!(f1.brightness > f0.brightness + 0.3, "{f0:?} {f1:?}");
    }

    #[test]
    fn bursts_are_onsets_and_dc_is_cv() {
        let sr = 48000.0;
        let mut a = SidechainAnalyzer::new(sr);
        let mut sig = vec![0.0f32; 48000 * 2];
        for burst in 0..4 {
            let start = burst * 24000;
            for i in 0..2400 {
                sig[start + i] = 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / sr).sin();
            }
        }
        a.process(&sig, &sig);
        assert!(a.onsets() >= 3, "{}", a.onsets());
        let l = vec![0.75f32; 4800];
        let r = vec![0.25f32; 4800];
        a.process(&l, &r);
        let f = a.features();
        assert!(
            (f.cv_intensity - 0.75).abs() < 0.01 && (f.cv_cct - 0.25).abs() < 0.01,
            "{f:?}"
        );
    }
}

//! The command-line renderer's work (argument handling lives in `src/bin/mood-noir.rs`):
//! drives the very same `Engine` the plugin runs, offline, into WAV files. Main thread only.

pub mod osc_monitor;

use crate::engine::{Engine, HostTransport, Settings};
use std::path::Path;

/// Renders `seconds` of music at `sample_rate` in blocks of `block` samples, calling
/// `progress(done_samples)` now and then. Returns interleaved stereo.
pub fn render(
    settings: &Settings,
    sample_rate: u32,
    seconds: f64,
    block: usize,
    mut progress: impl FnMut(u64),
) -> Vec<f32> {
    let total = (seconds.max(0.0) * sample_rate as f64).round() as usize;
    let block = block.clamp(1, 1 << 16);
    let mut engine = Engine::new(sample_rate as f32, *settings);
    let mut out = Vec::with_capacity(total * 2);
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    let host = HostTransport::default();
    let mut done = 0;
    while done < total {
        let n = block.min(total - done);
        engine.process(&host, &mut l[..n], &mut r[..n]);
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
        done += n;
        progress(done as u64);
    }
    out
}

/// Writes interleaved stereo as a 32-bit float WAV.
pub fn write_wav(path: &Path, sample_rate: u32, interleaved: &[f32]) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for &s in interleaved {
        w.write_sample(s)?;
    }
    w.finalize()
}

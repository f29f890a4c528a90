//! `mood-noir measure a.wav [b.wav …] [--json]`: loudness, onsets, attack, decay and spectral
//! centroid of WAV files (`analysis::dynamics`), the figures `scripts/compare-gm.sh` prints per
//! stem for the band and for General MIDI. Main thread.

use crate::analysis::{measure, Dynamics};
use std::path::{Path, PathBuf};

/// Arguments of `mood-noir measure`.
#[derive(clap::Args, Debug)]
pub struct MeasureArgs {
    /// WAV files (any channel count, integer or float samples; channels are averaged).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON (one object per file) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Reads a WAV file as mono samples (channels averaged) and its sample rate.
pub fn read_mono(path: &Path) -> Result<(Vec<f32>, u32), String> {
    let mut r = hound::WavReader::open(path)
        .map_err(|e| format!("{}: not a readable WAV file ({e})", path.display()))?;
    let spec = r.spec();
    let ch = spec.channels.max(1) as usize;
    let bad = |e: hound::Error| format!("{}: broken WAV data ({e})", path.display());
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().collect::<Result<_, _>>().map_err(bad)?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
    };
    let mono = interleaved
        .chunks_exact(ch)
        .map(|f| {
            let v = f.iter().sum::<f32>() / ch as f32;
            if v.is_finite() {
                v
            } else {
                0.0
            }
        })
        .collect();
    Ok((mono, spec.sample_rate))
}

fn opt(v: Option<f32>) -> String {
    v.map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into())
}

/// One file as JSON.
pub fn to_json(path: &Path, d: &Dynamics) -> serde_json::Value {
    serde_json::json!({
        "file": path.display().to_string(),
        "seconds": d.seconds,
        "rms_db": if d.rms_db.is_finite() { Some(d.rms_db) } else { None },
        "onsets": d.onsets.len(),
        "onsets_per_second": d.onset_rate(),
        "onset_times": d.onsets.iter().map(|t| (t * 1000.0).round() / 1000.0).collect::<Vec<_>>(),
        "attack_ms": d.attack_ms,
        "decay_ms": d.decay_ms,
        "centroid_hz": d.centroid_hz,
    })
}

/// Runs `mood-noir measure`.
pub fn run(a: MeasureArgs) -> Result<(), String> {
    let mut rows = Vec::with_capacity(a.files.len());
    for f in &a.files {
        let (x, sr) = read_mono(f)?;
        if x.is_empty() {
            return Err(format!("{}: the file has no audio frames", f.display()));
        }
        rows.push((f, measure(&x, sr)));
    }
    if a.json {
        let v: Vec<_> = rows.iter().map(|(f, d)| to_json(f, d)).collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("serialises"));
        return Ok(());
    }
    println!(
        "{:<40} {:>8} {:>8} {:>9} {:>10} {:>9} {:>12}",
        "file", "seconds", "rms dB", "onsets/s", "attack ms", "decay ms", "centroid Hz"
    );
    for (f, d) in &rows {
        println!(
            "{:<40} {:>8.2} {:>8.1} {:>9.2} {:>10} {:>9} {:>12.0}",
            f.display(),
            d.seconds,
            d.rms_db,
            d.onset_rate(),
            opt(d.attack_ms),
            opt(d.decay_ms),
            d.centroid_hz
        );
    }
    Ok(())
}

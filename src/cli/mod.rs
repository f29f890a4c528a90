//! The command-line renderer's work (argument handling lives in `src/bin/mood-noir.rs`):
//! drives the very same `Engine` the plugin runs, offline, into WAV (main mix and stems) and
//! Standard MIDI files. Main thread only.

pub mod look;
pub mod measure;
pub mod osc_monitor;
pub mod plot;
pub mod progress;
pub mod score;
pub mod script;

use crate::engine::mixer::{STEMS, STEM_NAMES};
use crate::engine::{Engine, HostTransport, Settings, StemOutputs};
use crate::midi::smf::SmfRecorder;
use std::path::Path;

/// What to render.
#[derive(Clone, Debug)]
pub struct RenderJob {
    /// Engine settings.
    pub settings: Settings,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Length, seconds.
    pub seconds: f64,
    /// Processing block size (the result does not depend on it).
    pub block: usize,
    /// Also render the stems.
    pub stems: bool,
    /// Also record MIDI.
    pub midi: bool,
}

/// A finished render.
pub struct Rendered {
    /// Interleaved stereo main mix.
    pub main: Vec<f32>,
    /// Interleaved stereo per stem (`STEM_NAMES` order), when asked for.
    pub stems: Option<Vec<Vec<f32>>>,
    /// Standard MIDI File bytes, when asked for.
    pub midi: Option<Vec<u8>>,
}

/// Renders a job. `setup` may prepare the engine first (e.g. load a cue sheet);
/// `progress(done_samples)` is called after every block.
///
/// The output is compensated for the engine's latency (the limiter's look-ahead) the way a
/// DAW compensates the plugin: the first sample of the file is timeline position 0, so the
/// audio lines up with the MIDI file, cue sheets and bar lines, and the file ends exactly
/// where the MIDI file ends.
pub fn render_job(
    job: &RenderJob,
    setup: impl FnOnce(&mut Engine),
    mut progress: impl FnMut(u64),
) -> Rendered {
    render_job_observed(job, setup, |_, done| progress(done))
}

/// `render_job`, with `observe(engine, done_samples)` after every block (e.g. to record the
/// mood for `render --plot`).
pub fn render_job_observed(
    job: &RenderJob,
    setup: impl FnOnce(&mut Engine),
    mut progress: impl FnMut(&Engine, u64),
) -> Rendered {
    let total = (job.seconds.max(0.0) * job.sample_rate as f64).round() as usize;
    let block = job.block.clamp(1, 1 << 16);
    let mut engine = Engine::new(job.sample_rate as f32, job.settings);
    setup(&mut engine);
    let latency = engine.latency_samples();
    let mut main = Vec::with_capacity(total * 2);
    let mut stems_out: Vec<Vec<f32>> = if job.stems {
        (0..STEMS).map(|_| Vec::with_capacity(total * 2)).collect()
    } else {
        Vec::new()
    };
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    let mut sbuf = vec![vec![0.0f32; block]; if job.stems { STEMS * 2 } else { 0 }];
    let mut smf = job.midi.then(SmfRecorder::new);
    let mut end_beat = 0.0;
    let host = HostTransport::default();
    let internal = total + latency;
    let mut done = 0;
    while done < internal {
        // Blocks end exactly at `total` so the MIDI file stops where the audio does.
        let n = if done < total {
            block.min(total - done)
        } else {
            block.min(internal - done)
        };
        if job.stems {
            let mut it = sbuf.iter_mut();
            let mut outs: StemOutputs = Default::default();
            for o in outs.iter_mut() {
                let (a, b) = (it.next().unwrap(), it.next().unwrap());
                *o = Some((&mut a[..n], &mut b[..n]));
            }
            engine.process_stems(&host, &mut l[..n], &mut r[..n], &mut outs);
        } else {
            engine.process(&host, &mut l[..n], &mut r[..n]);
        }
        if done < total {
            if let Some(rec) = smf.as_mut() {
                rec.record_block(&engine);
            }
        }
        // Samples before `latency` are the look-ahead's silence: compensated away.
        let skip = latency.saturating_sub(done).min(n);
        for i in skip..n {
            main.push(l[i]);
            main.push(r[i]);
        }
        if job.stems {
            for (s, out) in stems_out.iter_mut().enumerate() {
                for i in skip..n {
                    out.push(sbuf[2 * s][i]);
                    out.push(sbuf[2 * s + 1][i]);
                }
            }
        }
        done += n;
        if done == total {
            end_beat = engine.beat_position();
        }
        if done <= total {
            progress(&engine, done as u64);
        }
    }
    Rendered {
        main,
        stems: job.stems.then_some(stems_out),
        midi: smf.map(|rec| rec.finish(end_beat)),
    }
}

/// Renders the main mix only (interleaved stereo).
pub fn render(
    settings: &Settings,
    sample_rate: u32,
    seconds: f64,
    block: usize,
    progress: impl FnMut(u64),
) -> Vec<f32> {
    let job = RenderJob {
        settings: *settings,
        sample_rate,
        seconds,
        block,
        stems: false,
        midi: false,
    };
    render_job(&job, |_| {}, progress).main
}

/// The file name of a stem inside a stems folder, e.g. `03-lead.wav`.
pub fn stem_file_name(index: usize) -> String {
    format!("{:02}-{}.wav", index, STEM_NAMES[index].to_lowercase())
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

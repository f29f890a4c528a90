//! `mood-noir score clip.mp4 --out scored.mp4`: the clip end to end. Its shots' looks become
//! a cue sheet (`look`), the engine renders the score along it (`render_job_observed`, the
//! renderer behind `render --cues`), and ffmpeg muxes the score under the picture. Beside the MP4 go the cue
//! sheet (`<name>.cues.json`), the WAV (`<name>.wav`), the MIDI file (`<name>.mid`) and the
//! stems (`<name>-stems/`). Main thread.

use super::look::{clip_shots, shots_sheet};
use super::{stem_file_name, write_wav, RenderJob};
use crate::engine::{MoodSource, Settings};
use crate::light::{CueSheet, LightSettings};
use crate::preset::{self, Preset};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Arguments of `mood-noir score`.
#[derive(clap::Args, Debug)]
pub struct ScoreArgs {
    /// The clip (anything ffmpeg reads).
    pub clip: PathBuf,
    /// The scored clip to write (MP4: the picture copied, the score as AAC).
    #[arg(long)]
    pub out: PathBuf,
    /// A preset: a JSON file, or a factory scene id (see `mood-noir presets`).
    #[arg(long)]
    pub preset: Option<String>,
    /// Seed of every musical choice.
    #[arg(long)]
    pub seed: Option<u32>,
    /// Sample rate of the score, Hz.
    #[arg(long, default_value_t = 48000, value_parser = clap::value_parser!(u32).range(22050..=192000))]
    pub sample_rate: u32,
    /// Smoothing time constant of the light's mood, seconds.
    #[arg(long, default_value_t = 1.0)]
    pub light_smooth: f32,
    /// Audio codec in the MP4: aac (plays everywhere) or alac (lossless).
    #[arg(long, default_value = "aac", value_parser = ["aac", "alac"])]
    pub audio_codec: String,
    /// Skip the stems.
    #[arg(long)]
    pub no_stems: bool,
    /// Also plot the mood the score played (PNG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// The files `score` writes beside the MP4.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreFiles {
    /// The cue sheet.
    pub cues: PathBuf,
    /// The score.
    pub wav: PathBuf,
    /// The notes.
    pub midi: PathBuf,
    /// The stems folder (None with --no-stems).
    pub stems: Option<PathBuf>,
}

/// Where `score --out out` puts its side files.
pub fn side_files(out: &Path, stems: bool) -> ScoreFiles {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scored".into());
    let dir = out.parent().unwrap_or(Path::new("."));
    ScoreFiles {
        cues: dir.join(format!("{stem}.cues.json")),
        wav: dir.join(format!("{stem}.wav")),
        midi: dir.join(format!("{stem}.mid")),
        stems: stems.then(|| dir.join(format!("{stem}-stems"))),
    }
}

fn settings_for(preset_arg: Option<&str>) -> Result<Settings, String> {
    Ok(match preset_arg {
        None => Settings::default(),
        Some(p) => {
            let path = PathBuf::from(p);
            if path.exists() {
                Preset::load(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?
                    .settings
            } else {
                preset::factory(p)
                    .ok_or_else(|| format!("no preset file or factory scene named {p:?}"))?
                    .settings
            }
        }
    })
}

/// Muxes `wav` under the picture of `clip` into `out` with ffmpeg: the video stream copied
/// (re-encoded with x264 if the MP4 cannot hold it), the audio as `codec`.
pub fn mux(clip: &Path, wav: &Path, out: &Path, codec: &str) -> Result<(), String> {
    let run = |video: &[&str]| -> Result<(), String> {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-y", "-v", "error", "-nostdin", "-i"])
            .arg(clip)
            .arg("-i")
            .arg(wav)
            .args(["-map", "0:v:0", "-map", "1:a:0"])
            .args(video)
            .args(["-c:a", codec]);
        if codec == "aac" {
            cmd.args(["-b:a", "320k"]);
        }
        cmd.args(["-shortest", "-movflags", "+faststart"]).arg(out);
        let o = cmd
            .output()
            .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
        if o.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
        }
    };
    run(&["-c:v", "copy"]).or_else(|_| {
        run(&[
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        ])
        .map_err(|e| format!("ffmpeg could not mux {}: {e}", out.display()))
    })
}

/// Runs `mood-noir score`.
pub fn run(a: ScoreArgs) -> Result<(), String> {
    if !(a.light_smooth.is_finite() && (0.0..=60.0).contains(&a.light_smooth)) {
        return Err(format!(
            "--light-smooth must be between 0 and 60, got {}",
            a.light_smooth
        ));
    }
    let mut settings = settings_for(a.preset.as_deref())?;
    if let Some(s) = a.seed {
        settings.seed = s;
    }
    settings.source = MoodSource::Light;
    let (frames, shots) = clip_shots(&a.clip, 5, None, a.quiet)?;
    let sheet_out = shots_sheet(&shots, frames.info.fps);
    let files = side_files(&a.out, !a.no_stems);
    let json = sheet_out.to_json();
    std::fs::write(&files.cues, &json)
        .map_err(|e| format!("cannot write {}: {e}", files.cues.display()))?;
    let sheet = CueSheet::parse_json(&json).map_err(|e| format!("internal error: {e}"))?;
    let seconds = if frames.info.duration_s > 0.0 {
        frames.info.duration_s
    } else {
        frames.frames.len() as f64 / frames.sample_fps
    };
    let job = RenderJob {
        settings,
        sample_rate: a.sample_rate,
        seconds,
        block: 512,
        stems: files.stems.is_some(),
        midi: true,
    };
    let total = (seconds * a.sample_rate as f64).round() as u64;
    let bar = super::progress::bar(total, "rendering", a.quiet);
    let light = LightSettings {
        smooth_s: a.light_smooth,
        ..Default::default()
    };
    let mut sheet = Some(Box::new(sheet));
    let mut recorder = a
        .plot
        .as_ref()
        .map(|_| super::plot::MoodRecorder::new(a.sample_rate, 0.05));
    let rendered = super::render_job_observed(
        &job,
        |engine| {
            engine.set_light_settings(light);
            drop(engine.swap_cue_sheet(sheet.take()));
            engine.reset();
        },
        |engine, done| {
            bar.set_position(done);
            if let Some(r) = recorder.as_mut() {
                r.observe(engine, done);
            }
        },
    );
    bar.finish_and_clear();
    write_wav(&files.wav, a.sample_rate, &rendered.main)
        .map_err(|e| format!("cannot write {}: {e}", files.wav.display()))?;
    if let (Some(dir), Some(stems)) = (&files.stems, &rendered.stems) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for (i, s) in stems.iter().enumerate() {
            let p = dir.join(stem_file_name(i));
            write_wav(&p, a.sample_rate, s)
                .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        }
    }
    if let Some(m) = &rendered.midi {
        std::fs::write(&files.midi, m)
            .map_err(|e| format!("cannot write {}: {e}", files.midi.display()))?;
    }
    let spin = super::progress::spinner("muxing", a.quiet);
    let muxed = mux(&a.clip, &files.wav, &a.out, &a.audio_codec);
    spin.finish_and_clear();
    muxed?;
    if let (Some(p), Some(r)) = (&a.plot, recorder) {
        r.write(
            p,
            a.clip
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            "the mood the score played".into(),
        )?;
    }
    if !a.quiet {
        eprintln!(
            "wrote {} ({} shots, {seconds:.2} s) with {}, {}, {}{}",
            a.out.display(),
            shots.len(),
            files.cues.display(),
            files.wav.display(),
            files.midi.display(),
            files
                .stems
                .as_ref()
                .map(|d| format!(", {}/", d.display()))
                .unwrap_or_default()
        );
    }
    Ok(())
}

//! `mood-noir look frame.png [--json] [--cue one.json]` and
//! `mood-noir look clip.mp4 --cues cues.json`: the look of a still (`film::look`) or of each
//! shot of a clip (`film::clip`, through ffmpeg), printed, as JSON, or as a cue sheet.
//! Main thread.

use crate::film::clip::{self, Shot};
use crate::film::look::{analyze, load_rgb, FrameLook};
use crate::film::sheet::{OutCue, OutSheet, OutTime};
use std::path::{Path, PathBuf};

/// Arguments of `mood-noir look`.
#[derive(clap::Args, Debug)]
pub struct LookArgs {
    /// A still (PNG, JPEG) or a clip (anything ffmpeg reads).
    pub input: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// A still: also write a one-cue sheet with its look here.
    #[arg(long)]
    pub cue: Option<PathBuf>,
    /// A clip: write a cue sheet with one cue per shot here (SMPTE times).
    #[arg(long)]
    pub cues: Option<PathBuf>,
    /// Most dominant colours to find.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub colors: u8,
    /// A clip: sample this many frames a second (default: every frame, up to 30 a second).
    #[arg(long)]
    pub sample_fps: Option<f64>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// Whether `path` is a still image (by extension or content).
pub fn is_still(path: &Path) -> bool {
    let by_ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .is_some_and(|e| matches!(e.as_str(), "png" | "jpg" | "jpeg"));
    by_ext
        || image::ImageReader::open(path)
            .ok()
            .and_then(|r| r.with_guessed_format().ok())
            .and_then(|r| r.format())
            .is_some()
}

/// A cue named `name` at `at` with a frame's look.
pub fn frame_cue(name: String, at: OutTime, look: &FrameLook, flicker: f32) -> OutCue {
    let mut l = look.light_look();
    l.flicker = flicker;
    let mut cue = OutCue::new(name, at, 0.0, &l, None);
    cue.notes = format!(
        "key {:.2}, contrast {:.2}, saturation {:.2}, {:.0} K{}",
        look.key_brightness,
        look.contrast,
        look.saturation,
        look.cct_k,
        if look.is_white_light() {
            ""
        } else {
            " (coloured light)"
        }
    );
    cue
}

/// The cue sheet of a clip's shots.
pub fn shots_sheet(shots: &[Shot], fps: f64) -> OutSheet {
    let rate = clip::timecode_rate(fps);
    let cues = shots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = match rate {
                Some(r) => OutTime::Text(clip::smpte(s.start_s, r)),
                None => OutTime::Seconds((s.start_s * 1000.0).round() / 1000.0),
            };
            frame_cue(format!("shot {}", i + 1), at, &s.look, s.flicker)
        })
        .collect();
    OutSheet::new(rate, cues)
}

/// Samples a clip and finds its shots, with progress bars.
pub fn clip_shots(
    path: &Path,
    colors: usize,
    sample_fps: Option<f64>,
    quiet: bool,
) -> Result<(clip::Frames, Vec<Shot>), String> {
    let bar = super::progress::bar(1, "frames", quiet);
    let frames = clip::sample(path, sample_fps, |n, total| {
        bar.set_length(total.max(n));
        bar.set_position(n);
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let bar = super::progress::bar(1, "shots", quiet);
    let shots = clip::shots(&frames, colors, |n, total| {
        bar.set_length(total);
        bar.set_position(n);
    });
    bar.finish_and_clear();
    Ok((frames, shots))
}

/// Runs `mood-noir look`.
pub fn run(a: LookArgs) -> Result<(), String> {
    if !a.input.exists() {
        return Err(format!("{}: no such file", a.input.display()));
    }
    if is_still(&a.input) {
        if a.cues.is_some() {
            return Err("--cues is for clips; for a still use --cue".into());
        }
        let img = load_rgb(&a.input).map_err(|e| e.to_string())?;
        let look = analyze(&img, a.colors as usize);
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&look.to_json()).expect("serialises")
            );
        } else {
            print!("{}", look.report());
        }
        if let Some(p) = &a.cue {
            let name = a
                .input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "still".into());
            let sheet = OutSheet::new(
                None,
                vec![frame_cue(name, OutTime::Seconds(0.0), &look, 0.0)],
            );
            std::fs::write(p, sheet.to_json())
                .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        }
        return Ok(());
    }
    if a.cue.is_some() {
        return Err("--cue is for stills; for a clip use --cues".into());
    }
    let (frames, shots) = clip_shots(&a.input, a.colors as usize, a.sample_fps, a.quiet)?;
    let sheet = shots_sheet(&shots, frames.info.fps);
    if let Some(p) = &a.cues {
        std::fs::write(p, sheet.to_json())
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
    }
    if a.json {
        let v: Vec<serde_json::Value> = shots
            .iter()
            .zip(&sheet.cues)
            .map(|(s, c)| {
                let mut j = s.look.to_json();
                j["at"] = serde_json::to_value(&c.at).expect("serialises");
                j["start_s"] = serde_json::json!((s.start_s * 1000.0).round() / 1000.0);
                j["length_s"] = serde_json::json!((s.length_s * 1000.0).round() / 1000.0);
                j["flicker"] = serde_json::json!((s.flicker as f64 * 1000.0).round() / 1000.0);
                j
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "fps": frames.info.fps,
                "duration": frames.info.duration_s,
                "frames_sampled": frames.frames.len(),
                "shots": v,
            }))
            .expect("serialises")
        );
    } else {
        println!(
            "{}: {}x{}, {:.3} fps, {:.2} s, {} frames sampled, {} shots",
            a.input.display(),
            frames.info.width,
            frames.info.height,
            frames.info.fps,
            frames.info.duration_s,
            frames.frames.len(),
            shots.len()
        );
        for (s, c) in shots.iter().zip(&sheet.cues) {
            let at = match &c.at {
                OutTime::Text(t) => t.clone(),
                OutTime::Seconds(v) => format!("{v:.3} s"),
            };
            let colours: Vec<String> = s.look.swatches.iter().take(4).map(|w| w.hex()).collect();
            println!(
                "  {:<8} {}  {:6.2} s  intensity {:.2} contrast {:.2} {:.0} K flicker {:.2}  {}",
                c.name,
                at,
                s.length_s,
                s.look.intensity,
                s.look.contrast,
                s.look.cct_k,
                s.flicker,
                colours.join(" ")
            );
        }
    }
    Ok(())
}

//! `mood-noir plot cues.json --out mood.png` and `render --plot FILE`: the mood over time as a
//! picture (`film::plot`). Main thread.

use crate::engine::Engine;
use crate::film::plot::{draw, simulate_sheet, thin, MoodPoint, PlotData};
use crate::light::{CueSheet, TimeBase};
use std::path::{Path, PathBuf};

/// `h:mm:ss` or `m:ss`.
pub fn clock(t: f64) -> String {
    let t = t.max(0.0).round() as u64;
    if t >= 3600 {
        format!("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60)
    } else {
        format!("{}:{:02}", t / 60, t % 60)
    }
}

/// Arguments of `mood-noir plot`.
#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// The cue sheet (.json or .csv; a .fountain screenplay is converted first).
    pub cues: PathBuf,
    /// The PNG to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Length plotted, seconds (default: the last cue plus its fade and 30 s; bars sheets
    /// through the tempo).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Smoothing time constant of the light's mood, seconds (as `render --light-smooth`).
    #[arg(long, default_value_t = 1.0)]
    pub light_smooth: f32,
    /// Picture width, pixels.
    #[arg(long, default_value_t = 1600)]
    pub width: u32,
    /// Picture height, pixels.
    #[arg(long, default_value_t = 620)]
    pub height: u32,
}

/// The default plotted length of a sheet, seconds.
pub fn sheet_length_s(sheet: &CueSheet) -> f64 {
    let last = sheet.cues.last().map(|c| c.at + c.fade).unwrap_or(0.0);
    match sheet.base {
        TimeBase::Seconds => last + 30.0,
        // Beats: at the slowest mood tempo (45 BPM) the sheet surely fits.
        TimeBase::Beats => (last + 8.0) * 60.0 / 45.0,
    }
}

/// Runs `mood-noir plot`.
pub fn run(a: PlotArgs) -> Result<(), String> {
    if !(a.light_smooth.is_finite() && (0.0..=60.0).contains(&a.light_smooth)) {
        return Err(format!(
            "--light-smooth must be between 0 and 60, got {}",
            a.light_smooth
        ));
    }
    let sheet = CueSheet::load(&a.cues).map_err(|e| e.to_string())?;
    let seconds = match a.seconds {
        Some(s) if s.is_finite() && s > 0.0 && s <= 12.0 * 3600.0 => s,
        Some(s) => return Err(format!("--seconds must be between 0 and 43200, got {s}")),
        None => sheet_length_s(&sheet),
    };
    let mut data = simulate_sheet(&sheet, seconds, a.light_smooth);
    if sheet.base == TimeBase::Beats && a.seconds.is_none() {
        // Stop 30 s after the last cue started.
        if let Some(&(t, _)) = data.cues.last() {
            data.points.retain(|p| p.t_s <= t + 30.0);
        }
    }
    data.title = a
        .cues
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    draw(&data, &a.out, a.width, a.height).map_err(|e| e.to_string())?;
    eprintln!("wrote {}", a.out.display());
    Ok(())
}

/// Records what a render plays, block by block, for `render --plot`.
#[derive(Default)]
pub struct MoodRecorder {
    /// Recorded points.
    points: Vec<MoodPoint>,
    /// Cue starts seen (seconds, name).
    cues: Vec<(f64, String)>,
    /// The last cue index seen.
    last_cue: Option<usize>,
    /// Samples between points.
    every: u64,
    /// Next sample count to record at.
    next: u64,
}

impl MoodRecorder {
    /// A recorder taking a point every `every_s` seconds at `sample_rate`.
    pub fn new(sample_rate: u32, every_s: f64) -> Self {
        let every = ((sample_rate as f64 * every_s) as u64).max(1);
        Self {
            every,
            ..Default::default()
        }
    }

    /// After a block: records the live mood and tempo, and cue changes.
    pub fn observe(&mut self, engine: &Engine, done: u64) {
        if let Some(s) = engine.light().sheet() {
            let pos = match s.base {
                TimeBase::Seconds => engine.timeline_seconds(),
                TimeBase::Beats => engine.beat_position(),
            };
            let k = engine.light().held_cue().or_else(|| s.cue_index_at(pos));
            if k != self.last_cue {
                if let Some(k) = k {
                    self.cues
                        .push((engine.timeline_seconds(), s.cues[k].name.clone()));
                }
                self.last_cue = k;
            }
        }
        if done >= self.next {
            self.points.push(MoodPoint {
                t_s: engine.timeline_seconds(),
                mood: engine.mood(),
                tempo_bpm: engine.tempo_bpm(),
            });
            self.next = done + self.every;
        }
    }

    /// Draws what was recorded.
    pub fn write(self, path: &Path, title: String, subtitle: String) -> Result<(), String> {
        let data = PlotData {
            title,
            subtitle,
            points: thin(self.points),
            cues: self.cues,
        };
        draw(&data, path, 1600, 620).map_err(|e| e.to_string())
    }
}

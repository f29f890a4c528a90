//! The mood as a picture: valence, arousal and tension over time with the cue names and the
//! tempo, drawn with `plotters` into a PNG. The series come either from a cue sheet alone
//! (`simulate_sheet`: the light model the engine runs, ticked at 100 Hz with the same
//! smoothing, the mood-driven tempo advancing the beat for bars:beats sheets) or from a real
//! render (`render --plot`, the engine's live mood and tempo per block). Main thread.
//!
//! Text needs a TrueType font: DejaVu Sans from Debian's `fonts-dejavu-core` (installed by
//! `scripts/install-deps.sh`), or the file named by `MOOD_NOIR_FONT`.

use crate::engine::MoodSource;
use crate::light::{CueSheet, LightModel, LightSettings, TimeBase};
use crate::mood::Mood;
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// One moment of the plot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MoodPoint {
    /// Time, seconds.
    pub t_s: f64,
    /// The mood.
    pub mood: Mood,
    /// Tempo, BPM.
    pub tempo_bpm: f64,
}

/// What to draw.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PlotData {
    /// The heading (script title, file name).
    pub title: String,
    /// The second line (style or preset, source).
    pub subtitle: String,
    /// The series, in time order.
    pub points: Vec<MoodPoint>,
    /// Cue starts, seconds, with their names.
    pub cues: Vec<(f64, String)>,
}

/// Why a plot failed.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotError(pub String);

impl std::fmt::Display for PlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlotError {}

/// Simulation rate of `simulate_sheet`, ticks a second.
pub const SIM_RATE_HZ: f64 = 100.0;
/// Most points a plot keeps (longer series are thinned evenly).
pub const MAX_POINTS: usize = 4000;

/// The light mood a sheet asks for over `seconds` (Mood source Light, follow 1), with the
/// tempo the mood asks for. Cue starts are returned in seconds (bars:beats sheets through the
/// tempo).
pub fn simulate_sheet(sheet: &CueSheet, seconds: f64, smooth_s: f32) -> PlotData {
    let mut model = LightModel::new(SIM_RATE_HZ as f32, 1);
    model.set_settings(LightSettings {
        smooth_s,
        ..Default::default()
    });
    drop(model.swap_sheet(Some(Box::new(sheet.clone()))));
    model.reset();
    let dt = 1.0 / SIM_RATE_HZ;
    let ticks = (seconds.max(0.0) * SIM_RATE_HZ).ceil() as usize;
    let every = (ticks / MAX_POINTS).max(1);
    let mut beats = 0.0f64;
    let mut points = Vec::with_capacity(ticks / every + 1);
    let mut cues = Vec::new();
    let mut next_cue = 0usize;
    for i in 0..=ticks {
        let t = i as f64 * dt;
        let pos = match sheet.base {
            TimeBase::Seconds => t,
            TimeBase::Beats => beats,
        };
        while next_cue < sheet.cues.len() && sheet.cues[next_cue].at <= pos + 1e-9 {
            cues.push((t, sheet.cues[next_cue].name.clone()));
            next_cue += 1;
        }
        let mood = model
            .tick(MoodSource::Light, t, beats)
            .unwrap_or(Mood::NEUTRAL);
        let tempo = mood.tempo_bpm();
        if i % every == 0 {
            points.push(MoodPoint {
                t_s: t,
                mood,
                tempo_bpm: tempo,
            });
        }
        beats += tempo / 60.0 * dt;
    }
    PlotData {
        title: String::new(),
        subtitle: "light mood from the cue sheet (follow 1, mood-driven tempo)".into(),
        points,
        cues,
    }
}

/// Thins `points` evenly to at most `MAX_POINTS`.
pub fn thin(points: Vec<MoodPoint>) -> Vec<MoodPoint> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let every = points.len().div_ceil(MAX_POINTS);
    points.into_iter().step_by(every).collect()
}

fn font() -> Result<(), PlotError> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let mut candidates: Vec<String> = Vec::new();
            if let Ok(p) = std::env::var("MOOD_NOIR_FONT") {
                candidates.push(p);
            }
            candidates.extend(
                [
                    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                    "/usr/share/fonts/TTF/DejaVuSans.ttf",
                    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                ]
                .map(String::from),
            );
            for c in &candidates {
                if let Ok(bytes) = std::fs::read(c) {
                    // Registered once for the life of the process, as plotters requires.
                    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                    if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                        .is_ok()
                    {
                        return Ok(());
                    }
                }
            }
            Err(format!(
                "no TrueType font for the plot's text (tried {}); install Debian's \
                 fonts-dejavu-core or set MOOD_NOIR_FONT",
                candidates.join(", ")
            ))
        })
        .clone()
        .map_err(PlotError)
}

/// Background, grid and series colours (the editor's noir palette).
const BG: RGBColor = RGBColor(16, 15, 20);
const GRID: RGBColor = RGBColor(48, 46, 56);
const TEXT: RGBColor = RGBColor(214, 206, 190);
const VALENCE: RGBColor = RGBColor(232, 178, 72);
const AROUSAL: RGBColor = RGBColor(84, 186, 196);
const TENSION: RGBColor = RGBColor(220, 60, 70);
const TEMPO: RGBColor = RGBColor(150, 150, 160);

fn mmss(t: f64) -> String {
    let t = t.max(0.0).round() as u64;
    if t >= 3600 {
        format!("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60)
    } else {
        format!("{}:{:02}", t / 60, t % 60)
    }
}

/// Draws `data` into a PNG of `width` x `height` pixels.
pub fn draw(data: &PlotData, path: &Path, width: u32, height: u32) -> Result<(), PlotError> {
    if data.points.is_empty() {
        return Err(PlotError("nothing to plot".into()));
    }
    font()?;
    let (width, height) = (width.clamp(320, 8000), height.clamp(240, 6000));
    let mut buf = vec![0u8; (width * height * 3) as usize];
    let e = |e: &dyn std::fmt::Display| PlotError(format!("drawing the plot: {e}"));
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        root.fill(&BG).map_err(|x| e(&x))?;
        let t_end = data.points.last().map(|p| p.t_s).unwrap_or(1.0).max(1.0);
        let (tmin, tmax) = data.points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| {
            (a.min(p.tempo_bpm), b.max(p.tempo_bpm))
        });
        let (tlo, thi) = ((tmin - 10.0).max(20.0).floor(), (tmax + 10.0).ceil());
        let title = if data.title.is_empty() {
            "mood".to_string()
        } else {
            data.title.clone()
        };
        let label_rows = 3u32;
        let row_h = 16u32;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{title}  ·  {}", data.subtitle),
                ("sans-serif", 18).into_font().color(&TEXT),
            )
            .margin(12)
            .margin_top(12 + label_rows * row_h)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .right_y_label_area_size(56)
            .build_cartesian_2d(0.0..t_end, -1.0f64..1.0f64)
            .map_err(|x| e(&x))?
            .set_secondary_coord(0.0..t_end, tlo..thi);
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(BG)
            .axis_style(GRID)
            .label_style(("sans-serif", 13).into_font().color(&TEXT))
            .x_label_formatter(&|t| mmss(*t))
            .y_desc("valence  ·  arousal  ·  tension")
            .x_desc("time")
            .draw()
            .map_err(|x| e(&x))?;
        chart
            .configure_secondary_axes()
            .axis_style(GRID)
            .label_style(("sans-serif", 13).into_font().color(&TEMPO))
            .y_desc("tempo (BPM)")
            .draw()
            .map_err(|x| e(&x))?;
        // Cue lines.
        for (t, _) in &data.cues {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*t, -1.0), (*t, 1.0)],
                    GRID.stroke_width(1),
                )))
                .map_err(|x| e(&x))?;
        }
        chart
            .draw_secondary_series(LineSeries::new(
                data.points.iter().map(|p| (p.t_s, p.tempo_bpm)),
                TEMPO.stroke_width(1),
            ))
            .map_err(|x| e(&x))?
            .label("tempo")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], TEMPO));
        for (name, colour, f) in [
            (
                "valence",
                VALENCE,
                (|m: &Mood| m.valence) as fn(&Mood) -> f32,
            ),
            ("arousal", AROUSAL, |m: &Mood| m.arousal),
            ("tension", TENSION, |m: &Mood| m.tension),
        ] {
            chart
                .draw_series(LineSeries::new(
                    data.points.iter().map(|p| (p.t_s, f(&p.mood) as f64)),
                    colour.stroke_width(2),
                ))
                .map_err(|x| e(&x))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(BG.mix(0.85))
            .border_style(GRID)
            .label_font(("sans-serif", 13).into_font().color(&TEXT))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|x| e(&x))?;
        // Cue names above the chart, in staggered rows; a name that would overlap the last
        // one in every row is left out (its line stays).
        let plot_area = chart.plotting_area();
        let (px, _) = plot_area.get_pixel_range();
        let font = ("sans-serif", 12).into_font().color(&TEXT);
        let mut row_end = vec![i32::MIN; label_rows as usize];
        let top = 12 + 26;
        for (t, name) in &data.cues {
            let x = plot_area.map_coordinate(&(*t, 1.0)).0;
            let short: String = if name.chars().count() > 28 {
                name.chars().take(27).chain(std::iter::once('…')).collect()
            } else {
                name.clone()
            };
            let w = root
                .estimate_text_size(&short, &font)
                .map(|(w, _)| w as i32)
                .unwrap_or(100);
            let x = x.clamp(px.start, (px.end - w).max(px.start));
            if let Some(r) = (0..label_rows as usize).find(|&r| row_end[r] + 6 < x) {
                row_end[r] = x + w;
                root.draw_text(&short, &font, (x, top + r as i32 * row_h as i32))
                    .map_err(|x| e(&x))?;
            }
        }
        root.present().map_err(|x| e(&x))?;
    }
    let img = image::RgbImage::from_raw(width, height, buf).expect("sized buffer");
    img.save_with_format(path, image::ImageFormat::Png)
        .map_err(|x| PlotError(format!("cannot write {}: {x}", path.display())))
}

//! Cue sheets: a scene's lighting cues in JSON or CSV, timed in seconds, SMPTE timecode at a
//! frame rate, or bars:beats. Parsing (`CueSheet::parse`, `CueSheet::load`) runs on the main or
//! network thread and allocates; evaluation (`CueSheet::look_at`) is a pure function of the
//! timeline position, runs on the audio thread and never allocates (binary search over looks
//! precomputed at load time). So the light at position t is the same whether the host plays,
//! bounces offline or jumps to t.
//!
//! Semantics: cues are sorted by time (stable: later lines win at equal times). Before the
//! first cue the light is `LightLook::NEUTRAL`. Cue k starts at `at_k` from the look the sheet
//! shows at that instant (possibly mid-fade) and fades linearly over `fade_k` to that look with
//! cue k's values applied; fields a cue does not name keep their values. The fade is in the
//! sheet's time unit: seconds for second/SMPTE sheets, beats for bars:beats sheets (one sheet
//! uses one time base; mixing seconds and bars:beats is an error).
//!
//! A cue may also name a mood (valence, arousal, tension: what `mood-noir script` writes for
//! a screenplay's scene). Once a cue with a mood has played, the sheet owns the light's mood
//! as it owns the look: it fades with the cue and holds through later cues that name none.
//! Cues before the first mood take their look's mood (`MappingTable::DEFAULT`); a sheet
//! without any mood leaves the mood to the look, as before.
//!
//! A cue may name a score style (`"style": "night-cab"`, or `auto`): from that cue on the
//! score switches to it (on the next phrase, as every style change), and it holds through
//! later cues that name none.

use super::event::{name_hash, Palette, MAX_PALETTE};
use super::mapping::{hsv_to_rgb, LightLook, MappingTable};
use crate::composer::StylePick;
use crate::mood::Mood;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// The timeline a sheet follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeBase {
    /// Seconds (also SMPTE timecode): `Engine::timeline_seconds()`.
    Seconds,
    /// Quarter-note beats from the start (bars:beats): `Engine::beat_position()`.
    Beats,
}

/// What one cue sets; `None` leaves a field as it was.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CuePatch {
    /// Overall level 0..1.
    pub intensity: Option<f32>,
    /// Key colour 0..1.
    pub rgb: Option<[f32; 3]>,
    /// Colour temperature, kelvin.
    pub cct_k: Option<f32>,
    /// Contrast 0..1.
    pub contrast: Option<f32>,
    /// Flicker 0..1.
    pub flicker: Option<f32>,
    /// Palette.
    pub palette: Option<Palette>,
    /// The mood this cue asks for (a screenplay scene's), instead of its look's.
    pub mood: Option<Mood>,
    /// The score style from this cue on.
    pub style: Option<StylePick>,
}

impl CuePatch {
    fn apply(&self, look: &LightLook) -> LightLook {
        LightLook {
            intensity: self.intensity.unwrap_or(look.intensity),
            rgb: self.rgb.unwrap_or(look.rgb),
            cct_k: self.cct_k.unwrap_or(look.cct_k),
            contrast: self.contrast.unwrap_or(look.contrast),
            flicker: self.flicker.unwrap_or(look.flicker),
            palette: self.palette.unwrap_or(look.palette),
        }
    }
}

/// One cue.
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    /// Its name (may be empty); `/cue/go ,s name` finds it.
    pub name: String,
    /// `name_hash(name)`.
    pub name_hash: u64,
    /// Start, in the sheet's time base.
    pub at: f64,
    /// Fade length, in the sheet's time base (0 = snap).
    pub fade: f64,
    /// What it sets.
    pub patch: CuePatch,
}

/// A parsed cue sheet with the looks precomputed for allocation-free evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct CueSheet {
    /// Seconds or beats.
    pub base: TimeBase,
    /// Frame rate SMPTE times were read at (informational).
    pub fps: f64,
    /// Cues sorted by start.
    pub cues: Vec<Cue>,
    /// The look each cue fades from (the sheet's look at its start).
    from: Vec<LightLook>,
    /// The look each cue fades to.
    to: Vec<LightLook>,
    /// The mood each cue fades from and to (empty when no cue names a mood).
    moods: Vec<(Mood, Mood)>,
    /// The style in force from each cue on (the last one named at or before it; empty when
    /// no cue names a style).
    styles: Vec<Option<StylePick>>,
}

/// A cue sheet that could not be read: says where and why.
#[derive(Clone, Debug, PartialEq)]
pub struct CueError(pub String);

impl fmt::Display for CueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CueError {}

fn err<T>(msg: impl Into<String>) -> Result<T, CueError> {
    Err(CueError(msg.into()))
}

/// Which text format a sheet is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CueFormat {
    /// `{"cues": [...]}`.
    Json,
    /// A header row then one cue per row.
    Csv,
}

impl CueFormat {
    /// From a file name's extension (`.json`, `.csv`); `None` for anything else.
    pub fn from_path(path: &Path) -> Option<CueFormat> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("json") => Some(CueFormat::Json),
            Some("csv") => Some(CueFormat::Csv),
            _ => None,
        }
    }
}

/// A cue sheet as persisted in the plugin state: where it came from and its full text, so a
/// session moved to another machine still plays it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CueSource {
    /// The file it was loaded from (informational once loaded).
    pub path: String,
    /// Its format.
    pub format: Option<CueFormat>,
    /// Its full text.
    pub text: String,
}

impl CueSource {
    /// Reads `path` (format from the extension). A Fountain screenplay (`.fountain`) is
    /// converted into a JSON sheet here, one cue per scene (`film::script`), so the plugin,
    /// the editor and the CLI load a script wherever they load a sheet.
    pub fn read(path: &Path) -> Result<CueSource, CueError> {
        let is_script = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("fountain"));
        if is_script {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CueError(format!("{}: {e}", path.display())))?;
            let json = crate::film::script::fountain_to_cue_json(&text)
                .map_err(|e| CueError(format!("{}: {e}", path.display())))?;
            return Ok(CueSource {
                path: path.display().to_string(),
                format: Some(CueFormat::Json),
                text: json,
            });
        }
        let format = CueFormat::from_path(path).ok_or_else(|| {
            CueError(format!(
                "{}: a cue sheet must end in .json or .csv (or be a .fountain screenplay)",
                path.display()
            ))
        })?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| CueError(format!("{}: {e}", path.display())))?;
        Ok(CueSource {
            path: path.display().to_string(),
            format: Some(format),
            text,
        })
    }

    /// Reads `name` (a `.json` or `.csv` file name or relative path) from inside `folder`
    /// only: no absolute paths, no `..`, nothing that resolves (through symlinks) outside the
    /// folder, nothing larger than `max_bytes`. For requests that come from the network.
    pub fn read_confined(folder: &Path, name: &str, max_bytes: u64) -> Result<CueSource, CueError> {
        use std::io::Read;
        use std::path::Component;
        let rel = Path::new(name);
        if name.is_empty()
            || name.len() > 512
            || !rel
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return err(format!(
                "{name:?}: give a file name inside the cue folder (no absolute path, no ..)"
            ));
        }
        let is_script = rel
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("fountain"));
        let format = match CueFormat::from_path(rel) {
            Some(f) => f,
            None if is_script => CueFormat::Json,
            None => {
                return err(format!(
                    "{name:?}: a cue sheet must end in .json or .csv (or be a .fountain screenplay)"
                ))
            }
        };
        let root = folder
            .canonicalize()
            .map_err(|e| CueError(format!("cue folder {}: {e}", folder.display())))?;
        let full = root
            .join(rel)
            .canonicalize()
            .map_err(|e| CueError(format!("{name:?} in the cue folder: {e}")))?;
        if !full.starts_with(&root) {
            return err(format!("{name:?} leads outside the cue folder"));
        }
        let file = std::fs::File::open(&full).map_err(|e| CueError(format!("{name:?}: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| CueError(format!("{name:?}: {e}")))?;
        if !meta.is_file() {
            return err(format!("{name:?} is not a file"));
        }
        if meta.len() > max_bytes {
            return err(format!(
                "{name:?} is {} bytes, more than the {max_bytes} a cue sheet may have",
                meta.len()
            ));
        }
        let mut text = String::new();
        file.take(max_bytes + 1)
            .read_to_string(&mut text)
            .map_err(|e| CueError(format!("{name:?}: {e}")))?;
        if text.len() as u64 > max_bytes {
            return err(format!(
                "{name:?} grew past {max_bytes} bytes while reading"
            ));
        }
        if is_script {
            text = crate::film::script::fountain_to_cue_json(&text)
                .map_err(|e| CueError(format!("{name:?}: {e}")))?;
        }
        Ok(CueSource {
            path: full.display().to_string(),
            format: Some(format),
            text,
        })
    }

    /// Parses the text.
    pub fn parse(&self) -> Result<CueSheet, CueError> {
        match self.format {
            Some(f) => CueSheet::parse(&self.text, f),
            None => err("cue sheet of unknown format"),
        }
    }
}

/// A time as written: seconds, or beats.
#[derive(Clone, Copy, Debug, PartialEq)]
enum At {
    Seconds(f64),
    Beats(f64),
}

/// Nominal frames per second for a rate and whether drop-frame counting applies to it.
fn check_fps(fps: f64) -> Result<f64, CueError> {
    const RATES: [f64; 9] = [23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0];
    if RATES.iter().any(|r| (r - fps).abs() < 1e-3) {
        Ok(fps)
    } else {
        err(format!(
            "fps {fps} is not a timecode rate (23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60)"
        ))
    }
}

/// Parses SMPTE `HH:MM:SS:FF` (non-drop) or `HH:MM:SS;FF` (drop-frame, 29.97/59.94 only) at
/// `fps` into seconds. 29.97 non-drop counts 30 frames a second of timecode on a clock running
/// 1000/1001 slow, as every NTSC tool does.
pub fn parse_smpte(s: &str, fps: f64) -> Result<f64, CueError> {
    let fps = check_fps(fps)?;
    let drop = s.contains(';');
    let parts: Vec<&str> = s.split([':', ';']).collect();
    if parts.len() != 4 {
        return err(format!("timecode {s:?} is not HH:MM:SS:FF"));
    }
    let mut n = [0u64; 4];
    for (i, p) in parts.iter().enumerate() {
        n[i] = p
            .trim()
            .parse::<u64>()
            .map_err(|_| CueError(format!("timecode {s:?}: {p:?} is not a number")))?;
    }
    let [h, m, sec, f] = n;
    let nominal = fps.round() as u64;
    if m >= 60 || sec >= 60 || f >= nominal {
        return err(format!(
            "timecode {s:?} out of range (minutes and seconds < 60, frames < {nominal})"
        ));
    }
    let ntsc = (fps - fps.round()).abs() > 1e-3;
    if drop && !ntsc {
        return err(format!(
            "timecode {s:?}: drop-frame (;) exists only at 29.97 and 59.94 fps"
        ));
    }
    let mut frames = ((h * 60 + m) * 60 + sec) * nominal + f;
    if drop {
        // SMPTE 12M: drop 2 (4 at 59.94) frame numbers every minute except every tenth.
        let d = nominal / 15;
        if sec == 0 && f < d && m % 10 != 0 {
            return err(format!("timecode {s:?} does not exist in drop-frame"));
        }
        let total_min = h * 60 + m;
        frames -= d * (total_min - total_min / 10);
    }
    let real_fps = if ntsc {
        nominal as f64 * 1000.0 / 1001.0
    } else {
        fps
    };
    Ok(frames as f64 / real_fps)
}

/// Parses `bar:beat` (both from 1; beat may have a fraction) into quarter-note beats.
pub fn parse_bars_beats(s: &str, beats_per_bar: u32) -> Result<f64, CueError> {
    let (bar, beat) = s
        .split_once(':')
        .ok_or_else(|| CueError(format!("{s:?} is not bar:beat")))?;
    let bar: u64 = bar
        .trim()
        .parse()
        .map_err(|_| CueError(format!("{s:?}: bar {bar:?} is not a whole number")))?;
    let beat: f64 = beat
        .trim()
        .parse()
        .map_err(|_| CueError(format!("{s:?}: beat {beat:?} is not a number")))?;
    if bar < 1 || !(beat >= 1.0 && beat < beats_per_bar as f64 + 1.0) {
        return err(format!(
            "{s:?}: bars count from 1 and beats from 1 to {beats_per_bar}"
        ));
    }
    Ok((bar - 1) as f64 * beats_per_bar as f64 + (beat - 1.0))
}

/// Reads a written time: a number of seconds ("12.5", "12.5s"), SMPTE ("00:01:02:12"), or
/// bars:beats ("17:1").
fn parse_at(s: &str, fps: f64, beats_per_bar: u32) -> Result<At, CueError> {
    let s = s.trim();
    let colons = s.matches([':', ';']).count();
    match colons {
        0 => {
            let num = s.strip_suffix('s').unwrap_or(s).trim();
            match num.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(At::Seconds(v)),
                _ => err(format!(
                    "time {s:?} is not seconds, HH:MM:SS:FF or bar:beat"
                )),
            }
        }
        1 => parse_bars_beats(s, beats_per_bar).map(At::Beats),
        3 => parse_smpte(s, fps).map(At::Seconds),
        _ => err(format!(
            "time {s:?} is not seconds, HH:MM:SS:FF or bar:beat"
        )),
    }
}

fn in_range(what: &str, v: f64, lo: f64, hi: f64) -> Result<f32, CueError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v as f32)
    } else {
        err(format!("{what} {v} is outside {lo}..{hi}"))
    }
}

/// One cue as written, before time-base resolution.
struct RawCue {
    name: String,
    at: At,
    fade: f64,
    patch: CuePatch,
    /// Where it was written ("cue 3", "line 7"), for errors.
    origin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSheet {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    fps: Option<f64>,
    #[serde(default)]
    beats_per_bar: Option<u32>,
    cues: Vec<JsonCue>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonTime {
    Num(f64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCue {
    #[serde(default)]
    name: Option<String>,
    #[serde(alias = "time")]
    at: JsonTime,
    #[serde(default)]
    fade: Option<f64>,
    #[serde(default)]
    intensity: Option<f64>,
    #[serde(default)]
    rgb: Option<Vec<f64>>,
    #[serde(default)]
    hsv: Option<Vec<f64>>,
    #[serde(default)]
    cct: Option<f64>,
    #[serde(default)]
    contrast: Option<f64>,
    #[serde(default)]
    flicker: Option<f64>,
    #[serde(default)]
    palette: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    mood: Option<JsonMood>,
    /// The score style from this cue on (`auto` or a style id).
    #[serde(default)]
    style: Option<String>,
    /// Free text for people (why the cue looks so); ignored.
    #[serde(default, rename = "notes")]
    _notes: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonMood {
    valence: f64,
    arousal: f64,
    tension: f64,
}

/// Named cue values shared by the JSON and CSV readers.
#[derive(Default)]
struct Values {
    intensity: Option<f64>,
    rgb: Option<Vec<f64>>,
    hsv: Option<Vec<f64>>,
    cct: Option<f64>,
    contrast: Option<f64>,
    flicker: Option<f64>,
    palette: Option<Vec<Vec<f64>>>,
    /// Valence, arousal, tension.
    mood: Option<[f64; 3]>,
    /// A style id or `auto`.
    style: Option<String>,
}

fn patch_from(v: &Values, origin: &str) -> Result<CuePatch, CueError> {
    let e = |m: CueError| CueError(format!("{origin}: {}", m.0));
    let mut p = CuePatch::default();
    if let Some(x) = v.intensity {
        p.intensity = Some(in_range("intensity", x, 0.0, 1.0).map_err(e)?);
    }
    if let Some(c) = &v.rgb {
        if c.len() != 3 {
            return err(format!("{origin}: rgb needs 3 numbers, got {}", c.len()));
        }
        let mut rgb = [0.0; 3];
        for k in 0..3 {
            rgb[k] = in_range("rgb component", c[k], 0.0, 1.0).map_err(e)?;
        }
        p.rgb = Some(rgb);
    }
    if let Some(c) = &v.hsv {
        if c.len() != 3 {
            return err(format!("{origin}: hsv needs 3 numbers, got {}", c.len()));
        }
        let h = in_range("hue", c[0], 0.0, 1.0).map_err(e)?;
        let s = in_range("saturation", c[1], 0.0, 1.0).map_err(e)?;
        let val = in_range("value", c[2], 0.0, 1.0).map_err(e)?;
        if p.rgb.is_some() {
            return err(format!("{origin}: give rgb or hsv, not both"));
        }
        p.rgb = Some(hsv_to_rgb(h * 360.0, s, val));
    }
    if let Some(x) = v.cct {
        p.cct_k = Some(in_range("cct (kelvin)", x, 1000.0, 20000.0).map_err(e)?);
    }
    if let Some(x) = v.contrast {
        p.contrast = Some(in_range("contrast", x, 0.0, 1.0).map_err(e)?);
    }
    if let Some(x) = v.flicker {
        p.flicker = Some(in_range("flicker", x, 0.0, 1.0).map_err(e)?);
    }
    if let Some(quads) = &v.palette {
        if quads.is_empty() || quads.len() > MAX_PALETTE {
            return err(format!(
                "{origin}: a palette has 1 to 16 colours, got {}",
                quads.len()
            ));
        }
        let mut q = Vec::with_capacity(quads.len());
        for c in quads {
            if c.len() != 4 {
                return err(format!("{origin}: palette colours are r g b w quads"));
            }
            let mut a = [0.0f32; 4];
            for k in 0..4 {
                a[k] = in_range("palette value", c[k], 0.0, 1.0).map_err(e)?;
            }
            q.push(a);
        }
        p.palette = Some(Palette::from_quads(&q));
    }
    if let Some(id) = &v.style {
        p.style = Some(StylePick::from_id(id).ok_or_else(|| {
            CueError(format!(
                "{origin}: no style {id:?}; the styles are {}",
                StylePick::known_ids()
            ))
        })?);
    }
    if let Some([v, a, t]) = v.mood {
        p.mood = Some(Mood {
            valence: in_range("valence", v, -1.0, 1.0).map_err(e)?,
            arousal: in_range("arousal", a, 0.0, 1.0).map_err(e)?,
            tension: in_range("tension", t, 0.0, 1.0).map_err(e)?,
        });
    }
    Ok(p)
}

impl CueSheet {
    /// Parses `text` in `format`.
    pub fn parse(text: &str, format: CueFormat) -> Result<CueSheet, CueError> {
        // (Both parsers skip a UTF-8 byte-order mark, as Excel's "CSV UTF-8" writes.)
        match format {
            CueFormat::Json => Self::parse_json(text),
            CueFormat::Csv => Self::parse_csv(text),
        }
    }

    /// Reads and parses a `.json` or `.csv` file.
    pub fn load(path: &Path) -> Result<CueSheet, CueError> {
        CueSource::read(path)?
            .parse()
            .map_err(|e| CueError(format!("{}: {e}", path.display())))
    }

    /// Parses the JSON form:
    /// `{"format": "mood-noir-cues", "version": 1, "fps": 25, "beats_per_bar": 4,
    ///   "cues": [{"name": "alley", "at": "00:00:10:00", "fade": 2.5, "intensity": 0.3,
    ///   "rgb": [0.2, 0.3, 0.9], "cct": 3200, "contrast": 0.8, "flicker": 0.1,
    ///   "palette": [[0.1, 0.2, 0.8, 1.0]]}]}`. `at` is a number of seconds or a string
    /// (seconds, `HH:MM:SS:FF`, `bar:beat`); `hsv` (each 0..1) may replace `rgb`.
    pub fn parse_json(text: &str) -> Result<CueSheet, CueError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let sheet: JsonSheet =
            serde_json::from_str(text).map_err(|e| CueError(format!("not a cue sheet: {e}")))?;
        if let Some(f) = &sheet.format {
            if f != "mood-noir-cues" {
                return err(format!("format is {f:?}, expected \"mood-noir-cues\""));
            }
        }
        if let Some(v) = sheet.version {
            if v != 1 {
                return err(format!("cue sheet version {v} is not supported (1)"));
            }
        }
        let fps = sheet.fps.unwrap_or(25.0);
        check_fps(fps)?;
        let bpb = sheet.beats_per_bar.unwrap_or(4);
        if !(1..=32).contains(&bpb) {
            return err(format!("beats_per_bar {bpb} is outside 1..32"));
        }
        let mut raw = Vec::with_capacity(sheet.cues.len());
        for (i, c) in sheet.cues.into_iter().enumerate() {
            let origin = format!("cue {}", i + 1);
            let at = match c.at {
                JsonTime::Num(v) if v.is_finite() && v >= 0.0 => At::Seconds(v),
                JsonTime::Num(v) => return err(format!("{origin}: time {v} is negative")),
                JsonTime::Text(s) => {
                    parse_at(&s, fps, bpb).map_err(|e| CueError(format!("{origin}: {e}")))?
                }
            };
            let values = Values {
                intensity: c.intensity,
                rgb: c.rgb,
                hsv: c.hsv,
                cct: c.cct,
                contrast: c.contrast,
                flicker: c.flicker,
                palette: c.palette,
                mood: c.mood.map(|m| [m.valence, m.arousal, m.tension]),
                style: c.style,
            };
            raw.push(RawCue {
                name: c.name.unwrap_or_default(),
                at,
                fade: c.fade.unwrap_or(0.0),
                patch: patch_from(&values, &origin)?,
                origin,
            });
        }
        Self::build(raw, fps)
    }

    /// Parses the CSV form: `#` comment lines (`# fps = 29.97`, `# beats_per_bar = 4` set
    /// those), then a header naming the columns (any order, any subset): `at` (or `time`),
    /// `fade`, `name`, `intensity`, `r`, `g`, `b` (or `rgb` as "r g b"), `h`, `s`, `v` (or
    /// `hsv`), `cct`, `contrast`, `flicker`, `palette` ("r g b w; r g b w"), `valence`,
    /// `arousal`, `tension` (all three or none), `style`. Empty cells leave a field unchanged. Fields may be quoted ("...", with "" for a quote).
    pub fn parse_csv(text: &str) -> Result<CueSheet, CueError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut fps = 25.0;
        let mut bpb = 4u32;
        let mut header: Option<Vec<String>> = None;
        let mut raw = Vec::new();
        for (ln, line) in text.lines().enumerate() {
            let ln = ln + 1;
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            if let Some(c) = t.strip_prefix('#') {
                if let Some((k, v)) = c.split_once('=') {
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                    match k.as_str() {
                        "fps" => {
                            fps = v.parse().map_err(|_| {
                                CueError(format!("line {ln}: fps {v:?} is not a number"))
                            })?;
                            check_fps(fps).map_err(|e| CueError(format!("line {ln}: {e}")))?;
                        }
                        "beats_per_bar" => {
                            bpb = v.parse().ok().filter(|b| (1..=32).contains(b)).ok_or_else(
                                || CueError(format!("line {ln}: beats_per_bar {v:?} not 1..32")),
                            )?;
                        }
                        _ => {}
                    }
                }
                continue;
            }
            let cells = split_csv_line(t).map_err(|e| CueError(format!("line {ln}: {e}")))?;
            let Some(h) = &header else {
                let names: Vec<String> = cells
                    .iter()
                    .map(|c| c.trim().to_ascii_lowercase())
                    .collect();
                for n in &names {
                    if !CSV_COLUMNS.contains(&n.as_str()) {
                        return err(format!(
                            "line {ln}: unknown column {n:?} (known: {})",
                            CSV_COLUMNS.join(", ")
                        ));
                    }
                }
                if !names.iter().any(|n| n == "at" || n == "time") {
                    return err(format!(
                        "line {ln}: the header needs an `at` (or `time`) column"
                    ));
                }
                header = Some(names);
                continue;
            };
            if cells.len() > h.len() {
                return err(format!(
                    "line {ln}: {} cells but the header names {} columns",
                    cells.len(),
                    h.len()
                ));
            }
            let origin = format!("line {ln}");
            let num = |name: &str, s: &str| -> Result<f64, CueError> {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| CueError(format!("{origin}: {name} {s:?} is not a number")))
            };
            let list = |name: &str, s: &str| -> Result<Vec<f64>, CueError> {
                s.split([' ', ','])
                    .filter(|x| !x.is_empty())
                    .map(|x| num(name, x))
                    .collect()
            };
            let mut v = Values::default();
            let (mut at, mut fade, mut name) = (None, 0.0, String::new());
            let mut rgb = [None; 3];
            let mut hsv = [None; 3];
            let mut mood = [None; 3];
            for (col, cell) in h.iter().zip(cells.iter()) {
                let cell = cell.trim();
                if cell.is_empty() {
                    continue;
                }
                match col.as_str() {
                    "at" | "time" => {
                        at = Some(
                            parse_at(cell, fps, bpb)
                                .map_err(|e| CueError(format!("{origin}: {e}")))?,
                        )
                    }
                    "fade" => fade = num("fade", cell)?,
                    "name" => name = cell.to_string(),
                    "intensity" => v.intensity = Some(num("intensity", cell)?),
                    "r" => rgb[0] = Some(num("r", cell)?),
                    "g" => rgb[1] = Some(num("g", cell)?),
                    "b" => rgb[2] = Some(num("b", cell)?),
                    "h" => hsv[0] = Some(num("h", cell)?),
                    "s" => hsv[1] = Some(num("s", cell)?),
                    "v" => hsv[2] = Some(num("v", cell)?),
                    "rgb" => v.rgb = Some(list("rgb", cell)?),
                    "hsv" => v.hsv = Some(list("hsv", cell)?),
                    "cct" => v.cct = Some(num("cct", cell)?),
                    "contrast" => v.contrast = Some(num("contrast", cell)?),
                    "flicker" => v.flicker = Some(num("flicker", cell)?),
                    "valence" => mood[0] = Some(num("valence", cell)?),
                    "arousal" => mood[1] = Some(num("arousal", cell)?),
                    "tension" => mood[2] = Some(num("tension", cell)?),
                    "style" => v.style = Some(cell.to_string()),
                    "palette" => {
                        v.palette = Some(
                            cell.split(';')
                                .filter(|q| !q.trim().is_empty())
                                .map(|q| list("palette", q))
                                .collect::<Result<_, _>>()?,
                        )
                    }
                    _ => {}
                }
            }
            for (parts, slot, what) in [(rgb, &mut v.rgb, "r, g, b"), (hsv, &mut v.hsv, "h, s, v")]
            {
                match parts {
                    [None, None, None] => {}
                    [Some(a), Some(b), Some(c)] => *slot = Some(vec![a, b, c]),
                    _ => return err(format!("{origin}: give all of {what} or none")),
                }
            }
            match mood {
                [None, None, None] => {}
                [Some(a), Some(b), Some(c)] => v.mood = Some([a, b, c]),
                _ => {
                    return err(format!(
                        "{origin}: give all of valence, arousal, tension or none"
                    ))
                }
            }
            let at = at.ok_or_else(|| CueError(format!("{origin}: no time in `at`")))?;
            raw.push(RawCue {
                patch: patch_from(&v, &origin)?,
                name,
                at,
                fade,
                origin,
            });
        }
        if header.is_none() {
            return err("no header row (e.g. `at,fade,name,intensity,r,g,b,cct`)");
        }
        Self::build(raw, fps)
    }

    fn build(raw: Vec<RawCue>, fps: f64) -> Result<CueSheet, CueError> {
        if raw.is_empty() {
            return err("the cue sheet has no cues");
        }
        let base = match raw[0].at {
            At::Seconds(_) => TimeBase::Seconds,
            At::Beats(_) => TimeBase::Beats,
        };
        let mut cues = Vec::with_capacity(raw.len());
        for r in raw {
            let at = match (base, r.at) {
                (TimeBase::Seconds, At::Seconds(s)) => s,
                (TimeBase::Beats, At::Beats(b)) => b,
                _ => {
                    return err(format!(
                        "{}: mixes seconds/timecode with bars:beats; one sheet uses one",
                        r.origin
                    ))
                }
            };
            if !(r.fade.is_finite() && (0.0..=3600.0).contains(&r.fade)) {
                return err(format!("{}: fade {} is outside 0..3600", r.origin, r.fade));
            }
            cues.push(Cue {
                name_hash: name_hash(&r.name),
                name: r.name,
                at,
                fade: r.fade,
                patch: r.patch,
            });
        }
        cues.sort_by(|a, b| a.at.total_cmp(&b.at));
        let mut sheet = CueSheet {
            base,
            fps,
            from: Vec::with_capacity(cues.len()),
            to: Vec::with_capacity(cues.len()),
            moods: Vec::new(),
            styles: Vec::new(),
            cues,
        };
        // Each cue starts from whatever the sheet shows at its start.
        for k in 0..sheet.cues.len() {
            let from = sheet.look_at(sheet.cues[k].at);
            let to = sheet.cues[k].patch.apply(&from);
            sheet.from.push(from);
            sheet.to.push(to);
        }
        if sheet.cues.iter().any(|c| c.patch.mood.is_some()) {
            let table = MappingTable::DEFAULT;
            let mut held: Option<Mood> = None;
            for k in 0..sheet.cues.len() {
                let from = sheet
                    .mood_at(sheet.cues[k].at)
                    .unwrap_or_else(|| table.mood(&sheet.from[k], 0.0));
                held = sheet.cues[k].patch.mood.or(held);
                let to = held.unwrap_or_else(|| table.mood(&sheet.to[k], 0.0));
                sheet.moods.push((from, to));
            }
        }
        if sheet.cues.iter().any(|c| c.patch.style.is_some()) {
            let mut held = None;
            for c in &sheet.cues {
                held = c.patch.style.or(held);
                sheet.styles.push(held);
            }
        }
        Ok(sheet)
    }

    /// The mood the sheet asks for at `pos` (its base), or `None` when no cue names a mood
    /// (then the look's mood counts). Pure, no allocation.
    pub fn mood_at(&self, pos: f64) -> Option<Mood> {
        let n = self.moods.len();
        if n == 0 {
            return None;
        }
        let pos = if pos.is_finite() { pos } else { 0.0 };
        let k = self.cues[..n].partition_point(|c| c.at <= pos);
        if k == 0 {
            return Some(MappingTable::DEFAULT.mood(&LightLook::NEUTRAL, 0.0));
        }
        let k = k - 1;
        let c = &self.cues[k];
        let t = if c.fade > 0.0 {
            ((pos - c.at) / c.fade).clamp(0.0, 1.0) as f32
        } else {
            1.0
        };
        let (from, to) = self.moods[k];
        Some(if t >= 1.0 { to } else { from.lerp(to, t) })
    }

    /// Cue `k`'s target mood, when the sheet names moods.
    pub fn cue_mood(&self, k: usize) -> Option<Mood> {
        self.moods.get(k).map(|m| m.1)
    }

    /// The index of the cue playing at `pos` (the last one started), if any.
    pub fn cue_index_at(&self, pos: f64) -> Option<usize> {
        let pos = if pos.is_finite() { pos } else { 0.0 };
        self.cues.partition_point(|c| c.at <= pos).checked_sub(1)
    }

    /// The look at timeline position `pos` (seconds or beats, the sheet's base). Pure, no
    /// allocation.
    pub fn look_at(&self, pos: f64) -> LightLook {
        // Only cues whose looks are computed count (during `build` that is a prefix).
        let n = self.to.len();
        let pos = if pos.is_finite() { pos } else { 0.0 };
        // Last cue with at <= pos.
        let k = self.cues[..n].partition_point(|c| c.at <= pos);
        if k == 0 {
            return LightLook::NEUTRAL;
        }
        let k = k - 1;
        let c = &self.cues[k];
        let t = if c.fade > 0.0 {
            ((pos - c.at) / c.fade).clamp(0.0, 1.0) as f32
        } else {
            1.0
        };
        self.from[k].lerp(&self.to[k], t)
    }

    /// The cue `r` refers to (index counted from 1, or name hash), if any.
    pub fn find(&self, r: super::event::CueRef) -> Option<usize> {
        use super::event::CueRef;
        match r {
            CueRef::Index(i) => (i >= 1 && (i as usize) <= self.cues.len()).then(|| i as usize - 1),
            CueRef::Name(h) => self.cues.iter().position(|c| c.name_hash == h),
        }
    }

    /// The style the sheet asks for at `pos` (the last one a cue at or before `pos` named),
    /// or `None` (no cue before `pos` names one). Pure, no allocation.
    pub fn style_at(&self, pos: f64) -> Option<StylePick> {
        self.cue_index_at(pos)
            .and_then(|k| self.styles.get(k).copied().flatten())
    }

    /// The style in force from cue `k` on, if the sheet names styles.
    pub fn cue_style(&self, k: usize) -> Option<StylePick> {
        self.styles.get(k).copied().flatten()
    }

    /// Cue `k`'s target look and fade length.
    pub fn cue_look(&self, k: usize) -> Option<(LightLook, f64)> {
        Some((*self.to.get(k)?, self.cues[k].fade))
    }
}

/// The columns a CSV sheet may name.
pub const CSV_COLUMNS: [&str; 23] = [
    "at",
    "time",
    "fade",
    "name",
    "intensity",
    "r",
    "g",
    "b",
    "rgb",
    "h",
    "s",
    "v",
    "hsv",
    "cct",
    "contrast",
    "flicker",
    "palette",
    "valence",
    "arousal",
    "tension",
    "style",
    "comment",
    "notes",
];

/// Splits one CSV line on commas, honouring double quotes.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (false, ',') => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    out.push(cur);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smpte_non_drop_and_drop() {
        // 1 h 2 min 3 s 12 frames at 25 fps = 3723.48 s.
        assert!((parse_smpte("01:02:03:12", 25.0).unwrap() - 3723.48).abs() < 1e-9);
        // 29.97 drop-frame: 00:01:00;02 is frame 1800 (frames 0 and 1 dropped), at 30000/1001.
        let t = parse_smpte("00:01:00;02", 29.97).unwrap();
        assert!((t - 1800.0 * 1001.0 / 30000.0).abs() < 1e-9, "{t}");
        // 00:10:00;00 = 17982 frames (10 minutes of 29.97 drop is 599.4 s).
        let t = parse_smpte("00:10:00;00", 29.97).unwrap();
        assert!((t - 17982.0 * 1001.0 / 30000.0).abs() < 1e-9, "{t}");
        assert!(parse_smpte("00:01:00;00", 29.97).is_err());
        assert!(parse_smpte("00:00:00:25", 25.0).is_err());
        assert!(parse_smpte("00:00:01;00", 25.0).is_err());
        assert!(parse_smpte("00:00:00:00", 26.0).is_err());
    }

    #[test]
    fn bars_beats_count_from_one() {
        assert_eq!(parse_bars_beats("1:1", 4).unwrap(), 0.0);
        assert_eq!(parse_bars_beats("3:2.5", 4).unwrap(), 9.5);
        assert_eq!(parse_bars_beats("2:1", 3).unwrap(), 3.0);
        assert!(parse_bars_beats("0:1", 4).is_err());
        assert!(parse_bars_beats("1:5", 4).is_err());
    }

    #[test]
    fn fades_are_linear_and_pure() {
        let s = CueSheet::parse_json(
            r#"{"cues": [
                {"at": 2, "fade": 2, "intensity": 1.0},
                {"at": "00:00:05:00", "fade": 0, "intensity": 0.0, "flicker": 1.0}
            ]}"#,
        )
        .unwrap();
        assert_eq!(s.look_at(0.0), LightLook::NEUTRAL);
        // Halfway through the first fade: 0.6 + (1.0 - 0.6) * 0.5 = 0.8.
        assert!((s.look_at(3.0).intensity - 0.8).abs() < 1e-6);
        assert_eq!(s.look_at(4.5).intensity, 1.0);
        assert_eq!(s.look_at(5.0).intensity, 0.0);
        assert_eq!(s.look_at(5.0).flicker, 1.0);
        assert_eq!(s.look_at(3.0), s.look_at(3.0));
    }

    #[test]
    fn a_cue_during_a_fade_starts_from_the_mid_fade_look() {
        let s = CueSheet::parse_json(
            r#"{"cues": [{"at": 0, "fade": 10, "intensity": 1.0}, {"at": 5, "fade": 5, "contrast": 1.0}]}"#,
        )
        .unwrap();
        // At 5 s the first fade is half done: 0.6 + 0.4 * 0.5 = 0.8, and it stays there.
        assert!((s.look_at(7.0).intensity - 0.8).abs() < 1e-6);
    }

    #[test]
    fn csv_with_quotes_hsv_and_palette() {
        let s = CueSheet::parse_csv(
            "# fps = 30\nat,fade,name,intensity,r,g,b,palette\n\
             00:00:01:15,1,\"alley, wet\",0.2,0.1,0.2,0.9,\"0 0 1 1; 1 0 0 0.5\"\n\
             3.0,,,0.9,,,,\n",
        )
        .unwrap();
        assert_eq!(s.cues[0].name, "alley, wet");
        assert!((s.cues[0].at - 1.5).abs() < 1e-12);
        assert_eq!(s.cues[0].patch.palette.unwrap().len, 2);
        assert_eq!(s.look_at(10.0).rgb, [0.1, 0.2, 0.9]);
        assert_eq!(s.look_at(10.0).intensity, 0.9);
    }

    #[test]
    fn a_cue_switches_the_style_and_it_holds() {
        use crate::composer::{StyleId, StylePick};
        let s = CueSheet::parse(
            r#"{"cues": [
                {"at": 0, "intensity": 0.5},
                {"at": 10, "style": "night-cab"},
                {"at": 20, "intensity": 0.2},
                {"at": 30, "style": "AUTO"}
            ]}"#,
            CueFormat::Json,
        )
        .unwrap();
        assert_eq!(s.style_at(5.0), None);
        assert_eq!(s.style_at(10.0), Some(StylePick::Fixed(StyleId::NightCab)));
        assert_eq!(s.style_at(25.0), Some(StylePick::Fixed(StyleId::NightCab)));
        assert_eq!(s.style_at(31.0), Some(StylePick::Auto));
        assert_eq!(s.style_at(f64::NAN), None);
        let csv = CueSheet::parse(
            "at,intensity,style\n0,0.5,\n4,0.5,border_town\n",
            CueFormat::Csv,
        )
        .unwrap();
        assert_eq!(csv.style_at(1.0), None);
        assert_eq!(
            csv.style_at(4.5),
            Some(StylePick::Fixed(StyleId::BorderTown))
        );
        // A sheet without styles leaves the style to the parameter.
        let plain = CueSheet::parse(r#"{"cues": [{"at": 0}]}"#, CueFormat::Json).unwrap();
        assert_eq!(plain.style_at(1.0), None);
        // An unknown style is refused by name, with the cue and the known styles.
        let e = CueSheet::parse(
            r#"{"cues": [{"at": 0, "style": "polka"}]}"#,
            CueFormat::Json,
        )
        .unwrap_err();
        assert!(
            e.0.contains("cue 1") && e.0.contains("polka") && e.0.contains("reservoir"),
            "{e}"
        );
    }

    #[test]
    fn moods_fade_with_their_cues_and_hold() {
        let s = CueSheet::parse_json(
            r#"{"cues": [
                {"at": 0, "intensity": 0.9},
                {"at": 10, "fade": 4, "mood": {"valence": -0.8, "arousal": 0.2, "tension": 0.9}},
                {"at": 20, "intensity": 0.1}
            ]}"#,
        )
        .unwrap();
        let look0 = MappingTable::DEFAULT.mood(&s.look_at(5.0), 0.0);
        // Before the first mood the look's mood counts.
        assert_eq!(s.mood_at(5.0), Some(look0));
        // Halfway through the fade: valence look0.v + (-0.8 - look0.v) / 2.
        let m = s.mood_at(12.0).unwrap();
        assert!(
            (m.valence - 0.5 * (look0.valence - 0.8)).abs() < 1e-5,
            "{m:?}"
        );
        // Held through a cue that names none.
        assert_eq!(s.mood_at(30.0).unwrap().tension, 0.9);
        assert_eq!(s.cue_index_at(30.0), Some(2));
        assert_eq!(s.cue_index_at(-1.0), None);
        // A sheet without moods leaves the mood to the look.
        let plain = CueSheet::parse_json(r#"{"cues": [{"at": 0, "intensity": 0.2}]}"#).unwrap();
        assert_eq!(plain.mood_at(1.0), None);
        let csv = CueSheet::parse_csv(
            "at,valence,arousal,tension
0,0.5,0.5,0.1
",
        )
        .unwrap();
        assert_eq!(csv.mood_at(1.0).unwrap().valence, 0.5);
        assert!(CueSheet::parse_csv(
            "at,valence
0,0.5
"
        )
        .unwrap_err()
        .0
        .contains("valence, arousal, tension"));
        assert!(CueSheet::parse_json(
            r#"{"cues": [{"at": 0, "mood": {"valence": 2, "arousal": 0, "tension": 0}}]}"#
        )
        .unwrap_err()
        .0
        .contains("valence 2"));
    }

    #[test]
    fn broken_sheets_say_why() {
        let cases: [(&str, CueFormat, &str); 8] = [
            ("{", CueFormat::Json, "not a cue sheet"),
            (r#"{"cues": []}"#, CueFormat::Json, "no cues"),
            (
                r#"{"cues": [{"at": 1, "intensity": 2}]}"#,
                CueFormat::Json,
                "intensity 2",
            ),
            (
                r#"{"cues": [{"at": 1, "colour": 2}]}"#,
                CueFormat::Json,
                "unknown field",
            ),
            (
                r#"{"cues": [{"at": 1}, {"at": "2:1"}]}"#,
                CueFormat::Json,
                "mixes",
            ),
            ("at,foo\n1,2\n", CueFormat::Csv, "unknown column \"foo\""),
            ("at,r,g\n1,0.5,0.5\n", CueFormat::Csv, "all of r, g, b"),
            ("at\n\"1\n", CueFormat::Csv, "unterminated quote"),
        ];
        for (text, f, want) in cases {
            let e = CueSheet::parse(text, f).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e:?} lacks {want:?}");
        }
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        // Excel's "CSV UTF-8" export starts with EF BB BF.
        let csv = "\u{feff}at,name,intensity\n0,open,0.8\n5,alley,0.2\n";
        let sheet = CueSheet::parse(csv, CueFormat::Csv).unwrap();
        assert_eq!(sheet.cues.len(), 2);
        assert_eq!(sheet.cues[0].name, "open");
        let json = "\u{feff}{\"cues\": [{\"name\": \"a\", \"at\": 0, \"intensity\": 0.5}]}";
        assert_eq!(
            CueSheet::parse(json, CueFormat::Json).unwrap().cues.len(),
            1
        );
        let dir = std::env::temp_dir().join(format!("mood-noir-bom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("excel.csv");
        std::fs::write(&f, csv.as_bytes()).unwrap();
        assert_eq!(CueSheet::load(&f).unwrap().cues.len(), 2);
    }
}

//! Writing cue sheets: what `script` and `look` produce, in the JSON form `CueSheet::parse`
//! reads (`light/cues.rs`), so the user can edit it and every loader accepts it. Main thread.

use crate::light::mapping::LightLook;
use crate::mood::Mood;
use serde::Serialize;

/// A cue's start as written: seconds, SMPTE text or bars:beats text.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OutTime {
    /// Seconds.
    Seconds(f64),
    /// "HH:MM:SS:FF" or "bar:beat".
    Text(String),
}

/// The mood of a cue.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OutMood {
    /// -1..1.
    pub valence: f64,
    /// 0..1.
    pub arousal: f64,
    /// 0..1.
    pub tension: f64,
}

/// One cue as written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutCue {
    /// Its name.
    pub name: String,
    /// Start.
    pub at: OutTime,
    /// Fade length in the sheet's unit.
    #[serde(skip_serializing_if = "is_zero")]
    pub fade: f64,
    /// Intensity 0..1.
    pub intensity: f64,
    /// Key colour.
    pub rgb: [f64; 3],
    /// Colour temperature, kelvin.
    pub cct: f64,
    /// Contrast 0..1.
    pub contrast: f64,
    /// Flicker 0..1.
    pub flicker: f64,
    /// Palette quads (r, g, b, weight).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub palette: Vec<[f64; 4]>,
    /// The mood, when the source says more than the light (a screenplay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mood: Option<OutMood>,
    /// Why the cue looks as it does (ignored by the loader).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// A whole sheet as written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutSheet {
    /// Always "mood-noir-cues".
    pub format: &'static str,
    /// Always 1.
    pub version: u32,
    /// Frame rate of SMPTE times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// The cues.
    pub cues: Vec<OutCue>,
}

/// Rounds to 4 decimals (the sheet stays readable).
pub fn r4(v: f32) -> f64 {
    (v as f64 * 10000.0).round() / 10000.0
}

impl OutCue {
    /// A cue with `look` (and optionally `mood`) at `at`.
    pub fn new(name: String, at: OutTime, fade: f64, look: &LightLook, mood: Option<Mood>) -> Self {
        OutCue {
            name,
            at,
            fade,
            intensity: r4(look.intensity),
            rgb: look.rgb.map(r4),
            cct: look.cct_k.round() as f64,
            contrast: r4(look.contrast),
            flicker: r4(look.flicker),
            palette: look
                .palette
                .colors()
                .iter()
                .map(|c| [r4(c[0]), r4(c[1]), r4(c[2]), r4(c[3])])
                .collect(),
            mood: mood.map(|m| OutMood {
                valence: r4(m.valence),
                arousal: r4(m.arousal),
                tension: r4(m.tension),
            }),
            notes: String::new(),
        }
    }
}

impl OutSheet {
    /// A sheet of `cues`.
    pub fn new(fps: Option<f64>, cues: Vec<OutCue>) -> Self {
        OutSheet {
            format: "mood-noir-cues",
            version: 1,
            fps,
            cues,
        }
    }

    /// Pretty JSON, one cue a line.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\"format\": \"mood-noir-cues\", \"version\": 1");
        if let Some(f) = self.fps {
            s.push_str(&format!(", \"fps\": {f}"));
        }
        s.push_str(", \"cues\": [\n");
        for (i, c) in self.cues.iter().enumerate() {
            s.push_str("  ");
            s.push_str(&serde_json::to_string(c).expect("cues serialise"));
            s.push_str(if i + 1 < self.cues.len() { ",\n" } else { "\n" });
        }
        s.push_str("]}\n");
        s
    }
}

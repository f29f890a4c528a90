//! Screenplay → cue sheet: every scene becomes a cue named after its heading, with the light
//! and mood `script_mood` reads in it, timed by the page-eighths rule (a page is about a
//! minute of screen time; `pages_per_minute` changes the rate) or in bars:beats. Transitions
//! set the fade into the next scene (a DISSOLVE fades, a CUT snaps). Main thread.

use super::fountain::{self, Script, ScriptError};
use super::script_mood::{SceneReader, SceneReading, ScriptTable};
use super::sheet::{OutCue, OutSheet, OutTime};

/// How scene lengths become time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Timing {
    /// Seconds: `pages_per_minute` pages of screenplay a minute (the rule of thumb is 1).
    Pages {
        /// Pages a minute.
        pages_per_minute: f64,
    },
    /// Bars:beats: each scene lasts its page time at its own mood's tempo, rounded to whole
    /// bars (at least one), so every cue falls on a downbeat.
    Bars {
        /// Pages a minute (as above) for the scene's length before rounding.
        pages_per_minute: f64,
        /// Beats in a bar.
        beats_per_bar: u32,
    },
}

impl Default for Timing {
    fn default() -> Self {
        Timing::Pages {
            pages_per_minute: 1.0,
        }
    }
}

/// Fade into a scene after a transition, seconds (bars sheets: beats).
pub const DISSOLVE_S: f64 = 2.0;
/// Fade after a dissolve in a bars sheet, beats.
pub const DISSOLVE_BEATS: f64 = 4.0;

/// One scene's cue, with the reading behind it (for printing and plots).
#[derive(Clone, Debug, PartialEq)]
pub struct SceneCue {
    /// The cue as written.
    pub cue: OutCue,
    /// Start, seconds (estimated through the tempo for bars sheets).
    pub start_s: f64,
    /// Length, seconds.
    pub length_s: f64,
    /// Page eighths.
    pub eighths: u32,
    /// What the table read.
    pub reading: SceneReading,
}

/// The converted screenplay.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptSheet {
    /// The parsed script.
    pub script: Script,
    /// One cue per scene.
    pub scenes: Vec<SceneCue>,
    /// The sheet.
    pub sheet: OutSheet,
    /// Total length, seconds.
    pub total_s: f64,
}

fn fmt_eighths(e: u32) -> String {
    match (e / 8, e % 8) {
        (0, f) => format!("{f}/8"),
        (p, 0) => format!("{p}"),
        (p, f) => format!("{p} {f}/8"),
    }
}

fn is_dissolve(t: &str) -> bool {
    ["DISSOLVE", "FADE", "WIPE", "IRIS"]
        .iter()
        .any(|w| t.contains(w))
}

/// Converts a parsed script.
pub fn convert(script: Script, timing: Timing, table: &ScriptTable) -> ScriptSheet {
    let mut reader = SceneReader::new(table);
    let mut scenes = Vec::with_capacity(script.scenes.len());
    let mut t_s = 0.0f64;
    let mut beats = 0.0f64;
    let mut fade_next = false;
    for sc in &script.scenes {
        let reading = reader.read(sc);
        let ppm = match timing {
            Timing::Pages { pages_per_minute }
            | Timing::Bars {
                pages_per_minute, ..
            } => pages_per_minute,
        };
        let page_s = sc.eighths as f64 / 8.0 * 60.0 / ppm;
        let (at, fade, length_s) = match timing {
            Timing::Pages { .. } => (
                OutTime::Seconds((t_s * 1000.0).round() / 1000.0),
                if fade_next { DISSOLVE_S } else { 0.0 },
                page_s,
            ),
            Timing::Bars { beats_per_bar, .. } => {
                let bpm = reading.mood.tempo_bpm();
                let bpb = beats_per_bar.max(1) as f64;
                let bars = (page_s * bpm / 60.0 / bpb).round().max(1.0);
                let bar = (beats / bpb).round() as u64 + 1;
                let at = OutTime::Text(format!("{bar}:1"));
                beats += bars * bpb;
                (
                    at,
                    if fade_next { DISSOLVE_BEATS } else { 0.0 },
                    bars * bpb * 60.0 / bpm,
                )
            }
        };
        let mut cue = OutCue::new(
            sc.heading.clone(),
            at,
            fade,
            &reading.look,
            Some(reading.mood),
        );
        let kws: Vec<String> = reading
            .keywords
            .iter()
            .map(|(k, n)| {
                if *n > 1 {
                    format!("{k} x{n}")
                } else {
                    k.to_string()
                }
            })
            .collect();
        cue.notes = format!(
            "{}{} pages{}; time {}; keywords: {}; {:.0} words/sentence, dialogue {:.0}%, sentiment {:+.2}",
            sc.number
                .as_ref()
                .map(|n| format!("scene {n}, "))
                .unwrap_or_default(),
            fmt_eighths(sc.eighths),
            sc.section
                .as_ref()
                .map(|s| format!(" in \"{s}\""))
                .unwrap_or_default(),
            if reading.time.is_empty() { "?" } else { reading.time },
            if kws.is_empty() { "none".to_string() } else { kws.join(", ") },
            reading.sentence_words,
            reading.dialogue_share * 100.0,
            reading.sentiment,
        );
        scenes.push(SceneCue {
            cue,
            start_s: t_s,
            length_s,
            eighths: sc.eighths,
            reading,
        });
        t_s += length_s;
        fade_next = sc.transition_out.as_deref().is_some_and(is_dissolve);
    }
    let sheet = OutSheet::new(None, scenes.iter().map(|s| s.cue.clone()).collect());
    ScriptSheet {
        script,
        scenes,
        sheet,
        total_s: t_s,
    }
}

/// Parses and converts Fountain text.
pub fn from_fountain(
    text: &str,
    timing: Timing,
    table: &ScriptTable,
) -> Result<ScriptSheet, ScriptError> {
    let script = fountain::parse(text)?;
    if script.scenes.is_empty() {
        return Err(ScriptError("the screenplay has no scenes".into()));
    }
    Ok(convert(script, timing, table))
}

/// The cue sheet JSON for a Fountain text with the default table and timing (what loading a
/// `.fountain` as a cue sheet does).
pub fn fountain_to_cue_json(text: &str) -> Result<String, ScriptError> {
    Ok(
        from_fountain(text, Timing::default(), &ScriptTable::DEFAULT)?
            .sheet
            .to_json(),
    )
}

/// Printed pages of a Fountain text (0 when it is not a screenplay); for benches and tools.
pub fn fountain_parse_pages(text: &str) -> f64 {
    fountain::parse(text).map(|s| s.pages).unwrap_or(0.0)
}

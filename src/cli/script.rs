//! `mood-noir script scene.fountain --out cues.json`: a screenplay becomes a cue sheet, one
//! cue per scene (`film::script`). Main thread.

use crate::film::script::{from_fountain, Timing};
use crate::film::script_mood::ScriptTable;
use std::path::PathBuf;

/// Arguments of `mood-noir script`.
#[derive(clap::Args, Debug)]
pub struct ScriptArgs {
    /// The screenplay (Fountain).
    pub script: PathBuf,
    /// Where to write the cue sheet (JSON); without it the sheet goes to stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Pages of screenplay a minute of screen time (the page-eighths rule: 1).
    #[arg(long, default_value_t = 1.0)]
    pub pages_per_minute: f64,
    /// Time the cues in bars:beats: each scene lasts its page time at its own mood's tempo,
    /// rounded to whole bars, so every cue lands on a downbeat.
    #[arg(long)]
    pub bars: bool,
    /// Also draw the mood over time into this PNG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `mood-noir script`.
pub fn run(a: ScriptArgs) -> Result<(), String> {
    if !(a.pages_per_minute.is_finite() && (0.05..=20.0).contains(&a.pages_per_minute)) {
        return Err(format!(
            "--pages-per-minute must be between 0.05 and 20, got {}",
            a.pages_per_minute
        ));
    }
    let bytes =
        std::fs::read(&a.script).map_err(|e| format!("cannot read {}: {e}", a.script.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "{}: not UTF-8 text, so not a Fountain screenplay",
            a.script.display()
        )
    })?;
    let timing = if a.bars {
        Timing::Bars {
            pages_per_minute: a.pages_per_minute,
            beats_per_bar: 4,
        }
    } else {
        Timing::Pages {
            pages_per_minute: a.pages_per_minute,
        }
    };
    let started = std::time::Instant::now();
    let conv = from_fountain(&text, timing, &ScriptTable::DEFAULT)
        .map_err(|e| format!("{}: {e}", a.script.display()))?;
    let json = conv.sheet.to_json();
    // The sheet must load as it is written.
    crate::light::CueSheet::parse_json(&json)
        .map_err(|e| format!("internal error: the sheet does not load: {e}"))?;
    match &a.out {
        Some(p) => {
            std::fs::write(p, &json).map_err(|e| format!("cannot write {}: {e}", p.display()))?
        }
        None => print!("{json}"),
    }
    if !a.quiet {
        eprintln!(
            "{}: {} scenes, {:.1} pages, {} of screen time, read in {:.0} ms",
            conv.script
                .title
                .clone()
                .unwrap_or_else(|| a.script.display().to_string()),
            conv.scenes.len(),
            conv.script.pages,
            crate::cli::plot::clock(conv.total_s),
            started.elapsed().as_secs_f64() * 1000.0
        );
        for s in &conv.scenes {
            let m = s.reading.mood;
            eprintln!(
                "  {:>8}  {:<40} v {:+.2} a {:.2} t {:.2}  {}",
                crate::cli::plot::clock(s.start_s),
                s.cue.name.chars().take(40).collect::<String>(),
                m.valence,
                m.arousal,
                m.tension,
                s.cue.notes
            );
        }
    }
    if let Some(p) = &a.plot {
        let sheet = crate::light::CueSheet::parse_json(&json).map_err(|e| e.to_string())?;
        let mut data = crate::film::plot::simulate_sheet(&sheet, conv.total_s, 1.0);
        data.title = conv
            .script
            .title
            .clone()
            .unwrap_or_else(|| a.script.display().to_string());
        crate::film::plot::draw(&data, p, 1600, 620).map_err(|e| e.to_string())?;
        if !a.quiet {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}

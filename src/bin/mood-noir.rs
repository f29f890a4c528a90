//! `mood-noir`: the command-line renderer. Renders the same engine the plugin runs into a WAV
//! file, bit-identical for identical arguments.

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mood_noir::engine::{KeysVoice, Quantize, Settings, StylePick, TempoMode};
use mood_noir::preset::{self, Preset};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mood-noir",
    version,
    about = "Scores a scene from its light: renders the Mood Noir band offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum TempoArg {
    Host,
    Mood,
    Fixed,
}

#[derive(Clone, Copy, ValueEnum)]
enum QuantizeArg {
    Beat,
    Bar,
    TwoBars,
    FourBars,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeysArg {
    Auto,
    Rhodes,
    Piano,
}

#[derive(Subcommand)]
enum Command {
    /// Render music to a WAV file.
    Render {
        /// Length in seconds.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        /// Output WAV (32-bit float stereo; the name must end in .wav).
        #[arg(long)]
        out: PathBuf,
        /// A preset: a JSON file, or a factory scene id (see `mood-noir presets`).
        #[arg(long)]
        preset: Option<String>,
        /// Valence -1..1 (overrides the preset).
        #[arg(long, allow_negative_numbers = true)]
        valence: Option<f32>,
        /// Arousal 0..1 (overrides the preset).
        #[arg(long)]
        arousal: Option<f32>,
        /// Tension 0..1 (overrides the preset).
        #[arg(long)]
        tension: Option<f32>,
        /// Sample rate in Hz.
        #[arg(long, default_value_t = 48000, value_parser = clap::value_parser!(u32).range(8000..=384000))]
        sample_rate: u32,
        /// Seed of every musical choice, 0..999 as in the plugin (overrides the preset).
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..=mood_noir::engine::settings::SEED_MAX as i64))]
        seed: Option<u32>,
        /// Tempo mode (offline there is no host: "host" follows the mood).
        #[arg(long, value_enum)]
        tempo_mode: Option<TempoArg>,
        /// Tempo in BPM, 30..300; implies --tempo-mode fixed (and conflicts with any other).
        #[arg(long)]
        tempo: Option<f32>,
        /// Swing 0..1.
        #[arg(long)]
        swing: Option<f32>,
        /// Where harmonic changes land.
        #[arg(long, value_enum)]
        quantize: Option<QuantizeArg>,
        /// Which keyboard the keys player plays (auto: the acoustic piano for calm, unhurried
        /// scenes, the Rhodes for tense or driving ones; overrides the preset).
        #[arg(long, value_enum)]
        keys: Option<KeysArg>,
        /// The score style, or `auto` (the mood picks it; see `mood-noir styles`; overrides the
        /// preset).
        #[arg(long)]
        style: Option<String>,
        /// Analog grain 0..1: tape wow and flutter, saturation, hiss, crackle, an old optical
        /// print's colour, dropouts (0: the clean sound; overrides the preset's).
        #[arg(long)]
        grain: Option<f32>,
        /// Also write the notes as a Standard MIDI File (one channel per instrument, the tempo
        /// map, and the mood as controllers 20-22 on channel 16).
        #[arg(long)]
        midi: Option<PathBuf>,
        /// Also write the stems (bass, drums, keys, lead, pad, ambience, room, harp, brass,
        /// percussion) as WAVs into
        /// this folder; they sum to the main mix.
        #[arg(long)]
        stems: Option<PathBuf>,
        /// A lighting cue sheet (.json or .csv; seconds, SMPTE timecode or bars:beats): the
        /// light follows it along the timeline and drives the mood (Mood source: Light).
        #[arg(long)]
        cues: Option<PathBuf>,
        /// Smoothing time constant of the light's mood, 0..20 seconds (default 1; needs
        /// --cues: without light there is nothing to smooth).
        #[arg(long, requires = "cues")]
        light_smooth: Option<f32>,
        /// Follow amount 0..1: how far the light pulls the mood and the key light from the
        /// manual ones (default 1; needs --cues).
        #[arg(long, requires = "cues")]
        follow: Option<f32>,
        /// Processing block size in samples, 1..65536 (the result does not depend on it).
        #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65536))]
        block_size: u32,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Also draw the mood the render played (valence, arousal, tension, tempo, cues)
        /// into this PNG.
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Turn a Fountain screenplay into a cue sheet: one cue per scene, its light and mood
    /// read from the heading, the action and the pace.
    Script(mood_noir::cli::script::ScriptArgs),
    /// The look of a still (dominant colours, key brightness, contrast, saturation, colour
    /// temperature) or of each shot of a clip (through ffmpeg).
    Look(mood_noir::cli::look::LookArgs),
    /// Score a clip end to end: its shots become cues, the score is rendered along them and
    /// muxed under the picture (WAV, MIDI and stems beside it).
    Score(mood_noir::cli::score::ScoreArgs),
    /// Measure WAV files: loudness, onsets per second, median attack (10-90 % rise) and
    /// decay (to -20 dB) of the notes, spectral centroid.
    Measure(mood_noir::cli::measure::MeasureArgs),
    /// Draw a cue sheet's mood over time (valence, arousal, tension, tempo, cue names).
    Plot(mood_noir::cli::plot::PlotArgs),
    /// List the factory scene presets.
    Presets,
    /// List the score styles: id, name, the touchstone each follows, what defines it.
    Styles,
    /// Listen for OSC like the plugin does and print what arrives, the counters, errors and
    /// the light's derived mood once a second.
    OscMonitor {
        /// UDP port.
        #[arg(long, default_value_t = 9000)]
        port: u16,
        /// Listen on all interfaces (default: 127.0.0.1 only).
        #[arg(long)]
        all_interfaces: bool,
        /// Allow `/noir/cues/load` to read sheets from this folder (off without it, as in
        /// the plugin).
        #[arg(long)]
        cue_folder: Option<PathBuf>,
        /// Accept datagrams only from this sender address (repeatable; default: any).
        #[arg(long = "allow")]
        allow: Vec<std::net::IpAddr>,
        /// Stop after this many seconds (default: run until interrupted).
        #[arg(long)]
        seconds: Option<f64>,
    },
}

fn finite_in(name: &str, v: f32, lo: f32, hi: f32) -> Result<f32, String> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!("--{name} must be between {lo} and {hi}, got {v}"))
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mood-noir: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Script(a) => mood_noir::cli::script::run(a),
        Command::Look(a) => mood_noir::cli::look::run(a),
        Command::Score(a) => mood_noir::cli::score::run(a),
        Command::Plot(a) => mood_noir::cli::plot::run(a),
        Command::Measure(a) => mood_noir::cli::measure::run(a),
        Command::OscMonitor {
            port,
            all_interfaces,
            cue_folder,
            allow,
            seconds,
        } => {
            if let Some(s) = seconds {
                if !(s.is_finite() && s >= 0.0) {
                    return Err(format!("--seconds must be positive, got {s}"));
                }
            }
            let opts = mood_noir::cli::osc_monitor::MonitorOptions {
                port,
                all_interfaces,
                cue_folder: cue_folder.map(|p| p.display().to_string()),
                allowed_senders: allow.iter().map(|a| a.to_string()).collect(),
            };
            mood_noir::cli::osc_monitor::run(
                &opts,
                seconds,
                std::time::Duration::from_secs(1),
                |r| println!("{r}"),
            )
            .map(|_| ())
        }
        Command::Styles => {
            for id in mood_noir::engine::StyleId::ALL {
                let st = id.style();
                println!(
                    "{:12} {:12} after {}: {}",
                    st.id, st.name, st.after, st.about
                );
            }
            println!(
                "{:12} {:12} the mood picks the style at each phrase (docs/styles.md)",
                "auto", "Auto"
            );
            Ok(())
        }
        Command::Presets => {
            for (id, _) in preset::FACTORY {
                let p = preset::factory(id).expect("factory presets parse");
                println!("{id:20} {}: {}", p.name, p.description);
            }
            Ok(())
        }
        Command::Render {
            seconds,
            out,
            preset: preset_arg,
            valence,
            arousal,
            tension,
            sample_rate,
            seed,
            tempo_mode,
            tempo,
            swing,
            quantize,
            keys,
            style,
            grain,
            block_size,
            quiet,
            midi,
            stems,
            cues,
            light_smooth,
            follow,
            plot,
        } => {
            let is_wav = out
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
            if !is_wav {
                return Err(format!(
                    "--out {}: only WAV files are written (name it .wav; convert with ffmpeg)",
                    out.display()
                ));
            }
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= 6.0 * 3600.0) {
                return Err(format!(
                    "--seconds must be between 0 and 21600, got {seconds}"
                ));
            }
            let mut s = match preset_arg {
                None => Settings::default(),
                Some(p) => {
                    let path = PathBuf::from(&p);
                    if path.exists() {
                        Preset::load(&path)
                            .map_err(|e| format!("{}: {e}", path.display()))?
                            .settings
                    } else if let Some(f) = preset::factory(&p) {
                        f.settings
                    } else {
                        return Err(format!(
                            "no preset file or factory scene named {p:?} (try `mood-noir presets`)"
                        ));
                    }
                }
            };
            if let Some(v) = valence {
                s.mood.valence = finite_in("valence", v, -1.0, 1.0)?;
            }
            if let Some(v) = arousal {
                s.mood.arousal = finite_in("arousal", v, 0.0, 1.0)?;
            }
            if let Some(v) = tension {
                s.mood.tension = finite_in("tension", v, 0.0, 1.0)?;
            }
            if let Some(v) = seed {
                s.seed = v;
            }
            if let Some(m) = tempo_mode {
                s.tempo_mode = match m {
                    TempoArg::Host => TempoMode::Host,
                    TempoArg::Mood => TempoMode::Mood,
                    TempoArg::Fixed => TempoMode::Fixed,
                };
            }
            if let Some(t) = tempo {
                if let Some(m) = tempo_mode.filter(|m| !matches!(m, TempoArg::Fixed)) {
                    let name = match m {
                        TempoArg::Host => "host",
                        TempoArg::Mood => "mood",
                        TempoArg::Fixed => "fixed",
                    };
                    return Err(format!(
                        "--tempo sets a fixed tempo, but --tempo-mode {name} does not use it \
                         (drop one of them)"
                    ));
                }
                let (lo, hi) = mood_noir::engine::settings::FIXED_TEMPO_RANGE_BPM;
                s.fixed_tempo_bpm = finite_in("tempo", t, lo, hi)?;
                s.tempo_mode = TempoMode::Fixed;
            }
            if let Some(v) = swing {
                s.swing = finite_in("swing", v, 0.0, 1.0)?;
            }
            if let Some(v) = grain {
                s.grain = finite_in("grain", v, 0.0, 1.0)?;
            }
            if let Some(q) = quantize {
                s.quantize = match q {
                    QuantizeArg::Beat => Quantize::Beat,
                    QuantizeArg::Bar => Quantize::Bar,
                    QuantizeArg::TwoBars => Quantize::TwoBars,
                    QuantizeArg::FourBars => Quantize::FourBars,
                };
            }
            if let Some(k) = keys {
                s.keys = match k {
                    KeysArg::Auto => KeysVoice::Auto,
                    KeysArg::Rhodes => KeysVoice::Rhodes,
                    KeysArg::Piano => KeysVoice::Piano,
                };
            }
            if let Some(name) = &style {
                s.style = StylePick::from_id(name).ok_or_else(|| {
                    format!(
                        "no style {name:?}; the styles are {}",
                        StylePick::known_ids()
                    )
                })?;
            }
            let mut sheet = match &cues {
                None => None,
                Some(p) => {
                    let sheet = mood_noir::light::CueSheet::load(p).map_err(|e| e.to_string())?;
                    if s.source == mood_noir::engine::MoodSource::Manual {
                        s.source = mood_noir::engine::MoodSource::Light;
                    }
                    Some(sheet)
                }
            };
            if let Some(f) = follow {
                s.follow = finite_in("follow", f, 0.0, 1.0)?;
            }
            let mut light = mood_noir::light::LightSettings::default();
            if let Some(v) = light_smooth {
                let max = mood_noir::light::model::LIGHT_SMOOTH_MAX_S;
                light.smooth_s = finite_in("light-smooth", v, 0.0, max)?;
            }
            if let Some(dir) = &stems {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let job = mood_noir::cli::RenderJob {
                settings: s,
                sample_rate,
                seconds,
                block: block_size as usize,
                stems: stems.is_some(),
                midi: midi.is_some(),
            };
            let total = (seconds * sample_rate as f64).round() as u64;
            let bar = if quiet {
                ProgressBar::hidden()
            } else {
                let b = ProgressBar::new(total);
                b.set_style(
                    ProgressStyle::with_template(
                        "{spinner} rendering [{bar:40}] {percent:>3}% {elapsed} (eta {eta})",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                b
            };
            let mut rec = plot
                .as_ref()
                .map(|_| mood_noir::cli::plot::MoodRecorder::new(sample_rate, 0.05));
            let rendered = mood_noir::cli::render_job_observed(
                &job,
                |engine| {
                    engine.set_light_settings(light);
                    if let Some(sheet) = sheet.take() {
                        drop(engine.swap_cue_sheet(Some(Box::new(sheet))));
                    }
                    // Start exactly where the sheet says (smoothing snaps at the top).
                    engine.reset();
                },
                |engine, d| {
                    bar.set_position(d);
                    if let Some(r) = rec.as_mut() {
                        r.observe(engine, d);
                    }
                },
            );
            bar.finish_and_clear();
            let audio = rendered.main;
            mood_noir::cli::write_wav(&out, sample_rate, &audio)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            if let (Some(dir), Some(stem_audio)) = (&stems, &rendered.stems) {
                for (i, a) in stem_audio.iter().enumerate() {
                    let p = dir.join(mood_noir::cli::stem_file_name(i));
                    mood_noir::cli::write_wav(&p, sample_rate, a)
                        .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
                }
            }
            if let (Some(path), Some(bytes)) = (&midi, &rendered.midi) {
                std::fs::write(path, bytes)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            if let (Some(p), Some(r)) = (&plot, rec) {
                r.write(
                    p,
                    out.display().to_string(),
                    "the mood the render played".into(),
                )?;
            }
            let peak = audio.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            if !quiet {
                eprintln!(
                    "wrote {} ({seconds} s, {sample_rate} Hz, peak {:.1} dBFS)",
                    out.display(),
                    20.0 * peak.max(1e-9).log10()
                );
            }
            Ok(())
        }
    }
}

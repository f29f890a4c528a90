//! The real `mood-noir` binary: renders files, identical bytes for identical arguments,
//! presets from disk and by name, and clear errors for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mood-noir"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mood-noir-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn render(out: &Path, extra: &[&str]) -> std::process::Output {
    render_for(6, out, extra)
}

fn render_for(seconds: u32, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.args([
        "render",
        "--seconds",
        &seconds.to_string(),
        "--quiet",
        "--out",
    ])
    .arg(out)
    .args(extra);
    c.output().unwrap()
}

fn read(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    (spec, r.samples::<f32>().map(Result::unwrap).collect())
}

#[test]
fn identical_arguments_give_identical_files() {
    let (a, b) = (tmp("a.wav"), tmp("b.wav"));
    let args = [
        "--valence",
        "-0.5",
        "--arousal",
        "0.6",
        "--tension",
        "0.4",
        "--seed",
        "7",
    ];
    assert!(render(&a, &args).status.success());
    assert!(render(&b, &args).status.success());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let (spec, samples) = read(&a);
    assert_eq!((spec.channels, spec.sample_rate), (2, 48_000));
    assert_eq!(samples.len(), 6 * 48_000 * 2);
    let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak > 0.01 && peak < 1.0, "peak {peak}");
    // Another block size renders the same music.
    let c = tmp("c.wav");
    let mut with_block = args.to_vec();
    with_block.extend(["--block-size", "64"]);
    assert!(render(&c, &with_block).status.success());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
}

#[test]
fn presets_load_from_file_and_by_name_and_differ() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
    let (f, n, o) = (tmp("file.wav"), tmp("name.wav"), tmp("other.wav"));
    let file = dir.join("neon-chase.json");
    assert!(render(&f, &["--preset", file.to_str().unwrap()])
        .status
        .success());
    assert!(render(&n, &["--preset", "neon-chase"]).status.success());
    assert!(render(&o, &["--preset", "rain-soaked-alley"])
        .status
        .success());
    assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(&n).unwrap());
    assert_ne!(std::fs::read(&f).unwrap(), std::fs::read(&o).unwrap());
    let list = bin().arg("presets").output().unwrap();
    let text = String::from_utf8(list.stdout).unwrap();
    assert!(
        text.contains("neon-chase") && text.contains("Rain-soaked alley"),
        "{text}"
    );
}

#[test]
fn bad_input_gives_clear_errors_and_writes_nothing() {
    let out = tmp("bad.wav");
    let broken = tmp("broken.json");
    std::fs::write(&broken, "{ \"format\": \"mood-noir-preset\", ").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--valence", "3"], "--valence must be between"),
        (&["--arousal", "NaN"], "--arousal must be between"),
        (
            &["--preset", "no-such-scene"],
            "no preset file or factory scene",
        ),
        (&["--preset", broken.to_str().unwrap()], "not valid JSON"),
        (&["--sample-rate", "12"], "sample-rate"),
    ];
    for (args, expect) in cases {
        let _ = std::fs::remove_file(&out);
        let o = render(&out, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
}

#[test]
fn midi_and_stems_are_written_and_consistent() {
    let (a, b) = (tmp("m1.wav"), tmp("m2.wav"));
    let (ma, mb) = (tmp("a.mid"), tmp("b.mid"));
    let stems = tmp("stems");
    let args = |m: &Path| {
        vec![
            "--preset".to_string(),
            "after-hours-club".to_string(),
            "--midi".to_string(),
            m.to_str().unwrap().to_string(),
        ]
    };
    let mut with_stems = args(&ma);
    with_stems.extend(["--stems".to_string(), stems.to_str().unwrap().to_string()]);
    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    // Long enough for the lead to enter after the 4-bar intro.
    assert!(render_for(16, &a, &refs(&with_stems)).status.success());
    assert!(render_for(16, &b, &refs(&args(&mb))).status.success());
    // Same arguments, same notes: the MIDI files are identical byte for byte.
    let bytes = std::fs::read(&ma).unwrap();
    assert_eq!(bytes, std::fs::read(&mb).unwrap());
    let smf = midly::Smf::parse(&bytes).expect("a valid Standard MIDI File");
    assert_eq!(smf.header.format, midly::Format::Parallel);
    // Conductor + bass, drums, keys, lead, pad, mood.
    assert_eq!(smf.tracks.len(), 7);
    let mut notes_by_channel = std::collections::BTreeMap::new();
    let mut ccs = 0;
    let mut tempos = 0;
    for track in &smf.tracks {
        for ev in track {
            match ev.kind {
                midly::TrackEventKind::Midi {
                    channel,
                    message: midly::MidiMessage::NoteOn { vel, .. },
                } if vel > 0 => {
                    *notes_by_channel.entry(channel.as_int()).or_insert(0) += 1;
                }
                midly::TrackEventKind::Midi {
                    channel,
                    message: midly::MidiMessage::Controller { .. },
                } => {
                    assert_eq!(channel.as_int(), 15, "mood lanes on channel 16");
                    ccs += 1;
                }
                midly::TrackEventKind::Meta(midly::MetaMessage::Tempo(_)) => tempos += 1,
                _ => {}
            }
        }
    }
    let channels: Vec<u8> = notes_by_channel.keys().copied().collect();
    // bass 1, keys 2, lead 3, pad 4, drums 10 (0-based 0, 1, 2, 3, 9).
    assert_eq!(channels, vec![0, 1, 2, 3, 9], "{notes_by_channel:?}");
    assert!(
        notes_by_channel[&9] > 20 && notes_by_channel[&0] > 5,
        "{notes_by_channel:?}"
    );
    assert!(ccs >= 3 && tempos >= 1);
    // The stems sum to the main mix.
    let (_, main) = read(&a);
    let mut sum = vec![0.0f32; main.len()];
    let mut count = 0;
    for entry in std::fs::read_dir(&stems).unwrap() {
        let (_, s) = read(&entry.unwrap().path());
        assert_eq!(s.len(), main.len());
        for (acc, x) in sum.iter_mut().zip(&s) {
            *acc += x;
        }
        count += 1;
    }
    assert_eq!(count, 7);
    let err = sum
        .iter()
        .zip(&main)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(err < 1e-5, "stems differ from the mix by {err}");
}

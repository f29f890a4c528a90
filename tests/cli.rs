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
    let mut c = bin();
    c.args(["render", "--seconds", "6", "--quiet", "--out"])
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

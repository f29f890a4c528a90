//! The film in, through the real `mood-noir` binary and the real ffmpeg: a screenplay, a still
//! and a clip each become a cue sheet that renders; `score` muxes the render under the
//! picture; `plot` draws; bad files get clear errors.

use mood_noir::light::{CueSheet, TimeBase};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mood-noir"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mood-noir-film-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    o
}

fn fails_with(o: Output, want: &str) {
    assert!(!o.status.success(), "should have failed");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains(want), "{e:?} lacks {want:?}");
    assert!(!e.contains("panicked"), "{e}");
}

fn script() -> PathBuf {
    root().join("examples/film/the-last-call.fountain")
}

fn render_ok(cues: &Path, seconds: u32, out: &Path) {
    ok(bin()
        .args([
            "render",
            "--quiet",
            "--seconds",
            &seconds.to_string(),
            "--cues",
        ])
        .arg(cues)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap());
    let r = hound::WavReader::open(out).unwrap();
    assert_eq!(r.duration(), seconds * 48000);
}

#[test]
fn a_screenplay_becomes_a_cue_sheet_that_renders_and_plots() {
    let cues = tmp("script.json");
    let png = tmp("script.png");
    ok(bin()
        .args(["script", "--quiet"])
        .arg(script())
        .arg("--out")
        .arg(&cues)
        .arg("--plot")
        .arg(&png)
        .output()
        .unwrap());
    let sheet = CueSheet::load(&cues).unwrap();
    let names: Vec<&str> = sheet.cues.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "EXT. HARBOR CITY - NIGHT",
            "INT. MARLOWE'S OFFICE - NIGHT",
            "EXT. ALLEY BEHIND THE BLUE NOTE - NIGHT",
            "INT. THE BLUE NOTE - CONTINUOUS",
            "INT. VERA'S KITCHEN - DAWN",
            "THE PIER"
        ]
    );
    assert_eq!(sheet.base, TimeBase::Seconds);
    // Page eighths: every start is a multiple of 7.5 s (an eighth of a one-minute page).
    for c in &sheet.cues {
        assert!((c.at / 7.5 - (c.at / 7.5).round()).abs() < 1e-6, "{}", c.at);
    }
    // The DISSOLVE after the office fades into the alley; the CUT into the club snaps.
    assert_eq!(sheet.cues[2].fade, 2.0);
    assert_eq!(sheet.cues[3].fade, 0.0);
    let alley = sheet.cue_mood(2).unwrap();
    let kitchen = sheet.cue_mood(4).unwrap();
    assert!(alley.tension > kitchen.tension + 0.2 && alley.valence < kitchen.valence - 0.3);
    let (alley_look, _) = sheet.cue_look(2).unwrap();
    let (kitchen_look, _) = sheet.cue_look(4).unwrap();
    assert!(alley_look.intensity < kitchen_look.intensity);
    render_ok(&cues, 20, &tmp("script.wav"));
    // A .fountain loads wherever a cue sheet does.
    render_ok(&script(), 10, &tmp("script-direct.wav"));
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (1600, 620));
    // Bars: every cue on a downbeat.
    let bars = tmp("script-bars.json");
    ok(bin()
        .args(["script", "--quiet", "--bars"])
        .arg(script())
        .arg("--out")
        .arg(&bars)
        .output()
        .unwrap());
    let b = CueSheet::load(&bars).unwrap();
    assert_eq!(b.base, TimeBase::Beats);
    for c in &b.cues {
        assert_eq!(c.at % 4.0, 0.0, "{}", c.at);
    }
    ok(bin()
        .args(["plot"])
        .arg(&bars)
        .arg("--out")
        .arg(tmp("bars.png"))
        .output()
        .unwrap());
}

#[test]
fn what_is_not_a_screenplay_is_refused_clearly() {
    let prose = tmp("prose.fountain");
    std::fs::write(&prose, "Dear diary,\n\nnothing happened today.\n").unwrap();
    fails_with(
        bin().arg("script").arg(&prose).output().unwrap(),
        "does not look like a Fountain screenplay",
    );
    let binary = tmp("binary.fountain");
    std::fs::write(&binary, [0xffu8, 0xfe, 0, 1, 2, 3]).unwrap();
    fails_with(
        bin().arg("script").arg(&binary).output().unwrap(),
        "not UTF-8",
    );
    fails_with(
        bin()
            .arg("script")
            .arg(tmp("missing.fountain"))
            .output()
            .unwrap(),
        "cannot read",
    );
}

#[test]
fn a_still_prints_its_look_and_becomes_a_cue() {
    let still = root().join("examples/film/stills/night-alley.png");
    let o = ok(bin().args(["look", "--json"]).arg(&still).output().unwrap());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let colours = v["colors"].as_array().unwrap();
    assert_eq!(colours.len(), 3, "{v}");
    // The script draws blue 65 %, sodium amber 25 %, magenta 10 % (tests hold ΔE 3 in lib).
    let find = |hex: &str| {
        colours
            .iter()
            .find(|c| c["hex"] == hex)
            .unwrap_or_else(|| panic!("{hex} not in {v}"))["weight"]
            .as_f64()
            .unwrap()
    };
    assert!((find("#e8a040") - 0.25).abs() < 0.02);
    assert!((find("#d0206a") - 0.10).abs() < 0.02);
    assert!(v["contrast"].as_f64().unwrap() > 0.4);
    let text = ok(bin().arg("look").arg(&still).output().unwrap());
    assert!(String::from_utf8_lossy(&text.stdout).contains("colour temperature"));
    let cue = tmp("still.json");
    ok(bin()
        .arg("look")
        .arg(&still)
        .arg("--cue")
        .arg(&cue)
        .output()
        .unwrap());
    let sheet = CueSheet::load(&cue).unwrap();
    assert_eq!(sheet.cues[0].name, "night-alley");
    assert_eq!(sheet.cues[0].patch.palette.unwrap().len, 3);
    render_ok(&cue, 4, &tmp("still.wav"));
}

#[test]
fn corrupt_images_and_videos_without_frames_say_so() {
    let bad = tmp("corrupt.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[7u8; 100]);
    std::fs::write(&bad, bytes).unwrap();
    fails_with(
        bin().arg("look").arg(&bad).output().unwrap(),
        "cannot decode",
    );
    let empty = tmp("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    fails_with(
        bin().arg("look").arg(&empty).output().unwrap(),
        "not a video ffmpeg can read",
    );
    // A file with sound and no picture.
    let audio = tmp("sound-only.m4a");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=1"])
        .arg(&audio)
        .status()
        .unwrap();
    assert!(st.success());
    fails_with(
        bin().arg("look").arg(&audio).output().unwrap(),
        "has no video stream",
    );
    fails_with(
        bin()
            .arg("score")
            .arg(&audio)
            .arg("--out")
            .arg(tmp("x.mp4"))
            .output()
            .unwrap(),
        "has no video stream",
    );
}

/// Makes the example clip afresh with the committed script (the script is tested too).
fn fresh_clip() -> PathBuf {
    let dir = tmp("examples");
    if !dir.join("four-shots.mp4").exists() {
        let st = Command::new("bash")
            .arg(root().join("scripts/make-film-examples.sh"))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    dir.join("four-shots.mp4")
}

#[test]
fn a_clip_gives_one_cue_per_shot_every_cut_found_none_invented() {
    let clip = fresh_clip();
    let cues = tmp("shots.json");
    let o = ok(bin()
        .args(["look", "--quiet", "--json"])
        .arg(&clip)
        .arg("--cues")
        .arg(&cues)
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let starts: Vec<f64> = v["shots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_s"].as_f64().unwrap())
        .collect();
    assert_eq!(starts, [0.0, 2.0, 4.0, 6.0], "{v}");
    let text = std::fs::read_to_string(&cues).unwrap();
    for tc in ["00:00:00:00", "00:00:02:00", "00:00:04:00", "00:00:06:00"] {
        assert!(text.contains(tc), "{tc} not in {text}");
    }
    let sheet = CueSheet::load(&cues).unwrap();
    assert_eq!(sheet.cues.len(), 4);
    // Shot 2 is the office at night (dark, hard key), shot 4 the dawn kitchen (bright).
    let (office, _) = sheet.cue_look(1).unwrap();
    let (kitchen, _) = sheet.cue_look(3).unwrap();
    assert!(office.intensity < kitchen.intensity && office.contrast > kitchen.contrast);
    render_ok(&cues, 8, &tmp("shots.wav"));
}

fn decode_f32(path: &Path) -> Vec<f32> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-map", "0:a:0", "-f", "f32le", "-ac", "2", "-ar", "48000", "pipe:1",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn score_muxes_the_render_under_the_picture() {
    let clip = fresh_clip();
    let out = tmp("scored.mp4");
    ok(bin()
        .args(["score", "--quiet"])
        .arg(&clip)
        .arg("--out")
        .arg(&out)
        .arg("--plot")
        .arg(tmp("scored.png"))
        .output()
        .unwrap());
    for side in ["scored.wav", "scored.mid", "scored.cues.json", "scored.png"] {
        assert!(tmp(side).exists(), "{side}");
    }
    let stems: Vec<_> = std::fs::read_dir(tmp("scored-stems")).unwrap().collect();
    assert_eq!(stems.len(), 10);
    // A playable MP4: H.264 picture and AAC sound, both 8 s.
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,duration",
        ])
        .args(["-of", "csv=p=0"])
        .arg(&out)
        .output()
        .unwrap();
    let p = String::from_utf8_lossy(&probe.stdout);
    assert!(p.contains("h264,video") && p.contains("aac,audio"), "{p}");
    // Its sound is the render: decode and compare with the WAV beside it.
    let mut wav = hound::WavReader::open(tmp("scored.wav")).unwrap();
    let want: Vec<f32> = wav.samples::<f32>().map(Result::unwrap).collect();
    let got = decode_f32(&out);
    assert!(
        (got.len() as f64 - want.len() as f64).abs() < 0.05 * 96000.0,
        "{} vs {}",
        got.len(),
        want.len()
    );
    let energy = |x: &[f32]| x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
    assert!(energy(&want) > 1.0, "the render is not silent");
    // AAC delays nothing once ffmpeg honours the edit list; search a small lag anyway.
    let n = want.len().min(got.len()) - 8192;
    let mut best = (0i64, -1.0f64);
    for lag in (-2048i64..=2048).step_by(2) {
        let mut dot = 0.0;
        let (mut ea, mut eb) = (0.0, 0.0);
        for i in (4096..n).step_by(7) {
            let j = (i as i64 + lag) as usize;
            let (a, b) = (want[i] as f64, got[j] as f64);
            dot += a * b;
            ea += a * a;
            eb += b * b;
        }
        let c = dot / (ea * eb).sqrt().max(1e-12);
        if c > best.1 {
            best = (lag, c);
        }
    }
    assert!(best.1 > 0.98, "correlation {} at lag {}", best.1, best.0);
    let (ew, eg) = (energy(&want[..n]), energy(&got[..n]));
    assert!((10.0 * (eg / ew).log10()).abs() < 0.5, "level differs");
}

//! Cue sheets end to end: JSON, CSV, SMPTE and bars:beats sheets drive the real engine along
//! the timeline; the light at position t is the same whether the engine played to t or the
//! host jumped there; the CLI renders a cue sheet bit-identically twice and refuses broken
//! sheets with a clear message.

use mood_noir::engine::{Engine, HostTransport, MoodSource, Settings, TempoMode};
use mood_noir::light::{CueFormat, CueSheet, LightEvent, LightSettings};
use std::path::PathBuf;
use std::process::Command;

const SR: f32 = 48_000.0;

const JSON: &str = r#"{
  "format": "mood-noir-cues", "version": 1, "fps": 25,
  "cues": [
    {"name": "office", "at": 0, "intensity": 0.8, "cct": 3000, "contrast": 0.2},
    {"name": "alley", "at": "00:00:04:00", "fade": 2.0, "intensity": 0.12,
     "rgb": [0.1, 0.2, 0.9], "contrast": 0.95, "flicker": 0.6},
    {"name": "chase", "at": "00:00:08:12", "fade": 0.5, "intensity": 0.5,
     "palette": [[1, 0.1, 0.1, 1], [0.1, 0.1, 1, 0.5]], "flicker": 0.9}
  ]
}"#;

const CSV: &str = "# fps = 25\n\
at,fade,name,intensity,r,g,b,cct,contrast,flicker\n\
0,0,office,0.8,,,,3000,0.2,\n\
00:00:04:00,2,alley,0.12,0.1,0.2,0.9,,0.95,0.6\n\
00:00:08:12,0.5,chase,0.5,,,,,,0.9\n";

fn settings() -> Settings {
    Settings {
        source: MoodSource::Light,
        follow: 1.0,
        tempo_mode: TempoMode::Fixed,
        fixed_tempo_bpm: 120.0,
        ..Settings::default()
    }
}

fn engine(sheet: &CueSheet, smooth_s: f32) -> Engine {
    let mut e = Engine::new(SR, settings());
    e.set_light_settings(LightSettings {
        smooth_s,
        ..Default::default()
    });
    drop(e.swap_cue_sheet(Some(Box::new(sheet.clone()))));
    e.reset();
    e
}

fn playing(pos: i64) -> HostTransport {
    HostTransport {
        playing: true,
        tempo_bpm: Some(120.0),
        pos_beats: Some(pos as f64 / SR as f64 * 2.0),
        pos_samples: Some(pos),
    }
}

/// Plays from 0 to `to` samples in `block` blocks with a playing host.
fn play(e: &mut Engine, to: i64, block: usize) {
    let mut l = vec![0.0; block];
    let mut r = vec![0.0; block];
    let mut pos = 0;
    while pos < to {
        let n = block.min((to - pos) as usize);
        e.process(&playing(pos), &mut l[..n], &mut r[..n]);
        pos += n as i64;
    }
}

#[test]
fn json_and_csv_sheets_with_smpte_describe_the_same_light() {
    let a = CueSheet::parse(JSON, CueFormat::Json).unwrap();
    let b = CueSheet::parse(CSV, CueFormat::Csv).unwrap();
    // 00:00:08:12 at 25 fps = 8.48 s.
    assert!((a.cues[2].at - 8.48).abs() < 1e-12);
    for t in [0.0, 3.9, 4.0, 5.0, 6.5, 8.48, 8.7, 20.0] {
        let (la, lb) = (a.look_at(t), b.look_at(t));
        assert_eq!(la.intensity, lb.intensity, "at {t}");
        assert_eq!(la.rgb, lb.rgb, "at {t}");
        assert_eq!(la.flicker, lb.flicker, "at {t}");
    }
    // Mid-fade at 5 s: 0.8 + (0.12 - 0.8) * 0.5 = 0.46.
    assert!((a.look_at(5.0).intensity - 0.46).abs() < 1e-6);
}

#[test]
fn the_cue_sheet_moves_the_mood_along_the_timeline() {
    let sheet = CueSheet::parse_json(JSON).unwrap();
    let mut e = engine(&sheet, 0.0);
    play(&mut e, (3.0 * SR) as i64, 480);
    let office = e.light().mood().unwrap();
    assert_eq!(e.light_intensity(), Some(0.8));
    play(&mut e, (7.0 * SR) as i64, 480);
    let alley = e.light().mood().unwrap();
    assert!(alley.tension > office.tension + 0.3, "{office:?} {alley:?}");
    assert!(alley.valence < office.valence);
    // Manual source ignores the sheet.
    let mut m = engine(&sheet, 0.0);
    m.set_settings(&Settings {
        source: MoodSource::Manual,
        ..settings()
    });
    play(&mut m, SR as i64, 480);
    assert_eq!(m.light().mood(), None);
    assert_eq!(m.light_intensity(), None);
}

#[test]
fn jumping_to_t_gives_the_light_that_playing_to_t_gives() {
    let sheet = CueSheet::parse_json(JSON).unwrap();
    for t_s in [2.0f64, 4.5, 5.25, 8.6, 12.0] {
        let t = (t_s * SR as f64) as i64;
        for smooth in [0.0, 1.0] {
            // Played from the top in odd blocks.
            let mut a = engine(&sheet, smooth);
            play(&mut a, t, 333);
            // Jumped straight to t (the host starts there).
            let mut b = engine(&sheet, smooth);
            let mut l = [0.0; 64];
            let mut r = [0.0; 64];
            b.process(&playing(t - 64), &mut l, &mut r);
            let (la, lb) = (a.light().look().unwrap(), b.light().look().unwrap());
            // The last tick of each ran at the same timeline sample or within 32 samples of
            // it; compare the looks at the sheet level too.
            let diff = (la.intensity - lb.intensity).abs();
            assert!(diff < 1e-3, "t {t_s}: {la:?} vs {lb:?}");
            assert_eq!(
                sheet.look_at(t_s),
                sheet.look_at(t_s),
                "the sheet is a pure function of t"
            );
            if smooth == 0.0 {
                let (ma, mb) = (a.light().mood().unwrap(), b.light().mood().unwrap());
                assert!(
                    (ma.tension - mb.tension).abs() < 1e-3
                        && (ma.valence - mb.valence).abs() < 1e-3,
                    "t {t_s}: {ma:?} vs {mb:?}"
                );
            }
        }
    }
}

#[test]
fn a_bars_beats_sheet_follows_the_beat_grid() {
    let sheet = CueSheet::parse_json(
        r#"{"beats_per_bar": 4, "cues": [
            {"at": "1:1", "intensity": 1.0},
            {"at": "3:1", "fade": 4, "intensity": 0.0, "flicker": 1.0}
        ]}"#,
    )
    .unwrap();
    assert_eq!(sheet.cues[1].at, 8.0);
    let mut e = engine(&sheet, 0.0);
    // 120 BPM: bar 3 starts at 4 s; the fade is 4 beats = 2 s.
    play(&mut e, (3.9 * SR) as i64, 512);
    assert_eq!(e.light_intensity(), Some(1.0));
    play(&mut e, (5.0 * SR) as i64, 512);
    let i = e.light_intensity().unwrap();
    assert!((i - 0.5).abs() < 0.01, "{i}");
    play(&mut e, (6.5 * SR) as i64, 512);
    assert_eq!(e.light_intensity(), Some(0.0));
}

#[test]
fn cue_go_holds_a_cue_until_release() {
    let sheet = CueSheet::parse_json(JSON).unwrap();
    let mut e = engine(&sheet, 0.0);
    play(&mut e, SR as i64, 512);
    e.push_light_event(LightEvent::CueGo(mood_noir::light::CueRef::Name(
        mood_noir::light::event::name_hash("chase"),
    )));
    play(&mut e, 2 * SR as i64, 512);
    assert_eq!(e.light_intensity(), Some(0.5));
    e.push_light_event(LightEvent::MoodRelease);
    play(&mut e, 3 * SR as i64, 512);
    assert_eq!(e.light_intensity(), Some(0.8));
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mood-noir-cues-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn render(out: &PathBuf, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mood-noir"))
        .args([
            "render",
            "--seconds",
            "10",
            "--quiet",
            "--seed",
            "7",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn cli_cue_sheet_renders_are_identical_between_runs() {
    let json = tmp("scene.json");
    let csv = tmp("scene.csv");
    std::fs::write(&json, JSON).unwrap();
    std::fs::write(&csv, CSV).unwrap();
    let (a, b, c, plain) = (tmp("a.wav"), tmp("b.wav"), tmp("c.wav"), tmp("plain.wav"));
    for (out, sheet) in [(&a, &json), (&b, &json), (&c, &csv)] {
        let o = render(out, &["--cues", sheet.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(render(&plain, &[]).status.success());
    let (a, b, c, plain) = (
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        std::fs::read(&c).unwrap(),
        std::fs::read(&plain).unwrap(),
    );
    assert_eq!(a, b, "two renders of one cue sheet are identical");
    // The CSV sheet omits the palette of the last cue, so the renders agree up to 8.48 s.
    assert_eq!(a.len(), c.len());
    assert_ne!(a, plain, "the cue sheet changes the music");
}

#[test]
fn cli_refuses_broken_cue_sheets_clearly() {
    let cases = [
        (
            "bad1.json",
            "{\"cues\": [{\"at\": \"00:00:01:30\"}]}",
            "frames < 25",
        ),
        ("bad2.csv", "at,intensity\n1,1.5\n", "line 2: intensity 1.5"),
        ("bad3.txt", "at\n1\n", "must end in .json or .csv"),
        (
            "bad4.json",
            "{\"cues\": [{\"at\": 1, \"rgb\": [1, 2]}]}",
            "rgb needs 3 numbers",
        ),
    ];
    for (name, text, want) in cases {
        let p = tmp(name);
        std::fs::write(&p, text).unwrap();
        let o = render(&tmp("never.wav"), &["--cues", p.to_str().unwrap()]);
        assert!(!o.status.success(), "{name} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{name}: {err:?} lacks {want:?}");
    }
    let o = render(&tmp("never.wav"), &["--cues", "/nonexistent/scene.json"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/scene.json"));
}

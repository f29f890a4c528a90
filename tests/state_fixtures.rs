//! Saved sessions never lost: a state blob of every state version, saved through the real
//! CLAP wrapper (the VST3 one is taken by pedalboard in `tests/host/test_state_fixtures.py`),
//! is kept in `tests/fixtures/state/` with the parameter values it holds. Each must load in
//! every later build with the same values and fields and play. A state from a newer build
//! loads what this build knows; truncated and random blobs are refused without touching the
//! session (see also `state_round_trips_and_rejects_garbage` in `clap_host.rs`).
//!
//! `MOOD_NOIR_WRITE_FIXTURES=1 cargo test --test state_fixtures` writes the fixture of the
//! current version if it does not exist yet (never overwrites one).

#[path = "common/clap_host/mod.rs"]
mod clap_host;

use clap_host::{AudioIo, EventQueue, InEvent, OutEventCounter, Plugin};
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::path::PathBuf;

const PLUGIN_ID: &CStr = c"com.mood-noir.mood-noir";
const SR: f64 = 48_000.0;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state")
}

fn create() -> Plugin {
    Plugin::create(&mood_noir::clap_entry, PLUGIN_ID)
}

/// Parameter values by display name.
fn values(p: &Plugin) -> BTreeMap<String, f64> {
    p.param_infos()
        .into_iter()
        .map(|i| (i.name.clone(), p.param_value(i.id).unwrap()))
        .collect()
}

fn json_of(blob: &[u8]) -> serde_json::Value {
    let len = u64::from_le_bytes(blob[..8].try_into().unwrap()) as usize;
    assert_eq!(len, blob.len() - 8);
    serde_json::from_slice(&blob[8..]).expect("state is JSON")
}

fn blob_of(json: &serde_json::Value) -> Vec<u8> {
    let body = serde_json::to_vec(json).unwrap();
    let mut out = (body.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// The session a composer might have saved with version 1: a scene, a mood, host tempo, the
/// mix moved, an OSC setup and a cue sheet.
fn write_v1_fixture(path: &std::path::Path) {
    let p = create();
    let infos = p.param_infos();
    let by_name = |n: &str| infos.iter().find(|i| i.name == n).unwrap().clone();
    let mut q = EventQueue::with_capacity(32);
    for (name, norm) in [
        ("Valence", 0.3),
        ("Arousal", 0.65),
        ("Tension", 0.8),
        ("Follow amount", 0.4),
        ("Swing", 0.35),
        ("Bass level", 0.6),
        ("Keys level", 0.45),
        ("Reverb", 0.7),
        ("Master", 0.55),
    ] {
        let i = by_name(name);
        q.push(InEvent::param_value(0, i.id, norm * i.max));
    }
    for (name, v) in [
        ("Mood source", 1.0),
        ("Tempo mode", 0.0),
        ("Seed", 77.0),
        ("Scene", 3.0),
        ("Transition quantize", 2.0),
        ("Pad mute", 1.0),
    ] {
        q.push(InEvent::param_value(0, by_name(name).id, v));
    }
    p.flush_params_main_thread(&q);
    let mut json = json_of(&p.save_state().unwrap());
    json["fields"]["osc-config"] = serde_json::Value::String(
        r#"{"port":9123,"allowed_senders":["127.0.0.1"],"cue_folder":"/sessions/alley/cues"}"#
            .into(),
    );
    json["fields"]["cue-sheet"] = serde_json::Value::String(
        serde_json::json!({
            "path": "/sessions/alley/scene.csv",
            "text": "name,at,intensity,contrast\nalley,0,0.2,0.9\nneon,8,0.8,0.5\n"
        })
        .to_string(),
    );
    assert!(
        p.load_state(&blob_of(&json), 4096),
        "the wrapper takes the session"
    );
    let blob = p.save_state().unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, &blob).unwrap();
    let sidecar = serde_json::json!({
        "saved_by": format!("mood_noir {} through the CLAP wrapper", env!("CARGO_PKG_VERSION")),
        "values": values(&p),
    });
    std::fs::write(
        path.with_extension("values.json"),
        serde_json::to_string_pretty(&sidecar).unwrap() + "\n",
    )
    .unwrap();
    println!("wrote {}", path.display());
}

/// Renders `seconds` (free-running transport) and returns both channels.
fn render(mut p: Plugin, seconds: f64) -> [Vec<f32>; 2] {
    assert!(p.activate(SR, 1, 512));
    let n = (seconds * SR) as usize;
    let out = p.run_audio_thread(move |audio| {
        let mut io = AudioIo::new(512);
        let events = EventQueue::with_capacity(0);
        let mut oc = OutEventCounter::default();
        let mut out = [Vec::with_capacity(n), Vec::with_capacity(n)];
        let mut pos = 0usize;
        while pos < n {
            let frames = 512.min(n - pos);
            audio.process(&mut io, frames, pos as i64, None, &events, &mut oc);
            out[0].extend_from_slice(&io.out[0][..frames]);
            out[1].extend_from_slice(&io.out[1][..frames]);
            pos += frames;
        }
        out
    });
    p.deactivate();
    out
}

fn field(json: &serde_json::Value, name: &str) -> serde_json::Value {
    let s = json["fields"][name].as_str().unwrap_or("null");
    serde_json::from_str(s).unwrap_or(serde_json::Value::String(s.into()))
}

#[test]
fn every_saved_state_version_loads_with_its_values_and_plays() {
    let v1 = dir().join("v1-clap.bin");
    if !v1.exists() && std::env::var_os("MOOD_NOIR_WRITE_FIXTURES").is_some() {
        write_v1_fixture(&v1);
    }
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/fixtures/state")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "bin") && p.to_string_lossy().contains("clap")
        })
        .collect();
    fixtures.sort();
    assert!(fixtures.contains(&v1), "the version 1 fixture is kept");
    for path in fixtures {
        let blob = std::fs::read(&path).unwrap();
        let sidecar: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("values.json")).unwrap(),
        )
        .unwrap();
        let want: BTreeMap<String, f64> =
            serde_json::from_value(sidecar["values"].clone()).unwrap();
        let p = create();
        assert!(p.load_state(&blob, 100), "{} loads", path.display());
        let got = values(&p);
        for (name, v) in &want {
            let g = got
                .get(name)
                .unwrap_or_else(|| panic!("{}: parameter {name} is gone", path.display()));
            assert!(
                (g - v).abs() < 1e-6,
                "{}: {name} {g} != {v}",
                path.display()
            );
        }
        // The fields come back as they were saved (cue sheet text, OSC setup).
        let old = json_of(&blob);
        let resaved = json_of(&p.save_state().unwrap());
        for f in ["osc-config", "cue-sheet", "editor-state"] {
            assert_eq!(
                field(&resaved, f),
                field(&old, f),
                "{}: field {f}",
                path.display()
            );
        }
        // It plays, and the same session plays the same music each time it is opened.
        let a = render(p, 3.0);
        let q = create();
        assert!(q.load_state(&blob, 4096));
        let b = render(q, 3.0);
        let rms = (a[0].iter().map(|x| (x * x) as f64).sum::<f64>() / a[0].len() as f64).sqrt();
        assert!(a[0].iter().chain(&a[1]).all(|x| x.is_finite()));
        assert!(rms > 1e-3, "{}: silent ({rms})", path.display());
        assert!(
            a == b,
            "{}: two loads of one session render differently",
            path.display()
        );
        println!(
            "{}: {} values, fields kept, rms {rms:.4}",
            path.display(),
            want.len()
        );
    }
}

#[test]
fn a_state_from_a_newer_build_loads_what_this_build_knows() {
    let blob = std::fs::read(dir().join("v1-clap.bin")).unwrap();
    let mut json = json_of(&blob);
    let v = mood_noir::plugin::params::STATE_VERSION + 1;
    json["fields"]["state-version"] = serde_json::Value::String(v.to_string());
    json["fields"]["a-field-from-the-future"] = serde_json::Value::String("{\"x\":1}".into());
    json["params"]["a_param_from_the_future"] = serde_json::json!({"f32": 0.5});
    let p = create();
    assert!(
        p.load_state(&blob_of(&json), 512),
        "a newer state is not refused"
    );
    let want = create();
    assert!(want.load_state(&blob, 512));
    assert_eq!(values(&p), values(&want), "every known parameter loaded");
    let resaved = json_of(&p.save_state().unwrap());
    assert_eq!(field(&resaved, "cue-sheet"), field(&json, "cue-sheet"));
    // It plays.
    let out = render(p, 1.0);
    assert!(out[0].iter().all(|x| x.is_finite()));
}

#[test]
fn truncated_or_random_state_is_refused_and_the_session_kept() {
    let blob = std::fs::read(dir().join("v1-clap.bin")).unwrap();
    let p = create();
    assert!(p.load_state(&blob, 4096));
    let before = values(&p);
    let mut x = 0x1234_5678u32;
    let mut random = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    };
    let mut cases: Vec<Vec<u8>> = (1..blob.len())
        .step_by(97)
        .map(|n| blob[..n].to_vec())
        .collect();
    for n in [0usize, 3, 8, 64, 4096] {
        cases.push((0..n).map(|_| random()).collect());
        let mut framed = (n as u64).to_le_bytes().to_vec();
        framed.extend((0..n).map(|_| random()));
        cases.push(framed);
    }
    for bad in &cases {
        assert!(!p.load_state(bad, 64), "accepted {} bad bytes", bad.len());
        assert_eq!(values(&p), before, "a refused load changed the session");
    }
    println!(
        "{} truncated/random blobs refused, session unchanged",
        cases.len()
    );
    let out = render(p, 1.0);
    assert!(out[0].iter().all(|x| x.is_finite()));
}

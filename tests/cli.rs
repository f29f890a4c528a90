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
    // Conductor + bass, drums, keys (Rhodes), lead, pad, piano, honky-tonk, prepared piano,
    // harp, brass, percussion, mood.
    assert_eq!(smf.tracks.len(), 13);
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
                    message: midly::MidiMessage::Controller { controller, .. },
                } => {
                    // The mood lanes on channel 16, the piano's sustain pedal on channel 5.
                    if channel.as_int() == 4 {
                        assert_eq!(controller.as_int(), 64, "only the pedal on the piano");
                    } else {
                        assert_eq!(channel.as_int(), 15, "mood lanes on channel 16");
                        ccs += 1;
                    }
                }
                midly::TrackEventKind::Meta(midly::MetaMessage::Tempo(_)) => tempos += 1,
                _ => {}
            }
        }
    }
    let channels: Vec<u8> = notes_by_channel.keys().copied().collect();
    // bass 1, lead 3, pad 4, drums 10, and the keys on the piano's channel 5 (the scene
    // chooses the grand), none on the Rhodes' 2 (0-based 0, 2, 3, 4, 9).
    assert_eq!(channels, vec![0, 2, 3, 4, 9], "{notes_by_channel:?}");
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
    assert_eq!(count, 10);
    let err = sum
        .iter()
        .zip(&main)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(err < 1e-5, "stems differ from the mix by {err}");
}

/// Seconds from the start of a Standard MIDI File to each tick, through its tempo map.
fn smf_seconds(smf: &midly::Smf, tick: u64) -> f64 {
    let ppq = match smf.header.timing {
        midly::Timing::Metrical(p) => p.as_int() as f64,
        _ => panic!("metrical timing expected"),
    };
    let mut tempo_changes = Vec::new();
    let mut t = 0u64;
    for ev in &smf.tracks[0] {
        t += ev.delta.as_int() as u64;
        if let midly::TrackEventKind::Meta(midly::MetaMessage::Tempo(us)) = ev.kind {
            tempo_changes.push((t, us.as_int() as f64));
        }
    }
    let (mut secs, mut last_tick, mut us) = (0.0, 0u64, 500_000.0);
    for &(at, new_us) in &tempo_changes {
        if at >= tick {
            break;
        }
        secs += (at - last_tick) as f64 / ppq * us / 1e6;
        last_tick = at;
        us = new_us;
    }
    secs + (tick - last_tick) as f64 / ppq * us / 1e6
}

#[test]
fn the_midi_file_ends_with_the_audio_and_its_first_notes_line_up() {
    let (wav, mid) = (tmp("len.wav"), tmp("len.mid"));
    let out = render_for(
        20,
        &wav,
        &["--preset", "neon-chase", "--midi", mid.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (spec, audio) = read(&wav);
    let audio_s = audio.len() as f64 / 2.0 / spec.sample_rate as f64;
    assert!((audio_s - 20.0).abs() < 1e-6, "{audio_s}");
    let bytes = std::fs::read(&mid).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    let mut end_tick = 0u64;
    let mut first_on = u64::MAX;
    for track in &smf.tracks {
        let mut t = 0u64;
        for ev in track {
            t += ev.delta.as_int() as u64;
            if let midly::TrackEventKind::Midi {
                message: midly::MidiMessage::NoteOn { vel, .. },
                ..
            } = ev.kind
            {
                if vel > 0 {
                    first_on = first_on.min(t);
                }
            }
        }
        end_tick = end_tick.max(t);
    }
    let midi_s = smf_seconds(&smf, end_tick);
    println!("audio {audio_s:.4} s, MIDI file {midi_s:.4} s");
    // The file may end a tick early (rounding), never after the audio.
    assert!(
        midi_s <= audio_s + 1e-3,
        "MIDI runs {:.3} s past the audio",
        midi_s - audio_s
    );
    assert!(
        midi_s > audio_s - 0.01,
        "MIDI ends {:.3} s early",
        audio_s - midi_s
    );
    // The first note is at beat 0 of the file; the audio's first onset is there too (the
    // render compensates the limiter's look-ahead, 4 ms), within 1 ms.
    assert_eq!(first_on, 0);
    let onset = audio
        .chunks(2)
        .position(|f| f[0].abs() > 1e-6 || f[1].abs() > 1e-6)
        .unwrap();
    assert!(
        onset as f64 / spec.sample_rate as f64 <= 0.001,
        "audio starts {} samples after the MIDI",
        onset
    );
}

/// A small cue sheet: bright office, then a dark blue alley.
fn cue_sheet(name: &str) -> PathBuf {
    let p = tmp(name);
    std::fs::write(
        &p,
        r#"{"format": "mood-noir-cues", "version": 1, "cues": [
            {"name": "office", "at": 0, "intensity": 0.9, "cct": 3000},
            {"name": "alley", "at": 2, "fade": 1, "intensity": 0.1, "rgb": [0.1, 0.2, 0.9],
             "contrast": 0.95, "flicker": 0.6}]}"#,
    )
    .unwrap();
    p
}

#[test]
fn flags_that_conflict_or_do_nothing_are_refused() {
    let out = tmp("conflict.wav");
    let sheet = cue_sheet("conflict-cues.json");
    let mp3 = tmp("x.mp3");
    let cases: [(&[&str], &Path, &str); 8] = [
        (
            &["--tempo-mode", "mood", "--tempo", "90"],
            &out,
            "--tempo-mode mood does not use it",
        ),
        (&["--follow", "0.5"], &out, "--cues"),
        (&["--light-smooth", "2"], &out, "--cues"),
        (&["--block-size", "0"], &out, "block-size"),
        (&["--seed", "1000"], &out, "seed"),
        (
            &["--cues", sheet.to_str().unwrap(), "--light-smooth", "30"],
            &out,
            "--light-smooth must be between 0 and 20",
        ),
        (&[], &mp3, "only WAV files are written"),
        (
            &["--tempo", "20"],
            &out,
            "--tempo must be between 30 and 300",
        ),
    ];
    for (args, file, expect) in cases {
        let _ = std::fs::remove_file(file);
        let o = render(file, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!file.exists(), "{args:?} wrote a file");
    }
    // The accepted combinations still work.
    assert!(render(&out, &["--tempo-mode", "fixed", "--tempo", "90"])
        .status
        .success());
}

#[test]
fn follow_zero_means_the_light_changes_nothing() {
    let (plain, followed) = (tmp("plain.wav"), tmp("follow0.wav"));
    let sheet = cue_sheet("follow0-cues.json");
    assert!(render(&plain, &["--preset", "smoky-office"])
        .status
        .success());
    let o = render(
        &followed,
        &[
            "--preset",
            "smoky-office",
            "--cues",
            sheet.to_str().unwrap(),
            "--follow",
            "0",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, a) = read(&plain);
    let (_, b) = read(&followed);
    let first = a.iter().zip(&b).position(|(x, y)| x != y);
    assert_eq!(
        first, None,
        "--follow 0 with a cue sheet changed the render"
    );
    // And the sheet does change it at full follow (the test is not vacuous).
    let full = tmp("follow1.wav");
    let o = render(
        &full,
        &[
            "--preset",
            "smoky-office",
            "--cues",
            sheet.to_str().unwrap(),
        ],
    );
    assert!(o.status.success());
    assert!(read(&full).1 != a);
}

#[test]
fn osc_monitor_behaves_as_the_plugin_does() {
    use std::net::UdpSocket;
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let dir = tmp("monitor-cues");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("scene.csv"),
        "at,name,intensity\n0,open,0.8\n10,alley,0.2\n20,dawn,0.6\n",
    )
    .unwrap();
    let child = bin()
        .args(["osc-monitor", "--port", &port.to_string(), "--seconds", "3"])
        .arg("--cue-folder")
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let send = |addr: &str, args: Vec<rosc::OscType>| {
        let p = rosc::OscPacket::Message(rosc::OscMessage {
            addr: addr.into(),
            args,
        });
        tx.send_to(&rosc::encoder::encode(&p).unwrap(), ("127.0.0.1", port))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    send("/cue/go", vec![rosc::OscType::Int(1)]);
    send(
        "/noir/cues/load",
        vec![rosc::OscType::String("scene.csv".into())],
    );
    send("/cue/go", vec![rosc::OscType::String("alley".into())]);
    send("/cue/go", vec![rosc::OscType::Int(9)]);
    send(
        "/noir/unmap",
        vec![rosc::OscType::String("/not/mapped".into())],
    );
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.rsplit("status:").next().unwrap();
    assert!(out.status.success(), "{text}");
    assert!(last.contains("cue sheet: scene.csv (3 cues)"), "{last}");
    assert!(last.contains("no cue sheet is loaded"), "{last}");
    assert!(last.contains("no such cue"), "{last}");
    assert!(last.contains("not mapped"), "{last}");
    assert!(
        last.contains("intensity: 0.2"),
        "the alley cue holds: {last}"
    );
}

#[test]
fn measure_reads_real_wav_files_and_refuses_bad_ones() {
    // A 16-bit mono file with five decaying plucks half a second apart (20 dB in 0.2 s).
    let plucks = tmp("plucks.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&plucks, spec).unwrap();
    for i in 0..(44_100 * 3) {
        let t = i as f64 / 44_100.0;
        let since = (t - 0.3) % 0.5;
        let v = if !(0.3..=2.6).contains(&t) {
            0.0
        } else {
            0.6 * 10f64.powf(-since / 0.2) * (std::f64::consts::TAU * 196.0 * since).sin()
        };
        w.write_sample((v * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    // And a rendered drums stem.
    let dir = tmp("measure-stems");
    let out = render_for(
        8,
        &tmp("measure.wav"),
        &["--preset", "smoky-office", "--stems", dir.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drums = dir.join("01-drums.wav");
    let out = bin()
        .args(["measure", "--json"])
        .arg(&plucks)
        .arg(&drums)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &v[0];
    assert_eq!(p["onsets"], 5, "{p}");
    let decay = p["decay_ms"].as_f64().unwrap();
    assert!((decay - 200.0).abs() < 20.0, "{p}");
    assert!(p["attack_ms"].as_f64().unwrap() < 8.0, "{p}");
    let d = &v[1];
    // Brushes from the second bar on: a stroke or more a second, each short.
    assert!(d["onsets_per_second"].as_f64().unwrap() >= 0.75, "{d}");
    assert!(d["decay_ms"].as_f64().unwrap() < 1000.0, "{d}");
    // The table has one row per file.
    let out = bin()
        .arg("measure")
        .arg(&plucks)
        .arg(&drums)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(table.lines().count(), 3, "{table}");
    // Not a WAV, a missing file, an empty one: a clear error, no panic.
    let junk = tmp("junk.wav");
    std::fs::write(&junk, b"RIFF but not really").unwrap();
    for bad in [junk, tmp("missing.wav")] {
        let out = bin().arg("measure").arg(&bad).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a readable WAV"), "{err}");
    }
    let empty = tmp("empty.wav");
    hound::WavWriter::create(&empty, spec)
        .unwrap()
        .finalize()
        .unwrap();
    let out = bin().arg("measure").arg(&empty).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no audio"));
}

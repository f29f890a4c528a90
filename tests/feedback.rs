//! OSC feedback through a real UDP listener: the light link's sender thread reports the live
//! mood, the current cue, bar/beat and tempo at the configured rate while the engine plays,
//! and stops when the link is dropped.

use mood_noir::engine::{Engine, HostTransport, MoodSource, Settings};
use mood_noir::light::{CueFormat, CueSource, FeedbackConfig, LightLink, Monitor, OscConfig};
use mood_noir::watched::Watched;
use rosc::{OscPacket, OscType};
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn the_desk_hears_mood_cue_beat_and_tempo() {
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    listener
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let config = OscConfig {
        enabled: false, // no server needed: feedback works on its own
        feedback: FeedbackConfig {
            enabled: true,
            target: listener.local_addr().unwrap().to_string(),
            rate_hz: 20.0,
        },
        ..Default::default()
    };
    let cues = CueSource {
        path: "test.json".into(),
        format: Some(CueFormat::Json),
        text: r#"{"cues": [
            {"name": "alley", "at": 0, "intensity": 0.1, "contrast": 0.9},
            {"name": "kitchen", "at": 0.6, "intensity": 0.9, "cct": 3000}
        ]}"#
        .into(),
    };
    let (mut link, sheet) = LightLink::start(
        Watched::new(config),
        Watched::new(Some(cues)),
        Arc::new(Monitor::new()),
    );
    assert_eq!(link.feedback_target(), Some(listener.local_addr().unwrap()));
    let settings = Settings {
        source: MoodSource::Light,
        ..Default::default()
    };
    let mut engine = Engine::new(48000.0, settings);
    drop(engine.swap_cue_sheet(sheet));
    engine.reset();
    let (mut l, mut r) = (vec![0.0f32; 480], vec![0.0f32; 480]);
    let host = HostTransport::default();
    // Play 1.5 s of audio in about 1.5 s of wall time, listening as we go.
    let start = Instant::now();
    let mut msgs: Vec<(Duration, String, Vec<OscType>)> = Vec::new();
    listener.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1536];
    for block in 0..150 {
        link.drain_into(&mut engine);
        engine.process(&host, &mut l, &mut r);
        link.publish(&engine);
        while let Ok(n) = listener.recv(&mut buf) {
            let (_, p) = rosc::decoder::decode_udp(&buf[..n]).unwrap();
            if let OscPacket::Message(m) = p {
                msgs.push((start.elapsed(), m.addr, m.args));
            }
        }
        let due = Duration::from_millis(10 * (block + 1));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    let last_mood = engine.mood();
    let of = |a: &str| -> Vec<&Vec<OscType>> {
        msgs.iter().filter(|m| m.1 == a).map(|m| &m.2).collect()
    };
    let moods = of("/noir/out/mood");
    // 20 Hz for 1.5 s: about 30 (a loaded machine may lose a few ticks, never gain).
    assert!(
        (15..=32).contains(&moods.len()),
        "{} mood messages",
        moods.len()
    );
    for m in &moods {
        match m.as_slice() {
            [OscType::Float(v), OscType::Float(a), OscType::Float(t)] => {
                assert!(
                    (-1.0..=1.0).contains(v) && (0.0..=1.0).contains(a) && (0.0..=1.0).contains(t)
                );
            }
            other => panic!("mood args {other:?}"),
        }
    }
    if let [OscType::Float(v), _, OscType::Float(t)] = moods.last().unwrap().as_slice() {
        assert!((v - last_mood.valence).abs() < 0.2 && (t - last_mood.tension).abs() < 0.2);
    }
    let tempos = of("/noir/out/tempo");
    assert!(!tempos.is_empty());
    for t in &tempos {
        assert!(matches!(t.as_slice(), [OscType::Float(b)] if (30.0..=300.0).contains(b)));
    }
    let beats = of("/noir/out/beat");
    assert!(!beats.is_empty());
    for b in &beats {
        match b.as_slice() {
            [OscType::Int(bar), OscType::Int(beat)] => {
                assert!(*bar >= 1 && (1..=4).contains(beat), "{bar}:{beat}")
            }
            other => panic!("beat args {other:?}"),
        }
    }
    let names: Vec<&str> = of("/noir/out/cue")
        .iter()
        .map(|a| match a.as_slice() {
            [OscType::String(s)] => s.as_str(),
            other => panic!("cue args {other:?}"),
        })
        .collect();
    assert_eq!(names.first(), Some(&"alley"), "{names:?}");
    assert_eq!(names.last(), Some(&"kitchen"), "{names:?}");
    // Dropping the link stops the sender.
    drop(link);
    std::thread::sleep(Duration::from_millis(150));
    while listener.recv(&mut buf).is_ok() {}
    std::thread::sleep(Duration::from_millis(300));
    assert!(listener.recv(&mut buf).is_err(), "still sending after drop");
}

#[test]
fn a_bad_target_is_reported_not_fatal() {
    let monitor = Arc::new(Monitor::new());
    let config = OscConfig {
        enabled: false,
        feedback: FeedbackConfig {
            enabled: true,
            target: "not an address".into(),
            rate_hz: 10.0,
        },
        ..Default::default()
    };
    let (link, _) = LightLink::start(Watched::new(config), Watched::new(None), monitor.clone());
    assert_eq!(link.feedback_target(), None);
    assert!(monitor
        .snapshot()
        .errors
        .iter()
        .any(|e| e.contains("OSC feedback off")));
}

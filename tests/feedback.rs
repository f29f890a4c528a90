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

/// Plays `link` + `engine` for `secs` of audio in about as much wall time (10 ms blocks),
/// counting the `/noir/out/mood` messages each of `listeners` receives meanwhile.
fn play_and_count(
    link: &mut LightLink,
    engine: &mut Engine,
    secs: f64,
    listeners: &[&UdpSocket],
) -> Vec<usize> {
    let (mut l, mut r) = (vec![0.0f32; 480], vec![0.0f32; 480]);
    let host = HostTransport::default();
    let mut counts = vec![0; listeners.len()];
    let mut buf = [0u8; 1536];
    let start = Instant::now();
    let blocks = (secs * 100.0).round() as u64;
    for block in 0..blocks {
        link.drain_into(engine);
        engine.process(&host, &mut l, &mut r);
        link.publish(engine);
        for (k, sock) in listeners.iter().enumerate() {
            while let Ok(n) = sock.recv(&mut buf) {
                if let Ok((_, OscPacket::Message(m))) = rosc::decoder::decode_udp(&buf[..n]) {
                    counts[k] += usize::from(m.addr == "/noir/out/mood");
                }
            }
        }
        let due = Duration::from_millis(10 * (block + 1));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    counts
}

#[test]
fn feedback_follows_the_saved_settings_live() {
    let listener = || {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        s
    };
    let (a, b) = (listener(), listener());
    let (addr_a, addr_b) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    let store = Watched::new(OscConfig {
        enabled: false,
        feedback: FeedbackConfig {
            enabled: false,
            target: addr_a.to_string(),
            rate_hz: 20.0,
        },
        ..Default::default()
    });
    let monitor = Arc::new(Monitor::new());
    let (mut link, _) = LightLink::start(store.clone(), Watched::new(None), monitor.clone());
    let mut engine = Engine::new(48000.0, Settings::default());
    engine.reset();
    let both = [&a, &b];
    let set = |f: &dyn Fn(&mut FeedbackConfig)| f(&mut store.write().unwrap().feedback);
    // Off at activation: the sender idles, nothing is sent.
    assert_eq!(link.feedback_target(), None);
    assert_eq!(monitor.snapshot().feedback, "off");
    assert_eq!(
        play_and_count(&mut link, &mut engine, 0.5, &both),
        [0, 0],
        "sent while off"
    );
    // Switched on from the editor while playing: A hears at 20 Hz. The sender looks every
    // 50 ms, so 0.2 s of settling, then 1 s measured: about 20 (a loaded machine may lose a
    // few ticks, never gain many).
    set(&|f| f.enabled = true);
    play_and_count(&mut link, &mut engine, 0.2, &both);
    assert_eq!(link.feedback_target(), Some(addr_a));
    assert!(monitor.snapshot().feedback.contains(&addr_a.to_string()));
    let n = play_and_count(&mut link, &mut engine, 1.0, &both);
    assert!((12..=23).contains(&n[0]) && n[1] == 0, "on, to A: {n:?}");
    // A new target: B hears, A no longer does.
    set(&|f| f.target = addr_b.to_string());
    play_and_count(&mut link, &mut engine, 0.2, &both);
    assert_eq!(link.feedback_target(), Some(addr_b));
    let n = play_and_count(&mut link, &mut engine, 1.0, &both);
    assert!(n[0] == 0 && (12..=23).contains(&n[1]), "to B: {n:?}");
    // The rate follows: 5 Hz gives about 5 a second, 50 Hz about 50.
    set(&|f| f.rate_hz = 5.0);
    play_and_count(&mut link, &mut engine, 0.3, &both);
    let slow = play_and_count(&mut link, &mut engine, 1.0, &both)[1];
    assert!((3..=7).contains(&slow), "5 Hz: {slow}");
    set(&|f| f.rate_hz = 50.0);
    play_and_count(&mut link, &mut engine, 0.2, &both);
    let fast = play_and_count(&mut link, &mut engine, 1.0, &both)[1];
    eprintln!("mood messages a second: 20 Hz → {n:?} (A, B), 5 Hz → {slow}, 50 Hz → {fast}");
    assert!((30..=53).contains(&fast), "50 Hz: {fast}");
    assert!(monitor.snapshot().feedback.contains("50 Hz"));
    // Switched off: nothing more.
    set(&|f| f.enabled = false);
    play_and_count(&mut link, &mut engine, 0.2, &both);
    assert_eq!(link.feedback_target(), None);
    assert_eq!(
        play_and_count(&mut link, &mut engine, 0.6, &both),
        [0, 0],
        "sent after off"
    );
    // Gone with the link: the editor falls back to the saved settings.
    drop(link);
    assert_eq!(monitor.snapshot().feedback, "");
}

#[test]
fn a_bad_target_fixed_later_is_taken_live() {
    let monitor = Arc::new(Monitor::new());
    let store = Watched::new(OscConfig {
        enabled: false,
        feedback: FeedbackConfig {
            enabled: true,
            target: "not an address".into(),
            rate_hz: 10.0,
        },
        ..Default::default()
    });
    let (link, _) = LightLink::start(store.clone(), Watched::new(None), monitor.clone());
    assert_eq!(link.feedback_target(), None);
    assert!(monitor.snapshot().feedback.starts_with("not sending"));
    let desk = UdpSocket::bind("127.0.0.1:0").unwrap();
    store.write().unwrap().feedback.target = desk.local_addr().unwrap().to_string();
    let t0 = Instant::now();
    while link.feedback_target().is_none() && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(link.feedback_target(), Some(desk.local_addr().unwrap()));
}

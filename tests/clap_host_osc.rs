//! The OSC light input inside the real plugin, driven by the in-process CLAP host
//! (`tests/common/clap_host`) on its own audio thread with nice-plug's allocation checker
//! around every `process()` (built with `--features assert_process_allocs`): while the host
//! processes, a sender thread fires UDP datagrams (the scheme, DMX, bundles, garbage, cue-sheet
//! loads) at the instance's configured port (set through the persisted `osc-config` state
//! field). Passing means draining events, swapping cue sheets and handing the old ones back
//! never allocated or freed on the audio thread, and the light audibly moved the music.
//!
//!     cargo test --features assert_process_allocs --test clap_host_osc -- --nocapture
#![cfg(feature = "assert_process_allocs")]

#[path = "common/clap_host/mod.rs"]
mod clap_host;

use clap_host::{nice_param_hash, AudioIo, EventQueue, InEvent, OutEventCounter, Plugin};
use mood_noir::light::osc::{OscConfig, PORT_SEARCH};
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::ffi::CStr;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

const PLUGIN_ID: &CStr = c"com.mood-noir.mood-noir";
const SR: f64 = 48_000.0;
const FRAMES: usize = 512;

fn free_port_range() -> u16 {
    for _ in 0..200 {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = s.local_addr().unwrap().port();
        drop(s);
        if p < 60000 && (0..=PORT_SEARCH).all(|k| UdpSocket::bind(("127.0.0.1", p + k)).is_ok()) {
            return p;
        }
    }
    panic!("no free port range");
}

/// A plugin with Mood source = Light, follow 1 and its OSC server configured to `port`
/// (through the saved state, as a session would carry it).
fn plugin_on(port: u16, cue_folder: Option<&std::path::Path>) -> Plugin {
    let plugin = Plugin::create(&mood_noir::clap_entry, PLUGIN_ID);
    let state = plugin.save_state().expect("save state");
    // nice-plug's CLAP state: a little-endian u64 length, then the JSON.
    let mut json: serde_json::Value = serde_json::from_slice(&state[8..]).expect("state is JSON");
    let cfg = OscConfig {
        port,
        cue_folder: cue_folder.map(|d| d.display().to_string()),
        ..OscConfig::default()
    };
    json["fields"]["osc-config"] = serde_json::Value::String(serde_json::to_string(&cfg).unwrap());
    let body = serde_json::to_vec(&json).unwrap();
    let mut bytes = (body.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&body);
    assert!(
        plugin.load_state(&bytes, 4096),
        "state with osc-config loads"
    );
    let infos = plugin.param_infos();
    let id = |s: &str| nice_param_hash(s);
    let source = infos.iter().find(|p| p.id == id("source")).unwrap();
    assert_eq!(source.max, 2.0);
    let mut q = EventQueue::with_capacity(4);
    q.push(InEvent::param_value(0, id("source"), 1.0)); // Light
    q.push(InEvent::param_value(0, id("follow"), 1.0));
    q.push(InEvent::param_value(0, id("tempo_mode"), 1.0)); // Mood-driven
    plugin.flush_params_main_thread(&q);
    plugin
}

fn encode(addr: &str, args: Vec<OscType>) -> Vec<u8> {
    rosc::encoder::encode(&OscPacket::Message(OscMessage {
        addr: addr.into(),
        args,
    }))
    .unwrap()
}

/// Renders `seconds` through process() on the host's audio thread; while it runs, `send`
/// (if any) fires datagrams from another thread. Returns the left channel.
fn render(plugin: &mut Plugin, seconds: f64, send: Option<Sender>) -> Vec<f32> {
    assert!(plugin.activate(SR, 1, FRAMES as u32), "activate");
    let done = Arc::new(AtomicBool::new(false));
    let blocks = (seconds * SR / FRAMES as f64) as usize;
    let out = std::thread::scope(|s| {
        if let Some(send) = send {
            let done = done.clone();
            s.spawn(move || send(&done));
        }
        let out = plugin.run_audio_thread(|audio| {
            let mut io = AudioIo::new(FRAMES);
            let events = EventQueue::with_capacity(0);
            let mut out_events = OutEventCounter::default();
            let mut left = Vec::with_capacity(blocks * FRAMES);
            for b in 0..blocks {
                // Real-time-ish pacing so the network thread interleaves with processing.
                if b % 8 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let st = audio.process(
                    &mut io,
                    FRAMES,
                    (b * FRAMES) as i64,
                    None,
                    &events,
                    &mut out_events,
                );
                assert_ne!(st, clap_sys::process::CLAP_PROCESS_ERROR);
                left.extend_from_slice(&io.out[0][..FRAMES]);
            }
            left
        });
        done.store(true, SeqCst);
        out
    });
    plugin.deactivate();
    out
}

/// A sender run on its own thread until the flag says the render is done.
type Sender = Box<dyn FnOnce(&AtomicBool) + Send>;

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

#[test]
fn osc_during_processing_moves_the_music_without_allocating() {
    let port = free_port_range();
    let dir = std::env::temp_dir().join(format!("mood-noir-clap-osc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sheet_a = dir.join("a.json");
    let sheet_b = dir.join("b.csv");
    std::fs::write(
        &sheet_a,
        r#"{"cues": [{"at": 0, "intensity": 0.1, "flicker": 1, "contrast": 1}]}"#,
    )
    .unwrap();
    std::fs::write(&sheet_b, "at,intensity,flicker,contrast\n0,0.05,0.9,1\n").unwrap();

    // Reference: the same instance setup with no OSC at all.
    let mut quiet = plugin_on(port, Some(&dir));
    let reference = render(&mut quiet, 8.0, None);
    drop(quiet);

    let sent = Arc::new(AtomicU64::new(0));
    let mut p = plugin_on(port, Some(&dir));
    let sent2 = sent.clone();
    // Network loads name files inside the cue folder the session allows.
    let (a, b) = ("a.json".to_string(), "b.csv".to_string());
    let driven = render(
        &mut p,
        8.0,
        Some(Box::new(move |done: &AtomicBool| {
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let send = |bytes: &[u8]| {
                tx.send_to(bytes, ("127.0.0.1", port)).unwrap();
                sent2.fetch_add(1, SeqCst);
            };
            let mut k = 0u32;
            while !done.load(SeqCst) {
                let x = (k % 100) as f32 / 100.0;
                send(&encode(
                    "/light/intensity",
                    vec![OscType::Float(0.05 + 0.1 * x)],
                ));
                send(&encode("/light/flicker", vec![OscType::Float(1.0)]));
                send(&encode("/light/contrast", vec![OscType::Float(1.0)]));
                send(&encode("/mood/arousal", vec![OscType::Float(0.95)]));
                send(&encode("/0/dmx/1", vec![OscType::Int(200)]));
                send(&encode(
                    "/palette",
                    vec![
                        OscType::Float(0.1),
                        OscType::Float(0.9),
                        OscType::Float(0.2),
                        OscType::Float(1.0),
                    ],
                ));
                send(b"garbage!");
                let bundle = OscPacket::Bundle(OscBundle {
                    timetag: OscTime {
                        seconds: 0,
                        fractional: 1,
                    },
                    content: vec![
                        OscPacket::Message(OscMessage {
                            addr: "/light/hit".into(),
                            args: vec![],
                        }),
                        OscPacket::Message(OscMessage {
                            addr: "/light/beat".into(),
                            args: vec![],
                        }),
                    ],
                });
                send(&rosc::encoder::encode(&bundle).unwrap());
                if k % 50 == 10 {
                    // Cue-sheet loads: the audio thread swaps sheets and hands old ones back.
                    let path = if (k / 50).is_multiple_of(2) { &a } else { &b };
                    send(&encode(
                        "/noir/cues/load",
                        vec![OscType::String(path.clone())],
                    ));
                }
                k += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
        })),
    );
    drop(p);
    let n = sent.load(SeqCst);
    println!(
        "sent {n} datagrams while processing; rms quiet {:.4}, driven {:.4}",
        rms(&reference),
        rms(&driven)
    );
    assert!(n > 100, "the sender ran during processing ({n})");
    assert!(driven.iter().all(|x| x.is_finite()));
    let diff: Vec<f32> = reference.iter().zip(&driven).map(|(a, b)| a - b).collect();
    assert!(
        rms(&diff) > 0.2 * rms(&reference),
        "the light moved the music: diff rms {:.4}",
        rms(&diff)
    );
    // After deactivate and drop, the port is free again.
    UdpSocket::bind(("127.0.0.1", port)).expect("port released");
}

//! More host edge cases through the real CLAP entry (issue 9, item 3): reactivation at a new
//! sample rate, a host that connects no input (the light sidechain disconnected, with the
//! sidechain as the mood source), and 16 instances at once in one process, each listening on
//! its own OSC port and each hearing only what was sent to it (checked through each
//! instance's OSC feedback, the way a desk sees it).

#[path = "common/clap_host/mod.rs"]
mod clap_host;

use clap_host::{AudioIo, EventQueue, InEvent, OutEventCounter, Plugin};
use std::ffi::CStr;
use std::net::UdpSocket;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const PLUGIN_ID: &CStr = c"com.mood-noir.mood-noir";

fn create() -> Plugin {
    Plugin::create(&mood_noir::clap_entry, PLUGIN_ID)
}

fn set(p: &Plugin, values: &[(&str, f64)]) {
    let infos = p.param_infos();
    let mut q = EventQueue::with_capacity(values.len());
    for &(name, v) in values {
        let i = infos.iter().find(|i| i.name == name).expect(name);
        q.push(InEvent::param_value(0, i.id, v));
    }
    p.flush_params_main_thread(&q);
}

/// Renders `seconds` at `sr` in 480-sample blocks with a free-running transport; returns the
/// left channel and the output event counts.
fn play(p: &Plugin, sr: f64, seconds: f64, no_input: bool) -> (Vec<f32>, OutEventCounter) {
    let n = (seconds * sr) as usize;
    p.run_audio_thread(move |audio| {
        let mut io = AudioIo::new(480);
        io.no_input = no_input;
        let events = EventQueue::with_capacity(0);
        let mut oc = OutEventCounter::default();
        let mut out = Vec::with_capacity(n);
        let mut pos = 0usize;
        while pos < n {
            let frames = 480.min(n - pos);
            audio.process(&mut io, frames, pos as i64, None, &events, &mut oc);
            for ch in &io.out {
                for &x in &ch[..frames] {
                    assert!(x.is_finite() && (x == 0.0 || x.is_normal()), "{x} at {pos}");
                    assert!(x.abs() < 1.0);
                }
            }
            out.extend_from_slice(&io.out[0][..frames]);
            pos += frames;
        }
        (out, oc)
    })
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

#[test]
fn reactivation_at_a_new_sample_rate_plays_on() {
    let mut p = create();
    let mut lat = Vec::new();
    for sr in [48_000.0, 96_000.0, 22_050.0, 192_000.0, 44_100.0] {
        assert!(p.activate(sr, 1, 480), "activate at {sr}");
        let (out, oc) = play(&p, sr, 3.0, false);
        let level = rms(&out[out.len() / 3..]);
        let latency = p.latency().unwrap_or(0);
        println!(
            "{sr} Hz: rms {:.1} dBFS, {} notes, latency {latency} samples",
            20.0 * level.max(1e-12).log10(),
            oc.note_ons
        );
        assert!(level > 1e-3, "{sr} Hz after reactivation: inaudible");
        assert!(oc.note_ons > 0, "{sr} Hz: no notes");
        assert_eq!(oc.out_of_order + oc.late, 0);
        lat.push((sr, latency));
        p.deactivate();
    }
    // The latency is the same time at every rate (a few samples of rounding).
    let ms: Vec<f64> = lat.iter().map(|&(sr, l)| l as f64 / sr * 1e3).collect();
    let (lo, hi) = ms
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(hi - lo < 0.6, "latency per rate in ms: {ms:?}");
}

#[test]
fn a_disconnected_sidechain_leaves_the_band_playing() {
    let mut p = create();
    // Mood source: Sidechain, following it fully; nothing is connected.
    set(&p, &[("Mood source", 2.0), ("Follow amount", 1.0)]);
    assert!(p.activate(48_000.0, 1, 480));
    let (out, oc) = play(&p, 48_000.0, 4.0, true);
    let level = rms(&out[out.len() / 2..]);
    println!(
        "no input: rms {:.1} dBFS, {} notes",
        20.0 * level.log10(),
        oc.note_ons
    );
    assert!(level > 1e-3 && oc.note_ons > 0);
    // And connected again with silence: the same instance plays on.
    let (out, _) = play(&p, 48_000.0, 2.0, false);
    assert!(rms(&out) > 1e-3);
}

/// 16 consecutive free UDP ports on 127.0.0.1.
fn free_ports(n: u16) -> u16 {
    let start = 20_000 + (std::process::id() % 2000) as u16 * 16;
    for base in (start..60_000).step_by(n as usize + 1) {
        let socks: Vec<_> = (0..n)
            .map_while(|k| UdpSocket::bind(("127.0.0.1", base + k)).ok())
            .collect();
        if socks.len() == n as usize {
            return base;
        }
    }
    panic!("no {n} free ports");
}

fn mood_tension(bytes: &[u8]) -> Option<f32> {
    match rosc::decoder::decode_udp(bytes).ok()?.1 {
        rosc::OscPacket::Message(m) if m.addr == "/noir/out/mood" => match m.args.get(2)? {
            rosc::OscType::Float(t) => Some(*t),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn sixteen_instances_at_once_each_hear_their_own_port() {
    const N: usize = 16;
    let base = free_ports(N as u16);
    let receivers: Vec<UdpSocket> = (0..N)
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            s
        })
        .collect();
    let targets: Vec<u16> = receivers
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect();
    let ready = Arc::new(Barrier::new(N + 1));
    let sent = Arc::new(Barrier::new(N + 1));
    let threads: Vec<_> = (0..N)
        .map(|k| {
            let (ready, sent) = (ready.clone(), sent.clone());
            let (port, target) = (base + k as u16, targets[k]);
            std::thread::spawn(move || {
                let mut p = create();
                // The session's OSC setup: its own port, feedback to its own desk.
                let blob = p.save_state().unwrap();
                let mut json: serde_json::Value = serde_json::from_slice(&blob[8..]).unwrap();
                json["fields"]["osc-config"] = serde_json::Value::String(
                    serde_json::json!({
                        "port": port,
                        "auto_next_port": false,
                        "feedback": {"enabled": true, "target": format!("127.0.0.1:{target}"),
                                     "rate_hz": 20.0}
                    })
                    .to_string(),
                );
                let body = serde_json::to_vec(&json).unwrap();
                let mut blob = (body.len() as u64).to_le_bytes().to_vec();
                blob.extend_from_slice(&body);
                assert!(p.load_state(&blob, 4096));
                set(&p, &[("Mood source", 1.0), ("Follow amount", 1.0)]);
                assert!(p.activate(48_000.0, 1, 480));
                ready.wait();
                sent.wait();
                let (out, _) = play(&p, 48_000.0, 4.0, false);
                assert!(out.iter().all(|x| x.is_finite()));
                p.deactivate();
            })
        })
        .collect();
    ready.wait();
    // Every instance is bound: each port answers, and a tension of its own goes to each.
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let want: Vec<f32> = (0..N)
        .map(|k| 0.05 + 0.9 * k as f32 / (N - 1) as f32)
        .collect();
    for (k, &t) in want.iter().enumerate() {
        let m = rosc::encoder::encode(&rosc::OscPacket::Message(rosc::OscMessage {
            addr: "/mood/tension".into(),
            args: vec![rosc::OscType::Float(t)],
        }))
        .unwrap();
        tx.send_to(&m, ("127.0.0.1", base + k as u16)).unwrap();
    }
    sent.wait();
    // Each desk hears its own instance's tension settle on what it was sent.
    let mut last: Vec<Option<f32>> = vec![None; N];
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut buf = [0u8; 1024];
    while !threads.iter().all(|t| t.is_finished()) && Instant::now() < deadline {
        for (k, r) in receivers.iter().enumerate() {
            while let Ok(n) = r.recv(&mut buf) {
                if let Some(t) = mood_tension(&buf[..n]) {
                    last[k] = Some(t);
                }
            }
        }
    }
    for t in threads {
        t.join().expect("an instance failed");
    }
    println!("sent {want:?}\nheard {last:?}");
    for k in 0..N {
        let got = last[k].unwrap_or_else(|| panic!("instance {k} sent no feedback"));
        assert!(
            (got - want[k]).abs() < 0.05,
            "instance {k} on port {}: tension {got}, sent {}",
            base + k as u16,
            want[k]
        );
    }
}

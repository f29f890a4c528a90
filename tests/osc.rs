//! The OSC light input over real UDP sockets on 127.0.0.1: a sender in the test (and
//! `oscsend` from liblo-tools as an outside client) talks to a real `OscServer`; events travel
//! through the same `LightLink` queues the plugin uses into a real `Engine`, whose light mood
//! and audio must move. Malformed input must be counted and ignored; port clashes reported
//! and resolved; a dropped server must free its port at once.
//!
//! Waiting for the network thread uses a deadline (a failing test ends instead of hanging);
//! nothing asserts on time.

use mood_noir::engine::{Engine, HostTransport, MoodSource, Settings, TempoMode};
use mood_noir::light::osc::{MapTarget, OscConfig, OscServer, PORT_SEARCH};
use mood_noir::light::{CueSource, LightLink, LightSettings, Monitor};
use mood_noir::mood::Mood;
use mood_noir::watched::Watched;
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SR: f32 = 48_000.0;
const BLOCK: usize = 512;

/// A server on an ephemeral port, its link into an engine, and a sender socket.
struct Rig {
    config: Watched<OscConfig>,
    cues: Watched<Option<CueSource>>,
    monitor: Arc<Monitor>,
    link: LightLink,
    engine: Engine,
    tx: UdpSocket,
    port: u16,
}

fn settings(source: MoodSource) -> Settings {
    Settings {
        source,
        follow: 1.0,
        tempo_mode: TempoMode::Mood,
        ..Settings::default()
    }
}

impl Rig {
    fn new() -> Rig {
        Rig::with_config(OscConfig {
            port: 0,
            ..OscConfig::default()
        })
    }

    fn with_config(config: OscConfig) -> Rig {
        let config = Watched::new(config);
        let cues = Watched::new(None);
        let monitor = Arc::new(Monitor::new());
        let (link, _) = LightLink::start(config.clone(), cues.clone(), monitor.clone());
        let port = link.port().expect("server bound");
        let mut engine = Engine::new(SR, settings(MoodSource::Light));
        engine.set_light_settings(LightSettings {
            smooth_s: 0.0,
            ..LightSettings::default()
        });
        Rig {
            config,
            cues,
            monitor,
            link,
            engine,
            tx: UdpSocket::bind("127.0.0.1:0").unwrap(),
            port,
        }
    }

    fn send_packet(&self, p: &OscPacket) {
        let bytes = rosc::encoder::encode(p).unwrap();
        self.send_raw(&bytes);
    }

    fn send_raw(&self, bytes: &[u8]) {
        self.tx.send_to(bytes, ("127.0.0.1", self.port)).unwrap();
    }

    fn send(&self, addr: &str, args: Vec<OscType>) {
        self.send_packet(&msg(addr, args));
    }

    /// Waits (deadline 10 s) until the server has handled `n` datagrams in total.
    fn wait_datagrams(&self, n: u64) {
        wait_for(
            || {
                self.monitor
                    .counts
                    .handled
                    .load(std::sync::atomic::Ordering::Acquire)
                    >= n
            },
            "datagrams",
        );
    }

    /// Waits for everything sent so far, then processes one block (draining the queue).
    fn sync_and_block(&mut self, sent: u64) {
        self.wait_datagrams(sent);
        self.block();
    }

    fn block(&mut self) {
        let mut l = [0.0f32; BLOCK];
        let mut r = [0.0f32; BLOCK];
        self.link.drain_into(&mut self.engine);
        self.engine
            .process(&HostTransport::default(), &mut l, &mut r);
    }

    fn light_mood(&self) -> Mood {
        self.engine.light().mood().expect("light mood")
    }
}

fn msg(addr: &str, args: Vec<OscType>) -> OscPacket {
    OscPacket::Message(OscMessage {
        addr: addr.into(),
        args,
    })
}

fn wait_for(mut ok: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn f(x: f32) -> OscType {
    OscType::Float(x)
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

#[test]
fn each_scheme_address_moves_the_light_and_the_mood() {
    let mut rig = Rig::new();
    let mut sent = 0;
    // Nothing yet: no light mood.
    rig.block();
    assert_eq!(rig.engine.light().mood(), None);

    // Intensity: dark light -> lower valence, more tension than bright light.
    rig.send("/light/intensity", vec![f(1.0)]);
    sent += 1;
    rig.sync_and_block(sent);
    let bright = rig.light_mood();
    assert_eq!(rig.engine.light_intensity(), Some(1.0));
    rig.send("/light/intensity", vec![OscType::Double(0.05)]);
    sent += 1;
    rig.sync_and_block(sent);
    let dark = rig.light_mood();
    assert_eq!(rig.engine.light_intensity(), Some(0.05));
    assert!(dark.valence < bright.valence - 0.5, "{dark:?} {bright:?}");
    assert!(dark.tension > bright.tension, "{dark:?} {bright:?}");

    // RGB as floats and as 0..255 ints; HSV.
    rig.send("/light/rgb", vec![f(0.0), f(0.0), f(1.0)]);
    sent += 1;
    rig.sync_and_block(sent);
    assert_eq!(rig.engine.light().look().unwrap().rgb, [0.0, 0.0, 1.0]);
    let blue = rig.light_mood();
    rig.send(
        "/light/rgb",
        vec![OscType::Int(255), OscType::Int(51), OscType::Int(0)],
    );
    sent += 1;
    rig.sync_and_block(sent);
    assert_eq!(rig.engine.light().look().unwrap().rgb, [1.0, 0.2, 0.0]);
    assert_ne!(rig.light_mood(), blue);
    rig.send("/light/hsv", vec![f(2.0 / 3.0), f(1.0), f(0.5)]);
    sent += 1;
    rig.sync_and_block(sent);
    let rgb = rig.engine.light().look().unwrap().rgb;
    assert!(rgb[2] > 0.49 && rgb[0] < 0.01 && rgb[1] < 0.01, "{rgb:?}");

    // CCT, contrast, flicker.
    rig.send("/light/intensity", vec![f(0.7)]);
    rig.send("/light/cct", vec![OscType::Int(2200)]);
    sent += 2;
    rig.sync_and_block(sent);
    let warm = rig.light_mood();
    rig.send("/light/cct", vec![f(9000.0)]);
    sent += 1;
    rig.sync_and_block(sent);
    assert!(rig.light_mood().valence < warm.valence);
    let calm = rig.light_mood();
    rig.send("/light/contrast", vec![f(1.0)]);
    rig.send("/light/flicker", vec![f(1.0)]);
    sent += 2;
    rig.sync_and_block(sent);
    let tense = rig.light_mood();
    assert!(tense.tension > calm.tension + 0.3, "{tense:?} {calm:?}");
    assert!(tense.arousal > calm.arousal);

    // Palette: 2 weighted colours.
    rig.send(
        "/palette",
        vec![
            f(0.0),
            f(0.2),
            f(0.9),
            f(1.0),
            f(0.9),
            f(0.1),
            f(0.1),
            f(0.3),
        ],
    );
    sent += 1;
    rig.sync_and_block(sent);
    assert_eq!(rig.engine.light().look().unwrap().palette.len, 2);
    assert_ne!(rig.light_mood(), tense);

    // Hit: a stinger and a tension lift.
    let before = rig.light_mood();
    rig.send("/light/hit", vec![f(0.9)]);
    sent += 1;
    rig.sync_and_block(sent);
    rig.block();
    assert_eq!(rig.engine.light().hits(), 1);
    assert!(rig.light_mood().tension > before.tension);

    // Heartbeat: bpm and taps.
    rig.send("/light/bpm", vec![f(140.0)]);
    sent += 1;
    rig.sync_and_block(sent);
    assert_eq!(rig.engine.light_bpm(), Some(140.0));
    for _ in 0..3 {
        rig.send("/light/beat", vec![]);
        sent += 1;
        rig.wait_datagrams(sent);
        std::thread::sleep(Duration::from_millis(250));
    }
    rig.block();
    assert_eq!(rig.engine.light().tempo().taps, 3);
    assert!(rig.engine.light_bpm().is_some());

    // Mood overrides win; release drops them.
    rig.send("/mood/valence", vec![f(0.9)]);
    rig.send("/mood/tension", vec![OscType::Int(1)]);
    sent += 2;
    rig.sync_and_block(sent);
    let m = rig.light_mood();
    assert_eq!((m.valence, m.tension), (0.9, 1.0));
    rig.send("/mood/release", vec![]);
    sent += 1;
    rig.sync_and_block(sent);
    assert_ne!(rig.light_mood().valence, 0.9);

    let c = rig.monitor.counts();
    println!("{}", rig.monitor.snapshot().report());
    assert_eq!(c.ignored(), 0, "{c:?}");
    assert_eq!(c.accepted, sent);
}

#[test]
fn light_over_osc_changes_the_audio() {
    // Same seed and settings; one engine gets a bright, warm, calm light, the other a dark,
    // flickering, high-contrast one, both over UDP.
    let render = |look: &[(&str, Vec<OscType>)]| {
        let mut rig = Rig::new();
        rig.engine = Engine::new(SR, settings(MoodSource::Light));
        for (a, args) in look {
            rig.send(a, args.clone());
        }
        rig.wait_datagrams(look.len() as u64);
        let mut out = Vec::new();
        let mut l = [0.0f32; BLOCK];
        let mut r = [0.0f32; BLOCK];
        for _ in 0..(8.0 * SR / BLOCK as f32) as usize {
            rig.link.drain_into(&mut rig.engine);
            rig.engine
                .process(&HostTransport::default(), &mut l, &mut r);
            out.extend_from_slice(&l);
        }
        (out, rig.engine.mood(), rig.engine.tempo_bpm())
    };
    let (calm, calm_mood, calm_bpm) = render(&[
        ("/light/intensity", vec![f(0.9)]),
        ("/light/cct", vec![f(2700.0)]),
        ("/light/contrast", vec![f(0.0)]),
    ]);
    let (tense, tense_mood, tense_bpm) = render(&[
        ("/light/intensity", vec![f(0.1)]),
        ("/light/rgb", vec![f(0.1), f(0.9), f(0.2)]),
        ("/light/flicker", vec![f(1.0)]),
        ("/light/contrast", vec![f(1.0)]),
    ]);
    println!("calm {calm_mood:?} {calm_bpm:.1} BPM; tense {tense_mood:?} {tense_bpm:.1} BPM");
    assert!(tense_mood.tension > calm_mood.tension + 0.3);
    assert!(tense_mood.arousal > calm_mood.arousal);
    assert!(
        tense_bpm > calm_bpm + 10.0,
        "mood-driven tempo follows arousal"
    );
    let diff: Vec<f32> = calm.iter().zip(&tense).map(|(a, b)| a - b).collect();
    assert!(rms(&diff) > 0.3 * rms(&calm), "the audio differs");
}

#[test]
fn qlc_dmx_messages_move_intensity_and_colour_through_the_default_profile() {
    let mut rig = Rig::new();
    // QLC+ 4.x: value/255 floats; some tools send 0..255.
    rig.send("/0/dmx/0", vec![f(0.5)]);
    rig.send("/0/dmx/1", vec![f(1.0)]);
    rig.send("/0/dmx/2", vec![f(0.0)]);
    rig.send("/0/dmx/3", vec![OscType::Int(51)]);
    rig.send("/0/dmx/4", vec![f(0.0)]);
    // Another fixture's channel and another universe: understood, no effect.
    rig.send("/0/dmx/7", vec![f(1.0)]);
    rig.send("/1/dmx/0", vec![f(0.0)]);
    rig.sync_and_block(7);
    let look = rig.engine.light().look().unwrap();
    assert_eq!(look.intensity, 0.5);
    assert_eq!(look.rgb, [1.0, 0.0, 0.2]);
    assert_eq!(look.cct_k, 2000.0);
    let half = rig.light_mood();
    rig.send("/0/dmx/0", vec![OscType::Int(255)]);
    rig.sync_and_block(8);
    assert_eq!(rig.engine.light_intensity(), Some(1.0));
    assert!(rig.light_mood().valence > half.valence);
    // Out of DMX range: counted.
    rig.send("/0/dmx/0", vec![f(300.0)]);
    rig.send("/0/dmx/999", vec![f(0.5)]);
    rig.sync_and_block(10);
    assert_eq!(rig.monitor.counts().out_of_range, 2);

    // Move the fixture to universe 2, address 101.
    let mut rig = Rig::with_config(OscConfig {
        port: 0,
        fixture: mood_noir::light::dmx::FixtureProfile {
            universe: 2,
            address: 101,
        },
        ..OscConfig::default()
    });
    rig.send("/1/dmx/100", vec![f(0.25)]);
    rig.sync_and_block(1);
    assert_eq!(rig.engine.light_intensity(), Some(0.25));
}

#[test]
fn eos_colour_and_cue_progress() {
    let mut rig = Rig::new();
    rig.send("/eos/out/color/hs", vec![f(240.0), f(100.0)]);
    rig.send(
        "/eos/out/active/cue/text",
        vec![OscType::String("1/12 Alley 3.0".into())],
    );
    rig.sync_and_block(2);
    let rgb = rig.engine.light().look().unwrap().rgb;
    assert!(rgb[2] > 0.99 && rgb[0] < 0.01, "{rgb:?}");
    assert_eq!(rig.monitor.snapshot().cue_text, "1/12 Alley 3.0");

    // With a cue sheet whose cue is named "12", Eos' percent drives that cue's fade.
    let sheet = mood_noir::light::CueSheet::parse_json(
        r#"{"cues": [{"name": "11", "at": 0, "intensity": 1.0},
                     {"name": "12", "at": 60, "fade": 4, "intensity": 0.0}]}"#,
    )
    .unwrap();
    drop(rig.engine.swap_cue_sheet(Some(Box::new(sheet))));
    rig.block();
    assert_eq!(rig.engine.light_intensity(), Some(1.0));
    rig.send("/eos/out/active/cue/1/12", vec![f(0.5)]);
    rig.sync_and_block(3);
    rig.block();
    let i = rig.engine.light_intensity().unwrap();
    assert!((i - 0.5).abs() < 1e-6, "{i}");
    rig.send("/eos/out/active/cue/1/12", vec![f(1.0)]);
    rig.sync_and_block(4);
    rig.block();
    assert_eq!(rig.engine.light_intensity(), Some(0.0));
    // /mood/release ends the hold: the sheet's timeline (t < 60 s) shows cue 11 again.
    rig.send("/mood/release", vec![]);
    rig.sync_and_block(5);
    rig.block();
    assert_eq!(rig.engine.light_intensity(), Some(1.0));
}

fn cue_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mood-noir-osc-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cue_go_by_name_and_number_and_cue_sheets_load_over_osc() {
    let dir = cue_dir("cues");
    let mut rig = Rig::with_config(OscConfig {
        port: 0,
        cue_folder: Some(dir.display().to_string()),
        ..OscConfig::default()
    });
    // No sheet yet: /cue/go says so and changes nothing.
    rig.send("/cue/go", vec![OscType::Int(1)]);
    rig.sync_and_block(1);
    assert_eq!(rig.monitor.counts().out_of_range, 1);
    assert!(rig
        .monitor
        .snapshot()
        .errors
        .iter()
        .any(|e| e.contains("no cue sheet is loaded")));
    std::fs::write(
        dir.join("scene.csv"),
        "at,fade,name,intensity,contrast\n0,0,open,0.8,0.1\n30,0,alley,0.15,0.9\n45,0,dawn,0.6,0.2\n",
    )
    .unwrap();
    rig.send("/noir/cues/load", vec![OscType::String("scene.csv".into())]);
    rig.sync_and_block(2);
    rig.block();
    assert_eq!(rig.engine.light().sheet().unwrap().cues.len(), 3);
    assert_eq!(rig.engine.light_intensity(), Some(0.8));
    // The sheet and its text are persisted for the plugin state.
    let stored = rig.cues.read().unwrap().clone().unwrap();
    assert!(stored.text.contains("alley") && stored.path.ends_with("scene.csv"));

    rig.send("/cue/go", vec![OscType::String("alley".into())]);
    rig.sync_and_block(3);
    rig.block();
    assert_eq!(rig.engine.light_intensity(), Some(0.15));
    rig.send("/cue/go", vec![OscType::Int(3)]);
    rig.sync_and_block(4);
    rig.block();
    assert_eq!(rig.engine.light_intensity(), Some(0.6));
    // A name or number the sheet does not have, index 0 and NaN are refused and change
    // nothing.
    rig.send("/cue/go", vec![OscType::String("nowhere".into())]);
    rig.send("/cue/go", vec![OscType::Int(4)]);
    rig.send("/cue/go", vec![OscType::Int(0)]);
    rig.send("/cue/go", vec![f(f32::NAN)]);
    rig.sync_and_block(8);
    rig.block();
    assert_eq!(rig.engine.light_intensity(), Some(0.6));
    assert_eq!(rig.monitor.counts().out_of_range, 5);

    // A broken sheet is refused with a clear error and the loaded one stays.
    std::fs::write(
        dir.join("bad.json"),
        r#"{"cues": [{"at": "00:00:01:99", "intensity": 1}]}"#,
    )
    .unwrap();
    rig.send("/noir/cues/load", vec![OscType::String("bad.json".into())]);
    rig.sync_and_block(9);
    let snap = rig.monitor.snapshot();
    assert!(
        snap.errors.iter().any(|e| e.contains("out of range")),
        "{:?}",
        snap.errors
    );
    assert_eq!(rig.engine.light().sheet().unwrap().cues.len(), 3);
    // Clearing hands the old sheet back to the network thread.
    rig.send("/noir/cues/clear", vec![]);
    rig.sync_and_block(10);
    assert!(rig.engine.light().sheet().is_none());
    assert!(rig.cues.read().unwrap().is_none());
}

#[test]
fn network_cue_loads_stay_inside_the_cue_folder() {
    let dir = cue_dir("confined");
    let outside = cue_dir("outside");
    let sheet = "at,name,intensity\n0,open,0.5\n";
    std::fs::write(outside.join("secret.csv"), sheet).unwrap();
    std::fs::write(dir.join("ok.csv"), sheet).unwrap();
    std::fs::write(dir.join("huge.csv"), "x".repeat(2 << 20)).unwrap();
    let link = dir.join("link.csv");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(outside.join("secret.csv"), &link).unwrap();
    let secret = outside.join("secret.csv").display().to_string();
    let attempts = [
        secret.as_str(),
        "../secret.csv",
        "sub/../../secret.csv",
        "link.csv",
        "huge.csv",
        "/etc/passwd",
        "ok.txt",
        "",
    ];
    let mut rig = Rig::with_config(OscConfig {
        port: 0,
        cue_folder: Some(dir.display().to_string()),
        ..OscConfig::default()
    });
    for (k, a) in attempts.iter().enumerate() {
        rig.send("/noir/cues/load", vec![OscType::String(a.to_string())]);
        rig.sync_and_block(k as u64 + 1);
        rig.block();
        assert!(rig.engine.light().sheet().is_none(), "{a:?} was loaded");
        assert!(
            rig.cues.read().unwrap().is_none(),
            "{a:?} reached the session"
        );
    }
    assert_eq!(rig.monitor.counts().out_of_range, attempts.len() as u64);
    // Inside the folder it works.
    rig.send("/noir/cues/load", vec![OscType::String("ok.csv".into())]);
    rig.sync_and_block(attempts.len() as u64 + 1);
    rig.block();
    assert!(rig.engine.light().sheet().is_some());

    // Without a cue folder, network loads and clears are off.
    let mut off = Rig::new();
    off.send(
        "/noir/cues/load",
        vec![OscType::String(dir.join("ok.csv").display().to_string())],
    );
    off.send("/noir/cues/clear", vec![]);
    off.sync_and_block(2);
    off.block();
    assert!(off.engine.light().sheet().is_none());
    assert!(off
        .monitor
        .snapshot()
        .errors
        .iter()
        .any(|e| e.contains("network cue loading is off")));
    // Listening on all interfaces: off unless the user allowed remote loads.
    let mut all = Rig::with_config(OscConfig {
        port: 0,
        all_interfaces: true,
        cue_folder: Some(dir.display().to_string()),
        ..OscConfig::default()
    });
    all.send("/noir/cues/load", vec![OscType::String("ok.csv".into())]);
    all.sync_and_block(1);
    all.block();
    assert!(all.engine.light().sheet().is_none());
    let mut allowed = Rig::with_config(OscConfig {
        port: 0,
        all_interfaces: true,
        remote_cue_loads: true,
        cue_folder: Some(dir.display().to_string()),
        ..OscConfig::default()
    });
    allowed.send("/noir/cues/load", vec![OscType::String("ok.csv".into())]);
    allowed.sync_and_block(1);
    allowed.block();
    assert!(allowed.engine.light().sheet().is_some());
}

#[test]
fn only_allowed_senders_are_heard() {
    let mut rig = Rig::with_config(OscConfig {
        port: 0,
        allowed_senders: vec!["10.1.2.3".into()],
        ..OscConfig::default()
    });
    rig.send("/light/intensity", vec![f(0.2)]);
    rig.sync_and_block(1);
    assert_eq!(rig.engine.light_intensity(), None);
    let c = rig.monitor.counts();
    assert_eq!((c.refused_sender, c.accepted), (1, 0));
    let mut open = Rig::with_config(OscConfig {
        port: 0,
        allowed_senders: vec!["127.0.0.1".into()],
        ..OscConfig::default()
    });
    open.send("/light/intensity", vec![f(0.2)]);
    open.sync_and_block(1);
    assert_eq!(open.engine.light_intensity(), Some(0.2));
}

#[test]
fn malformed_unknown_and_out_of_range_input_is_counted_and_ignored() {
    let mut rig = Rig::new();
    let good = rosc::encoder::encode(&msg("/light/intensity", vec![f(0.3)])).unwrap();
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0, 0, 0, 0]);
    let mut deep = good.clone();
    for _ in 0..12 {
        deep = rosc::encoder::encode(&OscPacket::Bundle(OscBundle {
            timetag: OscTime {
                seconds: 0,
                fractional: 1,
            },
            content: vec![rosc::decoder::decode_udp(&deep).unwrap().1],
        }))
        .unwrap();
    }
    // A bundle whose element carries junk after its message.
    let mut inner = good.clone();
    inner.extend_from_slice(b"junk");
    let mut junk_bundle = b"#bundle\0\0\0\0\0\0\0\0\x01".to_vec();
    junk_bundle.extend_from_slice(&(inner.len() as u32).to_be_bytes());
    junk_bundle.extend_from_slice(&inner);
    let malformed: Vec<Vec<u8>> = vec![
        b"hello".to_vec(),
        vec![0xff; 64],
        b"/light/intensity\0\0\0\0,f\0\0".to_vec(), // missing float
        trailing,
        deep,
        junk_bundle,
        b"#bundle\0".to_vec(),
        good[..good.len() - 4].to_vec(),
    ];
    for m in &malformed {
        rig.send_raw(m);
    }
    let out_of_range = [
        msg("/light/intensity", vec![f(f32::NAN)]),
        msg("/light/intensity", vec![f(5.0)]),
        msg("/light/cct", vec![f(50.0)]),
        msg("/light/bpm", vec![OscType::Double(1e300)]),
        msg(
            "/light/rgb",
            vec![OscType::Int(300), OscType::Int(0), OscType::Int(0)],
        ),
        msg("/mood/valence", vec![f(-2.0)]),
        msg("/palette", vec![f(0.5), f(0.5), f(f32::INFINITY), f(1.0)]),
    ];
    let bad_args = [
        msg("/light/intensity", vec![OscType::String("bright".into())]),
        msg("/light/intensity", vec![]),
        msg("/light/rgb", vec![f(0.1), f(0.2)]),
        msg("/palette", vec![f(0.1), f(0.2), f(0.3)]),
        msg("/palette", vec![f(0.5); 17 * 4]),
    ];
    let unknown = [
        msg("/light/intensityy", vec![f(0.5)]),
        msg("/13.13.1/Page1/Fader201", vec![OscType::Int(50)]),
        msg("/composition/master", vec![f(0.5)]),
    ];
    for p in out_of_range.iter().chain(&bad_args).chain(&unknown) {
        rig.send_packet(p);
    }
    let total = (malformed.len() + out_of_range.len() + bad_args.len() + unknown.len()) as u64;
    rig.sync_and_block(total);
    let c = rig.monitor.counts();
    println!("{}", rig.monitor.snapshot().report());
    assert_eq!(c.malformed, malformed.len() as u64, "{c:?}");
    assert_eq!(c.out_of_range, out_of_range.len() as u64, "{c:?}");
    assert_eq!(c.bad_args, bad_args.len() as u64, "{c:?}");
    assert_eq!(c.unknown, unknown.len() as u64, "{c:?}");
    assert_eq!(c.accepted, 0);
    assert_eq!(rig.engine.light().events_applied(), 0);
    assert_eq!(
        rig.engine.light().mood(),
        None,
        "nothing reached the engine"
    );

    // The server is still alive, and a well-formed nested bundle is unpacked.
    let bundle = OscPacket::Bundle(OscBundle {
        timetag: OscTime {
            seconds: 0,
            fractional: 1,
        },
        content: vec![
            msg("/light/intensity", vec![f(0.3)]),
            OscPacket::Bundle(OscBundle {
                timetag: OscTime {
                    seconds: 0,
                    fractional: 1,
                },
                content: vec![msg("/light/flicker", vec![f(0.7)])],
            }),
        ],
    });
    rig.send_packet(&bundle);
    rig.sync_and_block(total + 1);
    let look = rig.engine.light().look().unwrap();
    assert_eq!((look.intensity, look.flicker), (0.3, 0.7));
    assert_eq!(rig.monitor.counts().accepted, 2);
}

#[test]
fn learn_binds_a_grandma3_fader_and_the_mapping_persists() {
    let mut rig = Rig::new();
    rig.send("/noir/learn", vec![OscType::String("intensity".into())]);
    rig.send("/13.13.1/Page1/Fader201", vec![OscType::Int(50)]);
    rig.sync_and_block(2);
    assert_eq!(rig.engine.light_intensity(), Some(0.5));
    rig.send("/13.13.1/Page1/Fader201", vec![OscType::Int(100)]);
    // TouchDesigner/Resolume-style floats through a mapping set up in the (persisted) config.
    rig.config
        .write()
        .unwrap()
        .mappings
        .push(mood_noir::light::osc::UserMapping {
            address: "/composition/layers/1/video/opacity".into(),
            target: MapTarget::Flicker,
            in_min: 0.0,
            in_max: 1.0,
        });
    rig.send("/composition/layers/1/video/opacity", vec![f(0.8)]);
    rig.sync_and_block(4);
    assert_eq!(rig.engine.light_intensity(), Some(1.0));
    assert!((rig.engine.light().look().unwrap().flicker - 0.8).abs() < 1e-6);
    let cfg = rig.config.read().unwrap().clone();
    assert_eq!(cfg.mappings[0].address, "/13.13.1/Page1/Fader201");
    assert_eq!(cfg.mappings[0].in_max, 100.0);
    // The config round-trips through serde as the plugin state stores it.
    let json = serde_json::to_string(&cfg).unwrap();
    let back: OscConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    // Above the learned range: out of range.
    rig.send("/13.13.1/Page1/Fader201", vec![OscType::Int(250)]);
    rig.sync_and_block(5);
    assert_eq!(rig.monitor.counts().out_of_range, 1);
}

/// A free port P such that P..=P+PORT_SEARCH are free right now.
fn free_port_range() -> u16 {
    for _ in 0..200 {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = s.local_addr().unwrap().port();
        drop(s);
        if p > 60000 {
            continue;
        }
        if (0..=PORT_SEARCH).all(|k| UdpSocket::bind(("127.0.0.1", p + k)).is_ok()) {
            return p;
        }
    }
    panic!("no free port range");
}

fn server(port: u16, auto: bool) -> (std::io::Result<OscServer>, Arc<Monitor>, Watched<OscConfig>) {
    let config = Watched::new(OscConfig {
        port,
        auto_next_port: auto,
        ..OscConfig::default()
    });
    let monitor = Arc::new(Monitor::new());
    let (tx, _rx) = rtrb::RingBuffer::new(16);
    let s = OscServer::start(config.clone(), monitor.clone(), tx, None);
    (s, monitor, config)
}

#[test]
fn a_port_clash_is_reported_and_the_next_free_port_bound_and_remembered() {
    let p = free_port_range();
    let (a, ma, _) = server(p, true);
    let a = a.unwrap();
    assert_eq!(a.port(), p);
    assert!(!ma.clash.load(std::sync::atomic::Ordering::Relaxed));
    // Someone else also holds P+1.
    let squatter = UdpSocket::bind(("127.0.0.1", p + 1)).unwrap();
    let (b, mb, cb) = server(p, true);
    let b = b.unwrap();
    assert_eq!(b.port(), p + 2);
    assert!(mb.clash.load(std::sync::atomic::Ordering::Relaxed));
    let status = mb.snapshot().status;
    assert!(status.contains(&format!("port {p} is taken")), "{status}");
    // Remembered once the take-back window (10 s) has passed with the clash still there.
    assert_eq!(cb.read().unwrap().remembered_port, None);
    wait_for(
        || cb.read().unwrap().remembered_port == Some(p + 2),
        "the fallback port remembered",
    );
    // With the search turned off, the clash is an error, not a fight.
    let (c, mc, _) = server(p, false);
    assert!(c.is_err());
    assert_eq!(mc.port.load(std::sync::atomic::Ordering::Relaxed), 0);
    drop(squatter);
    // Dropping frees the port at once: binding it right after the drop succeeds.
    let t = Instant::now();
    drop(b);
    let dt = t.elapsed();
    UdpSocket::bind(("127.0.0.1", p + 2)).expect("port freed by drop");
    println!(
        "drop joined the network thread in {:.1} ms",
        dt.as_secs_f64() * 1e3
    );
    drop(a);
    UdpSocket::bind(("127.0.0.1", p)).expect("port freed by drop");
}

#[test]
fn a_server_pushed_off_its_port_takes_it_back_when_the_old_instance_goes() {
    // pedalboard re-creates an instance before dropping the old one: the new server must end
    // up on the configured port.
    let p = free_port_range();
    let (old, _, _) = server(p, true);
    let old = old.unwrap();
    let (new, mn, cn) = server(p, true);
    let new = new.unwrap();
    assert_eq!(new.port(), p + 1);
    drop(old);
    wait_for(
        || mn.port.load(std::sync::atomic::Ordering::Relaxed) == p as u32,
        "the configured port taken back",
    );
    assert_eq!(cn.read().unwrap().remembered_port, None);
    // It serves there.
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bytes = rosc::encoder::encode(&msg("/light/intensity", vec![f(0.5)])).unwrap();
    tx.send_to(&bytes, ("127.0.0.1", p)).unwrap();
    wait_for(
        || mn.counts().accepted == 1,
        "a message on the taken-back port",
    );
    drop(new);
}

#[test]
fn oscsend_from_liblo_tools_is_understood() {
    let Ok(probe) = std::process::Command::new("oscsend").output() else {
        panic!("oscsend not found: install Debian's liblo-tools (scripts/install-deps.sh)");
    };
    let _ = probe;
    let mut rig = Rig::new();
    let port = rig.port.to_string();
    let runs: [&[&str]; 4] = [
        &["/light/intensity", "f", "0.25"],
        &["/light/rgb", "iii", "255", "0", "0"],
        &["/0/dmx/4", "f", "1.0"],
        &["/mood/arousal", "d", "0.8"],
    ];
    for args in runs {
        let st = std::process::Command::new("oscsend")
            .args(["127.0.0.1", &port])
            .args(args)
            .status()
            .unwrap();
        assert!(st.success());
    }
    rig.sync_and_block(4);
    let look = rig.engine.light().look().unwrap();
    assert_eq!(look.intensity, 0.25);
    assert_eq!(look.rgb, [1.0, 0.0, 0.0]);
    assert_eq!(look.cct_k, 10000.0);
    assert_eq!(rig.light_mood().arousal, 0.8);
    assert_eq!(rig.monitor.counts().accepted, 4);
}

#[test]
fn eos_saturation_is_percent_and_dmx_integers_are_levels() {
    let mut rig = Rig::new();
    // Saturation 1 (percent): almost white, not fully saturated.
    rig.send("/eos/out/color/hs", vec![f(240.0), f(1.0)]);
    rig.sync_and_block(1);
    let rgb = rig.engine.light().look().unwrap().rgb;
    assert!(rgb[0] > 0.98 && rgb[1] > 0.98 && rgb[2] > 0.99, "{rgb:?}");
    // A sweep up is a smooth ramp of saturation.
    let mut last_red = 1.0;
    for (k, sat) in [10.0, 25.0, 50.0, 75.0, 100.0].iter().enumerate() {
        rig.send("/eos/out/color/hs", vec![f(240.0), f(*sat)]);
        rig.sync_and_block(k as u64 + 2);
        let r = rig.engine.light().look().unwrap().rgb[0];
        assert!(
            r < last_red && (r - (1.0 - sat / 100.0)).abs() < 0.01,
            "{sat}: {r}"
        );
        last_red = r;
    }
    // DMX: an integer 1 is level 1 of 255, not full; a float 1.0 (QLC+) is full.
    rig.send("/0/dmx/0", vec![OscType::Int(1)]);
    rig.sync_and_block(7);
    let i = rig.engine.light_intensity().unwrap();
    assert!((i - 1.0 / 255.0).abs() < 1e-6, "{i}");
    rig.send("/0/dmx/0", vec![f(1.0)]);
    rig.sync_and_block(8);
    assert_eq!(rig.engine.light_intensity(), Some(1.0));
    rig.send("/0/dmx/0", vec![OscType::Int(128)]);
    rig.sync_and_block(9);
    let i = rig.engine.light_intensity().unwrap();
    assert!((i - 128.0 / 255.0).abs() < 1e-6, "{i}");
}

#[test]
fn a_full_queue_keeps_the_latest_value_per_address() {
    let mut rig = Rig::new();
    // The audio thread is busy (no blocks): 3,000 fader moves pile up, then the last one.
    let n = 3000u64;
    let mut sent = 0;
    for k in 0..n {
        rig.send(
            "/light/intensity",
            vec![f(0.5 + 0.4 * (k as f32 / n as f32))],
        );
        sent += 1;
        if k % 500 == 0 {
            rig.send("/light/rgb", vec![f(0.1), f(0.2), f(k as f32 / n as f32)]);
            sent += 1;
        }
        if sent % 100 == 0 {
            // Paced so the kernel's socket buffer never overflows (UDP would drop).
            rig.wait_datagrams(sent);
        }
    }
    rig.send("/light/intensity", vec![f(0.123)]);
    rig.send("/light/rgb", vec![f(0.9), f(0.1), f(0.1)]);
    rig.wait_datagrams(n + 6 + 2);
    // The audio thread catches up (256 events a block).
    for _ in 0..20 {
        rig.block();
        std::thread::sleep(Duration::from_millis(30));
    }
    assert_eq!(rig.engine.light_intensity(), Some(0.123));
    assert_eq!(rig.engine.light().look().unwrap().rgb, [0.9, 0.1, 0.1]);
    let c = rig.monitor.counts();
    assert!(c.queue_full > 0, "the queue never filled: {c:?}");
    assert_eq!(c.accepted, n + 6 + 2);
}

#[test]
fn settings_and_a_cue_sheet_loaded_while_running_apply_live() {
    let mut rig = Rig::new();
    let old_port = rig.port;
    // A session load replaces the cue sheet (the host writes the persisted field).
    let src = CueSource {
        path: "session.json".into(),
        format: Some(mood_noir::light::CueFormat::Json),
        text: r#"{"cues": [{"name": "night", "at": 0, "intensity": 0.3}]}"#.into(),
    };
    *rig.cues.write().unwrap() = Some(src);
    wait_for(
        || {
            rig.block();
            rig.engine.light().sheet().is_some()
        },
        "the loaded sheet",
    );
    rig.block();
    assert_eq!(rig.engine.light_intensity(), Some(0.3));
    // ... and the OSC settings: another port and fixture.
    let new_port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    {
        let mut c = rig.config.write().unwrap();
        c.port = new_port;
        c.fixture.address = 11;
    }
    wait_for(
        || rig.monitor.port.load(std::sync::atomic::Ordering::Relaxed) as u16 == new_port,
        "rebind",
    );
    assert!(
        UdpSocket::bind(("127.0.0.1", old_port)).is_ok(),
        "the old port is free"
    );
    // Unloading the sheet and sending DMX to the moved fixture (address 11 = channel 10).
    *rig.cues.write().unwrap() = None;
    rig.port = new_port;
    rig.send("/0/dmx/10", vec![f(0.25)]);
    wait_for(
        || {
            rig.block();
            rig.engine.light().sheet().is_none() && rig.engine.light_intensity() == Some(0.25)
        },
        "the moved fixture",
    );
}

#[test]
fn a_saved_osc_config_with_a_bad_field_keeps_the_rest() {
    let json = r#"{"enabled": true, "port": "nine thousand", "all_interfaces": false,
        "fixture": {"universe": 2, "address": 5}, "colour": "red",
        "mappings": [
            {"address": "/gma3/Page1/Fader201", "target": "intensity", "in_min": 0, "in_max": 100},
            {"address": "/td/x", "target": "no-such-target", "in_min": 0, "in_max": 1},
            {"address": "/td/hue", "target": "hue", "in_min": 0, "in_max": 1}]}"#;
    let c: OscConfig = serde_json::from_str(json).unwrap();
    assert_eq!(c.port, OscConfig::default().port);
    assert_eq!((c.fixture.universe, c.fixture.address), (2, 5));
    let kept: Vec<_> = c.mappings.iter().map(|m| m.address.as_str()).collect();
    assert_eq!(kept, ["/gma3/Page1/Fader201", "/td/hue"]);
    assert_eq!(c.load_warnings.len(), 3, "{:?}", c.load_warnings);
    assert!(c.load_warnings.iter().any(|w| w.contains("port")));
    assert!(c.load_warnings.iter().any(|w| w.contains("colour")));
    assert!(c.load_warnings.iter().any(|w| w.contains("mappings[1]")));
    // The warnings reach the monitor (the editor's OSC panel) when the server starts.
    let mut shown = c.clone();
    shown.port = 0;
    let rig = Rig::with_config(shown);
    let errors = rig.monitor.snapshot().errors;
    assert!(
        errors.iter().any(|e| e.contains("mappings[1]")),
        "{errors:?}"
    );
    // Saving writes what was kept (never the warnings).
    let saved = serde_json::to_string(&c).unwrap();
    assert!(saved.contains("/td/hue") && !saved.contains("load_warnings"));
}

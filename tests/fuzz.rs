//! Property tests (proptest) of every parser a stranger can reach (issue 9, item 4): the OSC
//! datagram checker and decoder, cue sheets (JSON and CSV; seconds, SMPTE and bars:beats;
//! overlapping, out of order, absurd values), presets and the saved OSC settings. Nothing may
//! panic; what parses must hold only values inside their ranges; every datagram is counted.
//!
//! Cases per property: `FUZZ_CASES` (default 2000; `PROPTEST_CASES` overrides).

use mood_noir::light::osc::{check_structure, Decoder, OscConfig, QUEUE_CAPACITY};
use mood_noir::light::{CueFormat, CueSheet, Monitor};
use mood_noir::preset::Preset;
use mood_noir::watched::Watched;
use proptest::prelude::*;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn decoder() -> (
    Decoder,
    Arc<Monitor>,
    rtrb::Consumer<mood_noir::light::LightEvent>,
) {
    let monitor = Arc::new(Monitor::new());
    let (tx, rx) = rtrb::RingBuffer::new(QUEUE_CAPACITY);
    let d = Decoder::new(
        Watched::new(OscConfig::default()),
        monitor.clone(),
        tx,
        None,
    );
    (d, monitor, rx)
}

/// A valid OSC message with one of the scheme's addresses and random arguments.
fn osc_message() -> impl Strategy<Value = Vec<u8>> {
    let addr = prop::sample::select(vec![
        "/light/intensity",
        "/light/rgb",
        "/light/hsv",
        "/light/cct",
        "/light/hit",
        "/light/bpm",
        "/light/beat",
        "/palette",
        "/mood/valence",
        "/mood/release",
        "/cue/go",
        "/0/dmx/0",
        "/0/dmx/4",
        "/eos/out/color/hs",
        "/eos/out/active/cue/1/2",
        "/noir/learn",
        "/noir/unmap",
        "/noir/cues/load",
        "/unknown/thing",
    ]);
    let arg = prop_oneof![
        any::<f32>().prop_map(rosc::OscType::Float),
        any::<i32>().prop_map(rosc::OscType::Int),
        any::<f64>().prop_map(rosc::OscType::Double),
        "[a-z./]{0,12}".prop_map(rosc::OscType::String),
        Just(rosc::OscType::Float(f32::NAN)),
        Just(rosc::OscType::Float(f32::INFINITY)),
        Just(rosc::OscType::Bool(true)),
    ];
    (addr, prop::collection::vec(arg, 0..70)).prop_map(|(a, args)| {
        rosc::encoder::encode(&rosc::OscPacket::Message(rosc::OscMessage {
            addr: a.into(),
            args,
        }))
        .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_and_are_counted(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let (mut d, m, _rx) = decoder();
        let _ = check_structure(&bytes, 0);
        d.datagram(&bytes, Instant::now());
        let c = m.counts();
        prop_assert_eq!(c.datagrams, 1);
        prop_assert_eq!(c.handled, 1);
        prop_assert!(c.malformed + c.accepted + c.unknown + c.bad_args + c.out_of_range >= 1);
    }

    #[test]
    fn mutated_messages_never_panic(msg in osc_message(), cut in any::<prop::sample::Index>(),
                                    flip in any::<prop::sample::Index>(), byte in any::<u8>(),
                                    tail in prop::collection::vec(any::<u8>(), 0..8)) {
        let (mut d, m, mut rx) = decoder();
        // As is, truncated, with one byte changed, with bytes after it.
        let mut variants = vec![msg.clone(), msg[..cut.index(msg.len())].to_vec()];
        let mut changed = msg.clone();
        let i = flip.index(changed.len());
        changed[i] = byte;
        variants.push(changed);
        let mut longer = msg.clone();
        longer.extend_from_slice(&tail);
        variants.push(longer);
        for v in &variants {
            d.datagram(v, Instant::now());
        }
        let c = m.counts();
        prop_assert_eq!(c.datagrams, variants.len() as u64);
        prop_assert!(c.malformed + c.accepted + c.unknown + c.bad_args + c.out_of_range
            >= variants.len() as u64);
        // Whatever got through is finite and in range.
        while let Ok(ev) = rx.pop() {
            let s = format!("{ev:?}");
            prop_assert!(!s.contains("NaN") && !s.contains("inf"), "{}", s);
        }
    }

    #[test]
    fn nested_and_huge_bundles_are_checked_without_blowing_the_stack(depth in 0usize..1000, width in 1usize..400) {
        let (mut d, m, _rx) = decoder();
        let msg = rosc::OscPacket::Message(rosc::OscMessage {
            addr: "/light/intensity".into(),
            args: vec![rosc::OscType::Float(0.5)],
        });
        // A wide bundle...
        let wide = rosc::encoder::encode(&rosc::OscPacket::Bundle(rosc::OscBundle {
            timetag: rosc::OscTime { seconds: 0, fractional: 1 },
            content: vec![msg.clone(); width],
        })).unwrap();
        d.datagram(&wide, Instant::now());
        prop_assert_eq!(m.counts().accepted, width as u64);
        // ...and one nested `depth` deep, built by hand (no recursion in the encoder).
        let inner = rosc::encoder::encode(&msg).unwrap();
        let mut p = inner;
        for _ in 0..depth {
            let mut b = b"#bundle\0\0\0\0\0\0\0\0\x01".to_vec();
            b.extend_from_slice(&(p.len() as u32).to_be_bytes());
            b.extend_from_slice(&p);
            p = b;
        }
        d.datagram(&p, Instant::now());
        let c = m.counts();
        if depth > mood_noir::light::osc::MAX_BUNDLE_DEPTH {
            prop_assert_eq!(c.malformed, 1);
        } else {
            prop_assert_eq!(c.accepted, width as u64 + 1);
        }
    }

    #[test]
    fn cue_sheet_text_never_panics(text in "\\PC{0,400}") {
        let _ = CueSheet::parse(&text, CueFormat::Json);
        let _ = CueSheet::parse(&text, CueFormat::Csv);
    }

    #[test]
    fn generated_cue_sheets_parse_or_say_why(
        cues in prop::collection::vec(
            (prop_oneof![
                any::<f64>().prop_map(|v| format!("{v}")),
                (0u32..30, 0u32..70, 0u32..70, 0u32..40).prop_map(|(h, m, s, f)| format!("\"{h:02}:{m:02}:{s:02}:{f:02}\"")),
                (0u32..40, 0u32..40, 0u32..40, 0u32..40).prop_map(|(h, m, s, f)| format!("\"{h:02}:{m:02}:{s:02};{f:02}\"")),
                (0u32..300, 0u32..9).prop_map(|(b, bt)| format!("\"{b}:{bt}\"")),
                Just("\"soon\"".to_string()),
            ],
             prop_oneof![any::<f64>(), -5.0f64..5.0, Just(f64::NAN)],
             any::<f64>(), any::<f64>(), 0usize..20),
            0..24),
        fps in prop::sample::select(vec![24.0, 25.0, 29.97, 30.0, 59.94, 60.0, 13.0, 0.0, -1.0]),
        pos in prop::collection::vec(-1e6f64..1e6, 8),
    ) {
        // Out of order and overlapping on purpose (times are random).
        let body: Vec<String> = cues
            .iter()
            .map(|(at, fade, intensity, contrast, name)| {
                let num = |v: f64| if v.is_finite() { format!("{v}") } else { "1e999".to_string() };
                format!(
                    "{{\"name\": \"c{name}\", \"at\": {at}, \"fade\": {}, \"intensity\": {}, \"contrast\": {}}}",
                    num(*fade), num(*intensity), num(*contrast)
                )
            })
            .collect();
        let json = format!("{{\"fps\": {fps}, \"cues\": [{}]}}", body.join(","));
        if let Ok(sheet) = CueSheet::parse(&json, CueFormat::Json) {
            prop_assert!(sheet.cues.windows(2).all(|w| w[0].at <= w[1].at));
            for p in pos.iter().chain([f64::NAN, f64::INFINITY, -0.0].iter()) {
                let look = sheet.look_at(*p);
                prop_assert!((0.0..=1.0).contains(&look.intensity), "{:?}", look);
                prop_assert!((0.0..=1.0).contains(&look.contrast));
                prop_assert!(look.rgb.iter().all(|c| (0.0..=1.0).contains(c)));
                prop_assert!(look.cct_k.is_finite());
            }
        }
        // The same cues as CSV.
        let mut csv = format!("# fps = {fps}\nat,fade,name,intensity,contrast\n");
        for (at, fade, i, c, n) in &cues {
            csv.push_str(&format!("{},{fade},c{n},{i},{c}\n", at.trim_matches('"')));
        }
        if let Ok(sheet) = CueSheet::parse(&csv, CueFormat::Csv) {
            for p in &pos {
                let look = sheet.look_at(*p);
                prop_assert!((0.0..=1.0).contains(&look.intensity));
            }
        }
    }

    #[test]
    fn presets_never_panic_and_stay_in_range(
        valence in any::<f64>(), arousal in any::<f64>(), seed in any::<i64>(),
        swing in any::<f64>(), db in any::<f64>(), key in "[a-z_]{1,10}", junk in "\\PC{0,60}",
    ) {
        let n = |v: f64| if v.is_finite() { format!("{v}") } else { "1e999".into() };
        let json = format!(
            "{{\"format\": \"mood-noir-preset\", \"version\": 1, \"settings\": {{\"mood\": {{\"valence\": {}, \"arousal\": {}}},
              \"seed\": {seed}, \"swing\": {}, \"levels\": {{\"bass_db\": {}}}, \"{key}\": 1}}}}",
            n(valence), n(arousal), n(swing), n(db)
        );
        if let Ok(p) = Preset::from_json(&json) {
            let s = p.settings;
            prop_assert!((-1.0..=1.0).contains(&s.mood.valence));
            prop_assert!((0.0..=1.0).contains(&s.mood.arousal));
            prop_assert!((0.0..=1.0).contains(&s.swing));
            prop_assert!(s.seed <= 999);
            prop_assert!(s.levels.bass_db == -80.0 || (-60.0..=6.0).contains(&s.levels.bass_db));
        }
        let _ = Preset::from_json(&junk);
    }

    #[test]
    fn saved_osc_settings_always_load_something(v in any_json(3)) {
        let c = OscConfig::from_value(v);
        prop_assert!(c.mappings.len() <= mood_noir::light::osc::MAX_MAPPINGS);
        // What loads saves and loads back the same.
        let again = OscConfig::from_value(serde_json::to_value(&c).unwrap());
        prop_assert_eq!(again.port, c.port);
        prop_assert_eq!(again.mappings, c.mappings);
    }
}

/// Arbitrary JSON values up to `depth`, biased toward the OSC settings' field names.
fn any_json(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|i| serde_json::json!(i)),
        (0u16..=65535).prop_map(|i| serde_json::json!(i)),
        "[a-z/]{0,8}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(depth, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "enabled",
                    "port",
                    "all_interfaces",
                    "auto_next_port",
                    "remembered_port",
                    "fixture",
                    "mappings",
                    "cue_folder",
                    "remote_cue_loads",
                    "allowed_senders",
                    "feedback",
                    "universe",
                    "address",
                    "target",
                    "in_min",
                    "in_max",
                    "other",
                ])
                .prop_map(String::from),
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn monitor_accounting_matches_a_known_mix() {
    // One of each kind, counted exactly.
    let (mut d, m, _rx) = decoder();
    let enc = |addr: &str, args: Vec<rosc::OscType>| {
        rosc::encoder::encode(&rosc::OscPacket::Message(rosc::OscMessage {
            addr: addr.into(),
            args,
        }))
        .unwrap()
    };
    let mut trailing = enc("/light/hit", vec![]);
    trailing.extend_from_slice(&[0, 0, 0, 0]);
    for dg in [
        enc("/light/intensity", vec![rosc::OscType::Float(0.5)]),
        enc("/light/intensity", vec![rosc::OscType::Float(f32::NAN)]),
        enc("/light/intensity", vec![rosc::OscType::String("x".into())]),
        enc("/no/such", vec![]),
        trailing,
        b"xyz".to_vec(),
    ] {
        d.datagram(&dg, Instant::now());
    }
    let c = m.counts();
    assert_eq!(
        (
            c.datagrams,
            c.accepted,
            c.out_of_range,
            c.bad_args,
            c.unknown,
            c.malformed
        ),
        (6, 1, 1, 1, 1, 2)
    );
    assert_eq!(m.counts.handled.load(Relaxed), 6);
}

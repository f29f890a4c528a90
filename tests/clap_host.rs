//! Mood Noir as a CLAP plugin, driven in-process by a minimal CLAP host
//! (`tests/common/clap_host`) through `mood_noir::clap_entry`, i.e. through nice-plug's real
//! CLAP wrapper, on a separate audio thread, the way a DAW drives it.
//!
//! Built with `--features assert_process_allocs` (and debug assertions, i.e. the dev/test
//! profile), nice-plug installs its allocation-checking global allocator and runs every
//! `clap_plugin.process()` inside `assert_no_alloc`: a single allocation there aborts this test
//! binary. So `process_three_minutes_without_allocating` passing means the whole process path
//! (wrapper, parameter events, transport, engine, voices, mixer) did not allocate once in three
//! minutes of music with automation, tempo changes, a loop jump and odd block sizes.
//!
//!     cargo test --features assert_process_allocs --test clap_host -- --nocapture
#![cfg(feature = "assert_process_allocs")]

#[path = "common/clap_host/mod.rs"]
mod clap_host;

use clap_host::{
    nice_param_hash, AudioIo, AudioSide, EventQueue, InEvent, OutEventCounter, ParamInfo, Plugin,
    STEM_PORTS,
};
use clap_sys::events::{
    clap_event_header, clap_event_transport, CLAP_TRANSPORT_HAS_BEATS_TIMELINE,
    CLAP_TRANSPORT_HAS_SECONDS_TIMELINE, CLAP_TRANSPORT_HAS_TEMPO,
    CLAP_TRANSPORT_HAS_TIME_SIGNATURE, CLAP_TRANSPORT_IS_LOOP_ACTIVE, CLAP_TRANSPORT_IS_PLAYING,
};
use clap_sys::ext::audio_ports::CLAP_AUDIO_PORT_IS_MAIN;
use clap_sys::ext::params::{CLAP_PARAM_IS_AUTOMATABLE, CLAP_PARAM_IS_STEPPED};
use clap_sys::fixedpoint::{CLAP_BEATTIME_FACTOR, CLAP_SECTIME_FACTOR};
use clap_sys::id::clap_id;
use clap_sys::process::{clap_process_status, CLAP_PROCESS_ERROR};
use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Instant;

const PLUGIN_ID: &CStr = c"com.mood-noir.mood-noir";
const SAMPLE_RATE: f64 = 48_000.0;
const MAX_FRAMES: usize = 1024;

/// (string id, display name, module/group): the parameters a host must see. The string ids
/// are persisted in sessions, and the CLAP ids are their hashes, so both are frozen.
const EXPECTED_PARAMS: [(&str, &str, &str); 54] = [
    ("valence", "Valence", "Mood"),
    ("arousal", "Arousal", "Mood"),
    ("tension", "Tension", "Mood"),
    ("source", "Mood source", "Source"),
    ("follow", "Follow amount", "Source"),
    ("scene", "Scene", "Music"),
    ("tempo_mode", "Tempo mode", "Music"),
    ("tempo", "Fixed tempo", "Music"),
    ("swing", "Swing", "Music"),
    ("seed", "Seed", "Music"),
    ("quantize", "Transition quantize", "Music"),
    ("lvl_bass", "Bass level", "Mix"),
    ("lvl_drums", "Drums level", "Mix"),
    ("lvl_keys", "Keys level", "Mix"),
    ("lvl_lead", "Lead level", "Mix"),
    ("lvl_pad", "Pad level", "Mix"),
    ("lvl_amb", "Ambience level", "Mix"),
    ("stinger_timing", "Stinger timing", "Music"),
    ("keys_voice", "Keys", "Music"),
    ("style", "Style", "Music"),
    ("stinger_cooldown", "Stinger cooldown", "Music"),
    ("light_smooth", "Light smoothing", "Light"),
    ("sc_mode", "Sidechain mode", "Light"),
    ("reverb", "Reverb", "Mix"),
    ("master", "Master", "Mix"),
    ("mute_bass", "Bass mute", "Mute and solo"),
    ("solo_bass", "Bass solo", "Mute and solo"),
    ("mute_drums", "Drums mute", "Mute and solo"),
    ("solo_drums", "Drums solo", "Mute and solo"),
    ("mute_keys", "Keys mute", "Mute and solo"),
    ("solo_keys", "Keys solo", "Mute and solo"),
    ("mute_lead", "Lead mute", "Mute and solo"),
    ("solo_lead", "Lead solo", "Mute and solo"),
    ("mute_pad", "Pad mute", "Mute and solo"),
    ("solo_pad", "Pad solo", "Mute and solo"),
    ("mute_amb", "Ambience mute", "Mute and solo"),
    ("solo_amb", "Ambience solo", "Mute and solo"),
    ("lvl_harp", "Harp level", "Mix"),
    ("lvl_brass", "Brass level", "Mix"),
    ("lvl_perc", "Percussion level", "Mix"),
    ("grain", "Grain", "Mix"),
    ("grain_wow", "Grain wow", "Mix"),
    ("grain_flutter", "Grain flutter", "Mix"),
    ("grain_sat", "Grain saturation", "Mix"),
    ("grain_hiss", "Grain hiss", "Mix"),
    ("grain_crackle", "Grain crackle", "Mix"),
    ("grain_optical", "Grain optical", "Mix"),
    ("grain_dropouts", "Grain dropouts", "Mix"),
    ("mute_harp", "Harp mute", "Mute and solo"),
    ("solo_harp", "Harp solo", "Mute and solo"),
    ("mute_brass", "Brass mute", "Mute and solo"),
    ("solo_brass", "Brass solo", "Mute and solo"),
    ("mute_perc", "Percussion mute", "Mute and solo"),
    ("solo_perc", "Percussion solo", "Mute and solo"),
];

fn create_plugin() -> Plugin {
    Plugin::create(&mood_noir::clap_entry, PLUGIN_ID)
}

/// Parameter infos by display name.
fn params_by_name(plugin: &Plugin) -> HashMap<String, ParamInfo> {
    plugin
        .param_infos()
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect()
}

fn is_stepped(info: &ParamInfo) -> bool {
    info.flags & CLAP_PARAM_IS_STEPPED != 0
}

/// The CLAP value for a normalized position `n` (0..1) of `info`. nice-plug's CLAP values are
/// normalized values times the step count (so the index for enums and ints).
fn plain(info: &ParamInfo, n: f64) -> f64 {
    let v = n.clamp(0.0, 1.0) * info.max;
    if is_stepped(info) {
        v.round()
    } else {
        v
    }
}

/// How far a read-back value may be from what was sent (float params snap to their step size).
fn value_tolerance(info: &ParamInfo) -> f64 {
    if is_stepped(info) {
        // nice-plug stores an f32 normalized value and reports it times the step count.
        1e-6 * info.max.max(1.0)
    } else {
        // Float params snap to their step size (0.1 dB on the skewed level ranges is up to
        // ~0.0021 normalized near +6 dB).
        5e-3
    }
}

/// Mood Noir's descriptor, ports and parameters, as a host discovers them.
fn check_discovery(plugin: &Plugin) -> HashMap<String, ParamInfo> {
    let d = plugin.descriptor();
    let s =
        |p: *const std::ffi::c_char| unsafe { clap_host::c_ptr_to_string(p) }.unwrap_or_default();
    assert_eq!(s(d.id), "com.mood-noir.mood-noir");
    assert_eq!(s(d.name), "Mood Noir");
    let mut features = Vec::new();
    if !d.features.is_null() {
        let mut i = 0;
        loop {
            let f = unsafe { *d.features.add(i) };
            if f.is_null() {
                break;
            }
            features.push(s(f));
            i += 1;
        }
    }
    println!(
        "descriptor: {} {} by {} - features {:?}",
        s(d.name),
        s(d.version),
        s(d.vendor),
        features
    );
    assert!(features.iter().any(|f| f == "instrument"), "{features:?}");

    // Audio ports: the stereo light sidechain as the main input (a main input keeps nice-plug's
    // VST3 bus-arrangement code inside the host's arrays), one stereo main out.
    let inputs = plugin.audio_ports(true);
    let outputs = plugin.audio_ports(false);
    println!("audio inputs: {inputs:?}");
    println!("audio outputs: {outputs:?}");
    assert_eq!(inputs.len(), 1, "one input port (the sidechain)");
    assert_eq!(inputs[0].name, mood_noir::plugin::MAIN_PORT_NAME);
    assert_eq!(inputs[0].channel_count, 2);
    assert_ne!(
        inputs[0].flags & CLAP_AUDIO_PORT_IS_MAIN,
        0,
        "the sidechain is the main input"
    );
    assert_eq!(inputs[0].port_type.as_deref(), Some("stereo"));
    // The default layout: the main output alone (for hosts that set up no aux buses).
    assert_eq!(
        outputs.len(),
        1,
        "the default layout has the main output only"
    );
    // The stems layout, as a host that wants the stems selects it (the caller then processes
    // with `AudioIo::with_stems`).
    assert!(
        plugin.select_ports_config(1),
        "the stems layout can be selected"
    );
    let outputs = plugin.audio_ports(false);
    println!("audio outputs with stems: {outputs:?}");
    assert_eq!(
        outputs.len(),
        1 + STEM_PORTS,
        "the main output and the stems"
    );
    let stem_names: Vec<&str> = outputs[1..].iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        stem_names,
        [
            "Bass",
            "Drums",
            "Keys",
            "Lead",
            "Pad",
            "Ambience",
            "Room",
            "Harp",
            "Brass",
            "Percussion"
        ]
    );
    for o in &outputs[1..] {
        assert_eq!(o.channel_count, 2);
        assert_eq!(
            o.flags & CLAP_AUDIO_PORT_IS_MAIN,
            0,
            "{} is not main",
            o.name
        );
    }
    // nice-plug-core 0.4.2 reads the main output's name from `names.main_input`: one name
    // that says what both main ports carry.
    assert_eq!(outputs[0].name, mood_noir::plugin::MAIN_PORT_NAME);
    assert_eq!(outputs[0].channel_count, 2);
    assert_ne!(
        outputs[0].flags & CLAP_AUDIO_PORT_IS_MAIN,
        0,
        "the output is main"
    );
    assert_eq!(outputs[0].port_type.as_deref(), Some("stereo"));
    assert_ne!(inputs[0].id, outputs[0].id, "port ids are unique");

    // Parameters.
    let infos = plugin.param_infos();
    println!("{} parameters:", infos.len());
    for p in &infos {
        println!(
            "  {:>10}  {:<20} {:<8} range {}..{} default {} ({}){}",
            p.id,
            p.name,
            p.module,
            p.min,
            p.max,
            p.default,
            plugin.param_value_text(p.id, p.default).unwrap_or_default(),
            if is_stepped(p) { " stepped" } else { "" }
        );
    }
    assert_eq!(infos.len(), EXPECTED_PARAMS.len(), "parameter count");
    let mut ids: Vec<clap_id> = infos.iter().map(|p| p.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), infos.len(), "parameter ids are unique");
    let by_name: HashMap<String, ParamInfo> =
        infos.iter().map(|p| (p.name.clone(), p.clone())).collect();
    for (string_id, name, module) in EXPECTED_PARAMS {
        let p = by_name
            .get(name)
            .unwrap_or_else(|| panic!("no parameter named {name:?}"));
        assert_eq!(p.module, module, "module of {name}");
        assert_eq!(
            p.id,
            nice_param_hash(string_id),
            "CLAP id of {name} is not the hash of {string_id:?}: the string id changed"
        );
        assert_ne!(
            p.flags & CLAP_PARAM_IS_AUTOMATABLE,
            0,
            "{name} is automatable"
        );
        assert!(
            p.min <= p.default && p.default <= p.max,
            "{name} default in range"
        );
        let v = plugin.param_value(p.id).expect("get_value");
        assert!(
            (v - p.default).abs() < 1e-6,
            "{name}: a fresh instance is at its default ({v} vs {})",
            p.default
        );
    }
    for (name, steps) in [
        ("Mood source", 2.0),
        ("Tempo mode", 3.0),
        ("Transition quantize", 3.0),
        ("Scene", 16.0),
        ("Seed", 999.0),
    ] {
        assert!(is_stepped(&by_name[name]), "{name} is stepped");
        assert_eq!(by_name[name].max, steps, "{name} step count");
    }
    let unknown: clap_id = 0x1234_5678;
    if !ids.contains(&unknown) {
        assert!(
            plugin.param_value(unknown).is_none(),
            "get_value of an unknown id must fail"
        );
    }
    by_name
}

/// Sets parameters with `params.flush` on the main thread (plugin inactive).
fn set_params_inactive(plugin: &Plugin, values: &[(clap_id, f64)]) {
    let mut q = EventQueue::with_capacity(values.len());
    for &(id, v) in values {
        q.push(InEvent::param_value(0, id, v));
    }
    plugin.flush_params_main_thread(&q);
    for &(id, v) in values {
        let got = plugin.param_value(id).expect("get_value");
        assert!((got - v).abs() < 5e-3, "param {id}: set {v}, reads {got}");
    }
}

// ---------------------------------------------------------------------------------------------
// The host's timeline
// ---------------------------------------------------------------------------------------------

/// A host timeline in 4/4 with a tempo map: `tempo_a` up to `change_s` seconds, `tempo_b`
/// after. The song position is kept in samples (exact); seconds and beats derive from it.
#[derive(Clone, Copy)]
struct Timeline {
    sr: f64,
    tempo_a: f64,
    tempo_b: f64,
    change_s: f64,
}

impl Timeline {
    fn constant(tempo: f64) -> Self {
        Self::constant_at(tempo, SAMPLE_RATE)
    }

    fn constant_at(tempo: f64, sr: f64) -> Self {
        Self {
            sr,
            tempo_a: tempo,
            tempo_b: tempo,
            change_s: f64::INFINITY,
        }
    }

    fn seconds(&self, pos: i64) -> f64 {
        pos as f64 / self.sr
    }

    fn tempo_at(&self, pos: i64) -> f64 {
        if self.seconds(pos) < self.change_s {
            self.tempo_a
        } else {
            self.tempo_b
        }
    }

    fn beats(&self, pos: i64) -> f64 {
        let s = self.seconds(pos);
        if s < self.change_s {
            s * self.tempo_a / 60.0
        } else {
            self.change_s * self.tempo_a / 60.0 + (s - self.change_s) * self.tempo_b / 60.0
        }
    }

    /// The `clap_event_transport` a host sends for a block starting at song position `pos`.
    fn transport(
        &self,
        pos: i64,
        playing: bool,
        loop_samples: Option<(i64, i64)>,
    ) -> clap_event_transport {
        let beats = self.beats(pos);
        let bar_number = (beats / 4.0).floor();
        let beat_time = |b: f64| (b * CLAP_BEATTIME_FACTOR as f64).round() as i64;
        let sec_time = |s: f64| (s * CLAP_SECTIME_FACTOR as f64).round() as i64;
        let mut flags = CLAP_TRANSPORT_HAS_TEMPO
            | CLAP_TRANSPORT_HAS_BEATS_TIMELINE
            | CLAP_TRANSPORT_HAS_SECONDS_TIMELINE
            | CLAP_TRANSPORT_HAS_TIME_SIGNATURE;
        if playing {
            flags |= CLAP_TRANSPORT_IS_PLAYING;
        }
        let (mut ls_b, mut le_b, mut ls_s, mut le_s) = (0, 0, 0, 0);
        if let Some((start, end)) = loop_samples {
            flags |= CLAP_TRANSPORT_IS_LOOP_ACTIVE;
            ls_b = beat_time(self.beats(start));
            le_b = beat_time(self.beats(end));
            ls_s = sec_time(self.seconds(start));
            le_s = sec_time(self.seconds(end));
        }
        clap_event_transport {
            header: clap_event_header {
                size: std::mem::size_of::<clap_event_transport>() as u32,
                time: 0,
                space_id: clap_sys::events::CLAP_CORE_EVENT_SPACE_ID,
                type_: clap_sys::events::CLAP_EVENT_TRANSPORT,
                flags: 0,
            },
            flags,
            song_pos_beats: beat_time(beats),
            song_pos_seconds: sec_time(self.seconds(pos)),
            tempo: self.tempo_at(pos),
            tempo_inc: 0.0,
            loop_start_beats: ls_b,
            loop_end_beats: le_b,
            loop_start_seconds: ls_s,
            loop_end_seconds: le_s,
            bar_start: beat_time(bar_number * 4.0),
            bar_number: bar_number as i32,
            tsig_num: 4,
            tsig_denom: 4,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Output checks
// ---------------------------------------------------------------------------------------------

/// Running checks over every output sample.
#[derive(Default)]
struct OutputStats {
    samples: u64,
    sum_sq: f64,
    peak: f32,
    /// Rendered sample index of `peak`.
    peak_at: u64,
    /// (rendered sample index, channel, value) of the first bad sample of each kind.
    first_non_finite: Option<(u64, usize, f32)>,
    first_over_full_scale: Option<(u64, usize, f32)>,
    first_subnormal: Option<(u64, usize, f32)>,
    non_finite: u64,
    over_full_scale: u64,
    subnormal: u64,
    /// (rms, peak) per window of `window` samples.
    windows: Vec<(f64, f32)>,
    window: u64,
    win_sum_sq: f64,
    win_peak: f32,
    win_n: u64,
}

impl OutputStats {
    fn new(window: u64) -> Self {
        Self {
            window,
            windows: Vec::with_capacity(64),
            ..Default::default()
        }
    }

    fn check_block(&mut self, left: &[f32], right: &[f32]) {
        for i in 0..left.len() {
            for (ch, x) in [left[i], right[i]].into_iter().enumerate() {
                let at = (self.samples, ch, x);
                if !x.is_finite() {
                    self.non_finite += 1;
                    self.first_non_finite.get_or_insert(at);
                    continue;
                }
                let a = x.abs();
                if a >= 1.0 {
                    self.over_full_scale += 1;
                    self.first_over_full_scale.get_or_insert(at);
                }
                if x != 0.0 && a < f32::MIN_POSITIVE {
                    self.subnormal += 1;
                    self.first_subnormal.get_or_insert(at);
                }
                if a > self.peak {
                    self.peak = a;
                    self.peak_at = self.samples;
                }
                self.win_peak = self.win_peak.max(a);
                let sq = (x as f64) * (x as f64);
                self.sum_sq += sq;
                self.win_sum_sq += sq;
            }
            self.samples += 1;
            self.win_n += 1;
            if self.win_n == self.window {
                self.close_window();
            }
        }
    }

    fn close_window(&mut self) {
        if self.win_n > 0 {
            let rms = (self.win_sum_sq / (2 * self.win_n) as f64).sqrt();
            self.windows.push((rms, self.win_peak));
        }
        self.win_sum_sq = 0.0;
        self.win_peak = 0.0;
        self.win_n = 0;
    }

    fn rms(&self) -> f64 {
        (self.sum_sq / (2 * self.samples.max(1)) as f64).sqrt()
    }

    fn db(x: f64) -> f64 {
        20.0 * x.max(1e-12).log10()
    }

    fn assert_clean(&self, what: &str) {
        let sr = SAMPLE_RATE;
        let fmt = |o: Option<(u64, usize, f32)>| {
            o.map(|(i, ch, x)| {
                format!(
                    "first at {:.4} s (sample {i}, ch {ch}): {x:e}",
                    i as f64 / sr
                )
            })
            .unwrap_or_default()
        };
        assert_eq!(
            self.non_finite,
            0,
            "{what}: non-finite output samples; {}",
            fmt(self.first_non_finite)
        );
        assert_eq!(
            self.over_full_scale,
            0,
            "{what}: samples at or above 0 dBFS (peak {}); {}",
            self.peak,
            fmt(self.first_over_full_scale)
        );
        assert_eq!(
            self.subnormal,
            0,
            "{what}: subnormal output samples; {}",
            fmt(self.first_subnormal)
        );
        assert!(
            self.rms() > 1e-3,
            "{what}: silent output (rms {:e})",
            self.rms()
        );
    }
}

/// Fills the sidechain with a 220 Hz tone at -12 dBFS while `on`, silence otherwise.
fn fill_sidechain(io: &mut AudioIo, frames: usize, start_sample: u64, on: bool) {
    for ch in 0..2 {
        let buf = &mut io.sidechain[ch][..frames];
        if on {
            for (i, x) in buf.iter_mut().enumerate() {
                let t = (start_sample + i as u64) as f64 / SAMPLE_RATE;
                *x = (0.25 * (2.0 * std::f64::consts::PI * 220.0 * t + ch as f64 * 0.5).sin())
                    as f32;
            }
        } else {
            buf.fill(0.0);
        }
    }
}

fn assert_process_ok(status: clap_process_status, at: u64) {
    assert_ne!(
        status, CLAP_PROCESS_ERROR,
        "process() returned CLAP_PROCESS_ERROR at sample {at}"
    );
}

/// A small deterministic generator for the automation schedule.
struct Lcg(u64);

impl Lcg {
    fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }

    fn unit(&mut self) -> f64 {
        self.next_u32() as f64 / (1u64 << 31) as f64
    }
}

// ---------------------------------------------------------------------------------------------
// Test 1: discovery + three minutes of music through process(), allocation-checked
// ---------------------------------------------------------------------------------------------

/// One scheduled parameter change.
#[derive(Clone, Copy, Debug)]
struct Change {
    /// Rendered sample at which it applies.
    at: u64,
    id: clap_id,
    value: f64,
    /// Delivered through `params.flush` between blocks instead of `process()`'s in_events.
    via_flush: bool,
}

/// Every 2.5 s a parameter (or a group) changes; every fourth change goes through
/// `params.flush`. At 30 s and again at 95 s (so across the loop jump at 100 s) every level
/// and the master go to +6 dB to lean on the limiter; at 75 s and 110 s a moderate mix. Valence/arousal/tension, tempo mode, fixed tempo, quantize, scene, levels,
/// swing, seed, source and follow all move.
fn automation(by_name: &HashMap<String, ParamInfo>, total: u64) -> Vec<Change> {
    let sr = SAMPLE_RATE as u64;
    let id = |n: &str| by_name[n].id;
    let cycle = [
        "Valence",
        "Arousal",
        "Tempo mode",
        "Tension",
        "Transition quantize",
        "Scene",
        "Bass level",
        "Fixed tempo",
        "Drums level",
        "Keys level",
        "Swing",
        "Valence",
        "Seed",
        "Arousal",
        "Mood source",
        "Follow amount",
        "Reverb",
        "Master",
        "Scene",
        "Tempo mode",
        "Style",
        "Grain",
        "Harp level",
        "Style",
    ];
    let mut rng = Lcg(0x6d6f_6f64_6e6f_6972);
    let mut out = Vec::new();
    let mut k = 0u64;
    let step = sr * 5 / 2;
    let mut at = step;
    let mut tempo_mode_next = 1.0; // Host -> Mood -> Fixed -> Host ...
    while at < total {
        let via_flush = k % 4 == 3;
        if at == 30 * sr || at == 95 * sr {
            for n in ["Bass level", "Drums level", "Keys level", "Master"] {
                out.push(Change {
                    at,
                    id: id(n),
                    value: by_name[n].max,
                    via_flush,
                });
            }
        } else if at == 75 * sr || at == 110 * sr {
            for (n, v) in [
                ("Bass level", 0.75),
                ("Drums level", 0.6),
                ("Keys level", 0.8),
                ("Master", 0.85),
            ] {
                out.push(Change {
                    at,
                    id: id(n),
                    value: plain(&by_name[n], v),
                    via_flush,
                });
            }
        } else {
            let name = cycle[(k as usize) % cycle.len()];
            let info = &by_name[name];
            let value = match name {
                "Tempo mode" => {
                    let v = tempo_mode_next;
                    tempo_mode_next = (tempo_mode_next + 1.0) % 3.0;
                    v
                }
                "Bass level" | "Drums level" | "Keys level" => plain(info, 0.6 + 0.4 * rng.unit()),
                "Master" => plain(info, 0.8 + 0.2 * rng.unit()),
                _ if is_stepped(info) => (rng.next_u32() as f64 % (info.max + 1.0)).floor(),
                _ => plain(info, rng.unit()),
            };
            out.push(Change {
                at,
                id: info.id,
                value,
                via_flush,
            });
        }
        k += 1;
        at += step;
    }
    out
}

#[test]
fn process_three_minutes_without_allocating() {
    let t0 = Instant::now();
    let mut plugin = create_plugin();
    let by_name = check_discovery(&plugin);

    assert!(
        plugin.activate(SAMPLE_RATE, 1, MAX_FRAMES as u32),
        "activate failed"
    );
    let latency = plugin.latency().expect("latency extension");
    println!("latency: {latency} samples");
    assert!(
        latency < (SAMPLE_RATE * 0.05) as u32,
        "latency {latency} samples is implausible"
    );

    let sr = SAMPLE_RATE as i64;
    // Three minutes of rendered music.
    let total: u64 = 180 * SAMPLE_RATE as u64;
    // 120 BPM for the first 60 s of the song, 96 BPM after; a loop over [16 s, 100 s) of the
    // song is taken once (so the song jumps back from bar 46 to bar 8 after 100 s of music).
    let timeline = Timeline {
        sr: SAMPLE_RATE,
        tempo_a: 120.0,
        tempo_b: 96.0,
        change_s: 60.0,
    };
    let loop_range = (16 * sr, 100 * sr);
    let changes = automation(&by_name, total);
    println!("{} scheduled parameter changes:", changes.len());
    for c in &changes {
        let info = by_name.values().find(|p| p.id == c.id).expect("known id");
        println!(
            "  {:7.2} s  {:<20} {:>10.4}  {:<18} {}",
            c.at as f64 / SAMPLE_RATE,
            info.name,
            c.value,
            plugin.param_value_text(c.id, c.value).unwrap_or_default(),
            if c.via_flush {
                "(params.flush)"
            } else {
                "(process in_events)"
            }
        );
    }
    let schedule = [64usize, 128, 480, 1024, 1, 37];

    let (stats, last_sent, counts) = plugin.run_audio_thread(move |audio: AudioSide| {
        let mut io = AudioIo::with_stems(MAX_FRAMES);
        let mut events = EventQueue::with_capacity(16);
        let mut flush_events = EventQueue::with_capacity(16);
        let mut out_events = OutEventCounter::default();
        let mut stats = OutputStats::new(SAMPLE_RATE as u64);
        let mut last_sent: HashMap<clap_id, f64> = HashMap::new();
        let mut next_change = 0usize;
        let mut rendered: u64 = 0;
        let mut song_pos: i64 = 0;
        let mut loop_active = true;
        let mut blocks = 0u64;
        let mut flushes = 0u64;
        let mut jumps = 0u64;
        let mut stem_err = 0.0f32;
        while rendered < total {
            let mut frames =
                schedule[(blocks as usize) % schedule.len()].min((total - rendered) as usize);
            if loop_active {
                let to_end = (loop_range.1 - song_pos) as usize;
                frames = frames.min(to_end);
            }
            // Changes due before this block's end: flush ones now, the rest as events.
            events.clear();
            flush_events.clear();
            while next_change < changes.len() && changes[next_change].at < rendered + frames as u64
            {
                let c = changes[next_change];
                if c.via_flush {
                    flush_events.push(InEvent::param_value(0, c.id, c.value));
                } else {
                    let time = c.at.saturating_sub(rendered) as u32;
                    events.push(InEvent::param_value(time, c.id, c.value));
                }
                last_sent.insert(c.id, c.value);
                next_change += 1;
            }
            if !flush_events.is_empty() {
                audio.flush_params(&flush_events, &mut out_events);
                flushes += 1;
            }
            let secs = rendered / SAMPLE_RATE as u64;
            fill_sidechain(
                &mut io,
                frames,
                rendered,
                (20..80).contains(&secs) || (120..160).contains(&secs),
            );
            let transport = timeline.transport(song_pos, true, loop_active.then_some(loop_range));
            let status = audio.process(
                &mut io,
                frames,
                rendered as i64,
                Some(&transport),
                &events,
                &mut out_events,
            );
            assert_process_ok(status, rendered);
            stats.check_block(&io.out[0][..frames], &io.out[1][..frames]);
            // The stems sum to the main output.
            for c in 0..2 {
                for i in 0..frames {
                    let sum: f32 = io.stems.iter().map(|s| s[c][i]).sum();
                    stem_err = stem_err.max((sum - io.out[c][i]).abs());
                }
            }
            rendered += frames as u64;
            song_pos += frames as i64;
            blocks += 1;
            if loop_active && song_pos == loop_range.1 {
                song_pos = loop_range.0;
                loop_active = false;
                jumps += 1;
            }
        }
        stats.close_window();
        (
            stats,
            last_sent,
            (
                blocks,
                flushes,
                jumps,
                out_events.pushed,
                stem_err,
                out_events,
            ),
        )
    });

    let (blocks, flushes, jumps, out_pushed, stem_err, out_events) = counts;
    println!(
        "MIDI out: {} note-ons, {} note-offs, {} MIDI (mood CC) events; stems sum to main within {stem_err:e}",
        out_events.note_ons, out_events.note_offs, out_events.midi
    );
    // Three minutes of a band: thousands of notes, every note closed, mood lanes every beat.
    assert!(
        out_events.note_ons > 1000,
        "{} note-ons",
        out_events.note_ons
    );
    assert!(
        out_events.note_offs + 64 >= out_events.note_ons
            && out_events.note_offs <= out_events.note_ons + 64
    );
    assert!(out_events.midi > 200, "{} mood CC events", out_events.midi);
    assert_eq!(out_events.late, 0, "events timed past their block");
    assert_eq!(
        out_events.out_of_order, 0,
        "output events out of time order (first: {:?})",
        out_events.first_disorder
    );
    assert!(
        stem_err < 1e-5,
        "stems differ from the main mix by {stem_err}"
    );
    println!(
        "rendered {:.1} s in {blocks} process() calls ({flushes} params.flush calls, {jumps} loop jump), \
         {out_pushed} output events; peak {:.2} dBFS at {:.4} s, rms {:.1} dBFS",
        stats.samples as f64 / SAMPLE_RATE,
        OutputStats::db(stats.peak as f64),
        stats.peak_at as f64 / SAMPLE_RATE,
        OutputStats::db(stats.rms())
    );
    // Per 10 s (from the 1-second windows).
    for (i, w) in stats.windows.chunks(10).enumerate() {
        let rms = (w.iter().map(|(r, _)| r * r).sum::<f64>() / w.len() as f64).sqrt();
        let peak = w.iter().map(|(_, p)| *p).fold(0.0f32, f32::max);
        println!(
            "  {:>3}-{:>3} s: rms {:6.1} dBFS, peak {:6.2} dBFS",
            i * 10,
            i * 10 + w.len(),
            OutputStats::db(rms),
            OutputStats::db(peak as f64)
        );
    }
    // Not asserted here (see `switching_tempo_mode_to_host_keeps_the_band_playing`), but
    // reported: seconds in which the band was (nearly) silent.
    let quiet: Vec<usize> = (0..stats.windows.len())
        .filter(|&i| OutputStats::db(stats.windows[i].0) < -40.0)
        .collect();
    if !quiet.is_empty() {
        println!("NOTE: output below -40 dBFS rms in seconds {quiet:?}");
    }
    assert_eq!(stats.samples, total);
    assert_eq!(jumps, 1);
    stats.assert_clean("3-minute run");

    // The host's last word on every automated parameter is what the plugin reports.
    let info_by_id: HashMap<clap_id, &ParamInfo> = by_name.values().map(|p| (p.id, p)).collect();
    for (id, sent) in &last_sent {
        let info = info_by_id[id];
        let got = plugin.param_value(*id).expect("get_value");
        assert!(
            (got - sent).abs() <= value_tolerance(info),
            "{}: last automation value {sent}, plugin reports {got}",
            info.name
        );
    }
    let req = plugin.requests();
    println!(
        "host requests: restart {} ({} honoured), process {}, callback {}, params rescan {}, \
         latency changed {}, thread violations {}",
        req.restart.load(SeqCst),
        plugin.restarts_done(),
        req.process.load(SeqCst),
        req.callback.load(SeqCst),
        req.params_rescan.load(SeqCst),
        req.latency_changed.load(SeqCst),
        req.thread_violations.load(SeqCst),
    );
    assert_eq!(
        req.thread_violations.load(SeqCst),
        0,
        "host callbacks from the wrong thread"
    );
    assert_eq!(
        req.restart.load(SeqCst),
        plugin.restarts_done(),
        "the plugin asked for a restart while processing with an unchanged configuration"
    );

    plugin.deactivate();
    drop(plugin);
    println!(
        "process_three_minutes_without_allocating: {:.1} s wall",
        t0.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// Test 2: state save/load through clap.state, and garbage rejection
// ---------------------------------------------------------------------------------------------

/// Every parameter's CLAP value, by id.
fn all_values(plugin: &Plugin, infos: &[ParamInfo]) -> Vec<(clap_id, f64)> {
    infos
        .iter()
        .map(|p| (p.id, plugin.param_value(p.id).expect("get_value")))
        .collect()
}

fn assert_values_eq(plugin: &Plugin, infos: &[ParamInfo], want: &[(clap_id, f64)], what: &str) {
    for ((id, w), p) in want.iter().zip(infos) {
        assert_eq!(*id, p.id);
        let got = plugin.param_value(*id).expect("get_value");
        assert!(
            (got - w).abs() < 1e-6,
            "{what}: {} is {got} ({}), expected {w} ({})",
            p.name,
            plugin.param_value_text(*id, got).unwrap_or_default(),
            plugin.param_value_text(*id, *w).unwrap_or_default()
        );
    }
}

#[test]
fn state_round_trips_and_rejects_garbage() {
    let t0 = Instant::now();
    let a = create_plugin();
    let by_name = params_by_name(&a);
    let infos = a.param_infos();
    let v = |n: &str, x: f64| (by_name[n].id, plain(&by_name[n], x));
    // Every parameter away from its default: chosen values for the main ones, the far end
    // of the range for the rest; in the host's parameter order.
    let chosen = [
        v("Valence", 0.2),
        v("Arousal", 0.8),
        v("Tension", 0.75),
        (by_name["Mood source"].id, 2.0),
        v("Follow amount", 0.25),
        (by_name["Tempo mode"].id, 2.0),
        v("Fixed tempo", 0.4),
        v("Swing", 0.1),
        (by_name["Seed"].id, 123.0),
        (by_name["Transition quantize"].id, 3.0),
        (by_name["Scene"].id, 4.0),
        v("Bass level", 0.9),
        v("Drums level", 0.7),
        v("Keys level", 0.95),
        v("Reverb", 0.6),
        v("Master", 0.8),
    ];
    let settings: Vec<(clap_id, f64)> = infos
        .iter()
        .map(|p| match chosen.iter().find(|(id, _)| *id == p.id) {
            Some(&c) => c,
            // Muting everything would leave nothing to hear after the restore: mute only the
            // ambience (the solos, all on, leave the band playing).
            None if p.name.ends_with(" mute") && p.name != "Ambience mute" => (p.id, p.default),
            None => (
                p.id,
                if (p.default - p.max).abs() > 1e-9 {
                    p.max
                } else {
                    p.min
                },
            ),
        })
        .collect();
    assert_eq!(settings.len(), infos.len());
    set_params_inactive(&a, &settings);
    let a_values = all_values(&a, &infos);
    for ((_, val), p) in a_values.iter().zip(&infos) {
        if p.name.ends_with(" mute") && p.name != "Ambience mute" {
            continue;
        }
        assert!(
            (val - p.default).abs() > 1e-6,
            "{} should be away from its default",
            p.name
        );
    }

    let blob = a.save_state().expect("state.save failed");
    // nice-plug's CLAP state: an 8-byte little-endian length, then the JSON `PluginState`.
    assert!(blob.len() > 8);
    let len = u64::from_le_bytes(blob[..8].try_into().unwrap()) as usize;
    assert_eq!(len, blob.len() - 8, "length prefix");
    let json: serde_json::Value = serde_json::from_slice(&blob[8..]).expect("state is JSON");
    println!("saved state ({} bytes): {}", blob.len(), json);
    let saved_params = json["params"].as_object().expect("state has params");
    for (string_id, _, _) in EXPECTED_PARAMS {
        assert!(
            saved_params.contains_key(string_id),
            "state lacks {string_id}"
        );
    }
    assert_eq!(
        json["fields"]["state-version"].as_str(),
        Some(
            mood_noir::plugin::params::STATE_VERSION
                .to_string()
                .as_str()
        ),
        "persisted state version"
    );
    // Saving twice gives the same bytes.
    assert_eq!(a.save_state().as_deref(), Some(&blob[..]));

    // A fresh instance starts at the defaults and takes the state (read 7 bytes at a time).
    let b = create_plugin();
    for p in &infos {
        let got = b.param_value(p.id).unwrap();
        assert!(
            (got - p.default).abs() < 1e-6,
            "fresh {} at default",
            p.name
        );
    }
    assert!(b.load_state(&blob, 7), "state.load of a valid state failed");
    assert_values_eq(&b, &infos, &a_values, "after load");
    // And saves it back identically.
    assert_eq!(
        b.save_state().as_deref(),
        Some(&blob[..]),
        "re-saved state differs"
    );

    // Garbage must be refused (false), without a crash, leaving the values alone.
    let mut garbled = blob.clone();
    for x in garbled[8..].iter_mut() {
        *x ^= 0x5a;
    }
    let mut rng = Lcg(42);
    let mut random = 512u64.to_le_bytes().to_vec();
    random.extend((0..512).map(|_| rng.next_u32() as u8));
    let mut null_state = 4u64.to_le_bytes().to_vec();
    null_state.extend_from_slice(b"null");
    let mut wrong_shape = 9u64.to_le_bytes().to_vec();
    wrong_shape.extend_from_slice(b"[1, 2, 3]");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("short length prefix", blob[..5].to_vec()),
        ("length prefix only", blob[..8].to_vec()),
        (
            "huge length prefix",
            u64::MAX
                .to_le_bytes()
                .into_iter()
                .chain(blob[8..].iter().copied())
                .collect(),
        ),
        ("truncated to half", blob[..blob.len() / 2].to_vec()),
        ("truncated by one byte", blob[..blob.len() - 1].to_vec()),
        ("garbled body", garbled),
        ("random body", random),
        ("JSON null", null_state),
        ("JSON array", wrong_shape),
    ];
    for (what, bytes) in &cases {
        let ok = b.load_state(bytes, 64);
        assert!(!ok, "state.load accepted {what} ({} bytes)", bytes.len());
        assert_values_eq(&b, &infos, &a_values, &format!("after refusing {what}"));
        println!("refused: {what} ({} bytes)", bytes.len());
    }

    // The loaded instance plays: two seconds through process() with the restored scene.
    let mut b = b;
    assert!(b.activate(SAMPLE_RATE, 1, MAX_FRAMES as u32));
    let stats = b.run_audio_thread(|audio| {
        let mut io = AudioIo::new(MAX_FRAMES);
        let events = EventQueue::with_capacity(0);
        let mut out = OutEventCounter::default();
        let mut stats = OutputStats::new(SAMPLE_RATE as u64);
        let tl = Timeline::constant(120.0);
        let mut pos = 0i64;
        while pos < 2 * SAMPLE_RATE as i64 {
            let t = tl.transport(pos, true, None);
            fill_sidechain(&mut io, 256, pos as u64, false);
            assert_process_ok(
                audio.process(&mut io, 256, pos, Some(&t), &events, &mut out),
                pos as u64,
            );
            stats.check_block(&io.out[0][..256], &io.out[1][..256]);
            pos += 256;
        }
        stats
    });
    stats.assert_clean("restored instance");
    assert_values_eq(&b, &infos, &a_values, "after processing");
    drop(b);
    drop(a);
    println!(
        "state_round_trips_and_rejects_garbage: {:.1} s wall",
        t0.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// Test 3: block-size independence
// ---------------------------------------------------------------------------------------------

/// Renders `seconds` of a fresh instance with `values` set before activation, a playing host
/// at 120 BPM, and blocks cycling through `schedule`.
fn render(values: &[(clap_id, f64)], seconds: u64, schedule: &'static [usize]) -> [Vec<f32>; 2] {
    let mut plugin = create_plugin();
    set_params_inactive(&plugin, values);
    assert!(plugin.activate(SAMPLE_RATE, 1, MAX_FRAMES as u32));
    let total = (seconds * SAMPLE_RATE as u64) as usize;
    let out = plugin.run_audio_thread(move |audio| {
        let mut io = AudioIo::new(MAX_FRAMES);
        let events = EventQueue::with_capacity(0);
        let mut out_events = OutEventCounter::default();
        let tl = Timeline::constant(120.0);
        let mut out = [Vec::with_capacity(total), Vec::with_capacity(total)];
        let mut pos = 0usize;
        let mut k = 0usize;
        while pos < total {
            let frames = schedule[k % schedule.len()].min(total - pos);
            let t = tl.transport(pos as i64, true, None);
            fill_sidechain(&mut io, frames, pos as u64, false);
            let status = audio.process(
                &mut io,
                frames,
                pos as i64,
                Some(&t),
                &events,
                &mut out_events,
            );
            assert_process_ok(status, pos as u64);
            out[0].extend_from_slice(&io.out[0][..frames]);
            out[1].extend_from_slice(&io.out[1][..frames]);
            pos += frames;
            k += 1;
        }
        out
    });
    plugin.deactivate();
    out
}

#[test]
fn output_is_block_size_independent() {
    let t0 = Instant::now();
    let by_name = {
        let p = create_plugin();
        params_by_name(&p)
    };
    let v = |n: &str, x: f64| (by_name[n].id, plain(&by_name[n], x));
    let values = [
        v("Valence", 0.35),
        v("Arousal", 0.65),
        v("Tension", 0.55),
        v("Swing", 0.7),
        (by_name["Seed"].id, 77.0),
        (by_name["Transition quantize"].id, 0.0),
        v("Reverb", 0.5),
    ];
    const SECONDS: u64 = 20;
    static STEADY: [usize; 1] = [512];
    static RAGGED: [usize; 10] = [1, 37, 64, 1024, 480, 7, 333, 128, 1000, 2];
    let a = render(&values, SECONDS, &STEADY);
    let b = render(&values, SECONDS, &RAGGED);

    let mut stats = OutputStats::new(SAMPLE_RATE as u64 * SECONDS);
    stats.check_block(&a[0], &a[1]);
    stats.close_window();
    println!(
        "20 s at 512-sample blocks vs ragged blocks: rms {:.1} dBFS, peak {:.2} dBFS",
        OutputStats::db(stats.rms()),
        OutputStats::db(stats.peak as f64)
    );
    stats.assert_clean("block-size run");
    for ch in 0..2 {
        assert_eq!(a[ch].len(), b[ch].len());
        let diffs = a[ch]
            .iter()
            .zip(&b[ch])
            .filter(|(x, y)| x.to_bits() != y.to_bits())
            .count();
        if let Some(i) = (0..a[ch].len()).find(|&i| a[ch][i].to_bits() != b[ch][i].to_bits()) {
            let max_diff = a[ch]
                .iter()
                .zip(&b[ch])
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            panic!(
                "channel {ch}: outputs differ at {diffs} samples, first at sample {i} ({:.4} s): {} vs {}; \
                 max |diff| {max_diff:e}",
                i as f64 / SAMPLE_RATE,
                a[ch][i],
                b[ch][i]
            );
        }
    }
    println!(
        "output_is_block_size_independent: {:.1} s wall",
        t0.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// Test 4: switching the tempo mode to Host while the host plays
// ---------------------------------------------------------------------------------------------

/// Plays `before_s` seconds in Fixed tempo mode at `fixed_bpm` against a host playing at
/// 120 BPM, switches Tempo mode to Host with an in-process event, plays `after_s` more seconds
/// and returns the (rms, peak) of every 1-second window after the switch.
fn switch_to_host_tempo(fixed_bpm: f64, before_s: u64, after_s: u64) -> Vec<(f64, f32)> {
    let mut plugin = create_plugin();
    let by_name = params_by_name(&plugin);
    let tempo = &by_name["Fixed tempo"];
    let tempo_mode = by_name["Tempo mode"].id;
    set_params_inactive(
        &plugin,
        &[(tempo_mode, 2.0), (tempo.id, (fixed_bpm - 30.0) / 270.0)],
    );
    assert!(plugin.activate(SAMPLE_RATE, 1, MAX_FRAMES as u32));
    let sr = SAMPLE_RATE as u64;
    let stats = plugin.run_audio_thread(move |audio| {
        let mut io = AudioIo::new(MAX_FRAMES);
        let mut events = EventQueue::with_capacity(1);
        let mut out = OutEventCounter::default();
        let mut stats = OutputStats::new(sr);
        let tl = Timeline::constant(120.0);
        let (switch_at, total) = (before_s * sr, (before_s + after_s) * sr);
        let mut pos = 0u64;
        while pos < total {
            let frames = 256;
            events.clear();
            if pos == switch_at {
                events.push(InEvent::param_value(0, tempo_mode, 0.0));
                stats.close_window();
                stats.windows.clear();
            }
            let t = tl.transport(pos as i64, true, None);
            fill_sidechain(&mut io, frames, pos, false);
            assert_process_ok(
                audio.process(&mut io, frames, pos as i64, Some(&t), &events, &mut out),
                pos,
            );
            stats.check_block(&io.out[0][..frames], &io.out[1][..frames]);
            pos += frames as u64;
        }
        stats.close_window();
        stats
    });
    stats.assert_clean("tempo mode switch");
    stats.windows
}

/// A host-synced band must keep playing when the user switches Tempo mode from Fixed (or
/// Mood) back to Host mid-song: the engine has to re-locate to the host's beat, not leave the
/// composer planned tens of beats ahead (silence) or behind (a burst of overdue notes).
#[test]
fn switching_tempo_mode_to_host_keeps_the_band_playing() {
    for fixed_bpm in [60.0, 200.0] {
        let windows = switch_to_host_tempo(fixed_bpm, 20, 20);
        for (i, (rms, peak)) in windows.iter().enumerate() {
            println!(
                "fixed {fixed_bpm} BPM -> host 120 BPM, +{i:>2} s: rms {:6.1} dBFS, peak {:6.2} dBFS",
                OutputStats::db(*rms),
                OutputStats::db(*peak as f64)
            );
        }
        // Allow two seconds (a bar at 120 BPM is 2 s) for the band to come back in.
        let silent: Vec<usize> = windows
            .iter()
            .enumerate()
            .skip(2)
            .filter(|(_, (rms, _))| OutputStats::db(*rms) < -40.0)
            .map(|(i, _)| i)
            .collect();
        assert!(
            silent.is_empty(),
            "after switching Fixed {fixed_bpm} BPM -> Host the band is silent (< -40 dBFS rms) \
             in seconds {silent:?} after the switch"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Test 5: MIDI out in time order at every rate; no hanging notes after reset or reactivation
// ---------------------------------------------------------------------------------------------

/// Plays `seconds` at `sr` with ragged blocks (1 to 4096 frames, changing every call) and a
/// playing host; returns the output event counter.
fn play_midi(plugin: &Plugin, sr: f64, seconds: f64, reset_at: Option<u64>) -> OutEventCounter {
    const SCHEDULE: [usize; 9] = [1, 4096, 37, 512, 999, 64, 3, 2048, 160];
    let total = (seconds * sr) as u64;
    plugin.run_audio_thread(move |audio| {
        let mut io = AudioIo::new(4096);
        let events = EventQueue::with_capacity(0);
        let mut out = OutEventCounter::default();
        let tl = Timeline::constant_at(97.0, sr);
        let mut pos = 0u64;
        let mut k = 0;
        let mut reset_done = false;
        while pos < total {
            let frames = SCHEDULE[k % SCHEDULE.len()].min((total - pos) as usize);
            if let Some(at) = reset_at {
                if !reset_done && pos >= at {
                    reset_done = true;
                    audio.reset();
                    // The very next block ends every note that was sounding.
                    let mut probe = out;
                    let t = tl.transport(pos as i64, true, None);
                    fill_sidechain(&mut io, 1, pos, false);
                    let status =
                        audio.process(&mut io, 1, pos as i64, Some(&t), &events, &mut probe);
                    assert_process_ok(status, pos);
                    assert_eq!(probe.hanging(), 0, "notes hang after reset() at {sr} Hz");
                    out = probe;
                    pos += 1;
                    continue;
                }
            }
            let t = tl.transport(pos as i64, true, None);
            fill_sidechain(&mut io, frames, pos, false);
            let status = audio.process(&mut io, frames, pos as i64, Some(&t), &events, &mut out);
            assert_process_ok(status, pos);
            for c in 0..2 {
                for &x in &io.out[c][..frames] {
                    assert!(x.is_finite(), "non-finite output at {sr} Hz");
                }
            }
            pos += frames as u64;
            k += 1;
        }
        out
    })
}

#[test]
fn midi_out_is_in_time_order_at_every_rate_and_nothing_hangs() {
    // Rate, seconds of music (shorter at the very high rates, whose cost grows with the rate).
    for (sr, seconds) in [
        (1_000.0, 120.0),
        (22_050.0, 60.0),
        (48_000.0, 60.0),
        (192_000.0, 20.0),
        (768_000.0, 6.0),
    ] {
        let t0 = Instant::now();
        let mut plugin = create_plugin();
        assert!(plugin.activate(sr, 1, 4096), "activate at {sr} Hz");
        let reset_at = (seconds * 0.5 * sr) as u64;
        let out = play_midi(&plugin, sr, seconds, Some(reset_at));
        println!(
            "{sr} Hz, {seconds} s: {} note-ons, {} note-offs, {} CCs, out of order {}, late {}, \
             still sounding {} ({:.1} s)",
            out.note_ons,
            out.note_offs,
            out.midi,
            out.out_of_order,
            out.late,
            out.hanging(),
            t0.elapsed().as_secs_f64()
        );
        assert!(out.note_ons > 20, "{sr} Hz: only {} notes", out.note_ons);
        assert_eq!(
            out.out_of_order, 0,
            "{sr} Hz: events out of order (first {:?})",
            out.first_disorder
        );
        assert_eq!(out.late, 0, "{sr} Hz: events past their block");
        // Deactivate and activate again: what was sounding ends in the first block.
        plugin.deactivate();
        assert!(plugin.activate(sr, 1, 4096));
        let after = play_midi(&plugin, sr, 1.0 / sr, None);
        assert!(
            after.note_offs >= out.hanging(),
            "{sr} Hz: {} notes were sounding at deactivate, {} note-offs after reactivation",
            out.hanging(),
            after.note_offs
        );
        plugin.deactivate();
    }
}

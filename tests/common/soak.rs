//! The soak: a long render of the whole engine as a host drives it, with everything a session
//! throws at it: ragged blocks, a tempo map that steps, transport jumps (cue jumps), mood
//! automation, scene changes (the factory presets), stingers and OSC traffic over real UDP
//! (good values and garbage) into a live light input. Measures what must never go wrong:
//! NaN/Inf/subnormal samples, DC offset, peak, beat drift against the tempo map, resident
//! memory, worst block time. Shared by `tests/soak.rs` (5 minutes) and `benches/soak.rs` (1 h).

#![allow(dead_code)]

use super::flood;
use mood_noir::engine::{Engine, HostTransport, MoodSource, Settings, TempoMode};
use mood_noir::light::LightSettings;
use mood_noir::mood::Mood;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

pub const SR: f32 = 48_000.0;
const MAX_BLOCK: usize = 2048;
const TEMPI: [f64; 6] = [64.0, 88.0, 96.0, 120.0, 138.0, 172.0];

#[derive(Debug, Default)]
pub struct SoakReport {
    pub seconds: f64,
    pub wall_s: f64,
    pub blocks: u64,
    pub non_finite: u64,
    pub subnormal: u64,
    pub dc: [f64; 2],
    pub peak: f32,
    pub beats: u64,
    pub worst_drift_samples: f64,
    pub worst_drift_at: String,
    /// After the first ten seconds of music.
    pub rss_start_kb: u64,
    pub rss_end_kb: u64,
    pub rss_max_kb: u64,
    pub worst_block_us: f64,
    pub worst_block_ratio: f64,
    pub jumps: u64,
    pub scenes: u64,
    pub stingers: u64,
    pub datagrams: u64,
    pub light_events_applied: u64,
    pub events_played: u64,
}

impl std::fmt::Display for SoakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "soak: {:.0} s of music in {:.1} s ({:.0}x real time), {} blocks (1..{MAX_BLOCK} \
             samples), {} beats, {} notes/hits played",
            self.seconds,
            self.wall_s,
            self.seconds / self.wall_s,
            self.blocks,
            self.beats,
            self.events_played
        )?;
        writeln!(
            f,
            "  what happened: {} transport jumps, {} scene changes, {} stingers, {} OSC \
             datagrams ({} light events applied)",
            self.jumps, self.scenes, self.stingers, self.datagrams, self.light_events_applied
        )?;
        writeln!(
            f,
            "  NaN/Inf samples {}, subnormal samples {}, DC offset L {:.2e} R {:.2e}, peak {:.3} \
             ({:.2} dBFS)",
            self.non_finite,
            self.subnormal,
            self.dc[0],
            self.dc[1],
            self.peak,
            20.0 * self.peak.max(1e-9).log10()
        )?;
        writeln!(
            f,
            "  beat drift against the tempo map: worst {:.0} samples over {} beats {}",
            self.worst_drift_samples, self.beats, self.worst_drift_at
        )?;
        write!(
            f,
            "  resident memory: after 10 s {} KiB, end {} KiB, max {} KiB; worst block {:.0} us \
             ({:.3} of its real-time budget)",
            self.rss_start_kb,
            self.rss_end_kb,
            self.rss_max_kb,
            self.worst_block_us,
            self.worst_block_ratio
        )
    }
}

/// Resident set size in KiB (Linux; 0 elsewhere).
pub fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn scenes() -> Vec<Settings> {
    mood_noir::preset::FACTORY
        .iter()
        .map(|(id, _)| {
            mood_noir::preset::factory(id)
                .expect("factory scene")
                .settings
        })
        .collect()
}

/// Renders `seconds` of music; `seed` picks the automation.
pub fn soak(seconds: f64, seed: u64) -> SoakReport {
    let mut rng = flood::Rng::new(seed);
    let (_monitor, mut link, port) = flood::server();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let scenes = scenes();
    let mut settings = Settings {
        tempo_mode: TempoMode::Host,
        ..scenes[0]
    };
    let mut engine = Engine::new(SR, settings);
    engine.set_light_settings(LightSettings::default());
    let mut rep = SoakReport {
        rss_max_kb: rss_kb(),
        ..SoakReport::default()
    };
    let (mut l, mut r) = (vec![0.0f32; MAX_BLOCK], vec![0.0f32; MAX_BLOCK]);
    let total = (seconds * SR as f64) as u64;
    let (mut sum_l, mut sum_r) = (0.0f64, 0.0f64);
    // The host's timeline: position in beats, tempo; both change only at block boundaries.
    let mut pos_beats = 0.0f64;
    let mut pos_samples = 0i64;
    let mut tempo = TEMPI[3];
    let mut done = 0u64;
    let (mut next_mood, mut next_scene, mut next_jump, mut next_tempo, mut next_hit, mut next_osc) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let sec = SR as u64;
    let started = Instant::now();
    while done < total {
        let n = (1 + rng.below(MAX_BLOCK as u64) as usize).min((total - done) as usize);
        // Automation, each on its own clock (in samples of music).
        if done >= next_mood {
            settings.mood = Mood {
                valence: (settings.mood.valence + (rng.unit() - 0.5) * 0.3).clamp(-1.0, 1.0),
                arousal: (settings.mood.arousal + (rng.unit() - 0.5) * 0.3).clamp(0.0, 1.0),
                tension: (settings.mood.tension + (rng.unit() - 0.5) * 0.3).clamp(0.0, 1.0),
            };
            engine.set_settings(&settings);
            next_mood = done + sec / 2;
        }
        if done >= next_scene {
            let s = scenes[rng.below(scenes.len() as u64) as usize];
            settings = Settings {
                tempo_mode: TempoMode::Host,
                source: if rng.below(2) == 0 {
                    MoodSource::Light
                } else {
                    s.source
                },
                follow: if rng.below(2) == 0 { 0.7 } else { s.follow },
                ..s
            };
            engine.set_settings(&settings);
            rep.scenes += 1;
            next_scene = done + 45 * sec + rng.below(30 * sec);
        }
        if done >= next_tempo {
            tempo = TEMPI[rng.below(TEMPI.len() as u64) as usize];
            next_tempo = done + 20 * sec + rng.below(20 * sec);
        }
        if done >= next_jump && done > 0 {
            // A cue jump: the host relocates to another bar (sometimes backwards).
            pos_beats = 4.0 * rng.below(400) as f64;
            pos_samples = (pos_beats * 60.0 / tempo * SR as f64) as i64;
            rep.jumps += 1;
            next_jump = done + 60 * sec + rng.below(60 * sec);
        } else if next_jump == 0 {
            next_jump = 60 * sec;
        }
        if done >= next_hit {
            engine.trigger_hit(0.3 + 0.7 * rng.unit());
            rep.stingers += 1;
            next_hit = done + 10 * sec + rng.below(20 * sec);
        }
        if done >= next_osc {
            for _ in 0..1 + rng.below(4) {
                let (d, _) = flood::datagram(&mut rng);
                if d.len() < 4096 {
                    let _ = tx.send_to(&d, ("127.0.0.1", port));
                    rep.datagrams += 1;
                }
            }
            next_osc = done + sec / 20;
        }
        let host = HostTransport {
            playing: true,
            tempo_bpm: Some(tempo),
            pos_beats: Some(pos_beats),
            pos_samples: Some(pos_samples),
        };
        let t0 = Instant::now();
        link.drain_into(&mut engine);
        engine.process(&host, &mut l[..n], &mut r[..n]);
        let dt = t0.elapsed().as_secs_f64();
        if dt * 1e6 > rep.worst_block_us {
            rep.worst_block_us = dt * 1e6;
        }
        rep.worst_block_ratio = rep.worst_block_ratio.max(dt / (n as f64 / SR as f64));
        // Beats against the tempo map: beat b starts at the first sample at or after
        // (b - pos) * 60 / tempo seconds into the block.
        for m in engine.beat_marks() {
            let due = (m.beat as f64 - pos_beats) * 60.0 / tempo * SR as f64;
            // On time: at the first sample at or after its exact time (a beat due within a
            // thousandth of a sample of a sample boundary may land on either side of it:
            // float rounding of the host's position, not drift).
            let o = m.offset as f64;
            let d = if due <= 0.0 {
                o
            } else {
                ((due - 1e-3) - o)
                    .max(o - (due + 1.0 + 1e-3))
                    .max(0.0)
                    .ceil()
            };
            if d > rep.worst_drift_samples {
                rep.worst_drift_samples = d;
                rep.worst_drift_at = format!(
                    "beat {} at offset {} of a {n}-sample block, due {due:.4} (host at beat \
                     {pos_beats:.6}, {tempo} BPM)",
                    m.beat, m.offset
                );
            }
            rep.beats += 1;
        }
        rep.events_played += engine.played_events().len() as u64;
        for (&a, &b) in l[..n].iter().zip(&r[..n]) {
            for x in [a, b] {
                if !x.is_finite() {
                    rep.non_finite += 1;
                } else if x != 0.0 && !x.is_normal() {
                    rep.subnormal += 1;
                }
                rep.peak = rep.peak.max(x.abs());
            }
            sum_l += a as f64;
            sum_r += b as f64;
        }
        done += n as u64;
        rep.blocks += 1;
        pos_beats += n as f64 / SR as f64 * tempo / 60.0;
        pos_samples += n as i64;
        if rep.rss_start_kb == 0 && done >= 10 * sec {
            // After the first ten seconds: every buffer has been touched once by then (pages
            // of memory allocated up front become resident when first written).
            rep.rss_start_kb = rss_kb();
        }
        if rep.blocks.is_multiple_of(4096) {
            rep.rss_max_kb = rep.rss_max_kb.max(rss_kb());
        }
    }
    // Let the network thread finish what it got.
    std::thread::sleep(Duration::from_millis(50));
    rep.seconds = done as f64 / SR as f64;
    rep.wall_s = started.elapsed().as_secs_f64();
    rep.dc = [sum_l / done as f64, sum_r / done as f64];
    rep.jumps = rep.jumps.max(engine.jumps());
    rep.light_events_applied = engine.light().events_applied();
    rep.rss_end_kb = rss_kb();
    rep.rss_max_kb = rep.rss_max_kb.max(rep.rss_end_kb);
    rep
}

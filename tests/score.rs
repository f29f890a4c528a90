//! The full score (issue 3): transitions on the quantize grid, stingers on lighting hits,
//! blackout and return on a downbeat, stems summing to the main mix, and factory scenes that
//! sound different from each other. The real engine, no host.

use mood_noir::composer::events::{EventKind, Keyboard};
use mood_noir::engine::mixer::{STEMS, STEM_NAMES};
use mood_noir::engine::{
    Engine, HostTransport, MoodSource, Quantize, Settings, StemOutputs, StingerTiming, StyleId,
    StylePick, TempoMode,
};
use mood_noir::light::LightEvent;
use mood_noir::mood::Mood;
use mood_noir::preset;
use mood_noir::voices::DrumHit;

const SR: f32 = 48_000.0;

fn fixed(mood: Mood, q: Quantize) -> Settings {
    Settings {
        mood,
        quantize: q,
        tempo_mode: TempoMode::Fixed,
        fixed_tempo_bpm: 120.0,
        ..Settings::default()
    }
}

/// Runs the engine in 64-sample blocks until `until_beat`, calling `each` after every block
/// with the absolute sample index of the block start.
fn run(e: &mut Engine, until_beat: f64, mut each: impl FnMut(&mut Engine, u64)) {
    let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
    let mut pos = 0u64;
    let host = HostTransport::default();
    while e.beat_position() < until_beat {
        e.process(&host, &mut l, &mut r);
        each(e, pos);
        pos += 64;
    }
}

#[test]
fn new_harmony_lands_on_the_bar_line() {
    // Calm minor ii-V-i, then mid-bar the mood jumps to the bright relative major. With a
    // one-bar grid the first bass note of the new harmony must sound at the next bar line.
    let calm = Mood {
        valence: -0.6,
        arousal: 0.4,
        tension: 0.2,
    };
    let bright = Mood {
        valence: 0.9,
        arousal: 0.4,
        tension: 0.1,
    };
    let s = fixed(calm, Quantize::Bar);
    let mut e = Engine::new(SR, s);
    run(&mut e, 17.5, |_, _| {});
    e.set_settings(&Settings { mood: bright, ..s });
    let samples_per_beat = SR as f64 * 60.0 / 120.0;
    let mut first_change: Option<(u64, f64)> = None;
    run(&mut e, 40.0, |e, _| {
        if first_change.is_none() && e.committed_mood().valence > 0.3 {
            let block_start = e.samples_rendered() - 64;
            for p in e.played_events() {
                if let EventKind::BassOn { .. } = p.event.kind {
                    first_change = Some((block_start + p.offset as u64, p.event.beat));
                    break;
                }
            }
        }
    });
    let (sample, beat) = first_change.expect("the new mood took over");
    // Committed at the bar line after beat 17.5 (beat 20), or the one after if the glide had
    // not reached the new mood yet; always a bar line.
    assert_eq!(beat.floor() % 4.0, 0.0, "new harmony began at beat {beat}");
    let bar_line = beat.floor() * samples_per_beat;
    let late_ms = (sample as f64 - bar_line) / SR as f64 * 1000.0;
    // The bass lays back by at most 6 ms; one 64-sample block adds at most 1.3 ms of
    // reporting granularity here.
    assert!(
        (-0.1..8.0).contains(&late_ms),
        "new harmony {late_ms:.2} ms after the bar line"
    );
}

#[test]
fn stinger_fires_on_the_next_beat_or_at_once() {
    for timing in [StingerTiming::NextBeat, StingerTiming::Immediate] {
        let s = Settings {
            stinger: timing,
            ..fixed(Mood::NEUTRAL, Quantize::Bar)
        };
        let mut e = Engine::new(SR, s);
        run(&mut e, 6.3, |_, _| {});
        let hit_at = e.beat_position();
        e.trigger_hit(0.9);
        let mut crash = None;
        run(&mut e, 9.0, |e, _| {
            for p in e.played_events() {
                if let EventKind::Drum {
                    hit: DrumHit::Crash,
                    ..
                } = p.event.kind
                {
                    crash.get_or_insert(p.event.beat);
                }
            }
        });
        let crash = crash.expect("the stinger's crash played");
        match timing {
            StingerTiming::NextBeat => assert_eq!(crash, hit_at.ceil(), "{timing:?}"),
            StingerTiming::Immediate => {
                assert!(
                    (crash - hit_at).abs() < 1e-9,
                    "{timing:?}: {crash} vs {hit_at}"
                )
            }
        }
    }
}

#[test]
fn blackout_leaves_bass_and_rain_and_the_band_returns_on_a_downbeat() {
    // The light drives it: Mood source Light, the key light goes to 0 (as `/light/intensity 0`
    // would), then back up.
    let s = Settings {
        source: MoodSource::Light,
        ..fixed(Mood::NEUTRAL, Quantize::Bar)
    };
    let mut e = Engine::new(SR, s);
    e.push_light_event(LightEvent::Intensity(1.0));
    run(&mut e, 20.0, |_, _| {});
    e.push_light_event(LightEvent::Intensity(0.0));
    let mut parts_in_dark = std::collections::HashSet::new();
    run(&mut e, 41.3, |e, _| {
        for p in e.played_events() {
            if p.event.beat >= 25.0 {
                if let EventKind::BassOn { .. }
                | EventKind::KeysOn { .. }
                | EventKind::Drum { .. }
                | EventKind::LeadOn { .. } = p.event.kind
                {
                    parts_in_dark.insert(format!("{:?}", p.event.kind.part()));
                }
            }
        }
    });
    assert_eq!(
        parts_in_dark.into_iter().collect::<Vec<_>>(),
        vec!["Bass".to_string()]
    );
    // Rain keeps falling in the dark: the output is not silent between bass notes.
    let (mut l, mut r) = (vec![0.0; 4800], vec![0.0; 4800]);
    e.process(&HostTransport::default(), &mut l, &mut r);
    assert!(l.iter().map(|x| x * x).sum::<f32>() > 0.0);
    // Lights up mid-bar: drums and keys come back on a downbeat, not before.
    e.push_light_event(LightEvent::Intensity(1.0));
    let mut first_band = None;
    run(&mut e, 52.0, |e, _| {
        for p in e.played_events() {
            if let EventKind::KeysOn { .. } | EventKind::Drum { .. } = p.event.kind {
                first_band.get_or_insert(p.event.beat);
            }
        }
    });
    let back = first_band.expect("the band came back");
    assert!(
        back >= 44.0 && back % 4.0 < 0.1,
        "band returned at beat {back}"
    );
}

#[test]
fn stems_sum_to_the_main_mix() {
    // Every style in turn (so every stem plays: the harp, brass and percussion belong to the
    // film styles), with a stinger in each and the analog grain on for the film styles (its
    // hiss goes into the ambience stem, so the stems still sum to the mix).
    let mut stem_energy = [0.0f32; STEMS];
    let mut max_err = 0.0f32;
    for (k, style) in StyleId::ALL.into_iter().enumerate() {
        let mut s = fixed(
            Mood {
                valence: -0.3,
                arousal: 0.8,
                tension: 0.7,
            },
            Quantize::Beat,
        );
        s.style = StylePick::Fixed(style);
        s.grain = if k == 0 { 0.0 } else { 0.5 };
        let mut e = Engine::new(SR, s);
        let n = 1000;
        let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
        let mut bufs = vec![vec![0.0f32; n]; STEMS * 2];
        for block in 0..(12 * 48) {
            if block == 400 {
                e.trigger_hit(1.0);
            }
            let mut outs: StemOutputs = Default::default();
            let mut it = bufs.iter_mut();
            for o in outs.iter_mut() {
                let (a, b) = (it.next().unwrap(), it.next().unwrap());
                *o = Some((&mut a[..], &mut b[..]));
            }
            e.process_stems(&HostTransport::default(), &mut l, &mut r, &mut outs);
            for i in 0..n {
                let sl: f32 = (0..STEMS).map(|s| bufs[2 * s][i]).sum();
                let sr: f32 = (0..STEMS).map(|s| bufs[2 * s + 1][i]).sum();
                max_err = max_err.max((sl - l[i]).abs()).max((sr - r[i]).abs());
                for s in 0..STEMS {
                    stem_energy[s] += bufs[2 * s][i] * bufs[2 * s][i];
                }
            }
        }
    }
    assert!(max_err < 1e-5, "stems differ from the mix by {max_err}");
    for (s, e) in stem_energy.iter().enumerate() {
        assert!(*e > 0.0, "stem {s} ({}) is silent", STEM_NAMES[s]);
    }
}

/// A scene's fingerprint: what a listener tells scenes apart by.
#[derive(Debug)]
struct Fingerprint {
    /// RMS loudness of the mix after the first 5 s, dB.
    loud_db: f32,
    /// Brightness: RMS of the first difference over the RMS.
    bright: f32,
    /// Notes per second.
    rate: f32,
    /// Tempo, BPM.
    tempo: f32,
    /// Orchestration: each player's share of the notes (bass, drums, keys, lead, pad, harp,
    /// brass, percussion).
    parts: [f32; 8],
    /// The keyboard most of the keys' notes go to.
    keyboard: Option<Keyboard>,
    /// Mean pitch of the lead's notes (its register: tenor or trumpet), MIDI.
    lead_pitch: f32,
}

fn fingerprint(s: &Settings) -> Fingerprint {
    use mood_noir::composer::events::Part;
    let mut e = Engine::new(SR, *s);
    let n = (20.0 * SR) as usize;
    let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
    let mut parts = [0u32; 8];
    let mut keyboards: Vec<(Keyboard, u32)> = Vec::new();
    let (mut lead_sum, mut lead_n) = (0.0f32, 0u32);
    for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
        e.process(&HostTransport::default(), a, b);
        for p in e.played_events() {
            let k = match p.event.kind.part() {
                Part::Bass => 0,
                Part::Drums => 1,
                Part::Keys => 2,
                Part::Lead => 3,
                Part::Pad => 4,
                Part::Harp => 5,
                Part::Brass => 6,
                Part::Percussion => 7,
            };
            parts[k] += 1;
            match p.event.kind {
                EventKind::KeysOn { keyboard, .. } => {
                    match keyboards.iter_mut().find(|(k, _)| *k == keyboard) {
                        Some((_, c)) => *c += 1,
                        None => keyboards.push((keyboard, 1)),
                    }
                }
                EventKind::LeadOn { note, .. } => {
                    lead_sum += note as f32;
                    lead_n += 1;
                }
                _ => {}
            }
        }
    }
    let tail = &l[n / 4..];
    let rms = (tail.iter().map(|x| x * x).sum::<f32>() / tail.len() as f32).sqrt();
    let d =
        (tail.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f32>() / tail.len() as f32).sqrt();
    let total = parts.iter().sum::<u32>().max(1) as f32;
    Fingerprint {
        loud_db: 20.0 * rms.log10(),
        bright: d / rms,
        rate: e.events_played() as f32 / 20.0,
        tempo: e.tempo_bpm() as f32,
        parts: parts.map(|c| c as f32 / total),
        keyboard: keyboards.iter().max_by_key(|(_, c)| *c).map(|(k, _)| *k),
        lead_pitch: if lead_n > 0 {
            lead_sum / lead_n as f32
        } else {
            0.0
        },
    }
}

#[test]
fn every_factory_scene_is_audibly_distinct() {
    let scenes: Vec<(&str, Fingerprint)> = preset::FACTORY
        .iter()
        .map(|(id, _)| (*id, fingerprint(&preset::factory(id).unwrap().settings)))
        .collect();
    assert!(scenes.len() >= 8);
    for (i, (a, fa)) in scenes.iter().enumerate() {
        for (b, fb) in &scenes[i + 1..] {
            // Distinct if loudness differs by 1.5 dB, brightness by 10 %, note rate by 15 %,
            // tempo by 8 %; or the orchestration: some player's share of the notes by 10
            // points (a style's own instruments), another keyboard, or the horn in another
            // register (tenor against trumpet: 3 semitones on average).
            let loud = (fa.loud_db - fb.loud_db).abs() > 1.5;
            let bright = (fa.bright / fb.bright - 1.0).abs() > 0.10;
            let busy = (fa.rate / fb.rate.max(0.1) - 1.0).abs() > 0.15;
            let tempo = (fa.tempo / fb.tempo - 1.0).abs() > 0.08;
            let scored = fa
                .parts
                .iter()
                .zip(&fb.parts)
                .any(|(x, y)| (x - y).abs() > 0.10);
            let keys = fa.keyboard != fb.keyboard;
            let register = (fa.lead_pitch - fb.lead_pitch).abs() > 3.0;
            assert!(
                loud || bright || busy || tempo || scored || keys || register,
                "{a} {fa:?} and {b} {fb:?} sound alike"
            );
        }
    }
}

//! Engine integration tests: the real engine, no host. Determinism, block-size independence,
//! signal hygiene (finite, no subnormals, no DC, peak below 0 dBFS), the mood moving the
//! music, and following a host transport through jumps and loops.

use mood_noir::engine::{
    Engine, HostTransport, Quantize, Settings, StemOutputs, StyleId, StylePick, TempoMode,
};
use mood_noir::mood::Mood;

const SR: f32 = 48_000.0;

fn settings(mood: Mood) -> Settings {
    Settings {
        mood,
        tempo_mode: TempoMode::Mood,
        ..Settings::default()
    }
}

/// Renders `seconds` with a cycling list of block sizes; returns (left, right).
fn render(s: &Settings, seconds: f32, blocks: &[usize]) -> (Vec<f32>, Vec<f32>) {
    let mut e = Engine::new(SR, *s);
    let total = (seconds * SR) as usize;
    let (mut l, mut r) = (vec![0.0; total], vec![0.0; total]);
    let host = HostTransport::default();
    let mut i = 0;
    let mut k = 0;
    while i < total {
        let n = blocks[k % blocks.len()].min(total - i);
        e.process(&host, &mut l[i..i + n], &mut r[i..i + n]);
        i += n;
        k += 1;
    }
    assert_eq!(e.dropped_events(), 0);
    (l, r)
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

fn assert_clean(x: &[f32], what: &str) {
    for (i, &v) in x.iter().enumerate() {
        assert!(v.is_finite(), "{what}: sample {i} is {v}");
        assert!(
            v == 0.0 || v.abs() >= f32::MIN_POSITIVE,
            "{what}: subnormal at {i}"
        );
        assert!(v.abs() < 1.0, "{what}: sample {i} = {v} reaches 0 dBFS");
    }
}

#[test]
fn same_settings_same_audio_bit_for_bit() {
    let s = settings(Mood::NEUTRAL);
    let a = render(&s, 12.0, &[512]);
    let b = render(&s, 12.0, &[512]);
    assert!(a == b);
    let mut other = s;
    other.seed = 2;
    let c = render(&other, 12.0, &[512]);
    assert!(a != c, "another seed must play other music");
}

#[test]
fn output_does_not_depend_on_block_sizes() {
    // Offline bounce (big blocks) equals realtime playback (small, ragged blocks).
    let s = settings(Mood {
        valence: -0.4,
        arousal: 0.7,
        tension: 0.6,
    });
    let a = render(&s, 10.0, &[4096]);
    let b = render(&s, 10.0, &[64, 1, 33, 480, 7, 1024]);
    let first_diff = a.0.iter().zip(&b.0).position(|(x, y)| x != y);
    assert_eq!(first_diff, None, "left channels differ");
    assert!(a.1 == b.1, "right channels differ");
}

/// A part whose level is off is not played (issue 13: cost follows what plays), and nothing
/// a listener can hear changes: muting the drums at 10 s and bringing them back at 15 s gives
/// the same samples whatever the block sizes; their stem is exact silence once the level has
/// glided out, and they play again once it is back.
#[test]
fn a_muted_part_rests_and_comes_back() {
    let s = settings(Mood {
        valence: -0.2,
        arousal: 0.7,
        tension: 0.5,
    });
    let mut muted = s;
    muted.levels.drums_db = -80.0;
    let plan = [(10 * SR as usize, muted), (15 * SR as usize, s)];
    let total = 20 * SR as usize;
    let run = |blocks: &[usize]| {
        let mut e = Engine::new(SR, s);
        let (mut l, mut r) = (vec![0.0; total], vec![0.0; total]);
        let (mut dl, mut dr) = (vec![0.0; total], vec![0.0; total]);
        let (mut i, mut k) = (0, 0);
        while i < total {
            if let Some((_, p)) = plan.iter().find(|(at, _)| *at == i) {
                e.set_settings(p);
            }
            let cut = plan.iter().map(|(at, _)| *at).find(|&at| at > i);
            let n = blocks[k % blocks.len()].min(cut.unwrap_or(total) - i);
            let mut stems: StemOutputs = Default::default();
            stems[1] = Some((&mut dl[i..i + n], &mut dr[i..i + n]));
            e.process_stems(
                &HostTransport::default(),
                &mut l[i..i + n],
                &mut r[i..i + n],
                &mut stems,
            );
            i += n;
            k += 1;
        }
        (l, r, dl)
    };
    let a = run(&[4096]);
    let b = run(&[64, 1, 33, 480, 7, 1024]);
    assert!(
        a.0 == b.0 && a.1 == b.1,
        "the mix depends on the block sizes"
    );
    assert!(a.2 == b.2, "the drums' stem depends on the block sizes");
    let span = |from: f32, to: f32| rms(&a.2[(from * SR) as usize..(to * SR) as usize]);
    assert!(span(4.0, 10.0) > 1e-3, "the drums play before the mute");
    assert_eq!(span(11.0, 15.0), 0.0, "a muted part is exact silence");
    assert!(
        span(16.0, 20.0) > 1e-3,
        "the drums play again after the mute"
    );
}

/// The hot loops run compiled for AVX2 where the CPU has it and portably otherwise
/// (`dsp::simd`); both must give the same samples, every style and both keyboards. (The switch
/// is global, so other tests running meanwhile may take either path: they give the same
/// samples too.) On a CPU without AVX2 both renders take the portable path.
#[test]
fn the_wide_and_portable_kernels_give_the_same_samples() {
    let chase = Mood {
        valence: -0.5,
        arousal: 0.85,
        tension: 0.8,
    };
    let calm = Mood {
        valence: 0.2,
        arousal: 0.3,
        tension: 0.2,
    };
    let mut cases = vec![settings(calm)];
    for style in StyleId::ALL {
        let mut s = settings(chase);
        s.style = StylePick::Fixed(style);
        cases.push(s);
    }
    for s in &cases {
        mood_noir::dsp::simd::force_portable(true);
        let portable = render(s, 6.0, &[64, 17, 256]);
        mood_noir::dsp::simd::force_portable(false);
        let wide = render(s, 6.0, &[64, 17, 256]);
        assert!(rms(&wide.0) > 1e-3, "the band plays");
        assert!(
            portable == wide,
            "the AVX2 kernels differ from the portable ones ({:?})",
            s.style
        );
    }
}

#[test]
fn signal_is_clean_across_moods_and_rates() {
    for sr in [44_100.0f32, 48_000.0, 96_000.0] {
        for mood in [
            Mood {
                valence: -1.0,
                arousal: 0.0,
                tension: 0.0,
            },
            Mood::NEUTRAL,
            Mood {
                valence: 1.0,
                arousal: 1.0,
                tension: 1.0,
            },
            Mood {
                valence: -1.0,
                arousal: 1.0,
                tension: 1.0,
            },
        ] {
            let mut e = Engine::new(sr, settings(mood));
            let n = (8.0 * sr) as usize;
            let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
            for (cl, cr) in l.chunks_mut(256).zip(r.chunks_mut(256)) {
                e.process(&HostTransport::default(), cl, cr);
            }
            let what = format!("{sr} Hz {mood:?}");
            assert_clean(&l, &what);
            assert_clean(&r, &what);
            assert!(rms(&l) > 1e-3, "{what}: silent");
            // No DC creep: the mean over the last 4 s is tiny next to the signal.
            let tail = &l[n / 2..];
            let mean = tail.iter().sum::<f32>() / tail.len() as f32;
            assert!(mean.abs() < 0.01 * rms(tail) + 1e-4, "{what}: DC {mean}");
        }
    }
}

/// Brightness: RMS of the first difference over RMS of the signal (rises with the spectral
/// centroid; for a sine of f Hz it is 2 sin(pi f / SR)).
fn brightness(x: &[f32]) -> f32 {
    let d: Vec<f32> = x.windows(2).map(|w| w[1] - w[0]).collect();
    rms(&d) / rms(x).max(1e-9)
}

#[test]
fn arousal_makes_it_louder_denser_and_faster() {
    let calm = settings(Mood {
        valence: -0.4,
        arousal: 0.1,
        tension: 0.3,
    });
    let hot = settings(Mood {
        valence: -0.4,
        arousal: 0.9,
        tension: 0.3,
    });
    let (lc, _) = render(&calm, 16.0, &[512]);
    let (lh, _) = render(&hot, 16.0, &[512]);
    let (rc, rh) = (rms(&lc[SR as usize * 4..]), rms(&lh[SR as usize * 4..]));
    assert!(rh > rc * 1.2, "rms calm {rc} hot {rh}");
    let played = |s: &Settings| {
        let mut e = Engine::new(SR, *s);
        let (mut l, mut r) = (vec![0.0; 48_000], vec![0.0; 48_000]);
        for _ in 0..16 {
            e.process(&HostTransport::default(), &mut l, &mut r);
        }
        (e.events_played(), e.tempo_bpm())
    };
    let ((nc, tc), (nh, th)) = (played(&calm), played(&hot));
    // Notes per 16 s: walking, busier comping and the ride make it at least twice as dense.
    assert!(nh > 2 * nc, "notes calm {nc} hot {nh}");
    assert!(th > 150.0, "hot tempo {th}");
    assert!(tc < 80.0, "calm tempo {tc}");
}

#[test]
fn valence_and_tension_change_the_sound() {
    let base = Mood {
        valence: -0.6,
        arousal: 0.4,
        tension: 0.2,
    };
    let bright = Mood {
        valence: 0.8,
        ..base
    };
    let tense = Mood {
        tension: 0.95,
        ..base
    };
    let (a, _) = render(&settings(base), 12.0, &[512]);
    let (b, _) = render(&settings(bright), 12.0, &[512]);
    let (c, _) = render(&settings(tense), 12.0, &[512]);
    let diff = |x: &[f32], y: &[f32]| rms(&x.iter().zip(y).map(|(p, q)| p - q).collect::<Vec<_>>());
    assert!(
        diff(&a, &b) > 0.3 * rms(&a),
        "valence barely changes the audio"
    );
    assert!(
        diff(&a, &c) > 0.3 * rms(&a),
        "tension barely changes the audio"
    );
    // Brighter mood: the keys alone (bass and drums muted) sound brighter and higher.
    let keys_only = |m: Mood| {
        let mut s = settings(m);
        s.levels.bass_db = -80.0;
        s.levels.drums_db = -80.0;
        s.levels.lead_db = -80.0;
        s.levels.pad_db = -80.0;
        s.levels.ambience_db = -80.0;
        s.reverb = 0.0;
        render(&s, 12.0, &[512]).0
    };
    let (dark, light) = (brightness(&keys_only(base)), brightness(&keys_only(bright)));
    assert!(light > dark * 1.15, "brightness {light} vs {dark}");
}

fn host_block(e: &mut Engine, pos: i64, tempo: f64, n: usize) -> Vec<f32> {
    let host = HostTransport {
        playing: true,
        tempo_bpm: Some(tempo),
        pos_beats: Some(pos as f64 / SR as f64 * tempo / 60.0),
        pos_samples: Some(pos),
    };
    let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
    e.process(&host, &mut l, &mut r);
    l
}

#[test]
fn follows_host_tempo_and_position() {
    let s = Settings {
        tempo_mode: TempoMode::Host,
        ..settings(Mood::NEUTRAL)
    };
    let mut e = Engine::new(SR, s);
    let mut pos = 0i64;
    for _ in 0..200 {
        host_block(&mut e, pos, 133.0, 480);
        pos += 480;
    }
    assert_eq!(e.tempo_bpm(), 133.0);
    let expect = pos as f64 / SR as f64 * 133.0 / 60.0;
    assert!(
        (e.beat_position() - expect).abs() < 1e-6,
        "{} vs {expect}",
        e.beat_position()
    );
    assert_eq!(e.jumps(), 1, "only the start counts as a jump");
}

#[test]
fn a_jump_plays_what_a_bounce_from_there_plays() {
    // Play from 0, jump to bar 9; compare with a fresh engine that starts at bar 9.
    let s = Settings {
        tempo_mode: TempoMode::Host,
        quantize: Quantize::Beat,
        ..settings(Mood::NEUTRAL)
    };
    let tempo = 120.0;
    let bar9 = (9.0 * 4.0 * 60.0 / tempo * SR as f64) as i64;
    let mut a = Engine::new(SR, s);
    let mut pos = 0;
    for _ in 0..100 {
        host_block(&mut a, pos, tempo, 512);
        pos += 512;
    }
    let mut b = Engine::new(SR, s);
    let mut pa = Vec::new();
    let mut pb = Vec::new();
    let mut p = bar9;
    for _ in 0..400 {
        pa.extend(host_block(&mut a, p, tempo, 512));
        pb.extend(host_block(&mut b, p, tempo, 512));
        p += 512;
    }
    assert_eq!(a.jumps(), 2);
    // After the ~3 ms declick of the old tail, both play the same music, sample for sample.
    let skip = (0.05 * SR) as usize;
    let max_diff = pa[skip..]
        .iter()
        .zip(&pb[skip..])
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(
        max_diff < 1e-4,
        "after a jump the music differs by {max_diff}"
    );
    // And the jump itself does not click: no sample-to-sample step above the music's own.
    let steps = pa[..skip]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    let music_steps = pa[skip..]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(
        steps <= music_steps * 1.5 + 1e-3,
        "jump step {steps} vs music {music_steps}"
    );
}

#[test]
fn loops_restart_cleanly_and_identically() {
    // A two-bar loop played three times renders the same audio each pass (after the declick).
    let s = Settings {
        tempo_mode: TempoMode::Host,
        ..settings(Mood::NEUTRAL)
    };
    let tempo = 100.0;
    let loop_len = (8.0 * 60.0 / tempo * SR as f64) as i64;
    let start = (4.0 * 60.0 / tempo * SR as f64) as i64;
    let mut e = Engine::new(SR, s);
    let mut passes = Vec::new();
    for _ in 0..3 {
        let mut out = Vec::new();
        let mut p = start;
        while p < start + loop_len {
            let n = 256.min((start + loop_len - p) as usize);
            out.extend(host_block(&mut e, p, tempo, n));
            p += n as i64;
        }
        passes.push(out);
    }
    let skip = (0.05 * SR) as usize;
    assert!(passes[1][skip..] == passes[2][skip..]);
    assert!(rms(&passes[1]) > 1e-3);
}

#[test]
fn stopped_host_still_plays_from_internal_clock() {
    let s = settings(Mood::NEUTRAL);
    let mut e = Engine::new(SR, s);
    let host = HostTransport {
        playing: false,
        tempo_bpm: Some(90.0),
        ..Default::default()
    };
    let (mut l, mut r) = (vec![0.0; 96_000], vec![0.0; 96_000]);
    e.process(&host, &mut l, &mut r);
    assert!(rms(&l) > 1e-3);
    assert!(e.beat_position() > 2.0);
}

#[test]
fn absurd_settings_and_transport_are_survived() {
    let mut s = settings(Mood {
        valence: f32::NAN,
        arousal: f32::INFINITY,
        tension: -5.0,
    });
    s.fixed_tempo_bpm = f32::NAN;
    s.swing = 1e30;
    s.reverb = f32::NEG_INFINITY;
    s.levels.bass_db = 1e9;
    s.tempo_mode = TempoMode::Fixed;
    let mut e = Engine::new(SR, s);
    let hosts = [
        HostTransport {
            playing: true,
            tempo_bpm: Some(f64::NAN),
            pos_beats: Some(f64::INFINITY),
            pos_samples: None,
        },
        HostTransport {
            playing: true,
            tempo_bpm: Some(-1.0),
            pos_beats: Some(-5.0),
            pos_samples: Some(-100),
        },
        HostTransport {
            playing: true,
            tempo_bpm: Some(1e12),
            pos_beats: None,
            pos_samples: Some(i64::MAX / 4),
        },
        HostTransport::default(),
    ];
    let (mut l, mut r) = (vec![0.0; 4800], vec![0.0; 4800]);
    for k in 0..40 {
        e.process(&hosts[k % hosts.len()], &mut l, &mut r);
        assert_clean(&l, "absurd");
        assert_clean(&r, "absurd");
    }
}

#[test]
fn harmony_changes_land_on_the_quantize_grid() {
    // With a 2-bar grid, a big mood change mid-phrase is committed only at a multiple of 8 beats.
    let calm = Mood {
        valence: -0.6,
        arousal: 0.2,
        tension: 0.1,
    };
    let hot = Mood {
        valence: 0.7,
        arousal: 0.9,
        tension: 0.9,
    };
    let s = Settings {
        quantize: Quantize::TwoBars,
        tempo_mode: TempoMode::Fixed,
        fixed_tempo_bpm: 120.0,
        ..settings(calm)
    };
    let mut e = Engine::new(SR, s);
    let host = HostTransport::default();
    let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 64]);
    // Play 3 beats, then change the mood.
    while e.beat_position() < 3.0 {
        e.process(&host, &mut l, &mut r);
    }
    e.set_settings(&Settings { mood: hot, ..s });
    let mut committed_at = None;
    while e.beat_position() < 20.0 {
        e.process(&host, &mut l, &mut r);
        if committed_at.is_none() && e.committed_mood().arousal > 0.5 {
            committed_at = Some(e.beat_position());
        }
    }
    let at = committed_at.expect("the new mood was committed");
    // Committed at beat 8 (first grid point after the change), within one 64-sample block.
    assert!(
        (at - 8.0).abs() < 64.0 / SR as f64 * 2.0 + 1e-9,
        "committed at beat {at}"
    );
}

#[test]
fn light_tempo_mode_locks_to_the_lights_heartbeat() {
    use mood_noir::light::LightEvent;
    // Mood tempo for the neutral mood is about 93 BPM; a 240 BPM strobe chase is halved into
    // the octave around it (67..134): 120 BPM.
    let s = Settings {
        tempo_mode: TempoMode::Light,
        ..settings(Mood::NEUTRAL)
    };
    let mut e = Engine::new(SR, s);
    let host = HostTransport::default();
    let (mut l, mut r) = (vec![0.0; 480], vec![0.0; 480]);
    e.push_light_event(LightEvent::Bpm(240.0));
    for _ in 0..1000 {
        e.process(&host, &mut l, &mut r);
    }
    assert!(
        (e.tempo_bpm() - 120.0).abs() < 0.5,
        "tempo {}",
        e.tempo_bpm()
    );
    // Taps every half second, a quarter beat off our grid: the phase is pulled onto them.
    let offset = e.beat_position() - e.beat_position().floor();
    let mut errors = Vec::new();
    let spb = (SR * 0.5) as usize; // samples per beat at 120 BPM
    let mut since = ((1.25 - offset).rem_euclid(1.0) * spb as f64) as usize;
    for _ in 0..12 {
        // Render up to the tap, then tap.
        let mut left = since;
        while left > 0 {
            let n = left.min(480);
            e.process(&host, &mut l[..n], &mut r[..n]);
            left -= n;
        }
        e.push_light_event(LightEvent::Beat { bpm: Some(120.0) });
        e.process(&host, &mut l[..32], &mut r[..32]);
        let b = e.beat_position();
        errors.push((b - b.round()).abs());
        since = spb - 32;
    }
    assert!(
        errors[0] > 0.15,
        "the tapper starts off the grid: {errors:?}"
    );
    assert!(
        errors[11] < 0.03,
        "after 12 taps the grid sits on the taps: {errors:?}"
    );
    // With a playing host the host's timeline wins.
    let mut pos = 0;
    for _ in 0..50 {
        let h = HostTransport {
            playing: true,
            tempo_bpm: Some(100.0),
            pos_beats: Some(pos as f64 / SR as f64 * 100.0 / 60.0),
            pos_samples: Some(pos),
        };
        e.process(&h, &mut l, &mut r);
        pos += 480;
    }
    assert_eq!(e.tempo_bpm(), 100.0);
}

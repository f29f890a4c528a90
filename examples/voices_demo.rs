//! Renders a short swung noir-jazz figure on each instrument model and writes WAV files.
//!
//! `cargo run --release --example voices_demo -- OUTDIR`
//!
//! Writes OUTDIR/{bass,keys,drums,lead,pad,ambience}.wav (one instrument each) and
//! OUTDIR/band.wav (all of them mixed). The figure is a minor ii-V-i (Dm7b5 | G7b9 | Cm6 |
//! Cm6) played twice at a slow swing: a walking bass line, Rhodes rootless voicings in a
//! Charleston-ish comp, brushes (swirl, taps on 2 and 4, sweeps), ride, hat foot and a
//! feathered kick; a lead line (tenor sax, then harmon-muted trumpet) with scoops, a glide,
//! delayed vibrato and falls; a string pad whose tension rises; rain, traffic and vinyl.

use mood_noir::dsp::MAX_BLOCK;
use mood_noir::voices::{Ambience, DrumHit, Drums, Keys, Lead, Pad, UprightBass};
use std::path::{Path, PathBuf};

const SR: u32 = 48_000;
const BPM: f64 = 104.0;
/// Swing: the off-beat eighth falls at this fraction of the beat.
const SWING: f64 = 0.64;
const BARS: usize = 8;

fn beat_s() -> f64 {
    60.0 / BPM
}

/// Sample position of `bar`, `beat` (0-based, fractional allowed; `.5` = swung off-beat).
fn at(bar: usize, beat: f64) -> usize {
    let whole = beat.floor();
    let frac = beat - whole;
    let frac = if (frac - 0.5).abs() < 1e-9 {
        SWING
    } else {
        frac
    };
    (((bar as f64 * 4.0 + whole + frac) * beat_s()) * SR as f64).round() as usize
}

/// Renders an instrument, applying events at their sample positions (the block is split at
/// each event, as the engine does), in blocks of at most MAX_BLOCK samples.
fn render<I, E: Copy>(
    inst: &mut I,
    mut events: Vec<(usize, E)>,
    total: usize,
    mut apply: impl FnMut(&mut I, E),
    mut process: impl FnMut(&mut I, &mut [f32], &mut [f32]),
) -> (Vec<f32>, Vec<f32>) {
    events.sort_by_key(|e| e.0);
    let mut l = vec![0.0f32; total];
    let mut r = vec![0.0f32; total];
    let mut pos = 0;
    let mut ev = 0;
    while pos < total {
        while ev < events.len() && events[ev].0 <= pos {
            apply(inst, events[ev].1);
            ev += 1;
        }
        let next = if ev < events.len() {
            events[ev].0
        } else {
            total
        };
        let n = (next - pos).min(MAX_BLOCK).min(total - pos).max(1);
        process(inst, &mut l[pos..pos + n], &mut r[pos..pos + n]);
        pos += n;
    }
    (l, r)
}

fn write_wav(path: &Path, l: &[f32], r: &[f32]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: SR,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for (a, b) in l.iter().zip(r) {
        w.write_sample(*a).unwrap();
        w.write_sample(*b).unwrap();
    }
    w.finalize().expect("finalize wav");
    let peak = l.iter().chain(r).fold(0.0f32, |m, x| m.max(x.abs()));
    println!("wrote {} (peak {:.3})", path.display(), peak);
}

#[derive(Clone, Copy)]
enum BassEv {
    On(u8, f32),
    Off,
    Tone(f32),
}

fn bass_part(total: usize) -> (Vec<f32>, Vec<f32>) {
    // Walking line, one note per beat, a swung pickup ("skip") now and then.
    #[rustfmt::skip]
    let line: [[u8; 4]; 4] = [
        [38, 41, 44, 48], // Dm7b5: D F Ab C
        [43, 47, 50, 44], // G7b9:  G B D Ab
        [36, 39, 43, 45], // Cm6:   C Eb G A
        [48, 43, 39, 37], // Cm6:   C G Eb Db (chromatic approach to D)
    ];
    let mut ev = vec![(0, BassEv::Tone(0.35))];
    for bar in 0..BARS {
        let notes = line[bar % 4];
        for (beat, &n) in notes.iter().enumerate() {
            let accent = if beat % 2 == 1 { 0.82 } else { 0.72 };
            ev.push((at(bar, beat as f64), BassEv::On(n, accent)));
            // Legato walking: lift the finger just before the next note (the next pluck
            // damps it anyway); a staccato quarter on beat 4 of every other bar.
            if beat == 3 && bar % 2 == 1 {
                ev.push((at(bar, 3.45), BassEv::Off));
            }
        }
        // A swung ghosted skip into bar 3 and bar 7.
        if bar % 4 == 1 {
            ev.push((at(bar, 3.5), BassEv::On(42, 0.45)));
        }
    }
    ev.push((at(4, 0.0), BassEv::Tone(0.6)));
    ev.push((at(BARS, 0.0) + SR as usize, BassEv::Off));
    let mut b = UprightBass::new(SR as f32);
    render(
        &mut b,
        ev,
        total,
        |b, e| match e {
            BassEv::On(n, v) => b.note_on(n, v),
            BassEv::Off => b.note_off(),
            BassEv::Tone(t) => b.set_tone(t),
        },
        |b, l, r| b.render(l, r),
    )
}

#[derive(Clone, Copy)]
enum KeysEv {
    On(u8, f32),
    Off(u8),
    Tone(f32, f32),
}

fn keys_part(total: usize) -> (Vec<f32>, Vec<f32>) {
    // Rootless voicings with smooth voice leading.
    let voicings: [&[u8]; 4] = [
        &[53, 56, 60, 64], // Dm7b5: F Ab C E
        &[53, 56, 59, 62], // G7b9:  F Ab B D
        &[51, 55, 57, 62], // Cm6/9: Eb G A D
        &[51, 55, 57, 60], // Cm6:   Eb G A C
    ];
    let mut ev = vec![(0, KeysEv::Tone(0.45, 0.35))];
    let push_chord = |ev: &mut Vec<(usize, KeysEv)>, on: usize, off: usize, v: &[u8], vel: f32| {
        for (i, &n) in v.iter().enumerate() {
            // A slight roll: lower notes a hair earlier, inner voices softer.
            let t = on + i * (SR as usize / 400);
            let vv = vel
                * if i == 0 || i == v.len() - 1 {
                    1.0
                } else {
                    0.88
                };
            ev.push((t, KeysEv::On(n, vv)));
            ev.push((off, KeysEv::Off(n)));
        }
    };
    for bar in 0..BARS {
        let v = voicings[bar % 4];
        let lift = if bar % 4 == 3 { 0.95 } else { 0.7 };
        // Charleston: beat 1 (short), "and" of 2 (held over the bar line or released on 4).
        push_chord(&mut ev, at(bar, 0.0), at(bar, 0.9), v, 0.62);
        push_chord(&mut ev, at(bar, 1.5), at(bar, 3.0 + lift), v, 0.74);
    }
    ev.push((at(4, 0.0), KeysEv::Tone(0.65, 0.6)));
    let mut k = Keys::new(SR as f32);
    render(
        &mut k,
        ev,
        total,
        |k, e| match e {
            KeysEv::On(n, v) => k.note_on(n, v),
            KeysEv::Off(n) => k.note_off(n),
            KeysEv::Tone(b, t) => k.set_tone(b, t),
        },
        |k, l, r| k.render(l, r),
    )
}

#[derive(Clone, Copy)]
enum DrumEv {
    Hit(DrumHit, f32),
    Swirl(f32, f32),
}

fn drums_part(total: usize) -> (Vec<f32>, Vec<f32>) {
    let cps = (1.0 / beat_s()) as f32; // one stir per beat
    let mut ev = vec![(0, DrumEv::Swirl(0.55, cps))];
    for bar in 0..BARS {
        // Ride: ding, ding-da, ding, ding-da.
        for (beat, vel) in [
            (0.0, 0.62),
            (1.0, 0.72),
            (1.5, 0.48),
            (2.0, 0.62),
            (3.0, 0.72),
            (3.5, 0.48),
        ] {
            ev.push((at(bar, beat), DrumEv::Hit(DrumHit::Ride, vel)));
        }
        // Hat foot on 2 and 4, feathered kick on every beat.
        for beat in [1.0, 3.0] {
            ev.push((at(bar, beat), DrumEv::Hit(DrumHit::HatFoot, 0.7)));
        }
        for beat in 0..4 {
            ev.push((at(bar, beat as f64), DrumEv::Hit(DrumHit::Kick, 0.35)));
        }
        // Brush taps on 2 and 4, a sweep across beats 3-4 every other bar.
        ev.push((at(bar, 1.0), DrumEv::Hit(DrumHit::BrushTap, 0.55)));
        ev.push((at(bar, 3.0), DrumEv::Hit(DrumHit::BrushTap, 0.6)));
        if bar % 2 == 1 {
            ev.push((
                at(bar, 2.0),
                DrumEv::Hit(
                    DrumHit::BrushSweep {
                        length_s: (1.4 * beat_s()) as f32,
                    },
                    0.6,
                ),
            ));
        }
        // Comping taps on the swung off-beats now and then.
        if bar % 4 == 2 {
            ev.push((at(bar, 2.5), DrumEv::Hit(DrumHit::BrushTap, 0.4)));
        }
        if bar % 4 == 3 {
            ev.push((at(bar, 3.5), DrumEv::Hit(DrumHit::CrossStick, 0.7)));
        }
    }
    // Crash + kick to open the second chorus; bell in bar 7.
    ev.push((at(4, 0.0), DrumEv::Hit(DrumHit::Crash, 0.6)));
    ev.push((at(4, 0.0), DrumEv::Hit(DrumHit::Kick, 0.7)));
    for beat in [0.0, 1.0, 2.0, 3.0] {
        ev.push((at(6, beat), DrumEv::Hit(DrumHit::RideBell, 0.5)));
    }
    ev.push((at(4, 0.0), DrumEv::Swirl(0.75, cps)));
    ev.push((at(BARS, 0.0), DrumEv::Swirl(0.0, cps)));
    ev.push((at(BARS, 0.0), DrumEv::Hit(DrumHit::Ride, 0.7)));
    ev.push((at(BARS, 0.0), DrumEv::Hit(DrumHit::Kick, 0.5)));
    let mut d = Drums::new(SR as f32);
    render(
        &mut d,
        ev,
        total,
        |d, e| match e {
            DrumEv::Hit(h, v) => d.hit(h, v),
            DrumEv::Swirl(l, c) => d.set_swirl(l, c),
        },
        |d, l, r| d.render(l, r),
    )
}

#[derive(Clone, Copy)]
enum LeadEv {
    On(u8, f32),
    Off,
    Glide(u8, f32),
    Fall(f32),
    Char(f32),
    Expr(f32, f32),
}

fn lead_part(total: usize) -> (Vec<f32>, Vec<f32>) {
    use LeadEv::*;
    // (bar, beat, event)
    #[rustfmt::skip]
    let script: Vec<(usize, f64, LeadEv)> = vec![
        (0, 0.0, Char(0.0)), (0, 0.0, Expr(0.55, 0.6)),
        // Tenor sax, first chorus.
        (0, 1.5, On(65, 0.7)), (0, 2.0, On(68, 0.75)), (0, 2.5, On(72, 0.85)),
        (1, 0.0, On(71, 0.8)), (1, 1.5, On(68, 0.7)), (1, 2.0, On(65, 0.7)), (1, 3.0, On(62, 0.75)),
        (2, 0.0, On(63, 0.85)), (2, 3.2, Off),
        (3, 1.0, On(67, 0.7)), (3, 1.5, On(69, 0.75)), (3, 2.0, On(72, 0.85)), (3, 3.0, Fall(0.4)),
        // Harmon-muted trumpet, second chorus.
        (3, 3.9, Char(1.0)), (4, 0.0, Expr(0.3, 0.45)),
        (4, 0.0, On(74, 0.8)), (4, 1.8, Off), (4, 2.5, On(72, 0.75)),
        (5, 0.0, On(71, 0.8)), (5, 1.0, Glide(68, 0.25)), (5, 2.6, Off), (5, 3.0, On(65, 0.7)),
        (6, 0.0, On(67, 0.85)), (6, 3.5, Off),
        (7, 0.5, On(63, 0.7)), (7, 1.0, On(60, 0.8)), (7, 3.0, Fall(0.6)),
    ];
    let ev = script
        .into_iter()
        .map(|(bar, beat, e)| (at(bar, beat), e))
        .collect();
    let mut x = Lead::new(SR as f32);
    render(
        &mut x,
        ev,
        total,
        |x, e| match e {
            On(n, v) => x.note_on(n, v),
            Off => x.note_off(),
            Glide(n, t) => x.glide_to(n, t),
            Fall(t) => x.fall(t),
            Char(c) => x.set_character(c),
            Expr(b, v) => x.set_expression(b, v),
        },
        |x, l, r| x.render(l, r),
    )
}

#[derive(Clone, Copy)]
enum PadEv {
    Chord(usize),
    Level(f32),
    Tension(f32),
}

const PAD_CHORDS: [&[u8]; 5] = [
    &[50, 53, 56, 60],     // Dm7b5
    &[43, 53, 56, 59, 62], // G7b9
    &[48, 51, 55, 57, 62], // Cm6/9
    &[48, 51, 55, 57, 60], // Cm6
    &[],
];

fn pad_part(total: usize) -> (Vec<f32>, Vec<f32>) {
    let mut ev = vec![(0, PadEv::Level(0.45)), (0, PadEv::Tension(0.1))];
    for bar in 0..BARS {
        ev.push((at(bar, 0.0), PadEv::Chord(bar % 4)));
    }
    ev.push((at(5, 0.0), PadEv::Tension(0.5)));
    ev.push((at(6, 0.0), PadEv::Tension(0.85)));
    ev.push((at(6, 0.0), PadEv::Level(0.6)));
    ev.push((at(BARS, 0.0), PadEv::Chord(4)));
    let mut p = Pad::new(SR as f32);
    render(
        &mut p,
        ev,
        total,
        |p, e| match e {
            PadEv::Chord(i) => p.set_chord(PAD_CHORDS[i]),
            PadEv::Level(l) => p.set_level(l),
            PadEv::Tension(t) => p.set_tension(t),
        },
        |p, l, r| p.render(l, r),
    )
}

fn ambience_part(total: usize) -> (Vec<f32>, Vec<f32>) {
    let ev = vec![
        (0, (0.6f32, 0.35f32, 0.45f32)),
        (at(4, 0.0), (0.8, 0.5, 0.3)),
        (at(BARS, 0.0), (0.0, 0.0, 0.0)),
    ];
    let mut a = Ambience::new(SR as f32);
    render(
        &mut a,
        ev,
        total,
        |a, (r, t, v)| a.set_amount(r, t, v),
        |a, l, r| a.render(l, r),
    )
}

fn main() {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("out"));
    std::fs::create_dir_all(&out).expect("create output directory");
    let total = at(BARS, 0.0) + 3 * SR as usize;

    let parts = [
        ("bass", bass_part(total)),
        ("keys", keys_part(total)),
        ("drums", drums_part(total)),
        ("lead", lead_part(total)),
        ("pad", pad_part(total)),
        ("ambience", ambience_part(total)),
    ];
    // Rough mix levels for band.wav (the real mixer lives in the engine).
    let mix = [0.9f32, 0.8, 0.75, 0.8, 0.6, 0.35];
    let mut mix_l = vec![0.0f32; total];
    let mut mix_r = vec![0.0f32; total];
    for ((name, (l, r)), g) in parts.iter().zip(mix) {
        write_wav(&out.join(format!("{name}.wav")), l, r);
        for i in 0..total {
            mix_l[i] += g * l[i];
            mix_r[i] += g * r[i];
        }
    }
    write_wav(&out.join("band.wav"), &mix_l, &mix_r);
}

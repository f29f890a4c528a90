//! The horn (issue 10, item 4): blown hard, the tenor growls (the throat's flutter modulates
//! the tone); blown soft it never does; and louder is brighter.

use mood_noir::voices::Lead;
use realfft::RealFftPlanner;

const SR: f32 = 48_000.0;

fn blow(velocity: f32, character: f32) -> Vec<f32> {
    let mut lead = Lead::new(SR);
    lead.set_character(character);
    lead.note_on(58, velocity);
    let n = SR as usize;
    let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
    for (cl, cr) in l.chunks_mut(256).zip(r.chunks_mut(256)) {
        lead.render(cl, cr);
    }
    l
}

/// Level of the tone's amplitude envelope fluctuation between 20 and 50 Hz, relative to its
/// mean (the growl's flutter), over the sustain (0.25-0.95 s).
fn flutter(x: &[f32]) -> f64 {
    let hop = 48; // 1 kHz envelope
    let env: Vec<f32> = x[(0.25 * SR) as usize..(0.95 * SR) as usize]
        .chunks(hop)
        .map(|c| (c.iter().map(|v| v * v).sum::<f32>() / c.len() as f32).sqrt())
        .collect();
    let n = 512;
    let mean = env[..n].iter().sum::<f32>() / n as f32;
    let mut buf: Vec<f32> = env[..n].iter().map(|e| e - mean).collect();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    // bins of 1000/512 Hz
    let band: f64 = spec[10..26].iter().map(|c| c.norm_sqr() as f64).sum();
    band.sqrt() / (mean as f64 * n as f64)
}

/// Fraction of the power above 1.5 kHz (the horn's "edge").
fn edge(x: &[f32]) -> f64 {
    let n = 16384;
    let start = (0.3 * SR) as usize;
    let mut buf = x[start..start + n].to_vec();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    let (mut a, mut b) = (0.0f64, 0.0f64);
    for (k, c) in spec.iter().enumerate() {
        let p = c.norm_sqr() as f64;
        if k as f64 * SR as f64 / n as f64 > 1500.0 {
            a += p;
        }
        b += p;
    }
    a / b
}

#[test]
fn blown_hard_the_tenor_growls_and_brightens() {
    let soft = blow(0.4, 0.0);
    let hard = blow(1.0, 0.0);
    let (fs, fh) = (flutter(&soft), flutter(&hard));
    let (cs, ch) = (edge(&soft), edge(&hard));
    println!("tenor: flutter 20-50 Hz soft {fs:.4} hard {fh:.4}; power above 1.5 kHz soft {cs:.4} hard {ch:.4}");
    assert!(fh > 3.0 * fs, "growl: {fs:.4} -> {fh:.4}");
    // (1.05 % -> 4.8 % since the reed opens with the fourth power of the blowing)
    assert!(ch > cs * 2.0, "brightness: {cs:.4} -> {ch:.4}");
    assert!(hard.iter().all(|x| x.is_finite() && x.abs() < 1.0));
    // The muted trumpet growls less than the tenor at the same force.
    let trumpet = blow(1.0, 1.0);
    assert!(
        flutter(&trumpet) < fh,
        "{:.4} vs {fh:.4}",
        flutter(&trumpet)
    );
}

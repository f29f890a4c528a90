//! Timings of the film commands on large inputs, printed: a 120-page screenplay, a 6K still
//! and a one-minute 1080p clip (made with ffmpeg). `cargo bench --bench film`.

use mood_noir::film::{clip, look, script};
use std::process::Command;
use std::time::Instant;

fn long_script(pages: f64) -> String {
    let mut s = String::from("Title: The Long Night\n\n");
    let mut n = 0;
    loop {
        for (i, (heading, action)) in [
            ("EXT. ALLEY - NIGHT", "Rain hammers the alley. Neon buzzes over a door. A shadow moves. Footsteps!"),
            ("INT. OFFICE - NIGHT", "Venetian blinds cut the lamp light into slats. Cigarette smoke hangs in the air while the detective waits by the window for a call that never comes."),
            ("INT. KITCHEN - DAWN", "Sunrise through the curtains. Coffee on the stove. She smiles and pours two cups."),
            ("EXT. DOCKS - DUSK", "Fog rolls off the water. A gun glints in the last light. Blood on the boards."),
        ]
        .iter()
        .enumerate()
        {
            n += 1;
            s.push_str(&format!("{heading} #{n}#\n\n{action}\n\n"));
            for k in 0..(3 + i) {
                s.push_str(&format!(
                    "JACK\nThat's the {k}th time tonight somebody told me to go home.\n\nVERA\n(quietly)\nMaybe you should listen.\n\n"
                ));
            }
            s.push_str(&format!("{action}\n\nCUT TO:\n\n"));
        }
        let sheet = script::fountain_parse_pages(&s);
        if sheet >= pages {
            return s;
        }
    }
}

fn main() {
    println!("== film timings (dev or bench profile as built)");
    // 1. A 120-page screenplay.
    let text = long_script(120.0);
    let t = Instant::now();
    let conv = script::from_fountain(
        &text,
        script::Timing::default(),
        &mood_noir::film::script_mood::ScriptTable::DEFAULT,
    )
    .unwrap();
    let json = conv.sheet.to_json();
    let dt = t.elapsed();
    println!(
        "script: {:.1} pages, {} scenes, {} KB of cues: {:.0} ms",
        conv.script.pages,
        conv.scenes.len(),
        json.len() / 1024,
        dt.as_secs_f64() * 1000.0
    );
    // 2. A 6K still.
    let dir = std::env::temp_dir().join(format!("mood-noir-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (w, h) = (6144u32, 3456u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let band = (x * 5 / w) as u8;
        let g = (y * 255 / h) as u8;
        image::Rgb([40 + band * 40, g / 2 + 20, 200 - band * 30])
    });
    let still = dir.join("six-k.png");
    img.save(&still).unwrap();
    let t = Instant::now();
    let loaded = look::load_rgb(&still).unwrap();
    let t_load = t.elapsed();
    let fl = look::analyze(&loaded, 5);
    let t_all = t.elapsed();
    println!(
        "still {w}x{h}: decode {:.0} ms, analysis {:.0} ms ({} colours, {:.0} K)",
        t_load.as_secs_f64() * 1000.0,
        (t_all - t_load).as_secs_f64() * 1000.0,
        fl.swatches.len(),
        fl.cct_k
    );
    // 3. A one-minute 1080p clip.
    let clipf = dir.join("minute.mp4");
    let t = Instant::now();
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=1920x1080:rate=25:duration=60")
        .args([
            "-vf",
            "hue=H=floor(t/6)*1.1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ])
        .arg(&clipf)
        .status()
        .expect("ffmpeg runs");
    assert!(st.success());
    println!("(made the clip in {:.1} s)", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let frames = clip::sample(&clipf, None, |_, _| {}).unwrap();
    let t_sample = t.elapsed();
    let shots = clip::shots(&frames, 5, |_, _| {});
    let t_all = t.elapsed();
    println!(
        "clip 1920x1080 60 s: {} frames sampled in {:.1} s, {} shots found in {:.1} s more",
        frames.frames.len(),
        t_sample.as_secs_f64(),
        shots.len(),
        (t_all - t_sample).as_secs_f64()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

//! A clip's shots: frames sampled through `ffmpeg` (a subprocess; Debian `ffmpeg`), scaled
//! down to `ANALYSIS_WIDTH` and read as raw RGB; shot changes found by colour-histogram
//! distance; one look per shot. Main thread (CLI).
//!
//! Shot detection: every sampled frame gets a joint RGB histogram (`BINS_PER_CHANNEL`³ bins,
//! normalised). The distance between neighbouring frames is half the L1 distance of their
//! histograms (0 identical .. 1 disjoint; 1 - histogram intersection, Swain & Ballard 1991).
//! A cut is a frame whose distance from the previous one exceeds `CUT_THRESHOLD` and is at
//! least `PEAK_RATIO` times the median distance of the frames around it (so noise, grain and
//! motion, which raise every distance alike, do not cut), at least `MIN_SHOT_S` after the
//! previous cut.

use super::look::{analyze, FrameLook};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Width frames are scaled to for analysis, pixels.
pub const ANALYSIS_WIDTH: u32 = 256;
/// Histogram bins per RGB channel.
pub const BINS_PER_CHANNEL: usize = 8;
/// Smallest histogram distance that can be a cut.
pub const CUT_THRESHOLD: f32 = 0.35;
/// A cut's distance over the local median distance.
pub const PEAK_RATIO: f32 = 3.0;
/// Frames on each side the local median looks at.
pub const MEDIAN_RADIUS: usize = 6;
/// Shortest shot, seconds.
pub const MIN_SHOT_S: f64 = 0.4;
/// Fastest rate frames are sampled at, frames a second (faster clips are decimated).
pub const MAX_SAMPLE_FPS: f64 = 30.0;

/// Why a clip could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipError(pub String);

impl std::fmt::Display for ClipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClipError {}

/// What ffprobe says of a clip's video stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipInfo {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Frame rate, frames a second.
    pub fps: f64,
    /// Length, seconds.
    pub duration_s: f64,
}

/// Checks that ffmpeg and ffprobe run.
pub fn check_ffmpeg() -> Result<(), ClipError> {
    for tool in ["ffmpeg", "ffprobe"] {
        let ok = Command::new(tool)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err(ClipError(format!(
                "{tool} is not installed (Debian: apt-get install ffmpeg; scripts/install-deps.sh does it)"
            )));
        }
    }
    Ok(())
}

fn rate(s: &str) -> Option<f64> {
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d): (f64, f64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    (d > 0.0 && n > 0.0).then_some(n / d)
}

/// Reads a clip's first video stream with ffprobe.
pub fn probe(path: &Path) -> Result<ClipInfo, ClipError> {
    check_ffmpeg()?;
    if !path.is_file() {
        return Err(ClipError(format!("{}: no such file", path.display())));
    }
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg("stream=width,height,avg_frame_rate,r_frame_rate,duration,nb_frames:format=duration")
        .args(["-of", "json"])
        .arg(path)
        .output()
        .map_err(|e| ClipError(format!("cannot run ffprobe: {e}")))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(ClipError(format!(
            "{}: not a video ffmpeg can read ({})",
            path.display(),
            msg.lines().last().unwrap_or("no detail").trim()
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| ClipError(format!("ffprobe printed no JSON: {e}")))?;
    let Some(st) = v["streams"].as_array().and_then(|a| a.first()) else {
        return Err(ClipError(format!(
            "{}: has no video stream",
            path.display()
        )));
    };
    let width = st["width"].as_u64().unwrap_or(0) as u32;
    let height = st["height"].as_u64().unwrap_or(0) as u32;
    let fps = st["avg_frame_rate"]
        .as_str()
        .and_then(rate)
        .or_else(|| st["r_frame_rate"].as_str().and_then(rate))
        .unwrap_or(0.0);
    let num = |x: &serde_json::Value| x.as_str().and_then(|s| s.parse::<f64>().ok());
    let duration_s = num(&st["duration"])
        .or_else(|| num(&v["format"]["duration"]))
        .unwrap_or(0.0);
    if width == 0 || height == 0 || fps.is_nan() || fps <= 0.0 {
        return Err(ClipError(format!(
            "{}: the video stream has no frames (size {width}x{height}, {fps} fps)",
            path.display()
        )));
    }
    Ok(ClipInfo {
        width,
        height,
        fps,
        duration_s,
    })
}

/// Frames sampled from a clip, scaled to `ANALYSIS_WIDTH`.
pub struct Frames {
    /// The clip.
    pub info: ClipInfo,
    /// Rate the frames were sampled at.
    pub sample_fps: f64,
    /// Frame size after scaling.
    pub width: u32,
    /// Frame size after scaling.
    pub height: u32,
    /// The frames.
    pub frames: Vec<image::RgbImage>,
}

/// Samples every frame (decimated to at most `MAX_SAMPLE_FPS`, or `sample_fps` when given)
/// through ffmpeg. `progress(frames_read, frames_expected)` is called as they arrive.
pub fn sample(
    path: &Path,
    sample_fps: Option<f64>,
    mut progress: impl FnMut(u64, u64),
) -> Result<Frames, ClipError> {
    let info = probe(path)?;
    let fps = sample_fps
        .filter(|f| f.is_finite() && *f > 0.0)
        .unwrap_or(info.fps)
        .min(info.fps);
    let fps = if sample_fps.is_none() && fps > MAX_SAMPLE_FPS {
        // Keep an integer decimation of the clip's rate.
        info.fps / (info.fps / MAX_SAMPLE_FPS).ceil()
    } else {
        fps
    };
    let w = ANALYSIS_WIDTH.min(info.width.max(2)) & !1;
    let h = (((info.height as f64 * w as f64 / info.width as f64) / 2.0).round() as u32 * 2).max(2);
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-an",
            "-vf",
            &format!("fps={fps},scale={w}:{h}:flags=area"),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "pipe:1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ClipError(format!("cannot run ffmpeg: {e}")))?;
    let expected = (info.duration_s * fps).round().max(1.0) as u64;
    let frame_bytes = (w * h * 3) as usize;
    let mut frames = Vec::new();
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    loop {
        let mut buf = vec![0u8; frame_bytes];
        match stdout.read_exact(&mut buf) {
            Ok(()) => {
                frames.push(image::RgbImage::from_raw(w, h, buf).expect("sized buffer"));
                progress(frames.len() as u64, expected);
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(ClipError(format!("reading frames from ffmpeg: {e}"))),
        }
    }
    let status = child
        .wait()
        .map_err(|e| ClipError(format!("ffmpeg: {e}")))?;
    let errors = err_thread.join().unwrap_or_default();
    if frames.is_empty() {
        return Err(ClipError(format!(
            "{}: the video has no frames ffmpeg could decode{}",
            path.display(),
            if errors.trim().is_empty() {
                String::new()
            } else {
                format!(" ({})", errors.lines().last().unwrap_or("").trim())
            }
        )));
    }
    if !status.success() && frames.len() < 2 {
        return Err(ClipError(format!(
            "ffmpeg failed on {}: {}",
            path.display(),
            errors.trim()
        )));
    }
    Ok(Frames {
        info,
        sample_fps: fps,
        width: w,
        height: h,
        frames,
    })
}

/// A frame's normalised joint RGB histogram.
pub fn histogram(img: &image::RgbImage) -> Vec<f32> {
    let b = BINS_PER_CHANNEL;
    let shift = 8 - b.trailing_zeros();
    let mut h = vec![0.0f32; b * b * b];
    for p in img.pixels() {
        let [r, g, bl] = p.0.map(|c| (c >> shift) as usize);
        h[(r * b + g) * b + bl] += 1.0;
    }
    let n = (img.width() * img.height()).max(1) as f32;
    for v in &mut h {
        *v /= n;
    }
    h
}

/// Half the L1 distance of two normalised histograms (0..1).
pub fn histogram_distance(a: &[f32], b: &[f32]) -> f32 {
    0.5 * a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>()
}

/// Indices of the frames that start a new shot (frame 0 always does).
pub fn detect_cuts(hists: &[Vec<f32>], fps: f64) -> Vec<usize> {
    let n = hists.len();
    let mut cuts = vec![0];
    if n < 2 {
        return cuts;
    }
    let d: Vec<f32> = (0..n)
        .map(|i| {
            if i == 0 {
                0.0
            } else {
                histogram_distance(&hists[i - 1], &hists[i])
            }
        })
        .collect();
    let min_gap = (MIN_SHOT_S * fps).ceil().max(1.0) as usize;
    for i in 1..n {
        if d[i] < CUT_THRESHOLD {
            continue;
        }
        let lo = i.saturating_sub(MEDIAN_RADIUS).max(1);
        let hi = (i + MEDIAN_RADIUS + 1).min(n);
        let mut around: Vec<f32> = (lo..hi).filter(|&j| j != i).map(|j| d[j]).collect();
        around.sort_by(f32::total_cmp);
        let median = around.get(around.len() / 2).copied().unwrap_or(0.0);
        if d[i] < PEAK_RATIO * median {
            continue;
        }
        // The strongest frame of a cut wins (a two-frame blend cuts once).
        let last = *cuts.last().expect("non-empty");
        if i - last < min_gap {
            if last > 0 && d[i] > d[last] {
                *cuts.last_mut().expect("non-empty") = i;
            }
            continue;
        }
        cuts.push(i);
    }
    cuts
}

/// One shot.
#[derive(Clone, Debug, PartialEq)]
pub struct Shot {
    /// First sampled frame.
    pub first: usize,
    /// One past the last sampled frame.
    pub end: usize,
    /// Start, seconds.
    pub start_s: f64,
    /// Length, seconds.
    pub length_s: f64,
    /// The look (pixels of up to three frames across the shot pooled).
    pub look: FrameLook,
    /// Frame-to-frame unsteadiness of the level 0..1 (becomes the cue's flicker).
    pub flicker: f32,
}

/// Standard deviation of the mean level (0..1) over a shot that counts as full flicker.
pub const FLICKER_FULL_STD: f32 = 0.08;

/// Splits sampled frames into shots with their looks. `progress(shots_done, shots)`.
pub fn shots(frames: &Frames, k: usize, mut progress: impl FnMut(u64, u64)) -> Vec<Shot> {
    let hists: Vec<Vec<f32>> = frames.frames.iter().map(histogram).collect();
    let cuts = detect_cuts(&hists, frames.sample_fps);
    let n = frames.frames.len();
    let mut out = Vec::with_capacity(cuts.len());
    for (s, &first) in cuts.iter().enumerate() {
        let end = cuts.get(s + 1).copied().unwrap_or(n);
        // Pool a quarter, the middle and three quarters of the shot.
        let picks: Vec<usize> = {
            let len = end - first;
            let mut v = vec![first + len / 4, first + len / 2, first + (3 * len) / 4];
            v.dedup();
            v
        };
        let (w, h) = (frames.width, frames.height);
        let mut pooled = image::RgbImage::new(w, h * picks.len() as u32);
        for (i, &f) in picks.iter().enumerate() {
            image::imageops::replace(&mut pooled, &frames.frames[f], 0, (i as u32 * h) as i64);
        }
        let look = analyze(&pooled, k);
        let levels: Vec<f32> = frames.frames[first..end]
            .iter()
            .map(|f| {
                let sum: u64 = f.as_raw().iter().map(|&c| c as u64).sum();
                sum as f32 / (f.as_raw().len().max(1) as f32 * 255.0)
            })
            .collect();
        let mean = levels.iter().sum::<f32>() / levels.len().max(1) as f32;
        let var =
            levels.iter().map(|l| (l - mean).powi(2)).sum::<f32>() / levels.len().max(1) as f32;
        out.push(Shot {
            first,
            end,
            start_s: first as f64 / frames.sample_fps,
            length_s: (end - first) as f64 / frames.sample_fps,
            look,
            flicker: (var.sqrt() / FLICKER_FULL_STD).clamp(0.0, 1.0),
        });
        progress(s as u64 + 1, cuts.len() as u64);
    }
    out
}

/// The timecode rate a sheet for a clip at `fps` uses, if it is one (23.976 .. 60).
pub fn timecode_rate(fps: f64) -> Option<f64> {
    [23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0]
        .into_iter()
        .find(|r| (r - fps).abs() < 0.01)
}

/// SMPTE non-drop timecode `HH:MM:SS:FF` of `seconds` at `rate` (29.97/59.94 count 30/60
/// frames a timecode second on a clock 1000/1001 slow, as `parse_smpte` reads them).
pub fn smpte(seconds: f64, rate: f64) -> String {
    let nominal = rate.round();
    let real = if (rate - nominal).abs() > 1e-3 {
        nominal * 1000.0 / 1001.0
    } else {
        rate
    };
    let frames = (seconds * real).round() as u64;
    let nom = nominal as u64;
    let (f, s) = (frames % nom, frames / nom);
    format!(
        "{:02}:{:02}:{:02}:{:02}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        f
    )
}

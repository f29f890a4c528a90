//! Loading by path: the cue-sheet panel's field takes a typed or pasted path (or a file
//! manager's `file://` URI list) to a still, a Fountain script or a cue sheet, and loads it on a
//! short-lived worker thread so the GUI thread never waits on the disk or the image decoder.
//! The GUI thread polls the result each frame and writes it into the persisted cue sheet.
//! (Drag and drop is not possible: egui-baseview 0.9 never accepts a drop.)

use crate::cli::look::frame_cue;
use crate::film::look::{analyze, load_rgb};
use crate::film::sheet::{OutSheet, OutTime};
use crate::light::{CueFormat, CueSource};
use crate::watched::Watched;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Dominant colours taken from a still for its palette (as `mood-noir look` does by default).
pub const STILL_PALETTE_COLOURS: usize = 5;
/// Longest path the field accepts, characters (a pasted novel is not a path).
pub const MAX_PATH_CHARS: usize = 4096;
/// Largest cue sheet or screenplay loaded, bytes (a feature film's script is under 1 MB).
pub const MAX_SHEET_BYTES: u64 = 16 << 20;
/// Largest still loaded, bytes (an 8K 16-bit PNG is about 200 MB).
pub const MAX_STILL_BYTES: u64 = 256 << 20;

/// What a path holds, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadKind {
    /// A `.json` or `.csv` cue sheet.
    Sheet,
    /// A `.fountain` screenplay (one cue per scene).
    Script,
    /// A `.png` / `.jpg` / `.jpeg` still: its look becomes a one-cue sheet.
    Still,
}

/// The file a field's text names: the first non-empty line that is not a `#` comment (a
/// `text/uri-list` may hold several), trimmed and unquoted; a `file://` URI is percent-decoded
/// (`file:///a%20b.png` → `/a b.png`, `file://localhost/x` → `/x`; a Windows
/// `file:///C:/x` becomes `C:/x`, separators left as they are). A plain path is taken as
/// written (a `%` in it is a `%`). `None` for empty text or another URI scheme.
pub fn path_from_input(text: &str) -> Option<PathBuf> {
    let line = unquote(first_line(text)?);
    if line.is_empty() || line.chars().count() > MAX_PATH_CHARS {
        return None;
    }
    let lower = line.to_ascii_lowercase();
    if lower.starts_with("file:") {
        let rest = &line["file:".len()..];
        // file:///p, file://localhost/p, file:/p
        let path = if let Some(after) = rest.strip_prefix("//") {
            let slash = after.find('/')?;
            let host = &after[..slash];
            if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
                return None; // a file on another machine
            }
            &after[slash..]
        } else {
            rest
        };
        let decoded = percent_decode(path);
        let decoded = match decoded.as_bytes() {
            // "/C:/..." is a Windows drive path.
            [b'/', d, b':', ..] if d.is_ascii_alphabetic() => decoded[1..].to_string(),
            _ => decoded,
        };
        return (!decoded.is_empty()).then(|| PathBuf::from(decoded));
    }
    if lower.contains("://") {
        return None; // http://, smb:// ...: not a local file
    }
    Some(PathBuf::from(line))
}

/// The first non-empty line of `text` that is not a `#` comment, trimmed (what a pasted
/// URI list is reduced to in the field).
pub fn first_line(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Strips one pair of matching surrounding quotes ('…' or "…"), as some file managers and
/// terminals add.
fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].trim();
        }
    }
    s
}

/// `%XX` escapes decoded as UTF-8 bytes (invalid UTF-8 replaced); a `%` not followed by two
/// hex digits is kept as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The kind of file `path` is, from its extension; an error naming what can be loaded.
pub fn kind_of(path: &Path) -> Result<LoadKind, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("json") | Some("csv") => Ok(LoadKind::Sheet),
        Some("fountain") => Ok(LoadKind::Script),
        Some("png") | Some("jpg") | Some("jpeg") => Ok(LoadKind::Still),
        _ => Err(format!(
            "{}: load a still (.png, .jpg), a script (.fountain) or a cue sheet (.json, .csv)",
            display_name(path)
        )),
    }
}

/// The file name for messages (the full path is long; the panel is narrow).
fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A still's look as a one-cue sheet (`OutSheet::to_json`, as `mood-noir look --cue` writes),
/// stored with the image's path: its key light, colour, temperature, contrast and palette.
pub fn still_source(path: &Path) -> Result<CueSource, String> {
    let img = load_rgb(path).map_err(|e| e.to_string())?;
    let look = analyze(&img, STILL_PALETTE_COLOURS);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "still".into());
    let sheet = OutSheet::new(
        None,
        vec![frame_cue(name, OutTime::Seconds(0.0), &look, 0.0)],
    );
    Ok(CueSource {
        path: path.display().to_string(),
        format: Some(CueFormat::Json),
        text: sheet.to_json(),
    })
}

/// A loaded file, ready to become the session's cue sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// What it was.
    pub kind: LoadKind,
    /// The persisted form (path, format, full text).
    pub source: CueSource,
    /// Cues in the parsed sheet.
    pub cues: usize,
    /// Wall time the load took (read, decode, analyse, parse).
    pub took: Duration,
}

impl Loaded {
    /// One line for the panel, e.g. "still night.png: its look drives the light".
    pub fn summary(&self) -> String {
        let name = display_name(Path::new(&self.source.path));
        let ms = self.took.as_secs_f64() * 1000.0;
        match self.kind {
            LoadKind::Still => format!("still {name}: its look drives the light ({ms:.0} ms)"),
            LoadKind::Script => format!("script {name}: {} scenes as cues ({ms:.0} ms)", self.cues),
            LoadKind::Sheet => format!("cue sheet {name}: {} cues ({ms:.0} ms)", self.cues),
        }
    }
}

/// Loads `path` (blocking: run it on a worker thread): a sheet or script through
/// `CueSource::read`, a still through `still_source`; the result is parsed once to check it, so
/// what comes back always plays. Errors carry the reader's or the parser's message.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let t0 = Instant::now();
    let kind = kind_of(path)?;
    if !path.exists() {
        return Err(format!("{}: no such file", path.display()));
    }
    if path.is_dir() {
        return Err(format!("{}: a folder, not a file", path.display()));
    }
    let max = match kind {
        LoadKind::Still => MAX_STILL_BYTES,
        LoadKind::Sheet | LoadKind::Script => MAX_SHEET_BYTES,
    };
    let bytes = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if bytes > max {
        return Err(format!(
            "{}: {} MB, more than the {} MB this kind of file may have",
            display_name(path),
            bytes >> 20,
            max >> 20
        ));
    }
    let source = match kind {
        LoadKind::Still => still_source(path)?,
        LoadKind::Sheet | LoadKind::Script => CueSource::read(path).map_err(|e| e.to_string())?,
    };
    let sheet = source
        .parse()
        .map_err(|e| format!("{}: {e}", display_name(path)))?;
    if sheet.cues.is_empty() {
        return Err(format!("{}: the sheet has no cues", display_name(path)));
    }
    Ok(Loaded {
        kind,
        cues: sheet.cues.len(),
        source,
        took: t0.elapsed(),
    })
}

/// Makes `source` the session's cue sheet (GUI thread): the write bumps the generation, so the
/// OSC service thread re-parses it and hands it to the audio thread, and the host saves it.
pub fn install(store: &Watched<Option<CueSource>>, source: Option<CueSource>) {
    if let Ok(mut w) = store.write() {
        *w = source;
    }
}

/// What the field shows under it.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Nothing happened yet.
    Idle,
    /// A worker is loading this file (since the instant).
    Loading(String, Instant),
    /// The last load worked: this line says what it was.
    Done(String),
    /// The last load failed: the message (nothing loaded before was lost).
    Failed(String),
}

/// What the user asked the load row for this frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadAction {
    /// Enter or the Load button: load what the field names.
    Load,
    /// The clear button: unload the sheet.
    Clear,
}

/// The load row's state (GUI thread): the text, the worker, the last message.
#[derive(Default)]
pub struct LoadField {
    /// What is typed or pasted.
    pub text: String,
    /// The worker and the status line.
    pub loader: Loader,
}

impl LoadField {
    /// A paste of several lines (a URI list) becomes its first entry, so the one-line field
    /// shows what will load.
    pub fn tidy(&mut self) {
        if self.text.contains(['\n', '\r']) {
            self.text = first_line(&self.text).unwrap_or_default().to_string();
        }
    }
}

/// The field's worker: at most one load at a time; the GUI polls it each frame.
pub struct Loader {
    /// The running load's answer, if one runs.
    pending: Option<mpsc::Receiver<Result<Loaded, String>>>,
    /// What to show.
    pub status: Status,
}

impl Default for Loader {
    fn default() -> Self {
        Self {
            pending: None,
            status: Status::Idle,
        }
    }
}

impl Loader {
    /// Whether a load is running.
    pub fn busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Starts loading what `text` names on a worker thread (`wake` is called when it is done,
    /// e.g. to request a repaint). A field that names nothing, or a second load while one
    /// runs, only changes the status.
    pub fn start(&mut self, text: &str, wake: impl FnOnce() + Send + 'static) {
        if self.busy() {
            return;
        }
        let Some(path) = path_from_input(text) else {
            self.status = Status::Failed(if text.trim().is_empty() {
                "type or paste the path of a still, a script or a cue sheet".into()
            } else {
                "not a local file path (or file:// URI)".into()
            });
            return;
        };
        let (tx, rx) = mpsc::channel();
        let shown = display_name(&path);
        let spawned = std::thread::Builder::new()
            .name("mood-noir-editor-load".into())
            .spawn(move || {
                let _ = tx.send(load(&path));
                wake();
            });
        match spawned {
            Ok(_) => {
                self.pending = Some(rx);
                self.status = Status::Loading(shown, Instant::now());
            }
            Err(e) => self.status = Status::Failed(format!("cannot start a loader thread: {e}")),
        }
    }

    /// The finished load, if the worker is done (never blocks). A worker that died without an
    /// answer becomes an error.
    pub fn poll(&mut self) -> Option<Result<Loaded, String>> {
        let rx = self.pending.as_ref()?;
        let answer = match rx.try_recv() {
            Ok(r) => r,
            Err(mpsc::TryRecvError::Empty) => return None,
            Err(mpsc::TryRecvError::Disconnected) => Err("the loader stopped unexpectedly".into()),
        };
        self.pending = None;
        Some(answer)
    }

    /// Waits for the running load (tests and measurements only; the GUI uses `poll`).
    pub fn wait(&mut self, timeout: Duration) -> Option<Result<Loaded, String>> {
        let rx = self.pending.take()?;
        let r = rx
            .recv_timeout(timeout)
            .unwrap_or_else(|e| Err(format!("no answer: {e}")));
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mood-noir-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    /// A `w`×`h` PNG of one colour.
    fn solid_png(name: &str, rgb: [u8; 3], w: u32, h: u32) -> PathBuf {
        let p = tmp(name);
        image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
            .save(&p)
            .unwrap();
        p
    }

    #[test]
    fn plain_paths_are_taken_as_written() {
        assert_eq!(
            path_from_input("/tmp/night.png"),
            Some(PathBuf::from("/tmp/night.png"))
        );
        // Surrounding whitespace and a trailing newline go; a % in a plain path stays.
        assert_eq!(
            path_from_input("  /tmp/100%20off.json \n"),
            Some(PathBuf::from("/tmp/100%20off.json"))
        );
        assert_eq!(
            path_from_input("'/tmp/with space.csv'"),
            Some(PathBuf::from("/tmp/with space.csv"))
        );
        assert_eq!(
            path_from_input("relative/cues.csv"),
            Some(PathBuf::from("relative/cues.csv"))
        );
        assert_eq!(path_from_input(""), None);
        assert_eq!(path_from_input("   \n\t"), None);
    }

    #[test]
    fn file_uris_are_percent_decoded() {
        assert_eq!(
            path_from_input("file:///a%20b.png"),
            Some(PathBuf::from("/a b.png"))
        );
        // UTF-8 escapes: %C3%A9 is é.
        assert_eq!(
            path_from_input("file:///films/caf%C3%A9.jpg"),
            Some(PathBuf::from("/films/café.jpg"))
        );
        assert_eq!(
            path_from_input("file://localhost/x/y.json"),
            Some(PathBuf::from("/x/y.json"))
        );
        assert_eq!(
            path_from_input("FILE:///x.csv"),
            Some(PathBuf::from("/x.csv"))
        );
        // A broken escape is kept literally.
        assert_eq!(
            path_from_input("file:///a%2.png"),
            Some(PathBuf::from("/a%2.png"))
        );
        assert_eq!(
            path_from_input("file:///ends%"),
            Some(PathBuf::from("/ends%"))
        );
        // Another machine, another scheme: not a local file.
        assert_eq!(path_from_input("file://server/share/x.png"), None);
        assert_eq!(path_from_input("https://example.com/x.png"), None);
    }

    #[test]
    fn a_uri_list_gives_its_first_file() {
        // What a file manager's "copy" of two files puts on the clipboard (text/uri-list:
        // CRLF lines, # comments allowed).
        let list =
            "# copied\r\nfile:///home/me/Stills/rain%20street.png\r\nfile:///home/me/b.png\r\n";
        assert_eq!(
            path_from_input(list),
            Some(PathBuf::from("/home/me/Stills/rain street.png"))
        );
        // GNOME's x-special/gnome-copied-files text starts with the verb.
        assert_eq!(
            path_from_input("\n\nfile:///x.fountain\nfile:///y.csv"),
            Some(PathBuf::from("/x.fountain"))
        );
    }

    #[test]
    fn a_pasted_list_is_tidied_to_its_first_entry() {
        let mut f = LoadField {
            text: "# from nautilus\r\nfile:///a%20b.png\r\nfile:///c.png\r\n".into(),
            ..LoadField::default()
        };
        f.tidy();
        assert_eq!(f.text, "file:///a%20b.png");
        f.text = "/one/line.csv".into();
        f.tidy();
        assert_eq!(f.text, "/one/line.csv");
    }

    #[test]
    fn windows_drive_uris_keep_their_drive_and_slashes() {
        assert_eq!(
            path_from_input("file:///C:/Users/me/Noir%20Stills/a.png"),
            Some(PathBuf::from("C:/Users/me/Noir Stills/a.png"))
        );
    }

    #[test]
    fn overlong_text_is_not_a_path() {
        let long = "/".to_string() + &"a".repeat(MAX_PATH_CHARS + 10);
        assert_eq!(path_from_input(&long), None);
    }

    #[test]
    fn the_extension_decides_how_to_load() {
        let k = |s: &str| kind_of(Path::new(s));
        assert_eq!(k("/a/b.json"), Ok(LoadKind::Sheet));
        assert_eq!(k("/a/b.CSV"), Ok(LoadKind::Sheet));
        assert_eq!(k("b.fountain"), Ok(LoadKind::Script));
        assert_eq!(k("b.png"), Ok(LoadKind::Still));
        assert_eq!(k("b.JPG"), Ok(LoadKind::Still));
        assert_eq!(k("b.jpeg"), Ok(LoadKind::Still));
        let e = k("/a/notes.txt").unwrap_err();
        assert!(e.starts_with("notes.txt:"), "{e}");
        assert!(e.contains(".png") && e.contains(".fountain") && e.contains(".csv"));
        assert!(k("/a/noext").is_err());
    }

    #[test]
    fn a_still_becomes_a_one_cue_sheet_in_its_colour() {
        // A saturated red-orange: (200, 60, 30). The look's cast is the mean colour scaled to
        // its largest channel: about (1.0, 0.30, 0.15), not white light; the heaviest palette
        // colour is the pixel colour itself, (0.784, 0.235, 0.118).
        let p = solid_png("red.png", [200, 60, 30], 64, 48);
        let src = still_source(&p).unwrap();
        assert_eq!(src.path, p.display().to_string());
        assert_eq!(src.format, Some(CueFormat::Json));
        let sheet = src.parse().unwrap();
        assert_eq!(sheet.cues.len(), 1);
        assert_eq!(sheet.cues[0].name, "red");
        let (look, _) = sheet.cue_look(0).unwrap();
        let rgb = look.rgb;
        assert!((rgb[0] - 1.0).abs() < 0.02, "{rgb:?}");
        assert!((rgb[1] - 0.30).abs() < 0.06, "{rgb:?}");
        assert!((rgb[2] - 0.15).abs() < 0.06, "{rgb:?}");
        let pal = look.palette.colors();
        assert!(!pal.is_empty());
        let want = [200.0 / 255.0, 60.0 / 255.0, 30.0 / 255.0];
        for k in 0..3 {
            assert!((pal[0][k] - want[k]).abs() < 0.02, "{:?}", pal[0]);
        }
    }

    #[test]
    fn a_blue_still_is_not_read_as_red() {
        // The same arithmetic for (20, 40, 180): cast ≈ (0.11, 0.22, 1.0).
        let p = solid_png("blue.png", [20, 40, 180], 32, 32);
        let look = still_source(&p)
            .unwrap()
            .parse()
            .unwrap()
            .cue_look(0)
            .unwrap()
            .0;
        assert!(look.rgb[2] > 0.95 && look.rgb[0] < 0.2, "{:?}", look.rgb);
    }

    #[test]
    fn missing_files_and_non_images_say_so() {
        let e = load(&tmp("nowhere.png")).unwrap_err();
        assert!(e.ends_with("no such file"), "{e}");
        let e = load(&tmp("nowhere.json")).unwrap_err();
        assert!(e.ends_with("no such file"), "{e}");
        // Text with a .png name: the decoder's check names it.
        let fake = tmp("fake.png");
        std::fs::write(&fake, "not an image at all").unwrap();
        let e = load(&fake).unwrap_err();
        assert!(e.contains("not a PNG or JPEG"), "{e}");
        // A truncated PNG: the right magic, then nothing.
        let cut = tmp("cut.png");
        std::fs::write(&cut, b"\x89PNG\r\n\x1a\n\0\0").unwrap();
        let e = load(&cut).unwrap_err();
        assert!(e.contains("cannot decode"), "{e}");
        let e = load(&std::env::temp_dir()).unwrap_err();
        assert!(e.contains("load a still"), "{e}");
    }

    #[test]
    fn a_broken_sheet_reports_the_parsers_message() {
        let p = tmp("broken.json");
        std::fs::write(&p, r#"{"cues": [{"at": 0, "intensity": 7}]}"#).unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.starts_with("broken.json: "), "{e}");
        assert!(e.contains("intensity"), "{e}");
        let p = tmp("empty.csv");
        std::fs::write(&p, "at,name\n").unwrap();
        assert!(load(&p).is_err());
    }

    #[test]
    fn an_oversized_sheet_is_refused_before_it_is_read() {
        // 17 MiB of CSV (a sparse file: nothing is written) against the 16 MiB cap.
        let p = tmp("huge.csv");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(MAX_SHEET_BYTES + (1 << 20)).unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.contains("17 MB") && e.contains("16 MB"), "{e}");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn sheets_and_scripts_load_and_count_their_cues() {
        let p = tmp("two.csv");
        std::fs::write(&p, "at,name,intensity\n0,open,0.2\n10,close,0.9\n").unwrap();
        let l = load(&p).unwrap();
        assert_eq!((l.kind, l.cues), (LoadKind::Sheet, 2));
        assert_eq!(l.source.format, Some(CueFormat::Csv));
        assert!(
            l.summary().starts_with("cue sheet two.csv: 2 cues"),
            "{}",
            l.summary()
        );
        let s = tmp("night.fountain");
        std::fs::write(
            &s,
            "INT. OFFICE - NIGHT\n\nRain on the glass.\n\nEXT. ALLEY - NIGHT\n\nA gunshot.\n",
        )
        .unwrap();
        let l = load(&s).unwrap();
        assert_eq!(l.kind, LoadKind::Script);
        assert_eq!(l.cues, 2, "{}", l.source.text);
        assert_eq!(l.source.format, Some(CueFormat::Json));
    }

    #[test]
    fn installing_bumps_the_generation_and_keeps_the_sheet() {
        // What the OSC service thread watches: a write moves the generation, and the stored
        // text parses as the sheet the loader checked.
        let p = solid_png("green.png", [40, 170, 60], 16, 16);
        let loaded = load(&p).unwrap();
        let store: Watched<Option<CueSource>> = Watched::new(None);
        let before = store.generation();
        install(&store, Some(loaded.source.clone()));
        let (got, generation) = store.snapshot();
        assert_eq!(generation, before + 1);
        let got = got.unwrap();
        assert_eq!(got, loaded.source);
        assert_eq!(got.parse().unwrap(), loaded.source.parse().unwrap());
        // Clearing is a write too.
        install(&store, None);
        assert_eq!(store.snapshot(), (None, before + 2));
    }

    #[test]
    fn the_loader_answers_off_thread_and_reports_errors() {
        let p = solid_png("amber.png", [230, 170, 70], 40, 30);
        let mut l = Loader::default();
        let (tx, rx) = mpsc::channel();
        l.start(&format!("file://{}", p.display()), move || {
            let _ = tx.send(());
        });
        assert!(l.busy());
        assert!(matches!(l.status, Status::Loading(ref n, _) if n == "amber.png"));
        // A second Enter while busy changes nothing.
        l.start("/elsewhere.png", || {});
        assert!(matches!(l.status, Status::Loading(ref n, _) if n == "amber.png"));
        rx.recv_timeout(Duration::from_secs(20)).unwrap();
        let r = loop {
            if let Some(r) = l.poll() {
                break r;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(r.unwrap().kind, LoadKind::Still);
        assert!(!l.busy());
        assert_eq!(l.poll(), None);
        // Text that names nothing never starts a worker.
        l.start("  ", || {});
        assert!(!l.busy() && matches!(l.status, Status::Failed(_)));
        l.start("https://example.com/a.png", || {});
        assert!(!l.busy() && matches!(l.status, Status::Failed(_)));
        l.start(&tmp("gone.jpg").display().to_string(), || {});
        let e = l.wait(Duration::from_secs(20)).unwrap().unwrap_err();
        assert!(e.contains("no such file"), "{e}");
    }

    /// Times loading a 3840×2160 still (blocks of colour, gradients and film grain, so the PNG
    /// is as large as a real frame's) on the worker thread:
    /// `cargo test --release --lib editor::loader -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_loading_a_4k_still() {
        let (w, h) = (3840u32, 2160u32);
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            let band = (x / 480 + y / 540) % 4;
            let g = (y * 255 / h) as u8;
            // Grain: a hash of the position, ±8 codes.
            let n = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)) % 17;
            let grain = |c: u8| c.saturating_add(n as u8).saturating_sub(8);
            let [r, gg, b] = match band {
                0 => [g / 4, g / 3, g],
                1 => [230, 150 + g / 8, 60],
                2 => [20, 20, 24],
                _ => [(x % 256) as u8, g, 90],
            };
            image::Rgb([grain(r), grain(gg), grain(b)])
        });
        for ext in ["png", "jpg"] {
            let p = tmp(&format!("frame4k.{ext}"));
            img.save(&p).unwrap();
            let bytes = std::fs::metadata(&p).unwrap().len();
            let mut times = Vec::new();
            for _ in 0..3 {
                let mut l = Loader::default();
                let t0 = Instant::now();
                l.start(&p.display().to_string(), || {});
                let start_ms = t0.elapsed().as_secs_f64() * 1000.0;
                let r = l.wait(Duration::from_secs(120)).unwrap().unwrap();
                times.push((start_ms, t0.elapsed().as_secs_f64() * 1000.0, r.took));
            }
            for (start_ms, total_ms, took) in &times {
                println!(
                    "4K {ext} ({bytes} bytes): GUI thread blocked {start_ms:.3} ms (spawn), \
                     worker {:.0} ms, done after {total_ms:.0} ms",
                    took.as_secs_f64() * 1000.0
                );
            }
        }
    }
}

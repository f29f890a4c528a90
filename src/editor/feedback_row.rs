//! The OSC feedback row of the light panel: on/off, the desk's `host:port` and the rate, written
//! into the persisted `osc-config` → `feedback` (every other OSC setting kept). A target is
//! checked before it is written (an address, or a host name of valid characters with a port;
//! names are not looked up here, the GUI thread never waits on DNS). The sender thread picks a
//! change up at once while the plugin is active; the line under the row shows where it
//! actually sends, as the sender reports it. GUI thread only.

use super::theme;
use crate::light::feedback::{clamp_rate_hz, MAX_RATE_HZ, MIN_RATE_HZ};
use crate::light::{FeedbackConfig, OscConfig};
use crate::watched::Watched;
use egui::{RichText, Ui};
use std::net::SocketAddr;

/// Width of the target field, points.
const TARGET_W: f32 = 128.0;
/// Longest host name (RFC 1035), characters.
const MAX_HOST_CHARS: usize = 253;

/// Checks a `host:port` feedback target: an IPv4 or bracketed IPv6 socket address, or a host
/// name (letters, digits, `-`, `.`) with a port 1..65535. Returns it trimmed.
pub fn check_target(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("give the desk's host:port, e.g. 192.168.1.20:8001".into());
    }
    if let Ok(a) = t.parse::<SocketAddr>() {
        return if a.port() == 0 {
            Err(format!("{t}: port 0 is not a destination"))
        } else {
            Ok(t.to_string())
        };
    }
    let Some((host, port)) = t.rsplit_once(':') else {
        return Err(format!("{t}: add the port, e.g. {t}:8001"));
    };
    if host.contains(':') || host.starts_with('[') {
        return Err(format!(
            "{t}: write an IPv6 address in brackets, e.g. [::1]:8001"
        ));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{t}: the port must be a number 1..65535"))?;
    if port == 0 {
        return Err(format!("{t}: port 0 is not a destination"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let all_digits = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if host.is_empty()
        || host.len() > MAX_HOST_CHARS
        || all_digits // digits and dots that did not parse as an address: 300.1.1.1, 10.0.1
        || !host.trim_end_matches('.').split('.').all(label_ok)
    {
        return Err(format!("{t}: not an address or a host name"));
    }
    Ok(t.to_string())
}

/// The rate as the sender uses it: 1..60 a second; not a number gives the default.
pub fn clamp_rate(rate_hz: f32) -> f32 {
    clamp_rate_hz(rate_hz)
}

/// A checked feedback configuration, or why not (nothing is written then).
pub fn validate(enabled: bool, target: &str, rate_hz: f32) -> Result<FeedbackConfig, String> {
    Ok(FeedbackConfig {
        enabled,
        target: check_target(target)?,
        rate_hz: clamp_rate(rate_hz),
    })
}

/// Writes `feedback` into the OSC settings, keeping every other field; writes (and so bumps
/// the generation the OSC service watches) only when something changes. Returns whether it
/// wrote.
pub fn write_feedback(store: &Watched<OscConfig>, feedback: &FeedbackConfig) -> bool {
    let same = store
        .read()
        .map(|c| c.feedback == *feedback)
        .unwrap_or(false);
    if same {
        return false;
    }
    if let Ok(mut c) = store.write() {
        c.feedback = feedback.clone();
    }
    true
}

/// Where feedback goes, in a few words: "→ 10.0.0.5:8001 · 10 Hz" or "off".
pub fn describe(f: &FeedbackConfig) -> String {
    if f.enabled {
        format!("→ {} · {:.0} Hz", f.target, clamp_rate(f.rate_hz))
    } else {
        "off".into()
    }
}

/// The line under the row and its colour: a refused entry, else where the sender actually
/// sends (red when feedback is on but nothing goes out), else the saved settings while the
/// plugin is inactive.
pub fn status_line(
    error: Option<&str>,
    saved: &FeedbackConfig,
    live: Option<&str>,
    sending: bool,
) -> (String, egui::Color32) {
    match (error, live) {
        (Some(e), _) => (e.to_string(), theme::NEON_RED),
        (None, Some(l)) if saved.enabled && !sending => (format!("feedback {l}"), theme::NEON_RED),
        (None, Some(l)) => (format!("feedback {l}"), theme::DIM),
        (None, None) if saved.enabled => (
            format!("feedback {} (once the plugin is active)", describe(saved)),
            theme::DIM,
        ),
        (None, None) => ("feedback off".into(), theme::DIM),
    }
}

/// The row's editing state (the target being typed, the last error).
#[derive(Default)]
pub struct FeedbackRow {
    /// The target text being edited (None: show the saved one).
    editing: Option<String>,
    /// The rate shown while dragging (written when the drag ends).
    rate: Option<f32>,
    /// Why the last target was refused.
    error: Option<String>,
}

impl FeedbackRow {
    /// Draws the row (one line, plus a line for an error or where feedback goes) and writes
    /// changes. `live` is the sender's own report (None while the plugin is inactive),
    /// `sending` whether it has a target.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        store: &Watched<OscConfig>,
        live: Option<&str>,
        sending: bool,
    ) {
        let saved = store.read().map(|c| c.feedback.clone()).unwrap_or_default();
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 5.0;
            ui.label(
                RichText::new("FEEDBACK")
                    .font(theme::heading_font(11.0))
                    .color(theme::DIM),
            );
            let mut on = saved.enabled;
            let toggle = ui.checkbox(&mut on, "").on_hover_text(
                "Send mood, cue, beat and tempo to the desk (OSC /noir/out/…). A change \
                     applies at once while the plugin is active",
            );
            if toggle.changed() {
                let next = FeedbackConfig {
                    enabled: on,
                    ..saved.clone()
                };
                // Turning on needs a good target; turning off always works.
                match (on, check_target(&saved.target)) {
                    (true, Err(e)) => self.error = Some(e),
                    _ => {
                        self.error = None;
                        write_feedback(store, &next);
                    }
                }
            }
            let text = self.editing.get_or_insert_with(|| saved.target.clone());
            let field = ui.add(
                egui::TextEdit::singleline(text)
                    .desired_width(TARGET_W)
                    .font(theme::heading_font(11.5))
                    .hint_text("host:port"),
            );
            let commit = field.lost_focus();
            if commit {
                match validate(saved.enabled, text, saved.rate_hz) {
                    Ok(next) => {
                        self.error = None;
                        write_feedback(store, &next);
                        self.editing = None;
                    }
                    Err(e) => self.error = Some(e),
                }
            } else if !field.has_focus() && self.error.is_none() {
                self.editing = None; // follow a session or preset load
            }
            let mut rate = self.rate.unwrap_or(clamp_rate(saved.rate_hz));
            let drag = ui
                .add(
                    egui::DragValue::new(&mut rate)
                        .range(MIN_RATE_HZ..=MAX_RATE_HZ)
                        .speed(0.2)
                        .max_decimals(0)
                        .suffix(" Hz"),
                )
                .on_hover_text("Feedback messages a second (1..60)");
            if drag.dragged() {
                self.rate = Some(rate);
            } else if drag.drag_stopped() || drag.changed() || self.rate.is_some() {
                self.rate = None;
                let next = FeedbackConfig {
                    rate_hz: clamp_rate(rate),
                    ..saved.clone()
                };
                write_feedback(store, &next);
            }
        });
        let (line, color) = status_line(self.error.as_deref(), &saved, live, sending);
        super::light_panel::mono_line(ui, &line, color);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_targets_pass_trimmed() {
        for t in [
            "127.0.0.1:9001",
            " 192.168.1.20:8001 ",
            "[::1]:9001",
            "[fe80::1]:53000",
            "localhost:9001",
            "desk.local:8000",
            "eos-console:3032",
            "desk.example.com.:1",
        ] {
            assert_eq!(check_target(t), Ok(t.trim().to_string()), "{t}");
        }
    }

    #[test]
    fn bad_targets_are_refused_with_a_reason() {
        for (t, why) in [
            ("", "host:port"),
            ("   ", "host:port"),
            ("192.168.1.20", "add the port"),
            ("desk", "add the port"),
            ("10.0.0.1:0", "port 0"),
            ("desk:0", "port 0"),
            ("desk:65536", "1..65535"),
            ("desk:port", "1..65535"),
            ("desk:-1", "1..65535"),
            ("::1:9001", "brackets"),
            ("300.1.1.1:9000", "not an address"),
            ("10.0.1:9000", "not an address"),
            ("my desk:9000", "not an address"),
            ("-desk:9000", "not an address"),
            ("desk..local:9000", "not an address"),
            (":9000", "not an address"),
            ("desk_1:9000", "not an address"),
        ] {
            let e = check_target(t).unwrap_err();
            assert!(e.contains(why), "{t:?}: {e}");
        }
    }

    #[test]
    fn the_rate_is_clamped_to_one_to_sixty() {
        assert_eq!(clamp_rate(0.0), 1.0);
        assert_eq!(clamp_rate(-5.0), 1.0);
        assert_eq!(clamp_rate(25.0), 25.0);
        assert_eq!(clamp_rate(600.0), 60.0);
        assert_eq!(clamp_rate(f32::INFINITY), 10.0);
        assert_eq!(clamp_rate(f32::NAN), 10.0);
        let f = validate(true, "10.0.0.5:8001", 1000.0).unwrap();
        assert_eq!((f.enabled, f.rate_hz), (true, 60.0));
        assert!(validate(true, "nope", 10.0).is_err());
    }

    #[test]
    fn writing_keeps_every_other_osc_setting() {
        let mut cfg = OscConfig {
            port: 9123,
            all_interfaces: true,
            allowed_senders: vec!["10.0.0.9".into()],
            cue_folder: Some("/shows".into()),
            ..OscConfig::default()
        };
        cfg.feedback.rate_hz = 5.0;
        let store = Watched::new(cfg.clone());
        let fb = validate(true, "10.0.0.5:8001", 30.0).unwrap();
        assert!(write_feedback(&store, &fb));
        assert_eq!(store.generation(), 1);
        let (got, _) = store.snapshot();
        assert_eq!(got.feedback, fb);
        cfg.feedback = fb.clone();
        assert_eq!(got, cfg);
        // The same again writes nothing (the OSC service is not woken for nothing).
        assert!(!write_feedback(&store, &fb));
        assert_eq!(store.generation(), 1);
    }

    #[test]
    fn the_status_line_prefers_the_senders_word() {
        let mut saved = validate(true, "desk.local:8001", 10.0).unwrap();
        let live = "→ desk.local:8001 (10.0.0.5:8001) · 10 Hz";
        let (l, c) = status_line(None, &saved, Some(live), true);
        assert_eq!(
            (l.as_str(), c),
            (
                "feedback → desk.local:8001 (10.0.0.5:8001) · 10 Hz",
                theme::DIM
            )
        );
        // On but nothing goes out: red.
        let (_, c) = status_line(None, &saved, Some("not sending: nope"), false);
        assert_eq!(c, theme::NEON_RED);
        // A refused entry wins.
        let (l, c) = status_line(Some("bad"), &saved, Some(live), true);
        assert_eq!((l.as_str(), c), ("bad", theme::NEON_RED));
        // Inactive plugin: the saved settings.
        let (l, _) = status_line(None, &saved, None, false);
        assert_eq!(
            l,
            "feedback → desk.local:8001 · 10 Hz (once the plugin is active)"
        );
        saved.enabled = false;
        assert_eq!(status_line(None, &saved, Some("off"), false).1, theme::DIM);
        assert_eq!(status_line(None, &saved, None, false).0, "feedback off");
    }

    #[test]
    fn the_description_says_where_it_goes() {
        let mut f = FeedbackConfig::default();
        assert_eq!(describe(&f), "off");
        f.enabled = true;
        f.target = "10.0.0.5:8001".into();
        f.rate_hz = 240.0;
        assert_eq!(describe(&f), "→ 10.0.0.5:8001 · 60 Hz");
    }
}

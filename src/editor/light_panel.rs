//! The light side of the room: the key light as a lamp, the scene palette as swatches, the OSC
//! monitor (listening address, counts, port clash, last messages and errors), and the cue sheet
//! as a timeline with the playhead. Everything comes from a `LightSnapshot` (see `light_view`)
//! and the playhead from `UiState`; painted on the GUI thread.

use super::feedback_row::FeedbackRow;
use super::light_view::LightSnapshot;
use super::loader::{LoadAction, LoadField, Status};
use super::theme;
use crate::light::OscConfig;
use crate::watched::Watched;
use egui::{pos2, vec2, Align2, Color32, CornerRadius, Rect, RichText, Sense, Stroke, Ui};

/// The load field's hint when there is room for all of it, and when there is not.
const LOAD_HINT: [&str; 2] = [
    "load a still, a script or a cue sheet: paste or type its path, Enter",
    "still, script or cue sheet: path, Enter",
];
/// Height of the load row, points.
const LOAD_ROW_H: f32 = 22.0;
/// Field width below which the short hint is shown, points.
const LOAD_HINT_SHORT_BELOW: f32 = 400.0;

/// Lamp, palette, the feedback row and the OSC monitor, in the current `ui`.
pub fn show_light(
    ui: &mut Ui,
    snap: &LightSnapshot,
    osc: &Watched<OscConfig>,
    feedback: &mut FeedbackRow,
) {
    ui.label(theme::heading("Light · OSC"));
    if !snap.connected {
        ui.label(
            RichText::new("PLACEHOLDER · light input not wired in yet")
                .font(theme::heading_font(11.0))
                .color(theme::NEON_RED),
        );
    }
    ui.horizontal_top(|ui| {
        lamp(ui, snap);
        ui.vertical(|ui| {
            // Palette swatches (width ∝ weight).
            let w = ui.available_width();
            let (rect, _) = ui.allocate_exact_size(vec2(w, 18.0), Sense::hover());
            let painter = ui.painter_at(rect);
            if snap.palette.is_empty() {
                painter.rect_stroke(
                    rect,
                    CornerRadius::same(2),
                    Stroke::new(1.0, theme::LINE),
                    egui::StrokeKind::Inside,
                );
                painter.text(
                    rect.center(),
                    Align2::CENTER_CENTER,
                    "no palette",
                    theme::body_font(11.5),
                    theme::DIM,
                );
            } else {
                let total: f32 = snap
                    .palette
                    .iter()
                    .map(|c| c[3].max(0.05))
                    .sum::<f32>()
                    .max(1e-3);
                let mut x = rect.left();
                for c in &snap.palette {
                    let cw = rect.width() * c[3].max(0.05) / total;
                    let r = Rect::from_min_max(pos2(x, rect.top()), pos2(x + cw, rect.bottom()));
                    painter.rect_filled(
                        r.shrink2(vec2(0.5, 0.0)),
                        0.0,
                        theme::rgb01(c[0], c[1], c[2]),
                    );
                    x += cw;
                }
            }
            let listen = match (&snap.listening, snap.connected) {
                (Some(a), _) if a.starts_with("listening") => a.clone(),
                (Some(a), _) => format!("listening on {a}"),
                (None, true) => "not listening".to_string(),
                (None, false) => "OSC server: —".to_string(),
            };
            ui.label(
                RichText::new(listen)
                    .font(theme::heading_font(12.0))
                    .color(theme::PAPER),
            );
            ui.label(
                RichText::new(format!(
                    "{} received · {} ignored",
                    snap.received, snap.ignored
                ))
                .color(theme::DIM),
            );
            if let Some(c) = &snap.port_clash {
                ui.label(RichText::new(format!("port clash: {c}")).color(theme::NEON_RED));
            }
        });
    });
    feedback.show(ui, osc, snap.feedback.as_deref(), snap.feedback_sending);
    // Message log (as many lines as fit).
    let line_h = 15.0;
    let avail = ui.available_height();
    let lines = ((avail - 4.0) / line_h).floor().max(0.0) as usize;
    let mut shown = 0;
    if let Some(e) = &snap.last_error {
        if lines > 0 {
            mono_line(ui, &format!("! {e}"), theme::NEON_RED);
            shown += 1;
        }
    }
    for m in snap.last_messages.iter().take(lines.saturating_sub(shown)) {
        mono_line(ui, m, theme::MOON);
        shown += 1;
    }
    if shown == 0 && lines > 0 {
        mono_line(
            ui,
            if snap.connected {
                "waiting for /light/… messages"
            } else {
                "the OSC log appears here"
            },
            theme::DIM,
        );
    }
}

/// One log line, truncated with an ellipsis to the width (never wrapped or clipped mid-glyph).
pub(super) fn mono_line(ui: &mut Ui, text: &str, color: Color32) {
    let w = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(vec2(w, 15.0), Sense::hover());
    let font = theme::heading_font(11.0);
    let char_w = ui.ctx().fonts_mut(|f| f.glyph_width(&font, 'M')).max(1.0);
    let max_chars = (w / char_w).floor().max(1.0) as usize;
    let shown: String = if text.chars().count() > max_chars {
        let mut s: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        s.push('…');
        s
    } else {
        text.to_string()
    };
    ui.painter_at(rect)
        .text(rect.left_center(), Align2::LEFT_CENTER, shown, font, color);
}

/// The key light: a lamp glowing in the incoming colour, dimmed by intensity.
fn lamp(ui: &mut Ui, snap: &LightSnapshot) {
    let (rect, resp) = ui.allocate_exact_size(vec2(58.0, 58.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let c = rect.center();
    let (col, on) = match snap.lamp_rgb {
        Some([r, g, b]) => {
            let i = snap.intensity.clamp(0.0, 1.0).max(0.15);
            (theme::rgb01(r * i, g * i, b * i), true)
        }
        None => (Color32::from_rgb(24, 24, 28), false),
    };
    if on {
        for (k, a) in [(27.0, 0.10), (22.0, 0.18), (17.0, 0.35)] {
            painter.circle_filled(c, k, col.gamma_multiply(a));
        }
    }
    painter.circle_filled(c, 13.0, col);
    painter.circle_stroke(c, 13.0, Stroke::new(1.5, theme::LINE));
    resp.on_hover_text(match snap.lamp_rgb {
        Some([r, g, b]) => format!(
            "key light rgb {r:.2} {g:.2} {b:.2}, intensity {:.2}",
            snap.intensity
        ),
        None => "no key light yet".to_string(),
    });
}

/// The load row (field, Load, clear) and its status line. Returns what was asked.
fn load_row(ui: &mut Ui, field: &mut LoadField, has_sheet: bool, now: f64) -> Option<LoadAction> {
    let mut action = None;
    let row = vec2(ui.available_width(), LOAD_ROW_H);
    ui.allocate_ui_with_layout(
        row,
        egui::Layout::right_to_left(egui::Align::Center),
        |ui| {
            // Right to left: the buttons take their width, the field the rest.
            ui.spacing_mut().item_spacing.x = 5.0;
            let busy = field.loader.busy();
            if ui
                .add_enabled(has_sheet && !busy, egui::Button::new("clear"))
                .on_hover_text("Unload the cue sheet")
                .clicked()
            {
                action = Some(LoadAction::Clear);
            }
            let load = ui
                .add_enabled(!busy, egui::Button::new("Load"))
                .on_hover_text("Load the still, script or cue sheet named in the field");
            let w = ui.available_width().max(40.0);
            let hint = LOAD_HINT[usize::from(w < LOAD_HINT_SHORT_BELOW)];
            let resp = ui.add(
                egui::TextEdit::singleline(&mut field.text)
                    .id_salt("load-path")
                    .desired_width(w)
                    .font(theme::heading_font(11.5))
                    .hint_text(RichText::new(hint).color(theme::DIM)),
            );
            if resp.changed() {
                field.tidy();
            }
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (enter || load.clicked()) && !busy {
                action = Some(LoadAction::Load);
            }
        },
    );
    let (line, color) = match &field.loader.status {
        Status::Idle => return action,
        Status::Loading(name, _) => {
            let dots = ["", ".", "..", "..."][(now * 3.0) as usize % 4];
            (format!("loading {name}…{dots}"), theme::AMBER)
        }
        Status::Done(msg) => (msg.clone(), theme::MOON),
        Status::Failed(msg) => (msg.clone(), theme::NEON_RED),
    };
    mono_line(ui, &line, color);
    action
}

/// The cue sheet panel: the load row, then the timeline with the playhead at `playhead_s`,
/// filling the current `ui`. Returns what the load row asked for.
pub fn show_cues(
    ui: &mut Ui,
    snap: &LightSnapshot,
    playhead_s: f64,
    field: &mut LoadField,
) -> Option<LoadAction> {
    let title = match &snap.cue_sheet {
        Some(n) => format!("Cue sheet · {n}"),
        None => "Cue sheet".to_string(),
    };
    ui.horizontal(|ui| {
        ui.label(theme::heading(&title));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(
                RichText::new(clock(playhead_s, snap.cues_in_beats))
                    .font(theme::heading_font(13.0))
                    .color(theme::AMBER),
            );
        });
    });
    let now = ui.input(|i| i.time);
    let action = load_row(ui, field, snap.cue_sheet.is_some(), now);
    let w = ui.available_width();
    let h = ui.available_height().max(30.0);
    let (rect, _) = ui.allocate_exact_size(vec2(w, h), Sense::hover());
    let painter = ui.painter_at(rect);
    let ruler_h = 14.0;
    let lane = Rect::from_min_max(rect.min, pos2(rect.right(), rect.bottom() - ruler_h));
    painter.rect_filled(lane, CornerRadius::same(2), theme::WELL);
    let last = snap.cues.last().map_or(0.0, |c| c.start_s);
    // The span: the sheet's length, else past the last cue; without a sheet, a rolling minute.
    let (t0, span) = if snap.cues.is_empty() {
        let span = 60.0;
        ((playhead_s - span * 0.75).max(0.0), span)
    } else {
        let len = if snap.sheet_length_s > 0.0 {
            snap.sheet_length_s
        } else {
            last * 1.15 + 10.0
        };
        (0.0, len.max(playhead_s + 1.0).max(1.0))
    };
    let x_of = |t: f64| lane.left() + ((t - t0) / span) as f32 * lane.width();
    // Ruler: a tick every 10 s (or 30 s / 60 s for long sheets), labelled in m:ss.
    let step = if span > 600.0 {
        60.0
    } else if span > 180.0 {
        30.0
    } else {
        10.0
    };
    let mut t = (t0 / step).ceil() * step;
    let mut last_label_x = f32::NEG_INFINITY;
    while t <= t0 + span {
        let x = x_of(t);
        painter.line_segment(
            [pos2(x, lane.bottom()), pos2(x, lane.bottom() + 4.0)],
            Stroke::new(1.0, theme::LINE),
        );
        if x - last_label_x > 44.0 && x < rect.right() - 20.0 {
            painter.text(
                pos2(x + 2.0, rect.bottom()),
                Align2::LEFT_BOTTOM,
                clock(t, snap.cues_in_beats),
                theme::heading_font(9.5),
                theme::DIM,
            );
            last_label_x = x;
        }
        t += step;
    }
    // Cue bands.
    for (i, cue) in snap.cues.iter().enumerate() {
        let end = snap.cues.get(i + 1).map_or(t0 + span, |n| n.start_s);
        let r = Rect::from_min_max(
            pos2(x_of(cue.start_s), lane.top() + 3.0),
            pos2(x_of(end) - 1.0, lane.bottom() - 3.0),
        );
        let active = snap.active_cue == Some(i);
        let base = cue
            .color
            .map_or(theme::LINE, |[r, g, b]| theme::rgb01(r, g, b));
        painter.rect_filled(
            r,
            CornerRadius::same(2),
            base.gamma_multiply(if active { 0.75 } else { 0.35 }),
        );
        if active {
            painter.rect_stroke(
                r,
                CornerRadius::same(2),
                Stroke::new(1.5, theme::AMBER),
                egui::StrokeKind::Inside,
            );
        }
        if r.width() > 30.0 {
            let font = theme::heading_font(11.0);
            let galley = painter.layout_no_wrap(cue.name.clone(), font, theme::PAPER);
            if galley.size().x < r.width() - 8.0 {
                painter.galley(pos2(r.left() + 4.0, r.top() + 3.0), galley, theme::PAPER);
            }
        }
    }
    if snap.cues.is_empty() {
        painter.text(
            lane.center(),
            Align2::CENTER_CENTER,
            if snap.connected {
                "no cue sheet loaded"
            } else {
                "cue sheets appear here once src/light is wired in"
            },
            theme::body_font(12.0),
            theme::DIM,
        );
    }
    // Playhead.
    let x = x_of(playhead_s);
    if x >= lane.left() && x <= lane.right() {
        painter.line_segment(
            [pos2(x, lane.top()), pos2(x, lane.bottom())],
            Stroke::new(2.0, theme::AMBER),
        );
        painter.add(egui::Shape::convex_polygon(
            vec![
                pos2(x - 5.0, lane.top()),
                pos2(x + 5.0, lane.top()),
                pos2(x, lane.top() + 6.0),
            ],
            theme::AMBER,
            Stroke::NONE,
        ));
    }
    painter.rect_stroke(
        lane,
        CornerRadius::same(2),
        Stroke::new(1.0, theme::LINE),
        egui::StrokeKind::Inside,
    );
    action
}

/// Seconds as m:ss, or quarter-note beats as bar.beat (both counted from 1).
fn clock(t: f64, beats: bool) -> String {
    if beats {
        let b = t.max(0.0) as u64;
        return format!("{}.{}", b / 4 + 1, b % 4 + 1);
    }
    let s = t.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

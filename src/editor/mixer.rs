//! The mix panel: one strip per instrument (level fader, mute, solo) for every instrument whose
//! `lvl_<name>` parameter this build has, then reverb and master. Mute and solo are the
//! `mute_<name>`/`solo_<name>` parameters when they exist (greyed out otherwise); reverb,
//! master and the analog grain, whose label opens the grain's detail (one fader per kind of
//! wear). Rows shrink to fit the panel. GUI thread.

use super::controls::{drive_gesture, toggle, Controls};
use super::theme;
use egui::{pos2, vec2, Align2, Color32, CornerRadius, Rect, Sense, Stroke, Ui};

/// Instruments in mixing-desk order: (id suffix, label).
pub const INSTRUMENTS: [(&str, &str); 9] = [
    ("bass", "Bass"),
    ("drums", "Drums"),
    ("keys", "Keys"),
    ("lead", "Lead"),
    ("pad", "Pad"),
    ("amb", "Ambience"),
    ("harp", "Harp"),
    ("brass", "Brass"),
    ("perc", "Perc."),
];

/// The grain's detail faders: (parameter id, label).
pub const GRAIN_DETAIL: [(&str, &str); 7] = [
    ("grain_wow", "Wow"),
    ("grain_flutter", "Flutter"),
    ("grain_sat", "Saturation"),
    ("grain_hiss", "Hiss"),
    ("grain_crackle", "Crackle"),
    ("grain_optical", "Optical print"),
    ("grain_dropouts", "Dropouts"),
];

/// Width of the instrument-name column ("Ambience" at 13 pt).
const NAME_W: f32 = 60.0;
/// Height of one strip row (at most; rows shrink to fit the panel, down to `MIN_ROW_H`).
pub const ROW_H: f32 = 22.0;
/// The smallest row height.
const MIN_ROW_H: f32 = 14.0;

/// Draws the strips into the current `ui` (full width).
pub fn show(ui: &mut Ui, controls: &Controls) {
    ui.label(theme::heading("Mix"));
    let rows = (INSTRUMENTS.len() + 3) as f32;
    let gap = ui.spacing().item_spacing.y;
    let row_h = ((ui.available_height() / rows) - gap).clamp(MIN_ROW_H, ROW_H);
    let any_solo = INSTRUMENTS.iter().any(|(id, _)| {
        controls
            .get(&format!("solo_{id}"))
            .is_some_and(|p| p.normalized() > 0.5)
    });
    for (id, label) in INSTRUMENTS {
        let Some(level) = controls.get(&format!("lvl_{id}")) else {
            continue;
        };
        let mute = controls.get(&format!("mute_{id}"));
        let solo = controls.get(&format!("solo_{id}"));
        let muted = mute.is_some_and(|p| p.normalized() > 0.5);
        let soloed = solo.is_some_and(|p| p.normalized() > 0.5);
        let silent = muted || (any_solo && !soloed);
        ui.horizontal(|ui| {
            ui.set_height(row_h);
            let name_col = if silent { theme::DIM } else { theme::PAPER };
            let (r, _) = ui.allocate_exact_size(vec2(NAME_W, row_h), Sense::hover());
            ui.painter().text(
                r.left_center(),
                Align2::LEFT_CENTER,
                label,
                theme::body_font(13.0),
                name_col,
            );
            toggle(
                ui,
                controls,
                mute,
                "M",
                theme::NEON_RED,
                &format!("Mute {label}"),
            );
            toggle(
                ui,
                controls,
                solo,
                "S",
                theme::AMBER,
                &format!("Solo {label}"),
            );
            level_fader(ui, controls, level, silent, row_h);
        });
    }
    for (id, label) in [("reverb", "Reverb"), ("master", "Master")] {
        let Some(p) = controls.get(id) else { continue };
        ui.horizontal(|ui| {
            ui.set_height(row_h);
            let toggles_w = 2.0 * (22.0 + ui.spacing().item_spacing.x);
            let (r, _) = ui.allocate_exact_size(vec2(NAME_W + toggles_w, row_h), Sense::hover());
            ui.painter().text(
                r.left_center(),
                Align2::LEFT_CENTER,
                label,
                theme::body_font(13.0),
                theme::PAPER,
            );
            level_fader(ui, controls, p, false, row_h);
        });
    }
    if let Some(p) = controls.get("grain") {
        ui.horizontal(|ui| {
            ui.set_height(row_h);
            let toggles_w = 2.0 * (22.0 + ui.spacing().item_spacing.x);
            ui.allocate_ui_with_layout(
                vec2(NAME_W + toggles_w, row_h),
                egui::Layout::left_to_right(egui::Align::Center),
                |ui| {
                    ui.menu_button(
                        egui::RichText::new("Grain \u{25be}")
                            .font(theme::body_font(13.0))
                            .color(theme::PAPER),
                        |ui| {
                            ui.set_min_width(220.0);
                            ui.label(theme::heading("Grain detail"));
                            for (id, label) in GRAIN_DETAIL {
                                let Some(d) = controls.get(id) else { continue };
                                ui.horizontal(|ui| {
                                    ui.set_height(ROW_H);
                                    let (r, _) =
                                        ui.allocate_exact_size(vec2(90.0, ROW_H), Sense::hover());
                                    ui.painter().text(
                                        r.left_center(),
                                        Align2::LEFT_CENTER,
                                        label,
                                        theme::body_font(13.0),
                                        theme::PAPER,
                                    );
                                    level_fader(ui, controls, d, false, ROW_H);
                                });
                            }
                        },
                    )
                    .response
                    .on_hover_text("Analog wear: click for the detail of each kind");
                },
            );
            level_fader(ui, controls, p, false, row_h);
        });
    }
}

/// A one-line fader: track with the value printed inside.
fn level_fader(
    ui: &mut Ui,
    controls: &Controls,
    p: super::controls::ParamHandle,
    dim: bool,
    row_h: f32,
) {
    let w = ui.available_width();
    let (rect, resp) = ui.allocate_exact_size(vec2(w, row_h - 4.0), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(2), theme::WELL);
    let v = p.normalized();
    let x = rect.left() + rect.width() * v;
    let accent: Color32 = if dim { theme::DIM } else { theme::AMBER };
    painter.rect_filled(
        Rect::from_min_max(rect.min, pos2(x, rect.bottom())),
        CornerRadius::same(2),
        accent.gamma_multiply(0.22),
    );
    painter.line_segment(
        [pos2(x, rect.top()), pos2(x, rect.bottom())],
        Stroke::new(2.0, accent),
    );
    // The default's position as a tick (0 dB for levels).
    let dx = rect.left() + rect.width() * p.default_normalized();
    painter.line_segment(
        [pos2(dx, rect.bottom() - 4.0), pos2(dx, rect.bottom())],
        Stroke::new(1.0, theme::DIM),
    );
    painter.rect_stroke(
        rect,
        CornerRadius::same(2),
        Stroke::new(1.0, if resp.hovered() { accent } else { theme::LINE }),
        egui::StrokeKind::Inside,
    );
    // The value sits on its own dark plate at the left so the handle never covers it.
    let text = painter.layout_no_wrap(
        p.display(),
        theme::heading_font(11.0),
        if dim { theme::DIM } else { theme::PAPER },
    );
    let at = pos2(rect.left() + 4.0, rect.center().y - text.size().y * 0.5);
    painter.rect_filled(
        Rect::from_min_size(at, text.size()).expand2(vec2(3.0, 0.0)),
        CornerRadius::same(2),
        theme::WELL.gamma_multiply(0.8),
    );
    painter.galley(at, text, theme::PAPER);
    let (left, width) = (rect.left(), rect.width().max(1.0));
    drive_gesture(controls, p, &resp, |pos| (pos.x - left) / width);
    resp.on_hover_text(format!(
        "{}: drag to set, double-click for the default",
        p.name()
    ));
}

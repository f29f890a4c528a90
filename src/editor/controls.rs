//! Parameter access for the editor: `Controls` looks parameters up by their stable ids (so new
//! instruments' `lvl_*`/`mute_*`/`solo_*` parameters appear without editor changes), and the
//! widgets here change them only through the host's begin/set/end gestures, so hosts record
//! automation. GUI thread only.

use super::theme;
use egui::{pos2, vec2, Align2, Color32, CornerRadius, Rect, Response, Sense, Stroke, Ui};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::{ParamPtr, Params};
use std::collections::HashMap;
use std::sync::Arc;

/// A parameter the editor can read and change.
#[derive(Clone, Copy)]
pub struct ParamHandle {
    /// Pointer into the plugin's `Arc<dyn Params>`, which `Controls` keeps alive.
    ptr: ParamPtr,
}

impl ParamHandle {
    /// Normalized value 0..1 (unmodulated: what the user set).
    pub fn normalized(&self) -> f32 {
        // SAFETY: `Controls` holds the `Arc<dyn Params>` the pointer points into.
        unsafe { self.ptr.unmodulated_normalized_value() }
    }
    /// Plain value (e.g. dB, -1..1).
    pub fn plain(&self) -> f32 {
        // SAFETY: as above.
        unsafe { self.ptr.unmodulated_plain_value() }
    }
    /// Default, normalized.
    pub fn default_normalized(&self) -> f32 {
        // SAFETY: as above.
        unsafe { self.ptr.default_normalized_value() }
    }
    /// The value as the host shows it, with its unit.
    pub fn display(&self) -> String {
        // SAFETY: as above.
        unsafe {
            self.ptr
                .normalized_value_to_string(self.ptr.unmodulated_normalized_value(), true)
        }
    }
    /// The value `normalized` would show as, with its unit.
    pub fn display_of(&self, normalized: f32) -> String {
        // SAFETY: as above.
        unsafe { self.ptr.normalized_value_to_string(normalized, true) }
    }
    /// Number of distinct values for stepped parameters (enums, ints, bools).
    pub fn choices(&self) -> Option<usize> {
        // SAFETY: as above.
        unsafe { self.ptr.step_count() }.map(|s| s + 1)
    }
    /// The parameter's name.
    pub fn name(&self) -> String {
        // SAFETY: as above.
        unsafe { self.ptr.name().to_string() }
    }
}

/// The normalized value of the choice of a stepped parameter whose display is `label`
/// (case-insensitive), e.g. the Mood source's "Light".
pub fn choice_normalized(p: ParamHandle, label: &str) -> Option<f32> {
    let n = p.choices().filter(|&n| n >= 2)?;
    (0..n)
        .map(|i| i as f32 / (n - 1) as f32)
        .find(|&v| p.display_of(v).eq_ignore_ascii_case(label))
}

/// Switches the Mood source from Manual to Light through a one-shot gesture (the host records
/// it); leaves Light and Sidechain alone. Returns whether it switched.
pub fn manual_source_to_light(controls: &Controls) -> bool {
    let Some(p) = controls.get("source") else {
        return false;
    };
    if !p.display().eq_ignore_ascii_case("manual") {
        return false;
    }
    match choice_normalized(p, "light") {
        Some(v) => {
            controls.set_once(p, v);
            true
        }
        None => false,
    }
}

/// The editor's access to every parameter, plus the host context for gestures.
pub struct Controls {
    /// Keeps the parameters alive for the `ParamPtr`s.
    _params: Arc<dyn Params>,
    /// Parameters by stable id.
    by_id: HashMap<String, ParamHandle>,
    /// The host connection (parameter gestures, state).
    ctx: GuiContext,
}

impl Controls {
    /// Indexes `params` by id.
    pub fn new(params: Arc<dyn Params>, ctx: GuiContext) -> Self {
        let by_id = params
            .param_map()
            .into_iter()
            .map(|(id, ptr, _group)| (id, ParamHandle { ptr }))
            .collect();
        Self {
            _params: params,
            by_id,
            ctx,
        }
    }

    /// The parameter with this stable id, if this build has it.
    pub fn get(&self, id: &str) -> Option<ParamHandle> {
        self.by_id.get(id).copied()
    }

    /// Starts a gesture (host begins recording automation).
    pub fn begin(&self, p: ParamHandle) {
        // SAFETY: `p.ptr` belongs to the params this context's plugin exposes.
        unsafe { self.ctx.raw_begin_set_parameter(p.ptr) }
    }
    /// Sets a normalized value inside a gesture.
    pub fn set_normalized(&self, p: ParamHandle, normalized: f32) {
        let v = normalized.clamp(0.0, 1.0);
        if (v - p.normalized()).abs() > f32::EPSILON {
            // SAFETY: as above.
            unsafe { self.ctx.raw_set_parameter_normalized(p.ptr, v) }
        }
    }
    /// Ends a gesture.
    pub fn end(&self, p: ParamHandle) {
        // SAFETY: as above.
        unsafe { self.ctx.raw_end_set_parameter(p.ptr) }
    }
    /// A complete one-shot change (begin, set, end), e.g. for a click or a toggle.
    pub fn set_once(&self, p: ParamHandle, normalized: f32) {
        self.begin(p);
        self.set_normalized(p, normalized);
        self.end(p);
    }
}

/// What a drag on a control does this frame: begin on press, set while dragging, end on
/// release; double-click restores the default.
pub fn drive_gesture(
    controls: &Controls,
    p: ParamHandle,
    resp: &Response,
    value_at: impl Fn(egui::Pos2) -> f32,
) {
    if resp.double_clicked() {
        controls.set_once(p, p.default_normalized());
        return;
    }
    if resp.drag_started() {
        controls.begin(p);
    }
    if resp.dragged() {
        if let Some(pos) = resp.interact_pointer_pos() {
            controls.set_normalized(p, value_at(pos));
        }
    }
    if resp.drag_stopped() {
        controls.end(p);
    } else if resp.clicked() {
        if let Some(pos) = resp.interact_pointer_pos() {
            controls.set_once(p, value_at(pos));
        }
    }
}

/// A horizontal fader for any float parameter: label left, value right, a filled track
/// beneath. `height` includes the text line.
pub fn hfader(
    ui: &mut Ui,
    controls: &Controls,
    p: Option<ParamHandle>,
    label: &str,
    accent: Color32,
) -> Response {
    let w = ui.available_width();
    let (rect, resp) = ui.allocate_exact_size(vec2(w, 34.0), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.text(
        rect.left_top(),
        Align2::LEFT_TOP,
        label,
        theme::body_font(13.0),
        theme::PAPER,
    );
    let track = Rect::from_min_max(
        pos2(rect.left(), rect.bottom() - 12.0),
        pos2(rect.right(), rect.bottom() - 2.0),
    );
    painter.rect_filled(track, CornerRadius::same(2), theme::WELL);
    painter.rect_stroke(
        track,
        CornerRadius::same(2),
        Stroke::new(1.0, theme::LINE),
        egui::StrokeKind::Inside,
    );
    let Some(p) = p else {
        painter.text(
            rect.right_top(),
            Align2::RIGHT_TOP,
            "n/a",
            theme::body_font(12.0),
            theme::DIM,
        );
        return resp;
    };
    let v = p.normalized();
    let fill = Rect::from_min_max(
        track.min,
        pos2(track.left() + track.width() * v, track.bottom()),
    );
    painter.rect_filled(fill, CornerRadius::same(2), accent.gamma_multiply(0.55));
    let x = track.left() + track.width() * v;
    painter.line_segment(
        [pos2(x, track.top() - 3.0), pos2(x, track.bottom() + 1.0)],
        Stroke::new(2.0, accent),
    );
    painter.text(
        rect.right_top(),
        Align2::RIGHT_TOP,
        p.display(),
        theme::heading_font(12.0),
        if resp.hovered() || resp.dragged() {
            accent
        } else {
            theme::DIM
        },
    );
    let left = track.left();
    let width = track.width().max(1.0);
    drive_gesture(controls, p, &resp, |pos| (pos.x - left) / width);
    resp.on_hover_text("Drag to set, double-click for the default")
}

/// A small latching button for a bool parameter (mute, solo). Returns its response.
pub fn toggle(
    ui: &mut Ui,
    controls: &Controls,
    p: Option<ParamHandle>,
    text: &str,
    on_color: Color32,
    tip: &str,
) -> Response {
    let (rect, resp) = ui.allocate_exact_size(vec2(22.0, 18.0), Sense::click());
    let on = p.is_some_and(|p| p.normalized() > 0.5);
    let painter = ui.painter_at(rect);
    let (fill, fg) = match (p.is_some(), on) {
        (false, _) => (theme::WELL, theme::LINE),
        (true, true) => (on_color, theme::INK),
        (true, false) => (theme::WELL, theme::DIM),
    };
    painter.rect_filled(rect, CornerRadius::same(2), fill);
    painter.rect_stroke(
        rect,
        CornerRadius::same(2),
        Stroke::new(1.0, if on { on_color } else { theme::LINE }),
        egui::StrokeKind::Inside,
    );
    painter.text(
        rect.center(),
        Align2::CENTER_CENTER,
        text,
        theme::heading_font(11.0),
        fg,
    );
    if let Some(p) = p {
        if resp.clicked() {
            controls.set_once(p, if on { 0.0 } else { 1.0 });
        }
    }
    resp.on_hover_text(tip)
}

/// A drop-down for an enum parameter, showing `label` and the current choice.
pub fn enum_combo(ui: &mut Ui, controls: &Controls, id: &str, label: &str, width: f32) {
    let Some(p) = controls.get(id) else { return };
    let Some(n) = p.choices().filter(|&n| n >= 2) else {
        return;
    };
    let current = p.display();
    ui.label(
        egui::RichText::new(label)
            .font(theme::heading_font(11.0))
            .color(theme::DIM),
    );
    egui::ComboBox::from_id_salt(id)
        .width(width)
        .selected_text(egui::RichText::new(current.clone()).color(theme::PAPER))
        .show_ui(ui, |ui| {
            for i in 0..n {
                let norm = i as f32 / (n - 1) as f32;
                let text = p.display_of(norm);
                if ui.selectable_label(text == current, text).clicked() {
                    controls.set_once(p, norm);
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::params::MoodNoirParams;

    fn handle(params: &Arc<MoodNoirParams>, id: &str) -> ParamHandle {
        let ptr = params
            .param_map()
            .into_iter()
            .find(|(i, _, _)| i == id)
            .map(|(_, p, _)| p)
            .unwrap();
        ParamHandle { ptr }
    }

    #[test]
    fn the_mood_sources_light_choice_is_found_by_name() {
        // Manual / Light / Sidechain: three choices, Light is the middle one (0.5).
        let params = Arc::new(MoodNoirParams::default());
        let p = handle(&params, "source");
        assert_eq!(p.choices(), Some(3));
        assert_eq!(choice_normalized(p, "Light"), Some(0.5));
        assert_eq!(choice_normalized(p, "manual"), Some(0.0));
        assert_eq!(p.display_of(0.5), "Light");
        assert_eq!(choice_normalized(p, "DMX"), None);
        // A continuous parameter has no choices.
        assert_eq!(choice_normalized(handle(&params, "tension"), "Light"), None);
    }
}

//! The layout of the control room, computed from the window size each frame (GUI thread):
//!
//! ```text
//! ┌ MOOD NOIR ─────────────────────────── scene · source · tempo ┐
//! │ mood pad          │ now playing          │ mix strips │ meters │
//! │ (valence×arousal) │ mood: tension/follow │            │        │
//! ├ light · OSC monitor ─────────┬ cue sheet timeline + playhead ──┤
//! ```
//! Every region is a fixed rectangle clipped to itself, so nothing overlaps at any size down to
//! `EDITOR_MIN_SIZE`.

use super::controls::{enum_combo, hfader};
use super::loader::{self, LoadAction, Status};
use super::pad::PadView;
use super::{light_panel, mixer, theme, NoirApp};
use crate::plugin::params::SceneChoice;
use egui::{pos2, vec2, Align2, CornerRadius, Rect, RichText, Stroke, Ui, UiBuilder};
use nice_plug::prelude::Enum;
use nice_plug_egui::resizable_window::ResizableWindow;

/// Outer margin, points.
const MARGIN: f32 = 10.0;
/// Gap between panels, points.
const GAP: f32 = 8.0;
/// Height of the title bar.
const TOP_H: f32 = 40.0;
/// Title-bar width below which the title and the selectors shrink, points.
const NARROW_TITLE_W: f32 = 900.0;

/// Draws the whole editor.
pub fn draw(app: &mut NoirApp, ui: &mut Ui) {
    ResizableWindow::new("mood-noir")
        .min_size(vec2(
            crate::plugin::ui_state::EDITOR_MIN_SIZE.0 as f32,
            crate::plugin::ui_state::EDITOR_MIN_SIZE.1 as f32,
        ))
        .show(ui, |ui| draw_inside(app, ui));
}

fn draw_inside(app: &mut NoirApp, ui: &mut Ui) {
    let Some(controls) = app.controls.as_ref() else {
        return;
    };
    let full = ui.max_rect();
    ui.painter().rect_filled(full, 0.0, theme::INK);
    let now = ui.input(|i| i.time);
    let samples = app.ui_state.samples();
    if samples != app.audio_seen.0 {
        app.audio_seen = (samples, now);
    }
    let live_ok = now - app.audio_seen.1 < 0.5;

    let inner = full.shrink(MARGIN);
    let top = Rect::from_min_size(inner.min, vec2(inner.width(), TOP_H));
    let bottom_h = (inner.height() * 0.27).clamp(150.0, 240.0);
    let bottom = Rect::from_min_max(pos2(inner.left(), inner.bottom() - bottom_h), inner.max);
    let middle = Rect::from_min_max(
        pos2(inner.left(), top.bottom() + GAP),
        pos2(inner.right(), bottom.top() - GAP),
    );
    let pad_w = (middle.height() * 1.1).min(inner.width() * 0.36).max(260.0);
    let rest = middle.width() - pad_w - 2.0 * GAP;
    let mid_w = (rest * 0.44).max(220.0);
    let pad_r = Rect::from_min_size(middle.min, vec2(pad_w, middle.height()));
    let mid_r = Rect::from_min_size(
        pos2(pad_r.right() + GAP, middle.top()),
        vec2(mid_w, middle.height()),
    );
    let mix_r = Rect::from_min_max(pos2(mid_r.right() + GAP, middle.top()), middle.max);
    let np_h = (middle.height() * 0.52).clamp(150.0, 190.0);
    let np_r = Rect::from_min_size(mid_r.min, vec2(mid_w, np_h));
    let mood_r = Rect::from_min_max(pos2(mid_r.left(), np_r.bottom() + GAP), mid_r.max);
    let light_w = (inner.width() * 0.44).max(340.0);
    let light_r = Rect::from_min_size(bottom.min, vec2(light_w, bottom.height()));
    let cue_r = Rect::from_min_max(pos2(light_r.right() + GAP, bottom.top()), bottom.max);

    let (timeline_s, beats) = (
        app.ui_state.timeline_s.load(),
        app.ui_state.beat_position.load(),
    );
    app.light.snapshot(&mut app.light_snap, timeline_s, beats);

    // Title bar. Narrow windows get a smaller title and narrower selectors, so the five
    // selectors never run into the title.
    let narrow = top.width() < NARROW_TITLE_W;
    let (title_pt, combo_scale, sel_gap) = if narrow {
        (19.0, 0.8, 2.0)
    } else {
        (24.0, 1.0, 6.0)
    };
    region(ui, top, false, |ui| {
        ui.horizontal_centered(|ui| {
            ui.label(
                RichText::new("MOOD  NOIR")
                    .font(theme::heading_font(title_pt))
                    .color(theme::PAPER),
            );
            // The tagline only when the selectors leave room for it.
            if ui.available_width() > 900.0 {
                ui.add_space(6.0);
                ui.label(
                    RichText::new("scoring the scene by its light")
                        .italics()
                        .color(theme::DIM),
                );
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                // Right to left: the last control added sits leftmost.
                enum_combo(ui, controls, "style", "", 84.0 * combo_scale);
                ui.label(
                    RichText::new("STYLE")
                        .font(theme::heading_font(11.0))
                        .color(theme::DIM),
                );
                ui.add_space(sel_gap);
                enum_combo(ui, controls, "keys_voice", "", 72.0 * combo_scale);
                ui.label(
                    RichText::new("KEYS")
                        .font(theme::heading_font(11.0))
                        .color(theme::DIM),
                );
                ui.add_space(sel_gap);
                enum_combo(ui, controls, "tempo_mode", "", 96.0 * combo_scale);
                ui.label(
                    RichText::new("TEMPO")
                        .font(theme::heading_font(11.0))
                        .color(theme::DIM),
                );
                ui.add_space(sel_gap);
                enum_combo(ui, controls, "source", "", 84.0 * combo_scale);
                ui.label(
                    RichText::new("SOURCE")
                        .font(theme::heading_font(11.0))
                        .color(theme::DIM),
                );
                ui.add_space(sel_gap);
                enum_combo(ui, controls, "scene", "", 132.0 * combo_scale);
                ui.label(
                    RichText::new("SCENE")
                        .font(theme::heading_font(11.0))
                        .color(theme::DIM),
                );
            });
        });
    });
    let title_line = top.bottom() + GAP * 0.5;
    ui.painter().line_segment(
        [pos2(top.left(), title_line), pos2(top.right(), title_line)],
        Stroke::new(1.0, theme::AMBER.gamma_multiply(0.6)),
    );

    // Mood pad.
    let scene = app.params.music.scene.value();
    let note = (scene != SceneChoice::Custom).then(|| {
        format!(
            "Scene “{}”: the pad and knobs shift its mood (centre = the scene)",
            SceneChoice::variants()[scene.to_index()]
        )
    });
    let live = app.ui_state.live_mood.load();
    let target = app.ui_state.target_mood.load();
    let view = PadView {
        live,
        target,
        live_ok,
        note,
    };
    let pad = &mut app.pad;
    region(ui, pad_r, true, |ui| {
        ui.horizontal(|ui| {
            ui.label(theme::heading("Mood"));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(
                    RichText::new(format!(
                        "v {:+.2}  a {:.2}  t {:.2}",
                        live[0], live[1], live[2]
                    ))
                    .font(theme::heading_font(11.5))
                    .color(if live_ok { theme::PAPER } else { theme::DIM }),
                );
            });
        });
        let r = ui.available_rect_before_wrap();
        pad.show(ui, r, controls, &view);
    });

    // Now playing.
    let np = &mut app.now_playing;
    let state = &app.ui_state;
    region(ui, np_r, true, |ui| np.show(ui, state, live_ok));

    // Tension, follow.
    region(ui, mood_r, true, |ui| {
        ui.label(theme::heading("Drive"));
        hfader(
            ui,
            controls,
            controls.get("tension"),
            "Tension",
            theme::NEON_RED,
        );
        hfader(
            ui,
            controls,
            controls.get("follow"),
            "Follow the light",
            theme::MOON,
        );
        let source = controls
            .get("source")
            .map(|p| p.display())
            .unwrap_or_default();
        let text = if source.eq_ignore_ascii_case("manual") {
            "Source is Manual: the light is ignored".to_string()
        } else {
            format!("Source: {source} (follow blends it in)")
        };
        ui.label(RichText::new(text).small().color(theme::DIM));
    });

    // Mix and meters.
    let meters = &mut app.meters;
    region(ui, mix_r, true, |ui| {
        let h = ui.available_height();
        ui.horizontal_top(|ui| {
            let strips_w = ui.available_width() - super::meters::Meters::WIDTH - GAP;
            ui.allocate_ui_with_layout(
                vec2(strips_w, h),
                egui::Layout::top_down(egui::Align::Min),
                |ui| mixer::show(ui, controls),
            );
            ui.add_space(GAP - ui.spacing().item_spacing.x);
            meters.show(ui, state, h);
        });
    });

    // Light and cues.
    let snap = &app.light_snap;
    let osc = &app.params.light.osc;
    let feedback = &mut app.feedback;
    region(ui, light_r, true, |ui| {
        light_panel::show_light(ui, snap, osc, feedback)
    });
    let playhead = if snap.cues_in_beats {
        beats
    } else {
        timeline_s
    };
    let field = &mut app.load;
    let mut action = None;
    region(ui, cue_r, true, |ui| {
        action = light_panel::show_cues(ui, snap, playhead, field)
    });
    apply_load(
        &mut app.load,
        &app.params.light.cues,
        controls,
        action,
        ui.ctx(),
    );
}

/// Starts, finishes or clears a load from the cue panel's field: a finished load becomes the
/// session's cue sheet (and a Manual mood source becomes Light, through a gesture); a failure
/// leaves what was loaded alone.
fn apply_load(
    field: &mut loader::LoadField,
    cues: &crate::watched::Watched<Option<crate::light::CueSource>>,
    controls: &super::controls::Controls,
    action: Option<LoadAction>,
    ctx: &egui::Context,
) {
    match action {
        Some(LoadAction::Load) => {
            let ctx = ctx.clone();
            field
                .loader
                .start(&field.text, move || ctx.request_repaint());
        }
        Some(LoadAction::Clear) => {
            loader::install(cues, None);
            field.loader.status = Status::Done("cue sheet cleared".into());
        }
        None => {}
    }
    match field.loader.poll() {
        Some(Ok(loaded)) => {
            let mut msg = loaded.summary();
            loader::install(cues, Some(loaded.source));
            if super::controls::manual_source_to_light(controls) {
                // First, so a narrow panel still shows it.
                msg = format!("Mood source Manual → Light · {msg}");
            }
            field.loader.status = Status::Done(msg);
        }
        Some(Err(e)) => field.loader.status = Status::Failed(e),
        None => {}
    }
}

/// Runs `add` in a child `Ui` confined (and clipped) to `rect`, on a panel background if
/// `framed`.
fn region(ui: &mut Ui, rect: Rect, framed: bool, add: impl FnOnce(&mut Ui)) {
    if framed {
        ui.painter().rect(
            rect,
            CornerRadius::same(3),
            theme::PANEL,
            Stroke::new(1.0, theme::LINE),
            egui::StrokeKind::Inside,
        );
    }
    let content = if framed {
        rect.shrink2(vec2(10.0, 8.0))
    } else {
        rect
    };
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(content)
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    child.set_clip_rect(rect.intersect(ui.clip_rect()));
    add(&mut child);
    let _ = Align2::LEFT_TOP;
}

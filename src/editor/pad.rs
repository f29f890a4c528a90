//! The valence × arousal pad: drag to set the Valence and Arousal parameters (one begin/set/end
//! gesture per drag, for both, so hosts record automation); shows the manual setting as an
//! amber crosshair, the target (with incoming light) as a moonlit diamond, and the live mood as
//! a bright point with a fading trail and a red tension halo. GUI thread only.

use super::controls::Controls;
use super::theme;
use egui::epaint::{Mesh, PathShape, PathStroke};
use egui::{pos2, vec2, Align2, Color32, Pos2, Rect, Sense, Stroke, Ui};
use std::collections::VecDeque;

/// How long the trail lasts, seconds.
const TRAIL_S: f64 = 4.0;
/// Most points kept in the trail.
const TRAIL_MAX: usize = 400;

/// What the pad shows this frame (moods as `[valence, arousal, tension]`).
pub struct PadView {
    /// The live (glided) mood.
    pub live: [f32; 3],
    /// The mood the engine heads for.
    pub target: [f32; 3],
    /// Whether the live values are current (audio running) or stale.
    pub live_ok: bool,
    /// A note drawn across the pad (e.g. a scene overrides it), if any.
    pub note: Option<String>,
}

/// The pad's GUI-side memory.
#[derive(Default)]
pub struct Pad {
    /// Recent live-mood points `(valence, arousal, time_s)`, oldest first.
    trail: VecDeque<(f32, f32, f64)>,
}

/// Mood coordinates → screen.
fn to_screen(r: Rect, valence: f32, arousal: f32) -> Pos2 {
    pos2(
        r.left() + (valence.clamp(-1.0, 1.0) + 1.0) * 0.5 * r.width(),
        r.bottom() - arousal.clamp(0.0, 1.0) * r.height(),
    )
}

impl Pad {
    /// Draws the pad into `rect` and handles dragging.
    pub fn show(&mut self, ui: &mut Ui, rect: Rect, controls: &Controls, view: &PadView) {
        let painter = ui.painter_at(rect);
        let now = ui.input(|i| i.time);

        // Night-sky gradient: each corner tinted with the mood it stands for, all very dark.
        let mut mesh = Mesh::default();
        let corners = [
            (rect.left_top(), Color32::from_rgb(46, 10, 14)), // dread
            (rect.right_top(), Color32::from_rgb(54, 36, 10)), // chase
            (rect.right_bottom(), Color32::from_rgb(30, 26, 20)), // dawn
            (rect.left_bottom(), Color32::from_rgb(8, 14, 30)), // rain
        ];
        for (p, c) in corners {
            mesh.colored_vertex(p, c);
        }
        mesh.add_triangle(0, 1, 2);
        mesh.add_triangle(0, 2, 3);
        painter.add(mesh);

        // Grid: quarters, with the neutral axes brighter.
        for i in 1..8 {
            let t = i as f32 / 8.0;
            let c = if i == 4 { theme::LINE } else { theme::GRID };
            let x = rect.left() + t * rect.width();
            let y = rect.top() + t * rect.height();
            painter.line_segment([pos2(x, rect.top()), pos2(x, rect.bottom())], (1.0, c));
            painter.line_segment([pos2(rect.left(), y), pos2(rect.right(), y)], (1.0, c));
        }
        painter.rect_stroke(
            rect,
            2.0,
            Stroke::new(1.0, theme::LINE),
            egui::StrokeKind::Inside,
        );

        // Quadrant names and axes.
        let f = theme::heading_font(11.0);
        let m = 6.0;
        let q = theme::DIM.gamma_multiply(0.8);
        painter.text(
            rect.left_top() + vec2(m, m),
            Align2::LEFT_TOP,
            "DREAD",
            f.clone(),
            q,
        );
        painter.text(
            rect.right_top() + vec2(-m, m),
            Align2::RIGHT_TOP,
            "CHASE",
            f.clone(),
            q,
        );
        painter.text(
            rect.left_bottom() + vec2(m, -m - 14.0),
            Align2::LEFT_BOTTOM,
            "RAIN",
            f.clone(),
            q,
        );
        painter.text(
            rect.right_bottom() + vec2(-m, -m - 14.0),
            Align2::RIGHT_BOTTOM,
            "DAWN",
            f.clone(),
            q,
        );
        painter.text(
            pos2(rect.center().x, rect.bottom() - m),
            Align2::CENTER_BOTTOM,
            "darker  -  VALENCE  -  brighter",
            theme::body_font(11.5),
            theme::DIM,
        );
        let ay = rect.top() + m;
        painter.text(
            pos2(rect.center().x, ay),
            Align2::CENTER_TOP,
            "AROUSAL  -  agitated",
            theme::body_font(11.5),
            theme::DIM,
        );

        // Input: one gesture for both parameters per drag.
        let resp = ui.interact(
            rect,
            ui.scope_id().with("mood-pad"),
            Sense::click_and_drag(),
        );
        let (pv, pa) = (controls.get("valence"), controls.get("arousal"));
        if let (Some(pv), Some(pa)) = (pv, pa) {
            let value_at = |p: Pos2| {
                let v = ((p.x - rect.left()) / rect.width()).clamp(0.0, 1.0);
                let a = ((rect.bottom() - p.y) / rect.height()).clamp(0.0, 1.0);
                (v, a) // normalized: valence -1..1 maps linearly onto 0..1
            };
            if resp.double_clicked() {
                controls.set_once(pv, pv.default_normalized());
                controls.set_once(pa, pa.default_normalized());
            } else {
                if resp.drag_started() {
                    controls.begin(pv);
                    controls.begin(pa);
                }
                if resp.dragged() {
                    if let Some(pos) = resp.interact_pointer_pos() {
                        let (v, a) = value_at(pos);
                        controls.set_normalized(pv, v);
                        controls.set_normalized(pa, a);
                    }
                }
                if resp.drag_stopped() {
                    controls.end(pv);
                    controls.end(pa);
                } else if resp.clicked() {
                    if let Some(pos) = resp.interact_pointer_pos() {
                        let (v, a) = value_at(pos);
                        controls.set_once(pv, v);
                        controls.set_once(pa, a);
                    }
                }
            }
        }

        // The trail of the live mood.
        let [lv, la, lt] = view.live;
        if view.live_ok {
            let moved = self
                .trail
                .back()
                .is_none_or(|&(v, a, _)| (v - lv).abs() + (a - la).abs() > 1e-4);
            if moved {
                self.trail.push_back((lv, la, now));
            }
        }
        while self
            .trail
            .front()
            .is_some_and(|&(_, _, t)| now - t > TRAIL_S)
            || self.trail.len() > TRAIL_MAX
        {
            self.trail.pop_front();
        }
        let pts: Vec<(Pos2, f64)> = self
            .trail
            .iter()
            .map(|&(v, a, t)| (to_screen(rect, v, a), t))
            .collect();
        for w in pts.windows(2) {
            let age = ((now - w[1].1) / TRAIL_S).clamp(0.0, 1.0) as f32;
            let alpha = (1.0 - age).powf(1.5);
            painter.line_segment(
                [w[0].0, w[1].0],
                Stroke::new(1.0 + 2.0 * alpha, theme::PAPER.gamma_multiply(0.55 * alpha)),
            );
        }

        // Manual setting: amber crosshair ring (from the parameters themselves).
        if let (Some(pv), Some(pa)) = (pv, pa) {
            let p = to_screen(rect, pv.plain(), pa.plain());
            let s = Stroke::new(1.5, theme::AMBER);
            painter.circle_stroke(p, 9.0, s);
            painter.line_segment([p - vec2(15.0, 0.0), p - vec2(5.0, 0.0)], s);
            painter.line_segment([p + vec2(5.0, 0.0), p + vec2(15.0, 0.0)], s);
            painter.line_segment([p - vec2(0.0, 15.0), p - vec2(0.0, 5.0)], s);
            painter.line_segment([p + vec2(0.0, 5.0), p + vec2(0.0, 15.0)], s);
        }

        // Target (manual blended with light): a moonlit diamond.
        let tp = to_screen(rect, view.target[0], view.target[1]);
        let d = 6.0;
        painter.add(PathShape::closed_line(
            vec![
                tp + vec2(0.0, -d),
                tp + vec2(d, 0.0),
                tp + vec2(0.0, d),
                tp + vec2(-d, 0.0),
            ],
            PathStroke::new(1.5, theme::MOON),
        ));

        // Live mood: bright point, glow, tension halo.
        let lp = to_screen(rect, lv, la);
        let halo = 10.0 + 22.0 * lt.clamp(0.0, 1.0);
        painter.circle_filled(lp, halo, theme::NEON_RED.gamma_multiply(0.10 + 0.25 * lt));
        painter.circle_stroke(
            lp,
            halo,
            Stroke::new(1.0, theme::NEON_RED.gamma_multiply(0.4 + 0.6 * lt)),
        );
        painter.circle_filled(lp, 8.0, theme::PAPER.gamma_multiply(0.25));
        painter.circle_filled(
            lp,
            4.5,
            if view.live_ok {
                theme::PAPER
            } else {
                theme::DIM
            },
        );

        if let Some(note) = &view.note {
            let galley = painter.layout(
                note.clone(),
                theme::body_font(12.5),
                theme::PAPER,
                rect.width() - 40.0,
            );
            let at = pos2(rect.center().x - galley.size().x * 0.5, rect.top() + 26.0);
            let bg = Rect::from_min_size(at, galley.size()).expand(5.0);
            painter.rect_filled(bg, 2.0, theme::INK.gamma_multiply(0.85));
            painter.galley(at, galley, theme::PAPER);
        }

        resp.on_hover_text(
            "Drag to set valence (left-right) and arousal (up-down); double-click resets.\n\
             Amber crosshair: your setting. Diamond: where the mood is heading (with light).\n\
             Bright point and trail: the live mood; red halo: tension.",
        );
    }
}

//! "Now playing": the current chord in large type, the form and bar, the tempo with a beat
//! light per beat of the bar, and the live mood's numbers. Reads `UiState` (written by the
//! audio thread); paints on the GUI thread.

use super::theme;
use crate::plugin::ui_state::UiState;
use egui::{pos2, vec2, Align2, Sense, Stroke, Ui};

/// Beats in a bar (the composer's grid is 4/4).
const BEATS_PER_BAR: usize = 4;

/// Texts read from the audio thread, kept between frames (so a busy writer never blanks them).
#[derive(Default)]
pub struct NowPlaying {
    /// The chord symbol.
    chord: String,
    /// The form's name.
    form: String,
}

impl NowPlaying {
    /// Draws the panel body (heading included) into the current `ui`.
    pub fn show(&mut self, ui: &mut Ui, state: &UiState, live_ok: bool) {
        ui.label(theme::heading("Now playing"));
        state.chord.read_into(&mut self.chord);
        state.form.read_into(&mut self.form);
        let w = ui.available_width();
        let (rect, _) = ui.allocate_exact_size(vec2(w, 64.0), Sense::hover());
        let painter = ui.painter_at(rect);
        let chord = if self.chord.is_empty() {
            "—"
        } else {
            &self.chord
        };
        // The chord as big as the panel allows (shrinks for long symbols in narrow windows).
        let mut size = 44.0;
        let mut galley;
        loop {
            galley =
                painter.layout_no_wrap(chord.to_string(), theme::heading_font(size), theme::PAPER);
            if galley.size().x <= rect.width() || size <= 18.0 {
                break;
            }
            size -= 4.0;
        }
        painter.galley(
            pos2(rect.left(), rect.center().y - galley.size().y * 0.5),
            galley,
            theme::PAPER,
        );

        let bar = state.bar_in_form.load(std::sync::atomic::Ordering::Relaxed) + 1;
        let form = if self.form.is_empty() {
            "—"
        } else {
            &self.form
        };
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(form).color(theme::PAPER));
            ui.label(egui::RichText::new(format!("· bar {bar}")).color(theme::DIM));
        });

        // Tempo and beat lights.
        let bpm = state.tempo_bpm.load();
        let beat = state.beat_position.load();
        let (rect, _) = ui.allocate_exact_size(vec2(w, 24.0), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.text(
            rect.left_center(),
            Align2::LEFT_CENTER,
            format!("{bpm:5.1} BPM"),
            theme::heading_font(16.0),
            theme::AMBER,
        );
        let beat_in_bar = (beat.max(0.0) as usize) % BEATS_PER_BAR;
        let frac = beat.max(0.0).fract() as f32;
        for i in 0..BEATS_PER_BAR {
            let c = pos2(
                rect.right() - 8.0 - (BEATS_PER_BAR - 1 - i) as f32 * 18.0,
                rect.center().y,
            );
            let lit = live_ok && i == beat_in_bar;
            let glow = if lit { 1.0 - frac * 0.7 } else { 0.0 };
            let col = if i == 0 {
                theme::NEON_RED
            } else {
                theme::AMBER
            };
            painter.circle_filled(c, 5.0, theme::WELL);
            painter.circle_filled(c, 5.0, col.gamma_multiply(0.08 + 0.92 * glow));
            painter.circle_stroke(c, 5.0, Stroke::new(1.0, theme::LINE));
        }
        let [v, a, t] = state.committed_mood.load();
        let notes = state
            .events_played
            .load(std::sync::atomic::Ordering::Relaxed);
        ui.add(
            egui::Label::new(
                egui::RichText::new(format!(
                    "harmony at v {v:+.2} a {a:.2} t {t:.2} · {notes} notes"
                ))
                .small()
                .color(theme::DIM),
            )
            .truncate(),
        )
        .on_hover_text("Harmony and rhythm follow the mood on the quantize grid");
    }
}

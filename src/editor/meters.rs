//! Output meters: peak (with a 1.5 s hold and a 24 dB/s fall) and RMS per output channel,
//! on a -60..0 dBFS scale. The audio thread leaves the block peaks and the 300 ms RMS in
//! `UiState`; the ballistics run here, on the GUI thread.

use super::theme;
use crate::plugin::ui_state::{UiState, METER_CHANNELS};
use egui::{pos2, vec2, Align2, CornerRadius, Rect, Sense, Stroke, Ui};

/// Bottom of the scale, dBFS.
const FLOOR_DB: f32 = -60.0;
/// Peak fall rate, dB per second.
const FALL_DB_S: f32 = 24.0;
/// Peak-hold time, seconds.
const HOLD_S: f64 = 1.5;

/// Meter ballistics state.
pub struct Meters {
    /// Displayed peak per channel, dBFS.
    peak_db: [f32; METER_CHANNELS],
    /// Held maximum per channel, dBFS, and when it was set.
    hold: [(f32, f64); METER_CHANNELS],
    /// Time of the previous frame (seconds).
    last_t: f64,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            peak_db: [FLOOR_DB; METER_CHANNELS],
            hold: [(FLOOR_DB, 0.0); METER_CHANNELS],
            last_t: 0.0,
        }
    }
}

fn y_of(r: Rect, db: f32) -> f32 {
    let t = ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0);
    r.bottom() - t * r.height()
}

impl Meters {
    /// Width the meters need.
    pub const WIDTH: f32 = 46.0;

    /// Draws both meters filling `height` in the current `ui`.
    pub fn show(&mut self, ui: &mut Ui, state: &UiState, height: f32) {
        let now = ui.input(|i| i.time);
        let dt = (now - self.last_t).clamp(0.0, 0.5) as f32;
        self.last_t = now;
        let (rect, _) = ui.allocate_exact_size(vec2(Self::WIDTH, height), Sense::hover());
        let painter = ui.painter_at(rect);
        let label_h = 16.0;
        let scale_w = 18.0;
        let bars = Rect::from_min_max(
            pos2(rect.left() + scale_w, rect.top() + 4.0),
            pos2(rect.right(), rect.bottom() - label_h),
        );
        // Scale ticks.
        for db in [0.0f32, -6.0, -12.0, -24.0, -36.0, -48.0] {
            let y = y_of(bars, db);
            painter.line_segment(
                [pos2(bars.left() - 4.0, y), pos2(bars.right(), y)],
                Stroke::new(1.0, theme::GRID),
            );
            painter.text(
                pos2(bars.left() - 5.0, y),
                Align2::RIGHT_CENTER,
                format!("{}", db.abs() as i32),
                theme::heading_font(9.5),
                theme::DIM,
            );
        }
        let gap = 3.0;
        let bw = (bars.width() - gap) / METER_CHANNELS as f32;
        let mut readout = FLOOR_DB;
        for ch in 0..METER_CHANNELS {
            let peak = theme::gain_db(state.peak[ch].take());
            let rms = theme::gain_db(state.rms[ch].load());
            let fallen = self.peak_db[ch] - FALL_DB_S * dt;
            self.peak_db[ch] = peak.max(fallen).max(FLOOR_DB);
            let (held, at) = self.hold[ch];
            if peak >= held || now - at > HOLD_S {
                self.hold[ch] = (peak.max(FLOOR_DB), now);
            }
            readout = readout.max(self.hold[ch].0);
            let x0 = bars.left() + ch as f32 * (bw + gap);
            let bar = Rect::from_min_max(pos2(x0, bars.top()), pos2(x0 + bw, bars.bottom()));
            painter.rect_filled(bar, CornerRadius::same(1), theme::WELL);
            // RMS body, peak sliver above it, hold line.
            let col = if self.peak_db[ch] > -1.0 {
                theme::NEON_RED
            } else if self.peak_db[ch] > -9.0 {
                theme::AMBER
            } else {
                theme::METER_OK
            };
            let pr = Rect::from_min_max(pos2(bar.left(), y_of(bar, self.peak_db[ch])), bar.max);
            painter.rect_filled(pr, CornerRadius::same(1), col.gamma_multiply(0.35));
            let rr = Rect::from_min_max(pos2(bar.left(), y_of(bar, rms)), bar.max);
            painter.rect_filled(rr, CornerRadius::same(1), col);
            let hy = y_of(bar, self.hold[ch].0);
            if self.hold[ch].0 > FLOOR_DB {
                painter.line_segment(
                    [pos2(bar.left(), hy), pos2(bar.right(), hy)],
                    Stroke::new(2.0, theme::PAPER),
                );
            }
            painter.rect_stroke(
                bar,
                CornerRadius::same(1),
                Stroke::new(1.0, theme::LINE),
                egui::StrokeKind::Inside,
            );
            painter.text(
                pos2(bar.center().x, rect.bottom()),
                Align2::CENTER_BOTTOM,
                if ch == 0 { "L" } else { "R" },
                theme::heading_font(11.0),
                theme::DIM,
            );
        }
        painter.text(
            pos2(rect.left(), rect.bottom()),
            Align2::LEFT_BOTTOM,
            if readout <= FLOOR_DB {
                "-∞".to_string()
            } else {
                format!("{readout:.0}")
            },
            theme::heading_font(11.0),
            if readout > -1.0 {
                theme::NEON_RED
            } else {
                theme::PAPER
            },
        );
    }
}

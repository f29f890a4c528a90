//! The film-noir look: palette, text styles and egui visuals. Applied once per window in
//! `NoirApp::build` and used by every panel for painting. GUI thread only.

use egui::{
    Color32, Context, CornerRadius, FontFamily, FontId, Margin, RichText, Stroke, TextStyle,
    Visuals,
};

/// Near-black background of the window (wet asphalt at night).
pub const INK: Color32 = Color32::from_rgb(9, 9, 11);
/// Panel fill, a shade above the background.
pub const PANEL: Color32 = Color32::from_rgb(19, 19, 23);
/// Recessed fill for pads, meters and tracks.
pub const WELL: Color32 = Color32::from_rgb(4, 4, 6);
/// Hairlines and panel borders.
pub const LINE: Color32 = Color32::from_rgb(52, 52, 60);
/// Dim grid lines inside wells.
pub const GRID: Color32 = Color32::from_rgb(30, 30, 36);
/// Main text: old paper.
pub const PAPER: Color32 = Color32::from_rgb(236, 230, 214);
/// Secondary text: still readable on `PANEL` (contrast ≈ 7:1).
pub const DIM: Color32 = Color32::from_rgb(160, 156, 146);
/// The accent: a sodium streetlight.
pub const AMBER: Color32 = Color32::from_rgb(232, 170, 70);
/// Danger and tension: a neon sign's red.
pub const NEON_RED: Color32 = Color32::from_rgb(228, 58, 64);
/// Cool accent for the light side: moonlight on a wet street.
pub const MOON: Color32 = Color32::from_rgb(120, 178, 220);
/// Meter green (safe level), kept desaturated.
pub const METER_OK: Color32 = Color32::from_rgb(150, 190, 120);

/// Heading font: Hack, egui's built-in monospace, reads like a typewritten case file.
pub fn heading_font(size: f32) -> FontId {
    FontId::new(size, FontFamily::Monospace)
}

/// Body font: egui's built-in proportional face.
pub fn body_font(size: f32) -> FontId {
    FontId::new(size, FontFamily::Proportional)
}

/// A panel heading: small, spaced, typewritten capitals in amber.
pub fn heading(text: &str) -> RichText {
    RichText::new(spaced_caps(text))
        .font(heading_font(12.0))
        .color(AMBER)
}

/// "Now playing" → "N O W  P L A Y I N G"-style tracking is too wide for small windows; this
/// uses plain capitals with single spaces between words doubled.
pub fn spaced_caps(text: &str) -> String {
    text.to_uppercase().replace(' ', "  ")
}

/// The egui style for the whole window.
pub fn apply(ctx: &Context) {
    let mut visuals = Visuals::dark();
    visuals.override_text_color = Some(PAPER);
    visuals.panel_fill = INK;
    visuals.window_fill = PANEL;
    visuals.extreme_bg_color = WELL;
    visuals.faint_bg_color = PANEL;
    visuals.selection.bg_fill = AMBER.gamma_multiply(0.35);
    visuals.selection.stroke = Stroke::new(1.0, AMBER);
    visuals.hyperlink_color = AMBER;
    let r = CornerRadius::same(2);
    for w in [
        &mut visuals.widgets.noninteractive,
        &mut visuals.widgets.inactive,
        &mut visuals.widgets.hovered,
        &mut visuals.widgets.active,
        &mut visuals.widgets.open,
    ] {
        w.corner_radius = r;
    }
    visuals.widgets.noninteractive.bg_stroke = Stroke::new(1.0, LINE);
    visuals.widgets.noninteractive.fg_stroke = Stroke::new(1.0, PAPER);
    visuals.widgets.inactive.bg_fill = Color32::from_rgb(30, 30, 36);
    visuals.widgets.inactive.weak_bg_fill = Color32::from_rgb(30, 30, 36);
    visuals.widgets.inactive.fg_stroke = Stroke::new(1.0, PAPER);
    visuals.widgets.hovered.bg_fill = Color32::from_rgb(44, 44, 52);
    visuals.widgets.hovered.weak_bg_fill = Color32::from_rgb(44, 44, 52);
    visuals.widgets.hovered.bg_stroke = Stroke::new(1.0, AMBER.gamma_multiply(0.7));
    visuals.widgets.active.bg_fill = Color32::from_rgb(60, 52, 38);
    visuals.widgets.active.weak_bg_fill = Color32::from_rgb(60, 52, 38);
    visuals.widgets.active.bg_stroke = Stroke::new(1.0, AMBER);
    visuals.resize_corner_size = 14.0;
    ctx.set_visuals(visuals);

    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (TextStyle::Heading, heading_font(18.0)),
            (TextStyle::Body, body_font(13.5)),
            (TextStyle::Button, body_font(13.0)),
            (TextStyle::Small, body_font(11.0)),
            (TextStyle::Monospace, heading_font(12.5)),
        ]
        .into();
        style.spacing.item_spacing = egui::vec2(6.0, 5.0);
        style.spacing.window_margin = Margin::same(0);
        style.spacing.interact_size.y = 20.0;
    });
}

/// Linear gain → dBFS (floored at -96).
pub fn gain_db(g: f32) -> f32 {
    if g <= 1e-5 {
        -96.0
    } else {
        20.0 * g.log10()
    }
}

/// An sRGB colour from 0..1 floats (clamped; NaN → 0).
pub fn rgb01(r: f32, g: f32, b: f32) -> Color32 {
    let c = |x: f32| {
        if x.is_finite() {
            (x.clamp(0.0, 1.0) * 255.0).round() as u8
        } else {
            0
        }
    };
    Color32::from_rgb(c(r), c(g), c(b))
}

//! The standalone app: the plugin with nice-plug's JACK/ALSA host (`--help` lists options).

use mood_noir::MoodNoir;
use nice_plug::prelude::*;

fn main() {
    nice_export_standalone::<MoodNoir>();
}

//! Progress bars for the long steps of the film commands (indicatif; stderr). Main thread.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps labelled `what`, or a hidden one when `quiet`.
pub fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len.max(1));
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what:<10} [{{bar:40}}] {{percent:>3}}% {{elapsed}} (eta {{eta}})"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    b
}

/// A spinner for a step of unknown length.
pub fn spinner(what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new_spinner();
    b.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {what} {{elapsed}}"))
            .expect("valid template"),
    );
    b.enable_steady_tick(std::time::Duration::from_millis(100));
    b
}

//! Capture of the log lines a test provokes, at every level (TRACE and up), as plain text.
//!
//! Two scopes, because tracing has two ways to install a subscriber:
//! - [`LogCapture::this_thread`]: the lines logged on the test's own thread until the guard
//!   drops. Enough for a client called from the test, and tests stay independent.
//! - [`LogCapture::this_process`]: every line of the process, for code that logs from tasks on
//!   other threads (a served router). Installed once; later calls share the same buffer.
//!   Nextest runs each test in its own process, so the buffer holds that test's lines.
//!
//! Colours are off so a secret split by an escape code cannot slip past a `contains` check.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::fmt::MakeWriter;

/// The buffer every captured line is written to. Cloning shares it.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

/// The process-wide capture, once installed.
static PROCESS: OnceLock<LogCapture> = OnceLock::new();

impl LogCapture {
    /// Captures the lines logged on this thread while the returned guard lives.
    pub fn this_thread() -> (LogCapture, DefaultGuard) {
        let capture = LogCapture::default();
        let guard = tracing::subscriber::set_default(capture.subscriber());
        (capture, guard)
    }

    /// Captures every line this process logs from now on. If another global subscriber was
    /// installed first, nothing is captured; the tests that need this call it first.
    pub fn this_process() -> LogCapture {
        PROCESS
            .get_or_init(|| {
                let capture = LogCapture::default();
                let _ = tracing::subscriber::set_global_default(capture.subscriber());
                capture
            })
            .clone()
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("log lines are UTF-8")
    }

    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish()
    }
}

/// One writer per log event, appending to the shared buffer.
pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_capture_sees_its_lines_and_stops_with_its_guard() {
        let (capture, guard) = LogCapture::this_thread();
        tracing::trace!(secret = "kept out", "first line");
        drop(guard);
        tracing::info!("after the guard");
        let text = capture.text();
        assert!(text.contains("first line"), "{text}");
        assert!(
            text.contains("secret=\"kept out\""),
            "plain text, no colours: {text}"
        );
        assert!(!text.contains("after the guard"), "{text}");
    }

    #[test]
    fn the_process_capture_is_installed_once_and_sees_other_threads() {
        let first = LogCapture::this_process();
        std::thread::spawn(|| tracing::warn!("from another thread"))
            .join()
            .unwrap();
        let again = LogCapture::this_process();
        assert!(again.text().contains("from another thread"));
        assert_eq!(first.text(), again.text(), "one shared buffer");
    }
}

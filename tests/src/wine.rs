//! A Windows desktop for the Windows agent: a fresh Wine prefix on an
//! Xvfb display, the ProcessPrng shim in its system32, and notepad open.
//! Dropping it stops every process of this prefix (`wineserver -k`) and
//! removes the prefix; other prefixes are left alone.

use crate::HarnessError;
use crate::desktop::{Agent, Xvfb};
use crate::process::GroupChild;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The Windows agent: `$TANDEM_TEST_WINDOWS_AGENT`, or
/// `target/x86_64-pc-windows-gnu/debug/tandem-agent.exe` beside this test
/// binary's target directory.
pub fn windows_target_dir() -> Result<PathBuf, HarnessError> {
    // target/debug/deps/e2e-<hash> → target/x86_64-pc-windows-gnu/debug
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Ok(target.join("x86_64-pc-windows-gnu/debug"))
}

pub fn windows_agent() -> Result<PathBuf, HarnessError> {
    let path = match std::env::var_os("TANDEM_TEST_WINDOWS_AGENT") {
        Some(path) => PathBuf::from(path),
        None => windows_target_dir()?.join("tandem-agent.exe"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::Missing {
            what: "the Windows agent",
            path,
            hint: "cargo xtask test builds it for x86_64-pc-windows-gnu",
        })
    }
}

/// The newest `windows_desktop-*.exe` test binary.
pub fn windows_backend_tests() -> Result<PathBuf, HarnessError> {
    let deps = windows_target_dir()?.join("deps");
    let newest = std::fs::read_dir(&deps)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("windows_desktop-") && n.ends_with(".exe"))
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok());
    newest.ok_or(HarnessError::Missing {
        what: "the Windows backend tests",
        path: deps,
        hint: "cargo xtask test builds them (cargo test --no-run --target x86_64-pc-windows-gnu)",
    })
}

/// One Wine desktop at a time: two booting side by side on two cores
/// starve each other past any sane timeout.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A Wine prefix with notepad open on `display`.
pub struct Wine {
    prefix: tempfile::TempDir,
    display: String,
    notepad: Option<GroupChild>,
    /// Held until this prefix's processes are stopped (fields drop after
    /// `Drop::drop`).
    _turn: MutexGuard<'static, ()>,
}

impl Wine {
    pub fn start(xvfb: &Xvfb) -> Result<Self, HarnessError> {
        // A test that failed while holding the lock poisoned it; its
        // prefix is gone all the same.
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wine = Self {
            prefix: tempfile::Builder::new().prefix("tandem-wine-").tempdir()?,
            display: xvfb.display.clone(),
            notepad: None,
            _turn: turn,
        };
        let mut booted = wine.command("wineboot").arg("-i").output()?;
        // Under load `wineboot -i` now and then leaves a prefix it cannot
        // load kernel32.dll from (exit 53, seen once in 2026-12-07's
        // runs; the next prefix booted). That is Wine's set-up, not what
        // the suites test: one more prefix, and the first failure said.
        if !booted.status.success() {
            eprintln!(
                "{}; booting a new prefix",
                not_ready("wineboot -i", &booted)
            );
            let _ = wine.command("wineserver").arg("-k").status();
            wine.prefix = tempfile::Builder::new().prefix("tandem-wine-").tempdir()?;
            booted = wine.command("wineboot").arg("-i").output()?;
        }
        if !booted.status.success() {
            return Err(not_ready("wineboot -i", &booted));
        }
        let _ = wine.command("wineserver").arg("-w").status();
        wine.install_shim()?;
        // A still screen: notepad's blinking caret would change 14 pixels
        // between the agent's capture and ImageMagick's.
        let still = wine
            .command("wine")
            .args(["reg", "add", r"HKCU\Control Panel\Desktop"])
            .args(["/v", "CursorBlinkRate", "/t", "REG_SZ", "/d", "-1", "/f"])
            .output()?;
        if !still.status.success() {
            return Err(not_ready("wine reg add CursorBlinkRate", &still));
        }
        let mut notepad = wine.command("wine");
        notepad
            .arg("notepad")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        wine.notepad = Some(GroupChild::spawn("wine notepad", notepad)?);
        let started = Instant::now();
        while xvfb
            .output("xdotool", &["search", "--name", "Notepad"])?
            .trim()
            .is_empty()
        {
            if started.elapsed() > Duration::from_secs(60) {
                return Err(HarnessError::NotReady {
                    what: "wine notepad",
                    seconds: 60,
                    details: String::new(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(wine)
    }

    /// `program` with this prefix, display and quiet Wine settings.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("WINEPREFIX", self.prefix.path())
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null());
        command
    }

    /// `tandem-agent.exe` under Wine, enrolled with `token`, its state in
    /// a fresh folder (seen as `Z:\…`), and a short sign-out warning.
    pub fn agent(&self, base_url: &str, token: &str) -> Result<Agent, HarnessError> {
        let state = tempfile::Builder::new().prefix("tandem-agent-").tempdir()?;
        let windows_state = windows_path(state.path());
        let mut command = self.command("wine");
        command
            .arg(windows_agent()?)
            .args(["--server", base_url, "--no-browser", "--enroll", token])
            .args(["--sign-out-after", "3", "--state-dir", &windows_state]);
        Agent::spawn(command, state)
    }

    /// Rust programs need ProcessPrng, which Wine 8.0 lacks: build the
    /// forwarding DLL with mingw into system32.
    fn install_shim(&self) -> Result<(), HarnessError> {
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wine/processprng.c");
        let dll = self
            .prefix
            .path()
            .join("drive_c/windows/system32/bcryptprimitives.dll");
        let built = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(&dll)
            .arg(&source)
            .arg("-lbcrypt")
            .output()?;
        if built.status.success() {
            Ok(())
        } else {
            Err(not_ready("the ProcessPrng shim (mingw)", &built))
        }
    }
}

fn not_ready(what: &'static str, output: &Output) -> HarnessError {
    HarnessError::NotReady {
        what,
        seconds: 0,
        details: format!(
            " ({}: {})",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        self.notepad = None;
        let _ = self.command("wineserver").arg("-k").status();
    }
}

/// How Windows programs under Wine name a Unix path: the `Z:` drive, with
/// backslashes.
pub fn windows_path(path: &std::path::Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

//! Child processes that are stopped, with everything they started, on drop.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A child running in a process group of its own. Dropping it sends SIGTERM
/// to that group, waits briefly, then SIGKILLs what is left.
pub struct GroupChild {
    child: Child,
    name: &'static str,
}

impl GroupChild {
    pub fn spawn(name: &'static str, mut command: Command) -> Result<Self, crate::HarnessError> {
        command.process_group(0);
        let child = command
            .spawn()
            .map_err(|source| crate::HarnessError::Spawn { what: name, source })?;
        Ok(Self { child, name })
    }

    /// The process id, which is also its process group's id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Waits up to `timeout` for the first line on the child's stdout that
    /// starts with `prefix`, and returns the rest of it. Stdout keeps being
    /// drained afterwards, so the child never blocks on a full pipe.
    pub async fn stdout_line(&mut self, prefix: &'static str, timeout: Duration) -> Option<String> {
        let stdout = self.child.stdout.take()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix(prefix)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.trim().to_owned());
                }
            }
        });
        tokio::time::timeout(timeout, rx).await.ok()?.ok()
    }

    /// Whether the process has exited (and how).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILLs the whole group at once (no chance to flush or clean up)
    /// and reaps the leader.
    pub fn kill_now(&mut self) {
        if let Some(group) = self.group() {
            let _ = killpg(group, Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }

    fn group(&self) -> Option<Pid> {
        i32::try_from(self.child.id()).ok().map(Pid::from_raw)
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        let Some(group) = self.group() else { return };
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                // The leader is gone; make sure nothing it started lingers.
                let _ = killpg(group, Signal::SIGKILL);
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

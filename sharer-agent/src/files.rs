//! Files on the device for transfers, a capability like the clipboard:
//! [`FileStore`] receives into the sharer's Downloads folder and opens a
//! file the helper asked for. [`Downloads`] is the real one.
//!
//! A received file is written into a hidden part file beside where it
//! will land, created afresh (never over anything); it gets its name only
//! once it is whole and its hash matched, through a hard link that fails
//! rather than replace a file, so nothing the sharer has is overwritten.
//! A part file that is not kept is removed.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use tandem_protocol::files::numbered_name;

/// Why a file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// No readable regular file at that path.
    #[error("there is no readable file there")]
    NotFound,
    /// A file the agent keeps for itself (its device key): never sent.
    #[error("that file belongs to the Tandem agent")]
    Forbidden,
    /// Reading or writing failed.
    #[error("the file could not be used: {0}")]
    Io(String),
}

impl From<std::io::Error> for FileError {
    fn from(error: std::io::Error) -> Self {
        FileError::Io(error.to_string())
    }
}

/// A file being received. Dropping it without [`Incoming::keep`] removes
/// what was written.
pub trait Incoming: Send + Sync {
    fn append(&mut self, bytes: &[u8]) -> Result<(), FileError>;
    /// Gives the file its name (or a numbered one where that is taken);
    /// returns the name it got.
    fn keep(self: Box<Self>) -> Result<String, FileError>;
}

/// A file being sent.
pub trait Outgoing: Send + Sync {
    /// Reads from `offset` into `buf`; 0 at the end.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, FileError>;
}

/// A file the helper asked for, opened.
pub struct Opened {
    pub file: Box<dyn Outgoing>,
    /// The last part of its path.
    pub name: String,
    pub size: u64,
}

/// Where files come and go on the device.
pub trait FileStore: Send + Sync {
    /// Starts receiving a file to be called `name` (already safe).
    fn receive(&mut self, name: &str) -> Result<Box<dyn Incoming>, FileError>;
    /// Opens the regular file at the absolute `path`.
    fn open(&mut self, path: &str) -> Result<Opened, FileError>;
}

/// Where no Downloads folder is known: every use fails, and says why.
#[derive(Debug, Clone, Copy)]
pub struct Nowhere;

impl FileStore for Nowhere {
    fn receive(&mut self, _: &str) -> Result<Box<dyn Incoming>, FileError> {
        Err(FileError::Io(
            "no Downloads folder is known for this user".into(),
        ))
    }
    fn open(&mut self, _: &str) -> Result<Opened, FileError> {
        Err(FileError::Io("files are not sent from this agent".into()))
    }
}

/// The sharer's Downloads folder, and the files a helper may ask for.
#[derive(Debug, Clone)]
pub struct Downloads {
    dir: PathBuf,
    /// Folders never sent from (the agent's state: its device key).
    forbidden: Vec<PathBuf>,
}

impl Downloads {
    /// Files land in `dir`; nothing under `forbidden` is ever sent.
    pub fn new(dir: PathBuf, forbidden: Vec<PathBuf>) -> Self {
        let forbidden = forbidden
            .into_iter()
            .map(|f| f.canonicalize().unwrap_or(f))
            .collect();
        Self { dir, forbidden }
    }

    /// The signed-in sharer's Downloads folder: `XDG_DOWNLOAD_DIR` (or the
    /// one in `user-dirs.dirs`) then `~/Downloads` on Linux, the profile's
    /// Downloads on Windows; none for an agent running as a service
    /// account, whose folders are not the sharer's.
    pub fn of_user(forbidden: Vec<PathBuf>) -> Result<Self, FileError> {
        crate::platform::downloads_dir()
            .map(|dir| Self::new(dir, forbidden))
            .ok_or_else(|| FileError::Io("no Downloads folder is known for this user".into()))
    }
}

impl FileStore for Downloads {
    fn receive(&mut self, name: &str) -> Result<Box<dyn Incoming>, FileError> {
        std::fs::create_dir_all(&self.dir)?;
        let mut random = [0u8; 6];
        let _ = getrandom::fill(&mut random);
        let tag: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let part = self.dir.join(format!(".{name}.{tag}.tandem-part"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part)?;
        Ok(Box::new(PartFile {
            dir: self.dir.clone(),
            name: name.to_owned(),
            part,
            file: Some(std::io::BufWriter::with_capacity(256 * 1024, file)),
        }))
    }

    fn open(&mut self, path: &str) -> Result<Opened, FileError> {
        if tandem_protocol::files::is_remote_path(path) {
            // Never opened: opening reaches out to that machine.
            return Err(FileError::NotFound);
        }
        let path = Path::new(path);
        if !path.is_absolute() {
            return Err(FileError::NotFound);
        }
        // A regular file before it is opened: opening a pipe or a device
        // could block the session.
        let real = path.canonicalize().map_err(|_| FileError::NotFound)?;
        if !std::fs::metadata(&real).is_ok_and(|m| m.is_file()) {
            return Err(FileError::NotFound);
        }
        if self.forbidden.iter().any(|f| real.starts_with(f)) {
            return Err(FileError::Forbidden);
        }
        let file = std::fs::File::open(&real).map_err(|_| FileError::NotFound)?;
        let meta = file.metadata().map_err(|_| FileError::NotFound)?;
        if !meta.is_file() {
            return Err(FileError::NotFound);
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Opened {
            file: Box::new(ReadFile(file)),
            name,
            size: meta.len(),
        })
    }
}

struct PartFile {
    dir: PathBuf,
    name: String,
    part: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl Incoming for PartFile {
    fn append(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        match &mut self.file {
            Some(file) => Ok(file.write_all(bytes)?),
            None => Err(FileError::Io("the part file is closed".into())),
        }
    }

    fn keep(mut self: Box<Self>) -> Result<String, FileError> {
        let file = self
            .file
            .take()
            .ok_or_else(|| FileError::Io("the part file is closed".into()))?;
        let file = file
            .into_inner()
            .map_err(|e| FileError::Io(e.error().to_string()))?;
        file.sync_all()?;
        drop(file);
        for n in 0..1000 {
            let name = if n == 0 {
                self.name.clone()
            } else {
                numbered_name(&self.name, n)
            };
            let target = self.dir.join(&name);
            match std::fs::hard_link(&self.part, &target) {
                Ok(()) => {
                    let _ = std::fs::remove_file(&self.part);
                    return Ok(name);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                // A file system without hard links: a copy into a file
                // created afresh (never over one).
                Err(_) => match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                {
                    Ok(mut out) => {
                        let mut part = std::fs::File::open(&self.part)?;
                        std::io::copy(&mut part, &mut out)?;
                        out.sync_all()?;
                        let _ = std::fs::remove_file(&self.part);
                        return Ok(name);
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(error) => return Err(error.into()),
                },
            }
        }
        Err(FileError::Io("no free name was found".into()))
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        drop(self.file.take());
        // Kept: the part is gone already. Otherwise nothing stays.
        let _ = std::fs::remove_file(&self.part);
    }
}

struct ReadFile(std::fs::File);

impl Outgoing for ReadFile {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, FileError> {
        self.0.seek(SeekFrom::Start(offset))?;
        Ok(self.0.read(buf)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_kept_file_never_replaces_one_and_a_dropped_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let downloads = dir.path().join("Downloads");
        let mut store = Downloads::new(downloads.clone(), Vec::new());
        let mut first = store.receive("report.pdf").unwrap();
        first.append(b"one").unwrap();
        assert_eq!(first.keep().unwrap(), "report.pdf");
        let mut second = store.receive("report.pdf").unwrap();
        second.append(b"two").unwrap();
        assert_eq!(second.keep().unwrap(), "report (1).pdf");
        let mut dropped = store.receive("report.pdf").unwrap();
        dropped.append(b"three").unwrap();
        assert_eq!(
            names(&downloads).len(),
            3,
            "the part file is there meanwhile"
        );
        drop(dropped);
        assert_eq!(names(&downloads), ["report (1).pdf", "report.pdf"]);
        assert_eq!(std::fs::read(downloads.join("report.pdf")).unwrap(), b"one");
        assert_eq!(
            std::fs::read(downloads.join("report (1).pdf")).unwrap(),
            b"two"
        );
    }

    #[test]
    fn only_absolute_paths_of_regular_files_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        std::fs::write(&path, b"0123456789").unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(state.join("device.key"), b"secret").unwrap();
        let mut store = Downloads::new(dir.path().to_path_buf(), vec![state.clone()]);
        let mut opened = store.open(path.to_str().unwrap()).unwrap();
        assert_eq!((opened.name.as_str(), opened.size), ("log.txt", 10));
        let mut buf = [0u8; 4];
        assert_eq!(opened.file.read_at(6, &mut buf).unwrap(), 4);
        assert_eq!(&buf, b"6789");
        assert_eq!(opened.file.read_at(10, &mut buf).unwrap(), 0);
        for bad in [
            "log.txt",
            dir.path().to_str().unwrap(),
            "/no/such/file",
            "//host/share/x",
        ] {
            assert!(matches!(store.open(bad), Err(FileError::NotFound)), "{bad}");
        }
        // The agent's own key is never sent, however it is named.
        let key = state.join("device.key");
        let sneaky = format!("{}/../state/device.key", state.display());
        for path in [key.to_str().unwrap(), sneaky.as_str()] {
            assert!(
                matches!(store.open(path), Err(FileError::Forbidden)),
                "{path}"
            );
        }
        // A pipe is not a file: refused before it is opened (which would
        // block).
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(matches!(
            store.open(fifo.to_str().unwrap()),
            Err(FileError::NotFound)
        ));
    }
}

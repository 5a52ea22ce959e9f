//! A MIT-SHM segment the X server fills with screen pixels: the server
//! creates it (SHM 1.2) and passes its file descriptor; the agent maps it.
//! The only unsafe code of the Linux agent lives here (the Windows
//! backends call Win32, a C API, so `platform::windows` allows it too).
#![allow(unsafe_code)]

use crate::capture::CaptureError;
use x11rb::connection::Connection;
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

/// A mapped segment, detached when dropped.
pub struct ShmSegment {
    pub seg: shm::Seg,
    map: memmap2::Mmap,
}

impl std::fmt::Debug for ShmSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShmSegment")
            .field("seg", &self.seg)
            .field("len", &self.map.len())
            .finish()
    }
}

fn protocol(e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Protocol(e.to_string())
}

impl ShmSegment {
    /// Asks the server for a segment of `len` bytes and maps it read-only.
    pub fn create(conn: &RustConnection, len: usize) -> Result<Self, CaptureError> {
        let seg = conn.generate_id().map_err(protocol)?;
        let size = u32::try_from(len).map_err(protocol)?;
        let reply = conn
            .shm_create_segment(seg, size, false)
            .map_err(protocol)?
            .reply()
            .map_err(protocol)?;
        let file = std::fs::File::from(reply.shm_fd);
        // SAFETY: the X server created this segment for us alone and only
        // writes into it while answering our own ShmGetImage requests, each
        // of which we wait for before reading the bytes; the mapping lives
        // no longer than `self`, and the file is a plain shared-memory fd.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(&file) }.map_err(protocol)?;
        Ok(Self { seg, map })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Detaches the segment from the server.
    pub fn detach(&self, conn: &RustConnection) {
        let _ = conn.shm_detach(self.seg);
    }
}

//! DXGI Desktop Duplication of one output: the GPU hands over only what
//! changed (dirty and moved rectangles) and the pointer's shape. Under
//! Wine `DuplicateOutput` is not implemented, and on some machines (RDP,
//! basic display drivers) it fails too; the capturer then uses GDI.

use super::cursor::{self, Format};
use crate::capture::{CaptureError, Cursor, Frame, Rect};
use tandem_protocol::input::CursorShape;
use windows::Win32::Foundation::{HMODULE, RECT};
use windows::Win32::Graphics::Direct3D::D3D_DRIVER_TYPE_HARDWARE;
use windows::Win32::Graphics::Direct3D11::{
    D3D11_CPU_ACCESS_READ, D3D11_CREATE_DEVICE_BGRA_SUPPORT, D3D11_MAP_READ,
    D3D11_MAPPED_SUBRESOURCE, D3D11_SDK_VERSION, D3D11_TEXTURE2D_DESC, D3D11_USAGE_STAGING,
    D3D11CreateDevice, ID3D11Device, ID3D11DeviceContext, ID3D11Texture2D,
};
use windows::Win32::Graphics::Dxgi::{
    DXGI_ERROR_ACCESS_LOST, DXGI_ERROR_WAIT_TIMEOUT, DXGI_OUTDUPL_FRAME_INFO,
    DXGI_OUTDUPL_MOVE_RECT, DXGI_OUTDUPL_POINTER_SHAPE_INFO, IDXGIDevice, IDXGIOutput1,
    IDXGIOutputDuplication, IDXGIResource,
};
use windows::core::Interface;

/// Why duplication stopped: `Lost` means "make a new one" (a desktop
/// switch, a mode change, a full-screen app).
#[derive(Debug)]
pub enum DuplicationError {
    Lost,
    Failed(String),
}

impl From<DuplicationError> for CaptureError {
    fn from(error: DuplicationError) -> Self {
        match error {
            DuplicationError::Lost => CaptureError::Protocol("desktop duplication was lost".into()),
            DuplicationError::Failed(why) => CaptureError::Protocol(why),
        }
    }
}

fn failed(what: &str, error: windows::core::Error) -> DuplicationError {
    if error.code() == DXGI_ERROR_ACCESS_LOST {
        DuplicationError::Lost
    } else {
        DuplicationError::Failed(format!("{what}: {error}"))
    }
}

pub struct Duplication {
    device: ID3D11Device,
    context: ID3D11DeviceContext,
    duplication: IDXGIOutputDuplication,
    staging: Option<ID3D11Texture2D>,
    width: u32,
    height: u32,
    pointer: Cursor,
    shape_serial: u32,
}

// SAFETY: the D3D11 device is free-threaded and the objects are used by
// the owning (capture) thread only; they are moved, never shared.
unsafe impl Send for Duplication {}

impl Duplication {
    /// Duplicates the output whose GDI device name is `device`
    /// (`\\.\DISPLAY1`).
    pub fn new(device_name: &str) -> Result<Self, CaptureError> {
        let mut device = None;
        let mut context = None;
        // SAFETY: D3D11 creation with out-pointers to locals.
        unsafe {
            D3D11CreateDevice(
                None,
                D3D_DRIVER_TYPE_HARDWARE,
                HMODULE::default(),
                D3D11_CREATE_DEVICE_BGRA_SUPPORT,
                None,
                D3D11_SDK_VERSION,
                Some(&mut device),
                None,
                Some(&mut context),
            )
        }
        .map_err(|e| CaptureError::Connect(format!("D3D11CreateDevice: {e}")))?;
        let (Some(device), Some(context)) = (device, context) else {
            return Err(CaptureError::Connect("D3D11 returned no device".into()));
        };
        let output = find_output(&device, device_name)?;
        // SAFETY: a COM call on live interfaces.
        let duplication = unsafe { output.DuplicateOutput(&device) }
            .map_err(|e| CaptureError::Connect(format!("DuplicateOutput: {e}")))?;
        // SAFETY: as above.
        let desc = unsafe { duplication.GetDesc() };
        Ok(Self {
            device,
            context,
            duplication,
            staging: None,
            width: desc.ModeDesc.Width & !1,
            height: desc.ModeDesc.Height & !1,
            pointer: Cursor {
                x: 0,
                y: 0,
                visible: false,
                shape: None,
            },
            shape_serial: 0,
        })
    }

    /// The pointer as of the last frame (a new shape only once).
    pub fn cursor(&mut self) -> Cursor {
        let mut cursor = self.pointer.clone();
        self.pointer.shape = None;
        cursor.shape = cursor.shape.take();
        cursor
    }

    /// Takes the next frame if there is one: copies the changed
    /// rectangles into `frame` and returns them.
    pub fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, DuplicationError> {
        let fresh = frame.width != self.width || frame.height != self.height;
        if fresh {
            *frame = Frame::new(self.width, self.height);
        }
        let mut info = DXGI_OUTDUPL_FRAME_INFO::default();
        let mut resource: Option<IDXGIResource> = None;
        // SAFETY: out-pointers to locals; ReleaseFrame below pairs with a
        // successful AcquireNextFrame.
        match unsafe {
            self.duplication
                .AcquireNextFrame(0, &mut info, &mut resource)
        } {
            Ok(()) => {}
            Err(e) if e.code() == DXGI_ERROR_WAIT_TIMEOUT => return Ok(Vec::new()),
            Err(e) => return Err(failed("AcquireNextFrame", e)),
        }
        let result = self.take_frame(&info, resource, frame, fresh);
        // SAFETY: the frame acquired above.
        let released = unsafe { self.duplication.ReleaseFrame() };
        let damage = result?;
        released.map_err(|e| failed("ReleaseFrame", e))?;
        Ok(damage)
    }

    fn take_frame(
        &mut self,
        info: &DXGI_OUTDUPL_FRAME_INFO,
        resource: Option<IDXGIResource>,
        frame: &mut Frame,
        fresh: bool,
    ) -> Result<Vec<Rect>, DuplicationError> {
        if info.LastMouseUpdateTime != 0 {
            self.pointer.visible = info.PointerPosition.Visible.as_bool();
            self.pointer.x = info.PointerPosition.Position.x;
            self.pointer.y = info.PointerPosition.Position.y;
        }
        if info.PointerShapeBufferSize > 0 {
            self.pointer.shape = self.pointer_shape(info.PointerShapeBufferSize);
        }
        if info.LastPresentTime == 0 {
            return Ok(Vec::new()); // only the pointer changed
        }
        let Some(resource) = resource else {
            return Ok(Vec::new());
        };
        let texture: ID3D11Texture2D = resource
            .cast()
            .map_err(|e| failed("the desktop image", e))?;
        let mut damage = if fresh {
            vec![Rect {
                x: 0,
                y: 0,
                width: self.width,
                height: self.height,
            }]
        } else {
            self.changed_rects(info.TotalMetadataBufferSize)?
        };
        damage.retain(|r| r.width > 0 && r.height > 0);
        if damage.is_empty() {
            return Ok(damage);
        }
        let staging = self.staging(&texture)?;
        // SAFETY: both textures are alive and the same size and format.
        unsafe { self.context.CopyResource(&staging, &texture) };
        let mut mapped = D3D11_MAPPED_SUBRESOURCE::default();
        // SAFETY: a staging texture made for CPU reads; unmapped below.
        unsafe {
            self.context
                .Map(&staging, 0, D3D11_MAP_READ, 0, Some(&mut mapped))
        }
        .map_err(|e| failed("Map", e))?;
        let pitch = mapped.RowPitch as usize;
        // SAFETY: Map returned `RowPitch × height` readable bytes.
        let source = unsafe {
            std::slice::from_raw_parts(mapped.pData as *const u8, pitch * self.height as usize)
        };
        let stride = self.width as usize * 4;
        for rect in &damage {
            for y in rect.y..rect.y + rect.height {
                let from = y as usize * pitch + rect.x as usize * 4;
                let to = y as usize * stride + rect.x as usize * 4;
                let len = rect.width as usize * 4;
                if let (Some(src), Some(dst)) = (
                    source.get(from..from + len),
                    frame.bgrx.get_mut(to..to + len),
                ) {
                    dst.copy_from_slice(src);
                }
            }
        }
        // SAFETY: mapped above.
        unsafe { self.context.Unmap(&staging, 0) };
        Ok(damage)
    }

    /// Dirty rectangles plus the destinations of moved ones, clipped to
    /// the (even) frame.
    fn changed_rects(&self, size: u32) -> Result<Vec<Rect>, DuplicationError> {
        let mut rects: Vec<RECT> = Vec::new();
        if size == 0 {
            return Ok(Vec::new());
        }
        let mut moves = vec![DXGI_OUTDUPL_MOVE_RECT::default(); size as usize / 24 + 1];
        let mut used = 0u32;
        // SAFETY: the buffer holds `moves.len()` entries, as passed.
        unsafe {
            self.duplication.GetFrameMoveRects(
                (moves.len() * std::mem::size_of::<DXGI_OUTDUPL_MOVE_RECT>()) as u32,
                moves.as_mut_ptr(),
                &mut used,
            )
        }
        .map_err(|e| failed("GetFrameMoveRects", e))?;
        let count = used as usize / std::mem::size_of::<DXGI_OUTDUPL_MOVE_RECT>();
        rects.extend(moves.iter().take(count).map(|m| m.DestinationRect));
        let mut dirty = vec![RECT::default(); size as usize / 16 + 1];
        // SAFETY: as above.
        unsafe {
            self.duplication.GetFrameDirtyRects(
                (dirty.len() * std::mem::size_of::<RECT>()) as u32,
                dirty.as_mut_ptr(),
                &mut used,
            )
        }
        .map_err(|e| failed("GetFrameDirtyRects", e))?;
        let count = used as usize / std::mem::size_of::<RECT>();
        rects.extend(dirty.iter().take(count).copied());
        Ok(rects
            .into_iter()
            .map(|r| clip(r, self.width, self.height))
            .collect())
    }

    fn staging(&mut self, like: &ID3D11Texture2D) -> Result<ID3D11Texture2D, DuplicationError> {
        if let Some(staging) = &self.staging {
            return Ok(staging.clone());
        }
        let mut desc = D3D11_TEXTURE2D_DESC::default();
        // SAFETY: out-pointer to a local.
        unsafe { like.GetDesc(&mut desc) };
        desc.Usage = D3D11_USAGE_STAGING;
        desc.BindFlags = 0;
        desc.CPUAccessFlags = D3D11_CPU_ACCESS_READ.0 as u32;
        desc.MiscFlags = 0;
        desc.MipLevels = 1;
        desc.ArraySize = 1;
        let mut staging = None;
        // SAFETY: a valid description and an out-pointer to a local.
        unsafe { self.device.CreateTexture2D(&desc, None, Some(&mut staging)) }
            .map_err(|e| failed("CreateTexture2D", e))?;
        let staging = staging.ok_or_else(|| DuplicationError::Failed("no texture".into()))?;
        self.staging = Some(staging.clone());
        Ok(staging)
    }

    fn pointer_shape(&mut self, size: u32) -> Option<CursorShape> {
        let mut bits = vec![0u8; size as usize];
        let mut used = 0u32;
        let mut info = DXGI_OUTDUPL_POINTER_SHAPE_INFO::default();
        // SAFETY: the buffer holds `size` bytes, as passed.
        unsafe {
            self.duplication.GetFramePointerShape(
                size,
                bits.as_mut_ptr().cast(),
                &mut used,
                &mut info,
            )
        }
        .ok()?;
        let (format, height) = match info.Type {
            1 => (Format::Monochrome, info.Height / 2),
            2 => (Format::Color, info.Height),
            4 => (Format::MaskedColor, info.Height),
            _ => return None,
        };
        let rgba = cursor::to_rgba(format, &bits, info.Width, height, info.Pitch);
        self.shape_serial = self.shape_serial.wrapping_add(1);
        let hot = (info.HotSpot.x.max(0) as u32, info.HotSpot.y.max(0) as u32);
        cursor::shape(self.shape_serial, info.Width, height, hot, &rgba)
    }
}

/// The DXGI output whose desktop is the monitor `device_name`.
fn find_output(device: &ID3D11Device, device_name: &str) -> Result<IDXGIOutput1, CaptureError> {
    let dxgi: IDXGIDevice = device
        .cast()
        .map_err(|e| CaptureError::Connect(format!("IDXGIDevice: {e}")))?;
    // SAFETY: COM calls on live interfaces.
    let adapter = unsafe { dxgi.GetAdapter() }
        .map_err(|e| CaptureError::Connect(format!("GetAdapter: {e}")))?;
    for index in 0.. {
        // SAFETY: as above; enumeration ends with an error.
        let Ok(output) = (unsafe { adapter.EnumOutputs(index) }) else {
            break;
        };
        // SAFETY: as above.
        let Ok(desc) = (unsafe { output.GetDesc() }) else {
            continue;
        };
        let end = desc
            .DeviceName
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(desc.DeviceName.len());
        if String::from_utf16_lossy(&desc.DeviceName[..end]) == device_name {
            return output
                .cast()
                .map_err(|e| CaptureError::Connect(format!("IDXGIOutput1: {e}")));
        }
    }
    Err(CaptureError::Connect(format!(
        "no DXGI output shows {device_name}"
    )))
}

fn clip(r: RECT, width: u32, height: u32) -> Rect {
    let x0 = r.left.clamp(0, width as i32) as u32;
    let y0 = r.top.clamp(0, height as i32) as u32;
    let x1 = r.right.clamp(0, width as i32) as u32;
    let y1 = r.bottom.clamp(0, height as i32) as u32;
    Rect {
        x: x0,
        y: y0,
        width: x1.saturating_sub(x0),
        height: y1.saturating_sub(y0),
    }
}

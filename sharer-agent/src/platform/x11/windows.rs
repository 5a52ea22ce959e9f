//! The device's windows on X11: the shown top-level windows (children of
//! the root that are mapped and not override-redirect: no menus, no
//! tooltips, none of the agent's own), each titled by `_NET_WM_NAME` or
//! `WM_NAME`, its own or, under a window manager's frame, its client's.
//! Where one is now comes from the server at each call, so the shared
//! area follows moves and resizes, with the shown windows stacked above it
//! that cover part of it (never the agent's own bar and overlay); it has
//! the keyboard when the focus is in it, or, with the focus following the
//! pointer, when the pointer is.

use crate::window::{
    Located, Presence, ScreenRect, WindowError, WindowInfo, Windows, is_agents_own,
};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, InputFocus, MapState, Window};
use x11rb::rust_connection::RustConnection;

pub struct X11Windows {
    conn: RustConnection,
    root: Window,
    net_wm_name: u32,
    utf8: u32,
}

fn refused(error: impl std::fmt::Display) -> WindowError {
    WindowError::Refused(error.to_string())
}

impl X11Windows {
    pub fn connect(display: Option<&str>) -> Result<Self, WindowError> {
        let (conn, screen) =
            x11rb::connect(display).map_err(|e| WindowError::Connect(e.to_string()))?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .ok_or_else(|| WindowError::Connect("no such screen".into()))?
            .root;
        let atom = |name: &[u8]| -> Result<u32, WindowError> {
            Ok(conn
                .intern_atom(false, name)
                .map_err(refused)?
                .reply()
                .map_err(refused)?
                .atom)
        };
        let net_wm_name = atom(b"_NET_WM_NAME")?;
        let utf8 = atom(b"UTF8_STRING")?;
        Ok(Self {
            conn,
            root,
            net_wm_name,
            utf8,
        })
    }

    /// The window's title, if it has one.
    fn title_of(&self, window: Window) -> Option<String> {
        for (property, kind) in [
            (self.net_wm_name, self.utf8),
            (AtomEnum::WM_NAME.into(), AtomEnum::STRING.into()),
        ] {
            let reply = self
                .conn
                .get_property(false, window, property, kind, 0, 256)
                .ok()?
                .reply()
                .ok()?;
            if !reply.value.is_empty() {
                return Some(String::from_utf8_lossy(&reply.value).into_owned());
            }
        }
        None
    }

    /// A top-level window's title, or its client's under a frame.
    fn title(&self, window: Window) -> Option<String> {
        self.title_of(window).or_else(|| {
            let children = self.conn.query_tree(window).ok()?.reply().ok()?.children;
            children.iter().find_map(|child| self.title_of(*child))
        })
    }

    /// Where `window` is on the root, if it is shown.
    fn rect(&self, window: Window) -> Option<ScreenRect> {
        let attributes = self.conn.get_window_attributes(window).ok()?.reply().ok()?;
        if attributes.map_state != MapState::VIEWABLE {
            return None;
        }
        let geometry = self.conn.get_geometry(window).ok()?.reply().ok()?;
        let origin = self
            .conn
            .translate_coordinates(window, self.root, 0, 0)
            .ok()?
            .reply()
            .ok()?;
        (geometry.width > 0 && geometry.height > 0).then_some(ScreenRect {
            x: i32::from(origin.dst_x),
            y: i32::from(origin.dst_y),
            width: u32::from(geometry.width),
            height: u32::from(geometry.height),
        })
    }

    /// Whether `window` (or a window inside it) has the keyboard.
    fn focused(&self, window: Window, rect: &ScreenRect) -> bool {
        let Some(focus) = self
            .conn
            .get_input_focus()
            .ok()
            .and_then(|c| c.reply().ok())
        else {
            return false;
        };
        if focus.focus == u32::from(InputFocus::POINTER_ROOT) || focus.focus == x11rb::NONE {
            // The keyboard follows the pointer.
            let Some(pointer) = self
                .conn
                .query_pointer(self.root)
                .ok()
                .and_then(|c| c.reply().ok())
            else {
                return false;
            };
            let (x, y) = (i32::from(pointer.root_x), i32::from(pointer.root_y));
            return x >= rect.x
                && y >= rect.y
                && i64::from(x - rect.x) < i64::from(rect.width)
                && i64::from(y - rect.y) < i64::from(rect.height);
        }
        self.is_inside(focus.focus, window)
    }
}

impl Windows for X11Windows {
    fn list(&mut self) -> Result<Vec<WindowInfo>, WindowError> {
        let children = self
            .conn
            .query_tree(self.root)
            .map_err(refused)?
            .reply()
            .map_err(refused)?
            .children;
        let mut windows = Vec::new();
        // Top of the stack first.
        for window in children.into_iter().rev() {
            let Some(attributes) = self
                .conn
                .get_window_attributes(window)
                .ok()
                .and_then(|c| c.reply().ok())
            else {
                continue;
            };
            if attributes.override_redirect || attributes.map_state != MapState::VIEWABLE {
                continue;
            }
            let (Some(rect), Some(title)) = (self.rect(window), self.title(window)) else {
                continue;
            };
            windows.push(WindowInfo {
                id: u64::from(window),
                title,
                rect,
            });
        }
        Ok(windows)
    }

    fn locate(&mut self, id: u64) -> Result<Presence, WindowError> {
        let Ok(window) = Window::try_from(id) else {
            return Ok(Presence::Gone);
        };
        // A window the server no longer knows is closed.
        if self
            .conn
            .get_window_attributes(window)
            .map_err(refused)?
            .reply()
            .is_err()
        {
            return Ok(Presence::Gone);
        }
        let Some(rect) = self.rect(window) else {
            return Ok(Presence::Hidden);
        };
        let focused = self.focused(window, &rect);
        Ok(Presence::Shown(Located {
            covers: self.covers(window, &rect),
            focused,
            rect,
        }))
    }
}

impl X11Windows {
    /// The shown windows stacked above `window` that overlap `rect`.
    fn covers(&self, window: Window, rect: &ScreenRect) -> Vec<ScreenRect> {
        let Some(tree) = self
            .conn
            .query_tree(self.root)
            .ok()
            .and_then(|c| c.reply().ok())
        else {
            return Vec::new();
        };
        // The root's children, bottom to top; the window itself may be a
        // client inside one of them (a window manager's frame).
        let Some(at) = tree
            .children
            .iter()
            .position(|c| *c == window || self.is_inside(window, *c))
        else {
            return Vec::new();
        };
        tree.children[at + 1..]
            .iter()
            .filter_map(|above| {
                let r = self.rect(*above)?;
                let overlaps = r.x < rect.x + rect.width as i32
                    && rect.x < r.x + r.width as i32
                    && r.y < rect.y + rect.height as i32
                    && rect.y < r.y + r.height as i32;
                let own = self.title(*above).is_some_and(|t| is_agents_own(&t));
                (overlaps && !own).then_some(r)
            })
            .collect()
    }

    /// Whether `window` is `top` or inside it.
    fn is_inside(&self, window: Window, top: Window) -> bool {
        let mut at = window;
        for _ in 0..32 {
            if at == top {
                return true;
            }
            match self.conn.query_tree(at).ok().and_then(|c| c.reply().ok()) {
                Some(tree) if tree.parent != x11rb::NONE && at != self.root => at = tree.parent,
                _ => return false,
            }
        }
        false
    }
}

//! Who is signed in, shared through context.

use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::auth::Me;

/// The signed-in user, once known.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    /// `None` while unknown or signed out.
    pub me: RwSignal<Option<Me>>,
    /// Whether the server has been asked yet.
    pub checked: RwSignal<bool>,
}

impl Auth {
    /// Called when an API call says the session is gone.
    pub fn signed_out(&self) {
        self.me.set(None);
        self.checked.set(true);
    }

    pub fn signed_in(&self, me: Me) {
        self.me.set(Some(me));
        self.checked.set(true);
    }
}

/// Provides [`Auth`] and asks the server who is signed in.
pub fn provide_auth() -> Auth {
    let auth = Auth {
        me: RwSignal::new(None),
        checked: RwSignal::new(false),
    };
    provide_context(auth);
    spawn_local(async move {
        match api::me().await {
            Ok(Some(me)) => auth.signed_in(me),
            Ok(None) => auth.signed_out(),
            Err(error) => {
                leptos::logging::warn!("cannot tell who is signed in: {error:?}");
                auth.signed_out();
            }
        }
    });
    auth
}

/// The [`Auth`] provided by the app.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

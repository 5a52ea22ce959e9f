//! Every page's own `<title>`: "Devices — Tandem".

use leptos::prelude::*;

/// Sets the document's title to "`page` — Tandem".
pub fn set_title(page: &str) {
    document().set_title(&format!("{page} \u{2014} Tandem"));
}

/// Gives the wrapped page its title while it is shown (the route table
/// wraps every page in one). A page whose title depends on its data calls
/// [`set_title`] again once it knows it.
#[component]
pub fn Titled(title: &'static str, children: Children) -> impl IntoView {
    set_title(title);
    children()
}

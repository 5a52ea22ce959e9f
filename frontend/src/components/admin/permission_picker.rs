use leptos::prelude::*;
use tandem_protocol::rbac::{Category, Permission, PermissionSet};

/// Checkboxes for the whole catalogue, one fieldset per category.
#[component]
pub fn PermissionPicker(
    selected: RwSignal<PermissionSet>,
    id_prefix: &'static str,
) -> impl IntoView {
    let categories = [
        Category::RemoteHelp,
        Category::RemoteTasks,
        Category::Administration,
    ];
    categories
        .into_iter()
        .map(|category| {
            let boxes = Permission::ALL
                .into_iter()
                .filter(|p| p.category() == category)
                .map(|permission| {
                    let id = format!("{id_prefix}-{permission:?}").to_lowercase();
                    view! {
                        <div class="check">
                            <input
                                type="checkbox"
                                id=id.clone()
                                prop:checked=move || selected.get().contains(permission)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|set| {
                                        *set = set
                                            .iter()
                                            .filter(|p| *p != permission)
                                            .chain(on.then_some(permission))
                                            .collect();
                                    });
                                }
                            />
                            <label for=id>{permission.label()}</label>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="checks">
                    <legend>{category.label()}</legend>
                    {boxes}
                </fieldset>
            }
        })
        .collect_view()
}

/// A permission set as short text, e.g. "View screen, Take full control".
#[component]
pub fn PermissionList(permissions: PermissionSet) -> impl IntoView {
    let text = permissions
        .iter()
        .map(Permission::label)
        .collect::<Vec<_>>()
        .join(", ");
    view! { <span class="permissions">{text}</span> }
}

use crate::api;
use crate::components::admin::{
    ConfirmDelete, FormStatus, Outcome, PermissionList, PermissionPicker, focus_soon,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::rbac::{PermissionSet, RoleDraft, RoleView};

/// `/admin/roles`: the roles, and a form to create a custom role.
#[component]
pub fn RolesPage() -> impl IntoView {
    let roles = LocalResource::new(api::roles);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let permissions = RwSignal::new(PermissionSet::EMPTY);
    let outcome = RwSignal::new(Outcome::Idle);
    // The custom role being edited; None while creating a new one.
    let editing = RwSignal::new(None::<RoleView>);
    let reset = move || {
        name.set(String::new());
        description.set(String::new());
        permissions.set(PermissionSet::EMPTY);
        editing.set(None);
    };
    let edit = move |role: RoleView| {
        name.set(role.name.clone());
        description.set(role.description.clone());
        permissions.set(role.permissions);
        editing.set(Some(role));
    };

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let target = editing.get_untracked();
        let draft = RoleDraft {
            name: name.get_untracked(),
            description: description.get_untracked(),
            permissions: permissions.get_untracked(),
            version: target.as_ref().map(|role| role.version),
        };
        if let Err(message) = draft.validate() {
            outcome.set(Outcome::Failed(message));
            return;
        }
        spawn_local(async move {
            let result = match &target {
                Some(role) => api::update_role(&role.id, &draft).await,
                None => api::create_role(&draft).await,
            };
            match result {
                Ok(role) => {
                    let verb = if target.is_some() { "Saved" } else { "Created" };
                    outcome.set(Outcome::Done(format!(
                        "{verb} \u{201c}{}\u{201d}.",
                        role.name
                    )));
                    reset();
                    roles.refetch();
                }
                Err(error) => outcome.set(Outcome::Failed(error.message())),
            }
        });
    };

    // Deleting reports next to the table, where the button was.
    let deleted = RwSignal::new(Outcome::Idle);
    let remove = move |role: RoleView| {
        spawn_local(async move {
            match api::delete_role(&role.id).await {
                Ok(()) => {
                    deleted.set(Outcome::Done(format!(
                        "Deleted \u{201c}{}\u{201d}.",
                        role.name
                    )));
                    if editing.with_untracked(|e| e.as_ref().is_some_and(|e| e.id == role.id)) {
                        reset();
                    }
                    roles.refetch();
                }
                Err(error) => deleted.set(Outcome::Failed(error.message())),
            }
            focus_soon("roles-status");
        });
    };

    let table = move || {
        match roles.get() {
        None => view! { <p role="status" class="muted">"Loading roles…"</p> }.into_any(),
        Some(Err(error)) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
        Some(Ok(list)) => view! {
            <table class="data roles">
                <caption>"Roles"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Permissions"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|role| {
                        let built_in = role.built_in;
                        let what = format!("role \u{201c}{}\u{201d}", role.name);
                        let edit_label = format!("Edit role {}", role.name);
                        let for_delete = role.clone();
                        let for_edit = role.clone();
                        view! {
                            <tr data-role-id=role.id.0.clone()>
                                <th scope="row">{role.name.clone()}<div class="muted small">{role.description.clone()}</div></th>
                                <td><PermissionList permissions=role.permissions /></td>
                                <td>{if built_in { "Built-in" } else { "Custom" }}</td>
                                <td class="actions">
                                    {(!built_in).then(|| view! {
                                        <button type="button" aria-label=edit_label
                                            on:click=move |_| edit(for_edit.clone())>"Edit"</button>
                                        " "
                                        <ConfirmDelete what
                                            on_confirm=Callback::new(move |()| remove(for_delete.clone())) />
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any(),
    }
    };

    view! {
        <section class="page" aria-labelledby="roles-title">
            <h1 id="roles-title">"Roles"</h1>
            <FormStatus outcome=deleted id="roles-status" />
            {table}
            <h2 id="role-form-title">
                {move || match editing.get() {
                    Some(role) => format!("Edit \u{201c}{}\u{201d}", role.name),
                    None => "New custom role".to_owned(),
                }}
            </h2>
            <form class="stack" on:submit=create>
                <label for="role-name">"Name"</label>
                <input id="role-name" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) />
                <label for="role-description">"Description"</label>
                <input id="role-description" prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev)) />
                <PermissionPicker selected=permissions id_prefix="role-perm" />
                <FormStatus outcome />
                <button type="submit" class="primary">
                    {move || if editing.get().is_some() { "Save role" } else { "Create role" }}
                </button>
                {move || editing.get().is_some().then(|| view! {
                    <button type="button" on:click=move |_| reset()>"Cancel editing"</button>
                })}
            </form>
        </section>
    }
}

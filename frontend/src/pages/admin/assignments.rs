//! `/admin/assignments`: who gets which role for whom; created, edited and
//! (after confirming) deleted.

use crate::api;
use crate::components::admin::{ConfirmDelete, FormStatus, GroupPicker, Outcome, focus_soon};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::rbac::{AssignmentDraft, AssignmentView, GroupRef, RoleView};
use tandem_protocol::{GroupId, RoleId};

fn names(groups: &[GroupRef]) -> String {
    groups
        .iter()
        .map(|g| g.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn scope_text(a: &AssignmentView) -> String {
    let mut parts = Vec::new();
    if a.all_users {
        parts.push("All users".to_owned());
    }
    if a.all_devices {
        parts.push("All devices".to_owned());
    }
    if !a.scope_groups.is_empty() {
        parts.push(names(&a.scope_groups));
    }
    parts.join(", ")
}

fn ids(groups: &[GroupRef]) -> Vec<GroupId> {
    groups.iter().map(|g| g.id.clone()).collect()
}

/// The assignment form, once roles and groups are known: a new assignment,
/// or the one in `editing`.
#[component]
fn AssignmentForm(
    roles: Vec<RoleView>,
    groups: Vec<GroupRef>,
    editing: RwSignal<Option<AssignmentView>>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let first_role = roles
        .first()
        .map(|r| r.id.clone())
        .unwrap_or_else(|| RoleId::from(""));
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(first_role.clone());
    let admin_groups = RwSignal::new(Vec::<GroupId>::new());
    let scope_groups = RwSignal::new(Vec::<GroupId>::new());
    let all_users = RwSignal::new(false);
    let all_devices = RwSignal::new(false);
    let outcome = RwSignal::new(Outcome::Idle);
    let name_ref = NodeRef::<leptos::html::Input>::new();

    // Editing fills the form from the assignment and puts the cursor in it;
    // no assignment empties it.
    Effect::new(move |_| {
        let current = editing.get();
        match &current {
            Some(a) => {
                name.set(a.name.clone());
                role.set(a.role_id.clone());
                admin_groups.set(ids(&a.admin_groups));
                scope_groups.set(ids(&a.scope_groups));
                all_users.set(a.all_users);
                all_devices.set(a.all_devices);
                if let Some(input) = name_ref.get_untracked() {
                    let _ = input.focus();
                }
            }
            None => {
                name.set(String::new());
                role.set(first_role.clone());
                admin_groups.set(Vec::new());
                scope_groups.set(Vec::new());
                all_users.set(false);
                all_devices.set(false);
            }
        }
    });

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = AssignmentDraft {
            name: name.get_untracked(),
            role_id: role.get_untracked(),
            admin_groups: admin_groups.get_untracked(),
            all_users: all_users.get_untracked(),
            all_devices: all_devices.get_untracked(),
            scope_groups: scope_groups.get_untracked(),
        };
        if let Err(message) = draft.validate() {
            outcome.set(Outcome::Failed(message));
            return;
        }
        let target = editing.get_untracked();
        spawn_local(async move {
            let result = match &target {
                Some(a) => api::update_assignment(&a.id, &draft).await,
                None => api::create_assignment(&draft).await,
            };
            match result {
                Ok(view) => {
                    let verb = if target.is_some() { "Saved" } else { "Created" };
                    outcome.set(Outcome::Done(format!(
                        "{verb} \u{201c}{}\u{201d}.",
                        view.name
                    )));
                    editing.set(None);
                    on_saved.run(());
                }
                Err(error) => outcome.set(Outcome::Failed(error.message())),
            }
        });
    };

    let role_options = roles
        .into_iter()
        .map(|r| {
            let id = r.id.clone();
            view! { <option value=r.id.0.clone() prop:selected=move || role.with(|s| *s == id)>{r.name}</option> }
        })
        .collect_view();
    view! {
        <h2 id="assignment-form-title">
            {move || match editing.get() {
                Some(a) => format!("Edit \u{201c}{}\u{201d}", a.name),
                None => "New assignment".to_owned(),
            }}
        </h2>
        <form class="stack" on:submit=save aria-labelledby="assignment-form-title">
            <label for="assignment-name">"Name"</label>
            <input id="assignment-name" node_ref=name_ref prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev)) />
            <label for="assignment-role">"Role"</label>
            <select id="assignment-role"
                on:change=move |ev| role.set(RoleId(event_target_value(&ev)))>
                {role_options}
            </select>
            <GroupPicker legend="Admin groups (their members get the role)" id_prefix="admin-group"
                groups=groups.clone() selected=admin_groups />
            <fieldset class="checks">
                <legend>"Scope (whom they may help)"</legend>
                <div class="check">
                    <input type="checkbox" id="scope-all-users" prop:checked=move || all_users.get()
                        on:change=move |ev| all_users.set(event_target_checked(&ev)) />
                    <label for="scope-all-users">"All users"</label>
                </div>
                <div class="check">
                    <input type="checkbox" id="scope-all-devices" prop:checked=move || all_devices.get()
                        on:change=move |ev| all_devices.set(event_target_checked(&ev)) />
                    <label for="scope-all-devices">"All devices"</label>
                </div>
            </fieldset>
            <GroupPicker legend="Scope groups" id_prefix="scope-group" groups selected=scope_groups />
            <FormStatus outcome />
            <div class="form-actions">
                <button type="submit" class="primary">
                    {move || if editing.with(Option::is_some) { "Save assignment" } else { "Create assignment" }}
                </button>
                {move || editing.with(Option::is_some).then(|| view! {
                    <button type="button" on:click=move |_| {
                        editing.set(None);
                        outcome.set(Outcome::Idle);
                    }>"Cancel editing"</button>
                })}
            </div>
        </form>
    }
}

/// `/admin/assignments`.
#[component]
pub fn AssignmentsPage() -> impl IntoView {
    let assignments = LocalResource::new(api::assignments);
    let choices = LocalResource::new(|| async {
        let roles = api::roles().await?;
        let groups = api::groups().await?;
        Ok::<_, api::ApiError>((roles, groups))
    });
    let outcome = RwSignal::new(Outcome::Idle);
    let editing = RwSignal::new(None::<AssignmentView>);

    let remove = move |a: AssignmentView| {
        spawn_local(async move {
            match api::delete_assignment(&a.id).await {
                Ok(()) => {
                    outcome.set(Outcome::Done(format!(
                        "Deleted \u{201c}{}\u{201d}.",
                        a.name
                    )));
                    if editing.with_untracked(|e| e.as_ref().is_some_and(|e| e.id == a.id)) {
                        editing.set(None);
                    }
                    assignments.refetch();
                }
                Err(error) => outcome.set(Outcome::Failed(error.message())),
            }
            focus_soon("assignments-status");
        });
    };

    let table = move || {
        match assignments.get() {
        None => view! { <p role="status" class="muted">"Loading assignments…"</p> }.into_any(),
        Some(Err(error)) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <p class="muted">"No assignments yet: nobody can help anyone."</p>
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <table class="data assignments">
                <caption>"Assignments"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Admin groups"</th>
                    <th scope="col">"Scope"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|a| {
                        let edit_label = format!("Edit assignment {}", a.name);
                        let for_edit = a.clone();
                        let for_delete = a.clone();
                        view! {
                            <tr data-assignment-id=a.id.0.clone()>
                                <th scope="row">{a.name.clone()}</th>
                                <td>{a.role_name.clone()}</td>
                                <td>{names(&a.admin_groups)}</td>
                                <td>{scope_text(&a)}</td>
                                <td class="actions">
                                    <button type="button" aria-label=edit_label
                                        on:click=move |_| editing.set(Some(for_edit.clone()))>"Edit"</button>
                                    " "
                                    <ConfirmDelete what=format!("assignment \u{201c}{}\u{201d}", a.name)
                                        on_confirm=Callback::new(move |()| remove(for_delete.clone())) />
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
    }
    };

    view! {
        <section class="page" aria-labelledby="assignments-title">
            <h1 id="assignments-title">"Assignments"</h1>
            <FormStatus outcome id="assignments-status" />
            {table}
            {move || match choices.get() {
                None => view! { <p role="status" class="muted">"Loading roles and groups…"</p> }.into_any(),
                Some(Err(error)) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
                Some(Ok((roles, groups))) => view! {
                    <AssignmentForm roles groups editing
                        on_saved=Callback::new(move |()| assignments.refetch()) />
                }.into_any(),
            }}
        </section>
    }
}

use crate::api;
use crate::components::admin::{FormStatus, GroupPicker, Outcome};
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

/// The new-assignment form, once roles and groups are known.
#[component]
fn AssignmentForm(
    roles: Vec<RoleView>,
    groups: Vec<GroupRef>,
    on_created: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(
        roles
            .first()
            .map(|r| r.id.clone())
            .unwrap_or_else(|| RoleId::from("")),
    );
    let admin_groups = RwSignal::new(Vec::<GroupId>::new());
    let scope_groups = RwSignal::new(Vec::<GroupId>::new());
    let all_users = RwSignal::new(false);
    let all_devices = RwSignal::new(false);
    let outcome = RwSignal::new(Outcome::Idle);

    let create = move |ev: leptos::ev::SubmitEvent| {
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
        spawn_local(async move {
            match api::create_assignment(&draft).await {
                Ok(view) => {
                    outcome.set(Outcome::Done(format!(
                        "Created \u{201c}{}\u{201d}.",
                        view.name
                    )));
                    name.set(String::new());
                    admin_groups.set(Vec::new());
                    scope_groups.set(Vec::new());
                    all_users.set(false);
                    all_devices.set(false);
                    on_created.run(());
                }
                Err(error) => outcome.set(Outcome::Failed(error.message())),
            }
        });
    };

    let role_options = roles
        .into_iter()
        .map(|r| view! { <option value=r.id.0.clone()>{r.name}</option> })
        .collect_view();
    view! {
        <form class="stack" on:submit=create>
            <label for="assignment-name">"Name"</label>
            <input id="assignment-name" prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev)) />
            <label for="assignment-role">"Role"</label>
            <select id="assignment-role" on:change=move |ev| role.set(RoleId(event_target_value(&ev)))>
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
            <button type="submit" class="primary">"Create assignment"</button>
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

    let remove = move |a: AssignmentView| {
        spawn_local(async move {
            match api::delete_assignment(&a.id).await {
                Ok(()) => {
                    outcome.set(Outcome::Done(format!(
                        "Deleted \u{201c}{}\u{201d}.",
                        a.name
                    )));
                    assignments.refetch();
                }
                Err(error) => outcome.set(Outcome::Failed(error.message())),
            }
        });
    };

    let table = move || {
        match assignments.get() {
        None => view! { <p role="status" class="muted">"Loading assignments…"</p> }.into_any(),
        Some(Err(error)) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"No assignments yet: nobody can help anyone."</p> }.into_any(),
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
                        let label = format!("Delete assignment {}", a.name);
                        let for_delete = a.clone();
                        view! {
                            <tr>
                                <th scope="row">{a.name.clone()}</th>
                                <td>{a.role_name.clone()}</td>
                                <td>{names(&a.admin_groups)}</td>
                                <td>{scope_text(&a)}</td>
                                <td><button type="button" aria-label=label
                                    on:click=move |_| remove(for_delete.clone())>"Delete"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any(),
    }
    };

    view! {
        <section class="page" aria-labelledby="assignments-title">
            <h1 id="assignments-title">"Assignments"</h1>
            <FormStatus outcome />
            {table}
            <h2>"New assignment"</h2>
            {move || match choices.get() {
                None => view! { <p role="status" class="muted">"Loading roles and groups…"</p> }.into_any(),
                Some(Err(error)) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
                Some(Ok((roles, groups))) => view! {
                    <AssignmentForm roles groups on_created=Callback::new(move |()| assignments.refetch()) />
                }.into_any(),
            }}
        </section>
    }
}

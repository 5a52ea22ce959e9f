//! `/admin/groups`: groups with search and paging, creating and deleting
//! (after confirming) groups, and managing their members. Members synced from the IdP are
//! shown but not editable here.

use super::directory::{loading_or_error, url_state};
use crate::api;
use crate::components::admin::{
    ConfirmDelete, FormStatus, ImportPanel, Outcome, Pager, SearchBar, focus_soon,
};
use crate::routes::DirectoryKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::directory::{GroupRow, ImportKind, MemberView, Page};
use tandem_protocol::routes;

/// The members of one group, with add and remove.
#[component]
fn GroupMembers(
    group: GroupRow,
    on_change: Callback<()>,
    on_deleted: Callback<GroupRow>,
) -> impl IntoView {
    let id = group.id.clone();
    let members = LocalResource::new({
        let id = id.clone();
        move || {
            let id = id.clone();
            async move { api::group_members(&id).await }
        }
    });
    let email = RwSignal::new(String::new());
    let outcome = RwSignal::new(Outcome::Idle);

    // Sends the new list of console-managed members.
    let save = {
        let id = id.clone();
        move |emails: Vec<String>, done: String| {
            let id = id.clone();
            spawn_local(async move {
                match api::set_group_members(&id, emails).await {
                    Ok(_) => {
                        outcome.set(Outcome::Done(done));
                        email.set(String::new());
                        members.refetch();
                        on_change.run(());
                    }
                    Err(error) => outcome.set(Outcome::Failed(error.message())),
                }
            });
        }
    };
    let console_emails = move || -> Vec<String> {
        members
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| !m.from_idp)
            .map(|m| m.email)
            .collect()
    };
    let add = {
        let save = save.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let new = email.get_untracked().trim().to_owned();
            if new.is_empty() {
                outcome.set(Outcome::Failed("Enter the member's e-mail address.".into()));
                return;
            }
            let mut emails = console_emails();
            emails.push(new.clone());
            save(emails, format!("Added {new}."));
        }
    };
    let remove = move |member: MemberView| {
        let emails = console_emails()
            .into_iter()
            .filter(|e| *e != member.email)
            .collect();
        save(emails, format!("Removed {}.", member.display_name));
    };
    let list = move || {
        let remove = remove.clone();
        loading_or_error(members.get(), move |list: Vec<MemberView>| {
            if list.is_empty() {
                return view! { <p class="muted">"No members yet."</p> }.into_any();
            }
            view! {
                <ul class="members">
                    {list.into_iter().map(|m| {
                        let remove = remove.clone();
                        let label = format!("Remove {} from the group", m.display_name);
                        let from_idp = m.from_idp;
                        let for_remove = m.clone();
                        view! {
                            <li>
                                <span>{format!("{} ({})", m.display_name, m.email)}</span>
                                {if from_idp {
                                    view! { <span class="muted small">" from the identity provider"</span> }.into_any()
                                } else {
                                    view! { <button type="button" aria-label=label
                                        on:click=move |_| remove(for_remove.clone())>"Remove"</button> }.into_any()
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    let what = format!("group \u{201c}{}\u{201d}", group.name);
    let delete = {
        let group = group.clone();
        move |()| {
            let (id, group) = (id.clone(), group.clone());
            spawn_local(async move {
                match api::delete_group(&id).await {
                    Ok(()) => on_deleted.run(group),
                    Err(error) => outcome.set(Outcome::Failed(error.message())),
                }
            });
        }
    };
    view! {
        <section class="group-members" aria-labelledby="group-members-title">
            <h2 id="group-members-title">{format!("Members of {}", group.name)}</h2>
            {list}
            <form class="filters" on:submit=add>
                <div>
                    <label for="member-email">"Add a member (e-mail address)"</label>
                    <input id="member-email" type="email" prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev)) />
                </div>
                <button type="submit">"Add"</button>
            </form>
            <FormStatus outcome />
            <div class="danger-zone">
                <ConfirmDelete what on_confirm=Callback::new(delete) />
            </div>
        </section>
    }
}

#[component]
pub fn GroupsPage() -> impl IntoView {
    let (q, page) = url_state();
    let kind = DirectoryKind::Groups;
    let data = LocalResource::new(move || {
        let (q, page) = (q.get(), page.get());
        async move { api::directory_page::<GroupRow>(routes::ADMIN_GROUP_LIST, &q, page).await }
    });
    let selected = RwSignal::new(None::<GroupRow>);
    let new_name = RwSignal::new(String::new());
    let outcome = RwSignal::new(Outcome::Idle);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = new_name.get_untracked();
        spawn_local(async move {
            match api::create_group(&name).await {
                Ok(group) => {
                    outcome.set(Outcome::Done(format!(
                        "Created \u{201c}{}\u{201d}.",
                        group.name
                    )));
                    new_name.set(String::new());
                    data.refetch();
                }
                Err(error) => outcome.set(Outcome::Failed(error.message())),
            }
        });
    };
    let table = move || {
        loading_or_error(data.get(), move |p: Page<GroupRow>| {
            let pager = view! { <Pager kind q page=p.page pages=p.pages() total=p.total /> };
            view! {
            <table class="data groups">
                <caption>"Groups"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Members"</th><th scope="col">"Devices"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {p.items.into_iter().map(|g| {
                        let label = format!("Manage members of {}", g.name);
                        let pick = g.clone();
                        view! {
                            <tr>
                                <th scope="row">{g.name}</th><td>{g.members}</td><td>{g.devices}</td>
                                <td><button type="button" aria-label=label
                                    on:click=move |_| selected.set(Some(pick.clone()))>"Members"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {pager}
        }.into_any()
        })
    };
    let deleted = RwSignal::new(Outcome::Idle);
    let members = move || {
        selected.get().map(|group| {
            let on_change = Callback::new(move |()| {
                data.refetch();
            });
            let on_deleted = Callback::new(move |group: GroupRow| {
                selected.set(None);
                deleted.set(Outcome::Done(format!(
                    "Deleted \u{201c}{}\u{201d}.",
                    group.name
                )));
                data.refetch();
                focus_soon("groups-status");
            });
            view! { <GroupMembers group on_change on_deleted /> }
        })
    };
    view! {
        <section class="page" aria-labelledby="groups-title">
            <h1 id="groups-title">"Groups"</h1>
            <FormStatus outcome=deleted id="groups-status" />
            <SearchBar kind q label="Group name" />
            {table}
            {members}
            <h2>"New group"</h2>
            <form class="filters" on:submit=create>
                <div>
                    <label for="group-name">"Name"</label>
                    <input id="group-name" prop:value=move || new_name.get()
                        on:input=move |ev| new_name.set(event_target_value(&ev)) />
                </div>
                <button type="submit">"Create group"</button>
            </form>
            <FormStatus outcome />
            <ImportPanel kind="groups" header=ImportKind::Groups.header()
                on_done=Callback::new(move |()| data.refetch()) />
        </section>
    }
}

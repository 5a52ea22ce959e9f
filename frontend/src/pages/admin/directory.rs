//! `/admin/users`, `/admin/groups`, `/admin/devices`: the directory, with
//! search and paging in the URL, and CSV imports; users are also added and
//! edited one by one.

use crate::api;
use crate::components::admin::{ImportPanel, Pager, SearchBar, UserForm};
use crate::components::devices::DeviceTable;
use crate::format::now_ms;
use crate::routes::DirectoryKind;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tandem_protocol::directory::{DeviceRow, ImportKind, Page, UserRow};
use tandem_protocol::routes;

/// The search text and page number from the URL.
pub(super) fn url_state() -> (Signal<String>, Signal<u32>) {
    let query = use_query_map();
    let q = Signal::derive(move || query.read().get("q").unwrap_or_default());
    let page = Signal::derive(move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
    });
    (q, page)
}

pub(crate) fn loading_or_error<T>(
    result: Option<Result<T, api::ApiError>>,
    render: impl FnOnce(T) -> AnyView,
) -> AnyView {
    match result {
        None => view! { <p role="status" class="muted">"Loading…"</p> }.into_any(),
        Some(Err(error)) => {
            view! { <p class="error" role="alert">{error.message()}</p> }.into_any()
        }
        Some(Ok(value)) => render(value),
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let (q, page) = url_state();
    let kind = DirectoryKind::Users;
    let data = LocalResource::new(move || {
        let (q, page) = (q.get(), page.get());
        async move { api::directory_page::<UserRow>(routes::ADMIN_USERS, &q, page).await }
    });
    let editing = RwSignal::new(None::<UserRow>);
    let table = move || {
        loading_or_error(data.get(), move |p: Page<UserRow>| {
            let pager = view! { <Pager kind q page=p.page pages=p.pages() total=p.total /> };
            view! {
            <table class="data users">
                <caption>"Users"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"E-mail"</th>
                    <th scope="col">"Job title"</th><th scope="col">"Groups"</th>
                    <th scope="col">"Sign-in"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {p.items.into_iter().map(|u| {
                        let sign_in = match (u.from_idp, u.password_set) {
                            (true, _) => "Organization",
                            (false, true) => "Tandem account",
                            (false, false) => "Tandem account (no password yet)",
                        };
                        let action = if u.from_idp {
                            view! { <span class="muted small">"Managed by your identity provider"</span> }.into_any()
                        } else {
                            let label = format!("Edit user {}", u.display_name);
                            let pick = u.clone();
                            view! {
                                <button type="button" aria-label=label
                                    on:click=move |_| editing.set(Some(pick.clone()))>"Edit"</button>
                            }.into_any()
                        };
                        view! {
                            <tr data-user-id=u.id.0.clone()>
                                <th scope="row">{u.display_name}</th>
                                <td>{u.email}</td>
                                <td>{u.job_title.unwrap_or_default()}</td>
                                <td>{u.groups.join(", ")}</td>
                                <td>{sign_in}</td>
                                <td>{action}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {pager}
        }.into_any()
        })
    };
    view! {
        <section class="page" aria-labelledby="users-title">
            <h1 id="users-title">"Users"</h1>
            <SearchBar kind q label="Name or e-mail" />
            {table}
            <UserForm editing on_saved=Callback::new(move |_| data.refetch()) />
            <ImportPanel kind="users" header=ImportKind::Users.header()
                on_done=Callback::new(move |()| data.refetch()) />
        </section>
    }
}

#[component]
pub fn AdminDevicesPage() -> impl IntoView {
    let (q, page) = url_state();
    let kind = DirectoryKind::Devices;
    let data = LocalResource::new(move || {
        let (q, page) = (q.get(), page.get());
        async move { api::directory_page::<DeviceRow>(routes::ADMIN_DEVICES, &q, page).await }
    });
    let table = move || {
        loading_or_error(data.get(), |p: Page<DeviceRow>| {
            let pager = view! { <Pager kind q page=p.page pages=p.pages() total=p.total /> };
            view! { <DeviceTable devices=p.items now_ms=now_ms() /> {pager} }.into_any()
        })
    };
    view! {
        <section class="page" aria-labelledby="admin-devices-title">
            <h1 id="admin-devices-title">"All devices"</h1>
            <SearchBar kind q label="Name, OS or user" />
            {table}
            <ImportPanel kind="devices" header=ImportKind::Devices.header()
                on_done=Callback::new(move |()| data.refetch()) />
        </section>
    }
}

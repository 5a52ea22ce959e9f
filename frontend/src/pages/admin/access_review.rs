use crate::api;
use crate::components::admin::PermissionList;
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use tandem_protocol::rbac::ReviewTarget;

/// `/admin/access-review?helper=&target=`: who can help whom, with what.
/// The filters live in the URL, so a filtered review can be shared.
#[component]
pub fn AccessReviewPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let helper = move || query.read().get("helper").unwrap_or_default();
    let target = move || query.read().get("target").unwrap_or_default();
    let rows = LocalResource::new(move || {
        let (helper, target) = (helper(), target());
        async move { api::access_review(&helper, &target).await }
    });
    let helper_input = RwSignal::new(String::new());
    let target_input = RwSignal::new(String::new());
    Effect::new(move |_| {
        helper_input.set(helper());
        target_input.set(target());
    });

    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let route = AppRoute::AccessReview {
            helper: Some(helper_input.get_untracked()),
            target: Some(target_input.get_untracked()),
        };
        navigate(&route.href(), NavigateOptions::default());
    };

    let table = move || match rows.get() {
        None => view! { <p role="status" class="muted">"Computing access…"</p> }.into_any(),
        Some(Err(error)) => {
            view! { <p class="error" role="alert">{error.message()}</p> }.into_any()
        }
        Some(Ok(list)) if list.is_empty() => view! {
            <p id="review-result" class="muted">"Nobody can help anyone matching these filters."</p>
        }
        .into_any(),
        Some(Ok(list)) => {
            let count = list.len();
            view! {
                <table id="review-result" class="data review">
                    <caption>{format!("{count} helper–target pair{}", if count == 1 { "" } else { "s" })}</caption>
                    <thead><tr>
                        <th scope="col">"Helper"</th>
                        <th scope="col">"May help"</th>
                        <th scope="col">"With"</th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|row| {
                            let target = match row.target {
                                ReviewTarget::User { name, .. } => format!("{name} (user)"),
                                ReviewTarget::Device { name, .. } => format!("{name} (device)"),
                            };
                            view! {
                                <tr>
                                    <th scope="row">{row.helper_name}</th>
                                    <td>{target}</td>
                                    <td><PermissionList permissions=row.permissions /></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }
    };

    view! {
        <section class="page" aria-labelledby="review-title">
            <h1 id="review-title">"Access review"</h1>
            <p class="muted">"Computed by the same rules that decide every session."</p>
            <form class="filters" role="search" on:submit=apply>
                <div>
                    <label for="review-helper">"Helper"</label>
                    <input id="review-helper" prop:value=move || helper_input.get()
                        on:input=move |ev| helper_input.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="review-target">"User or device"</label>
                    <input id="review-target" prop:value=move || target_input.get()
                        on:input=move |ev| target_input.set(event_target_value(&ev)) />
                </div>
                <button type="submit">"Filter"</button>
            </form>
            {table}
        </section>
    }
}

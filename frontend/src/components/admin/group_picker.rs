use leptos::prelude::*;
use tandem_protocol::GroupId;
use tandem_protocol::rbac::GroupRef;

/// A labelled list of group checkboxes.
#[component]
pub fn GroupPicker(
    legend: &'static str,
    id_prefix: &'static str,
    groups: Vec<GroupRef>,
    selected: RwSignal<Vec<GroupId>>,
) -> impl IntoView {
    let boxes = groups
        .into_iter()
        .map(|group| {
            let id = format!("{id_prefix}-{}", group.id);
            let gid = group.id.clone();
            let checked = {
                let gid = gid.clone();
                move || selected.get().contains(&gid)
            };
            view! {
                <div class="check">
                    <input
                        type="checkbox"
                        id=id.clone()
                        prop:checked=checked
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let gid = gid.clone();
                            selected.update(|list| {
                                list.retain(|g| *g != gid);
                                if on {
                                    list.push(gid);
                                }
                            });
                        }
                    />
                    <label for=id>{group.name}</label>
                </div>
            }
        })
        .collect_view();
    view! {
        <fieldset class="checks">
            <legend>{legend}</legend>
            {boxes}
        </fieldset>
    }
}
